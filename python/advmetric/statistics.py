"""Mergeable pair statistics: everything AML and GMML need from the data.

The objective depends on the pairs only through the scatter matrices
``A = sum_{y=+1} (x - x')(x - x')^T`` and ``B = sum_{y=-1} (x - x')(x - x')^T``. Both are sums
over pairs, so they can be accumulated chunk by chunk (pairs streamed from disk, a memory-mapped
file, a data loader) and partial results from different workers can be added. After that, fitting
costs O(d^3) per iteration whatever the number of pairs.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _backend
from ._validation import (
    as_float_array,
    as_pair_labels,
    as_pairs,
    as_square,
    check_n_threads,
    check_scatter_finite,
)

__all__ = ["PairStatistics"]


def _as_index_pairs(index_pairs, n_rows: int) -> np.ndarray:
    array = np.asarray(index_pairs)
    if array.dtype == object or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"index_pairs must hold integer row indices, got dtype {array.dtype}")
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"index_pairs must have shape (n_pairs, 2), got {array.shape}")
    if array.shape[0] == 0:
        raise ValueError("index_pairs is empty: at least one pair is needed")
    if array.min() < 0 or array.max() >= n_rows:
        raise ValueError(f"index_pairs must index rows of X (0 <= index < {n_rows})")
    return np.require(array, dtype=np.int64, requirements=["C_CONTIGUOUS", "ALIGNED"])


def _check_count(value, name: str, low: int = 0) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


class PairStatistics:
    """Scatter matrices and counts of similar (+1) and dissimilar (-1) pairs.

    Parameters
    ----------
    n_features : int
        Dimension of the examples.
    A, B : array-like of shape (n_features, n_features), optional
        Existing scatter matrices of the similar and dissimilar pairs (default zero).
    n_similar, n_dissimilar : int, optional
        The numbers of pairs behind ``A`` and ``B``.

    Notes
    -----
    ``update`` and ``update_indices`` add chunks of pairs in place; ``merge`` (or ``+``) combines
    statistics gathered separately, e.g. by different processes. Objects pickle, so they can be
    returned from workers. Sums are accumulated in float64; the result of a sequence of updates
    does not depend on how the pairs were chunked beyond floating-point rounding.
    """

    def __init__(self, n_features, *, A=None, B=None, n_similar=0, n_dissimilar=0):
        n_features = _check_count(n_features, "n_features", low=1)
        self._A = self._initial_matrix(A, "A", n_features)
        self._B = self._initial_matrix(B, "B", n_features)
        self._n_similar = _check_count(n_similar, "n_similar")
        self._n_dissimilar = _check_count(n_dissimilar, "n_dissimilar")
        for matrix, count, name, count_name in (
            (self._A, self._n_similar, "A", "n_similar"),
            (self._B, self._n_dissimilar, "B", "n_dissimilar"),
        ):
            if count == 0 and matrix.any():
                raise ValueError(
                    f"{name} is non-zero but {count_name} is 0: pass the number of pairs "
                    f"behind {name}"
                )

    @staticmethod
    def _initial_matrix(value, name: str, n_features: int) -> np.ndarray:
        if value is None:
            return np.zeros((n_features, n_features))
        matrix = as_square(value, name, n_features).copy()
        if np.linalg.eigvalsh(matrix)[0] < -1e-10 * max(np.abs(matrix).max(), 1e-300):
            raise ValueError(f"{name} must be positive semidefinite (a sum of outer products)")
        return matrix

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_pairs(cls, pairs, y, *, n_threads=None, verbose=False) -> PairStatistics:
        """Statistics of ``pairs`` (n_pairs, 2, n_features) with labels ``y`` in {-1, +1}."""
        pairs = as_pairs(pairs)
        labels = as_pair_labels(y, pairs.shape[0])
        statistics = cls(pairs.shape[2])
        statistics._add(
            *_backend.scatter_pairs(pairs, labels, check_n_threads(n_threads), bool(verbose))
        )
        return statistics

    @classmethod
    def from_indices(cls, X, index_pairs, y, *, n_threads=None, verbose=False) -> PairStatistics:
        """Statistics of the pairs ``(X[i], X[j])`` for the rows ``(i, j)`` of ``index_pairs``."""
        X = as_float_array(X, "X")
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D array (n_samples, n_features), got shape {X.shape}")
        return cls(X.shape[1]).update_indices(
            X, index_pairs, y, n_threads=n_threads, verbose=verbose
        )

    # -- accumulation ---------------------------------------------------------------------------
    def update(self, pairs, y, *, n_threads=None, verbose=False) -> PairStatistics:
        """Add a chunk of pairs (n_pairs, 2, n_features) with labels in {-1, +1}; returns self.

        The pairs go to the compiled core block by block; with ``verbose`` each block is reported
        (a progress bar when tqdm is installed).
        """
        pairs = as_pairs(pairs)
        self._check_features(pairs.shape[2], "pairs")
        labels = as_pair_labels(y, pairs.shape[0])
        self._add(*_backend.scatter_pairs(pairs, labels, check_n_threads(n_threads), bool(verbose)))
        return self

    def update_indices(self, X, index_pairs, y, *, n_threads=None, verbose=False) -> PairStatistics:
        """Add the pairs ``(X[i], X[j])`` for the rows ``(i, j)`` of ``index_pairs``; returns self.

        The differences are formed in the compiled core straight from ``X``: no
        (n_pairs, 2, n_features) array is built.
        """
        X = as_float_array(X, "X")
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D array (n_samples, n_features), got shape {X.shape}")
        self._check_features(X.shape[1], "X")
        index = _as_index_pairs(index_pairs, X.shape[0])
        labels = as_pair_labels(y, index.shape[0])
        self._add(
            *_backend.scatter_indices(X, index, labels, check_n_threads(n_threads), bool(verbose))
        )
        return self

    def merge(self, other: PairStatistics) -> PairStatistics:
        """New statistics holding the pairs of both ``self`` and ``other``."""
        if not isinstance(other, PairStatistics):
            raise TypeError(f"can only merge PairStatistics, got {type(other).__name__}")
        self._check_features(other.n_features, "other")
        merged = self.copy()
        merged._add(other._A, other._B, other._n_similar, other._n_dissimilar)
        return merged

    def __add__(self, other):
        if not isinstance(other, PairStatistics):
            return NotImplemented
        return self.merge(other)

    def __iadd__(self, other):
        if not isinstance(other, PairStatistics):
            return NotImplemented
        self._check_features(other.n_features, "other")
        self._add(other._A, other._B, other._n_similar, other._n_dissimilar)
        return self

    def copy(self) -> PairStatistics:
        return PairStatistics(
            self.n_features,
            A=self._A,
            B=self._B,
            n_similar=self._n_similar,
            n_dissimilar=self._n_dissimilar,
        )

    def _add(self, A, B, n_similar, n_dissimilar) -> None:
        check_scatter_finite(self._A + A, self._B + B)
        self._A += A
        self._B += B
        self._n_similar += int(n_similar)
        self._n_dissimilar += int(n_dissimilar)

    def _check_features(self, n_features: int, name: str) -> None:
        if n_features != self.n_features:
            raise ValueError(
                f"{name} has {n_features} features, these statistics have {self.n_features}"
            )

    # -- read-only views ------------------------------------------------------------------------
    @property
    def A(self) -> np.ndarray:
        """Scatter matrix of the similar pairs (read-only view)."""
        view = self._A.view()
        view.flags.writeable = False
        return view

    @property
    def B(self) -> np.ndarray:
        """Scatter matrix of the dissimilar pairs (read-only view)."""
        view = self._B.view()
        view.flags.writeable = False
        return view

    @property
    def n_features(self) -> int:
        return self._A.shape[0]

    @property
    def n_similar(self) -> int:
        return self._n_similar

    @property
    def n_dissimilar(self) -> int:
        return self._n_dissimilar

    @property
    def n_pairs(self) -> int:
        return self._n_similar + self._n_dissimilar

    def __repr__(self) -> str:
        return (
            f"PairStatistics(n_features={self.n_features}, n_similar={self._n_similar}, "
            f"n_dissimilar={self._n_dissimilar})"
        )
