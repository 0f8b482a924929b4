"""Regression tests of the reliability review (honest errors that name the problem)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from advmetric import AML, AML_Supervised, AML_SupervisedCV, PairStatistics, _backend, _core, aml


@pytest.fixture
def pairs_and_labels():
    rng = np.random.default_rng(0)
    pairs = rng.standard_normal((60, 2, 3))
    y = np.where(np.arange(60) % 2 == 0, 1, -1)
    return pairs, y


def test_predict_after_fit_statistics_says_how_to_get_a_threshold(pairs_and_labels):
    pairs, y = pairs_and_labels
    model = AML().fit_statistics(PairStatistics.from_pairs(pairs, y))
    with pytest.raises(NotFittedError, match=r"calibrate_threshold.*set_threshold"):
        model.predict(pairs)
    assert model.calibrate_threshold(pairs, y).predict(pairs).shape == (60,)


def test_predict_before_any_fit_is_still_not_fitted(pairs_and_labels):
    with pytest.raises(NotFittedError):
        AML().predict(pairs_and_labels[0])


@pytest.mark.parametrize("call", ["pairs", "supervised", "statistics"])
def test_complex_labels_are_rejected(pairs_and_labels, call):
    pairs, y = pairs_and_labels
    complex_y = y.astype(np.complex128)
    # scikit-learn's own check rejects complex targets with a ValueError; both name the problem
    with pytest.raises((TypeError, ValueError), match=r"[Cc]omplex"):
        if call == "pairs":
            AML().fit(pairs, complex_y)
        elif call == "supervised":
            AML_Supervised().fit(pairs[:, 0], complex_y)
        else:
            PairStatistics.from_pairs(pairs, complex_y)


@pytest.mark.parametrize("n_features", [-1, 0])
def test_pair_statistics_size_is_named(n_features):
    with pytest.raises(ValueError, match=r"n_features must be >= 1"):
        PairStatistics(n_features)


def test_generator_grid_is_named():
    X = np.random.default_rng(0).standard_normal((20, 2))
    y = np.arange(20) % 2
    with pytest.raises(TypeError, match="alphas must be a sequence"):
        AML_SupervisedCV(alphas=(a for a in [0.1, 1.0]), cv=2).fit(X, y)


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        (
            {"min_rate_typo": 0.5},
            TypeError,
            r"calibration_params has unknown keys \['min_rate_typo'\]",
        ),
        ([("strategy", "accuracy")], TypeError, "calibration_params must be a dict"),
        ({"strategy": "nope"}, ValueError, "strategy must be one of"),
    ],
)
def test_calibration_params_are_named(pairs_and_labels, params, error, match):
    pairs, y = pairs_and_labels
    with pytest.raises(error, match=match):
        AML().fit(pairs, y, calibration_params=params)


def test_dask_label_length_is_named():
    da = pytest.importorskip("dask.array")
    from advmetric.dask import pair_statistics

    pairs = da.from_array(np.random.default_rng(0).standard_normal((50, 2, 3)), chunks=20)
    with pytest.raises(ValueError, match="y has 49 labels for 50 pairs"):
        pair_statistics(pairs, np.ones(49))


def test_index_pairs_are_reduced_in_blocks(monkeypatch):
    """update_indices hands the core one block of index pairs at a time, so Ctrl-C lands between
    blocks; the sums are those of one pass."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 5))
    index = rng.integers(0, 40, size=(1001, 2))
    y = np.where(rng.random(1001) < 0.5, 1, -1)
    whole = PairStatistics.from_indices(X, index, y)
    calls = []
    core_statistics = _core.pair_statistics_indices

    def counting(X, index_pairs, labels, n_threads):
        calls.append(len(index_pairs))
        return core_statistics(X, index_pairs, labels, n_threads)

    monkeypatch.setattr(_core, "pair_statistics_indices", counting)
    monkeypatch.setattr(_backend, "BLOCK_VALUES", 2 * 5 * 100)  # 100 pairs a block
    blocked = PairStatistics(5).update_indices(X, index, y)
    assert calls == [100] * 10 + [1]
    np.testing.assert_allclose(blocked.A, whole.A, rtol=1e-13)
    np.testing.assert_allclose(blocked.B, whole.B, rtol=1e-13)
    assert (blocked.n_similar, blocked.n_dissimilar) == (whole.n_similar, whole.n_dissimilar)


