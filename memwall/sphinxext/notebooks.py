"""Sphinx extension: every chapter as a downloadable ``.ipynb``, with Colab and Binder launch links.

Chapters are jupytext MyST-markdown notebooks. This extension

1. converts every source page that is a notebook (its front matter names a ``kernelspec``) with
   jupytext into ``<outdir>/notebooks/<docname>.ipynb`` (no outputs: the reader runs it), with one
   setup cell prepended that installs ``memwall`` from the book's repository when it is missing
   (Colab, or a download opened outside the book's environment); elsewhere the cell does nothing;
2. puts a small bar of plain links at the top of each such page: *Download .ipynb* (the file in
   the site), *Open in Colab* and *Launch Binder*. They are links only, so a page makes no extra
   request when it loads (the site stays offline-clean).

Where the launch links point (one configurable value, ``repository: url:`` in ``_config.yml``,
which Jupyter Book passes on as ``html_theme_options["repository_url"]``):

* Colab opens ``https://colab.research.google.com/github/<owner>/<repo>/blob/notebooks/<docname>.ipynb``:
  the Pages workflow (``.github/workflows/pages.yml``) pushes the folder ``_build/html/notebooks``
  to the branch ``notebooks`` of the repository, so that path is this build's file.
* Binder opens ``https://mybinder.org/v2/gh/<owner>/<repo>/<branch>?urlpath=lab/tree/<docname>.ipynb``
  on the repository's source branch; ``binder/postBuild`` installs ``memwall`` and runs
  ``python -m memwall.sphinxext.notebooks .``, which writes the same notebooks next to their sources.

Command line: ``python -m memwall.sphinxext.notebooks OUTDIR [--root ROOT]`` writes the notebook of
every chapter in ``_toc.yml`` to ``OUTDIR/<docname>.ipynb``.
"""

from __future__ import annotations

import argparse
import html
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

NOTEBOOK_DIR = "notebooks"
"""Folder of the built site (and name of the published branch) that holds the generated notebooks."""
NOTEBOOKS_BRANCH = "notebooks"
COLAB = "https://colab.research.google.com/github/{owner}/{repo}/blob/{branch}/{path}"
BINDER = "https://mybinder.org/v2/gh/{owner}/{repo}/{branch}?urlpath=lab/tree/{path}"

SETUP_CELL = '''\
# Setup for Colab or a downloaded copy: install memwall (with its data) from the book's repository when it
# is missing. In the book's own environment (or on Binder) this cell does nothing.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("memwall") is None:
    subprocess.run(["git", "clone", "--depth", "1", "{url}", "memwall-book"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", "memwall-book", "myst-nb"], check=True)
    sys.path.insert(0, "memwall-book")
'''


def is_notebook_source(path: Path) -> bool:
    """True when ``path`` is a jupytext MyST notebook (its front matter names a kernelspec)."""
    if path.suffix != ".md" or not path.is_file():
        return False
    head = path.read_text(encoding="utf-8")[:1000]
    return head.startswith("---") and "kernelspec:" in head.split("\n---", 1)[0]


def write_notebook(source: Path, target: Path, repository_url: str) -> Path:
    """Convert the jupytext notebook ``source`` into ``target`` (``.ipynb``), setup cell first.

    Parameters
    ----------
    source : Path
        A MyST-markdown notebook (``.md`` with a jupytext header).
    target : Path
        The ``.ipynb`` file to write; parent folders are created.
    repository_url : str
        The book's repository, cloned by the setup cell when ``memwall`` is not installed.

    Returns
    -------
    Path
        ``target``.
    """
    import jupytext
    import nbformat

    nb = jupytext.read(source)
    setup = nbformat.v4.new_code_cell(SETUP_CELL.replace("{url}", repository_url))
    setup.metadata["tags"] = ["memwall-setup"]
    nb.cells.insert(0, setup)
    nb.metadata.pop("jupytext", None)  # a plain notebook, not paired with a text file
    nb.nbformat, nb.nbformat_minor = 4, max(nb.get("nbformat_minor", 5), 5)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"  # stable ids: the same source gives the same file
    target.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(nb, target, fmt="ipynb")
    return target


