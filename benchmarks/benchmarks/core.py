"""The compiled kernels (advmetric.aml) against numpy and the pure-numpy reference.

Everything is timed with the wall-clock timer (``timer = time.perf_counter``): asv's default
process-time timer adds up the CPU time of every thread, which hides (or inverts) threading.
Parameter combinations that would take too long on the per-pair reference loops raise
NotImplementedError in ``setup``, which asv reports as skipped.
"""

import time

import numpy as np
from threadpoolctl import threadpool_limits

from advmetric import PairStatistics as Statistics
from advmetric import _backend, aml, reference

ALPHA, BETA = 1.0, 0.8


def _pairs(n, d, seed=0):
    rng = np.random.default_rng(seed)
    pairs = rng.standard_normal((n, 2, d))
    y = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int8)
    return pairs, y


def _numpy_statistics(pairs, y):
    """What a numpy user writes: the full difference array, then two Gram matrices."""
    D = pairs[:, 0] - pairs[:, 1]
    Dp, Dn = D[y > 0], D[y < 0]
    return Dp.T @ Dp, Dn.T @ Dn


def _scatter(d, seed=0):
    """Well-posed scatter matrices: X^T X of 4d Gaussian rows."""
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((2, 4 * d, d))
    return X.T @ X, Y.T @ Y


class _Threads:
    """Mixin: limits BLAS and OpenMP pools to ``n_threads`` for the duration of a benchmark."""

    def _limit(self, n_threads):
        self._limits = threadpool_limits(n_threads)

    def teardown(self, *args):
        if getattr(self, "_limits", None) is not None:
            self._limits.restore_original_limits()
            self._limits = None


class PairStatistics:
    """A, B from an (N, 2, d) pair array: advmetric vs numpy's D.T @ D vs the reference."""

    params = (
        [(650_000, 16), (200_000, 64), (10_000, 256), (90_000, 784)],
        ["aml", "numpy", "reference"],
    )
    param_names = ["n_pairs, d", "implementation"]
    timer = time.perf_counter
    timeout = 300

    def setup(self, shape, implementation):
        if implementation == "reference" and shape[0] > 10_000:
            raise NotImplementedError  # the reference loops over pairs in Python
        self.pairs, self.y = _pairs(*shape)
        self.function = {
            "aml": aml.pair_statistics,
            "numpy": _numpy_statistics,
            "reference": reference.pair_statistics,
        }[implementation]

    def time_pair_statistics(self, shape, implementation):
        self.function(self.pairs, self.y)

    def peakmem_pair_statistics(self, shape, implementation):
        self.function(self.pairs, self.y)


class PairStatisticsThreads(_Threads):
    """Thread scaling of aml.pair_statistics (BLAS and OpenMP limited to n_threads)."""

    params = ([(650_000, 16), (200_000, 64), (90_000, 784)], [1, 2])
    param_names = ["n_pairs, d", "n_threads"]
    timer = time.perf_counter
    timeout = 300

    def setup(self, shape, n_threads):
        self.pairs, self.y = _pairs(*shape)
        self._limit(n_threads)

    def time_pair_statistics(self, shape, n_threads):
        aml.pair_statistics(self.pairs, self.y, n_threads=n_threads)


class IndexedStatistics:
    """A, B from rows of X and (i, j) index pairs (what the supervised estimators do)."""

    params = ([(1_000_000, 16), (1_000_000, 64)], ["aml", "numpy"])
    param_names = ["n_pairs, d", "implementation"]
    timer = time.perf_counter
    timeout = 300

    def setup(self, shape, implementation):
        n, d = shape
        rng = np.random.default_rng(0)
        self.X = rng.standard_normal((10_000, d))
        self.index = rng.integers(0, 10_000, size=(n, 2))
        self.y = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int8)
        self.implementation = implementation

    def time_statistics_from_indices(self, shape, implementation):
        if self.implementation == "aml":
            Statistics.from_indices(self.X, self.index, self.y)
        else:
            D = self.X[self.index[:, 0]] - self.X[self.index[:, 1]]
            Dp, Dn = D[self.y > 0], D[self.y < 0]
            Dp.T @ Dp, Dn.T @ Dn

    def peakmem_statistics_from_indices(self, shape, implementation):
        self.time_statistics_from_indices(shape, implementation)


class AdversarialPairs(_Threads):
    """The adversarial pairs Pi* of Eq. 9 for every pair."""

    params = (
        [(50_000, 16), (200_000, 64), (20_000, 256)],
        ["aml", "reference"],
        [1, 2],
    )
    param_names = ["n_pairs, d", "implementation", "n_threads"]
    timer = time.perf_counter
    timeout = 300

    def setup(self, shape, implementation, n_threads):
        if implementation == "reference" and (n_threads > 1 or shape[0] * shape[1] > 1_000_000):
            raise NotImplementedError
        self.pairs, self.y = _pairs(*shape)
        self.M = aml.gmml(*aml.pair_statistics(self.pairs, self.y))
        self.module = aml if implementation == "aml" else reference
        self.kwargs = {"n_threads": n_threads} if implementation == "aml" else {}
        self._limit(n_threads)

    def time_adversarial_pairs(self, shape, implementation, n_threads):
        self.module.adversarial_pairs(self.M, self.pairs, self.y, BETA, **self.kwargs)


