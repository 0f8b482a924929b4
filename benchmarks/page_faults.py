"""How much of a repeated ``aml.solve`` is the kernel handing out fresh memory (Linux, glibc).

    python benchmarks/page_faults.py             # d = 64, 256, 784; about three minutes
    python benchmarks/page_faults.py --d 64 256  # some sizes

Each solve allocates its working set (the solver's d x d matrices, the Hessian's d x 6d blocks,
LAPACK workspaces) and frees it on return; glibc then gives the top of the heap back to the
kernel (its trim threshold), so the next solve touches fresh pages again, one minor page fault
per 4 KiB. This script runs the same solves in child processes, alternately with glibc's
defaults and with ``MALLOC_TOP_PAD_`` (free heap kept between solves) and
``MALLOC_MMAP_THRESHOLD_`` (setting the pad switches off glibc's adaptive mmap threshold, after
which a block of 128 KiB or more that the heap cannot serve is mapped afresh), and prints per
solve: wall time (the best round of all children of a setting, each round the mean over a
batch), minor page faults (``getrusage``, the fewest over rounds), and the ratio of the two
times. The children of the two settings take turns (``--children`` each), so a change in the
machine's load reaches both. Both settings are process-wide, so they are the user's choice, not
the library's (docs/performance.md). Above d = 836 the Hessian's d x 6d blocks exceed glibc's
largest mmap threshold (32 MiB) and are mapped afresh in every solve whatever the settings.
The default solver, default settings; A, B = X^T X of 4d Gaussian rows as in compare.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
from advmetric import aml
from advmetric._testing import random_scatter
d, batch, rounds = (int(a) for a in sys.argv[1:4])
A, B = random_scatter(d, d)
aml.solve(A, B, 1.0, 0.8)  # warm-up: imports, thread pools, glibc's adaptive thresholds
best, faults = float("inf"), []
for _ in range(rounds):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.perf_counter()
    for _ in range(batch):
        aml.solve(A, B, 1.0, 0.8)
    best = min(best, (time.perf_counter() - start) / batch)
    faults.append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / batch)
print(json.dumps({"ms": best * 1e3, "faults": min(faults)}))
"""

# Solves per batch and batches per child, by dimension: up to about 10 s per child on 2 cores.
SCHEDULE = {16: (400, 2), 64: (200, 2), 256: (20, 2), 784: (2, 2), 1024: (1, 2)}


def run(d: int, env_extra: dict[str, str]) -> dict[str, float]:
    batch, rounds = SCHEDULE.get(d, (max(1, 2_000_000 // d**2), 2))
    # glibc's defaults for the baseline, whatever the caller's environment sets
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_TUNABLES"))}
    env.update(env_extra)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(d), str(batch), str(rounds)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, nargs="+", default=[64, 256, 784])
    parser.add_argument(
        "--pad", default=str(512 << 20), help="MALLOC_TOP_PAD_ in bytes for the second run"
    )
    parser.add_argument(
        "--mmap-threshold",
        default=str(32 << 20),
        help="MALLOC_MMAP_THRESHOLD_ in bytes for the second run (glibc's largest: 32 MiB)",
    )
    parser.add_argument(
        "--children", type=int, default=3, help="child processes per setting, taking turns"
    )
    args = parser.parse_args()
    if not sys.platform.startswith("linux"):
        sys.exit("glibc's heap trimming and its MALLOC_ tunables are Linux-specific")
    print("   per solve: best-of-rounds wall time, fewest minor page faults (getrusage); glibc's")
    print(f"   defaults vs MALLOC_TOP_PAD_={args.pad} (free heap kept between solves) with")
    print(f"   MALLOC_MMAP_THRESHOLD_={args.mmap_threshold}")
    tuned = {"MALLOC_TOP_PAD_": args.pad, "MALLOC_MMAP_THRESHOLD_": args.mmap_threshold}
    header = ("d", "default ms", "faults", "tuned ms", "faults", "default / tuned")
    print("  ".join(f"{h:>12}" for h in header))
    for d in args.d:
        runs = {"plain": [], "padded": []}
        for _ in range(args.children):
            runs["plain"].append(run(d, {}))
            runs["padded"].append(run(d, tuned))
        plain, padded = (
            {key: min(r[key] for r in runs[name]) for key in ("ms", "faults")}
            for name in ("plain", "padded")
        )
        row = (
            d,
            f"{plain['ms']:.3f}",
            f"{plain['faults']:.0f}",
            f"{padded['ms']:.3f}",
            f"{padded['faults']:.0f}",
            f"{plain['ms'] / padded['ms']:.2f}",
        )
        print("  ".join(f"{v:>12}" for v in row), flush=True)
    print(f"   load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
