"""scikit-learn compatibility: check_estimator, pipelines, grid search, API checks for pairs."""

from __future__ import annotations

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV, cross_val_score, cross_validate
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from advmetric import AML, GMML, AML_Supervised, GMML_Supervised

# --------------------------------------------------------------------------------------------
# The supervised estimators: scikit-learn's whole suite
# --------------------------------------------------------------------------------------------


# Every check that scikit-learn yields for these transformers, with no expected failures.
# (check_array_api_input skips itself unless SCIPY_ARRAY_API=1 is set; advmetric does not claim
# array-API support.)
@parametrize_with_checks([AML_Supervised(), GMML_Supervised()])
def test_check_estimator(estimator, check):
    check(estimator)


# Checks that exist in sklearn.utils.estimator_checks but that check_estimator does not yield for
# these estimators: feature names out, set_output, pandas column names. The pandas ones raise
# SkipTest (reported as skipped) when pandas is not installed. Not included: check_param_validation,
# which tests scikit-learn's private ``_parameter_constraints`` machinery.
EXTRA_CHECKS = [
    "check_transformer_get_feature_names_out",
    "check_get_feature_names_out_error",
    "check_set_output_transform",
    "check_transformer_get_feature_names_out_pandas",
    "check_set_output_transform_pandas",
    "check_global_output_transform_pandas",
    "check_dataframe_column_names_consistency",
]


@pytest.mark.parametrize("check", EXTRA_CHECKS)
@pytest.mark.parametrize("cls", [AML_Supervised, GMML_Supervised], ids=lambda c: c.__name__)
def test_extra_sklearn_checks(cls, check):
    getattr(estimator_checks, check)(cls.__name__, cls())


def test_pipeline_and_grid_search():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), AML_Supervised(random_state=0), KNeighborsClassifier(5))
    search = GridSearchCV(
        pipe, {"aml_supervised__alpha": [0.1, 1.0], "aml_supervised__beta": [0.5, 1.0]}, cv=3
    )
    search.fit(X, y)
    assert set(search.best_params_) == {"aml_supervised__alpha", "aml_supervised__beta"}
    assert search.cv_results_["mean_test_score"].shape == (4,)
    assert search.best_score_ > 0.85
    # the best learner's metric works as a KNeighborsClassifier metric, with the same result as
    # Euclidean k-NN on the transformed data
    learner = search.best_estimator_[1]
    Z = search.best_estimator_[0].transform(X)
    knn_metric = KNeighborsClassifier(5, metric=learner.get_metric()).fit(Z[::2], y[::2])
    knn_transform = KNeighborsClassifier(5).fit(learner.transform(Z[::2]), y[::2])
    np.testing.assert_array_equal(
        knn_metric.predict(Z[1::2]), knn_transform.predict(learner.transform(Z[1::2]))
    )


def test_gmml_supervised_in_a_pipeline_with_reduced_dimension():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(
        StandardScaler(), GMML_Supervised(n_components=2, random_state=0), KNeighborsClassifier()
    )
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.min() > 0.8
    assert pipe.fit(X, y)[:-1].transform(X).shape == (150, 2)


# --------------------------------------------------------------------------------------------
# The pairs estimators: scikit-learn's generic checks take 2-D X, so the ones about data are
# repeated here with 3-D pairs; those that need no data are run as they are.
# --------------------------------------------------------------------------------------------


def labelled_pairs(seed=0, n=300, d=4):
    """Random pairs; the similar ones (+1) are close, the dissimilar ones (-1) independent."""
    rng = np.random.default_rng(seed)
    pairs = rng.standard_normal((n, 2, d))
    y = np.where(rng.random(n) < 0.5, 1, -1)
    close = y > 0
    pairs[close, 1] = pairs[close, 0] + 0.3 * rng.standard_normal((int(close.sum()), d))
    return pairs, y


PAIR_LEARNERS = [AML(), GMML(), AML(alpha=0.5, beta=2.0, n_components=2), GMML(n_components=3)]
PAIR_IDS = ["AML", "GMML", "AML-low-rank", "GMML-low-rank"]
pairs_learners = pytest.mark.parametrize("estimator", PAIR_LEARNERS, ids=PAIR_IDS)

DATA_FREE_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimators_unfitted",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
]


@pytest.mark.parametrize("check", DATA_FREE_CHECKS)
@pairs_learners
def test_pairs_sklearn_checks_without_data(estimator, check):
    getattr(estimator_checks, check)(type(estimator).__name__, estimator)


PAIR_METHODS = ("pair_distance", "pair_score", "decision_function", "predict")


@pairs_learners
def test_pairs_fit_returns_self_and_leaves_parameters_alone(estimator):
    pairs, y = labelled_pairs()
    estimator = clone(estimator)
    params = estimator.get_params()
    params_hash = joblib.hash(params)
    public_before = {k for k in vars(estimator) if not k.startswith("_")}
    assert estimator.fit(pairs, y) is estimator
    assert joblib.hash(estimator.get_params()) == params_hash
    # fit adds only fitted attributes (ending in "_"), never other public ones
    added = {k for k in vars(estimator) if not k.startswith("_")} - public_before
    assert added and all(k.endswith("_") for k in added)
    assert estimator.n_features_in_ == 4
    assert is_classifier(estimator)
    np.testing.assert_array_equal(estimator.classes_, [-1, 1])
    assert np.isfinite(estimator.threshold_)


