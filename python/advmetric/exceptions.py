"""Errors raised by advmetric beyond the built-in ``ValueError`` / ``TypeError``.

They carry metric-learn's names (``metric_learn.exceptions``), so that code catching
metric-learn's errors needs only its import changed. Both are ``ValueError`` subclasses (a
``numpy.linalg.LinAlgError`` is one), so code catching ``ValueError`` catches them too.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NonPSDError", "PreprocessorError"]


class PreprocessorError(ValueError):
    """The ``preprocessor`` failed to turn identifiers into points.

    Raised when a callable preprocessor raises, or when indices do not address rows of an array
    preprocessor (out of range, or not integers). The original error is chained as
    ``__cause__``.
    """

    def __init__(self, original_error):
        super().__init__(
            f"An error occurred when trying to use the preprocessor: {original_error!r}"
        )


class NonPSDError(np.linalg.LinAlgError):
    """A matrix that must be positive semidefinite (an ``init``) has a negative eigenvalue."""

    def __init__(self, name: str = "matrix", smallest: float | None = None):
        detail = "" if smallest is None else f" (smallest eigenvalue {smallest:.3g})"
        super().__init__(f"`{name}` is not positive semidefinite (PSD){detail}")
