"""Pure-numpy reference implementation of Adversarial Metric Learning.

S. Chen, C. Gong, J. Yang, X. Li, Y. Wei, J. Li, "Adversarial Metric Learning", IJCAI 2018.
Equation numbers refer to the paper; where the printed paper is wrong this module follows the
corrections in ``docs/math.md`` (notably Eq. 12 and the repeated-eigenvalue case of
Eq. 14).

This module is written for clarity, not speed: it works pair by pair wherever the paper does
and is the test oracle for the fast module :mod:`advmetric.aml`, which has the same public
names and signatures. It depends on numpy only and does almost no input validation.

Notation: a pair ``(x, x')`` has difference ``xh = x - x'`` and sum ``xb = x + x'``; its label
``y`` is ``+1`` (similar) or ``-1`` (dissimilar). ``A`` and ``B`` are the scatter matrices of
the differences of the similar and of the dissimilar pairs. ``M = U diag(l) U^T`` is SPD.
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from advmetric._result import SolveResult

__all__ = [
    "adversarial_pairs",
    "gmml",
    "gradient",
    "gradient_pairwise",
    "hessian_vector",
    "objective",
    "objective_explicit",
    "pair_statistics",
    "project_spd",
    "ridge",
    "solve",
]


def _loud(function):
    """Run a public function with float64 overflow and invalid operations raising
    ``FloatingPointError``: at the extremes of the range (beta near 1e154, data near 1e155) this
    readable implementation fails loudly instead of returning inf or NaN."""

    @functools.wraps(function)
    def checked(*args, **kwargs):
        if getattr(_inside_solve, "active", False):  # solve detects divergence itself
            return function(*args, **kwargs)
        with np.errstate(over="raise", invalid="raise"):
            return function(*args, **kwargs)

    return checked


# Set while solve runs: the paper's Algorithm 1 may diverge, and solve reports that as a result.
_inside_solve = threading.local()


# Relative eigenvalue gap below which a divided difference (h(a) - h(b)) / (a - b) is replaced
# by the average derivative 0.5 (h'(a) + h'(b)). The quotient loses about eps / gap (relative)
# to cancellation, while the average of derivatives is off by about gap^2 (trapezoidal rule,
# relative, for the functions used here), so the worst case of both is smallest where
# gap^3 ~ eps, i.e. gap ~ eps^(1/3) ~ 6e-6; there the error is below ~1e-10 relative.
_DIVIDED_DIFFERENCE_GAP = float(np.finfo(np.float64).eps) ** (1.0 / 3.0)

# Armijo sufficient-decrease constant and backtracking limit of the "pgd" solver.
_ARMIJO_C = 1e-4
_MAX_BACKTRACKS = 60

# Relative step size ||M^{-1/2} (M_new - M) M^{-1/2}||_F below which the "pgd" line search
# measures the change D(M_new) - D(M) by the trapezoidal rule on the gradient,
# <(G + G_new) / 2, M_new - M>, instead of subtracting two objective values. The subtraction
# carries an absolute error of a few ulps of D, which hides every decrease once the relative
# gradient norm is below ~1e-8 (the decrease is ~ rel_grad^2 D); the trapezoidal rule has no
# such floor and is exact up to O(step^3) D, so the two errors cross at step ~ eps^(1/3).
_SMALL_STEP = float(np.finfo(np.float64).eps) ** (1.0 / 3.0)


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _sym(X):
    """Exactly symmetric part of a square matrix."""
    return 0.5 * (X + X.T)


def _eigh(M):
    """Eigendecomposition ``M = U diag(l) U^T`` of the symmetric part of ``M``."""
    return np.linalg.eigh(_sym(np.asarray(M, dtype=np.float64)))


def _from_eig(U, values):
    """Rebuild ``U diag(values) U^T`` (exactly symmetric)."""
    return _sym((U * values) @ U.T)


def _h_plus(l, beta):
    """``h_+(l) = l^5 / (2 + beta l^2)^2``: similar pairs' term of the corrected Eq. 12."""
    return l**5 / (2.0 + beta * l**2) ** 2


