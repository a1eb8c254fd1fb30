"""Option types and the argument parser class of the ``memwall`` command line.

Every numeric option is parsed by a ``type=`` built here, which reads the text strictly (ASCII digits, an
optional sign, for reals a decimal point and exponent; no ``_`` separators, no spaces, no other scripts'
digits) and checks the value with the package's one validation layer, :mod:`memwall._checks`. A value out
of range is a usage error (exit 2) whose one line names the option, the value typed and the range. The
ranges (also in each option's ``--help``):

* tokens (``--seq-len``, ``--context``) and sequences (``--batch``): integers up to
  :data:`MAX_COUNT` = 2**31 - 1 (the largest 32-bit signed index);
* bytes per element (``--bytes``, ``--weight-bytes``, ...): :data:`BYTES_RANGE`, [1/64, 64] B/element
  (from an eighth of a bit, below any published quantisation, to eight float64 values);
* a device in no table: :data:`PEAK_RANGE` [FLOP/s], :data:`BANDWIDTH_RANGE` [B/s] and
  :data:`MEMORY_RANGE` [B] (:func:`memwall.cli.parser.parse_quantity`).

:class:`CliParser` reports argparse's errors as one line (no usage block) and, with ``--format json`` on the
command line, as the JSON object of :mod:`memwall.cli.errors`; every option that takes a value may be given
once (:class:`Once`), since argparse would otherwise keep the last silently.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from memwall import _checks
from memwall.cli.errors import EXIT_USAGE, report, tidy_usage_message, usage_parameter

__all__ = ["BANDWIDTH_RANGE", "BYTES_RANGE", "MAX_COUNT", "MEMORY_RANGE", "PEAK_RANGE", "CliParser", "Once",
           "given", "integer", "nonempty", "parse_quantity", "path", "real", "shown", "wants_json"]

MAX_COUNT = 2**31 - 1
"""Largest token or sequence count an option accepts. [tokens], [sequences]"""
BYTES_RANGE = (2.0**-6, 64.0)
"""Allowed bytes per element, inclusive. [B/element]"""
PEAK_RANGE = (1e6, 1e21)
"""Allowed ``--peak-flops``, inclusive (1 MFLOP/s to 1 ZFLOP/s). [FLOP/s]"""
BANDWIDTH_RANGE = (1e3, 1e18)
"""Allowed ``--bandwidth``, inclusive (1 kB/s to 1 EB/s). [B/s]"""
MEMORY_RANGE = (1e3, 1e18)
"""Allowed ``--memory``, inclusive (1 kB to 1 EB). [B]"""

_INTEGER = re.compile(r"[+-]?[0-9]+")
_REAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf|infinity|nan)", re.I)
_LONG = 24
"""Typed numbers longer than this are shown shortened in messages. [characters]"""


def shown(text: str) -> str:
    """``text`` quoted for a message, shortened when it is a long number."""
    if len(text) <= _LONG:
        return repr(text)
    return repr(f"{text[:10]}...{text[-4:]}") + f" ({len(text)} characters)"


def _with_value(message: str, text: str) -> str:
    """A :mod:`memwall._checks` message with the value as typed (``got '1e400'``, not ``got inf``)."""
    head, sep, _ = message.rpartition(", got ")
    return f"{head}{sep}{shown(text)}" if sep else message


def _unit(unit: str) -> str:
    return f" [{unit}]" if unit else ""


def integer(option: str, *, minimum: int, maximum: int, unit: str = "") -> Callable[[str], int]:
    """An argparse ``type=``: a whole number in ``[minimum, maximum]``, by :func:`memwall._checks.count`.

    Parameters
    ----------
    option : str
        The option, for messages (``"--seq-len"``).
    minimum, maximum : int
        Allowed range, inclusive. [``unit``]
    unit : str
        Unit for messages, e.g. ``"tokens"``.

    Returns
    -------
    callable
        ``text -> int``.

    Raises
    ------
    argparse.ArgumentTypeError
        (When called.) Text that is not an ASCII integer, or a value out of range, whatever its size.
    """
    def parse(text: str) -> int:
        if not _INTEGER.fullmatch(text):
            raise argparse.ArgumentTypeError(f"{option} must be an integer in [{minimum}, {maximum}]{_unit(unit)} "
                                             f"in ASCII digits (no separators, no exponent), got {shown(text)}")
        digits = text.lstrip("+-")
        value = int(text) if len(digits) <= 300 else (-1 if text.startswith("-") else 1) * 10**300
        # beyond a float's range the check cannot convert the value: check a value just outside the range
        # instead, which gives the same message, then show the number typed
        probe = value if abs(value) <= 2**53 else (maximum + 1 if value > 0 else minimum - 1)
        try:
            return int(_checks.count(option, probe, minimum=minimum, maximum=maximum, unit=unit, scalar=True))
        except (ValueError, OverflowError) as err:  # the check writes whole range ends exactly
            raise argparse.ArgumentTypeError(_with_value(str(err), text)) from None

    parse.__name__ = "integer"
    return parse


def real(option: str, *, minimum: float, maximum: float, unit: str = "") -> Callable[[str], float]:
    """An argparse ``type=``: a finite number in ``[minimum, maximum]``, by :func:`memwall._checks.number`.

    Parameters
    ----------
    option : str
        The option, for messages (``"--bytes"``).
    minimum, maximum : float
        Allowed range, inclusive. [``unit``]
    unit : str
        Unit for messages, e.g. ``"B/element"``.

    Returns
    -------
    callable
        ``text -> float``.

    Raises
    ------
    argparse.ArgumentTypeError
        (When called.) Text that is not an ASCII decimal number; NaN, infinity or a value out of range.
    """
    def parse(text: str) -> float:
        if not _REAL.fullmatch(text):
            raise argparse.ArgumentTypeError(f"{option} must be a number in [{minimum:g}, {maximum:g}]{_unit(unit)} "
                                             f"written like 2, 0.5 or 1e-1, got {shown(text)}")
        try:
            return float(_checks.number(option, float(text), minimum=minimum, maximum=maximum, unit=unit))
        except ValueError as err:
            raise argparse.ArgumentTypeError(_with_value(str(err), text)) from None

    parse.__name__ = "number"
    return parse


def nonempty(option: str) -> Callable[[str], str]:
    """An argparse ``type=``: any text but the empty one (or only spaces)."""
    def parse(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"{option} must not be empty")
        if "\0" in text:
            raise argparse.ArgumentTypeError(f"{option} must not contain a NUL character")
        return text

    parse.__name__ = "text"
    return parse


def path(option: str) -> Callable[[str], Path]:
    """An argparse ``type=``: a non-empty path (an empty one would silently mean the current folder)."""
    check = nonempty(option)

    def parse(text: str) -> Path:
        return Path(check(text))

    parse.__name__ = "path"
    return parse


_QUANTITY = re.compile(r"([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?) ?([kMGTPE]?)(i?) ?([A-Za-z/]*)")
_UNITS = {"FLOP/s": ("flop/s", "flops"), "B/s": ("b/s",), "B": ("b",)}
_BINARY = {"k": 2.0**10, "M": 2.0**20, "G": 2.0**30, "T": 2.0**40, "P": 2.0**50, "E": 2.0**60}


def parse_quantity(text: str, unit: str, *, name: str = "value", minimum: float = 0.0,
                   maximum: float = float("inf")) -> float:
    """A positive quantity typed on the command line, in SI: a number, optionally with a prefix and the unit.

    Parameters
    ----------
    text : str
        ``989e12``, ``989T``, ``989 TFLOP/s``; ``3.35T``, ``3.35TB/s``; ``80G``, ``80GB``, ``80Gi`` or
        ``80GiB`` (= 80 * 2**30). The prefixes are decimal, case-sensitive: k, M, G, T, P, E (10**3 to
        10**18); with ``i`` binary (2**10 to 2**60). The unit, if written, must be ``unit`` (case ignored;
        ``FLOPS`` for ``FLOP/s``).
    unit : {"FLOP/s", "B/s", "B"}
        Unit of the option.
    name : str
        The option, for messages (e.g. ``"--peak-flops"``).
    minimum, maximum : float
        Allowed range, inclusive (a ``minimum`` of 0 is exclusive: the value must be positive). [``unit``]

    Returns
    -------
    float
        The value. [``unit``]

    Raises
    ------
    argparse.ArgumentTypeError
        For text that does not follow the rule, another unit, or a value that is not finite, not positive or
        out of range (checked by :func:`memwall._checks.number`).

    Examples
    --------
    >>> parse_quantity("989T", "FLOP/s"), parse_quantity("3.35 TB/s", "B/s"), parse_quantity("80Gi", "B")
    (989000000000000.0, 3350000000000.0, 85899345920.0)
    """
    from memwall.units import decimal_prefix

    match = _QUANTITY.fullmatch(text)
    if match is None or (match.group(4) and match.group(4).lower() not in _UNITS[unit]):
        raise argparse.ArgumentTypeError(
            f"{shown(text)} is not a quantity in {unit}: write a number, optionally with an SI prefix (k M G T P E, "
            f"case-sensitive; Ki Mi Gi ... binary) and the unit, e.g. 989e12, 989T or 989T{unit}")
    number, prefix, binary, _ = match.groups()
    if binary and not prefix:
        raise argparse.ArgumentTypeError(f"{shown(text)}: 'i' (binary) needs a prefix, e.g. 80Gi")
    value = float(number) * (_BINARY[prefix] if binary else decimal_prefix(prefix))
    try:
        return float(_checks.number(name, value, minimum=minimum, maximum=maximum, strict=minimum == 0, unit=unit))
    except ValueError as err:
        raise argparse.ArgumentTypeError(_with_value(str(err), text)) from None


class Once(argparse.Action):
    """Store an option's value(s), refusing a second occurrence (argparse would keep the last silently).

    The destinations given on the command line are recorded in the namespace's ``_given`` set
    (:func:`given`).
    """

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        seen: set[str] = namespace.__dict__.setdefault("_given", set())
        if self.dest in seen:
            hint = f" (several values go after one {option_string})" if self.nargs in ("+", "*") else ""
            raise argparse.ArgumentError(self, f"given more than once; give {option_string} once{hint}")
        seen.add(self.dest)
        setattr(namespace, self.dest, values)


class OnceFlag(Once):
    """A flag (``store_true``) that, like :class:`Once`, refuses to be given twice."""

    def __init__(self, option_strings: Sequence[str], dest: str, default: bool = False, required: bool = False,
                 help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, const=True, default=default, required=required, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        super().__call__(parser, namespace, True, option_string)


def given(args: argparse.Namespace, dest: str) -> bool:
    """Whether the option stored in ``dest`` was on the command line (a :class:`Once` option)."""
    return dest in getattr(args, "_given", ())


def wants_json(argv: Sequence[str]) -> bool:
    """Whether the command line asks for ``--format json`` (also ``--format=json``, or an abbreviation)."""
    for i, token in enumerate(argv):
        name, eq, value = token.partition("=")
        if len(name) >= 4 and "--format".startswith(name):
            if (value if eq else (argv[i + 1] if i + 1 < len(argv) else "")) == "json":
                return True
    return False


class CliParser(argparse.ArgumentParser):
    """An :class:`argparse.ArgumentParser` whose errors follow the contract of :mod:`memwall.cli.errors`.

    Parameters
    ----------
    errors_as_json : bool
        Also print an error as the JSON object on stdout (``--format json`` is on the command line).
    **kwargs
        As :class:`argparse.ArgumentParser`.
    """

    def __init__(self, *args: Any, errors_as_json: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.errors_as_json = errors_as_json
        self.subcommand_parsers: dict[str, CliParser] = {}
        """The parser of each subcommand (filled by :func:`memwall.cli.parser.build_parser`)."""
        # an argument with a value stores it with Once, in argument groups too (they share the registry)
        self.register("action", None, Once)
        self.register("action", "store", Once)

    def error(self, message: str) -> NoReturn:
        """Print one line (and the JSON object if asked) and exit with status 2.

        Raises
        ------
        SystemExit
            Always, with code 2.
        """
        text = tidy_usage_message(message)
        report(self.prog, f"{text} (see `{self.prog} --help`)", status=EXIT_USAGE,
               fmt="json" if self.errors_as_json else "table", parameter=usage_parameter(message))
        raise SystemExit(EXIT_USAGE)
