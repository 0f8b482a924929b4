"""The protocol of the paper's Table 1 (Section 3.2) on data sets that ship with scikit-learn.

    python examples/table1.py                        # 20 splits, no metric-learn peers
    python examples/table1.py --peers                # also metric-learn's ITML and LMNN
    python examples/table1.py --splits 3 --datasets iris,wine --output /tmp/t1.md

Protocol. Data sets: load_breast_cancer (WDBC: d = 30, c = 2, n = 569), load_wine (13, 3, 178),
load_digits (64, 10, 1797) and load_iris (4, 3, 150). For each data set and each split
s = 0, ..., N-1 (N = ``--splits``, default 20):
``train_test_split(X, y, test_size=0.2, stratify=y, random_state=s)``, a ``StandardScaler``
fitted on the training part and applied to both parts, then each method is fitted on the
standardised training part and scored by the test error of
``KNeighborsClassifier(n_neighbors=5)`` fitted on the transformed training part:

* Euclidean: no metric learning (the standardised features);
* GMML: ``GMML_Supervised(random_state=s)``, ``1000 c (c - 1)`` sampled pairs;
* AML (alpha=1, beta=0.8): ``AML_Supervised(random_state=s)``, the defaults, not tuned;
* AML (tuned): ``AML_SupervisedCV(random_state=s)``: alpha and beta chosen on the training part
  only, by 5-fold ``StratifiedKFold`` (unshuffled) 5-NN accuracy over the paper's grid
  {1e-3, 1e-2, ..., 1e3} for both (49 points), then refitted on the whole training part with
  the same ``1000 c (c - 1)`` pairs; ties in CV accuracy go to the first grid point (smallest
  alpha, then smallest beta: the most GMML-like). Its fit time includes the search; the search
  alone is reported too;
* NCA: scikit-learn's ``NeighborhoodComponentsAnalysis(random_state=s)``, default settings;
* with ``--peers``: metric-learn 0.7.0's ``ITML_Supervised(random_state=s)`` and
  ``LMNN(n_neighbors=5, random_state=s)``, default settings otherwise (ITML samples its default
  ``20 c^2`` constraints). metric-learn 0.7.0 does not work with scikit-learn >= 1.8, so they
  run in a separate virtualenv (``--peers-venv``, default /tmp/advmetric-peers-venv, created on
  first use with ``python -m venv DIR && DIR/bin/pip install metric-learn==0.7.0
  "scikit-learn<1.8"``) on exactly the same standardised arrays, handed over in an .npz file.
  ``--peers-splits K`` runs them on the first K splits only (they are slow on digits).

Unlike the paper, which tuned every baseline, only AML (tuned) has its parameters chosen; the
other learners run with their defaults. Reported: mean ± std (ddof = 1) over the splits of the
test error and mean fit time per method and data set; a paired comparison of AML against GMML
per data set (wins / ties / losses over the splits on test error, mean difference AML - GMML,
two-sided Wilcoxon signed-rank p with ties dropped, two-sided sign-test p); the chosen
(alpha, beta); and the paper's numbers for the two related data sets (its Breast-Cancer is the
original UCI set, d = 9, n = 699, not WDBC; its MNIST, d = 784, n = 4000, has digits as a small
stand-in), which are therefore context, not a like-for-like comparison.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from _reporting import markdown_table, mean_std, paired_comparison, publish
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NeighborhoodComponentsAnalysis
from sklearn.preprocessing import StandardScaler

import advmetric
from advmetric import AML_Supervised, AML_SupervisedCV, GMML_Supervised
from advmetric._experiments import DEFAULT_PEERS_VENV, knn_error, run_peers
from advmetric._progress import progress

DATASETS = {
    "breast_cancer": load_breast_cancer,
    "wine": load_wine,
    "digits": load_digits,
    "iris": load_iris,
}
OURS = ("Euclidean", "GMML", "AML (alpha=1, beta=0.8)", "AML (tuned)", "NCA")
PEERS = ("ITML_Supervised", "LMNN")  # the names of advmetric._experiments.PEERS
RESULTS = Path(__file__).resolve().parent / "results"

# The paper's Table 1 for the data sets related to ours: (its data set, our stand-in, numbers).
PAPER = {
    "breast_cancer": (
        "Breast-Cancer (UCI original: d=9, n=699)",
        {"GMML": ".040 ± .015", "AML": ".044 ± .001", "ITML": ".073 ± .010", "LMNN": ".052 ± .012"},
    ),
    "digits": (
        "MNIST (d=784, n=4000)",
        {"GMML": ".120 ± .005", "AML": ".105 ± .001", "ITML": ".143 ± .023", "LMNN": ".174 ± .020"},
    ),
}
PAPER_TO_OURS = {"GMML": "GMML", "AML": "AML (tuned)", "ITML": "ITML_Supervised", "LMNN": "LMNN"}


def standardised_split(X, y, seed: int):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)  # statistics of the training part only
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def run_ours(name: str, n_splits: int, splits_store: dict, verbose: bool = False) -> dict:
    """Test errors and fit times of OURS on every split of one data set."""
    X, y = DATASETS[name](return_X_y=True)
    res = {
        m: {"error": np.empty(n_splits), "time": np.zeros(n_splits), "warnings": 0} for m in OURS
    }
    res["AML (tuned)"]["search_time"] = np.empty(n_splits)
    res["AML (tuned)"]["params"] = []
    for s in progress(range(n_splits), total=n_splits, desc=f"{name} splits", verbose=verbose):
        X_train, X_test, y_train, y_test = standardised_split(X, y, s)
        splits_store[(name, s)] = (X_train, X_test, y_train, y_test)
        learners = {
            "GMML": GMML_Supervised(random_state=s),
            "AML (alpha=1, beta=0.8)": AML_Supervised(random_state=s),
            "AML (tuned)": AML_SupervisedCV(random_state=s, cv=5),
            "NCA": NeighborhoodComponentsAnalysis(random_state=s),
        }
        res["Euclidean"]["error"][s] = knn_error(X_train, y_train, X_test, y_test)
        for method, learner in learners.items():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                start = time.perf_counter()
                learner.fit(X_train, y_train)
                res[method]["time"][s] = time.perf_counter() - start
            res[method]["warnings"] += sum(
                issubclass(w.category, ConvergenceWarning) for w in caught
            )
            res[method]["error"][s] = knn_error(
                learner.transform(X_train), y_train, learner.transform(X_test), y_test
            )
        tuned = learners["AML (tuned)"]
        res["AML (tuned)"]["search_time"][s] = tuned.search_time_
        res["AML (tuned)"]["params"].append(
            (tuned.best_params_["alpha"], tuned.best_params_["beta"])
        )
        print(f"{name}: split {s + 1}/{n_splits} done", file=sys.stderr, flush=True)
    res["shape"] = (X.shape[1], len(np.unique(y)), X.shape[0])
    return res


def seconds(values) -> str:
    value = float(np.mean(values))
    return f"{value * 1e3:.1f} ms" if value < 1 else f"{value:.2f} s"


def paired(ours, theirs) -> list[str]:
    c = paired_comparison(ours, theirs)
    return [
        f"{c['wins']} / {c['ties']} / {c['losses']}",
        f"{c['mean_diff']:+.4f}",
        f"{c['wilcoxon_p']:.3g}",
        f"{c['sign_p']:.3g}",
    ]


def counts(values) -> str:
    return ", ".join(f"{v:g} (x{n})" for v, n in sorted(collections.Counter(values).items()))


def add_peers(results: dict, records: list[dict]) -> None:
    """Put the peers' successful fits into ``results`` beside ours, split by split."""
    for k, res in results.items():
        for method in PEERS:
            done = [r for r in records if r["key"] == k and r["method"] == method]
            done = sorted((r for r in done if "error" in r), key=lambda r: r["seed"])
            res[method] = {
                "error": np.array([r["error"] for r in done]),
                "time": np.array([r["time"] for r in done]),
                "splits": [r["seed"] for r in done],
            }


