"""Newton-CG's eigenvalue step: the exact minimiser of D over M's eigenvalues, eigenvectors fixed.

Over the matrices U diag(m) U^T, D = sum_j a_j f(m_j) + b_j / m_j with a = diag(U^T A U),
b = c diag(U^T B U) and f(l) = l + alpha beta^2 h_+(l), so each eigenvalue has its own scalar
problem. The compiled scalar solver (``_core._best_eigenvalue``) is checked against the root of
a m^2 f'(m) = b found by bisection in 60-digit decimal arithmetic (which neither over- nor
underflows at beta = 1e-200 or 1e150), the step's result against D itself, and the solver's use
of it (two Newton iterations from GMML; the return to GMML's point where the step lands near a
saddle).
"""

from __future__ import annotations

from decimal import Decimal, localcontext

import numpy as np
import pytest
from conftest import random_pairs, random_scatter

from advmetric import _core, aml


def exact_root(a, b, alpha, beta):
    """The m > 0 with a m^2 f'(m) = b, by bisection on log m in 60-digit decimals (the left side
    increases strictly in m); f'(m) = 1 + alpha beta^2 m^4 (10 + beta m^2) / (2 + beta m^2)^3."""
    with localcontext() as ctx:
        ctx.prec = 60
        a, b, alpha, beta = (Decimal(float(x)) for x in (a, b, alpha, beta))

        def excess(m):
            x = beta * m * m
            return a * m * m * (1 + alpha * x * x * (10 + x) / (2 + x) ** 3) - b

        # the root lies in [sqrt(b / a) / sqrt(1 + 5 alpha), sqrt(b / a)]
        hi = (b / a).sqrt()
        lo = hi / (1 + 5 * alpha).sqrt() / 2
        for _ in range(300):
            mid = (lo * hi).sqrt()
            if excess(mid) < 0:
                lo = mid
            else:
                hi = mid
        return float((lo * hi).sqrt())


CASES = [
    # a, b, alpha, beta: GMML-like scales, strong and weak adversarial terms, extreme beta
    (1.5, 0.8, 1.0, 0.8),
    (1.7, 0.34, 1.0, 0.8),
    (0.76, 1.29, 1.0, 0.8),
    (2.0, 3.0, 1e4, 0.8),
    (2.0, 3.0, 1e-4, 0.8),
    (1.0, 1e6, 3.0, 1e-3),
    (1.0, 1e-6, 0.5, 50.0),
    (1.0, 1.0, 1e-4, 1e4),
    (1.0, 1e200, 1.0, 1e-200),  # m ~ 1e100 = sqrt(2 / beta)
    (1.0, 1e-150, 1.0, 1e150),  # m ~ 1e-75
    (3e-7, 2.0, 1.0, 0.8),  # a direction the similar pairs barely see (a ridge)
    (1.0, 1.0, 2.5e307, 0.8),  # alpha E and 1 + 5 alpha overflow
    (1e-300, 1e300, 1.7e308, 0.8),
    (1.0, 1.0, 1e-310, 0.8),  # a subnormal alpha: 1 / alpha overflows
]


@pytest.mark.parametrize("a, b, alpha, beta", CASES)
@pytest.mark.parametrize("start", ["root", "low", "high", "far"])
def test_best_eigenvalue_is_the_exact_root(a, b, alpha, beta, start):
    root = exact_root(a, b, alpha, beta)
    begin = {"root": root, "low": root / 3, "high": root * 3, "far": 1e-300}[start]
    m = _core._best_eigenvalue(a, b, alpha, beta, begin)
    # the solver works on u = log m, whose rounding is eps |u|: relative error eps |log m| in m
    assert m == pytest.approx(root, rel=1e-14 * max(1.0, abs(np.log(root))))


