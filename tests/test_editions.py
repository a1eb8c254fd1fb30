"""Student and instructor editions (:mod:`memwall.sphinxext.editions`, ``make book EDITION=student``).

The unit tests check the stripping function on hand-written pages and on every chapter. The built-site tests
read the student edition that ``make test`` builds into ``_build/student/html`` (one whole build, about as long
as the instructor build: every chapter of the book is checked, which a one-chapter test book would not do; a
solution's glued number or label used outside it would fail that build). They fail, naming the command, when
it is absent, and carry the ``notebooks`` marker like the other built-site tests, so ``make test-fast`` skips them.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from memwall.sphinxext import editions, notebooks

from .conftest import ROOT, SITE, toc_pages

STUDENT_SITE = ROOT / "_build" / "student" / "html"

PAGE = """---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
# A page

```{exercise} First
:label: ex-a-first

Question one.
```

```{solution-start} ex-a-first
:class: dropdown
```
Secret answer one.

```{code-cell} ipython3
print("secret code one")
```

````{note}
A nested fence:
```python
x = 1  # secret nested
```
````

```{solution-end}
```

Text between.

````{exercise} Second
:label: ex-a-second

Question two, with an example of the syntax:

~~~markdown
```{solution-start} ex-a-second
```
~~~
````

:::{solution} ex-a-second
:class: dropdown
Secret answer two.
:::

