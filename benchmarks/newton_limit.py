"""How far one exact Newton step goes from Newton-CG's start (the eigenvalue step's point).

    python benchmarks/newton_limit.py          # about a minute on 2 cores

Newton-CG (docs/solver.md) starts at GMML's eigenvectors with eigenvalues refitted to D, then
takes two Newton iterations to a relative gradient of 1e-8. Could one do? A Newton step from a
relative gradient g0 leaves about K g0^2 (the model's cubic term) plus what CG leaves unsolved,
so this script removes the second part: it solves the Newton system to 1e-12 and prints g0, the
relative gradient g1 after the step, and K = g1 / g0^2.

1. Which curve (d = 12, 20; the Hessian formed densely from ``hessian_vector``): the straight
   line M + E, the affine-invariant curve M + E + E M^{-1} E / 2 (the solver's), the geodesic
   M^{1/2} exp(M^{-1/2} E M^{-1/2}) M^{1/2}, and rotating the eigenvectors while scaling the
   eigenvalues, U exp(O) diag(m e^delta) exp(-O) U^T, each with the Newton step of its own
   second-order model.
2. The solver's curve at the benchmark's sizes (d = 64, 256, 784), the system solved by CG in the
   scaled eigenbasis (M = T T^T, T = U diag(m)^{1/2}) with ``hessian_vector`` products.

Same problems as compare.py's target 6 (A, B = X^T X of 4d Gaussian rows), alpha = 1, beta = 0.8.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.linalg import eigh, expm

from advmetric import _core
from advmetric._testing import random_scatter

ALPHA, BETA = 1.0, 0.8
C = 1 + ALPHA * (BETA / (2 + BETA)) ** 2  # D's weight on tr(B M^{-1})


def relative_gradient(M, A, B):
    """||M^{1/2} grad D M^{1/2}||_F / D, the solver's stopping measure."""
    return _core.evaluate(M, A, B, ALPHA, BETA)[2]


def start_point(A, B):
    """GMML's eigenvectors U with the eigenvalues m that minimise D over U diag(m) U^T."""
    values, U = eigh(_core.gmml(A, B))
    a = np.einsum("ij,ij->j", U, A @ U)
    b = C * np.einsum("ij,ij->j", U, B @ U)
    m = [_core._best_eigenvalue(a[j], b[j], ALPHA, BETA, values[j]) for j in range(len(values))]
    return U, np.array(m)


def curves(d: int, seed: int) -> tuple[float, dict[str, float]]:
    """g0 at the start, and the relative gradient after one exact Newton step along each curve."""
    A, B = random_scatter(d, seed)
    U, m = start_point(A, B)
    M = (U * m) @ U.T
    _, gradient, g0 = _core.evaluate(M, A, B, ALPHA, BETA)
    G = U.T @ gradient @ U  # in the eigenbasis
    upper = np.triu_indices(d)
    n = len(upper[0])

    def symmetric(theta):
        E = np.zeros((d, d))
        E[upper] = theta
        return E + np.triu(E, 1).T

    # <S_a, H S_b> for the symmetric basis S_a, in the eigenbasis
    basis = [symmetric(np.eye(n)[k]) for k in range(n)]
    H = np.empty((n, n))
    for k, S in enumerate(basis):
        HS = U.T @ _core.hessian_vector(M, A, B, ALPHA, BETA, U @ S @ U.T) @ U
        H[:, k] = [np.sum(HS * T) for T in basis]
    H = (H + H.T) / 2

    def newton(first: list[np.ndarray], second) -> np.ndarray:
        """Minimiser of <G, M'(theta)> + (<M', H M'> + <G, M''(theta)>) / 2 for a curve with
        first derivatives `first` (per parameter) and <G, M''> the quadratic form `second`."""
        coefficients = np.array([F[upper] for F in first]).T  # of each M' in the basis
        model = coefficients.T @ H @ coefficients + second
        return np.linalg.solve(model, -np.array([np.sum(G * F) for F in first]))

    inverse = np.diag(1 / m)
    out = {}
    E = symmetric(newton(basis, np.zeros((n, n))))
    out["straight"] = relative_gradient(U @ (np.diag(m) + E) @ U.T, A, B)
    quadratic = np.array(
        [[np.sum(G * (S @ inverse @ T + T @ inverse @ S)) / 2 for T in basis] for S in basis]
    )
    E = symmetric(newton(basis, quadratic))
    out["affine curve"] = relative_gradient(U @ (np.diag(m) + E + E @ inverse @ E / 2) @ U.T, A, B)
    # The geodesic has the affine curve's first and second derivatives (E and E M^{-1} E), so the
    # same Newton step.
    root = np.diag(np.sqrt(m))
    geodesic = root @ expm(np.diag(1 / np.sqrt(m)) @ E @ np.diag(1 / np.sqrt(m))) @ root
    out["geodesic"] = relative_gradient(U @ geodesic @ U.T, A, B)

    # rotation O (skew) and log-eigenvalue changes delta:
    # M'' = [O, [O, L]] + 2 [O, L delta] + L delta^2
    lower = np.triu_indices(d, 1)
    L = np.diag(m)
    rotations = []
    for i, j in zip(*lower):
        O = np.zeros((d, d))
        O[i, j], O[j, i] = 1, -1
        rotations.append(O)
    first = [O @ L - L @ O for O in rotations] + [np.diag(m * np.eye(d)[j]) for j in range(d)]

    def split(theta):
        O = np.zeros((d, d))
        O[lower] = theta[: len(rotations)]
        return O - O.T, theta[len(rotations) :]

    def second_derivative(theta):
        O, delta = split(theta)
        Ld = np.diag(m * delta)
        return (
            O @ (O @ L - L @ O)
            - (O @ L - L @ O) @ O
            + 2 * (O @ Ld - Ld @ O)
            + np.diag(m * delta**2)
        )

    p = len(first)
    unit = np.eye(p)
    q = np.array([np.sum(G * second_derivative(unit[a])) for a in range(p)])
    form = np.diag(q)
    for a in range(p):
        for b in range(a + 1, p):
            form[a, b] = form[b, a] = (
                np.sum(G * second_derivative(unit[a] + unit[b])) - q[a] - q[b]
            ) / 2
    O, delta = split(newton(first, form))
    R = expm(O)
    out["rotation"] = relative_gradient(U @ R @ np.diag(m * np.exp(delta)) @ R.T @ U.T, A, B)
    return g0, out


