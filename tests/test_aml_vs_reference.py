"""The compiled array API (advmetric.aml) against the numpy reference on seeded random problems."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_spd, relative_error

from advmetric import aml, reference
from advmetric._testing import AGREEMENT_ALPHA as ALPHA
from advmetric._testing import AGREEMENT_BETA as BETA
from advmetric._testing import AGREEMENT_CASES as CASES
from advmetric._testing import agreement_case_id as case_id
from advmetric._testing import agreement_problem as make_problem

RTOL = 1e-10


@pytest.fixture(params=CASES, ids=case_id)
def problem(request):
    return make_problem(request.param)


def test_pair_statistics(problem):
    pairs, y, _ = problem
    for fast, slow in zip(aml.pair_statistics(pairs, y), reference.pair_statistics(pairs, y)):
        assert relative_error(fast, slow) <= RTOL
        np.testing.assert_array_equal(fast, fast.T)


def test_adversarial_pairs(problem):
    pairs, y, M = problem
    fast = aml.adversarial_pairs(M, pairs, y, BETA)
    assert relative_error(fast, reference.adversarial_pairs(M, pairs, y, BETA)) <= RTOL


def test_objective_and_gradient(problem):
    pairs, y, M = problem
    A, B = reference.pair_statistics(pairs, y)
    assert (
        relative_error(
            aml.objective(M, A, B, ALPHA, BETA), reference.objective(M, A, B, ALPHA, BETA)
        )
        <= RTOL
    )
    G_ref = reference.gradient(M, A, B, ALPHA, BETA)
    assert relative_error(aml.gradient(M, A, B, ALPHA, BETA), G_ref) <= RTOL
    assert relative_error(aml.gradient_pairwise(M, pairs, y, ALPHA, BETA), G_ref) <= RTOL


def test_gradient_pairwise_matches_reference_pairwise(problem):
    pairs, y, M = problem
    if len(pairs) > 100:
        pairs, y = pairs[:100], y[:100]
    expected = reference.gradient_pairwise(M, pairs, y, ALPHA, BETA)
    assert relative_error(aml.gradient_pairwise(M, pairs, y, ALPHA, BETA), expected) <= RTOL


def test_project_spd(problem):
    _, _, M = problem
    rng = np.random.default_rng(7)
    S = M - np.median(np.linalg.eigvalsh(M)) * np.eye(len(M)) + 1e-3 * random_spd(rng, len(M))
    for eps in (1e-10, 1e-3):
        assert relative_error(aml.project_spd(S, eps), reference.project_spd(S, eps)) <= RTOL


@pytest.mark.parametrize("reg", [1e-3, 0.0])
def test_gmml(problem, reg):
    pairs, y, _ = problem
    A, B = reference.pair_statistics(pairs, y)
    well_posed = min(np.linalg.eigvalsh(A)[0], np.linalg.eigvalsh(B)[0]) > 1e-8 * max(
        np.trace(A), np.trace(B), 1e-300
    )
    if reg == 0 and not well_posed:
        with pytest.raises(ValueError, match="singular"):
            aml.gmml(A, B, reg)
        return
    if not (np.trace(A) > 0 or np.trace(B) > 0):
        pytest.fail("random problem with all-zero differences")
    assert relative_error(aml.gmml(A, B, reg), reference.gmml(A, B, reg)) <= RTOL


def check_solution_is_stationary(pairs, y, solver):
    A, B = reference.pair_statistics(pairs, y)
    reg = 1e-2
    result = aml.solve(A, B, ALPHA, BETA, solver=solver, reg=reg, tol=1e-9, max_iter=5000)
    A_r, B_r = reference.ridge(A, B, reg)
    M = result.M
    assert np.linalg.eigvalsh(M)[0] > 0
    G = reference.gradient(M, A_r, B_r, ALPHA, BETA)
    w, U = np.linalg.eigh(M)
    root = (U * np.sqrt(w)) @ U.T
    rel_grad = np.linalg.norm(root @ G @ root) / reference.objective(M, A_r, B_r, ALPHA, BETA)
    if result.converged:
        assert rel_grad <= 1e-8
    else:  # only an honest floating-point stop is acceptable, and close to stationary
        assert "floating-point" in result.message
        assert rel_grad <= 1e-6
    history = result.objective_history
    assert np.all(np.diff(history) <= 1e-13 * np.abs(history[:-1]))
    assert relative_error(history[-1], reference.objective(M, A_r, B_r, ALPHA, BETA)) <= RTOL


def test_default_solver_reaches_a_stationary_point_of_the_reference_objective(problem):
    pairs, y, _ = problem
    check_solution_is_stationary(pairs, y, "auto")


# Plain projected gradient is only expected to converge in reasonable time on well-conditioned
# problems, which the n = 2000 cases are.
@pytest.mark.parametrize("case", [c for c in CASES if c[1] == 2000], ids=case_id)
def test_projected_gradient_reaches_a_stationary_point(case):
    pairs, y, _ = make_problem(case)
    check_solution_is_stationary(pairs, y, "pgd")


@pytest.mark.parametrize("reg", [1e-3, 0.0])
def test_ridge(problem, reg):
    pairs, y, _ = problem
    A, B = reference.pair_statistics(pairs, y)
    if not (A.any() or B.any()):
        return
    for fast, slow in zip(aml.ridge(A, B, reg), reference.ridge(A, B, reg)):
        assert relative_error(fast, slow) <= RTOL


def test_reference_mirrors_the_array_api():
    """Every function of advmetric.aml has its plain-numpy twin in advmetric.reference (which
    also keeps oracles of its own, such as objective_explicit)."""
    assert set(aml.__all__) <= set(reference.__all__)
    for name in aml.__all__:
        assert callable(getattr(aml, name)) and callable(getattr(reference, name))
