"""Errors raised by advmetric beyond the built-in ``ValueError`` / ``TypeError``.

They carry metric-learn's names (``metric_learn.exceptions``), so that code catching
metric-learn's errors needs only its import changed. All are ``ValueError`` subclasses, so code
catching ``ValueError`` catches them too.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NonPSDError", "NotDefiniteError", "PreprocessorError"]


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


class NotDefiniteError(np.linalg.LinAlgError, ValueError):
    """A matrix that must be positive definite (an ``init``) is not.

    A ``numpy.linalg.LinAlgError``, as metric-learn raises, and a ``ValueError`` on every numpy
    (numpy < 2 derives ``LinAlgError`` from ``Exception`` only).
    """


class NonPSDError(NotDefiniteError):
    """A matrix that must be positive semidefinite (an ``init``) has a negative eigenvalue."""

    def __init__(self, name: str = "matrix", smallest: float | None = None):
        detail = "" if smallest is None else f" (smallest eigenvalue {smallest:.3g})"
        super().__init__(f"`{name}` is not positive semidefinite (PSD){detail}")
