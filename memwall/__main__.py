"""Run the memwall command line: ``python -m memwall``."""

from memwall.cli import main

raise SystemExit(main())