def test_objective_names_a_value_beyond_float64():
    """An evaluation whose value overflows is an error naming the cause, never inf or NaN."""
    A = np.eye(3)
    M = np.diag([1e300, 1.0, 1.0])
    with pytest.raises(ValueError, match="not finite in float64"):
        aml.objective(M, A * 1e10, A, 1.0, 0.8)


@pytest.mark.parametrize("scale", [1e-170, 1e-156, 1e100, 1e150])
@pytest.mark.parametrize("learner", ["AML_Supervised", "GMML_Supervised", "AML"])
def test_the_metric_does_not_depend_on_the_data_scale(scale, learner):
    """D(M) is linear in A and B, so M(s X) = M(X): data near the ends of float64's range fit to
    the same metric (no underflow to "singular" or "every difference is zero", no inf)."""
    import warnings

    from advmetric import GMML_Supervised

    rng = np.random.default_rng(3)
    X = rng.standard_normal((120, 4)) * [1.0, 2.0, 0.5, 3.0]
    y = np.arange(120) % 3
    if learner == "AML":
        # (x_i, x_{i+3}) share a class, (x_i, x_{i+1}) do not
        pairs = np.concatenate([np.stack([X[:-3], X[3:]], 1), np.stack([X[:-1], X[1:]], 1)])
        labels = np.concatenate([np.ones(117, dtype=int), -np.ones(119, dtype=int)])
        make, args, scaled_args = AML, (pairs, labels), (pairs * scale, labels)
    else:
        make = AML_Supervised if learner == "AML_Supervised" else GMML_Supervised
        args, scaled_args = (X, y), (X * scale, y)
    reference_model = make(random_state=0) if learner != "AML" else make()
    scaled_model = make(random_state=0) if learner != "AML" else make()
    reference_model.fit(*args)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning, no ConvergenceWarning
        scaled_model.fit(*scaled_args)
    M, M_scaled = (m.get_mahalanobis_matrix() for m in (reference_model, scaled_model))
    assert np.isfinite(M_scaled).all()
    np.testing.assert_allclose(M_scaled, M, rtol=1e-6, atol=1e-9 * np.abs(M).max())
    for history in (scaled_model.objective_history_, scaled_model.gradient_norm_history_):
        assert np.isfinite(history).all()
    if learner == "AML":  # the threshold is a distance in the data's own units
        assert scaled_model.threshold_ == pytest.approx(reference_model.threshold_ * scale)
        np.testing.assert_array_equal(
            scaled_model.predict(pairs * scale), reference_model.predict(pairs)
        )


@pytest.fixture(scope="module")
def fitted_pairs():
    """Seeded pairs and an AML fitted on them, for the extreme-scale distance checks."""
    rng = np.random.default_rng(4)
    pairs = rng.standard_normal((50, 2, 3))
    y = np.where(np.arange(50) % 2 == 0, 1, -1)
    return pairs, AML().fit(pairs, y)


@pytest.mark.parametrize("scale", [1e-170, 1e155])
def test_pair_distances_at_extreme_scales(scale, fitted_pairs):
    pairs, model = fitted_pairs
    distance = model.pair_distance(pairs * scale)
    assert np.isfinite(distance).all() and (distance > 0).all()
    np.testing.assert_allclose(distance, model.pair_distance(pairs) * scale, rtol=1e-12)


def test_adversarial_pairs_with_huge_eigenvalues():
    rng = np.random.default_rng(5)
    pairs = rng.standard_normal((20, 2, 3))
    y = np.where(np.arange(20) % 2 == 0, 1, -1)
    M = np.diag([1e160, 1e155, 1.0])
    moved = aml.adversarial_pairs(M, pairs, y, 0.8)
    assert np.isfinite(moved).all()
    # along a huge eigenvalue a similar pair keeps its whole difference (beta l^2 / (2 + beta l^2)
    # is 1 in float64)
    diff = moved[y == 1, 0] - moved[y == 1, 1]
    np.testing.assert_allclose(diff[:, 0], (pairs[y == 1, 0] - pairs[y == 1, 1])[:, 0])


