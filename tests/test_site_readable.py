"""The built site read in a real browser: every chart and table fits and reads, at 1400 px and at 390 px.

Each page of the book is opened once per viewport width in headless Chromium (the ``browser`` and ``server``
fixtures of ``conftest``; requests to any host but the loopback one are blocked and reported). One
``page.evaluate`` measures the rendered page: the Vega SVG of every Altair chart (charts use Vega's SVG
renderer, :mod:`memwall.stable_ids`, so every tick label is a ``<text>`` with a box), the article column, every
table and every figure. Then every chart control is operated through its settings (each option of a
dropdown; a slider at its minimum, middle and maximum; each radio button; a checkbox on and off), and after
each one the chart is measured again while the console is watched.

A test per check and width turns the survey into one assertion listing every failure (page, width, chart
number and caption, what is wrong), so one run shows the whole backlog:

1. every chart is drawn (``svg.marks`` within 15 s);
2. no two visible tick labels of one axis overlap (label boxes, 1 px tolerance; labels Vega hid are ignored);
3. a chart whose Vega-Lite spec encodes colour, shape or dash by a field (or by two or more datums) with a
   legend not switched off shows a legend or labels its series with text marks;
4. no chart is wider than the viewport or sticks out of the article column, and the page has no horizontal
   scroll;
5. no table is wider than the article column;
6. every chart is a numbered figure ("Figure N" caption) that its page links to;
7. operating every control raises no console error, page error or Vega warning, and leaves the chart with
   visible marks and without overlapping tick labels.

The "article column" is the content box of the theme's ``article.bd-article`` (784 px at 1400 px, 358 px at
390 px): the width the prose and the cell outputs get.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.conftest import toc_pages
from tests.test_site import HARMLESS_CONSOLE

WIDTHS = (1400, 390)
"""Viewport widths [px]: a laptop and a phone."""
HEIGHT = 900
"""Viewport height [px]."""
DRAW_TIMEOUT_MS = 15_000
"""How long a chart may take to draw its ``svg.marks`` [ms]."""
SERIES_CHANNELS = ("color", "fill", "stroke", "shape", "strokeDash")
"""Encoding channels that tell series apart and so need a legend (or text labels)."""
VEGA_WARNING = re.compile(r"WARN|Infinite extent|Error")
"""Console warnings that are Vega's warnings or errors."""

