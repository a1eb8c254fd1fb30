"""Build the book into _build/html with the build gate on, one build at a time, rebuilding what its inputs require.

Execution cache. jupyter-cache keys a notebook's outputs on its code alone, so outputs computed with an older
``memwall/``, ``data/`` or set of packages would be served stale. This script hashes every other input of the
notebooks (:func:`input_digests`: the package, the tables, the data folder in use -- ``$MEMWALL_DATA_DIR`` when it
is set, see :func:`data_folder` -- the requirements and installed distributions, ``_config.yml``, ``_toc.yml`` and
the chapters' titles, which the claims ledger reads, and this script) and builds from an empty ``_build`` whenever
one of them differs from the inputs the cache was made with (the message names which), and always under CI
(``CI`` set) or ``--clean``. The digests are written before the build starts, so a build that fails keeps its
cache: the notebooks that succeeded are not executed again.

Build gate. Warnings are errors (``-W -n --keep-going``): a failing cell, a broken cross-reference, an unknown
MIME type or a bad data row fails the build. Sphinx builds incrementally, and after a failed (or interrupted) run
it has stored the failing pages: an unchanged rerun would re-emit no warning and "succeed". So the outcome of each
build is recorded (``_build/.last-build``), and after anything but a success Sphinx's saved state
(``_build/.doctrees``) is deleted first: every page is read again, and only the notebooks without a cached
execution of their current code run (the failed ones). After each build the script lists the notebooks it
executed (new entries of the execution cache).

Lock. Two builds of one book folder at a time would write the same jupyter-cache database and Sphinx state: a
build first takes the lock ``_build/.build.lock`` (:mod:`filelock`; a clean build empties ``_build`` around it),
and a second build waits for it, saying so, for ``--lock-timeout`` seconds, then gives up with exit status
:data:`LOCK_BUSY`.

Editions (:mod:`memwall.sphinxext.editions`): ``--edition instructor`` (the default) is the book as written, in
``_build/html``; ``--edition student`` removes every solution and builds into ``_build/student/`` (its own
execution cache, doctrees and records, so neither edition's build overwrites or invalidates the other's;
the site is ``_build/student/html``). The edition reaches Sphinx as the config value ``memwall_edition``, set in
a copy of ``_config.yml`` written to ``_build/student/_config.yml`` and passed with ``jupyter-book --config``.
A clean instructor build deletes the student build too (it is stale for the same reasons). Both editions take
the same lock.

Usage: python tools/build_book.py [--clean] [--source DIR] [--edition instructor|student] [--lock-timeout S]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # build_state.py beside this script, however it is loaded
from build_state import (  # re-exported: the tests and tools/handout.py use them from here
    BOOK_INPUTS,
    LAST_BUILD,
    LOCK,
    PACKAGE_INPUTS,
    ROOT,
    STAMP,
    _empty,
    build_lock,
    cache_state,
    clean_reason,
    data_folder,
    execution_summary,
    folder_digest,
    input_digests,
    inputs_digest,
)

__all__ = ["BOOK_INPUTS", "EDITIONS", "GATE_FLAGS", "LAST_BUILD", "LOCK", "LOCK_BUSY", "LOCK_TIMEOUT_S",
           "PACKAGE_INPUTS", "ROOT", "STAMP", "build", "build_lock", "cache_state", "clean_reason", "data_folder",
           "edition_config", "execution_summary", "folder_digest", "input_digests", "inputs_digest", "output_root",
           "site_dir"]

GATE_FLAGS = ("-W", "-n", "--keep-going")
"""Warnings are errors (-W), references are checked (-n), and every problem is listed (--keep-going)."""
EDITIONS = ("instructor", "student")
"""The editions (as :data:`memwall.sphinxext.editions.EDITIONS`; a test checks that they agree)."""
LOCK_BUSY = 75
"""Exit status when another build still held the lock after ``--lock-timeout`` seconds (``EX_TEMPFAIL``)."""
LOCK_TIMEOUT_S = 1800.0
"""Default wait for another build to finish. [s]"""


def output_root(source: Path, edition: str = EDITIONS[0]) -> Path:
    """The folder whose ``_build/`` receives ``edition``: ``source`` itself, or ``source/_build/<edition>``.

    Raises
    ------
    ValueError
        For an unknown edition, naming the editions.
    """
    if edition not in EDITIONS:
        raise ValueError(f"unknown edition {edition!r}; the editions are {', '.join(EDITIONS)}")
    return source if edition == EDITIONS[0] else source / "_build" / edition


def site_dir(source: Path, edition: str = EDITIONS[0]) -> Path:
    """The built site of ``edition``: ``_build/html`` (instructor) or ``_build/student/html`` (a link)."""
    root = output_root(source, edition)
    return root / "_build" / "html" if root == source else root / "html"


def edition_config(source: Path, edition: str) -> Path | None:
    """Write ``_config.yml`` with ``memwall_edition: <edition>`` for a non-default edition; return its path.

    The file goes to :func:`output_root` (outside the build folder a clean build deletes); the instructor
    edition uses the book's own ``_config.yml`` (``None``).
    """
    import yaml

    root = output_root(source, edition)
    if root == source:
        return None
    config = yaml.safe_load((source / "_config.yml").read_text(encoding="utf-8")) or {}
    sphinx = dict(config.get("sphinx") or {})
    sphinx["config"] = {**(sphinx.get("config") or {}), "memwall_edition": edition}
    config["sphinx"] = sphinx
    root.mkdir(parents=True, exist_ok=True)
    target = root / "_config.yml"
    target.write_text("# Written by tools/build_book.py: the book's _config.yml with the edition set.\n"
                      + yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return target


def build(source: Path, *, clean: bool = False, edition: str = EDITIONS[0],
          lock_timeout_s: float = LOCK_TIMEOUT_S) -> int:
    """Build ``edition`` of the book in ``source`` (into :func:`site_dir`); return the exit status.

    Parameters
    ----------
    source : pathlib.Path
        The book folder.
    clean : bool
        Empty the edition's ``_build`` first.
    edition : str
        One of :data:`EDITIONS`.
    lock_timeout_s : float
        How long to wait for another build of ``source`` to finish. [s]

    Returns
    -------
    int
        0 on success, jupyter-book's status on a failed build, :data:`LOCK_BUSY` when the lock stayed taken.

    Raises
    ------
    ValueError
        For an unknown edition, naming the editions.
    """
    out = output_root(source, edition)
    with build_lock(source, lock_timeout_s) as locked:
        if not locked:
            return LOCK_BUSY
        return _build_locked(source, out, edition, clean)


def _build_locked(source: Path, out: Path, edition: str, clean: bool) -> int:
    build_dir = out / "_build"
    digests = input_digests(source)
    reason = clean_reason(build_dir, digests, clean=clean)
    if reason is not None:
        print(f"build_book: clean build ({reason})", flush=True)
        _empty(build_dir, keep=source / "_build" / LOCK)
    else:
        last = (build_dir / LAST_BUILD).read_text(encoding="utf-8").strip() if (build_dir / LAST_BUILD).is_file() \
            else "unknown"
        if last != "ok":
            what = "failed" if last == "failed" else "did not finish"
            print(f"build_book: the previous build {what}: every page is read again, and a notebook runs only if "
                  "the execution cache holds no run of its current code (those that failed or did not run); "
                  "the inputs are unchanged, so the cache is kept", flush=True)
            shutil.rmtree(build_dir / ".doctrees", ignore_errors=True)
    build_dir.mkdir(parents=True, exist_ok=True)
    (build_dir / STAMP).write_text(json.dumps({"inputs": digests}, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    (build_dir / LAST_BUILD).write_text("running\n", encoding="utf-8")
    shutil.rmtree(build_dir / "html" / "reports", ignore_errors=True)  # tracebacks of earlier failures
    before, _ = cache_state(build_dir)
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", str(source), "--path-output", str(out), *GATE_FLAGS]
    config = edition_config(source, edition)
    if config is not None:
        cmd += ["--config", str(config)]
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=source, check=False)
    elapsed = time.perf_counter() - start
    print(execution_summary(before, build_dir, source), flush=True)
    if result.returncode != 0:
        (build_dir / LAST_BUILD).write_text("failed\n", encoding="utf-8")
        print(f"build_book: FAILED after {elapsed:.1f} s (see the warnings above); the execution cache of the "
              "notebooks that ran is kept", file=sys.stderr)
        return result.returncode
    (build_dir / LAST_BUILD).write_text("ok\n", encoding="utf-8")
    site = site_dir(source, edition)
    if not site.is_symlink() and not site.exists():  # _build/student/html (jupyter-book always adds _build/)
        site.symlink_to(Path("_build") / "html", target_is_directory=True)
    print(f"build_book: built the {edition} edition, {site / 'index.html'}, in {elapsed:.1f} s")
    return 0


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"--lock-timeout must be a number of seconds >= 0, not {text!r}")
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", action="store_true",
                        help="empty the edition's _build first (execution cache included; the lock file stays)")
    parser.add_argument("--source", type=Path, default=ROOT,
                        help="book folder to build (default: this repository; the tests build small books)")
    parser.add_argument("--edition", choices=EDITIONS, default=EDITIONS[0],
                        help="instructor: the book as written, into _build/html (default); "
                             "student: without the solutions, into _build/student/html")
    parser.add_argument("--lock-timeout", type=_seconds, default=LOCK_TIMEOUT_S, metavar="SECONDS",
                        help="wait this long for another build of the same book to finish, then give up with exit "
                             f"status {LOCK_BUSY} (default: {LOCK_TIMEOUT_S:g}; 0: do not wait)")
    args = parser.parse_args()
    return build(args.source.resolve(), clean=args.clean, edition=args.edition, lock_timeout_s=args.lock_timeout)


if __name__ == "__main__":
    raise SystemExit(main())
