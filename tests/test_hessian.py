"""The Hessian of D(M) and the Newton-CG solver built on it.

The Hessian-vector product (compiled ``_core.hessian_vector`` and the numpy
``reference.hessian_vector``) is checked against central finite differences of the gradient, at
generic M, at repeated eigenvalues (M = I included) and at nearly equal ones, for several
(alpha, beta). The solver is checked to reach the same minimiser as L-BFGS.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import random_scatter, random_spd, relative_error
from sklearn.datasets import load_digits

from advmetric import _core, aml, reference

D = 6
PARAMS = [(1.0, 0.8), (0.0, 1.0), (3.0, 1e-3), (0.5, 50.0), (1e-4, 1e4)]


def scatter_pair(rng, d=D, rows=30):
    X, Y = rng.standard_normal((2, rows, d))
    return X.T @ X, Y.T @ Y


def symmetric(rng, d=D):
    V = rng.standard_normal((d, d))
    return V + V.T


def finite_difference(M, A, B, alpha, beta, V):
    """Central difference of the gradient along V, with a step relative to M's smallest scale."""
    e = 1e-5 * np.linalg.eigvalsh(M).min() / np.linalg.norm(V, 2)
    plus = reference.gradient(M + e * V, A, B, alpha, beta)
    minus = reference.gradient(M - e * V, A, B, alpha, beta)
    return (plus - minus) / (2 * e)


def points(rng, A, B):
    U = np.linalg.qr(rng.standard_normal((D, D)))[0]
    return {
        "gmml": reference.gmml(A, B),
        "generic": random_spd(rng, D, spread=2.0),
        "identity": np.eye(D),
        "repeated": (U * np.array([0.5, 0.5, 0.5, 2.0, 2.0, 7.0])) @ U.T,
        "near-repeated": (U * np.array([1, 1 + 1e-13, 1 + 2e-9, 3, 3 + 1e-11, 3.5])) @ U.T,
    }


@pytest.mark.parametrize("alpha, beta", PARAMS)
@pytest.mark.parametrize("point", ["gmml", "generic", "identity", "repeated", "near-repeated"])
def test_hessian_vector_matches_finite_differences(alpha, beta, point):
    rng = np.random.default_rng(7)
    A, B = scatter_pair(rng)
    M = points(rng, A, B)[point]
    V = symmetric(rng)
    expected = finite_difference(M, A, B, alpha, beta, V)
    compiled = _core.hessian_vector(M, A, B, alpha, beta, V)
    numpy_version = reference.hessian_vector(M, A, B, alpha, beta, V)
    assert relative_error(compiled, expected) <= 1e-6
    assert relative_error(numpy_version, expected) <= 1e-6
    # the two implementations agree far more tightly than finite differences can tell
    assert relative_error(compiled, numpy_version) <= 1e-11


@pytest.mark.parametrize("alpha, beta", PARAMS)
def test_hessian_is_self_adjoint_and_positive_at_the_minimum(alpha, beta):
    rng = np.random.default_rng(3)
    A, B = scatter_pair(rng)
    M = aml.solve(A, B, alpha, beta, tol=1e-10).M
    V, W = symmetric(rng), symmetric(rng)
    HV = _core.hessian_vector(M, A, B, alpha, beta, V)
    HW = _core.hessian_vector(M, A, B, alpha, beta, W)
    assert np.allclose(HV, HV.T, rtol=0, atol=0)
    assert abs(np.sum(W * HV) - np.sum(V * HW)) <= 1e-11 * np.linalg.norm(HV) * np.linalg.norm(W)
    assert np.sum(V * HV) > 0  # a strict minimum


def test_alpha_zero_is_gmml_hessian():
    # For alpha = 0, D = tr(AM) + tr(B M^{-1}), whose Hessian is M^{-1} V M^{-1} B M^{-1} + (its
    # transpose): a closed form independent of divided differences.
    rng = np.random.default_rng(11)
    A, B = scatter_pair(rng)
    M, V = random_spd(rng, D), symmetric(rng)
    Mi = np.linalg.inv(M)
    part = Mi @ V @ Mi @ B @ Mi
    assert relative_error(_core.hessian_vector(M, A, B, 0.0, 0.8, V), part + part.T) <= 1e-12


def test_repeated_eigenvalues_are_the_limit_of_distinct_ones():
    # No division by an eigenvalue gap: the product is continuous as eigenvalues merge.
    rng = np.random.default_rng(5)
    A, B = scatter_pair(rng)
    U = np.linalg.qr(rng.standard_normal((D, D)))[0]
    V = symmetric(rng)
    base = np.array([0.3, 1.0, 1.0, 1.0, 4.0, 4.0])
    exact = _core.hessian_vector((U * base) @ U.T, A, B, 1.0, 0.8, V)
    for gap in (1e-4, 1e-8, 1e-12):
        split = base + gap * np.arange(D)
        near = _core.hessian_vector((U * split) @ U.T, A, B, 1.0, 0.8, V)
        assert relative_error(near, exact) <= 50 * gap + 1e-12


def test_hessian_vector_rejects_an_indefinite_m():
    A, B = scatter_pair(np.random.default_rng(0))
    with pytest.raises(ValueError, match="positive definite"):
        _core.hessian_vector(-np.eye(D), A, B, 1.0, 0.8, np.eye(D))


# -- the Newton-CG solver -------------------------------------------------------------------------


def digits_scatter():
    X, labels = load_digits(return_X_y=True)
    X = (X - X.mean(0)) / np.maximum(X.std(0), 1e-12)
    rng = np.random.default_rng(0)
    index = rng.integers(0, len(X), size=(4000, 2))
    y = np.where(labels[index[:, 0]] == labels[index[:, 1]], 1, -1).astype(np.int8)
    return aml.pair_statistics(X[index], y)


