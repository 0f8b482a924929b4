"""advmetric.show_config() and the core's build_info(): what a bug report is made of."""

from __future__ import annotations

import io
import os
import re

import numpy as np

import advmetric
from advmetric import _backend

BUILD_KEYS = {
    "version": str,
    "compiler_id": str,
    "compiler_version": str,
    "cxx_standard": int,
    "native": bool,
    "openmp": bool,
    "openmp_max_threads": int,
    "eigen_version": str,
    "simd": str,
}


def test_build_info_keys_and_types():
    info = _backend.build_info()
    assert set(info) == set(BUILD_KEYS) | {"openmp_version"}
    for key, kind in BUILD_KEYS.items():
        assert isinstance(info[key], kind), (key, info[key])
    assert info["version"] == advmetric.__version__
    assert info["compiler_id"] not in ("", "unknown")
    assert info["cxx_standard"] >= 201703
    assert re.fullmatch(r"3\.\d+\.\d+", info["eigen_version"]), info["eigen_version"]
    assert info["openmp_max_threads"] >= 1
    if info["openmp"]:
        # _OPENMP is the yyyymm date of a specification (2.0 is 200203)
        assert isinstance(info["openmp_version"], int) and info["openmp_version"] >= 200203
    else:
        assert info["openmp_version"] is None and info["openmp_max_threads"] == 1


def test_build_info_agrees_with_the_core():
    info = _backend.build_info()
    assert info["openmp"] == _backend._core.has_openmp()
    if info["openmp"]:
        assert info["openmp_max_threads"] == _backend._core.max_threads()


def test_version_is_the_distribution_version():
    # the full version, pre-release suffix included: it must equal the installed metadata
    from importlib.metadata import version

    assert advmetric.__version__ == version("advmetric")


def test_show_config_prints_the_expected_fields():
    out = io.StringIO()
    assert advmetric.show_config(file=out) is None
    text = out.getvalue()
    build = _backend.build_info()
    assert text.startswith(f"advmetric {advmetric.__version__}\n")
    for label in ("core", "compiler", "OpenMP", "Eigen", "BLAS/LAPACK", "Python", "dependencies"):
        assert re.search(rf"^  {re.escape(label)}:", text, re.MULTILINE), (label, text)
    assert f"{build['compiler_id']} {build['compiler_version']}" in text
    assert build["eigen_version"] in text and build["simd"] in text
    if build["openmp"]:
        assert f"max threads {build['openmp_max_threads']}" in text
    else:
        assert "single-threaded" in text
    assert f"numpy {np.__version__}" in text
    assert os.path.basename(_backend._core.__file__) in text


def test_show_config_names_scipys_blas_with_its_threads():
    info = advmetric._config.config_info()
    assert info["blas_active"]  # scipy is a dependency: the core calls its BLAS
    assert info["blas"], "threadpoolctl found no BLAS library"
    for pool in info["blas"]:
        assert pool["user_api"] == "blas" and pool["num_threads"] >= 1
        assert os.path.exists(pool["filepath"])


def test_show_config_goes_to_stdout_by_default(capsys):
    advmetric.show_config()
    assert capsys.readouterr().out.startswith("advmetric ")


def test_show_config_is_exported():
    assert "show_config" in advmetric.__all__
