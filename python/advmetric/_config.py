"""``advmetric.show_config()``: how this installation was built and what it runs on.

What a bug report needs: the version, the compiler, whether the core has OpenMP and how many
threads it starts, Eigen's version and SIMD, and which BLAS/LAPACK the core calls. The core does
not link a BLAS: it calls the routines SciPy exports (``scipy.linalg.cython_blas`` /
``cython_lapack``), so the library reported is SciPy's, as threadpoolctl finds it loaded.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path

from . import _backend

#: Environment variables that change thread counts or OpenMP behaviour, shown when set.
_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OMP_THREAD_LIMIT",
    "OMP_DYNAMIC",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_CORETYPE",
    "KMP_DUPLICATE_LIB_OK",
)

_DEPENDENCIES = ("numpy", "scipy", "scikit-learn", "threadpoolctl")


def _under_scipy(filepath: str) -> bool:
    # SciPy's wheels keep their OpenBLAS in scipy.libs/ (Linux, Windows) or scipy/.dylibs/ (macOS).
    parts = Path(filepath).parts
    return "scipy" in parts or "scipy.libs" in parts


def _threadpools() -> tuple[list[dict], list[dict]]:
    """(BLAS libraries SciPy's routines come from, OpenMP runtimes loaded in this process)."""
    import scipy.linalg.cython_blas  # noqa: F401  (make sure SciPy's BLAS is loaded)
    from threadpoolctl import threadpool_info

    pools = threadpool_info()
    blas = [p for p in pools if p.get("user_api") == "blas"]
    scipy_blas = [p for p in blas if _under_scipy(p.get("filepath", ""))]
    # A SciPy linked against a shared system or conda BLAS has no library of its own: report every
    # BLAS then (usually one, shared with numpy).
    return scipy_blas or blas, [p for p in pools if p.get("user_api") == "openmp"]


def config_info() -> dict:
    """The facts :func:`show_config` prints, as a dict (for tests and tools)."""
    build = _backend.build_info()
    blas, openmp = _threadpools()
    versions = {}
    for name in _DEPENDENCIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover - all are dependencies
            versions[name] = None
    gil = getattr(sys, "_is_gil_enabled", None)
    return {
        "advmetric": build["version"],
        "core": _backend.core_path(),
        "build": build,
        "blas_active": _backend.blas_active(),
        "blas": blas,
        "openmp_runtimes": openmp,
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "gil_enabled": True if gil is None else bool(gil()),
        "platform": f"{platform.system()} {platform.machine()} ({platform.platform()})",
        "cpu_count": os.cpu_count(),
        "dependencies": versions,
        "environment": {k: os.environ[k] for k in _THREAD_VARIABLES if k in os.environ},
    }


def show_config(file=None) -> None:
    """Print how advmetric was built and which libraries it uses: paste this into bug reports.

    Shows the version, the compiler, OpenMP (on or off, and the threads it starts by default),
    Eigen's version and SIMD instruction sets, the BLAS/LAPACK library the core calls (SciPy's)
    with its threads, the OpenMP runtimes loaded in the process, the Python and dependency
    versions, and the thread-related environment variables that are set.
    """
    info = config_info()
    build = info["build"]
    out = file if file is not None else sys.stdout

    def line(label: str, value: object) -> None:
        print(f"  {label + ':':<22}{value}", file=out)

    print(f"advmetric {info['advmetric']}", file=out)
    line("core", info["core"])
    line("compiler", f"{build['compiler_id']} {build['compiler_version']}")
    line("C++ standard", build["cxx_standard"])
    native = "yes (runs only on CPUs like the build machine's)" if build["native"] else "no"
    line("-march=native", native)
    if build["openmp"]:
        openmp = (
            f"on (specification {build['openmp_version']}), "
            f"max threads {build['openmp_max_threads']}"
        )
    else:
        openmp = "off: the core runs single-threaded (built without OpenMP)"
    line("OpenMP", openmp)
    line("Eigen", f"{build['eigen_version']} (SIMD: {build['simd']})")
    if not info["blas_active"]:
        line("BLAS/LAPACK", "none: Eigen's own kernels (SciPy's BLAS not loaded or disabled)")
    elif not info["blas"]:
        line("BLAS/LAPACK", "SciPy's (threadpoolctl found no BLAS library to describe)")
    for pool in info["blas"]:
        line(
            "BLAS/LAPACK",
            f"SciPy's: {pool.get('internal_api')} {pool.get('version')}, "
            f"threading {pool.get('threading_layer', '?')}, "
            f"architecture {pool.get('architecture', '?')}, threads {pool.get('num_threads')}",
        )
        line("  library", pool.get("filepath"))
    for pool in info["openmp_runtimes"]:
        version = f" {pool['version']}" if pool.get("version") else ""
        line(
            "OpenMP runtime",
            f"{pool.get('prefix')}{version}, threads {pool.get('num_threads')} "
            f"({pool.get('filepath')})",
        )
    llvm = [p for p in info["openmp_runtimes"] if p.get("prefix") in ("libomp", "libiomp")]
    if len(llvm) > 1:
        # Two copies of LLVM's (or Intel's) runtime abort the process with "OMP: Error #15"
        # unless KMP_DUPLICATE_LIB_OK is true; scikit-learn sets it at import unless it is set.
        line(
            "note",
            f"{len(llvm)} copies of libomp are loaded; they coexist because "
            f"KMP_DUPLICATE_LIB_OK={os.environ.get('KMP_DUPLICATE_LIB_OK')} (README, Installing)",
        )
    line("Python", f"{info['python']}, GIL {'enabled' if info['gil_enabled'] else 'disabled'}")
    line("platform", info["platform"])
    line("CPUs", info["cpu_count"])
    line("dependencies", ", ".join(f"{k} {v}" for k, v in info["dependencies"].items()))
    for key, value in info["environment"].items():
        line(key, value)
