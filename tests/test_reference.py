"""Tests of the pure-numpy reference implementation ``advmetric.reference``.

Every identity here is checked against an independent route: the aggregated objective against
the pair-by-pair Eq. 9/Eq. 11 computation, the gradient against finite differences of that
explicit objective, the adversarial pairs against the stationarity conditions of Eq. 8, GMML
against its Riccati equation, and so on. Problems are random but seeded.
"""

from __future__ import annotations

import numpy as np
import pytest

from advmetric import aml
from advmetric import reference as ref
from advmetric._testing import (
    FD_ALPHA,
    FD_BETA,
    FD_DIMENSIONS,
    FD_LABELS,
    finite_difference_checks,
    finite_difference_gradient,
    gradient_test_points,
    random_problem,
    repeated_eigenvalue_matrix,
    spd_with_eigenvalues,
)
from advmetric._testing import random_spd_between as random_spd

# The checks against independent routes (finite differences, Eq. 8's stationarity) also run for
# the compiled array API, which must pass them on its own, not only through aml == reference.
IMPLEMENTATIONS = pytest.mark.parametrize("impl", [ref, aml], ids=["reference", "aml"])

ALPHA, BETA = FD_ALPHA, FD_BETA


def relative_error(actual, expected):
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    return float(np.linalg.norm(actual - expected) / np.linalg.norm(expected))


def test_repeated_eigenvalue_matrix_really_repeats():
    # Guard for the tests below: the matrix must have exactly the advertised multiplicities.
    l = np.linalg.eigvalsh(repeated_eigenvalue_matrix(np.random.default_rng(0), 5))
    np.testing.assert_allclose(l, [1, 1, 2, 3, 3], rtol=1e-14)


# --------------------------------------------------------------------------------------------
# pair_statistics
# --------------------------------------------------------------------------------------------


def test_pair_statistics_matches_vectorised_sums():
    rng = np.random.default_rng(1)
    pairs, y = random_problem(rng, 50, 4)
    A, B = ref.pair_statistics(pairs, y)
    diff = pairs[:, 0] - pairs[:, 1]
    np.testing.assert_allclose(A, diff[y == 1].T @ diff[y == 1], rtol=1e-13)
    np.testing.assert_allclose(B, diff[y == -1].T @ diff[y == -1], rtol=1e-13)


def test_pair_statistics_single_label():
    rng = np.random.default_rng(2)
    pairs, y = random_problem(rng, 7, 3, labels="dissimilar")
    A, B = ref.pair_statistics(pairs, y)
    assert np.array_equal(A, np.zeros((3, 3)))
    diff = pairs[:, 0] - pairs[:, 1]
    np.testing.assert_allclose(B, diff.T @ diff, rtol=1e-13)


# --------------------------------------------------------------------------------------------
# Objective: aggregated (corrected Eq. 12) versus explicit (Eq. 9 + Eq. 11)
# --------------------------------------------------------------------------------------------

OBJECTIVE_CASES = [
    (d, n, labels)
    for d in (1, 2, 5, 30)
    for n in (1, 10)
    for labels in ("mixed", "similar", "dissimilar")
] + [(5, 2000, "mixed"), (30, 2000, "mixed"), (5, 2000, "similar"), (5, 2000, "dissimilar")]


@pytest.mark.parametrize(("d", "n", "labels"), OBJECTIVE_CASES)
def test_objective_equals_explicit(d, n, labels):
    rng = np.random.default_rng(1000 * d + n)
    pairs, y = random_problem(rng, n, d, labels)
    A, B = ref.pair_statistics(pairs, y)
    for M in (random_spd(rng, d), np.eye(d), random_spd(rng, d, 0.05, 20.0)):
        aggregated = ref.objective(M, A, B, ALPHA, BETA)
        explicit = ref.objective_explicit(M, pairs, y, ALPHA, BETA)
        assert aggregated == pytest.approx(explicit, rel=1e-12, abs=0.0)


