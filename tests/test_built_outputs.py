"""The built pages show what the chapters compute and nothing else: no warning or error text in a cell output.

A warning printed by a library (a deprecation, tqdm's "IProgress not found", a pandas FutureWarning) lands
in the page as a stderr output block above the result a reader came for. The checks read the built HTML with
Beautiful Soup; they skip when ``_build/html`` is absent (``make test`` builds it first).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from bs4 import BeautifulSoup

from .conftest import SITE, toc_pages

PAGES = toc_pages()
MEMWALL_PREVIEW = bool(os.environ.get("MEMWALL_SITE"))
"""A preview build (``MEMWALL_SITE``) holds some pages only: the others are skipped."""


@pytest.fixture(scope="module")
def built():
    if not (SITE / "index.html").is_file():
        pytest.skip(f"no built site at {SITE} (run `make book`)")
    return SITE


def _soup(built, page: str) -> BeautifulSoup:
    """The built page, parsed; a page a preview build (``MEMWALL_SITE``) lacks is skipped."""
    path = built / f"{page}.html"
    if MEMWALL_PREVIEW and not path.is_file():
        pytest.skip(f"{page} is not in this preview build")
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@pytest.mark.parametrize("page", PAGES)
def test_no_page_shows_stderr_or_a_traceback(built, page: str):
    soup = _soup(built, page)
    stderr = [d.get_text(" ", strip=True)[:160] for d in soup.select("div.output.stderr, div.stderr")]
    assert not stderr, f"{page}: cell output on stderr (a warning a reader sees): {stderr}"
    traces = [d.get_text(" ", strip=True)[:160] for d in soup.select("div.output.traceback, div.traceback")]
    assert not traces, f"{page}: a traceback in the page: {traces}"
    text = " ".join(d.get_text(" ", strip=True) for d in soup.select("div.cell_output"))
    for needle in ("Warning:", "TqdmWarning", "FutureWarning", "DeprecationWarning"):
        assert needle not in text, f"{page}: a cell output contains {needle!r}"


# Tables a chapter may show: memwall.reader_table's and the claims ledger's views (memwall.claims.render).
READER_TABLE_CLASSES = {"reader-table", "claims-box-table", "claims-ledger"}


@pytest.mark.parametrize("page", PAGES)
def test_every_table_of_a_cell_output_is_a_reader_table(built, page: str):
    """Issue #17: every table in the book goes through memwall.reader_table (no raw or styled DataFrame)."""
    soup = _soup(built, page)
    raw = [" ".join(t.get("class", [])) or t.get("id", "") or "(no class)"
           for t in soup.select("div.cell_output table")
           if not READER_TABLE_CLASSES & set(t.get("class", []))]
    assert not raw, (f"{page}: {len(raw)} table(s) in cell outputs that are not reader tables "
                     f"(classes {raw[:5]}): format them with memwall.reader_table.reader_table")


def _tooltips(node: Any):
    """Every tooltip entry (a dict with ``field``) of a Vega-Lite spec, however deep."""
    if isinstance(node, list):
        for item in node:
            yield from _tooltips(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "tooltip":
                for entry in value if isinstance(value, list) else [value]:
                    if isinstance(entry, dict) and "field" in entry:
                        yield entry
            else:
                yield from _tooltips(value)


@pytest.mark.parametrize("page", PAGES)
def test_tooltips_name_their_fields_for_a_reader(built, page: str):
    """Issue #17: a tooltip shows "source", not ``source_url``: every field with an underscore has a title."""
    from tests.test_site_readable import chart_specs

    _soup(built, page)  # skips a page a preview build lacks
    specs = chart_specs((built / f"{page}.html").read_text(encoding="utf-8"))
    raw = sorted({t["field"] for spec in specs.values() for t in _tooltips(spec)
                  if "_" in t["field"] and not t.get("title")})
    assert not raw, f"{page}: tooltip fields shown under their column names: {raw}"
