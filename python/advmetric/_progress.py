"""Progress reports for long work, in one place: a tqdm bar when tqdm is installed, otherwise one
log line per step on stderr. Silent unless the caller's ``verbose`` is set."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], *, total: int | None, desc: str, verbose) -> Iterator[T]:
    """Yield ``items`` unchanged, reporting each step when ``verbose`` is truthy."""
    if not verbose:
        yield from items
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None:
        yield from tqdm(items, total=total, desc=desc, file=sys.stderr)
        return
    start = time.perf_counter()
    of_total = f"/{total}" if total is not None else ""
    for step, item in enumerate(items, 1):
        yield item
        elapsed = time.perf_counter() - start
        print(f"[{desc}] {step}{of_total} done in {elapsed:.2f} s", file=sys.stderr, flush=True)


def dask_progress(verbose):
    """Context for a Dask computation: Dask's own progress bar (local schedulers) when
    ``verbose`` is truthy."""
    if not verbose:
        return contextlib.nullcontext()
    from dask.diagnostics import ProgressBar

    return ProgressBar(out=sys.stderr)