def test_objective_explicit_adversarial_term_dissimilar_closed_form():
    # docs/math.md: for y = -1 the adversarial term is beta^2/(2+beta)^2 xh^T M^{-1} xh.
    rng = np.random.default_rng(3)
    pairs, y = random_problem(rng, 1, 4, labels="dissimilar")
    M = random_spd(rng, 4)
    xh = pairs[0, 0] - pairs[0, 1]
    plain = xh @ np.linalg.solve(M, xh)
    expected = plain * (1.0 + ALPHA * BETA**2 / (2.0 + BETA) ** 2)
    assert ref.objective_explicit(M, pairs, y, ALPHA, BETA) == pytest.approx(expected, rel=1e-13)


def test_objective_reduces_to_geometric_mean_loss_without_adversary():
    rng = np.random.default_rng(4)
    pairs, y = random_problem(rng, 20, 3)
    A, B = ref.pair_statistics(pairs, y)
    M = random_spd(rng, 3)
    expected = np.trace(A @ M) + np.trace(B @ np.linalg.inv(M))
    assert ref.objective(M, A, B, 0.0, BETA) == pytest.approx(expected, rel=1e-13)
    assert ref.objective(M, A, B, ALPHA, 0.0) == pytest.approx(expected, rel=1e-13)


# --------------------------------------------------------------------------------------------
# Gradient
# --------------------------------------------------------------------------------------------


@IMPLEMENTATIONS
@pytest.mark.parametrize("labels", FD_LABELS)
@pytest.mark.parametrize("d", FD_DIMENSIONS)
def test_gradient_matches_finite_differences(d, labels, impl):
    for name, G, G_fd in finite_difference_checks(impl, d, labels):
        assert relative_error(G, G_fd) <= 1e-6, name


@IMPLEMENTATIONS
def test_gradient_matches_finite_differences_d8_near_repeated(impl):
    # Eigenvalues closer than the divided-difference threshold and exactly equal ones.
    rng = np.random.default_rng(11)
    pairs, y = random_problem(rng, 30, 8)
    A, B = ref.pair_statistics(pairs, y)
    M = spd_with_eigenvalues(rng, [0.2, 0.2 * (1 + 1e-9), 1.0, 1.0 + 1e-7, 1.0 + 1e-4, 2, 2, 5])
    G = impl.gradient(M, A, B, ALPHA, BETA)
    assert relative_error(G, finite_difference_gradient(M, pairs, y, ALPHA, BETA)) <= 1e-6


def test_paper_eq14_is_wrong_at_identity():
    # Documents why the divided-difference form is used: Eq. 14 as printed (symmetrised),
    # built from (l_j I - M)^+, drops the coupling of equal eigenvalues. At M = I it misses
    # the whole adversarial term's off-diagonal structure, and the reference does not.
    rng = np.random.default_rng(12)
    d = 5
    pairs, y = random_problem(rng, 40, d)
    A, B = ref.pair_statistics(pairs, y)
    M = np.eye(d)
    G_fd = finite_difference_gradient(M, pairs, y, ALPHA, BETA)
    l, U = np.linalg.eigh(M)
    hs = {1: ref._h_plus, -1: ref._h_minus}
    dhs = {1: ref._dh_plus, -1: ref._dh_minus}
    eq14 = A - np.linalg.inv(M) @ B @ np.linalg.inv(M)
    for (x, xp), label in zip(pairs, y):
        xh = x - xp
        term = np.zeros((d, d))
        for j in range(d):
            Uj = U[:, j]
            term += dhs[label](l[j], BETA) * (xh @ Uj) ** 2 * np.outer(Uj, Uj)
            pinv = np.linalg.pinv(l[j] * np.eye(d) - M)
            term += 2 * hs[label](l[j], BETA) * pinv @ np.outer(xh, xh) @ np.outer(Uj, Uj)
        eq14 += ALPHA * BETA**2 * 0.5 * (term + term.T)
    assert relative_error(eq14, G_fd) > 1e-2
    G = ref.gradient(M, A, B, ALPHA, BETA)
    assert relative_error(G, G_fd) <= 1e-6


