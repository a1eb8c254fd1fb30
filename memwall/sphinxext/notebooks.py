"""Sphinx extension: every chapter as a downloadable ``.ipynb``, with Colab and Binder launch links.

Chapters are jupytext MyST-markdown notebooks. This extension

1. converts every source page that is a notebook (its front matter names a ``kernelspec``) with
   jupytext into ``<outdir>/notebooks/<docname>.ipynb`` (no outputs: the reader runs it), with one
   setup cell prepended that installs ``memwall`` from the book's repository when it is missing
   (Colab, or a download opened outside the book's environment); elsewhere the cell does nothing.
   Its Markdown cells are rewritten as plain Markdown by :mod:`memwall.sphinxext.plain_markdown`, so
   that Jupyter, Colab and Binder show no MyST source: glued numbers are the values of this build
   (myst-nb's glue files in ``jupyter_execute``), citations author-year text with a ``References``
   cell at the end (from ``references.bib``), exercises and solutions headings, admonitions block
   quotes, cross-references text or links to the book's site (``html_baseurl`` when set, else the
   GitHub Pages address of ``repository: url:``);
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

Command line: ``python -m memwall.sphinxext.notebooks OUTDIR [--root ROOT] [--glue DIR]`` writes the
notebook of every chapter in ``_toc.yml`` to ``OUTDIR/<docname>.ipynb``. ``--glue`` names the
``jupyter_execute`` folder of a build whose glued numbers the text should show. Without it (Binder's
``postBuild``, which has no build) each glued number is written as a placeholder ``⟨name⟩`` and a note
cell after the setup cell says so: the code cells that compute the numbers are all in the notebook,
and no value of some other build can be shown as if this copy had computed it.
"""

from __future__ import annotations

import argparse
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sphinx.application import Sphinx
from sphinx.util import logging

from memwall.sphinxext import editions, plain_markdown

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


@dataclass
class Book:
    """What converting one chapter's Markdown needs from the whole book.

    Parameters
    ----------
    root : Path
        The book folder (``_toc.yml``, ``references.bib``, the sources).
    repository_url : str
        ``repository: url:``, cloned by the setup cell; also gives the site and raw-file URLs.
    branch : str
        The repository's source branch (images link to its raw files).
    glue : GlueData or None
        Glue values of the build (:func:`memwall.sphinxext.plain_markdown.load_glue`); ``None`` writes
        placeholders and a note cell.
    site_url : str
        Root URL of the published book; empty derives ``https://<owner>.github.io/<repo>/``.
    warn : callable or None
        Receives messages: MyST left in a notebook's Markdown and, unless ``quiet_unresolved``, the
        converter's (an unresolved glue value, label or citation).
    quiet_unresolved : bool
        Keep the converter's messages to itself: in a Sphinx build myst-nb, Sphinx and sphinxcontrib-bibtex
        already warn about the same missing glue value, label or citation on the page.
    edition : str
        ``"instructor"`` (solutions kept) or ``"student"``: every solution, its code cells included, removed
        as on the pages (:func:`memwall.sphinxext.editions.edition_source`).
    """

    root: Path
    repository_url: str = ""
    branch: str = "main"
    glue: plain_markdown.GlueData | None = None
    site_url: str = ""
    warn: Callable[[str], None] | None = None
    quiet_unresolved: bool = False
    edition: str = editions.EDITIONS[0]
    docnames: list[str] = field(init=False)
    index: plain_markdown.BookIndex = field(init=False)
    bibliography: plain_markdown.Bibliography | None = field(init=False)

    def __post_init__(self) -> None:
        self.docnames = _toc_docnames(self.root) if (self.root / "_toc.yml").is_file() else []
        self.index = plain_markdown.BookIndex.from_files(self.root, self.docnames)
        bib = self.root / "references.bib"
        self.bibliography = plain_markdown.Bibliography(bib) if bib.is_file() else None
        if not self.site_url:
            self.site_url = pages_url(self.repository_url)

    def converter(self, docname: str) -> plain_markdown.Converter:
        """A fresh converter for the Markdown cells of ``docname``."""
        return plain_markdown.Converter(docname, self.index, self.bibliography, self.glue, self.site_url,
                                        raw_url(self.repository_url, self.branch),
                                        None if self.quiet_unresolved else self.warn)


