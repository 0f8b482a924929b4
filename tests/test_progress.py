"""Progress reports of long work (``verbose``): one helper, a bar with tqdm, log lines without."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from advmetric import PairStatistics
from advmetric._progress import progress


@pytest.fixture
def without_tqdm(monkeypatch):
    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)


def test_silent_unless_verbose(capsys):
    assert list(progress(range(3), total=3, desc="work", verbose=False)) == [0, 1, 2]
    assert capsys.readouterr().err == ""


def test_log_lines_without_tqdm(capsys, without_tqdm):
    assert list(progress(iter("abc"), total=3, desc="work", verbose=True)) == ["a", "b", "c"]
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split(" done")[0] for line in lines] == ["[work] 1/3", "[work] 2/3", "[work] 3/3"]


def test_pair_statistics_reports_each_block(monkeypatch, capsys, without_tqdm):
    from advmetric import _backend

    monkeypatch.setattr(_backend, "BLOCK_VALUES", 2 * 4 * 10)  # 10 pairs a block
    rng = np.random.default_rng(0)
    pairs = rng.standard_normal((35, 2, 4))
    y = np.where(np.arange(35) % 2 == 0, 1, -1)
    quiet = PairStatistics.from_pairs(pairs, y)
    assert capsys.readouterr().err == ""
    loud = PairStatistics.from_pairs(pairs, y, verbose=True)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 4 and lines[-1].startswith("[pair statistics] 4/4")
    np.testing.assert_array_equal(quiet.A, loud.A)
    np.testing.assert_array_equal(quiet.B, loud.B)


def test_cross_validation_reports_each_fit(capsys, without_tqdm):
    from sklearn.datasets import load_iris

    from advmetric import AML_SupervisedCV

    X, y = load_iris(return_X_y=True)
    AML_SupervisedCV(alphas=[0.1, 1.0], betas=[0.8], cv=2, random_state=0, verbose=True).fit(X, y)
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split(" done")[0] for line in lines] == [
        f"[AML_SupervisedCV] {k}/4" for k in range(1, 5)
    ]
