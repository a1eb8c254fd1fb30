"""Build the book into _build/html with the build gate on, from a clean tree when inputs changed.

The execution cache (jupyter-cache) keys only on notebook code, so outputs computed by an older
``memwall/``, ``data/`` or set of requirements would be served stale. This script hashes those
inputs and deletes ``_build`` whenever the hash differs from the last successful build's, and
always under CI (``CI`` set) or ``--clean``. Warnings are errors (``-W -n --keep-going``): a failing
cell, a broken cross-reference, an unknown MIME type or a bad data row fails the build.

Usage: python tools/build_book.py [--clean] [--source DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
STAMP = BUILD / ".inputs-sha256"
INPUTS = ("memwall", "data", "requirements.txt", "pyproject.toml", "_config.yml")
GATE_FLAGS = ("-W", "-n", "--keep-going")
"""Warnings are errors (-W), references are checked (-n), and every problem is listed (--keep-going)."""


def inputs_digest() -> str:
    """SHA-256 over the files that notebook outputs depend on besides the notebooks themselves."""
    h = hashlib.sha256()
    for entry in INPUTS:
        path = ROOT / entry
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            if "__pycache__" in f.parts:
                continue
            h.update(str(f.relative_to(ROOT)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", action="store_true", help="delete _build first")
    parser.add_argument("--source", type=Path, default=None,
                        help="build another book folder (always clean, into DIR/_build; used by the tests)")
    args = parser.parse_args()
    if args.source is not None:
        jb = Path(sys.executable).with_name("jupyter-book")
        shutil.rmtree(args.source / "_build", ignore_errors=True)
        cmd = [str(jb), "build", str(args.source), "--path-output", str(args.source), *GATE_FLAGS]
        return subprocess.run(cmd, cwd=args.source, check=False).returncode
    digest = inputs_digest()
    stale = not STAMP.is_file() or STAMP.read_text().strip() != digest
    if args.clean or os.environ.get("CI") or stale:
        why = "--clean" if args.clean else "CI" if os.environ.get("CI") else "inputs changed"
        print(f"build_book: clean build ({why})", flush=True)
        shutil.rmtree(BUILD, ignore_errors=True)
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", str(ROOT), "--path-output", str(ROOT), *GATE_FLAGS]
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=ROOT, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        print(f"build_book: FAILED after {elapsed:.1f} s (see the warnings above)", file=sys.stderr)
        return result.returncode
    STAMP.write_text(digest + "\n")
    print(f"build_book: built {BUILD / 'html' / 'index.html'} in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
