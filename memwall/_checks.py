"""The one argument-validation layer of the package (the public API and the command line use it).

Every check raises a ``ValueError`` that names the parameter, the offending value and the allowed range (with
the unit, where one is given). Bools, strings, bytes and ``None`` are never numbers here: ``True`` is not 1 and
``"5"`` is not 5, and a float is never truncated to an integer (2.7 devices is an error, 2.0 devices is 2). An
integer too large for a float (``10**400``) is an error naming the range, never an ``OverflowError``; a whole
number must be at most :data:`MAX_EXACT_INT` (``2**53 - 1``): beyond it a float cannot tell ``n`` from ``n + 1``.
A wrong object type raises :class:`ArgumentTypeError`, which is both a ``TypeError`` and a ``ValueError`` (as
``numpy.AxisError`` is both a ``ValueError`` and an ``IndexError``), so callers that catch either see it.

Results are checked too: :func:`finite_result` raises a ``ValueError`` naming the inputs when a result promised
finite overflows a float (``weight_bytes=1e308`` makes the bytes infinite).

:func:`_check_array` and :func:`_check_precision` (the cost, serving and attention modules' names) are thin
wrappers of :func:`number`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["MAX_EXACT_INT", "ArgumentTypeError", "capacity", "choice", "count", "finite_result", "flag", "instance",
           "number", "positive"]

#: Largest whole number ``n`` a float tells from ``n + 1`` (``2**53 - 1``, JavaScript's ``MAX_SAFE_INTEGER``): integer
#: arguments and integer results stay at or below it (a larger int converts to a float >= ``2**53``: rejected).
MAX_EXACT_INT = 2**53 - 1
_MAX_FLOAT = float(np.finfo(float).max)
_REAL = (int, float, np.integer, np.floating)


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (a string where a :class:`memwall.roofline.Ceilings` is expected, ...)."""


# ---------------------------------------------------------------------------------------------- display


