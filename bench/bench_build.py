"""Benchmark the book build: a clean build and a no-change rebuild, wall-clock seconds.

Targets (issue "Foundation"): clean build <= 60 s and rebuild <= 10 s on a 2-core machine.
Run with ``make bench``; prints one line per measurement and exits 0 whatever the figures
(it is a measurement, not a test).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"clean build": 60.0, "no-change rebuild": 10.0}


def _build() -> float:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py")], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")
    shutil.rmtree(ROOT / "_build", ignore_errors=True)
    results = {"clean build": _build(), "no-change rebuild": _build()}
    for name, seconds in results.items():
        verdict = "ok" if seconds <= TARGETS[name] else "OVER TARGET"
        print(f"{name:>18}: {seconds:6.1f} s  (target <= {TARGETS[name]:.0f} s: {verdict})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
