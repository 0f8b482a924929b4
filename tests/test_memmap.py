"""Pairs in a memory-mapped file larger than the working memory a fit may take.

``fit``, ``calibrate_threshold``, ``pair_distance`` and ``score`` read a ``numpy.memmap`` of pairs
block by block: the memory they allocate stays a block of pairs plus a few numbers per pair,
whatever the size of the file. numpy reports its allocations to tracemalloc, so the peak traced
memory is what these calls allocate (the mapped file's pages are not allocations).
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from advmetric import AML, GMML

N_PAIRS, D = 400_000, 32  # a 205 MB file
BLOCK_BUDGET = 48 * 2**20  # a block of pairs or differences, with room to spare
PER_PAIR = 40  # bytes per pair: labels as given and as int8, distances, the calibration's sorts


@pytest.fixture(scope="module")
def mapped_pairs(tmp_path_factory):
    path = tmp_path_factory.mktemp("memmap") / "pairs.f64"
    pairs = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(N_PAIRS, 2, D))
    rng = np.random.default_rng(0)
    step = 100_000
    for start in range(0, N_PAIRS, step):
        block = rng.standard_normal((step, 2, D))
        block[::2, 1] = block[::2, 0] + 0.1 * rng.standard_normal((step // 2, D))
        pairs[start : start + step] = block
    pairs.flush()
    del pairs
    y = np.where(np.arange(N_PAIRS) % 2 == 0, 1, -1)
    return np.load(path, mmap_mode="r"), y


def _peak_allocated(function) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("learner", [AML, GMML])
def test_memmapped_pairs_are_read_block_by_block(mapped_pairs, learner):
    pairs, y = mapped_pairs
    budget = BLOCK_BUDGET + PER_PAIR * N_PAIRS
    model = learner()
    assert _peak_allocated(lambda: model.fit(pairs, y)) <= budget
    assert _peak_allocated(lambda: model.calibrate_threshold(pairs, y)) <= budget
    assert _peak_allocated(lambda: model.pair_distance(pairs)) <= budget
    assert _peak_allocated(lambda: model.score(pairs, y)) <= budget
    # and the answers are those of the same pairs in memory
    head = np.array(pairs[:1000])
    np.testing.assert_allclose(model.pair_distance(pairs)[:1000], model.pair_distance(head))
    assert 0.5 < model.score(pairs, y) <= 1.0


def test_the_measurement_sees_a_copy_of_the_pairs(mapped_pairs):
    """The budget is tight enough that materialising the differences would fail it."""
    pairs, _ = mapped_pairs
    peak = _peak_allocated(lambda: np.asarray(pairs[:, 0] - pairs[:, 1]))
    assert peak > BLOCK_BUDGET + PER_PAIR * N_PAIRS