def _dh_plus(l, beta):
    """Derivative of :func:`_h_plus`: ``(5 l^4 q - 4 beta l^6) / q^3`` with ``q = 2 + beta l^2``."""
    q = 2.0 + beta * l**2
    return (5.0 * l**4 * q - 4.0 * beta * l**6) / q**3


def _h_minus(l, beta):
    """``h_-(l) = 1 / (l (2 + beta)^2)``: dissimilar pairs' term of the corrected Eq. 12."""
    return 1.0 / (l * (2.0 + beta) ** 2)


def _dh_minus(l, beta):
    """Derivative of :func:`_h_minus`: ``-1 / (l^2 (2 + beta)^2)``."""
    return -1.0 / (l**2 * (2.0 + beta) ** 2)


def _divided_differences(h, dh, l):
    """First divided differences ``F_jk = h[l_j, l_k]`` of ``h`` at the eigenvalues ``l``.

    This is the Daleckii-Krein matrix of Eq. 14 in its correct form (docs/math.md): off the
    diagonal ``(h(l_j) - h(l_k)) / (l_j - l_k)``, on the diagonal ``h'(l_j)``, and for
    (nearly) equal eigenvalues the limit, approximated by ``0.5 (h'(l_j) + h'(l_k))`` so that
    no tiny gap is ever divided by (threshold: ``_DIVIDED_DIFFERENCE_GAP``).
    """
    hl, dhl = h(l), dh(l)
    gap = l[:, None] - l[None, :]
    scale = np.maximum(np.abs(l)[:, None], np.abs(l)[None, :])
    far = np.abs(gap) > _DIVIDED_DIFFERENCE_GAP * scale
    safe_gap = np.where(far, gap, 1.0)
    quotient = (hl[:, None] - hl[None, :]) / safe_gap
    mean_derivative = 0.5 * (dhl[:, None] + dhl[None, :])
    return np.where(far, quotient, mean_derivative)


def _adversarial_divided_differences(l, beta):
    """``(F_plus, F_minus)``: divided differences of ``h_+`` and ``h_-`` at ``l``."""
    F_plus = _divided_differences(lambda t: _h_plus(t, beta), lambda t: _dh_plus(t, beta), l)
    F_minus = _divided_differences(lambda t: _h_minus(t, beta), lambda t: _dh_minus(t, beta), l)
    return F_plus, F_minus


def _scaled_norm(M, X, power):
    """``||M^p X M^p||_F`` for SPD ``M``."""
    l, U = _eigh(M)
    root = l**power
    return float(np.linalg.norm(root[:, None] * (U.T @ X @ U) * root[None, :]))


def _relative_gradient_norm(M, G, D):
    """Scale-invariant stopping quantity ``||M^{1/2} G M^{1/2}||_F / D(M)``."""
    return _scaled_norm(M, G, 0.5) / D


# --------------------------------------------------------------------------------------------
# Data statistics and the confusion stage
# --------------------------------------------------------------------------------------------


@_loud
def pair_statistics(pairs, y):
    """Scatter matrices ``(A, B)`` of the pair differences (notation of Eq. 7).

    ``A = sum_{y_i=+1} xh_i xh_i^T`` and ``B = sum_{y_i=-1} xh_i xh_i^T`` with
    ``xh_i = x_i - x'_i``; ``pairs`` has shape ``(n, 2, d)``, ``y`` values in {-1, +1}.
    """
    pairs = np.asarray(pairs, dtype=np.float64)
    y = np.asarray(y)
    d = pairs.shape[2]
    A = np.zeros((d, d))
    B = np.zeros((d, d))
    for (x, x_prime), label in zip(pairs, y):
        xh = x - x_prime
        if label == 1:
            A += np.outer(xh, xh)
        else:
            B += np.outer(xh, xh)
    return A, B


