"""Accuracy report: the largest relative errors the test suite bounds, as measured numbers.

    python benchmarks/accuracy.py     # a few minutes: the reference solver is plain numpy

The tests assert bounds (1e-10 for aml vs reference and vs the golden numbers, 1e-6 for the
gradient vs finite differences); this prints the errors actually reached, over the same seeded
problems as the tests (``advmetric._testing``: d in {1, 2, 5, 30}, n in {1, 10, 2000}, mixed
and one-label cases) and the golden file ``tests/data/aml_golden.json``.
Relative errors are in the Frobenius norm. With mpmath installed it also measures both routes of
``aml.objective``/``aml.gradient`` (Cholesky-based and eigenbasis, docs/math.md) against a 40-digit
evaluation over a grid of condition numbers and scales.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from advmetric import _backend, aml, reference
from advmetric._testing import AGREEMENT_ALPHA as ALPHA
from advmetric._testing import AGREEMENT_BETA as BETA
from advmetric._testing import AGREEMENT_CASES as CASES
from advmetric._testing import (
    FD_DIMENSIONS,
    FD_LABELS,
    finite_difference_checks,
    random_spd,
    relative_error,
)
from advmetric._testing import agreement_problem as make_problem

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "data" / "aml_golden.json"


def aml_vs_reference() -> dict[str, float]:
    worst: dict[str, float] = {}

    def record(name, fast, slow):
        worst[name] = max(worst.get(name, 0.0), relative_error(fast, slow))

    for case in CASES:
        pairs, y, M = make_problem(case)
        d = M.shape[0]
        A, B = reference.pair_statistics(pairs, y)
        for name, fast, slow in zip(
            ("pair_statistics A", "pair_statistics B"),
            aml.pair_statistics(pairs, y),
            (A, B),
        ):
            record(name, fast, slow)
        record(
            "adversarial_pairs",
            aml.adversarial_pairs(M, pairs, y, BETA),
            reference.adversarial_pairs(M, pairs, y, BETA),
        )
        record(
            "objective",
            aml.objective(M, A, B, ALPHA, BETA),
            reference.objective(M, A, B, ALPHA, BETA),
        )
        G = reference.gradient(M, A, B, ALPHA, BETA)
        record("gradient", aml.gradient(M, A, B, ALPHA, BETA), G)
        record(
            "gradient_pairwise (vs aggregated)", aml.gradient_pairwise(M, pairs, y, ALPHA, BETA), G
        )
        record(
            "gradient_pairwise (vs reference pairwise)",
            aml.gradient_pairwise(M, pairs, y, ALPHA, BETA),
            reference.gradient_pairwise(M, pairs, y, ALPHA, BETA),
        )
        S = (
            M
            - np.median(np.linalg.eigvalsh(M)) * np.eye(d)
            + 1e-3 * random_spd(np.random.default_rng(7), d)
        )
        record("project_spd", aml.project_spd(S, 1e-3), reference.project_spd(S, 1e-3))
        record("gmml (reg=1e-3)", aml.gmml(A, B, 1e-3), reference.gmml(A, B, 1e-3))
        # the solvers differ (L-BFGS vs projected gradient): compare the minimum objective
        reg = 1e-2
        A_r, B_r = reference.ridge(A, B, reg)
        fast = aml.solve(A, B, ALPHA, BETA, reg=reg, tol=1e-10, max_iter=5000)
        slow = reference.solve(A, B, ALPHA, BETA, reg=reg, tol=1e-10, max_iter=20000)
        record(
            "solve: min objective",
            reference.objective(fast.M, A_r, B_r, ALPHA, BETA),
            reference.objective(slow.M, A_r, B_r, ALPHA, BETA),
        )
    return worst


def versus_golden() -> dict[str, float]:
    raw = json.loads(GOLDEN.read_text())
    g = {k: np.asarray(v, dtype=np.float64) for k, v in raw.items() if k != "about"}
    y = np.asarray(raw["y"], dtype=np.int64)
    alpha, beta = float(raw["alpha"]), float(raw["beta"])
    pairs, A, B = g["pairs"], g["A"], g["B"]
    d = A.shape[0]
    points = {
        "M": g["M"],
        "identity": np.eye(d),
        "M_repeated_eigenvalue": g["M_repeated_eigenvalue"],
    }
    worst: dict[str, float] = {}
    for impl_name, impl in (("aml", aml), ("reference", reference)):
        errors = {
            "pair_statistics": max(
                relative_error(m, e) for m, e in zip(impl.pair_statistics(pairs, y), (A, B))
            ),
            "adversarial_pairs": relative_error(
                impl.adversarial_pairs(g["M"], pairs, y, beta), g["adversarial_pairs_at_M"]
            ),
            "objective (M, I)": max(
                relative_error(impl.objective(g["M"], A, B, alpha, beta), g["objective_at_M"]),
                relative_error(
                    impl.objective(np.eye(d), A, B, alpha, beta), g["objective_at_identity"]
                ),
            ),
            "gradient (M, I, repeated)": max(
                relative_error(impl.gradient(P, A, B, alpha, beta), g[f"gradient_at_{name}"])
                for name, P in points.items()
            ),
            "gradient_pairwise (M, I, repeated)": max(
                relative_error(
                    impl.gradient_pairwise(P, pairs, y, alpha, beta), g[f"gradient_at_{name}"]
                )
                for name, P in points.items()
            ),
            "gmml": relative_error(impl.gmml(A, B), g["gmml_M"]),
        }
        result = impl.solve(A, B, alpha, beta, reg=0.0, tol=1e-10, max_iter=5000)
        errors["solve: min objective"] = relative_error(
            impl.objective(result.M, A, B, alpha, beta), g["aml_objective_min"]
        )
        errors["solve: M_min"] = relative_error(result.M, g["aml_M_min"])
        for name, value in errors.items():
            worst[f"{impl_name:9s} {name}"] = value
    return worst


def versus_finite_differences() -> dict[str, float]:
    worst: dict[str, float] = {}
    for impl_name, impl in (("aml", aml), ("reference", reference)):
        for d in FD_DIMENSIONS:
            for labels in FD_LABELS:
                for point, G, G_fd in finite_difference_checks(impl, d, labels):
                    key = f"{impl_name:9s} at {point} M"
                    worst[key] = max(worst.get(key, 0.0), relative_error(G, G_fd))
    return worst


def high_precision_evaluation(M, A, B, alpha, beta, mp):
    """D(M) and grad D(M) from mpmath's eigendecomposition at the working precision of ``mp``."""
    d = M.shape[0]
    values, U = mp.eigsy(mp.matrix(M.tolist()))
    A_eig = U.T * mp.matrix(A.tolist()) * U
    B_eig = U.T * mp.matrix(B.tolist()) * U
    beta = mp.mpf(beta)
    w = mp.mpf(alpha) * beta**2
    c = 1 + w / (2 + beta) ** 2

    def f(x):
        return x + w * x**5 / (2 + beta * x * x) ** 2

    def g(x):
        return c / x

    def divided(h, x, y):
        return mp.diff(h, x) if x == y else (h(x) - h(y)) / (x - y)

    value = sum(A_eig[j, j] * f(values[j]) + B_eig[j, j] * g(values[j]) for j in range(d))
    G = mp.matrix(d, d)
    for j in range(d):
        for k in range(d):
            G[j, k] = divided(f, values[j], values[k]) * A_eig[j, k]
            G[j, k] += divided(g, values[j], values[k]) * B_eig[j, k]
    return float(value), np.array((U * G * U.T).tolist(), dtype=float)


