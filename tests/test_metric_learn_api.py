"""metric-learn's API contract on our learners (issue 17), checked without metric-learn.

Preprocessors and index pairs, ``init`` options, ``random_state``, ``score_pairs``,
``get_metric`` inputs, ``n_constraints`` per kind, threshold argument checks, no
``fit_transform`` on pair learners, and the ``check_input`` utility. The differential tests
against metric-learn itself are in test_metric_learn_compat.py.
"""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from sklearn.base import clone
from sklearn.datasets import make_spd_matrix
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import KNeighborsClassifier

from advmetric import AML, GMML, AML_Supervised, GMML_Supervised, PairStatistics, _inputs
from advmetric.constraints import sample_pairs
from advmetric.exceptions import NonPSDError, PreprocessorError

PAIR_LEARNERS = {"AML": lambda **kw: AML(alpha=0.5, **kw), "GMML": lambda **kw: GMML(**kw)}
SUPERVISED = {
    "AML_Supervised": lambda **kw: AML_Supervised(random_state=0, n_constraints=300, **kw),
    "GMML_Supervised": lambda **kw: GMML_Supervised(random_state=0, n_constraints=300, **kw),
}


def _data(seed=0, n_points=40, d=3, n_pairs=120):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_points, d)) * (1.0 + np.arange(d))
    index = rng.integers(0, n_points, (n_pairs, 2))
    index[:, 1] = np.where(index[:, 0] == index[:, 1], (index[:, 1] + 1) % n_points, index[:, 1])
    y = np.where(np.abs(X[index[:, 0], 0] - X[index[:, 1], 0]) < 0.7, 1, -1)
    y[:2] = [1, -1]
    return X, index, y


def _lookup(X):
    return lambda ids: X[[int(s[1:]) for s in ids]]


def _ids(index):
    return np.array([[f"p{i}", f"p{j}"] for i, j in index])


def _pair_outputs(model, pairs, y):
    with pytest.warns(FutureWarning, match="score_pairs"):
        score_pairs = model.score_pairs(pairs)
    return {
        "pair_distance": model.pair_distance(pairs),
        "pair_score": model.pair_score(pairs),
        "decision_function": model.decision_function(pairs),
        "predict": model.predict(pairs),
        "score": model.score(pairs, y),
        "score_pairs": score_pairs,
        "calibrated": clone(model)
        .fit(pairs, y, calibration_params={"strategy": "f_beta", "beta": 0.5})
        .threshold_,
        "calibrate_threshold": model.calibrate_threshold(pairs, y, strategy="max_tpr", min_rate=0.5)
        .set_threshold(model.threshold_)
        .threshold_,
    }


# -- 1. preprocessor ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["array", "callable"])
@pytest.mark.parametrize("name", sorted(PAIR_LEARNERS))
def test_pairs_through_a_preprocessor_equal_formed_pairs(name, kind):
    X, index, y = _data()
    formed = PAIR_LEARNERS[name]().fit(X[index], y)
    preprocessor, pairs = (X, index) if kind == "array" else (_lookup(X), _ids(index))
    model = PAIR_LEARNERS[name](preprocessor=preprocessor).fit(pairs, y)
    np.testing.assert_allclose(model.components_, formed.components_, rtol=1e-10, atol=1e-12)
    assert model.threshold_ == pytest.approx(formed.threshold_, rel=1e-12)
    ours, reference = _pair_outputs(model, pairs, y), _pair_outputs(formed, X[index], y)
    for method, value in reference.items():
        np.testing.assert_allclose(ours[method], value, rtol=1e-12, err_msg=method)
    # formed pairs are still accepted with a preprocessor set, and points too
    np.testing.assert_allclose(model.pair_distance(X[index]), reference["pair_distance"])
    rows = np.array([0, 5, 7])
    identifiers = rows if kind == "array" else np.array(["p0", "p5", "p7"])
    np.testing.assert_allclose(model.transform(identifiers), formed.transform(X[rows]))
    if kind == "array":
        assert isinstance(model.preprocessor_, _inputs.ArrayIndexer)
    else:
        assert model.preprocessor_ is model.preprocessor


