"""Pair statistics from Dask arrays, as a tree reduction of per-block statistics.

Requires the optional extra ``advmetric[dask]``. Every block of pairs is reduced where it lives
to a :class:`~advmetric.statistics.PairStatistics` (two d x d matrices and two counts), and the
partial statistics are merged in a tree, so workers never exchange pairs, only d x d matrices.
Fit an estimator on the result with ``fit_statistics``.

Examples
--------
>>> import dask.array as da
>>> import numpy as np
>>> from advmetric import AML
>>> from advmetric.dask import pair_statistics
>>> rng = np.random.default_rng(0)
>>> pairs = da.from_array(rng.standard_normal((1000, 2, 3)), chunks=250)  # 4 blocks of pairs
>>> y = np.where(np.arange(1000) % 2 == 0, 1, -1)
>>> stats = pair_statistics(pairs, y).compute()
>>> stats
PairStatistics(n_features=3, n_similar=500, n_dissimilar=500)
>>> model = AML().fit_statistics(stats)
"""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np

from .statistics import PairStatistics

__all__ = ["pair_statistics", "pair_statistics_indices"]


def _block_statistics(pairs_block, y_block, n_threads):
    if len(y_block) == 0:
        return PairStatistics(pairs_block.shape[2])
    return PairStatistics.from_pairs(pairs_block, y_block, n_threads=n_threads)


def _block_statistics_indices(X, index_block, y_block, n_threads):
    if len(y_block) == 0:
        return PairStatistics(X.shape[1])
    return PairStatistics.from_indices(X, index_block, y_block, n_threads=n_threads)


def _merge_all(parts):
    merged = parts[0].copy()
    for part in parts[1:]:
        merged += part
    return merged


def _tree_merge(parts, split_every: int):
    """Merge delayed PairStatistics ``split_every`` at a time until one is left."""
    if split_every < 2:
        raise ValueError(f"split_every must be >= 2, got {split_every}")
    merge = dask.delayed(_merge_all, pure=True)
    while len(parts) > 1:
        parts = [merge(parts[i : i + split_every]) for i in range(0, len(parts), split_every)]
    return parts[0]


def _as_dask_labels(y, chunks) -> da.Array:
    """``y`` chunked as the pairs are; its length is checked first (a mismatch would otherwise
    surface as Dask's own complaint about chunk sizes, which does not name ``y``)."""
    y = da.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    n_pairs = sum(chunks)
    if y.shape[0] != n_pairs:
        raise ValueError(f"y has {y.shape[0]} labels for {n_pairs} pairs")
    return y.rechunk((chunks,))


def pair_statistics(pairs, y, *, n_threads=None, split_every: int = 8):
    """Delayed :class:`PairStatistics` of a Dask array of pairs.

    Parameters
    ----------
    pairs : dask array of shape (n_pairs, 2, n_features)
        Chunked along the first axis (other axes are made whole).
    y : dask or numpy array of shape (n_pairs,)
        Labels in {-1, +1}; rechunked to match ``pairs``.
    n_threads : int, optional
        Threads per block computation (None: all available to the worker).
    split_every : int
        Fan-in of the merge tree.

    Returns
    -------
    dask.delayed.Delayed
        Call ``.compute()`` for the :class:`PairStatistics`.
    """
    pairs = da.asarray(pairs)
    if pairs.ndim != 3 or pairs.shape[1] != 2:
        raise ValueError(f"pairs must have shape (n_pairs, 2, n_features), got {pairs.shape}")
    if pairs.shape[0] == 0:
        raise ValueError("pairs is empty: at least one pair is needed")
    pairs = pairs.rechunk({1: -1, 2: -1})
    y = _as_dask_labels(y, pairs.chunks[0])
    block = dask.delayed(_block_statistics, pure=True)
    parts = [
        block(p, labels, n_threads)
        for p, labels in zip(pairs.to_delayed().ravel(), y.to_delayed().ravel())
    ]
    return _tree_merge(parts, split_every)


def pair_statistics_indices(X, index_pairs, y, *, n_threads=None, split_every: int = 8):
    """Delayed :class:`PairStatistics` of the pairs ``(X[i], X[j])`` for rows of ``index_pairs``.

    ``X`` (n_samples, n_features) is an in-memory array, embedded once in the graph, or a dask
    array, which is assembled whole on one worker and copied from there to the others that need
    it (so the data never pass through the client); ``index_pairs`` a dask (or numpy) integer array
    of shape (n_pairs, 2) chunked along the first axis; ``y`` the labels.
    """
    if isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
        (X_delayed,) = X.rechunk({0: -1, 1: -1}).to_delayed().ravel()
    else:
        X_delayed = dask.delayed(np.asarray(X), pure=True)
    index_pairs = da.asarray(index_pairs)
    if index_pairs.ndim != 2 or index_pairs.shape[1] != 2:
        raise ValueError(f"index_pairs must have shape (n_pairs, 2), got {index_pairs.shape}")
    if index_pairs.shape[0] == 0:
        raise ValueError("index_pairs is empty: at least one pair is needed")
    index_pairs = index_pairs.rechunk({1: -1})
    y = _as_dask_labels(y, index_pairs.chunks[0])
    block = dask.delayed(_block_statistics_indices, pure=True)
    parts = [
        block(X_delayed, index, labels, n_threads)
        for index, labels in zip(index_pairs.to_delayed().ravel(), y.to_delayed().ravel())
    ]
    return _tree_merge(parts, split_every)
