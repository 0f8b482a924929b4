"""
Streaming pairs with bounded memory
===================================

Everything AML needs from the data is two d x d scatter matrices (``A`` over similar pairs, ``B``
over dissimilar ones). They are sums over pairs, so pairs can be read chunk by chunk — from a
memory-mapped file, a database, a data loader — and statistics computed in different places can
be merged. :class:`advmetric.PairStatistics` holds them; :meth:`advmetric.AML.fit_statistics`
fits from them.

Here pairs are stored on disk as *row indices* into ``X`` (8 bytes per pair instead of
``2 d`` floats) in a memory-mapped ``.npy`` file, and streamed in chunks. We record the Python
heap's peak (``tracemalloc``, which sees numpy's buffers) during each chunk's update, to show that
it depends on the chunk size, not on how many pairs have been seen.
"""

import shutil
import tempfile
import tracemalloc
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from advmetric import AML, PairStatistics

rng = np.random.default_rng(0)
n_samples, d, n_pairs, chunk = 20_000, 16, 400_000, 25_000
classes = rng.integers(0, 2, size=n_samples)
X = rng.standard_normal((n_samples, d))
X[:, :3] += 2.0 * classes[:, None]  # the classes differ in the first three features


def pair_labels(block):
    """+1 where both rows of a pair are of the same class, -1 otherwise."""
    return np.where(classes[block[:, 0]] == classes[block[:, 1]], 1, -1)


folder = Path(tempfile.mkdtemp())
index = np.lib.format.open_memmap(
    folder / "pairs.npy", mode="w+", dtype=np.int32, shape=(n_pairs, 2)
)
index[:] = rng.integers(0, n_samples, size=(n_pairs, 2), dtype=np.int32)
index.flush()
del index

# %%
# Stream the memory-mapped index pairs through ``update_indices``, one chunk at a time.

pairs_on_disk = np.load(folder / "pairs.npy", mmap_mode="r")
stats = PairStatistics(d)
seen, peaks = [], []
for start in range(0, n_pairs, chunk):
    block = np.asarray(pairs_on_disk[start : start + chunk])  # reads one chunk from disk
    tracemalloc.start()
    stats.update_indices(X, block, pair_labels(block))
    peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
    tracemalloc.stop()
    seen.append(stats.n_pairs)
print(f"{stats.n_pairs} pairs: {stats.n_similar} similar, {stats.n_dissimilar} dissimilar")

streamed = AML().fit_statistics(stats)

# %%
# Statistics from two halves, computed separately (say, on two machines), merge to the same
# result; and the same pairs given to :meth:`advmetric.AML.fit` as one array give the same metric.

half = n_pairs // 2
first_half = np.asarray(pairs_on_disk[:half])
second_half = np.asarray(pairs_on_disk[half:])
first = PairStatistics(d).update_indices(X, first_half, pair_labels(first_half))
second = PairStatistics(d).update_indices(X, second_half, pair_labels(second_half))
merged = first.merge(second)
print("merged == streamed:", np.allclose(merged.A, stats.A) and np.allclose(merged.B, stats.B))

sample = np.asarray(pairs_on_disk[:50_000])
pairs = X[sample]  # shape (50000, 2, d): the array route, for comparison
y = pair_labels(sample)
from_arrays = AML().fit(pairs, y).get_mahalanobis_matrix()
from_stats = AML().fit_statistics(PairStatistics(d).update_indices(X, sample, y))
difference = np.linalg.norm(from_arrays - from_stats.get_mahalanobis_matrix()) / np.linalg.norm(
    from_arrays
)
print(f"fit(pairs) vs fit_statistics(indices): relative difference {difference:.1e}")

# %%
# The heap peak per update stays flat while the number of pairs seen grows; the learned metric
# weighs the three informative features most.

fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
axes[0].plot(np.array(seen) / 1e3, peaks, "o-", label=f"chunks of {chunk:,} pairs")
whole = n_pairs * 2 * d * 8 / 2**20  # MiB of all pairs as one (n, 2, d) float64 array
axes[0].axhline(whole, color="tab:red", ls="--", label="all pairs as one (n, 2, d) array")
axes[0].set_xlabel("pairs seen (thousands)")
axes[0].set_ylabel("peak Python heap per update (MiB)")
axes[0].set_yscale("log")
axes[0].legend(fontsize=8)
axes[1].bar(np.arange(d), np.diag(streamed.get_mahalanobis_matrix()))
axes[1].set_xlabel("feature")
axes[1].set_ylabel("diagonal of M")
axes[1].set_title("features 0-2 carry the classes")
fig.tight_layout()
plt.show()

del pairs_on_disk
shutil.rmtree(folder)  # the scratch files
