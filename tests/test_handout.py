"""PDF handouts (``tools/handout.py``, ``make handout``): one chapter printed by headless Chromium.

The printed chapter is checked with pypdf: a sensible page count, every chart an image (not a blank or an
interactive widget), the chapter's title, the book's citation and page numbers in the text, and solutions
only in the instructor handout. Needs both built editions (``make test`` builds them) and Chromium; marked
``browser`` like the other tests that open the site in a browser.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from .conftest import ROOT, SITE

pypdf = pytest.importorskip("pypdf")

CHAPTER = "hardware_trends"
STUDENT_SITE = ROOT / "_build" / "student" / "html"


def _handout_module():
    spec = importlib.util.spec_from_file_location("handout", ROOT / "tools" / "handout.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


handout = _handout_module()


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "tools" / "handout.py"), *args], capture_output=True,
                          text=True, timeout=300, check=False)


def test_unknown_chapter_names_the_chapters():
    with pytest.raises(handout.HandoutError, match=r"unknown chapter 'nope'.*hardware_trends, encoder_decoder"):
        handout.resolve_chapter("nope", handout.toc_docnames())
    assert handout.resolve_chapter("hardware_trends", handout.toc_docnames()) == "chapters/hardware_trends"
    assert handout.resolve_chapter("chapters/own_model.md", handout.toc_docnames()) == "chapters/own_model"


def test_no_built_site_says_to_build_it(tmp_path: Path):
    with pytest.raises(handout.HandoutError, match=r"run `make book EDITION=student` first"):
        handout.make_handout(["intro"], tmp_path / "html", tmp_path / "x.pdf", solutions=False, what="x")
    with pytest.raises(handout.HandoutError, match=r"run `make book` first"):
        handout.make_handout(["intro"], tmp_path / "html", tmp_path / "x.pdf", solutions=True, what="x")


def test_citation_comes_from_citation_cff():
    # read from the book's own files, so that a renamed fork (CONTRIBUTING, "Forking for a course") passes
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    cite = handout.citation()
    assert cite["book"] == config["title"]
    assert cff["authors"][0]["name"] in cite["short"] and cff["repository-code"] in cite["short"]
    assert cite["original"].startswith("Gholami et al.")


# ---------------------------------------------------------------------------------------- printed


def _images(obj, seen: set[int] | None = None) -> list[tuple[int, int]]:
    """(width, height) of every image XObject under a page or form's resources (forms searched too)."""
    seen = set() if seen is None else seen
    found = []
    resources = obj.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    for ref in (xobjects.get_object().values() if xobjects is not None else []):
        x = ref.get_object()
        if id(x) in seen:
            continue
        seen.add(id(x))
        if x.get("/Subtype") == "/Image":
            found.append((int(x["/Width"]), int(x["/Height"])))
        elif x.get("/Subtype") == "/Form":
            found.extend(_images(x, seen))
    return found


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z]{6,}", text)}


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    for folder, command in ((SITE, "make book"), (STUDENT_SITE, "make book EDITION=student")):
        if not (folder / "index.html").is_file():
            pytest.fail(f"no built site at {folder}: run `{command}` (make test does it)")
    handout.chromium()  # fails with the install hint when there is no browser
    out = tmp_path_factory.mktemp("handouts")
    pdfs = {}
    for solutions in ("0", "1"):
        pdf = out / f"{CHAPTER}-{solutions}.pdf"
        run = _run("--chapter", CHAPTER, "--solutions", solutions, "--output", str(pdf))
        assert run.returncode == 0, run.stderr
        pdfs[solutions] = pdf
    return pdfs


def _text(pdf: Path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(pdf).pages]


@pytest.mark.browser
def test_handout_pages_charts_title_citation_and_page_numbers(printed: dict[str, Path]):
    page_html = BeautifulSoup((STUDENT_SITE / f"chapters/{CHAPTER}.html").read_text(encoding="utf-8"), "html.parser")
    title = page_html.select_one("article h1").get_text().replace("#", "").strip()
    charts = len(page_html.select("div[id^='altair-viz-']"))
    assert charts >= 3
    cite = handout.citation()
    for solutions, pdf in printed.items():
        reader = pypdf.PdfReader(pdf)
        n = len(reader.pages)
        assert 3 <= n <= 40, f"{pdf.name}: {n} pages"
        images = [size for page in reader.pages for size in _images(page)]
        big = [(w, h) for w, h in images if w >= 1000]  # charts at 3 device pixels per CSS pixel
        assert len(big) >= charts, f"{pdf.name}: {len(big)} chart images for {charts} charts ({images})"
        pages = _text(pdf)
        flat = re.sub(r"\s+", " ", " ".join(pages))
        assert title in flat, title
        assert re.sub(r"\s+", " ", cite["footer"]) in flat and "Cite as:" in pages[0]
        for i, text in enumerate(pages, start=1):
            assert f"page {i} of {n}" in text, f"{pdf.name}: no page number on page {i}"
        assert ("instructor edition, with solutions" if solutions == "1" else "student edition") in pages[0]
    assert len(pypdf.PdfReader(printed["1"]).pages) > len(pypdf.PdfReader(printed["0"]).pages)


@pytest.mark.browser
def test_student_handout_has_no_solution_and_the_instructor_handout_has_them(printed: dict[str, Path]):
    soup = BeautifulSoup((SITE / f"chapters/{CHAPTER}.html").read_text(encoding="utf-8"), "html.parser")
    solutions = soup.select("div.solution")
    inside = _words(" ".join(s.get_text(" ") for s in solutions))
    for s in solutions:
        s.decompose()
    only = inside - _words(soup.get_text(" ")) - _words(" ".join(handout.citation().values()))
    assert len(only) > 20, only
    student = re.sub(r"\s+", " ", " ".join(_text(printed["0"])))
    instructor = re.sub(r"\s+", " ", " ".join(_text(printed["1"])))
    assert not only & _words(student), sorted(only & _words(student))
    assert len(only & _words(instructor)) >= 0.8 * len(only), sorted(only - _words(instructor))
    assert "Solution to Exercise" in instructor and "Solution to Exercise" not in student
    assert student.count("Solutions are in the instructor edition") == len(solutions)


def test_check_refuses_an_unknown_chapter_before_any_build(capsys):
    # `make handout` runs this first, so a typo costs no build
    assert handout.main(["--chapter", "nope", "--check"]) == 2
    assert "unknown chapter 'nope'" in capsys.readouterr().err
    assert handout.main(["--chapter", "hardware_trends", "--check"]) == 0
