"""What the plain-Markdown converter knows of the book: glue values, the bibliography, the label index.

The inputs :class:`memwall.sphinxext.plain_markdown.Converter` resolves MyST against (re-exported there):
:func:`load_glue` reads myst-nb's glue files of a build (:data:`GlueData`); :class:`Bibliography` gives
author-year labels and a Markdown reference list from ``references.bib`` with pybtex; :class:`BookIndex`
holds the labels, titles and book-wide exercise numbers of every document (:class:`Target`), read from the
sources in table-of-contents order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memwall.sphinxext.myst_syntax import (
    _directive_arg,
    _directive_name,
    _escape,
    _plain_inline,
    parser,
    split_directive_body,
)

__all__ = ["Bibliography", "BookIndex", "GlueData", "Target", "load_glue"]


# --- glue values --------------------------------------------------------------------------------------------

GlueData = Mapping[str, Mapping[str, Mapping[str, Any]]]
"""docname -> glue name -> MIME bundle (``{"text/plain": "1024"}``), as myst-nb stores them."""


def load_glue(folder: Path, docnames: Iterable[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """The glue values of a build's executed notebooks (``jupyter_execute``), for ``docnames``.

    myst-nb 1.x writes ``<docname>.glue.json`` (``{name: output}``) beside each executed ``.ipynb``; a glue
    output still inside the ``.ipynb`` (``scrapbook`` metadata, prefixed MIME keys) is read too.

    Parameters
    ----------
    folder : Path
        The ``jupyter_execute`` folder of a build.
    docnames : iterable of str
        Documents to read, e.g. ``chapters/quantization``.

    Returns
    -------
    dict
        docname -> name -> MIME bundle with plain keys (a document without glue maps to ``{}``).
    """
    glue: dict[str, dict[str, dict[str, Any]]] = {}
    for doc in docnames:
        values: dict[str, dict[str, Any]] = {}
        ipynb = folder / f"{doc}.ipynb"
        if ipynb.is_file():
            cells = json.loads(ipynb.read_text(encoding="utf-8")).get("cells", [])
            for out in (o for c in cells for o in c.get("outputs", [])):
                scrap = out.get("metadata", {}).get("scrapbook")
                if isinstance(scrap, dict) and "name" in scrap and "data" in out:
                    values[scrap["name"]] = _plain_bundle(out["data"], scrap.get("mime_prefix") or "")
        path = folder / f"{doc}.glue.json"
        if path.is_file():
            for name, out in json.loads(path.read_text(encoding="utf-8")).items():
                values[name] = _plain_bundle(out.get("data", {}), "")
        glue[doc] = values
    return glue


def _plain_bundle(data: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    bundle = {k.removeprefix(prefix).removeprefix("application/papermill.record/"): v for k, v in data.items()}
    return {k: "".join(v) if isinstance(v, list) else v for k, v in bundle.items()}


def _format_glue_text(text: str, fmt_spec: str) -> str:
    from myst_nb.core.variables import format_plain_text  # the function myst-nb's {glue:text} role calls

    return format_plain_text(text, fmt_spec)


# --- bibliography -------------------------------------------------------------------------------------------

class Bibliography:
    """Author-year labels and a Markdown reference list from a BibTeX file (parsed by pybtex).

    Parameters
    ----------
    path : Path
        The book's ``references.bib``.
    """

    def __init__(self, path: Path) -> None:
        from pybtex.database import parse_file
        from pybtex.plugin import find_plugin

        self.path = path
        self.data = parse_file(str(path))
        # One backend instance each: pybtex's render_as() looks the backend up among entry points every call.
        self._text = find_plugin("pybtex.backends", "text")()
        self._markdown = find_plugin("pybtex.backends", "markdown")()
        self._authors: dict[str, str] = {}

    def authors(self, key: str) -> str:
        """``Leviathan et al.``, ``Kim and Lee``, ``NVIDIA``: the author part of an author-year label."""
        if key not in self._authors:
            entry = self.data.entries[key]
            persons = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [" ".join(n.render(self._text) for n in p.rich_last_names) for p in persons]
            if not names:
                from pybtex.richtext import Text

                fallback = entry.fields.get("organization") or entry.fields.get("title") or key
                label = Text.from_latex(fallback).render(self._text)
            elif len(names) <= 2:
                label = " and ".join(names)
            else:
                label = f"{names[0]} et al."
            self._authors[key] = label
        return self._authors[key]

    def year(self, key: str) -> str:
        """The entry's year (``n.d.`` when it has none)."""
        return str(self.data.entries[key].fields.get("year", "n.d."))

    def reference_list(self, keys: Iterable[str]) -> str:
        """A Markdown bullet list of ``keys``, sorted by label, each as pybtex's ``plain`` style formats it."""
        from pybtex.plugin import find_plugin

        keys = [k for k in dict.fromkeys(keys) if k in self.data.entries]
        style = find_plugin("pybtex.style.formatting", "plain")()
        formatted = {e.key: " ".join(e.text.render(self._markdown).split("\n"))
                     for e in style.format_bibliography(self.data, citations=keys)}
        order = sorted(keys, key=lambda k: (self.authors(k).lower(), self.year(k), k))
        return "\n".join(f"- **{_escape(self.authors(k))}, {self.year(k)}.** {formatted[k]}" for k in order)


# --- labels of the whole book -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """Something a ``{ref}``/``{numref}`` can point at."""

    docname: str
    text: str
    """What the page shows for a ``{ref}`` (an exercise: ``Exercise 36``; a section: its title)."""
    number: int | None = None
    title: str = ""


@dataclass
class BookIndex:
    """Labels, titles and exercise numbers of every document of the book, read from the sources.

    Parameters
    ----------
    docnames : list of str
        Documents in table-of-contents order (exercise numbers run through them in that order).
    sources : mapping of str to str
        docname -> MyST Markdown of the document (front matter and code cells included).
    """

    docnames: list[str]
    sources: Mapping[str, str]
    titles: dict[str, str] = field(init=False, default_factory=dict)
    targets: dict[str, Target] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        md = parser()
        counter = 0
        for doc in self.docnames:
            tokens = md.parse(self.sources.get(doc, ""))
            pending: list[str] = []
            for i, tok in enumerate(tokens):
                if tok.type == "myst_target":
                    pending.append(tok.content)
                elif tok.type == "heading_open":
                    title = _plain_inline(tokens[i + 1].content)
                    self.titles.setdefault(doc, title)
                    for label in pending:
                        self.targets[label] = Target(doc, title)
                    pending = []
                elif tok.type in ("fence", "colon_fence") and _directive_name(tok.info):
                    name, arg = _directive_name(tok.info), _directive_arg(tok.info)
                    options, _ = split_directive_body(tok.content)
                    if name in ("exercise", "exercise-start"):
                        number = None
                        if "nonumber" not in options:
                            counter += 1
                            number = counter
                        text = f"Exercise {number}" if number else "Exercise"
                        if "label" in options:
                            self.targets[options["label"]] = Target(doc, text, number, _plain_inline(arg))
                    elif "name" in options or "label" in options:
                        self.targets[options.get("name") or options["label"]] = Target(
                            doc, _plain_inline(arg) or options.get("name") or options["label"])

    @classmethod
    def from_files(cls, root: Path, docnames: list[str]) -> BookIndex:
        """The index of the ``.md`` sources under ``root`` (documents without one are skipped)."""
        sources = {d: (root / f"{d}.md").read_text(encoding="utf-8") for d in docnames if (root / f"{d}.md").is_file()}
        return cls(docnames, sources)
