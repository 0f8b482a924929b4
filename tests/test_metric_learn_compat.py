"""Differential tests against metric-learn 0.7.0: the same metric, the same answers.

Both learners hold the same learned map L: ours is fitted, then its ``components_`` is assigned
to a fitted metric-learn learner (``components_`` is the documented attribute every
metric-learn Mahalanobis method reads). Every method the two share is then called on the same
inputs (formed pairs, index pairs with an array preprocessor, identifiers with a callable
preprocessor) and must give the same outputs, the same error kinds on the same bad inputs, and
the same thresholds for every calibration strategy. Known, deliberate differences are asserted
as such in ``test_documented_differences`` (and listed in docs/migrating.md).

metric-learn 0.7.0 needs scikit-learn < 1.8; ``.ci/metric_learn`` runs this module in such an
environment with ``ADVMETRIC_REQUIRE_METRIC_LEARN=1``, which turns the skip into a failure.
Self-contained (no conftest helpers) so it runs from outside the source tree.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

if os.environ.get("ADVMETRIC_REQUIRE_METRIC_LEARN") == "1":
    import metric_learn  # a missing or broken metric-learn is a failure here, not a skip
else:
    metric_learn = pytest.importorskip("metric_learn")

from metric_learn import MMC, MMC_Supervised
from metric_learn._util import ArrayIndexer as MLArrayIndexer
from metric_learn._util import check_input as ml_check_input
from metric_learn.constraints import Constraints
from scipy.spatial.distance import pdist
from sklearn.neighbors import KNeighborsClassifier

from advmetric import AML, GMML, AML_Supervised, GMML_Supervised
from advmetric._inputs import check_input
from advmetric.constraints import sample_pairs

N_POINTS, D = 60, 4
PAIR_LEARNERS = {
    "AML": lambda **kw: AML(alpha=0.5, **kw),
    "GMML": lambda **kw: GMML(**kw),
}
SUPERVISED = {
    "AML_Supervised": lambda **kw: AML_Supervised(random_state=0, **kw),
    "GMML_Supervised": lambda **kw: GMML_Supervised(random_state=0, **kw),
}


def _data(seed=0, n_pairs=150):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N_POINTS, D)) * np.array([1.0, 3.0, 0.5, 2.0])
    index = np.stack([rng.integers(0, N_POINTS, n_pairs), rng.integers(0, N_POINTS, n_pairs)], 1)
    index[:, 1] = np.where(index[:, 0] == index[:, 1], (index[:, 1] + 1) % N_POINTS, index[:, 1])
    # similar when the first feature is close: a metric that stretches feature 0 separates them
    y = np.where(np.abs(X[index[:, 0], 0] - X[index[:, 1], 0]) < 0.8, 1, -1)
    return X, index, y


def _callable(X):
    # identifiers are strings "p<row>", resolved by a callable as metric-learn allows
    def lookup(ids):
        return X[[int(s[1:]) for s in ids]]

    return lookup


def _inputs(kind, X, index):
    """(preprocessor, pairs) of one kind for the same pairs."""
    if kind == "formed":
        return None, X[index]
    if kind == "indices":
        return X, index
    ids = np.array([[f"p{i}", f"p{j}"] for i, j in index])
    return _callable(X), ids


def _fitted_pair(name, kind, X, index, y):
    """Our learner and MMC, fitted on the same pairs, holding our L."""
    preprocessor, pairs = _inputs(kind, X, index)
    ours = PAIR_LEARNERS[name](preprocessor=preprocessor).fit(pairs, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = MMC(preprocessor=preprocessor, max_iter=5, random_state=0).fit(pairs, y)
    theirs.components_ = ours.components_.copy()
    return ours, theirs, pairs


def _error_kind(call):
    try:
        call()
    except Exception as error:  # the kind is what the test compares
        names = [c.__name__ for c in type(error).__mro__]
        for kind in ("PreprocessorError", "NonPSDError", "NotFittedError"):
            if kind in names:
                return kind
        for kind in (TypeError, ValueError, AttributeError, IndexError):
            if isinstance(error, kind):
                return kind.__name__
        return type(error).__name__
    return None


# -- same outputs -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["formed", "indices", "callable"])
@pytest.mark.parametrize("name", sorted(PAIR_LEARNERS))
def test_pair_methods_agree(name, kind):
    X, index, y = _data()
    ours, theirs, pairs = _fitted_pair(name, kind, X, index, y)
    np.testing.assert_allclose(ours.get_mahalanobis_matrix(), theirs.get_mahalanobis_matrix())
    np.testing.assert_allclose(ours.pair_distance(pairs), theirs.pair_distance(pairs), rtol=1e-12)
    np.testing.assert_allclose(ours.pair_score(pairs), theirs.pair_score(pairs), rtol=1e-12)
    np.testing.assert_allclose(
        ours.decision_function(pairs), theirs.decision_function(pairs), rtol=1e-12
    )
    assert ours.score(pairs, y) == pytest.approx(theirs.score(pairs, y), rel=1e-12)
    with pytest.warns(FutureWarning):
        ours_scores = ours.score_pairs(pairs)
    with pytest.warns(FutureWarning):
        theirs_scores = theirs.score_pairs(pairs)
    np.testing.assert_allclose(ours_scores, theirs_scores, rtol=1e-12)
    threshold = float(np.median(ours.pair_distance(pairs)))
    ours.set_threshold(threshold)
    theirs.set_threshold(threshold)
    np.testing.assert_array_equal(ours.predict(pairs), theirs.predict(pairs))
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X), rtol=1e-12)
    if kind == "indices":  # points as 1-D identifiers through the preprocessor
        rows = np.array([3, 0, 7, -1])
        np.testing.assert_allclose(ours.transform(rows), theirs.transform(rows), rtol=1e-12)
    if kind == "callable":
        ids = np.array(["p3", "p0", "p7"])
        np.testing.assert_allclose(ours.transform(ids), theirs.transform(ids), rtol=1e-12)


@pytest.mark.parametrize("kind", ["formed", "indices", "callable"])
def test_fit_threshold_agrees(kind):
    """The threshold ``fit`` calibrates (accuracy on the training pairs) is metric-learn's: MMC's
    fit calibrates the same way, so refitting ours' threshold on MMC (holding our L) agrees."""
    X, index, y = _data(1)
    ours, theirs, pairs = _fitted_pair("AML", kind, X, index, y)
    theirs.calibrate_threshold(pairs, y)
    assert ours.threshold_ == pytest.approx(theirs.threshold_, rel=1e-12)
    np.testing.assert_array_equal(ours.predict(pairs), theirs.predict(pairs))


