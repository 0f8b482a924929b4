"""Both implementations against independently computed numbers (tests/data/aml_golden.json).

The golden file was produced by an implementation independent of this project's code (float64,
no ridge); docs/math.md says what it holds. Every test runs for the pure-numpy
``advmetric.reference`` and the fast ``advmetric.aml``. The file ships with the repository: if it
is missing the tests fail (the fixture fails them), they never skip.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pytest

GOLDEN_PATH = Path(__file__).resolve().parent / "data" / "aml_golden.json"

TOL = 1e-10  # relative (Frobenius norm for arrays)
SOLVE_M_TOL = 1e-7  # the minimiser is only determined to ~ sqrt(objective accuracy)


@pytest.fixture(scope="module")
def golden():
    if not GOLDEN_PATH.is_file():
        pytest.fail(f"golden test vectors missing: {GOLDEN_PATH} is part of the repository")
    raw = json.loads(GOLDEN_PATH.read_text())
    data = {
        key: np.asarray(value, dtype=np.float64) for key, value in raw.items() if key != "about"
    }
    data["y"] = np.asarray(raw["y"], dtype=np.int64)
    data["alpha"] = float(raw["alpha"])
    data["beta"] = float(raw["beta"])
    return data


@pytest.fixture(params=["reference", "aml"])
def impl(request):
    return importlib.import_module(f"advmetric.{request.param}")


def relative_error(actual, expected):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape
    return float(np.linalg.norm(actual - expected) / np.linalg.norm(expected))


def test_golden_file_is_consistent(golden):
    # Guards the tests below against a damaged file: shapes, labels and SPD inputs.
    n, two, d = golden["pairs"].shape
    assert two == 2 and golden["y"].shape == (n,)
    assert set(np.unique(golden["y"])) == {-1, 1}
    for key in ("M", "M_repeated_eigenvalue", "gmml_M", "aml_M_min"):
        assert golden[key].shape == (d, d)
        assert np.linalg.eigvalsh(golden[key]).min() > 0
    l = np.linalg.eigvalsh(golden["M_repeated_eigenvalue"])
    assert np.min(np.diff(l)) <= 1e-12 * l.max()


def test_pair_statistics(impl, golden):
    A, B = impl.pair_statistics(golden["pairs"], golden["y"])
    assert relative_error(A, golden["A"]) <= TOL
    assert relative_error(B, golden["B"]) <= TOL


def test_adversarial_pairs(impl, golden):
    adversarial = impl.adversarial_pairs(golden["M"], golden["pairs"], golden["y"], golden["beta"])
    assert relative_error(adversarial, golden["adversarial_pairs_at_M"]) <= TOL


@pytest.mark.parametrize(
    ("point", "expected"),
    [("M", "objective_at_M"), ("identity", "objective_at_identity")],
)
def test_objective(impl, golden, point, expected):
    M = golden["M"] if point == "M" else np.eye(golden["A"].shape[0])
    value = impl.objective(M, golden["A"], golden["B"], golden["alpha"], golden["beta"])
    assert relative_error(value, golden[expected]) <= TOL


GRADIENT_POINTS = [
    ("M", "gradient_at_M"),
    ("identity", "gradient_at_identity"),
    ("M_repeated_eigenvalue", "gradient_at_M_repeated_eigenvalue"),
]


def gradient_point(golden, point):
    return np.eye(golden["A"].shape[0]) if point == "identity" else golden[point]


@pytest.mark.parametrize(("point", "expected"), GRADIENT_POINTS)
def test_gradient(impl, golden, point, expected):
    M = gradient_point(golden, point)
    G = impl.gradient(M, golden["A"], golden["B"], golden["alpha"], golden["beta"])
    assert relative_error(G, golden[expected]) <= TOL


@pytest.mark.parametrize(("point", "expected"), GRADIENT_POINTS)
def test_gradient_pairwise(impl, golden, point, expected):
    M = gradient_point(golden, point)
    G = impl.gradient_pairwise(M, golden["pairs"], golden["y"], golden["alpha"], golden["beta"])
    assert relative_error(G, golden[expected]) <= TOL


def test_gmml(impl, golden):
    assert relative_error(impl.gmml(golden["A"], golden["B"]), golden["gmml_M"]) <= TOL


@pytest.mark.parametrize("start", ["default", "identity"])
def test_solve_reaches_golden_minimum(impl, golden, start):
    init = None if start == "default" else np.eye(golden["A"].shape[0])
    tol = 1e-10
    result = impl.solve(
        golden["A"],
        golden["B"],
        golden["alpha"],
        golden["beta"],
        reg=0.0,
        tol=tol,
        max_iter=5000,
        init=init,
    )
    assert result.converged == (result.gradient_norm_history[-1] <= tol)
    assert result.converged, result.message
    final = impl.objective(result.M, golden["A"], golden["B"], golden["alpha"], golden["beta"])
    assert relative_error(result.objective_history[-1], final) <= 1e-13
    assert relative_error(final, golden["aml_objective_min"]) <= TOL
    assert relative_error(result.M, golden["aml_M_min"]) <= SOLVE_M_TOL
