"""Pairs sampled from class labels: the constraints of :class:`~advmetric.AML_Supervised`.

A similar pair joins two different examples of the same class, a dissimilar pair two examples of
different classes. :func:`sample_pairs` returns them as row indices into ``X``; the supervised
estimators draw the same pairs in chunks and form the scatter matrices from the indices in the
compiled core, so no ``(n_pairs, 2, n_features)`` array is ever built.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets

from ._validation import check_int

__all__ = [
    "MAX_CONSTRAINTS",
    "MAX_DEFAULT_CONSTRAINTS",
    "default_n_constraints",
    "sample_pairs",
]

#: Upper bound of the default number of pairs of each kind, ``500 c (c - 1)`` for c classes (it
#: applies from c = 33 on), so that the default sampling stays a fraction of a second.
MAX_DEFAULT_CONSTRAINTS = 500_000

#: Largest ``n_constraints`` (pairs of each kind) accepted. Pairs are drawn and reduced in chunks,
#: so memory is not the limit; a billion pairs already take minutes, and more would only refine the
#: statistics further. For larger problems accumulate
#: :class:`~advmetric.statistics.PairStatistics` yourself.
MAX_CONSTRAINTS = 500_000_000

#: Pairs drawn per chunk: bounds the memory of sampling (17 bytes per pair) whatever the total.
CHUNK_SIZE = 1 << 20


def default_n_constraints(n_classes: int) -> int:
    """The default number of pairs *of each kind* for ``c`` classes: ``500 c (c - 1)``.

    The paper samples ``1000 c (c - 1)`` pairs, half similar and half dissimilar; as in
    metric-learn, ``n_constraints`` counts the pairs of each kind, so the same rule reads
    ``500 c (c - 1)`` similar and as many dissimilar pairs. At most
    ``MAX_DEFAULT_CONSTRAINTS`` (500,000) of each.

    Parameters
    ----------
    n_classes : int
        Number of classes (at least 2).

    Returns
    -------
    int
        The default number of similar pairs, which is also the number of dissimilar pairs.
    """
    n_classes = check_int(n_classes, "n_classes", low=2)
    return min(500 * n_classes * (n_classes - 1), MAX_DEFAULT_CONSTRAINTS)


def check_n_constraints(n_constraints, n_classes: int) -> int:
    """``n_constraints`` (pairs of each kind) validated, or the default when it is None."""
    if n_constraints is None:
        return default_n_constraints(n_classes)
    n_constraints = check_int(n_constraints, "n_constraints", low=1)
    if n_constraints > MAX_CONSTRAINTS:
        raise ValueError(
            f"n_constraints (pairs of each kind) must be at most {MAX_CONSTRAINTS:,}, got "
            f"{n_constraints:,}; for more pairs, accumulate advmetric.PairStatistics chunk by "
            "chunk and use fit_statistics"
        )
    return n_constraints


def encode_classes(y) -> tuple[np.ndarray, int]:
    """Class labels as codes 0..c-1 (int64), checked so that both kinds of pair can be drawn.

    Raises
    ------
    ValueError
        If ``y`` is not a 1-D array of class labels (continuous or multi-output targets), has a
        single class (no dissimilar pair exists) or only singleton classes (no similar pair).
    """
    y = np.asarray(y)
    if np.iscomplexobj(y):
        raise TypeError(f"y must hold class labels, got complex dtype {y.dtype}")
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of class labels, got shape {y.shape}")
    if y.shape[0] == 0:
        raise ValueError("y is empty")
    check_classification_targets(y)
    classes, codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"at least 2 classes are needed to sample dissimilar pairs; y has only the class "
            f"{classes[0]!r}"
        )
    if np.bincount(codes).max() < 2:
        raise ValueError(
            "a class with at least 2 examples is needed to sample similar pairs; every class "
            "in y has a single example"
        )
    return codes.astype(np.int64, copy=False), len(classes)


class _ClassIndex:
    """Examples grouped by class, for drawing partners in O(1) per pair."""

    def __init__(self, codes: np.ndarray):
        self.codes = codes
        self.n = codes.shape[0]
        self.counts = np.bincount(codes)
        # order lists the examples class by class; class c occupies order[starts[c]:ends[c]]
        self.order = np.argsort(codes, kind="stable")
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])
        self.position = np.empty(self.n, dtype=np.int64)  # rank of each example in its class
        self.position[self.order] = np.arange(self.n) - self.starts[codes[self.order]]
        self.in_pairable_class = np.flatnonzero(self.counts[codes] >= 2)

    def similar(self, rng: np.random.RandomState, size: int) -> np.ndarray:
        """i uniform among examples of classes with >= 2 members, j uniform among its classmates."""
        i = self.in_pairable_class[rng.randint(len(self.in_pairable_class), size=size)]
        c = self.codes[i]
        r = rng.randint(0, self.counts[c] - 1)  # rank among the other members of the class
        r += r >= self.position[i]  # skip i itself
        return np.stack([i, self.order[self.starts[c] + r]], axis=1)

    def dissimilar(self, rng: np.random.RandomState, size: int) -> np.ndarray:
        """i uniform among all examples, j uniform among the examples of the other classes."""
        i = rng.randint(self.n, size=size)
        c = self.codes[i]
        r = rng.randint(0, self.n - self.counts[c])  # rank in order with class c left out
        r += np.where(r >= self.starts[c], self.counts[c], 0)
        return np.stack([i, self.order[r]], axis=1)


def iter_pair_chunks(
    codes: np.ndarray, n_constraints: int, random_state, chunk_size: int = CHUNK_SIZE
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(index_pairs, labels)`` chunks: ``n_constraints`` similar pairs, then
    ``n_constraints`` dissimilar ones. ``codes`` must come from :func:`encode_classes`;
    ``random_state`` is passed through :func:`sklearn.utils.check_random_state`.
    """
    rng = check_random_state(random_state)
    classes = _ClassIndex(codes)
    for label, total, draw in (
        (1, n_constraints, classes.similar),
        (-1, n_constraints, classes.dissimilar),
    ):
        for begin in range(0, total, chunk_size):
            size = min(chunk_size, total - begin)
            yield draw(rng, size), np.full(size, label, dtype=np.int8)


