"""The gateway to the compiled core: the only module that imports ``advmetric._core``.

Every call into C++ goes through one function here, which

* hands the core float64 / int8 / int64 arrays that are C-contiguous and aligned (the kernels read
  raw pointers), copying only what is not already so, and
* runs the call under the thread policy (:func:`thread_plan`): how many OpenMP threads the core's
  pass over the pairs may start, and how many threads the BLAS libraries may use meanwhile.

Arguments are not validated here: :mod:`advmetric.aml`, :class:`advmetric.PairStatistics` and the
estimators check what they are given, once, before they call in. The core re-checks shapes (a bad
direct call is an exception, not a crash) and checks the values that only it sees cheaply: that
M, A and B are finite and symmetric, and that M is positive definite (from the eigensystem it
computes anyway).

The core is built without linking any BLAS (wheels must not assume the CPU). SciPy exports its
BLAS/LAPACK routines as capsules in ``scipy.linalg.cython_blas`` / ``cython_lapack``;
:func:`load_blas` hands them to the core, which calls them through function pointers for large
products, factorisations and eigensystems, and falls back to Eigen without them.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass

import numpy as np

from . import _core
from ._progress import progress

__version__ = _core.__version__

#: Values (pairs x 2 x features) per call of the core in a pass over the pairs: large enough that
#: a call's fixed costs (starting the thread team, the final reduction) do not matter, small enough
#: that Ctrl-C, which Python can only act on between calls, lands promptly.
BLOCK_VALUES = 1 << 27

#: Below this dimension the O(d^3) work on d x d matrices runs on one BLAS thread: waking a BLAS
#: pool costs more than it saves there, and its threads keep spinning after the call, against
#: whatever runs next (the caller's own numpy, scikit-learn's k-NN, another process).
SERIAL_BLAS_BELOW = 256

#: Up to this dimension the core's statistics pass threads itself with OpenMP, each thread folding
#: its blocks in with a one-thread BLAS update; above it, it gathers serially and BLAS threads.
MAX_PRIVATE_SCATTER_DIM = _core.MAX_PRIVATE_SCATTER_DIM

#: Smallest dimension at which the core calls BLAS/LAPACK at all; below it Eigen does everything,
#: so there is no BLAS pool to limit.
BLAS_FROM_DIM = _core.BLAS_FROM_DIM


def load_blas() -> bool:
    """Hand SciPy's BLAS/LAPACK routines to the core; False (Eigen everywhere) without SciPy."""
    try:
        from scipy.linalg import cython_blas, cython_lapack
    except ImportError:  # pragma: no cover - scipy is a dependency; Eigen still works without it
        return False
    blas, lapack = cython_blas.__pyx_capi__, cython_lapack.__pyx_capi__
    routines = {name: blas[name] for name in ("dgemm", "dsyrk", "dsyr2k", "dtrmm", "dtrsm")}
    routines.update(
        {name: lapack[name] for name in ("dsyevd", "dpotrf", "dpotri", "dpocon", "dgesdd")}
    )
    _core._set_blas(routines)
    return True


def has_openmp() -> bool:
    return _core.has_openmp()


# -- the thread policy --------------------------------------------------------------------------

# GNU OpenMP's worker threads do not survive fork(), yet the child's runtime believes they exist,
# so the child's first parallel region with more than one thread waits for them forever. In a
# forked child every pass therefore runs on the calling thread (BLAS pools, by contrast, reset
# themselves in the child).
_in_forked_child = False


def _after_fork_in_child() -> None:
    """The child's passes run on one thread, and its BLAS limit starts afresh: a request that was
    active in another thread of the parent at the fork never ends in the child (that thread is
    not there), so the copied record would keep BLAS limited for good, and a lock held at the
    fork would stay held."""
    global _in_forked_child, _blas_thread_limit
    _in_forked_child = True
    inherited = _blas_thread_limit
    _blas_thread_limit = _BlasThreadLimit()
    if inherited._requests and inherited._libraries is not None:
        for library, original in zip(inherited._libraries, inherited._original):
            library.set_num_threads(original)


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_after_fork_in_child)


@dataclass(frozen=True)
class ThreadPlan:
    """Threads for one core call: ``openmp`` for its pass over the pairs (0: the OpenMP default,
    which follows OMP_NUM_THREADS and threadpoolctl), ``blas`` the cap on every BLAS library's
    threads during the call (0: leave the caller's setting)."""

    openmp: int
    blas: int


