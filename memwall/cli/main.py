"""Entry point of the ``memwall`` command line."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from memwall.cli.commands import COMMANDS, _emit
from memwall.cli.parser import build_parser

__all__ = ["main"]


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
        Exit status: 0 on success, 1 on invalid data or parameters, 2 on bad usage (argparse).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), "")
    args = build_parser(command if command in COMMANDS else "").parse_args(argv)  # "": names and help only
    try:
        result = args.func(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"memwall {args.command}: error: {err}", file=sys.stderr)
        return 1
    sys.stdout.write(_emit(result, args.format))
    return 0
