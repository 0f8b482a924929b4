"""Choosing AML's alpha and beta by cross-validation, cheaply.

:class:`AML_SupervisedCV` does what ``GridSearchCV(make_pipeline(AML_Supervised(...),
KNeighborsClassifier(n_neighbors)), {"alpha": ..., "beta": ...}, cv=cv)`` does, with the same
folds, pairs and scores, but exploits AML's structure: the data enter only through the scatter
matrices A and B of the sampled pairs, which do not depend on alpha and beta. So each fold's pairs
are sampled and reduced once, and the grid is then walked as a chain of O(d^3) solves, each started
from the solution at the neighbouring grid point (warm start).
"""

from __future__ import annotations

import copy
import time
import warnings
from collections.abc import Iterator

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import check_cv
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils.validation import validate_data

from . import _backend
from ._mahalanobis import MahalanobisTransformerMixin
from ._progress import progress
from ._validation import check_beta, check_int, check_not_text, check_real, max_abs
from .constraints import encode_classes
from .estimators import (
    AML_Supervised,
    _components_from_matrix,
    _power_of_two_scale,
    _user_stacklevel,
    set_parameters,
    supervised_scatter,
)

__all__ = ["DEFAULT_GRID", "AML_SupervisedCV"]

#: The paper's grid for both alpha and beta (Section 3): 1e-3, 1e-2, ..., 1e3.
DEFAULT_GRID = (1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3)


def _check_grid(values, name: str, low_inclusive: bool) -> np.ndarray:
    if isinstance(values, Iterator):  # a generator would be read once, by the first fit
        raise TypeError(
            f"{name} must be a sequence of numbers (a list, tuple or array), got an iterator "
            f"({type(values).__name__}); pass list({name}) instead"
        )
    grid = np.asarray(values, dtype=object)
    if grid.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of numbers, got shape {grid.shape}")
    if grid.size == 0:
        raise ValueError(f"{name} must contain at least one value")
    values = [check_real(v, f"each of {name}", low=0, low_inclusive=low_inclusive) for v in grid]
    if name == "betas":
        values = [check_beta(v, "each of betas") for v in values]
    return np.array(values)


def _warm_start_order(n_alphas: int, n_betas: int) -> list[tuple[int, int]]:
    """Grid indices ``(i_alpha, i_beta)`` in a snake order: every step changes one index by one,
    so each solve starts next to the previous solution."""
    order = []
    for j in range(n_betas):
        alphas = range(n_alphas) if j % 2 == 0 else range(n_alphas - 1, -1, -1)
        order.extend((i, j) for i in alphas)
    return order