def thread_plan(work: str, d: int, n_threads: int) -> ThreadPlan:
    """The thread policy, decided here and nowhere else.

    ``work`` is what the core call does: ``"dense"`` (only d x d algebra: objective, gradient,
    GMML, the solver), ``"pairs"`` (an OpenMP pass over the pairs that calls BLAS from each of its
    threads, with d x d set-up around it: adversarial pairs, the pairwise gradient) or
    ``"statistics"`` (the scatter pass). ``n_threads`` is a checked count, 0 for "all available".
    The two kinds of threads are never both many: while an OpenMP pass runs, BLAS runs on the
    thread that calls it.
    """
    openmp = 1 if _in_forked_child else n_threads
    if work == "dense":
        if d < BLAS_FROM_DIM:
            return ThreadPlan(openmp, 0)
        return ThreadPlan(openmp, 1 if d < SERIAL_BLAS_BELOW else n_threads)
    if work == "pairs":
        return ThreadPlan(openmp, 1)
    if work == "statistics":
        return ThreadPlan(openmp, 1 if d <= MAX_PRIVATE_SCATTER_DIM else n_threads)
    raise ValueError(f"unknown kind of work {work!r}")


class _BlasThreadLimit:
    """The process-wide BLAS thread limit, shared safely by concurrent callers.

    A BLAS library's thread count is one global setting. Saving and restoring it around each call
    is wrong as soon as two calls overlap in different Python threads: the one that ends last
    restores the other's limit. Here every active request is recorded; the setting is the smallest
    active request (never more than the caller's own setting, so a user's threadpoolctl limit
    holds), and the caller's setting comes back when the last request ends.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._requests: list[int] = []
        self._libraries = None  # threadpoolctl's controllers of the loaded BLAS libraries
        self._original: list[int] = []

    def __call__(self, n_threads: int) -> _BlasThreadRequest:
        return _BlasThreadRequest(self, n_threads)

    def enter(self, n_threads: int) -> None:
        with self._lock:
            if self._libraries is None:  # scanning the loaded libraries is slow: once
                from threadpoolctl import ThreadpoolController

                self._libraries = ThreadpoolController().select(user_api="blas").lib_controllers
            if not self._requests:
                self._original = [library.num_threads for library in self._libraries]
            self._requests.append(n_threads)
            self._apply()

    def exit(self, n_threads: int) -> None:
        with self._lock:
            self._requests.remove(n_threads)
            self._apply()

    def _apply(self) -> None:
        # The current value is read, not remembered: other code (a user's threadpool_limits in
        # another thread) may have changed it while a request was active.
        for library, original in zip(self._libraries, self._original):
            limit = min(min(self._requests), original) if self._requests else original
            if library.num_threads != limit:
                library.set_num_threads(limit)


class _BlasThreadRequest:
    """One ``with`` block of a :class:`_BlasThreadLimit`: a plain class, because a generator-based
    context manager costs more than the limit itself at small d."""

    __slots__ = ("_limit", "_n_threads")

    def __init__(self, limit: _BlasThreadLimit, n_threads: int):
        self._limit, self._n_threads = limit, n_threads

    def __enter__(self) -> None:
        self._limit.enter(self._n_threads)

    def __exit__(self, *exc) -> None:
        self._limit.exit(self._n_threads)


_blas_thread_limit = _BlasThreadLimit()


def blas_threads(n_threads: int):
    """A block with every BLAS library on at most ``n_threads`` threads (0: no limit)."""
    if n_threads <= 0:
        return contextlib.nullcontext()
    return _blas_thread_limit(n_threads)


def dense_work(d: int, n_threads: int):
    """The thread limit of d x d work, for numpy work of that size done next to the core's (the
    projections and k-NN of a cross-validated search)."""
    return blas_threads(thread_plan("dense", d, n_threads).blas)


def _plan_for(work: str, d: int, n_threads: int):
    plan = thread_plan(work, d, n_threads)
    return plan.openmp, blas_threads(plan.blas)


# -- conversion ---------------------------------------------------------------------------------


def _doubles(array) -> np.ndarray:
    return np.require(array, dtype=np.float64, requirements=["C_CONTIGUOUS", "ALIGNED"])


def _labels(y) -> np.ndarray:
    return np.require(y, dtype=np.int8, requirements=["C_CONTIGUOUS", "ALIGNED"])


def _indices(index_pairs) -> np.ndarray:
    return np.require(index_pairs, dtype=np.int64, requirements=["C_CONTIGUOUS", "ALIGNED"])


# -- the kernels ----------------------------------------------------------------------------------


def _scatter_in_blocks(n: int, d: int, n_threads: int, reduce_block, verbose: bool):
    """Sum ``reduce_block(start, stop, openmp_threads)`` over blocks of :data:`BLOCK_VALUES`.

    Python takes the GIL back between blocks, so Ctrl-C lands within one block's work; the sums
    are deterministic for a fixed thread count.
    """
    block = max(1, BLOCK_VALUES // (2 * d))
    openmp, limit = _plan_for("statistics", d, n_threads)
    A, B = np.zeros((d, d)), np.zeros((d, d))
    n_similar = n_dissimilar = 0
    starts = range(0, n, block)
    with limit:
        for start in progress(starts, total=len(starts), desc="pair statistics", verbose=verbose):
            A_block, B_block, s, t = reduce_block(start, min(start + block, n), openmp)
            A += A_block
            B += B_block
            n_similar += s
            n_dissimilar += t
    return A, B, n_similar, n_dissimilar


def scatter_pairs(pairs, labels, n_threads: int, verbose: bool = False, scale: float = 1.0):
    """``(A, B, n_similar, n_dissimilar)`` of (n, 2, d) pairs with labels in {-1, +1}, one core
    call per block of pairs (no array of differences is built); with ``scale``, of the pairs
    times ``scale`` (one scaled block at a time)."""
    labels = _labels(labels)

    def reduce_block(start, stop, openmp):
        block = _doubles(pairs[start:stop])
        if scale != 1.0:
            block = block * scale
        return _core.pair_statistics(block, labels[start:stop], openmp)

    return _scatter_in_blocks(pairs.shape[0], pairs.shape[2], n_threads, reduce_block, verbose)


def scatter_indices(X, index_pairs, labels, n_threads: int, verbose: bool = False):
    """``(A, B, n_similar, n_dissimilar)`` of the pairs ``(X[i], X[j])``, ``(i, j)`` the rows of
    ``index_pairs``; the core forms the differences from ``X``, one block of pairs per call."""
    X, index_pairs, labels = _doubles(X), _indices(index_pairs), _labels(labels)

    def reduce_block(start, stop, openmp):
        return _core.pair_statistics_indices(X, index_pairs[start:stop], labels[start:stop], openmp)

    return _scatter_in_blocks(index_pairs.shape[0], X.shape[1], n_threads, reduce_block, verbose)


def adversarial_pairs(M, pairs, labels, beta: float, n_threads: int, *, components=None):
    """Pi* of Eq. 9 for every pair; M may instead be given as ``components`` L (M = L^T L, formed
    under the same thread limit as the pass)."""
    pairs = _doubles(pairs)
    openmp, limit = _plan_for("pairs", pairs.shape[2], n_threads)
    with limit:
        if components is not None:
            M = components.T @ components
        return _core.adversarial_pairs(_doubles(M), pairs, _labels(labels), beta, openmp)


def gradient_pairwise(M, pairs, labels, alpha: float, beta: float, n_threads: int) -> np.ndarray:
    pairs = _doubles(pairs)
    openmp, limit = _plan_for("pairs", pairs.shape[2], n_threads)
    with limit:
        return _core.gradient_pairwise(_doubles(M), pairs, _labels(labels), alpha, beta, openmp)


# ``check_scatter``: the core checks that A and B are positive semi-definite. The array API asks for
# it (A and B come from the user); the estimators, which build A and B from pairs, do not.


# ``eigenbasis``: evaluate in M's eigenbasis even where the core would use Cholesky factors (the
# tests compare the two routes).


def objective(
    M, A, B, alpha: float, beta: float, check_scatter: bool = True, eigenbasis: bool = False
) -> float:
    _, limit = _plan_for("dense", A.shape[0], 0)
    with limit:
        return _core.objective(
            _doubles(M), _doubles(A), _doubles(B), alpha, beta, check_scatter, eigenbasis
        )


def gradient(
    M, A, B, alpha: float, beta: float, check_scatter: bool = True, eigenbasis: bool = False
) -> np.ndarray:
    _, limit = _plan_for("dense", A.shape[0], 0)
    with limit:
        return _core.gradient(
            _doubles(M), _doubles(A), _doubles(B), alpha, beta, check_scatter, eigenbasis
        )


def evaluate(M, A, B, alpha: float, beta: float, check_scatter: bool = True):
    """``(D(M), grad D(M), ||M^{1/2} grad M^{1/2}||_F / D)`` from one eigendecomposition."""
    _, limit = _plan_for("dense", A.shape[0], 0)
    with limit:
        return _core.evaluate(_doubles(M), _doubles(A), _doubles(B), alpha, beta, check_scatter)


def hessian_vector(M, A, B, alpha: float, beta: float, V, check_scatter: bool = True):
    """The Hessian of D at M applied to the symmetric part of V."""
    _, limit = _plan_for("dense", A.shape[0], 0)
    with limit:
        return _core.hessian_vector(
            _doubles(M), _doubles(A), _doubles(B), alpha, beta, _doubles(V), check_scatter
        )


def project_spd(M, eps: float) -> np.ndarray:
    _, limit = _plan_for("dense", M.shape[0], 0)
    with limit:
        return _core.project_spd(_doubles(M), eps)


def ridge(A, B, reg: float, check_scatter: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``(A + reg tr(A)/d I, B + reg tr(B)/d I)``."""
    return _core.ridge(_doubles(A), _doubles(B), reg, check_scatter)


