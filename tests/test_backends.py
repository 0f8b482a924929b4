"""The BLAS/LAPACK path (SciPy's routines) against the pure-Eigen path of the compiled core."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_pairs, random_spd, relative_error

from advmetric import _core, aml


@pytest.fixture
def eigen_only():
    """Run a block with the BLAS routines switched off, then switch them back on."""

    class Switch:
        def __enter__(self):
            _core._use_blas(False)

        def __exit__(self, *exc):
            _core._use_blas(True)

    return Switch()


def test_scipy_routines_are_loaded():
    assert _core.blas_active()


# d = 130 is above the sizes where the core switches from Eigen to BLAS/LAPACK (24, 32 and 128).
@pytest.mark.parametrize("d", [30, 130])
def test_same_results_with_and_without_blas(d, eigen_only):
    rng = np.random.default_rng(d)
    pairs, y = random_pairs(rng, 3 * d + 7, d)
    M = random_spd(rng, d)
    A, B = aml.pair_statistics(pairs, y)
    G = aml.gradient(M, A, B, 1.0, 0.8)
    Mg = aml.gmml(A, B, 1e-3)
    P = aml.project_spd(M - np.median(np.linalg.eigvalsh(M)) * np.eye(d), 1e-6)
    solved = aml.solve(A, B, 1.0, 0.8, reg=1e-3)
    adversarial = aml.adversarial_pairs(M, pairs, y, 0.8, n_threads=2)
    with eigen_only:
        assert not _core.blas_active()
        A_e, B_e = aml.pair_statistics(pairs, y)
        assert relative_error(A, A_e) <= 1e-12 and relative_error(B, B_e) <= 1e-12
        assert relative_error(G, aml.gradient(M, A, B, 1.0, 0.8)) <= 1e-10
        assert relative_error(Mg, aml.gmml(A, B, 1e-3)) <= 1e-10
        P_e = aml.project_spd(M - np.median(np.linalg.eigvalsh(M)) * np.eye(d), 1e-6)
        assert relative_error(P, P_e) <= 1e-10
        solved_e = aml.solve(A, B, 1.0, 0.8, reg=1e-3)
        assert relative_error(adversarial, aml.adversarial_pairs(M, pairs, y, 0.8)) <= 1e-10
    assert solved.converged and solved_e.converged
    assert relative_error(solved.M, solved_e.M) <= 1e-6


def test_threaded_blas_statistics_over_many_blocks():
    # d = 130 takes the BLAS path; 20000 pairs are 3 blocks of differences, so with 2 threads
    # each thread folds in its own blocks and the partial sums are added at the end.
    rng = np.random.default_rng(7)
    d = 130
    pairs, y = random_pairs(rng, 20_000, d)
    D = pairs[:, 0] - pairs[:, 1]
    A_np, B_np = D[y > 0].T @ D[y > 0], D[y < 0].T @ D[y < 0]
    results = [aml.pair_statistics(pairs, y, n_threads=n) for n in (1, 2, 2)]
    for A, B in results:
        assert relative_error(A, A_np) <= 1e-12 and relative_error(B, B_np) <= 1e-12
        assert np.array_equal(A, A.T) and np.array_equal(B, B.T)
    # deterministic for a fixed thread count
    (A_2, B_2), (A_2_again, B_2_again) = results[1], results[2]
    assert np.array_equal(A_2, A_2_again) and np.array_equal(B_2, B_2_again)


def _blas_thread_counts() -> list[int]:
    from threadpoolctl import threadpool_info

    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


def test_blas_thread_limit_survives_overlapping_requests():
    """Requests that overlap without nesting (two fits in two Python threads) must still leave
    the caller's BLAS setting as it was; the active setting is the smallest request."""
    from threadpoolctl import threadpool_limits

    from advmetric._backend import blas_threads

    with threadpool_limits(2, user_api="blas"):
        before = _blas_thread_counts()
        first, second = blas_threads(2), blas_threads(1)
        first.__enter__()
        second.__enter__()
        assert set(_blas_thread_counts()) == {1}
        first.__exit__(None, None, None)  # the first request ends before the second
        assert set(_blas_thread_counts()) == {1}
        second.__exit__(None, None, None)
        assert _blas_thread_counts() == before
        # the same with equal requests: saving and restoring per request would end at 1 here
        first, second = blas_threads(1), blas_threads(1)
        first.__enter__()
        second.__enter__()
        first.__exit__(None, None, None)
        second.__exit__(None, None, None)
        assert _blas_thread_counts() == before


@pytest.mark.parametrize(("d", "expected"), [(40, {1}), (6, {2})])
def test_small_problems_solve_on_one_blas_thread(monkeypatch, d, expected):
    """Below SERIAL_BLAS_BELOW the solver's BLAS work runs serially, and the setting comes back;
    below BLAS_FROM_DIM the core calls no BLAS, so the caller's setting is left alone."""
    from threadpoolctl import threadpool_limits

    from advmetric import _backend

    seen = []
    solve = _core.solve

    def recording_solve(*args, **kwargs):
        seen.append(set(_blas_thread_counts()))
        return solve(*args, **kwargs)

    monkeypatch.setattr(_core, "solve", recording_solve)
    rng = np.random.default_rng(3)
    pairs, y = random_pairs(rng, 4 * d, d)
    A, B = aml.pair_statistics(pairs, y)
    with threadpool_limits(2, user_api="blas"):
        before = _blas_thread_counts()
        aml.solve(A, B, 1.0, 0.8)
        assert _blas_thread_counts() == before
    assert _backend.BLAS_FROM_DIM <= 40 < _backend.SERIAL_BLAS_BELOW
    assert 6 < _backend.BLAS_FROM_DIM
    assert seen == [expected]


@pytest.mark.parametrize("kernel", ["adversarial_pairs", "gradient_pairwise"])
def test_pair_passes_run_their_set_up_on_one_blas_thread(monkeypatch, kernel):
    """The eigensystem before an OpenMP pass over the pairs runs on one BLAS thread (a pool woken
    on two threads spins through the pass), and the setting comes back. M's SPD check is the
    core's own (from that eigensystem): numpy computes no second one."""
    from threadpoolctl import threadpool_limits

    seen = []
    core_kernel = getattr(_core, kernel)
    eigvalsh = np.linalg.eigvalsh

    def recording_kernel(*args, **kwargs):
        seen.append(("core", set(_blas_thread_counts())))
        return core_kernel(*args, **kwargs)

    def recording_eigvalsh(*args, **kwargs):
        seen.append(("check", set(_blas_thread_counts())))
        return eigvalsh(*args, **kwargs)

    monkeypatch.setattr(_core, kernel, recording_kernel)
    monkeypatch.setattr(np.linalg, "eigvalsh", recording_eigvalsh)
    rng = np.random.default_rng(4)
    pairs, y = random_pairs(rng, 50, 5)
    M = random_spd(rng, 5)
    args = (M, pairs, y, 0.8) if kernel == "adversarial_pairs" else (M, pairs, y, 1.0, 0.8)
    with threadpool_limits(2, user_api="blas"):
        before = _blas_thread_counts()
        getattr(aml, kernel)(*args, n_threads=2)
        assert _blas_thread_counts() == before
    assert seen == [("core", {1})]


def test_pair_pass_limit_is_lifted_when_the_check_fails():
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(5)
    pairs, y = random_pairs(rng, 20, 4)
    with threadpool_limits(2, user_api="blas"):
        before = _blas_thread_counts()
        with pytest.raises(ValueError, match="positive definite"):
            aml.adversarial_pairs(-np.eye(4), pairs, y, 0.8)
        assert _blas_thread_counts() == before
