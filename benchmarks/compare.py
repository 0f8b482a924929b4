"""Ratio report for the performance targets, measured in one run.

    python benchmarks/compare.py            # targets 1-5
    python benchmarks/compare.py --quick    # smaller sizes, a smoke test of the script

Every number is a minimum over repeats of wall-clock time on this machine; ratios compare
measurements taken in the same run. Targets:

1. one solver iteration <= 1.3x (numpy.linalg.eigh + 3 d x d matmuls), d in {64, 256, 784};
2. pair statistics <= 1.2x numpy's ``D = P[:, 0] - P[:, 1]; Dp.T @ Dp; Dn.T @ Dn`` and a
   >= 1.7x speed-up from 1 to 2 threads (statistics and adversarial pairs) at the larger sizes;
3. relative gradient norm <= 1e-8 in <= 100 iterations (golden problem, digits);
4. AML_Supervised on digits vs the numpy reference (peers: see --peers in the README);
5. 10^7 sampled pairs at d = 64 fit end to end in <= 10 s with bounded memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import advmetric
from advmetric import AML_Supervised, aml, reference


def best_time(function, repeat=5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = ", ".join(
        f"{i['internal_api']} {i['version']} ({i.get('architecture')}, {i['num_threads']} threads)"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    )
    return (
        f"{cpu}; {os.cpu_count()} logical CPUs; Python {platform.python_version()}; "
        f"numpy {np.__version__}; advmetric {advmetric.__version__}; BLAS: {blas}"
    )


def random_scatter(rng, d):
    X = rng.standard_normal((4 * d, d))
    Y = rng.standard_normal((4 * d, d))
    return X.T @ X, Y.T @ Y


def iteration_row(d, rng):
    A, B = random_scatter(rng, d)
    M = aml.gmml(A, B)
    baseline = best_time(lambda: (np.linalg.eigh(M), M @ M, M @ M, M @ M))

    def solve(k):
        return aml.solve(A, B, 1.0, 0.8, tol=1e-300, max_iter=k)

    # Marginal cost of an iteration: iterations 4..8 (before convergence, so no line search at
    # the floating-point limit), without the set-up every solve pays once.
    few, more = 3, 8
    assert solve(more).n_iter == more
    per_iteration = (best_time(lambda: solve(more), 3) - best_time(lambda: solve(few), 3)) / (
        more - few
    )
    ratio = per_iteration / baseline
    print(
        f"{d:>5} {1e3 * per_iteration:>15.2f} {1e3 * baseline:>14.2f} {ratio:>7.2f}  "
        f"{verdict(ratio <= 1.3)}"
    )


def target_iteration(dims, rng):
    print("\n1. Time per solver iteration vs numpy.linalg.eigh(d) + 3 d x d matmuls")
    print(f"{'d':>5} {'iteration (ms)':>15} {'eigh+3mm (ms)':>14} {'ratio':>7}  target <= 1.3")
    for d in dims:
        iteration_row(d, rng)


def statistics_row(n, d, rng):
    pairs = rng.standard_normal((n, 2, d))
    y = np.where(rng.random(n) < 0.5, 1, -1)

    def numpy_statistics():
        D = pairs[:, 0] - pairs[:, 1]
        Dp, Dn = D[y > 0], D[y < 0]
        return Dp.T @ Dp, Dn.T @ Dn

    t_numpy = best_time(numpy_statistics, repeat=3)
    t_ours = best_time(lambda: aml.pair_statistics(pairs, y), repeat=3)
    with threadpool_limits(1):
        t_one = best_time(lambda: aml.pair_statistics(pairs, y, n_threads=1), repeat=3)
    t_two = best_time(lambda: aml.pair_statistics(pairs, y, n_threads=2), repeat=3)
    M = aml.gmml(*aml.pair_statistics(pairs[:20000], y[:20000]), 1e-6)
    m = min(n, 50_000)
    sub, y_sub = pairs[:m], y[:m]
    a_one = best_time(lambda: aml.adversarial_pairs(M, sub, y_sub, 0.8, n_threads=1), repeat=3)
    a_two = best_time(lambda: aml.adversarial_pairs(M, sub, y_sub, 0.8, n_threads=2), repeat=3)
    ratio = t_ours / t_numpy
    print(
        f"{n:>8} {d:>4} {1e3 * t_ours:>15.1f} {1e3 * t_numpy:>11.1f} {ratio:>6.2f} "
        f"{t_one / t_two:>18.2f}x {a_one / a_two:>24.2f}x  {verdict(ratio <= 1.2)}"
    )


def target_statistics(sizes, rng):
    print("\n2. Pair statistics vs numpy (D = P[:,0]-P[:,1]; Dp.T@Dp; Dn.T@Dn), thread scaling")
    print("   (ratio target <= 1.2; 1 -> 2 thread speed-up target >= 1.7 at the two larger sizes)")
    print(
        f"{'N':>8} {'d':>4} {'advmetric (ms)':>15} {'numpy (ms)':>11} {'ratio':>6} "
        f"{'1->2 threads stats':>19} {'1->2 threads adversarial':>25}"
    )
    for n, d in sizes:
        statistics_row(n, d, rng)


def golden_problem():
    path = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "aml_golden.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return aml.pair_statistics(np.array(data["pairs"]), np.array(data["y"]))


def standardised_digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def target_iterations():
    print("\n3. Iterations of the default solver to a relative gradient norm <= 1e-8")
    problems = {}
    golden = golden_problem()
    if golden is not None:
        problems["golden (d=4, 30 pairs)"] = (golden, 0.0)
    X_train, _, y_train, _ = standardised_digits()
    from advmetric.estimators import _sample_pairs

    codes = np.unique(y_train, return_inverse=True)[1]
    index, labels = _sample_pairs(codes, 90_000, 0)
    stats = advmetric.PairStatistics.from_indices(X_train, index, labels)
    problems["digits (d=64, 90000 pairs)"] = ((np.array(stats.A), np.array(stats.B)), 1e-6)
    for name, ((A, B), reg) in problems.items():
        result = aml.solve(A, B, 1.0, 0.8, reg=reg, tol=1e-8)
        ok = result.converged and result.n_iter <= 100
        print(
            f"  {name:<28} {result.n_iter:>4} iterations, relative gradient "
            f"{result.gradient_norm_history[-1]:.2e}  {verdict(ok)} (target <= 100)"
        )


def knn_error(Z_train, y_train, Z_test, y_test) -> float:
    from sklearn.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(n_neighbors=5).fit(Z_train, y_train)
    return float(np.mean(knn.predict(Z_test) != y_test))


def target_end_to_end():
    print(
        "\n4. AML_Supervised on digits (standardised, default 90000 pairs) vs the numpy reference"
    )
    X_train, X_test, y_train, y_test = standardised_digits()
    fast = AML_Supervised(random_state=0)
    t_fast = best_time(lambda: fast.fit(X_train, y_train), repeat=3)
    error_fast = knn_error(fast.transform(X_train), y_train, fast.transform(X_test), y_test)

    # The same pairs through the numpy reference: statistics pair by pair, then its solver.
    from advmetric.estimators import _sample_pairs

    codes = np.unique(y_train, return_inverse=True)[1]
    index, labels = _sample_pairs(codes, 1000 * 10 * 9, 0)

    def reference_fit():
        A, B = reference.pair_statistics(X_train[index], labels)
        return reference.solve(A, B, 1.0, 0.8, reg=1e-6, max_iter=5000).M

    start = time.perf_counter()
    M_ref = reference_fit()
    t_ref = time.perf_counter() - start
    w, V = np.linalg.eigh(M_ref)
    L_ref = np.sqrt(np.maximum(w, 0))[:, None] * V.T
    error_ref = knn_error(X_train @ L_ref.T, y_train, X_test @ L_ref.T, y_test)
    error_euclid = knn_error(X_train, y_train, X_test, y_test)
    print(f"  advmetric AML_Supervised {1e3 * t_fast:9.1f} ms, 5-NN test error {error_fast:.4f}")
    print(f"  numpy reference, same pairs {1e3 * t_ref:8.1f} ms, 5-NN test error {error_ref:.4f}")
    print(f"  Euclidean{' ' * 33}5-NN test error {error_euclid:.4f}")
    print(f"  speed-up over the reference: {t_ref / t_fast:.0f}x")
    print("  metric-learn peers (LMNN, ITML_Supervised): see the README's Performance section")


def target_scale(n_pairs: int):
    print(f"\n5. {n_pairs:.0e} sampled pairs at d = 64, end to end (a fresh subprocess)")
    code = f"""
