"""Sphinx extension: the book's own style sheet, ``memwall.css``, on every page.

The style sheet (``memwall/sphinxext/static/memwall.css``, shipped with the package) makes charts take the
column's width with a minimum, lays out reader tables (:mod:`memwall.reader_table`) with separators and
right-aligned numbers, turns their rows into cards on a phone, and keeps claims boxes readable there. The
page script, ``memwall.js``, has those charts measure their column again once a window resize has settled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

STATIC = Path(__file__).with_name("static")
"""Folder of the extension's static files (copied into the site's ``_static``)."""
CSS_NAME = "memwall.css"
JS_NAME = "memwall.js"
"""The page script: charts re-measure their column once a window resize has settled."""


def _add_static_path(app: Sphinx) -> None:
    if str(STATIC) not in app.config.html_static_path:
        app.config.html_static_path.append(str(STATIC))


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the extension with Sphinx."""
    app.connect("builder-inited", _add_static_path)
    app.add_css_file(CSS_NAME, priority=900)
    app.add_js_file(JS_NAME, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
