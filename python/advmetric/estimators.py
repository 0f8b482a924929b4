"""scikit-learn estimators: AML and GMML, from labelled pairs or from class labels.

* :class:`AML` and :class:`GMML` learn from pairs ``(n_pairs, 2, n_features)`` labelled +1
  (similar) or -1 (dissimilar), and classify pairs afterwards (metric-learn's pair learners).
* :class:`AML_Supervised` and :class:`GMML_Supervised` learn from examples with class labels,
  sampling similar pairs within classes and dissimilar pairs across them.

All four are transformers (``transform`` maps to the space where the learned metric is
Euclidean) with metric-learn's Mahalanobis methods.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from . import _core, aml
from ._mahalanobis import MahalanobisMixin, PairsClassifierMixin
from ._validation import (
    as_pair_labels,
    as_pairs,
    as_spd,
    check_int,
    check_n_threads,
    check_real,
)
from .statistics import PairStatistics

__all__ = ["AML", "GMML", "AML_Supervised", "GMML_Supervised"]

#: Upper bound on the default number of sampled pairs, ``1000 c (c - 1)`` for c classes.
MAX_DEFAULT_CONSTRAINTS = 1_000_000
_SAMPLING_CHUNK = 1 << 20


def _is_dask_collection(value) -> bool:
    return type(value).__module__.split(".")[0] == "dask"


class _MetricLearner(MahalanobisMixin, BaseEstimator):
    """Shared fitting machinery: scatter statistics in, learned metric out."""

    _adversarial = True  # False for GMML

    # -- parameter checks (in fit, as scikit-learn asks) ----------------------------------------
    def _check_common_params(self, n_features: int) -> dict:
        params = {
            "reg": check_real(self.reg, "reg", low=0),
            "n_threads": check_n_threads(self.n_jobs),
        }
        if self.n_components is not None:
            n_components = check_int(self.n_components, "n_components", low=1)
            if n_components > n_features:
                raise ValueError(
                    f"n_components={n_components} is larger than the number of features "
                    f"({n_features})"
                )
        return params

    def _check_solver_params(self, n_features: int) -> dict:
        params = self._check_common_params(n_features)
        params["alpha"] = check_real(self.alpha, "alpha", low=0)
        params["beta"] = check_real(self.beta, "beta", low=0, low_inclusive=False)
        params["max_iter"] = check_int(self.max_iter, "max_iter", low=1)
        params["tol"] = check_real(self.tol, "tol", low=0, low_inclusive=False)
        params["step"] = check_real(self.step, "step", low=0, low_inclusive=False)
        if self.solver not in aml.SOLVERS:
            raise ValueError(f"solver must be one of {aml.SOLVERS}, got {self.solver!r}")
        if isinstance(self.init, str):
            if self.init not in ("auto", "gmml", "identity"):
                raise ValueError(
                    f"init must be 'auto', 'gmml', 'identity' or an SPD matrix, got {self.init!r}"
                )
        else:
            params["init_matrix"] = as_spd(self.init, "init", n_features)
        return params

    # -- fitting ---------------------------------------------------------------------------------
    def _fit_scatter(self, A: np.ndarray, B: np.ndarray, n_features: int):
        """Learn M from the scatter matrices; sets every fitted attribute but the threshold."""
        if self._adversarial:
            params = self._check_solver_params(n_features)
            M = self._solve(A, B, params)
        else:
            params = self._check_common_params(n_features)
            M = aml.gmml(A, B, params["reg"])
            A_r, B_r = _core.ridge(A, B, params["reg"])
            self.n_iter_ = 0
            self.converged_ = True
            self.objective_history_ = np.array([aml.objective(M, A_r, B_r, 0.0, 1.0)])
            self.gradient_norm_history_ = np.array([0.0])
        self.n_features_in_ = n_features
        self.components_ = _components_from_matrix(M, self.n_components)
        return self

    def _solve(self, A, B, params) -> np.ndarray:
        init = params.get("init_matrix")
        if isinstance(self.init, str) and self.init == "gmml":
            init = aml.gmml(A, B, params["reg"])
        elif isinstance(self.init, str) and self.init == "identity":
            init = np.eye(A.shape[0])
        name = type(self).__name__
        callback = None
        if self.verbose:

            def callback(iteration, objective, relative_gradient):
                print(
                    f"[{name}] iter {iteration:4d}  objective {objective:.8e}  "
                    f"rel. gradient {relative_gradient:.3e}",
                    flush=True,
                )

        result = aml.solve(
            A,
            B,
            params["alpha"],
            params["beta"],
            solver=self.solver,
            max_iter=params["max_iter"],
            tol=params["tol"],
            step=params["step"],
            reg=params["reg"],
            init=init,
            n_threads=self.n_jobs,
            callback=callback,
        )
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        self.objective_history_ = result.objective_history
        self.gradient_norm_history_ = result.gradient_norm_history
        self.solver_message_ = result.message
        if self.verbose:
            print(f"[{name}] {result.message}", flush=True)
        if not result.converged:
            warnings.warn(
                f"{name} did not converge ({result.message}). Increase max_iter, loosen tol, "
                "or raise reg for rank-deficient data.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return result.M


def _components_from_matrix(M: np.ndarray, n_components) -> np.ndarray:
    """L with rows sqrt(w_i) v_i^T for the largest eigenpairs of M (all by default)."""
    w, V = np.linalg.eigh(M)
    order = np.argsort(w)[::-1]
    if n_components is not None:
        order = order[:n_components]
    return np.sqrt(np.maximum(w[order], 0.0))[:, None] * V[:, order].T


class _PairsLearner(PairsClassifierMixin, _MetricLearner):
    """Fitting from labelled pairs, from PairStatistics, or from Dask arrays of pairs."""

    def fit(self, pairs, y):
        """Learn the metric from ``pairs`` (n_pairs, 2, n_features) and labels ``y`` in {-1, +1}.

        The decision threshold is then calibrated for accuracy on the same pairs
        (see :meth:`calibrate_threshold`). Dask arrays are reduced block by block through
        :mod:`advmetric.dask`.
        """
        if _is_dask_collection(pairs) or _is_dask_collection(y):
            return self._fit_dask(pairs, y)
        pairs = as_pairs(pairs)
        labels = as_pair_labels(y, pairs.shape[0])
        stats = PairStatistics.from_pairs(pairs, labels, n_threads=self.n_jobs)
        self.fit_statistics(stats)
        return self.calibrate_threshold(pairs, labels)

    def fit_statistics(self, statistics: PairStatistics):
        """Learn the metric from accumulated :class:`~advmetric.statistics.PairStatistics`.

        Use it to fit on pairs streamed in chunks or reduced elsewhere. No decision threshold is
        set (there are no pairs to calibrate it on): call :meth:`calibrate_threshold` or
        :meth:`set_threshold` before :meth:`predict`.
        """
        if not isinstance(statistics, PairStatistics):
            raise TypeError(
                f"fit_statistics takes a PairStatistics, got {type(statistics).__name__}"
            )
        if statistics.n_similar == 0 or statistics.n_dissimilar == 0:
            raise ValueError(
                "both similar (+1) and dissimilar (-1) pairs are needed; got "
                f"{statistics.n_similar} similar and {statistics.n_dissimilar} dissimilar"
            )
        if hasattr(self, "threshold_"):
            del self.threshold_
        A, B = np.array(statistics.A), np.array(statistics.B)
        return self._fit_scatter(A, B, statistics.n_features)

    def _fit_dask(self, pairs, y):
        import dask.array as da

        from . import dask as advmetric_dask

        pairs = da.asarray(pairs)
        y = da.asarray(y)
        stats = advmetric_dask.pair_statistics(pairs, y).compute()
        self.fit_statistics(stats)
        distance = da.map_blocks(
            lambda block: self.pair_distance(block),
            pairs.rechunk({1: -1, 2: -1}),
            drop_axis=[1, 2],
            dtype=np.float64,
        )
        distance, labels = da.compute(distance, y)
        labels = as_pair_labels(labels, distance.shape[0])
        from ._mahalanobis import _accuracy_threshold

        self.threshold_ = _accuracy_threshold(distance, labels)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.target_tags.required = True
        return tags


class AML(_PairsLearner):
    """Adversarial Metric Learning from labelled pairs.

    Minimises ``L_g(M, X, y) + alpha L_g(M, Pi*(M), y)`` (Eq. 11 of Chen et al., IJCAI 2018),
    where ``Pi*(M)`` are the adversarial pairs that the metric M finds hardest (Eq. 9).

    Parameters
    ----------
    alpha : float >= 0, default 1.0
        Weight of the loss on the adversarial pairs (alpha = 0 gives GMML).
    beta : float > 0, default 0.8
        How far adversarial pairs may move from the originals (larger: closer to them).
    n_components : int, optional
        Rows of ``components_`` (the top eigenvectors of M); all features by default.
    solver : {"auto", "lbfgs", "pgd", "paper"}, default "auto"
        See :func:`advmetric.aml.solve`. "paper" is the paper's Algorithm 1.
    max_iter : int, default 1000
    tol : float, default 1e-8
        On the relative gradient norm ``||M^{1/2} grad D M^{1/2}||_F / D(M)``.
    step : float, default 1e-3
        The fixed step rho of ``solver="paper"`` (ignored by the other solvers).
    reg : float, default 1e-6
        Ridge ``reg * tr(A)/d`` (resp. ``tr(B)/d``) on the scatter matrices; keeps rank-deficient
        data (fewer pairs than features, constant or duplicated features) fittable.
    init : "auto", "gmml", "identity" or SPD array, default "auto"
        Start point; "auto" is GMML's closed form for "auto"/"lbfgs"/"pgd" and the identity for
        "paper" (as in the paper).
    verbose : bool, default False
        Print the objective and gradient norm at every iteration.
    n_jobs : int, optional
        Threads for the statistics pass and BLAS (None: all available).

    Attributes
    ----------
    components_ : ndarray (n_components, n_features)
        L with ``M = L^T L``.
    threshold_ : float
        Pairs with learned distance at most this are predicted similar.
    n_iter_, converged_, objective_history_, gradient_norm_history_, solver_message_,
    n_features_in_, classes_
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
        init="auto",
        verbose=False,
        n_jobs=None,
    ):
        self.alpha = alpha
        self.beta = beta
        self.n_components = n_components
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.step = step
        self.reg = reg
        self.init = init
        self.verbose = verbose
        self.n_jobs = n_jobs

    def adversarial_pairs(self, pairs, y) -> np.ndarray:
        """The adversarial pairs Pi* (Eq. 9) that the learned metric generates for ``pairs``."""
        pairs = self._checked_pairs(pairs)
        labels = as_pair_labels(y, pairs.shape[0])
        beta = check_real(self.beta, "beta", low=0, low_inclusive=False)
        return aml.adversarial_pairs(
            self.get_mahalanobis_matrix(), pairs, labels, beta, n_threads=self.n_jobs
        )


