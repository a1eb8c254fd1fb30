"""Sphinx extension: a student and an instructor edition of the book from one source.

The chapters set exercises with gated solutions (sphinx-exercise's ```` ```{solution-start} <label> ```` ...
```` ```{solution-end} ````, with code cells in between). The **instructor** edition (the default) is the book
as written. The **student** edition removes every solution before anything reads the page: a Sphinx
``source-read`` hook rewrites the MyST text of each page, so no solution reaches the doctree, the HTML, the
search index (``searchindex.js``) or the executed notebook, and :mod:`memwall.sphinxext.notebooks` applies the
same function to the downloadable ``.ipynb``. Each removed solution leaves :data:`STUDENT_NOTE` in its place.

Why at the source: sphinx-exercise's own ``hide_solutions: true`` removes ``solution`` nodes after parsing,
and fails on gated solutions (``unknown node type: solution_end_node``); the code cells of a gated solution
would still be executed and indexed. Removing the text keeps the line numbers of everything else (the
removed lines become blank), so a warning still names the right source line.

The blocks are found with markdown-it and the plugins MyST uses (:func:`memwall.sphinxext.myst_syntax.parser`),
so a ```` ```{solution-start} ```` shown inside a longer code fence is text, not a directive, and is kept;
both backtick and ``:::`` colon fences count, and plain ``{solution}`` directives are removed as well.

Configuration: ``memwall_edition`` (``"instructor"`` or ``"student"``), a Sphinx config value;
``tools/build_book.py --edition student`` (``make book EDITION=student``) sets it through a configuration
file of its own and builds into ``_build/student/``. Enable with
``sphinx: extra_extensions: [memwall.sphinxext.editions]``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ConfigError
from sphinx.util import logging

from memwall.sphinxext.myst_syntax import _directive_arg, _directive_name, parser

logger = logging.getLogger(__name__)

__all__ = ["CONFIG_NAME", "EDITIONS", "SOLUTION_NODES", "STUDENT_NOTE", "check_edition", "edition_source",
           "solution_blocks", "strip_page_sources", "strip_solutions"]

EDITIONS = ("instructor", "student")
"""The editions a build can produce; the first is the default (the book as written)."""
CONFIG_NAME = "memwall_edition"
"""Name of the Sphinx config value that selects the edition."""
STUDENT_NOTE = "*Solutions are in the instructor edition of this book.*"
"""Markdown put where the student edition removed a solution."""

_FENCES = ("fence", "colon_fence")
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)


def check_edition(edition: str) -> str:
    """Return ``edition`` when it is one of :data:`EDITIONS`.

    Raises
    ------
    ValueError
        If it is not, naming the allowed values.
    """
    if edition not in EDITIONS:
        raise ValueError(f"unknown edition {edition!r}; the editions are {', '.join(EDITIONS)}")
    return edition


def solution_blocks(text: str, where: str = "") -> list[tuple[int, int, str]]:
    """The solutions of a MyST page: their line ranges and the exercise each answers.

    Parameters
    ----------
    text : str
        The page's MyST Markdown (a jupytext front matter is allowed).
    where : str
        Prefix of error messages (the page's path or document name).

    Returns
    -------
    list of (int, int, str)
        ``(first, stop, label)`` per solution, in page order: 0-based line indices, ``stop`` exclusive, from a
        ``{solution-start}`` fence through its ``{solution-end}`` fence (code cells included), or one whole
        ``{solution}`` directive; ``label`` is the directive's argument (the exercise's label).

    Raises
    ------
    ValueError
        For a ``{solution-start}`` without a ``{solution-end}``, a ``{solution-end}`` without a start, or a
        ``{solution-start}`` inside an open solution, naming the 1-based line.
    """
    prefix = f"{where}: " if where else ""
    body = _FRONT_MATTER.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    blocks: list[tuple[int, int, str]] = []
    open_at: tuple[int, str] | None = None
    for tok in parser().parse(body):
        if tok.type not in _FENCES or tok.map is None:
            continue
        name, (first, stop) = _directive_name(tok.info), tok.map
        if name == "solution-start":
            if open_at is not None:
                raise ValueError(f"{prefix}line {first + 1}: {{solution-start}} inside the solution opened at "
                                 f"line {open_at[0] + 1}")
            open_at = (first, _directive_arg(tok.info))
        elif name == "solution-end":
            if open_at is None:
                raise ValueError(f"{prefix}line {first + 1}: {{solution-end}} without a {{solution-start}}")
            blocks.append((open_at[0], stop, open_at[1]))
            open_at = None
        elif name == "solution" and open_at is None:
            blocks.append((first, stop, _directive_arg(tok.info)))
    if open_at is not None:
        raise ValueError(f"{prefix}line {open_at[0] + 1}: {{solution-start}} {open_at[1]} has no {{solution-end}}")
    return blocks


def strip_solutions(text: str, *, note: str = STUDENT_NOTE, where: str = "") -> str:
    """``text`` with every solution removed and ``note`` in its place (the student edition of a page).

    Parameters
    ----------
    text : str
        A page's MyST Markdown.
    note : str
        Markdown paragraph put where each solution was; empty puts nothing.
    where : str
        Prefix of error messages (see :func:`solution_blocks`).

    Returns
    -------
    str
        The page with as many lines as before: each solution's lines are blank except the second, which holds
        ``note`` (a blank line before and after it, so it is a paragraph of its own). Exercises, their labels
        and everything outside the solutions are unchanged.

    Raises
    ------
    ValueError
        For an unbalanced ``{solution-start}`` / ``{solution-end}`` (see :func:`solution_blocks`).
    """
    blocks = solution_blocks(text, where)
    if not blocks:
        return text
    lines = text.split("\n")
    for first, stop, _ in blocks:
        lines[first:stop] = [""] * (stop - first)
        if note:
            lines[first + 1 if stop - first > 1 else first] = note  # a fence opens, and closes on a later line
    return "\n".join(lines)


def edition_source(text: str, edition: str, *, where: str = "") -> str:
    """A page's MyST text as ``edition`` shows it: unchanged for instructors, :func:`strip_solutions` for students.

    Raises
    ------
    ValueError
        For an unknown edition, or (student edition) an unbalanced solution.
    """
    if check_edition(edition) == "student":
        return strip_solutions(text, where=where)
    return text


def config_edition(app: Sphinx) -> str:
    """The edition this Sphinx build makes (``memwall_edition``; the default when the extension is off)."""
    return str(getattr(app.config, CONFIG_NAME, EDITIONS[0]) or EDITIONS[0])


def _on_source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    edition = config_edition(app)
    if edition != "instructor":
        source[0] = edition_source(source[0], edition, where=str(app.env.doc2path(docname)))


def _check_config(app: Sphinx, config: Any) -> None:
    try:
        check_edition(config_edition(app))
    except ValueError as err:
        raise ConfigError(f"{CONFIG_NAME}: {err}") from None


SOLUTION_NODES = frozenset({"solution_node", "solution_start_node", "solution_end_node"})
"""sphinx-exercise's node classes of a solution: none may be left in a student page's doctree."""


def _on_doctree_read(app: Sphinx, doctree: Any) -> None:
    """In the student edition, warn (an error under ``-W``) for any solution the source-level stripping missed,
    e.g. a ``{solution}`` nested inside another directive."""
    if config_edition(app) == "instructor":
        return
    for node in doctree.findall():
        if type(node).__name__ in SOLUTION_NODES:
            logger.warning("a solution is left in the student edition (nested in another directive?); move it to "
                           "the top level of the page", location=node, type="memwall", subtype="editions")


def strip_page_sources(folder: Path, edition: str) -> list[Path]:
    """Rewrite the page sources Sphinx copied for download (``_sources/**/*.md``, the theme's "Download
    source file") as the edition's text: the student edition's have no solution.

    Parameters
    ----------
    folder : pathlib.Path
        The site's ``_sources`` folder.
    edition : str
        One of :data:`EDITIONS`.

    Returns
    -------
    list of pathlib.Path
        The files rewritten.
    """
    changed = []
    for path in sorted(folder.rglob("*.md")) if folder.is_dir() else []:
        text = path.read_text(encoding="utf-8")
        new = edition_source(text, edition, where=str(path))
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def _on_build_finished(app: Sphinx, exc: Exception | None) -> None:
    if exc is None and app.builder.format == "html" and config_edition(app) != "instructor":
        strip_page_sources(Path(app.outdir) / "_sources", config_edition(app))


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the extension with Sphinx."""
    app.add_config_value(CONFIG_NAME, EDITIONS[0], "env", types=[str])
    app.connect("config-inited", _check_config)
    app.connect("source-read", _on_source_read)
    app.connect("doctree-read", _on_doctree_read)
    app.connect("build-finished", _on_build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