@pytest.mark.parametrize("labels", ["mixed", "similar", "dissimilar"])
@pytest.mark.parametrize("d", [1, 2, 5, 30])
def test_gradient_equals_pairwise_and_is_symmetric(d, labels):
    rng = np.random.default_rng(100 + d)
    pairs, y = random_problem(rng, 200 if d < 30 else 60, d, labels)
    A, B = ref.pair_statistics(pairs, y)
    for name, M in gradient_test_points(rng, d):
        G = ref.gradient(M, A, B, ALPHA, BETA)
        G_pairs = ref.gradient_pairwise(M, pairs, y, ALPHA, BETA)
        assert relative_error(G, G_pairs) <= 1e-10, name
        assert np.array_equal(G, G.T), name
        assert np.array_equal(G_pairs, G_pairs.T), name


def exact_divided_differences(l, beta):
    """Cancellation-free closed forms of h_+[a, b] and h_-[a, b] (valid also for a == b)."""
    a, b = l[:, None], l[None, :]
    q_a, q_b = 2.0 + beta * a**2, 2.0 + beta * b**2
    # (a^5 q_b^2 - b^5 q_a^2) / (a - b), expanded: every term is positive.
    numerator = (
        4.0 * (a**4 + a**3 * b + a**2 * b**2 + a * b**3 + b**4)
        + 4.0 * beta * a**2 * b**2 * (a**2 + a * b + b**2)
        + beta**2 * a**4 * b**4
    )
    return numerator / (q_a**2 * q_b**2), -1.0 / (a * b * (2.0 + beta) ** 2)


@pytest.mark.parametrize("beta", [1e-3, 0.8, 10.0, 1e3])
@pytest.mark.parametrize("base", [1e-3, 0.3, 1.0, 7.0, 1e3])
def test_divided_differences_accurate_for_all_gaps(base, beta):
    # Gaps from exact ties through the switch-over threshold (~6e-6) to well separated.
    worst = 0.0
    for gap in np.concatenate([[0.0], np.logspace(-16, -1, 61)]):
        l = np.array([base, base * (1 + gap), base * (1 + 2 * gap) * 1.0001, 2 * base])
        F_plus, F_minus = ref._adversarial_divided_differences(l, beta)
        E_plus, E_minus = exact_divided_differences(l, beta)
        worst = max(
            worst, np.max(np.abs(F_plus / E_plus - 1)), np.max(np.abs(F_minus / E_minus - 1))
        )
    assert worst <= 1e-9


# --------------------------------------------------------------------------------------------
# Adversarial pairs (Eqs. 8, 9)
# --------------------------------------------------------------------------------------------


def confusion_objective(M, pairs, y, adversarial, beta):
    """C_M(Pi) of Eq. 3: L_g(M, Pi, -y) + beta sum_i [Dist_M(x_i, pi_i) + Dist_M(x'_i, pi'_i)]."""
    M_inv = np.linalg.inv(M)
    total = 0.0
    for (x, xp), (p, pp), label in zip(pairs, adversarial, y):
        diff = p - pp
        # L_g with the opposite label -y: M^{-1} for a similar pair (y = +1), M otherwise.
        total += diff @ (M_inv if label == 1 else M) @ diff
        total += beta * ((x - p) @ M @ (x - p) + (xp - pp) @ M @ (xp - pp))
    return total


