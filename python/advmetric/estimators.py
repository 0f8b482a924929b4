"""scikit-learn estimators: AML and GMML, from labelled pairs or from class labels.

* :class:`AML` and :class:`GMML` learn from pairs ``(n_pairs, 2, n_features)`` labelled +1
  (similar) or -1 (dissimilar), and classify pairs afterwards (metric-learn's pair learners).
* :class:`AML_Supervised` and :class:`GMML_Supervised` learn from examples with class labels,
  sampling similar pairs within classes and dissimilar pairs across them
  (:mod:`advmetric.constraints`).

All four are transformers (``transform`` maps to the space where the learned metric is
Euclidean) with metric-learn's Mahalanobis methods (:mod:`advmetric._mahalanobis`).
"""

from __future__ import annotations

import string
import sys
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import validate_data

from . import _backend, _inputs, aml
from ._mahalanobis import (
    MahalanobisMixin,
    MahalanobisTransformerMixin,
    PairsClassifierMixin,
    as_calibration_params,
    calibrated_threshold,
)
from ._progress import dask_progress
from ._result import solve_from
from ._validation import (
    as_pair_labels,
    check_beta,
    check_int,
    check_n_threads,
    check_not_text,
    check_real,
    check_scatter_finite,
    max_abs,
)
from .constraints import check_n_constraints, encode_classes, iter_pair_chunks
from .statistics import PairStatistics

__all__ = ["AML", "GMML", "AML_Supervised", "GMML_Supervised"]


#: Parameter descriptions shared by several estimators' docstrings (numpydoc text, substituted
#: for ``$name`` by :func:`_shared_parameter_docs`), so that each is written once.
_PARAMETER_DOCS = {
    "alpha": """\
    alpha : float >= 0, default 1.0
        Weight of the loss on the adversarial pairs (Eq. 11); alpha = 0 gives GMML.""",
    "beta": """\
    beta : float > 0, default 0.8
        Weight of the distance between the adversarial pairs and the originals in the confusion
        objective (Eq. 3): the larger beta, the closer the adversarial pairs stay.""",
    "max_iter": """\
    max_iter : int >= 1, default 1000
        Iteration limit; a ``ConvergenceWarning`` is issued when it stops the solver.""",
    "tol": """\
    tol : float > 0, default 1e-8
        Stop when the relative gradient norm ``||M^{1/2} grad D(M) M^{1/2}||_F / D(M)`` is at
        most ``tol``.""",
    "n_jobs": """\
    n_jobs : int, optional
        Threads for the pass over the pairs and for BLAS; None or -1: all available.""",
    "pairs_preprocessor": """\
    preprocessor : array-like of shape (n_samples, n_features), callable or None, default None
        As in metric-learn: with an array ``X``, pairs may be given as row indices
        (n_pairs, 2) into ``X`` and points as a 1-D array of row indices; with a callable, as
        identifiers that it turns into points (it is called once per column of identifiers and
        must return one row per identifier). Resolved by ``fit`` into ``preprocessor_``.
        Indices into an array are read through the indices: no (n_pairs, 2, n_features)
        array is formed.""",
    "points_preprocessor": """\
    preprocessor : array-like of shape (n_samples, n_features), callable or None, default None
        As in metric-learn: with an array or a callable, ``fit`` and ``transform`` also take a
        1-D array of identifiers (row indices into the array, or what the callable turns into
        points). Resolved by ``fit`` into ``preprocessor_``.""",
    "n_components": """\
    n_components : int, optional
        Number of rows of ``components_``: the learned M is truncated to its ``n_components``
        largest eigenvalues. All features by default.""",
}


def _shared_parameter_docs(cls):
    """Class decorator: fill the ``$name`` lines of the docstring from ``_PARAMETER_DOCS``."""
    texts = {
        name: text.lstrip() for name, text in _PARAMETER_DOCS.items()
    }  # the line has the indent
    cls.__doc__ = string.Template(cls.__doc__).substitute(texts)
    return cls


def set_parameters(estimator, arguments: dict) -> None:
    """Store ``__init__``'s arguments (its ``locals()``) untouched, each under its own name, as
    scikit-learn's ``get_params`` reads them."""
    for name, value in arguments.items():
        if name != "self":
            setattr(estimator, name, value)


def _is_dask_collection(value) -> bool:
    return type(value).__module__.split(".")[0] == "dask"


