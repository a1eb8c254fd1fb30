"""Print a chapter, or the whole book, as a PDF handout from the built site.

``make handout CHAPTER=hardware_trends [SOLUTIONS=0|1]`` writes ``_build/handouts/hardware_trends.pdf`` (or
``hardware_trends-solutions.pdf``); without ``CHAPTER`` (``make handouts``) it writes ``_build/handouts/book.pdf``
(``book-solutions.pdf``), every page of ``_toc.yml`` in order with continuous page numbers.

How: a real browser prints the built HTML, so the PDF shows what the site shows. The site of the right edition
(``SOLUTIONS=0``: the student edition, ``_build/student/html``, which has no solution anywhere; ``1``: the
instructor edition, ``_build/html``) is served from a loopback HTTP server and opened in Debian's Chromium,
driven by Playwright (the browser the test suite uses); every request to another host is refused, so the
handout is made offline. On each page the charts are drawn, then photographed (an element screenshot at three
times the screen resolution) and replaced by that PNG; an interactive chart's controls become a line naming the
values it is printed with. The pages' article bodies (MathJax already typeset, solutions opened in the
instructor edition) are put into one document with the site's stylesheets, a title block (the book's title,
the edition, its citation from ``CITATION.cff``) and a print stylesheet (:data:`PRINT_CSS`: code wrapped, not
clipped; tables and figures kept whole where they fit), and Chromium prints it to A4 with a header (the book's
title) and a footer (the citation, ``page n of N``).

Usage: python tools/handout.py [--chapter NAME] [--solutions 0|1] [--output PDF]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import html
import http.server
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_book import ROOT, site_dir  # the same folders as the build

HANDOUTS = ROOT / "_build" / "handouts"
CHART_SCALE = 3
"""Device pixels per CSS pixel of the chart images (about 300 dpi at the printed width)."""
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync")

PRINT_CSS = """
@page { size: A4; margin: 17mm 14mm 16mm 14mm; }
html { font-size: 10pt; }
body { background: white; margin: 0; }
.memwall-handout { max-width: none; }
.memwall-handout-chapter + .memwall-handout-chapter { break-before: page; }
.memwall-handout-title { border-bottom: 2px solid #0a7d91; margin-bottom: 1.2em; padding-bottom: 0.6em; }
.memwall-handout-title .book { font-size: 1.7em; font-weight: 700; margin: 0; }
.memwall-handout-title .what { font-size: 1.15em; margin: 0.2em 0 0.5em 0; }
.memwall-handout-title .cite { font-size: 0.85em; color: #333; margin: 0.15em 0; }
pre, pre code, .highlight pre { white-space: pre-wrap !important; overflow-wrap: anywhere; word-break: break-word;
  overflow: visible !important; max-height: none !important; font-size: 0.82em; }
.highlight, div.cell_input, div.cell_output, .output, .table-wrapper, .pst-scrollable-table-container,
div.bd-article, article { overflow: visible !important; max-height: none !important; }
table { max-width: 100%; font-size: 0.88em; break-inside: auto; }
table td, table th { overflow-wrap: break-word; }
div.output.stderr { display: none; }
tr, img, figure, .memwall-chart, .admonition-title, h1, h2, h3, h4 { break-inside: avoid; }
h1, h2, h3, h4, .admonition-title { break-after: avoid; }
img.memwall-chart { display: block; max-width: 100%; height: auto; margin: 0.4em 0; }
.memwall-chart-values { font-size: 0.8em; color: #444; font-style: italic; margin: 0 0 0.8em 0; }
a { color: inherit; text-decoration: none; }
.admonition, div.admonition { break-inside: auto; }
.toggle-hidden { display: block !important; visibility: visible !important; opacity: 1 !important;
  height: auto !important; }
"""
"""Print rules added after the site's stylesheets."""

PREPARE_JS = """
(charts) => {
  const art = document.querySelector('article.bd-article');
  const boxes = [...document.querySelectorAll("div[id^='altair-viz-']")];
  boxes.forEach((box, i) => {
    const shot = charts[i];
    if (!shot) return;
    const values = [...box.querySelectorAll('.vega-bind')].map(b => {
      const name = (b.querySelector('.vega-bind-name') || {textContent: ''}).textContent.trim();
      const sel = b.querySelector('select');
      const input = b.querySelector('input:checked') || b.querySelector('input');
      const value = sel ? sel.selectedOptions[0].textContent : input ? input.value : '';
      return name + ' = ' + value;
    });
    const img = document.createElement('img');
    img.src = shot.src; img.className = 'memwall-chart'; img.alt = 'chart';
    img.style.width = shot.width + 'px';
    box.replaceChildren(img);
    box.style.display = 'block';  // Altair's own rule makes the container a flex row
    if (values.length) {
      const p = document.createElement('p');
      p.className = 'memwall-chart-values';
      p.textContent = 'Interactive on the web; printed with ' + values.join(', ') + '.';
      box.appendChild(p);
    }
  });
  const drop = ['.memwall-notebook-links', 'a.headerlink', 'button.toggle-button', 'details.hide.above-input',
                'details.vega-actions', 'button.copybtn', '.toctree-wrapper', 'script'];
  drop.forEach(sel => art.querySelectorAll(sel).forEach(el => el.remove()));
  art.querySelectorAll('[src]').forEach(el => { if (!el.src.startsWith('data:')) el.setAttribute('src', el.src); });
  art.querySelectorAll('a[href]').forEach(el => el.setAttribute('href', el.href));
  // no trailing margin at a chapter's end: before the forced page break it would make a blank page
  for (let el = art; el; el = el.lastElementChild) { el.style.marginBottom = '0'; el.style.paddingBottom = '0'; }
  const mjx = document.getElementById('MJX-CHTML-styles');
  return {
    article: art.outerHTML,
    title: (art.querySelector('h1') || {textContent: document.title}).textContent.replace('#', '').trim(),
    mathStyles: mjx ? mjx.textContent : '',
    stylesheets: [...document.querySelectorAll('link[rel=stylesheet]')].map(l => l.href),
  };
}
"""
"""Browser code run on each page after its charts are photographed: returns the article, ready to print."""


REVEAL_JS = """
() => {
  document.querySelectorAll('.toggle-hidden').forEach(el => el.classList.remove('toggle-hidden'));
  document.querySelectorAll('article details').forEach(el => { if (!el.closest('.vega-embed')) el.open = true; });
}
"""
"""Browser code that opens what the page folds away (sphinx-togglebutton's dropdowns, ``<details>``)."""


class HandoutError(RuntimeError):
    """A handout cannot be made (unknown chapter, no built site, no browser); the message says what to do."""


def toc_docnames(root: Path = ROOT) -> list[str]:
    """Every page of ``_toc.yml`` in book order (``intro``, ``chapters/hardware_trends``, ...)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    names, stack = [toc["root"]], [*toc.get("parts", []), *toc.get("chapters", [])]
    while stack:
        entry = stack.pop(0)
        if "file" in entry:
            names.append(str(entry["file"]).removesuffix(".md"))
        stack.extend(entry.get("chapters", []) + entry.get("sections", []))
    return names


def resolve_chapter(name: str, docnames: list[str]) -> str:
    """The document name of chapter ``name`` (``hardware_trends`` or ``chapters/hardware_trends``).

    Raises
    ------
    HandoutError
        When no page of the table of contents has that name, listing the names there are.
    """
    wanted = name.strip().removesuffix(".md").removesuffix(".html")
    for doc in docnames:
        if wanted in (doc, Path(doc).name):
            return doc
    raise HandoutError(f"unknown chapter {name!r}; the chapters of _toc.yml are: "
                       + ", ".join(Path(d).name for d in docnames))


def citation(root: Path = ROOT) -> dict[str, str]:
    """The book's title (``book``), citation (``short``, and ``footer`` for the page footer) and the paper's."""
    cff = yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8"))
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    authors = ", ".join(a.get("name") or f"{a.get('given-names', '')} {a.get('family-names', '')}".strip()
                        for a in cff.get("authors", []))
    year = str(cff.get("date-released", "") or config.get("copyright", ""))[:4]
    title, url = cff.get("title", config.get("title", "")), cff.get("repository-code", "")
    version = f", version {cff['version']}" if cff.get("version") else ""
    paper = cff.get("preferred-citation") or {}
    first = (paper.get("authors") or [{}])[0].get("family-names", "")
    original = (f"{first} et al., “{paper.get('title', '')}”, {paper.get('journal', '')} {paper.get('volume', '')}"
                f"({paper.get('issue', '')}), {paper.get('year', '')}" if paper else "")
    return {"book": str(config.get("title") or title), "short": f"{authors} ({year}). {title}{version}. {url}",
            "footer": f"{authors} ({year}). {title} {cff.get('version', '')} · {url.removeprefix('https://')}",
            "original": original}


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on a free loopback port for the duration of the block; yields its base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def chromium() -> str:
    """The Chromium executable (Debian's), or :class:`HandoutError` saying how to install it."""
    for exe in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(exe)
        if found:
            return found
    raise HandoutError("no chromium found: run tools/ensure_chromium.sh (as root) or apt-get install chromium")


def _offline(route: Any) -> None:
    url = route.request.url
    if url.startswith(("data:", "blob:")) or urlparse(url).hostname in ("127.0.0.1", "localhost"):
        route.continue_()
    else:
        route.abort()


def render_page(page: Any, url: str) -> dict[str, Any]:
    """Open ``url``, wait for its charts and formulas, photograph the charts; the result of :data:`PREPARE_JS`."""
    page.goto(url, wait_until="load")
    page.add_style_tag(content=".vega-embed details, .vega-embed .vega-actions, #vg-tooltip-element "
                               "{ display: none !important; }")  # no menu button or tooltip in the photographs
    page.evaluate(REVEAL_JS)  # solutions (and any chart in one) visible before the charts are photographed
    page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
    charts = []
    boxes = page.locator("div[id^='altair-viz-']")
    for i in range(boxes.count()):
        drawn = boxes.nth(i).locator("svg.marks, canvas.marks").first
        try:
            drawn.wait_for(state="visible", timeout=15_000)
        except Exception as err:  # Playwright's TimeoutError
            raise HandoutError(f"{url}: chart {i + 1} was not drawn ({err.__class__.__name__})") from None
        page.wait_for_timeout(150)  # the last marks of a chart being drawn
        box = drawn.bounding_box() or {"width": 600}
        png = drawn.screenshot(type="png", animations="disabled")
        charts.append({"src": "data:image/png;base64," + base64.b64encode(png).decode(), "width": box["width"]})
    page.evaluate("() => document.fonts.ready.then(() => true)")
    return page.evaluate(PREPARE_JS, charts)


def compose(server: str, pages: list[dict[str, Any]], title_html: str) -> str:
    """One HTML document: the site's stylesheets, the math styles, :data:`PRINT_CSS`, the title and the pages."""
    sheets = dict.fromkeys(href for p in pages for href in p["stylesheets"])
    links = "".join(f'<link rel="stylesheet" href="{html.escape(h)}">' for h in sheets)
    math = "".join(f"<style>{p['mathStyles']}</style>" for p in pages if p["mathStyles"])
    body = "".join(f'<section class="memwall-handout-chapter">{p["article"]}</section>' for p in pages)
    return (f'<!DOCTYPE html><html lang="en" data-theme="light" data-mode="light"><head><meta charset="utf-8">'
            f'<base href="{server}/"><title>{html.escape(pages[0]["title"])}</title>{links}{math}'
            f"<style>{PRINT_CSS}</style></head><body><main class=\"memwall-handout bd-main\">{title_html}{body}"
            "</main></body></html>")


def title_block(cite: dict[str, str], what: str, solutions: bool) -> str:
    """The handout's first lines: book title, what is printed and which edition, the citation."""
    edition = ("instructor edition, with solutions" if solutions
               else "student edition, without solutions")
    original = f'<p class="cite">It recomputes {html.escape(cite["original"])}.</p>' if cite["original"] else ""
    return (f'<header class="memwall-handout-title"><p class="book">{html.escape(cite["book"])}</p>'
            f'<p class="what">{html.escape(what)} · {edition}</p>'
            f'<p class="cite">Cite as: {html.escape(cite["short"])}</p>{original}</header>')


def _margin_template(left: str, right: str) -> str:
    return ('<div style="font-size:6.5pt;color:#555;width:100%;margin:0 14mm;display:flex;'
            f'justify-content:space-between;gap:8mm;font-family:sans-serif;"><span>{left}</span>'
            f'<span style="white-space:nowrap">{right}</span></div>')


def make_handout(docnames: list[str], site: Path, output: Path, *, solutions: bool, what: str,
                 root: Path = ROOT) -> Path:
    """Print ``docnames`` of the built ``site`` into the PDF ``output``; returns ``output``.

    Parameters
    ----------
    docnames : list of str
        Pages to print, in order (``chapters/hardware_trends``).
    site : pathlib.Path
        A built site (``_build/html`` or ``_build/student/html``).
    output : pathlib.Path
        The PDF to write (its folder is created).
    solutions : bool
        Whether the site is the instructor edition (said in the title block).
    what : str
        What is printed, for the title block and header (a chapter's title, or "The whole book").

    Raises
    ------
    HandoutError
        Without a built site or a browser, or when a page or chart cannot be rendered.
    """
    if not (site / "index.html").is_file():
        edition = "" if solutions else " EDITION=student"
        raise HandoutError(f"no built site at {site}: run `make book{edition}` first")
    from playwright.sync_api import sync_playwright

    exe = chromium()
    cite = citation(root)
    with serve(site) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=list(CHROMIUM_ARGS))
        try:
            context = browser.new_context(device_scale_factor=CHART_SCALE, viewport={"width": 1100, "height": 1400})
            context.route("**/*", _offline)
            page = context.new_page()
            pages = []
            for doc in docnames:
                if not (site / f"{doc}.html").is_file():
                    raise HandoutError(f"{site / doc}.html is missing: rebuild the book (make book)")
                pages.append(render_page(page, f"{server}/{doc}.html"))
            label = pages[0]["title"] if len(pages) == 1 else what
            page.set_content(compose(server, pages, title_block(cite, label, solutions)), wait_until="load")
            page.evaluate("() => document.fonts.ready.then(() => true)")
            output.parent.mkdir(parents=True, exist_ok=True)
            page.pdf(path=str(output), format="A4", print_background=True, display_header_footer=True,
                     prefer_css_page_size=True,
                     header_template=_margin_template(html.escape(cite["book"]), html.escape(label)),
                     footer_template=_margin_template(html.escape(cite["footer"]),
                                                      'page <span class="pageNumber"></span> of '
                                                      '<span class="totalPages"></span>'))
        finally:
            browser.close()
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapter", default="", help="a page of _toc.yml (e.g. hardware_trends); "
                                                      "default: the whole book")
    parser.add_argument("--solutions", choices=("0", "1"), default="0",
                        help="0: the student edition, no solutions (default); 1: the instructor edition")
    parser.add_argument("--output", type=Path, default=None,
                        help="PDF to write (default: _build/handouts/<chapter>[-solutions].pdf or book[...].pdf)")
    parser.add_argument("--check", action="store_true",
                        help="only check the arguments (the chapter name), before a build: exit 0 or 2")
    args = parser.parse_args(argv)
    solutions = args.solutions == "1"
    try:
        docnames = toc_docnames()
        docs = [resolve_chapter(args.chapter, docnames)] if args.chapter else docnames
        if args.check:
            return 0
        stem = Path(docs[0]).name if args.chapter else "book"
        output = args.output or HANDOUTS / f"{stem}{'-solutions' if solutions else ''}.pdf"
        site = site_dir(ROOT, "instructor" if solutions else "student")
        make_handout(docs, site, output, solutions=solutions, what="The whole book" if not args.chapter else stem)
    except HandoutError as err:
        print(f"handout: {err}", file=sys.stderr)
        return 2
    print(f"handout: wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
