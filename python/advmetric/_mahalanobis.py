"""What every advmetric estimator shares: a learned Mahalanobis metric and how it is used.

The method names and their meaning follow metric-learn, so that code written for metric-learn's
learners works unchanged: ``transform``, ``get_mahalanobis_matrix``, ``get_metric``,
``pair_distance`` and ``pair_score`` (:class:`MahalanobisMixin`); and for learners fitted on
pairs, the pair classifier methods ``decision_function``, ``predict``, ``score``,
``set_threshold`` and ``calibrate_threshold`` (:class:`PairsClassifierMixin`).
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.metrics import precision_recall_curve, roc_auc_score, roc_curve
from sklearn.utils import ClassifierTags
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import as_pair_labels, as_pairs, check_not_text

__all__ = ["MahalanobisDistance", "MahalanobisMixin", "PairsClassifierMixin"]


class MahalanobisDistance:
    """The learned distance ``sqrt((u - v)^T M (u - v))`` with ``M = L^T L``, as a callable.

    Returned by ``get_metric()``. It holds its own copy of ``L``, so refitting the estimator does
    not change it; it pickles, so it can be used wherever scikit-learn takes a metric callable,
    e.g. ``KNeighborsClassifier(metric=model.get_metric())``.

    Parameters
    ----------
    components : array-like of shape (n_components, n_features)
        The matrix ``L``.
    """

    def __init__(self, components):
        self.components = np.array(components, dtype=np.float64)

    def __call__(self, u, v, squared=False) -> float:
        """Distance between the points ``u`` and ``v`` (1-D, n_features each).

        Parameters
        ----------
        u, v : array-like of shape (n_features,)
        squared : bool, default False
            Return the squared distance ``(u - v)^T M (u - v)`` instead.

        Returns
        -------
        float
        """
        n_features = self.components.shape[1]
        u = np.asarray(u, dtype=np.float64)
        v = np.asarray(v, dtype=np.float64)
        if u.shape != (n_features,) or v.shape != (n_features,):
            raise ValueError(
                f"the metric takes two 1-D vectors of {n_features} features, "
                f"got shapes {u.shape} and {v.shape}"
            )
        projected = self.components @ (u - v)
        squared_distance = float(projected @ projected)
        return squared_distance if squared else float(np.sqrt(squared_distance))

    def __repr__(self) -> str:
        return f"MahalanobisDistance(n_features={self.components.shape[1]})"


def _row_norms(Z: np.ndarray) -> np.ndarray:
    """Euclidean norms of the rows of Z, scaled by each row's largest entry first: squaring
    overflows above about 1e154 and underflows below about 1e-162, while the norm itself is
    representable."""
    scale = np.abs(Z).max(axis=1, initial=0.0)
    safe = np.where(scale > 0, scale, 1.0)
    scaled = Z / safe[:, None]
    return scale * np.sqrt(np.einsum("ij,ij->i", scaled, scaled))


#: Values per block of pair differences in :meth:`MahalanobisMixin._distances`.
_DISTANCE_BLOCK_VALUES = 1 << 20


class MahalanobisMixin(ClassNamePrefixFeaturesOutMixin, TransformerMixin):
    """Methods of a fitted Mahalanobis metric ``M = L^T L`` with ``L = components_``.

    ``get_feature_names_out`` (from scikit-learn's ``ClassNamePrefixFeaturesOutMixin``) names the
    outputs of ``transform`` after the class, e.g. ``aml_supervised0``, ``aml_supervised1``, ...
    """

    @property
    def _n_features_out(self) -> int:
        """Output dimension of ``transform``; used by ``get_feature_names_out``."""
        return self.components_.shape[0]

    def transform(self, X) -> np.ndarray:
        """Map ``X`` to the space where the learned metric is Euclidean.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_components)
            ``X @ components_.T``, so that ``||L x - L x'||^2 = (x - x')^T M (x - x')``.
        """
        check_is_fitted(self, "components_")
        check_not_text(X, "X")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.components_.T

    def get_mahalanobis_matrix(self) -> np.ndarray:
        """The learned Mahalanobis matrix.

        Returns
        -------
        ndarray of shape (n_features, n_features)
            ``components_.T @ components_`` (a new array). With ``n_components`` set it is the
            rank-``n_components`` truncation of the learned M.
        """
        check_is_fitted(self, "components_")
        return self.components_.T @ self.components_

    def get_metric(self) -> MahalanobisDistance:
        """The learned distance as a function of two points.

        Returns
        -------
        MahalanobisDistance
            ``metric(u, v, squared=False)`` returns ``sqrt((u - v)^T M (u - v))`` for 1-D ``u``
            and ``v``; usable as ``KNeighborsClassifier(metric=...)``.
        """
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
        """The learned (non-squared) distance of every pair.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features)

        Returns
        -------
        ndarray of shape (n_pairs,)
            ``sqrt((x - x')^T M (x - x'))`` for every pair ``(x, x')``.
        """
        return self._distances(self._checked_pairs(pairs))

    def _distances(self, pairs: np.ndarray) -> np.ndarray:
        """:meth:`pair_distance` of checked pairs, block by block: the extra memory stays a block
        of differences however many pairs there are (a memory-mapped array larger than RAM)."""
        L = self.components_
        n, _, d = pairs.shape
        block = max(1, _DISTANCE_BLOCK_VALUES // max(d, L.shape[0]))
        out = np.empty(n)
        for start in range(0, n, block):
            chunk = pairs[start : start + block]
            with np.errstate(over="ignore"):
                differences = chunk[:, 0] - chunk[:, 1]
            if not np.isfinite(differences).all():
                raise ValueError(
                    "pair differences overflow float64 (values near 1e308); rescale the data"
                )
            out[start : start + block] = _row_norms(differences @ L.T)
        return out

    def pair_score(self, pairs) -> np.ndarray:
        """Similarity of every pair: the opposite of :meth:`pair_distance`.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features)

        Returns
        -------
        ndarray of shape (n_pairs,)
            ``-pair_distance(pairs)``: higher means more similar.
        """
        return -self.pair_distance(pairs)


STRATEGIES = ("accuracy", "f_beta", "max_tpr", "max_tnr")


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


CALIBRATION_KEYS = ("strategy", "min_rate", "beta")


def as_calibration_params(calibration_params) -> dict:
    """``fit``'s ``calibration_params`` as keyword arguments of ``calibrate_threshold``, checked."""
    if calibration_params is None:
        return {}
    if not isinstance(calibration_params, dict):
        raise TypeError(
            "calibration_params must be a dict of calibrate_threshold's arguments, got "
            f"{type(calibration_params).__name__}"
        )
    unknown = sorted(set(calibration_params) - set(CALIBRATION_KEYS), key=str)
    if unknown:
        raise TypeError(
            f"calibration_params has unknown keys {unknown}; its keys are strategy, min_rate "
            "and beta"
        )
    check_calibration_params(**calibration_params)
    return dict(calibration_params)


