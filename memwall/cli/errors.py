"""Errors of the ``memwall`` command line and how they reach the user.

Exit statuses (the contract of every subcommand)
------------------------------------------------
==== ==============================================================================================
0    success: the result is on stdout.
1    input error: the command line is well formed but what it names or reads is not usable: an
     unknown model, device or claim, a data table that breaks its schema, a missing or unreadable
     file, an output file that cannot be written, a result that would not be finite.
2    usage error: the command line itself is wrong: an unknown command or option, a value outside
     its option's range, a repeated option, options that contradict each other or one that would be
     ignored, a missing option (argparse's errors and :class:`UsageError`).
==== ==============================================================================================

Each error gives one line on stderr, ``memwall <command>: error: <message>``, naming the option where one
is at fault (a data error's problems follow it, one per line, indented). With ``--format json`` stdout
also gets one JSON object::

    {"error": "<message>", "parameter": "--option" or null, "exit_status": 1 or 2}

plus ``"problems": [...]`` (one string per problem) when the error lists problems (a
:class:`~memwall.tables.validation.DataValidationError`, or a message of several lines), ``"tables":
[...]`` when it carries a per-table status list (``memwall validate``), and ``"result": [...]`` (the
records) when the work was done but its output file could not be written.

Exceptions other than :data:`INPUT_ERRORS` are bugs and are not caught: they propagate with their
traceback, so that tests (``tests/test_fuzz_cli.py``) see them.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["EXIT_INPUT", "EXIT_OK", "EXIT_USAGE", "INPUT_ERRORS", "CliError", "OutputFileError", "UsageError",
           "about", "report", "tidy_usage_message", "usage_parameter"]

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 1, 2
"""Exit statuses: success, input error, usage error."""

INPUT_ERRORS: tuple[type[Exception], ...] = (ValueError, OSError)
"""Exception classes reported as input errors (exit 1); ``OSError`` covers a missing, unreadable or over-long file
or folder name (``FileNotFoundError``, ``IsADirectoryError``, ``PermissionError``, ENAMETOOLONG); ``ValueError`` covers
:class:`~memwall.tables.validation.DataValidationError`, :class:`~memwall.device_lookup.DeviceLookupError`
and :class:`memwall._checks.ArgumentTypeError`."""


class CliError(ValueError):
    """An error found by the command line itself, with the option it concerns.

    Parameters
    ----------
    message : str
        What is wrong and what is allowed.
    parameter : str, optional
        The option at fault, e.g. ``"--seq-len"`` (``None`` if no single option is).
    result : object, optional
        Work that was done before the error (printed to stdout all the same).
    """

    status = EXIT_INPUT

    def __init__(self, message: str, parameter: str | None = None, *, result: Any = None):
        super().__init__(message)
        self.parameter = parameter
        self.result = result


class UsageError(CliError):
    """Options that contradict each other, or one that would be ignored (exit 2)."""

    status = EXIT_USAGE


class OutputFileError(CliError):
    """The output file cannot be written (checked before the work, or failed after it; exit 1)."""


@contextmanager
def about(option: str | None) -> Iterator[None]:
    """Tag an input error raised in the block with the option it concerns (its ``parameter``; ``None``: no option).

    Raises
    ------
    Exception
        What the block raised, unchanged apart from a ``parameter`` attribute on an :data:`INPUT_ERRORS`
        instance that had none.
    """
    try:
        yield
    except INPUT_ERRORS as err:
        if option is not None and getattr(err, "parameter", None) is None:
            err.parameter = option  # type: ignore[attr-defined]
        raise


def _message(err: BaseException, parameter: str | None) -> str:
    text = str(err) or type(err).__name__
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        name = str(err.filename)
        text = f"{err.strerror}: {name if len(name) <= 80 else name[:40] + f'... ({len(name)} characters)'}"
    named = parameter is None or not parameter.startswith("-") or parameter in text or \
        f"{parameter.lstrip('-').replace('-', '_')}=" in text
    if not named:
        text = f"{parameter}: {text}"
    return text


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | None | list | dict) else str(value)


def report(prog: str, err: BaseException | str, *, status: int, fmt: str, parameter: str | None = None,
           result: list[dict[str, Any]] | None = None) -> None:
    """Print an error: one line on stderr (problems indented below it), and a JSON object on stdout for ``json``.

    Parameters
    ----------
    prog : str
        ``memwall`` or ``memwall <command>``.
    err : BaseException or str
        The error; its ``parameter``, ``problems`` and ``tables`` attributes are used where present.
    status : {1, 2}
        Exit status it leads to.
    fmt : {"table", "csv", "json"}
        Output format asked for.
    parameter : str, optional
        The option at fault, if ``err`` does not carry one.
    result : list of dict, optional
        Records of work done before the error (JSON only; other formats print the result themselves).
    """
    parameter = getattr(err, "parameter", None) or parameter
    first, *rest = _message(err, parameter).splitlines() or [""]
    problems = getattr(err, "problems", None)
    details = [str(p) for p in problems] if isinstance(problems, list | tuple) else [r.strip() for r in rest]
    print(f"{prog}: error: {first}", file=sys.stderr)
    for line in details:
        print(f"  {line}", file=sys.stderr)
    if fmt != "json":
        return
    payload: dict[str, Any] = {"error": first, "parameter": parameter, "exit_status": status}
    if details:
        payload["problems"] = details
    tables = getattr(err, "tables", None)
    if isinstance(tables, list | tuple):
        payload["tables"] = [{k: _jsonable(v) for k, v in dict(t).items()} for t in tables]
    if result is not None:
        payload["result"] = result
    sys.stdout.write(json.dumps(payload, indent=2, allow_nan=False) + "\n")


_ARGUMENT = re.compile(r"^argument ([^:\s]+)(?:/\S+)?: ")
_LISTED = re.compile(r"^(?:the following arguments are required|unrecognized arguments|ambiguous option|one of "
                     r"the arguments [^:]*): ([^,\s=]+)")


def usage_parameter(message: str) -> str | None:
    """The option an argparse error message names first (``None`` if it names none)."""
    match = _ARGUMENT.match(message)
    if match:
        return match.group(1)
    match = _LISTED.match(message)
    return match.group(1) if match else None


def tidy_usage_message(message: str) -> str:
    """``argument --x: --x must be ...`` (a type error of :mod:`memwall.cli.options`) as ``--x must be ...``."""
    match = _ARGUMENT.match(message)
    if match and message[match.end():].startswith(match.group(1) + " "):
        return message[match.end():]
    return message