def routes_vs_high_precision() -> dict[str, float] | None:
    try:
        import mpmath
    except ImportError:
        return None
    mp = mpmath.mp
    mp.dps = 40
    rng = np.random.default_rng(1)
    worst = {"eigenbasis route": 0.0, "rational route": 0.0, "rational / eigenbasis": 0.0}
    cases = rational = 0
    for d in (5, 30):
        for condition in (1e0, 1e1, 1e2, 1e3, 1e4, 1e6, 1e9):
            for scale in (1e-3, 1.0, 1e3):
                for alpha, beta in ((1.0, 0.8), (0.0, 0.8), (3.0, 1e-3), (0.5, 50.0)):
                    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
                    M = (Q * (scale * np.geomspace(1, condition, d))) @ Q.T
                    M = 0.5 * (M + M.T)
                    X = rng.standard_normal((8 * d, d))
                    A, B = X[: 4 * d].T @ X[: 4 * d], X[4 * d :].T @ X[4 * d :]
                    exact_value, exact_G = high_precision_evaluation(M, A, B, alpha, beta, mp)

                    errors, results = [], []
                    for eigenbasis in (False, True):
                        value = _backend.objective(M, A, B, alpha, beta, eigenbasis=eigenbasis)
                        G = _backend.gradient(M, A, B, alpha, beta, eigenbasis=eigenbasis)
                        results.append((value, G))
                        errors.append(
                            max(relative_error(value, exact_value), relative_error(G, exact_G))
                        )
                    default, eigenbasis = errors
                    (value, G), (eigen_value, eigen_G) = results
                    cases += 1
                    worst["eigenbasis route"] = max(worst["eigenbasis route"], eigenbasis)
                    if value != eigen_value or not np.array_equal(G, eigen_G):  # rational ran
                        rational += 1
                        worst["rational route"] = max(worst["rational route"], default)
                        ratio = default / max(eigenbasis, np.finfo(float).eps)
                        worst["rational / eigenbasis"] = max(worst["rational / eigenbasis"], ratio)
    print(f"\n{cases} cases, the rational route ran in {rational}")
    return worst


def show(title: str, errors: dict[str, float], bound: float | None) -> None:
    print(f"\n{title}" + (f" (bound in the tests: {bound:g})" if bound else ""))
    width = max(len(name) for name in errors)
    for name, value in errors.items():
        print(f"  {name:<{width}}  {value:9.2e}")


def main() -> None:
    show(
        f"advmetric.aml vs advmetric.reference, max over {len(CASES)} problems",
        aml_vs_reference(),
        1e-10,
    )
    show("vs the golden numbers", versus_golden(), 1e-10)  # the file ships with the repository
    show(
        "gradient vs central finite differences of the explicit objective "
        "(d in {1, 2, 5}, 3 label mixes)",
        versus_finite_differences(),
        1e-6,
    )
    routes = routes_vs_high_precision()
    if routes is None:
        print("\n(install mpmath to measure both routes against a 40-digit evaluation)")
    else:
        show(
            "aml.objective and aml.gradient vs a 40-digit evaluation (worst of both; the ratio"
            " counts an eigenbasis error below eps as eps)",
            routes,
            None,
        )


if __name__ == "__main__":
    main()
