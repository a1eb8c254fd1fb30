"""MathJax only on the pages with maths (memwall.sphinxext.mathjax_pages).

Unit tests on Sphinx's script objects, a small Sphinx build (a root page without maths whose toctree holds a
page with maths: Sphinx alone loads MathJax on both), and the built book (``_build/html``; skipped without it):
a page loads the MathJax loader and its configuration exactly when it shows a formula.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from docutils import nodes
from sphinx.builders.html._assets import _JavaScript

from memwall.sphinxext.mathjax_pages import drop_mathjax, has_maths, is_mathjax_script

from .conftest import SITE, toc_pages

PATH = "mathjax/tex-chtml.js"


def test_drop_mathjax_removes_the_loader_and_its_configuration_only():
    scripts = [_JavaScript("doctools.js"), _JavaScript("", body='window.MathJax = {"options": {}}'),
               _JavaScript(f"_static/{PATH}", defer="defer"), _JavaScript("", body="var x = 1;"),
               _JavaScript("", type="text/x-mathjax-config", body="MathJax.Hub.Config({})")]
    assert drop_mathjax(scripts, PATH) == 3
    assert [(s.filename, s.attributes.get("body")) for s in scripts] == [("doctools.js", None), ("", "var x = 1;")]
    assert is_mathjax_script(_JavaScript(PATH), PATH)
    assert not is_mathjax_script(_JavaScript("other/tex-chtml.js"), PATH)
    assert not is_mathjax_script(_JavaScript(PATH), "")


def test_has_maths_finds_inline_and_display_maths_anywhere():
    doc = nodes.section("", nodes.paragraph("", "no maths here"))
    assert not has_maths(doc) and not has_maths(None)
    doc += nodes.note("", nodes.paragraph("", "", nodes.math("", "x^2")))
    assert has_maths(doc)
    assert has_maths(nodes.container("", nodes.math_block("", "a = b")))


def _scripts(page: Path) -> list[str]:
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    return [s.get("src", "") or s.get_text()[:40] for s in soup.find_all("script")]


def _loads_mathjax(page: Path) -> bool:
    return any("tex-chtml" in s or "tex-mml" in s or s.startswith("window.MathJax") for s in _scripts(page))


@pytest.mark.slow  # a small Sphinx build: about 2 s
def test_a_root_page_without_maths_loads_no_mathjax(tmp_path: Path):
    from sphinx.application import Sphinx

    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(textwrap.dedent("""\
        extensions = ["myst_parser", "sphinx-mathjax-offline", "memwall.sphinxext.mathjax_pages"]
        myst_enable_extensions = ["dollarmath", "amsmath"]
        mathjax3_config = {"options": {"processHtmlClass": "math"}}
        """), encoding="utf-8")
    (src / "maths.md").write_text("# Maths\n\nInline $E = mc^2$.\n", encoding="utf-8")
    (src / "plain.md").write_text("# Plain\n\nA dollar sign alone: 5 $ each.\n", encoding="utf-8")
    (src / "block.md").write_text("# Block\n\n\\begin{equation}\na = b\n\\end{equation}\n", encoding="utf-8")
    (src / "index.md").write_text("# Book\n\nNo formula.\n\n```{toctree}\nmaths\nplain\nblock\n```\n",
                                  encoding="utf-8")
    out = tmp_path / "html"
    Sphinx(str(src), str(src), str(out), str(out / ".doctrees"), "html", status=None, warning=None).build()
    assert {p: _loads_mathjax(out / f"{p}.html") for p in ("index", "maths", "plain", "block")} == {
        "index": False, "maths": True, "plain": False, "block": True}
    assert sum(s.startswith("window.MathJax") for s in _scripts(out / "maths.html")) == 1


# ------------------------------------------------------------------------------------------- the built book

PAGES = toc_pages()


@pytest.fixture(scope="module")
def built() -> Path:
    if not (SITE / "index.html").is_file():
        pytest.skip(f"no built site at {SITE} (run `make book`)")
    return SITE


def _shows_maths(page: Path) -> bool:
    """Whether the page holds a formula as Sphinx writes it for MathJax (``<span class="math ...">`` inline,
    ``<div class="math ...">`` displayed)."""
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    return soup.select_one("span.math, div.math") is not None


@pytest.mark.parametrize("page", PAGES)
def test_built_pages_load_mathjax_exactly_when_they_show_maths(built: Path, page: str):
    path = built / f"{page}.html"
    assert _loads_mathjax(path) == _shows_maths(path), (
        f"{page}: shows maths {_shows_maths(path)}, loads MathJax {_loads_mathjax(path)}")


def test_the_intro_loads_no_mathjax_and_the_chapters_with_formulas_do(built: Path):
    loads = {page: _loads_mathjax(built / f"{page}.html") for page in PAGES}
    assert not loads[PAGES[0]], "the intro has no formula; it must not load MathJax"
    assert sum(loads.values()) >= 5, f"MathJax on too few pages: {loads}"