@IMPLEMENTATIONS
@pytest.mark.parametrize("d", [1, 2, 5, 30])
def test_adversarial_pairs_are_stationary_points_of_eq8(d, impl):
    rng = np.random.default_rng(200 + d)
    pairs, y = random_problem(rng, 40, d)
    for M in (random_spd(rng, d), np.eye(d), random_spd(rng, d, 0.05, 20.0)):
        M_inv = np.linalg.inv(M)
        adversarial = impl.adversarial_pairs(M, pairs, y, BETA)
        assert adversarial.shape == pairs.shape
        for (x, xp), (p, pp), label in zip(pairs, adversarial, y):
            W = M_inv if label == 1 else M  # W = M^{-y}
            # Half-gradients of C_M (Eq. 8) with respect to pi and pi'.
            coupling = W @ (p - pp)
            grad_p = coupling + BETA * M @ (p - x)
            grad_pp = -coupling + BETA * M @ (pp - xp)
            scale = np.linalg.norm(coupling) + BETA * np.linalg.norm(M @ (p - x))
            scale += BETA * np.linalg.norm(M @ (pp - xp))
            assert np.linalg.norm(grad_p) <= 1e-10 * scale
            assert np.linalg.norm(grad_pp) <= 1e-10 * scale
            np.testing.assert_allclose(p + pp, x + xp, rtol=1e-12, atol=1e-12 * np.abs(x).max())


def test_adversarial_pairs_minimise_confusion_objective():
    rng = np.random.default_rng(300)
    pairs, y = random_problem(rng, 15, 4)
    M = random_spd(rng, 4)
    adversarial = ref.adversarial_pairs(M, pairs, y, BETA)
    best = confusion_objective(M, pairs, y, adversarial, BETA)
    for scale in (1e-1, 1e-3):
        for _ in range(20):
            perturbed = adversarial + scale * rng.normal(size=adversarial.shape)
            assert confusion_objective(M, pairs, y, perturbed, BETA) > best


def test_adversarial_pairs_eigen_form():
    # docs/math.md: pi - pi' = U diag(beta l / (2 l^{-y} + beta l)) U^T xh.
    rng = np.random.default_rng(301)
    pairs, y = random_problem(rng, 25, 6)
    M = random_spd(rng, 6)
    l, U = np.linalg.eigh(M)
    adversarial = ref.adversarial_pairs(M, pairs, y, BETA)
    for (x, xp), (p, pp), label in zip(pairs, adversarial, y):
        factor = BETA * l / (2.0 * l ** (-label) + BETA * l)
        expected = U @ (factor * (U.T @ (x - xp)))
        np.testing.assert_allclose(p - pp, expected, rtol=1e-11, atol=1e-12)


# --------------------------------------------------------------------------------------------
# project_spd
# --------------------------------------------------------------------------------------------


def test_project_spd_floors_indefinite_matrix():
    rng = np.random.default_rng(400)
    X = rng.normal(size=(6, 6))
    S = 0.5 * (X + X.T)
    eps = 1e-3
    P = ref.project_spd(X, eps=eps)  # not symmetric on input: the symmetric part is used
    assert np.array_equal(P, P.T)
    l_in, U_in = np.linalg.eigh(S)
    assert l_in.min() < 0 < l_in.max()
    floor = eps * np.abs(l_in).max()
    np.testing.assert_allclose(np.linalg.eigvalsh(P), np.maximum(l_in, floor), rtol=1e-10)
    # Directions with eigenvalue above the floor are untouched.
    for value, vector in zip(l_in, U_in.T):
        if value > floor:
            np.testing.assert_allclose(P @ vector, value * vector, atol=1e-12 * np.abs(l_in).max())


def test_project_spd_identity_on_well_conditioned_spd():
    rng = np.random.default_rng(401)
    M = random_spd(rng, 7)
    P = ref.project_spd(M)
    assert np.array_equal(P, P.T)
    assert relative_error(P, M) <= 1e-14


