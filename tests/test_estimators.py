"""Behaviour of the estimators: what they learn, sample, report and predict."""

from __future__ import annotations

import warnings

import dask.array as da
import numpy as np
import pytest
from conftest import relative_error
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from test_sklearn_compat import labelled_pairs

from advmetric import AML, GMML, AML_Supervised, GMML_Supervised, PairStatistics, aml
from advmetric.estimators import _sample_pairs


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(0)) / X.std(0), y


def test_same_random_state_same_components(iris):
    X, y = iris
    first = AML_Supervised(random_state=3).fit(X, y).components_
    np.testing.assert_array_equal(first, AML_Supervised(random_state=3).fit(X, y).components_)
    assert not np.array_equal(first, AML_Supervised(random_state=4).fit(X, y).components_)


def test_sampled_pairs_follow_the_labels():
    y = np.repeat(np.arange(4), [1, 5, 7, 12])
    index, labels = _sample_pairs(y, 20_001, random_state=0)
    similar, dissimilar = index[labels == 1], index[labels == -1]
    assert len(similar) == 10_000 and len(dissimilar) == 10_001
    assert np.all(y[similar[:, 0]] == y[similar[:, 1]]) and np.all(similar[:, 0] != similar[:, 1])
    assert np.all(y[dissimilar[:, 0]] != y[dissimilar[:, 1]])
    assert not np.isin(0, similar)  # the singleton class cannot form a similar pair
    # every ordered similar pair of class 1 (5 members -> 20 pairs) turns up: uniform sampling
    class_one = similar[y[similar[:, 0]] == 1]
    assert len({tuple(p) for p in class_one}) == 20


def test_default_number_of_pairs(iris):
    X, y = iris
    model = GMML_Supervised(random_state=0).fit(X, y)
    expected = 1000 * 3 * 2
    # statistics of exactly 3000 similar and 3000 dissimilar pairs: refit from them to check
    index, labels = _sample_pairs(np.unique(y, return_inverse=True)[1], expected, 0)
    stats = PairStatistics.from_indices(X, index, labels)
    assert stats.n_similar == stats.n_dissimilar == expected // 2
    np.testing.assert_allclose(
        model.get_mahalanobis_matrix(), aml.gmml(stats.A, stats.B, 1e-6), rtol=1e-10
    )


@pytest.mark.parametrize("cls", [AML_Supervised, GMML_Supervised])
def test_transform_matches_the_mahalanobis_matrix(iris, cls):
    X, y = iris
    model = cls(random_state=0).fit(X, y)
    M = model.get_mahalanobis_matrix()
    Z = model.transform(X)
    diff = X[:40] - X[40:80]
    np.testing.assert_allclose(
        np.sum((Z[:40] - Z[40:80]) ** 2, axis=1),
        np.einsum("ij,jk,ik->i", diff, M, diff),
        rtol=1e-10,
    )
    pairs = np.stack([X[:40], X[40:80]], axis=1)
    metric = model.get_metric()
    np.testing.assert_allclose(model.pair_distance(pairs), [metric(a, b) for a, b in pairs])
    np.testing.assert_array_equal(model.pair_score(pairs), -model.pair_distance(pairs))


def test_n_components_keeps_the_top_eigenvectors(iris):
    X, y = iris
    full = AML_Supervised(random_state=0).fit(X, y)
    low = AML_Supervised(random_state=0, n_components=2).fit(X, y)
    assert low.components_.shape == (2, 4) and low.transform(X).shape == (150, 2)
    w, V = np.linalg.eigh(full.get_mahalanobis_matrix())
    np.testing.assert_allclose(
        low.get_mahalanobis_matrix(), (V[:, 2:] * w[2:]) @ V[:, 2:].T, rtol=1e-9, atol=1e-12
    )
    with pytest.raises(ValueError, match="n_components"):
        AML_Supervised(n_components=5).fit(X, y)


def test_alpha_zero_is_gmml():
    pairs, y = labelled_pairs(2)
    M_aml = AML(alpha=0.0).fit(pairs, y).get_mahalanobis_matrix()
    M_gmml = GMML().fit(pairs, y).get_mahalanobis_matrix()
    assert relative_error(M_aml, M_gmml) <= 1e-8


def test_fitted_attributes_and_convergence_warning(iris):
    X, y = iris
    model = AML_Supervised(random_state=0).fit(X, y)
    assert model.converged_ and model.n_iter_ >= 1
    assert len(model.objective_history_) == model.n_iter_ + 1
    assert np.all(np.diff(model.objective_history_) <= 1e-13 * model.objective_history_[:-1])
    assert model.gradient_norm_history_[-1] <= 1e-8
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        capped = AML_Supervised(random_state=0, max_iter=1, tol=1e-14).fit(X, y)
    assert not capped.converged_ and capped.n_iter_ == 1
    gmml = GMML_Supervised(random_state=0).fit(X, y)
    assert gmml.converged_ and gmml.n_iter_ == 0 and len(gmml.objective_history_) == 1


