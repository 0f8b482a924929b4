"""advmetric: Adversarial Metric Learning (Chen et al., IJCAI 2018) with a C++/Eigen core."""

from __future__ import annotations

from . import _backend, aml, reference
from ._backend import __version__
from ._config import show_config
from ._result import SolveResult
from .estimators import AML, GMML, AML_Supervised, GMML_Supervised
from .model_selection import AML_SupervisedCV
from .statistics import PairStatistics

_backend.load_blas()

__all__ = [
    "AML",
    "GMML",
    "AML_Supervised",
    "AML_SupervisedCV",
    "GMML_Supervised",
    "PairStatistics",
    "SolveResult",
    "__version__",
    "aml",
    "reference",
    "show_config",
]
