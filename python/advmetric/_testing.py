"""Seeded problems and numerical checks shared by the test suite and ``benchmarks/accuracy.py``.

Private: not part of advmetric's public API and free to change. It lives in the package (not in
``tests/``) so that the accuracy report measures its errors on exactly the problems the tests
bound, without a script putting ``tests/`` on ``sys.path``. Depends on numpy and
:mod:`advmetric.reference` only.

Two problem families:

- the *agreement* problems (:data:`AGREEMENT_CASES`, :func:`agreement_problem`), on which the
  compiled array API must match the numpy reference (``tests/test_aml_vs_reference.py``);
- the *finite-difference* problems (:func:`finite_difference_checks`), on which every gradient
  must match central differences of the pair-by-pair objective (``tests/test_reference.py``).
"""

from __future__ import annotations

import itertools
import zlib

import numpy as np

from advmetric import reference

# --------------------------------------------------------------------------------------------
# Comparison and generic generators
# --------------------------------------------------------------------------------------------


def relative_error(actual, expected) -> float:
    """Frobenius-norm relative error; absolute when ``expected`` is exactly zero."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    scale = np.linalg.norm(expected)
    return float(np.linalg.norm(actual - expected) / (scale if scale > 0 else 1.0))


def random_scatter(d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Scatter matrices A, B = X^T X, Y^T Y of 4d Gaussian rows each: a well-conditioned problem."""
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((2, 4 * d, d))
    return X.T @ X, Y.T @ Y


def random_spd(rng: np.random.Generator, d: int, spread: float = 1.0) -> np.ndarray:
    """SPD matrix with a random eigenbasis and log-normal eigenvalues ``exp(spread * N(0, 1))``."""
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    w = np.exp(spread * rng.standard_normal(d))
    return (Q * w) @ Q.T


def random_pairs(rng: np.random.Generator, n: int, d: int, labels: str = "mixed"):
    """``(pairs, y)``: ``n`` pairs in R^d with per-feature scales, labels as ``labels`` says.

    ``labels`` is ``"mixed"`` (random, both present when ``n > 1``), ``"similar"`` (all +1) or
    ``"dissimilar"`` (all -1).
    """
    pairs = rng.standard_normal((n, 2, d)) * rng.uniform(0.5, 2.0, size=d)
    if labels == "mixed":
        y = np.where(rng.random(n) < 0.5, 1, -1)
        if n > 1:  # make sure both labels occur
            y[0], y[1] = 1, -1
    elif labels == "similar":
        y = np.ones(n, dtype=int)
    else:
        y = -np.ones(n, dtype=int)
    return pairs, y


def random_orthogonal(rng: np.random.Generator, d: int) -> np.ndarray:
    """Haar-distributed orthogonal matrix (QR with the signs of R's diagonal fixed)."""
    Q, R = np.linalg.qr(rng.normal(size=(d, d)))
    return Q * np.sign(np.diag(R))


def spd_with_eigenvalues(rng: np.random.Generator, eigenvalues) -> np.ndarray:
    """Exactly symmetric ``U diag(eigenvalues) U^T`` with a random orthogonal ``U``."""
    U = random_orthogonal(rng, len(eigenvalues))
    M = (U * np.asarray(eigenvalues, dtype=float)) @ U.T
    return 0.5 * (M + M.T)


def random_spd_between(rng: np.random.Generator, d: int, low=0.5, high=3.0) -> np.ndarray:
    """SPD matrix with eigenvalues drawn uniformly from ``[low, high]``."""
    return spd_with_eigenvalues(rng, rng.uniform(low, high, size=d))


def repeated_eigenvalue_matrix(rng: np.random.Generator, d: int) -> np.ndarray:
    """SPD matrix with exactly repeated eigenvalues, e.g. U diag(1, 1, 2, 3, 3) U^T."""
    pattern = np.array([1.0, 1.0, 2.0, 3.0, 3.0])
    return spd_with_eigenvalues(rng, np.resize(pattern, d))