def check_calibration_params(strategy="accuracy", min_rate=None, beta=1.0) -> None:
    """Raise ``ValueError`` unless the arguments of ``calibrate_threshold`` are usable."""
    if not isinstance(strategy, str) or strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    if strategy in ("max_tpr", "max_tnr") and not (_is_real(min_rate) and 0 <= min_rate <= 1):
        raise ValueError(f"min_rate must be a number in [0, 1] for {strategy!r}, got {min_rate!r}")
    if strategy == "f_beta" and not (_is_real(beta) and 0 <= beta < np.inf):
        raise ValueError(f"beta must be a finite number >= 0 for 'f_beta', got {beta!r}")


class PairsClassifierMixin:
    """Classifies pairs as similar (+1) or dissimilar (-1) by thresholding the learned distance.

    As in metric-learn, ``threshold_`` is a distance: pairs with ``pair_distance <= threshold_``
    are predicted similar.
    """

    def decision_function(self, pairs) -> np.ndarray:
        """Confidence that each pair is similar: the opposite of the learned distance.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features)

        Returns
        -------
        ndarray of shape (n_pairs,)
            ``-pair_distance(pairs)``.
        """
        return self.pair_score(pairs)

    def predict(self, pairs) -> np.ndarray:
        """Classify pairs: +1 (similar) where the learned distance is at most ``threshold_``.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features)

        Returns
        -------
        ndarray of shape (n_pairs,)
            +1 or -1 for each pair.
        """
        check_is_fitted(self, "components_")
        if not hasattr(self, "threshold_"):
            raise NotFittedError(
                f"this {type(self).__name__} has a metric but no decision threshold (it was "
                "fitted with fit_statistics, which sees no pairs): call calibrate_threshold on "
                "labelled pairs or set_threshold before predict"
            )
        return np.where(self.pair_distance(pairs) <= self.threshold_, 1, -1)

    def score(self, pairs, y) -> float:
        """ROC-AUC of :meth:`decision_function` on labelled pairs (independent of the threshold).

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features)
        y : array-like of shape (n_pairs,)
            +1 (similar) or -1 (dissimilar); both must occur.

        Returns
        -------
        float
            Area under the ROC curve, in [0, 1].
        """
        pairs = self._checked_pairs(pairs)
        y = as_pair_labels(y, pairs.shape[0])
        return float(roc_auc_score(y, -self._distances(pairs)))

    def set_threshold(self, threshold):
        """Set the distance at or below which pairs are predicted similar.

        Parameters
        ----------
        threshold : float
            The new ``threshold_`` (a distance, so normally >= 0).

        Returns
        -------
        self
        """
        check_is_fitted(self, "components_")
        if not _is_real(threshold):
            raise TypeError(f"threshold must be a real number, got {type(threshold).__name__}")
        if not np.isfinite(threshold):
            raise ValueError(f"threshold must be finite, got {threshold}")
        self.threshold_ = float(threshold)
        return self

    def calibrate_threshold(self, pairs, y, strategy="accuracy", min_rate=None, beta=1.0):
        """Choose ``threshold_`` to maximise a criterion on labelled pairs.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features)
            Validation pairs.
        y : array-like of shape (n_pairs,)
            Their labels, +1 (similar) or -1 (dissimilar).
        strategy : {"accuracy", "f_beta", "max_tpr", "max_tnr"}, default "accuracy"
            "accuracy": the highest accuracy. "f_beta": the highest F-beta score of the similar
            class. "max_tpr": the highest true positive rate among thresholds whose true negative
            rate is at least ``min_rate`` (ties: the highest true negative rate). "max_tnr": the
            highest true negative rate among thresholds whose true positive rate is at least
            ``min_rate`` (ties: the highest true positive rate). Every strategy but "accuracy"
            needs both labels in ``y``.
        min_rate : float in [0, 1], optional
            Required for "max_tpr" and "max_tnr".
        beta : float >= 0, default 1.0
            Weight of recall in the F-beta score ("f_beta" only).

        Returns
        -------
        self

        Notes
        -----
        Ties between thresholds with the same criterion are broken towards accepting fewer pairs
        as similar; when rejecting every pair is best, ``threshold_`` is set just below the
        smallest distance.
        """
        check_calibration_params(strategy, min_rate, beta)
        pairs = self._checked_pairs(pairs)
        y = as_pair_labels(y, pairs.shape[0])
        self.threshold_ = calibrated_threshold(self._distances(pairs), y, strategy, min_rate, beta)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags(multi_class=False)
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.target_tags.required = True
        return tags


