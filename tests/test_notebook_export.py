"""The reader notebooks of the built site (``_build/html/notebooks``) read right outside the book.

Every generated ``.ipynb`` is opened: no Markdown cell may keep a MyST role or directive (``{glue``,
``{cite``, ``{exercise``, ``{solution``, ```` ```{ ````, ``:::{``), glued numbers are this build's values
(no ``⟨name⟩`` placeholder), and the exercise numbers and titles are those the pages show. These tests
need the built site (the ``site`` fixture) and carry the ``notebooks`` marker, so ``make test-fast``
leaves them out; ``make test`` builds the book first and runs them.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
import pytest

from memwall.sphinxext import notebooks

from .conftest import ROOT
from .test_notebooks import NOTEBOOKS

pytestmark = pytest.mark.notebooks

MYST = re.compile(r"\{glue|\{cite|\{exercise|\{solution|```\{|:::\{")


def _bare(title: str) -> str:
    """A title without markup, math delimiters or typographic quotes (Sphinx's smartquotes)."""
    title = re.sub(r"<[^>]+>|\\[()]|[$*`\\]", "", title)
    return title.translate(str.maketrans("‘’“”", "''\"\"")).strip()


def _generated(site: Path) -> list[Path]:
    return sorted((site / notebooks.NOTEBOOK_DIR).rglob("*.ipynb"))


def test_every_chapter_has_a_generated_notebook(site: Path):
    names = {p.relative_to(site / notebooks.NOTEBOOK_DIR).with_suffix("").as_posix() for p in _generated(site)}
    assert names == {p.relative_to(ROOT).with_suffix("").as_posix() for p in NOTEBOOKS}


def test_no_myst_left_in_any_markdown_cell(site: Path):
    found: list[str] = []
    checked = 0
    for path in _generated(site):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        checked += 1
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "markdown":
                continue
            for match in MYST.finditer(cell.source):
                context = cell.source[max(0, match.start() - 40):match.end() + 40].replace("\n", " ")
                found.append(f"{path.name} cell {i}: {match.group(0)!r} in ...{context}...")
            if "⟨" in cell.source:
                found.append(f"{path.name} cell {i}: a glue placeholder, though the build had the values")
    assert checked == len(NOTEBOOKS), f"{checked} notebooks under {site / notebooks.NOTEBOOK_DIR}"
    assert not found, "\n".join(found)


def test_exercise_numbers_and_titles_match_the_pages(site: Path):
    for path in _generated(site):
        docname = path.relative_to(site / notebooks.NOTEBOOK_DIR).with_suffix("").as_posix()
        nb = nbformat.read(path, as_version=4)
        ours = [m.groups() for cell in nb.cells if cell.cell_type == "markdown"
                for m in re.finditer(r"^#+ Exercise (\d+): (.+)$", cell.source, re.MULTILINE)]
        page = html.unescape((site / f"{docname}.html").read_text(encoding="utf-8"))
        theirs = re.findall(r'caption-number">Exercise (\d+) </span> \((.+?)\)</p>', page)
        assert [n for n, _ in ours] == [n for n, _ in theirs], docname
        assert [_bare(t) for _, t in ours] == [_bare(t) for _, t in theirs], docname


def test_figure_captions_carry_the_numbers_the_pages_show(site: Path):
    """The prose says "Figure 3": the notebook labels the same output Figure 3, in the page's order."""
    for path in _generated(site):
        docname = path.relative_to(site / notebooks.NOTEBOOK_DIR).with_suffix("").as_posix()
        nb = nbformat.read(path, as_version=4)
        ours = [int(m.group(1)) for cell in nb.cells if cell.cell_type == "markdown"
                for m in [re.match(r"\*\*Figure (\d+)\.\*\* ", cell.source)] if m]
        page = (site / f"{docname}.html").read_text(encoding="utf-8")
        theirs = [int(n) for n in re.findall(r'caption-number">Figure (\d+) </span>', page)]
        assert ours == theirs, docname


def test_cited_notebooks_end_with_references(site: Path):
    for path in _generated(site):
        nb = nbformat.read(path, as_version=4)
        text = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
        if re.search(r"\([A-Z][^()]*, (?:19|20)\d\d\)", text):
            assert nb.cells[-1].source.startswith("## References\n"), path.name


def test_notebooks_of_pages_no_longer_in_the_book_are_removed(tmp_path):
    from memwall.sphinxext.notebooks import remove_stale_notebooks

    for name in ("intro", "chapters/kept", "chapters/removed"):
        (tmp_path / f"{name}.ipynb").parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f"{name}.ipynb").write_text("{}", encoding="utf-8")
    gone = remove_stale_notebooks(tmp_path, {"intro", "chapters/kept"})
    assert [p.relative_to(tmp_path).as_posix() for p in gone] == ["chapters/removed.ipynb"]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.ipynb")) == [
        "chapters/kept.ipynb", "intro.ipynb"]
