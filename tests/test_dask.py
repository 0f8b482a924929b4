"""advmetric.dask on a real LocalCluster of worker processes (loopback)."""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest
from conftest import relative_error
from distributed import Client, LocalCluster

from advmetric.dask import pair_statistics, pair_statistics_indices
from advmetric.statistics import PairStatistics


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((2000, 12))
    index = rng.integers(0, 2000, size=(40_000, 2))
    y = np.where(rng.random(40_000) < 0.5, 1, -1)
    return X, index, y


def assert_same(stats: PairStatistics, expected: PairStatistics):
    assert relative_error(stats.A, expected.A) <= 1e-12
    assert relative_error(stats.B, expected.B) <= 1e-12
    assert stats.n_similar == expected.n_similar
    assert stats.n_dissimilar == expected.n_dissimilar


def test_pairs_on_a_cluster_equal_in_memory(client, data):
    X, index, y = data
    pairs = X[index]
    expected = PairStatistics.from_pairs(pairs, y)
    result = pair_statistics(da.from_array(pairs, chunks=(3_000, 2, 12)), y, split_every=3)
    assert_same(client.compute(result).result(), expected)


def test_indices_on_a_cluster_equal_in_memory(client, data):
    X, index, y = data
    expected = PairStatistics.from_indices(X, index, y)
    result = pair_statistics_indices(X, da.from_array(index, chunks=(7_000, 2)), da.from_array(y))
    assert_same(client.compute(result).result(), expected)


def test_dask_X_on_a_cluster_equals_in_memory(client, data):
    X, index, y = data
    expected = PairStatistics.from_indices(X, index, y)
    X_dask = da.from_array(X, chunks=(300, 5))  # assembled whole on a worker
    result = pair_statistics_indices(X_dask, da.from_array(index, chunks=(7_000, 2)), y)
    assert_same(client.compute(result).result(), expected)


def test_local_scheduler_and_uneven_chunks(data):
    X, index, y = data
    expected = PairStatistics.from_indices(X, index[:9_999], y[:9_999])
    pairs = da.from_array(X[index[:9_999]], chunks=(1_234, 1, 6))  # rechunked inside
    with dask.config.set(scheduler="synchronous"):
        assert_same(pair_statistics(pairs, y[:9_999]).compute(), expected)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda X, i, y: pair_statistics(da.zeros((5, 3, 2)), np.ones(5)), ValueError),
        (lambda X, i, y: pair_statistics(da.zeros((5, 2, 2)), np.ones(4)), ValueError),
        (lambda X, i, y: pair_statistics_indices(da.zeros((5, 2, 2)), i, y), ValueError),
        (lambda X, i, y: pair_statistics_indices(X, i[:, :1], y), ValueError),
        (
            lambda X, i, y: pair_statistics(da.zeros((5, 2, 2)), np.ones(5), split_every=1),
            ValueError,
        ),
    ],
)
def test_bad_input(data, call, error):
    X, index, y = data
    with pytest.raises(error):
        call(X, index, y)