# Installed before any script of the page: the measuring functions (so that every step can call them).
MEASURE_JS = r"""
(() => {
  const rect = r => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height});
  const visible = (el, stop) => {
    for (let e = el; e && e !== stop; e = e.parentElement) {
      if (e.getAttribute && e.getAttribute('opacity') === '0') return false;
      const s = getComputedStyle(e);
      if (s.opacity === '0' || s.visibility === 'hidden' || s.display === 'none') return false;
    }
    return true;
  };
  const axisName = ax => {
    const title = [...ax.querySelectorAll('g.role-axis-title text')].map(t => t.textContent).join(' ').trim();
    if (title) return title;
    const aria = ax.getAttribute('aria-label') || '';
    return aria.split(' for ')[0] || 'untitled axis';
  };
  const DATA_MARKS = ['symbol', 'line', 'rect', 'rule', 'area', 'arc', 'trail', 'image', 'shape']
    .map(m => `g.mark-${m}.role-mark > *`).join(', ');
  // One chart container's state: drawn, SVG box, overlapping tick labels, legends, text marks, data marks.
  window.__mwChart = div => {
    const svg = div.querySelector('svg.marks');
    if (!svg) return {drawn: false, text: div.innerText.slice(0, 200)};
    const overlaps = [];
    svg.querySelectorAll('g.role-axis').forEach(ax => {
      const boxes = [...ax.querySelectorAll('g.role-axis-label text')]
        .filter(t => t.textContent.trim() && visible(t, svg))
        .map(t => ({text: t.textContent, r: t.getBoundingClientRect()}))
        .filter(b => b.r.width > 0 && b.r.height > 0);
      for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i].r, b = boxes[j].r;
        if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
          overlaps.push([axisName(ax), boxes[i].text, boxes[j].text]);
      }
    });
    const legends = [...svg.querySelectorAll('g.role-legend')].filter(g => visible(g, svg)
      && [...g.querySelectorAll('g.role-legend-label text, g.role-legend-symbol path, g.role-legend-gradient path')]
        .some(e => visible(e, svg)));
    const textMarks = [...svg.querySelectorAll('g.mark-text.role-mark text')]
      .filter(t => t.textContent.trim() && visible(t, svg));
    const marks = [...svg.querySelectorAll(DATA_MARKS)].filter(e => {
      if (e.tagName === 'path') { const d = e.getAttribute('d') || ''; if (!d || d.includes('NaN')) return false; }
      const r = e.getBoundingClientRect();
      return (r.width > 0 || r.height > 0) && visible(e, svg);
    });
    const fig = div.closest('figure');
    const cap = fig && fig.querySelector('figcaption');
    const capText = cap ? cap.textContent.replace(/\s+/g, ' ').trim() : '';
    const figId = fig ? fig.id : '';
    const linked = !!figId && [...document.querySelectorAll('a[href]')]
      .some(a => a.getAttribute('href') === '#' + figId && !fig.contains(a));
    let heading = '';
    for (let s = div.closest('section'); s && !heading; s = s.parentElement && s.parentElement.closest('section')) {
      const h = s.querySelector('h1, h2, h3, h4');
      heading = h ? h.textContent.replace(/[#¶]/g, '').trim() : '';
    }
    return {drawn: true, svg: rect(svg.getBoundingClientRect()), overlaps, legends: legends.length,
            textMarks: textMarks.length, marks: marks.length, inFigure: !!fig, caption: capText, figId, linked,
            heading, controls: div.querySelectorAll('.vega-bindings input, .vega-bindings select').length};
  };
  // The page: viewport, article column, every table, every chart.
  window.__mwPage = () => {
    const art = document.querySelector('article.bd-article') || document.querySelector('main');
    const ar = art.getBoundingClientRect(), cs = getComputedStyle(art);
    const colLeft = ar.left + art.clientLeft + parseFloat(cs.paddingLeft);
    const colRight = ar.left + art.clientLeft + art.clientWidth - parseFloat(cs.paddingRight);
    const tables = [...art.querySelectorAll('table')].map(t => {
      const cap = t.querySelector('caption');
      const row = t.querySelector('tr');
      const head = cap ? cap.textContent
        : row ? [...row.cells].map(c => c.textContent.trim()).filter(Boolean).join(' | ') : t.textContent;
      return {scrollWidth: t.scrollWidth, width: t.getBoundingClientRect().width,
              head: head.replace(/\s+/g, ' ').trim().slice(0, 60)};
    });
    const charts = [...document.querySelectorAll("div[id^='altair-viz-']")]
      .map(d => ({id: d.id, ...window.__mwChart(d)}));
    const scrollWidth = document.documentElement.scrollWidth;
    // what makes the page scroll sideways: the innermost elements (or their unwrapped text) past the right edge
    const past = e => { const r = e.getBoundingClientRect();
      return r.right > window.innerWidth + 1 || (getComputedStyle(e).overflowX === 'visible'
        && r.left + e.scrollWidth > window.innerWidth + 1); };
    const wide = scrollWidth <= window.innerWidth + 1 ? [] : [...document.body.querySelectorAll('*')]
      .filter(e => past(e) && ![...e.children].some(past))
      .slice(0, 3).map(e => `<${e.tagName.toLowerCase()}${e.className && typeof e.className === 'string'
        ? '.' + e.className.trim().split(/\s+/).join('.') : ''}> ${(e.textContent || '').trim().slice(0, 50)}`);
    return {innerWidth: window.innerWidth, scrollWidth, wide,
            column: {left: colLeft, right: colRight, width: colRight - colLeft}, tables, charts};
  };
  const settle = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 40))));
  window.__mwSettle = settle;
  // The settings to try on chart ``i``'s controls: [control index, kind, value, label] in order.
  window.__mwSteps = i => {
    const div = document.querySelectorAll("div[id^='altair-viz-']")[i];
    const steps = [];
    [...div.querySelectorAll('.vega-bindings .vega-bind')].forEach((bind, k) => {
      const name = (bind.querySelector('.vega-bind-name') || bind).textContent.trim();
      const sel = bind.querySelector('select');
      const radios = [...bind.querySelectorAll('input[type=radio]')];
      const box = bind.querySelector('input[type=checkbox]');
      const range = bind.querySelector('input[type=range]');
      if (sel) [...sel.options].forEach(o => steps.push([k, 'select', o.value, `${name} = ${o.textContent.trim()}`]));
      else if (radios.length) radios.forEach((r, n) => steps.push([k, 'radio', n, `${name} = ${r.value}`]));
      else if (box) { steps.push([k, 'checkbox', !box.checked, `${name} = ${!box.checked}`]);
                      steps.push([k, 'checkbox', box.checked, `${name} = ${box.checked}`]); }
      else if (range) {
        const lo = parseFloat(range.min || '0'), hi = parseFloat(range.max || '100');
        const step = parseFloat(range.step) || 1;
        const mid = lo + Math.round((hi - lo) / 2 / step) * step;
        [lo, mid, hi].forEach(v => steps.push([k, 'range', String(v), `${name} = ${v}`]));
      }
    });
    return steps;
  };
  // Apply one setting, wait for the redraw, measure the chart again.
  window.__mwApply = async (i, k, kind, value) => {
    const div = document.querySelectorAll("div[id^='altair-viz-']")[i];
    const bind = div.querySelectorAll('.vega-bindings .vega-bind')[k];
    let el;
    if (kind === 'select') { el = bind.querySelector('select'); el.value = value; }
    else if (kind === 'radio') { el = bind.querySelectorAll('input[type=radio]')[value]; el.checked = true; }
    else if (kind === 'checkbox') { el = bind.querySelector('input[type=checkbox]'); el.checked = value; }
    else { el = bind.querySelector('input[type=range]'); el.value = value; }
    el.dispatchEvent(new Event('input', {bubbles: true}));
    el.dispatchEvent(new Event('change', {bubbles: true}));
    await settle(); await settle();
    return window.__mwChart(div);
  };
  // The current value of every control of chart ``i`` (to put them back after trying each).
  window.__mwValues = i => {
    const div = document.querySelectorAll("div[id^='altair-viz-']")[i];
    return [...div.querySelectorAll('.vega-bindings .vega-bind')].map(bind => {
      const sel = bind.querySelector('select'), box = bind.querySelector('input[type=checkbox]');
      const radios = [...bind.querySelectorAll('input[type=radio]')], range = bind.querySelector('input[type=range]');
      if (sel) return ['select', sel.value];
      if (radios.length) return ['radio', Math.max(0, radios.findIndex(r => r.checked))];
      if (box) return ['checkbox', box.checked];
      return range ? ['range', range.value] : null;
    });
  };
})();
"""