class GMML(_PairsLearner):
    """Geometric Mean Metric Learning (Zadeh et al., 2016) from labelled pairs.

    The closed form ``M = A^{-1} # B`` minimising ``tr(AM) + tr(B M^{-1})``: AML with alpha = 0.
    Parameters ``n_components``, ``reg`` and ``n_jobs`` as in :class:`AML`.
    """

    _adversarial = False

    def __init__(self, *, n_components=None, reg=1e-6, n_jobs=None):
        self.n_components = n_components
        self.reg = reg
        self.n_jobs = n_jobs


def _sample_pairs(y_codes: np.ndarray, n_constraints: int, random_state) -> tuple:
    """Index pairs and labels: half similar (same class), half dissimilar (different classes).

    Sampled with replacement: i uniformly among the examples whose class has >= 2 members and j
    uniformly among the other members of that class (similar); i uniformly among all examples
    and j uniformly among the examples of other classes (dissimilar).
    """
    rng = check_random_state(random_state)
    n = y_codes.shape[0]
    counts = np.bincount(y_codes)
    order = np.argsort(y_codes, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n) - starts[y_codes[order]]
    eligible = np.flatnonzero(counts[y_codes] >= 2)

    n_similar = n_constraints // 2
    index = np.empty((n_constraints, 2), dtype=np.int64)
    labels = np.empty(n_constraints, dtype=np.int8)
    labels[:n_similar] = 1
    labels[n_similar:] = -1
    for begin in range(0, n_constraints, _SAMPLING_CHUNK):
        end = min(begin + _SAMPLING_CHUNK, n_constraints)
        n_sim = max(0, min(end, n_similar) - begin)
        if n_sim:
            i = eligible[rng.randint(len(eligible), size=n_sim)]
            c = y_codes[i]
            r = (rng.random_sample(n_sim) * (counts[c] - 1)).astype(np.int64)
            r += r >= position[i]
            index[begin : begin + n_sim, 0] = i
            index[begin : begin + n_sim, 1] = order[starts[c] + r]
        n_dis = end - begin - n_sim
        if n_dis:
            i = rng.randint(n, size=n_dis)
            c = y_codes[i]
            r = (rng.random_sample(n_dis) * (n - counts[c])).astype(np.int64)
            r += np.where(r >= starts[c], counts[c], 0)
            index[begin + n_sim : end, 0] = i
            index[begin + n_sim : end, 1] = order[r]
    return index, labels


