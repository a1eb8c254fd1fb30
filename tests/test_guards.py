"""Guards: the toolchain is Jupyter Book 1.x, every bibliography entry is cited, every chart's inline spec stays
under a cap and carries its content-derived id, and the measured chapter runs under a time budget.

The chart checks read the built site(s) and skip without one (``make test`` builds both editions first).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import math
import re
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from memwall import stable_ids

from .conftest import ROOT, SITE, toc_pages

CHART_SPEC_CAP_BYTES = 256 * 1024
"""Largest inline Vega-Lite spec of one chart [B] (CONTRIBUTING.md, "Charts"): aggregate, or pass rows as columns."""
MEASURED_CHAPTER = ROOT / "chapters" / "roofline_measured.md"
MEASURED_BUDGET_CAP_S = 60.0
"""The time budgets of the measured chapter's measurements add up to at most this. [s]"""
SITES = {"instructor": SITE, "student": ROOT / "_build" / "student" / "html"}


def test_jupyter_book_is_1x():
    """Jupyter Book 2 is another tool (myst.yml, Node): it would ignore _config.yml and _toc.yml."""
    assert int(version("jupyter-book").split(".")[0]) == 1, version("jupyter-book")


# ------------------------------------------------------------------------------------------- citations

CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")


def bib_keys() -> list[str]:
    return re.findall(r"^@\w+\{([^,\s]+),", (ROOT / "references.bib").read_text(encoding="utf-8"), flags=re.M)


def cited_keys() -> set[str]:
    cited: set[str] = set()
    for page in toc_pages():
        for keys in CITE.findall((ROOT / f"{page}.md").read_text(encoding="utf-8")):
            cited.update(k.strip() for k in keys.split(","))
    return cited


def test_every_bibliography_entry_is_cited_and_every_citation_has_an_entry():
    """The bibliography page lists cited entries only: an uncited entry would silently be missing from it."""
    keys, cited = bib_keys(), cited_keys()
    assert len(keys) == len(set(keys)), "a key appears twice in references.bib"
    assert sorted(set(keys) - cited) == [], "references.bib entries cited on no page of _toc.yml: cite or remove"
    assert sorted(cited - set(keys)) == []


def test_citation_pattern_finds_every_role_form():
    text = "a {cite:p}`k1` b {cite:t}`k2,k3` c {cite}`k4`"
    assert [k for ks in CITE.findall(text) for k in ks.split(",")] == ["k1", "k2", "k3", "k4"]


# ------------------------------------------------------------------------------------------- charts in the site


def page_charts(html: str) -> list[tuple[str, str]]:
    """(div id, inline spec text) of every Altair chart of a built page, in page order."""
    found = []
    decoder = json.JSONDecoder()
    for match in re.finditer(r'<div id="(altair-viz-[0-9a-f]+)"></div>', html):
        start = html.index("})(", match.end()) + 3
        _, end = decoder.raw_decode(html, start)
        found.append((match.group(1), html[start:end]))
    return found


def _built_pages() -> list[tuple[str, Path]]:
    pages = [(edition, site / f"{page}.html") for edition, site in SITES.items() for page in toc_pages()]
    return [(edition, path) for edition, path in pages if path.is_file()]


@pytest.fixture(scope="module")
def built_pages() -> list[tuple[str, Path]]:
    pages = _built_pages()
    if not pages:
        pytest.skip(f"no built site at {SITE} (run `make book`)")
    return pages


def test_every_chart_spec_is_under_the_cap(built_pages):
    sizes = {f"{edition}:{path.stem}:{chart_id}": len(spec.encode())
             for edition, path in built_pages for chart_id, spec in page_charts(path.read_text(encoding="utf-8"))}
    assert sizes, "no chart found in the built site"
    over = {k: f"{v / 1024:.0f} KiB" for k, v in sizes.items() if v > CHART_SPEC_CAP_BYTES}
    assert over == {}, f"inline chart specs over {CHART_SPEC_CAP_BYTES // 1024} KiB"


def test_chart_and_table_ids_derive_from_their_content(built_pages):
    """Every chart id is the digest of its spec (memwall.stable_ids) and every styled table's id has its 12 hex
    digits: no page kept a random id, so two builds give the same bytes."""
    for edition, path in built_pages:
        html = path.read_text(encoding="utf-8")
        for chart_id, spec in page_charts(html):
            text = stable_ids.spec_json(json.loads(spec))
            assert chart_id in {stable_ids.content_id("altair-viz-", text, k) for k in range(8)}, \
                f"{edition}:{path.stem}: chart {chart_id} has an id not derived from its spec"
        ids = re.findall(r'<table id="T_([0-9A-Za-z_]+)"', html)
        assert all(re.fullmatch(r"[0-9a-f]{12}", i) for i in ids), f"{edition}:{path.stem}: random table ids {ids}"


