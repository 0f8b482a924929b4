"""The fast array API: the compiled kernels behind argument checks.

Each function checks its arguments once (types and shapes here; the values of M, A and B in the
compiled core, which reads them anyway) and makes one call through :mod:`advmetric._backend`.
:mod:`advmetric.reference` has the same functions in plain numpy; the test suite holds the two
together. Formulas and equation numbers follow the paper as corrected in docs/math.md.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _backend
from ._result import SolveResult, solve_from
from ._validation import (
    as_float_array,
    as_pair_labels,
    as_pairs,
    as_spd,
    as_square_shape,
    check_beta,
    check_int,
    check_n_threads,
    check_real,
    check_scatter_finite,
    check_scatter_shapes,
)

__all__ = [
    "adversarial_pairs",
    "gmml",
    "gradient",
    "gradient_pairwise",
    "hessian_vector",
    "objective",
    "pair_statistics",
    "project_spd",
    "ridge",
    "solve",
]

SOLVERS = ("auto", "newton-cg", "lbfgs", "pgd", "paper")


def pair_statistics(pairs, y, *, n_threads=None) -> tuple[np.ndarray, np.ndarray]:
    """Scatter matrices ``A = sum_{y=+1} xh xh^T`` and ``B = sum_{y=-1} xh xh^T``, ``xh = x - x'``.

    ``pairs`` has shape (n_pairs, 2, n_features); ``y`` holds +1 (similar) and -1 (dissimilar).
    One pass over the pairs in chunks (no full difference array); deterministic for a fixed
    ``n_threads``.
    """
    pairs = as_pairs(pairs)
    labels = as_pair_labels(y, pairs.shape[0])
    A, B, _, _ = _backend.scatter_pairs(pairs, labels, check_n_threads(n_threads))
    check_scatter_finite(A, B)
    return A, B


def adversarial_pairs(M, pairs, y, beta, *, n_threads=None) -> np.ndarray:
    """The adversarial pairs Pi* of Eq. 9 for every pair, shape (n_pairs, 2, n_features)."""
    pairs = as_pairs(pairs)
    labels = as_pair_labels(y, pairs.shape[0])
    M = as_square_shape(M, "M", pairs.shape[2])
    beta = check_beta(beta)
    return _backend.adversarial_pairs(M, pairs, labels, beta, check_n_threads(n_threads))


def _check_objective_args(M, A, B, alpha, beta):
    A, B = check_scatter_shapes(A, B)
    M = as_square_shape(M, "M", A.shape[0])
    alpha = check_real(alpha, "alpha", low=0)
    beta = check_beta(beta)
    return M, A, B, alpha, beta


def objective(M, A, B, alpha, beta) -> float:
    """D(M) of Eq. 11 with the corrected Eq. 12, from the scatter matrices A and B; O(d^3).

    For a well-conditioned M below d = 384 it is evaluated through Cholesky factorizations instead
    of an eigendecomposition (the rational form of docs/math.md), to the same accuracy."""
    return _backend.objective(*_check_objective_args(M, A, B, alpha, beta))


def gradient(M, A, B, alpha, beta) -> np.ndarray:
    """grad D(M) (Eq. 15), aggregated by label; O(d^3).

    In M's eigenbasis it is the divided-difference form of Eq. 14; for a well-conditioned M below
    d = 384 the same gradient comes from Cholesky factorizations (docs/math.md)."""
    return _backend.gradient(*_check_objective_args(M, A, B, alpha, beta))


def hessian_vector(M, A, B, alpha, beta, V) -> np.ndarray:
    """The Hessian of D at M applied to the symmetric direction V (the second divided differences
    of docs/solver.md); O(d^3). The building block of the default solver."""
    M, A, B, alpha, beta = _check_objective_args(M, A, B, alpha, beta)
    V = as_float_array(V, "V")
    if V.shape != M.shape:
        raise ValueError(f"V must have the shape of M {M.shape}, got {V.shape}")
    return _backend.hessian_vector(M, A, B, alpha, beta, V)


def gradient_pairwise(M, pairs, y, alpha, beta, *, n_threads=None) -> np.ndarray:
    """grad D(M) summed pair by pair (Eq. 13); O(n_pairs d^2). A cross-check of :func:`gradient`."""
    pairs = as_pairs(pairs)
    labels = as_pair_labels(y, pairs.shape[0])
    M = as_square_shape(M, "M", pairs.shape[2])
    alpha = check_real(alpha, "alpha", low=0)
    beta = check_beta(beta)
    return _backend.gradient_pairwise(M, pairs, labels, alpha, beta, check_n_threads(n_threads))


def project_spd(M, eps=1e-10) -> np.ndarray:
    """Eq. 16 with a floor: eigenvalues below ``eps * max|eigenvalue|`` are raised to it."""
    M = as_square_shape(M, "M")
    eps = check_real(eps, "eps", low=0, low_inclusive=False)
    return _backend.project_spd(M, eps)


def ridge(A, B, reg) -> tuple[np.ndarray, np.ndarray]:
    """``(A + reg tr(A)/d I, B + reg tr(B)/d I)``: the relative ridge that ``gmml`` and ``solve``
    add to the scatter matrices (needed when A or B is singular)."""
    A, B = check_scatter_shapes(A, B)
    reg = check_real(reg, "reg", low=0)
    return _backend.ridge(A, B, reg)


def gmml(A, B, reg=0.0) -> np.ndarray:
    """GMML's closed form ``A^{-1} # B``, the minimiser of tr(AM) + tr(B M^{-1}).

    ``reg`` adds the ridge ``reg * tr(A)/d * I`` to A and ``reg * tr(B)/d * I`` to B first.
    """
    A, B = check_scatter_shapes(A, B)
    reg = check_real(reg, "reg", low=0)
    return _backend.gmml(A, B, reg)


def solve(
    A,
    B,
    alpha,
    beta,
    *,
    solver: str = "auto",
    max_iter: int = 1000,
    tol: float = 1e-8,
    reg: float = 0.0,
    init=None,
    step: float = 1e-3,
    eig_floor: float = 1e-12,
    n_threads=None,
    callback: Callable[[int, float, float], None] | None = None,
) -> SolveResult:
    """Minimise D(M) over SPD matrices.

    Parameters
    ----------
    A, B : (d, d) scatter matrices of the similar and dissimilar pairs.
    alpha, beta : the weights of Eqs. 3 and 11 (alpha >= 0, beta > 0).
    solver : "auto", "newton-cg", "lbfgs", "pgd" or "paper".
        "auto": "newton-cg" below d = 1600, "lbfgs" from there on (Newton-CG was the faster
        in time to solution at every size measured, up to d = 1536; both reach the same
        minimiser).
        "newton-cg": Newton's method started from GMML with its eigenvalues refitted to D (the
        exact minimiser over them, GMML's eigenvectors fixed), each step from truncated conjugate
        gradients on the exact Hessian of D (second divided differences of its spectral
        functions, one eigendecomposition per iteration serving D, its gradient and every
        Hessian product), preconditioned by GMML's Hessian, with Armijo backtracking; converges
        quadratically near the solution and is monotone up to D's rounding (1e-13 relative).
        "lbfgs": limited-memory BFGS started from GMML, in coordinates where GMML's Hessian is
        diagonal (so it is insensitive to feature scaling), with Armijo backtracking; monotone up
        to D's rounding. "pgd": projected gradient with Barzilai-Borwein steps and
        Armijo backtracking, started from GMML. "paper": the paper's Algorithm 1, fixed step
        ``step`` from the identity, projected onto the SPD cone; not monotone and may diverge
        (then ``converged`` is False and the last finite iterate is returned).
    max_iter : iteration limit.
    tol : stop when the relative gradient norm ``||M^{1/2} grad D M^{1/2}||_F / D(M)`` <= tol.
    reg : ridge ``reg * tr(A)/d`` and ``reg * tr(B)/d`` added to the diagonals of A and B
        (needed when A or B is singular).
    init : SPD start point; default GMML ("newton-cg", "lbfgs", "pgd") or the identity ("paper").
    step : the fixed step of "paper".
    eig_floor : eigenvalue floor of the SPD projection ("pgd", "paper"), relative to the largest.
    n_threads : threads for the BLAS/LAPACK calls of each O(d^3) iteration (None: BLAS's own
        setting). Below d = 256 the iteration runs on one BLAS thread whatever this says (the
        thread policy of advmetric._backend).
    callback : called as ``callback(iteration, objective, relative_gradient)`` each iteration.
    """
    A, B = check_scatter_shapes(A, B)
    d = A.shape[0]
    alpha = check_real(alpha, "alpha", low=0)
    beta = check_beta(beta)
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    max_iter = check_int(max_iter, "max_iter", low=1)
    tol = check_real(tol, "tol", low=0, low_inclusive=False)
    reg = check_real(reg, "reg", low=0)
    step = check_real(step, "step", low=0, low_inclusive=False)
    eig_floor = check_real(eig_floor, "eig_floor", low=0, low_inclusive=False)
    n_threads = check_n_threads(n_threads)
    if init is not None:
        init = as_spd(init, "init", d)
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable")
    return solve_from(
        init,
        lambda: _backend.solve(
            A,
            B,
            alpha,
            beta,
            n_threads=n_threads,
            solver=solver,
            max_iter=max_iter,
            tol=tol,
            reg=reg,
            init=init,
            step=step,
            eig_floor=eig_floor,
            callback=callback,
        ),
    )