class _SupervisedLearner(_MetricLearner):
    """Fitting from examples with class labels through sampled pairs."""

    def fit(self, X, y):
        """Learn the metric from ``X`` (n_samples, n_features) and class labels ``y``.

        ``n_constraints`` pairs are sampled from the labels (reproducibly from ``random_state``):
        half similar, half dissimilar. Their statistics are formed in the compiled core straight
        from ``X`` and the sampled indices; no array of pairs is built.
        """
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2)
        check_classification_targets(y)
        classes, y_codes = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs examples of at least 2 classes to sample "
                f"dissimilar pairs; got 1 class"
            )
        if np.bincount(y_codes).max() < 2:
            raise ValueError(
                f"{type(self).__name__} needs a class with at least 2 examples to sample "
                "similar pairs; every class has 1 example"
            )
        n_classes = len(classes)
        if self.n_constraints is None:
            n_constraints = min(1000 * n_classes * (n_classes - 1), MAX_DEFAULT_CONSTRAINTS)
        else:
            n_constraints = check_int(self.n_constraints, "n_constraints", low=2)
        index, labels = _sample_pairs(y_codes, n_constraints, self.random_state)
        stats = PairStatistics.from_indices(X, index, labels, n_threads=self.n_jobs)
        return self._fit_scatter(np.array(stats.A), np.array(stats.B), X.shape[1])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