# -------------------------------------------------------------------------------------------- the specs
def chart_specs(html: str) -> dict[str, dict[str, Any]]:
    """Chart container id -> its Vega-Lite spec, read from the ``(function(spec, embedOpt){...})({spec}, ...)``
    call Altair writes after each ``<div id="altair-viz-...">`` of a page."""
    decoder = json.JSONDecoder()
    specs = {}
    for match in re.finditer(r'<div id="(altair-viz-[0-9a-f]+)"></div>\s*<script', html):
        call = re.compile(r"\}\)\(\{").search(html, match.end())
        if call is None:
            continue
        spec, _ = decoder.raw_decode(html, call.start() + 3)
        specs[match.group(1)] = spec
    return specs


def _walk(node: Any, data: Any = None, derived: bool = False):
    """Yield (view dict, its data, whether transforms above or in it may derive fields) for every view of a
    spec (unit, layer, concat, facet and repeat children), each inheriting its parent's data."""
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, data, derived)
        return
    if not isinstance(node, dict):
        return
    data = node.get("data", data)
    derived = derived or bool(node.get("transform"))
    yield node, data, derived
    for key in ("layer", "hconcat", "vconcat", "concat", "spec"):
        if key in node:
            yield from _walk(node[key], data, derived)


def _marks(spec: dict[str, Any]) -> set[str]:
    kinds = set()
    for view, _, _ in _walk(spec):
        mark = view.get("mark")
        kinds.add(mark.get("type") if isinstance(mark, dict) else mark)
    return kinds - {None}


