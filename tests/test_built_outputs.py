"""The built pages show what the chapters compute and nothing else: no warning or error text in a cell output.

A warning printed by a library (a deprecation, tqdm's "IProgress not found", a pandas FutureWarning) lands
in the page as a stderr output block above the result a reader came for. The checks read the built HTML with
Beautiful Soup; they skip when ``_build/html`` is absent (``make test`` builds it first).
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from .conftest import SITE, toc_pages

PAGES = toc_pages()


@pytest.fixture(scope="module")
def built():
    if not (SITE / "index.html").is_file():
        pytest.skip(f"no built site at {SITE} (run `make book`)")
    return SITE


@pytest.mark.parametrize("page", PAGES)
def test_no_page_shows_stderr_or_a_traceback(built, page: str):
    soup = BeautifulSoup((built / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
    stderr = [d.get_text(" ", strip=True)[:160] for d in soup.select("div.output.stderr, div.stderr")]
    assert not stderr, f"{page}: cell output on stderr (a warning a reader sees): {stderr}"
    traces = [d.get_text(" ", strip=True)[:160] for d in soup.select("div.output.traceback, div.traceback")]
    assert not traces, f"{page}: a traceback in the page: {traces}"
    text = " ".join(d.get_text(" ", strip=True) for d in soup.select("div.cell_output"))
    for needle in ("Warning:", "TqdmWarning", "FutureWarning", "DeprecationWarning"):
        assert needle not in text, f"{page}: a cell output contains {needle!r}"
