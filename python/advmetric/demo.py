"""``python -m advmetric demo``: the paper's synthetic experiment (Section 3.1, Fig. 3).

Two classes of 10-dimensional Gaussians. The training set is cleanly separated; at test time the
class means are closer, so the classes overlap and many test pairs are ambiguous. Euclidean
distance, GMML and AML are compared by 5-NN error, and (with matplotlib) a figure like the
paper's Fig. 3 is written.

The paper does not give the distributions' parameters. The ones here (documented in
:func:`make_synthetic`) were chosen so that the first two principal components show the training
classes apart and the test classes overlapping, as in Fig. 3; they were not tuned for any method's
error, and the printed table says plainly which method did best.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

from .estimators import AML_Supervised, GMML_Supervised

__all__ = ["main", "make_synthetic", "run_demo"]

N_FEATURES = 10


def make_synthetic(seed: int = 0):
    """Training and test sets of the synthetic experiment, 200 examples each.

    Both classes are Gaussians in 10 dimensions with the same covariance: unit variance in
    6 random orthogonal directions and standard deviation 1.5 in 3 others (nuisance directions).
    The class means are +-delta along a random unit direction u (orthogonal to the nuisance
    ones), with a within-class spread of 0.5 along u. Training: delta = 2.0 (classes 8 standard
    deviations apart along u: cleanly separated). Test: delta = 0.75 (3 standard deviations:
    overlapping, ambiguous pairs).

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarrays; labels are 0 and 1.
    """
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((N_FEATURES, N_FEATURES)))
    u = basis[:, 0]  # class direction; basis[:, 1:4] are the nuisance directions
    stds = np.ones(N_FEATURES)
    stds[0], stds[1:4] = 0.5, 1.5

    def sample(n_per_class: int, delta: float):
        z = rng.standard_normal((2 * n_per_class, N_FEATURES)) * stds
        X = z @ basis.T
        y = np.repeat([0, 1], n_per_class)
        X += np.where(y[:, None] == 1, delta, -delta) * u
        return X, y

    X_train, y_train = sample(100, 2.0)
    X_test, y_test = sample(100, 0.75)
    return X_train, y_train, X_test, y_test


def _leave_one_out_knn_error(Z: np.ndarray, y: np.ndarray, k: int) -> float:
    """k-NN error on the training set itself, each point's own vote excluded (leave-one-out).

    Ties (possible for even ``k``) go to the smaller label, as in ``KNeighborsClassifier``.
    """
    _, neighbours = NearestNeighbors(n_neighbors=k).fit(Z).kneighbors()  # excludes the query
    votes = y[neighbours]
    predicted = (votes.mean(axis=1) > 0.5).astype(int)
    return float(np.mean(predicted != y))


def _timed_fit(learner, X, y, repeats: int):
    """Fit ``learner`` ``repeats`` times; return (best wall time in ms, warning messages).

    The best of a few runs leaves out one-off costs (first-call set-up, thread start) that would
    otherwise be charged to whichever method happens to run first.
    """
    times = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(repeats):
            start = time.perf_counter()
            learner.fit(X, y)
            times.append(1e3 * (time.perf_counter() - start))
    messages = dict.fromkeys(str(w.message) for w in caught)  # unique, in order
    return min(times), "; ".join(messages)


def run_demo(
    seed: int = 0,
    alpha: float = 1.0,
    beta: float = 0.8,
    output=None,
    n_neighbors: int = 5,
    timing_repeats: int = 3,
):
    """Fit Euclidean, GMML and AML on the synthetic data and measure k-NN errors.

    Parameters
    ----------
    seed : int
        Seeds the data (:func:`make_synthetic`) and the pair sampling of both learners.
    alpha, beta : float
        AML's parameters (Eqs. 3 and 11 of the paper).
    output : str or path-like, optional
        Where to write the Fig. 3-like PNG (needs matplotlib); None for no figure.
    n_neighbors : int
        k of the k-NN classifier.
    timing_repeats : int
        Each learner is fitted this many times and the fastest fit is reported.

    Returns
    -------
    dict
        One entry per method ("Euclidean", "GMML", "AML"), each a dict with ``train_error``
        (leave-one-out k-NN error on the training set), ``test_error`` (k-NN trained on the
        training set, evaluated on the test set), ``fit_ms`` (0 for Euclidean: nothing to fit),
        ``model`` (the fitted estimator, None for Euclidean) and ``note`` (warnings raised while
        fitting, "" if none).
    """
    X_train, y_train, X_test, y_test = make_synthetic(seed)
    learners = {
        "Euclidean": None,
        "GMML": GMML_Supervised(random_state=seed),
        "AML": AML_Supervised(alpha=alpha, beta=beta, random_state=seed),
    }
    results = {}
    for name, learner in learners.items():
        if learner is None:
            fit_ms, note = 0.0, ""
            Z_train, Z_test = X_train, X_test
        else:
            fit_ms, note = _timed_fit(learner, X_train, y_train, timing_repeats)
            Z_train, Z_test = learner.transform(X_train), learner.transform(X_test)
        knn = KNeighborsClassifier(n_neighbors=n_neighbors).fit(Z_train, y_train)
        results[name] = {
            "train_error": _leave_one_out_knn_error(Z_train, y_train, n_neighbors),
            "test_error": float(np.mean(knn.predict(Z_test) != y_test)),
            "fit_ms": fit_ms,
            "model": learner,
            "note": note,
        }
    if output is not None:
        _plot(results, X_train, y_train, X_test, y_test, seed, n_neighbors, output)
    return results


def _adversarial_points(model, X, y, seed: int, n_per_class: int = 8) -> np.ndarray:
    """Eq. 9's adversarial points for a few sampled training pairs, shape (n_points, n_features).

    ``n_per_class`` similar pairs are drawn within each class and as many dissimilar pairs
    across the classes, all without repeating an example within a pair.
    """
    from . import aml

    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    members = [np.flatnonzero(y == c) for c in classes]
    similar = [rng.choice(m, size=(n_per_class, 2), replace=False) for m in members]
    n_dissimilar = n_per_class * len(classes)
    dissimilar = np.stack(
        [rng.choice(members[0], n_dissimilar), rng.choice(members[1], n_dissimilar)], axis=1
    )
    index = np.concatenate([*similar, dissimilar])
    labels = np.r_[np.ones(n_dissimilar), -np.ones(n_dissimilar)]
    pairs = aml.adversarial_pairs(model.get_mahalanobis_matrix(), X[index], labels, model.beta)
    return pairs.reshape(-1, X.shape[1])


def _pca_2d(Z: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """Coordinates of ``Z`` on the first two principal components of ``reference`` (or ``Z``)."""
    reference = Z if reference is None else reference
    mean = reference.mean(axis=0)
    _, _, Vt = np.linalg.svd(reference - mean, full_matrices=False)
    return (Z - mean) @ Vt[:2].T


def _plot(results, X_train, y_train, X_test, y_test, seed, n_neighbors, output):
    """Write the Fig. 3-like figure: training data with adversarial points, 3 test projections."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    adversarial = _adversarial_points(results["AML"]["model"], X_train, y_train, seed)
    colours = np.array(["tab:orange", "tab:blue"])
    fig, axes = plt.subplots(1, 4, figsize=(16, 4.2))

    train_2d = _pca_2d(X_train)
    for label in (0, 1):
        axes[0].scatter(
            *train_2d[y_train == label].T,
            c=colours[label],
            s=12,
            alpha=0.6,
            label=f"class {label}",
        )
    axes[0].scatter(
        *_pca_2d(adversarial, reference=X_train).T,
        marker="x",
        c="k",
        s=22,
        label="adversarial points",
    )
    axes[0].legend(loc="best", fontsize=8)
    axes[0].set_title("(a) training data, AML's adversarial points", fontsize=10)
    for ax, name, tag in zip(axes[1:], ("Euclidean", "GMML", "AML"), "bcd"):
        learner = results[name]["model"]
        Z = X_test if learner is None else learner.transform(X_test)
        ax.scatter(*_pca_2d(Z).T, c=colours[y_test], s=12, alpha=0.6)
        ax.set_title(
            f"({tag}) test data, {name}: {n_neighbors}-NN error {results[name]['test_error']:.3f}",
            fontsize=10,
        )
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(
        f"advmetric demo (seed {seed}): first two principal components "
        "(test panels: of the data mapped by each metric)"
    )
    fig.tight_layout()
    fig.savefig(output, dpi=110)
    plt.close(fig)


