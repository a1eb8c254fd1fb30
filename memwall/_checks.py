"""The one argument-validation layer of the package (the public API and the command line use it).

Every check raises a ``ValueError`` that names the parameter, the offending value and the allowed range (with
the unit, where one is given). Bools and strings are never numbers here: ``True`` is not 1 and ``"5"`` is not 5,
and a float is never truncated to an integer (2.7 devices is an error, 2.0 devices is 2). A wrong object type
raises :class:`ArgumentTypeError`, which is both a ``TypeError`` and a ``ValueError`` (as ``numpy.AxisError`` is
both a ``ValueError`` and an ``IndexError``), so callers that catch either see it.

The older array helpers :func:`_check_array` and :func:`_check_precision` (used by the cost, serving and
attention modules) are kept below.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["ArgumentTypeError", "capacity", "count", "flag", "instance", "number", "positive"]

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

class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (a string where a :class:`memwall.roofline.Ceilings` is expected, ...)."""


def _range(minimum: float, maximum: float, strict: bool) -> str:
    low = f"> {minimum:g}" if strict else f">= {minimum:g}"
    if np.isinf(maximum):
        return low
    return f"in ({minimum:g}, {maximum:g}]" if strict else f"in [{minimum:g}, {maximum:g}]"


def number(name: str, value: object, *, minimum: float = 0.0, maximum: float = np.inf, integer: bool = False,
           strict: bool = False, unit: str = "") -> np.ndarray:
    """``value`` as a float array after checking every element is a finite real number in range.

    Parameters
    ----------
    name : str
        Parameter name for the message.
    value : float or array_like
        What the caller passed.
    minimum, maximum : float
        Allowed range; ``strict`` makes the lower end exclusive (``> minimum``).
    integer : bool
        Require whole numbers (a float such as 2.0 is accepted, 2.7 is not).
    unit : str
        Unit for the message, e.g. ``"B/s"``.

    Returns
    -------
    numpy.ndarray
        ``value`` as floats, same shape.

    Raises
    ------
    ValueError
        A bool, a string, ``None`` or another non-number anywhere in ``value``; NaN or infinity; a value out of
        range or not whole with ``integer``. The message names ``name``, the value and the range.
    """
    kind = "an integer" if integer else "a number"
    allowed = _range(minimum, maximum, strict) + (f" [{unit}]" if unit else "")
    fast = isinstance(value, np.ndarray) and value.dtype.kind in "iuf"
    items = () if fast else np.asarray(value, dtype=object).ravel()
    if not fast and (isinstance(value, bool | np.bool_ | str | bytes) or any(
            isinstance(v, bool | np.bool_) or not isinstance(v, numbers.Real) for v in items)):
        raise ValueError(f"{name} must be {kind} {allowed} (bools and strings are not numbers), got {value!r}")
    arr = np.asarray(value, dtype=float)
    bad = ~np.isfinite(arr) | ((arr <= minimum) if strict else (arr < minimum)) | (arr > maximum)
    if integer:
        bad |= arr != np.round(arr)
    if np.any(bad):
        raise ValueError(f"{name} must be {kind} {allowed}, got {_first(value, bad)!r}")
    return arr


def positive(name: str, value: object, *, unit: str = "", scalar: bool = False) -> float | np.ndarray:
    """A finite number ``> 0`` (or array of them); ``scalar`` requires one number and returns a ``float``.

    Raises
    ------
    ValueError
        As :func:`number` with ``strict=True``; an array where ``scalar`` asks for one number.
    """
    arr = number(name, value, strict=True, unit=unit)
    if scalar:
        if arr.ndim:
            raise ValueError(f"{name} must be a single number > 0" + (f" [{unit}]" if unit else "")
                             + f", got {value!r}")
        return float(arr)
    return arr


def capacity(name: str, value: object, *, unit: str = "B") -> float:
    """A capacity: a finite number > 0, or ``inf`` (not limiting).

    Raises
    ------
    ValueError
        Anything else (0, a negative number, NaN, a bool, a string), naming ``name``, the value and the range.
    """
    if isinstance(value, float | np.floating) and math.isinf(value) and value > 0:
        return math.inf
    try:
        return positive(name, value, unit=unit, scalar=True)
    except ValueError:
        raise ValueError(f"{name} must be a number > 0 [{unit}] or inf (not limiting), got {value!r}") from None


def count(name: str, value: object, *, minimum: int = 1, maximum: float = np.inf, scalar: bool = False,
          unit: str = "") -> int | np.ndarray:
    """A whole number in ``[minimum, maximum]`` (or array of them); ``scalar`` returns one ``int``.

    Raises
    ------
    ValueError
        As :func:`number` with ``integer=True``; an array where ``scalar`` asks for one number.
    """
    arr = number(name, value, minimum=minimum, maximum=maximum, integer=True, unit=unit)
    if scalar:
        if arr.ndim:
            raise ValueError(f"{name} must be a single integer {_range(minimum, maximum, False)}"
                             + (f" [{unit}]" if unit else "") + f", got {value!r}")
        return int(arr)
    return arr


def flag(name: str, value: object) -> bool:
    """``value`` if it is ``True`` or ``False`` (a NumPy bool too).

    Raises
    ------
    ValueError
        Anything else (``1``, ``"no"``, ``None``), naming ``name`` and the value.
    """
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def instance(name: str, value: object, cls: type | tuple[type, ...]) -> object:
    """``value`` if it is an instance of ``cls``.

    Raises
    ------
    ArgumentTypeError
        Otherwise (a ``TypeError`` and a ``ValueError``), naming ``name``, the expected and the given type.
    """
    if not isinstance(value, cls):
        classes = cls if isinstance(cls, tuple) else (cls,)
        expected = " or ".join(c.__name__ for c in classes)
        raise ArgumentTypeError(f"{name} must be a {expected}, got {type(value).__name__} {value!r}")
    return value
