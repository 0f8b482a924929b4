"""Input checks shared by the array API and the estimators.

Every check raises ``TypeError`` (wrong kind of object) or ``ValueError`` (right kind, bad value)
with a message that names the argument, so bad input never reaches the compiled kernels.
"""

from __future__ import annotations

import numbers
import os

import numpy as np

_SYMMETRY_RTOL = 1e-8


#: Values per step of the finiteness scan: the scan's temporary stays small even on a memory-mapped
#: array larger than RAM.
_SCAN_BLOCK = 1 << 22


def all_finite(array: np.ndarray) -> bool:
    """Whether every value of a C-contiguous array is finite, scanned block by block."""
    flat = array.reshape(-1)
    return all(
        np.isfinite(flat[start : start + _SCAN_BLOCK]).all()
        for start in range(0, flat.size, _SCAN_BLOCK)
    )


def max_abs(array: np.ndarray) -> float:
    """The largest magnitude in a C-contiguous array (0 for an empty one), block by block."""
    flat = array.reshape(-1)
    return max(
        (
            float(np.abs(flat[start : start + _SCAN_BLOCK]).max())
            for start in range(0, flat.size, _SCAN_BLOCK)
        ),
        default=0.0,
    )


def as_float_array(value, name: str, *, finite: bool = True) -> np.ndarray:
    """``value`` as float64, C-contiguous; rejects non-numeric, complex and (with ``finite``)
    non-finite data."""
    if (
        type(value) is np.ndarray
        and value.dtype == np.float64
        and value.flags.c_contiguous
        and value.flags.aligned
    ):  # the common case, without numpy's conversion machinery (it dominates calls at small d)
        if finite and not all_finite(value):
            raise ValueError(f"{name} contains NaN or infinity")
        return value
    if hasattr(value, "toarray") or type(value).__module__.startswith("scipy.sparse"):
        raise TypeError(
            f"{name} is a sparse matrix; advmetric needs dense input (call .toarray() first)"
        )
    try:
        array = np.asarray(value)
    except ValueError as exc:  # ragged nested sequences
        raise ValueError(f"{name} must be a rectangular array of numbers: {exc}") from None
    if array.dtype == object:
        raise ValueError(
            f"{name} must be a rectangular array of numbers (got ragged or object data)"
        )
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real-valued, got complex dtype {array.dtype}")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
    # C-contiguous and aligned: the kernels read raw float64 pointers (an unaligned view, e.g. from
    # np.frombuffer at an odd offset, is copied here rather than read misaligned).
    array = np.require(array, dtype=np.float64, requirements=["C_CONTIGUOUS", "ALIGNED"])
    if finite and not all_finite(array):
        raise ValueError(f"{name} contains NaN or infinity")
    return array


def check_not_text(value, name: str) -> None:
    """Refuse strings and bytes, which scikit-learn's validation would parse as numbers.

    For the estimators, whose 2-D input goes through scikit-learn's ``validate_data``: arrays of
    strings or bytes, and object arrays holding any, raise ``TypeError``. Object arrays of numbers
    stay accepted (scikit-learn's ``check_dtype_object`` requires it). Objects without a numpy
    dtype (data frames, ragged lists) are left to ``validate_data``.
    """
    dtype = getattr(value, "dtype", None)
    if dtype is None and isinstance(value, (list, tuple)):
        try:
            value = np.asarray(value)
        except ValueError:  # ragged nested sequences
            return
        dtype = value.dtype
    if not isinstance(dtype, np.dtype):
        return
    if dtype.kind in "SU":
        raise TypeError(f"{name} must be numeric, got dtype {dtype}")
    if dtype.kind == "O" and any(isinstance(v, (str, bytes)) for v in np.asarray(value).flat):
        raise TypeError(f"{name} must be numeric, got an object array holding strings")


def as_pairs(pairs, name: str = "pairs") -> np.ndarray:
    array = as_float_array(pairs, name)
    if array.ndim != 3 or array.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n_pairs, 2, n_features), got {array.shape}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty: at least one pair is needed")
    if array.shape[2] == 0:
        raise ValueError(f"{name} has no features")
    return array