def test_best_eigenvalue_without_the_adversarial_term_is_gmmls():
    # alpha = 0: a m + b / m is least at sqrt(b / a), GMML's own eigenvalue
    assert _core._best_eigenvalue(2.0, 8.0, 0.0, 0.8, 1.0) == pytest.approx(2.0, rel=1e-15)


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(a=0.0), "a and b"),
        (dict(b=-1.0), "a and b"),
        (dict(alpha=-1.0), "alpha"),
        (dict(beta=0.0), "beta"),
        (dict(start=np.nan), "start"),
    ],
)
def test_best_eigenvalue_refuses_bad_arguments(bad, message):
    arguments = dict(a=1.0, b=1.0, alpha=1.0, beta=0.8, start=1.0) | bad
    with pytest.raises(ValueError, match=message):
        _core._best_eigenvalue(**arguments)


@pytest.mark.parametrize("alpha, beta", [(1.0, 0.8), (3.0, 1e-3), (0.5, 50.0)])
def test_the_step_minimises_D_over_the_eigenvalues(alpha, beta):
    A, B = random_scatter(12, seed=4)
    M0 = aml.gmml(A, B)
    l, U = np.linalg.eigh(M0)
    c = 1 + alpha * (beta / (2 + beta)) ** 2
    a = np.einsum("ij,ij->j", U, A @ U)
    b = c * np.einsum("ij,ij->j", U, B @ U)
    m = np.array([_core._best_eigenvalue(a[j], b[j], alpha, beta, l[j]) for j in range(len(l))])
    M = (U * m) @ U.T
    D0, D = aml.objective(M0, A, B, alpha, beta), aml.objective(M, A, B, alpha, beta)
    assert D < D0
    # stationary in every eigenvalue: the gradient's diagonal in the eigenbasis vanishes
    G = U.T @ aml.gradient(M, A, B, alpha, beta) @ U
    assert np.abs(np.diag(G) * m).max() <= 1e-12 * D
    # and no other eigenvalues do better: a random perturbation of them raises D
    rng = np.random.default_rng(0)
    for _ in range(5):
        other = m * np.exp(1e-3 * rng.standard_normal(len(m)))
        assert aml.objective((U * other) @ U.T, A, B, alpha, beta) > D


@pytest.mark.parametrize("d, seed", [(16, 0), (40, 1), (64, 2)])
def test_newton_needs_two_iterations_from_gmml(d, seed):
    # the step takes GMML's relative gradient from ~1e-2 to ~1e-4, inside Newton's fast local
    # convergence: two iterations reach 1e-8 (three were needed from GMML itself)
    A, B = random_scatter(d, seed=seed)
    result = aml.solve(A, B, 1.0, 0.8)
    assert result.converged, result.message
    assert result.n_iter == 2
    start = aml.objective(aml.gmml(A, B), A, B, 1.0, 0.8)
    assert result.objective_history[0] == pytest.approx(start, rel=1e-12)
    history = np.asarray(result.objective_history)
    assert np.all(np.diff(history) <= 1e-13 * np.abs(history[:-1]))
    same = aml.solve(A, B, 1.0, 0.8, solver="lbfgs").M
    assert np.linalg.norm(result.M - same) <= 1e-6 * np.linalg.norm(same)


def test_a_step_near_a_saddle_is_taken_back():
    # 10 pairs in 30 dimensions with a 1e-6 ridge: D has several local minima, and the step lands
    # where CG meets negative curvature at once; Newton-CG then restarts from GMML's point (without
    # that it crawled at a relative gradient of 0.08 for thousands of iterations)
    rng = np.random.default_rng(8)
    random_pairs(rng, 3, 6)  # the edge-case suite's first case, drawn first from the same stream
    pairs, y = random_pairs(rng, 10, 30)
    A, B = aml.pair_statistics(pairs, y)
    result = aml.solve(A, B, 1.0, 0.8, reg=1e-6, max_iter=200)
    assert result.converged, result.message
    assert result.n_iter <= 60
    history = np.asarray(result.objective_history)
    assert np.all(np.diff(history) <= 1e-13 * np.abs(history[:-1]))
