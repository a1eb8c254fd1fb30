"""Sphinx extension: a built site that draws its charts and runs with no network access.

Altair's default HTML output loads vega, vega-lite and vega-embed from a CDN unless the page has
already declared, in the global ``VEGA_DEBUG`` object, that the exact versions it asks for are
loaded. This extension

1. writes ``_static/memwall-vega.js`` into the *output* folder once per build: vl-convert's
   offline bundle of vega-embed + vega-lite + vega (``vl_convert.javascript_bundle``), wrapped in a
   function scope, followed by a ``VEGA_DEBUG`` preset naming the versions the installed Altair
   requests;
2. adds that script to the ``<head>`` of every page whose body holds an Altair chart, and
   rewrites the CDN addresses in the chart's loader to the local bundle, so no built page names
   a CDN;
3. warns (so ``-W`` fails the build) when a page's chart was produced by another Altair version
   than the installed one (stale execution cache), since the preset would then not match;
4. when Thebe (live code through Binder) is off in ``launch_buttons``, removes the Thebe loader
   that Jupyter Book 1 adds to every page anyway: it names a CDN (unpkg) and a Binder repository;
5. after the build, removes the theme's ``_static/scripts/fontawesome.js`` (Font Awesome's SVG
   framework, 0.54 MB gzipped, the largest file of a first visit) from every page: the theme's
   stylesheet already draws the same icons from Font Awesome's web fonts, so the icons stay and each
   page's first visit shrinks by a third (``make bench`` measures it).

Configuration: none. Enable with ``sphinx: extra_extensions: [memwall.sphinxext.offline_site]``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import altair as alt
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

BUNDLE_NAME = "memwall-vega.js"
_MARKER = "vega-embed"
_CDN_PATH = re.compile(r'"(vega|vega-lib|vega-lite|vega-embed)": "https://cdn\.jsdelivr\.net/npm/[^"]*"')
_REQUESTED = re.compile(r'maybeLoadScript\("(vega|vega-lite|vega-embed)", "([^"]+)"\)')


def expected_versions() -> dict[str, str]:
    """Versions that the installed Altair's HTML loader asks for, keyed by library."""
    return {"vega": alt.VEGA_VERSION, "vega-lite": alt.VEGALITE_VERSION, "vega-embed": alt.VEGAEMBED_VERSION}


def bundle_source() -> str:
    """JavaScript of the offline bundle: libraries in a function scope, then the VEGA_DEBUG preset."""
    import vl_convert

    versions = expected_versions()
    library = vl_convert.javascript_bundle()
    preset = ", ".join(f'"{lib.replace("-", "")}_version": "{ver}"' for lib, ver in versions.items())
    return (
        f"/* memwall offline bundle: vega-embed + vega-lite + vega via vl-convert "
        f"{getattr(vl_convert, '__version__', '?')}; Altair {alt.__version__} */\n"
        "(function () {\n" + library + "\n})();\n"
        f"window.VEGA_DEBUG = Object.assign(window.VEGA_DEBUG || {{}}, {{{preset}}});\n"
    )


def _write_bundle(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / BUNDLE_NAME
    header = f"Altair {alt.__version__} */"
    if target.is_file() and header in target.read_text(encoding="utf-8", errors="replace")[:300]:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(bundle_source(), encoding="utf-8")


_THEBE_CONFIG = re.compile(r'<script type="text/x-thebe-config">.*?</script>\s*(<script>kernelName = [^<]*</script>)?',
                           re.DOTALL)


def _thebe_enabled(app: Sphinx) -> bool:
    options = getattr(app.config, "html_theme_options", {}) or {}
    return bool((options.get("launch_buttons") or {}).get("thebe"))


def _is_thebe_script(script: Any) -> bool:
    filename = getattr(script, "filename", None) or ""
    body = (getattr(script, "attributes", None) or {}).get("body", "") or ""
    return "thebe" in filename or "THEBE_JS_URL" in body


def _strip_thebe(app: Sphinx, context: dict[str, Any]) -> None:
    if _thebe_enabled(app):
        return
    context["script_files"] = [s for s in context.get("script_files", []) if not _is_thebe_script(s)]
    context["css_files"] = [c for c in context.get("css_files", [])
                            if "thebe" not in (getattr(c, "filename", "") or "")]
    if context.get("body"):
        context["body"] = _THEBE_CONFIG.sub("", context["body"])


def _on_page(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    _strip_thebe(app, context)
    body = context.get("body") or ""
    if _MARKER not in body:
        return
    expected = expected_versions()
    for lib, ver in _REQUESTED.findall(body):
        if expected.get(lib) != ver:
            logger.warning(
                "page %s: an Altair chart asks for %s %s but the installed Altair uses %s; "
                "clear the execution cache (make clean) and rebuild", pagename, lib, ver, expected.get(lib),
                type="memwall", subtype="vega",
            )
    pathto = context.get("pathto")
    local = pathto(f"_static/{BUNDLE_NAME}", 1) if callable(pathto) else f"_static/{BUNDLE_NAME}"
    context["body"] = _CDN_PATH.sub(lambda m: f'"{m.group(1)}": "{local}"', body)
    # Called from html-page-context, add_js_file adds the script to this page only (Sphinx >= 3.5).
    app.add_js_file(BUNDLE_NAME, priority=100)


_FONTAWESOME_JS = re.compile(r'<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>\s*')


def _drop_fontawesome_js(app: Sphinx, exc: Exception | None) -> None:
    if exc is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        if "_static" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        stripped = _FONTAWESOME_JS.sub("", text)
        if stripped != text:
            page.write_text(stripped, encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the extension with Sphinx."""
    app.connect("builder-inited", _write_bundle)
    app.connect("html-page-context", _on_page)
    app.connect("build-finished", _drop_fontawesome_js)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
