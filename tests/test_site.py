"""The built site: offline-clean HTML, and every chart drawn in a real headless browser.

The browser test serves ``_build/html`` from a loopback HTTP server, opens every page in Debian's
Chromium (driven by Playwright, which downloads no browser), blocks and records every request to a
non-loopback host, and asserts that each Altair chart container holds a drawn SVG or canvas and
that the console shows no errors beyond two known-harmless Jupyter Book messages.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

CDN_PATTERNS = re.compile(r"cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com|cdn\.mathjax|"
                          r"code\.jquery\.com|requirejs\.org|thebe\.|binder")
HARMLESS_CONSOLE = (
    "THEBE_JS_URL",            # sphinx-thebe declares the same constant twice
    "invalid theme mode",      # pydata theme before a stored preference exists
)


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.parts and p.name not in
                  ("genindex.html", "search.html"))


def test_site_has_chapters(site: Path):
    pages = {p.relative_to(site).as_posix() for p in _pages(site)}
    assert "index.html" in pages or "intro.html" in pages
    assert "chapters/hardware_trends.html" in pages


def _pages_matching(site: Path, pattern: re.Pattern[str],
                    ignore: re.Pattern[str] | None = None) -> dict[str, list[str]]:
    """Page -> the distinct matches of ``pattern`` in its HTML (minus ``ignore``'s matches), for pages with any."""
    found = {}
    for p in _pages(site):
        text = p.read_text(encoding="utf-8", errors="replace")
        found[p.relative_to(site).as_posix()] = sorted(set(pattern.findall(ignore.sub("", text) if ignore else text)))
    return {page: hits for page, hits in found.items() if hits}


# A link a reader may follow (e.g. "Launch Binder") loads nothing when the page opens; only loads must be local.
LINK_TARGETS = re.compile(r'<a\s[^>]*href="https?://[^"]*"')


def test_no_cdn_urls_in_pages(site: Path):
    offenders = _pages_matching(site, CDN_PATTERNS, LINK_TARGETS)
    assert not offenders, f"pages naming a CDN (the site must work offline): {offenders}"


# Text a reader would see when a cell failed or a glued number could not be formatted. (Altair's
# loader contains "Error loading script" as an error handler; whether charts draw is the browser test's job.)
ERROR_MARKERS = re.compile(r"Traceback \(most recent call last\)|CellExecutionError|Failed to format|could not convert")


def test_no_error_text_in_pages(site: Path):
    offenders = _pages_matching(site, ERROR_MARKERS)
    assert not offenders, f"pages showing errors: {offenders}"
    assert not (site / "reports").exists(), "execution reports of failed notebooks are in the site"


def test_pages_load_no_fontawesome_javascript(site: Path):
    """Icons come from the theme's web-font CSS; the 0.5 MB SVG framework is dropped (see offline_site)."""
    offenders = _pages_matching(site, re.compile(r"scripts/fontawesome\.js"))
    assert not offenders, offenders
    css = (site / "_static" / "styles" / "pydata-sphinx-theme.css").read_text(encoding="utf-8")
    assert "fa-solid-900.woff2" in css


def test_vendored_javascript_present(site: Path):
    assert (site / "_static" / "memwall-vega.js").stat().st_size > 500_000
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()


@pytest.mark.browser
def test_every_page_draws_its_charts_offline(site: Path, server: str, browser) -> None:
    problems: list[str] = []
    charts_seen = 0
    for page_path in _pages(site):
        rel = page_path.relative_to(site).as_posix()
        context = browser.new_context()
        page = context.new_page()
        blocked: list[str] = []
        console: list[str] = []

        def route(r, blocked=blocked):
            host = urlparse(r.request.url).hostname
            if r.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page.on("console", lambda m, console=console: console.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e, console=console: console.append(f"page error: {e}"))
        page.goto(f"{server}/{rel}", wait_until="load")
        containers = page.locator("div[id^='altair-viz-']")
        n = containers.count()
        for i in range(n):
            drawn = containers.nth(i).locator("svg.marks, canvas.marks")
            try:
                drawn.first.wait_for(state="attached", timeout=15_000)
            except Exception:
                text = containers.nth(i).inner_text()[:200]
                problems.append(f"{rel}: chart {i + 1}/{n} not drawn (container text: {text!r})")
        charts_seen += n
        page.wait_for_timeout(300)
        real_errors = [c for c in console if not any(h in c for h in HARMLESS_CONSOLE)]
        if blocked:
            problems.append(f"{rel}: requested non-loopback URLs {blocked}")
        if real_errors:
            problems.append(f"{rel}: console errors {real_errors}")
        context.close()
    assert charts_seen > 0, "no Altair chart found in the built site"
    assert not problems, "\n".join(problems)


def _chart_changes(browser, url: str, control: str, act) -> tuple[str, str]:
    """Open ``url``, snapshot the chart that owns the first ``control``, apply ``act`` to it, snapshot again."""
    page = browser.new_page()
    page.goto(url, wait_until="load")
    widget = page.locator(control).first
    widget.wait_for(state="attached", timeout=15_000)
    chart = widget.locator("xpath=ancestor::div[starts-with(@id, 'altair-viz-')]").first

    def snapshot() -> str:
        return chart.evaluate(
            "el => { const c = el.querySelector('canvas.marks'); if (c) return c.toDataURL();"
            " const s = el.querySelector('svg.marks'); return s ? s.outerHTML : ''; }")

    before = snapshot()
    act(widget)
    page.wait_for_timeout(500)
    after = snapshot()
    page.close()
    return before, after


def _pick_last(select) -> None:
    options = select.locator("option").all_text_contents()
    assert len(options) > 1
    select.select_option(label=options[-1])


def _slide_to_max(slider) -> None:
    slider.evaluate("el => { el.value = el.max; el.dispatchEvent(new Event('input', {bubbles: true})); }")


@pytest.mark.browser
@pytest.mark.parametrize(("page", "control", "act"), [
    # encoder-vs-decoder explorer: GPT-2 has BERT-Base's shapes, so pick the last model, which differs
    ("encoder_decoder", ".vega-bindings select", _pick_last),
    ("roofline_gpu", ".vega-bindings select", _pick_last),  # cached tokens of the H200 decode chart
    ("batching_kv_cache", ".vega-bindings input[type=range]", _slide_to_max),  # batch of the frontier
    ("beyond_model_side", ".vega-bindings input[type=range]", _slide_to_max),  # batch of the intensity chart
    ("beyond_serving_hardware", ".vega-bindings input[type=range]", _slide_to_max),  # acceptance rate
])
def test_a_control_changes_its_chart(site: Path, server: str, browser, page: str, control: str, act) -> None:
    """Operating the first dropdown or slider of an interactive chart redraws its marks."""
    before, after = _chart_changes(browser, f"{server}/chapters/{page}.html", control, act)
    assert before and after and before != after, f"the chart of {page} did not change after operating {control}"


@pytest.mark.browser
def test_charts_fit_their_column_again_after_the_window_narrows_and_widens(site: Path, server: str, browser) -> None:
    """A phone turned, a window dragged: after 1400 -> 390 -> 1400 px every chart is as wide as its column again
    (Vega alone re-measured the column before the theme's layout had settled; memwall.js re-sends the event)."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(f"{server}/chapters/encoder_decoder.html", wait_until="load")
        page.locator("div[id^='altair-viz-'] svg.marks").first.wait_for(state="attached", timeout=15_000)
        for width in (390, 1400):
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(700)  # the script's 200 ms settling time and Vega's redraw
        too_wide = page.evaluate("""() => [...document.querySelectorAll("div[id^='altair-viz-']")]
            .map((d, i) => [i + 1, Math.round(d.querySelector('svg.marks').getBoundingClientRect().width),
                            Math.round(d.getBoundingClientRect().width)])
            .filter(([, svg, box]) => svg > box + 1)""")
    finally:
        page.close()
    assert not too_wide, f"charts wider than their column after a resize (chart, svg px, column px): {too_wide}"