def pages_url(repository_url: str) -> str:
    """``https://<owner>.github.io/<repo>/``, where the Pages workflow publishes the book (empty if unknown)."""
    parts = urlparse(repository_url)
    path = [p for p in parts.path.split("/") if p]
    if parts.netloc != "github.com" or len(path) != 2:
        return ""
    return f"https://{path[0].lower()}.github.io/{path[1].removesuffix('.git')}/"


def raw_url(repository_url: str, branch: str) -> str:
    """``https://raw.githubusercontent.com/<owner>/<repo>/<branch>/``, the prefix of the repository's files."""
    parts = urlparse(repository_url)
    path = [p for p in parts.path.split("/") if p]
    if parts.netloc != "github.com" or len(path) != 2:
        return ""
    return f"https://raw.githubusercontent.com/{path[0]}/{path[1].removesuffix('.git')}/{branch}/"


def write_notebook(source: Path, target: Path, repository_url: str, *, book: Book | None = None,
                   docname: str | None = None) -> Path:
    """Convert the jupytext notebook ``source`` into ``target`` (``.ipynb``): setup cell first, plain Markdown.

    Parameters
    ----------
    source : Path
        A MyST-markdown notebook (``.md`` with a jupytext header).
    target : Path
        The ``.ipynb`` file to write; parent folders are created.
    repository_url : str
        The book's repository, cloned by the setup cell when ``memwall`` is not installed.
    book : Book or None
        Labels, bibliography and glue values of the book; ``None`` reads them from the folder holding
        ``_toc.yml`` above ``source`` (no glue values: placeholders).
    docname : str or None
        ``source``'s document name (``chapters/quantization``); ``None`` derives it from ``book.root``.

    Returns
    -------
    Path
        ``target``.
    """
    import jupytext
    import nbformat

    if book is None:
        root = next((p for p in source.resolve().parents if (p / "_toc.yml").is_file()), source.resolve().parent)
        book = Book(root, repository_url)
    if docname is None:
        resolved = source.resolve()
        inside = resolved.is_relative_to(book.root.resolve())
        docname = (resolved.relative_to(book.root.resolve()) if inside else Path(resolved.name)).with_suffix("")
        docname = docname.as_posix()
    text = editions.edition_source(source.read_text(encoding="utf-8"), book.edition, where=str(source))
    nb = jupytext.reads(text, fmt=source.suffix.lstrip("."))
    convert = book.converter(docname)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = convert.convert(cell.source)
            if not cell.source.strip():
                continue
            left = plain_markdown.leftover_myst(cell.source)
            if left and book.warn is not None:
                book.warn(f"{docname}: MyST left in the notebook's Markdown: {', '.join(sorted(set(left)))}")
        cells.append(cell)
        caption = _figure_caption(cell, convert)
        if caption:
            cells.append(nbformat.v4.new_markdown_cell(caption))
    setup = nbformat.v4.new_code_cell(SETUP_CELL.replace("{url}", repository_url))
    setup.metadata["tags"] = ["memwall-setup"]
    cells.insert(0, setup)
    if convert.placeholders:
        cells.insert(1, nbformat.v4.new_markdown_cell(plain_markdown.PLACEHOLDER_NOTE))
    references = convert.references()
    if references:
        cells.append(nbformat.v4.new_markdown_cell(references))
    nb.cells = cells
    nb.metadata.pop("jupytext", None)  # a plain notebook, not paired with a text file
    nb.nbformat, nb.nbformat_minor = 4, max(nb.get("nbformat_minor", 5), 5)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"  # stable ids: the same source gives the same file
    target.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(nb, target, fmt="ipynb")
    return target


def _figure_caption(cell: Any, convert: plain_markdown.Converter) -> str:
    """The numbered caption a code cell's ``mystnb: figure:`` metadata gives its output on the page ("**Figure 2.**
    Bytes per ..."), as plain Markdown for the cell after it; empty for a cell that is no captioned figure.

    The prose cites figures by number (``{numref}`` becomes "Figure 2"), so the notebook must say which output
    is Figure 2; the number is the page's, from the book's label index."""
    figure = (cell.metadata.get("mystnb") or {}).get("figure") if cell.cell_type == "code" else None
    if not isinstance(figure, dict) or not str(figure.get("caption") or "").strip():
        return ""
    target = convert.index.targets.get(str(figure.get("name") or ""))
    shown = target.numref if target is not None and target.numref else "Figure"
    return f"**{shown}.** {convert.convert(str(figure['caption']).strip())}"


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
        if getattr(app.config, "memwall_edition", "instructor") == "instructor":
            # Binder builds its notebooks from the repository's sources, which hold the solutions: the
            # student edition links only to notebooks of its own (Download, and Colab from the site's branch)
            items.append(f'<a class="memwall-launch-bh" href="{html.escape(links["binder"])}">Launch Binder</a>')
    what = "chapter" if pagename.startswith("chapters/") else "page"  # the intro is a page, not a chapter
    return (f'<div class="memwall-notebook-links" role="navigation" aria-label="Run this {what}">'
            f"Run this {what}: " + " · ".join(items) + "</div>\n")


