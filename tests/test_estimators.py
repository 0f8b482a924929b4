"""Behaviour of the estimators: what they learn, sample, report, predict and refuse."""

from __future__ import annotations

import doctest
import itertools
import warnings

import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp
from conftest import relative_error
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import fbeta_score, roc_auc_score
from test_sklearn_compat import labelled_pairs

from advmetric import AML, GMML, AML_Supervised, GMML_Supervised, PairStatistics, aml
from advmetric.constraints import (
    MAX_CONSTRAINTS,
    MAX_DEFAULT_CONSTRAINTS,
    default_n_constraints,
    sample_pairs,
)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(0)) / X.std(0), y


@pytest.fixture(scope="module")
def noisy_pairs():
    """Pairs with 15 % flipped labels, so that the calibration strategies disagree."""
    pairs, y = labelled_pairs(3, n=400)
    flip = np.random.default_rng(0).random(400) < 0.15
    return pairs, np.where(flip, -y, y)


# --------------------------------------------------------------------------------------------
# Pair sampling
# --------------------------------------------------------------------------------------------


def test_sampled_pairs_follow_the_labels():
    y = np.repeat(["a", "b", "c", "d"], [1, 5, 7, 12])
    # n_constraints counts the pairs of each kind (metric-learn's meaning)
    index, labels = sample_pairs(y, 10_001, random_state=0)
    assert index.dtype == np.int64 and labels.dtype == np.int8 and index.shape == (20_002, 2)
    similar, dissimilar = index[labels == 1], index[labels == -1]
    assert len(similar) == 10_001 and len(dissimilar) == 10_001
    assert np.all(labels[:10_001] == 1)  # similar pairs first
    assert np.all(y[similar[:, 0]] == y[similar[:, 1]]) and np.all(similar[:, 0] != similar[:, 1])
    assert np.all(y[dissimilar[:, 0]] != y[dissimilar[:, 1]])
    assert not np.isin(0, similar)  # the singleton class cannot form a similar pair
    assert np.isin(0, dissimilar)  # but takes part in dissimilar ones
    # uniform: every ordered similar pair of class "b" (5 members -> 20 pairs) turns up, and
    # the first members of dissimilar pairs are spread evenly over the examples
    class_b = similar[y[similar[:, 0]] == "b"]
    assert len({tuple(p) for p in class_b}) == 20
    counts = np.bincount(dissimilar[:, 0], minlength=len(y))
    assert counts.min() > 0.6 * counts.mean() and counts.max() < 1.4 * counts.mean()


def test_sampling_is_reproducible():
    y = np.repeat(np.arange(3), 10)
    first = sample_pairs(y, 500, random_state=7)
    again = sample_pairs(y, 500, random_state=np.random.RandomState(7))
    other = sample_pairs(y, 500, random_state=8)
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(first[0], other[0])


def test_default_number_of_pairs():
    # pairs of each kind: the paper's 1000 c (c - 1) in all, half of each kind
    assert default_n_constraints(2) == 1000
    assert default_n_constraints(3) == 3000
    assert default_n_constraints(32) == 496_000
    assert default_n_constraints(33) == MAX_DEFAULT_CONSTRAINTS  # 528,000 capped
    assert default_n_constraints(100) == MAX_DEFAULT_CONSTRAINTS
    index, labels = sample_pairs(np.repeat(np.arange(3), 4), random_state=0)
    assert index.shape == (6000, 2) and np.sum(labels == 1) == 3000


def test_supervised_fit_uses_exactly_the_sampled_pairs(iris):
    X, y = iris
    for n_constraints in (None, 301):
        model = GMML_Supervised(n_constraints=n_constraints, random_state=0).fit(X, y)
        index, labels = sample_pairs(y, n_constraints, random_state=0)
        stats = PairStatistics.from_indices(X, index, labels)
        assert stats.n_pairs == (6000 if n_constraints is None else 602)
        assert stats.n_similar == stats.n_dissimilar
        np.testing.assert_allclose(
            model.get_mahalanobis_matrix(), aml.gmml(stats.A, stats.B, 1e-6), rtol=1e-9
        )


