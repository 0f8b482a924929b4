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
    """k-NN error on the training set itself, each point's own vote excluded."""
    _, neighbours = NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z)
    votes = y[neighbours[:, 1:]]
    predicted = (votes.mean(axis=1) > 0.5).astype(int)
    return float(np.mean(predicted != y))


def run_demo(seed: int = 0, alpha: float = 1.0, beta: float = 0.8, output=None, n_neighbors=5):
    """Fit Euclidean, GMML and AML on the synthetic data; return a dict of results.

    ``output``: path of the PNG figure, or None for no figure.
    """
    X_train, y_train, X_test, y_test = make_synthetic(seed)
    learners = {
        "Euclidean": None,
        "GMML": GMML_Supervised(random_state=seed),
        "AML": AML_Supervised(alpha=alpha, beta=beta, random_state=seed),
    }
    results = {}
    for name, learner in learners.items():
        start = time.perf_counter()
        if learner is not None:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                learner.fit(X_train, y_train)
            note = "; ".join(str(w.message) for w in caught)
        else:
            note = ""
        fit_ms = 1e3 * (time.perf_counter() - start)
        project = (lambda X: X) if learner is None else learner.transform
        Z_train, Z_test = project(X_train), project(X_test)
        knn = KNeighborsClassifier(n_neighbors=n_neighbors).fit(Z_train, y_train)
        results[name] = {
            "train_error": _leave_one_out_knn_error(Z_train, y_train, n_neighbors),
            "test_error": float(np.mean(knn.predict(Z_test) != y_test)),
            "fit_ms": fit_ms,
            "model": learner,
            "note": note,
        }
    if output is not None:
        _plot(results, X_train, y_train, X_test, y_test, beta, seed, output)
    return results


def _plot(results, X_train, y_train, X_test, y_test, beta, seed, output):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import aml

    def pca_2d(Z, reference=None):
        reference = Z if reference is None else reference
        mean = reference.mean(axis=0)
        _, _, Vt = np.linalg.svd(reference - mean, full_matrices=False)
        return (Z - mean) @ Vt[:2].T

    model = results["AML"]["model"]
    rng = np.random.default_rng(seed)
    first, second = np.flatnonzero(y_train == 0), np.flatnonzero(y_train == 1)
    same = rng.choice(first, size=(15, 2), replace=False)
    cross = np.stack([rng.choice(first, 15), rng.choice(second, 15)], axis=1)
    index = np.concatenate([same, cross])
    labels = np.r_[np.ones(15), -np.ones(15)]
    adversarial = aml.adversarial_pairs(
        model.get_mahalanobis_matrix(), X_train[index], labels, beta
    ).reshape(-1, N_FEATURES)

    fig, axes = plt.subplots(1, 4, figsize=(16, 4))
    colours = np.array(["tab:orange", "tab:blue"])
    train_2d = pca_2d(X_train)
    axes[0].scatter(*train_2d.T, c=colours[y_train], s=12, alpha=0.6)
    adversarial_2d = pca_2d(adversarial, reference=X_train)
    axes[0].scatter(*adversarial_2d.T, marker="x", c="k", s=20, label="adversarial points")
    axes[0].legend(loc="best", fontsize=8)
    axes[0].set_title("(a) training data and adversarial points")
    for ax, name, tag in zip(axes[1:], ("Euclidean", "GMML", "AML"), "bcd"):
        learner = results[name]["model"]
        Z = X_test if learner is None else learner.transform(X_test)
        ax.scatter(*pca_2d(Z).T, c=colours[y_test], s=12, alpha=0.6)
        ax.set_title(f"({tag}) test data, {name}: 5-NN error {results[name]['test_error']:.3f}")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"advmetric demo (seed {seed}): first two principal components")
    fig.tight_layout()
    fig.savefig(output, dpi=110)
    plt.close(fig)


def _format_table(results) -> str:
    lines = [
        f"{'method':<10} {'train 5-NN error':>17} {'test 5-NN error':>16} {'fit time (ms)':>14}",
        "-" * 60,
    ]
    for name, r in results.items():
        lines.append(
            f"{name:<10} {r['train_error']:>17.3f} {r['test_error']:>16.3f} {r['fit_ms']:>14.1f}"
        )
    best = min(r["test_error"] for r in results.values())
    winners = [name for name, r in results.items() if r["test_error"] == best]
    if len(winners) == 1:
        verdict = f"Lowest test error on this seed: {winners[0]}."
    else:
        verdict = f"Lowest test error on this seed: a tie between {' and '.join(winners)}."
    if results["AML"]["test_error"] > results["GMML"]["test_error"]:
        verdict += " AML did not beat GMML here."
    lines.append(verdict)
    for name, r in results.items():
        if r["note"]:
            lines.append(f"note ({name}): {r['note']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m advmetric",
        description="advmetric command-line tools.",
    )
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser(
        "demo", help="the paper's synthetic experiment: Euclidean vs GMML vs AML"
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--alpha", type=float, default=1.0, help="AML's alpha (default 1.0)")
    demo.add_argument("--beta", type=float, default=0.8, help="AML's beta (default 0.8)")
    demo.add_argument(
        "--output", default="advmetric_demo.png", help="figure path (default advmetric_demo.png)"
    )
    demo.add_argument("--no-plot", action="store_true", help="do not write the figure")
    args = parser.parse_args(argv)
    if args.command != "demo":
        parser.print_help()
        return 2

    output = None
    if not args.no_plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print('matplotlib is not installed: no figure (pip install "advmetric[plot]")')
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
