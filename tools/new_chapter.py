"""Create a chapter from ``chapters/_template.md`` and add it to ``_toc.yml`` (``make chapter NAME=...``).

The new file is the template with its docname, exercise labels and title set for the chapter; the
table of contents gets ``- file: chapters/<name>`` at the end of the part ``--part`` (created before
the "Reference" part when no part has that caption). Nothing is overwritten: an existing chapter, a
name already in ``_toc.yml`` or a name that is not a valid docname is an error (exit status 2).

Usage::

    python tools/new_chapter.py lab_roofline [--part "Labs"] [--title "Lab: the roofline"]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = "chapters/_template.md"
NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
"""A chapter's short name: lower case letters, digits and underscores, starting with a letter."""
DEFAULT_PART = "Labs"
REFERENCE_PART = "Reference"
RESERVED = frozenset({"index", "genindex", "search", "modindex", "py-modindex"})
"""Page names Sphinx uses itself; the book's root page (``_toc.yml``'s ``root``) is refused too."""


def _label_stem(name: str) -> str:
    """The label stem of a chapter: ``lab_roofline`` -> ``lab-roofline`` (``ex-<stem>-...``, ``fig-<stem>-...``)."""
    return name.replace("_", "-")


def chapter_text(template: str, name: str, title: str | None = None) -> str:
    """The template with the chapter's docname, exercise and figure labels and (optionally) title.

    Parameters
    ----------
    template : str
        Text of ``chapters/_template.md``.
    name : str
        Short name of the chapter (``chapters/<name>.md``).
    title : str, optional
        Its first heading; the template's placeholder heading is kept when not given.

    Returns
    -------
    str
        The new chapter's text.
    """
    text = template.replace("chapters/_template", f"chapters/{name}")
    text = text.replace("ex-template-", f"ex-{_label_stem(name)}-")
    text = text.replace("fig-template-", f"fig-{_label_stem(name)}-")  # figure labels are unique across the book
    # the template's instructions to its copier (HTML comments) do not belong in the chapter, or in its search index
    text = re.sub(r"<!--.*?-->\n(\s*\n)?", "", text, flags=re.S)
    if title:
        text = re.sub(r"^# .*$", lambda _: f"# {title}", text, count=1, flags=re.M)
    return text


def _caption(line: str) -> str:
    """The caption of a ``- caption: ...`` line of ``_toc.yml``, unquoted as YAML reads it."""
    return str(yaml.safe_load(line.split(":", 1)[1]) or "")


def _yaml_text(text: str) -> str:
    """``text`` as a YAML scalar: plain when YAML reads it back unchanged, else double-quoted (``Labs: week 1``)."""
    try:
        if yaml.safe_load(text) == text:
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text, ensure_ascii=False)


def toc_with_chapter(toc: str, name: str, part: str = DEFAULT_PART) -> str:
    """``_toc.yml`` text with ``chapters/<name>`` added at the end of the part captioned ``part``.

    A part with that caption that does not exist yet is inserted before the "Reference" part (or at
    the end). The rest of the file, comments included, is kept as it is.

    Raises
    ------
    ValueError
        When the chapter is already in the table of contents.
    """
    entry = f"chapters/{name}"
    if re.search(rf"^\s*-?\s*file:\s*{re.escape(entry)}\s*$", toc, flags=re.M):
        raise ValueError(f"_toc.yml already lists {entry}")
    lines = toc.splitlines()
    captions = [i for i, line in enumerate(lines) if re.match(r"^\s*- caption:", line)]
    match = [i for i in captions if _caption(lines[i]) == part]
    if match:
        start = match[0]
        end = next((i for i in captions if i > start), len(lines))
        last = max(i for i in range(start, end) if re.match(r"^\s*- file:", lines[i]))
        indent = re.match(r"^(\s*)", lines[last]).group(1)
        lines.insert(last + 1, f"{indent}- file: {entry}")
    else:
        block = [f"  - caption: {_yaml_text(part)}", "    chapters:", f"      - file: {entry}"]
        ref = [i for i in captions if _caption(lines[i]) == REFERENCE_PART]
        at = ref[0] if ref else len(lines)
        lines[at:at] = block
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Create the chapter; returns the exit status (0, or 2 on a bad name or an existing chapter)."""
    parser = argparse.ArgumentParser(prog="make chapter", description=__doc__.splitlines()[0])
    parser.add_argument("name", help="short name: lower case letters, digits, underscores (chapters/<name>.md)")
    parser.add_argument("--part", default=DEFAULT_PART,
                        help=f"caption of the part in _toc.yml (default: {DEFAULT_PART})")
    parser.add_argument("--title", default=None, help="the chapter's first heading")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not NAME.match(args.name):
        parser.error(f"NAME={args.name!r} is not a valid chapter name: use lower case letters, digits and "
                     "underscores, starting with a letter (e.g. lab_roofline)")
    root_page = str(yaml.safe_load((args.root / "_toc.yml").read_text(encoding="utf-8")).get("root", "intro"))
    if args.name in RESERVED or args.name == Path(root_page).name:
        parser.error(f"NAME={args.name!r} is taken by the book's root page or by Sphinx; choose another name")
    if args.title is not None and not args.title.strip():
        parser.error("TITLE is empty; give the chapter's first heading or leave TITLE out")
    target = args.root / "chapters" / f"{args.name}.md"
    if target.exists():
        parser.error(f"{target.relative_to(args.root)} exists already; choose another NAME")
    toc_path = args.root / "_toc.yml"
    try:
        toc = toc_with_chapter(toc_path.read_text(encoding="utf-8"), args.name, args.part)
    except ValueError as err:
        parser.error(str(err))
    template = (args.root / TEMPLATE).read_text(encoding="utf-8")
    target.write_text(chapter_text(template, args.name, args.title), encoding="utf-8")
    toc_path.write_text(toc, encoding="utf-8")
    print(f"created chapters/{args.name}.md and added it to _toc.yml (part {args.part!r})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