def launch_links(repository_url: str, branch: str, docname: str) -> dict[str, str]:
    """The Colab and Binder URLs of the notebook of ``docname`` (e.g. ``chapters/quantization``).

    Raises
    ------
    ValueError
        When ``repository_url`` is not ``https://github.com/<owner>/<repo>``.
    """
    parts = urlparse(repository_url)
    path = [p for p in parts.path.split("/") if p]
    if parts.netloc != "github.com" or len(path) != 2:
        raise ValueError(f"repository url must be https://github.com/<owner>/<repo>, got {repository_url!r}")
    owner, repo = path[0], path[1].removesuffix(".git")
    nb = f"{docname}.ipynb"
    return {
        "colab": COLAB.format(owner=owner, repo=repo, branch=NOTEBOOKS_BRANCH, path=nb),
        "binder": BINDER.format(owner=owner, repo=repo, branch=branch, path=nb),
    }


def _repository(app: Sphinx) -> tuple[str, str]:
    options = getattr(app.config, "html_theme_options", {}) or {}
    return options.get("repository_url") or "", options.get("repository_branch") or "main"


def _source(app: Sphinx, docname: str) -> Path | None:
    path = Path(app.env.doc2path(docname))
    return path if is_notebook_source(path) else None


def _bar(app: Sphinx, pagename: str, pathto: Any) -> str:
    url, branch = _repository(app)
    download = pathto(f"{NOTEBOOK_DIR}/{pagename}.ipynb", 1)
    name = Path(pagename).name
    items = [f'<a class="memwall-download" href="{html.escape(download)}" download="{name}.ipynb">Download .ipynb</a>']
    if url:
        links = launch_links(url, branch, pagename)
        items.append(f'<a class="memwall-colab" href="{html.escape(links["colab"])}">Open in Colab</a>')
        items.append(f'<a class="memwall-launch-bh" href="{html.escape(links["binder"])}">Launch Binder</a>')
    return ('<div class="memwall-notebook-links" role="navigation" aria-label="Run this chapter">'
            "Run this chapter: " + " · ".join(items) + "</div>\n")


def _on_page(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    if app.builder.format != "html" or doctree is None or context.get("body") is None:
        return
    source = _source(app, pagename)
    if source is None:
        return
    url, _ = _repository(app)
    write_notebook(source, Path(app.outdir) / NOTEBOOK_DIR / f"{pagename}.ipynb", url or "<repository url>")
    context["body"] = _bar(app, pagename, context["pathto"]) + context["body"]


def _check_config(app: Sphinx, config: Any) -> None:
    url, _ = _repository(app)
    if url:
        try:
            launch_links(url, "main", "x")
        except ValueError as err:
            logger.warning("%s (set repository: url: in _config.yml)", err, type="memwall", subtype="notebooks")


_CSS = """.memwall-notebook-links { font-size: 0.85em; margin: 0 0 1em 0; padding: 0.3em 0.6em;
  border-left: 3px solid var(--pst-color-primary, #0a7d91); background: var(--pst-color-surface, #f5f5f5); }
.memwall-notebook-links a { margin: 0 0.2em; }
"""


def _write_css(app: Sphinx, exc: Exception | None) -> None:
    if exc is None and app.builder.format == "html":
        (Path(app.outdir) / "_static" / "memwall-notebooks.css").write_text(_CSS, encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the extension with Sphinx."""
    app.connect("config-inited", _check_config)
    app.connect("html-page-context", _on_page)
    app.connect("build-finished", _write_css)
    app.add_css_file("memwall-notebooks.css")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}


def _toc_docnames(root: Path) -> list[str]:
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    names, stack = [toc["root"]], [*toc.get("parts", []), *toc.get("chapters", [])]
    while stack:
        entry = stack.pop(0)
        if "file" in entry:
            names.append(re.sub(r"\.md$", "", entry["file"]))
        stack.extend(entry.get("chapters", []) + entry.get("sections", []))
    return names


def repository_url(root: Path) -> str:
    """``repository: url:`` of the book's ``_config.yml`` (empty when absent)."""
    import yaml

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    return str((config.get("repository") or {}).get("url") or "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the .ipynb of every notebook chapter in _toc.yml.")
    parser.add_argument("outdir", type=Path, help="folder that receives <docname>.ipynb")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2], help="book folder")
    args = parser.parse_args(argv)
    url = repository_url(args.root)
    for doc in _toc_docnames(args.root):
        source = args.root / f"{doc}.md"
        if is_notebook_source(source):
            print(write_notebook(source, args.outdir / f"{doc}.ipynb", url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
