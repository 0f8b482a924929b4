"""What every advmetric estimator shares: a learned Mahalanobis metric and how it is used.

The method names and their meaning follow metric-learn, so that code written for metric-learn's
learners works unchanged: ``transform``, ``get_mahalanobis_matrix``, ``get_metric``,
``pair_distance`` and ``pair_score`` (:class:`MahalanobisMixin`); and for learners fitted on
pairs, the pair classifier methods ``decision_function``, ``predict``, ``score``,
``set_threshold`` and ``calibrate_threshold`` (:class:`PairsClassifierMixin`).
"""

from __future__ import annotations

import numbers
import string
import warnings

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.metrics import precision_recall_curve, roc_auc_score, roc_curve
from sklearn.utils import ClassifierTags
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _inputs
from ._validation import as_pair_labels, check_not_text

__all__ = [
    "MahalanobisDistance",
    "MahalanobisMixin",
    "MahalanobisTransformerMixin",
    "PairsClassifierMixin",
]


#: Text shared by the docstrings of the methods that take pairs (``$pairs_parameter``).
_PAIRS_PARAMETER = """Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features) or (n_pairs, 2)
            Pairs of points, or with a ``preprocessor`` pairs of identifiers."""


def _documented(method):
    """Fill the ``$pairs_parameter`` line of a method's docstring (one text for every method)."""
    method.__doc__ = string.Template(method.__doc__).substitute(pairs_parameter=_PAIRS_PARAMETER)
    return method


#: Distances above this overflow float64 when squared.
_LARGEST_SQUARABLE = float(np.sqrt(np.finfo(np.float64).max))


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
        # a 1-D L is one row (metric-learn reads it so: a rank-one metric)
        self.components = np.atleast_2d(np.array(components, dtype=np.float64))

    def __call__(self, u, v, squared=False) -> float:
        """Distance between the points ``u`` and ``v`` (1-D, n_features each).

        Parameters
        ----------
        u, v : array-like of shape (n_features,)
            As scipy's distances take vectors: singleton axes are dropped, so a row of shape
            (1, n_features) (or a scalar when ``n_features`` is 1) works too.
        squared : bool, default False
            Return the squared distance ``(u - v)^T M (u - v)`` instead.

        Returns
        -------
        float
        """
        n_features = self.components.shape[1]
        u, v = _as_vector(u), _as_vector(v)
        if u.shape != (n_features,) or v.shape != (n_features,):
            raise ValueError(
                f"the metric takes two 1-D vectors of {n_features} features, "
                f"got shapes {u.shape} and {v.shape}"
            )
        with np.errstate(over="ignore"):
            difference = u - v
        if not np.isfinite(difference).all():
            raise ValueError("u - v overflows float64 (values near 1e308); rescale the data")
        distance = float(_inputs.row_norms((self.components @ difference)[None, :])[0])
        if not squared:
            return distance
        if distance > _LARGEST_SQUARABLE:
            raise ValueError(
                f"the squared distance ({distance:.3g} squared) overflows float64; use "
                "squared=False or rescale the data"
            )
        return distance * distance

    def __repr__(self) -> str:
        return f"MahalanobisDistance(n_features={self.components.shape[1]})"


def _as_vector(u) -> np.ndarray:
    """A point as a 1-D float64 vector, as scipy.spatial.distance reads one (metric-learn too)."""
    u = np.atleast_1d(np.asarray(u, dtype=np.float64).squeeze())
    if u.ndim > 1:
        raise ValueError(f"the metric takes 1-D vectors, got an array of shape {u.shape}")
    return u


class MahalanobisMixin(ClassNamePrefixFeaturesOutMixin):
    """Methods of a fitted Mahalanobis metric ``M = L^T L`` with ``L = components_``.

    ``get_feature_names_out`` (from scikit-learn's ``ClassNamePrefixFeaturesOutMixin``) names the
    outputs of ``transform`` after the class, e.g. ``aml_supervised0``, ``aml_supervised1``, ...

    With a ``preprocessor`` (resolved in ``fit`` as ``preprocessor_``), pairs may be given as
    identifiers of shape (n_pairs, 2) and points as a 1-D array of identifiers, as in
    metric-learn (:mod:`advmetric._inputs`).
    """

    def _check_preprocessor(self) -> None:
        """Resolve ``preprocessor`` into ``preprocessor_`` (metric-learn's method of that name)."""
        self.preprocessor_ = _inputs.check_preprocessor(getattr(self, "preprocessor", None))

    @property
    def _n_features_out(self) -> int:
        """Output dimension of ``transform``; used by ``get_feature_names_out``."""
        return self.components_.shape[0]

    def transform(self, X) -> np.ndarray:
        """Map ``X`` to the space where the learned metric is Euclidean.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples,)
            Points, or with a ``preprocessor`` a 1-D array of their identifiers.

        Returns
        -------
        ndarray of shape (n_samples, n_components)
            ``X @ components_.T``, so that ``||L x - L x'||^2 = (x - x')^T M (x - x')``.
        """
        check_is_fitted(self, "components_")
        X = _inputs.check_points(X, getattr(self, "preprocessor_", None), self)
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

    def _checked_pairs(self, pairs):
        """Validated pairs: an (n_pairs, 2, n_features) array, or for indices into an array
        preprocessor an :class:`~advmetric._inputs.IndexedPairs` (never formed)."""
        check_is_fitted(self, "components_")
        pairs = _inputs.check_pairs(pairs, getattr(self, "preprocessor_", None), self)
        if pairs.shape[2] != self.n_features_in_:
            raise ValueError(
                f"pairs have {pairs.shape[2]} features, but {type(self).__name__} was fitted "
                f"with {self.n_features_in_}"
            )
        return pairs

    @_documented
    def pair_distance(self, pairs) -> np.ndarray:
        """The learned (non-squared) distance of every pair.

        $pairs_parameter

        Returns
        -------
        ndarray of shape (n_pairs,)
            ``sqrt((x - x')^T M (x - x'))`` for every pair ``(x, x')``.
        """
        return self._distances(self._checked_pairs(pairs))  # checks that it is fitted, first

    def _distances(self, pairs) -> np.ndarray:
        """:meth:`pair_distance` of checked pairs (an array, or index pairs)."""
        return _inputs.pair_distances(self.components_, pairs)

    def score_pairs(self, pairs) -> np.ndarray:
        """Deprecated alias of :meth:`pair_distance` (metric-learn 0.7 deprecated it too).

        Issues a ``FutureWarning``; use :meth:`pair_distance` for distances or
        :meth:`pair_score` for similarities.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features) or (n_pairs, 2)

        Returns
        -------
        ndarray of shape (n_pairs,)
            The learned distances, as :meth:`pair_distance`.
        """
        warnings.warn(
            "score_pairs is deprecated (as in metric-learn 0.7) and will be removed: use "
            "pair_distance for distances or pair_score for similarity scores.",
            FutureWarning,
            stacklevel=2,
        )
        return self.pair_distance(pairs)

    @_documented
    def pair_score(self, pairs) -> np.ndarray:
        """Similarity of every pair: the opposite of :meth:`pair_distance`.

        $pairs_parameter

        Returns
        -------
        ndarray of shape (n_pairs,)
            ``-pair_distance(pairs)``: higher means more similar.
        """
        return -self.pair_distance(pairs)