@pytest.mark.parametrize("which", ["A", "B"])
@pytest.mark.parametrize(
    "call",
    [
        lambda A, B: aml.objective(np.eye(3), A, B, 1.0, 0.8),
        lambda A, B: aml.gradient(np.eye(3), A, B, 1.0, 0.8),
        lambda A, B: aml.gmml(A, B),
        lambda A, B: aml.solve(A, B, 1.0, 0.8),
        lambda A, B: aml.ridge(A, B, 1e-3),
    ],
    ids=["objective", "gradient", "gmml", "solve", "ridge"],
)
def test_indefinite_scatter_matrices_are_named(which, call):
    """A and B are sums of outer products: an indefinite one is an error saying so (not "A is
    singular", not a negative objective)."""
    A = np.diag([3.0, 2.0, 1.0])
    B = np.diag([1.0, 2.0, 3.0])
    bad = np.diag([1.0, 2.0, -0.5])
    args = (bad, B) if which == "A" else (A, bad)
    with pytest.raises(ValueError, match=f"{which} must be positive semi-definite"):
        call(*args)


def test_singular_scatter_matrices_are_still_accepted():
    A = np.diag([1.0, 1.0, 0.0])  # fewer pairs than features: singular, not indefinite
    B = np.diag([1.0, 2.0, 3.0])
    assert np.isfinite(aml.objective(np.eye(3), A, B, 1.0, 0.8))
    assert aml.solve(A, B, 1.0, 0.8, reg=1e-3).converged


@pytest.mark.parametrize(
    "call",
    [
        lambda beta: aml.objective(np.eye(3), np.eye(3), np.eye(3), 1.0, beta),
        lambda beta: aml.solve(np.eye(3), 2 * np.eye(3), 1.0, beta),
        lambda beta: AML(beta=beta).fit(
            np.random.default_rng(0).standard_normal((20, 2, 3)), np.arange(20) % 2 * 2 - 1
        ),
        lambda beta: AML_SupervisedCV(betas=[0.8, beta], cv=2).fit(
            np.random.default_rng(0).standard_normal((20, 3)), np.arange(20) % 2
        ),
    ],
    ids=["objective", "solve", "AML", "AML_SupervisedCV"],
)
def test_beta_beyond_float64_is_named(call):
    """beta^2 overflows float64 near 1e154: such a beta is refused with the reason, never a
    silently wrong objective."""
    with pytest.raises(ValueError, match=r"beta.*at most 1e\+150.*overflows"):
        call(1e160)


def test_largest_beta_gives_the_limit_of_aml():
    """At the largest beta allowed the objective is (1 + alpha) times GMML's, as the limit says."""
    rng = np.random.default_rng(6)
    X, Y = rng.standard_normal((20, 4)), rng.standard_normal((20, 4))
    A, B = X.T @ X, Y.T @ Y
    M = aml.gmml(A, B)
    gmml_value = np.trace(A @ M) + np.trace(B @ np.linalg.inv(M))
    assert aml.objective(M, A, B, 0.5, 1e150) == pytest.approx(1.5 * gmml_value, rel=1e-12)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
@pytest.mark.parametrize("fit", ["aml", "estimator"])
def test_a_start_the_solver_cannot_leave_is_an_error(scale, fit):
    # L-BFGS cannot leave such a start (its first trial steps are not finite); it says so
    rng = np.random.default_rng(7)
    X = rng.standard_normal((60, 4))
    y = np.arange(60) % 3
    with pytest.raises(ValueError, match="cannot make progress from init"):
        if fit == "aml":
            A, B = np.cov(X.T), np.eye(4)
            aml.solve(A, B, 1.0, 0.8, init=scale * np.eye(4), solver="lbfgs")
        else:
            AML_Supervised(init=scale * np.eye(4), solver="lbfgs", random_state=0).fit(X, y)