def random_problem(rng: np.random.Generator, n: int, d: int, labels: str = "mixed"):
    """Standard normal pairs of shape (n, 2, d) with labels in {-1, +1} (see :func:`random_pairs`
    for ``labels``; ``"mixed"`` has both labels whenever ``n > 1``)."""
    pairs = rng.normal(size=(n, 2, d))
    if labels == "mixed":
        y = np.where(rng.random(n) < 0.5, 1, -1)
        y[0], y[-1] = 1, -1  # both labels present whenever n > 1
        if n == 1:
            y[0] = 1
    elif labels == "similar":
        y = np.ones(n, dtype=int)
    else:
        y = -np.ones(n, dtype=int)
    return pairs, y


# --------------------------------------------------------------------------------------------
# The agreement problems: advmetric.aml against advmetric.reference
# --------------------------------------------------------------------------------------------

AGREEMENT_ALPHA, AGREEMENT_BETA = 1.3, 0.7
AGREEMENT_CASES = [
    (d, n, labels)
    for d, n, labels in itertools.product(
        (1, 2, 5, 30), (1, 10, 2000), ("mixed", "similar", "dissimilar")
    )
    if not (labels == "mixed" and n == 1)
]


def agreement_case_id(case) -> str:
    d, n, labels = case
    return f"d{d}-n{n}-{labels}"


def agreement_problem(case):
    """``(pairs, y, M)`` for one of :data:`AGREEMENT_CASES`, seeded by the case's name."""
    d, n, labels = case
    rng = np.random.default_rng(zlib.crc32(agreement_case_id(case).encode()))
    pairs, y = random_pairs(rng, n, d, labels)
    return pairs, y, random_spd(rng, d)


# --------------------------------------------------------------------------------------------
# The finite-difference problems: every gradient against the explicit objective
# --------------------------------------------------------------------------------------------

FD_ALPHA, FD_BETA = 0.7, 1.3
FD_DIMENSIONS = (1, 2, 5)
FD_LABELS = ("mixed", "similar", "dissimilar")


def finite_difference_gradient(M, pairs, y, alpha, beta, rel_step=1e-6):
    """Central differences of ``reference.objective_explicit`` along ``E_jk + E_kj``."""
    d = M.shape[0]
    h = rel_step * np.linalg.norm(M, 2)
    G = np.empty((d, d))
    for j in range(d):
        for k in range(j, d):
            E = np.zeros((d, d))
            E[j, k] += 1.0
            E[k, j] += 1.0
            plus = reference.objective_explicit(M + h * E, pairs, y, alpha, beta)
            minus = reference.objective_explicit(M - h * E, pairs, y, alpha, beta)
            # d/dh D(M + h E) = <G, E> = 2 G_jk, also for j == k (E = 2 E_jj).
            G[j, k] = G[k, j] = (plus - minus) / (4.0 * h)
    return G


def gradient_test_points(rng: np.random.Generator, d: int):
    """``[(name, M)]``: a random SPD matrix, the identity and (d >= 2) repeated eigenvalues."""
    points = [("random", random_spd_between(rng, d)), ("identity", np.eye(d))]
    if d >= 2:
        points.append(("repeated", repeated_eigenvalue_matrix(rng, d)))
    return points


def finite_difference_checks(impl, d: int, labels: str):
    """``[(point, G, G_fd)]``: ``impl.gradient`` and finite differences on one seeded problem.

    ``impl`` is :mod:`advmetric.aml` or :mod:`advmetric.reference`; the problem has 10 pairs in
    R^d with the given ``labels``, ``alpha, beta = FD_ALPHA, FD_BETA``, and is evaluated at
    every point of :func:`gradient_test_points`.
    """
    rng = np.random.default_rng(10 * d + len(labels))
    pairs, y = random_problem(rng, 10, d, labels)
    A, B = reference.pair_statistics(pairs, y)
    return [
        (
            name,
            impl.gradient(M, A, B, FD_ALPHA, FD_BETA),
            finite_difference_gradient(M, pairs, y, FD_ALPHA, FD_BETA),
        )
        for name, M in gradient_test_points(rng, d)
    ]