def calibrated_threshold(distance, y, strategy="accuracy", min_rate=None, beta=1.0) -> float:
    """The distance threshold chosen by ``strategy`` for pairs at ``distance`` with labels ``y``.

    Arguments as in :meth:`PairsClassifierMixin.calibrate_threshold`; ``y`` holds -1 and +1.
    """
    if strategy != "accuracy" and not (np.any(y == 1) and np.any(y == -1)):
        raise ValueError(
            f"strategy {strategy!r} needs both similar (+1) and dissimilar (-1) pairs in y"
        )
    if strategy == "accuracy":
        return _accuracy_threshold(distance, y)
    if strategy == "f_beta":
        return _f_beta_threshold(distance, y, beta)
    return _rate_threshold(distance, y, strategy, min_rate)


def _reject_all(distance: np.ndarray) -> float:
    """A threshold just below the smallest distance: every pair is predicted dissimilar."""
    return float(np.nextafter(distance.min(), -np.inf))


def _accuracy_threshold(distance: np.ndarray, y: np.ndarray) -> float:
    # Candidates: accept nothing, or accept every pair up to each distinct distance (ties are
    # accepted or rejected together).
    order = np.argsort(distance, kind="stable")
    d_sorted, y_sorted = distance[order], y[order]
    last_of_value = np.r_[d_sorted[1:] != d_sorted[:-1], True]
    accepted_similar = np.cumsum(y_sorted == 1)[last_of_value]
    accepted_dissimilar = np.cumsum(y_sorted == -1)[last_of_value]
    n_dissimilar = int(np.sum(y == -1))
    correct = accepted_similar + (n_dissimilar - accepted_dissimilar)
    if n_dissimilar >= correct.max():  # rejecting every pair is at least as good
        return _reject_all(distance)
    return float(d_sorted[last_of_value][np.argmax(correct)])


def _f_beta_threshold(distance: np.ndarray, y: np.ndarray, beta: float) -> float:
    # Thresholds on the score -distance, increasing; the last (precision 1, recall 0) point of the
    # curve has no threshold. Accepting no pair never maximises F-beta (its F-beta is 0).
    precision, recall, thresholds = precision_recall_curve(y, -distance, pos_label=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        f_beta = (1 + beta**2) * precision * recall / (beta**2 * precision + recall)
    f_beta = np.nan_to_num(f_beta[:-1], nan=0.0)
    # argmax takes the first maximum, i.e. the lowest score threshold: on ties, turn to the last
    # one, which accepts fewest pairs.
    best = len(f_beta) - 1 - np.argmax(f_beta[::-1])
    return float(-thresholds[best])


def _rate_threshold(distance: np.ndarray, y: np.ndarray, strategy: str, min_rate: float) -> float:
    # roc_curve's thresholds decrease along the curve; the first one (+inf) accepts nothing.
    fpr, tpr, thresholds = roc_curve(y, -distance, pos_label=1, drop_intermediate=False)
    tnr = 1 - fpr
    if strategy == "max_tpr":
        feasible = np.flatnonzero(tnr >= min_rate)  # never empty: the first point has tnr = 1
        target, other = tpr[feasible], tnr[feasible]
    else:
        feasible = np.flatnonzero(tpr >= min_rate)  # never empty: the last point has tpr = 1
        target, other = tnr[feasible], tpr[feasible]
    # lexicographic maximum of (target rate, other rate); the first of any remaining tie
    best = feasible[np.lexsort((-other, -target))[0]]
    if not np.isfinite(thresholds[best]):
        return _reject_all(distance)
    return float(-thresholds[best])