class MahalanobisTransformerMixin(TransformerMixin, MahalanobisMixin):
    """:class:`MahalanobisMixin` as a scikit-learn transformer: ``fit_transform``, ``set_output``.

    For learners whose ``fit`` takes points (the supervised ones). The pair learners are not
    transformers (``fit`` takes pairs, ``transform`` points; metric-learn's have no
    ``fit_transform`` either).
    """

    def transform(self, X) -> np.ndarray:
        # defined here, in a TransformerMixin subclass, so that scikit-learn's set_output wraps it
        return MahalanobisMixin.transform(self, X)

    transform.__doc__ = MahalanobisMixin.transform.__doc__


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
    # only beta^2 enters F-beta, so a negative beta means the same as -beta (metric-learn too)
    if strategy == "f_beta" and not (_is_real(beta) and np.isfinite(beta)):
        raise ValueError(f"beta must be a finite number for 'f_beta', got {beta!r}")


class PairsClassifierMixin:
    """Classifies pairs as similar (+1) or dissimilar (-1) by thresholding the learned distance.

    As in metric-learn, ``threshold_`` is a distance: pairs with ``pair_distance <= threshold_``
    are predicted similar.
    """

    # metric-learn's names, for code written against its base classes
    _tuple_size = 2
    _validate_calibration_params = staticmethod(check_calibration_params)

    @_documented
    def decision_function(self, pairs) -> np.ndarray:
        """Confidence that each pair is similar: the opposite of the learned distance.

        $pairs_parameter

        Returns
        -------
        ndarray of shape (n_pairs,)
            ``-pair_distance(pairs)``.
        """
        return self.pair_score(pairs)

    @_documented
    def predict(self, pairs) -> np.ndarray:
        """Classify pairs: +1 (similar) where the learned distance is at most ``threshold_``.

        $pairs_parameter

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
        distance = self._distances(self._checked_pairs(pairs))
        return np.where(distance <= self.threshold_, 1, -1)

    @_documented
    def score(self, pairs, y) -> float:
        """ROC-AUC of :meth:`decision_function` on labelled pairs (independent of the threshold).

        $pairs_parameter
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

        Raises
        ------
        ValueError
            If ``threshold`` is not a finite real number (as in metric-learn, a non-number is a
            ``ValueError``; unlike metric-learn, strings, booleans and infinities are refused).
        """
        check_is_fitted(self, "components_")
        if not _is_real(threshold):
            raise ValueError(f"threshold must be a real number, got {type(threshold).__name__}")
        if not np.isfinite(threshold):
            raise ValueError(f"threshold must be finite, got {threshold}")
        self.threshold_ = float(threshold)
        return self

    def calibrate_threshold(self, pairs, y, strategy="accuracy", min_rate=None, beta=1.0):
        """Choose ``threshold_`` to maximise a criterion on labelled pairs.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features) or (n_pairs, 2)
            Validation pairs of points, or with a ``preprocessor`` pairs of identifiers.
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
        beta : float, default 1.0
            Weight of recall in the F-beta score ("f_beta" only); only ``beta**2`` matters, so a
            negative value means the same as its absolute value (as in metric-learn).

        Returns
        -------
        self

        Notes
        -----
        Ties between thresholds with the same criterion: "accuracy" accepts fewer pairs as
        similar, "f_beta" more (the higher recall, as metric-learn), "max_tpr" / "max_tnr" take
        the highest other rate. When rejecting every pair is best, ``threshold_`` is set just
        below the smallest distance. metric-learn differs in two tie cases: its "accuracy"
        counts a group of equal distances as if it could be split (so its threshold can be less
        accurate than it computes), and its "max_tnr" takes the lowest true positive rate among
        ties.
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
    # On ties, the first maximum: the lowest score threshold, i.e. the highest recall among
    # equally good thresholds (metric-learn's choice too; F-0 is the precision, which is often
    # tied, and then the threshold keeps the most similar pairs).
    return float(-thresholds[np.argmax(f_beta)])


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
