"""What every advmetric estimator shares: a learned Mahalanobis metric and how it is used.

The method names and their meaning follow metric-learn, so that code written for metric-learn's
learners works unchanged: ``transform``, ``get_mahalanobis_matrix``, ``get_metric``,
``pair_distance`` and ``pair_score``; and for learners fitted on pairs, the pair classifier
methods ``decision_function``, ``predict``, ``score``, ``set_threshold`` and
``calibrate_threshold``.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import TransformerMixin
from sklearn.metrics import precision_recall_curve, roc_auc_score, roc_curve
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import as_pair_labels, as_pairs

__all__ = ["MahalanobisMixin", "PairsClassifierMixin"]


class MahalanobisDistance:
    """The learned distance ``sqrt((u - v)^T M (u - v))`` as a picklable callable.

    Usable wherever scikit-learn takes a metric callable, e.g.
    ``KNeighborsClassifier(metric=model.get_metric())``.
    """

    def __init__(self, components: np.ndarray):
        self.components = np.array(components, dtype=np.float64)

    def __call__(self, u, v) -> float:
        diff = np.asarray(u, dtype=np.float64) - np.asarray(v, dtype=np.float64)
        if diff.shape != (self.components.shape[1],):
            raise ValueError(
                f"the metric takes two vectors of {self.components.shape[1]} features, "
                f"got shape {np.shape(u)} and {np.shape(v)}"
            )
        projected = self.components @ diff
        return float(np.sqrt(projected @ projected))


class MahalanobisMixin(TransformerMixin):
    """Methods of a fitted Mahalanobis metric ``M = L^T L`` with ``L = components_``."""

    def transform(self, X) -> np.ndarray:
        """Map ``X`` to the space where the learned metric is Euclidean: ``X @ components_.T``."""
        check_is_fitted(self, "components_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.components_.T

    def get_mahalanobis_matrix(self) -> np.ndarray:
        """The learned matrix ``M = components_.T @ components_`` (n_features x n_features)."""
        check_is_fitted(self, "components_")
        return self.components_.T @ self.components_

    def get_metric(self) -> MahalanobisDistance:
        """A function ``metric(u, v)`` returning the learned (non-squared) distance."""
        check_is_fitted(self, "components_")
        return MahalanobisDistance(self.components_)

    def _checked_pairs(self, pairs) -> np.ndarray:
        check_is_fitted(self, "components_")
        pairs = as_pairs(pairs)
        if pairs.shape[2] != self.n_features_in_:
            raise ValueError(
                f"pairs have {pairs.shape[2]} features, but {type(self).__name__} was fitted "
                f"with {self.n_features_in_}"
            )
        return pairs

    def pair_distance(self, pairs) -> np.ndarray:
        """Learned distance ``sqrt((x - x')^T M (x - x'))`` of every pair (n_pairs, 2, d)."""
        pairs = self._checked_pairs(pairs)
        projected = (pairs[:, 0] - pairs[:, 1]) @ self.components_.T
        return np.sqrt(np.einsum("ij,ij->i", projected, projected))

    def pair_score(self, pairs) -> np.ndarray:
        """Similarity of every pair: minus :meth:`pair_distance` (higher = more similar)."""
        return -self.pair_distance(pairs)


_STRATEGIES = ("accuracy", "f_beta", "max_tpr", "max_tnr")


class PairsClassifierMixin:
    """Classifies pairs as similar (+1) or dissimilar (-1) by thresholding the learned distance."""

    # Pairs are labelled -1 (dissimilar) or +1 (similar).
    classes_ = np.array([-1, 1])

    def decision_function(self, pairs) -> np.ndarray:
        """The opposite of the learned distance: high for similar pairs, low for dissimilar ones."""
        return self.pair_score(pairs)

    def predict(self, pairs) -> np.ndarray:
        """+1 where the learned distance is at most ``threshold_``, -1 elsewhere."""
        check_is_fitted(self, "threshold_")
        return np.where(self.pair_distance(pairs) <= self.threshold_, 1, -1)

    def score(self, pairs, y) -> float:
        """ROC-AUC of :meth:`decision_function` against the pair labels ``y``."""
        pairs = self._checked_pairs(pairs)
        y = as_pair_labels(y, pairs.shape[0])
        return float(roc_auc_score(y, self.decision_function(pairs)))

    def set_threshold(self, threshold):
        """Set the distance below which (inclusive) pairs are predicted similar; returns self."""
        check_is_fitted(self, "components_")
        if isinstance(threshold, (bool, np.bool_)) or not isinstance(threshold, numbers.Real):
            raise TypeError(f"threshold must be a real number, got {type(threshold).__name__}")
        if not np.isfinite(threshold):
            raise ValueError(f"threshold must be finite, got {threshold}")
        self.threshold_ = float(threshold)
        return self

    def calibrate_threshold(self, pairs, y, strategy="accuracy", min_rate=None, beta=1.0):
        """Choose ``threshold_`` to maximise a criterion on labelled pairs; returns self.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features)
        y : array-like of shape (n_pairs,), labels in {-1, +1}
        strategy : {"accuracy", "f_beta", "max_tpr", "max_tnr"}
            "accuracy": the highest accuracy. "f_beta": the highest F-beta score of the similar
            class. "max_tpr": the highest true positive rate with a true negative rate of at
            least ``min_rate``. "max_tnr": the highest true negative rate with a true positive
            rate of at least ``min_rate``.
        min_rate : float in [0, 1], required for "max_tpr" and "max_tnr".
        beta : float > 0, the F-beta weight for "f_beta".
        """
        if strategy not in _STRATEGIES:
            raise ValueError(f"strategy must be one of {_STRATEGIES}, got {strategy!r}")
        if strategy in ("max_tpr", "max_tnr"):
            if (
                isinstance(min_rate, (bool, np.bool_))
                or not isinstance(min_rate, numbers.Real)
                or not 0 <= min_rate <= 1
            ):
                raise ValueError(f"min_rate must be a number in [0, 1] for {strategy!r}")
        if strategy == "f_beta" and (
            isinstance(beta, (bool, np.bool_)) or not isinstance(beta, numbers.Real) or beta <= 0
        ):
            raise ValueError(f"beta must be a positive number, got {beta!r}")
        pairs = self._checked_pairs(pairs)
        y = as_pair_labels(y, pairs.shape[0])
        distance = self.pair_distance(pairs)
        if strategy == "accuracy":
            self.threshold_ = _accuracy_threshold(distance, y)
        elif strategy == "f_beta":
            self.threshold_ = _f_beta_threshold(distance, y, beta)
        else:
            self.threshold_ = _rate_threshold(distance, y, strategy, min_rate)
        return self


def _below(distance: np.ndarray, value: float) -> float:
    """The largest distance strictly below ``value`` (or just below the smallest distance)."""
    smaller = distance[distance < value]
    if smaller.size:
        return float(smaller.max())
    return float(np.nextafter(distance.min(), -np.inf))


def _accuracy_threshold(distance: np.ndarray, y: np.ndarray) -> float:
    # Candidate thresholds: accept nothing, or accept every pair up to each distinct distance.
    order = np.argsort(distance, kind="stable")
    d_sorted, y_sorted = distance[order], y[order]
    last_of_value = np.r_[d_sorted[1:] != d_sorted[:-1], True]
    accepted_similar = np.cumsum(y_sorted == 1)[last_of_value]
    accepted_dissimilar = np.cumsum(y_sorted == -1)[last_of_value]
    n_dissimilar = int((y == -1).sum())
    correct = accepted_similar + (n_dissimilar - accepted_dissimilar)
    candidates = d_sorted[last_of_value]
    if n_dissimilar >= correct.max():  # rejecting every pair is at least as good
        return _below(distance, distance.min())
    return float(candidates[np.argmax(correct)])


def _f_beta_threshold(distance: np.ndarray, y: np.ndarray, beta: float) -> float:
    precision, recall, thresholds = precision_recall_curve(y, -distance, pos_label=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        f_beta = (1 + beta**2) * precision * recall / (beta**2 * precision + recall)
    f_beta = np.nan_to_num(f_beta[:-1], nan=0.0)  # the last point has no threshold
    return float(-thresholds[np.argmax(f_beta)])


def _rate_threshold(distance: np.ndarray, y: np.ndarray, strategy: str, min_rate: float) -> float:
    fpr, tpr, thresholds = roc_curve(y, -distance, pos_label=1, drop_intermediate=False)
    if strategy == "max_tpr":
        feasible = np.flatnonzero(1 - fpr >= min_rate)
        best = feasible[np.argmax(tpr[feasible])]
    else:
        feasible = np.flatnonzero(tpr >= min_rate)
        best = feasible[np.argmax(1 - fpr[feasible])]
    if not np.isfinite(thresholds[best]):  # roc_curve's "accept nothing" point
        return _below(distance, distance.min())
    return float(-thresholds[best])
