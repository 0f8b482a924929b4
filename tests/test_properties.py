"""Property-based tests (hypothesis) over generated problems: shapes, scales, label mixes,
alpha and beta.

For every generated problem: the fitted M is exactly symmetric, finite and SPD with its
eigenvalues above the solver's floor; the objective history never increases (the default L-BFGS
solver may rise by at most D's own rounding, 1e-13 relative per step, as documented in
solver.hpp; PGD's Armijo steps strictly decrease); the estimators' transform agrees with their
Mahalanobis matrix; and the compiled array API agrees with the numpy reference.

Every test is derandomised (reproducible) and runs small shapes; ``EXAMPLES`` below adds up the
examples of the whole module (>= 1000).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import advmetric
from advmetric import aml, reference

ROUNDING_SLACK = 1e-13  # solver.hpp: kRoundingSlack
EXAMPLES = {
    "solve_lbfgs": 600,
    "solve_pgd": 300,
    "solve_paper": 200,
    "kernels_vs_reference": 500,
    "solve_vs_reference": 200,
    "estimator_pairs": 200,
    "estimator_supervised": 120,
}


def _settings(name):
    return settings(
        max_examples=EXAMPLES[name],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@st.composite
def problems(draw, max_d=6, max_n=40, well_posed=False):
    """(pairs, y, alpha, beta): d features, n pairs at a random scale with a random label mix.

    ``well_posed``: at least d + 1 pairs of each label, so that A and B are (almost surely) of
    full rank; otherwise anything from 2 pairs up, rank-deficient problems included.
    """
    # sampled_from spreads the sizes evenly (integers() favours its bounds).
    d = draw(st.sampled_from(range(1, max_d + 1)))
    n = draw(st.sampled_from(range(2 * (d + 1) if well_posed else 2, max(max_n, 2 * (d + 1)) + 1)))
    seed = draw(st.integers(0, 2**32 - 1))
    log_scale = draw(st.floats(-4, 4))
    similar_fraction = draw(st.floats(0.05, 0.95))
    anisotropy = draw(st.floats(0, 2))
    alpha = draw(st.sampled_from([0.0, 0.1, 1.0, 1.0, 1.0, 5.0]) | st.floats(1e-3, 10.0))
    beta = draw(st.sampled_from([0.8, 1.0]) | st.floats(1e-3, 1e3))
    rng = np.random.default_rng(seed)
    widths = np.exp(anisotropy * rng.standard_normal(d)) * 10.0**log_scale
    pairs = rng.standard_normal((n, 2, d)) * widths
    y = np.where(rng.random(n) < similar_fraction, 1, -1)
    y[0], y[1] = 1, -1  # both labels occur
    if well_posed:
        y[: d + 1], y[d + 1 : 2 * (d + 1)] = 1, -1
    return pairs, y, alpha, beta


def _spd_check(M, floor):
    assert np.isfinite(M).all()
    np.testing.assert_array_equal(M, M.T)
    w = np.linalg.eigvalsh(M)
    assert w[0] > 0, w
    # The floor is relative to the largest eigenvalue; allow eigvalsh's own rounding.
    assert w[0] >= floor * w[-1] - 64 * np.finfo(float).eps * w[-1], (w, floor)


def _non_increasing(history, slack):
    history = np.asarray(history)
    assert np.isfinite(history).all()
    rises = history[1:] - history[:-1]
    allowed = slack * np.abs(history[:-1])
    assert (rises <= allowed).all(), f"objective rose: {rises[rises > allowed]} at {history}"


# --------------------------------------------------------------------------------------------
# Solvers
# --------------------------------------------------------------------------------------------


@_settings("solve_lbfgs")
@given(st.one_of(problems(), problems(well_posed=True)))
def test_lbfgs_solution_is_spd_and_monotone(problem):
    pairs, y, alpha, beta = problem
    d = pairs.shape[2]
    well_posed = min((y > 0).sum(), (y < 0).sum()) > d
    A, B = aml.pair_statistics(pairs, y)
    result = aml.solve(A, B, alpha, beta, reg=1e-6, max_iter=1000 if well_posed else 100)
    _spd_check(result.M, 0.0)
    assert len(result.objective_history) == result.n_iter + 1
    _non_increasing(result.objective_history, ROUNDING_SLACK)
    # Started from GMML: the first recorded value is D at the GMML solution; the last is D(M).
    M0 = aml.gmml(A, B, reg=1e-6)
    A_r, B_r = (S + 1e-6 * np.trace(S) / len(S) * np.eye(len(S)) for S in (A, B))
    np.testing.assert_allclose(
        result.objective_history[0], aml.objective(M0, A_r, B_r, alpha, beta), rtol=1e-10
    )
    np.testing.assert_allclose(
        result.objective_history[-1], aml.objective(result.M, A_r, B_r, alpha, beta), rtol=1e-10
    )
    if well_posed:
        assert result.converged or "floating-point limit" in result.message, result.message
    assert np.isfinite(aml.adversarial_pairs(result.M, pairs, y, beta)).all()


@_settings("solve_pgd")
@given(problems(), st.sampled_from([1e-12, 1e-8, 1e-4]))
def test_pgd_solution_is_above_the_floor_and_monotone(problem, eig_floor):
    pairs, y, alpha, beta = problem
    A, B = aml.pair_statistics(pairs, y)
    result = aml.solve(A, B, alpha, beta, solver="pgd", reg=1e-6, max_iter=200, eig_floor=eig_floor)
    _spd_check(result.M, eig_floor if result.n_iter else 0.0)
    _non_increasing(result.objective_history, 0.0)


@_settings("solve_paper")
@given(problems(max_d=4), st.floats(-6, 2))
def test_paper_solver_stays_spd_and_finite(problem, log_step):
    pairs, y, alpha, beta = problem
    A, B = aml.pair_statistics(pairs, y)
    result = aml.solve(
        A, B, alpha, beta, solver="paper", reg=1e-6, max_iter=100, step=10.0**log_step
    )
    _spd_check(result.M, 1e-12)
    assert np.isfinite(result.objective_history).all()
    assert np.isfinite(result.gradient_norm_history).all()
    if not result.converged:
        assert result.message


# --------------------------------------------------------------------------------------------
# Fast API == reference API
# --------------------------------------------------------------------------------------------


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = np.linalg.norm(b)
    return np.linalg.norm(a - b) / (scale if scale > 0 else 1.0)


@_settings("kernels_vs_reference")
@given(problems(), st.integers(0, 2**32 - 1), st.floats(0, 1.5))
def test_kernels_match_reference(problem, seed, spread):
    pairs, y, alpha, beta = problem
    d = pairs.shape[2]
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    M = (Q * np.exp(spread * rng.standard_normal(d))) @ Q.T
    M = 0.5 * (M + M.T)
    A, B = aml.pair_statistics(pairs, y)
    A_ref, B_ref = reference.pair_statistics(pairs, y)
    assert _rel(A, A_ref) <= 1e-12 and _rel(B, B_ref) <= 1e-12
    assert (
        _rel(
            aml.adversarial_pairs(M, pairs, y, beta), reference.adversarial_pairs(M, pairs, y, beta)
        )
        <= 1e-9
    )
    assert (
        _rel(aml.objective(M, A, B, alpha, beta), reference.objective(M, A, B, alpha, beta))
        <= 1e-11
    )
    G = reference.gradient(M, A, B, alpha, beta)
    assert _rel(aml.gradient(M, A, B, alpha, beta), G) <= 1e-9
    assert _rel(aml.gradient_pairwise(M, pairs, y, alpha, beta), G) <= 1e-9
    S = M - np.median(np.linalg.eigvalsh(M)) * np.eye(d)
    assert _rel(aml.project_spd(S, 1e-6), reference.project_spd(S, 1e-6)) <= 1e-10
    # GMML's sensitivity grows with the conditioning of A and B (and the reference, which forms
    # A^1/2 B A^1/2, loses more than the core): scale the tolerance with it.
    A_r, B_r = (S + 1e-6 * np.trace(S) / d * np.eye(d) for S in (A, B))
    tol = max(1e-10, 1e-14 * np.linalg.cond(A_r) * np.linalg.cond(B_r))
    assert _rel(aml.gmml(A, B, 1e-6), reference.gmml(A, B, 1e-6)) <= tol


@_settings("solve_vs_reference")
@given(problems(max_d=4, max_n=30, well_posed=True))
def test_solve_matches_reference(problem):
    pairs, y, alpha, beta = problem
    A, B = aml.pair_statistics(pairs, y)
    fast = aml.solve(A, B, alpha, beta, reg=1e-4, tol=1e-10, max_iter=500)
    slow = reference.solve(A, B, alpha, beta, reg=1e-4, tol=1e-9, max_iter=500)
    _spd_check(slow.M, 0.0)
    assert fast.converged or "floating-point limit" in fast.message, fast.message
    # Judged by the reference's own objective: the compiled solver's M is at least as good as
    # the reference solver's (which is plain projected gradient and may stop at max_iter).
    A_r, B_r = reference.ridge(A, B, 1e-4)
    D_fast = reference.objective(fast.M, A_r, B_r, alpha, beta)
    D_slow = reference.objective(slow.M, A_r, B_r, alpha, beta)
    assert D_fast <= D_slow * (1 + 1e-12)
    np.testing.assert_allclose(fast.objective_history[-1], D_fast, rtol=1e-11)
    if slow.converged:  # the minimiser is unique: both found it (M only to what a relative
        # gradient of 1e-9 pins down along the flattest direction of an anisotropic problem)
        assert D_slow - D_fast <= 1e-12 * D_slow
        assert _rel(fast.M, slow.M) <= 1e-4


# --------------------------------------------------------------------------------------------
# Estimators
# --------------------------------------------------------------------------------------------


def _estimator(name):
    cls = getattr(advmetric, name, None)
    if cls is None:
        pytest.fail(f"advmetric.{name} is missing")
    return cls


def _check_fitted_metric(model, X, floor=0.0):
    M = model.get_mahalanobis_matrix()
    _spd_check(M, floor)
    L = model.components_
    assert np.isfinite(L).all()
    np.testing.assert_allclose(L.T @ L, M, rtol=1e-9, atol=1e-12 * np.abs(M).max())
    XL = model.transform(X)
    np.testing.assert_allclose(XL, X @ L.T, rtol=1e-9, atol=1e-12 * np.abs(XL).max())
    # Squared distances in the transformed space are the Mahalanobis distances.
    diff = X[: len(X) // 2] - X[len(X) // 2 : 2 * (len(X) // 2)]
    expected = np.einsum("ij,jk,ik->i", diff, M, diff)
    got = np.sum((XL[: len(X) // 2] - XL[len(X) // 2 : 2 * (len(X) // 2)]) ** 2, axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-12 * expected.max())


@_settings("estimator_pairs")
@given(problems(max_d=5, max_n=30), st.sampled_from(["AML", "GMML"]))
def test_pair_estimators(problem, name):
    pairs, y, alpha, beta = problem
    cls = _estimator(name)
    model = cls(alpha=alpha, beta=beta) if name == "AML" else cls()
    model.fit(pairs, y)
    X = pairs.reshape(-1, pairs.shape[2])
    _check_fitted_metric(model, X)
    distances = model.pair_distance(pairs)
    M = model.get_mahalanobis_matrix()
    diff = pairs[:, 0] - pairs[:, 1]
    squared = np.einsum("ij,jk,ik->i", diff, M, diff)
    # metric-learn's pair_distance is the (unsquared) Mahalanobis distance.
    np.testing.assert_allclose(distances, np.sqrt(squared), rtol=1e-7, atol=1e-12)
    if name == "AML":
        history = model.objective_history_
        _non_increasing(history, ROUNDING_SLACK)


@_settings("estimator_supervised")
@given(
    st.integers(2, 4),
    st.integers(1, 5),
    st.integers(0, 2**32 - 1),
    st.floats(-3, 3),
    st.sampled_from(["AML_Supervised", "GMML_Supervised"]),
)
def test_supervised_estimators(n_classes, d, seed, log_scale, name):
    rng = np.random.default_rng(seed)
    n = 6 * n_classes
    y = np.repeat(np.arange(n_classes), 6)
    X = (rng.standard_normal((n, d)) + 3 * y[:, None] * rng.standard_normal(d)) * 10.0**log_scale
    model = _estimator(name)(random_state=seed % 1000)
    model.fit(X, y)
    _check_fitted_metric(model, X)
