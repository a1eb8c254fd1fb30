"""Argument checks shared by the package: arrays of numbers with a minimum, byte widths, choices."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

# ---------------------------------------------------------------------------------------------- input


def _first(value: ArrayLike, bad: np.ndarray) -> object:
    """First offending element of ``value`` as a plain Python object (for error messages)."""
    if not np.ndim(value):
        return value.item() if isinstance(value, np.generic) else value
    return np.asarray(value).reshape(-1)[np.flatnonzero(bad.reshape(-1))[0]].item()


def _check_array(name: str, value: ArrayLike, *, integer: bool, minimum: float) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    bad = ~np.isfinite(arr) | (arr < minimum)
    if integer:
        bad |= arr != np.round(arr)
    if np.any(bad):
        kind = "an integer" if integer else "a number"
        raise ValueError(f"{name} must be {kind} >= {minimum:g}, got {_first(value, bad)!r}")
    return arr


def _check_precision(name: str, value: ArrayLike) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    bad = ~np.isfinite(arr) | (arr <= 0)
    if np.any(bad):
        raise ValueError(f"{name} must be a positive number of bytes per element, got {_first(value, bad)!r}")
    return arr