class ObjectiveGradient:
    """The O(d^3) building blocks: D(M), its gradient, GMML's closed form, SPD projection."""

    params = ([16, 64, 256, 784], ["aml", "reference"])
    param_names = ["d", "implementation"]
    timer = time.perf_counter

    def setup(self, d, implementation):
        self.A, self.B = _scatter(d)
        self.M = aml.gmml(self.A, self.B)
        self.module = aml if implementation == "aml" else reference

    def time_objective(self, d, implementation):
        self.module.objective(self.M, self.A, self.B, ALPHA, BETA)

    def time_gradient(self, d, implementation):
        self.module.gradient(self.M, self.A, self.B, ALPHA, BETA)

    def time_gmml(self, d, implementation):
        self.module.gmml(self.A, self.B)

    def time_project_spd(self, d, implementation):
        self.module.project_spd(self.M)


class ObjectiveRoutes:
    """The array API's two routes for D and its gradient at a well-conditioned M: Cholesky
    factors and inverses (the default there) and M's eigenbasis (ill-conditioned M)."""

    params = ([16, 64, 256], ["rational", "eigenbasis"])
    param_names = ["d", "route"]
    timer = time.perf_counter

    def setup(self, d, route):
        self.A, self.B = _scatter(d)
        self.M = aml.gmml(self.A, self.B)
        self.eigenbasis = route == "eigenbasis"

    def time_objective(self, d, route):
        _backend.objective(self.M, self.A, self.B, ALPHA, BETA, eigenbasis=self.eigenbasis)

    def time_gradient(self, d, route):
        _backend.gradient(self.M, self.A, self.B, ALPHA, BETA, eigenbasis=self.eigenbasis)


class GradientPairwise:
    """The gradient summed pair by pair (Eq. 13), the O(N d^2) cross-check of the fast form."""

    params = ([(20_000, 16), (5_000, 64)], ["aml", "reference"])
    param_names = ["n_pairs, d", "implementation"]
    timer = time.perf_counter

    def setup(self, shape, implementation):
        self.pairs, self.y = _pairs(*shape)
        self.M = aml.gmml(*aml.pair_statistics(self.pairs, self.y))
        self.module = aml if implementation == "aml" else reference

    def time_gradient_pairwise(self, shape, implementation):
        self.module.gradient_pairwise(self.M, self.pairs, self.y, ALPHA, BETA)


class Solve:
    """Time to solution: (A, B) to relative gradient <= 1e-8 with the default settings.

    "aml" is the default solver (Newton-CG), "aml-lbfgs" the previous default, "reference" the
    numpy reference (PGD; skipped above d = 256, where it takes minutes). ``track_*`` report the
    iterations, eigendecompositions and Hessian-vector products per solve, the counts that time
    to solution follows.
    """

    params = ([16, 64, 256, 784, 1024], ["aml", "aml-lbfgs", "reference"])
    param_names = ["d", "implementation"]
    timer = time.perf_counter
    timeout = 600

    def setup(self, d, implementation):
        if implementation == "reference" and d > 256:
            raise NotImplementedError
        self.A, self.B = _scatter(d)
        module = aml if implementation.startswith("aml") else reference
        kwargs = {"solver": "lbfgs"} if implementation == "aml-lbfgs" else {}

        def solve():
            return module.solve(self.A, self.B, ALPHA, BETA, tol=1e-8, max_iter=5000, **kwargs)

        self.solve = solve

    def time_solve(self, d, implementation):
        self.solve()

    def track_iterations(self, d, implementation):
        return self.solve().n_iter

    track_iterations.unit = "iterations"

    def _counter(self, name):
        counters = self.solve().counters
        if not counters:  # the reference does not count: asv reports the benchmark as skipped
            raise NotImplementedError
        return counters[name]

    def track_eigendecompositions(self, d, implementation):
        return self._counter("eigendecompositions")

    track_eigendecompositions.unit = "eigendecompositions"

    def track_hessian_vector_products(self, d, implementation):
        return self._counter("hessian_vector_products")

    track_hessian_vector_products.unit = "Hessian-vector products"


class SolverIteration:
    """20 solver iterations (tol=1e-300) against 20 x (numpy eigh + 3 d x d matmuls).

    The ratio of the two is target 1 of the performance issue (<= 1.3).
    """

    params = [64, 256, 784]
    param_names = ["d"]
    timer = time.perf_counter
    timeout = 300

    def setup(self, d):
        self.A, self.B = _scatter(d)
        self.M = aml.gmml(self.A, self.B)

    def time_solve_20_iterations(self, d):
        aml.solve(self.A, self.B, ALPHA, BETA, tol=1e-300, max_iter=20)

    def time_numpy_eigh_3_matmuls_x20(self, d):
        M = self.M
        for _ in range(20):
            np.linalg.eigh(M)
            M @ M
            M @ M
            M @ M