class AML_Supervised(_SupervisedLearner):
    """Adversarial Metric Learning from class labels (pairs sampled from the labels).

    Parameters as in :class:`AML`, plus:

    n_constraints : int, optional
        Number of sampled pairs, half similar and half dissimilar. Default ``1000 c (c - 1)``
        for c classes (the paper's choice), at most 1,000,000.
    random_state : int, RandomState or None
        Seeds the pair sampling.
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
        init="auto",
        verbose=False,
        n_jobs=None,
    ):
        self.alpha = alpha
        self.beta = beta
        self.n_constraints = n_constraints
        self.random_state = random_state
        self.n_components = n_components
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.step = step
        self.reg = reg
        self.init = init
        self.verbose = verbose
        self.n_jobs = n_jobs


class GMML_Supervised(_SupervisedLearner):
    """Geometric Mean Metric Learning from class labels (pairs sampled from the labels).

    Parameters as in :class:`GMML`, plus ``n_constraints`` and ``random_state`` as in
    :class:`AML_Supervised`.
    """

    _adversarial = False

    def __init__(
        self, *, n_constraints=None, random_state=None, n_components=None, reg=1e-6, n_jobs=None
    ):
        self.n_constraints = n_constraints
        self.random_state = random_state
        self.n_components = n_components
        self.reg = reg
        self.n_jobs = n_jobs
