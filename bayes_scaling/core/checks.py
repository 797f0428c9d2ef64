"""Checks of numeric arguments shared by every layer: one message for a value that must be finite and > 0."""

from __future__ import annotations

import numpy as np

from .errors import DecisionInputError

__all__ = ["positive_array"]


def positive_array(name: str, values, error: type[Exception] = DecisionInputError) -> np.ndarray:
    """``values`` as a 1-D float array, every one finite and > 0; else ``error`` naming ``name``
    (booleans, text, an empty list and the positions of bad values)."""
    if isinstance(values, (bool, np.bool_)) or (isinstance(values, (list, tuple)) and any(
            isinstance(v, (bool, np.bool_)) for v in values)):
        raise error(f"{name} got a boolean ({values!r}); give a number")
    try:
        arr = np.atleast_1d(np.asarray(values, dtype=float)).ravel()
    except (TypeError, ValueError, OverflowError):
        raise error(f"{name} must be numbers, got {values!r:.80}") from None
    if arr.size == 0:
        raise error(f"{name} is empty: give at least one value")
    bad = ~(np.isfinite(arr) & (arr > 0))
    if bad.any():
        raise error(f"{name} must be finite and > 0; bad at position(s) {np.flatnonzero(bad)[:5].tolist()}: "
                    f"{arr[bad][:5].tolist()}")
    return arr
