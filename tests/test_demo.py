"""The newcomer's first run: python -m advmetric demo."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from advmetric.demo import main, make_synthetic, run_demo

METHODS = ("Euclidean", "GMML", "AML")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _table_rows(out: str) -> dict:
    """{method: (train error, test error)} parsed from the printed table."""
    rows = {}
    for line in out.splitlines():
        fields = line.split()
        if fields and fields[0] in METHODS and len(fields) == 4:
            rows[fields[0]] = (float(fields[1]), float(fields[2]))
    return rows


def test_synthetic_data_matches_the_description():
    X_train, y_train, X_test, y_test = make_synthetic(0)
    assert X_train.shape == X_test.shape == (200, 10)
    assert (y_train == 0).sum() == (y_train == 1).sum() == 100
    assert (y_test == 0).sum() == (y_test == 1).sum() == 100

    # training classes far apart along their mean difference, test classes overlapping
    def separation(X, y):
        u = X[y == 1].mean(0) - X[y == 0].mean(0)
        u /= np.linalg.norm(u)
        projected = X @ u
        return (projected[y == 1].mean() - projected[y == 0].mean()) / projected[y == 0].std()

    assert separation(X_train, y_train) > 6 > 3.5 > separation(X_test, y_test)
    again = make_synthetic(0)
    for a, b in zip((X_train, y_train, X_test, y_test), again):
        np.testing.assert_array_equal(a, b)


def test_demo_table_is_printed_and_deterministic(capsys):
    assert main(["demo", "--no-plot", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    rows = _table_rows(out)
    assert set(rows) == set(METHODS)
    for train_error, test_error in rows.values():
        assert 0 <= train_error <= 1 and 0 <= test_error <= 1
    assert "Lowest test error on this seed" in out
    assert "AML beat GMML" in out or "AML did not beat GMML" in out

    results = run_demo(seed=3)
    again = run_demo(seed=3)
    assert list(results) == list(METHODS)
    for name in METHODS:
        assert 0 <= results[name]["train_error"] <= 1
        assert 0 <= results[name]["test_error"] <= 1
        assert results[name]["train_error"] == again[name]["train_error"]
        assert results[name]["test_error"] == again[name]["test_error"]
        assert rows[name] == pytest.approx(
            (results[name]["train_error"], results[name]["test_error"]), abs=5e-4
        )
    np.testing.assert_array_equal(
        results["AML"]["model"].get_mahalanobis_matrix(),
        again["AML"]["model"].get_mahalanobis_matrix(),
    )


def test_demo_writes_a_png(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "fig.png"
    assert main(["demo", "--seed", "1", "--output", str(out)]) == 0
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert str(out) in capsys.readouterr().out

    monkeypatch.chdir(tmp_path)  # the default path is in the current directory
    assert main(["demo", "--seed", "1"]) == 0
    assert (tmp_path / "advmetric_demo.png").read_bytes()[:8] == PNG_MAGIC


def test_demo_without_matplotlib_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    assert main(["demo", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert 'pip install "advmetric[plot]"' in out
    assert set(_table_rows(out)) == set(METHODS)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option", [["--alpha", "-1"], ["--beta", "0"], ["--beta", "nan"]])
def test_demo_rejects_bad_parameters(option, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--no-plot", *option])
    assert exit_info.value.code == 2
    assert option[0] in capsys.readouterr().err


def test_module_entry_point(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "advmetric", "demo", "--no-plot"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert set(_table_rows(done.stdout)) == set(METHODS)
    assert list(tmp_path.iterdir()) == []
    no_command = subprocess.run(
        [sys.executable, "-m", "advmetric"], capture_output=True, text=True, cwd=tmp_path
    )
    assert no_command.returncode == 2 and "demo" in no_command.stdout
