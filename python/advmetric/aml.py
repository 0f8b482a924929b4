"""The fast array API: validated wrappers around the compiled kernels in ``advmetric._core``.

:mod:`advmetric.reference` has the same functions in plain numpy; the test suite holds the two
together. Formulas and equation numbers follow the paper as corrected in the project's MATH.md.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _core
from ._backend import dense_blas_threads, pass_blas_threads, statistics_blas_threads
from ._result import SolveResult
from ._validation import (
    as_pair_labels,
    as_pairs,
    as_spd,
    as_square,
    check_int,
    check_n_threads,
    check_real,
    check_scatter_finite,
    check_scatter_pair,
)

__all__ = [
    "adversarial_pairs",
    "gmml",
    "gradient",
    "gradient_pairwise",
    "objective",
    "pair_statistics",
    "project_spd",
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
    A, B, _, _ = scatter_in_blocks(pairs, labels, check_n_threads(n_threads))
    check_scatter_finite(A, B)
    return A, B


#: Values (pairs x 2 x features) per call of the core in :func:`scatter_in_blocks`: 1 GiB of
#: pairs, about a second of work on 2 cores, so calls' fixed costs (thread start, the final
#: reduction) stay negligible and Ctrl-C still lands within a second.
BLOCK_VALUES = 1 << 27


def scatter_in_blocks(pairs: np.ndarray, labels: np.ndarray, n_threads: int):
    """``(A, B, n_similar, n_dissimilar)`` of validated pairs, one block of pairs per core call.

    Between blocks the GIL is taken back, so Ctrl-C interrupts a pass over a huge array promptly;
    the result is deterministic for a fixed thread count.
    """
    n, _, d = pairs.shape
    block = max(1, BLOCK_VALUES // (2 * d))
    A, B = np.zeros((d, d)), np.zeros((d, d))
    n_similar = n_dissimilar = 0
    with statistics_blas_threads(n_threads, d):
        for start in range(0, n, block):
            stop = min(start + block, n)
            A_block, B_block, s, t = _core.pair_statistics(
                pairs[start:stop], labels[start:stop], n_threads
            )
            A += A_block
            B += B_block
            n_similar += s
            n_dissimilar += t
    return A, B, n_similar, n_dissimilar


def adversarial_pairs(M, pairs, y, beta, *, n_threads=None) -> np.ndarray:
    """The adversarial pairs Pi* of Eq. 9 for every pair, shape (n_pairs, 2, n_features)."""
    pairs = as_pairs(pairs)
    labels = as_pair_labels(y, pairs.shape[0])
    with pass_blas_threads():
        M = as_spd(M, "M", pairs.shape[2])
        beta = check_real(beta, "beta", low=0, low_inclusive=False)
        return _core.adversarial_pairs(M, pairs, labels, beta, check_n_threads(n_threads))


def _check_objective_args(M, A, B, alpha, beta):
    A, B = check_scatter_pair(A, B)
    M = as_spd(M, "M", A.shape[0])
    alpha = check_real(alpha, "alpha", low=0)
    beta = check_real(beta, "beta", low=0, low_inclusive=False)
    return M, A, B, alpha, beta


def objective(M, A, B, alpha, beta) -> float:
    """D(M) of Eq. 11 with the corrected Eq. 12, from the scatter matrices A and B."""
    return _core.objective(*_check_objective_args(M, A, B, alpha, beta))


def gradient(M, A, B, alpha, beta) -> np.ndarray:
    """grad D(M) (Eq. 15) in the divided-difference form of Eq. 14, aggregated by label; O(d^3)."""
    return _core.gradient(*_check_objective_args(M, A, B, alpha, beta))


def gradient_pairwise(M, pairs, y, alpha, beta, *, n_threads=None) -> np.ndarray:
    """grad D(M) summed pair by pair (Eq. 13); O(n_pairs d^2). A cross-check of :func:`gradient`."""
    pairs = as_pairs(pairs)
    labels = as_pair_labels(y, pairs.shape[0])
    with pass_blas_threads():
        M = as_spd(M, "M", pairs.shape[2])
        alpha = check_real(alpha, "alpha", low=0)
        beta = check_real(beta, "beta", low=0, low_inclusive=False)
        return _core.gradient_pairwise(M, pairs, labels, alpha, beta, check_n_threads(n_threads))


def project_spd(M, eps=1e-10) -> np.ndarray:
    """Eq. 16 with a floor: eigenvalues below ``eps * max|eigenvalue|`` are raised to it."""
    M = as_square(M, "M")
    eps = check_real(eps, "eps", low=0, low_inclusive=False)
    return _core.project_spd(M, eps)


def gmml(A, B, reg=0.0) -> np.ndarray:
    """GMML's closed form ``A^{-1} # B``, the minimiser of tr(AM) + tr(B M^{-1}).

    ``reg`` adds the ridge ``reg * tr(A)/d * I`` to A and ``reg * tr(B)/d * I`` to B first.
    """
    A, B = check_scatter_pair(A, B)
    reg = check_real(reg, "reg", low=0)
    return _core.gmml(A, B, reg)


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
    solver : "auto" (= "newton-cg"), "newton-cg", "lbfgs", "pgd" or "paper".
        "newton-cg": Newton's method started from GMML, each step from truncated conjugate
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
        setting).
    callback : called as ``callback(iteration, objective, relative_gradient)`` each iteration.
    """
    A, B = check_scatter_pair(A, B)
    d = A.shape[0]
    alpha = check_real(alpha, "alpha", low=0)
    beta = check_real(beta, "beta", low=0, low_inclusive=False)
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    # The core counts iterations in a C int; more than 2^31 - 1 iterations is "no limit" anyway.
    max_iter = min(check_int(max_iter, "max_iter", low=1), np.iinfo(np.int32).max)
    tol = check_real(tol, "tol", low=0, low_inclusive=False)
    reg = check_real(reg, "reg", low=0)
    step = check_real(step, "step", low=0, low_inclusive=False)
    eig_floor = check_real(eig_floor, "eig_floor", low=0, low_inclusive=False)
    n_threads = check_n_threads(n_threads)
    if init is not None:
        init = as_spd(init, "init", d)
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable")
    with dense_blas_threads(n_threads, d):
        out = _core.solve(
            A,
            B,
            alpha,
            beta,
            solver="newton-cg" if solver == "auto" else solver,
            max_iter=max_iter,
            tol=tol,
            reg=reg,
            init=init,
            step=step,
            eig_floor=eig_floor,
            callback=callback,
        )
    return SolveResult(**out)
