"""Ratio tables for advmetric's performance targets, every ratio measured in one run.

    python benchmarks/compare.py              # targets 1-5 (about 3-5 minutes on 2 cores)
    python benchmarks/compare.py --peers      # also metric-learn's LMNN and ITML_Supervised
    python benchmarks/compare.py --quick      # small sizes: a smoke test of this script
    python benchmarks/compare.py --only 1,3   # some targets

Times are wall-clock (``time.perf_counter``). Each table interleaves the contenders round by
round (so that both see the same machine load), lets both BLAS thread pools fall asleep before
each contender (see ``race``), and reports the minimum over rounds; the median is printed where
it tells something. Targets:

1. one solver iteration <= 1.3x (numpy.linalg.eigh(M) + 3 d x d matmuls), d in {64, 256, 784};
2. pair statistics from (N, 2, d) pairs <= 1.2x numpy's
   ``D = P[:, 0] - P[:, 1]; Dp = D[y > 0]; Dn = D[y < 0]; Dp.T @ Dp; Dn.T @ Dn`` with bounded
   extra memory, and a >= 1.7x speed-up from 1 to 2 threads (statistics and adversarial pairs)
   at the two larger sizes;
3. the default solver reaches relative gradient norm <= 1e-8 in <= 100 iterations (the golden
   problem, digits-sized problems);
4. AML_Supervised on standardised digits vs the numpy reference and (``--peers``) metric-learn
   0.7.0's LMNN and ITML_Supervised: >= 100x faster than both peers, 5-NN test error no worse;
5. 10^7 pairs sampled from class labels at d = 64 fit end to end in <= 10 s, peak memory
   <= input + sampled indices + O(d^2 threads);
6. time to solution (A, B to relative gradient <= 1e-8, default settings) <= 8 yardsticks (numpy
   eigh(d) + 3 d x d matmuls) at d = 64, 256, 784 and <= 10 at d = 16, with the work per solve
   (eigendecompositions, products, Hessian-vector products) for "lbfgs" and the default.
7. the array API's call overhead and its behaviour on a busy machine: ``aml.objective`` and
   ``aml.gradient`` <= 0.6x the numpy reference's time per call at d = 64 and <= 1.0x at d = 16;
   with two CPU-bound processes running beside it, objective, gradient, solve (d = 64) and
   ``AML_Supervised.fit`` on digits each take <= 3x their own idle time per call.
8. memory-mapped pairs (a file several times the core's block): the anonymous memory that
   ``fit``, ``calibrate_threshold``, ``pair_distance`` and ``score`` add stays a block of pairs plus
   a few numbers per pair (page cache not counted).

metric-learn 0.7.0 needs scikit-learn < 1.8, so ``--peers`` runs it in a separate virtualenv
(``--peers-venv``, default /tmp/advmetric-peers-venv), created on first use with
``python -m venv DIR && DIR/bin/pip install metric-learn==0.7.0 "scikit-learn<1.8"``. The data
split is handed over in a file, so every method sees exactly the same arrays.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import scipy
import sklearn
from scipy.linalg import blas, lapack
from threadpoolctl import threadpool_info, threadpool_limits

import advmetric
from advmetric import AML_Supervised, _core, aml, reference
from advmetric._backend import dense_work
from advmetric._experiments import DEFAULT_PEERS_VENV, PEERS, knn_error, run_peers
from advmetric.constraints import default_n_constraints, sample_pairs

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "data" / "aml_golden.json"
ALPHA, BETA = 1.0, 0.8


# -- measurement -------------------------------------------------------------------------------
# numpy and SciPy each ship an OpenBLAS whose pool spins for about 0.1 s after a threaded call
# (see advmetric._backend.thread_plan): a numpy contender timed right after an advmetric
# one would share the cores with SciPy's spinning pool, and the other way round. Each contender
# therefore starts after both pools have gone to sleep.
SETTLE_SECONDS = 0.3


def race(functions: dict, rounds: int, min_seconds: float = 0.05) -> dict:
    """Wall-clock time of each function: ``{name: (minimum, median)}`` over ``rounds`` rounds.

    Every round runs each function in turn, so that all contenders see the same drift in machine
    load, each after ``SETTLE_SECONDS`` of quiet (see above), repeating a fast one until
    ``min_seconds`` have passed (its round time is then its fastest call).
    """
    times = {name: [] for name in functions}
    for _ in range(rounds):
        for name, function in functions.items():
            time.sleep(SETTLE_SECONDS)
            best, spent = float("inf"), 0.0
            while spent < min_seconds or best == float("inf"):
                start = time.perf_counter()
                function()
                elapsed = time.perf_counter() - start
                best, spent = min(best, elapsed), spent + elapsed
            times[name].append(best)
    return {name: (min(t), float(np.median(t))) for name, t in times.items()}


def _status(field: str) -> int:
    """A ``VmRSS``/``VmHWM`` line of /proc/self/status, in bytes (0 where unavailable)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def peak_extra_memory(function) -> float | None:
    """Peak resident memory that ``function()`` adds to the process, in bytes (Linux only).

    Resets the process's high-water mark (``/proc/self/clear_refs``) first; None where that is
    not possible.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return None
    before = _status("VmRSS")
    function()
    return max(0.0, float(_status("VmHWM") - before))


def section(title: str) -> None:
    print(f"\n{title}  [load average {load_average()}]")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_table(headers: list, rows: list) -> None:
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for k, row in enumerate(cells):
        print("  " + "  ".join(c.rjust(w) for c, w in zip(row, widths)))
        if k == 0:
            print("  " + "  ".join("-" * w for w in widths))


def ms(seconds: float) -> str:
    return f"{1e3 * seconds:.2f}" if seconds < 0.1 else f"{1e3 * seconds:.1f}"


def mib(n_bytes: float | None) -> str:
    return "n/a" if n_bytes is None else f"{n_bytes / 2**20:.1f}"


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


# -- the machine -------------------------------------------------------------------------------
def describe_machine() -> None:
    cpu, memory = platform.processor() or "unknown CPU", "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 2**20:.0f} GiB"
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"Machine: {cpu}, {os.cpu_count()} logical CPUs ({usable} usable), {memory} RAM")
    print(f"  {platform.system()} {platform.release()}, Python {platform.python_version()}")
    openmp = f"OpenMP {'on' if _core.has_openmp() else 'off'}, {_core.max_threads()} threads"
    blas = f"SciPy's BLAS/LAPACK {'on' if _core.blas_active() else 'off'}"
    print(
        f"  advmetric {advmetric.__version__} ({openmp}; {blas}), numpy {np.__version__}, "
        f"scipy {scipy.__version__}, scikit-learn {sklearn.__version__}"
    )
    for info in threadpool_info():
        owner = Path(info["filepath"]).parent.name
        if info["user_api"] == "blas":
            print(
                f"  BLAS: {info['internal_api']} {info['version']} ({info.get('architecture')}, "
                f"{info.get('threading_layer')}, {info['num_threads']} threads) from {owner}"
            )
        else:
            print(f"  OpenMP: {info['prefix']} ({info['num_threads']} threads) from {owner}")
    print(f"  load average at start: {load_average()} (the machine may be shared)")


# -- target 1 ----------------------------------------------------------------------------------
def random_scatter(d: int, seed: int):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((4 * d, d))
    Y = rng.standard_normal((4 * d, d))
    return X.T @ X, Y.T @ Y


def iteration_row(d: int, n_iter: int, single_thread: bool) -> list:
    A, B = random_scatter(d, d)
    M = aml.gmml(A, B)  # SPD, of the kind the solver works on
    n_threads = 1 if single_thread else None

    def baseline():
        np.linalg.eigh(M)
        M @ M
        M @ M
        M @ M

    def solve(k):
        return aml.solve(A, B, ALPHA, BETA, tol=1e-300, max_iter=k, n_threads=n_threads)

    # The LAPACK/BLAS calls one L-BFGS iteration makes (solver.hpp, objective.hpp), timed alone
    # through SciPy's wrappers of the library the core calls, on the BLAS threads the solver
    # uses: the eigensystem of M (on a copy, as the core's); U^T A U and U^T B U from the
    # Cholesky factors (a triangular product on a copy of U, then a rank-d update, each); T^T U;
    # the gradient's congruence into the solver's coordinates and the step's back into M (a
    # triangular product on a copy, then a rank-2d update, each). Outputs go to one reused
    # buffer, as the core's do.
    M_f = np.asfortranarray(M)
    L_f = np.asfortranarray(np.linalg.cholesky(M))
    W_f = np.asfortranarray(np.linalg.eigh(M)[1])
    out = np.zeros((d, d), order="F")

    def blas_floor():
        with dense_work(d, 0 if n_threads is None else n_threads):
            lapack.dsyevd(M_f)
            for _ in range(4):
                blas.dtrmm(1.0, L_f, W_f, lower=1)
            for _ in range(2):
                blas.dsyrk(1.0, W_f, trans=1, lower=1, c=out, overwrite_c=1)
                blas.dsyr2k(1.0, W_f, W_f, lower=1, c=out, overwrite_c=1)
            blas.dgemm(1.0, W_f, W_f, trans_a=1, c=out, overwrite_c=1)

    long, short = solve(n_iter).n_iter, solve(2).n_iter
    rounds = 3 if d >= 512 else 5
    t = race(
        {
            "baseline": baseline,
            "floor": blas_floor,
            "long": lambda: solve(n_iter),
            "short": lambda: solve(2),
        },
        rounds,
    )
    per_iteration = t["long"][0] / long
    marginal = (t["long"][0] - t["short"][0]) / (long - short)
    base = t["baseline"][0]
    return [
        d,
        "1" if single_thread else "all",
        f"{long}",
        ms(t["long"][0]),
        ms(per_iteration),
        ms(marginal),
        ms(base),
        f"{per_iteration / base:.2f}",
        f"{marginal / base:.2f}",
        ms(t["floor"][0]),
        f"{t['floor'][0] / base:.2f}",
        verdict(per_iteration / base <= 1.3),
    ]


def target_iteration(dims, n_iter: int = 20) -> None:
    section("1. Time per solver iteration vs numpy.linalg.eigh(M) + 3 d x d matmuls (M @ M)")
    print(
        f"   aml.solve(A, B, {ALPHA}, {BETA}, tol=1e-300, max_iter={n_iter}) on A, B = X^T X with "
        "4d Gaussian rows; per iteration = solve time / n_iter\n"
        "   (includes the one-off GMML start); marginal = (t(solve to n_iter) - t(solve to 2)) / "
        f"(n_iter - 2). Target: per iteration <= 1.3x. Threads: 'all' = defaults, '1' = "
        "n_threads=1 and threadpool_limits(1) on both sides.\n"
        "   floor = the LAPACK/BLAS calls of one iteration timed alone (dsyevd, 4 dtrmm, "
        "2 dsyrk, 2 dsyr2k, 1 dgemm): an iteration's lower bound."
    )
    rows = []
    for d in dims:
        rows.append(iteration_row(d, n_iter, single_thread=False))
        with threadpool_limits(1):
            rows.append(iteration_row(d, n_iter, single_thread=True))
    print_table(
        [
            "d",
            "threads",
            "n_iter",
            "solve ms",
            "ms/iter",
            "marginal ms/iter",
            "eigh+3mm ms",
            "ratio",
            "marginal ratio",
            "floor ms",
            "floor ratio",
            "<= 1.3",
        ],
        rows,
    )


# -- target 2 ----------------------------------------------------------------------------------
def statistics_rows(n: int, d: int, scaling: bool, rounds: int) -> tuple[list, list]:
    rng = np.random.default_rng(n + d)
    pairs = rng.standard_normal((n, 2, d))
    y = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int8)

    def numpy_statistics():
        D = pairs[:, 0] - pairs[:, 1]
        Dp, Dn = D[y > 0], D[y < 0]
        return Dp.T @ Dp, Dn.T @ Dn

    A, B = aml.pair_statistics(pairs, y)
    A_np, B_np = numpy_statistics()
    scale = np.abs(A_np).max() + np.abs(B_np).max()
    assert np.abs(A - A_np).max() <= 1e-10 * scale and np.abs(B - B_np).max() <= 1e-10 * scale

    t = race(
        {"numpy": numpy_statistics, "advmetric": lambda: aml.pair_statistics(pairs, y)}, rounds
    )
    extra_numpy = peak_extra_memory(numpy_statistics)
    extra_ours = peak_extra_memory(lambda: aml.pair_statistics(pairs, y))
    ratio = t["advmetric"][0] / t["numpy"][0]
    stats_row = [
        n,
        d,
        mib(pairs.nbytes),
        ms(t["advmetric"][0]),
        ms(t["numpy"][0]),
        f"{ratio:.2f}",
        verdict(ratio <= 1.2),
        mib(extra_ours),
        mib(extra_numpy),
    ]
    if not scaling:
        return stats_row, []

    M = aml.gmml(A, B, 1e-6)

    def one_thread(function):
        def run():
            with threadpool_limits(1):
                function(1)

        return run

    def statistics(threads):
        aml.pair_statistics(pairs, y, n_threads=threads)

    def adversarial(threads):
        aml.adversarial_pairs(M, pairs, y, BETA, n_threads=threads)

    s = race({"1": one_thread(statistics), "2": lambda: statistics(2)}, rounds)
    a = race({"1": one_thread(adversarial), "2": lambda: adversarial(2)}, rounds)
    scaling_row = [n, d]
    for result in (s, a):
        speedup = result["1"][0] / result["2"][0]
        scaling_row += [
            ms(result["1"][0]),
            ms(result["2"][0]),
            f"{speedup:.2f}x",
            verdict(speedup >= 1.7),
        ]
    return stats_row, scaling_row


def target_statistics(sizes, scaling_sizes) -> None:
    section("2. Pair statistics A, B from (N, 2, d) pairs, half similar, vs numpy")
    print(
        "   numpy: D = P[:, 0] - P[:, 1]; Dp = D[y > 0]; Dn = D[y < 0]; Dp.T @ Dp; Dn.T @ Dn\n"
        "   advmetric: aml.pair_statistics(P, y). Both with their default threads. 'extra MiB' ="
        " peak resident memory the call adds\n   (/proc/self/status VmHWM after clear_refs)."
        " Target: ratio <= 1.2."
    )
    stats_rows, scaling_rows = [], []
    for n, d in sizes:
        rounds = 3 if n * d > 10_000_000 else 5
        stats_row, scaling_row = statistics_rows(n, d, (n, d) in scaling_sizes, rounds)
        stats_rows.append(stats_row)
        if scaling_row:
            scaling_rows.append(scaling_row)
    print_table(
        [
            "N",
            "d",
            "pairs MiB",
            "advmetric ms",
            "numpy ms",
            "ratio",
            "<= 1.2",
            "advmetric extra MiB",
            "numpy extra MiB",
        ],
        stats_rows,
    )
    print(
        "\n   Thread scaling, 1 -> 2 threads (n_threads=1 under threadpool_limits(1) vs "
        "n_threads=2): aml.pair_statistics and\n   aml.adversarial_pairs (all N pairs, M = GMML's"
        " solution). Target: speed-up >= 1.7x."
    )
    print_table(
        [
            "N",
            "d",
            "stats 1t ms",
            "stats 2t ms",
            "speed-up",
            ">= 1.7",
            "adversarial 1t ms",
            "adversarial 2t ms",
            "speed-up",
            ">= 1.7",
        ],
        scaling_rows,
    )


# -- target 3 ----------------------------------------------------------------------------------
def digits(standardise: bool = True, split: bool = True):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    if not split:
        return (StandardScaler().fit_transform(X) if standardise else X), y
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    if standardise:
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    return X_train, X_test, y_train, y_test


def target_iterations() -> None:
    section("3. Iterations of the default solver (Newton-CG) to relative gradient <= 1e-8")
    print(
        f"   alpha={ALPHA}, beta={BETA}; digits problems through AML_Supervised() (default pairs,"
        " reg=1e-6). Target: <= 100 iterations."
    )
    rows = []
    if GOLDEN.exists():
        golden = json.loads(GOLDEN.read_text())
        A, B = np.array(golden["A"]), np.array(golden["B"])
        result = aml.solve(A, B, golden["alpha"], golden["beta"], tol=1e-8)
        M_error = np.abs(result.M - np.array(golden["aml_M_min"])).max()
        rows.append(
            [
                "golden (d=4, 30 pairs, reg=0)",
                result.n_iter,
                f"{result.gradient_norm_history[-1]:.1e}",
                f"max|M - M_golden| = {M_error:.1e}",
                verdict(result.converged and result.n_iter <= 100),
            ]
        )
    else:
        rows.append(["golden: not found at " + str(GOLDEN), "-", "-", "-", "n/a"])
    X_train, _, y_train, _ = digits()
    problems = [(f"digits train split, std., seed {s}", X_train, y_train, s) for s in range(3)]
    X_all, y_all = digits(split=False)
    problems.append(("digits all 1797, std., seed 0", X_all, y_all, 0))
    X_raw, y_raw = digits(standardise=False, split=False)
    problems.append(("digits all 1797, raw pixels, seed 0", X_raw, y_raw, 0))
    for name, X, y, seed in problems:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = AML_Supervised(random_state=seed).fit(X, y)
        rows.append(
            [
                name,
                model.n_iter_,
                f"{model.gradient_norm_history_[-1]:.1e}",
                f"{2 * default_n_constraints(len(np.unique(y))):,} pairs, d={X.shape[1]}",
                verdict(model.converged_ and model.n_iter_ <= 100),
            ]
        )
    print_table(["problem", "iterations", "rel. gradient", "", "<= 100"], rows)


# -- target 6 ----------------------------------------------------------------------------------
TIME_TO_SOLUTION_TARGETS = {16: 10.0, 64: 8.0, 256: 8.0, 784: 8.0}


def target_time_to_solution(dims, rounds: int) -> None:
    """Time from (A, B) to relative gradient <= 1e-8, in yardsticks, for "lbfgs" and "auto"."""
    section("6. Time to solution: aml.solve(A, B) to relative gradient <= 1e-8, default settings")
    print(
        f"   A, B = X^T X of 4d Gaussian rows; alpha={ALPHA}, beta={BETA}. One yardstick = numpy "
        "eigh(d) + three d x d matmuls, raced\n   against the solves in the same run (minimum of "
        f"{rounds} rounds). Targets: <= 10 yardsticks at d = 16, <= 8 at d = 64, 256, 784.\n"
        "   eig = eigendecompositions per solve (GMML's start included: one of F^T F, or an SVD "
        "when F is ill-conditioned;\n   and 2 Choleskys), Hv = Hessian-vector products; "
        "|dM| = max relative difference (Frobenius)\n   between the two minimisers."
    )
    rows, breakdown = [], []
    for d in dims:
        A, B = random_scatter(d, d)
        M = aml.gmml(A, B)

        def yardstick(M=M):
            np.linalg.eigh(M)
            M @ M
            M @ M
            M @ M

        def solve(solver, A=A, B=B):
            return aml.solve(A, B, ALPHA, BETA, solver=solver)

        results = {name: solve(name) for name in ("lbfgs", "auto")}
        times = race(
            {
                "yardstick": yardstick,
                "lbfgs": lambda: solve("lbfgs"),
                "auto": lambda: solve("auto"),
            },
            rounds,
        )
        unit = times["yardstick"][0]
        old, new = results["lbfgs"], results["auto"]
        difference = np.linalg.norm(new.M - old.M) / np.linalg.norm(old.M)
        ratio = times["auto"][0] / unit
        target = TIME_TO_SOLUTION_TARGETS.get(d)
        ok = old.converged and new.converged and difference <= 1e-6
        rows.append(
            [
                d,
                ms(unit),
                f"{times['lbfgs'][0] / unit:.1f}",
                old.n_iter,
                old.counters["eigendecompositions"],
                f"{ratio:.1f}",
                new.n_iter,
                new.counters["eigendecompositions"],
                new.counters["hessian_vector_products"],
                f"{difference:.1e}",
                "n/a" if target is None else verdict(ok and ratio <= target),
            ]
        )
        for name, result in results.items():
            breakdown.append([d, name, *(result.counters[key] for key in result.counters)])
    print_table(
        [
            "d",
            "yardstick ms",
            "lbfgs yardsticks",
            "iter",
            "eig",
            "auto yardsticks",
            "iter",
            "eig",
            "Hv",
            "|dM|",
            "target",
        ],
        rows,
    )
    print("   Work per solve (SolveResult.counters):")
    keys = list(results["auto"].counters)
    print_table(["d", "solver", *(key.replace("_", " ") for key in keys)], breakdown)


# -- target 4 ----------------------------------------------------------------------------------
def target_end_to_end(peers: bool, peers_venv: Path) -> None:
    section("4. AML_Supervised end to end on scikit-learn's digits (standardised)")
    split = digits()
    X_train, X_test, y_train, y_test = split
    print(
        f"   train_test_split(random_state=0, stratify=y): {len(X_train)} train / {len(X_test)} "
        "test, StandardScaler fitted on train; 5-NN test error in the learned metric.\n"
        "   advmetric: AML_Supervised(random_state=0) (90,000 sampled pairs), best of 5 fits. "
        "Reference: the same pairs (sample_pairs), the\n   numpy reference's pair_statistics on "
        "X[index] and its solve (pgd from GMML, reg=1e-6, tol=1e-8), one run."
    )
    model = AML_Supervised(random_state=0)
    t = race({"fit": lambda: model.fit(X_train, y_train)}, rounds=5, min_seconds=0)
    t_fast = t["fit"][0]
    error_fast = knn_error(model.transform(X_train), y_train, model.transform(X_test), y_test)

    def reference_fit():
        index, labels = sample_pairs(y_train, random_state=0)
        A, B = reference.pair_statistics(X_train[index], labels)
        return reference.solve(A, B, ALPHA, BETA, reg=1e-6, tol=1e-8, max_iter=5000)

    start = time.perf_counter()
    result = reference_fit()
    t_ref = time.perf_counter() - start
    w, V = np.linalg.eigh(result.M)
    L_ref = np.sqrt(np.maximum(w, 0))[:, None] * V.T
    error_ref = knn_error(X_train @ L_ref.T, y_train, X_test @ L_ref.T, y_test)
    error_euclid = knn_error(X_train, y_train, X_test, y_test)
    rows = [
        ["advmetric AML_Supervised", ms(t_fast), f"{error_fast:.4f}", model.n_iter_, "", "", ""],
        [
            "numpy reference (same pairs)",
            ms(t_ref),
            f"{error_ref:.4f}",
            result.n_iter,
            f"{t_ref / t_fast:.0f}x",
            "",
            "",
        ],
        ["Euclidean (no metric learning)", "-", f"{error_euclid:.4f}", "-", "", "", ""],
    ]
    note = "metric-learn peers: run with --peers"
    if peers:
        results, why = run_peers(peers_venv, {("digits", 0): split}, timeout=1800)
        why = why or "; ".join(f"{r['method']}: {r['failure']}" for r in results if "failure" in r)
        results = [r for r in results if "failure" not in r]
        for peer in results:
            speedup = peer["time"] / t_fast
            ok = speedup >= 100 and error_fast <= peer["error"]
            rows.append(
                [
                    "metric-learn " + peer["method"],
                    ms(peer["time"]),
                    f"{peer['error']:.4f}",
                    peer["n_iter"] if peer["n_iter"] is not None else "-",
                    f"{speedup:.0f}x",
                    "yes" if error_fast <= peer["error"] else "no",
                    verdict(ok),
                ]
            )
        if results:
            note = f"peers ran in {peers_venv} ({results[0]['versions']}), one fit each"
        if why:
            note = f"metric-learn peers not available: {why}"
            done = {r["method"] for r in results}
            rows += [
                [f"metric-learn {name}", "not available", "", "", "", "", ""]
                for name in PEERS
                if name not in done
            ]
    print_table(
        [
            "method",
            "fit ms",
            "5-NN error",
            "iterations",
            "AML speed-up",
            "AML error <=",
            ">= 100x & <=",
        ],
        rows,
    )
    print("   " + note)


# -- target 5 ----------------------------------------------------------------------------------
SCALE_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import numpy as np
    from advmetric import AML_Supervised

    def status(field):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        return 0

    n_pairs, n_samples, d = (int(a) for a in sys.argv[1:4])
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, size=n_samples)
    X = rng.standard_normal((n_samples, d)) + 0.5 * y[:, None]
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current VmRSS
    except OSError:
        pass
    base = status("VmRSS")
    start = time.perf_counter()
    # n_constraints counts the pairs of each kind: n_pairs in all
    model = AML_Supervised(n_constraints=n_pairs // 2, random_state=0).fit(X, y)
    elapsed = time.perf_counter() - start
    print(json.dumps({"time": elapsed, "extra": status("VmHWM") - base, "base": base,
                      "x_bytes": X.nbytes, "y_bytes": y.nbytes, "n_iter": model.n_iter_,
                      "converged": bool(model.converged_)}))
    """
)


