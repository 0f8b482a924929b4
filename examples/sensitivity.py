"""Sensitivity of AML to alpha and beta (Section 3.4, Fig. 5) on scikit-learn's digits.

    python examples/sensitivity.py                      # 5 splits, table + two-panel PNG
    python examples/sensitivity.py --splits 2 --no-plot

The paper uses MNIST (d = 784, n = 4000); digits (8 x 8 images, d = 64, n = 1797, 10 classes)
is the small stand-in that ships with scikit-learn, so the numbers are not comparable, only the
shapes of the curves.

Protocol. For each split s = 0, ..., N-1 (N = ``--splits``, default 5):
``train_test_split(X, y, test_size=0.2, stratify=y, random_state=s)`` (the 80/20 splits of the
paper's Section 3.2, whose MNIST runs Fig. 5 reuses), a ``StandardScaler`` fitted on the training
part and applied to both parts, then for every value below
``AML_Supervised(alpha, beta, random_state=s)`` with the default ``1000 c (c - 1)`` = 90,000
sampled pairs (the same pairs for every value of a split) is fitted on the training part and
scored by

* train error: leave-one-out 5-NN error on the (transformed) training part, each example's own
  vote excluded, ties to the smaller label as in ``KNeighborsClassifier``;
* test error: ``KNeighborsClassifier(n_neighbors=5)`` fitted on the training part, error on the
  test part.

Values: alpha in {0, 1e-3, 1e-2, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.2, 1.5, 1.8, 10, 100, 1000} with
beta = 1 (Fig. 5(a); alpha = 0 is GMML), and beta in {1e-3, 1e-2, 0.1, 0.2, ..., 2.0, 10, 100,
1000} with alpha = 1 (Fig. 5(b)). Tables give mean ± std (ddof = 1) over the splits; the PNG
plots the means with a band of ± one std. The script then checks the paper's two observations:
on alpha in (0, 1] the train error rises and the test error falls as alpha grows (Spearman rank
correlation of alpha with the mean errors, and the paired change from alpha = 1e-3 to alpha = 1),
and beta ~ 0.8 gives the lowest test error with little change around it.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _reporting import markdown_table, mean_std, publish
from scipy import stats
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from sklearn.preprocessing import StandardScaler

from advmetric import AML_Supervised
from advmetric._progress import progress

N_NEIGHBORS = 5
ALPHAS = (0.0, 1e-3, 1e-2, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.5, 1.8, 10.0, 100.0, 1000.0)
BETAS = (1e-3, 1e-2, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 10.0, 100.0, 1000.0)
BETA_FOR_ALPHA_SWEEP, ALPHA_FOR_BETA_SWEEP = 1.0, 1.0
RESULTS = Path(__file__).resolve().parent / "results"


def leave_one_out_knn_error(Z: np.ndarray, y: np.ndarray, k: int = N_NEIGHBORS) -> float:
    """k-NN error of each training example predicted from the other training examples."""
    _, neighbours = NearestNeighbors(n_neighbors=k).fit(Z).kneighbors()  # query excluded
    _, codes = np.unique(y, return_inverse=True)
    votes = np.zeros((len(y), codes.max() + 1), dtype=np.int64)
    np.add.at(votes, (np.arange(len(y))[:, None], codes[neighbours]), 1)
    return float(np.mean(votes.argmax(axis=1) != codes))  # argmax: smaller label on ties


def holdout_error(Z_train, y_train, Z_test, y_test) -> float:
    knn = KNeighborsClassifier(n_neighbors=N_NEIGHBORS).fit(Z_train, y_train)
    return float(np.mean(knn.predict(Z_test) != y_test))


def settings() -> list[tuple[str, float, float]]:
    """(sweep, alpha, beta) for every fit of a split, the alpha sweep first."""
    return [("alpha", a, BETA_FOR_ALPHA_SWEEP) for a in ALPHAS] + [
        ("beta", ALPHA_FOR_BETA_SWEEP, b) for b in BETAS
    ]


def run(n_splits: int, verbose: bool = False) -> dict:
    """Errors of every setting on every split: arrays of shape (n_settings, n_splits)."""
    X, y = load_digits(return_X_y=True)
    grid = settings()
    shape = (len(grid), n_splits)
    out = {
        "train": np.empty(shape),
        "test": np.empty(shape),
        "n_iter": np.empty(shape),
        "not_converged": np.zeros(len(grid), dtype=int),
        "euclid_train": np.empty(n_splits),
        "euclid_test": np.empty(n_splits),
    }
    for s in progress(range(n_splits), total=n_splits, desc="splits", verbose=verbose):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.2, stratify=y, random_state=s
        )
        scaler = StandardScaler().fit(X_train)  # statistics of the training part only
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        out["euclid_train"][s] = leave_one_out_knn_error(X_train, y_train)
        out["euclid_test"][s] = holdout_error(X_train, y_train, X_test, y_test)
        for i, (_, alpha, beta) in enumerate(grid):
            model = AML_Supervised(alpha=alpha, beta=beta, random_state=s)
            with warnings.catch_warnings():
                # counted below from converged_, not printed once per fit
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X_train, y_train)
            Z_train, Z_test = model.transform(X_train), model.transform(X_test)
            out["train"][i, s] = leave_one_out_knn_error(Z_train, y_train)
            out["test"][i, s] = holdout_error(Z_train, y_train, Z_test, y_test)
            out["n_iter"][i, s] = model.n_iter_
            out["not_converged"][i] += not model.converged_
        print(f"split {s + 1}/{n_splits} done", file=sys.stderr, flush=True)
    return out


def signed(value: float) -> str:
    return f"{round(float(value), 6) + 0.0:+.4f}"  # no "-0.0000" from rounding noise


def sweep_rows(out, sweep: str) -> list[list[str]]:
    rows = []
    for i, (name, alpha, beta) in enumerate(settings()):
        if name != sweep:
            continue
        label = "0 (GMML)" if alpha == 0 else f"{alpha:g}"
        rows.append(
            [
                label if sweep == "alpha" else f"{alpha:g}",
                f"{beta:g}",
                mean_std(out["train"][i], 4),
                mean_std(out["test"][i], 4),
                f"{out['n_iter'][i].mean():.0f}",
                out["not_converged"][i],
            ]
        )
    return rows


def index_of(sweep: str, value: float) -> int:
    for i, (name, alpha, beta) in enumerate(settings()):
        if name == sweep and (alpha if sweep == "alpha" else beta) == value:
            return i
    raise KeyError(value)


def check_observations(out, n_train: int, n_test: int) -> list[str]:
    """Plain statements on the paper's Fig. 5 claims, with the numbers behind them."""
    lines = []
    one_error = 1 / n_test
    # (a) alpha in (0, 1]: train error up, test error down as alpha grows
    small = [a for a in ALPHAS if 0 < a <= 1]
    rows = [index_of("alpha", a) for a in small]
    train_means = out["train"][rows].mean(axis=1)
    test_means = out["test"][rows].mean(axis=1)
    rho_train = stats.spearmanr(small, train_means).statistic
    rho_test = stats.spearmanr(small, test_means).statistic
    lo, hi = index_of("alpha", small[0]), index_of("alpha", 1.0)
    d_train = out["train"][hi] - out["train"][lo]
    d_test = out["test"][hi] - out["test"][lo]
    rises = rho_train > 0 and d_train.mean() > 0
    falls = rho_test < 0 and d_test.mean() < 0
    lines.append(
        f"* Paper: as alpha grows in (0, 1), train error rises. Here: "
        f"{'yes' if rises else 'no'} (Spearman rho of alpha with mean train error "
        f"{rho_train:+.2f}; alpha {small[0]:g} -> 1 changes train error by "
        f"{signed(d_train.mean())} on average, up on {int(np.sum(d_train > 0))} of "
        f"{d_train.size} splits; one training error = {1 / n_train:.4f})."
    )
    lines.append(
        f"* Paper: ... and test error consistently falls. Here: {'yes' if falls else 'no'} "
        f"(Spearman rho {rho_test:+.2f}; alpha {small[0]:g} -> 1 changes test error by "
        f"{signed(d_test.mean())} on average, down on {int(np.sum(d_test < 0))} and up on "
        f"{int(np.sum(d_test > 0))} of {d_test.size} splits; one test error = {one_error:.4f})."
    )
    gmml = out["test"][index_of("alpha", 0.0)]
    d_gmml = out["test"][hi] - gmml
    lines.append(
        f"* AML (alpha = 1, beta = 1) minus GMML (alpha = 0) test error: {signed(d_gmml.mean())} "
        f"on average (lower on {int(np.sum(d_gmml < 0))}, equal on {int(np.sum(d_gmml == 0))}, "
        f"higher on {int(np.sum(d_gmml > 0))} of {d_gmml.size} splits)."
    )
    alpha_test = out["test"][[index_of("alpha", a) for a in ALPHAS]].mean(axis=1)
    best_alphas = [f"{a:g}" for a, e in zip(ALPHAS, alpha_test) if e == alpha_test.min()]
    lines.append(
        f"* Lowest mean test error over the alpha sweep ({alpha_test.min():.4f}) at alpha = "
        f"{', '.join(best_alphas)}."
    )
    # (b) beta ~ 0.8 best, stable around it
    beta_rows = [index_of("beta", b) for b in BETAS]
    beta_test = out["test"][beta_rows].mean(axis=1)
    best = int(np.argmin(beta_test))
    at_08 = beta_test[BETAS.index(0.8)]
    near = [i for i, b in enumerate(BETAS) if 0.4 <= b <= 1.2]
    spread = beta_test[near].max() - beta_test[near].min()
    lines.append(
        f"* Paper: beta ~ 0.8 gives the lowest test error. Here: lowest mean test error at "
        f"beta = {BETAS[best]:g} ({beta_test[best]:.4f}); at beta = 0.8 it is {at_08:.4f} "
        f"({(at_08 - beta_test[best]) / one_error:.1f} more test errors per split). "
        f"{'Holds' if 0.6 <= BETAS[best] <= 1.0 else 'Does not hold'} in the sense "
        "'best beta within [0.6, 1.0]'."
    )
    lines.append(
        f"* Paper: performance is stable around beta = 0.8. Here: mean test error varies by "
        f"{spread:.4f} ({spread / one_error:.1f} test errors per split) over beta in "
        "[0.4, 1.2], and "
        f"from {beta_test.min():.4f} to {beta_test.max():.4f} over the whole beta sweep."
    )
    return lines