def test_same_random_state_same_components(iris):
    X, y = iris
    for cls in (AML_Supervised, GMML_Supervised):
        first = cls(random_state=3).fit(X, y).components_
        np.testing.assert_array_equal(first, cls(random_state=3).fit(X, y).components_)
        assert not np.array_equal(first, cls(random_state=4).fit(X, y).components_)


# --------------------------------------------------------------------------------------------
# The learned metric and its uses
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [AML_Supervised, GMML_Supervised])
def test_transform_distance_and_metric_agree_with_the_mahalanobis_matrix(iris, cls):
    X, y = iris
    model = cls(random_state=0).fit(X, y)
    M = model.get_mahalanobis_matrix()
    np.testing.assert_allclose(M, M.T)
    assert np.linalg.eigvalsh(M)[0] > 0
    Z = model.transform(X)
    diff = X[:40] - X[40:80]
    squared = np.einsum("ij,jk,ik->i", diff, M, diff)
    np.testing.assert_allclose(np.sum((Z[:40] - Z[40:80]) ** 2, axis=1), squared, rtol=1e-10)
    pairs = np.stack([X[:40], X[40:80]], axis=1)
    np.testing.assert_allclose(model.pair_distance(pairs), np.sqrt(squared), rtol=1e-10)
    metric = model.get_metric()
    np.testing.assert_allclose(model.pair_distance(pairs), [metric(a, b) for a, b in pairs])
    np.testing.assert_allclose(squared, [metric(a, b, squared=True) for a, b in pairs])
    np.testing.assert_array_equal(model.pair_score(pairs), -model.pair_distance(pairs))
    np.testing.assert_array_equal(model.transform(X), X @ model.components_.T)


def test_metric_is_independent_of_later_refits(iris):
    X, y = iris
    model = AML_Supervised(random_state=0).fit(X, y)
    metric = model.get_metric()
    before = metric(X[0], X[1])
    model.fit(X[:, ::-1], y)
    assert metric(X[0], X[1]) == before
    with pytest.raises(ValueError, match="1-D"):
        metric(X[:2], X[2:4])


def test_n_components_keeps_the_top_eigenvectors(iris):
    X, y = iris
    full = AML_Supervised(random_state=0).fit(X, y)
    assert full.components_.shape == (4, 4)
    w_rows = np.sum(full.components_**2, axis=1)  # the eigenvalues, by decreasing size
    assert np.all(np.diff(w_rows) <= 0)
    w, V = np.linalg.eigh(full.get_mahalanobis_matrix())
    for k in (1, 2, 3):
        low = AML_Supervised(random_state=0, n_components=k).fit(X, y)
        assert low.components_.shape == (k, 4) and low.transform(X).shape == (150, k)
        np.testing.assert_allclose(
            low.get_mahalanobis_matrix(),
            (V[:, 4 - k :] * w[4 - k :]) @ V[:, 4 - k :].T,
            rtol=1e-9,
            atol=1e-12,
        )
        assert list(low.get_feature_names_out()) == [f"aml_supervised{i}" for i in range(k)]


def test_alpha_zero_is_gmml():
    pairs, y = labelled_pairs(2)
    M_aml = AML(alpha=0.0).fit(pairs, y).get_mahalanobis_matrix()
    M_gmml = GMML().fit(pairs, y).get_mahalanobis_matrix()
    assert relative_error(M_aml, M_gmml) <= 1e-8


def test_aml_and_gmml_differ_for_positive_alpha():
    pairs, y = labelled_pairs(2)
    M_aml = AML(alpha=1.0).fit(pairs, y).get_mahalanobis_matrix()
    M_gmml = GMML().fit(pairs, y).get_mahalanobis_matrix()
    assert relative_error(M_aml, M_gmml) > 1e-3


def test_fitted_attributes(iris):
    X, y = iris
    model = AML_Supervised(random_state=0).fit(X, y)
    assert model.converged_ and model.n_iter_ >= 1 and model.n_features_in_ == 4
    assert "converged" in model.solver_message_
    assert len(model.objective_history_) == len(model.gradient_norm_history_) == model.n_iter_ + 1
    assert np.all(np.diff(model.objective_history_) <= 1e-13 * model.objective_history_[:-1])
    assert model.gradient_norm_history_[-1] <= 1e-8