def report(args, names, results, records, peer_note, elapsed) -> list[str]:
    n = args.splits
    command = f"python examples/table1.py --splits {n} --datasets {','.join(names)}"
    if args.peers:
        command += f" --peers --peers-splits {args.peers_splits}"
    columns = [f"{k} (d={d}, c={c}, n={m})" for k in names for d, c, m in [results[k]["shape"]]]
    methods = [*OURS, *(PEERS if args.peers else ())]

    def error_cell(k, method):
        errors = results[k][method]["error"]
        if errors.size == 0:
            return "not run"
        return mean_std(errors) + (f" ({errors.size} splits)" if errors.size != n else "")

    def time_cell(k, method, key="time"):
        values = results[k][method][key]
        return seconds(values) if len(values) else "-"

    lines = [
        "# Table 1 protocol on scikit-learn's data sets",
        "",
        f"`{command}`: {n} stratified 80/20 splits (random_state 0..{n - 1}) per data set, "
        "StandardScaler fitted on the training part, 1000 c (c - 1) sampled pairs, 5-NN test "
        "error, mean ± std over splits. AML (tuned): alpha, beta by 5-fold CV on the training "
        "part over {1e-3, ..., 1e3}^2. Other learners: default settings.",
        f"advmetric {advmetric.__version__}, scikit-learn {sklearn.__version__}.",
        "",
        "## 5-NN test error",
        "",
        *markdown_table(
            ["method", *columns], [[m, *(error_cell(k, m) for k in names)] for m in methods]
        ),
        "",
        "## Mean fit time per split",
        "",
    ]
    rows = []
    for method in methods[1:]:  # Euclidean fits nothing
        rows.append([method, *(time_cell(k, method) for k in names)])
        if method == "AML (tuned)":
            search = [time_cell(k, method, "search_time") for k in names]
            rows.append(["  of which the 49-point x 5-fold search", *search])
    lines += markdown_table(["method", *columns], rows)

    lines += ["", "## Paired comparison of test errors over splits (difference = AML - GMML)", ""]
    rows = [
        [k, method, *paired(results[k][method]["error"], results[k]["GMML"]["error"])]
        for k in names
        for method in ("AML (tuned)", "AML (alpha=1, beta=0.8)")
    ]
    header = ["data set", "AML", "wins / ties / losses", "mean difference", "Wilcoxon p", "sign p"]
    lines += markdown_table(header, rows)

    lines += ["", "## alpha and beta chosen by AML_SupervisedCV (value (x number of splits))", ""]
    rows = []
    for k in names:
        params = results[k]["AML (tuned)"]["params"]
        rows.append([k, counts(a for a, _ in params), counts(b for _, b in params)])
    lines += markdown_table(["data set", "alpha", "beta"], rows)

    lines += ["", "## Beside the paper's Table 1 (related data sets, not the same ones)", ""]
    rows = []
    for k, (theirs, numbers) in PAPER.items():
        if k in names:
            for paper_name, value in numbers.items():
                method = PAPER_TO_OURS[paper_name]
                ours = error_cell(k, method) if method in results[k] else "not run"
                rows.append([f"{k} (ours) / {theirs}", paper_name, ours, value])
    lines += markdown_table(["data set: ours / the paper's", "method", "ours", "paper"], rows)
    scale = ", ".join(
        f"{k} 1/{int(np.ceil(0.2 * results[k]['shape'][2]))}" for k in names if k in PAPER
    )
    lines += [
        "",
        f"For scale, one test error is {scale} on our test parts; 1/140 = .0071 on the paper's "
        "Breast-Cancer and 1/800 = .0013 on its MNIST test parts (20% of n = 699 and 4000).",
    ]

    notes = []
    for k in names:
        for method in OURS:
            if results[k][method]["warnings"]:
                count = results[k][method]["warnings"]
                notes.append(f"{k}, {method}: {count} ConvergenceWarning(s) over {n} splits")
    if not args.peers:
        notes.append("metric-learn peers (ITML_Supervised, LMNN) not run: use --peers")
    else:
        if records:
            versions = ", ".join(sorted({r["versions"] for r in records}))
            subset = " only, to keep the run short (their fit times are above)" * (
                args.peers_splits < n
            )
            notes.append(
                f"peers ran in {args.peers_venv} ({versions}) on splits "
                f"0..{args.peers_splits - 1}{subset}"
            )
        for r in records:
            if "failure" in r:
                notes.append(
                    f"peer failed: {r['key']} split {r['seed']} {r['method']}: {r['failure']}"
                )
        if peer_note:
            notes.append(f"metric-learn peers not (all) available: {peer_note}")
        if records and args.peers_splits < n:
            for k in names:
                same = slice(0, args.peers_splits)
                ours = ", ".join(
                    f"{m} {mean_std(results[k][m]['error'][same])}"
                    for m in ("GMML", "AML (tuned)", "NCA")
                )
                notes.append(f"on the peers' {args.peers_splits} splits, {k}: {ours}")
    wall = f"Wall time {elapsed['ours']:.0f} s for advmetric, Euclidean and NCA"
    if "peers" in elapsed:
        wall += f", {elapsed['peers']:.0f} s for the peers (including any virtualenv set-up)"
    notes.append(wall + ".")
    lines += ["", "## Notes", "", *(f"* {note}" for note in notes)]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--splits", type=int, default=20, help="random 80/20 splits (20)")
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated subset")
    parser.add_argument("--peers", action="store_true", help="also metric-learn ITML and LMNN")
    parser.add_argument(
        "--peers-splits", type=int, default=None, help="peers on the first K splits"
    )
    parser.add_argument("--peers-venv", type=Path, default=DEFAULT_PEERS_VENV)
    parser.add_argument("--output", type=Path, default=RESULTS / "table1.md")
    parser.add_argument("--verbose", action="store_true", help="report progress per split")
    args = parser.parse_args(argv)
    names = args.datasets.split(",")
    unknown = [k for k in names if k not in DATASETS]
    if unknown:
        parser.error(f"unknown data sets {unknown}; choose from {list(DATASETS)}")
    if args.splits < 2:
        parser.error("--splits must be at least 2")
    args.peers_splits = (
        args.splits if args.peers_splits is None else min(args.peers_splits, args.splits)
    )

    start = time.perf_counter()
    splits_store = {}
    results = {k: run_ours(k, args.splits, splits_store, args.verbose) for k in names}
    elapsed = {"ours": time.perf_counter() - start}
    records, peer_note = [], ""
    if args.peers:
        start = time.perf_counter()
        jobs = {(k, s): splits_store[k, s] for k in names for s in range(args.peers_splits)}
        records, peer_note = run_peers(args.peers_venv, jobs)
        elapsed["peers"] = time.perf_counter() - start
        add_peers(results, records)

    publish(report(args, names, results, records, peer_note, elapsed), args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