import resource, time, numpy as np
from advmetric import AML_Supervised
rng = np.random.default_rng(0)
X = rng.standard_normal((100_000, 64)); y = rng.integers(0, 10, size=100_000)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
model = AML_Supervised(n_constraints={n_pairs}, random_state=0).fit(X, y)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(elapsed, (peak - base) * 1024, X.nbytes, model.n_iter_, model.converged_)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    elapsed, extra, x_bytes, n_iter, converged = out.stdout.split()
    elapsed, extra, x_bytes = float(elapsed), float(extra), float(x_bytes)
    index_bytes = n_pairs * (2 * 8 + 1)
    print(
        f"  fit {elapsed:.2f} s ({n_iter} iterations, converged {converged})  "
        f"{verdict(elapsed <= 10)} (target <= 10 s)"
    )
    print(
        f"  peak memory above the loaded input: {extra / 2**20:.0f} MiB; sampled indices and "
        f"labels {index_bytes / 2**20:.0f} MiB; input X {x_bytes / 2**20:.0f} MiB (already loaded)"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print("Machine:", machine())
    if args.quick:
        target_iteration([32, 64], rng)
        target_statistics([(20_000, 16), (5_000, 64)], rng)
        target_iterations()
        target_scale(100_000)
    else:
        target_iteration([64, 256, 784], rng)
        target_statistics([(650_000, 16), (200_000, 64), (90_000, 784)], rng)
        target_iterations()
        target_end_to_end()
        target_scale(10_000_000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