def test_gmml_reports_its_closed_form_like_a_solver():
    pairs, y = labelled_pairs(4)
    model = GMML(reg=1e-3).fit(pairs, y)
    assert model.n_iter_ == 0 and model.converged_
    assert model.objective_history_.shape == model.gradient_norm_history_.shape == (1,)
    A, B = aml.pair_statistics(pairs, y)
    M = model.get_mahalanobis_matrix()
    A_r, B_r = _ridged(A, 1e-3), _ridged(B, 1e-3)
    expected = np.trace(A_r @ M) + np.trace(B_r @ np.linalg.inv(M))
    assert model.objective_history_[0] == pytest.approx(expected, rel=1e-9)
    assert model.gradient_norm_history_[0] < 1e-10


def test_convergence_warning_when_max_iter_stops_the_solver(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match=r"did not converge \(maximum number") as record:
        capped = AML_Supervised(random_state=0, max_iter=1, tol=1e-14).fit(X, y)
    assert capped.solver_message_ in str(record[0].message)
    assert record[0].filename == __file__  # the warning points at the caller's fit
    pairs, y_pairs = labelled_pairs(1)
    with pytest.warns(ConvergenceWarning) as record:
        AML(max_iter=1, tol=1e-14).fit(pairs, y_pairs)
    assert record[0].filename == __file__
    assert not capped.converged_ and capped.n_iter_ == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AML_Supervised(random_state=0).fit(X, y)  # the defaults converge without a warning


def _ridged(S, reg):
    """The scatter matrix with the estimators' relative ridge ``reg * tr(S)/d`` on the diagonal."""
    return S + reg * np.trace(S) / S.shape[0] * np.eye(S.shape[0])


def test_init_applies_to_every_solver(iris):
    X, y = iris
    reference = AML_Supervised(random_state=0, tol=1e-12).fit(X, y)
    M_ref = reference.get_mahalanobis_matrix()
    A = 2.0 * np.eye(4) + 0.1 * np.ones((4, 4))
    for init in ("gmml", "identity", A, A.tolist()):
        model = AML_Supervised(random_state=0, init=init, tol=1e-12).fit(X, y)
        assert relative_error(model.get_mahalanobis_matrix(), M_ref) <= 1e-6
    # the first objective is that of the start point, "paper" solver included
    index, labels = sample_pairs(y, random_state=0)
    stats = PairStatistics.from_indices(X, index, labels)
    A_s, B_s = stats.A, stats.B
    gmml_start = aml.gmml(A_s, B_s, 1e-6)
    starts = {"gmml": gmml_start, "identity": np.eye(4), "array": A}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for solver, (name, start) in itertools.product(("auto", "paper"), starts.items()):
            init = start if name == "array" else name
            model = AML_Supervised(random_state=0, solver=solver, init=init, max_iter=3)
            model.fit(X, y)
            expected = aml.objective(start, _ridged(A_s, 1e-6), _ridged(B_s, 1e-6), 1.0, 0.8)
            assert model.objective_history_[0] == pytest.approx(expected, rel=1e-9), (solver, name)
            assert np.all(np.linalg.eigvalsh(model.get_mahalanobis_matrix()) > 0)