The end.
"""


def _build_book_module():
    spec = importlib.util.spec_from_file_location("build_book", ROOT / "tools" / "build_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_strip_removes_solutions_and_keeps_exercises_and_lines():
    out = editions.strip_solutions(PAGE)
    assert "secret" not in out.lower()
    assert out.count("\n") == PAGE.count("\n"), "the line numbers of the rest of the page must not move"
    for kept in ("```{exercise} First", ":label: ex-a-first", "Question one.", "Text between.",
                 ":label: ex-a-second", "The end.", "# A page", "kernelspec:"):
        assert kept in out, kept
    assert out.count(editions.STUDENT_NOTE) == 2
    # a solution-start shown inside a code fence is text, not a directive: it stays
    assert "~~~markdown\n```{solution-start} ex-a-second\n```\n~~~" in out
    # the note is a paragraph of its own
    assert f"\n\n{editions.STUDENT_NOTE}\n\n" in out


def test_solution_blocks_name_the_exercises_and_cover_the_code_cells():
    blocks = editions.solution_blocks(PAGE)
    assert [label for _, _, label in blocks] == ["ex-a-first", "ex-a-second"]
    lines = PAGE.split("\n")
    first, stop, _ = blocks[0]
    assert lines[first].startswith("```{solution-start}") and lines[stop - 1] == "```"
    assert lines[stop - 2] == "```{solution-end}"
    assert any("code-cell" in line for line in lines[first:stop])


def test_instructor_edition_is_the_source_unchanged():
    assert editions.edition_source(PAGE, "instructor") == PAGE
    assert editions.edition_source(PAGE, "student") == editions.strip_solutions(PAGE)


@pytest.mark.parametrize(("text", "message"), [
    ("intro\n\n```{solution-start} ex-a-b\n```\nanswer\n", r"page\.md: line 3: \{solution-start\} ex-a-b has no"),
    ("```{solution-end}\n```\n", r"line 1: \{solution-end\} without"),
    ("```{solution-start} a\n```\n\n```{solution-start} b\n```\n", r"line 4: .*inside the solution opened at line 1"),
])
def test_unbalanced_solutions_are_errors_naming_the_line(text: str, message: str):
    with pytest.raises(ValueError, match=message):
        editions.strip_solutions(text, where="page.md")


def test_unknown_edition_names_the_editions():
    with pytest.raises(ValueError, match="instructor, student"):
        editions.edition_source(PAGE, "teacher")
    assert _build_book_module().EDITIONS == editions.EDITIONS


@pytest.mark.slow
def test_build_book_refuses_an_unknown_edition():
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py"), "--edition", "teacher"],
                         capture_output=True, text=True, check=False)
    assert run.returncode != 0 and "'instructor', 'student'" in run.stderr


@pytest.mark.parametrize("page", [p for p in toc_pages() if "solution-start" in (ROOT / f"{p}.md").read_text()])
def test_every_chapter_loses_all_its_solutions_and_nothing_else(page: str):
    text = (ROOT / f"{page}.md").read_text(encoding="utf-8")
    out = editions.strip_solutions(text, where=page)
    assert not re.search(r"\{solution", out)
    assert out.count(editions.STUDENT_NOTE) == len(editions.solution_blocks(text)) >= 1
    assert re.findall(r":label: (ex-[\w-]+)", out) == re.findall(r":label: (ex-[\w-]+)", text)
    inside = {i for first, stop, _ in editions.solution_blocks(text) for i in range(first, stop)}
    for i, (old, new) in enumerate(zip(text.split("\n"), out.split("\n"), strict=True)):
        assert new in ("", editions.STUDENT_NOTE) if i in inside else new == old, f"{page}.md line {i + 1}"


def test_downloadable_notebook_of_the_student_edition_has_no_solution(tmp_path: Path):
    source = ROOT / "chapters" / "hardware_trends.md"
    url = notebooks.repository_url(ROOT)
    nb_paths = {}
    for edition in editions.EDITIONS:
        book = notebooks.Book(ROOT, url, edition=edition)
        nb_paths[edition] = notebooks.write_notebook(source, tmp_path / f"{edition}.ipynb", url, book=book,
                                                     docname="chapters/hardware_trends")
    student, instructor = (nbformat.read(nb_paths[e], as_version=4) for e in ("student", "instructor"))
    text = {e: "\n".join(c.source for c in nb.cells) for e, nb in (("student", student), ("instructor", instructor))}
    assert "Solution to Exercise" in text["instructor"] and "Solution to Exercise" not in text["student"]
    assert text["student"].count("Solutions are in the instructor edition") == 4
    assert len(re.findall(r"### Exercise \d+:", text["student"])) == 4
    assert sum(c.cell_type == "code" for c in student.cells) < sum(c.cell_type == "code" for c in instructor.cells)


# ---------------------------------------------------------------------------------------- built editions


@pytest.fixture(scope="module")
def student_site() -> Path:
    if not (STUDENT_SITE / "index.html").is_file():
        pytest.fail(f"no student edition at {STUDENT_SITE}: run `make book EDITION=student` (make test does it)")
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no instructor edition at {SITE}: run `make book`")
    return STUDENT_SITE


def _chapters_with_exercises() -> list[str]:
    return [p for p in toc_pages() if "{exercise}" in (ROOT / f"{p}.md").read_text(encoding="utf-8")]


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _search_terms(site: Path) -> set[str]:
    text = (site / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1:text.rindex(")")])
    return set(index["terms"]) | set(index["titleterms"])


def _words(text: str, shortest: int = 6) -> set[str]:
    return {w.lower() for w in re.findall(rf"[A-Za-z]{{{shortest},}}", text)}


@pytest.fixture(scope="module")
def solution_only_stems() -> set[str]:
    """Search-index stems of the instructor edition's solution words that no other text of that edition has."""
    from sphinx.search.en import SearchEnglish

    stem = SearchEnglish({}).stem
    inside, outside = set(), set()
    for path in SITE.rglob("*.html"):
        if "_static" in path.parts or path.name in ("genindex.html", "search.html"):
            continue
        soup = _soup(path)
        for solution in soup.select("div.solution"):
            inside |= {stem(w) for w in _words(solution.get_text(" "))}
            solution.decompose()
        outside |= {stem(w) for w in _words(soup.get_text(" "), 1)}
    return inside - outside - {stem(w) for w in _words(editions.STUDENT_NOTE, 1)}