@_loud
def adversarial_pairs(M, pairs, y, beta):
    """Optimal adversarial pairs ``Pi* = F(M)`` of the confusion stage (Eqs. 8-10).

    Eq. 9 taken literally, one pair at a time, with ``W_i = M^{-y_i}``:
    ``pi_i = (2 W_i + beta M)^{-1} (W_i xb_i + beta M x_i)`` and the same with ``x'_i`` for
    ``pi'_i``. Returns an array of shape ``(n, 2, d)`` laid out like ``pairs``.
    """
    M = np.asarray(M, dtype=np.float64)
    pairs = np.asarray(pairs, dtype=np.float64)
    M_inv = np.linalg.inv(M)
    out = np.empty_like(pairs)
    for i, ((x, x_prime), label) in enumerate(zip(pairs, np.asarray(y))):
        W = M_inv if label == 1 else M
        system = 2.0 * W + beta * M
        xb = x + x_prime
        out[i, 0] = np.linalg.solve(system, W @ xb + beta * (M @ x))
        out[i, 1] = np.linalg.solve(system, W @ xb + beta * (M @ x_prime))
    return out


# --------------------------------------------------------------------------------------------
# Objective and gradient
# --------------------------------------------------------------------------------------------


def _geometric_mean_loss(M, pairs, y):
    """``L_g(M, X, y)`` of Eq. 7, summed pair by pair."""
    total = 0.0
    for (x, x_prime), label in zip(pairs, y):
        xh = x - x_prime
        if label == 1:
            total += xh @ M @ xh
        else:
            total += xh @ np.linalg.solve(M, xh)
    return float(total)


@_loud
def objective(M, A, B, alpha, beta):
    """AML objective ``D(M)`` (Eq. 11) in the aggregated form of the corrected Eq. 12.

    ``D(M) = tr(A M) + tr(B M^{-1}) + alpha beta^2 [tr(A h_+(M)) + tr(B h_-(M))]`` with
    ``h_+(l) = l^5 / (2 + beta l^2)^2`` and ``h_-(l) = 1 / (l (2 + beta)^2)`` (docs/math.md).
    """
    l, U = _eigh(M)
    A_eig = np.diag(U.T @ A @ U)  # tr(A f(M)) = sum_j f(l_j) (U^T A U)_jj
    B_eig = np.diag(U.T @ B @ U)
    geometric_mean = A_eig @ l + B_eig @ (1.0 / l)
    adversarial = A_eig @ _h_plus(l, beta) + B_eig @ _h_minus(l, beta)
    return float(geometric_mean + alpha * beta**2 * adversarial)


@_loud
def objective_explicit(M, pairs, y, alpha, beta):
    """``D(M) = L_g(M, X, y) + alpha L_g(M, Pi*, y)`` (Eq. 11) computed directly.

    ``Pi*`` comes from :func:`adversarial_pairs` (Eq. 9, pair by pair); no closed form of
    Eq. 12 is used. This is the oracle for :func:`objective`.
    """
    M = np.asarray(M, dtype=np.float64)
    pairs = np.asarray(pairs, dtype=np.float64)
    y = np.asarray(y)
    adversarial = adversarial_pairs(M, pairs, y, beta)
    return _geometric_mean_loss(M, pairs, y) + alpha * _geometric_mean_loss(M, adversarial, y)


@_loud
def gradient(M, A, B, alpha, beta):
    """Gradient of ``D`` with respect to symmetric ``M`` (Eq. 15), aggregated by label.

    ``A - M^{-1} B M^{-1} + alpha beta^2 [U (F_+ o U^T A U) U^T + U (F_- o U^T B U) U^T]``,
    where ``F_+-`` are the divided differences of ``h_+-`` at the eigenvalues of ``M``
    (the Daleckii-Krein form of Eqs. 13-14, valid for repeated eigenvalues too).
    """
    l, U = _eigh(M)
    A_eig = U.T @ A @ U
    B_eig = U.T @ B @ U
    F_plus, F_minus = _adversarial_divided_differences(l, beta)
    inv_l = 1.0 / l
    # M^{-1} B M^{-1} = U diag(1/l) (U^T B U) diag(1/l) U^T
    in_eigenbasis = -inv_l[:, None] * B_eig * inv_l[None, :]
    in_eigenbasis += alpha * beta**2 * (F_plus * A_eig + F_minus * B_eig)
    return _sym(A + U @ in_eigenbasis @ U.T)


