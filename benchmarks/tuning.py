"""AML_SupervisedCV against the GridSearchCV it replaces: same grid, folds and pairs.

    python benchmarks/tuning.py            # digits and wine, the paper's 7 x 7 grid, 5 folds

Both searches score ``make_pipeline(AML_Supervised(random_state=0), KNeighborsClassifier(5))``
by held-out accuracy over ``alpha, beta in {1e-3, ..., 1e3}`` with ``StratifiedKFold(5)``, then
refit the best pair on all the data. Printed: wall times (one run each, interleaved in the order
GridSearchCV, AML_SupervisedCV cold, AML_SupervisedCV warm), their ratio, the selected
parameters, and the largest difference between the mean scores of the two searches.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.datasets import load_digits, load_wine
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from advmetric import AML_Supervised, AML_SupervisedCV
from advmetric.model_selection import DEFAULT_GRID


def timed(function):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a ConvergenceWarning at an extreme grid point
        result = function()
    return result, time.perf_counter() - start


def compare(name: str, X: np.ndarray, y: np.ndarray) -> None:
    grid = list(DEFAULT_GRID)
    pipe = make_pipeline(AML_Supervised(random_state=0), KNeighborsClassifier(5))
    param_grid = {"aml_supervised__alpha": grid, "aml_supervised__beta": grid}
    reference, t_grid = timed(lambda: GridSearchCV(pipe, param_grid, cv=5).fit(X, y))
    chosen = reference.best_params_
    chosen = (chosen["aml_supervised__alpha"], chosen["aml_supervised__beta"])
    print(f"\n{name}: n = {X.shape[0]}, d = {X.shape[1]}, {len(grid) ** 2} grid points x 5 folds")
    print(f"  {'search':<34} {'wall s':>7} {'speed-up':>8}  best (alpha, beta)  max |score diff|")
    print(f"  {'GridSearchCV(pipeline)':<34} {t_grid:7.2f} {'1.0x':>8}  {chosen!s:<18}  -")
    for warm in (False, True):
        search, t_search = timed(
            lambda warm=warm: AML_SupervisedCV(
                grid, grid, cv=5, random_state=0, warm_start=warm
            ).fit(X, y)
        )
        best = (search.best_params_["alpha"], search.best_params_["beta"])
        diff = np.abs(
            search.cv_results_["mean_test_score"] - reference.cv_results_["mean_test_score"]
        ).max()
        label = f"AML_SupervisedCV(warm_start={warm})"
        print(
            f"  {label:<34} {t_search:7.2f} {t_grid / t_search:7.1f}x  {best!s:<18}  {diff:.2g}"
            f"   (mean solver iterations {search.cv_results_['mean_n_iter'].mean():.1f})"
        )


def main() -> None:
    for name, loader in (
        ("digits (standardised)", load_digits),
        ("wine (standardised)", load_wine),
    ):
        X, y = loader(return_X_y=True)
        compare(name, StandardScaler().fit_transform(X), y)


if __name__ == "__main__":
    main()