def gmml(A, B, reg: float, n_threads: int = 0, check_scatter: bool = True) -> np.ndarray:
    _, limit = _plan_for("dense", A.shape[0], n_threads)
    with limit:
        return _core.gmml(_doubles(A), _doubles(B), reg, check_scatter)


#: ``solver="auto"``: Newton-CG below this dimension, L-BFGS from it on. Newton-CG needs about a
#: third of L-BFGS's iterations and eigendecompositions for about seven Hessian products
#: (d x d x 6d each, plus two congruences); in time to solution it was measured faster at every
#: size up to d = 1536 (benchmarks/compare.py, target 6, prints both), by a margin that narrows as
#: the eigendecomposition's share of the work falls with d. Past the measured range L-BFGS is
#: kept: the two were converging, and Newton's product holds two extra d x 6d matrices.
NEWTON_BELOW = 1600


def auto_solver(d: int) -> str:
    """The solver that ``solver="auto"`` runs at dimension d."""
    return "newton-cg" if d < NEWTON_BELOW else "lbfgs"


def solve(
    A,
    B,
    alpha: float,
    beta: float,
    *,
    n_threads: int,
    solver: str,
    max_iter: int,
    init=None,
    **options,
) -> dict:
    """The core's solver; ``options`` are its other keyword arguments (tol, reg, step, ...)."""
    _, limit = _plan_for("dense", A.shape[0], n_threads)
    if init is not None:
        init = _doubles(init)
    # The core counts iterations in a C int; more than 2^31 - 1 iterations is "no limit" anyway.
    max_iter = min(max_iter, np.iinfo(np.int32).max)
    solver = auto_solver(A.shape[0]) if solver == "auto" else solver
    with limit:
        return _core.solve(
            _doubles(A),
            _doubles(B),
            alpha,
            beta,
            solver=solver,
            max_iter=max_iter,
            init=init,
            **options,
        )


def symmetric_eigh(M, n_threads: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """numpy's ``eigh`` under the thread policy of the core's d x d work (its LAPACK is numpy's
    own BLAS library, whose pool spins after a threaded call just as SciPy's does)."""
    _, limit = _plan_for("dense", M.shape[0], n_threads)
    with limit:
        return np.linalg.eigh(M)


# -- what the core is -------------------------------------------------------------------------


def build_info() -> dict:
    """How the compiled core was built: version, compiler, OpenMP (and its default thread count),
    Eigen's version and the SIMD instruction sets it compiled in."""
    return _core.build_info()


def core_path() -> str:
    """The file of the compiled core."""
    return _core.__file__


def blas_active() -> bool:
    """Whether the core calls BLAS/LAPACK routines (SciPy's) rather than Eigen's own kernels."""
    return _core.blas_active()
