"""advmetric: Adversarial Metric Learning (Chen et al., IJCAI 2018) with a C++/Eigen core."""

from __future__ import annotations

from . import _backend, aml, reference
from ._core import __version__
from ._result import SolveResult

_backend.load_scipy_blas()

__all__ = ["SolveResult", "__version__", "aml", "reference"]
