"""scikit-learn compatibility: check_estimator, pipelines, grid search, API checks for pairs."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from advmetric import AML, GMML, AML_Supervised, GMML_Supervised


# The full scikit-learn suite, with no expected failures. (check_array_api_input skips itself
# unless SCIPY_ARRAY_API=1 is set; advmetric does not claim array-API support.)
@parametrize_with_checks([AML_Supervised(), GMML_Supervised()])
def test_check_estimator(estimator, check):
    check(estimator)


def labelled_pairs(seed=0, n=300, d=4):
    rng = np.random.default_rng(seed)
    pairs = rng.standard_normal((n, 2, d))
    y = np.where(rng.random(n) < 0.5, 1, -1)
    close = y > 0
    pairs[close, 1] = pairs[close, 0] + 0.3 * rng.standard_normal((int(close.sum()), d))
    return pairs, y


PAIR_LEARNERS = [AML(), GMML()]


@pytest.mark.parametrize("estimator", PAIR_LEARNERS, ids=lambda e: type(e).__name__)
def test_pairs_api(estimator):
    pairs, y = labelled_pairs()
    params = estimator.get_params()
    assert not [k for k in vars(estimator) if k.endswith("_")]  # nothing fitted in __init__
    fitted = estimator.fit(pairs, y)
    assert fitted is estimator
    assert estimator.get_params() == params  # fit does not touch the parameters
    assert estimator.n_features_in_ == 4
    np.testing.assert_array_equal(estimator.classes_, [-1, 1])
    # clone gives an unfitted copy with the same parameters
    copy = clone(estimator)
    assert copy.get_params() == params and not hasattr(copy, "components_")
    # pickle round trip gives identical output
    restored = pickle.loads(pickle.dumps(estimator))
    for method in ("pair_distance", "decision_function", "predict"):
        np.testing.assert_array_equal(
            getattr(restored, method)(pairs), getattr(estimator, method)(pairs)
        )
    # list and tuple inputs give the same model
    as_lists = clone(estimator).fit(pairs.tolist(), tuple(y.tolist()))
    np.testing.assert_allclose(as_lists.components_, estimator.components_, rtol=1e-12)
    # the pairs scorer in cross-validation (ROC-AUC, well above chance on separable pairs)
    scores = cross_val_score(clone(estimator), pairs, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.9


@pytest.mark.parametrize("estimator", PAIR_LEARNERS, ids=lambda e: type(e).__name__)
def test_pairs_pipeline_consistency(estimator):
    # The same fitted metric in a transform pipeline: transform equals the learned components.
    pairs, y = labelled_pairs(1)
    model = clone(estimator).fit(pairs, y)
    X = pairs[:, 0]
    np.testing.assert_allclose(make_pipeline(model).transform(X), X @ model.components_.T)


def test_pipeline_and_grid_search():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), AML_Supervised(random_state=0), KNeighborsClassifier(5))
    search = GridSearchCV(
        pipe, {"aml_supervised__alpha": [0.1, 1.0], "aml_supervised__beta": [0.5, 1.0]}, cv=3
    )
    search.fit(X, y)
    assert set(search.best_params_) == {"aml_supervised__alpha", "aml_supervised__beta"}
    assert search.best_score_ > 0.85
    knn = KNeighborsClassifier(metric=search.best_estimator_[1].get_metric())
    assert (
        knn.fit(StandardScaler().fit_transform(X), y).score(StandardScaler().fit_transform(X), y)
        > 0.85
    )
