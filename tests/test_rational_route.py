"""The array API's eigendecomposition-free route for D(M) and grad D(M) (cpp rational.hpp).

``aml.objective`` and ``aml.gradient`` evaluate D through Cholesky factorizations and inverses when
M and N = M^2 + (2 / beta) I are well conditioned, and in M's eigenbasis otherwise. These tests
hold the rational route to the accuracy of the eigenbasis route: against exact rational
arithmetic (``fractions.Fraction``; D is a rational function of M), against the numpy reference,
and they check that ill-conditioned input falls back to the eigenbasis route unchanged.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from conftest import relative_error

from advmetric import _backend, aml, reference

# (alpha, beta): the default-like setting, no adversary, a strong and a weak adversary.
SETTINGS = [(1.0, 0.8), (0.0, 0.8), (3.0, 1e-3), (0.5, 50.0)]


def spd_with_spectrum(eigenvalues, rng):
    d = len(eigenvalues)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    M = (Q * eigenvalues) @ Q.T
    return 0.5 * (M + M.T)


def scatter(d, rng):
    X = rng.standard_normal((4 * d, d))
    return X.T @ X


# -- exact rational arithmetic ------------------------------------------------------------------


def exact(X):
    return [[Fraction(float(x)) for x in row] for row in X]


def product(X, Y):
    return [[sum(a * b for a, b in zip(row, column)) for column in zip(*Y)] for row in X]


def inverse(X):
    """Gauss-Jordan elimination in exact arithmetic (X is positive definite: no pivoting)."""
    d = len(X)
    rows = [list(row) + [Fraction(int(i == j)) for j in range(d)] for i, row in enumerate(X)]
    for k in range(d):
        pivot = rows[k][k]
        rows[k] = [x / pivot for x in rows[k]]
        for i in range(d):
            if i != k and rows[i][k] != 0:
                factor = rows[i][k]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[k])]
    return [row[d:] for row in rows]


def trace_of_product(X, Y):
    return sum(X[i][j] * Y[j][i] for i in range(len(X)) for j in range(len(X)))


def exact_objective_and_gradient(M, A, B, alpha, beta):
    """D(M) and grad D(M) exactly, from the rational form of docs/math.md.

    D = tr(A M) + c tr(B M^-1) + alpha tr(A P M P) with P = N^-1 M^2, N = M^2 + gamma I; the
    identity itself is checked against the eigenbasis formulas by the reference tests below.
    """
    M, A, B = exact(M), exact(A), exact(B)
    alpha, beta = Fraction(alpha), Fraction(beta)
    d = len(M)
    gamma = 2 / beta
    c = 1 + alpha * beta**2 / (2 + beta) ** 2
    M_inverse = inverse(M)
    M_squared = product(M, M)
    N = [[M_squared[i][j] + (gamma if i == j else 0) for j in range(d)] for i in range(d)]
    N_inverse = inverse(N)
    P = product(N_inverse, M_squared)
    AP = product(A, P)
    PAP = product(P, AP)
    value = trace_of_product(A, M) + c * trace_of_product(B, M_inverse)
    value += alpha * trace_of_product(PAP, M)
    MBM = product(M_inverse, product(B, M_inverse))
    APM = product(AP, M)
    G_P = [[APM[i][j] + APM[j][i] for j in range(d)] for i in range(d)]
    K = product(N_inverse, product(G_P, N_inverse))
    MK = product(M, K)
    G = [
        [
            A[i][j] - c * MBM[i][j] + alpha * (PAP[i][j] + gamma * (MK[i][j] + MK[j][i]))
            for j in range(d)
        ]
        for i in range(d)
    ]
    return float(value), np.array([[float(x) for x in row] for row in G])


@pytest.mark.parametrize("alpha,beta", SETTINGS)
@pytest.mark.parametrize("condition", [1.0, 10.0, 300.0])
def test_rational_route_matches_exact_arithmetic(alpha, beta, condition):
    rng = np.random.default_rng(int(condition) + int(100 * alpha))
    d = 4
    M = spd_with_spectrum(0.7 * np.geomspace(1, condition, d), rng)
    A, B = scatter(d, rng), scatter(d, rng)
    value, G = exact_objective_and_gradient(M, A, B, alpha, beta)
    assert relative_error(aml.objective(M, A, B, alpha, beta), value) <= 1e-13
    assert relative_error(aml.gradient(M, A, B, alpha, beta), G) <= 1e-12


@pytest.mark.parametrize(
    "m_scale,a_scale,b_scale,beta",
    [
        (1e100, 1e-25, 1e175, 1e-200),  # M^2 near 2 / beta: K underflows if formed unscaled
        (1e-75, 1.0, 1e-150, 1e150),
        (1e-3, 1e10, 1e-10, 1e-6),
    ],
)
def test_rational_route_at_extreme_scales(m_scale, a_scale, b_scale, beta):
    """Scales where an unscaled formula under- or overflows in an intermediate (docs/math.md):
    both routes, the eigenbasis one through its weighted bounded factors (objective.hpp)."""
    rng = np.random.default_rng(11)
    d = 4
    M = m_scale * spd_with_spectrum(np.linspace(0.8, 1.6, d), rng)
    A, B = a_scale * scatter(d, rng), b_scale * scatter(d, rng)
    value, G = exact_objective_and_gradient(M, A, B, 1.0, beta)
    for eigenbasis in (False, True):
        found = _backend.objective(M, A, B, 1.0, beta, eigenbasis=eigenbasis)
        assert relative_error(found, value) <= 1e-13
        found = _backend.gradient(M, A, B, 1.0, beta, eigenbasis=eigenbasis)
        assert relative_error(found, G) <= 1e-12
    assert relative_error(aml.objective(M, A, B, 1.0, beta), value) <= 1e-13


# -- against the eigenbasis route and the numpy reference ---------------------------------------


@pytest.mark.parametrize("alpha,beta", SETTINGS)
@pytest.mark.parametrize("d", [1, 2, 7, 23, 24, 40, 64])
def test_rational_route_agrees_with_eigenbasis_route(alpha, beta, d):
    """Both sides of the BLAS switch (d = 24); M well conditioned, so the rational route runs."""
    rng = np.random.default_rng(d)
    M = spd_with_spectrum(np.linspace(0.5, 2.0, d), rng)
    A, B = scatter(d, rng), scatter(d, rng)
    value = aml.objective(M, A, B, alpha, beta)
    G = aml.gradient(M, A, B, alpha, beta)
    for other_value, other_G in (
        (
            _backend.objective(M, A, B, alpha, beta, eigenbasis=True),
            _backend.gradient(M, A, B, alpha, beta, eigenbasis=True),
        ),
        (reference.objective(M, A, B, alpha, beta), reference.gradient(M, A, B, alpha, beta)),
    ):
        assert relative_error(value, other_value) <= 1e-13
        assert relative_error(G, other_G) <= 1e-12
    np.testing.assert_array_equal(G, G.T)


@pytest.mark.parametrize("alpha,beta", SETTINGS)
def test_rational_route_is_taken_for_well_conditioned_input(alpha, beta):
    """The two routes round differently; identical results would mean the rational route never
    ran (and the array API lost its speed)."""
    rng = np.random.default_rng(7)
    for d in (7, 40):
        M = spd_with_spectrum(np.linspace(0.5, 2.0, d), rng)
        A, B = scatter(d, rng), scatter(d, rng)
        G = aml.gradient(M, A, B, alpha, beta)
        assert not np.array_equal(G, _backend.gradient(M, A, B, alpha, beta, eigenbasis=True))


# -- fallback -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "eigenvalues,alpha",
    [
        (np.geomspace(1e-3, 1e3, 30), 1.0),  # cond(N) ~ 4e5: N too ill-conditioned
        (np.geomspace(1e-2, 1e2, 5), 1.0),  # cond(N) ~ 4e3, just past the bound
        (np.geomspace(1e-6, 1e4, 30), 0.0),  # cond(M) = 1e10: M too ill-conditioned
        (np.geomspace(1e-6, 1e4, 6), 0.0),
    ],
)
def test_ill_conditioned_input_uses_the_eigenbasis_route(eigenvalues, alpha):
    rng = np.random.default_rng(len(eigenvalues))
    d = len(eigenvalues)
    M = spd_with_spectrum(eigenvalues, rng)
    A, B = scatter(d, rng), scatter(d, rng)
    assert aml.objective(M, A, B, alpha, 0.8) == _backend.objective(
        M, A, B, alpha, 0.8, eigenbasis=True
    )
    np.testing.assert_array_equal(
        aml.gradient(M, A, B, alpha, 0.8),
        _backend.gradient(M, A, B, alpha, 0.8, eigenbasis=True),
    )


@pytest.mark.parametrize("d", [3, 30])
def test_indefinite_and_singular_m_are_still_refused(d):
    rng = np.random.default_rng(d)
    A, B = scatter(d, rng), scatter(d, rng)
    indefinite = [spd_with_spectrum(np.r_[lowest, np.ones(d - 1)], rng) for lowest in (-1, -1e-3)]
    singular = np.diag(np.r_[0.0, np.ones(d - 1)])
    for M in [*indefinite, singular]:
        for function in (aml.objective, aml.gradient):
            with pytest.raises(ValueError, match="positive definite"):
                function(M, A, B, 1.0, 0.8)


def test_singular_scatter_matrices():
    """A singular B (fewer dissimilar pairs than features) has no Cholesky factor; the rational
    route needs none and still agrees with the reference."""
    rng = np.random.default_rng(3)
    d = 30
    M = spd_with_spectrum(np.linspace(0.5, 2.0, d), rng)
    X = rng.standard_normal((d // 2, d))
    A, B = scatter(d, rng), X.T @ X
    assert (
        relative_error(aml.objective(M, A, B, 1.0, 0.8), reference.objective(M, A, B, 1.0, 0.8))
        <= 1e-13
    )
    assert (
        relative_error(aml.gradient(M, A, B, 1.0, 0.8), reference.gradient(M, A, B, 1.0, 0.8))
        <= 1e-12
    )


def test_large_dimensions_use_the_eigenbasis_route():
    """From d = 384 the eigenbasis route is the faster one (rational.hpp), whatever M is."""
    rng = np.random.default_rng(384)
    d = 384
    M = spd_with_spectrum(np.linspace(0.5, 2.0, d), rng)
    A, B = scatter(d, rng), scatter(d, rng)
    np.testing.assert_array_equal(
        aml.gradient(M, A, B, 1.0, 0.8), _backend.gradient(M, A, B, 1.0, 0.8, eigenbasis=True)
    )