def test_project_spd_zero_and_negative_definite():
    eps = 1e-10
    np.testing.assert_allclose(ref.project_spd(np.zeros((3, 3)), eps), eps * np.eye(3))
    P = ref.project_spd(-np.diag([1.0, 2.0, 4.0]), eps)
    np.testing.assert_allclose(P, 4.0 * eps * np.eye(3), rtol=1e-12)
    assert np.all(np.linalg.eigvalsh(P) > 0)


# --------------------------------------------------------------------------------------------
# ridge and GMML
# --------------------------------------------------------------------------------------------


def test_ridge_definition_and_errors():
    A = np.diag([1.0, 2.0, 3.0])
    B = np.diag([4.0, 0.0, 8.0])
    A_r, B_r = ref.ridge(A, B, 0.1)
    np.testing.assert_allclose(A_r, A + 0.1 * 2.0 * np.eye(3))
    np.testing.assert_allclose(B_r, B + 0.1 * 4.0 * np.eye(3))
    A_r, B_r = ref.ridge(np.zeros((3, 3)), B, 0.5)  # zero trace borrows the other one's
    np.testing.assert_allclose(A_r, 0.5 * 4.0 * np.eye(3))
    A_r, B_r = ref.ridge(A, np.zeros((3, 3)), 0.5)
    np.testing.assert_allclose(B_r, 0.5 * 2.0 * np.eye(3))
    A_r, B_r = ref.ridge(A, B, 0.0)
    assert np.array_equal(A_r, A) and np.array_equal(B_r, B)
    with pytest.raises(ValueError):
        ref.ridge(np.zeros((3, 3)), np.zeros((3, 3)), 0.1)
    for bad in (-1e-3, np.nan, np.inf):
        with pytest.raises(ValueError):
            ref.ridge(A, B, bad)


@pytest.mark.parametrize(("d", "reg"), [(1, 0.0), (2, 0.0), (5, 0.0), (30, 0.0), (5, 0.3)])
def test_gmml_solves_riccati_and_minimises_geometric_mean_loss(d, reg):
    rng = np.random.default_rng(500 + d)
    pairs, y = random_problem(rng, 4 * d + 10, d)
    A, B = ref.pair_statistics(pairs, y)
    M = ref.gmml(A, B, reg=reg)
    assert np.array_equal(M, M.T)
    assert np.linalg.eigvalsh(M).min() > 0
    A_r = A + reg * np.trace(A) / d * np.eye(d)
    B_r = B + reg * np.trace(B) / d * np.eye(d)
    assert relative_error(M @ A_r @ M, B_r) <= 1e-10
    M_inv = np.linalg.inv(M)
    gradient = A_r - M_inv @ B_r @ M_inv
    assert np.linalg.norm(gradient) <= 1e-10 * np.linalg.norm(A_r)
    # Minimiser: random SPD perturbations increase tr(A M) + tr(B M^{-1}).
    loss = np.trace(A_r @ M) + np.trace(B_r @ M_inv)
    for _ in range(5):
        E = rng.normal(size=(d, d))
        M_other = M + 1e-3 * np.linalg.norm(M) * (E + E.T) / np.linalg.norm(E + E.T)
        other = np.trace(A_r @ M_other) + np.trace(B_r @ np.linalg.inv(M_other))
        assert other > loss


def test_gmml_singular_A_needs_ridge():
    rng = np.random.default_rng(510)
    pairs, y = random_problem(rng, 2, 5)  # one similar pair: A has rank 1
    A, B = ref.pair_statistics(pairs, y)
    with pytest.raises(ValueError):
        ref.gmml(A, B)
    M = ref.gmml(A, B, reg=1e-2)
    assert np.all(np.isfinite(M)) and np.linalg.eigvalsh(M).min() > 0


# --------------------------------------------------------------------------------------------
# solve
# --------------------------------------------------------------------------------------------


def solve_problem(seed, n=60, d=4):
    rng = np.random.default_rng(seed)
    pairs, y = random_problem(rng, n, d)
    return ref.pair_statistics(pairs, y)


