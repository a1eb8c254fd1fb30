"""Entry point of the ``memwall`` command line.

The contract every subcommand keeps (:mod:`memwall.cli.errors`): exit status 0 only on success, 1 on an
input error, 2 on a usage error; each error one line on stderr, ``memwall <command>: error: ...``; with
``--format json`` also one JSON object on stdout, ``{"error": ..., "parameter": ..., "exit_status": ...}``;
in JSON results an infinity is the string ``"inf"`` (:mod:`memwall.cli.output`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from memwall.cli.commands import COMMANDS
from memwall.cli.errors import EXIT_OK, EXIT_USAGE, INPUT_ERRORS, CliError, report
from memwall.cli.options import wants_json
from memwall.cli.output import check_finite, emit, records
from memwall.cli.parser import build_parser

__all__ = ["main"]

FINITE_COMMANDS = ("cost", "roofline", "serve")
"""Commands whose every number is computed, so that a NaN in their result is refused too."""


def _status_first(row: dict) -> dict:
    """A table's status row with its name and status first (what a reader scans for)."""
    return {k: row[k] for k in ("table", "status") if k in row} | row


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``memwall`` command.

    Only the options of the command being run are built (:func:`memwall.cli.parser.build_parser`), and each
    command imports what it needs, so that a light command (``serve``, ``devices``) starts quickly.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 1 on an input error (invalid data, an unknown model or device, a file that
        cannot be read or written, a result that would not be finite). Work done before an input error is still
        printed in the table and CSV formats: the measured table whose ``--output`` failed, every table's status
        of a failed ``validate`` (in JSON they are the error object's ``result`` and ``tables``).

    Raises
    ------
    SystemExit
        With status 2 on a usage error (argparse's, or options that contradict each other), after its one line
        (and, with ``--format json``, its JSON object); with status 0 after ``--help``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), "")
    as_json = wants_json(argv)
    parser = build_parser(command if command in COMMANDS else "", errors_as_json=as_json)  # "": names and help
    args, extra = parser.parse_known_args(argv)
    if extra:  # reported by the subcommand's parser, which names the subcommand
        parser.subcommand_parsers.get(args.command, parser).error(f"unrecognized arguments: {' '.join(extra)}")
    prog, fmt = f"memwall {args.command}", args.format
    try:
        result = args.func(args)
        check_finite(result, nan=args.command in FINITE_COMMANDS)
        text = emit(result, fmt)
    except CliError as err:
        if err.status == EXIT_USAGE:
            report(prog, f"{err} (see `{prog} --help`)", status=EXIT_USAGE, fmt=fmt, parameter=err.parameter)
            raise SystemExit(EXIT_USAGE) from None
        if err.result is not None and fmt != "json":
            sys.stdout.write(emit(err.result, fmt))
        report(prog, err, status=err.status, fmt=fmt,
               result=None if err.result is None or fmt != "json" else records(err.result))
        return err.status
    except INPUT_ERRORS as err:
        tables = getattr(err, "tables", None)
        if isinstance(tables, list) and tables and fmt != "json":  # every table's status (validate), as its result
            sys.stdout.write(emit([_status_first(dict(t)) for t in tables], fmt))
        report(prog, err, status=1, fmt=fmt)
        return 1
    sys.stdout.write(text)
    return EXIT_OK
