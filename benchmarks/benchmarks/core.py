"""The compiled kernels against the numpy reference.

Threaded kernels use the wall-clock timer (``timer = time.perf_counter``): asv's default
process-time timer would add up the time of every thread.
"""

import time

import numpy as np

from advmetric import aml, reference


def _problem(n, d, seed=0):
    rng = np.random.default_rng(seed)
    pairs = rng.standard_normal((n, 2, d))
    y = np.where(rng.random(n) < 0.5, 1, -1)
    return pairs, y


class PairStatistics:
    params = ([(200_000, 16), (50_000, 64), (10_000, 256)], ["aml", "reference"])
    param_names = ["n_pairs, d", "implementation"]
    timer = time.perf_counter

    def setup(self, shape, implementation):
        if implementation == "reference" and shape[0] * shape[1] > 1_000_000:
            raise NotImplementedError  # asv: skip, the per-pair reference loop is too slow
        self.pairs, self.y = _problem(*shape)
        self.module = aml if implementation == "aml" else reference

    def time_pair_statistics(self, shape, implementation):
        self.module.pair_statistics(self.pairs, self.y)

    def peakmem_pair_statistics(self, shape, implementation):
        self.module.pair_statistics(self.pairs, self.y)


class AdversarialPairs:
    params = ([(50_000, 16), (20_000, 64)], ["aml", "reference"], [1, 2])
    param_names = ["n_pairs, d", "implementation", "n_threads"]
    timer = time.perf_counter

    def setup(self, shape, implementation, n_threads):
        if implementation == "reference" and (n_threads > 1 or shape[0] > 20_000):
            raise NotImplementedError
        self.pairs, self.y = _problem(*shape)
        A, B = aml.pair_statistics(self.pairs, self.y)
        self.M = aml.gmml(A, B)
        self.kwargs = {"n_threads": n_threads} if implementation == "aml" else {}
        self.module = aml if implementation == "aml" else reference

    def time_adversarial_pairs(self, shape, implementation, n_threads):
        self.module.adversarial_pairs(self.M, self.pairs, self.y, 0.8, **self.kwargs)


class ObjectiveGradientSolve:
    params = ([16, 64, 256], ["aml", "reference"])
    param_names = ["d", "implementation"]
    timer = time.perf_counter

    def setup(self, d, implementation):
        pairs, y = _problem(20 * d, d)
        self.A, self.B = aml.pair_statistics(pairs, y)
        self.M = aml.gmml(self.A, self.B)
        self.module = aml if implementation == "aml" else reference

    def time_objective(self, d, implementation):
        self.module.objective(self.M, self.A, self.B, 1.0, 0.8)

    def time_gradient(self, d, implementation):
        self.module.gradient(self.M, self.A, self.B, 1.0, 0.8)

    def time_gmml(self, d, implementation):
        self.module.gmml(self.A, self.B)

    def time_solve(self, d, implementation):
        self.module.solve(self.A, self.B, 1.0, 0.8, tol=1e-8, max_iter=5000)