STRATEGIES = [
    {"strategy": "accuracy"},
    *({"strategy": "f_beta", "beta": b} for b in (1.0, 0.5, 2.0, 0.0, -1.5)),
    *({"strategy": s, "min_rate": r} for s in ("max_tpr", "max_tnr") for r in (0, 0.3, 0.8, 1)),
]


@pytest.mark.parametrize("params", STRATEGIES, ids=lambda p: "-".join(map(str, p.values())))
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("kind", ["formed", "indices"])
def test_threshold_strategies_agree(params, ties, kind):
    X, index, y = _data(2)
    if ties:  # repeated pairs with both labels: equal distances
        index = np.concatenate([index, index[:40]])
        y = np.concatenate([y, -y[:40]])
    ours, theirs, pairs = _fitted_pair("AML", kind, X, index, y)
    ours.calibrate_threshold(pairs, y, **params)
    theirs.calibrate_threshold(pairs, y, **params)
    ours_rates, theirs_rates = _rates(ours.predict(pairs), y), _rates(theirs.predict(pairs), y)
    strategy = params["strategy"]
    if strategy == "accuracy" and ties:
        # metric-learn scores a group of equal distances as if a threshold could split it, but
        # its threshold then accepts the whole group: its real accuracy can be lower than ours
        assert ours_rates["accuracy"] >= theirs_rates["accuracy"]
    elif strategy == "max_tnr":
        # both reach the highest true negative rate allowed; among ties metric-learn takes the
        # lowest true positive rate (at min_rate 0: threshold -inf, nothing accepted), ours the
        # highest
        assert ours_rates["tpr"] >= params["min_rate"]
        assert ours_rates["tnr"] == theirs_rates["tnr"]
        assert ours_rates["tpr"] >= theirs_rates["tpr"]
    else:
        # the choice is which pairs are accepted; where a distance is chosen it is the same one
        np.testing.assert_array_equal(ours.predict(pairs), theirs.predict(pairs))
        distance = ours.pair_distance(pairs)
        if distance.min() <= theirs.threshold_:  # not "reject all" (both lie below the minimum)
            assert ours.threshold_ == pytest.approx(theirs.threshold_, rel=1e-12)


