"""What the plain-Markdown converter knows of the book: glue values, the bibliography, the label index.

The inputs :class:`memwall.sphinxext.plain_markdown.Converter` resolves MyST against (re-exported there):
:func:`load_glue` reads myst-nb's glue files of a build (:data:`GlueData`); :class:`Bibliography` gives
author-year labels and a Markdown reference list from ``references.bib`` with pybtex; :class:`BookIndex`
holds the labels, titles and per-chapter numbers (exercises, figures, tables) of every document
(:class:`Target`), read from the sources in table-of-contents order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt

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

NUMFIG_FORMAT = {"figure": "Figure %s", "table": "Table %s", "code-block": "Listing %s", "exercise": "Exercise %s"}
"""What ``{numref}`` shows per node type when ``_config.yml`` sets no ``numfig_format`` of its own."""


@dataclass(frozen=True)
class Target:
    """Something a ``{ref}``/``{numref}`` can point at."""

    docname: str
    text: str
    """What the page shows for a ``{ref}`` (an exercise: ``Exercise 3``; a section: its title; a figure: its
    caption's first paragraph)."""
    number: int | None = None
    """The per-chapter number of an exercise, figure, table or listing (``None``: not numbered)."""
    title: str = ""
    """An exercise's title or a figure's caption (what ``{name}`` in an explicit ``{numref}`` text becomes)."""
    numref: str = ""
    """What the page shows for a ``{numref}`` (``Figure 2``); empty: the same as :attr:`text`."""


@dataclass
class BookIndex:
    """Labels, titles and per-chapter numbers of every document of the book, read from the sources.

    Exercises (numbered unless ``:nonumber:``), captioned figures (``{figure}``, ``{glue:figure}``, code cells
    with ``mystnb: figure:`` metadata), titled tables and captioned code blocks are numbered 1, 2, 3 ... in
    every document, per kind, in page order: as :mod:`memwall.sphinxext.chapter_numbers` makes Sphinx
    number them on the pages.

    Parameters
    ----------
    docnames : list of str
        Documents in table-of-contents order.
    sources : mapping of str to str
        docname -> MyST Markdown of the document (front matter and code cells included).
    numfig_format : mapping of str to str, optional
        Node type -> ``{numref}`` text with ``%s`` for the number (``_config.yml``'s ``numfig_format``
        merged over :data:`NUMFIG_FORMAT`).
    """

    docnames: list[str]
    sources: Mapping[str, str]
    numfig_format: Mapping[str, str] = field(default_factory=lambda: dict(NUMFIG_FORMAT))
    titles: dict[str, str] = field(init=False, default_factory=dict)
    targets: dict[str, Target] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.numfig_format = {**NUMFIG_FORMAT, **self.numfig_format}
        md = parser()
        for doc in self.docnames:
            self._read(md, doc, md.parse(self.sources.get(doc, "")), {}, [])

    def _numbered(self, counters: dict[str, int], kind: str) -> tuple[int, str]:
        counters[kind] = counters.get(kind, 0) + 1
        return counters[kind], self.numfig_format[kind].replace("%s", str(counters[kind]))

    def _read(self, md: MarkdownIt, doc: str, tokens: list[Any], counters: dict[str, int],
              pending: list[str]) -> None:
        """Index ``tokens`` of ``doc`` (directive contents recursively, as Sphinx walks nested nodes)."""
        for i, tok in enumerate(tokens):
            if tok.type == "myst_target":
                pending.append(tok.content)
            elif tok.type == "heading_open":
                title = _plain_inline(tokens[i + 1].content)
                self.titles.setdefault(doc, title)
                for label in pending:
                    self.targets[label] = Target(doc, title)
                pending.clear()
            elif tok.type in ("fence", "colon_fence") and _directive_name(tok.info):
                name, arg = _directive_name(tok.info), _directive_arg(tok.info)
                options, content = split_directive_body(tok.content)
                if name == "code-cell":
                    self._code_cell(doc, tok.content, counters)
                    continue
                label = options.get("name") or options.get("label")
                if name in ("exercise", "exercise-start"):
                    number, text = (None, "Exercise") if "nonumber" in options else self._numbered(counters, "exercise")
                    if options.get("label"):
                        self.targets[options["label"]] = Target(doc, text, number, _plain_inline(arg))
                elif kind := _figure_kind(name, arg, options, content):
                    captions = {"table": arg, "code-block": options.get("caption", "")}
                    caption = _first_paragraph(captions.get(kind, content))
                    number, shown = self._numbered(counters, kind)
                    if label:
                        self.targets[label] = Target(doc, caption or shown, number, caption, shown)
                elif label:
                    self.targets[label] = Target(doc, _plain_inline(arg) or label)
                if name not in ("code-block", "code", "sourcecode", "math") and content.strip():
                    self._read(md, doc, md.parse(content), counters, [])

    def _code_cell(self, doc: str, body: str, counters: dict[str, int]) -> None:
        """A code cell's ``mystnb: figure:`` metadata (``name``, ``caption``): a figure when it has a caption."""
        lines = body.split("\n")
        if not lines or lines[0].strip() != "---":
            return
        end = next((j for j in range(1, len(lines)) if lines[j].strip() == "---"), None)
        if end is None:
            return
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
        figure = (meta.get("mystnb") or {}).get("figure") if isinstance(meta, dict) else None
        if not isinstance(figure, dict) or not str(figure.get("caption") or "").strip():
            return
        caption = _first_paragraph(str(figure["caption"]))
        number, shown = self._numbered(counters, "figure")
        if figure.get("name"):
            self.targets[str(figure["name"])] = Target(doc, caption or shown, number, caption, shown)

    @classmethod
    def from_files(cls, root: Path, docnames: list[str]) -> BookIndex:
        """The index of the ``.md`` sources under ``root`` (documents without one are skipped), with the
        ``numfig_format`` of ``root/_config.yml`` when it sets one."""
        sources = {d: (root / f"{d}.md").read_text(encoding="utf-8") for d in docnames if (root / f"{d}.md").is_file()}
        return cls(docnames, sources, _config_numfig_format(root / "_config.yml"))


def _figure_kind(name: str, arg: str, options: Mapping[str, str], content: str) -> str:
    """The numbered node type a directive makes (``figure``, ``table``, ``code-block``), or ``""`` when it makes
    none: Sphinx numbers only figures with a caption, tables with a title and code blocks with a caption."""
    if name in ("figure", "glue:figure") and content.strip():
        return "figure"
    if name in ("table", "list-table", "csv-table") and arg.strip():
        return "table"
    if name in ("code-block", "code", "sourcecode") and options.get("caption", "").strip():
        return "code-block"
    return ""


def _first_paragraph(text: str) -> str:
    """A caption's first paragraph on one line, roles reduced to their text (what a ``{ref}`` shows)."""
    first = text.strip().split("\n\n")[0]
    return _plain_inline(" ".join(first.split()))


def _config_numfig_format(path: Path) -> dict[str, str]:
    """``sphinx: config: numfig_format`` of a ``_config.yml`` (empty when it has none or no file)."""
    if not path.is_file():
        return {}
    import yaml

    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    formats = ((config.get("sphinx") or {}).get("config") or {}).get("numfig_format") or {}
    return {str(k): str(v) for k, v in formats.items()} if isinstance(formats, dict) else {}