def test_init_and_solver_options(iris):
    X, y = iris
    reference = AML_Supervised(random_state=0, tol=1e-12).fit(X, y).get_mahalanobis_matrix()
    for init in ("gmml", "identity", np.eye(4) * 2.0):
        M = AML_Supervised(random_state=0, init=init, tol=1e-12).fit(X, y).get_mahalanobis_matrix()
        assert relative_error(M, reference) <= 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        paper = AML_Supervised(random_state=0, solver="paper", max_iter=5).fit(X, y)
    assert np.all(np.linalg.eigvalsh(paper.get_mahalanobis_matrix()) > 0)
    with pytest.raises(ValueError, match="init"):
        AML_Supervised(init=np.ones((4, 4))).fit(X, y)
    with pytest.raises(ValueError, match="init"):
        AML_Supervised(init="random").fit(X, y)


def test_verbose_prints_every_iteration(iris, capsys):
    X, y = iris
    model = AML_Supervised(random_state=0, verbose=True).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    iteration_lines = [line for line in lines if line.startswith("[AML_Supervised] iter")]
    assert len(iteration_lines) == model.n_iter_
    assert "converged" in lines[-1]


def test_calibrate_threshold_strategies():
    pairs, y = labelled_pairs(3, n=400)
    rng = np.random.default_rng(0)
    flip = rng.random(400) < 0.15  # some label noise so the strategies differ
    y = np.where(flip, -y, y)
    model = AML().fit(pairs, y)
    distance = model.pair_distance(pairs)

    def rates(threshold):
        predicted = np.where(distance <= threshold, 1, -1)
        tpr = np.mean(predicted[y == 1] == 1)
        tnr = np.mean(predicted[y == -1] == -1)
        return np.mean(predicted == y), tpr, tnr

    best = max(rates(t)[0] for t in np.r_[distance, distance.min() - 1])
    model.calibrate_threshold(pairs, y, strategy="accuracy")
    assert rates(model.threshold_)[0] == pytest.approx(best)
    np.testing.assert_array_equal(
        model.predict(pairs), np.where(distance <= model.threshold_, 1, -1)
    )

    model.calibrate_threshold(pairs, y, strategy="max_tpr", min_rate=0.9)
    _, tpr, tnr = rates(model.threshold_)
    assert tnr >= 0.9
    assert all(rates(t)[1] <= tpr for t in distance if rates(t)[2] >= 0.9)
    model.calibrate_threshold(pairs, y, strategy="max_tnr", min_rate=0.9)
    _, tpr, tnr = rates(model.threshold_)
    assert tpr >= 0.9
    assert all(rates(t)[2] <= tnr for t in distance if rates(t)[1] >= 0.9)
    model.calibrate_threshold(pairs, y, strategy="f_beta", beta=1.0)
    predicted = model.predict(pairs)
    precision = np.mean(y[predicted == 1] == 1)
    recall = np.mean(predicted[y == 1] == 1)
    assert 2 * precision * recall / (precision + recall) > 0.7
    assert model.set_threshold(1.5).threshold_ == 1.5
    for bad in ({"strategy": "best"}, {"strategy": "max_tpr"}, {"strategy": "f_beta", "beta": 0}):
        with pytest.raises(ValueError):
            model.calibrate_threshold(pairs, y, **bad)


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
    with pytest.raises(ValueError, match="similar"):
        AML().fit_statistics(PairStatistics.from_pairs(pairs[y > 0], y[y > 0]))


def test_fit_accepts_dask_arrays():
    pairs, y = labelled_pairs(5, n=2000)
    from_dask = AML().fit(da.from_array(pairs, chunks=(300, 2, 4)), da.from_array(y, chunks=300))
    direct = AML().fit(pairs, y)
    assert relative_error(from_dask.components_, direct.components_) <= 1e-9
    assert from_dask.threshold_ == pytest.approx(direct.threshold_)


def test_adversarial_pairs_of_a_fitted_model():
    pairs, y = labelled_pairs(6)
    model = AML(beta=0.5).fit(pairs, y)
    generated = model.adversarial_pairs(pairs, y)
    expected = aml.adversarial_pairs(model.get_mahalanobis_matrix(), pairs, y, 0.5)
    np.testing.assert_allclose(generated, expected, rtol=1e-12)
    np.testing.assert_allclose(generated.sum(axis=1), pairs.sum(axis=1), rtol=1e-12, atol=1e-12)


def test_supervised_on_rank_deficient_data_fits_with_the_default_ridge():
    X, y = make_classification(n_samples=60, n_features=8, n_informative=3, random_state=0)
    X[:, 5] = X[:, 1]  # duplicated feature
    X[:, 6] = 3.0  # constant feature
    model = AML_Supervised(random_state=0).fit(X, y)
    assert model.converged_
    assert np.all(np.isfinite(model.components_))
    assert np.linalg.eigvalsh(model.get_mahalanobis_matrix())[0] > 0
