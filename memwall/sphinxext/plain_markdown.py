"""MyST Markdown of the chapters turned into plain (CommonMark + ``$`` math) Markdown for ``.ipynb`` readers.

A chapter's Markdown cells are MyST: roles (``{glue:text}`key:.1f```, ``{cite:p}`key```, ``{ref}`label```)
and directives (```` ```{exercise} ````, ``:::{admonition}``, ``{figure}``, ...) that only Sphinx renders.
Jupyter, Colab and Binder show them as source. :class:`Converter` rewrites each Markdown cell so that none is
left: glued numbers become the values of the build (formatted as the page formats them), citations become
author-year text with a reference list appended to the notebook, exercises and solutions become headings,
admonitions become block quotes, cross-references become text or links to the book's site.

How, and why this way
---------------------
* **Parsing** is markdown-it-py with the mdit-py-plugins that myst-parser itself uses (``myst_role``,
  ``myst_blocks``, ``colon_fence``, ``dollarmath``, ``amsmath``, ``deflist``, ``footnote``): the same tokens the
  book is built from, so a role inside inline code, a fence inside a fence or a ``{`` in a formula is told
  apart exactly as the book tells it apart, which regular expressions cannot do.
* **Rendering** is source splicing, not re-rendering the token stream: every MyST token is replaced in the
  cell's own text, at the position the parser reports (block tokens by their line ``map``; roles by their
  character span, recorded by a thin wrapper round the plugin's own role rule), and everything else is left
  byte for byte as the author wrote it (escapes, emphasis markers, line breaks). There is no maintained
  markdown-it-py *Markdown* renderer among the book's dependencies (``mdformat`` would be one, but it
  normalises the whole text and would be a new dependency), and splicing keeps the diff to the MyST parts.
* **Directive bodies** (``:key: value`` option lines, or a ``---`` YAML block, then content) are split as
  MyST documents them; the content is MyST again and is converted recursively.
* **Glue values** come from myst-nb's own glue files of the build (``<docname>.glue.json`` in
  ``jupyter_execute``) and are formatted with myst-nb's ``format_plain_text``, the function the
  ``{glue:text}`` role itself calls, so the notebook prints exactly what the page prints. Without a build
  (``binder/postBuild``) a glued number becomes a marked placeholder ``⟨name⟩`` and a note cell at the top
  says that the code cells that call ``glue_number("name", ...)`` compute it (see :data:`PLACEHOLDER_NOTE`).
* **Citations** are read from ``references.bib`` with pybtex (installed with sphinxcontrib-bibtex, which the
  book's bibliography uses): author-year labels as the page shows them, and the reference list formatted by
  pybtex's ``plain`` style and its Markdown backend.
* **Exercise, figure and table numbers** restart at 1 in every chapter, as the pages number them
  (:mod:`memwall.sphinxext.chapter_numbers`): the second exercise of any chapter is ``Exercise 2``;
  ``:nonumber:`` exercises and figures without a caption get none.

What each construct becomes
---------------------------
* ``{glue:text}`key:fmt``` (and ``{glue}``, ``{glue:any}``): the glued ``text/plain``, formatted with
  ``fmt``; ``{glue:md}``: the glued ``text/markdown``; a glued value with no text (a chart): a note.
* ``{glue:figure}`` / ``{glue:any}`` / ``{glue}`` blocks: an italic note (with the caption) that the chart or
  table is an output of the code cell that computes it; ``{glue:math}``: a ``$$`` block of its LaTeX.
* ``{cite:p}`a,b```: ``(Gholami et al., 2024; NVIDIA, 2023)``; ``{cite:t}`a```: ``Gholami et al. (2024)``;
  a final ``## References`` cell lists every entry the notebook cites.
* ``{ref}``, ``{numref}``, ``{doc}``, ``{eq}``: the target's text as the page shows it (``Exercise 3``,
  ``Figure 2``, a section title, ``(label)``); a link to the target on the book's site when it is in another document.
* ``{math}`` role: ``$x$``; ``{code}`` and Python-object roles (``{py:func}``...): inline code;
  ``{sub}``/``{sup}``/``{kbd}``: HTML; ``{abbr}``, ``{term}`` and unknown roles: their text.
* ``{exercise}`` (or ``exercise-start``): ``### Exercise 3: title`` one level below the section heading,
  then its text; ``{solution}`` / ``solution-start``: ``#### Solution to Exercise 3`` (the solution's code
  cells follow, as in the chapter); ``exercise-end`` / ``solution-end``: removed.
* Admonitions (``{note}``, ``{tip}``, ``{admonition} Title``, ``{dropdown}``, ``{card}``, ``{sidebar}``...):
  a block quote opened by the title in bold.
* ``{figure}`` / ``{image}``: ``![alt](url)`` (a relative path becomes the repository's raw URL) and the
  caption in italics; ``{math}`` directive and ``$$ ... $$ (label)``: a ``$$`` block without the label;
  ``{code-block}`` and friends: a fenced code block; ``{include}``/``{literalinclude}``: a link to the file.
* ``(label)=`` targets, ``% comments`` and ``+++`` block breaks: removed.
* Any other directive: its content, converted, under its argument in bold; one without content (e.g.
  ``{tableofcontents}``): a line pointing to the book's page.

The parser and directive-body syntax live in :mod:`memwall.sphinxext.myst_syntax`; glue values, the
bibliography and the book's label index in :mod:`memwall.sphinxext.book_data` (re-exported here).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from memwall.sphinxext.book_data import Bibliography, BookIndex, GlueData, _format_glue_text, load_glue
from memwall.sphinxext.myst_syntax import (
    _code,
    _directive_arg,
    _directive_name,
    _escape,
    parser,
    split_directive_body,
)

__all__ = ["PLACEHOLDER_NOTE", "Bibliography", "BookIndex", "Converter", "GlueData", "leftover_myst",
           "load_glue", "parser"]

PLACEHOLDER_NOTE = (
    "**Numbers in the text.** The book prints in its prose the numbers this notebook computes. This copy was "
    "made without running it, so each such number appears as its name, e.g. ⟨name⟩: the code cell above it "
    "that calls `glue_number(\"name\", ...)` (or `glue_text`) computes it. The book's page shows the values."
)
"""Markdown of the note cell put after the setup cell of a notebook written without glue values."""

TYPED_ADMONITIONS = frozenset({"attention", "caution", "danger", "error", "hint", "important", "note", "seealso",
                               "tip", "warning", "todo"})
"""Admonitions whose argument is not a title but the start of their content (as in MyST)."""
ADMONITIONS = TYPED_ADMONITIONS | frozenset({"admonition", "versionadded", "versionchanged", "deprecated",
                         "dropdown", "sidebar", "margin", "topic", "card", "epigraph", "pull-quote", "tab-item",
                         "prf:definition", "prf:theorem", "prf:proof", "prf:example", "prf:remark"})
"""Directives shown as a block quote with a bold title."""
CODE_DIRECTIVES = frozenset({"code", "code-block", "sourcecode", "code-cell", "ipython", "eval-rst"})
PY_ROLES = re.compile(r"^(?:py:)?(?:func|class|mod|meth|attr|obj|data|exc|const|attribute|function|method|module)$")
_LEFTOVER = re.compile(r"\{glue|\{cite|\{exercise|\{solution|```\{|:::\{")


def leftover_myst(markdown: str) -> list[str]:
    """The MyST markers (``{glue``, ``{cite``, ``{exercise``, ``{solution``, ```` ```{ ````, ``:::{``) in a text."""
    return _LEFTOVER.findall(markdown)


# --- the converter ------------------------------------------------------------------------------------------

@dataclass
class Converter:
    """Rewrites the MyST Markdown cells of one document as plain Markdown.

    Parameters
    ----------
    docname : str
        The document converted, e.g. ``chapters/quantization``.
    index : BookIndex
        Labels and exercise numbers of the book.
    bibliography : Bibliography or None
        For citations; ``None`` leaves them as their keys (still readable).
    glue : GlueData or None
        Glue values of the build; ``None`` puts :data:`PLACEHOLDER_NOTE` placeholders.
    site_url : str
        Root URL of the published book (``https://owner.github.io/repo/``), for links to other pages.
    raw_url : str
        URL prefix of the repository's files (``https://raw.githubusercontent.com/owner/repo/main/``), for
        images; empty keeps relative paths.
    warn : callable or None
        Called with a message for a glue value or label that cannot be resolved.
    """

    docname: str
    index: BookIndex
    bibliography: Bibliography | None = None
    glue: GlueData | None = None
    site_url: str = ""
    raw_url: str = ""
    warn: Callable[[str], None] | None = None
    cited: list[str] = field(default_factory=list)
    placeholders: int = 0
    _section_level: int = 1
    _md: MarkdownIt = field(default_factory=parser, repr=False)

    # -- public

    def convert(self, source: str) -> str:
        """One Markdown cell (or any MyST text) as plain Markdown; state (section level, citations) carries on."""
        lines = source.split("\n")
        starts = [0]
        for line in lines:
            starts.append(starts[-1] + len(line) + 1)
        edits: list[tuple[int, int, str]] = []
        for tok in self._md.parse(source):
            if tok.type == "heading_open":
                self._section_level = int(tok.tag[1:])
            elif tok.map is None:
                continue
            elif tok.type == "inline":
                edits += self._inline_edits(tok, lines, starts)
            else:
                replacement = self._block(tok)
                if replacement is not None:
                    edits.append(self._block_edit(tok, lines, starts, replacement))
        out = source
        for start, end, text in sorted(edits, reverse=True):
            out = out[:start] + text + out[end:]
        return out.strip("\n")

    def references(self) -> str:
        """The reference list of everything cited so far (empty when nothing was)."""
        if not self.cited or self.bibliography is None:
            return ""
        return "## References\n\n" + self.bibliography.reference_list(self.cited)

    # -- blocks

    @staticmethod
    def _block_edit(tok: Token, lines: list[str], starts: list[int], text: str) -> tuple[int, int, str]:
        """The edit that replaces the source lines of block ``tok`` by ``text`` (re-indented for its container)."""
        first, last = tok.map  # type: ignore[misc]
        if not text:  # removed: its lines go, and one blank line after it when one precedes it
            if last < len(lines) and not lines[last].strip() and (first == 0 or not lines[first - 1].strip()):
                last += 1
            return starts[first], min(starts[last], starts[-1] - 1), ""
        opening = lines[first]
        col = opening.find(tok.markup) if tok.markup and tok.type in ("fence", "colon_fence") else 0
        col = max(col, len(opening) - len(opening.lstrip(" \t>"))) if col <= 0 else col
        prefix = "".join(c if c == ">" else " " for c in opening[:col])
        body = "\n".join(line if i == 0 else (prefix + line if line else prefix.rstrip())
                         for i, line in enumerate(text.split("\n")))
        return starts[first] + col, starts[last] - 1, body

    def _block(self, tok: Token) -> str | None:
        """Plain Markdown for a MyST block token, or ``None`` to keep it as written."""
        if tok.type in ("myst_target", "myst_line_comment", "myst_block_break"):
            return ""
        if tok.type == "math_block_label":
            return f"$$\n{tok.content.strip()}\n$$"
        if tok.type in ("fence", "colon_fence"):
            name = _directive_name(tok.info)
            if name:
                return self._directive(name, _directive_arg(tok.info), tok.content)
        return None

    def _directive(self, name: str, arg: str, body: str) -> str:
        options, content = split_directive_body(body)
        if name in ("exercise", "exercise-start"):
            level = min(self._section_level + 1, 6)
            label = options.get("label", "")
            target = self.index.targets.get(label) if label else None
            number = target.number if target else None
            title = self.convert(arg) if arg else ""
            head = f"Exercise {number}" if number else "Exercise"
            text = "#" * level + f" {head}" + (f": {title}" if title else "")
            return text + ("\n\n" + self.convert(content) if name == "exercise" and content else "")
        if name in ("exercise-end", "solution-end"):
            return ""
        if name in ("solution", "solution-start"):
            level = min(self._section_level + 2, 6)
            target = self.index.targets.get(arg.strip())
            of = f" to {target.text}" if target else ""
            text = "#" * level + f" Solution{of}"
            return text + ("\n\n" + self.convert(content) if name == "solution" and content else "")
        if name.startswith("glue"):
            return self._glue_block(name, arg, options, content)
        if name in ("figure", "image"):
            caption = self.convert(content) if name == "figure" and content else ""
            alt = _escape(options["alt"]) if "alt" in options else caption.split("\n\n")[0] or Path(arg).stem
            text = f"![{alt}]({self._file_url(arg)})"
            return text + (f"\n\n*{caption}*" if caption else "")
        if name == "math":
            return f"$$\n{content.strip()}\n$$"
        if name in CODE_DIRECTIVES:
            lang = "python" if name in ("code-cell", "ipython") else ("rst" if name == "eval-rst" else arg)
            fence = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", content)), default=0))
            return f"{fence}{lang}\n{content}\n{fence}"
        if name in ("literalinclude", "include", "download"):
            return f"See the file [{_escape(arg)}]({self._file_url(arg)})."
        if name in ADMONITIONS or name.startswith("prf:"):
            return self._admonition(name, arg, content)
        if content:
            head = f"**{self.convert(arg)}**\n\n" if arg else ""
            return head + self.convert(content)
        page = self._page_url(self.docname)
        return f"*(The book's page shows the {name} here{f': <{page}>' if page else ''}.)*"

    def _admonition(self, name: str, arg: str, content: str) -> str:
        """A block quote with a bold title: the argument where it is a title, else the directive's name."""
        kind = name.removeprefix("prf:")
        default = {"seealso": "See also", "versionadded": "New in version", "versionchanged": "Changed in version",
                   "todo": "To do"}.get(kind, kind.replace("-", " ").capitalize())
        if name in TYPED_ADMONITIONS and arg:  # {note} text: the argument is the first line of the content
            content, arg = (f"{arg}\n{content}" if content else arg), ""
        title = self.convert(arg) if arg else ""
        if name.startswith("prf:") and title:
            title = f"{default} ({title})"
        inner = self.convert(content) if content else ""
        quoted = "\n".join(f"> {line}" if line else ">" for line in inner.split("\n")) if inner else ""
        return f"> **{title or default}**" + (f"\n>\n{quoted}" if quoted else "")

    def _glue_block(self, name: str, key: str, options: Mapping[str, str], content: str) -> str:
        bundle = self._glue_bundle(key.strip())
        bare = key.strip().split("::")[-1]
        if name == "glue:math" and bundle and "text/latex" in bundle:
            return f"$$\n{bundle['text/latex'].strip().strip('$').strip()}\n$$"
        if name == "glue:md" and bundle and "text/markdown" in bundle:
            return self.convert(bundle["text/markdown"])
        if bundle and set(bundle) <= {"text/plain"} and name in ("glue", "glue:any"):
            return _escape(_format_glue_text(bundle["text/plain"], ""))
        caption = f"{self.convert(content)} " if content else ""
        return (f"*{caption}(The chart or table glued as {_code(bare)} is an output of the code cell that "
                f"computes it: run the notebook to see it.)*")

    # -- inline

    def _inline_edits(self, tok: Token, lines: list[str], starts: list[int]) -> list[tuple[int, int, str]]:
        children = [c for c in tok.children or [] if c.type == "myst_role" and "span" in c.meta]
        if not children:
            return []
        content = tok.content
        # Each line of the inline content is the end part of one source line (container markers and
        # indentation stripped): map content offsets to offsets in the cell's source.
        offsets, first = [], tok.map[0]  # type: ignore[index]
        pos = 0
        for i, cline in enumerate(content.split("\n")):
            src_line = lines[first + i] if first + i < len(lines) else ""
            col = src_line.find(cline) if cline else 0
            offsets.append((pos, starts[first + i] + max(col, 0) if first + i < len(starts) else 0, col >= 0))
            pos += len(cline) + 1
        edits = []
        for role in children:
            start, end = role.meta["span"]
            a, b = self._source_offset(start, offsets), self._source_offset(end, offsets)
            if a is None or b is None:
                continue
            edits.append((a, b, self._role(role.meta["name"], role.content)))
        return edits

    @staticmethod
    def _source_offset(pos: int, offsets: list[tuple[int, int, bool]]) -> int | None:
        for line_start, src_start, found in reversed(offsets):
            if pos >= line_start:
                return src_start + pos - line_start if found else None
        return None

    def _role(self, name: str, text: str) -> str:
        if name in ("glue", "glue:any", "glue:text", "glue:md"):
            return self._glue_role(name, text)
        if name.startswith("cite"):
            return self._cite(name, text)
        if name in ("ref", "numref", "doc", "any", "eq", "prf:ref", "term", "download"):
            return self._reference(name, text)
        if name == "math":
            return f"${text}$"
        if name in ("sub", "subscript"):
            return f"<sub>{_escape(text)}</sub>"
        if name in ("sup", "superscript"):
            return f"<sup>{_escape(text)}</sup>"
        if name == "kbd":
            return f"<kbd>{_escape(text)}</kbd>"
        if name == "abbr":
            return _escape(re.sub(r"\s*\(.*\)\s*$", "", text))
        if name in ("code", "samp", "file", "command", "envvar", "program", "option") or PY_ROLES.match(name):
            shown = re.sub(r"^(.*?)\s*<(.+)>$", r"\1", text) or text
            return _code(shown.lstrip("~!."))
        return _escape(re.sub(r"\s*<[^>]*>$", "", text))

    def _glue_bundle(self, key: str) -> Mapping[str, Any] | None:
        doc, _, name = key.rpartition("::")
        doc = doc or self.docname
        if self.glue is None:
            return None
        bundle = (self.glue.get(doc) or {}).get(name)
        if bundle is None and self.warn is not None:
            self.warn(f"{self.docname}: no glue value {name!r} for the notebook (in {doc})")
        return bundle

    def _glue_role(self, name: str, text: str) -> str:
        key, fmt = text, ""
        if name in ("glue:text", "glue:md"):  # "[doc::]key[:format]", split as myst-nb splits it
            key, sep, fmt = text.rpartition(":")
            if not sep or not key or key.endswith(":"):
                key, fmt = text, ""
        bare = key.split("::")[-1]
        if self.glue is None:
            self.placeholders += 1
            return f"⟨{_escape(bare)}⟩"
        bundle = self._glue_bundle(key)
        if bundle is None:
            return f"⟨{_escape(bare)}⟩"
        if name == "glue:md" and "text/markdown" in bundle:
            return str(bundle["text/markdown"]).strip()
        if "text/plain" not in bundle:
            return f"(the output glued as {_code(bare)}: run the notebook to see it)"
        return _escape(_format_glue_text(bundle["text/plain"], fmt or "s"))

    def _cite(self, name: str, text: str) -> str:
        keys = [k.strip() for k in text.split(",") if k.strip()]
        self.cited += keys
        bib = self.bibliography
        if bib is None or any(k not in bib.data.entries for k in keys):
            missing = [k for k in keys if bib is None or k not in bib.data.entries]
            if bib is not None and self.warn is not None:
                self.warn(f"{self.docname}: citation key(s) not in the bibliography: {', '.join(missing)}")
            return "[" + "; ".join(_escape(k) for k in keys) + "]"
        style = name.removeprefix("cite").lstrip(":") or "p"
        if style in ("t", "ts"):
            return "; ".join(f"{_escape(bib.authors(k))} ({bib.year(k)})" for k in keys)
        if style in ("author", "authors", "authorpar"):
            return "; ".join(_escape(bib.authors(k)) for k in keys)
        if style in ("year", "yearpar"):
            years = ", ".join(bib.year(k) for k in keys)
            return f"({years})" if style == "yearpar" else years
        inner = "; ".join(f"{_escape(bib.authors(k))}, {bib.year(k)}" for k in keys)
        return inner if style in ("alp", "alps", "label") else f"({inner})"

    def _reference(self, name: str, text: str) -> str:
        match = re.match(r"^(.*?)\s*<(.+)>$", text, re.DOTALL)
        explicit, target = (match.group(1), match.group(2)) if match else ("", text)
        if name == "download":
            return f"[{_escape(explicit or target)}]({self._file_url(target)})"
        if name == "term":
            return _escape(explicit or target)
        if name == "eq":
            return f"({_escape(target)})"
        if name == "doc":
            doc = _resolve_doc(self.docname, target)
            title = explicit or self.index.titles.get(doc, doc)
            url = self._page_url(doc)
            return f"[{_escape(title)}]({url})" if url else _escape(title)
        label = target.lstrip("#")
        found = self.index.targets.get(label)
        if found is None:
            if self.warn is not None:
                self.warn(f"{self.docname}: {name} target {label!r} not found in the book's sources")
            return _escape(explicit or label)
        if name == "numref":
            shown = explicit or found.numref or found.text
        else:
            shown = explicit or (found.text if name in ("ref", "prf:ref", "any") else found.title)
        if name == "numref" and explicit and found.number is not None:
            shown = explicit.replace("{number}", str(found.number)).replace("%s", str(found.number))
        shown = shown.replace("{name}", found.title)
        if found.docname == self.docname:
            return _escape(shown)
        url = self._page_url(found.docname)
        return f"[{_escape(shown)}]({url}#{label})" if url else _escape(shown)

    # -- URLs

    def _page_url(self, docname: str) -> str:
        return f"{self.site_url.rstrip('/')}/{docname}.html" if self.site_url else ""

    def _file_url(self, path: str) -> str:
        if re.match(r"^[a-z][a-z0-9+.-]*:", path, re.IGNORECASE) or not self.raw_url:
            return path
        rel = path.lstrip("/") if path.startswith("/") else _resolve_doc(self.docname, path)
        return f"{self.raw_url.rstrip('/')}/{rel}"


def _resolve_doc(current: str, target: str) -> str:
    """A ``{doc}`` target (relative to ``current``'s folder, or absolute from the book root) as a docname."""
    if target.startswith("/"):
        return target.lstrip("/").removesuffix(".md")
    parts = [*current.split("/")[:-1], *target.split("/")]
    out: list[str] = []
    for part in parts:
        if part == "..":
            if out:
                out.pop()
        elif part not in ("", "."):
            out.append(part)
    return "/".join(out).removesuffix(".md")