def as_pair_labels(y, n_pairs: int, name: str = "y") -> np.ndarray:
    """Pair labels as int8 in {-1, +1}."""
    array = np.asarray(y)
    if (
        array.dtype == object
        or np.issubdtype(array.dtype, np.complexfloating)
        or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool)
    ):
        raise TypeError(f"{name} must hold the numbers -1 and +1, got dtype {array.dtype}")
    if array.ndim != 1 or array.shape[0] != n_pairs:
        raise ValueError(
            f"{name} must be 1-D with one label per pair ({n_pairs}), got shape {array.shape}"
        )
    values = set(np.unique(array).tolist())
    if not values <= {-1, 1}:
        hint = " ({0, 1} labels: use -1 for dissimilar pairs)" if values <= {0, 1} else ""
        raise ValueError(
            f"{name} must contain only -1 (dissimilar) and +1 (similar), got {sorted(values)}{hint}"
        )
    return np.ascontiguousarray(array, dtype=np.int8)


def as_square_shape(value, name: str, n_features: int | None = None) -> np.ndarray:
    """A float64 square matrix of the right size; its values (finite, symmetric, and positive
    definite where required) are checked by the compiled core, which sees them anyway."""
    array = as_float_array(value, name, finite=False)
    if array.ndim != 2 or array.shape[0] != array.shape[1] or array.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {array.shape}")
    if n_features is not None and array.shape[0] != n_features:
        raise ValueError(f"{name} must be {n_features} x {n_features}, got {array.shape}")
    return array


def as_square(
    value, name: str, n_features: int | None = None, *, symmetric: bool = True
) -> np.ndarray:
    """A finite square matrix, made exactly symmetric (checked in Python: for matrices that no
    kernel checks on its way)."""
    array = as_square_shape(value, name, n_features)
    if not all_finite(array):
        raise ValueError(f"{name} contains NaN or infinity")
    if symmetric:
        scale = np.abs(array).max()
        if np.abs(array - array.T).max() > _SYMMETRY_RTOL * scale:
            raise ValueError(f"{name} must be symmetric")
        array = 0.5 * (array + array.T)
    return array


def as_spd(value, name: str, n_features: int | None = None) -> np.ndarray:
    array = as_square(value, name, n_features)
    smallest = np.linalg.eigvalsh(array)[0]
    if not smallest > 0:
        raise ValueError(
            f"{name} must be symmetric positive definite (smallest eigenvalue {smallest:.3g})"
        )
    return array


def check_scatter_shapes(A, B) -> tuple[np.ndarray, np.ndarray]:
    """Scatter matrices A and B of one size (their values are checked by the core)."""
    A = as_square_shape(A, "A")
    B = as_square_shape(B, "B", A.shape[0])
    return A, B


def check_real(value, name: str, *, low: float | None = None, low_inclusive: bool = True) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and (value < low or (not low_inclusive and value == low)):
        relation = ">=" if low_inclusive else ">"
        raise ValueError(f"{name} must be {relation} {low}, got {value}")
    return value


#: The largest beta float64 can evaluate the adversarial terms at: beta^2 and (2 + beta)^2 overflow
#: a little above 1e154. Nothing is lost: as beta grows, AML's objective tends to (1 + alpha) times
#: GMML's, which beta = 1e150 already reproduces to double precision.
MAX_BETA = 1e150


def check_beta(value, name: str = "beta") -> float:
    """beta of Eqs. 3 and 11: a real number in (0, MAX_BETA]."""
    beta = check_real(value, name, low=0, low_inclusive=False)
    if beta > MAX_BETA:
        raise ValueError(
            f"{name} must be at most {MAX_BETA:g}, got {beta:g}: float64 cannot evaluate AML's "
            "adversarial terms beyond it (beta^2 overflows). As beta grows AML tends to GMML "
            f"weighted by (1 + alpha), which {name} = {MAX_BETA:g} already gives"
        )
    return beta


def check_int(value, name: str, *, low: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def check_n_threads(n_threads) -> int:
    """``None`` or -1: every available thread (0 for the core); otherwise a positive count.

    Counts above the number of CPUs are capped at it: the kernels are CPU-bound, so more threads
    than CPUs only add overhead.
    """
    if n_threads is None:
        return 0
    n_threads = check_int(n_threads, "n_threads", low=-1)
    if n_threads == 0:
        raise ValueError("n_threads must be a positive integer, -1 or None")
    return 0 if n_threads == -1 else min(n_threads, os.cpu_count() or 1)


def check_scatter_finite(A: np.ndarray, B: np.ndarray) -> None:
    """The scatter sums overflow float64 when pair differences approach 1e154."""
    if not (np.isfinite(A).all() and np.isfinite(B).all()):
        raise ValueError(
            "the pair scatter matrices overflow float64 (differences too large); rescale the data"
        )