def _show(value: object) -> str:
    """``repr(value)`` for a message, long integers and long reprs shortened."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        digits = int(abs(value).bit_length() * math.log10(2)) + 1
        return f"{'-' if value < 0 else ''}an integer of about {digits} digits (~1e{digits - 1})"
    try:
        text = repr(value)
    except Exception:  # a broken __repr__
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:60] + "..." + text[-12:]


def _first(value: object, bad: np.ndarray) -> object:
    """First offending element of ``value`` as a plain Python object (for error messages)."""
    if not np.ndim(value):
        return value.item() if isinstance(value, np.generic | np.ndarray) else value
    flat = np.asarray(value, dtype=object).reshape(-1)
    item = flat[np.flatnonzero(np.asarray(bad).reshape(-1))[0]]
    return item.item() if isinstance(item, np.generic) else item


def _bound(value: float) -> str:
    """A range end for a message: ``:g``, unless that loses digits of a whole number (2147483647, not 2.14748e+09)."""
    short = f"{value:g}"
    exact = float(value).is_integer() and abs(value) < 2.0**63 and float(short) != value
    return str(int(value)) if exact else short


def _range(minimum: float, maximum: float, strict: bool) -> str:
    low = f"> {_bound(minimum)}" if strict else f">= {_bound(minimum)}"
    if np.isinf(maximum):
        return low
    lo, hi = _bound(minimum), _bound(maximum)
    return f"in ({lo}, {hi}]" if strict else f"in [{lo}, {hi}]"


# ----------------------------------------------------------------------------------------------- input


class _NotReal(Exception):
    """Internal: ``element`` (in the argument) is not a real number (``size``: a real too large for a float)."""

    def __init__(self, element: object, size: bool = False) -> None:
        super().__init__()
        self.element, self.size = element, size


def _is_real(v: object) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_)


def _leaf_types(seq: list | tuple) -> set[type]:
    """Types of the scalars in a (nested) list or tuple, found at C speed for flat lists."""
    types = set(map(type, seq))
    nested = {t for t in types if issubclass(t, list | tuple)}
    if nested:
        types -= nested
        for item in seq:
            if isinstance(item, list | tuple):
                types |= _leaf_types(item)
    return types


def _to_float(elements: np.ndarray) -> np.ndarray:
    """An object array of reals as floats; a real too large for a float raises :class:`_NotReal`."""
    try:
        return np.asarray(elements, dtype=float)
    except OverflowError:
        for v in elements.reshape(-1):
            try:
                float(v)
            except OverflowError:
                raise _NotReal(v, size=True) from None
        raise


def _as_floats(value: object) -> np.ndarray:
    """``value`` as a float array, or :class:`_NotReal` naming the first element that is not a real number."""
    kind = type(value)
    if kind is float:
        return np.asarray(value)
    if kind is int:
        try:
            return np.asarray(float(value))
        except OverflowError:
            raise _NotReal(value, size=True) from None
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        return np.asarray(value, dtype=float)
    if value is None or isinstance(value, bool | np.bool_ | str | bytes | bytearray):
        raise _NotReal(value)
    if isinstance(value, list | tuple):
        types = set(map(type, value))
        if all(t is not bool and issubclass(t, _REAL) for t in types):  # flat: fromiter is the fastest reader
            try:
                return np.fromiter(value, dtype=float, count=len(value))
            except OverflowError:
                return _to_float(np.asarray(value, dtype=object))
        if all(t is not bool and issubclass(t, (*_REAL, list, tuple)) for t in types) and all(
                t is not bool and issubclass(t, _REAL) for t in _leaf_types(value)):
            try:
                return np.asarray(value, dtype=float)
            except OverflowError:
                return _to_float(np.asarray(value, dtype=object))
            except ValueError:  # ragged nesting
                raise _NotReal(value) from None
        elements = np.asarray(value, dtype=object)
    else:
        try:
            elements = np.asarray(value)
        except Exception:  # an object whose __array__ fails
            raise _NotReal(value) from None
        if elements.dtype.kind in "iuf":
            return np.asarray(elements, dtype=float)
    if elements.dtype.kind != "O":  # bools, strings, complex, dates, records
        raise _NotReal(elements.reshape(-1)[0] if elements.ndim and elements.size else value)
    if not elements.ndim:
        if not _is_real(value):
            raise _NotReal(value)
        return _to_float(elements)
    for v in elements.reshape(-1):
        if not _is_real(v):
            raise _NotReal(v)
    return _to_float(elements)


def _what(minimum: float, maximum: float, integer: bool, strict: bool, unit: str, phrase: str | None) -> str:
    """What the argument must be, for a message: ``"an integer >= 1"``, ``"a number in [0, 1] [B]"``."""
    what = phrase or f"{'an integer' if integer else 'a number'} {_range(minimum, maximum, strict)}"
    return what + (f" [{unit}]" if unit else "")


def _container(value: object) -> str:
    """A short description of an array argument, for a message."""
    if isinstance(value, list | tuple):
        text = _show(value)
        return text if len(text) <= 60 else f"a {type(value).__name__} of {len(value)} elements"
    shape = np.shape(value) if hasattr(value, "shape") else ()
    return f"a {type(value).__name__} of shape {shape}"


def _checked(name: str, value: object, minimum: float, maximum: float, integer: bool, strict: bool,
             unit: str, phrase: str | None) -> np.ndarray:
    top = min(maximum, MAX_EXACT_INT) if integer else maximum
    kind = type(value)
    if kind is float or (kind is int and -MAX_EXACT_INT <= value <= MAX_EXACT_INT):  # one number: plain Python
        x = float(value)
        if math.isfinite(x) and (minimum < x if strict else minimum <= x) and x <= top and (
                not integer or x.is_integer()):
            return np.asarray(x)
    try:
        arr = _as_floats(value)
    except _NotReal as err:
        what = _what(minimum, maximum, integer, strict, unit, phrase)
        if err.size:
            limit = (f"at most 2**53 - 1 = {MAX_EXACT_INT}, beyond which a float cannot tell n from n + 1" if integer
                     else f"at most {min(maximum, _MAX_FLOAT):g}")
            raise ValueError(f"{name} must be {what} ({limit}), got {_show(err.element)}") from None
        shown = _show(value) if err.element is value else f"{_show(err.element)} in {_container(value)}"
        raise ValueError(f"{name} must be {what} (bools, strings and None are not numbers), got {shown}") from None
    bad = ~np.isfinite(arr) | ((arr <= minimum) if strict else (arr < minimum)) | (arr > top)
    if integer:
        bad |= arr != np.round(arr)
    if np.any(bad):
        first = _first(value, bad)
        over = _is_real(first) and math.isfinite(first) and first > top and not first > maximum
        note = f" (at most 2**53 - 1 = {MAX_EXACT_INT}, beyond which a float cannot tell n from n + 1)" if over else ""
        what = _what(minimum, maximum, integer, strict, unit, phrase)
        raise ValueError(f"{name} must be {what}{note}, got {_show(first)}")
    return arr


def number(name: str, value: object, *, minimum: float = 0.0, maximum: float = np.inf, integer: bool = False,
           strict: bool = False, unit: str = "") -> np.ndarray:
    """``value`` as a float array after checking every element is a finite real number in range.

    Parameters
    ----------
    name : str
        Parameter name for the message.
    value : float or array_like
        What the caller passed: a number, a (nested) list or tuple of numbers, a NumPy array or a pandas Series.
    minimum, maximum : float
        Allowed range; ``strict`` makes the lower end exclusive (``> minimum``).
    integer : bool
        Require whole numbers (a float such as 2.0 is accepted, 2.7 is not), at most :data:`MAX_EXACT_INT`.
    unit : str
        Unit for the message, e.g. ``"B/s"``.

    Returns
    -------
    numpy.ndarray
        ``value`` as floats, same shape.

    Raises
    ------
    ValueError
        A bool, a string, bytes, ``None`` or another non-number anywhere in ``value``; NaN or infinity; a value out
        of range, too large for a float (``10**400``), or not whole or above ``2**53 - 1`` with ``integer``. The
        message names ``name``, the value and the range.
    """
    return _checked(name, value, minimum, maximum, integer, strict, unit, None)


def _check_array(name: str, value: ArrayLike, *, integer: bool, minimum: float) -> np.ndarray:
    """:func:`number` with a lower bound: ``"<name> must be an integer >= <minimum>, got ..."``."""
    return _checked(name, value, minimum, np.inf, integer, False, "", None)


def _check_precision(name: str, value: ArrayLike) -> np.ndarray:
    """A storage width: :func:`number` ``> 0``, ``"<name> must be a positive number of bytes per element"``."""
    return _checked(name, value, 0.0, np.inf, False, True, "", "a positive number of bytes per element")


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
                             + f", got {_show(value)}")
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
        raise ValueError(f"{name} must be a number > 0 [{unit}] or inf (not limiting), got {_show(value)}") from None


def count(name: str, value: object, *, minimum: int = 1, maximum: float = np.inf, scalar: bool = False,
          unit: str = "") -> int | np.ndarray:
    """A whole number in ``[minimum, maximum]`` (at most ``2**53 - 1``), or array; ``scalar`` returns an ``int``.

    Raises
    ------
    ValueError
        As :func:`number` with ``integer=True``; an array where ``scalar`` asks for one number.
    """
    arr = number(name, value, minimum=minimum, maximum=maximum, integer=True, unit=unit)
    if scalar:
        if arr.ndim:
            raise ValueError(f"{name} must be a single integer {_range(minimum, maximum, False)}"
                             + (f" [{unit}]" if unit else "") + f", got {_show(value)}")
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
        raise ValueError(f"{name} must be True or False, got {_show(value)}")
    return bool(value)


def choice(name: str, value: object, allowed: Iterable[object]) -> object:
    """``value`` if it is one of ``allowed``, of the same type (``True`` is not the stage 1, ``1.0`` not 1).

    Returns
    -------
    object
        The allowed value equal to ``value`` (a NumPy integer comes back as the Python ``int``).

    Raises
    ------
    ValueError
        Otherwise, naming ``name``, the value and listing the allowed values.
    """
    options = tuple(allowed)
    for option in options:
        same_kind = (isinstance(value, str) if isinstance(option, str) else
                     isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
                     if isinstance(option, int) and not isinstance(option, bool) else type(value) is type(option))
        if same_kind and value == option:
            return option
    raise ValueError(f"{name}={_show(value)} is not known; allowed: {', '.join(map(str, options))}")


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
        raise ArgumentTypeError(f"{name} must be a {expected}, got {type(value).__name__} {_show(value)}")
    return value


# ---------------------------------------------------------------------------------------------- output


def _extreme(value: object) -> tuple[float, str]:
    """How far ``value`` is from 1 in decades (its most extreme non-zero element), and that element shown."""
    try:
        arr = np.abs(np.asarray(value, dtype=float)).reshape(-1)
    except (TypeError, ValueError, OverflowError):
        return 0.0, _show(value)
    arr = arr[np.isfinite(arr) & (arr > 0)]
    if not arr.size:
        return 0.0, _show(value)
    decades = np.abs(np.log10(arr))
    i = int(np.argmax(decades))
    shown = f"{arr[i]:g}" if np.ndim(value) == 0 else f"{arr[i]:g} (in an array)"
    return float(decades[i]), shown


def finite_result(what: str, result: ArrayLike, inputs: Mapping[str, object], *, nan_ok: bool = False) -> None:
    """Raise if ``result`` (promised finite) holds an infinity (or a NaN unless ``nan_ok``).

    Parameters
    ----------
    what : str
        The result, for the message (``"decode_step_time"``, ``"bytes"``).
    result : array_like
        The computed values.
    inputs : mapping of str to object
        The numeric inputs it came from; the message lists them, the most extreme (farthest from 1) first.

    Raises
    ------
    ValueError
        ``"<what> is not finite ... for weight_bytes=1e+308, seq_len=128, ..."``: the inputs overflow a float.
    """
    arr = np.asarray(result, dtype=float)
    ok = ~np.isinf(arr) if nan_ok else np.isfinite(arr)
    if np.all(ok):
        return
    ranked = sorted(((*_extreme(v), k) for k, v in inputs.items()), key=lambda t: -t[0])
    listing = ", ".join(f"{k}={shown}" for _, shown, k in ranked)
    raise ValueError(f"{what} is not finite: the inputs overflow a float (largest {_MAX_FLOAT:.3g}) with "
                     f"{listing}; reduce the most extreme input (listed first)")
