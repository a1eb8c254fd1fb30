"""Exercises: every chapter sets at least three, each with one hidden solution whose code runs.

The source checks parse the MyST markdown of every page in ``_toc.yml`` with markdown-it (the parser
MyST itself is built on; a dependency of the pinned jupytext and myst-nb), without building: the
directives are fenced blocks whose info string is ``{exercise}``, ``{solution-start} <label>``,
``{solution-end}`` or ``{code-cell}``. The site checks read the built HTML with Beautiful Soup and
skip when ``_build/html`` is absent.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from markdown_it import MarkdownIt

from .conftest import ROOT, SITE, toc_pages

MIN_EXERCISES = 3
"""Default minimum per chapter; a chapter may set its own in its front matter (``memwall_exercises_minimum: 1``
for a lab), the one place a fork changes it."""
MINIMUM_KEY = "memwall_exercises_minimum"
NOT_CHAPTERS = {"intro", "chapters/reproduction_report", "chapters/bibliography"}
"""Pages of the table of contents that are not chapters and set no exercises."""
LABEL = re.compile(r"^ex-[a-z0-9]+(?:-[a-z0-9]+)+$")
"""``ex-<chapter>-<short-name>``, lower case (the brief's convention)."""


_toc_pages = toc_pages


@dataclass
class Solution:
    label: str
    line: int
    options: dict[str, str]
    code_cells: int = 0
    closed: bool = False


@dataclass
class Page:
    exercises: list[tuple[str | None, int]] = field(default_factory=list)  # (label, line)
    solutions: list[Solution] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _options(content: str) -> dict[str, str]:
    """The ``:key: value`` lines at the top of a directive's body."""
    out = {}
    for line in content.splitlines():
        m = re.match(r"^:([\w-]+):\s*(.*)$", line.strip())
        if not m:
            break
        out[m.group(1)] = m.group(2).strip()
    return out


def parse_page(text: str) -> Page:
    """Exercises, solutions and structural problems of one MyST page."""
    body = re.sub(r"\A---\n.*?\n---\n", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.DOTALL)
    page, open_solution = Page(), None
    for tok in MarkdownIt("commonmark").parse(body):
        if tok.type != "fence":
            continue
        line = tok.map[0] + 1 if tok.map else 0
        name, _, arg = tok.info.strip().partition(" ")
        if name == "{exercise}":
            page.exercises.append((_options(tok.content).get("label"), line))
        elif name == "{solution-start}":
            if open_solution is not None:
                page.problems.append(f"line {line}: solution-start inside the solution opened at line "
                                     f"{open_solution.line}")
            open_solution = Solution(arg.strip(), line, _options(tok.content))
            page.solutions.append(open_solution)
        elif name == "{solution-end}":
            if open_solution is None:
                page.problems.append(f"line {line}: solution-end without a solution-start")
            else:
                open_solution.closed = True
                open_solution = None
        elif name == "{code-cell}" and open_solution is not None:
            open_solution.code_cells += 1
    if open_solution is not None:
        page.problems.append(f"line {open_solution.line}: solution-start without a solution-end")
    return page


PAGES = _toc_pages()
PARSED = {p: parse_page((ROOT / f"{p}.md").read_text(encoding="utf-8")) for p in PAGES}
CHAPTERS = [p for p in PAGES if p not in NOT_CHAPTERS]


def test_toc_has_chapters():
    assert len(CHAPTERS) >= 7, CHAPTERS
    assert not NOT_CHAPTERS - set(PAGES), "a page named here is no longer in _toc.yml"


def exercises_minimum(text: str, page: str = "page") -> int:
    """The chapter's exercise minimum: its front matter's ``memwall_exercises_minimum``, else
    :data:`MIN_EXERCISES`; a value that is not a whole number >= 0 is an error naming the page."""
    import yaml

    m = re.match(r"^---\n(.*?)\n---\n", text, flags=re.S)
    value = (yaml.safe_load(m.group(1)) or {}).get(MINIMUM_KEY, MIN_EXERCISES) if m else MIN_EXERCISES
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{page}.md: front matter {MINIMUM_KEY}={value!r} must be a whole number >= 0")
    return value


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_sets_exercises(page: str):
    n = len(PARSED[page].exercises)
    minimum = exercises_minimum((ROOT / f"{page}.md").read_text(encoding="utf-8"), page)
    assert n >= minimum, (f"{page}.md has {n} exercise(s) and needs at least {minimum} (the default is "
                          f"{MIN_EXERCISES}; a lab may lower it with `{MINIMUM_KEY}: 1` in its front matter)")


@pytest.mark.parametrize(("front", "expected"), [
    ("---\njupytext: {}\n---\n", MIN_EXERCISES),
    (f"---\n{MINIMUM_KEY}: 1\n---\n", 1),
    (f"---\n{MINIMUM_KEY}: 0\n---\n", 0),
    ("no front matter", MIN_EXERCISES),
])
def test_exercise_minimum_is_a_front_matter_setting(front: str, expected: int):
    assert exercises_minimum(front + "# T\n") == expected


@pytest.mark.parametrize("bad", ["-1", "'2'", "true", "1.5"])
def test_exercise_minimum_rejects_bad_values(bad: str):
    with pytest.raises(ValueError, match=MINIMUM_KEY):
        exercises_minimum(f"---\n{MINIMUM_KEY}: {bad}\n---\n", "chapters/lab")


@pytest.mark.parametrize("page", PAGES)
def test_every_exercise_has_one_hidden_solution_with_code(page: str):
    parsed = PARSED[page]
    problems = list(parsed.problems)
    labels = [label for label, _ in parsed.exercises]
    for label, line in parsed.exercises:
        if label is None:
            problems.append(f"line {line}: exercise without a :label:")
        elif not LABEL.match(label):
            problems.append(f"line {line}: label {label!r} is not ex-<chapter>-<short-name>")
    starts = Counter(s.label for s in parsed.solutions)
    for label in labels:
        if label is not None and starts[label] != 1:
            problems.append(f"exercise {label!r} has {starts[label]} solution-start directives; expected 1")
    for s in parsed.solutions:
        if s.label not in labels:
            problems.append(f"line {s.line}: solution-start {s.label!r} names no exercise of this page")
        if "dropdown" not in s.options.get("class", "").split():
            problems.append(f"line {s.line}: solution of {s.label!r} lacks ':class: dropdown' (hidden by default)")
        if not s.closed:
            problems.append(f"line {s.line}: solution of {s.label!r} has no solution-end")
        if s.code_cells < 1:
            problems.append(f"line {s.line}: solution of {s.label!r} holds no code cell")
    assert not problems, f"{page}.md:\n" + "\n".join(problems)


def test_exercise_labels_unique_across_the_book():
    where = [(label, page) for page in PAGES for label, _ in PARSED[page].exercises if label]
    counts = Counter(label for label, _ in where)
    dupes = {label: [p for lab, p in where if lab == label] for label, n in counts.items() if n > 1}
    assert not dupes, f"exercise labels used more than once: {dupes}"


def test_parser_catches_broken_forms():
    """The checks above see what they claim to see (an independent, hand-written page)."""
    good = ("```{exercise} T\n:label: ex-a-b\n\nQ\n```\n\n```{solution-start} ex-a-b\n:class: dropdown\n```\n"
            "Text\n\n```{code-cell} ipython3\nprint(1)\n```\n\n```{solution-end}\n```\n")
    page = parse_page(good)
    assert [lab for lab, _ in page.exercises] == ["ex-a-b"] and not page.problems
    assert page.solutions[0].code_cells == 1 and page.solutions[0].closed
    assert page.solutions[0].options == {"class": "dropdown"}
    unclosed = parse_page(good.replace("```{solution-end}\n```\n", ""))
    assert unclosed.problems and not unclosed.solutions[0].closed
    assert parse_page(good.replace("```{code-cell} ipython3\nprint(1)\n```", "")).solutions[0].code_cells == 0


# ---------------------------------------------------------------------------------------- built site


@pytest.fixture(scope="module")
def built() -> Path:
    if not (SITE / "index.html").is_file():
        pytest.skip(f"no built site at {SITE} (run `make book`)")
    return SITE


WITH_EXERCISES = [p for p in PAGES if PARSED[p].exercises]


@pytest.mark.parametrize("page", WITH_EXERCISES)
def test_built_exercises_render_with_collapsed_solutions_and_outputs(built: Path, page: str):
    soup = BeautifulSoup((built / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
    # sphinx-togglebutton collapses every `.admonition.dropdown` when the page loads.
    scripts = " ".join(s.get("src", "") + s.get_text() for s in soup.find_all("script"))
    assert "togglebutton.js" in scripts and ".admonition.dropdown" in scripts, f"{page}: no toggle button script"
    problems = []
    for label, _ in PARSED[page].exercises:
        ex = soup.find(id=label)
        if ex is None or "exercise" not in ex.get("class", []):
            problems.append(f"{label}: no rendered exercise")
            continue
        sols = [s for s in soup.select("div.solution")
                if s.select_one(f"p.admonition-title a[href='#{label}']") is not None]
        if len(sols) != 1:
            problems.append(f"{label}: {len(sols)} rendered solutions")
            continue
        sol = sols[0]
        if not {"dropdown", "admonition"} <= set(sol.get("class", [])):
            problems.append(f"{label}: solution not a dropdown admonition (shown by default): {sol.get('class')}")
        cells = sol.select("div.cell")
        if not cells:
            problems.append(f"{label}: solution without a code cell")
        for i, cell in enumerate(cells):
            out = cell.select_one("div.cell_output")
            if out is None or not out.get_text(strip=True):
                problems.append(f"{label}: code cell {i + 1} of the solution has no output (did it run?)")
    assert not problems, f"{page}:\n" + "\n".join(problems)


def _exercise_numbers(soup: BeautifulSoup) -> dict[str, int]:
    """Label -> the number a page's exercise caption shows (``Exercise 3 (title)``)."""
    numbers = {}
    for ex in soup.select("div.exercise"):
        caption = ex.select_one("span.caption-number")
        match = re.match(r"Exercise (\d+)", caption.get_text(strip=True)) if caption else None
        if match and ex.get("id"):
            numbers[ex["id"]] = int(match.group(1))
    return numbers


@pytest.mark.parametrize("page", WITH_EXERCISES)
def test_built_exercises_numbered_per_chapter(built: Path, page: str):
    """Every chapter starts at Exercise 1 (memwall.sphinxext.chapter_numbers), in its captions, its solutions'
    titles and every {ref}/{numref} to an exercise, in page order."""
    soup = BeautifulSoup((built / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
    numbers = _exercise_numbers(soup)
    labels = [label for label, _ in PARSED[page].exercises]
    assert [numbers.get(label) for label in labels] == list(range(1, len(labels) + 1)), page
    problems = []
    for link in soup.select("a.reference.internal[href^='#ex-']"):
        label, text = link["href"][1:], " ".join(link.get_text().split())
        shown = re.match(r"Exercise (\d+)", text)
        if label in numbers and shown and int(shown.group(1)) != numbers[label]:
            problems.append(f"a link to {label} reads {text!r}, the exercise is number {numbers[label]}")
    assert not problems, f"{page}:\n" + "\n".join(problems)
