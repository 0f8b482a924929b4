"""
Speed: the compiled core against the numpy reference
====================================================

:mod:`advmetric.aml` (the compiled array API) and :mod:`advmetric.reference` (plain numpy, written
to be read and checked against the paper) have the same functions. This example times the two
steps of a fit — the pass over the pairs (``pair_statistics``) and the solve from the two scatter
matrices (``solve``) — at a few dimensions, and metric-learn's learners when metric-learn is
installed. It is a small, noisy measurement on whatever machine builds the docs (on a shared CI
machine a single run moves by 10-50%); ``python benchmarks/compare.py`` prints the full tables
quoted in :doc:`/performance`.
"""

import time

import matplotlib.pyplot as plt
import numpy as np

import advmetric
from advmetric import aml, reference


def best_time(function, *args, repeats=3):
    """Best wall time of a few calls: leaves out one-off costs such as first-touch and warm-up."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return min(times)


rng = np.random.default_rng(0)
dims = [8, 16, 32, 64]
n_pairs = 20_000
rows = []
for d in dims:
    pairs = rng.standard_normal((n_pairs, 2, d))
    y = np.where(np.arange(n_pairs) % 2 == 0, 1, -1)
    pairs[y == 1, 1] = pairs[y == 1, 0] + 0.3 * rng.standard_normal((n_pairs // 2, d))
    A, B = aml.pair_statistics(pairs, y)
    rows.append(
        (
            best_time(aml.pair_statistics, pairs, y),
            best_time(reference.pair_statistics, pairs, y),
            best_time(aml.solve, A, B, 1.0, 0.8),
            best_time(reference.solve, A, B, 1.0, 0.8, repeats=1),
        )
    )
    # The two solvers take their own number of iterations to the same tolerance; both are printed,
    # so that a ratio is not mistaken for a per-iteration speed-up.
    ours, theirs = aml.solve(A, B, 1.0, 0.8), reference.solve(A, B, 1.0, 0.8)
    print(
        f"d = {d:3}: statistics {rows[-1][1] / rows[-1][0]:5.1f}x faster, "
        f"solve {rows[-1][3] / rows[-1][2]:5.1f}x faster "
        f"(iterations: {ours.n_iter} compiled, {theirs.n_iter} reference)"
    )
times = np.array(rows) * 1e3

# %%
# metric-learn, when it is installed (it is not a dependency of advmetric, and metric-learn 0.7
# needs scikit-learn < 1.8): time a fit of its supervised learners on the same kind of data.

try:
    import metric_learn
except ImportError:
    metric_learn = None
    print("metric-learn is not installed: its learners are left out of the plot")

peer_times = {}
ours_fit = None
if metric_learn is not None:
    X = rng.standard_normal((500, 16))
    labels = (X[:, 0] > 0).astype(int)
    for name in ["MMC_Supervised", "ITML_Supervised"]:
        learner = getattr(metric_learn, name)
        peer_times[name] = best_time(learner().fit, X, labels, repeats=1)
    ours_fit = best_time(advmetric.AML_Supervised(random_state=0).fit, X, labels)
    for name, seconds in peer_times.items():
        print(f"{name}: {seconds / ours_fit:.0f}x the time of AML_Supervised (500 x 16)")

# %%
# Times per call (best of a few), log scale.

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharex=True)
for ax, (fast, slow), title in [
    (axes[0], (0, 1), f"pair statistics ({n_pairs:,} pairs)"),
    (axes[1], (2, 3), "solve from (A, B), alpha 1, beta 0.8"),
]:
    ax.plot(dims, times[:, fast], "o-", label="advmetric.aml (compiled)")
    ax.plot(dims, times[:, slow], "s--", label="advmetric.reference (numpy)")
    ax.set_yscale("log")
    ax.set_xscale("log", base=2)
    ax.set_xticks(dims, [str(d) for d in dims])
    ax.set_xlabel("d (features)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
axes[0].set_ylabel("ms per call")
axes[0].legend(fontsize=8)
fig.tight_layout()

if peer_times:
    fig, ax = plt.subplots(figsize=(5, 3))
    names = ["AML_Supervised", *peer_times]
    ax.barh(names, [ours_fit * 1e3, *(t * 1e3 for t in peer_times.values())])
    ax.set_xscale("log")
    ax.set_xlabel("fit time (ms), 500 examples x 16 features")
    fig.tight_layout()
plt.show()
