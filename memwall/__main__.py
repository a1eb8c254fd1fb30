"""Run the memwall command line: ``python -m memwall``."""

from memwall.cli.main import main

raise SystemExit(main())
