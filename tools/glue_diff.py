"""Extract every myst-nb glue value from a built book and compare two builds.

A built book keeps its executed notebooks under ``<book>/_build/jupyter_execute/``. myst-nb (1.x) takes
each ``glue(name, value)`` output out of the notebook and writes it to ``<doc>.glue.json`` beside it
(``{name: output}``); an output left in an ``.ipynb`` is recognised by its ``scrapbook: {name,
mime_prefix}`` metadata, the prefix (``application/papermill.record/``) being removed from its data keys.
Both sources are read. A value made only of text MIME types is recorded as its ``text/plain``; any
other bundle (Altair chart, HTML, image) as ``sha256:<hex>`` of its sorted JSON, after volatile parts
(random HTML element ids) are normalised. Keys are ``<doc>::<name>``, doc being the notebook's path
under ``jupyter_execute`` without suffix (``chapters/quantization``).

Usage::

    python tools/glue_diff.py dump _build -o glue.json      # {"<doc>::<name>": value}, sorted
    python tools/glue_diff.py diff A B [--text-only]        # A, B: build dirs or dump JSON files

``diff`` prints ``changed <key>: <old> -> <new>``, ``only in A <key>``, ``only in B <key>`` and a summary
``N glue values compared, M differ``; it exits 1 when anything differs, else 0. ``--text-only`` skips
hashed (non-text) values. BUILD_DIR may be the book folder, its ``_build`` or ``_build/jupyter_execute``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TEXT_MIMES = frozenset({"text/plain", "text/markdown", "text/latex"})
HASH_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
VOLATILE = (  # (pattern, replacement) applied to the JSON text of non-text bundles before hashing
    (re.compile(r"altair-viz-[0-9a-f]{32}"), "altair-viz-ID"),  # Altair's HTML renderer: uuid4 per display
    (re.compile(r"\bT_[0-9a-f]{5}(?=[\s_\\\"'#.{])"), "T_ID"),  # pandas Styler's random table uuid
)


def notebook_dir(path: Path) -> Path:
    """The ``jupyter_execute`` folder of a book, its ``_build`` or that folder itself."""
    for candidate in (path / "_build" / "jupyter_execute", path / "jupyter_execute", path):
        if candidate.is_dir() and (any(candidate.rglob("*.ipynb")) or any(candidate.rglob("*.glue.json"))):
            return candidate
    raise SystemExit(f"glue_diff: no executed notebooks under {path}")


def glue_value(data: dict[str, Any], prefix: str) -> str:
    """The comparable string of one glue output's MIME bundle (prefix removed from its keys)."""
    bundle = {k.removeprefix(prefix).removeprefix("application/papermill.record/"): v for k, v in data.items()}
    bundle = {k: "".join(v) if isinstance(v, list) else v for k, v in bundle.items()}  # nbformat's line lists
    if set(bundle) <= TEXT_MIMES:
        return str(bundle.get("text/plain", next(iter(bundle.values()), "")))
    blob = json.dumps(bundle, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for pattern, repl in VOLATILE:
        blob = pattern.sub(repl, blob)
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


def _is_glue(out: Any) -> bool:
    scrap = out.get("metadata", {}).get("scrapbook") if isinstance(out, dict) else None
    return isinstance(scrap, dict) and "name" in scrap and "data" in out


def iter_glue(path: Path) -> Iterator[tuple[str, str]]:
    """(name, value) of every glue output of a ``.glue.json`` file or an ``.ipynb``, in file order."""
    content = json.loads(path.read_text(encoding="utf-8"))
    if path.name.endswith(".glue.json"):
        outputs = list(content.values())
    else:
        outputs = [out for cell in content.get("cells", []) for out in cell.get("outputs", [])]
    for out in filter(_is_glue, outputs):
        scrap = out["metadata"]["scrapbook"]
        yield scrap["name"], glue_value(out["data"], scrap.get("mime_prefix") or "")


def extract(build: Path) -> dict[str, str]:
    """``{"<doc>::<name>": value}`` over every executed notebook of a build, sorted by key."""
    root = notebook_dir(build)
    values: dict[str, str] = {}
    for path in sorted([*root.rglob("*.glue.json"), *root.rglob("*.ipynb")]):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in rel.split("/")):
            continue  # .ipynb_checkpoints and the like
        doc = rel.removesuffix(".glue.json").removesuffix(".ipynb")
        for name, value in iter_glue(path):
            key = f"{doc}::{name}"
            if key in values and values[key] != value:
                print(f"glue_diff: warning: {key} found twice, keeping {path.name}'s value", file=sys.stderr)
            values[key] = value
    return dict(sorted(values.items()))


def load(source: Path) -> dict[str, str]:
    """Glue values of a build folder or of a JSON file written by ``dump``."""
    if source.is_file():
        return dict(sorted(json.loads(source.read_text(encoding="utf-8")).items()))
    return extract(source)


def compared_keys(a: dict[str, str], b: dict[str, str], *, text_only: bool = False) -> list[str]:
    """Sorted keys of either map; with ``text_only``, without those hashed (non-text) on either side."""
    keys = sorted(a.keys() | b.keys())
    if text_only:
        keys = [k for k in keys if not any(HASH_RE.match(d[k]) for d in (a, b) if k in d)]
    return keys


def diff(a: dict[str, str], b: dict[str, str], *, text_only: bool = False) -> list[str]:
    """Difference lines between two glue maps, keys in sorted order."""
    lines: list[str] = []
    for key in compared_keys(a, b, text_only=text_only):
        if key not in b:
            lines.append(f"only in A {key}")
        elif key not in a:
            lines.append(f"only in B {key}")
        elif a[key] != b[key]:
            old, new = (v.replace("\n", "\\n") for v in (a[key], b[key]))  # one line per difference
            lines.append(f"changed {key}: {old} -> {new}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_dump = sub.add_parser("dump", help="write the glue values of a build as JSON")
    p_dump.add_argument("build", type=Path, metavar="BUILD_DIR")
    p_dump.add_argument("-o", "--output", type=Path, help="JSON file to write (default: stdout)")
    p_diff = sub.add_parser("diff", help="compare the glue values of two builds or dumps")
    p_diff.add_argument("a", type=Path, metavar="A")
    p_diff.add_argument("b", type=Path, metavar="B")
    p_diff.add_argument("--text-only", action="store_true", help="ignore non-text (hashed) values")
    args = parser.parse_args(argv)

    if args.command == "dump":
        text = json.dumps(extract(args.build), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        if args.output is None:
            sys.stdout.write(text)
        else:
            args.output.write_text(text, encoding="utf-8")
        return 0
    a, b = load(args.a), load(args.b)
    lines = diff(a, b, text_only=args.text_only)
    for line in lines:
        print(line)
    print(f"{len(compared_keys(a, b, text_only=args.text_only))} glue values compared, {len(lines)} differ")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