def _verdict(results) -> str:
    """Which method had the lowest test error, and how AML compared with GMML."""
    errors = {name: r["test_error"] for name, r in results.items()}
    best = min(errors.values())
    winners = [name for name, error in errors.items() if error == best]
    if len(winners) == 1:
        line = f"Lowest test error on this seed: {winners[0]}."
    else:
        line = f"Lowest test error on this seed: a tie between {' and '.join(winners)}."
    aml_error, gmml_error = errors["AML"], errors["GMML"]
    if aml_error < gmml_error:
        line += f" AML beat GMML ({aml_error:.3f} vs {gmml_error:.3f})."
    elif aml_error == gmml_error:
        line += f" AML did not beat GMML: same test error ({aml_error:.3f})."
    else:
        line += f" AML did not beat GMML: {aml_error:.3f} vs {gmml_error:.3f}."
    return line


def _format_table(results, n_neighbors: int = 5, timing_repeats: int = 3) -> str:
    """The printed table: one row per method, the verdict, then any fitting warnings."""
    train, test = f"train {n_neighbors}-NN error", f"test {n_neighbors}-NN error"
    lines = [
        f"{'method':<10} {train:>17} {test:>16} {'fit time (ms)':>14}",
        "-" * 60,
    ]
    for name, r in results.items():
        fit = "-" if r["model"] is None else f"{r['fit_ms']:.1f}"
        lines.append(f"{name:<10} {r['train_error']:>17.3f} {r['test_error']:>16.3f} {fit:>14}")
    lines.append(
        f"(train error: leave-one-out on the training set; fit time: best of {timing_repeats})"
    )
    lines.append(_verdict(results))
    for name, r in results.items():
        if r["note"]:
            lines.append(f"note ({name}): {r['note']}")
    return "\n".join(lines)


