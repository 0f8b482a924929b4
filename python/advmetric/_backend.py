"""Hands SciPy's BLAS/LAPACK routines to the compiled core.

The core is built without linking any BLAS (wheels must not assume the CPU, and Eigen's portable
kernels are ~3-5x slower than an optimised BLAS at d >= 256). SciPy exports its OpenBLAS routines
as capsules in ``scipy.linalg.cython_blas`` / ``cython_lapack``; the core calls them through
function pointers for large matrix products (dgemm, dtrmm, dtrsm), scatter updates and symmetric
congruences (dsyrk, dsyr2k), Cholesky factors and their condition (dpotrf, dpocon), eigensystems
(dsyevd) and singular value decompositions (dgesdd). Without SciPy
the core falls back to Eigen everywhere.
"""

from __future__ import annotations

import contextlib
import threading

from . import _core


def load_scipy_blas() -> bool:
    try:
        from scipy.linalg import cython_blas, cython_lapack
    except ImportError:  # pragma: no cover - scipy is a dependency; Eigen still works without it
        return False
    blas, lapack = cython_blas.__pyx_capi__, cython_lapack.__pyx_capi__
    routines = {name: blas[name] for name in ("dgemm", "dsyrk", "dsyr2k", "dtrmm", "dtrsm")}
    routines.update({name: lapack[name] for name in ("dsyevd", "dpotrf", "dpocon", "dgesdd")})
    _core._set_blas(routines)
    return True


class _BlasThreadLimit:
    """The process-wide BLAS thread limit, shared safely by concurrent and nested callers.

    OpenBLAS's thread count is one global setting per library. Saving and restoring it around
    each call (threadpoolctl's ``limit``) is wrong as soon as two fits overlap in different Python
    threads: the one that leaves last restores the other's limit, and BLAS stays limited for the
    rest of the process. Here every active request is recorded; the setting is the smallest
    active request, and the caller's own setting is restored when the last request ends.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._requests: list[int] = []
        self._libraries = None  # threadpoolctl's controllers of the loaded BLAS libraries
        self._original: list[int] = []

    @contextlib.contextmanager
    def __call__(self, n_threads: int):
        with self._lock:
            if self._libraries is None:  # scanning the loaded libraries costs about a millisecond
                from threadpoolctl import ThreadpoolController

                self._libraries = ThreadpoolController().select(user_api="blas").lib_controllers
            if not self._requests:
                self._original = [library.num_threads for library in self._libraries]
            self._requests.append(n_threads)
            self._apply()
        try:
            yield
        finally:
            with self._lock:
                self._requests.remove(n_threads)
                self._apply()

    def _apply(self) -> None:
        if self._requests:
            limits = [min(self._requests)] * len(self._libraries)
        else:
            limits = self._original
        for library, limit in zip(self._libraries, limits):
            if library.num_threads != limit:
                library.set_num_threads(limit)


_blas_thread_limit = _BlasThreadLimit()


def blas_threads(n_threads: int):
    """Limit BLAS threads to ``n_threads`` for a block (0: leave BLAS's own setting alone).

    The core's OpenMP loops take the thread count as an argument; the BLAS routines it calls keep
    their own pool, so an explicit ``n_threads`` has to reach them through threadpoolctl.
    """
    if n_threads <= 0:
        return contextlib.nullcontext()
    return _blas_thread_limit(n_threads)


#: Below this dimension the O(d^3) work of a solver iteration (products and eigensystems of
#: d x d matrices) is fastest on one BLAS thread: waking OpenBLAS's pool costs more than it
#: saves, and its threads keep spinning afterwards, slowing whatever OpenMP or BLAS work comes
#: next (scikit-learn's k-NN in a pipeline, numpy's own BLAS). Measured on 2 cores, per L-BFGS
#: iteration: d = 64: 0.70 ms on 1 thread, 1.19 ms on 2; d = 128: 2.2 vs 2.5; even at d = 256.
SERIAL_BLAS_BELOW = 256


def dense_blas_threads(n_threads: int, d: int):
    """:func:`blas_threads` for work on d x d matrices: one thread below ``SERIAL_BLAS_BELOW``."""
    return blas_threads(1 if d < SERIAL_BLAS_BELOW else n_threads)


def pass_blas_threads():
    """BLAS threads around a core call that wraps an OpenMP pass over the pairs in d x d work
    (adversarial pairs, the pairwise gradient: the SPD check and eigensystem of M before the pass,
    the gradient's rotation back after it): one. The adversarial pass also calls dgemm from each
    of its OpenMP threads, which must then run on the thread that calls it.

    A BLAS call on several threads leaves that OpenBLAS pool spinning for about 0.1 s (2^28
    cycles) after it returns, and numpy and SciPy each have a pool. Both spinning through the
    OpenMP pass took its speed-up away: 200,000 pairs at d = 64 took 80 ms on one thread and
    84 ms on two, against 46 ms on two with this limit. The d x d work costs less on one BLAS
    thread than the pass lost. Like every request here, the limit holds process-wide for the
    whole call (a concurrent solve in another Python thread gets one BLAS thread meanwhile).
    """
    return blas_threads(1)


def statistics_blas_threads(n_threads: int, d: int):
    """BLAS threads around the core's statistics pass over d-dimensional pairs.

    Up to ``_core.MAX_PRIVATE_SCATTER_DIM`` the core threads the pass itself (OpenMP threads,
    each folding its own blocks in with a one-thread dsyrk), so BLAS must run on the calling
    thread; above it the pass gathers serially and BLAS threads the update.
    """
    return blas_threads(1 if d <= _core.MAX_PRIVATE_SCATTER_DIM else n_threads)


def build_info() -> dict:
    """How the compiled core was built: version, compiler, OpenMP (and its default thread count),
    Eigen's version and the SIMD instruction sets it compiled in. ``_core.build_info()``; modules
    other than this one reach the core through here."""
    return _core.build_info()
