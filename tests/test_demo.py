"""The newcomer's first run: python -m advmetric demo."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from advmetric.demo import main, make_synthetic, run_demo


def test_synthetic_data_matches_the_description():
    X_train, y_train, X_test, y_test = make_synthetic(0)
    assert X_train.shape == X_test.shape == (200, 10)
    assert (y_train == 0).sum() == (y_train == 1).sum() == 100

    # training classes far apart along their mean difference, test classes overlapping
    def separation(X, y):
        u = X[y == 1].mean(0) - X[y == 0].mean(0)
        u /= np.linalg.norm(u)
        projected = X @ u
        return (projected[y == 1].mean() - projected[y == 0].mean()) / projected[y == 0].std()

    assert separation(X_train, y_train) > 6 > 3.5 > separation(X_test, y_test)


def test_demo_table_is_printed_and_deterministic(capsys):
    assert main(["demo", "--no-plot", "--seed", "3"]) == 0
    first = capsys.readouterr().out
    for method in ("Euclidean", "GMML", "AML"):
        assert method in first
    assert "Lowest test error on this seed" in first
    results = run_demo(seed=3)
    for r in results.values():
        assert 0 <= r["train_error"] <= 1 and 0 <= r["test_error"] <= 1
    again = run_demo(seed=3)
    for name in results:
        assert results[name]["test_error"] == again[name]["test_error"]


def test_demo_writes_a_png(tmp_path):
    out = tmp_path / "fig.png"
    assert main(["demo", "--seed", "1", "--output", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_module_entry_point():
    done = subprocess.run(
        [sys.executable, "-m", "advmetric", "demo", "--no-plot"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "AML" in done.stdout
    no_command = subprocess.run([sys.executable, "-m", "advmetric"], capture_output=True, text=True)
    assert no_command.returncode == 2 and "demo" in no_command.stdout
