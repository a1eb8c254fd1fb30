"""What a book build depends on and leaves behind: input digests, its records, the lock, the execution cache.

Used by ``tools/build_book.py`` (which re-exports these names; its docstring explains the rules):

- :func:`input_digests`: a SHA-256 per input of the notebooks besides their own code;
- :func:`clean_reason`: whether an edition's ``_build`` must be emptied, from the digests its cache was made
  with (:data:`STAMP`);
- :func:`build_lock`: the lock that keeps two builds of one book apart (:data:`LOCK`);
- :func:`cache_state` and :func:`execution_summary`: what jupyter-cache holds and what a build executed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_INPUTS = ("memwall", "data", "requirements.txt", "pyproject.toml", "tools/build_book.py",
                  "tools/build_state.py")
"""Files of this repository that notebook outputs depend on besides their own code (folders: every file)."""
BOOK_INPUTS = ("_config.yml", "_toc.yml")
"""Files of a book folder that notebook outputs depend on (the claims ledger reads the book order from _toc.yml)."""
STAMP = ".inputs.json"
"""In an edition's ``_build``: the digests of the inputs its execution cache was made with (JSON)."""
LAST_BUILD = ".last-build"
"""In an edition's ``_build``: ``running`` while a build runs, then ``ok`` or ``failed``."""
LOCK = ".build.lock"
"""In the book's ``_build``: the lock every build of the book (either edition) holds while it runs."""


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


def _path_digest(path: Path) -> str:
    if path.is_dir():
        return folder_digest(path)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"


def page_titles(book: Path) -> dict[str, str]:
    """Each page's title as :func:`memwall.claims.render.chapter_title` reads it: its first line starting ``# ``.

    Parameters
    ----------
    book : pathlib.Path
        Book folder; its ``*.md`` and ``chapters/*.md`` are read (the claims boxes and the reproduction report
        print chapter titles and list the chapters that exist, so they are inputs of those notebooks).

    Returns
    -------
    dict of str to str
        Path relative to ``book`` -> title line (``""`` for a page without one).
    """
    titles = {}
    for page in sorted([*book.glob("*.md"), *book.glob("chapters/*.md")]):
        lines = page.read_text(encoding="utf-8", errors="replace").splitlines()
        titles[page.relative_to(book).as_posix()] = next((line for line in lines if line.startswith("# ")), "")
    return titles


def installed_packages() -> str:
    """Python's version and every installed distribution as ``name==version``, sorted (one per line)."""
    from importlib.metadata import distributions

    names = {f"{(d.metadata['Name'] or '?').lower()}=={d.version}" for d in distributions()}
    return "\n".join([f"python {sys.version}", *sorted(names)])


def input_digests(source: Path = ROOT) -> dict[str, str]:
    """SHA-256 of each input that notebook outputs depend on besides the notebooks' own code.

    Parameters
    ----------
    source : pathlib.Path
        The book folder being built (this repository, or a test's small book).

    Returns
    -------
    dict of str to str
        Input -> hex digest: :data:`PACKAGE_INPUTS` of this repository; the files of :func:`data_folder` (so
        editing a table in ``$MEMWALL_DATA_DIR`` rebuilds; a data folder that does not exist is hashed as its
        error message, and the build then fails in the first notebook that loads a table, with that message);
        the installed distributions (:func:`installed_packages`); and :data:`BOOK_INPUTS` and
        :func:`page_titles` of this repository (the package reads them) and of ``source``.
    """
    digests = {entry: _path_digest(ROOT / entry) for entry in PACKAGE_INPUTS}
    try:
        digests["data folder"] = folder_digest(data_folder())
    except FileNotFoundError as err:
        digests["data folder"] = hashlib.sha256(f"error {err}".encode()).hexdigest()
    digests["installed packages"] = hashlib.sha256(installed_packages().encode()).hexdigest()
    for book in dict.fromkeys([ROOT, source.resolve()]):
        where = "" if book == ROOT else f"{book}/"
        for entry in BOOK_INPUTS:
            digests[where + entry] = _path_digest(book / entry)
        digests[where + "page titles"] = hashlib.sha256(json.dumps(page_titles(book)).encode()).hexdigest()
    return digests


def inputs_digest(source: Path = ROOT) -> str:
    """One SHA-256 over :func:`input_digests` (names and digests)."""
    return hashlib.sha256(json.dumps(input_digests(source), sort_keys=True).encode()).hexdigest()


def _recorded_inputs(stamp: Path) -> dict[str, str] | None:
    """The digests a build recorded in ``stamp``; ``None`` if there is none (or in an older format)."""
    try:
        recorded = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    inputs = recorded.get("inputs") if isinstance(recorded, dict) else None
    return inputs if isinstance(inputs, dict) else None