@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1e200, 1e300])
@pytest.mark.parametrize("alpha", [1.0, 1e9])
def test_newton_recovers_from_a_start_of_any_scale(scale, alpha):
    # Newton-CG's eigenvalue step fits M's eigenvalues to D whatever their scale, so an absurd
    # start still reaches GMML's start's minimiser (with alpha = 1e9, D overflows at 1e300 I; the
    # step's point is then the start)
    rng = np.random.default_rng(7)
    X = rng.standard_normal((60, 4))
    A, B = np.cov(X.T), np.eye(4)
    expected = aml.solve(A, B, alpha, 0.8).M
    result = aml.solve(A, B, alpha, 0.8, init=scale * np.eye(4))
    assert result.converged, result.message
    assert np.linalg.norm(result.M - expected) <= 1e-6 * np.linalg.norm(expected)
    history = np.asarray(result.objective_history)
    assert np.all(np.diff(history) <= 1e-13 * np.abs(history[:-1]))


def test_starts_of_any_sane_scale_still_converge():
    rng = np.random.default_rng(8)
    X, Y = rng.standard_normal((20, 4)), rng.standard_normal((20, 4))
    A, B = X.T @ X, Y.T @ Y
    for scale in (1e-30, 1.0, 1e30):
        assert aml.solve(A, B, 1.0, 0.8, init=scale * np.eye(4)).converged


@pytest.mark.parametrize(
    "call",
    [
        lambda reference: reference.objective(np.eye(3), np.eye(3), np.eye(3), 1.0, 1e160),
        lambda reference: reference.gradient(np.eye(3), np.eye(3), np.eye(3), 1.0, 1e160),
        lambda reference: reference.pair_statistics(
            np.full((4, 2, 3), 1e200) * [[1], [-1]], np.array([1, -1, 1, -1])
        ),
    ],
    ids=["objective", "gradient", "pair_statistics"],
)
def test_the_reference_fails_loudly_at_the_extremes(call):
    from advmetric import reference

    with pytest.raises(FloatingPointError):
        call(reference)


@pytest.mark.parametrize("scale", [1e-170, 1e155])
def test_get_metric_at_extreme_scales(scale, fitted_pairs):
    pairs, model = fitted_pairs
    metric = model.get_metric()
    u, v = pairs[0, 0], pairs[0, 1]
    assert metric(u * scale, v * scale) == pytest.approx(metric(u, v) * scale, rel=1e-12)
    if scale > 1:
        with pytest.raises(ValueError, match="squared distance"):
            metric(u * scale, v * scale, squared=True)


def test_index_pair_distances_do_not_cancel():
    """Distances through an array preprocessor are those of the formed pairs, also for close
    points far from the origin (L x - L x' would cancel there)."""
    rng = np.random.default_rng(10)
    X = 1e8 + 1e-7 * rng.standard_normal((40, 3))
    index = np.stack([np.arange(0, 40, 2), np.arange(1, 40, 2)], axis=1)
    y = np.where(np.arange(20) % 2 == 0, 1, -1)
    model = AML(preprocessor=X).fit(index, y)
    formed = X[index]
    np.testing.assert_allclose(
        model.pair_distance(index), AML().fit(formed, y).pair_distance(formed), rtol=1e-9
    )


def test_cross_validation_at_an_extreme_scale():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((60, 3))
    y = np.arange(60) % 2
    search = AML_SupervisedCV(alphas=[1.0], betas=[0.8], cv=2, random_state=0)
    reference_scores = search.fit(X, y).cv_results_["mean_test_score"]
    scaled_scores = search.fit(X * 1e-170, y).cv_results_["mean_test_score"]
    np.testing.assert_allclose(scaled_scores, reference_scores)


def test_a_callback_error_is_not_blamed_on_init():
    def failing(iteration, objective, relative_gradient):
        raise RuntimeError("stop from the callback")

    with pytest.raises(RuntimeError, match="stop from the callback"):
        aml.solve(np.eye(3), 2 * np.eye(3), 1.0, 0.8, init=np.eye(3), callback=failing)


@pytest.mark.parametrize("magnitude", [1e-310, 5e-324])
def test_subnormal_data_are_named_or_fitted(magnitude):
    """Subnormal data get the largest finite power of two, never inf (which would turn into NaN)."""
    rng = np.random.default_rng(12)
    X = rng.standard_normal((60, 3)) * magnitude
    y = np.arange(60) % 3
    try:
        model = AML_Supervised(random_state=0).fit(X, y)
    except ValueError as error:  # too few significant bits left: an honest error is acceptable
        assert "nan" not in str(error).lower()
    else:
        assert np.isfinite(model.components_).all()
