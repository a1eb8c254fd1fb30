"""Entry point of the ``memwall`` command line."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from memwall.cli.commands import _emit
from memwall.cli.parser import build_parser

__all__ = ["main"]



def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``memwall`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 1 on invalid data or parameters, 2 on bad usage (argparse).
    """
    args = build_parser().parse_args(argv)
    try:
        result = args.func(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"memwall {args.command}: error: {err}", file=sys.stderr)
        return 1
    sys.stdout.write(_emit(result, args.format))
    return 0