@_loud
def gradient_pairwise(M, pairs, y, alpha, beta):
    """Gradient of ``D`` as the sum of Eq. 13 (plus Eq. 7's gradient), pair by pair.

    Per pair: ``xh xh^T`` (``y = +1``) or ``-M^{-1} xh xh^T M^{-1}`` (``y = -1``), plus
    ``alpha beta^2 U (F_y o (U^T xh xh^T U)) U^T``. Costs O(n d^2); a cross-check only.
    """
    M = np.asarray(M, dtype=np.float64)
    pairs = np.asarray(pairs, dtype=np.float64)
    l, U = _eigh(M)
    M_inv = _from_eig(U, 1.0 / l)
    F_plus, F_minus = _adversarial_divided_differences(l, beta)
    G = np.zeros_like(M)
    for (x, x_prime), label in zip(pairs, np.asarray(y)):
        xh = x - x_prime
        u = U.T @ xh  # xh in the eigenbasis of M
        if label == 1:
            G += np.outer(xh, xh)
            F = F_plus
        else:
            v = M_inv @ xh
            G -= np.outer(v, v)
            F = F_minus
        G += alpha * beta**2 * (U @ (F * np.outer(u, u)) @ U.T)
    return _sym(G)


def _h_plus_second_divided_differences(l, beta):
    """``h_+[l_j, l_m, l_k]`` for all ``j, m, k``, divided by ``s^3 / 4`` (``s = sqrt(2/beta)``).

    With ``t = l / s`` and ``zeta = 1 / (t - i)``, partial fractions over the poles ``+-i s`` give
    ``h_+(l) = (s^3 / 4) (t - 2 Re zeta + Im zeta^2 / 2)``. The second divided difference of
    ``1 / (x - p)`` is the product of the three ``1 / (x_i - p)``, that of ``1 / (x - p)^2`` the
    same product times their sum, and ``t`` has none, so
    ``h_+[a, m, b] = (s^3 / 4) (-2 Re(zeta_a zeta_m zeta_b)
    + Im(zeta_a zeta_m zeta_b (zeta_a + zeta_m + zeta_b)) / 2)``. Every ``|zeta| <= 1`` and no
    eigenvalue gap is divided by, so repeated eigenvalues (``M = I``) need no special case.
    """
    zeta = 1.0 / (l * np.sqrt(beta / 2.0) - 1j)
    product = zeta[:, None, None] * zeta[None, :, None] * zeta[None, None, :]
    total = zeta[:, None, None] + zeta[None, :, None] + zeta[None, None, :]
    return -2.0 * product.real + 0.5 * (product * total).imag


@_loud
def hessian_vector(M, A, B, alpha, beta, V):
    """The Hessian of ``D`` at ``M`` applied to the symmetric part of ``V``.

    ``D(M) = tr(A f(M)) + tr(B g(M))`` with ``f(l) = l + alpha beta^2 h_+(l)`` and
    ``g(l) = c / l``, ``c = 1 + alpha beta^2 / (2 + beta)^2``. In the eigenbasis of ``M``
    (``X~ = U^T X U``) the second derivative of ``tr(S f(M))`` in direction ``V`` is
    ``sum_m f[l_j, l_m, l_k] (V~_jm S~_mk + S~_jm V~_mk)`` (Daleckii-Krein one order up), with
    the second divided differences ``f[., ., .]``: ``c / (l_j l_m l_k)`` for ``g`` and
    :func:`_h_plus_second_divided_differences` for ``h_+``. Written here as explicit sums over
    a ``d x d x d`` array; :mod:`advmetric.aml` separates them into matrix products.
    """
    l, U = _eigh(M)
    A_eig, B_eig, V_eig = U.T @ A @ U, U.T @ B @ U, U.T @ _sym(np.asarray(V, dtype=np.float64)) @ U
    # alpha beta^2 (s^3 / 4) = alpha sqrt(8 beta) / 4, which does not overflow for tiny beta
    F = alpha * np.sqrt(8.0 * beta) / 4.0 * _h_plus_second_divided_differences(l, beta)
    G = (1.0 + alpha * beta**2 / (2.0 + beta) ** 2) / (
        l[:, None, None] * l[None, :, None] * l[None, None, :]
    )
    H = np.zeros_like(V_eig)
    for K, S in ((F, A_eig), (G, B_eig)):
        H += np.einsum("jmk,jm,mk->jk", K, V_eig, S) + np.einsum("jmk,jm,mk->jk", K, S, V_eig)
    return _sym(U @ H @ U.T)