def test_verbose_prints_every_iteration(iris, capsys):
    X, y = iris
    model = AML_Supervised(random_state=0, verbose=True).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    iteration_lines = [line for line in lines if line.startswith("[AML_Supervised] iter")]
    assert len(iteration_lines) == model.n_iter_
    assert "objective" in iteration_lines[0] and "rel. gradient" in iteration_lines[0]
    assert "converged" in lines[-1]
    AML_Supervised(random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""


# --------------------------------------------------------------------------------------------
# Pair classification: threshold, predict, score
# --------------------------------------------------------------------------------------------


def _rates(distance, y, threshold):
    predicted = np.where(distance <= threshold, 1, -1)
    tpr = np.mean(predicted[y == 1] == 1)
    tnr = np.mean(predicted[y == -1] == -1)
    return np.mean(predicted == y), tpr, tnr


def _all_thresholds(distance):
    """One threshold per distinct outcome: accept nothing, or accept up to each distance."""
    return np.r_[distance.min() - 1.0, np.unique(distance)]


def test_fit_calibrates_for_accuracy_and_predict_thresholds_the_distance(noisy_pairs):
    pairs, y = noisy_pairs
    model = AML().fit(pairs, y)
    distance = model.pair_distance(pairs)
    best = max(_rates(distance, y, t)[0] for t in _all_thresholds(distance))
    assert _rates(distance, y, model.threshold_)[0] == best
    np.testing.assert_array_equal(
        model.predict(pairs), np.where(distance <= model.threshold_, 1, -1)
    )
    np.testing.assert_array_equal(model.decision_function(pairs), -distance)
    assert model.score(pairs, y) == pytest.approx(roc_auc_score(y, -distance))
    assert model.set_threshold(1.5) is model and model.threshold_ == 1.5
    np.testing.assert_array_equal(model.predict(pairs), np.where(distance <= 1.5, 1, -1))


@pytest.mark.parametrize("min_rate", [0.0, 0.5, 0.9, 1.0])
def test_rate_strategies_are_optimal(noisy_pairs, min_rate):
    pairs, y = noisy_pairs
    model = AML().fit(pairs, y)
    distance = model.pair_distance(pairs)
    candidates = [_rates(distance, y, t) for t in _all_thresholds(distance)]

    model.calibrate_threshold(pairs, y, strategy="max_tpr", min_rate=min_rate)
    _, tpr, tnr = _rates(distance, y, model.threshold_)
    assert tnr >= min_rate
    assert tpr == max(c[1] for c in candidates if c[2] >= min_rate)
    assert tnr == max(c[2] for c in candidates if c[2] >= min_rate and c[1] == tpr)

    model.calibrate_threshold(pairs, y, strategy="max_tnr", min_rate=min_rate)
    _, tpr, tnr = _rates(distance, y, model.threshold_)
    assert tpr >= min_rate
    assert tnr == max(c[2] for c in candidates if c[1] >= min_rate)
    assert tpr == max(c[1] for c in candidates if c[1] >= min_rate and c[2] == tnr)


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
def test_f_beta_strategy_is_optimal(noisy_pairs, beta):
    pairs, y = noisy_pairs
    model = AML().fit(pairs, y)
    distance = model.pair_distance(pairs)
    model.calibrate_threshold(pairs, y, strategy="f_beta", beta=beta)
    best = max(
        fbeta_score(y, np.where(distance <= t, 1, -1), beta=beta, zero_division=0)
        for t in _all_thresholds(distance)
    )
    assert fbeta_score(y, model.predict(pairs), beta=beta) == pytest.approx(best)


def test_calibration_edge_cases():
    pairs, y = labelled_pairs(5, n=50)
    model = GMML().fit(pairs, y)
    distance = model.pair_distance(pairs)
    # labels that the distance orders backwards: rejecting everything is the most accurate
    backwards = np.where(distance > np.median(distance), 1, -1)
    backwards[: len(backwards) // 4] = -1
    model.calibrate_threshold(pairs, backwards)
    assert np.all(model.predict(pairs) == -1) and model.threshold_ < distance.min()
    # a single label is fine for accuracy
    model.calibrate_threshold(pairs, np.ones(50))
    assert np.all(model.predict(pairs) == 1)
    model.calibrate_threshold(pairs, -np.ones(50))
    assert np.all(model.predict(pairs) == -1)
    # ties are accepted or rejected together
    tied = np.repeat(pairs[:5], 4, axis=0)
    tied_y = np.tile([1, 1, 1, -1], 5)
    model.calibrate_threshold(tied, tied_y)
    predicted = model.predict(tied).reshape(5, 4)
    assert np.all(predicted == predicted[:, :1])
    assert np.mean(model.predict(tied) == tied_y) == 0.75


def test_fit_takes_calibration_params(noisy_pairs):
    pairs, y = noisy_pairs
    model = AML().fit(pairs, y, calibration_params={"strategy": "max_tpr", "min_rate": 0.95})
    expected = AML().fit(pairs, y).calibrate_threshold(pairs, y, "max_tpr", min_rate=0.95)
    assert model.threshold_ == expected.threshold_
    with pytest.raises(ValueError, match="min_rate"):
        AML().fit(pairs, y, calibration_params={"strategy": "max_tnr"})
    with pytest.raises(TypeError):
        AML().fit(pairs, y, calibration_params={"min_rate_typo": 0.5})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"strategy": "best"}, "strategy"),
        ({"strategy": None}, "strategy"),
        ({"strategy": "max_tpr"}, "min_rate"),
        ({"strategy": "max_tnr", "min_rate": 1.5}, "min_rate"),
        ({"strategy": "max_tpr", "min_rate": -0.1}, "min_rate"),
        ({"strategy": "max_tpr", "min_rate": "0.5"}, "min_rate"),
        ({"strategy": "f_beta", "beta": np.inf}, "beta"),
        ({"strategy": "f_beta", "beta": "1"}, "beta"),
        ({"strategy": "f_beta", "beta": None}, "beta"),
    ],
)
def test_calibrate_threshold_rejects_bad_arguments(kwargs, match):
    pairs, y = labelled_pairs(6, n=40)
    model = AML().fit(pairs, y)
    with pytest.raises(ValueError, match=match):
        model.calibrate_threshold(pairs, y, **kwargs)