def _rates(predicted, y):
    similar, dissimilar = y == 1, y == -1
    return {
        "accuracy": np.mean(predicted == y),
        "tpr": np.mean(predicted[similar] == 1),
        "tnr": np.mean(predicted[dissimilar] == -1),
    }


@pytest.mark.parametrize("params", STRATEGIES, ids=lambda p: "-".join(map(str, p.values())))
def test_threshold_reject_all_agrees(params):
    """A validation set where rejecting every pair is best for accuracy."""
    X, index, y = _data(3, n_pairs=30)
    ours, theirs, pairs = _fitted_pair("GMML", "formed", X, index, y)
    y_bad = -np.ones(len(y), dtype=int)
    y_bad[np.argmax(ours.pair_distance(pairs))] = 1  # the only similar pair is the farthest
    for model in (ours, theirs):
        model.calibrate_threshold(pairs, y_bad, **params)
    np.testing.assert_array_equal(ours.predict(pairs), theirs.predict(pairs))


@pytest.mark.parametrize("name", sorted(SUPERVISED))
@pytest.mark.parametrize("with_preprocessor", [False, True])
def test_supervised_methods_agree(name, with_preprocessor):
    X, _, _ = _data()
    classes = np.arange(N_POINTS) % 3
    preprocessor = X if with_preprocessor else None
    data = np.arange(N_POINTS) if with_preprocessor else X
    ours = SUPERVISED[name](preprocessor=preprocessor, n_constraints=50).fit(data, classes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = MMC_Supervised(
            preprocessor=preprocessor, n_constraints=50, max_iter=5, random_state=0
        ).fit(data, classes)
    theirs.components_ = ours.components_.copy()
    np.testing.assert_allclose(ours.transform(data), theirs.transform(data), rtol=1e-12)
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X), rtol=1e-12)
    pairs = X[np.array([[0, 1], [2, 5], [7, 3]])]
    np.testing.assert_allclose(ours.pair_distance(pairs), theirs.pair_distance(pairs), rtol=1e-12)
    if with_preprocessor:
        index = np.array([[0, 1], [2, 5], [7, 3]])
        np.testing.assert_allclose(
            ours.pair_distance(index), theirs.pair_distance(index), rtol=1e-12
        )
    # both are transformers: fit_transform equals fit then transform
    np.testing.assert_allclose(
        SUPERVISED[name](preprocessor=preprocessor, n_constraints=50).fit_transform(data, classes),
        ours.transform(data),
    )


def test_get_metric_agrees():
    X, index, y = _data()
    ours, theirs, _ = _fitted_pair("AML", "formed", X, index, y)
    m_ours, m_theirs = ours.get_metric(), theirs.get_metric()
    for u, v in [(X[0], X[1]), (X[0:1], X[1]), (list(X[2]), tuple(X[3])), (X[4][None], X[5][None])]:
        assert m_ours(u, v) == pytest.approx(m_theirs(u, v), rel=1e-12)
        assert m_ours(u, v, squared=True) == pytest.approx(m_theirs(u, v, squared=True), rel=1e-12)
    np.testing.assert_allclose(pdist(X[:10], m_ours), pdist(X[:10], m_theirs), rtol=1e-12)
    labels = np.arange(N_POINTS) % 3
    for algorithm in ("brute", "ball_tree"):
        knn_ours = KNeighborsClassifier(3, metric=m_ours, algorithm=algorithm).fit(X, labels)
        knn_theirs = KNeighborsClassifier(3, metric=m_theirs, algorithm=algorithm).fit(X, labels)
        np.testing.assert_array_equal(knn_ours.predict(X), knn_theirs.predict(X))
    # a 2-D input is refused by both
    assert _error_kind(lambda: m_ours(X[:2], X[:2])) == "ValueError"
    assert _error_kind(lambda: m_theirs(X[:2], X[:2])) == "ValueError"


