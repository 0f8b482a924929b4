"""Concurrency, determinism and interruption.

* The compiled kernels release the GIL: several Python threads fitting at once each get exactly
  the result they get alone, and two threads are *seen* inside compiled kernels at the same time
  (a proof that does not depend on timing, see ``_KernelWatch``).
* Same input -> bitwise identical output for a fixed thread count; 1 vs 2 threads agree to 1e-12.
* A long fit can be interrupted with Ctrl-C: KeyboardInterrupt promptly, no crash, no leaked
  threads, and the process can fit again afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import random_pairs
from threadpoolctl import threadpool_limits

import advmetric
from advmetric import _core, aml

DEADLINE = 60.0  # seconds; only ever reached when something is broken


def _problem(seed, n, d):
    rng = np.random.default_rng(seed)
    return random_pairs(rng, n, d)


# --------------------------------------------------------------------------------------------
# The GIL is released: a timing-free witness
# --------------------------------------------------------------------------------------------


class _KernelWatch:
    """Witnesses threads that are inside a call of a compiled ``advmetric._core`` function.

    Each watched thread installs a profile hook: on ``c_call`` of a ``_core`` function it
    records the calling frame, on ``c_return``/``c_exception`` it clears it. Another thread,
    while *it* runs Python code (so it holds the GIL), reads ``sys._current_frames()``: if a
    watched thread's innermost frame is the recorded calling frame, that thread is past the
    ``c_call`` hook and before the ``c_return`` hook, executing no Python code at all, i.e.
    inside the compiled function, and it has released the GIL there (else the observer could
    not be running). No sleeps or time measurements are involved; a kernel that kept the GIL
    could never be witnessed.
    """

    def __init__(self):
        self.inside = {}
        self.lock = threading.Lock()

    def _hook(self, frame, event, arg):
        if event == "c_call" and getattr(arg, "__module__", None) == _core.__name__:
            self.inside[threading.get_ident()] = frame
        elif event in ("c_return", "c_exception") and self.inside.get(threading.get_ident()):
            if getattr(arg, "__module__", None) == _core.__name__:
                self.inside[threading.get_ident()] = None

    def run(self, fn, stop):
        """Run ``fn()`` repeatedly in the calling thread with the hook, until ``stop`` is set."""
        sys.setprofile(self._hook)
        try:
            while not stop.is_set():
                fn()
        finally:
            sys.setprofile(None)
            self.inside[threading.get_ident()] = None

    def in_kernel(self, ident):
        frame = self.inside.get(ident)
        return frame is not None and sys._current_frames().get(ident) is frame


def _witness_overlap(calls, deadline=DEADLINE):
    """Run each call in its own thread (repeatedly); True once all are seen in kernels at once."""
    watch = _KernelWatch()
    stop = threading.Event()
    errors = []

    def worker(fn):
        try:
            watch.run(fn, stop)
        except BaseException as exc:  # reported below
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=worker, args=(fn,), daemon=True) for fn in calls]
    for t in threads:
        t.start()
    witnessed = False
    end = time.monotonic() + deadline
    try:
        while not stop.is_set() and time.monotonic() < end:
            if all(watch.in_kernel(t.ident) for t in threads):
                witnessed = True
                break
            time.sleep(0)  # lets the workers' Python parts run; the witness does not need it
    finally:
        stop.set()
        for t in threads:
            t.join(DEADLINE)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads), "a worker thread did not stop"
    return witnessed


def test_the_witness_can_fail():
    """Control: a compiled function that keeps the GIL is never witnessed inside."""
    big = np.random.default_rng(0).standard_normal(3_000_000)
    # numpy's sort releases the GIL but np.add.reduce on object arrays cannot; use a pybind11
    # function of the core that keeps the GIL (argument conversion of a huge forcecast array).
    slow_in_python = big.astype(object)[:200_000]

    def keeps_gil():
        try:
            _core.project_spd(slow_in_python, 1.0)  # conversion fails: runs with the GIL
        except (TypeError, ValueError):
            pass

    assert not _witness_overlap([keeps_gil, keeps_gil], deadline=3.0)


@pytest.mark.parametrize(
    "kernel",
    [
        "pair_statistics",
        "adversarial_pairs",
        "gradient_pairwise",
        "solve",
    ],
)
def test_two_threads_run_kernels_at_the_same_time(kernel):
    pairs, y = _problem(1, 20000, 12)
    A, B = aml.pair_statistics(pairs, y)
    M = aml.gmml(A, B)
    A_big, B_big = aml.pair_statistics(*_problem(2, 400, 60))
    calls = {
        "pair_statistics": lambda: aml.pair_statistics(pairs, y, n_threads=1),
        "adversarial_pairs": lambda: aml.adversarial_pairs(M, pairs, y, 0.8, n_threads=1),
        "gradient_pairwise": lambda: aml.gradient_pairwise(M, pairs, y, 1.0, 0.8, n_threads=1),
        "solve": lambda: aml.solve(A_big, B_big, 1.0, 0.8, max_iter=20),
    }
    with threadpool_limits(1):
        assert _witness_overlap([calls[kernel], calls[kernel]])


def test_two_estimator_fits_run_at_the_same_time():
    pairs, y = _problem(3, 3000, 40)
    fits = [
        lambda: advmetric.AML(alpha=1.0, beta=0.8, max_iter=20).fit(pairs, y),
        lambda: advmetric.GMML().fit(pairs, y),
    ]
    with threadpool_limits(1):
        assert _witness_overlap(fits)


def _solve_job(seed):
    pairs, y = _problem(seed, 500 + 100 * seed, 8 + 9 * seed)
    A, B = aml.pair_statistics(pairs, y, n_threads=1)
    result = aml.solve(A, B, 1.0, 0.8, reg=1e-6)
    adversarial = aml.adversarial_pairs(result.M, pairs, y, 0.8, n_threads=1)
    return A, B, result.M, result.objective_history, adversarial


def test_concurrent_fits_equal_serial_fits():
    seeds = list(range(6))
    with threadpool_limits(1):
        alone = [_solve_job(s) for s in seeds]
        with ThreadPoolExecutor(max_workers=4) as pool:
            together = list(pool.map(_solve_job, seeds * 2))
    for i, got in enumerate(together):
        for g, w in zip(got, alone[i % len(seeds)]):
            np.testing.assert_array_equal(g, w)


def test_concurrent_estimator_fits_equal_serial_fits():
    problems = [_problem(s, 300, 6 + 10 * s) for s in range(4)]

    def fit(k):
        pairs, y = problems[k % len(problems)]
        model = (advmetric.AML(alpha=1.0, beta=0.8) if k % 2 else advmetric.GMML()).fit(pairs, y)
        return model.get_mahalanobis_matrix(), model.transform(pairs[:, 0])

    with threadpool_limits(1):
        alone = [fit(k) for k in range(len(problems))]
        with ThreadPoolExecutor(max_workers=4) as pool:
            together = list(pool.map(fit, range(3 * len(problems))))
    for k, got in enumerate(together):
        for g, w in zip(got, alone[k % len(problems)]):
            np.testing.assert_array_equal(g, w)


# --------------------------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d", [5, 40, 130])  # Eigen kernels; BLAS dsyrk/dgemm; LAPACK dsyevd
def test_bitwise_repeatable_and_thread_count_independent(d):
    pairs, y = _problem(d, 6000, d)
    outputs = {}
    for n_threads in (1, 2, 1, 2):
        with threadpool_limits(n_threads):
            A, B = aml.pair_statistics(pairs, y, n_threads=n_threads)
            M = aml.gmml(A, B, reg=1e-6)
            result = aml.solve(A, B, 1.0, 0.8, reg=1e-6, n_threads=n_threads)
            adversarial = aml.adversarial_pairs(
                result.M, pairs[:500], y[:500], 0.8, n_threads=n_threads
            )
            # (at GMML's M, not at the optimum, where the gradient is all cancellation)
            G = aml.gradient_pairwise(M, pairs, y, 1.0, 0.8, n_threads=n_threads)
        current = (A, B, M, result.M, adversarial, G)
        if n_threads in outputs:  # same thread count: bit for bit
            for got, want in zip(current, outputs[n_threads]):
                np.testing.assert_array_equal(got, want)
        outputs[n_threads] = current
    for one, two in zip(outputs[1], outputs[2]):  # across thread counts: 1e-12 relative
        scale = np.abs(one).max()
        assert np.abs(one - two).max() <= 1e-12 * scale


@pytest.mark.parametrize("name", ["AML", "GMML", "AML_Supervised", "GMML_Supervised"])
def test_estimators_are_deterministic(name):
    rng = np.random.default_rng(7)
    n, d = 400, 30
    X = rng.standard_normal((n, d))
    labels = rng.integers(0, 3, n)
    X += 2.0 * labels[:, None] * rng.standard_normal(d)
    pairs, y = random_pairs(rng, 600, d)
    cls = getattr(advmetric, name)
    supervised = name.endswith("_Supervised")

    def fit(n_jobs):
        model = cls(random_state=42, n_jobs=n_jobs) if supervised else cls(n_jobs=n_jobs)
        with threadpool_limits(n_jobs):
            if supervised:
                model.fit(X, labels)
            else:
                model.fit(pairs, y)
        return model.get_mahalanobis_matrix()

    one, one_again, two, two_again = fit(1), fit(1), fit(2), fit(2)
    np.testing.assert_array_equal(one, one_again)
    np.testing.assert_array_equal(two, two_again)
    assert np.abs(one - two).max() <= 1e-12 * np.abs(one).max()


# --------------------------------------------------------------------------------------------
# Ctrl-C
# --------------------------------------------------------------------------------------------

_INTERRUPTED_CHILD = textwrap.dedent(
    """
    import os, sys, threading
    import numpy as np
    from advmetric import aml
    {setup}

    def tasks():
        return len(os.listdir("/proc/self/task"))

    warm = run_short()  # starts the OpenMP/BLAS pools
    threads_before, tasks_before = threading.active_count(), tasks()
    try:
        print("started", flush=True)  # inside the try: any SIGINT from now on is caught below
        run_long()
    except KeyboardInterrupt:
        pass
    else:
        print("not interrupted", flush=True)
        sys.exit(3)
    again = run_short()
    same = all(np.array_equal(a, b) for a, b in zip(warm, again))
    print(f"interrupted; python threads {{threads_before}} -> "
          f"{{threading.active_count()}}; os threads {{tasks_before}} -> {{tasks()}}; "
          f"refit identical: {{same}}", flush=True)
    ok = same and threading.active_count() == threads_before and tasks() <= tasks_before
    sys.exit(0 if ok else 4)
    """
)

_SETUPS = {
    # No Python callback: only the core's own signal check can notice the SIGINT.
    "aml.solve": """