def _build_parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The top-level parser and its ``demo`` subcommand's parser."""
    parser = argparse.ArgumentParser(
        prog="python -m advmetric",
        description="advmetric command-line tools.",
    )
    commands = parser.add_subparsers(dest="command", metavar="command")
    demo = commands.add_parser(
        "demo",
        help="the paper's synthetic experiment: Euclidean vs GMML vs AML",
        description=(
            "The synthetic experiment of Chen et al. (IJCAI 2018), Section 3.1: 5-NN errors of "
            "Euclidean distance, GMML and AML, and a figure like the paper's Fig. 3."
        ),
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--alpha", type=float, default=1.0, help="AML's alpha >= 0 (default 1.0)")
    demo.add_argument("--beta", type=float, default=0.8, help="AML's beta > 0 (default 0.8)")
    demo.add_argument(
        "--output",
        default="advmetric_demo.png",
        help="where to write the figure (default advmetric_demo.png; needs matplotlib)",
    )
    demo.add_argument("--no-plot", action="store_true", help="do not write the figure")
    return parser, demo


def main(argv=None) -> int:
    """Entry point of ``python -m advmetric``; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        The arguments, e.g. ``["demo", "--seed", "3", "--no-plot"]``; default ``sys.argv[1:]``.
    """
    parser, demo_parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command != "demo":
        parser.print_help()
        return 2
    if not (np.isfinite(args.alpha) and args.alpha >= 0):
        demo_parser.error(f"--alpha must be a finite number >= 0, got {args.alpha}")
    if not (np.isfinite(args.beta) and args.beta > 0):
        demo_parser.error(f"--beta must be a finite number > 0, got {args.beta}")

    output = None
    if not args.no_plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print('matplotlib is not installed, so no figure: pip install "advmetric[plot]"\n')
        else:
            output = args.output
    print(
        f"Synthetic experiment of Chen et al. (IJCAI 2018), Section 3.1: 2 classes, "
        f"{N_FEATURES} features, 200 training / 200 test examples, seed {args.seed}, "
        f"alpha {args.alpha}, beta {args.beta}\n"
    )
    results = run_demo(seed=args.seed, alpha=args.alpha, beta=args.beta, output=output)
    print(_format_table(results))
    if output is not None:
        print(f"\nFigure written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