def series_encodings(spec: dict[str, Any]) -> list[str]:
    """The channels of ``spec`` that separate two or more series and keep their legend, as "colour by
    `field` (n values)" phrases: a field encoding (or its condition) whose ``legend`` is not null, with two or
    more distinct values in its data (or a field a transform derives), and a channel given two or more
    distinct datums across layers."""
    datasets = spec.get("datasets", {})
    found: list[str] = []
    datums: dict[str, set[str]] = {}
    for view, data, derived in _walk(spec):
        encoding = view.get("encoding") or {}
        rows = []
        if isinstance(data, dict):
            rows = datasets.get(data.get("name"), data.get("values") or [])
        for channel in SERIES_CHANNELS:
            spec_ch = encoding.get(channel)
            if not isinstance(spec_ch, dict):
                continue
            condition = spec_ch.get("condition")
            candidates = [spec_ch] + (condition if isinstance(condition, list) else [condition] if condition else [])
            for c in candidates:
                if not isinstance(c, dict) or c.get("legend", {}) is None:
                    continue
                if "datum" in c:
                    datums.setdefault(channel, set()).add(json.dumps(c["datum"]))
                if "field" not in c:
                    continue
                name = c["field"] if isinstance(c["field"], str) else json.dumps(c["field"])
                values = {json.dumps(r.get(name)) for r in rows if isinstance(r, dict) and name in r}
                if values and len(values) < 2 and not derived:
                    continue
                count = f"{len(values)} values" if values else "derived"
                phrase = f"{channel} by `{name}` ({count})"
                if phrase not in found:
                    found.append(phrase)
    found += [f"{channel} by {len(v)} datums" for channel, v in datums.items() if len(v) >= 2]
    return found


# ------------------------------------------------------------------------------------------- the survey
@dataclass(repr=False)
class Findings:
    """The failures of one viewport width, per check."""

    width: int
    by_check: dict[str, list[str]] = field(default_factory=dict)
    charts: int = 0
    steps: int = 0

    def add(self, check: str, message: str) -> None:
        self.by_check.setdefault(check, []).append(message)


def _chart_name(rel: str, width: int, number: int, total: int, chart: dict[str, Any]) -> str:
    where = " ".join(chart.get("caption", "").split()[:9]) or f"section '{chart.get('heading', '')[:50]}'"
    return f"{rel} @{width}px chart {number}/{total} [{where}]"


def _overlap_text(pairs: list[list[str]]) -> str:
    """ "axis 'title': 'a'/'b', 'c'/'d'; axis ..." for overlapping label pairs [axis, label, label]."""
    by_axis: dict[str, list[str]] = {}
    for axis, a, b in pairs:
        by_axis.setdefault(axis, []).append(f"{a!r}/{b!r}")
    return "; ".join(f"axis '{axis}': {', '.join(p[:8])}" + (f" (+{len(p) - 8} more)" if len(p) > 8 else "")
                     for axis, p in by_axis.items())