class AML_SupervisedCV(MahalanobisTransformerMixin, BaseEstimator):
    """AML_Supervised with alpha and beta chosen by cross-validated k-NN accuracy.

    For every fold of ``cv`` and every ``(alpha, beta)`` of the grid ``alphas x betas``, AML is
    fitted on the fold's training part as :class:`~advmetric.AML_Supervised` would be (same
    sampled pairs for the same ``random_state``) and scored by the accuracy of a
    ``KNeighborsClassifier(n_neighbors)`` in the learned space on the held-out part. The pair with
    the best mean accuracy is then refitted on all the data. This is the search
    ``GridSearchCV(make_pipeline(AML_Supervised(...), KNeighborsClassifier(n_neighbors)),
    param_grid, cv=cv)`` performs, and with ``warm_start=False`` and a fixed ``random_state`` it
    gives exactly its scores (a failing fit raises here, where GridSearchCV's ``error_score``
    would record NaN); it is
    faster because each fold's pair statistics are computed once for the whole grid and the solver
    is warm-started along the grid.

    Parameters
    ----------
    alphas : sequence of float >= 0, default DEFAULT_GRID
        Candidate values of alpha (the paper's grid 1e-3, ..., 1e3 by default).
    betas : sequence of float > 0, default DEFAULT_GRID
        Candidate values of beta.
    cv : int, cross-validation generator or iterable, default 5
        As in scikit-learn: an int gives ``StratifiedKFold(cv)`` (no shuffling).
    n_neighbors : int >= 1, default 5
        k of the k-NN classifier that scores each candidate.
    warm_start : bool, default True
        Start each solve from the solution at the neighbouring grid point of the same fold
        (solutions then differ from cold starts by the solver tolerance ``tol``); False starts
        every solve from GMML, as a fresh ``AML_Supervised`` does.
    n_constraints, random_state, n_components, max_iter, tol, reg, n_jobs
        As in :class:`~advmetric.AML_Supervised` (used for every fit, including the refit).
    verbose : bool, default False
        Print one line per fold with its time.

    Attributes
    ----------
    best_params_ : dict
        ``{"alpha": ..., "beta": ...}`` with the best mean held-out accuracy (the first in
        ``cv_results_`` order on ties, as in ``GridSearchCV``).
    best_score_ : float
        Its mean held-out accuracy.
    best_index_ : int
        Its index in ``cv_results_``.
    cv_results_ : dict of ndarrays
        One entry per grid point, alpha-major (the order of ``GridSearchCV``): ``params``,
        ``param_alpha``, ``param_beta``, ``split<k>_test_score``, ``mean_test_score``,
        ``std_test_score``, ``rank_test_score``, ``mean_n_iter`` (solver iterations averaged
        over the folds) and ``n_not_converged`` (folds where the solver stopped short).
    best_estimator_ : AML_Supervised
        Refitted on all the data with ``best_params_``.
    components_ : ndarray of shape (n_components, n_features)
        ``best_estimator_.components_``.
    n_iter_, converged_ : int, bool
        Solver iterations and convergence of the refit (``best_estimator_``).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` had string column names.
    n_splits_ : int
        Number of folds.
    search_time_ : float
        Wall time of the cross-validated search (without the refit), in seconds.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from advmetric.model_selection import AML_SupervisedCV
    >>> X, y = load_iris(return_X_y=True)
    >>> search = AML_SupervisedCV(alphas=[0.1, 1.0], betas=[0.8], random_state=0).fit(X, y)
    >>> sorted(search.best_params_)
    ['alpha', 'beta']
    """

    def __init__(
        self,
        alphas=DEFAULT_GRID,
        betas=DEFAULT_GRID,
        *,
        cv=5,
        n_neighbors=5,
        warm_start=True,
        n_constraints=None,
        random_state=None,
        n_components=None,
        max_iter=1000,
        tol=1e-8,
        reg=1e-6,
        verbose=False,
        n_jobs=None,
    ):
        set_parameters(self, locals())

    def _estimator(self, alpha: float, beta: float) -> AML_Supervised:
        """The AML_Supervised that one grid point stands for (a fresh copy of random_state, as
        scikit-learn's ``clone`` gives every fit of a search)."""
        return AML_Supervised(
            alpha=alpha,
            beta=beta,
            n_constraints=self.n_constraints,
            random_state=copy.deepcopy(self.random_state),
            n_components=self.n_components,
            max_iter=self.max_iter,
            tol=self.tol,
            reg=self.reg,
            n_jobs=self.n_jobs,
        )

    def fit(self, X, y, groups=None):
        """Search the grid by cross-validation, then refit the best ``(alpha, beta)`` on all data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels.
        groups : array-like of shape (n_samples,), optional
            Group labels for a group-aware ``cv`` (e.g. ``GroupKFold``).

        Returns
        -------
        self
        """
        check_not_text(X, "X")
        X, y = validate_data(self, X, y, dtype=np.float64, order="C", ensure_min_samples=2)
        alphas = _check_grid(self.alphas, "alphas", low_inclusive=True)
        betas = _check_grid(self.betas, "betas", low_inclusive=False)
        n_neighbors = check_int(self.n_neighbors, "n_neighbors", low=1)
        encode_classes(y)  # the clear errors for unusable labels, before any fold is cut
        # Every parameter the grid shares is checked once, by the estimator that uses it.
        solver_params = self._estimator(alphas[0], betas[0])._check_params(X.shape[1])

        for flag in ("warm_start", "verbose"):
            if not isinstance(getattr(self, flag), (bool, np.bool_)):
                raise TypeError(f"{flag} must be True or False, got {getattr(self, flag)!r}")
        folds = list(check_cv(self.cv, y, classifier=True).split(X, y, groups))
        if not folds:
            raise ValueError("cv gave no train/test splits (an empty or exhausted iterator?)")
        # data at an extreme scale are scaled exactly, as AML_Supervised.fit does: M does not
        # depend on the scale, nor do the k-NN's neighbours (whose squared distances would
        # underflow or overflow in the original units)
        X_scaled = X * _power_of_two_scale(max_abs(X))
        scores = np.empty((len(alphas), len(betas), len(folds)))
        n_iter = np.zeros((len(alphas), len(betas), len(folds)), dtype=np.int64)
        not_converged = np.zeros((len(alphas), len(betas)), dtype=np.int64)
        order = _warm_start_order(len(alphas), len(betas))
        steps = [(k, i, j) for k in range(len(folds)) for i, j in order]
        start = time.perf_counter()
        statistics = {}  # the fold's scatter matrices, reduced once for the whole grid
        for k, i, j in progress(
            steps, total=len(steps), desc="AML_SupervisedCV", verbose=self.verbose
        ):
            train, test = folds[k]
            if k not in statistics:
                statistics.clear()
                if np.unique(y[train]).shape[0] < 2:
                    raise ValueError(
                        f"fold {k} of cv has a single class in its training part; use fewer folds"
                    )
                statistics[k] = supervised_scatter(
                    X_scaled[train],
                    y[train],
                    self.n_constraints,
                    copy.deepcopy(self.random_state),
                    solver_params["n_threads"],
                )
                M = None
            # the estimators' own solve, from the fold's statistics
            estimator = self._estimator(alphas[i], betas[j])
            params = dict(solver_params, alpha=alphas[i], beta=betas[j])
            M = estimator._solve(*statistics[k], params, M if self.warm_start else None)
            n_iter[i, j, k] = estimator.n_iter_
            not_converged[i, j] += not estimator.converged_
            # what AML_Supervised.transform gives, as a pipeline's k-NN would see it
            L = _components_from_matrix(
                M, solver_params["n_components"], solver_params["n_threads"]
            )
            with _backend.dense_work(X.shape[1], solver_params["n_threads"]):
                knn = KNeighborsClassifier(n_neighbors=n_neighbors)
                knn.fit(X_scaled[train] @ L.T, y[train])
                scores[i, j, k] = knn.score(X_scaled[test] @ L.T, y[test])
        self.search_time_ = time.perf_counter() - start
        self.n_splits_ = len(folds)
        self.cv_results_ = self._results(alphas, betas, scores, n_iter, not_converged)
        self.best_index_ = int(np.argmin(self.cv_results_["rank_test_score"]))
        self.best_params_ = dict(self.cv_results_["params"][self.best_index_])
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        if not_converged.any():
            warnings.warn(
                f"the solver stopped short at {int(not_converged.sum())} of "
                f"{not_converged.size * len(folds)} fits of the search (see "
                "cv_results_['n_not_converged'])",
                ConvergenceWarning,
                stacklevel=_user_stacklevel(),
            )
        self.best_estimator_ = self._estimator(**self.best_params_).fit(X, y)
        self.components_ = self.best_estimator_.components_
        self.n_iter_ = self.best_estimator_.n_iter_
        self.converged_ = self.best_estimator_.converged_
        return self

    @staticmethod
    def _results(alphas, betas, scores, n_iter, not_converged) -> dict:
        n_alphas, n_betas, n_folds = scores.shape
        flat = scores.reshape(n_alphas * n_betas, n_folds)  # alpha-major, like ParameterGrid
        mean = flat.mean(axis=1)
        # rank as GridSearchCV: 1 for the best, equal scores share the smallest rank
        order = np.sort(mean)[::-1]
        rank = np.searchsorted(-order, -mean, side="left") + 1
        results = {
            "params": [{"alpha": float(a), "beta": float(b)} for a in alphas for b in betas],
            "param_alpha": np.repeat(alphas, n_betas),
            "param_beta": np.tile(betas, n_alphas),
        }
        for k in range(n_folds):
            results[f"split{k}_test_score"] = flat[:, k]
        results["mean_test_score"] = mean
        results["std_test_score"] = flat.std(axis=1)
        results["rank_test_score"] = rank.astype(np.int32)
        results["mean_n_iter"] = n_iter.reshape(n_alphas * n_betas, n_folds).mean(axis=1)
        results["n_not_converged"] = not_converged.ravel()
        return results

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