@pairs_learners
def test_pairs_clone_and_pickle(estimator):
    pairs, y = labelled_pairs()
    fitted = clone(estimator).fit(pairs, y)
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "components_") and not hasattr(copy, "threshold_")
    restored = pickle.loads(pickle.dumps(fitted))
    for method in PAIR_METHODS:
        np.testing.assert_array_equal(
            getattr(restored, method)(pairs), getattr(fitted, method)(pairs)
        )
    np.testing.assert_array_equal(restored.transform(pairs[:, 0]), fitted.transform(pairs[:, 0]))
    assert restored.score(pairs, y) == fitted.score(pairs, y)
    metric = pickle.loads(pickle.dumps(fitted.get_metric()))
    assert metric(pairs[0, 0], pairs[0, 1]) == fitted.get_metric()(pairs[0, 0], pairs[0, 1])


@pairs_learners
def test_pairs_list_and_tuple_inputs(estimator):
    pairs, y = labelled_pairs()
    reference = clone(estimator).fit(pairs, y)
    for convert in (lambda a: a.tolist(), lambda a: tuple(map(tuple, a.tolist()))):
        model = clone(estimator).fit(convert(pairs), tuple(y.tolist()))
        np.testing.assert_array_equal(model.components_, reference.components_)
        assert model.threshold_ == reference.threshold_
        for method in PAIR_METHODS:
            np.testing.assert_array_equal(
                getattr(model, method)(convert(pairs)), getattr(reference, method)(pairs)
            )
        assert model.score(convert(pairs), list(y)) == reference.score(pairs, y)


@pairs_learners
def test_pairs_readonly_memmap_input(estimator, tmp_path):
    pairs, y = labelled_pairs()
    np.save(tmp_path / "pairs.npy", pairs)
    np.save(tmp_path / "y.npy", y)
    pairs_mm = np.load(tmp_path / "pairs.npy", mmap_mode="r")
    y_mm = np.load(tmp_path / "y.npy", mmap_mode="r")
    model = clone(estimator).fit(pairs_mm, y_mm)
    reference = clone(estimator).fit(pairs, y)
    np.testing.assert_array_equal(model.components_, reference.components_)
    np.testing.assert_array_equal(model.predict(pairs_mm), reference.predict(pairs))


@pairs_learners
def test_pairs_fit_is_idempotent_and_methods_leave_the_estimator_alone(estimator):
    pairs, y = labelled_pairs()
    other_pairs, other_y = labelled_pairs(seed=5, n=120, d=4)
    model = clone(estimator).fit(pairs, y)
    first = {m: getattr(model, m)(pairs) for m in PAIR_METHODS}
    model.fit(other_pairs, other_y).fit(pairs, y)  # refitting forgets the previous fit
    for method in PAIR_METHODS:
        np.testing.assert_array_equal(getattr(model, method)(pairs), first[method])
    state = pickle.dumps(model.__dict__)
    for method in PAIR_METHODS:
        getattr(model, method)(other_pairs)
    model.score(other_pairs, other_y)
    model.transform(other_pairs[:, 0])
    assert pickle.dumps(model.__dict__) == state


@pairs_learners
def test_pairs_pipeline_consistency(estimator):
    # A pipeline ending with the pairs estimator gives the same results as the estimator.
    pairs, y = labelled_pairs(1)
    model = clone(estimator).fit(pairs, y)
    pipe = make_pipeline(clone(estimator)).fit(pairs, y)
    for method in ("decision_function", "predict"):
        np.testing.assert_allclose(getattr(pipe, method)(pairs), getattr(model, method)(pairs))
    assert pipe.score(pairs, y) == pytest.approx(model.score(pairs, y))
    np.testing.assert_allclose(pipe.transform(pairs[:, 0]), model.transform(pairs[:, 0]))


@pairs_learners
def test_pairs_cross_validation_with_pair_scorers(estimator):
    pairs, y = labelled_pairs(2)
    # the default scorer is the estimator's score (ROC-AUC); as a classifier the folds are
    # stratified on the pair labels
    default = cross_val_score(clone(estimator), pairs, y, cv=3)
    roc_auc = cross_val_score(clone(estimator), pairs, y, cv=3, scoring="roc_auc")
    np.testing.assert_allclose(default, roc_auc)
    assert default.min() > 0.9
    results = cross_validate(
        clone(estimator), pairs, y, cv=3, scoring=["accuracy", "f1", "average_precision"]
    )
    assert results["test_accuracy"].min() > 0.85
    assert results["test_f1"].min() > 0.85
    assert results["test_average_precision"].min() > 0.9


def test_pairs_grid_search():
    pairs, y = labelled_pairs(3)
    search = GridSearchCV(AML(), {"alpha": [0.0, 1.0], "beta": [0.5, 1.0]}, cv=3).fit(pairs, y)
    assert search.cv_results_["mean_test_score"].shape == (4,)
    assert search.best_score_ > 0.9
    assert search.best_estimator_.predict(pairs).shape == (300,)
