"""Bad input gets a clear ``ValueError``/``TypeError`` that names the problem, and nothing else.

Two parametrised batteries, one for the array API (:mod:`advmetric.aml`) and one for the
scikit-learn estimators, plus the inputs that must be *accepted*: integer, boolean and float32
data (computed in float64), Python lists, and non-contiguous or Fortran-ordered arrays (the same
result, bit for bit, as C-ordered float64).

Sparse input is rejected with a ``TypeError`` that says to call ``.toarray()``: AML needs the
dense d x d scatter matrices anyway, so densifying silently would only hide the cost.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import random_pairs, random_spd
from sklearn.exceptions import NotFittedError

import advmetric
from advmetric import aml
from advmetric.statistics import PairStatistics

D = 3
_rng = np.random.default_rng(5)
PAIRS, Y = random_pairs(_rng, 24, D)
A_OK, B_OK = aml.pair_statistics(PAIRS, Y)
M_OK = random_spd(_rng, D)
X_OK = PAIRS.reshape(-1, D)


def _misaligned(array):
    """A copy of ``array`` whose data pointer is not aligned for its dtype (as arrays
    deserialised from a byte stream, e.g. by Dask, can be). The core must not read it as is."""
    array = np.asarray(array)
    buffer = np.zeros(array.nbytes + 1, dtype=np.uint8)[1:]
    out = buffer.view(array.dtype).reshape(array.shape)
    out[...] = array
    assert not out.flags.aligned
    return out


def _with(array, index, value):
    out = np.array(array, dtype=float)
    out[index] = value
    return out


def _rank_one(d=D):
    v = np.arange(1.0, d + 1.0)
    return np.outer(v, v)


SINGULAR = np.diag([1.0, 0.0, 2.0])  # exactly singular: smallest eigenvalue 0.0


# (id, call, exception type, regex that the message must match)
ARRAY_API_CASES = [
    # --- pairs: values, shapes, dtypes, containers ----------------------------------------
    (
        "pairs-nan",
        lambda: aml.pair_statistics(_with(PAIRS, (3, 1, 2), np.nan), Y),
        ValueError,
        "pairs contains NaN or inf",
    ),
    (
        "pairs-inf",
        lambda: aml.pair_statistics(_with(PAIRS, (0, 0, 0), np.inf), Y),
        ValueError,
        "pairs contains NaN or inf",
    ),
    (
        "pairs-neg-inf-adversarial",
        lambda: aml.adversarial_pairs(M_OK, _with(PAIRS, (5, 1, 1), -np.inf), Y, 0.5),
        ValueError,
        "pairs contains NaN",
    ),
    (
        "pairs-nan-gradient-pairwise",
        lambda: aml.gradient_pairwise(M_OK, _with(PAIRS, (-1, 0, 0), np.nan), Y, 1.0, 0.5),
        ValueError,
        "pairs contains NaN",
    ),
    (
        "pairs-empty",
        lambda: aml.pair_statistics(np.zeros((0, 2, D)), Y[:0]),
        ValueError,
        "pairs is empty",
    ),
    ("pairs-empty-list", lambda: aml.pair_statistics([], []), ValueError, "pairs must have shape"),
    (
        "pairs-no-features",
        lambda: aml.pair_statistics(np.zeros((4, 2, 0)), Y[:4]),
        ValueError,
        "pairs has no features",
    ),
    (
        "pairs-2d",
        lambda: aml.pair_statistics(PAIRS[:, 0, :], Y),
        ValueError,
        r"pairs must have shape \(n_pairs, 2, n_features\)",
    ),
    (
        "pairs-4d",
        lambda: aml.pair_statistics(PAIRS[..., None], Y),
        ValueError,
        r"pairs must have shape \(n_pairs, 2, n_features\)",
    ),
    (
        "pairs-triples",
        lambda: aml.pair_statistics(np.concatenate([PAIRS, PAIRS[:, :1]], 1), Y),
        ValueError,
        r"pairs must have shape \(n_pairs, 2, n_features\)",
    ),
    (
        "pairs-single-point",
        lambda: aml.pair_statistics(PAIRS[:, :1], Y),
        ValueError,
        r"pairs must have shape \(n_pairs, 2, n_features\)",
    ),
    ("pairs-scalar", lambda: aml.pair_statistics(1.0, [1]), ValueError, "pairs must have shape"),
    (
        "pairs-str",
        lambda: aml.pair_statistics(PAIRS.astype(str), Y),
        TypeError,
        "pairs must be numeric",
    ),
    (
        "pairs-bytes",
        lambda: aml.pair_statistics(PAIRS.astype("S8"), Y),
        TypeError,
        "pairs must be numeric",
    ),
    (
        "pairs-datetime",
        lambda: aml.pair_statistics(np.zeros((4, 2, D), "datetime64[s]"), Y[:4]),
        TypeError,
        "pairs must be numeric",
    ),
    (
        "pairs-complex",
        lambda: aml.pair_statistics(PAIRS + 0j, Y),
        TypeError,
        "pairs must be real-valued",
    ),
    (
        "pairs-object",
        lambda: aml.pair_statistics(PAIRS.astype(object), Y),
        ValueError,
        "pairs must be a rectangular array of numbers",
    ),
    (
        "pairs-none",
        lambda: aml.pair_statistics(None, Y),
        ValueError,
        "pairs must be a rectangular array of numbers",
    ),
    (
        "pairs-ragged",
        lambda: aml.pair_statistics([[[0.0, 1.0], [1.0, 2.0]], [[0.0], [1.0]]], [1, -1]),
        ValueError,
        "pairs must be a rectangular array of numbers",
    ),
    (
        "pairs-sparse",
        lambda: aml.pair_statistics(sp.csr_matrix(PAIRS[:, 0]), Y),
        TypeError,
        r"pairs is a sparse matrix.*toarray",
    ),
    (
        "pairs-sparse-array",
        lambda: aml.adversarial_pairs(M_OK, sp.coo_array(PAIRS[:, 0]), Y, 1.0),
        TypeError,
        "pairs is a sparse matrix",
    ),
    # --- pair labels --------------------------------------------------------------------------
    (
        "y-zero-one",
        lambda: aml.pair_statistics(PAIRS, (Y > 0).astype(int)),
        ValueError,
        r"only -1 \(dissimilar\) and \+1 \(similar\).*\{0, 1\}",
    ),
    ("y-bool", lambda: aml.pair_statistics(PAIRS, Y > 0), ValueError, r"\{0, 1\} labels"),
    (
        "y-one-two",
        lambda: aml.pair_statistics(PAIRS, np.where(Y > 0, 1, 2)),
        ValueError,
        r"y must contain only -1 \(dissimilar\) and \+1 \(similar\)",
    ),
    (
        "y-fraction",
        lambda: aml.pair_statistics(PAIRS, 0.5 * Y),
        ValueError,
        "y must contain only -1",
    ),
    (
        "y-nan",
        lambda: aml.pair_statistics(PAIRS, np.where(Y > 0, np.nan, -1.0)),
        ValueError,
        "y must contain only -1",
    ),
    (
        "y-str",
        lambda: aml.pair_statistics(PAIRS, Y.astype(str)),
        TypeError,
        "y must hold the numbers -1 and",
    ),
    (
        "y-object",
        lambda: aml.pair_statistics(PAIRS, Y.astype(object)),
        TypeError,
        "y must hold the numbers -1 and",
    ),
    (
        "y-too-short",
        lambda: aml.pair_statistics(PAIRS, Y[:-1]),
        ValueError,
        r"y must be 1-D with one label per pair \(24\)",
    ),
    (
        "y-2d",
        lambda: aml.adversarial_pairs(M_OK, PAIRS, Y[:, None], 1.0),
        ValueError,
        "y must be 1-D",
    ),
    (
        "y-scalar",
        lambda: aml.gradient_pairwise(M_OK, PAIRS, 1, 1.0, 1.0),
        ValueError,
        "y must be 1-D",
    ),
    # --- M, A, B: shapes, symmetry, definiteness, feature-count mismatch --------------------
    (
        "M-feature-mismatch",
        lambda: aml.adversarial_pairs(np.eye(D + 1), PAIRS, Y, 1.0),
        ValueError,
        "M must be 3 x 3",
    ),
    (
        "M-feature-mismatch-gradient-pairwise",
        lambda: aml.gradient_pairwise(np.eye(D - 1), PAIRS, Y, 1.0, 1.0),
        ValueError,
        "M must be 3 x 3",
    ),
    (
        "M-not-symmetric",
        lambda: aml.objective(M_OK + np.triu(np.ones((D, D)), 1), A_OK, B_OK, 1.0, 1.0),
        ValueError,
        "M must be symmetric",
    ),
    (
        "M-not-spd",
        lambda: aml.gradient(-M_OK, A_OK, B_OK, 1.0, 1.0),
        ValueError,
        "M must be symmetric positive definite",
    ),
    (
        "M-singular",
        lambda: aml.objective(SINGULAR, A_OK, B_OK, 1.0, 1.0),
        ValueError,
        "M must be symmetric positive definite",
    ),
    (
        "M-nan",
        lambda: aml.adversarial_pairs(_with(M_OK, (0, 0), np.nan), PAIRS, Y, 1.0),
        ValueError,
        "M contains NaN or inf",
    ),
    ("M-1d", lambda: aml.project_spd(np.ones(D)), ValueError, "M must be a non-empty square"),
    ("M-empty", lambda: aml.project_spd(np.zeros((0, 0))), ValueError, "M must be a non-empty"),
    (
        "A-not-square",
        lambda: aml.gmml(np.ones((D, D + 1)), B_OK),
        ValueError,
        "A must be a non-empty square matrix",
    ),
    (
        "A-B-mismatch",
        lambda: aml.objective(M_OK, A_OK, np.eye(D + 1), 1.0, 1.0),
        ValueError,
        "B must be 3 x 3",
    ),
    (
        "A-M-mismatch",
        lambda: aml.gradient(np.eye(D + 1), A_OK, B_OK, 1.0, 1.0),
        ValueError,
        "M must be 3 x 3",
    ),
    (
        "A-not-symmetric",
        lambda: aml.solve(A_OK + np.triu(np.ones((D, D)), 1), B_OK, 1.0, 1.0),
        ValueError,
        "A must be symmetric",
    ),
    (
        "B-inf",
        lambda: aml.solve(A_OK, _with(B_OK, (1, 1), np.inf), 1.0, 1.0),
        ValueError,
        "B contains NaN or inf",
    ),
    ("A-complex", lambda: aml.gmml(A_OK + 0j, B_OK), TypeError, "A must be real-valued"),
    ("B-str", lambda: aml.gmml(A_OK, B_OK.astype(str)), TypeError, "B must be numeric"),
    (
        "A-sparse",
        lambda: aml.solve(sp.csr_matrix(A_OK), B_OK, 1.0, 1.0),
        TypeError,
        "A is a sparse matrix",
    ),
    (
        "A-singular-no-reg",
        lambda: aml.gmml(_rank_one(), B_OK),
        ValueError,
        r"(?s)A is singular.*reg",
    ),
    (
        "B-singular-no-reg",
        lambda: aml.solve(A_OK, _rank_one(), 1.0, 1.0),
        ValueError,
        r"(?s)B is singular.*reg",
    ),
    (
        "A-B-zero-with-reg",
        lambda: aml.solve(np.zeros((D, D)), np.zeros((D, D)), 1.0, 1.0, reg=1e-3),
        ValueError,
        "A and B are both zero",
    ),
    # --- scalar parameters --------------------------------------------------------------------
    ("alpha-negative", lambda: aml.solve(A_OK, B_OK, -0.1, 1.0), ValueError, "alpha must be >= 0"),
    (
        "alpha-nan",
        lambda: aml.objective(M_OK, A_OK, B_OK, np.nan, 1.0),
        ValueError,
        "alpha must be finite",
    ),
    (
        "alpha-str",
        lambda: aml.gradient(M_OK, A_OK, B_OK, "1", 1.0),
        TypeError,
        "alpha must be a real number",
    ),
    (
        "alpha-bool",
        lambda: aml.solve(A_OK, B_OK, True, 1.0),
        TypeError,
        "alpha must be a real number",
    ),
    ("beta-zero", lambda: aml.solve(A_OK, B_OK, 1.0, 0.0), ValueError, "beta must be > 0"),
    (
        "beta-negative",
        lambda: aml.adversarial_pairs(M_OK, PAIRS, Y, -1.0),
        ValueError,
        "beta must be > 0",
    ),
    (
        "beta-inf",
        lambda: aml.gradient_pairwise(M_OK, PAIRS, Y, 1.0, np.inf),
        ValueError,
        "beta must be finite",
    ),
    (
        "beta-none",
        lambda: aml.objective(M_OK, A_OK, B_OK, 1.0, None),
        TypeError,
        "beta must be a real number",
    ),
    (
        "beta-array",
        lambda: aml.solve(A_OK, B_OK, 1.0, np.array([1.0, 2.0])),
        TypeError,
        "beta must be a real number",
    ),
    ("tol-zero", lambda: aml.solve(A_OK, B_OK, 1.0, 1.0, tol=0.0), ValueError, "tol must be > 0"),
    (
        "tol-negative",
        lambda: aml.solve(A_OK, B_OK, 1.0, 1.0, tol=-1e-8),
        ValueError,
        "tol must be > 0",
    ),
    (
        "max-iter-zero",
        lambda: aml.solve(A_OK, B_OK, 1.0, 1.0, max_iter=0),
        ValueError,
        "max_iter must be >= 1",
    ),
    (
        "max-iter-negative",
        lambda: aml.solve(A_OK, B_OK, 1.0, 1.0, max_iter=-5),
        ValueError,
        "max_iter must be >= 1",
    ),
    (
        "max-iter-float",
        lambda: aml.solve(A_OK, B_OK, 1.0, 1.0, max_iter=10.5),
        TypeError,
        "max_iter must be an integer",
    ),
    ("reg-negative-gmml", lambda: aml.gmml(A_OK, B_OK, reg=-1e-6), ValueError, "reg must be >= 0"),
    (
        "reg-negative-solve",
        lambda: aml.solve(A_OK, B_OK, 1.0, 1.0, reg=-1.0),
        ValueError,
        "reg must be >= 0",
    ),
    ("reg-inf", lambda: aml.gmml(A_OK, B_OK, reg=np.inf), ValueError, "reg must be finite"),
    (
        "step-zero",
        lambda: aml.solve(A_OK, B_OK, 1.0, 1.0, solver="paper", step=0.0),
        ValueError,
        "step must be > 0",
    ),
    (
        "eig-floor-zero",
        lambda: aml.solve(A_OK, B_OK, 1.0, 1.0, solver="pgd", eig_floor=0.0),
        ValueError,
        "eig_floor must be > 0",
    ),
    ("eps-negative", lambda: aml.project_spd(M_OK, -1.0), ValueError, "eps must be > 0"),
    (
        "solver-unknown",
        lambda: aml.solve(A_OK, B_OK, 1.0, 1.0, solver="newton"),
        ValueError,
        "solver must be one of",
    ),
    (
        "callback-not-callable",
        lambda: aml.solve(A_OK, B_OK, 1.0, 1.0, callback=1),
        TypeError,
        "callback must be callable",
    ),
    (
        "n-threads-zero",
        lambda: aml.pair_statistics(PAIRS, Y, n_threads=0),
        ValueError,
        "n_threads must be a positive integer, -1 or None",
    ),
    (
        "n-threads-negative",
        lambda: aml.adversarial_pairs(M_OK, PAIRS, Y, 1.0, n_threads=-3),
        ValueError,
        "n_threads must be >= -1",
    ),
    (
        "n-threads-float",
        lambda: aml.gradient_pairwise(M_OK, PAIRS, Y, 1.0, 1.0, n_threads=2.0),
        TypeError,
        "n_threads must be an integer",
    ),
    # --- PairStatistics (chunked/indexed statistics) --------------------------------------
    (
        "index-pairs-out-of-range",
        lambda: PairStatistics.from_indices(X_OK, [[0, len(X_OK)]], [1]),
        ValueError,
        "index_pairs must index rows of X",
    ),
    (
        "index-pairs-negative",
        lambda: PairStatistics.from_indices(X_OK, [[0, -1]], [1]),
        ValueError,
        "index_pairs must index rows of X",
    ),
    (
        "index-pairs-float",
        lambda: PairStatistics.from_indices(X_OK, [[0.0, 1.0]], [1]),
        TypeError,
        "index_pairs must hold integer row indices",
    ),
    (
        "index-pairs-X-1d",
        lambda: PairStatistics.from_indices(X_OK[0], [[0, 1]], [1]),
        ValueError,
        "X must be a 2-D array",
    ),
    (
        "index-pairs-X-nan",
        lambda: PairStatistics.from_indices(_with(X_OK, (1, 1), np.nan), [[0, 1]], [1]),
        ValueError,
        "X contains NaN or inf",
    ),
    (
        "statistics-update-feature-mismatch",
        lambda: PairStatistics(D).update(np.zeros((2, 2, D + 1)), [1, -1]),
        ValueError,
        "pairs has 4 features, these statistics have 3",
    ),
    (
        "statistics-merge-feature-mismatch",
        lambda: PairStatistics(D).merge(PairStatistics(D + 1)),
        ValueError,
        "other has 4 features",
    ),
    (
        "statistics-labels-zero-one",
        lambda: PairStatistics.from_pairs(PAIRS, (Y > 0).astype(int)),
        ValueError,
        r"\{0, 1\} labels",
    ),
    # --- init -------------------------------------------------------------------------------
    (
        "init-not-spd",
        lambda: aml.solve(A_OK, B_OK, 1.0, 1.0, init=-np.eye(D)),
        ValueError,
        "init must be symmetric positive definite",
    ),
    (
        "init-singular",
        lambda: aml.solve(A_OK, B_OK, 1.0, 1.0, init=SINGULAR),
        ValueError,
        "init must be symmetric positive definite",
    ),
    (
        "init-wrong-shape",
        lambda: aml.solve(A_OK, B_OK, 1.0, 1.0, init=np.eye(D + 1)),
        ValueError,
        "init must be 3 x 3",
    ),
    (
        "init-not-square",
        lambda: aml.solve(A_OK, B_OK, 1.0, 1.0, init=np.ones((D, 1))),
        ValueError,
        "init must be a non-empty square",
    ),
    (
        "init-not-symmetric",
        lambda: aml.solve(A_OK, B_OK, 1.0, 1.0, init=np.eye(D) + np.triu(np.ones((D, D)), 1)),
        ValueError,
        "init must be symmetric",
    ),
    (
        "init-nan",
        lambda: aml.solve(
            A_OK, B_OK, 1.0, 1.0, solver="paper", init=_with(np.eye(D), (2, 2), np.nan)
        ),
        ValueError,
        "init contains NaN or inf",
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [pytest.param(call, error, match, id=name) for name, call, error, match in ARRAY_API_CASES],
)
def test_array_api_rejects(call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    # Exactly the documented kind of error: never a RuntimeError, never pybind11's
    # "incompatible function arguments" (a bad value must not reach the compiled core).
    assert type(info.value) in (ValueError, TypeError)
    assert "incompatible function arguments" not in str(info.value)


def test_array_api_battery_size():
    names = [name for name, *_ in ARRAY_API_CASES]
    assert len(set(names)) == len(names) >= 60


@pytest.mark.parametrize("max_iter", [2**31, 10**12])
def test_absurd_max_iter_is_clamped_or_named(max_iter):
    """An absurd ``max_iter`` either just works (a converged fit) or is a ValueError naming it."""
    try:
        result = aml.solve(A_OK, B_OK, 1.0, 1.0, max_iter=max_iter)
    except ValueError as exc:
        assert "max_iter" in str(exc)
        assert "incompatible function arguments" not in str(exc)
    else:
        assert result.converged


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda n: aml.pair_statistics(PAIRS, Y, n_threads=n), id="pair_statistics"),
        pytest.param(
            lambda n: aml.adversarial_pairs(M_OK, PAIRS, Y, 1.0, n_threads=n),
            id="adversarial_pairs",
        ),
        pytest.param(
            lambda n: aml.gradient_pairwise(M_OK, PAIRS, Y, 1.0, 1.0, n_threads=n),
            id="gradient_pairwise",
        ),
    ],
)
@pytest.mark.parametrize("n_threads", [1000, 2**40])
def test_absurd_n_threads_is_clamped_or_named(call, n_threads):
    """More threads than exist: either capped (same result as one thread) or a named ValueError."""
    try:
        result = call(n_threads)
    except ValueError as exc:
        assert "n_threads" in str(exc)
        assert "incompatible function arguments" not in str(exc)
    else:
        expected = call(1)
        for got, want in zip(np.atleast_1d(result), np.atleast_1d(expected)):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def _statistics_of(make):
    stats = make()
    return stats.A, stats.B


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: aml.pair_statistics(PAIRS * 1e200, Y), id="pair_statistics"),
        pytest.param(
            lambda: _statistics_of(lambda: PairStatistics.from_pairs(PAIRS * 1e200, Y)),
            id="PairStatistics.from_pairs",
        ),
        pytest.param(
            lambda: _statistics_of(
                lambda: PairStatistics.from_indices(X_OK * 1e200, [[0, 1], [2, 3]], [1, -1])
            ),
            id="PairStatistics.from_indices",
        ),
    ],
)
def test_scatter_overflow_is_an_error_not_inf(call):
    """Differences whose squares overflow float64 must not come back as inf/NaN scatter."""
    with pytest.raises(ValueError, match=r"overflow|too large|scale"):
        A, B = call()
        # (reached only if no error was raised: show what came back)
        raise AssertionError(
            f"no error; A finite: {np.isfinite(A).all()}, B: {np.isfinite(B).all()}"
        )


# --------------------------------------------------------------------------------------------
# Accepted input: dtypes, containers, memory layouts
# --------------------------------------------------------------------------------------------


def _array_api_outputs(pairs, y, M):
    A, B = aml.pair_statistics(pairs, y)
    return {
        "A": A,
        "B": B,
        "adversarial": aml.adversarial_pairs(M, pairs, y, 0.7),
        "gradient_pairwise": aml.gradient_pairwise(M, pairs, y, 1.2, 0.7),
        "solve": aml.solve(A, B, 1.2, 0.7, reg=1e-6).M,
    }


def _assert_same_outputs(got, want):
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)


@pytest.fixture(scope="module")
def integer_problem():
    rng = np.random.default_rng(11)
    pairs = rng.integers(-20, 21, size=(40, 2, 4))
    y = np.where(rng.random(40) < 0.5, 1, -1)
    y[:2] = (1, -1)
    return pairs, y, random_spd(rng, 4)


@pytest.mark.parametrize(
    "convert",
    [
        pytest.param(lambda p: p.astype(np.int64), id="int64"),
        pytest.param(lambda p: p.astype(np.int32), id="int32"),
        pytest.param(lambda p: p.astype(np.int8), id="int8"),
        pytest.param(lambda p: p.astype(np.int16), id="int16"),
        pytest.param(lambda p: p.astype(np.float32), id="float32"),
        pytest.param(lambda p: p.astype(np.float16), id="float16"),
        pytest.param(lambda p: p.tolist(), id="nested-list"),
        pytest.param(lambda p: tuple(map(tuple, p.tolist())), id="tuple-of-lists"),
        pytest.param(np.asfortranarray, id="fortran"),
        pytest.param(lambda p: _misaligned(p.astype(np.float64)), id="misaligned"),
        pytest.param(lambda p: np.repeat(p, 2, axis=2)[:, :, ::2], id="strided-features"),
        pytest.param(lambda p: np.repeat(p, 2, axis=0)[::2], id="strided-pairs"),
        pytest.param(lambda p: np.ascontiguousarray(p[:, ::-1])[:, ::-1], id="reversed-view"),
        pytest.param(
            lambda p: np.ascontiguousarray(p.transpose(2, 1, 0)).transpose(2, 1, 0),
            id="transposed-view",
        ),
    ],
)
def test_pairs_dtypes_and_layouts_give_float64_results(integer_problem, convert):
    pairs, y, M = integer_problem
    want = _array_api_outputs(pairs.astype(np.float64), y, M)
    _assert_same_outputs(_array_api_outputs(convert(pairs), y, M), want)


@pytest.mark.parametrize(
    "convert",
    [
        pytest.param(lambda y: y.astype(np.int8), id="int8"),
        pytest.param(lambda y: y.astype(np.float32), id="float32"),
        pytest.param(lambda y: y.astype(np.float64), id="float64"),
        pytest.param(lambda y: y.tolist(), id="list"),
        pytest.param(lambda y: np.repeat(y, 2)[::2], id="strided"),
    ],
)
def test_label_dtypes_are_accepted(integer_problem, convert):
    pairs, y, M = integer_problem
    want = _array_api_outputs(pairs, y, M)
    _assert_same_outputs(_array_api_outputs(pairs, convert(y), M), want)


@pytest.mark.parametrize(
    "convert",
    [
        pytest.param(np.asfortranarray, id="fortran"),
        pytest.param(_misaligned, id="misaligned"),
        pytest.param(lambda m: np.kron(m, np.ones((2, 2)))[::2, ::2], id="strided"),
        pytest.param(lambda m: np.asarray(m, dtype=np.float32), id="float32"),
        pytest.param(lambda m: m.tolist(), id="list"),
    ],
)
def test_matrix_layouts_are_accepted(integer_problem, convert):
    pairs, y, M = integer_problem
    # Values exactly representable in float32, so that every variant holds the same numbers.
    A, B, M = (x.astype(np.float32).astype(np.float64) for x in (*aml.pair_statistics(pairs, y), M))
    want = (
        aml.objective(M, A, B, 1.0, 0.5),
        aml.gradient(M, A, B, 1.0, 0.5),
        aml.gmml(A, B),
        aml.solve(A, B, 1.0, 0.5, init=M).M,
        aml.project_spd(M - 1.5 * np.eye(len(M)), 1e-6),
    )
    got = (
        aml.objective(convert(M), convert(A), convert(B), 1.0, 0.5),
        aml.gradient(convert(M), convert(A), convert(B), 1.0, 0.5),
        aml.gmml(convert(A), convert(B)),
        aml.solve(convert(A), convert(B), 1.0, 0.5, init=convert(M)).M,
        aml.project_spd(convert(M - 1.5 * np.eye(len(M))), 1e-6),
    )
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_misaligned_rows_and_indices_for_indexed_statistics(integer_problem):
    pairs, y, _ = integer_problem
    X = pairs.reshape(-1, pairs.shape[2]).astype(np.float64)
    index = np.arange(len(X), dtype=np.int64).reshape(-1, 2)
    want = PairStatistics.from_indices(X, index, y)
    for X_in, index_in in ((_misaligned(X), index), (X, _misaligned(index))):
        got = PairStatistics.from_indices(X_in, index_in, y)
        np.testing.assert_array_equal(got.A, want.A)
        np.testing.assert_array_equal(got.B, want.B)


def test_inputs_are_not_modified(integer_problem):
    pairs, y, M = integer_problem
    pairs = np.asfortranarray(pairs.astype(np.float64))
    copies = pairs.copy(), y.copy(), M.copy()
    _array_api_outputs(pairs, y, M)
    for before, after in zip(copies, (pairs, y, M)):
        np.testing.assert_array_equal(before, after)


# --------------------------------------------------------------------------------------------
# The estimators
# --------------------------------------------------------------------------------------------


def _est(name, **params):
    return getattr(advmetric, name)(**params)


def _fitted(name):
    if name.endswith("_Supervised"):
        return _est(name, random_state=0).fit(X_OK, CLASSES)
    return _est(name).fit(PAIRS, Y)


_rng_cls = np.random.default_rng(9)
CLASSES = np.repeat(np.arange(3), len(X_OK) // 3)
_rng_cls.shuffle(CLASSES)
PAIR_ESTIMATORS = ("AML", "GMML")
SUPERVISED = ("AML_Supervised", "GMML_Supervised")
ALL_ESTIMATORS = PAIR_ESTIMATORS + SUPERVISED

# (id, estimator names, call(name), exception type, regex for the message)
ESTIMATOR_CASES = [
    # --- pairs given to fit -----------------------------------------------------------------
    (
        "fit-pairs-nan",
        PAIR_ESTIMATORS,
        lambda n: _est(n).fit(_with(PAIRS, (2, 0, 1), np.nan), Y),
        ValueError,
        "NaN",
    ),
    (
        "fit-pairs-inf",
        PAIR_ESTIMATORS,
        lambda n: _est(n).fit(_with(PAIRS, (2, 1, 0), -np.inf), Y),
        ValueError,
        "inf",
    ),
    (
        "fit-pairs-empty",
        PAIR_ESTIMATORS,
        lambda n: _est(n).fit(np.zeros((0, 2, D)), []),
        ValueError,
        "empty|at least one",
    ),
    (
        "fit-pairs-2d",
        PAIR_ESTIMATORS,
        lambda n: _est(n).fit(PAIRS[:, 0], Y),
        ValueError,
        r"n_pairs, 2, n_features",
    ),
    (
        "fit-pairs-triples",
        PAIR_ESTIMATORS,
        lambda n: _est(n).fit(np.concatenate([PAIRS, PAIRS[:, :1]], 1), Y),
        ValueError,
        r"n_pairs, 2, n_features",
    ),
    (
        "fit-pairs-ragged",
        PAIR_ESTIMATORS,
        lambda n: _est(n).fit([[[0.0, 1.0], [1.0, 2.0]], [[0.0], [1.0]]], [1, -1]),
        ValueError,
        "rectangular",
    ),
    (
        "fit-pairs-sparse",
        PAIR_ESTIMATORS,
        lambda n: _est(n).fit(sp.csr_matrix(PAIRS[:, 0]), Y),
        TypeError,
        "sparse",
    ),
    (
        "fit-pairs-str",
        PAIR_ESTIMATORS,
        lambda n: _est(n).fit(PAIRS.astype(str), Y),
        TypeError,
        "numeric",
    ),
    ("fit-pairs-complex", PAIR_ESTIMATORS, lambda n: _est(n).fit(PAIRS + 1j, Y), TypeError, "real"),
    (
        "fit-pairs-object",
        PAIR_ESTIMATORS,
        lambda n: _est(n).fit(PAIRS.astype(object), Y),
        ValueError,
        "rectangular|object",
    ),
    # --- pair labels ----------------------------------------------------------------------
    (
        "fit-y-zero-one",
        PAIR_ESTIMATORS,
        lambda n: _est(n).fit(PAIRS, (Y > 0).astype(int)),
        ValueError,
        r"\{0, 1\}",
    ),
    (
        "fit-y-only-similar",
        PAIR_ESTIMATORS,
        lambda n: _est(n).fit(PAIRS, np.ones(len(Y))),
        ValueError,
        "dissimilar",
    ),
    (
        "fit-y-only-dissimilar",
        PAIR_ESTIMATORS,
        lambda n: _est(n).fit(PAIRS, -np.ones(len(Y))),
        ValueError,
        "similar",
    ),
    (
        "fit-y-length",
        PAIR_ESTIMATORS,
        lambda n: _est(n).fit(PAIRS, Y[:-2]),
        ValueError,
        "label|length|samples|pairs",
    ),
    (
        "fit-y-str",
        PAIR_ESTIMATORS,
        lambda n: _est(n).fit(PAIRS, Y.astype(str)),
        (TypeError, ValueError),
        r"-1|\+1",
    ),
    # --- hyper-parameters (checked at fit, sklearn style) --------------------------------
    (
        "alpha-negative",
        ("AML", "AML_Supervised"),
        lambda n: _fitted_with(n, alpha=-1.0),
        ValueError,
        "alpha",
    ),
    (
        "beta-zero",
        ("AML", "AML_Supervised"),
        lambda n: _fitted_with(n, beta=0.0),
        ValueError,
        "beta",
    ),
    (
        "beta-negative",
        ("AML", "AML_Supervised"),
        lambda n: _fitted_with(n, beta=-0.5),
        ValueError,
        "beta",
    ),
    ("tol-zero", ("AML", "AML_Supervised"), lambda n: _fitted_with(n, tol=0.0), ValueError, "tol"),
    (
        "tol-negative",
        ("AML", "AML_Supervised"),
        lambda n: _fitted_with(n, tol=-1e-3),
        ValueError,
        "tol",
    ),
    (
        "max-iter-zero",
        ("AML", "AML_Supervised"),
        lambda n: _fitted_with(n, max_iter=0),
        ValueError,
        "max_iter",
    ),
    (
        "max-iter-float",
        ("AML", "AML_Supervised"),
        lambda n: _fitted_with(n, max_iter=2.5),
        (TypeError, ValueError),
        "max_iter",
    ),
    ("reg-negative", ALL_ESTIMATORS, lambda n: _fitted_with(n, reg=-1e-6), ValueError, "reg"),
    (
        "reg-str",
        ALL_ESTIMATORS,
        lambda n: _fitted_with(n, reg="big"),
        (TypeError, ValueError),
        "reg",
    ),
    (
        "solver-unknown",
        ("AML", "AML_Supervised"),
        lambda n: _fitted_with(n, solver="sgd"),
        ValueError,
        "solver",
    ),
    (
        "init-not-spd",
        ("AML", "AML_Supervised"),
        lambda n: _fitted_with(n, init=-np.eye(D)),
        ValueError,
        "init",
    ),
    (
        "init-singular",
        ("AML", "AML_Supervised"),
        lambda n: _fitted_with(n, init=SINGULAR),
        ValueError,
        "init",
    ),
    (
        "init-wrong-shape",
        ("AML", "AML_Supervised"),
        lambda n: _fitted_with(n, init=np.eye(D + 2)),
        ValueError,
        "init",
    ),
    (
        "init-not-symmetric",
        ("AML", "AML_Supervised"),
        lambda n: _fitted_with(n, init=np.eye(D) + np.triu(np.ones((D, D)), 1)),
        ValueError,
        "init",
    ),
    (
        "init-nan",
        ("AML", "AML_Supervised"),
        lambda n: _fitted_with(n, init=_with(np.eye(D), (0, 0), np.nan)),
        ValueError,
        "init",
    ),
    # --- supervised input -------------------------------------------------------------------
    (
        "X-nan",
        SUPERVISED,
        lambda n: _est(n).fit(_with(X_OK, (4, 2), np.nan), CLASSES),
        ValueError,
        "NaN",
    ),
    (
        "X-inf",
        SUPERVISED,
        lambda n: _est(n).fit(_with(X_OK, (0, 0), np.inf), CLASSES),
        ValueError,
        "inf",
    ),
    ("X-1d", SUPERVISED, lambda n: _est(n).fit(X_OK[:, 0], CLASSES), ValueError, "2-D|2D"),
    ("X-3d", SUPERVISED, lambda n: _est(n).fit(PAIRS, CLASSES[: len(PAIRS)]), ValueError, "dim 3"),
    (
        "X-empty",
        SUPERVISED,
        lambda n: _est(n).fit(np.zeros((0, D)), []),
        ValueError,
        "empty|0 sample|at least",
    ),
    (
        "X-sparse",
        SUPERVISED,
        lambda n: _est(n).fit(sp.csr_matrix(X_OK), CLASSES),
        TypeError,
        r"[Ss]parse.*toarray",
    ),
    (
        "X-complex",
        SUPERVISED,
        lambda n: _est(n).fit(X_OK + 1j, CLASSES),
        (TypeError, ValueError),
        "[Cc]omplex|real",
    ),
    # str and bytes are refused, as everywhere else in advmetric (never parsed). Object arrays
    # of plain numbers are accepted by the estimators: scikit-learn's check_dtype_object requires
    # it (see test_estimators_accept_numeric_object_arrays).
    ("X-str", SUPERVISED, lambda n: _est(n).fit(X_OK.astype(str), CLASSES), TypeError, "numeric"),
    (
        "X-bytes",
        SUPERVISED,
        lambda n: _est(n).fit(X_OK.astype("S24"), CLASSES),
        TypeError,
        "numeric",
    ),
    (
        "X-ragged",
        SUPERVISED,
        lambda n: _est(n).fit([[0.0, 1.0], [1.0]], [0, 1]),
        ValueError,
        "rectangular|inhomogeneous",
    ),
    (
        "classes-length",
        SUPERVISED,
        lambda n: _est(n).fit(X_OK, CLASSES[:-1]),
        ValueError,
        "inconsistent|length|samples",
    ),
    (
        "classes-single",
        SUPERVISED,
        lambda n: _est(n).fit(X_OK, np.zeros(len(X_OK))),
        ValueError,
        "class",
    ),
    (
        "classes-all-singletons",
        SUPERVISED,
        lambda n: _est(n).fit(X_OK[:5], np.arange(5)),
        ValueError,
        "class|similar",
    ),
    (
        "classes-nan",
        SUPERVISED,
        lambda n: _est(n).fit(X_OK, np.where(CLASSES == 0, np.nan, CLASSES)),
        ValueError,
        "NaN|nan|label",
    ),
    (
        "n-constraints-zero",
        SUPERVISED,
        lambda n: _est(n, n_constraints=0).fit(X_OK, CLASSES),
        ValueError,
        "n_constraints",
    ),
    (
        "n-constraints-negative",
        SUPERVISED,
        lambda n: _est(n, n_constraints=-10).fit(X_OK, CLASSES),
        ValueError,
        "n_constraints",
    ),
    (
        "n-constraints-absurd",
        SUPERVISED,
        lambda n: _est(n, n_constraints=10**12).fit(X_OK, CLASSES),
        ValueError,
        "n_constraints",
    ),
    (
        "n-constraints-float",
        SUPERVISED,
        lambda n: _est(n, n_constraints=10.5).fit(X_OK, CLASSES),
        (TypeError, ValueError),
        "n_constraints",
    ),
    # --- after fit: feature counts, shapes, values ------------------------------------------
    (
        "transform-feature-mismatch",
        ALL_ESTIMATORS,
        lambda n: _fitted(n).transform(np.ones((4, D + 1))),
        ValueError,
        "features",
    ),
    (
        "transform-1d",
        ALL_ESTIMATORS,
        lambda n: _fitted(n).transform(np.ones(D)),
        ValueError,
        "2-D|2D",
    ),
    (
        "transform-nan",
        ALL_ESTIMATORS,
        lambda n: _fitted(n).transform(_with(X_OK, (0, 0), np.nan)),
        ValueError,
        "NaN",
    ),
    (
        "transform-sparse",
        ALL_ESTIMATORS,
        lambda n: _fitted(n).transform(sp.csr_matrix(X_OK)),
        TypeError,
        r"[Ss]parse.*toarray",
    ),
    (
        "transform-str",
        ALL_ESTIMATORS,
        lambda n: _fitted(n).transform(X_OK.astype(str)),
        TypeError,
        "numeric",
    ),
    (
        "transform-complex",
        ALL_ESTIMATORS,
        lambda n: _fitted(n).transform(X_OK + 1j),
        (TypeError, ValueError),
        "[Cc]omplex|real",
    ),
    (
        "pair-distance-feature-mismatch",
        ALL_ESTIMATORS,
        lambda n: _fitted(n).pair_distance(np.ones((4, 2, D - 1))),
        ValueError,
        "features",
    ),
    (
        "pair-distance-not-pairs",
        ALL_ESTIMATORS,
        lambda n: _fitted(n).pair_distance(np.ones((4, 3, D))),
        ValueError,
        r"n_pairs, 2, n_features",
    ),
    (
        "predict-feature-mismatch",
        PAIR_ESTIMATORS,
        lambda n: _fitted(n).predict(np.ones((4, 2, D + 3))),
        ValueError,
        "features",
    ),
    (
        "adversarial-pairs-feature-mismatch",
        ("AML",),
        lambda n: _fitted(n).adversarial_pairs(np.ones((4, 2, D + 1)), [1, -1, 1, -1]),
        ValueError,
        "features",
    ),
]


def _fitted_with(name, **params):
    if name.endswith("_Supervised"):
        return _est(name, random_state=0, **params).fit(X_OK, CLASSES)
    return _est(name, **params).fit(PAIRS, Y)


ESTIMATOR_PARAMS = [
    pytest.param(name, call, error, match, id=f"{case}-{name}")
    for case, names, call, error, match in ESTIMATOR_CASES
    for name in names
]


@pytest.mark.parametrize(("name", "call", "error", "match"), ESTIMATOR_PARAMS)
def test_estimators_reject(name, call, error, match):
    with pytest.raises(error, match=match) as info:
        call(name)
    assert isinstance(info.value, (ValueError, TypeError))
    assert "incompatible function arguments" not in str(info.value)


def test_estimator_battery_size():
    assert len(ESTIMATOR_PARAMS) >= 100


NOT_FITTED_CALLS = {
    "transform": lambda est: est.transform(X_OK),
    "get_mahalanobis_matrix": lambda est: est.get_mahalanobis_matrix(),
    "get_metric": lambda est: est.get_metric(),
    "pair_distance": lambda est: est.pair_distance(PAIRS),
    "pair_score": lambda est: est.pair_score(PAIRS),
}
NOT_FITTED_PAIR_CALLS = {
    "predict": lambda est: est.predict(PAIRS),
    "decision_function": lambda est: est.decision_function(PAIRS),
    "score": lambda est: est.score(PAIRS, Y),
    "set_threshold": lambda est: est.set_threshold(1.0),
}


@pytest.mark.parametrize(
    ("name", "method"),
    [(name, method) for name in ALL_ESTIMATORS for method in NOT_FITTED_CALLS]
    + [(name, method) for name in PAIR_ESTIMATORS for method in NOT_FITTED_PAIR_CALLS]
    + [("AML", "adversarial_pairs")],
)
def test_use_before_fit_is_not_fitted_error(name, method):
    calls = {
        **NOT_FITTED_CALLS,
        **NOT_FITTED_PAIR_CALLS,
        "adversarial_pairs": lambda est: est.adversarial_pairs(PAIRS, Y),
    }
    with pytest.raises(NotFittedError):
        calls[method](_est(name))


@pytest.mark.parametrize("name", ALL_ESTIMATORS)
@pytest.mark.parametrize(
    "convert",
    [
        pytest.param(lambda a: a.astype(np.int64), id="int64"),
        pytest.param(lambda a: a.astype(np.float32), id="float32"),
        pytest.param(lambda a: a.tolist(), id="list"),
        pytest.param(np.asfortranarray, id="fortran"),
        pytest.param(lambda a: _misaligned(np.asarray(a, dtype=np.float64)), id="misaligned"),
        pytest.param(lambda a: np.repeat(a, 2, axis=-1)[..., ::2], id="strided"),
    ],
)
def test_estimators_accept_dtypes_and_layouts(name, convert):
    rng = np.random.default_rng(21)
    if name in PAIR_ESTIMATORS:
        data, labels = rng.integers(-9, 10, size=(60, 2, 4)), np.where(rng.random(60) < 0.5, 1, -1)
        labels[:2] = (1, -1)
    else:
        data, labels = rng.integers(-9, 10, size=(60, 4)), np.repeat(np.arange(3), 20)
        data[:, 0] += 5 * labels
    X = data.reshape(-1, 4)
    make = (lambda: _est(name, random_state=3)) if name in SUPERVISED else (lambda: _est(name))
    want = make().fit(data.astype(np.float64), labels)
    got = make().fit(convert(data), labels)
    np.testing.assert_array_equal(got.get_mahalanobis_matrix(), want.get_mahalanobis_matrix())
    np.testing.assert_array_equal(got.transform(convert(X)), want.transform(X.astype(float)))
    if name in PAIR_ESTIMATORS:
        pairs = data.astype(np.float64)
        np.testing.assert_array_equal(got.pair_distance(convert(data)), want.pair_distance(pairs))


@pytest.mark.parametrize("name", SUPERVISED)
def test_estimators_accept_numeric_object_arrays(name):
    """Object arrays holding numbers give exactly the float64 result (scikit-learn's rule)."""
    as_float = _est(name, random_state=0).fit(X_OK, CLASSES)
    as_object = _est(name, random_state=0).fit(X_OK.astype(object), CLASSES)
    np.testing.assert_array_equal(as_object.components_, as_float.components_)
    np.testing.assert_array_equal(
        as_object.transform(X_OK.astype(object)), as_float.transform(X_OK)
    )
