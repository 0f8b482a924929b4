"""PairStatistics: chunked, indexed and merged accumulation of the scatter matrices."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from conftest import random_pairs, relative_error

from advmetric import _backend, _core, reference
from advmetric.statistics import PairStatistics


@pytest.fixture
def data():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((300, 7)) * rng.uniform(0.1, 10, size=7)
    index = rng.integers(0, 300, size=(5000, 2))
    y = np.where(rng.random(5000) < 0.4, 1, -1)
    return X, index, y


def test_chunked_updates_equal_one_pass(data):
    X, index, y = data
    pairs = X[index]
    A, B = reference.pair_statistics(pairs, y)
    stats = PairStatistics(7)
    for chunk in np.array_split(np.arange(len(y)), 13):
        stats.update(pairs[chunk], y[chunk])
    assert relative_error(stats.A, A) <= 1e-12 and relative_error(stats.B, B) <= 1e-12
    assert stats.n_similar == int((y > 0).sum()) and stats.n_dissimilar == int((y < 0).sum())
    assert stats.n_pairs == len(y)


@pytest.mark.parametrize("n_threads", [1, 2, None])
def test_indices_equal_materialised_pairs(data, n_threads):
    X, index, y = data
    by_index = PairStatistics.from_indices(X, index, y, n_threads=n_threads)
    by_pairs = PairStatistics.from_pairs(X[index], y, n_threads=n_threads)
    assert relative_error(by_index.A, by_pairs.A) <= 1e-12
    assert relative_error(by_index.B, by_pairs.B) <= 1e-12
    assert (by_index.n_similar, by_index.n_dissimilar) == (
        by_pairs.n_similar,
        by_pairs.n_dissimilar,
    )


def test_merge_add_and_pickle(data):
    X, index, y = data
    whole = PairStatistics.from_indices(X, index, y)
    first = PairStatistics.from_indices(X, index[:2000], y[:2000])
    second = PairStatistics.from_indices(X, index[2000:], y[2000:])
    merged = first + second
    assert relative_error(merged.A, whole.A) <= 1e-12 and relative_error(merged.B, whole.B) <= 1e-12
    assert merged.n_pairs == whole.n_pairs
    assert first.n_pairs == 2000  # + does not modify its operands
    first += second
    assert relative_error(first.A, whole.A) <= 1e-12
    restored = pickle.loads(pickle.dumps(merged))
    np.testing.assert_array_equal(restored.A, merged.A)
    np.testing.assert_array_equal(restored.B, merged.B)
    assert restored.n_similar == merged.n_similar and restored.n_dissimilar == merged.n_dissimilar


def test_from_arrays_and_read_only_views(rng):
    pairs, y = random_pairs(rng, 50, 3)
    A, B = reference.pair_statistics(pairs, y)
    stats = PairStatistics(
        3, A=A, B=B, n_similar=int((y > 0).sum()), n_dissimilar=int((y < 0).sum())
    )
    stats.update(pairs, y)
    assert relative_error(stats.A, 2 * A) <= 1e-12
    with pytest.raises(ValueError):
        stats.A[0, 0] = 1.0


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda s, X: s.update(np.zeros((4, 2, 3)), np.ones(4)), ValueError, "features"),
        (lambda s, X: s.update_indices(X, np.array([[0, 300]]), [1]), ValueError, "index"),
        (lambda s, X: s.update_indices(X, np.array([[0.0, 1.0]]), [1]), TypeError, "integer"),
        (lambda s, X: s.update_indices(X, np.zeros((0, 2), dtype=int), []), ValueError, "empty"),
        (lambda s, X: s.update_indices(X, np.array([[0, 1]]), [0]), ValueError, "-1"),
        (lambda s, X: s.merge(object()), TypeError, "PairStatistics"),
        (lambda s, X: s + PairStatistics(2), ValueError, "features"),
        (lambda s, X: PairStatistics(0), ValueError, "n_features"),
        (lambda s, X: PairStatistics(7, n_similar=-1), ValueError, "n_similar"),
        (lambda s, X: PairStatistics(2, A=-np.eye(2)), ValueError, "semidefinite"),
        (lambda s, X: PairStatistics(2, B=np.eye(3)), ValueError, "2 x 2"),
        (lambda s, X: PairStatistics(2, A=np.eye(2)), ValueError, "n_similar is 0"),
        (lambda s, X: PairStatistics(2, B=np.eye(2), n_similar=3), ValueError, "n_dissimilar"),
        (
            lambda s, X: PairStatistics(2, A=[[1.0, 0.5], [0.0, 1.0]], n_similar=1),
            ValueError,
            "symmetric",
        ),
    ],
)
def test_bad_input(data, call, error, match):
    X, _, _ = data
    with pytest.raises(error, match=match):
        call(PairStatistics(7), X)


def test_pairs_are_reduced_in_blocks(monkeypatch, rng):
    """Huge pair arrays go to the core block by block (so Ctrl-C lands between blocks); the sums
    and counts are those of one pass."""
    from advmetric import aml

    pairs, y = random_pairs(rng, 1001, 5)
    A_one, B_one = aml.pair_statistics(pairs, y)
    calls = []
    core_statistics = _core.pair_statistics

    def counting(*args):
        calls.append(len(args[0]))
        return core_statistics(*args)

    monkeypatch.setattr(_core, "pair_statistics", counting)
    monkeypatch.setattr(_backend, "BLOCK_VALUES", 2 * 5 * 100)  # 100 pairs a block
    A, B = aml.pair_statistics(pairs, y)
    stats = PairStatistics.from_pairs(pairs, y)
    assert calls == [100] * 10 + [1] + [100] * 10 + [1]
    assert relative_error(A, A_one) <= 1e-13 and relative_error(B, B_one) <= 1e-13
    np.testing.assert_array_equal(stats.A, A)
    assert (stats.n_similar, stats.n_dissimilar) == (int((y > 0).sum()), int((y < 0).sum()))
