"""End-to-end fits and transforms of the estimators."""

import time

import numpy as np

from advmetric import AML, AML_Supervised, GMML_Supervised


class SupervisedFit:
    params = ([(2_000, 16, 10), (20_000, 64, 10)], ["AML_Supervised", "GMML_Supervised"])
    param_names = ["n_samples, d, classes", "estimator"]
    timer = time.perf_counter

    def setup(self, shape, estimator):
        n, d, c = shape
        rng = np.random.default_rng(0)
        self.y = rng.integers(0, c, size=n)
        self.X = rng.standard_normal((n, d)) + 0.5 * self.y[:, None]
        cls = AML_Supervised if estimator == "AML_Supervised" else GMML_Supervised
        self.model = cls(random_state=0)
        self.fitted = cls(random_state=0).fit(self.X, self.y)

    def time_fit(self, shape, estimator):
        self.model.fit(self.X, self.y)

    def peakmem_fit(self, shape, estimator):
        self.model.fit(self.X, self.y)

    def time_transform(self, shape, estimator):
        self.fitted.transform(self.X)


class PairsFit:
    params = [10_000, 100_000]
    param_names = ["n_pairs"]
    timer = time.perf_counter

    def setup(self, n):
        rng = np.random.default_rng(0)
        self.pairs = rng.standard_normal((n, 2, 32))
        self.y = np.where(rng.random(n) < 0.5, 1, -1)
        self.model = AML()

    def time_fit(self, n):
        self.model.fit(self.pairs, self.y)

    def time_pair_distance(self, n):
        if not hasattr(self.model, "components_"):
            self.model.fit(self.pairs, self.y)
        self.model.pair_distance(self.pairs)