def _book(app: Sphinx) -> Book:
    """The book's labels, bibliography and this build's glue values (read once per process)."""
    book = getattr(app, "_memwall_notebooks_book", None)
    if book is None:
        url, branch = _repository(app)
        config = getattr(app.env, "mystnb_config", None)
        folder = Path(config.output_folder) if config is not None else Path(app.outdir).parent / "jupyter_execute"

        def warn(message: str) -> None:
            logger.warning(message, type="memwall", subtype="notebooks")

        book = Book(Path(app.srcdir), url, branch, site_url=getattr(app.config, "html_baseurl", "") or "", warn=warn,
                    quiet_unresolved=True, edition=editions.config_edition(app))
        book.glue = plain_markdown.load_glue(folder, book.docnames)
        app._memwall_notebooks_book = book  # type: ignore[attr-defined]
    return book


def _on_page(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    if app.builder.format != "html" or doctree is None or context.get("body") is None:
        return
    source = _source(app, pagename)
    if source is None:
        return
    url, _ = _repository(app)
    write_notebook(source, Path(app.outdir) / NOTEBOOK_DIR / f"{pagename}.ipynb", url or "<repository url>",
                   book=_book(app), docname=pagename)
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
        remove_stale_notebooks(Path(app.outdir) / NOTEBOOK_DIR, set(app.env.found_docs))


def remove_stale_notebooks(folder: Path, docnames: set[str]) -> list[Path]:
    """Delete the notebooks of ``folder`` whose page is no longer in the book (a chapter removed from
    ``_toc.yml``), so that an incremental build publishes no notebook of a page it no longer has.

    Parameters
    ----------
    folder : pathlib.Path
        The site's notebook folder (``_build/html/notebooks``).
    docnames : set of str
        The docnames the build has (``app.env.found_docs``).

    Returns
    -------
    list of pathlib.Path
        The notebooks deleted.
    """
    stale = [nb for nb in folder.rglob("*.ipynb") if nb.relative_to(folder).with_suffix("").as_posix() not in docnames]
    for nb in stale:
        nb.unlink()
    return stale


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


def _book_config(root: Path) -> dict[str, Any]:
    import yaml

    return yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}


def repository_url(root: Path) -> str:
    """``repository: url:`` of the book's ``_config.yml`` (empty when absent)."""
    return str((_book_config(root).get("repository") or {}).get("url") or "")


def repository_branch(root: Path) -> str:
    """``repository: branch:`` of the book's ``_config.yml`` (``main`` when absent)."""
    return str((_book_config(root).get("repository") or {}).get("branch") or "main")


def site_baseurl(root: Path) -> str:
    """``html: baseurl:`` of the book's ``_config.yml`` (empty when absent: the Pages address is derived)."""
    return str((_book_config(root).get("html") or {}).get("baseurl") or "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the .ipynb of every notebook chapter in _toc.yml.")
    parser.add_argument("outdir", type=Path, help="folder that receives <docname>.ipynb")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2], help="book folder")
    parser.add_argument("--glue", type=Path, default=None, metavar="DIR",
                        help="jupyter_execute folder of a build: its glued numbers go into the text "
                             "(default: placeholders ⟨name⟩ and a note)")
    parser.add_argument("--edition", choices=editions.EDITIONS, default=editions.EDITIONS[0],
                        help="student: without the solutions (default: instructor, the book as written)")
    args = parser.parse_args(argv)
    url = repository_url(args.root)
    book = Book(args.root, url, repository_branch(args.root), site_url=site_baseurl(args.root),
                warn=lambda message: print(f"warning: {message}"), edition=args.edition)
    if args.glue is not None:
        book.glue = plain_markdown.load_glue(args.glue, book.docnames)
    for doc in book.docnames:
        source = args.root / f"{doc}.md"
        if is_notebook_source(source):
            print(write_notebook(source, args.outdir / f"{doc}.ipynb", url, book=book, docname=doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