# --------------------------------------------------------------------------------------------
# SPD projection, ridge and GMML
# --------------------------------------------------------------------------------------------


@_loud
def project_spd(M, eps=1e-10):
    """SPD projection (Eq. 16) with a positive floor instead of truncation at 0.

    Symmetrises ``M``, then raises every eigenvalue to at least ``eps * max|l|`` (``eps`` if
    all eigenvalues are 0), so ``tr(B M^{-1})`` stays finite. The result is exactly symmetric.
    """
    l, U = _eigh(M)
    largest = float(np.max(np.abs(l))) if l.size else 0.0
    floor = eps * largest if largest > 0.0 else eps
    return _from_eig(U, np.maximum(l, floor))


@_loud
def ridge(A, B, reg):
    """Ridge-regularised statistics ``(A_r, B_r)``.

    ``A_r = A + reg (tr(A)/d) I`` and ``B_r = B + reg (tr(B)/d) I``; a zero trace borrows the
    other matrix's ``tr/d``. ``reg = 0`` returns the inputs unchanged (as float arrays).
    Raises ValueError for a negative or non-finite ``reg``, or for ``reg > 0`` when both
    traces are zero.
    """
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    reg = float(reg)
    if not np.isfinite(reg) or reg < 0.0:
        raise ValueError(f"reg must be a finite number >= 0, got {reg!r}")
    if reg == 0.0:
        return A, B
    d = A.shape[0]
    scale_A = np.trace(A) / d
    scale_B = np.trace(B) / d
    if scale_A == 0.0 and scale_B == 0.0:
        raise ValueError("cannot scale the ridge: both A and B have zero trace")
    if scale_A == 0.0:
        scale_A = scale_B
    if scale_B == 0.0:
        scale_B = scale_A
    identity = np.eye(d)
    return A + reg * scale_A * identity, B + reg * scale_B * identity


@_loud
def gmml(A, B, reg=0.0):
    """GMML's closed form ``A_r^{-1} # B_r``, the minimiser of ``tr(A M) + tr(B M^{-1})``.

    ``A^{-1} # B = A^{-1/2} (A^{1/2} B A^{1/2})^{1/2} A^{-1/2}`` (Zadeh et al. 2016; the
    ``alpha = 0`` case of Eq. 11), after :func:`ridge`. Raises ValueError if ``A_r`` is not
    positive definite.
    """
    A_r, B_r = ridge(A, B, reg)
    a, V = _eigh(A_r)
    if a[0] <= 0.0:
        raise ValueError("A (after the ridge) is not positive definite; use reg > 0")
    A_half = _from_eig(V, np.sqrt(a))
    A_inv_half = _from_eig(V, 1.0 / np.sqrt(a))
    c, W = _eigh(A_half @ B_r @ A_half)
    C_half = _from_eig(W, np.sqrt(np.maximum(c, 0.0)))  # C is PSD; clip rounding below 0
    return _sym(A_inv_half @ C_half @ A_inv_half)


# --------------------------------------------------------------------------------------------
# Solvers
# --------------------------------------------------------------------------------------------


