"""The ``memwall`` command line (also ``python -m memwall``)."""

from memwall.cli.main import main
from memwall.cli.parser import build_parser

__all__ = ["build_parser", "main"]