def test_n_constraints_counts_pairs_of_each_kind():
    classes = np.arange(300) % 4
    a, _, c, _ = Constraints(classes).positive_negative_pairs(70, random_state=0)
    _, labels = sample_pairs(classes, 70, random_state=0)
    assert len(a) == np.sum(labels == 1) == 70
    assert len(c) == np.sum(labels == -1) == 70


def test_check_input_agrees():
    X, index, y = _data()
    pairs = X[index]
    cases = [
        dict(input_data=pairs, type_of_inputs="tuples", tuple_size=2),
        dict(input_data=index, preprocessor=X, type_of_inputs="tuples", tuple_size=2),
        dict(input_data=np.arange(5), preprocessor=X, type_of_inputs="classic"),
        dict(input_data=X, type_of_inputs="classic"),
    ]
    for case in cases:
        theirs = dict(case)
        if "preprocessor" in case:  # metric-learn's utility takes the estimator's wrapped form
            theirs["preprocessor"] = MLArrayIndexer(case["preprocessor"])
        np.testing.assert_array_equal(check_input(**case), ml_check_input(**theirs))
    ours_X, ours_y = check_input(pairs, y, type_of_inputs="tuples", tuple_size=2)
    theirs_X, theirs_y = ml_check_input(pairs, y, type_of_inputs="tuples", tuple_size=2)
    np.testing.assert_array_equal(ours_X, theirs_X)
    np.testing.assert_array_equal(ours_y, theirs_y)


# -- same error kinds ---------------------------------------------------------------------------
def _bad_pair_inputs(X, index):
    """name -> (preprocessor kind, preprocessor, bad pairs)."""
    pairs = X[index]
    nan_pairs = pairs.copy()
    nan_pairs[0, 0, 0] = np.nan
    lookup = _callable(X)
    return {
        "2d-without-preprocessor": ("formed", None, index),
        "1d": ("formed", None, pairs[:, 0, 0]),
        "4d": ("formed", None, pairs[:, :, :, None]),
        "triplets": ("formed", None, np.concatenate([pairs, pairs[:, :1]], axis=1)),
        "nan": ("formed", None, nan_pairs),
        "empty": ("formed", None, pairs[:0]),
        "ragged": ("formed", None, [[[1.0, 2.0], [3.0]], [[1.0, 2.0], [3.0, 4.0]]]),
        "index-out-of-range": ("indices", X, np.array([[0, 1], [2, N_POINTS]])),
        "float-indices": ("indices", X, index.astype(float) + 0.5),
        "index-triplets": ("indices", X, np.concatenate([index, index[:, :1]], axis=1)),
        "index-4d": ("indices", X, index[:, :, None, None]),
        "index-nan-rows": ("indices", X, np.array([[np.nan, 1.0]])),
        "callable-raises": ("callable", lookup, np.array([["p1", "px"], ["p2", "p3"]])),
        "callable-1d-ids": ("callable", lookup, np.array(["p1", "p2"])),
    }


BAD_PAIRS = sorted(_bad_pair_inputs(*_data()[:2]))
METHODS = {
    "pair_distance": lambda m, bad, labels: m.pair_distance(bad),
    "pair_score": lambda m, bad, labels: m.pair_score(bad),
    "decision_function": lambda m, bad, labels: m.decision_function(bad),
    "predict": lambda m, bad, labels: m.predict(bad),
    "score": lambda m, bad, labels: m.score(bad, labels),
    "calibrate_threshold": lambda m, bad, labels: m.calibrate_threshold(bad, labels),
}


def _labels_for(bad):
    n = len(bad) if hasattr(bad, "__len__") else 1
    return np.where(np.arange(n) % 2 == 0, 1, -1)


