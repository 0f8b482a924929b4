"""Shared fixtures: seeded random pair problems and the comparison helper.

The generators live in :mod:`advmetric._testing` (shared with ``benchmarks/accuracy.py``); test
modules import them from here.
"""

from __future__ import annotations

import numpy as np
import pytest

from advmetric._testing import random_pairs, random_scatter, random_spd, relative_error

__all__ = ["random_pairs", "random_scatter", "random_spd", "relative_error"]


@pytest.fixture
def rng():
    return np.random.default_rng(20181)
