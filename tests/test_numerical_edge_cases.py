"""Numerical edge cases: a finite SPD answer or a clear error, never NaN/inf, never a hang.

Covers rank-deficient scatter matrices (fewer pairs than features, duplicated or constant
features, d > n), d = 1, a single pair, data scaled by 1e-8 and 1e8, nearly collinear features,
zero pair differences, extreme alpha and beta, alpha = 0 (GMML), and the paper's fixed-step
solver with a step that diverges, through both the array API and the estimators.

The solution M is invariant to the scale of the data: D(M) is linear in (A, B) and scaling the
data by s scales A and B by s^2, so every minimiser is unchanged ("scale-consistent").
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import random_pairs, relative_error
from sklearn.exceptions import ConvergenceWarning

import advmetric
from advmetric import aml

SOLVERS = ("auto", "pgd", "paper")
ALPHA, BETA = 1.0, 0.8


def assert_spd(M, floor=0.0):
    """Finite, exactly symmetric, smallest eigenvalue > floor * largest (and > 0)."""
    M = np.asarray(M)
    assert np.isfinite(M).all(), "M has NaN or inf entries"
    np.testing.assert_array_equal(M, M.T)
    w = np.linalg.eigvalsh(M)
    assert w[0] > 0, f"M is not positive definite: eigenvalues {w}"
    assert w[0] >= 0.5 * floor * w[-1], f"eigenvalue below the floor: {w}"


def assert_finite_result(result, floor=0.0):
    assert_spd(result.M, floor)
    assert np.isfinite(result.objective_history).all()
    assert np.isfinite(result.gradient_norm_history).all()
    assert len(result.objective_history) == result.n_iter + 1


def statistics(pairs, y):
    return aml.pair_statistics(pairs, y)


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(3)
    pairs, y = random_pairs(rng, 60, 4)
    return pairs, y


# --------------------------------------------------------------------------------------------
# Rank deficiency and the ridge
# --------------------------------------------------------------------------------------------


def _rank_deficient_cases():
    rng = np.random.default_rng(8)
    cases = {}
    pairs, y = random_pairs(rng, 3, 6)  # fewer pairs than features (and d > n)
    cases["fewer-pairs-than-features"] = (pairs, y)
    pairs, y = random_pairs(rng, 10, 30)  # d > n
    cases["d-greater-than-n"] = (pairs, y)
    pairs, y = random_pairs(rng, 80, 5)
    pairs[:, :, 3] = pairs[:, :, 1]  # duplicated feature
    cases["duplicated-feature"] = (pairs, y)
    pairs, y = random_pairs(rng, 80, 5)
    pairs[:, :, 2] = 7.5  # constant feature
    cases["constant-feature"] = (pairs, y)
    pairs, y = random_pairs(rng, 80, 5)
    pairs[y > 0, 1, 0] = pairs[y > 0, 0, 0]  # similar pairs never differ in feature 0
    cases["similar-pairs-flat-direction"] = (pairs, y)
    pairs, y = random_pairs(rng, 80, 5)
    pairs[y < 0, 1, 4] = pairs[y < 0, 0, 4]  # dissimilar pairs never differ in feature 4
    cases["dissimilar-pairs-flat-direction"] = (pairs, y)
    pairs, y = random_pairs(rng, 80, 5)
    pairs[:, :, 4] = pairs[:, :, 0] - 2.0 * pairs[:, :, 1]  # linear combination of features
    cases["linearly-dependent-feature"] = (pairs, y)
    return cases


RANK_DEFICIENT = _rank_deficient_cases()
# Far fewer pairs than features: the default ridge leaves the problem too flat for "lbfgs" within
# max_iter=1000 (the default, Newton-CG, converges).
SLOW_WITH_DEFAULT_RIDGE = {"d-greater-than-n"}


@pytest.mark.parametrize("name", RANK_DEFICIENT)
def test_rank_deficient_without_ridge_is_a_clear_error(name):
    A, B = statistics(*RANK_DEFICIENT[name])
    for call in (lambda: aml.gmml(A, B), lambda: aml.solve(A, B, ALPHA, BETA)):
        with pytest.raises(ValueError, match=r"(?s)singular.*reg"):
            call()


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("name", RANK_DEFICIENT)
def test_rank_deficient_with_ridge_fits(name, solver):
    A, B = statistics(*RANK_DEFICIENT[name])
    # The default solver with its default max_iter and the estimators' default reg (1e-6) must
    # converge; the other two only have to stay finite and SPD.
    max_iter = 1000 if solver == "auto" else 300
    result = aml.solve(A, B, ALPHA, BETA, reg=1e-6, solver=solver, max_iter=max_iter)
    assert_finite_result(result, floor=1e-12 if solver != "auto" else 0.0)
    if solver == "auto" and name in SLOW_WITH_DEFAULT_RIDGE:
        # Known limitation of "lbfgs" (README): with 10 pairs in 30 dimensions and a 1e-6 ridge the
        # problem is so flat that LBFGS needs thousands of iterations; a stronger ridge converges.
        # The default (Newton-CG) converges as it is.
        assert result.converged, result.message
        slow = aml.solve(A, B, ALPHA, BETA, reg=1e-6, solver="lbfgs", max_iter=max_iter)
        assert not slow.converged and "maximum number of iterations" in slow.message
        stronger = aml.solve(A, B, ALPHA, BETA, reg=1e-2, solver="lbfgs", max_iter=max_iter)
        assert stronger.converged, stronger.message
    elif solver == "auto":
        assert result.converged, result.message
    # The ridge is what the documentation says: reg * tr(S)/d added to the diagonal.
    d = len(A)
    A_r, B_r = A + 1e-6 * np.trace(A) / d * np.eye(d), B + 1e-6 * np.trace(B) / d * np.eye(d)
    np.testing.assert_allclose(aml.gmml(A, B, reg=1e-6), aml.gmml(A_r, B_r), rtol=1e-9, atol=0)


def test_ridge_with_one_zero_scatter_borrows_the_other_scale():
    rng = np.random.default_rng(4)
    pairs, _ = random_pairs(rng, 30, 3)
    for label in (1, -1):
        y = np.full(30, label)
        A, B = statistics(pairs, y)
        scale = np.trace(A + B) / 3
        M = aml.gmml(A, B, reg=1e-3)
        A_r, B_r = A + 1e-3 * scale * np.eye(3), B + 1e-3 * scale * np.eye(3)
        np.testing.assert_allclose(M, aml.gmml(A_r, B_r), rtol=1e-9, atol=0)
        assert_finite_result(aml.solve(A, B, ALPHA, BETA, reg=1e-3))


def test_all_differences_zero_is_a_clear_error():
    rng = np.random.default_rng(5)
    pairs, y = random_pairs(rng, 20, 3)
    pairs[:, 1] = pairs[:, 0]
    A, B = statistics(pairs, y)
    assert not A.any() and not B.any()
    with pytest.raises(ValueError, match="zero"):
        aml.solve(A, B, ALPHA, BETA, reg=1e-6)
    with pytest.raises(ValueError, match="zero"):
        aml.gmml(A, B, reg=1e-6)


def test_zero_difference_pairs_change_nothing(problem):
    pairs, y = problem
    rng = np.random.default_rng(6)
    points = rng.standard_normal((10, 1, pairs.shape[2]))
    same = np.concatenate([points, points], axis=1)  # pairs of identical points
    more_pairs = np.concatenate([pairs, same])
    more_y = np.concatenate([y, np.where(np.arange(10) % 2 == 0, 1, -1)])
    A, B = statistics(pairs, y)
    A2, B2 = statistics(more_pairs, more_y)
    np.testing.assert_array_equal(A, A2)
    np.testing.assert_array_equal(B, B2)
    M = aml.solve(A, B, ALPHA, BETA).M
    assert_spd(M)
    # Their adversarial pairs are the points themselves: nothing to push apart or together.
    adversarial = aml.adversarial_pairs(M, same, more_y[-10:], BETA)
    np.testing.assert_allclose(adversarial, same, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------------------------
# Tiny problems
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
def test_one_feature(solver):
    rng = np.random.default_rng(1)
    pairs, y = random_pairs(rng, 9, 1)
    A, B = statistics(pairs, y)
    a, b = A[0, 0], B[0, 0]
    np.testing.assert_allclose(aml.gmml(A, B), [[np.sqrt(b / a)]], rtol=1e-14)
    result = aml.solve(A, B, ALPHA, BETA, solver=solver, max_iter=5000, tol=1e-6)
    assert_finite_result(result)
    assert result.converged, result.message
    # Stationary point of the scalar objective D(m) (checked with its own derivative).
    m = result.M[0, 0]
    c = 1 + ALPHA * BETA**2 / (2 + BETA) ** 2
    q = 2 + BETA * m**2
    dD = a - c * b / m**2 + ALPHA * BETA**2 * a * (5 * m**4 * q - 4 * BETA * m**6) / q**3
    assert abs(dD) * m <= 1e-5 * aml.objective(result.M, A, B, ALPHA, BETA)


@pytest.mark.parametrize("label", [1, -1])
def test_one_pair(label):
    rng = np.random.default_rng(2)
    pairs = rng.standard_normal((1, 2, 3))
    A, B = statistics(pairs, [label])
    with pytest.raises(ValueError, match="singular"):
        aml.solve(A, B, ALPHA, BETA)
    for solver in SOLVERS:
        result = aml.solve(A, B, ALPHA, BETA, reg=1e-6, solver=solver, max_iter=200)
        assert_finite_result(result, floor=0.0 if solver == "auto" else 1e-12)


def test_one_pair_one_feature():
    A, B = statistics([[[1.0], [3.0]]], [-1])
    result = aml.solve(A, B, ALPHA, BETA, reg=1e-6)
    assert_finite_result(result)
    assert result.converged


# --------------------------------------------------------------------------------------------
# Scale, conditioning
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1e-8, 1e8])
@pytest.mark.parametrize("solver", SOLVERS)
def test_scaled_data_gives_the_same_metric(problem, scale, solver):
    pairs, y = problem
    A, B = statistics(pairs, y)
    A_s, B_s = statistics(pairs * scale, y)
    assert relative_error(A_s, A * scale**2) <= 1e-14
    # The gradient scales like the data squared, so the paper's fixed step must scale inversely
    # (then the iterations are the same); the other solvers need no help.
    kwargs = {"solver": solver, "max_iter": 3000}
    M = aml.solve(A, B, ALPHA, BETA, step=1e-3, **kwargs)
    M_s = aml.solve(A_s, B_s, ALPHA, BETA, step=1e-3 / scale**2, **kwargs)
    assert_finite_result(M_s, floor=0.0 if solver == "auto" else 1e-12)
    if solver == "pgd":  # PGD may stop at its floating-point limit a little above tol
        assert M_s.converged or "floating-point limit" in M_s.message, M_s.message
    else:
        assert M.converged and M_s.converged, (M.message, M_s.message)
    assert relative_error(M_s.M, M.M) <= (1e-6 if solver != "pgd" else 1e-5)
    np.testing.assert_allclose(
        M_s.objective_history[-1], scale**2 * M.objective_history[-1], rtol=1e-8
    )
    np.testing.assert_allclose(aml.gmml(A_s, B_s), aml.gmml(A, B), rtol=1e-12, atol=0)


@pytest.mark.parametrize("scale", [1e-100, 1e100])
def test_extreme_scales_do_not_break_the_solver(problem, scale):
    """A, B ~ 1e-200 or 1e200 are finite and well-conditioned: same M, or a ValueError."""
    pairs, y = problem
    A, B = statistics(pairs, y)
    A_s, B_s = statistics(pairs * scale, y)
    assert np.isfinite(A_s).all() and np.isfinite(B_s).all()
    expected = aml.solve(A, B, ALPHA, BETA).M
    try:
        result = aml.solve(A_s, B_s, ALPHA, BETA)
    except ValueError as exc:
        # The only honest complaint is about the scale; the matrices are not singular.
        assert "singular" not in str(exc), f"misleading error at scale {scale}: {exc}"
    else:
        assert_finite_result(result)
        assert relative_error(result.M, expected) <= 1e-6


@pytest.mark.parametrize("reg", [0.0, 1e-6])
def test_nearly_collinear_features(reg):
    rng = np.random.default_rng(12)
    X = rng.standard_normal((400, 5))
    X[:, 4] = X[:, 3] + 1e-6 * rng.standard_normal(400)
    assert 1e11 < np.linalg.cond(X.T @ X) < 1e13
    pairs = X.reshape(200, 2, 5)
    y = np.where(rng.random(200) < 0.5, 1, -1)
    A, B = statistics(pairs, y)
    for solver in SOLVERS:
        try:
            result = aml.solve(A, B, ALPHA, BETA, reg=reg, solver=solver, max_iter=500)
        except ValueError as exc:
            assert reg == 0.0 and "singular" in str(exc) and "reg" in str(exc)
            continue
        assert_finite_result(result, floor=0.0 if solver == "auto" else 1e-12)
        if solver == "auto":
            assert result.converged, result.message


def test_features_on_wildly_different_scales():
    rng = np.random.default_rng(13)
    pairs, y = random_pairs(rng, 200, 5)
    pairs = pairs * np.logspace(-3, 3, 5)  # A and B have condition numbers ~1e12
    A, B = statistics(pairs, y)
    result = aml.solve(A, B, ALPHA, BETA)
    assert_finite_result(result)
    assert result.converged, result.message
    assert np.isfinite(aml.adversarial_pairs(result.M, pairs, y, BETA)).all()


# --------------------------------------------------------------------------------------------
# alpha and beta at their extremes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["auto", "pgd"])
def test_alpha_zero_is_gmml(problem, solver):
    A, B = statistics(*problem)
    result = aml.solve(A, B, 0.0, BETA, solver=solver)
    assert result.converged
    np.testing.assert_allclose(result.M, aml.gmml(A, B), rtol=1e-9, atol=0)


def test_alpha_zero_paper_solver_converges_to_gmml(problem):
    A, B = statistics(*problem)
    result = aml.solve(A, B, 0.0, BETA, solver="paper", step=1e-3, max_iter=20000, tol=1e-9)
    assert result.converged, result.message
    assert relative_error(result.M, aml.gmml(A, B)) <= 1e-7


@pytest.mark.parametrize(
    ("beta", "rtol"), [(1e-12, 1e-12), (1e-8, 1e-10), (1e6, 1e-4), (1e12, 1e-9)]
)
def test_extreme_beta_tends_to_gmml(problem, beta, rtol):
    """beta -> 0 removes the adversarial term; beta -> inf makes it alpha * (GMML's loss)."""
    A, B = statistics(*problem)
    for solver in ("auto", "pgd"):
        result = aml.solve(A, B, ALPHA, beta, solver=solver)
        assert_finite_result(result)
        assert relative_error(result.M, aml.gmml(A, B)) <= rtol
    pairs, y = problem
    adversarial = aml.adversarial_pairs(result.M, pairs, y, beta)
    assert np.isfinite(adversarial).all()


@pytest.mark.parametrize("alpha", [1e-12, 1e6, 1e12])
def test_extreme_alpha(problem, alpha):
    A, B = statistics(*problem)
    result = aml.solve(A, B, alpha, BETA)
    assert_finite_result(result)
    assert result.converged, result.message


# --------------------------------------------------------------------------------------------
# The paper's fixed-step solver when the step is too large
# --------------------------------------------------------------------------------------------


# A diverging fixed step must be noticed within a few iterations, not run on to max_iter.
DIVERGENCE_DETECTED_WITHIN = 10


@pytest.mark.parametrize("step", [1e-1, 1.0, 1e3, 1e8, 1e300])
def test_paper_solver_with_a_diverging_step_stops_cleanly(problem, step):
    A, B = statistics(*problem)
    iterations = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = aml.solve(
            A,
            B,
            ALPHA,
            BETA,
            solver="paper",
            step=step,
            max_iter=100000,
            callback=lambda k, *_: iterations.append(k),
        )
    assert not result.converged
    assert "diverge" in result.message or "stall" in result.message, result.message
    assert_finite_result(result, floor=1e-12)
    assert result.n_iter <= DIVERGENCE_DETECTED_WITHIN, result.message
    assert len(iterations) <= DIVERGENCE_DETECTED_WITHIN


FAR_INITS = {
    "tiny": 1e-30 * np.eye(4),
    "huge": 1e30 * np.eye(4),
    "enormous": 1e60 * np.eye(4),
    "spread": np.diag([1e-8, 1.0, 1.0, 1e8]),
}


@pytest.mark.parametrize("init", FAR_INITS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_far_init_gives_a_finite_answer_or_a_clear_error(problem, solver, init):
    """A valid SPD start far from the solution's scale: finite result, or a truthful error."""
    A, B = statistics(*problem)
    try:
        result = aml.solve(A, B, ALPHA, BETA, solver=solver, init=FAR_INITS[init], max_iter=2000)
    except ValueError as exc:
        assert "init" in str(exc)
        assert "not positive definite" not in str(exc), f"init is SPD: misleading error {exc}"
        return
    # A start below PGD's relative eigenvalue floor may be returned as it is (no step accepted).
    assert_finite_result(result, floor=1e-12 if solver != "auto" and result.n_iter else 0.0)
    if solver != "paper":  # monotone up to the documented rounding slack (solver.hpp)
        history = result.objective_history
        assert (np.diff(history) <= 1e-13 * np.abs(history[:-1])).all(), history


@pytest.mark.parametrize("init", FAR_INITS)
def test_default_solver_converges_from_far_starts(problem, init):
    """The default solver reaches the same minimum from any of these starts: its eigenvalue
    step fixes a scaled identity's scale at once, an anisotropic start needs its coordinates
    remade along the way."""
    A, B = statistics(*problem)
    best = aml.solve(A, B, ALPHA, BETA)
    result = aml.solve(A, B, ALPHA, BETA, init=FAR_INITS[init], max_iter=5000)
    assert result.converged, result.message
    if init != "spread":
        assert result.n_iter <= 3 * best.n_iter + 10
    assert relative_error(result.objective_history[-1], best.objective_history[-1]) <= 1e-10


def test_max_iter_one_and_tiny_tol(problem):
    A, B = statistics(*problem)
    for solver in SOLVERS:
        result = aml.solve(A, B, ALPHA, BETA, solver=solver, max_iter=1, tol=1e-300)
        assert result.n_iter <= 1 and not result.converged
        assert_finite_result(result)


# --------------------------------------------------------------------------------------------
# The same through the estimators, with their defaults (reg=1e-6)
# --------------------------------------------------------------------------------------------


def _estimator(name, **params):
    return getattr(advmetric, name)(**params)


def _fit_strict(model, *data):
    """Fit with every warning an error: the default settings must not need a ConvergenceWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return model.fit(*data)


def assert_fitted_metric(model, X):
    M = model.get_mahalanobis_matrix()
    assert_spd(M)
    Z = model.transform(X)
    assert np.isfinite(Z).all()
    L = model.components_
    np.testing.assert_allclose(L.T @ L, M, rtol=1e-8, atol=1e-12 * np.abs(M).max())
    return M


@pytest.mark.parametrize("name", ["AML", "GMML"])
@pytest.mark.parametrize("case", RANK_DEFICIENT)
def test_estimators_fit_rank_deficient_data_by_default(name, case):
    pairs, y = RANK_DEFICIENT[case]
    # The default solver converges on all of them (L-BFGS did not on SLOW_WITH_DEFAULT_RIDGE).
    model = _fit_strict(_estimator(name), pairs, y)
    assert_fitted_metric(model, pairs.reshape(-1, pairs.shape[2]))
    assert np.isfinite(model.pair_distance(pairs)).all()


@pytest.mark.parametrize("name", ["AML_Supervised", "GMML_Supervised"])
def test_supervised_estimators_fit_rank_deficient_data_by_default(name):
    rng = np.random.default_rng(31)
    X = rng.standard_normal((12, 20))  # d > n
    X[:, 5] = X[:, 4]  # duplicated feature
    X[:, 7] = 1.0  # constant feature
    y = np.repeat([0, 1, 2], 4)
    model = _fit_strict(_estimator(name, random_state=0), X, y)
    assert_fitted_metric(model, X)


@pytest.mark.parametrize("name", ["AML", "GMML"])
def test_estimators_one_feature(name):
    rng = np.random.default_rng(32)
    pairs, y = random_pairs(rng, 10, 1)
    model = _fit_strict(_estimator(name), pairs, y)
    M = assert_fitted_metric(model, pairs.reshape(-1, 1))
    assert M.shape == (1, 1)


@pytest.mark.parametrize("name", ["AML", "GMML"])
def test_estimators_two_pairs_one_of_each(name):
    rng = np.random.default_rng(33)
    pairs = rng.standard_normal((2, 2, 3))
    model = _fit_strict(_estimator(name), pairs, [1, -1])
    assert_fitted_metric(model, pairs.reshape(-1, 3))


@pytest.mark.parametrize("name", ["AML", "GMML"])
def test_estimators_with_zero_difference_pairs(name):
    rng = np.random.default_rng(34)
    pairs, y = random_pairs(rng, 40, 3)
    pairs[:10, 1] = pairs[:10, 0]
    model = _fit_strict(_estimator(name), pairs, y)
    assert_fitted_metric(model, pairs.reshape(-1, 3))
    assert (model.pair_distance(pairs[:10]) == 0).all()


@pytest.mark.parametrize("name", ["AML", "GMML"])
def test_estimators_all_zero_differences_is_a_clear_error(name):
    rng = np.random.default_rng(35)
    pairs, y = random_pairs(rng, 20, 3)
    pairs[:, 1] = pairs[:, 0]
    with pytest.raises(ValueError, match="zero"):
        _estimator(name).fit(pairs, y)


@pytest.mark.parametrize("scale", [1e-8, 1e8])
@pytest.mark.parametrize("name", ["AML", "GMML", "AML_Supervised", "GMML_Supervised"])
def test_estimators_are_scale_consistent(name, scale):
    rng = np.random.default_rng(36)
    if name.endswith("_Supervised"):
        X = rng.standard_normal((60, 4))
        y = np.repeat([0, 1, 2], 20)
        X[:, 0] += 2 * y
        data, data_s = (X, y), (X * scale, y)
        make = lambda: _estimator(name, random_state=0)  # noqa: E731
    else:
        pairs, y = random_pairs(rng, 80, 4)
        X = pairs.reshape(-1, 4)
        data, data_s = (pairs, y), (pairs * scale, y)
        make = lambda: _estimator(name)  # noqa: E731
    model, model_s = _fit_strict(make(), *data), _fit_strict(make(), *data_s)
    M, M_s = model.get_mahalanobis_matrix(), model_s.get_mahalanobis_matrix()
    assert_spd(M_s)
    assert relative_error(M_s, M) <= 1e-6
    np.testing.assert_allclose(
        model_s.transform(X * scale), scale * model.transform(X), rtol=1e-5, atol=1e-12 * scale
    )


@pytest.mark.parametrize("name", ["AML", "GMML"])
def test_estimators_nearly_collinear_features(name):
    rng = np.random.default_rng(37)
    X = rng.standard_normal((400, 5))
    X[:, 4] = X[:, 3] + 1e-6 * rng.standard_normal(400)
    y = np.where(rng.random(200) < 0.5, 1, -1)
    model = _fit_strict(_estimator(name), X.reshape(200, 2, 5), y)
    assert_fitted_metric(model, X)


def test_aml_with_alpha_zero_is_gmml(problem):
    pairs, y = problem
    aml_model = _fit_strict(_estimator("AML", alpha=0.0), pairs, y)
    gmml_model = _fit_strict(_estimator("GMML"), pairs, y)
    np.testing.assert_allclose(
        aml_model.get_mahalanobis_matrix(), gmml_model.get_mahalanobis_matrix(), rtol=1e-9
    )


@pytest.mark.parametrize(("beta", "rtol"), [(1e-8, 1e-8), (1e6, 1e-4)])
def test_aml_extreme_beta_tends_to_gmml(problem, beta, rtol):
    pairs, y = problem
    model = _fit_strict(_estimator("AML", beta=beta), pairs, y)
    gmml_model = _fit_strict(_estimator("GMML"), pairs, y)
    M, M_gmml = model.get_mahalanobis_matrix(), gmml_model.get_mahalanobis_matrix()
    assert relative_error(M, M_gmml) <= rtol


def test_aml_paper_solver_with_a_diverging_step(problem):
    pairs, y = problem
    model = _estimator("AML", solver="paper", step=10.0, max_iter=10000)
    with pytest.warns(ConvergenceWarning):
        model.fit(pairs, y)
    assert model.n_iter_ <= DIVERGENCE_DETECTED_WITHIN
    assert_fitted_metric(model, pairs.reshape(-1, pairs.shape[2]))
    assert not model.converged_