@pytest.mark.parametrize("case", BAD_PAIRS)
@pytest.mark.parametrize("method", sorted(METHODS))
def test_bad_pairs_same_error_kind(case, method):
    X, index, y = _data()
    kind, _, bad = _bad_pair_inputs(X, index)[case]
    ours, theirs, _ = _fitted_pair("AML", kind, X, index, y)
    labels = _labels_for(bad)
    kinds = [_error_kind(lambda m=m: METHODS[method](m, bad, labels)) for m in (ours, theirs)]
    assert kinds[0] is not None and kinds[0] == kinds[1], kinds


@pytest.mark.parametrize("case", [*BAD_PAIRS, "bad-preprocessor-type"])
def test_bad_fit_same_error_kind(case):
    X, index, _ = _data()
    if case == "bad-preprocessor-type":
        preprocessor, bad = 5, index
    else:
        _, preprocessor, bad = _bad_pair_inputs(X, index)[case]
    labels = _labels_for(bad)
    kinds = [
        _error_kind(lambda m=m: m.fit(bad, labels))
        for m in (AML(preprocessor=preprocessor), MMC(preprocessor=preprocessor, max_iter=2))
    ]
    assert kinds[0] is not None and kinds[0] == kinds[1], kinds


@pytest.mark.parametrize(
    "labels", [[1, 0, 1, 0], [1, 2, 1, -1], [1, 1, 1, 1.5]], ids=["zero", "two", "fraction"]
)
def test_bad_pair_labels_same_error_kind(labels):
    X, index, _ = _data()
    pairs = X[index[:4]]
    kinds = [
        _error_kind(lambda m=m: m.fit(pairs, np.array(labels))) for m in (AML(), MMC(max_iter=2))
    ]
    assert kinds[0] == kinds[1] == "ValueError", kinds


def test_not_fitted_same_error_kind():
    X, index, _ = _data()
    pairs = X[index]
    for method in ("pair_distance", "pair_score", "decision_function", "predict"):
        kinds = [
            _error_kind(lambda m=m, method=method: getattr(m, method)(pairs))
            for m in (AML(), MMC())
        ]
        assert kinds == ["NotFittedError", "NotFittedError"], (method, kinds)
    kinds = [_error_kind(lambda m=m: m.transform(X)) for m in (AML(), MMC())]
    assert kinds == ["NotFittedError", "NotFittedError"]


@pytest.mark.parametrize("threshold", ["abc", None, [1.0, 2.0], {"t": 1}, object()], ids=repr)
def test_set_threshold_same_error_kind(threshold):
    X, index, y = _data()
    ours, theirs, _ = _fitted_pair("GMML", "formed", X, index, y)
    kinds = [_error_kind(lambda m=m: m.set_threshold(threshold)) for m in (ours, theirs)]
    assert kinds == ["ValueError", "ValueError"], kinds


@pytest.mark.parametrize(
    "params",
    [
        {"strategy": "foo"},
        {"strategy": "max_tpr"},
        {"strategy": "max_tnr", "min_rate": 1.5},
        {"strategy": "max_tpr", "min_rate": -0.1},
        {"strategy": "max_tnr", "min_rate": "0.5"},
        {"strategy": "f_beta", "beta": None},
        {"strategy": "f_beta", "beta": "1"},
    ],
    ids=repr,
)
def test_bad_calibration_params_same_error_kind(params):
    X, index, y = _data()
    ours, theirs, pairs = _fitted_pair("GMML", "formed", X, index, y)
    kinds = [
        _error_kind(lambda m=m: m.calibrate_threshold(pairs, y, **params)) for m in (ours, theirs)
    ]
    assert kinds == ["ValueError", "ValueError"], kinds
    kinds = [
        _error_kind(lambda m=m: m.fit(pairs, y, calibration_params=params))
        for m in (GMML(), MMC(max_iter=2))
    ]
    assert kinds == ["ValueError", "ValueError"], kinds


def _bad_inits():
    rng = np.random.RandomState(42)
    Q, _ = np.linalg.qr(rng.standard_normal((D, D)))
    w = np.abs(rng.standard_normal(D)) + 0.5
    w[0] = -10.0
    return {
        "wrong-size": np.eye(D + 1),
        "not-symmetric": rng.rand(D, D) + 3 * np.eye(D),
        "negative-eigenvalue": (Q * w) @ Q.T,
        "unknown-name": "pca-ish",
        "a-number": 1,
    }