@pytest.mark.parametrize("kind", ["array", "callable"])
@pytest.mark.parametrize("name", sorted(SUPERVISED))
def test_supervised_fit_and_transform_through_a_preprocessor(name, kind):
    X, _, _ = _data()
    classes = np.arange(len(X)) % 3
    rows = np.arange(len(X))
    preprocessor, ids = (
        (X, rows) if kind == "array" else (_lookup(X), np.array([f"p{i}" for i in rows]))
    )
    formed = SUPERVISED[name]().fit(X, classes)
    model = SUPERVISED[name](preprocessor=preprocessor).fit(ids, classes)
    np.testing.assert_allclose(model.components_, formed.components_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.transform(ids[:5]), formed.transform(X[:5]), rtol=1e-12)
    np.testing.assert_allclose(model.transform(X[:5]), formed.transform(X[:5]), rtol=1e-12)
    np.testing.assert_allclose(
        SUPERVISED[name](preprocessor=preprocessor).fit_transform(ids, classes),
        formed.transform(X),
        rtol=1e-10,
        atol=1e-12,
    )


def test_index_pairs_are_never_formed(monkeypatch):
    """Index pairs reach the statistics and the distances as indices: the (n, 2, d) array is
    never built (formed() and the formed-pairs statistics are switched off)."""
    X, index, y = _data()

    def refuse(*args, **kwargs):
        raise AssertionError("index pairs were formed")

    monkeypatch.setattr(_inputs.IndexedPairs, "formed", refuse)
    monkeypatch.setattr(PairStatistics, "from_pairs", refuse)
    for name in sorted(PAIR_LEARNERS):
        model = PAIR_LEARNERS[name](preprocessor=X).fit(index, y)
        model.predict(index), model.score(index, y), model.decision_function(index)
        model.calibrate_threshold(index, y, strategy="max_tnr", min_rate=0.2)


def test_index_pair_distances_use_memory_of_a_block():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 40))
    index = rng.integers(0, 200, (40_000, 2))
    y = np.where(np.arange(40_000) % 2 == 0, 1, -1)
    model = GMML(preprocessor=X).fit(index[:2000], y[:2000])
    formed_bytes = index.shape[0] * 2 * X.shape[1] * 8  # 25.6 MB
    tracemalloc.start()
    distance = model.pair_distance(index)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < formed_bytes / 2, peak
    np.testing.assert_allclose(
        distance, GMML().fit(X[index[:2000]], y[:2000]).pair_distance(X[index])
    )


def test_negative_indices_count_from_the_end():
    X, index, y = _data()
    model = GMML(preprocessor=X).fit(index, y)
    negative = index - len(X)
    np.testing.assert_allclose(model.pair_distance(negative), model.pair_distance(index))
    np.testing.assert_allclose(model.transform(np.array([-1])), model.transform(X[-1:]))


def test_fit_statistics_resolves_the_preprocessor():
    X, index, y = _data()
    model = GMML(preprocessor=X).fit_statistics(PairStatistics.from_indices(X, index, y))
    np.testing.assert_allclose(model.pair_distance(index), model.pair_distance(X[index]))


@pytest.mark.parametrize(
    ("preprocessor", "pairs", "error", "match"),
    [
        (None, "index", ValueError, "3D array.*preprocessor"),
        ("X", "out-of-range", PreprocessorError, "out of range"),
        ("X", "float", PreprocessorError, "integers"),
        ("X", "triplets", ValueError, r"\(n, 2\)"),
        ("X", "4d", ValueError, "2D array of identifiers or a 3D array"),
        ("callable", "bad-id", PreprocessorError, "preprocessor"),
        ("flat", "index", ValueError, "2D array with one point per identifier"),
        (5, "index", ValueError, "Invalid type for the preprocessor"),
        ("abc", "index", ValueError, "Invalid type for the preprocessor"),
        ("X-1d", "index", ValueError, "2-D array"),
        ("X-nan", "index", ValueError, "NaN"),
    ],
)
def test_bad_preprocessor_input_is_refused_clearly(preprocessor, pairs, error, match):
    X, index, _ = _data()
    preprocessor = {
        "X": X,
        "callable": _lookup(X),
        "flat": lambda ids: np.zeros(len(ids)),
        "X-1d": X[:, 0],
        "X-nan": np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X),
    }.get(preprocessor, preprocessor)
    pairs = {
        "index": index,
        "out-of-range": np.array([[0, 1], [2, len(X)]]),
        "float": index + 0.5,
        "triplets": np.c_[index, index[:, 0]],
        "4d": index[:, :, None, None],
        "bad-id": np.array([["p1", "px"], ["p2", "p3"]]),
    }[pairs]
    labels = np.where(np.arange(len(pairs)) % 2 == 0, 1, -1)
    with pytest.raises(error, match=match) as info:
        AML(preprocessor=preprocessor).fit(pairs, labels)
    assert isinstance(info.value, ValueError)  # PreprocessorError is a ValueError too