def test_rate_and_f_beta_strategies_need_both_labels():
    pairs, y = labelled_pairs(6, n=40)
    model = AML().fit(pairs, y)
    for kwargs in ({"strategy": "f_beta"}, {"strategy": "max_tpr", "min_rate": 0.5}):
        with pytest.raises(ValueError, match="both"):
            model.calibrate_threshold(pairs, np.ones(40), **kwargs)


def test_set_threshold_rejects_non_numbers():
    pairs, y = labelled_pairs(6, n=40)
    model = AML().fit(pairs, y)
    with pytest.raises(ValueError, match="threshold"):  # metric-learn's error kind
        model.set_threshold("1.0")
    with pytest.raises(ValueError, match="threshold"):
        model.set_threshold(np.nan)


# --------------------------------------------------------------------------------------------
# Other ways to fit, adversarial pairs, hard data
# --------------------------------------------------------------------------------------------


def test_fit_statistics_streams_and_matches_fit():
    pairs, y = labelled_pairs(4, n=1000)
    stats = PairStatistics(4)
    for chunk in np.array_split(np.arange(1000), 7):
        stats.update(pairs[chunk], y[chunk])
    streamed = AML().fit_statistics(stats)
    direct = AML().fit(pairs, y)
    assert relative_error(streamed.components_, direct.components_) <= 1e-9
    with pytest.raises(NotFittedError):
        streamed.predict(pairs)  # no threshold without pairs to calibrate on
    assert streamed.calibrate_threshold(pairs, y).threshold_ == pytest.approx(direct.threshold_)
    direct.fit_statistics(stats)  # refitting from statistics forgets the old threshold
    assert not hasattr(direct, "threshold_")
    with pytest.raises(ValueError, match="similar"):
        AML().fit_statistics(PairStatistics.from_pairs(pairs[y > 0], y[y > 0]))
    with pytest.raises(TypeError, match="PairStatistics"):
        AML().fit_statistics((stats.A, stats.B))


def test_fit_accepts_dask_arrays():
    pairs, y = labelled_pairs(5, n=2000)
    from_dask = AML().fit(da.from_array(pairs, chunks=(300, 2, 4)), da.from_array(y, chunks=300))
    direct = AML().fit(pairs, y)
    assert relative_error(from_dask.components_, direct.components_) <= 1e-9
    assert from_dask.threshold_ == pytest.approx(direct.threshold_)
    tuned = AML().fit(
        da.from_array(pairs, chunks=(300, 2, 4)),
        da.from_array(y, chunks=300),
        calibration_params={"strategy": "max_tnr", "min_rate": 0.8},
    )
    expected = direct.calibrate_threshold(pairs, y, strategy="max_tnr", min_rate=0.8).threshold_
    assert tuned.threshold_ == pytest.approx(expected)