def _solve(
    A,
    B,
    alpha,
    beta,
    *,
    solver="auto",
    max_iter=1000,
    tol=1e-8,
    reg=0.0,
    init=None,
    step=1e-3,
    eig_floor=1e-12,
    n_threads=None,
    callback=None,
):
    """Minimise ``D(M)`` (Eq. 11) over SPD matrices, with ``A_r, B_r`` from :func:`ridge`.

    Solvers:

    - ``"pgd"`` / ``"auto"`` (the same here): projected gradient descent from ``init``
      (default :func:`gmml`), Barzilai-Borwein initial step, Armijo backtracking on the
      projected step ``project_spd(M - t G, eig_floor)``. The objective never increases.
      Steps too small for two objective values to resolve their difference are judged by the
      trapezoidal rule on the gradient (``_SMALL_STEP``); the history then records
      ``D(M_prev) + change``, equal to ``objective(M)`` up to the latter's rounding error.
    - ``"paper"``: Algorithm 1, ``M <- project_spd(M - step G, eig_floor)`` with a fixed step
      from ``init`` (default the identity). Stops early, with ``converged=False``, returning
      the last finite iterate, if the iteration diverges.

    A given ``init`` is passed through :func:`project_spd` (with ``eig_floor``) first.
    Both stop with ``converged=True`` once the relative gradient norm
    ``||M^{1/2} G M^{1/2}||_F / D(M)`` is at most ``tol``. ``step`` is used by ``"paper"``
    only. ``n_threads`` is accepted for compatibility with :mod:`advmetric.aml` and ignored.
    ``callback(iteration, objective, rel_grad)`` is called after every iteration.
    Returns a :class:`~advmetric._result.SolveResult`.
    """
    del n_threads  # the reference is single-threaded numpy
    if solver not in ("auto", "pgd", "paper"):
        raise ValueError(f"unknown solver {solver!r}; expected 'auto', 'pgd' or 'paper'")
    A_r, B_r = ridge(A, B, reg)
    d = A_r.shape[0]
    if init is None:
        M0 = gmml(A_r, B_r) if solver in ("auto", "pgd") else np.eye(d)
    else:
        M0 = project_spd(np.asarray(init, dtype=np.float64), eig_floor)
    if solver == "paper":
        return _solve_paper(A_r, B_r, alpha, beta, M0, max_iter, tol, step, eig_floor, callback)
    return _solve_pgd(A_r, B_r, alpha, beta, M0, max_iter, tol, eig_floor, callback)


@functools.wraps(_solve)
def solve(*args, **kwargs):
    outer = getattr(_inside_solve, "active", False)
    _inside_solve.active = True  # overflow in a diverging iteration is a result here, not an error
    try:
        return _solve(*args, **kwargs)
    finally:
        _inside_solve.active = outer


class _History:
    """Objective and relative-gradient histories, plus the callback."""

    def __init__(self, callback):
        self.objective = []
        self.rel_grad = []
        self.callback = callback

    def record(self, iteration, D, rel_grad):
        self.objective.append(D)
        self.rel_grad.append(rel_grad)
        if iteration > 0 and self.callback is not None:
            self.callback(iteration, D, rel_grad)

    def result(self, M, converged, message):
        return SolveResult(
            M=M,
            n_iter=len(self.objective) - 1,
            objective_history=np.asarray(self.objective, dtype=np.float64),
            gradient_norm_history=np.asarray(self.rel_grad, dtype=np.float64),
            converged=bool(converged),
            message=message,
        )


def _solve_pgd(A, B, alpha, beta, M, max_iter, tol, eig_floor, callback):
    """Monotone projected gradient with Barzilai-Borwein steps and Armijo backtracking."""
    history = _History(callback)
    D = objective(M, A, B, alpha, beta)
    G = gradient(M, A, B, alpha, beta)
    rel_grad = _relative_gradient_norm(M, G, D)
    history.record(0, D, rel_grad)
    if rel_grad <= tol:
        return history.result(M, True, "converged: relative gradient norm <= tol at the start")

    # First trial step: move M by about its own size; afterwards Barzilai-Borwein.
    t = float(np.linalg.norm(M) / np.linalg.norm(G))
    for iteration in range(1, max_iter + 1):
        accepted = _armijo_step(A, B, alpha, beta, M, D, G, t, eig_floor)
        if accepted is None:
            message = (
                "stopped: the line search cannot decrease the objective any more "
                f"(relative gradient norm {rel_grad:.3e} > tol {tol:.3e})"
            )
            return history.result(M, False, message)
        M_new, D_new, G_new = accepted
        S = M_new - M
        sy = float(np.sum(S * (G_new - G)))
        if sy > 0.0:  # BB1 step; otherwise keep the step that was just accepted
            t = float(np.sum(S * S)) / sy
        M, D, G = M_new, D_new, G_new
        rel_grad = _relative_gradient_norm(M, G, D)
        history.record(iteration, D, rel_grad)
        if rel_grad <= tol:
            return history.result(M, True, "converged: relative gradient norm <= tol")
    return history.result(M, False, f"max_iter ({max_iter}) reached")


