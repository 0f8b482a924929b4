"""The paper's synthetic experiment (Section 3.1, Fig. 3) repeated over many seeds.

    python examples/synthetic_seeds.py                   # seeds 0..19
    python examples/synthetic_seeds.py --seeds 5 --output /tmp/synthetic.md

Protocol. For each seed s = 0, ..., N-1 (N = ``--seeds``, default 20),
``advmetric.demo.run_demo(seed=s, alpha, beta)`` draws the demo's data set with seed s (two
10-dimensional Gaussian classes, 200 training examples cleanly separated, 200 test examples whose
class means are closer so that they overlap; see ``advmetric.demo.make_synthetic``), fits
``GMML_Supervised(random_state=s)`` and ``AML_Supervised(alpha, beta, random_state=s)`` (default
``1000 c (c - 1)`` = 2,000 sampled pairs; alpha = 1, beta = 0.8 unless given) and measures, for
the Euclidean metric and both learned metrics,

* test error: 5-NN trained on the 200 training examples, evaluated on the 200 test examples;
* train error: leave-one-out 5-NN error on the training examples.

Reported: mean and standard deviation (ddof = 1) over the seeds of both errors per method; for AML
against GMML and against Euclidean, the number of seeds where AML's test error is lower (win),
equal (tie) or higher (loss), the mean paired difference of test errors (AML minus the other;
negative favours AML), the two-sided Wilcoxon signed-rank p-value (``scipy.stats.wilcoxon``,
ties dropped) and the two-sided sign-test p-value (``scipy.stats.binomtest`` on wins among
wins + losses). The per-seed errors are listed at the end. No parameter was tuned on these seeds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from _reporting import markdown_table, mean_std, paired_comparison, publish

from advmetric._progress import progress
from advmetric.demo import run_demo

METHODS = ("Euclidean", "GMML", "AML")
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "synthetic_seeds.md"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--verbose", action="store_true", help="report progress per seed")
    parser.add_argument("--seeds", type=int, default=20, help="number of seeds 0..N-1 (20)")
    parser.add_argument("--alpha", type=float, default=1.0, help="AML's alpha (default 1.0)")
    parser.add_argument("--beta", type=float, default=0.8, help="AML's beta (default 0.8)")
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help=f"markdown report ({DEFAULT_OUTPUT})"
    )
    args = parser.parse_args(argv)
    if args.seeds < 2:
        parser.error("--seeds must be at least 2")

    start = time.perf_counter()
    train = {name: [] for name in METHODS}
    test = {name: [] for name in METHODS}
    fit_ms = {name: [] for name in METHODS}
    notes = []
    for seed in progress(range(args.seeds), total=args.seeds, desc="seeds", verbose=args.verbose):
        results = run_demo(
            seed=seed, alpha=args.alpha, beta=args.beta, output=None, timing_repeats=1
        )
        for name in METHODS:
            train[name].append(results[name]["train_error"])
            test[name].append(results[name]["test_error"])
            fit_ms[name].append(results[name]["fit_ms"])
            if results[name]["note"]:
                notes.append(f"seed {seed}, {name}: {results[name]['note']}")
    elapsed = time.perf_counter() - start

    lines = [
        "# Synthetic experiment (Section 3.1) over seeds",
        "",
        f"`python examples/synthetic_seeds.py --seeds {args.seeds} --alpha {args.alpha:g} "
        f"--beta {args.beta:g}`: seeds 0..{args.seeds - 1}, 200 training / 200 test examples "
        f"per seed, AML alpha = {args.alpha:g}, beta = {args.beta:g}, 2,000 sampled pairs, "
        "5-NN. Mean ± std (ddof = 1) over seeds.",
        "",
    ]
    rows = [
        [
            name,
            mean_std(train[name]),
            mean_std(test[name]),
            "-" if name == "Euclidean" else f"{np.median(fit_ms[name]):.1f}",
        ]
        for name in METHODS
    ]
    lines += markdown_table(
        ["method", "train error (leave-one-out)", "test error", "median fit ms"], rows
    )
    lines += ["", "Paired comparison of test errors over seeds (difference = AML - other):", ""]
    rows = []
    for other in ("GMML", "Euclidean"):
        c = paired_comparison(test["AML"], test[other])
        rows.append(
            [
                f"AML vs {other}",
                f"{c['wins']} / {c['ties']} / {c['losses']}",
                f"{c['mean_diff']:+.4f}",
                f"{c['wilcoxon_p']:.3g}",
                f"{c['sign_p']:.3g}",
            ]
        )
    lines += markdown_table(
        ["comparison", "AML wins / ties / losses", "mean difference", "Wilcoxon p", "sign p"],
        rows,
    )
    lines += ["", "Per-seed test errors:", ""]
    rows = [[seed, *(f"{test[name][seed]:.3f}" for name in METHODS)] for seed in range(args.seeds)]
    lines += markdown_table(["seed", *METHODS], rows)
    lines += [""] + [f"note: {note}" for note in notes]
    lines.append(f"Wall time {elapsed:.1f} s.")

    publish(lines, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