def solver_curve(d: int, seed: int, tol: float = 1e-12) -> tuple[float, float, int]:
    """g0, g1 after the affine-curve Newton step solved by CG to `tol`, and the CG steps."""
    A, B = random_scatter(d, seed)
    U, m = start_point(A, B)
    M = (U * m) @ U.T
    T = U * np.sqrt(m)  # M = T T^T: X = I in these coordinates
    _, gradient, g0 = _core.evaluate(M, A, B, ALPHA, BETA)
    G = T.T @ gradient @ T

    def product(W):  # the Hessian of D in X plus the curve's term sym(G W X^{-1}), X = I
        HW = T.T @ _core.hessian_vector(M, A, B, ALPHA, BETA, T @ W @ T.T) @ T
        curve = G @ W
        return (HW + HW.T) / 2 + (curve + curve.T) / 2

    W = np.zeros((d, d))
    r = -G
    p = r.copy()
    rr = np.sum(r * r)
    target = tol**2 * rr
    steps = 0
    while rr > target and steps < 500:
        Hp = product(p)
        curvature = np.sum(p * Hp)
        assert curvature > 0, "the Newton model is not convex here: no exact step to report"
        a = rr / curvature
        W += a * p
        r -= a * Hp
        rr_next = np.sum(r * r)
        p = r + (rr_next / rr) * p
        rr = rr_next
        steps += 1
    assert rr <= target, f"CG did not reach {tol} in {steps} steps"
    M_next = T @ (np.eye(d) + W + W @ W / 2) @ T.T
    return g0, relative_gradient(M_next, A, B), steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--d", type=int, nargs="+", default=[64, 256, 784], help="sizes of part 2 (part 1: 12, 20)"
    )
    args = parser.parse_args()
    print("1. One exact Newton step from the start, along four curves: relative gradient after it")
    names = ("straight", "affine curve", "geodesic", "rotation")
    print(f"{'d':>4} {'seed':>4} {'g0':>9} " + " ".join(f"{name:>13}" for name in names))
    for d in (12, 20):
        for seed in range(3):
            g0, after = curves(d, seed)
            print(
                f"{d:>4} {seed:>4} {g0:9.2e} " + " ".join(f"{after[name]:13.2e}" for name in names)
            )
    print("\n2. The solver's curve, Newton system solved by CG to 1e-12 (K = g1 / g0^2)")
    print(f"{'d':>4} {'seed':>4} {'g0':>9} {'g1':>9} {'K':>6} {'CG':>4}")
    for d in args.d:
        for seed in (d, 1):
            g0, g1, steps = solver_curve(d, seed)
            print(f"{d:>4} {seed:>4} {g0:9.2e} {g1:9.2e} {g1 / g0**2:6.1f} {steps:>4}", flush=True)
    print("   A second iteration is needed wherever g1 > 1e-8 (the solver's tolerance).")


if __name__ == "__main__":
    main()