def plot(out, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, sweep, values, fixed in (
        (axes[0], "alpha", ALPHAS, f"beta = {BETA_FOR_ALPHA_SWEEP:g}"),
        (axes[1], "beta", BETAS, f"alpha = {ALPHA_FOR_BETA_SWEEP:g}"),
    ):
        rows = [index_of(sweep, v) for v in values]
        for key, style, label in (
            ("train", "--o", "train (leave-one-out)"),
            ("test", "-s", "test"),
        ):
            mean, std = out[key][rows].mean(axis=1), out[key][rows].std(axis=1, ddof=1)
            (line,) = ax.plot(values, mean, style, ms=4, label=f"AML {label}")
            ax.fill_between(values, mean - std, mean + std, color=line.get_color(), alpha=0.2)
        ax.axhline(out["euclid_test"].mean(), color="grey", lw=0.8, label="Euclidean test")
        if sweep == "alpha":  # symlog puts alpha = 0 (GMML) one step left of the log grid
            ax.set_xscale("symlog", linthresh=1e-3, linscale=0.5)
            ax.set_xlim(0, 2e3)
        else:
            ax.set_xscale("log")
        ax.set_xlabel(sweep)
        ax.set_title(f"({'ab'[sweep == 'beta']}) error vs {sweep} ({fixed})", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("5-NN error rate")
    axes[0].legend(fontsize=8)
    n = out["test"].shape[1]
    fig.suptitle(
        f"AML parametric sensitivity on scikit-learn digits, mean ± std over {n} 80/20 splits"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--splits", type=int, default=5, help="number of 80/20 splits (5)")
    parser.add_argument("--output", type=Path, default=RESULTS / "sensitivity.md")
    parser.add_argument("--plot", type=Path, default=RESULTS / "sensitivity.png")
    parser.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    parser.add_argument("--verbose", action="store_true", help="report progress per split")
    args = parser.parse_args(argv)
    if args.splits < 2:
        parser.error("--splits must be at least 2")

    start = time.perf_counter()
    out = run(args.splits, args.verbose)
    elapsed = time.perf_counter() - start
    n_test = int(np.ceil(0.2 * len(load_digits().target)))  # as train_test_split rounds
    n_train = len(load_digits().target) - n_test

    header = ["alpha", "beta", "train error", "test error", "mean iterations", "not converged"]
    lines = [
        "# AML parametric sensitivity (Section 3.4, Fig. 5) on scikit-learn digits",
        "",
        f"`python examples/sensitivity.py --splits {args.splits}`: digits (d = 64, n = 1797, "
        f"10 classes), {args.splits} stratified 80/20 splits (random_state 0..{args.splits - 1}, "
        f"{n_test} test examples), StandardScaler fitted on the training part, "
        "AML_Supervised(alpha, beta, random_state=split) with 90,000 sampled pairs, 5-NN. "
        "Train error is leave-one-out on the training part. Mean ± std over splits.",
        "",
        f"Euclidean (standardised) reference: train {mean_std(out['euclid_train'], 4)}, "
        f"test {mean_std(out['euclid_test'], 4)}.",
        "",
        f"## (a) alpha varies, beta = {BETA_FOR_ALPHA_SWEEP:g}",
        "",
        *markdown_table(header, sweep_rows(out, "alpha")),
        "",
        f"## (b) beta varies, alpha = {ALPHA_FOR_BETA_SWEEP:g}",
        "",
        *markdown_table(header, sweep_rows(out, "beta")),
        "",
        "## The paper's observations",
        "",
        *check_observations(out, n_train, n_test),
        "",
        f"Wall time {elapsed:.1f} s ({len(settings()) * args.splits} AML fits).",
    ]
    if not args.no_plot:
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        plot(out, args.plot)
        lines.append(f"Figure: {args.plot.name}")
    publish(lines, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