GOLDEN = Path(__file__).resolve().parent / "data" / "aml_golden.json"


def golden_scatter():
    # the golden numbers ship with the tests (tests/data): missing is an error, never a skip
    assert GOLDEN.is_file(), f"golden test vectors not found at {GOLDEN}"
    raw = json.loads(GOLDEN.read_text())
    return np.asarray(raw["A"]), np.asarray(raw["B"]), float(raw["alpha"]), float(raw["beta"])


@pytest.mark.parametrize("problem", ["golden", "digits", "random-16", "random-64"])
def test_default_solver_reaches_the_lbfgs_minimiser(problem):
    if problem == "golden":
        A, B, alpha, beta, reg = *golden_scatter(), 0.0
    elif problem == "digits":
        (A, B), alpha, beta, reg = digits_scatter(), 1.0, 0.8, 1e-6
    else:
        (A, B), alpha, beta, reg = random_scatter(int(problem.split("-")[1])), 1.0, 0.8, 0.0
    newton = aml.solve(A, B, alpha, beta, reg=reg, tol=1e-10, max_iter=5000)
    lbfgs = aml.solve(A, B, alpha, beta, reg=reg, tol=1e-10, max_iter=5000, solver="lbfgs")
    assert newton.converged and lbfgs.converged
    assert newton.counters["hessian_vector_products"] > 0  # "auto" is the Newton solver
    assert relative_error(newton.M, lbfgs.M) <= 1e-6
    A_r, B_r = _core.ridge(A, B, reg)
    D_newton = aml.objective(newton.M, A_r, B_r, alpha, beta)
    D_lbfgs = aml.objective(lbfgs.M, A_r, B_r, alpha, beta)
    assert D_newton <= D_lbfgs * (1 + 1e-12)
    # monotone up to D's rounding, as the line search guarantees
    history = newton.objective_history
    assert np.all(np.diff(history) <= 1e-13 * np.abs(history[:-1]))
    # fewer iterations and fewer eigendecompositions than L-BFGS: the point of the method
    assert newton.n_iter < lbfgs.n_iter
    assert newton.counters["eigendecompositions"] < lbfgs.counters["eigendecompositions"]


def test_counters_describe_the_work():
    A, B = random_scatter(16)
    result = aml.solve(A, B, 1.0, 0.8)
    c = result.counters
    assert c["iterations"] == result.n_iter
    # one eigendecomposition per evaluation of D (and its gradient), at least one per iteration
    # (Newton-CG's eigenvalue step, part of its start, reuses the start's eigendecomposition)
    assert c["eigendecompositions"] >= c["objective_evaluations"] >= result.n_iter + 1
    # GMML's closed form starts the solve: here (well-conditioned A and B) through one symmetric
    # eigendecomposition of F^T F, F = L_B^T L_A, instead of F's SVD; Newton-CG makes its
    # coordinates in the eigenbasis of its start (one more eigendecomposition, of a matrix formed
    # in O(d^2)), but evaluates D at its eigenvalue step without one; L-BFGS takes its coordinates
    # from GMML's factors
    assert c["svds"] == 0 and c["eigendecompositions"] == c["objective_evaluations"] + 1
    assert c["gemm_calls"] > 0
    lbfgs = aml.solve(A, B, 1.0, 0.8, solver="lbfgs").counters
    assert lbfgs["svds"] == 0 and lbfgs["eigendecompositions"] == lbfgs["objective_evaluations"] + 1
    paper = aml.solve(A, B, 1.0, 0.8, solver="paper", max_iter=3, tol=1e-300)
    assert paper.counters["hessian_vector_products"] == 0 and paper.counters["svds"] == 0
    assert reference.solve(A, B, 1.0, 0.8, max_iter=3).counters == {}


@pytest.mark.parametrize("solver", ["newton-cg", "lbfgs"])
@pytest.mark.parametrize("conditioning", ["well", "ill"])
def test_solver_start_is_gmml_whichever_factorisation(solver, conditioning):
    """The solvers' start factors F = L_B^T L_A by the eigendecomposition of F^T F when F is well
    conditioned and by its SVD otherwise; either way the first iterate is GMML's closed form."""
    A, B = random_scatter(40, seed=3)
    if conditioning == "ill":  # features on scales 1e-3 .. 1e3: F's singular values spread widely
        s = np.logspace(-3, 3, len(A))
        A, B = A * np.outer(s, s), B * np.outer(s, s)
    result = aml.solve(A, B, 1.0, 0.8, solver=solver)
    assert result.converged, result.message
    c = result.counters
    assert c["svds"] == (1 if conditioning == "ill" else 0)
    start = aml.objective(aml.gmml(A, B), A, B, 1.0, 0.8)
    np.testing.assert_allclose(result.objective_history[0], start, rtol=1e-12)


def test_newton_never_solves_tighter_than_tol_needs():
    """The CG forcing term is floored at 0.3 tol / (relative gradient): a looser tol costs
    no more Hessian products. The count on a fixed problem stays where it was measured with the
    coordinates remade after the first step (11 products without that refresh, 6 with it)."""
    A, B = random_scatter(64)
    counts = {}
    for tol in (1e-5, 1e-8, 1e-11):
        result = aml.solve(A, B, 1.0, 0.8, solver="newton-cg", tol=tol)
        assert result.converged and result.gradient_norm_history[-1] <= tol
        counts[tol] = result.counters["hessian_vector_products"]
    assert counts[1e-5] <= counts[1e-8] <= counts[1e-11]
    assert counts[1e-8] <= 6
