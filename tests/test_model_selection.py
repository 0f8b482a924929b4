"""AML_SupervisedCV against the GridSearchCV it stands for."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris, load_wine
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from advmetric import AML_Supervised, AML_SupervisedCV
from advmetric.model_selection import DEFAULT_GRID, _warm_start_order

ALPHAS = [0.0, 0.1, 10.0]
BETAS = [0.1, 1.0, 100.0]


def wine():
    X, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def grid_search(X, y, cv, n_neighbors=5, **params):
    pipe = make_pipeline(AML_Supervised(**params), KNeighborsClassifier(n_neighbors))
    grid = {"aml_supervised__alpha": ALPHAS, "aml_supervised__beta": BETAS}
    return GridSearchCV(pipe, grid, cv=cv).fit(X, y)


@pytest.mark.parametrize("cv", [3, KFold(4, shuffle=True, random_state=1)], ids=["int", "KFold"])
def test_cold_start_gives_grid_search_scores_exactly(cv):
    X, y = wine()
    search = AML_SupervisedCV(ALPHAS, BETAS, cv=cv, warm_start=False, random_state=0).fit(X, y)
    reference = grid_search(X, y, cv, random_state=0)
    ref = reference.cv_results_
    n_splits = reference.n_splits_
    assert search.n_splits_ == n_splits
    for k in range(n_splits):
        np.testing.assert_array_equal(
            search.cv_results_[f"split{k}_test_score"], ref[f"split{k}_test_score"]
        )
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], ref["mean_test_score"])
    np.testing.assert_allclose(search.cv_results_["std_test_score"], ref["std_test_score"])
    np.testing.assert_array_equal(search.cv_results_["rank_test_score"], ref["rank_test_score"])
    np.testing.assert_array_equal(
        search.cv_results_["param_alpha"], np.asarray(ref["param_aml_supervised__alpha"], float)
    )
    np.testing.assert_array_equal(
        search.cv_results_["param_beta"], np.asarray(ref["param_aml_supervised__beta"], float)
    )
    assert search.best_index_ == reference.best_index_
    assert search.best_params_ == {
        "alpha": reference.best_params_["aml_supervised__alpha"],
        "beta": reference.best_params_["aml_supervised__beta"],
    }
    assert search.best_score_ == pytest.approx(reference.best_score_, rel=1e-12)
    refit = reference.best_estimator_[0]
    np.testing.assert_array_equal(search.components_, refit.components_)
    np.testing.assert_array_equal(search.transform(X), refit.transform(X))


def test_warm_start_selects_the_same_parameters():
    X, y = wine()
    warm = AML_SupervisedCV(ALPHAS, BETAS, cv=3, random_state=0).fit(X, y)
    cold = AML_SupervisedCV(ALPHAS, BETAS, cv=3, warm_start=False, random_state=0).fit(X, y)
    assert warm.best_params_ == cold.best_params_
    # Warm and cold solutions differ by the solver tolerance: k-NN scores agree to within one
    # held-out example per fold (a distance tie can flip), and are almost always equal.
    difference = np.abs(warm.cv_results_["mean_test_score"] - cold.cv_results_["mean_test_score"])
    assert difference.max() <= 1.0 / 40
    assert np.mean(difference == 0) >= 0.8
    np.testing.assert_array_equal(warm.components_, cold.components_)  # same refit
    assert (warm.cv_results_["n_not_converged"] == 0).all()


def test_warm_start_order_visits_neighbours():
    order = _warm_start_order(4, 3)
    assert sorted(order) == [(i, j) for i in range(4) for j in range(3)]
    for (i0, j0), (i1, j1) in zip(order, order[1:]):
        assert abs(i1 - i0) + abs(j1 - j0) == 1


def test_defaults_are_the_papers_grid_and_reproducible():
    X, y = load_iris(return_X_y=True)
    search = AML_SupervisedCV(random_state=0, n_constraints=600, cv=3)
    assert search.alphas == DEFAULT_GRID and search.betas == DEFAULT_GRID
    assert DEFAULT_GRID == (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3)
    first = clone(search).fit(X, y)
    second = clone(search).fit(X, y)
    assert len(first.cv_results_["params"]) == 49
    np.testing.assert_array_equal(first.components_, second.components_)
    np.testing.assert_array_equal(
        first.cv_results_["mean_test_score"], second.cv_results_["mean_test_score"]
    )
    assert first.best_estimator_.alpha == first.best_params_["alpha"]
    assert np.isfinite(first.cv_results_["mean_n_iter"]).all()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"alphas": []}, "alphas must contain at least one value"),
        ({"alphas": [1.0, -1.0]}, "alphas"),
        ({"betas": [0.0]}, "betas"),
        ({"betas": [np.nan]}, "betas"),
        ({"alphas": ["a"]}, "alphas"),
        ({"n_neighbors": 0}, "n_neighbors"),
        ({"tol": 0.0}, "tol"),
        ({"max_iter": 0}, "max_iter"),
        ({"reg": -1.0}, "reg"),
        ({"n_constraints": 0}, "n_constraints"),
        ({"alphas": 1.0}, "1-D"),
        ({"betas": [[1.0, 2.0]]}, "1-D"),
        ({"warm_start": "yes"}, "warm_start"),
        ({"verbose": 1}, "verbose"),
        ({"cv": []}, "no train/test splits"),
    ],
)
def test_bad_parameters_are_value_errors(params, message):
    X, y = load_iris(return_X_y=True)
    with pytest.raises((ValueError, TypeError), match=message):
        AML_SupervisedCV(**params).fit(X, y)


def test_bad_data():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(NotFittedError):
        AML_SupervisedCV().transform(X)
    with pytest.raises(ValueError, match="at least 2 classes"):
        AML_SupervisedCV(cv=3).fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match=r"NaN|infinity"):
        AML_SupervisedCV(cv=3).fit(np.where(X > 7, np.nan, X), y)
    fitted = AML_SupervisedCV([1.0], [1.0], cv=3, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        fitted.transform(X[:, :3])


@parametrize_with_checks([AML_SupervisedCV(alphas=[0.5, 2.0], betas=[0.8], cv=2)])
def test_check_estimator(estimator, check):
    check(estimator)


def test_group_aware_cv_gets_the_groups():
    from sklearn.model_selection import GroupKFold

    X, y = wine()
    groups = np.arange(len(y)) % 4
    search = AML_SupervisedCV([1.0], [0.8, 8.0], cv=GroupKFold(4), random_state=0)
    search.fit(X, y, groups=groups)
    reference = GridSearchCV(
        make_pipeline(AML_Supervised(random_state=0), KNeighborsClassifier(5)),
        {"aml_supervised__alpha": [1.0], "aml_supervised__beta": [0.8, 8.0]},
        cv=GroupKFold(4),
    ).fit(X, y, groups=groups)
    assert search.n_splits_ == 4
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], reference.cv_results_["mean_test_score"]
    )
