"""Type stubs for the compiled kernels, reached only through :mod:`advmetric._backend`.

``check_scatter``: the core checks that A and B are positive semi-definite (the array API asks for
it; the estimators, which build A and B from pairs, do not).
"""

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Labels = NDArray[np.int8]
Statistics = tuple[Floats, Floats, int, int]

__version__: str
MAX_PRIVATE_SCATTER_DIM: int
BLAS_FROM_DIM: int

# build and BLAS
def has_openmp() -> bool: ...
def build_info() -> dict[str, Any]: ...
def max_threads() -> int: ...
def _set_blas(capsules: dict[str, Any]) -> None: ...
def _use_blas(enabled: bool) -> None: ...
def blas_active() -> bool: ...

# statistics
def pair_statistics(pairs: Floats, y: Labels, n_threads: int = 0) -> Statistics: ...
def pair_statistics_indices(
    X: Floats, index_pairs: NDArray[np.int64], y: Labels, n_threads: int = 0
) -> Statistics: ...

# adversarial pairs
def adversarial_pairs(
    M: Floats, pairs: Floats, y: Labels, beta: float, n_threads: int = 0
) -> Floats: ...

# objective, gradient, Hessian
def objective(
    M: Floats, A: Floats, B: Floats, alpha: float, beta: float, check_scatter: bool = True,
    eigenbasis: bool = False,
) -> float: ...  # fmt: skip
def gradient(
    M: Floats, A: Floats, B: Floats, alpha: float, beta: float, check_scatter: bool = True,
    eigenbasis: bool = False,
) -> Floats: ...  # fmt: skip
def evaluate(
    M: Floats, A: Floats, B: Floats, alpha: float, beta: float, check_scatter: bool = True
) -> tuple[float, Floats, float]: ...
def hessian_vector(
    M: Floats, A: Floats, B: Floats, alpha: float, beta: float, V: Floats,
    check_scatter: bool = True,
) -> Floats: ...  # fmt: skip
def _best_eigenvalue(a: float, b: float, alpha: float, beta: float, start: float) -> float: ...
def gradient_pairwise(
    M: Floats, pairs: Floats, y: Labels, alpha: float, beta: float, n_threads: int = 0
) -> Floats: ...

# spectral functions
def project_spd(M: Floats, eps: float) -> Floats: ...

# GMML
def ridge(
    A: Floats, B: Floats, reg: float, check_scatter: bool = True
) -> tuple[Floats, Floats]: ...
def gmml(A: Floats, B: Floats, reg: float = 0.0, check_scatter: bool = True) -> Floats: ...

# solver
def solve(
    A: Floats, B: Floats, alpha: float, beta: float, solver: str = "newton-cg",
    max_iter: int = 1000, tol: float = 1e-8, reg: float = 0.0, init: Floats | None = None,
    step: float = 1e-3, eig_floor: float = 1e-12, memory: int = 10,
    callback: Callable[[int, float, float], None] | None = None, check_scatter: bool = True,
) -> dict[str, Any]: ...  # fmt: skip