rng = np.random.default_rng(0)
pairs = rng.standard_normal((400, 2, 100)); y = np.where(rng.random(400) < 0.5, 1, -1)
A, B = aml.pair_statistics(pairs, y)
def run_short():
    return (aml.solve(A, B, 1.0, 0.8, max_iter=3).M,)
def run_long():
    aml.solve(A, B, 1.0, 0.8, solver="paper", step=1e-9, max_iter=10**8, tol=1e-300)
""",
    "AML.fit": """
from advmetric import AML
rng = np.random.default_rng(0)
pairs = rng.standard_normal((400, 2, 100)); y = np.where(rng.random(400) < 0.5, 1, -1)
def run_short():
    return (AML(max_iter=3).fit(pairs, y).get_mahalanobis_matrix(),)
def run_long():
    AML(solver="paper", step=1e-9, max_iter=10**8, tol=1e-300).fit(pairs, y)
""",
    "pair_statistics": """
rng = np.random.default_rng(0)
pairs = rng.standard_normal((20000, 2, 64)); y = np.where(rng.random(20000) < 0.5, 1, -1)
def run_short():  # the same call, so that the same OpenMP/BLAS threads exist before
    return aml.pair_statistics(pairs, y)
def run_long():
    while True:  # many short kernel calls: the interrupt lands between or inside them
        aml.pair_statistics(pairs, y)
""",
}


@pytest.mark.parametrize("setup", list(_SETUPS))
def test_ctrl_c_interrupts_a_long_fit(setup):
    code = _INTERRUPTED_CHILD.format(setup=_SETUPS[setup])
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = child.stdout.readline()  # blocks until the child is about to start the long fit
        assert line.strip() == "started", (line, child.stderr.read() if child.poll() else "")
        # Let the long fit get going (its start point, then iterations inside the core). The
        # long call runs far longer than the timeout below: the child ends in time only if the
        # interrupt is honoured inside it.
        time.sleep(1.0)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, f"exit {child.returncode}\nstdout: {out}\nstderr: {err}"
    assert "interrupted;" in out and "not interrupted" not in out, out
    assert "Traceback" not in err and "Fatal" not in err, err
