"""Build the book into _build/html with the build gate on, from a clean tree when inputs changed.

The execution cache (jupyter-cache) keys only on notebook code, so outputs computed by an older
``memwall/``, ``data/`` or set of requirements would be served stale. This script hashes those
inputs (and the files of the data folder the package reads: ``$MEMWALL_DATA_DIR`` when it is set, see
:func:`data_folder`) and deletes ``_build`` whenever the hash differs from the last successful
build's, and always under CI (``CI`` set) or ``--clean``. Warnings are errors
(``-W -n --keep-going``): a failing cell, a broken cross-reference, an unknown MIME type or a bad
data row fails the build.

Sphinx builds incrementally: after a failed run it has stored the failing pages, and an unchanged
rerun would re-emit no warning and "succeed". So the success stamp is removed before every build,
and after a failure Sphinx's saved state (``_build/.doctrees``) is deleted, which makes the next run
re-read every page (the execution cache keeps successful notebooks fast).

Editions (:mod:`memwall.sphinxext.editions`): ``--edition instructor`` (the default) is the book as written, in
``_build/html``; ``--edition student`` removes every solution and builds into ``_build/student/`` (its own
execution cache, doctrees and success stamp, so neither edition's build overwrites or invalidates the other's;
the site is ``_build/student/html``). The edition reaches Sphinx as the config value ``memwall_edition``, set in
a copy of ``_config.yml`` written to ``_build/student/_config.yml`` and passed with ``jupyter-book --config``.
A clean instructor build deletes the student build too (it is stale for the same reasons).

Usage: python tools/build_book.py [--clean] [--source DIR] [--edition instructor|student]
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
INPUTS = ("memwall", "data", "requirements.txt", "pyproject.toml", "_config.yml")
GATE_FLAGS = ("-W", "-n", "--keep-going")
"""Warnings are errors (-W), references are checked (-n), and every problem is listed (--keep-going)."""
EDITIONS = ("instructor", "student")
"""The editions (as :data:`memwall.sphinxext.editions.EDITIONS`; a test checks that they agree)."""


def data_folder() -> Path:
    """The folder of tables the package reads: :func:`memwall.tables.paths.data_dir` (the same resolution).

    Raises
    ------
    FileNotFoundError
        If ``$MEMWALL_DATA_DIR`` names a folder that does not exist.
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # this clone's memwall when the script runs outside its environment
    from memwall.tables.paths import data_dir

    return data_dir()


def folder_digest(folder: Path) -> str:
    """SHA-256 over the names (relative to ``folder``) and contents of every file under ``folder``.

    Parameters
    ----------
    folder : pathlib.Path
        Folder to hash; ``__pycache__`` folders are skipped.

    Returns
    -------
    str
        Hex digest; it changes when a file is added, removed, renamed or edited.
    """
    h = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(f.relative_to(folder).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def inputs_digest() -> str:
    """SHA-256 over the files that notebook outputs depend on besides the notebooks themselves.

    Those are :data:`INPUTS` and the files of :func:`data_folder` (so editing a table in
    ``$MEMWALL_DATA_DIR`` rebuilds); a data folder that does not exist is hashed as its error message (the
    build then fails in the first notebook that loads a table, with that message).
    """
    h = hashlib.sha256()
    try:
        h.update(f"data folder {folder_digest(data_folder())}".encode())
    except FileNotFoundError as err:
        h.update(f"data folder error {err}".encode())
    for entry in INPUTS:
        path = ROOT / entry
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            if "__pycache__" in f.parts:
                continue
            h.update(str(f.relative_to(ROOT)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


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


def build(source: Path, *, clean: bool = False, edition: str = EDITIONS[0]) -> int:
    """Build ``edition`` of the book in ``source`` (into :func:`site_dir`); return the exit status."""
    out = output_root(source, edition)
    build_dir = out / "_build"
    stamp = build_dir / ".inputs-sha256"
    digest = inputs_digest()
    stale = not stamp.is_file() or stamp.read_text().strip() != digest
    if clean or os.environ.get("CI") or stale:
        why = "--clean" if clean else "CI" if os.environ.get("CI") else "inputs changed"
        print(f"build_book: clean build ({why})", flush=True)
        shutil.rmtree(build_dir, ignore_errors=True)
    stamp.unlink(missing_ok=True)
    shutil.rmtree(build_dir / "html" / "reports", ignore_errors=True)  # tracebacks of earlier failures
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", str(source), "--path-output", str(out), *GATE_FLAGS]
    config = edition_config(source, edition)
    if config is not None:
        cmd += ["--config", str(config)]
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=source, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        shutil.rmtree(build_dir / ".doctrees", ignore_errors=True)  # the next run re-reads every page
        print(f"build_book: FAILED after {elapsed:.1f} s (see the warnings above)", file=sys.stderr)
        return result.returncode
    stamp.write_text(digest + "\n")
    site = site_dir(source, edition)
    if not site.is_symlink() and not site.exists():  # _build/student/html (jupyter-book always adds _build/)
        site.symlink_to(Path("_build") / "html", target_is_directory=True)
    print(f"build_book: built the {edition} edition, {site / 'index.html'}, in {elapsed:.1f} s")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", action="store_true", help="delete _build first")
    parser.add_argument("--source", type=Path, default=ROOT,
                        help="book folder to build (default: this repository; the tests build small books)")
    parser.add_argument("--edition", choices=EDITIONS, default=EDITIONS[0],
                        help="instructor: the book as written, into _build/html (default); "
                             "student: without the solutions, into _build/student/html")
    args = parser.parse_args()
    return build(args.source.resolve(), clean=args.clean, edition=args.edition)


if __name__ == "__main__":
    raise SystemExit(main())