def survey_page(browser, server: str, site: Path, rel: str, width: int, findings: Findings) -> None:
    """Open one page at one width, run every check on it, record the failures in ``findings``."""
    specs = chart_specs((site / rel).read_text(encoding="utf-8"))
    context = browser.new_context(viewport={"width": width, "height": HEIGHT})
    blocked: list[str] = []
    console: list[str] = []

    def route(r) -> None:
        host = urlparse(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    def on_console(msg) -> None:
        if msg.type == "error" or (msg.type == "warning" and VEGA_WARNING.search(msg.text)):
            if not any(h in msg.text for h in HARMLESS_CONSOLE):
                console.append(f"console {msg.type}: {msg.text[:300]}")

    context.route("**/*", route)
    context.add_init_script(MEASURE_JS)
    page = context.new_page()
    page.on("console", on_console)
    page.on("pageerror", lambda e: console.append(f"page error: {str(e)[:300]}"))
    try:
        page.goto(f"{server}/{rel}", wait_until="load")
        containers = page.locator("div[id^='altair-viz-']")
        for i in range(containers.count()):
            try:
                containers.nth(i).locator("svg.marks").first.wait_for(state="attached", timeout=DRAW_TIMEOUT_MS)
            except Exception:  # measured below as not drawn
                pass
        page.evaluate("async () => { await document.fonts.ready; await window.__mwSettle();"
                      " await window.__mwSettle(); }")
        state = page.evaluate("() => window.__mwPage()")
        _check_page(findings, rel, width, state, specs)
        if blocked:
            findings.add("drawn", f"{rel} @{width}px: requested non-loopback URLs {sorted(set(blocked))}")
        if console:
            findings.add("controls", f"{rel} @{width}px on load: {console}")
        _operate_controls(page, findings, rel, width, state, console)
    finally:
        context.close()


def _check_page(findings: Findings, rel: str, width: int, state: dict[str, Any],
                specs: dict[str, dict[str, Any]]) -> None:
    col = state["column"]
    if state["scrollWidth"] > state["innerWidth"] + 1:
        findings.add("fit", f"{rel} @{width}px: the page scrolls sideways (scrollWidth {state['scrollWidth']} px"
                            f" > viewport {state['innerWidth']} px; sticking out: {state['wide']})")
    for n, table in enumerate(state["tables"], 1):
        if table["scrollWidth"] > col["width"] + 1:
            findings.add("tables", f"{rel} @{width}px table {n}/{len(state['tables'])} [{table['head']}]: "
                                   f"{table['scrollWidth']} px wide > article column {col['width']:.0f} px")
    charts = state["charts"]
    findings.charts += len(charts)
    for n, chart in enumerate(charts, 1):
        name = _chart_name(rel, width, n, len(charts), chart)
        if not chart["drawn"]:
            findings.add("drawn", f"{name}: not drawn within {DRAW_TIMEOUT_MS // 1000} s "
                                  f"(container text: {chart.get('text', '')!r})")
            continue
        if not chart["marks"]:
            findings.add("drawn", f"{name}: drawn but empty (no visible mark)")
        if chart["overlaps"]:
            findings.add("overlap", f"{name}: tick labels overlap: {_overlap_text(chart['overlaps'])}")
        spec = specs.get(chart["id"])
        series = series_encodings(spec) if spec else []
        if series and not chart["legends"] and not ("text" in _marks(spec) and chart["textMarks"]):
            findings.add("legend", f"{name}: {', '.join(series)} but no legend and no text labels")
        box = chart["svg"]
        wider = box["width"] > state["innerWidth"] + 1
        if wider or box["right"] > col["right"] + 1 or box["left"] < col["left"] - 1:
            findings.add("fit", f"{name}: chart {box['width']:.0f} px wide"
                                + (f" > viewport {state['innerWidth']} px" if wider else "")
                                + f", spans x = {box['left']:.0f}..{box['right']:.0f} px, outside the article "
                                  f"column {col['left']:.0f}..{col['right']:.0f} px")
        if not chart["inFigure"]:
            findings.add("figure", f"{name}: not inside a numbered figure (no <figure>)")
        else:
            if not re.match(r"Figure\s+\d+", chart["caption"]):
                findings.add("figure", f"{name}: caption does not start with 'Figure N': {chart['caption'][:60]!r}")
            if not chart["figId"]:
                findings.add("figure", f"{name}: the figure has no id (no label to refer to)")
            elif not chart["linked"]:
                findings.add("figure", f"{name}: no link to #{chart['figId']} on its page (the prose never refers"
                                       " to it by number)")


def _operate_controls(page, findings: Findings, rel: str, width: int, state: dict[str, Any],
                      console: list[str]) -> None:
    """Check 7: every setting of every control of every chart, the chart measured after each."""
    charts = state["charts"]
    for i, chart in enumerate(charts):
        if not chart["drawn"] or not chart["controls"]:
            continue
        name = _chart_name(rel, width, i + 1, len(charts), chart)
        initial = page.evaluate("i => window.__mwValues(i)", i)
        steps = page.evaluate("i => window.__mwSteps(i)", i)
        known = {tuple(p) for p in chart["overlaps"]}  # reported by the overlap test already
        new_overlaps: dict[tuple[str, ...], list[str]] = {}
        for n, (k, kind, value, label) in enumerate(steps):
            console.clear()
            after = page.evaluate("([i, k, kind, v]) => window.__mwApply(i, k, kind, v)", [i, k, kind, value])
            findings.steps += 1
            when = f" after '{label}'"
            if console:
                findings.add("controls", f"{name}{when}: {console[:3]}" + (f" (+{len(console) - 3})"
                                                                           if len(console) > 3 else ""))
            if not after["drawn"] or after["marks"] == 0:
                findings.add("controls", f"{name}{when}: empty plot (no visible mark)")
            for pair in after.get("overlaps") or []:
                if tuple(pair) not in known:
                    new_overlaps.setdefault(tuple(pair), []).append(label)
            last_of_control = n + 1 == len(steps) or steps[n + 1][0] != k
            if last_of_control and initial[k] is not None:  # put it back before trying the next control
                console.clear()
                page.evaluate("([i, k, kind, v]) => window.__mwApply(i, k, kind, v)", [i, k, *initial[k]])
                if console:
                    findings.add("controls", f"{name} after resetting control {k + 1}: {console[:3]}")
        if new_overlaps:
            text = "; ".join(f"{_overlap_text([list(pair)])} (at {', '.join(repr(s) for s in at[:3])}"
                             + (f" +{len(at) - 3} more" if len(at) > 3 else "") + ")"
                             for pair, at in new_overlaps.items())
            findings.add("controls", f"{name}: tick labels overlap after operating its controls: {text}")


@pytest.fixture(scope="module")
def survey(site: Path, server: str, browser):
    """Width -> its :class:`Findings`, each width surveyed once, when a test first asks for it."""
    done: dict[int, Findings] = {}

    def at(width: int) -> Findings:
        if width not in done:
            findings = Findings(width)
            for page in toc_pages():
                if os.environ.get("MEMWALL_SITE") and not (site / f"{page}.html").is_file():
                    continue  # a partial (preview) build: survey the pages it has
                survey_page(browser, server, site, f"{page}.html", width, findings)
            done[width] = findings
        return done[width]

    return at


def _assert_none(findings: Findings, check: str, what: str) -> None:
    problems = findings.by_check.get(check, [])
    if problems:
        pytest.fail(f"{len(problems)} {what} at {findings.width} px:\n" + "\n".join(problems), pytrace=False)


# --------------------------------------------------------------------------------------------- the tests
@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_every_chart_is_drawn(survey, width: int) -> None:
    findings = survey(width)
    assert findings.charts > 0, "no Altair chart found in the built site"
    _assert_none(findings, "drawn", "charts not drawn (or non-loopback requests)")


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_no_tick_labels_overlap(survey, width: int) -> None:
    _assert_none(survey(width), "overlap", "charts with overlapping tick labels")


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_multi_series_charts_have_a_legend(survey, width: int) -> None:
    _assert_none(survey(width), "legend", "multi-series charts without a legend")


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_charts_fit_the_viewport_and_the_column(survey, width: int) -> None:
    _assert_none(survey(width), "fit", "charts or pages too wide")


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_no_table_wider_than_the_article(survey, width: int) -> None:
    _assert_none(survey(width), "tables", "tables wider than the article column")


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_every_chart_is_a_numbered_figure_the_page_refers_to(survey, width: int) -> None:
    _assert_none(survey(width), "figure", "charts that are not numbered, referred-to figures")


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_operating_every_control_keeps_the_chart_readable(survey, width: int) -> None:
    findings = survey(width)
    _assert_none(findings, "controls", f"control problems ({findings.steps} settings tried)")


def test_series_encodings_reads_the_spec() -> None:
    """The legend check's reading of a spec: fields with ≥ 2 values, datums across layers, legend: null."""
    spec = {"datasets": {"d": [{"s": "a", "k": 1}, {"s": "b", "k": 1}]}, "data": {"name": "d"}, "layer": [
        {"mark": "line", "encoding": {"color": {"field": "s", "type": "nominal"}}},
        {"mark": "point", "encoding": {"shape": {"field": "k", "type": "nominal"}}},
        {"mark": "rule", "encoding": {"strokeDash": {"field": "s", "legend": None}}},
        {"mark": "line", "encoding": {"stroke": {"datum": "measured"}}},
        {"mark": "line", "encoding": {"stroke": {"datum": "bound"}}}]}
    assert series_encodings(spec) == ["color by `s` (2 values)", "stroke by 2 datums"]
    assert _marks(spec) == {"line", "point", "rule"}
    html = '<div id="altair-viz-ab12"></div>\n<script>(function(spec, o){})({"mark": "bar"}, {"renderer": "svg"});'
    assert chart_specs(html) == {"altair-viz-ab12": {"mark": "bar"}}