def clean_reason(build_dir: Path, digests: dict[str, str], *, clean: bool = False) -> str | None:
    """Why ``build_dir`` must be emptied before building, or ``None`` when its execution cache is valid.

    Parameters
    ----------
    build_dir : pathlib.Path
        An edition's ``_build`` folder.
    digests : dict of str to str
        :func:`input_digests` now.
    clean : bool
        ``--clean`` was given.

    Returns
    -------
    str or None
        ``"--clean"``, ``"CI"``, ``"first build"``, ``"the inputs of the earlier build are not recorded"`` or
        ``"inputs changed: <names>"``.
    """
    if clean:
        return "--clean"
    if os.environ.get("CI"):
        return "CI"
    recorded = _recorded_inputs(build_dir / STAMP)
    if recorded is None:
        earlier = build_dir.is_dir() and any(p.name != LOCK for p in build_dir.iterdir())
        return "the inputs of the earlier build are not recorded" if earlier else "first build"
    changed = sorted(k for k in {*recorded, *digests} if recorded.get(k) != digests.get(k))
    return f"inputs changed: {', '.join(changed)}" if changed else None


def _empty(folder: Path, keep: Path) -> None:
    """Delete everything in ``folder`` but ``keep`` (the lock file: deleting a held lock would let a second
    build take a new one)."""
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry == keep:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


@contextmanager
def build_lock(source: Path, timeout_s: float) -> Iterator[bool]:
    """Hold the book's build lock (``_build/.build.lock``) inside the ``with`` block; yield whether it was taken.

    Parameters
    ----------
    source : pathlib.Path
        The book folder.
    timeout_s : float
        How long to wait for another build to release the lock. [s]

    Yields
    ------
    bool
        ``True`` when the lock is held, ``False`` when another build still held it after ``timeout_s`` (the
        message says so on stderr).
    """
    from filelock import FileLock, Timeout

    path = source / "_build" / LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        print(f"build_book: another build of this book is running (it holds {path}); waiting up to "
              f"{timeout_s:g} s for it to finish (--lock-timeout)", flush=True)
        try:
            lock.acquire(timeout=timeout_s)
        except Timeout:
            print(f"build_book: gave up after {timeout_s:g} s: another build still holds {path}; let it finish "
                  "(or stop it), then build again", file=sys.stderr, flush=True)
            yield False
            return
        print("build_book: the other build finished; building", flush=True)
    try:
        yield True
    finally:
        lock.release()


def cache_state(build_dir: Path) -> tuple[set[tuple[str, str]], list[str]]:
    """The execution cache of ``build_dir``: its entries, and the notebooks jupyter-cache knows of (the book's).

    Returns
    -------
    set of (str, str)
        ``(notebook path, hash of its code)`` of every cached execution.
    list of str
        Paths of the notebooks of the build (jupyter-cache's project).
    """
    folder = build_dir / ".jupyter_cache"
    if not (folder / "global.db").is_file():
        return set(), []
    from jupyter_cache import get_cache

    cache = get_cache(folder)
    return {(r.uri, r.hashkey) for r in cache.list_cache_records()}, [r.uri for r in cache.list_project_records()]


def failed_notebooks(build_dir: Path) -> set[str]:
    """Docnames of the notebooks whose execution failed in the last build: myst-nb writes each one's traceback to
    ``html/reports/<docname>.err.log`` (the build script empties that folder before each build)."""
    reports = build_dir / "html" / "reports"
    return {p.relative_to(reports).as_posix().removesuffix(".err.log") for p in reports.rglob("*.err.log")}


def _names(uris: list[str], source: Path) -> str:
    shown = [Path(u).relative_to(source).as_posix() if Path(u).is_relative_to(source) else u for u in sorted(uris)]
    return ", ".join(shown)


def execution_summary(before: set[tuple[str, str]], build_dir: Path, source: Path) -> str:
    """One line: the notebooks this build executed (new cache entries), those that failed, and the others.

    Parameters
    ----------
    before : set of (str, str)
        The cache entries before the build (:func:`cache_state`).
    build_dir, source : pathlib.Path
        The edition's ``_build`` and the book folder (paths are shown relative to it).
    """
    after, notebooks = cache_state(build_dir)
    executed = sorted({uri for uri, _ in after - before})
    failed_docs = failed_notebooks(build_dir)
    failed = sorted(u for u in notebooks if _docname(u, source) in failed_docs)
    earlier = sum(1 for u in notebooks if u not in executed and u not in failed)
    line = f"build_book: notebooks executed by this build: {len(executed)}"
    line += f" ({_names(executed, source)})" if executed else ""
    line += f"; with a run cached by an earlier build: {earlier}"
    return line + (f"; failed: {len(failed)} ({_names(failed, source)})" if failed else "")


def _docname(uri: str, source: Path) -> str:
    path = Path(uri)
    return (path.relative_to(source) if path.is_relative_to(source) else path).with_suffix("").as_posix()
