"""Fork safety: a child forked after the parent ran an OpenMP pass can call the kernels again.

GNU OpenMP's worker threads do not survive fork(); a child whose first parallel region asks for
more than one thread then waits for them forever. Each scenario runs in a fresh interpreter with a
time limit, so that a regression fails the test instead of hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")

SCRIPT = textwrap.dedent(
    """
    import multiprocessing
    import sys

    import numpy as np

    from advmetric import AML, AML_Supervised, aml


    def fit(seed):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((400, 64))
        y = rng.integers(0, 4, 400)
        # 20000 pairs at d = 64: enough work for the statistics pass to start a thread team
        model = AML_Supervised(random_state=0, n_constraints=20000, n_jobs=2).fit(X, y)
        return model.components_


    def pair_work(seed):
        rng = np.random.default_rng(seed)
        pairs = rng.standard_normal((20000, 2, 32))
        y = np.where(rng.random(20000) < 0.5, 1, -1)
        model = AML(n_jobs=2).fit(pairs, y)
        return model.adversarial_pairs(pairs[:100], y[:100]).sum()


    if __name__ == "__main__":
        parent = [fit(1), fit(2)]
        parent_pairs = [pair_work(1), pair_work(2)]
        route = sys.argv[1]
        if route == "pool":
            with multiprocessing.get_context("fork").Pool(2) as pool:
                children = pool.map(fit, [1, 2])
                children_pairs = pool.map(pair_work, [1, 2])
        else:
            from joblib import Parallel, delayed

            multiprocessing.set_start_method("fork", force=True)
            with Parallel(n_jobs=2, backend="multiprocessing") as parallel:
                children = parallel(delayed(fit)(s) for s in (1, 2))
                children_pairs = parallel(delayed(pair_work)(s) for s in (1, 2))
        for got, want in zip(children, parent):
            # one thread in the child, two in the parent: equal up to summation order
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(children_pairs, parent_pairs, rtol=1e-9)
        print("ok")
    """
)


@pytest.mark.parametrize("route", ["pool", "joblib"])
def test_kernels_work_in_a_forked_child(tmp_path, route):
    script = tmp_path / "fork_scenario.py"
    script.write_text(SCRIPT)
    try:
        done = subprocess.run(
            [sys.executable, str(script), route],
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"a forked child hung calling the kernels ({route})")
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")


def test_forked_child_plans_one_openmp_thread():
    from advmetric import _backend

    assert _backend.thread_plan("statistics", 64, 2).openmp == 2
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its plan, then leave without running any test machinery
        plan = _backend.thread_plan("statistics", 64, 2)
        os.write(write, str(plan.openmp).encode())
        os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    assert status == 0
    assert os.read(read, 16) == b"1"
    os.close(read)


def test_forked_child_does_not_inherit_an_active_blas_limit():
    """A BLAS limit active in the parent at the fork (another thread's fit) is never released in
    the child: the child starts with the caller's own setting and an empty record."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from advmetric import _backend

    def blas_counts():
        return {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}

    with threadpool_limits(2, user_api="blas"), _backend.blas_threads(1):
        assert blas_counts() == {1}
        pid = os.fork()
        if pid == 0:
            clean = blas_counts() == {2} and not _backend._blas_thread_limit._requests
            os._exit(0 if clean else 1)
        _, status = os.waitpid(pid, 0)
    assert status == 0
