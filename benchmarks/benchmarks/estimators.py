"""End-to-end fits and transforms of the scikit-learn estimators (wall-clock timer)."""

import time
import warnings

import numpy as np

from advmetric import AML, AML_Supervised, GMML_Supervised, reference


def _classes(n, d, c, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, size=n)
    X = rng.standard_normal((n, d)) + 0.5 * y[:, None]
    return X, y


def _standardised_digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _sample_pairs(y, n_constraints=90_000):
    """The estimator's pairs where advmetric has sample_pairs; else the same rule in numpy."""
    try:
        from advmetric.constraints import sample_pairs
    except ImportError:  # older advmetric
        rng = np.random.default_rng(0)
        same = y[:, None] == y[None, :]
        similar = np.argwhere(same & ~np.eye(len(y), dtype=bool))
        dissimilar = np.argwhere(~same)
        half = n_constraints // 2
        index = np.concatenate(
            [
                similar[rng.integers(0, len(similar), half)],
                dissimilar[rng.integers(0, len(dissimilar), n_constraints - half)],
            ]
        )
        labels = np.repeat(np.array([1, -1], dtype=np.int8), [half, n_constraints - half])
        return index, labels
    # n_constraints pairs in all: sample_pairs counts each kind
    return sample_pairs(y, n_constraints // 2, random_state=0)


def _knn_error(Z_train, y_train, Z_test, y_test):
    from sklearn.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(n_neighbors=5).fit(Z_train, y_train)
    return float(np.mean(knn.predict(Z_test) != y_test))


class SupervisedFit:
    """AML_Supervised and GMML_Supervised from class labels (default 1000 c (c-1) pairs)."""

    params = ([(2_000, 16, 10), (20_000, 64, 10)], ["AML_Supervised", "GMML_Supervised"])
    param_names = ["n_samples, d, classes", "estimator"]
    timer = time.perf_counter

    def setup(self, shape, estimator):
        self.X, self.y = _classes(*shape)
        cls = AML_Supervised if estimator == "AML_Supervised" else GMML_Supervised
        self.model = cls(random_state=0)
        self.fitted = cls(random_state=0).fit(self.X, self.y)

    def time_fit(self, shape, estimator):
        self.model.fit(self.X, self.y)

    def peakmem_fit(self, shape, estimator):
        self.model.fit(self.X, self.y)

    def time_transform(self, shape, estimator):
        self.fitted.transform(self.X)


class ManyPairs:
    """10^6 and 10^7 pairs sampled from labels at d = 64: index pairs, never a pair array.

    The parameter is the total number of pairs (``n_constraints`` of the estimator counts each
    kind, so it gets half)."""

    params = [1_000_000, 10_000_000]
    param_names = ["n_constraints"]
    timer = time.perf_counter
    timeout = 600
    number = 1
    repeat = (1, 3, 60.0)

    def setup(self, n_constraints):
        self.X, self.y = _classes(100_000, 64, 10)

    def time_fit(self, n_constraints):
        AML_Supervised(n_constraints=n_constraints // 2, random_state=0).fit(self.X, self.y)

    def peakmem_fit(self, n_constraints):
        AML_Supervised(n_constraints=n_constraints // 2, random_state=0).fit(self.X, self.y)


class Digits:
    """scikit-learn's digits, standardised: advmetric's AML_Supervised vs the numpy reference.

    The reference fits the same 90,000 pairs (advmetric.constraints.sample_pairs, the
    estimator's own sampler) with reference.pair_statistics on X[index] and reference.solve.
    """

    params = ["aml", "reference"]
    param_names = ["implementation"]
    timer = time.perf_counter
    timeout = 600

    def setup(self, implementation):
        self.X_train, self.X_test, self.y_train, self.y_test = _standardised_digits()
        self.implementation = implementation

    def _fit(self):
        if self.implementation == "aml":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = AML_Supervised(random_state=0).fit(self.X_train, self.y_train)
            return model.get_mahalanobis_matrix()
        index, labels = _sample_pairs(self.y_train)
        A, B = reference.pair_statistics(self.X_train[index], labels)
        return reference.solve(A, B, 1.0, 0.8, reg=1e-6, tol=1e-8, max_iter=5000).M

    def time_fit(self, implementation):
        self._fit()

    def track_knn_error(self, implementation):
        w, V = np.linalg.eigh(self._fit())
        L = np.sqrt(np.maximum(w, 0))[:, None] * V.T
        return _knn_error(self.X_train @ L.T, self.y_train, self.X_test @ L.T, self.y_test)

    track_knn_error.unit = "5-NN test error"


class PairsFit:
    """AML from an (N, 2, 32) pair array, and learned distances of pairs."""

    params = [10_000, 100_000]
    param_names = ["n_pairs"]
    timer = time.perf_counter

    def setup(self, n):
        rng = np.random.default_rng(0)
        self.pairs = rng.standard_normal((n, 2, 32))
        self.y = np.where(rng.random(n) < 0.5, 1, -1)
        self.model = AML()
        self.fitted = AML().fit(self.pairs, self.y)

    def time_fit(self, n):
        self.model.fit(self.pairs, self.y)

    def time_pair_distance(self, n):
        self.fitted.pair_distance(self.pairs)

    def time_transform(self, n):
        self.fitted.transform(self.pairs[:, 0])
