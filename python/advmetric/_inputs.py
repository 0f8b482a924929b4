"""metric-learn's input contract: preprocessors, pairs given as indices, and ``init`` matrices.

metric-learn's learners take a ``preprocessor``: an array ``X`` (then pairs may be given as row
indices, shape (n_pairs, 2), and points as a 1-D array of indices) or a callable that turns an
array of identifiers into points. This module resolves those inputs for the estimators:

* :func:`check_preprocessor` turns the ``preprocessor`` parameter into ``None``, an
  :class:`ArrayIndexer` or the user's callable (the fitted attribute ``preprocessor_``);
* :func:`check_pairs` returns formed pairs (n_pairs, 2, n_features) or, for indices into an array
  preprocessor, an :class:`IndexedPairs` that the kernels read through the indices, so the
  (n_pairs, 2, n_features) array is never built;
* :func:`pair_distances` computes learned distances from either form, block by block;
* :func:`check_init` / :func:`covariance_init` read ``init`` as metric-learn does.

:func:`check_input` is metric-learn's ``check_input`` (formed points or tuples out), for users of
that utility.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.datasets import make_spd_matrix
from sklearn.utils import check_random_state

from ._validation import as_float_array, as_pair_labels
from .exceptions import NonPSDError, NotDefiniteError, PreprocessorError

__all__ = [
    "ArrayIndexer",
    "IndexedPairs",
    "check_init",
    "check_input",
    "check_pairs",
    "check_points",
    "check_preprocessor",
    "covariance_init",
    "pair_distances",
]

#: Values (pairs x features) gathered per block when distances are computed from indices: keeps
#: the temporaries at 8 MiB whatever the number of pairs.
BLOCK_VALUES = 1 << 20

INIT_NAMES = ("gmml", "identity", "covariance", "random", "pca", "lda", "auto")
#: Options resolved from the data in ``fit`` (:func:`data_init`)
DATA_INITS = ("covariance", "pca", "lda", "auto")


def _context(estimator) -> str:
    if estimator is None:
        return ""
    name = estimator if isinstance(estimator, str) else type(estimator).__name__
    return f" by {name}"


# -- preprocessor ------------------------------------------------------------------------------
class ArrayIndexer:
    """An array preprocessor: identifiers are row indices into ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated float64 points (see :func:`check_preprocessor`).
    """

    def __init__(self, X: np.ndarray):
        self.X = X

    def __call__(self, indices) -> np.ndarray:
        """The rows ``X[indices]`` (negative indices count from the end, as in numpy)."""
        return self.X[_as_row_indices(indices, self.X.shape[0])]

    def __repr__(self) -> str:
        return f"ArrayIndexer(n_samples={self.X.shape[0]}, n_features={self.X.shape[1]})"


def _is_arraylike(value) -> bool:
    return hasattr(value, "__len__") or hasattr(value, "shape") or hasattr(value, "__array__")


def check_preprocessor(preprocessor):
    """``None``, an :class:`ArrayIndexer` for an array-like, or the callable itself.

    Raises
    ------
    ValueError
        If ``preprocessor`` is none of these, or an array that is not 2-D, empty, or holds NaN or
        infinity (TypeError for non-numeric, complex or sparse arrays).
    """
    if preprocessor is None:
        return None
    if not isinstance(preprocessor, (str, bytes)) and _is_arraylike(preprocessor):
        X = as_float_array(preprocessor, "preprocessor")
        if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(
                "an array preprocessor must be a non-empty 2-D array (n_samples, n_features) "
                f"of points, got shape {X.shape}"
            )
        return ArrayIndexer(X)
    if callable(preprocessor):
        return preprocessor
    raise ValueError(
        f"Invalid type for the preprocessor: {type(preprocessor).__name__}. Give None, an "
        "array-like of points, or a callable."
    )


def _as_row_indices(indices, n_rows: int) -> np.ndarray:
    """Integer indices into ``n_rows`` rows as int64 in [0, n_rows); ``PreprocessorError`` else."""
    array = np.asarray(indices)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        error = IndexError(f"an array preprocessor is indexed by integers, got dtype {array.dtype}")
        raise PreprocessorError(error) from error
    if array.size and (array.min() < -n_rows or array.max() >= n_rows):
        error = IndexError(
            f"index out of range for a preprocessor of {n_rows} rows "
            f"(got indices from {array.min()} to {array.max()})"
        )
        raise PreprocessorError(error) from error
    array = np.require(array, dtype=np.int64, requirements=["C_CONTIGUOUS", "ALIGNED"])
    if array.size and array.min() < 0:
        array = np.where(array < 0, array + n_rows, array)
    return array


def _call_preprocessor(preprocessor, identifiers) -> np.ndarray:
    try:
        points = preprocessor(identifiers)
    except PreprocessorError:
        raise
    except Exception as error:  # whatever the user's callable raises, reported as one kind
        raise PreprocessorError(error) from error
    return points


_RaggedWarning = getattr(np, "exceptions", np).VisibleDeprecationWarning


def _as_array(value, name: str) -> np.ndarray:
    if hasattr(value, "toarray") or type(value).__module__.startswith("scipy.sparse"):
        raise TypeError(
            f"{name} is a sparse matrix; advmetric needs dense input (call .toarray() first)"
        )
    try:
        with warnings.catch_warnings():
            # numpy < 1.24 makes an object array of ragged sequences, with only this warning
            warnings.simplefilter("error", _RaggedWarning)
            return np.asarray(value)
    except (ValueError, _RaggedWarning) as exc:  # ragged nested sequences
        raise ValueError(f"{name} must be a rectangular array: {exc}") from None


# -- pairs -------------------------------------------------------------------------------------
class IndexedPairs:
    """Pairs ``(X[i], X[j])`` for the rows ``(i, j)`` of ``index``, without forming them.

    ``shape`` is that of the formed pairs, (n_pairs, 2, n_features), so code that only reads
    sizes treats both forms alike.
    """

    def __init__(self, X: np.ndarray, index: np.ndarray):
        self.X = X
        self.index = index

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.index.shape[0], 2, self.X.shape[1])

    def formed(self) -> np.ndarray:
        """The (n_pairs, 2, n_features) array, for the few outputs that have that size anyway."""
        return self.X[self.index]

    def points(self) -> np.ndarray:
        """The distinct points of the pairs (rows of ``X`` used at least once)."""
        return self.X[np.unique(self.index)]


def _expected_shape(tuple_size) -> str:
    if tuple_size == 2:
        return "(n_pairs, 2, n_features)"
    return f"(n_tuples, {tuple_size or 'tuple_size'}, n_features)"


def _check_tuples(array, tuple_size, label: str, expected: str, context: str) -> None:
    """The tuple size (axis 1) and non-emptiness of tuples given as points or identifiers."""
    if tuple_size is not None and array.shape[1] != tuple_size:
        raise ValueError(
            f"{label} must have shape {expected}{context}: tuples of {tuple_size} element(s) "
            f"were expected, got tuples of {array.shape[1]} element(s) (shape {array.shape})"
        )
    if array.shape[0] == 0:
        name = label.split()[0]
        raise ValueError(f"{name} is empty{context}: at least one tuple is needed")


def _formed_tuples(array, tuple_size, context: str, name: str) -> np.ndarray:
    array = as_float_array(array, name)
    if array.ndim != 3:
        raise ValueError(
            f"a 3D array of formed tuples {_expected_shape(tuple_size)} was expected{context}, "
            f"found a {array.ndim}D array of shape {array.shape}"
        )
    _check_tuples(array, tuple_size, name, _expected_shape(tuple_size), context)
    if array.shape[2] == 0:
        raise ValueError(f"{name} has no features{context}")
    return array


def check_pairs(pairs, preprocessor, estimator=None, tuple_size=2, name="pairs"):
    """Validated pairs: an ndarray (n_pairs, 2, n_features) or :class:`IndexedPairs`.

    Parameters
    ----------
    pairs : array-like
        Formed pairs (n_pairs, 2, n_features), or with a preprocessor identifiers
        (n_pairs, 2).
    preprocessor : None, ArrayIndexer or callable
        The resolved preprocessor (:func:`check_preprocessor`).
    estimator : estimator or str, optional
        Named in error messages.
    tuple_size : int or None
        Points per tuple (2 for pairs; None: any).

    Raises
    ------
    ValueError
        Wrong number of dimensions (2-D without a preprocessor, anything but 2-D or 3-D),
        wrong tuple size, empty input, NaN or infinity.
    PreprocessorError
        The preprocessor failed (a callable raised; indices out of range or not integers).
    TypeError
        Non-numeric, complex or sparse points.
    """
    context = _context(estimator)
    array = _as_array(pairs, name)
    if array.ndim == 2:
        if preprocessor is None:
            raise ValueError(
                f"a 3D array of formed tuples {_expected_shape(tuple_size)} was "
                f"expected{context}, found a 2D array of shape {array.shape}: reshape your "
                "data, or set a preprocessor to give tuples as indices"
            )
        _check_tuples(array, tuple_size, f"{name} of identifiers", f"(n, {tuple_size})", context)
        if isinstance(preprocessor, ArrayIndexer):
            index = _as_row_indices(array, preprocessor.X.shape[0])
            if tuple_size == 2:
                return IndexedPairs(preprocessor.X, index)
            return preprocessor.X[index]
        columns = []
        for k in range(array.shape[1]):
            column = as_float_array(
                _call_preprocessor(preprocessor, array[:, k]), "the preprocessor's output"
            )
            if column.ndim != 2 or column.shape[0] != array.shape[0]:
                raise ValueError(
                    f"the preprocessor must return a 2D array with one point per identifier "
                    f"({array.shape[0]}){context}, returned shape {column.shape}"
                )
            if columns and column.shape[1] != columns[0].shape[1]:
                raise ValueError(
                    f"the preprocessor returned points of {columns[0].shape[1]} and "
                    f"{column.shape[1]} features{context}"
                )
            columns.append(column)
        return _formed_tuples(np.stack(columns, axis=1), tuple_size, context, name)
    if array.ndim != 3:
        expected = f"a 3D array of formed tuples {_expected_shape(tuple_size)}"
        if preprocessor is not None:
            expected = "a 2D array of identifiers or " + expected
        raise ValueError(
            f"{expected} was expected{context}, found a {array.ndim}D array of shape {array.shape}"
        )
    return _formed_tuples(array, tuple_size, context, name)


def check_points(X, preprocessor, estimator=None):
    """``X`` itself, or with a preprocessor and 1-D identifiers the points they stand for.

    Points (2-D input) are returned untouched: the caller validates them (scikit-learn's
    ``validate_data`` records feature names from data frames).
    """
    if preprocessor is None:
        return X
    ndim = getattr(X, "ndim", None)
    if ndim is None:
        try:
            ndim = np.asarray(X).ndim
        except ValueError:  # ragged: the caller's validation reports it
            return X
    if ndim != 1:
        return X
    if len(X) == 0:
        raise ValueError(f"no identifiers were given{_context(estimator)}")
    points = _call_preprocessor(preprocessor, np.asarray(X))
    points_ndim = np.ndim(points)
    if points_ndim != 2:
        raise ValueError(
            f"the preprocessor must return a 2D array of points{_context(estimator)}, "
            f"returned a {points_ndim}D array"
        )
    return points


def check_input(
    input_data,
    y=None,
    preprocessor=None,
    type_of_inputs="classic",
    tuple_size=None,
    estimator=None,
):
    """metric-learn's ``check_input``: validated points or tuples, formed through a preprocessor.

    Parameters
    ----------
    input_data : array-like
        "classic": points (n_samples, n_features), or with a preprocessor a 1-D array of
        identifiers. "tuples": formed tuples (n_tuples, tuple_size, n_features), or with a
        preprocessor identifiers (n_tuples, tuple_size).
    y : array-like, optional
        Labels, one per point or tuple. For pairs (``tuple_size`` 2 or 3-D input of pairs) they
        must be -1 or +1.
    preprocessor : None, array-like or callable
        As the estimators' ``preprocessor`` parameter.
    type_of_inputs : {"classic", "tuples"}
    tuple_size : int, optional
        Required points per tuple.
    estimator : estimator or str, optional
        Named in error messages.

    Returns
    -------
    X : ndarray (float64)
        The formed points or tuples (this utility forms them; the estimators do not).
    y : ndarray
        Returned when ``y`` was given.
    """
    if type_of_inputs not in ("classic", "tuples"):
        raise ValueError(
            f"Unknown value {type_of_inputs!r} for type_of_inputs: 'classic' or 'tuples'"
        )
    if preprocessor is not None and not isinstance(preprocessor, ArrayIndexer):
        preprocessor = check_preprocessor(preprocessor)
    if type_of_inputs == "tuples":
        data = check_pairs(input_data, preprocessor, estimator, tuple_size, name="input_data")
        if isinstance(data, IndexedPairs):
            data = data.formed()
    else:
        data = as_float_array(check_points(input_data, preprocessor, estimator), "input_data")
        if data.ndim != 2:
            raise ValueError(
                f"a 2D array of formed points was expected{_context(estimator)}, found a "
                f"{data.ndim}D array of shape {data.shape}"
            )
        if data.shape[0] == 0 or data.shape[1] == 0:
            raise ValueError(f"input_data is empty{_context(estimator)}, shape {data.shape}")
    if y is None:
        return data
    if type_of_inputs == "tuples" and data.shape[1] == 2:
        return data, as_pair_labels(y, data.shape[0])
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != data.shape[0]:
        raise ValueError(
            f"y must be 1-D with one label per input ({data.shape[0]}), got shape {y.shape}"
        )
    return data, y


# -- distances ---------------------------------------------------------------------------------
def row_norms(Z: np.ndarray) -> np.ndarray:
    """Euclidean norms of the rows of Z, each row scaled by its largest entry first: squaring
    overflows above about 1e154 and underflows below about 1e-162, while the norm itself is
    representable."""
    scale = np.abs(Z).max(axis=1, initial=0.0)
    safe = np.where(scale > 0, scale, 1.0)
    scaled = Z / safe[:, None]
    return scale * np.sqrt(np.einsum("ij,ij->i", scaled, scaled))


def _finite_differences(diff: np.ndarray) -> np.ndarray:
    if not np.isfinite(diff).all():
        raise ValueError("pair differences overflow float64 (values near 1e308); rescale the data")
    return diff


def pair_distances(components: np.ndarray, pairs) -> np.ndarray:
    """``sqrt((x - x')^T L^T L (x - x'))`` for validated pairs (ndarray or IndexedPairs), block by
    block: the temporaries stay a block of differences however many pairs there are (a
    memory-mapped array larger than RAM), and no distance over- or underflows that float64 can
    represent."""
    if not isinstance(pairs, IndexedPairs):
        n_pairs, _, d = pairs.shape
        block = max(1, BLOCK_VALUES // max(d, components.shape[0], 1))
        distance = np.empty(n_pairs)
        for start in range(0, n_pairs, block):
            chunk = pairs[start : start + block]
            with np.errstate(over="ignore"):
                diff = _finite_differences(chunk[:, 0] - chunk[:, 1])
            distance[start : start + block] = row_norms(diff @ components.T)
        return distance
    X, index = pairs.X, pairs.index
    n_pairs = index.shape[0]
    # The points of each block are differenced first, then mapped: L (x - x') is exact where
    # L x - L x' would cancel for close points far from the origin. Up to four block-sized arrays
    # are alive at a time (two gathered rows, their image, the norms' scaled copy).
    block = max(1, BLOCK_VALUES // (4 * max(X.shape[1], components.shape[0], 1)))
    distance = np.empty(n_pairs)
    for start in range(0, n_pairs, block):
        stop = min(start + block, n_pairs)
        diff = X[index[start:stop, 0]]
        with np.errstate(over="ignore"):
            diff -= X[index[start:stop, 1]]
        distance[start:stop] = row_norms(_finite_differences(diff) @ components.T)
    return distance


def pair_points(pairs) -> np.ndarray:
    """The distinct points of validated pairs (metric-learn's data for ``init='covariance'``)."""
    if isinstance(pairs, IndexedPairs):
        return np.unique(pairs.points(), axis=0)
    return np.unique(pairs.reshape(-1, pairs.shape[2]), axis=0)


# -- init --------------------------------------------------------------------------------------
def _psd_tolerance(w: np.ndarray) -> float:
    # numpy's matrix_rank tolerance, as metric-learn uses: eigenvalues within it count as zero
    return float(np.abs(w).max() * len(w) * np.finfo(np.float64).eps)


def _not_definite(what: str) -> np.linalg.LinAlgError:
    return NotDefiniteError(
        f"{what} is not strictly positive definite; the solver starts from an SPD matrix (its "
        "objective involves M^-1). Try another `init` (e.g. 'gmml' or 'identity')."
    )


def check_init(init, n_features: int, n_components, random_state):
    """``init`` read as metric-learn reads it, for a solver that needs an SPD start.

    Returns
    -------
    str or ndarray
        "gmml", "identity", or one of ``DATA_INITS`` (resolved from the data by
        :func:`data_init`),
        or an SPD matrix of shape (n_features, n_features): the array given, a random SPD
        matrix (``sklearn.datasets.make_spd_matrix`` from ``random_state``, as metric-learn) for
        "random", or ``L^T L`` completed on its null space for an (n_components, n_features) L.

    Raises
    ------
    ValueError
        Unknown name; wrong shape; a square array that is not symmetric; an L whose number of
        rows is not ``n_components``.
    NonPSDError
        A square array with a negative eigenvalue.
    numpy.linalg.LinAlgError
        A square array that is singular (positive semidefinite but not definite), or an L of
        zeros.
    """
    if isinstance(init, str):
        if init not in INIT_NAMES:
            raise ValueError(
                f"`init` must be one of {INIT_NAMES} or a numpy array of shape "
                f"(n_features, n_features) or (n_components, n_features), got {init!r}"
            )
        if init == "random":
            return make_spd_matrix(n_features, random_state=check_random_state(random_state))
        return init
    if init is None or isinstance(init, (numbers.Number, np.bool_)):
        raise ValueError(
            f"`init` must be one of {INIT_NAMES} or a numpy array of shape "
            f"(n_features, n_features) or (n_components, n_features), got {init!r}"
        )
    array = as_float_array(init, "init")
    if array.ndim != 2 or array.shape[1] != n_features:
        raise ValueError(
            f"The input dimensionality {array.shape} of the given `init` must match the "
            f"dimensionality of the given inputs ({n_features})."
        )
    rows = array.shape[0]
    if rows > n_features:
        raise ValueError(
            f"The output dimensionality ({rows}) of the given linear transformation `init` "
            f"cannot be greater than its input dimensionality ({n_features})."
        )
    if rows == n_features:  # a square array is the Mahalanobis matrix M itself
        if not np.allclose(array, array.T):
            raise ValueError(
                "`init` is not symmetric. A square `init` is read as the Mahalanobis matrix M; "
                "for a square linear map L pass L.T @ L."
            )
        M = 0.5 * (array + array.T)
        w = np.linalg.eigvalsh(M)
        tol = _psd_tolerance(w)
        if np.any(w < -tol):
            raise NonPSDError("init", float(w[0]))
        if np.any(np.abs(w) < tol) or not np.any(w > 0):
            raise _not_definite("The given `init`")
        return M
    # (n_components, n_features): a linear map L, so M = L^T L; it is singular, so its null space
    # gets the smallest eigenvalue L^T L has (the metric on L's row space is kept as given)
    if n_components is not None and n_components != rows:
        raise ValueError(
            f"The preferred dimensionality of the projected space `n_components` "
            f"({n_components}) does not match the output dimensionality of the given linear "
            f"transformation `init` ({rows})!"
        )
    if n_components is None:
        raise ValueError(
            f"`init` of shape {array.shape} is a linear transformation to {rows} dimensions; "
            f"set n_components={rows} to use it (a square `init` is read as M)"
        )
    return _linear_map_start(array, "The given `init` (all zeros)")


def _linear_map_start(L: np.ndarray, what: str) -> np.ndarray:
    """``L^T L`` with its null space given the smallest positive eigenvalue: an SPD start that
    keeps the metric of ``L`` on its row space."""
    w, V = np.linalg.eigh(L.T @ L)
    positive = w > _psd_tolerance(w)
    if not positive.any():
        raise _not_definite(what)
    w = np.where(positive, w, w[positive].min())
    return (V * w) @ V.T


def data_init(init: str, points: np.ndarray, labels, n_components, random_state) -> np.ndarray:
    """Resolve an ``init`` that needs the data: "covariance", and metric-learn's linear-map
    starts "pca", "lda" and "auto" (read as L with ``n_components`` rows, all features by
    default, then completed as an array L is).

    ``points`` are the distinct points (supervised: ``X``); ``labels`` their classes, or None
    for pair learners (then "lda" is refused and "auto" never picks it).
    """
    if init == "covariance":
        return covariance_init(points)
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    n_samples, n_features = points.shape
    k = n_features if n_components is None else n_components
    if init == "auto":  # metric-learn's rule
        n_classes = len(np.unique(labels)) if labels is not None else -1
        if labels is not None and k <= min(n_features, n_classes - 1):
            init = "lda"
        elif k < min(n_features, n_samples):
            init = "pca"
        else:
            return np.eye(n_features)
    if init == "pca":
        pca = PCA(n_components=k, random_state=check_random_state(random_state))
        L = pca.fit(points).components_
    else:
        if labels is None:
            raise ValueError("init='lda' needs class labels: use it with the supervised learners")
        lda = LinearDiscriminantAnalysis(n_components=k).fit(points, labels)
        L = lda.scalings_.T[:k]
    return _linear_map_start(L, f"The init={init!r} transformation")


def covariance_init(points: np.ndarray) -> np.ndarray:
    """The inverse covariance of ``points`` (n_samples, n_features): ``init='covariance'``.

    Raises ``numpy.linalg.LinAlgError`` when the covariance is singular (metric-learn's learners
    that need a definite start raise the same; MMC falls back to a pseudo-inverse, which would be
    singular here).
    """
    if points.shape[0] < 2:
        raise _not_definite("The covariance of fewer than 2 distinct points")
    covariance = np.atleast_2d(np.cov(points, rowvar=False))
    w, V = np.linalg.eigh(covariance)
    if np.any(w <= _psd_tolerance(w)):
        raise _not_definite(
            "The covariance matrix of the data (linearly dependent or constant features)"
        )
    return (V / w) @ V.T