def test_preprocessor_error_keeps_the_cause():
    X, index, y = _data()
    model = GMML(preprocessor=_lookup(X)).fit(_ids(index), y)
    with pytest.raises(PreprocessorError) as info:
        model.predict(np.array([["p1", "oops"]]))
    assert isinstance(info.value.__cause__, ValueError)  # int("ops") failed in the callable


def test_preprocessor_is_a_parameter():
    X, _, _ = _data()
    for make in (*PAIR_LEARNERS.values(), *SUPERVISED.values()):
        model = make(preprocessor=X)
        assert model.get_params()["preprocessor"] is X
        np.testing.assert_array_equal(clone(model).preprocessor, X)


# -- 2. init -----------------------------------------------------------------------------------
def test_init_options_are_used_as_start_points():
    X, index, y = _data()
    pairs = X[index]
    starts = {}
    for init in ("gmml", "identity", "covariance", "random", make_spd_matrix(3, random_state=1)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = AML(init=init, random_state=0, solver="pgd", max_iter=1).fit(pairs, y)
        starts[str(init)[:12]] = model.objective_history_[0]
    # one iteration from five different starts: five different starting objectives
    assert len({round(v, 10) for v in starts.values()}) == 5, starts


def test_random_init_follows_random_state():
    M = _inputs.check_init("random", 4, None, 3)
    np.testing.assert_array_equal(M, make_spd_matrix(4, random_state=3))
    X, index, y = _data()
    first = AML(init="random", random_state=0, max_iter=3, tol=1e-12)
    second = clone(first)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        np.testing.assert_array_equal(
            first.fit(X[index], y).components_, second.fit(X[index], y).components_
        )


def test_covariance_init_is_the_inverse_covariance_of_the_points():
    X, index, _ = _data()
    points = np.unique(X[index].reshape(-1, 3), axis=0)
    M = _inputs.covariance_init(_inputs.pair_points(X[index]))
    np.testing.assert_allclose(M @ np.cov(points, rowvar=False), np.eye(3), atol=1e-10)
    indexed = _inputs.IndexedPairs(X, index)
    np.testing.assert_allclose(_inputs.covariance_init(_inputs.pair_points(indexed)), M)
    singular = np.c_[X, X[:, 0] + X[:, 1]]
    with pytest.raises(np.linalg.LinAlgError, match="not strictly positive definite"):
        AML_Supervised(init="covariance", n_constraints=50).fit(singular, np.arange(40) % 2)


def test_linear_map_init_keeps_its_metric_and_completes_it():
    rng = np.random.default_rng(0)
    L = rng.standard_normal((2, 4))
    M = _inputs.check_init(L, 4, 2, None)
    assert np.linalg.eigvalsh(M)[0] > 0
    v = L.T @ rng.standard_normal(2)  # in L's row space, M acts as L^T L
    assert v @ M @ v == pytest.approx(v @ L.T @ L @ v)
    X = rng.standard_normal((60, 4))
    classes = np.arange(60) % 3
    AML_Supervised(init=L, n_components=2, n_constraints=100, random_state=0).fit(X, classes)


@pytest.mark.parametrize(
    ("init", "n_components", "error", "match"),
    [
        ("pca-ish", None, ValueError, "`init` must be"),
        (1, None, ValueError, "`init` must be"),
        (None, None, ValueError, "`init` must be"),
        (np.eye(4), None, ValueError, "dimensionality"),
        (np.ones((4, 3)), None, ValueError, "cannot be greater"),
        (np.triu(np.ones((3, 3))) + np.eye(3), None, ValueError, "not symmetric"),
        (-np.eye(3), None, NonPSDError, "positive semidefinite"),
        (np.diag([1.0, 1.0, 0.0]), None, np.linalg.LinAlgError, "strictly positive definite"),
        (np.ones((2, 3)), 1, ValueError, "n_components"),
        (np.ones((2, 3)), None, ValueError, "n_components=2"),
        (np.zeros((2, 3)), 2, np.linalg.LinAlgError, "zeros"),
        (np.array([["a"] * 3] * 3), None, TypeError, "numeric"),
        (np.full((3, 3), np.nan), None, ValueError, "NaN"),
    ],
)
def test_bad_init_is_refused_with_metric_learns_error_kinds(init, n_components, error, match):
    X, index, y = _data()
    with pytest.raises(error, match=match):
        AML(init=init, n_components=n_components).fit(X[index], y)


def test_linear_map_names_follow_metric_learns_rule():
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    rng = np.random.default_rng(2)
    X = rng.standard_normal((60, 4)) * [1.0, 2.0, 3.0, 4.0]
    classes = np.arange(60) % 4
    lda = LinearDiscriminantAnalysis(n_components=2).fit(X, classes).scalings_.T[:2]
    expected = _inputs._linear_map_start(lda, "lda")
    np.testing.assert_allclose(_inputs.data_init("lda", X, classes, 2, 0), expected)
    # "auto": LDA when n_components <= n_classes - 1, else PCA while n_components < d, else I
    np.testing.assert_allclose(_inputs.data_init("auto", X, classes, 2, 0), expected)
    np.testing.assert_allclose(_inputs.data_init("auto", X, None, 2, 0), np.eye(4), atol=1e-12)
    np.testing.assert_allclose(_inputs.data_init("auto", X, classes, 4, 0), np.eye(4))
    with pytest.raises(ValueError, match="class labels"):
        X_pairs, index, y = _data()
        AML(init="lda").fit(X_pairs[index], y)  # pairs have no classes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for init in ("pca", "lda", "auto"):
            AML_Supervised(init=init, n_components=2, n_constraints=50, max_iter=2).fit(X, classes)


def test_covariance_init_needs_points():
    X, index, y = _data()
    with pytest.raises(ValueError, match="needs the data points"):
        AML(init="covariance").fit_statistics(PairStatistics.from_indices(X, index, y))


# -- 3./4./5. random_state, score_pairs, get_metric --------------------------------------------
def test_pair_learners_take_random_state():
    for make in PAIR_LEARNERS.values():
        assert make(random_state=4).get_params()["random_state"] == 4


def test_score_pairs_is_deprecated_and_returns_distances():
    X, index, y = _data()
    model = GMML().fit(X[index], y)
    with pytest.warns(FutureWarning, match="pair_distance"):
        np.testing.assert_array_equal(model.score_pairs(X[index]), model.pair_distance(X[index]))


def test_get_metric_takes_what_scipy_and_neighbours_pass():
    X, index, y = _data()
    model = AML().fit(X[index], y)
    metric = model.get_metric()
    expected = model.pair_distance(X[index[:1]])[0]
    u, v = X[index[0, 0]], X[index[0, 1]]
    for a, b in [(u, v), (u[None], v), (list(u), tuple(v)), (u[None], v[None])]:
        assert metric(a, b) == pytest.approx(expected, rel=1e-12)
    assert metric(u, v, squared=True) == pytest.approx(expected**2, rel=1e-12)
    np.testing.assert_allclose(pdist(X[:6], metric), pdist(model.transform(X[:6])), rtol=1e-12)
    classes = np.arange(len(X)) % 2
    for algorithm in ("brute", "ball_tree"):
        KNeighborsClassifier(3, metric=metric, algorithm=algorithm).fit(X, classes).predict(X)
    with pytest.raises(ValueError, match="1-D"):
        metric(X[:2], X[:2])
    with pytest.raises(ValueError, match="features"):
        metric(u[:2], v[:2])
    one_d = GMML().fit(X[index][:, :, :1], y).get_metric()
    assert one_d(1.0, 3.0) == pytest.approx(one_d([1.0], [3.0]))  # scalars, as scipy allows


# -- 6. n_constraints ---------------------------------------------------------------------------
def test_n_constraints_counts_each_kind():
    classes = np.arange(90) % 3
    index, labels = sample_pairs(classes, 250, random_state=0)
    assert np.sum(labels == 1) == np.sum(labels == -1) == 250 and len(index) == 500
    X = np.random.default_rng(0).standard_normal((90, 3))
    fitted = GMML_Supervised(n_constraints=250, random_state=0).fit(X, classes)
    stats = PairStatistics.from_indices(X, index, labels)
    np.testing.assert_allclose(
        fitted.get_mahalanobis_matrix(),
        GMML(reg=1e-6).fit_statistics(stats).get_mahalanobis_matrix(),
    )


# -- 7. thresholds ------------------------------------------------------------------------------
@pytest.mark.parametrize("threshold", ["0.5", None, [1.0], True, object()], ids=repr)
def test_set_threshold_non_numbers_are_value_errors(threshold):
    X, index, y = _data()
    model = GMML().fit(X[index], y)
    with pytest.raises(ValueError, match="threshold"):
        model.set_threshold(threshold)


def test_f_beta_negative_beta_is_its_absolute_value():
    X, index, y = _data()
    model = GMML().fit(X[index], y)
    negative = model.calibrate_threshold(X[index], y, strategy="f_beta", beta=-0.5).threshold_
    positive = model.calibrate_threshold(X[index], y, strategy="f_beta", beta=0.5).threshold_
    assert negative == positive


def test_f_beta_ties_keep_the_highest_recall():
    """beta = 0 scores the precision alone, tied at 1 for every threshold below the first
    dissimilar pair: the highest of them is chosen (metric-learn's choice too)."""
    distance = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    y = np.array([1, 1, 1, -1, 1])
    from advmetric._mahalanobis import calibrated_threshold

    assert calibrated_threshold(distance, y, "f_beta", beta=0.0) == 3.0


# -- 8. no fit_transform on pair learners --------------------------------------------------------
def test_only_supervised_learners_are_transformers():
    for make in PAIR_LEARNERS.values():
        model = make()
        assert not hasattr(model, "fit_transform") and not hasattr(model, "set_output")
        assert hasattr(model, "transform")
        assert model.__sklearn_tags__().transformer_tags is None
    X, index, y = _data()
    np.testing.assert_array_equal(GMML().fit(X[index], y).classes_, [-1, 1])
    for make in SUPERVISED.values():
        assert hasattr(make(), "fit_transform") and hasattr(make(), "set_output")


# -- 9. check_input -----------------------------------------------------------------------------
def test_check_input_forms_points_and_tuples():
    X, index, y = _data()
    pairs, labels = _inputs.check_input(
        index, y, preprocessor=X, type_of_inputs="tuples", tuple_size=2
    )
    np.testing.assert_array_equal(pairs, X[index])
    np.testing.assert_array_equal(labels, y)
    np.testing.assert_array_equal(_inputs.check_input(np.arange(3), preprocessor=X), X[:3])
    triplets = _inputs.check_input(
        np.c_[index, index[:, 0]], preprocessor=X, type_of_inputs="tuples"
    )
    assert triplets.shape == (len(index), 3, 3)
    with pytest.raises(ValueError, match="type_of_inputs"):
        _inputs.check_input(X, type_of_inputs="pairs")
    with pytest.raises(ValueError, match=r"-1 \(dissimilar\) and \+1"):
        _inputs.check_input(X[index], y + 1, type_of_inputs="tuples")
    with pytest.raises(ValueError, match="tuples of 3"):
        _inputs.check_input(X[index], type_of_inputs="tuples", tuple_size=3)
    with pytest.raises(ValueError, match="2D array of formed points"):
        _inputs.check_input(X[index], type_of_inputs="classic")


def test_adversarial_pairs_through_a_preprocessor():
    X, index, y = _data()
    model = AML(preprocessor=X).fit(index, y)
    np.testing.assert_array_equal(
        model.adversarial_pairs(index, y), model.adversarial_pairs(X[index], y)
    )
