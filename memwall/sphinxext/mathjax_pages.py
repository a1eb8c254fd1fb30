"""Sphinx extension: MathJax only on the pages that have maths.

``sphinx.ext.mathjax`` adds the MathJax loader (served from ``_static/mathjax`` by sphinx-mathjax-offline,
about 260 KB gzipped) and its ``window.MathJax = ...`` configuration to a page when the math domain says the
page *has equations*. ``MathDomain.has_equations(docname)`` is true for a page with a math node **or any
page of its toctree**: the book's root page (the intro) lists every chapter in its toctree, so it loads
MathJax although it holds no formula (Sphinx does this for pages that show their children's content,
which the book's root does not).

This extension keeps Sphinx's decision for pages with maths and undoes it for the others: on
``html-page-context``, after ``install_mathjax`` (priority 500; ours runs at 600), a page whose rendered
doctree holds no math node (:func:`has_maths`: docutils ``math`` / ``math_block``, which MyST's
``$...$``, ``$$...$$``, amsmath environments and the ``{math}`` role and directive all produce) and that
the math domain does not mark as having equations *itself* (sphinx-exercise marks a page whose exercise
links show a formula) gets the MathJax scripts removed from its ``script_files`` (:func:`drop_mathjax`).

Configuration: none. Enable with ``sphinx: extra_extensions: [memwall.sphinxext.mathjax_pages]`` after
``sphinx-mathjax-offline``.
"""

from __future__ import annotations

from collections.abc import MutableSequence
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

__all__ = ["drop_mathjax", "has_maths", "is_mathjax_script"]

_CONFIG_BODIES = ("window.MathJax =", "MathJax.Hub.Config(")


def has_maths(doctree: nodes.Node | None) -> bool:
    """Whether ``doctree`` holds a formula (a docutils ``math`` or ``math_block`` node); ``None``: no."""
    if doctree is None:
        return False
    return any(True for _ in doctree.findall(lambda n: isinstance(n, (nodes.math, nodes.math_block))))


def is_mathjax_script(script: Any, mathjax_path: str) -> bool:
    """Whether a page script (Sphinx's ``_JavaScript``) is the MathJax loader at ``mathjax_path`` (as given, or
    under ``_static/`` where Sphinx puts a relative path) or the inline MathJax configuration
    ``sphinx.ext.mathjax`` writes before it."""
    filename = str(getattr(script, "filename", script) or "")
    attributes = getattr(script, "attributes", {}) or {}
    if filename:
        # Sphinx's add_js_file puts a relative path under _static/ ("mathjax/tex-chtml.js" -> "_static/...")
        return bool(mathjax_path) and filename in (mathjax_path, f"_static/{mathjax_path}")
    body = str(attributes.get("body", "")).lstrip()
    return attributes.get("type") == "text/x-mathjax-config" or body.startswith(_CONFIG_BODIES)


def drop_mathjax(scripts: MutableSequence[Any], mathjax_path: str) -> int:
    """Remove the MathJax scripts from ``scripts`` in place (the page context's ``script_files``).

    Parameters
    ----------
    scripts : mutable sequence
        The page's scripts (Sphinx's ``_JavaScript`` objects).
    mathjax_path : str
        The ``mathjax_path`` config value (``mathjax/tex-chtml.js`` with sphinx-mathjax-offline).

    Returns
    -------
    int
        How many scripts were removed.
    """
    kept = [s for s in scripts if not is_mathjax_script(s, mathjax_path)]
    removed = len(scripts) - len(kept)
    scripts[:] = kept
    return removed


def _page_has_equations(app: Sphinx, pagename: str) -> bool:
    """The math domain's own flag for the page, without its toctree children."""
    domain = app.env.get_domain("math")
    return bool(domain.data.get("has_equations", {}).get(pagename, False))


def _on_page_context(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                     doctree: nodes.Node | None) -> None:
    if app.builder.format != "html" or "script_files" not in context:
        return
    if has_maths(doctree) or _page_has_equations(app, pagename):
        return
    drop_mathjax(context["script_files"], str(app.config.mathjax_path or ""))


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the extension with Sphinx."""
    app.connect("html-page-context", _on_page_context, priority=600)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