@pytest.mark.parametrize("case", sorted(_bad_inits()))
def test_bad_init_same_error_kind(case):
    init = _bad_inits()[case]
    X, index, y = _data()
    pairs = X[index]
    kinds = [
        _error_kind(lambda m=m: m.fit(pairs, y))
        for m in (AML(init=init), MMC(init=init, max_iter=2))
    ]
    assert kinds[0] is not None and kinds[0] == kinds[1], kinds


@pytest.mark.parametrize("init", ["identity", "random", "covariance", "spd-array"])
def test_valid_inits_accepted_by_both(init):
    X, index, y = _data()
    pairs = X[index]
    if init == "spd-array":
        init = np.diag([1.0, 2.0, 3.0, 4.0])
    AML(init=init, random_state=0).fit(pairs, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MMC(init=init, max_iter=2, random_state=0).fit(pairs, y)


def test_random_init_is_metric_learns_matrix():
    """init='random' with the same random_state starts from the same SPD matrix: a run of zero
    effect (alpha=0 is GMML's convex problem, so the start changes only the path) is not
    observable, so compare the matrix metric-learn draws with what ours resolves."""
    from metric_learn._util import _initialize_metric_mahalanobis

    from advmetric._inputs import check_init

    X, index, _ = _data()
    theirs = _initialize_metric_mahalanobis(X[index], "random", random_state=7)
    np.testing.assert_array_equal(check_init("random", D, None, 7), theirs)
    theirs = _initialize_metric_mahalanobis(X[index], "covariance")
    from advmetric._inputs import covariance_init, pair_points

    np.testing.assert_allclose(covariance_init(pair_points(X[index])), theirs, rtol=1e-10)


# -- deliberate differences (docs/migrating.md) -------------------------------------------------
def test_documented_differences():
    X, index, y = _data()
    ours, theirs, pairs = _fitted_pair("GMML", "formed", X, index, y)
    # classes_: ours match predict's labels
    np.testing.assert_array_equal(ours.classes_, [-1, 1])
    np.testing.assert_array_equal(theirs.classes_, [0, 1])
    # set_threshold: metric-learn converts with float(), so it takes "0.5", True and inf
    theirs.set_threshold("0.5")
    assert _error_kind(lambda: ours.set_threshold("0.5")) == "ValueError"
    assert _error_kind(lambda: ours.set_threshold(np.inf)) == "ValueError"
    # complex input: a TypeError here (wrong kind of data), a ValueError in scikit-learn's checks
    complex_pairs = pairs.astype(complex)
    assert _error_kind(lambda: ours.pair_distance(complex_pairs)) == "TypeError"
    assert _error_kind(lambda: theirs.pair_distance(complex_pairs)) == "ValueError"
    # a singular PSD init: MMC starts from it; our solver needs an SPD start (LinAlgError)
    singular = np.diag([1.0, 1.0, 1.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MMC(init=singular, max_iter=2).fit(pairs, y)
    assert _error_kind(lambda: AML(init=singular).fit(pairs, y)) == "ValueError"  # LinAlgError
    # score: metric-learn passes labels straight to roc_auc_score, so {0, 1} labels work there
    y01 = (y > 0).astype(int)
    assert theirs.score(pairs, y01) == pytest.approx(ours.score(pairs, y))
    assert _error_kind(lambda: ours.score(pairs, y01)) == "ValueError"
    # a callable preprocessor returning one value per identifier (1-D): metric-learn fails
    # reading a third axis (IndexError); ours says what is wrong (ValueError)
    flat = lambda ids: np.zeros(len(ids))  # noqa: E731
    index4, y4 = index[:4], np.array([1, -1, 1, -1])
    assert _error_kind(lambda: MMC(preprocessor=flat).fit(index4, y4)) == "IndexError"
    assert _error_kind(lambda: AML(preprocessor=flat).fit(index4, y4)) == "ValueError"
    # pair learners have no fit_transform (neither has MMC); the supervised ones both have it
    assert not hasattr(ours, "fit_transform") and not hasattr(theirs, "fit_transform")
    assert hasattr(AML_Supervised(), "fit_transform") and hasattr(MMC_Supervised(), "fit_transform")
