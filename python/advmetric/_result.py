"""The result of ``solve``, shared by :mod:`advmetric.aml` and :mod:`advmetric.reference`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SolveResult:
    """Outcome of minimising the AML objective D(M).

    Attributes
    ----------
    M : ndarray of shape (d, d)
        The final SPD Mahalanobis matrix.
    n_iter : int
        Number of iterations performed.
    objective_history : ndarray of shape (n_iter + 1,)
        D(M) at the start point and after every iteration.
    gradient_norm_history : ndarray of shape (n_iter + 1,)
        Relative gradient norm ``||M^{1/2} grad D(M) M^{1/2}||_F / D(M)`` at the same points.
    converged : bool
        True when the relative gradient norm reached ``tol``.
    message : str
        Why the solver stopped, in words.
    counters : dict
        The work the solve did, for benchmarks: ``eigendecompositions``, ``svds``,
        ``choleskys``, ``gemm_calls`` (O(d^3) BLAS-class products), ``objective_evaluations``,
        ``gradient_evaluations``, ``hessian_vector_products`` and ``iterations``, counted from
        the ridge through GMML's start to the end. Empty when the implementation does not count
        (:mod:`advmetric.reference`).
    """

    M: np.ndarray
    n_iter: int
    objective_history: np.ndarray
    gradient_norm_history: np.ndarray
    converged: bool
    message: str
    counters: dict = field(default_factory=dict)


def solve_from(start, solve) -> SolveResult:
    """``SolveResult(**solve())``, where ``solve`` runs the core's solver from ``start`` (an SPD
    matrix, or None for the solver's own start).

    A start the solver cannot leave is an error, not a result: one so far from the data's scale
    that the eigensolver fails on the first trial steps, or whose objective and gradient are not
    finite, so that no step can be taken.
    """
    try:
        result = SolveResult(**solve())
    except RuntimeError as error:
        # only the core's own numerical failures (a callback's errors pass through as they are)
        if start is None or type(error) is not RuntimeError or "did not converge" not in str(error):
            raise
        raise ValueError(_unusable_start(start, str(error))) from error
    stuck = result.n_iter <= 1 and not np.isfinite(result.gradient_norm_history[-1])
    if start is not None and not result.converged and stuck:
        raise ValueError(_unusable_start(start, result.message))
    return result


def _unusable_start(start: np.ndarray, reason: str) -> str:
    eigenvalues = np.linalg.eigvalsh(start)
    return (
        f"the solver cannot make progress from init (eigenvalues {eigenvalues[0]:.3g} to "
        f"{eigenvalues[-1]:.3g}): {reason}. A start far from the data's scale is meaningless; use "
        "init='gmml' (the default) or a matrix of the data's scale"
    )