def _user_stacklevel() -> int:
    """``stacklevel`` for a warning issued by this function's caller that points at the first
    frame outside advmetric (the user's ``fit`` call, or scikit-learn's in a pipeline)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("advmetric."):
        frame, level = frame.f_back, level + 1
    return level


def _components_from_matrix(M: np.ndarray, n_components, n_threads: int = 0) -> np.ndarray:
    """L with rows ``sqrt(w_i) v_i^T`` for the largest eigenpairs of M (all by default).

    Rows are ordered by decreasing eigenvalue, so ``L^T L`` is the best rank-``n_components``
    approximation of M.
    """
    w, V = _backend.symmetric_eigh(M, n_threads)
    order = np.argsort(w)[::-1]
    if n_components is not None:
        order = order[:n_components]
    return np.sqrt(np.maximum(w[order], 0.0))[:, None] * V[:, order].T


#: Magnitudes outside [2^-SAFE_EXPONENT, 2^SAFE_EXPONENT] are brought back into that range by a
#: power of two (an exact scaling): squared pair differences of data near 1e-160 underflow float64
#: and sums of them near 1e+160 overflow it. The learned M does not change, since D(M) is linear
#: in the scatter matrices A and B, so scaling both scales D and keeps its minimiser.
SAFE_EXPONENT = 200


def _power_of_two_scale(magnitude: float) -> float:
    """The power of two that brings ``magnitude`` near 1, or 1 where it is safe already."""
    if magnitude == 0 or 2.0**-SAFE_EXPONENT <= magnitude <= 2.0**SAFE_EXPONENT:
        return 1.0
    # capped so that subnormal magnitudes get the largest finite power of two, not inf
    return float(np.ldexp(1.0, min(-int(np.frexp(magnitude)[1]), 1023)))


class _MetricLearner(MahalanobisMixin, BaseEstimator):
    """Shared fitting machinery: scatter statistics in, learned metric out.

    Subclasses set ``_adversarial`` (False for GMML's closed form) and define the parameters in
    ``__init__``; every parameter is validated in ``fit`` (scikit-learn's convention).
    """

    _adversarial = True

    # -- parameter checks ------------------------------------------------------------------------
    def _check_params(self, n_features: int) -> dict:
        params = {
            "n_features": n_features,
            "reg": check_real(self.reg, "reg", low=0),
            "n_threads": check_n_threads(self.n_jobs),
            "n_components": None,
        }
        if self.n_components is not None:
            n_components = check_int(self.n_components, "n_components", low=1)
            if n_components > n_features:
                raise ValueError(
                    f"n_components={n_components} is larger than the number of features "
                    f"({n_features})"
                )
            params["n_components"] = n_components
        if not self._adversarial:
            return params
        params["alpha"] = check_real(self.alpha, "alpha", low=0)
        params["beta"] = check_beta(self.beta)
        params["max_iter"] = check_int(self.max_iter, "max_iter", low=1)
        params["tol"] = check_real(self.tol, "tol", low=0, low_inclusive=False)
        params["step"] = check_real(self.step, "step", low=0, low_inclusive=False)
        if not isinstance(self.solver, str) or self.solver not in aml.SOLVERS:
            raise ValueError(f"solver must be one of {aml.SOLVERS}, got {self.solver!r}")
        params["init"] = _inputs.check_init(
            self.init, n_features, params["n_components"], self.random_state
        )
        return params

    def _init_from_data(self, params: dict, points, labels=None) -> None:
        """Resolve an ``init`` computed from the data ("covariance", "pca", "lda", "auto"):
        ``points()`` gives the distinct points, ``labels`` their classes (supervised only)."""
        init = params.get("init")
        if isinstance(init, str) and init in _inputs.DATA_INITS:
            if points is None:
                raise ValueError(
                    f"init={init!r} needs the data points; fit_statistics and Dask input have "
                    "only the pairs' scatter matrices (use fit with arrays, or another init)"
                )
            params["init"] = _inputs.data_init(
                init, points(), labels, params["n_components"], self.random_state
            )

    # -- fitting ---------------------------------------------------------------------------------
    def _fit_scatter(self, A: np.ndarray, B: np.ndarray, params: dict):
        """Learn M from the scatter matrices; sets every fitted attribute but the threshold."""
        scale = _power_of_two_scale(max(np.diag(A).max(), np.diag(B).max()))
        if scale != 1.0:  # statistics given at an extreme scale (see SAFE_EXPONENT)
            A, B = A * scale, B * scale
        if self._adversarial:
            M = self._solve(A, B, params)
            if not self.converged_:
                warnings.warn(
                    f"{type(self).__name__} did not converge ({self.solver_message_}). Increase "
                    "max_iter, loosen tol, or raise reg for rank-deficient data.",
                    ConvergenceWarning,
                    stacklevel=_user_stacklevel(),
                )
        else:
            M = self._closed_form(A, B, params)
        self.n_features_in_ = params["n_features"]
        self.components_ = _components_from_matrix(M, params["n_components"], params["n_threads"])
        return self

    def _closed_form(self, A, B, params) -> np.ndarray:
        reg = params["reg"]
        # A and B are sums of outer products built here: the core need not check them
        M = _backend.gmml(A, B, reg, params["n_threads"], check_scatter=False)
        A_r, B_r = _backend.ridge(A, B, reg, check_scatter=False)
        # D(M) and the relative gradient norm ||M^{1/2} grad M^{1/2}||_F / D, as aml.solve reports
        value, _, relative_gradient = _backend.evaluate(M, A_r, B_r, 0.0, 1.0, check_scatter=False)
        self.n_iter_ = 0
        self.converged_ = True
        self.objective_history_ = np.array([value])
        self.gradient_norm_history_ = np.array([relative_gradient])
        self.solver_message_ = "closed form (GMML)"
        return M

    def _solve(self, A, B, params, warm_start=None) -> np.ndarray:
        """M from the scatter matrices, started from ``params["init"]`` or from ``warm_start`` (a
        solution of a neighbouring problem; a start of our own, so never blamed on ``init``)."""
        solver = self.solver
        init = params["init"]
        user_start = None if isinstance(init, str) else init
        if warm_start is not None:
            init, user_start = warm_start, None
        elif isinstance(init, str):
            d = params["n_features"]
            if init == "identity":
                init = np.eye(d)
                user_start = init
            elif solver == "paper":  # the core starts "paper" at I unless told otherwise
                init = _backend.gmml(A, B, params["reg"], params["n_threads"], check_scatter=False)
            else:  # the core's own start for "auto", "newton-cg", "lbfgs" and "pgd" is GMML
                init = None
        name = type(self).__name__
        callback = None
        if self.verbose:

            def callback(iteration, objective, relative_gradient):
                print(
                    f"[{name}] iter {iteration:4d}  objective {objective:.8e}  "
                    f"rel. gradient {relative_gradient:.3e}",
                    flush=True,
                )

        result = solve_from(
            user_start,
            lambda: _backend.solve(
                A,
                B,
                params["alpha"],
                params["beta"],
                n_threads=params["n_threads"],
                solver=solver,
                max_iter=params["max_iter"],
                tol=params["tol"],
                step=params["step"],
                reg=params["reg"],
                init=init,
                callback=callback,
                check_scatter=False,
            ),
        )
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        self.objective_history_ = result.objective_history
        self.gradient_norm_history_ = result.gradient_norm_history
        self.solver_message_ = result.message
        if self.verbose:
            print(f"[{name}] {result.message}", flush=True)
        return result.M


class _PairsLearner(PairsClassifierMixin, _MetricLearner):
    """Fitting from labelled pairs, from PairStatistics, or from Dask arrays of pairs."""

    def fit(self, pairs, y, calibration_params=None):
        """Learn the metric from labelled pairs, then calibrate the decision threshold.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features) or (n_pairs, 2)
            The pairs ``(x, x')``; a Dask array is reduced block by block
            (:mod:`advmetric.dask`). With a ``preprocessor``: pairs of identifiers; indices
            into an array preprocessor are read through the indices (no array of pairs is
            formed).
        y : array-like of shape (n_pairs,)
            +1 for a similar pair, -1 for a dissimilar one; both must occur.
        calibration_params : dict, optional
            Keyword arguments of :meth:`calibrate_threshold` (``strategy``, ``min_rate``,
            ``beta``) for the threshold set at the end of ``fit`` on the training pairs; default
            ``strategy="accuracy"``, as in metric-learn.

        Returns
        -------
        self
        """
        calibration_params = as_calibration_params(calibration_params)
        self.preprocessor_ = _inputs.check_preprocessor(self.preprocessor)
        if _is_dask_collection(pairs) or _is_dask_collection(y):
            return self._fit_dask(pairs, y, calibration_params)
        pairs = _inputs.check_pairs(pairs, self.preprocessor_, self)
        labels = as_pair_labels(y, pairs.shape[0])
        params = self._check_params(pairs.shape[2])
        # data at an extreme scale are scaled exactly first (see SAFE_EXPONENT)
        if isinstance(pairs, _inputs.IndexedPairs):
            scale = _power_of_two_scale(max_abs(pairs.X))
            X = pairs.X * scale if scale != 1.0 else pairs.X
            self._init_from_data(params, lambda: _inputs.pair_points(pairs) * scale)
            A, B, n_similar, n_dissimilar = _backend.scatter_indices(
                X, pairs.index, labels, params["n_threads"]
            )
        else:
            scale = _power_of_two_scale(max_abs(pairs))
            self._init_from_data(params, lambda: _inputs.pair_points(pairs) * scale)
            A, B, n_similar, n_dissimilar = _backend.scatter_pairs(
                pairs, labels, params["n_threads"], scale=scale
            )
        check_scatter_finite(A, B)
        self._fit_scatter_pairs(A, B, n_similar, n_dissimilar, params)
        self.threshold_ = calibrated_threshold(self._distances(pairs), labels, **calibration_params)
        return self

    def fit_statistics(self, statistics: PairStatistics):
        """Learn the metric from accumulated pair statistics.

        Use it to fit on pairs streamed in chunks or reduced elsewhere. No decision threshold is
        set (there are no pairs to calibrate it on): call :meth:`calibrate_threshold` or
        :meth:`set_threshold` before :meth:`predict`.

        Parameters
        ----------
        statistics : PairStatistics
            Scatter matrices of at least one similar and one dissimilar pair.

        Returns
        -------
        self
        """
        if not isinstance(statistics, PairStatistics):
            raise TypeError(
                f"fit_statistics takes a PairStatistics, got {type(statistics).__name__}"
            )
        self.preprocessor_ = _inputs.check_preprocessor(self.preprocessor)
        params = self._check_params(statistics.n_features)
        self._init_from_data(params, None)
        return self._fit_scatter_pairs(
            np.array(statistics.A),
            np.array(statistics.B),
            statistics.n_similar,
            statistics.n_dissimilar,
            params,
        )

    def _fit_scatter_pairs(self, A, B, n_similar: int, n_dissimilar: int, params: dict):
        """The metric from the scatter matrices of labelled pairs; no threshold yet."""
        if n_similar == 0 or n_dissimilar == 0:
            raise ValueError(
                "both similar (+1) and dissimilar (-1) pairs are needed; got "
                f"{n_similar} similar and {n_dissimilar} dissimilar"
            )
        if hasattr(self, "threshold_"):
            del self.threshold_
        self.classes_ = np.array([-1, 1])
        return self._fit_scatter(A, B, params)

    def _fit_dask(self, pairs, y, calibration_params):
        import dask.array as da

        from . import dask as advmetric_dask

        pairs = da.asarray(pairs)
        y = da.asarray(y)
        verbose = getattr(self, "verbose", False)
        with dask_progress(verbose):
            stats = advmetric_dask.pair_statistics(pairs, y).compute()
        self.fit_statistics(stats)
        distance = da.map_blocks(
            lambda block: self.pair_distance(block),
            pairs.rechunk({1: -1, 2: -1}),
            drop_axis=[1, 2],
            dtype=np.float64,
        )
        with dask_progress(verbose):
            distance, labels = da.compute(distance, y)
        labels = as_pair_labels(labels, distance.shape[0])
        self.threshold_ = calibrated_threshold(distance, labels, **calibration_params)
        return self


def supervised_scatter(X, y, n_constraints, random_state, n_threads):
    """Scatter matrices ``(A, B)`` of the pairs that a supervised estimator samples from ``y``.

    ``X`` is a validated float64 C-ordered array; pairs are drawn in chunks as row indices
    (:func:`advmetric.constraints.iter_pair_chunks`) and reduced in the compiled core, so no
    array of pairs is built. ``n_threads`` is already checked.
    """
    codes, n_classes = encode_classes(y)
    n_constraints = check_n_constraints(n_constraints, n_classes)
    A = np.zeros((X.shape[1], X.shape[1]))
    B = np.zeros_like(A)
    for index, labels in iter_pair_chunks(codes, n_constraints, random_state):
        A_chunk, B_chunk, _, _ = _backend.scatter_indices(X, index, labels, n_threads)
        A += A_chunk
        B += B_chunk
    check_scatter_finite(A, B)
    return A, B


class _SupervisedLearner(MahalanobisTransformerMixin, _MetricLearner):
    """Fitting from examples with class labels through pairs sampled from the labels.

    Only these are scikit-learn transformers (``fit_transform``): the pair learners' ``fit``
    takes pairs, which ``transform`` does not, so they have no ``fit_transform`` (as in
    metric-learn).
    """

    def fit(self, X, y):
        """Learn the metric from examples ``X`` with class labels ``y``.

        ``n_constraints`` pairs of each kind are sampled from the labels, reproducibly from
        ``random_state`` (see :func:`advmetric.constraints.sample_pairs`, which returns the
        same pairs). Their scatter matrices are formed in the compiled core straight from ``X``
        and the sampled row indices, in chunks: no array of pairs is built.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples,)
            Examples, or with a ``preprocessor`` a 1-D array of their identifiers.
        y : array-like of shape (n_samples,)
            Class labels: at least 2 classes, and a class with at least 2 examples.

        Returns
        -------
        self
        """
        self.preprocessor_ = _inputs.check_preprocessor(self.preprocessor)
        X = _inputs.check_points(X, self.preprocessor_, self)
        check_not_text(X, "X")
        X, y = validate_data(self, X, y, dtype=np.float64, order="C", ensure_min_samples=2)
        params = self._check_params(X.shape[1])
        scale = _power_of_two_scale(max_abs(X))
        if scale != 1.0:  # data at an extreme scale (see SAFE_EXPONENT); exact, M is unchanged
            X = X * scale
        self._init_from_data(params, lambda: X, y)
        A, B = supervised_scatter(X, y, self.n_constraints, self.random_state, params["n_threads"])
        return self._fit_scatter(A, B, params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


@_shared_parameter_docs
class AML(_PairsLearner):
    """Adversarial Metric Learning from labelled pairs.

    Learns the Mahalanobis matrix M minimising ``L_g(M, X, y) + alpha L_g(M, Pi*(M), y)``
    (Eq. 11 of Chen et al., "Adversarial Metric Learning", IJCAI 2018, with Eq. 12 corrected as in
    docs/math.md), where ``Pi*(M)`` are the adversarial pairs that confuse the metric M
    most (Eq. 9) and ``L_g`` is GMML's geometric-mean loss. Afterwards it classifies pairs as
    similar or dissimilar by thresholding the learned distance, like metric-learn's pair learners.

    Parameters
    ----------
    $alpha
    $beta
    $n_components
    solver : {"auto", "newton-cg", "lbfgs", "pgd", "paper"}, default "auto"
        "auto" ("newton-cg" below 1600 features, "lbfgs" from there on), "newton-cg", "lbfgs"
        and "pgd" decrease the objective monotonically without
        tuning; "paper" is the paper's Algorithm 1 (projected gradient with the fixed step
        ``step``), which may diverge on unscaled data. See :func:`advmetric.aml.solve`.
    $max_iter
    $tol
    step : float > 0, default 1e-3
        The fixed step rho of ``solver="paper"``; ignored by the other solvers.
    reg : float >= 0, default 1e-6
        Relative ridge: ``reg * tr(A)/d`` and ``reg * tr(B)/d`` are added to the diagonals of the
        scatter matrices A (similar pairs) and B (dissimilar pairs). It keeps rank-deficient data
        (fewer pairs than features, constant or duplicated features) fittable, and barely changes
        well-posed problems.
    init : str or array-like, default "gmml"
        Start point of every solver, with metric-learn's meaning of each option. "gmml": GMML's
        closed form (the exact solution for alpha = 0; advmetric's default). "identity": the
        identity (the paper's Algorithm 1 starts there). "covariance": the inverse covariance of the
        distinct points of the training pairs (``numpy.linalg.LinAlgError`` when it is singular).
        "random": a random SPD matrix, ``sklearn.datasets.make_spd_matrix`` seeded by
        ``random_state`` (as in metric-learn). A square array (n_features, n_features) is the
        Mahalanobis matrix M itself: it must be symmetric (else ``ValueError``) and positive
        definite (``advmetric.exceptions.NonPSDError`` for a negative eigenvalue, ``LinAlgError``
        when singular). An array of shape (n_components, n_features) with fewer rows than features
        is a linear map L, as metric-learn's learners with ``n_components`` read it
        (``n_components`` must equal its number of rows); the start is ``L^T L`` with the smallest
        positive eigenvalue of ``L^T L`` on its null space. A square array is always read as M: for
        a square L give ``L.T @ L``.
        "pca", "lda" (supervised learners only) and "auto" are the linear-map starts of
        metric-learn's learners with ``n_components`` (PCA components, LDA scalings, or
        metric-learn's automatic choice among them and the identity), read as an L with
        ``n_components`` rows and completed as above (PCA's rows are orthonormal, so "pca" starts at
        the identity).
    verbose : bool, default False
        Print the objective and relative gradient norm at every iteration, then the stopping
        reason.
    $n_jobs
    $pairs_preprocessor
    random_state : int, RandomState instance or None, default None
        Seeds ``init="random"``; nothing else in AML is random.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        L with ``M = L^T L``; rows are ``sqrt(w_i) v_i^T`` by decreasing eigenvalue ``w_i``.
    threshold_ : float
        Pairs with learned distance at most ``threshold_`` are predicted similar. Calibrated for
        accuracy on the training pairs by ``fit`` (see ``calibration_params``).
    classes_ : ndarray of shape (2,)
        ``[-1, 1]``: the pair labels.
    n_iter_ : int
        Solver iterations.
    converged_ : bool
        Whether the solver reached ``tol``.
    objective_history_ : ndarray of shape (n_iter_ + 1,)
        The objective D(M) at the start point and after every iteration. For data (or
        statistics) beyond 2^+-200 in magnitude, D of the problem scaled by a power of two, which
        has the same minimiser.
    gradient_norm_history_ : ndarray of shape (n_iter_ + 1,)
        The relative gradient norm at the same points.
    solver_message_ : str
        Why the solver stopped.
    n_features_in_ : int
        Number of features of the pairs.
    preprocessor_ : None, ArrayIndexer or callable
        The resolved ``preprocessor``, used by every method that takes pairs or points.

    See Also
    --------
    AML_Supervised : the same, learning from class labels.
    GMML : the closed-form special case alpha = 0.

    Examples
    --------
    >>> import numpy as np
    >>> from advmetric import AML
    >>> rng = np.random.default_rng(0)
    >>> pairs = rng.standard_normal((200, 2, 3))
    >>> y = np.where(np.arange(200) % 2 == 0, 1, -1)
    >>> pairs[y == 1, 1] = pairs[y == 1, 0] + 0.1 * rng.standard_normal((100, 3))
    >>> model = AML(alpha=1.0, beta=0.8).fit(pairs, y)
    >>> model.predict(pairs[:4]).tolist()
    [1, -1, 1, -1]
    """

    def __init__(
        self,
        alpha=1.0,
        beta=0.8,
        *,
        n_components=None,
        solver="auto",
        max_iter=1000,
        tol=1e-8,
        step=1e-3,
        reg=1e-6,
        init="gmml",
        verbose=False,
        n_jobs=None,
        preprocessor=None,
        random_state=None,
    ):
        set_parameters(self, locals())

    def adversarial_pairs(self, pairs, y) -> np.ndarray:
        """The adversarial pairs Pi* (Eq. 9) that the learned metric generates.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, n_features) or (n_pairs, 2)
            Pairs of points, or with a ``preprocessor`` pairs of identifiers.
        y : array-like of shape (n_pairs,)
            +1 (similar) or -1 (dissimilar).

        Returns
        -------
        ndarray of shape (n_pairs, 2, n_features)
            ``(pi_i, pi'_i)`` for every pair: similar pairs are pushed apart along the
            directions the metric stretches, dissimilar pairs pulled together by the factor
            ``beta / (2 + beta)``; each pair keeps its midpoint.

        Notes
        -----
        With ``n_components < n_features`` the metric ``L^T L`` is singular; the pairs are then
        the limit of Eq. 9 as the dropped eigenvalues go to 0 (similar pairs keep no difference
        along the dropped directions).
        """
        pairs = self._checked_pairs(pairs)
        if isinstance(pairs, _inputs.IndexedPairs):  # the output has this size anyway
            pairs = pairs.formed()
        labels = as_pair_labels(y, pairs.shape[0])
        beta = check_beta(self.beta)
        L = self.components_
        if L.shape[0] == L.shape[1]:
            return _backend.adversarial_pairs(
                None, pairs, labels, beta, check_n_threads(self.n_jobs), components=L
            )
        return _low_rank_adversarial_pairs(L, pairs, labels, beta)


def _low_rank_adversarial_pairs(L, pairs, labels, beta) -> np.ndarray:
    """Eq. 9 for the singular metric ``L^T L`` (rows of L: ``sqrt(w_i) v_i^T``), in the spectral
    form of docs/math.md: ``pi + pi' = x + x'`` and ``pi - pi' = U diag(f(l)) U^T (x - x')`` with
    ``f(l) = beta l^2 / (2 + beta l^2)`` for a similar pair (0 on the null space) and
    ``f = beta / (2 + beta)`` for a dissimilar one.
    """
    w = np.einsum("ij,ij->i", L, L)
    keep = w > 0
    V = L[keep] / np.sqrt(w[keep])[:, None]  # unit eigenvectors as rows
    with np.errstate(over="ignore", divide="ignore"):
        shrink = 1.0 / (1.0 + 2.0 / (beta * w[keep] ** 2))  # beta l^2 / (2 + beta l^2), safely
    sums = pairs[:, 0] + pairs[:, 1]
    diffs = (beta / (2.0 + beta)) * (pairs[:, 0] - pairs[:, 1])
    similar = labels == 1
    diff_similar = pairs[similar, 0] - pairs[similar, 1]
    diffs[similar] = ((diff_similar @ V.T) * shrink) @ V
    return np.stack([0.5 * (sums + diffs), 0.5 * (sums - diffs)], axis=1)


@_shared_parameter_docs
class GMML(_PairsLearner):
    """Geometric Mean Metric Learning (Zadeh et al., ICML 2016) from labelled pairs.

    The closed form ``M = A^{-1} # B`` (the matrix geometric mean) minimising
    ``tr(A M) + tr(B M^{-1})``, where A and B are the scatter matrices of the similar and
    dissimilar pair differences: :class:`AML` with alpha = 0, without iterations.

    Parameters
    ----------
    $n_components
    reg : float >= 0, default 1e-6
        Relative ridge ``reg * tr(A)/d``, ``reg * tr(B)/d`` on the scatter matrices; keeps
        rank-deficient data fittable and barely changes well-posed problems.
    $n_jobs
    $pairs_preprocessor
    random_state : int, RandomState instance or None, default None
        Accepted as by every metric-learn learner (its tests and tools pass it to all); GMML's
        closed form draws nothing at random, so it has no effect.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        L with ``M = L^T L``; rows by decreasing eigenvalue of M.
    threshold_ : float
        Pairs with learned distance at most ``threshold_`` are predicted similar.
    classes_ : ndarray of shape (2,)
        ``[-1, 1]``.
    n_iter_ : int
        Always 0 (closed form).
    converged_ : bool
        Always True.
    objective_history_ : ndarray of shape (1,)
        ``tr(A_r M) + tr(B_r M^{-1})`` at the solution (A_r, B_r: the ridged scatter matrices).
    gradient_norm_history_ : ndarray of shape (1,)
        Its relative gradient norm (zero up to rounding).
    solver_message_ : str
    n_features_in_ : int

    See Also
    --------
    AML : the adversarial generalisation.
    GMML_Supervised : the same, learning from class labels.
    """

    _adversarial = False

    def __init__(
        self, *, n_components=None, reg=1e-6, n_jobs=None, preprocessor=None, random_state=None
    ):
        set_parameters(self, locals())


@_shared_parameter_docs
class AML_Supervised(_SupervisedLearner):
    """Adversarial Metric Learning from class labels.

    Samples similar pairs within classes and dissimilar pairs across classes, then learns M as
    :class:`AML` does. A transformer for pipelines such as
    ``make_pipeline(StandardScaler(), AML_Supervised(), KNeighborsClassifier())``.

    Parameters
    ----------
    $alpha
    $beta
    n_constraints : int >= 1, optional
        Number of sampled pairs *of each kind*, as in metric-learn: ``n_constraints`` similar
        and ``n_constraints`` dissimilar pairs. Default ``500 c (c - 1)`` for c classes (the
        paper's ``1000 c (c - 1)`` pairs in all), capped at 500,000 (from 33 classes on). At
        most 5 x 10^8.
    random_state : int, RandomState instance or None, default None
        Seeds the pair sampling: the same seed gives the same pairs and the same
        ``components_``.
    n_components : int, optional
        Number of rows of ``components_`` (output dimension of ``transform``): the learned M is
        truncated to its ``n_components`` largest eigenvalues. All features by default.
    solver : {"auto", "newton-cg", "lbfgs", "pgd", "paper"}, default "auto"
        See :class:`AML`.
    $max_iter
    $tol
    step : float > 0, default 1e-3
        The fixed step of ``solver="paper"``; ignored by the other solvers.
    reg : float >= 0, default 1e-6
        Relative ridge on the scatter matrices (see :class:`AML`); keeps rank-deficient data
        fittable and barely changes well-posed problems.
    init : str or array-like, default "gmml"
        Start point of every solver, with metric-learn's meaning of each option. "gmml": GMML's
        closed form (the exact solution for alpha = 0; advmetric's default). "identity": the
        identity (the paper's Algorithm 1 starts there). "covariance": the inverse covariance
        of ``X`` (``numpy.linalg.LinAlgError`` when it is singular). "random": a random SPD
        matrix, ``sklearn.datasets.make_spd_matrix`` seeded by ``random_state`` (as in
        metric-learn). A square array (n_features, n_features) is the Mahalanobis matrix M
        itself: it must be symmetric (else ``ValueError``) and positive definite
        (``advmetric.exceptions.NonPSDError`` for a negative eigenvalue, ``LinAlgError`` when
        singular). An array of shape (n_components, n_features) with fewer rows than features
        is a linear map L, as metric-learn's learners with ``n_components`` read it
        (``n_components`` must equal its number of rows); the start is ``L^T L`` with the
        smallest positive eigenvalue of ``L^T L`` on its null space. A square array is always
        read as M: for a square L give ``L.T @ L``.
        "pca", "lda" (supervised learners only) and "auto" are the linear-map starts of
        metric-learn's learners with ``n_components`` (PCA components, LDA scalings, or
        metric-learn's automatic choice among them and the identity), read as an L with
        ``n_components`` rows and completed as above (PCA's rows are orthonormal, so "pca" starts at
        the identity).
    verbose : bool, default False
        Print the objective and relative gradient norm at every iteration.
    $n_jobs
    $points_preprocessor

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        L with ``M = L^T L``; rows by decreasing eigenvalue of M.
    n_iter_ : int
    converged_ : bool
    objective_history_ : ndarray of shape (n_iter_ + 1,)
    gradient_norm_history_ : ndarray of shape (n_iter_ + 1,)
    solver_message_ : str
        As in :class:`AML`.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` had string column names.

    Notes
    -----
    Pairs are sampled with replacement (see :func:`advmetric.constraints.sample_pairs`):
    similar pairs pick ``i`` uniformly among the examples whose class has at least 2 members
    and ``j`` uniformly among the other members of that class; dissimilar pairs pick ``i``
    uniformly among all examples and ``j`` uniformly among the examples of the other classes.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from advmetric import AML_Supervised
    >>> X, y = load_iris(return_X_y=True)
    >>> model = make_pipeline(AML_Supervised(random_state=0), KNeighborsClassifier())
    >>> model.fit(X, y).score(X, y) > 0.9
    True
    """

    def __init__(
        self,
        alpha=1.0,
        beta=0.8,
        *,
        n_constraints=None,
        random_state=None,
        n_components=None,
        solver="auto",
        max_iter=1000,
        tol=1e-8,
        step=1e-3,
        reg=1e-6,
        init="gmml",
        verbose=False,
        n_jobs=None,
        preprocessor=None,
    ):
        set_parameters(self, locals())


@_shared_parameter_docs
class GMML_Supervised(_SupervisedLearner):
    """Geometric Mean Metric Learning from class labels.

    Samples pairs from the labels as :class:`AML_Supervised` does, then computes GMML's closed
    form as :class:`GMML` does.

    Parameters
    ----------
    n_constraints : int >= 1, optional
        Number of sampled pairs *of each kind* (as in metric-learn): ``n_constraints`` similar
        and ``n_constraints`` dissimilar. Default ``500 c (c - 1)`` for c classes, capped at
        500,000. At most 5 x 10^8.
    random_state : int, RandomState instance or None, default None
        Seeds the pair sampling.
    n_components : int, optional
        Number of rows of ``components_`` (output dimension of ``transform``). All by default.
    reg : float >= 0, default 1e-6
        Relative ridge on the scatter matrices (see :class:`GMML`).
    $n_jobs
    $points_preprocessor

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
    n_iter_ : int
        Always 0.
    converged_ : bool
        Always True.
    objective_history_ : ndarray of shape (1,)
    gradient_norm_history_ : ndarray of shape (1,)
    solver_message_ : str
        As in :class:`GMML`.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` had string column names.
    """

    _adversarial = False

    def __init__(
        self,
        *,
        n_constraints=None,
        random_state=None,
        n_components=None,
        reg=1e-6,
        n_jobs=None,
        preprocessor=None,
    ):
        set_parameters(self, locals())
