"""Hands SciPy's BLAS/LAPACK routines to the compiled core.

The core is built without linking any BLAS (wheels must not assume the CPU, and Eigen's portable
kernels are ~3-5x slower than an optimised BLAS at d >= 256). SciPy exports its OpenBLAS routines
as capsules in ``scipy.linalg.cython_blas`` / ``cython_lapack``; the core calls them through
function pointers for large matrix products (dgemm, dtrmm), scatter updates (dsyrk), Cholesky
factors (dpotrf), eigensystems (dsyevd) and singular value decompositions (dgesdd). Without SciPy
the core falls back to Eigen everywhere.
"""

from __future__ import annotations

import contextlib

from . import _core


def load_scipy_blas() -> bool:
    try:
        from scipy.linalg import cython_blas, cython_lapack
    except ImportError:  # pragma: no cover - scipy is a dependency; Eigen still works without it
        return False
    blas, lapack = cython_blas.__pyx_capi__, cython_lapack.__pyx_capi__
    _core._set_blas(
        blas["dgemm"],
        blas["dsyrk"],
        blas["dtrmm"],
        lapack["dsyevd"],
        lapack["dpotrf"],
        lapack["dgesdd"],
    )
    return True


_controller = None


def blas_threads(n_threads: int):
    """Limit BLAS threads to ``n_threads`` for a block (0: leave BLAS's own setting alone).

    The core's OpenMP loops take the thread count as an argument; the BLAS routines it calls keep
    their own pool, so an explicit ``n_threads`` has to reach them through threadpoolctl. Its
    controller is made once: scanning the loaded libraries costs about a millisecond.
    """
    global _controller
    if n_threads <= 0:
        return contextlib.nullcontext()
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=n_threads, user_api="blas")