def test_adversarial_pairs_of_a_fitted_model():
    pairs, y = labelled_pairs(6)
    model = AML(beta=0.5).fit(pairs, y)
    generated = model.adversarial_pairs(pairs, y)
    expected = aml.adversarial_pairs(model.get_mahalanobis_matrix(), pairs, y, 0.5)
    np.testing.assert_allclose(generated, expected, rtol=1e-12)
    np.testing.assert_allclose(generated.sum(axis=1), pairs.sum(axis=1), rtol=1e-12, atol=1e-12)
    # dissimilar pairs are pulled together by beta / (2 + beta)
    dissimilar = y == -1
    np.testing.assert_allclose(
        generated[dissimilar, 0] - generated[dissimilar, 1],
        0.5 / 2.5 * (pairs[dissimilar, 0] - pairs[dissimilar, 1]),
        rtol=1e-10,
    )


def test_adversarial_pairs_of_a_low_rank_model():
    pairs, y = labelled_pairs(7)
    model = AML(beta=0.7, n_components=2).fit(pairs, y)
    generated = model.adversarial_pairs(pairs, y)
    # the limit of Eq. 9 as the dropped eigenvalues go to 0
    M = model.get_mahalanobis_matrix()
    nearly = M + 1e-9 * np.linalg.eigvalsh(M)[-1] * np.eye(4)
    expected = aml.adversarial_pairs(nearly, pairs, y, 0.7)
    np.testing.assert_allclose(generated, expected, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(generated.sum(axis=1), pairs.sum(axis=1), rtol=1e-12, atol=1e-12)
    # similar pairs lose their difference along the dropped directions
    dropped = np.linalg.eigh(M)[1][:, :2]
    difference = generated[y == 1, 0] - generated[y == 1, 1]
    np.testing.assert_allclose(difference @ dropped, 0.0, atol=1e-12)


def test_supervised_on_rank_deficient_data_fits_with_the_default_ridge():
    X, y = make_classification(n_samples=60, n_features=8, n_informative=3, random_state=0)
    X[:, 5] = X[:, 1]  # duplicated feature
    X[:, 6] = 3.0  # constant feature
    for cls in (AML_Supervised, GMML_Supervised):
        model = cls(random_state=0).fit(X, y)
        assert model.converged_
        assert np.all(np.isfinite(model.components_))
        assert np.linalg.eigvalsh(model.get_mahalanobis_matrix())[0] > 0


@pytest.mark.parametrize("cls", [AML_Supervised, GMML_Supervised])
def test_integer_float32_and_list_input(iris, cls):
    X, y = iris
    X_int = np.round(4 * X).astype(np.int32)
    reference = cls(random_state=0).fit(X_int.astype(np.float64), y)
    for converted in (X_int, X_int.astype(np.float32), X_int.tolist()):
        model = cls(random_state=0).fit(converted, list(y))
        np.testing.assert_array_equal(model.components_, reference.components_)
        np.testing.assert_array_equal(model.transform(converted), reference.transform(X_int))
    # string class labels work like any others
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    named = cls(random_state=0).fit(X_int, labels)
    np.testing.assert_array_equal(named.components_, reference.components_)


@pytest.mark.parametrize("cls", [AML, GMML])
def test_integer_and_float32_pairs(cls):
    pairs, y = labelled_pairs(9)
    pairs_int = np.round(4 * pairs).astype(np.int64)
    reference = cls().fit(pairs_int.astype(np.float64), y)
    for converted in (pairs_int, pairs_int.astype(np.float32), pairs_int.astype(np.int8)):
        model = cls().fit(converted, y.astype(np.int8))
        np.testing.assert_array_equal(model.components_, reference.components_)
        np.testing.assert_array_equal(model.predict(converted), reference.predict(pairs_int))


# --------------------------------------------------------------------------------------------
# Bad input: a clear ValueError or TypeError that names the problem
# --------------------------------------------------------------------------------------------

_PAIRS, _Y = labelled_pairs(8, n=60, d=3)
_X, _CLASSES = _PAIRS.reshape(-1, 3), np.repeat(np.arange(3), 40)


def _with(array, index, value):
    out = np.array(array, dtype=float)
    out[index] = value
    return out


def _fit(cls, **params):
    if cls in (AML_Supervised, GMML_Supervised):
        return cls(random_state=0, **params).fit(_X, _CLASSES)
    return cls(**params).fit(_PAIRS, _Y)


PAIR_CLASSES = (AML, GMML)
SUPERVISED = (AML_Supervised, GMML_Supervised)
ADVERSARIAL = (AML, AML_Supervised)
ALL = PAIR_CLASSES + SUPERVISED

BAD_INPUT = [
    # pairs estimators: pairs and labels
    ("pairs-nan", PAIR_CLASSES, lambda c: c().fit(_with(_PAIRS, (1, 0, 2), np.nan), _Y), "NaN"),
    ("pairs-inf", PAIR_CLASSES, lambda c: c().fit(_with(_PAIRS, (1, 1, 0), np.inf), _Y), "inf"),
    ("pairs-2d", PAIR_CLASSES, lambda c: c().fit(_PAIRS[:, 0], _Y), "n_pairs, 2, n_features"),
    ("pairs-triples", PAIR_CLASSES, lambda c: c().fit(np.ones((4, 3, 2)), [1, -1, 1, -1]), "2,"),
    ("pairs-empty", PAIR_CLASSES, lambda c: c().fit(np.ones((0, 2, 3)), []), "empty"),
    ("y-zero-one", PAIR_CLASSES, lambda c: c().fit(_PAIRS, (_Y > 0).astype(int)), r"\{0, 1\}"),
    ("y-three-values", PAIR_CLASSES, lambda c: c().fit(_PAIRS, np.arange(60) % 3 - 1), "-1"),
    ("y-length", PAIR_CLASSES, lambda c: c().fit(_PAIRS, _Y[:-1]), "one label per pair"),
    ("y-only-similar", PAIR_CLASSES, lambda c: c().fit(_PAIRS, np.ones(60)), "dissimilar"),
    ("y-only-dissimilar", PAIR_CLASSES, lambda c: c().fit(_PAIRS, -np.ones(60)), "similar"),
    # supervised estimators: examples and class labels
    ("X-nan", SUPERVISED, lambda c: c().fit(_with(_X, (3, 1), np.nan), _CLASSES), "NaN"),
    ("X-inf", SUPERVISED, lambda c: c().fit(_with(_X, (3, 1), -np.inf), _CLASSES), "inf"),
    ("X-1d", SUPERVISED, lambda c: c().fit(_X[:, 0], _CLASSES), "2D"),
    ("X-str", SUPERVISED, lambda c: c().fit(_X.astype(str), _CLASSES), "numeric"),
    ("X-bytes", SUPERVISED, lambda c: c().fit(_X.astype(bytes), _CLASSES), "numeric"),
    (
        "X-object-str",
        SUPERVISED,
        lambda c: c().fit(_X.astype(str).astype(object), _CLASSES),
        "numeric",
    ),
    ("X-list-str", SUPERVISED, lambda c: c().fit([["1.0", 2.0]] * 4, [0, 0, 1, 1]), "numeric"),
    ("X-sparse", SUPERVISED, lambda c: c().fit(sp.csr_matrix(_X), _CLASSES), "toarray"),
    ("X-complex", SUPERVISED, lambda c: c().fit(_X + 1j, _CLASSES), "[Cc]omplex"),
    ("y-length", SUPERVISED, lambda c: c().fit(_X, _CLASSES[:-1]), "inconsistent"),
    ("single-class", SUPERVISED, lambda c: c().fit(_X, np.zeros(120)), "2 classes"),
    ("singletons", SUPERVISED, lambda c: c().fit(_X[:4], np.arange(4)), "at least 2 examples"),
    ("continuous-y", SUPERVISED, lambda c: c().fit(_X, np.linspace(0, 1, 120)), "continuous"),
    ("n-constraints-0", SUPERVISED, lambda c: _fit(c, n_constraints=0), "n_constraints"),
    ("n-constraints-neg", SUPERVISED, lambda c: _fit(c, n_constraints=-5), "n_constraints"),
    ("n-constraints-float", SUPERVISED, lambda c: _fit(c, n_constraints=2.0), "n_constraints"),
    (
        "n-constraints-huge",
        SUPERVISED,
        lambda c: _fit(c, n_constraints=MAX_CONSTRAINTS + 1),
        "n_constraints",
    ),
    # hyper-parameters, checked in fit
    ("alpha-negative", ADVERSARIAL, lambda c: _fit(c, alpha=-0.1), "alpha"),
    ("alpha-nan", ADVERSARIAL, lambda c: _fit(c, alpha=np.nan), "alpha"),
    ("beta-zero", ADVERSARIAL, lambda c: _fit(c, beta=0.0), "beta"),
    ("beta-negative", ADVERSARIAL, lambda c: _fit(c, beta=-1.0), "beta"),
    ("tol-zero", ADVERSARIAL, lambda c: _fit(c, tol=0.0), "tol"),
    ("max-iter-zero", ADVERSARIAL, lambda c: _fit(c, max_iter=0), "max_iter"),
    ("solver-unknown", ADVERSARIAL, lambda c: _fit(c, solver="sgd"), "solver"),
    ("init-unknown", ADVERSARIAL, lambda c: _fit(c, init="spectral"), "init"),
    ("init-not-spd", ADVERSARIAL, lambda c: _fit(c, init=-np.eye(3)), "init"),
    ("init-not-symmetric", ADVERSARIAL, lambda c: _fit(c, init=np.triu(np.ones((3, 3)))), "init"),
    ("init-shape", ADVERSARIAL, lambda c: _fit(c, init=np.eye(4)), "init"),
    ("init-nan", ADVERSARIAL, lambda c: _fit(c, init=_with(np.eye(3), (0, 0), np.nan)), "init"),
    ("reg-negative", ALL, lambda c: _fit(c, reg=-1e-3), "reg"),
    ("n-components-zero", ALL, lambda c: _fit(c, n_components=0), "n_components"),
    ("n-components-too-many", ALL, lambda c: _fit(c, n_components=4), "n_components"),
    ("n-jobs-zero", ALL, lambda c: _fit(c, n_jobs=0), "n_threads"),
    # after fitting
    ("transform-features", ALL, lambda c: _fit(c).transform(np.ones((2, 4))), "features"),
    ("transform-nan", ALL, lambda c: _fit(c).transform(_with(_X, (0, 0), np.nan)), "NaN"),
    ("transform-str", ALL, lambda c: _fit(c).transform(_X.astype(str)), "numeric"),
    ("distance-features", ALL, lambda c: _fit(c).pair_distance(np.ones((2, 2, 4))), "features"),
    ("distance-not-pairs", ALL, lambda c: _fit(c).pair_distance(np.ones((2, 3))), "n_pairs, 2"),
    ("predict-features", PAIR_CLASSES, lambda c: _fit(c).predict(np.ones((2, 2, 2))), "features"),
    ("score-labels", PAIR_CLASSES, lambda c: _fit(c).score(_PAIRS, _Y > 0), r"\{0, 1\}"),
    (
        "adversarial-features",
        (AML,),
        lambda c: _fit(c).adversarial_pairs(np.ones((2, 2, 4)), [1, -1]),
        "features",
    ),
]


@pytest.mark.parametrize(
    ("cls", "call", "match"),
    [
        pytest.param(cls, call, match, id=f"{case}-{cls.__name__}")
        for case, classes, call, match in BAD_INPUT
        for cls in classes
    ],
)
def test_bad_input_is_refused_clearly(cls, call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(cls)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_use_before_fit_is_not_fitted_error(cls):
    model = cls()
    calls = [
        lambda: model.transform(_X),
        model.get_mahalanobis_matrix,
        model.get_metric,
        lambda: model.pair_distance(_PAIRS),
        lambda: model.pair_score(_PAIRS),
        model.get_feature_names_out,
    ]
    if cls in PAIR_CLASSES:
        calls += [
            lambda: model.predict(_PAIRS),
            lambda: model.decision_function(_PAIRS),
            lambda: model.score(_PAIRS, _Y),
            lambda: model.set_threshold(1.0),
            lambda: model.calibrate_threshold(_PAIRS, _Y),
        ]
    if cls is AML:
        calls.append(lambda: model.adversarial_pairs(_PAIRS, _Y))
    for call in calls:
        with pytest.raises(NotFittedError):
            call()
    assert not hasattr(model, "classes_")


def test_docstring_examples_run():
    from advmetric import estimators

    result = doctest.testmod(estimators)
    assert result.attempted > 0 and result.failed == 0