def check_result_consistency(result, A, B, alpha, beta, tol):
    history = result.objective_history
    assert history.shape == result.gradient_norm_history.shape == (result.n_iter + 1,)
    assert np.all(np.isfinite(history)) and np.all(np.isfinite(result.gradient_norm_history))
    assert np.all(np.isfinite(result.M)) and np.array_equal(result.M, result.M.T)
    assert np.linalg.eigvalsh(result.M).min() > 0
    assert history[-1] == pytest.approx(ref.objective(result.M, A, B, alpha, beta), rel=1e-14)
    assert result.converged == (result.gradient_norm_history[-1] <= tol)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("solver", ["auto", "pgd"])
def test_solve_pgd_monotone_and_stationary(solver, seed):
    A, B = solve_problem(seed)
    tol = 1e-7
    result = ref.solve(A, B, ALPHA, BETA, solver=solver, tol=tol, max_iter=2000)
    check_result_consistency(result, A, B, ALPHA, BETA, tol)
    assert result.converged, result.message
    assert result.n_iter > 0
    assert np.all(np.diff(result.objective_history) <= 0.0)
    # Started at GMML by default, the minimiser for alpha = 0.
    assert result.objective_history[0] == pytest.approx(
        ref.objective(ref.gmml(A, B), A, B, ALPHA, BETA), rel=1e-14
    )
    assert result.objective_history[-1] < result.objective_history[0]


def test_solve_monotone_from_far_start_and_callback():
    A, B = solve_problem(7, n=100, d=6)
    calls = []

    def callback(*args):
        calls.append(args)

    result = ref.solve(
        A, B, ALPHA, BETA, init=50.0 * np.eye(6), tol=1e-7, max_iter=5000, callback=callback
    )
    check_result_consistency(result, A, B, ALPHA, BETA, 1e-7)
    assert np.all(np.diff(result.objective_history) <= 0.0)
    assert [c[0] for c in calls] == list(range(1, result.n_iter + 1))
    np.testing.assert_array_equal([c[1] for c in calls], result.objective_history[1:])
    np.testing.assert_array_equal([c[2] for c in calls], result.gradient_norm_history[1:])
    assert all(isinstance(c[0], int) and isinstance(c[1], float) for c in calls)


def test_solve_alpha_zero_returns_gmml():
    A, B = solve_problem(8)
    from_gmml = ref.solve(A, B, 0.0, BETA)
    assert from_gmml.converged and from_gmml.n_iter == 0
    from_identity = ref.solve(A, B, 0.0, BETA, init=np.eye(4), tol=1e-11, max_iter=5000)
    assert from_identity.converged, from_identity.message
    assert relative_error(from_identity.M, ref.gmml(A, B)) <= 1e-9


@pytest.mark.parametrize("seed", range(16, 24))
def test_solve_pgd_certifies_tolerance_below_objective_rounding(seed):
    # Near the minimiser the decrease per step (~ rel_grad^2 D) is below the rounding error of
    # D itself once rel_grad < ~1e-8; the line search must still make (monotone) progress.
    A, B = solve_problem(seed, n=40, d=5)
    tol = 1e-12
    from_gmml = ref.solve(A, B, ALPHA, BETA, tol=tol, max_iter=5000)
    from_identity = ref.solve(A, B, ALPHA, BETA, tol=tol, max_iter=5000, init=np.eye(5))
    for result in (from_gmml, from_identity):
        check_result_consistency(result, A, B, ALPHA, BETA, tol)
        assert result.converged, result.message
        assert np.all(np.diff(result.objective_history) <= 0.0)
    assert relative_error(from_gmml.M, from_identity.M) <= 1e-10


