"""Fit AML on more pairs than fit in memory: stream them from a memory-mapped file.

    python examples/stream_pairs.py                       # 10^8 pairs at d = 32
    python examples/stream_pairs.py --pairs 1e6 --dask    # small run, also through Dask

The script writes a data set to a scratch directory: ``X.npy`` (the examples, float64,
(n_samples, d)) and ``pairs.npy`` (the pairs as row indices into X, int32, (n_pairs, 2)) plus
``labels.npy`` (int8), in a child process. Storing a pair as two row indices takes 8 bytes
instead of 2 d float64 values (512 bytes at d = 32), which keeps 10^8 pairs at 800 MB on disk; the
statistics are formed from X and the indices in the compiled core, chunk by chunk (chunks are read,
not memory-mapped), so memory stays bounded by X and the chunk.
It then

1. accumulates :class:`advmetric.PairStatistics` over chunks of the memory-mapped file,
2. fits :class:`advmetric.AML` from the statistics, and
3. with ``--dask``, computes the same statistics with a ``dask.distributed.LocalCluster`` of two
   worker processes and checks that they agree.

Peak memory is the resident-set high-water mark of this process (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from advmetric import AML, PairStatistics
from advmetric._progress import progress


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_dataset(folder: Path, n_pairs: int, d: int, n_samples: int, seed: int, chunk: int):
    """Examples from two Gaussian classes; pairs are random row pairs, labelled by class."""
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, 2, size=n_samples)
    X = rng.standard_normal((n_samples, d)) + 1.5 * classes[:, None] * (np.arange(d) < 4)
    np.save(folder / "X.npy", X)
    pairs = np.lib.format.open_memmap(
        folder / "pairs.npy", mode="w+", dtype=np.int32, shape=(n_pairs, 2)
    )
    labels = np.lib.format.open_memmap(
        folder / "labels.npy", mode="w+", dtype=np.int8, shape=(n_pairs,)
    )
    for start in range(0, n_pairs, chunk):
        stop = min(start + chunk, n_pairs)
        index = rng.integers(0, n_samples, size=(stop - start, 2), dtype=np.int32)
        pairs[start:stop] = index
        labels[start:stop] = np.where(classes[index[:, 0]] == classes[index[:, 1]], 1, -1)
    pairs.flush()
    labels.flush()
    del pairs, labels


def _read_rows(path: str, start: int, stop: int) -> np.ndarray:
    """Rows [start, stop) of a .npy file, read (not mapped), so memory is the chunk's only."""
    with open(path, "rb") as f:
        major, _ = np.lib.format.read_magic(f)
        read_header = (
            np.lib.format.read_array_header_1_0
            if major == 1
            else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read_header(f)
        row_items = int(np.prod(shape[1:], dtype=np.int64))
        f.seek(f.tell() + start * row_items * dtype.itemsize)
        rows = np.fromfile(f, dtype=dtype, count=(stop - start) * row_items)
    return rows.reshape((stop - start, *shape[1:]))


def stream_statistics(folder: Path, chunk: int, verbose: bool = False) -> PairStatistics:
    X = np.load(folder / "X.npy")
    n_pairs = np.load(folder / "labels.npy", mmap_mode="r").shape[0]
    stats = PairStatistics(X.shape[1])
    starts = range(0, n_pairs, chunk)
    for start in progress(starts, total=len(starts), desc="chunks", verbose=verbose):
        stop = min(start + chunk, n_pairs)
        pairs = _read_rows(str(folder / "pairs.npy"), start, stop)
        labels = _read_rows(str(folder / "labels.npy"), start, stop)
        stats.update_indices(X, pairs, labels)
    return stats


def dask_statistics(folder: Path, chunk: int) -> tuple[PairStatistics, float, dict]:
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster

    from advmetric.dask import pair_statistics_indices

    X_header = np.load(folder / "X.npy", mmap_mode="r")
    # X as a dask array read by a worker, so that it never passes through this process
    X = da.from_delayed(
        dask.delayed(np.load)(str(folder / "X.npy")), shape=X_header.shape, dtype=X_header.dtype
    )
    n_pairs = np.load(folder / "labels.npy", mmap_mode="r").shape[0]
    ranges = [(start, min(start + chunk, n_pairs)) for start in range(0, n_pairs, chunk)]

    def lazy(name, shape_tail, dtype):
        # each block is read from the file by the worker that needs it: no data in the graph
        blocks = [
            da.from_delayed(
                dask.delayed(_read_rows)(str(folder / name), start, stop),
                shape=(stop - start, *shape_tail),
                dtype=dtype,
            )
            for start, stop in ranges
        ]
        return da.concatenate(blocks)

    pairs, labels = lazy("pairs.npy", (2,), np.int32), lazy("labels.npy", (), np.int8)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            start = time.perf_counter()
            stats = client.compute(pair_statistics_indices(X, pairs, labels)).result()
            elapsed = time.perf_counter() - start
            worker_peaks = client.run(peak_rss_mb)  # {worker address: MB}
            return stats, elapsed, worker_peaks


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=float, default=1e8, help="number of pairs (default 1e8)")
    parser.add_argument("--dim", type=int, default=32, help="number of features (default 32)")
    parser.add_argument("--samples", type=int, default=1_000_000, help="rows of X")
    parser.add_argument("--chunk", type=int, default=2_000_000, help="pairs per chunk")
    parser.add_argument("--dask", action="store_true", help="also run on a Dask LocalCluster")
    parser.add_argument("--verbose", action="store_true", help="report progress per chunk")
    parser.add_argument("--dir", default=None, help="scratch directory (default: a temporary one)")
    args = parser.parse_args(argv)
    n_pairs = int(args.pairs)

    with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
        folder = Path(scratch)
        start = time.perf_counter()
        # written by a child process, so that this one's peak memory is the streaming fit's
        writer = multiprocessing.get_context("spawn").Process(
            target=write_dataset,
            args=(folder, n_pairs, args.dim, args.samples, 0, args.chunk),
        )
        writer.start()
        writer.join()
        print(f"wrote {n_pairs:.3g} pairs (d = {args.dim}) in {time.perf_counter() - start:.1f} s")
        base = peak_rss_mb()

        start = time.perf_counter()
        stats = stream_statistics(folder, args.chunk, args.verbose)
        t_stats = time.perf_counter() - start
        start = time.perf_counter()
        model = AML().fit_statistics(stats)
        t_fit = time.perf_counter() - start
        print(
            f"streamed statistics: {t_stats:.1f} s; AML fit from them: {1e3 * t_fit:.1f} ms "
            f"({model.n_iter_} iterations, converged {model.converged_})"
        )
        peak = peak_rss_mb()
        print(
            f"peak RSS of the streaming fit: {peak:.0f} MB (before it: {base:.0f} MB; "
            f"under 1 GB: {peak < 1024})"
        )

        if args.dask:
            dask_stats, t_dask, worker_peaks = dask_statistics(folder, args.chunk)
            difference = max(
                np.abs(dask_stats.A - stats.A).max() / np.abs(stats.A).max(),
                np.abs(dask_stats.B - stats.B).max() / np.abs(stats.B).max(),
            )
            same_counts = (dask_stats.n_similar, dask_stats.n_dissimilar) == (
                stats.n_similar,
                stats.n_dissimilar,
            )
            print(
                f"Dask LocalCluster (2 worker processes): {t_dask:.1f} s, "
                f"{t_dask / t_stats:.2f}x the in-process time; max relative difference "
                f"{difference:.1e}, same counts: {same_counts}"
            )
            peaks = ", ".join(f"{mb:.0f}" for mb in worker_peaks.values())
            print(f"peak RSS of the workers: {peaks} MB; of this process: {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
