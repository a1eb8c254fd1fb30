"""MyST syntax for the plain-Markdown converter: the parser, directive bodies, literal Markdown.

The layer :mod:`memwall.sphinxext.plain_markdown` and :mod:`memwall.sphinxext.book_data` parse and write
with: :func:`parser` (markdown-it-py with the mdit-py-plugins that myst-parser uses, plus each role's
character span in ``token.meta["span"]``), the name and argument of a directive's info string,
:func:`split_directive_body` (``---`` YAML or ``:key: value`` options, then content, as MyST documents
them), and the helpers that write text back as Markdown: escaped literal text, inline code, titles with
roles reduced to their text.
"""

from __future__ import annotations

import re

import yaml
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.colon_fence import colon_fence_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.myst_blocks import myst_block_plugin
from mdit_py_plugins.myst_role import myst_role_plugin
from mdit_py_plugins.myst_role.index import myst_role as _plugin_role_rule

__all__ = ["parser", "split_directive_body"]


def _recording_role_rule(state: StateInline, silent: bool) -> bool:
    """The plugin's role rule, plus the role's character span in the inline source (``token.meta["span"]``)."""
    start = state.pos
    matched = _plugin_role_rule(state, silent)
    if matched and not silent:
        state.tokens[-1].meta["span"] = (start, state.pos)
    return matched


def parser() -> MarkdownIt:
    """A markdown-it parser with the MyST syntax extensions the book enables (and roles' spans recorded)."""
    md = (MarkdownIt("commonmark", {"html": True}).enable("table")
          .use(myst_block_plugin).use(myst_role_plugin).use(colon_fence_plugin).use(dollarmath_plugin)
          .use(amsmath_plugin).use(deflist_plugin).use(footnote_plugin))
    md.inline.ruler.at("myst_role", _recording_role_rule)
    return md


def _directive_name(info: str) -> str:
    match = re.match(r"^\s*\{([^}\s]+)\}", info)
    return match.group(1) if match else ""


def _directive_arg(info: str) -> str:
    return re.sub(r"^\s*\{[^}\s]+\}", "", info, count=1).strip()


def split_directive_body(content: str) -> tuple[dict[str, str], str]:
    """Options and content of a MyST directive's body.

    Options are either a leading ``---`` YAML block or leading ``:key: value`` lines (a flag ``:key:`` gets
    ``""``), as MyST documents them; the content follows (its leading blank lines removed).

    Parameters
    ----------
    content : str
        The text between the directive's fences (its first line, the argument, excluded).

    Returns
    -------
    (dict of str to str, str)
        Options (values as strings) and the content.
    """
    lines = content.split("\n")
    options: dict[str, str] = {}
    i = 0
    if lines and lines[0].strip() == "---":
        end = next((j for j in range(1, len(lines)) if lines[j].strip() == "---"), None)
        if end is not None:
            loaded = yaml.safe_load("\n".join(lines[1:end])) or {}
            options = {str(k): "" if v is None else str(v) for k, v in dict(loaded).items()}
            i = end + 1
    else:
        while i < len(lines):
            match = re.match(r"^\s*:([\w.-]+):(?:\s+(.*?))?\s*$", lines[i])
            if not match:
                break
            options[match.group(1)] = match.group(2) or ""
            i += 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    return options, "\n".join(lines[i:]).rstrip("\n")


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>$|#])")


def _escape(text: str) -> str:
    """``text`` as literal Markdown (the characters that could start markup backslash-escaped)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def _code(text: str) -> str:
    """Inline code holding ``text`` (a fence longer than any run of backticks in it)."""
    run = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (run + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _plain_inline(text: str) -> str:
    """A title for prose: roles reduced to their text, ``$`` math kept."""
    return re.sub(r"\{[\w:+-]+\}`([^`]*)`", lambda m: re.sub(r"\s*<[^>]*>$", "", m.group(1)), text).strip()
