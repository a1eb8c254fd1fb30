"""Shared fixtures: repository paths and the built site."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


def toc_pages() -> list[str]:
    """Every page of ``_toc.yml`` in book order, as paths without the suffix (the one list the tests use)."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages, stack = [toc["root"]], list(toc.get("parts", [])) + list(toc.get("chapters", []))
    while stack:
        entry = stack.pop(0)
        if "file" in entry:
            pages.append(entry["file"])
        stack.extend(entry.get("chapters", []) + entry.get("sections", []))
    return pages
SITE = Path(os.environ.get("MEMWALL_SITE") or ROOT / "_build" / "html")
"""The built site the site tests read; ``MEMWALL_SITE`` points them at another build (a one-chapter preview,
whose missing pages are then skipped)."""


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def site() -> Path:
    """The built site; the tests that need it fail (not skip) without it, naming the build command."""
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site at {SITE}: run `make book` first (make test does it for you)")
    return SITE


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def server(site: Path) -> Iterator[str]:
    """The built site served from a loopback HTTP server (a thread of this process); yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _chromium() -> str | None:
    for exe in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(exe)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (which downloads no browser); one for the whole run."""
    exe = _chromium()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (tools/ensure_chromium.sh installs it)")
        pytest.skip("chromium is not installed: run tools/ensure_chromium.sh (as root) or apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


class StubClock:
    """``perf_counter`` stand-in: each (start, stop) pair of reads spans the next of ``durations`` [s]."""

    def __init__(self, durations: list[float]) -> None:
        self.durations, self.now, self.reads = iter(durations), 0.0, 0

    def perf_counter(self) -> float:
        self.reads += 1
        if self.reads % 2 == 0:  # a stop read: the timed call took the next duration
            self.now += next(self.durations)
        return self.now


def edit_csv_cell(path: Path, row: int, column: str, value: str) -> str:
    """Set ``column`` of data row ``row`` (0-based) of a CSV table to ``value`` (the tests' way of breaking one
    cell of a copied table); returns that row's first value, its key."""
    import csv

    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[row][column] = value
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return next(iter(rows[row].values()))


def run_cli(capsys, argv: list[str]) -> tuple[int, str, str]:
    """Run the command line in-process: exit status (a usage error's ``SystemExit`` code too), stdout, stderr.

    NumPy overflow, division and invalid operations and RuntimeWarnings raise, so a result that silently became
    inf or NaN fails the test; any other exception propagates (the CLI must not hide it).
    """
    import warnings

    import numpy as np

    from memwall.cli import main

    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        warnings.simplefilter("error", RuntimeWarning)
        try:
            status = main(argv)
        except SystemExit as exc:
            status = exc.code
    out, err = capsys.readouterr()
    return status, out, err