def sample_pairs(y, n_constraints=None, *, random_state=None) -> tuple[np.ndarray, np.ndarray]:
    """Sample similar and dissimilar pairs of examples from their class labels.

    These are exactly the pairs that :class:`~advmetric.AML_Supervised` and
    :class:`~advmetric.GMML_Supervised` learn from, given the same labels, ``n_constraints`` and
    ``random_state``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels. At least 2 classes, and a class with at least 2 examples.
    n_constraints : int, optional
        Number of pairs *of each kind* (>= 1), as in metric-learn: ``n_constraints`` similar
        and ``n_constraints`` dissimilar pairs. Default ``500 c (c - 1)`` for c classes (the
        paper's ``1000 c (c - 1)`` pairs in all), at most ``MAX_DEFAULT_CONSTRAINTS`` = 500,000.
        At most ``MAX_CONSTRAINTS`` = 5 x 10^8.
    random_state : int, RandomState instance or None
        Seeds the sampling (see :func:`sklearn.utils.check_random_state`).

    Returns
    -------
    index_pairs : ndarray of shape (2 * n_constraints, 2), int64
        Row indices ``(i, j)`` into ``X``, ``i != j``; similar pairs first.
    labels : ndarray of shape (2 * n_constraints,), int8
        +1 for a similar pair, -1 for a dissimilar one.

    Notes
    -----
    Pairs are drawn independently, with replacement (a pair can occur more than once, in either
    order); metric-learn's ``Constraints`` draws distinct pairs instead, and returns fewer with a
    warning when there are not enough. Similar: ``i`` uniformly among the examples whose class has
    at least 2 members, then ``j`` uniformly among the other members of that class; singleton
    classes take part in dissimilar pairs only. Dissimilar: ``i`` uniformly among all examples, then
    ``j`` uniformly among the examples of the other classes.
    """
    codes, n_classes = encode_classes(y)
    n_constraints = check_n_constraints(n_constraints, n_classes)
    chunks = list(iter_pair_chunks(codes, n_constraints, random_state))
    index_pairs = np.concatenate([index for index, _ in chunks])
    labels = np.concatenate([labels for _, labels in chunks])
    return index_pairs, labels