def _armijo_step(A, B, alpha, beta, M, D, G, t, eig_floor):
    """Backtrack from step ``t`` until the projected step decreases D enough.

    ``M_new = project_spd(M - t G)`` is accepted when ``D(M_new) - D(M)`` is at most
    ``_ARMIJO_C <G, M_new - M>`` (which is negative), so the objective never increases.
    Returns ``(M_new, D_new, G_new)``, or None when no trial step qualifies. For small steps
    (``_SMALL_STEP``) the change is the trapezoidal estimate and ``D_new = D + change``, which
    agrees with ``objective(M_new)`` up to the rounding error of the latter.
    """
    for _ in range(_MAX_BACKTRACKS):
        M_new = project_spd(M - t * G, eig_floor)
        step_matrix = M_new - M
        predicted = float(np.sum(G * step_matrix))  # <G, M_new - M>
        if not predicted < 0.0:
            return None  # the projected step no longer moves M downhill (rounding level)
        if _scaled_norm(M, step_matrix, -0.5) > _SMALL_STEP:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                D_new = objective(M_new, A, B, alpha, beta)  # a long step may overflow
            if np.isfinite(D_new) and D_new - D <= _ARMIJO_C * predicted:
                return M_new, D_new, gradient(M_new, A, B, alpha, beta)
        else:
            G_new = gradient(M_new, A, B, alpha, beta)
            change = 0.5 * float(np.sum((G + G_new) * step_matrix))
            if change <= _ARMIJO_C * predicted:
                return M_new, D + change, G_new
        t *= 0.5
    return None


def _solve_paper(A, B, alpha, beta, M, max_iter, tol, step, eig_floor, callback):
    """Algorithm 1: projected gradient descent with a fixed step.

    Besides the gradient test and ``max_iter``, stops (``converged=False``) when the iterate
    or the objective becomes non-finite, and when the update no longer changes ``M`` beyond
    rounding although the gradient test fails (a too-large step can throw ``M`` so far out
    that ``step * G`` is lost in its rounding).
    """
    history = _History(callback)
    D = D_start = objective(M, A, B, alpha, beta)
    G = gradient(M, A, B, alpha, beta)
    rel_grad = _relative_gradient_norm(M, G, D)
    history.record(0, D, rel_grad)
    if rel_grad <= tol:
        return history.result(M, True, "converged: relative gradient norm <= tol at the start")
    eps = float(np.finfo(np.float64).eps)
    for iteration in range(1, max_iter + 1):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            trial = M - step * G
            if not np.all(np.isfinite(trial)):
                return history.result(M, False, _diverged_message(iteration))
            M_new = project_spd(trial, eig_floor)
            if not np.all(np.isfinite(M_new)):
                return history.result(M, False, _diverged_message(iteration))
            D_new = objective(M_new, A, B, alpha, beta)
            G_new = gradient(M_new, A, B, alpha, beta)
            if not (np.isfinite(D_new) and np.all(np.isfinite(G_new))):
                return history.result(M, False, _diverged_message(iteration))
            rel_grad = _relative_gradient_norm(M_new, G_new, D_new)
        moved = np.linalg.norm(M_new - M)
        M, D, G = M_new, D_new, G_new
        history.record(iteration, D, rel_grad)
        if rel_grad <= tol:
            return history.result(M, True, "converged: relative gradient norm <= tol")
        if moved <= 16.0 * eps * np.linalg.norm(M):
            grew = "diverged and " if D > D_start else ""
            message = (
                f"stopped: the iteration {grew}no longer changes M beyond rounding "
                f"(objective {D_start:.6g} -> {D:.6g}, relative gradient norm {rel_grad:.3e} "
                f"> tol {tol:.3e}); try a smaller step"
            )
            return history.result(M, False, message)
    return history.result(M, False, f"max_iter ({max_iter}) reached")


def _diverged_message(iteration):
    return (
        f"diverged at iteration {iteration}: the objective or M became non-finite; "
        "returning the last finite iterate (try a smaller step)"
    )
