"""Type stubs for the compiled kernels. Use :mod:`advmetric.aml`, which validates its inputs."""

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

__version__: str

def has_openmp() -> bool: ...
def build_info() -> dict[str, Any]: ...
def max_threads() -> int: ...
def pair_statistics(
    pairs: NDArray[np.float64], y: NDArray[np.int8], n_threads: int = 0
) -> tuple[NDArray[np.float64], NDArray[np.float64], int, int]: ...
def pair_statistics_indices(
    X: NDArray[np.float64],
    index_pairs: NDArray[np.int64],
    y: NDArray[np.int8],
    n_threads: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64], int, int]: ...
def adversarial_pairs(
    M: NDArray[np.float64],
    pairs: NDArray[np.float64],
    y: NDArray[np.int8],
    beta: float,
    n_threads: int = 0,
) -> NDArray[np.float64]: ...
def objective(
    M: NDArray[np.float64],
    A: NDArray[np.float64],
    B: NDArray[np.float64],
    alpha: float,
    beta: float,
) -> float: ...
def gradient(
    M: NDArray[np.float64],
    A: NDArray[np.float64],
    B: NDArray[np.float64],
    alpha: float,
    beta: float,
) -> NDArray[np.float64]: ...
def hessian_vector(
    M: NDArray[np.float64],
    A: NDArray[np.float64],
    B: NDArray[np.float64],
    alpha: float,
    beta: float,
    V: NDArray[np.float64],
) -> NDArray[np.float64]: ...
def gradient_pairwise(
    M: NDArray[np.float64],
    pairs: NDArray[np.float64],
    y: NDArray[np.int8],
    alpha: float,
    beta: float,
    n_threads: int = 0,
) -> NDArray[np.float64]: ...
def project_spd(M: NDArray[np.float64], eps: float) -> NDArray[np.float64]: ...
def ridge(
    A: NDArray[np.float64], B: NDArray[np.float64], reg: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
def gmml(
    A: NDArray[np.float64], B: NDArray[np.float64], reg: float = 0.0
) -> NDArray[np.float64]: ...
def solve(
    A: NDArray[np.float64],
    B: NDArray[np.float64],
    alpha: float,
    beta: float,
    solver: str = "lbfgs",
    max_iter: int = 1000,
    tol: float = 1e-8,
    reg: float = 0.0,
    init: NDArray[np.float64] | None = None,
    step: float = 1e-3,
    eig_floor: float = 1e-12,
    memory: int = 10,
    callback: Callable[[int, float, float], None] | None = None,
) -> dict[str, Any]: ...

MAX_PRIVATE_SCATTER_DIM: int

def _set_blas(capsules: dict[str, Any]) -> None: ...
def _use_blas(enabled: bool) -> None: ...
def blas_active() -> bool: ...
