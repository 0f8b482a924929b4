"""Shared fixtures: seeded random pair problems and the comparison helper."""

from __future__ import annotations

import numpy as np
import pytest


def relative_error(actual, expected) -> float:
    """Frobenius-norm relative error; absolute when ``expected`` is exactly zero."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    scale = np.linalg.norm(expected)
    return float(np.linalg.norm(actual - expected) / (scale if scale > 0 else 1.0))


def random_spd(rng: np.random.Generator, d: int, spread: float = 1.0) -> np.ndarray:
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    w = np.exp(spread * rng.standard_normal(d))
    return (Q * w) @ Q.T


def random_pairs(rng: np.random.Generator, n: int, d: int, labels: str = "mixed"):
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


@pytest.fixture
def rng():
    return np.random.default_rng(20181)