def _solution_code_lines(page: str) -> list[str]:
    """The longest line of each code cell of the page's solutions that occurs nowhere else in the page."""
    text = (ROOT / f"{page}.md").read_text(encoding="utf-8")
    lines = text.split("\n")
    inside = {i for first, stop, _ in editions.solution_blocks(text) for i in range(first, stop)}
    outside = {lines[i].strip() for i in range(len(lines)) if i not in inside}
    found = []
    for first, stop, _ in editions.solution_blocks(text):
        for cell in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)\n```", "\n".join(lines[first:stop]), re.DOTALL):
            candidates = [line.strip() for line in cell.split("\n") if line.strip() not in outside]
            if candidates:
                found.append(max(candidates, key=len))
    return found


@pytest.mark.notebooks
def test_student_pages_have_exercises_and_no_solutions(student_site: Path):
    problems = []
    for page in _chapters_with_exercises():
        student, instructor = _soup(student_site / f"{page}.html"), _soup(SITE / f"{page}.html")
        exercises = [d.get("id") for d in instructor.select("div.exercise")]
        if not instructor.select("div.solution"):
            problems.append(f"{page}: the instructor edition lost its solutions")
        if student.select("div.solution, .solution"):
            problems.append(f"{page}: {len(student.select('div.solution'))} solutions in the student edition")
        if [d.get("id") for d in student.select("div.exercise")] != exercises:
            problems.append(f"{page}: the student edition's exercises differ from the instructor's")
        if student.get_text().count("Solutions are in the instructor edition") != len(exercises):
            problems.append(f"{page}: not one note per exercise")
    assert not problems, "\n".join(problems)


@pytest.mark.notebooks
def test_student_search_index_holds_no_solution_text(student_site: Path, solution_only_stems: set[str]):
    assert len(solution_only_stems & _search_terms(SITE)) >= 20, "too few solution-only words to mean much"
    leaked = solution_only_stems & _search_terms(student_site)
    assert not leaked, f"solution words in the student search index: {sorted(leaked)[:20]}"
    index = (student_site / "searchindex.js").read_text(encoding="utf-8")
    assert "Solution to Exercise" not in index and "Solution to Exercise" in (SITE / "searchindex.js").read_text()


@pytest.mark.notebooks
def test_student_notebooks_hold_no_solution_cells(student_site: Path):
    problems, checked = [], 0
    for page in _chapters_with_exercises():
        student = nbformat.read(student_site / notebooks.NOTEBOOK_DIR / f"{page}.ipynb", as_version=4)
        instructor = nbformat.read(SITE / notebooks.NOTEBOOK_DIR / f"{page}.ipynb", as_version=4)
        code = {e: "\n".join(c.source for c in nb.cells if c.cell_type == "code")
                for e, nb in (("student", student), ("instructor", instructor))}
        for line in _solution_code_lines(page):
            checked += 1
            if line in code["student"] or line not in code["instructor"]:
                problems.append(f"{page}: solution code {line!r} in the student notebook, or not in the instructor's")
        text = "\n".join(c.source for c in student.cells)
        if "Solution to Exercise" in text:
            problems.append(f"{page}: a solution heading in the student notebook")
        if len(re.findall(r"^#+ Exercise \d+:", text, re.MULTILINE)) != text.count("Solutions are in the instructor"):
            problems.append(f"{page}: not one note per exercise in the student notebook")
    assert checked >= 30 and not problems, "\n".join(problems)


@pytest.mark.notebooks
def test_student_site_serves_no_page_source_and_links_no_binder(student_site: Path):
    # Sphinx would copy each page's MyST text (solutions included) to _sources/ and the theme would link it
    # ("Download source file"); Binder builds its notebooks from the repository's sources, which hold them
    real = student_site.resolve()
    binder, leaks = [], []
    for page in _chapters_with_exercises():
        if "mybinder.org" in (student_site / f"{page}.html").read_text(encoding="utf-8"):
            binder.append(page)
        source = real / "_sources" / f"{page}.md"
        if source.is_file() and ("{solution-start}" in (text := source.read_text(encoding="utf-8"))
                                 or "Solutions are in the instructor" not in text):
            leaks.append(page)
    assert not leaks, f"the student site offers page sources with solutions: {leaks}"
    assert not binder, f"student pages link Binder (it builds notebooks with solutions): {binder}"
    instructor = (SITE / "chapters" / "hardware_trends.html").read_text(encoding="utf-8")
    assert "mybinder.org" in instructor, "the instructor edition keeps its Launch Binder link"


def test_page_sources_offered_for_download_are_stripped(tmp_path: Path):
    from memwall.sphinxext.editions import strip_page_sources

    page = ROOT / "chapters" / "hardware_trends.md"
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "hardware_trends.md").write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
    assert strip_page_sources(tmp_path, "instructor") == []
    assert strip_page_sources(tmp_path, "student") == [tmp_path / "chapters" / "hardware_trends.md"]
    text = (tmp_path / "chapters" / "hardware_trends.md").read_text(encoding="utf-8")
    assert "{solution-start}" not in text and "{exercise}" in text