def target_scale(n_pairs: int, n_samples: int = 100_000, d: int = 64) -> None:
    section(f"5. {n_pairs:,} pairs sampled from class labels at d = {d}, end to end")
    print(
        f"   AML_Supervised(n_constraints={n_pairs // 2:,}).fit(X, y), X: {n_samples:,} x {d} "
        "float64, "
        "10 classes; in a fresh subprocess, one run.\n   'extra' = peak RSS (VmHWM) minus RSS "
        "after imports and data creation. Budget = all sampled indices held at once "
        "(2 int64\n   + 1 int8 per pair) + 16 MiB for the O(d^2 threads) buffers. Targets: "
        "<= 10 s, extra <= budget."
    )
    done = subprocess.run(
        [sys.executable, "-c", SCALE_SCRIPT, str(n_pairs), str(n_samples), str(d)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        print("   failed: " + done.stderr.strip()[-500:])
        return
    r = json.loads(done.stdout.strip().splitlines()[-1])
    index_bytes = n_pairs * (2 * 8 + 1)
    budget = index_bytes + 16 * 2**20
    print_table(
        [
            "fit s",
            "iterations",
            "converged",
            "<= 10 s",
            "input X MiB",
            "extra MiB",
            "indices MiB",
            "budget MiB",
            "<= budget",
        ],
        [
            [
                f"{r['time']:.2f}",
                r["n_iter"],
                r["converged"],
                verdict(r["time"] <= 10),
                mib(r["x_bytes"]),
                mib(r["extra"]),
                mib(index_bytes),
                mib(budget),
                verdict(r["extra"] <= budget),
            ]
        ],
    )
    naive = n_pairs * 2 * d * 8
    print(f"   (an (n_pairs, 2, d) pair array would take {naive / 2**30:.1f} GiB)")


# -- target 7 ----------------------------------------------------------------------------------
def median_call(function, min_seconds: float = 1.0, min_calls: int = 5) -> float:
    """Median wall time of ``function()`` over at least ``min_seconds`` and ``min_calls`` calls.

    The median, not the minimum: on a busy machine the minimum is the one lucky call, while the
    median is what a user waits for.
    """
    function()
    times, spent = [], 0.0
    while spent < min_seconds or len(times) < min_calls:
        start = time.perf_counter()
        function()
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        spent += elapsed
    return float(np.median(times))


class BusyProcesses:
    """``count`` CPU-bound processes (a bare Python loop each) for the duration of a block."""

    def __init__(self, count: int):
        self.count = count
        self.processes = []

    def __enter__(self):
        self.processes = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(self.count)
        ]
        time.sleep(1.0)  # let the scheduler settle on the new load
        return self

    def __exit__(self, *exc):
        for process in self.processes:
            process.kill()
        for process in self.processes:
            process.wait()


def overhead_rows(d: int, goal: float, quick: bool) -> list:
    A, B = random_scatter(d, d)
    M = aml.gmml(A, B)
    t = race(
        {
            "objective": lambda: aml.objective(M, A, B, ALPHA, BETA),
            "reference objective": lambda: reference.objective(M, A, B, ALPHA, BETA),
            "gradient": lambda: aml.gradient(M, A, B, ALPHA, BETA),
            "reference gradient": lambda: reference.gradient(M, A, B, ALPHA, BETA),
            # the floor of both: the eigendecomposition each evaluation needs, on one thread
            "eigh": lambda: np.linalg.eigh(M),
        },
        rounds=3 if quick else 7,
        min_seconds=0.1,
    )
    rows = []
    for name in ("objective", "gradient"):
        ratio = t[name][0] / t[f"reference {name}"][0]
        rows.append(
            [
                d,
                name,
                f"{t[name][0] * 1e3:.3f} ms",
                f"{t[f'reference {name}'][0] * 1e3:.3f} ms",
                f"{t['eigh'][0] * 1e3:.3f} ms",
                f"{ratio:.2f}",
                f"<= {goal}",
                verdict(ratio <= goal),
            ]
        )
    return rows


def target_overhead(quick: bool) -> None:
    section("7a. Array API per call vs the numpy reference (advmetric.reference), idle machine")
    rows = [row for d, goal in ((16, 1.0), (64, 0.6)) for row in overhead_rows(d, goal, quick)]
    print_table(
        ["d", "function", "advmetric", "reference", "numpy eigh", "ratio", "goal", ""], rows
    )

    section("7b. Per-call time with two CPU-bound processes beside it vs idle (median of calls)")
    d = 64
    A, B = random_scatter(d, d)
    M = aml.gmml(A, B)
    X_train, _, y_train, _ = digits()
    calls = {
        "aml.objective, d = 64": lambda: aml.objective(M, A, B, ALPHA, BETA),
        "aml.gradient, d = 64": lambda: aml.gradient(M, A, B, ALPHA, BETA),
        "aml.solve, d = 64": lambda: aml.solve(A, B, ALPHA, BETA),
        "AML_Supervised.fit, digits": lambda: AML_Supervised(random_state=0).fit(X_train, y_train),
    }
    seconds = 0.5 if quick else 2.0
    idle = {name: median_call(f, seconds) for name, f in calls.items()}
    with BusyProcesses(2):
        print(f"  (two busy processes started; load average {load_average()})")
        busy = {name: median_call(f, seconds) for name, f in calls.items()}
    rows = [
        [
            name,
            ms(idle[name]),
            ms(busy[name]),
            f"{busy[name] / idle[name]:.2f}",
            verdict(busy[name] / idle[name] <= 3.0),
        ]
        for name in calls
    ]
    print_table(["call", "idle", "2 busy processes", "ratio", "<= 3"], rows)


# -- target 8 ----------------------------------------------------------------------------------
def _anonymous_rss() -> int:
    """Anonymous resident memory of this process (``RssAnon``), in bytes: what a computation
    allocates, without the page cache a memory-mapped file brings in."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    return 0


def peak_anonymous_extra(function) -> int:
    """Peak anonymous memory that ``function()`` adds, sampled every millisecond."""
    import threading

    baseline = _anonymous_rss()
    peak = [baseline]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _anonymous_rss())
            done.wait(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        function()
    finally:
        done.set()
        sampler.join()
    return max(0, max(peak[0], _anonymous_rss()) - baseline)


def target_memmap(n_pairs: int, d: int = 32) -> None:
    """Estimators on a memory-mapped pairs file several times larger than the core's block."""
    from advmetric import AML
    from advmetric._backend import BLOCK_VALUES

    section(f"8. Anonymous memory on a memory-mapped file of {n_pairs} pairs at d = {d}")
    if not Path("/proc/self/status").exists():
        print("  (needs /proc/self/status: Linux only)")
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pairs.npy"
        pairs = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n_pairs, 2, d))
        rng = np.random.default_rng(0)
        step = 200_000
        for start in range(0, n_pairs, step):
            stop = min(start + step, n_pairs)
            block = rng.standard_normal((stop - start, 2, d))
            block[::2, 1] = block[::2, 0] + 0.1 * rng.standard_normal(((stop - start + 1) // 2, d))
            pairs[start:stop] = block
        pairs.flush()
        del pairs, block
        pairs = np.load(path, mmap_mode="r")
        y = np.where(np.arange(n_pairs) % 2 == 0, 1, -1)
        size = pairs.nbytes
        model = AML()
        rows = []
        for name, call in (
            ("AML.fit", lambda: model.fit(pairs, y)),
            ("calibrate_threshold", lambda: model.calibrate_threshold(pairs, y)),
            ("pair_distance", lambda: model.pair_distance(pairs)),
            ("score", lambda: model.score(pairs, y)),
        ):
            start = time.perf_counter()
            extra = peak_anonymous_extra(call)
            seconds = time.perf_counter() - start
            rows.append(
                [
                    name,
                    f"{seconds:.2f} s",
                    mib(extra),
                    f"{extra / n_pairs:.1f}",
                    f"{extra / size:.3f}",
                ]
            )
        print(
            f"  file {mib(size)} MiB; the core's block {mib(8 * BLOCK_VALUES)} MiB; one float per "
            f"pair {mib(8 * n_pairs)} MiB. The per-pair vectors (labels, distances, the threshold "
            "search's sorts) are O(n); nothing grows with n x d."
        )
        print_table(["call", "time", "extra anonymous MiB", "bytes per pair", "/ file size"], rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    parser.add_argument("--peers", action="store_true", help="also run metric-learn's peers")
    parser.add_argument("--peers-venv", type=Path, default=DEFAULT_PEERS_VENV)
    parser.add_argument("--only", default="1,2,3,4,5,6,7,8", help="comma-separated targets")
    args = parser.parse_args(argv)
    only = {int(t) for t in args.only.split(",")}
    describe_machine()
    start = time.perf_counter()
    if 1 in only:
        target_iteration([32, 64] if args.quick else [64, 256, 784])
    if 2 in only:
        if args.quick:
            sizes = [(20_000, 16), (10_000, 64), (2_000, 256)]
        else:
            sizes = [(650_000, 16), (200_000, 64), (90_000, 784)]
        target_statistics(sizes, sizes[1:])
    if 3 in only:
        target_iterations()
    if 4 in only:
        target_end_to_end(args.peers, args.peers_venv)
    if 5 in only:
        target_scale(200_000 if args.quick else 10_000_000)
    if 6 in only:
        target_time_to_solution([16, 64] if args.quick else [16, 64, 256, 784, 1024], 3)
    if 7 in only:
        target_overhead(args.quick)
    if 8 in only:
        target_memmap(500_000 if args.quick else 8_000_000)
    print(f"\nTotal {time.perf_counter() - start:.0f} s; load average at the end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