def test_page_charts_reads_the_spec_of_each_chart():
    import altair as alt
    import pandas as pd

    stable_ids.reset()
    frame = pd.DataFrame({"x": [1, 2], "y": [3, 4]})
    html = "".join(stable_ids.chart_html(alt.Chart(frame).mark_bar().encode(x="x", y="y").to_dict())["text/html"]
                   for _ in range(2))
    (first, spec), (second, _) = page_charts(html)
    assert first != second and json.loads(spec)["mark"] == {"type": "bar"}


# ------------------------------------------------------------------------------------------- the measured chapter


def _code_cells(path: Path) -> list[str]:
    """The code of each code cell of a MyST notebook, without its YAML options block (``---`` ... ``---``)."""
    cells = re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    return [re.sub(r"\A---\n.*?^---\n", "", cell, flags=re.M | re.S) for cell in cells]


def _measuring_calls(cells: list[str]) -> list[tuple[str, ast.Call]]:
    """Calls ``module.function(...)`` of the chapter whose function takes a time budget (``budget_s``)."""
    modules = {name: importlib.import_module(f"memwall.wall.{name}")
               for name in ("measure", "numpy_transformer", "torch_engine", "latency_ratio")}
    found = []
    for cell in cells:
        tree = ast.parse("\n".join(line for line in cell.splitlines() if not line.startswith(("%", ":"))))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id in modules:
                function = getattr(modules[node.func.value.id], node.func.attr, None)
                if callable(function) and "budget_s" in inspect.signature(function).parameters:
                    found.append((f"{node.func.value.id}.{node.func.attr}", node))
    return found


def _keyword(call: ast.Call, name: str) -> object:
    """The value of keyword ``name`` of ``call`` in a full build (``quick`` false), or None when not given."""
    for keyword in call.keywords:
        if keyword.arg == name:
            return eval(compile(ast.Expression(keyword.value), "<chapter>", "eval"), {"quick": False})
    return None


def test_measured_chapter_runs_every_measurement_under_a_time_budget():
    """Each measuring call of chapters/roofline_measured.md has a time budget (or a single repeat), the budgets add
    up to at most MEASURED_BUDGET_CAP_S, and the book's cell timeout stops anything that would still hang."""
    calls = _measuring_calls(_code_cells(MEASURED_CHAPTER))
    assert {"measure.measure_machine", "numpy_transformer.latency_table"} <= {name for name, _ in calls}
    total = 0.0
    for name, call in calls:
        budget = _keyword(call, "budget_s")
        if budget is None:
            assert _keyword(call, "repeats") == 1, f"{name} (line {call.lineno}) runs with no time budget"
            continue
        assert isinstance(budget, int | float) and math.isfinite(budget) and budget > 0, (name, budget)
        total += budget
    assert 0 < total <= MEASURED_BUDGET_CAP_S
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert 0 < config["execute"]["timeout"] <= 600
    assert "budget_s=None if quick else" in MEASURED_CHAPTER.read_text(encoding="utf-8")  # quick: smoke sizes


_FIGURE_NAME = re.compile(r"^\s*name:\s*(fig-[\w-]+)\s*$", re.M)
_NUMREF = re.compile(r"\{numref\}`(?:[^`<]*<)?(fig-[\w-]+)>?`")


def _page_sources() -> list[Path]:
    return [ROOT / f"{page}.md" for page in toc_pages()]


def test_every_numbered_figure_is_referred_to_by_number_and_every_reference_has_its_figure():
    """Issue #17: each chart is a numbered figure that the prose cites with {numref}; labels are unique."""
    seen: dict[str, Path] = {}
    problems: list[str] = []
    for source in _page_sources():
        text = source.read_text(encoding="utf-8")
        names = _FIGURE_NAME.findall(text)
        refs = set(_NUMREF.findall(text))
        for name in names:
            if name in seen:
                problems.append(f"{source.name}: figure {name} is also defined in {seen[name].name}")
            seen[name] = source
            if name not in refs:
                problems.append(f"{source.name}: figure {name} is never referred to with {{numref}}")
        problems += [f"{source.name}: {{numref}} {ref} has no figure on the page" for ref in sorted(refs - set(names))]
    assert not problems, "\n".join(problems)