def test_solve_with_ridge_is_stationary_for_ridged_problem():
    rng = np.random.default_rng(9)
    pairs, y = random_problem(rng, 3, 6)  # rank-deficient A and B: needs the ridge
    A, B = ref.pair_statistics(pairs, y)
    reg = 0.1
    tol = 1e-7
    result = ref.solve(A, B, ALPHA, BETA, reg=reg, tol=tol, max_iter=5000)
    A_r, B_r = ref.ridge(A, B, reg)
    check_result_consistency(result, A_r, B_r, ALPHA, BETA, tol)
    assert result.converged, result.message
    G = ref.gradient(result.M, A_r, B_r, ALPHA, BETA)
    assert np.linalg.norm(G) <= 1e-5 * np.linalg.norm(A_r)


def test_solve_pgd_reports_max_iter():
    A, B = solve_problem(10)
    result = ref.solve(A, B, ALPHA, BETA, init=np.eye(4), max_iter=2, tol=1e-12)
    assert not result.converged
    assert result.n_iter == 2
    assert "max_iter" in result.message


def test_solve_paper_converges_with_small_step_to_pgd_solution():
    A, B = solve_problem(11, n=20, d=3)
    tol = 1e-8
    paper = ref.solve(A, B, ALPHA, BETA, solver="paper", step=1e-2, tol=tol, max_iter=20000)
    check_result_consistency(paper, A, B, ALPHA, BETA, tol)
    assert paper.converged, paper.message
    assert paper.objective_history[0] == pytest.approx(
        ref.objective(np.eye(3), A, B, ALPHA, BETA), rel=1e-14
    )
    pgd = ref.solve(A, B, ALPHA, BETA, tol=tol, max_iter=5000)
    assert paper.objective_history[-1] == pytest.approx(pgd.objective_history[-1], rel=1e-12)
    assert relative_error(paper.M, pgd.M) <= 1e-6


@pytest.mark.parametrize("step", [1.0, 100.0, 1e70])
def test_solve_paper_reports_divergence_honestly(step):
    # step 1 and 100 throw M out to ~1e22 where the update is lost in rounding; 1e70 overflows.
    A, B = solve_problem(12)
    result = ref.solve(A, B, ALPHA, BETA, solver="paper", step=step, max_iter=1000)
    assert not result.converged
    assert "diverged" in result.message
    assert result.n_iter < 1000
    check_result_consistency(result, A, B, ALPHA, BETA, 1e-8)
    if step == 1e70:  # nothing finite after the start: the start point is returned
        assert result.n_iter == 0
        np.testing.assert_array_equal(result.M, np.eye(4))


def test_solve_paper_oscillating_step_does_not_converge():
    A, B = solve_problem(12)
    result = ref.solve(A, B, ALPHA, BETA, solver="paper", step=1e-2, max_iter=300)
    assert not result.converged
    assert result.n_iter == 300
    assert "max_iter" in result.message
    assert np.any(np.diff(result.objective_history) > 0)  # Algorithm 1 is not monotone
    check_result_consistency(result, A, B, ALPHA, BETA, 1e-8)


def test_solve_paper_stalls_without_converging():
    # A step too small to converge within max_iter: converged must be False.
    A, B = solve_problem(13)
    result = ref.solve(A, B, ALPHA, BETA, solver="paper", step=1e-6, max_iter=50)
    assert not result.converged
    assert result.n_iter == 50
    assert "max_iter" in result.message


def test_solve_rejects_unknown_solver_and_bad_reg():
    A, B = solve_problem(14)
    with pytest.raises(ValueError):
        ref.solve(A, B, ALPHA, BETA, solver="lbfgs")
    with pytest.raises(ValueError):
        ref.solve(A, B, ALPHA, BETA, reg=-1.0)


def test_solve_accepts_and_ignores_n_threads():
    A, B = solve_problem(15)
    one = ref.solve(A, B, ALPHA, BETA, n_threads=1)
    many = ref.solve(A, B, ALPHA, BETA, n_threads=8)
    np.testing.assert_array_equal(one.M, many.M)
