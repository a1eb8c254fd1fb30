"""Links of the built site: every internal link and anchor resolves, and every notebook link
(download, Colab, Binder) points at a notebook this build produced.

External links are not fetched (no network at test time). The Colab and Binder links are mapped
back to files: Colab opens ``<docname>.ipynb`` on the repository's ``notebooks`` branch, which the
Pages workflow fills with ``_build/html/notebooks``; Binder opens ``<docname>.ipynb`` on the source
branch, written there by ``binder/postBuild`` with the same converter from ``<docname>.md``.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup

from memwall.sphinxext import notebooks

from .conftest import ROOT
from .test_notebooks import NOTEBOOKS

EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)  # http:, mailto:, data:, javascript:, //host


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if not {"_static", "_sources"} & set(p.relative_to(site).parts))


@functools.cache
def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8", errors="replace"), "html.parser")


@functools.cache
def _ids(path: Path) -> frozenset[str]:
    soup = _soup(path)
    names = [t["name"] for t in soup.find_all("a", attrs={"name": True})]
    return frozenset([t["id"] for t in soup.find_all(id=True)] + names)


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def test_internal_links_and_anchors_resolve(site: Path):
    problems: list[str] = []
    checked = 0
    for page in _pages(site):
        rel = page.relative_to(site).as_posix()
        for tag in _soup(page).find_all(href=True) + _soup(page).find_all(src=True):
            for attr in ("href", "src"):
                ref = tag.get(attr)
                if not ref or EXTERNAL.match(ref):
                    continue
                url = urlparse(ref)
                target = page if not url.path else (page.parent / unquote(url.path)).resolve()
                if url.path.endswith("/") or target.is_dir():
                    target = target / "index.html"
                checked += 1
                if not target.is_file():
                    problems.append(f"{rel}: <{tag.name} {attr}={ref!r}> -> missing file")
                elif url.fragment and target.suffix == ".html" and unquote(url.fragment) not in _ids(target):
                    problems.append(f"{rel}: <{tag.name} {attr}={ref!r}> -> no id {url.fragment!r} in "
                                    f"{target.relative_to(site).as_posix()}")
    assert checked > 100, f"only {checked} internal links found: is the site built?"
    assert not problems, f"{len(problems)} broken internal links:\n" + "\n".join(problems[:50])


def _chapter_pages(site: Path) -> dict[str, Path]:
    """docname -> built page, for every notebook chapter of the table of contents."""
    return {p.relative_to(ROOT).with_suffix("").as_posix(): site / p.relative_to(ROOT).with_suffix(".html")
            for p in NOTEBOOKS}


def test_every_notebook_chapter_offers_download_colab_and_binder(site: Path):
    config = _config()
    repo_url, branch = config["repository"]["url"], config["repository"].get("branch", "main")
    owner, repo = urlparse(repo_url).path.strip("/").split("/")
    missing: list[str] = []
    for docname, page in _chapter_pages(site).items():
        soup = _soup(page)
        bar = soup.select_one(".memwall-notebook-links")
        if bar is None:
            missing.append(f"{docname}: no notebook links")
            continue
        download = bar.select_one("a.memwall-download")["href"]
        local = (page.parent / download).resolve()
        assert local == (site / notebooks.NOTEBOOK_DIR / f"{docname}.ipynb").resolve(), download
        nb = nbformat.read(local, as_version=4)
        nbformat.validate(nb)
        source_code = "".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "memwall" in source_code and repo_url in nb.cells[0].source

        colab = urlparse(bar.select_one("a.memwall-colab")["href"])
        assert colab.netloc == "colab.research.google.com"
        prefix = f"/github/{owner}/{repo}/blob/{notebooks.NOTEBOOKS_BRANCH}/"
        assert colab.path.startswith(prefix), colab.path
        # The Pages workflow publishes _build/html/notebooks as the root of the notebooks branch.
        assert (site / notebooks.NOTEBOOK_DIR / colab.path.removeprefix(prefix)).is_file(), colab.path

        binder = urlparse(bar.select_one("a.memwall-launch-bh")["href"])
        assert binder.netloc == "mybinder.org" and binder.path == f"/v2/gh/{owner}/{repo}/{branch}"
        opened = parse_qs(binder.query)["urlpath"][0].removeprefix("lab/tree/")
        # binder/postBuild writes <docname>.ipynb from <docname>.md with the converter that made this file.
        assert opened == f"{docname}.ipynb" and (ROOT / opened).with_suffix(".md").is_file(), opened
        assert (site / notebooks.NOTEBOOK_DIR / opened).is_file(), opened
    assert not missing, missing


def test_launch_environment_and_workflow_publish_what_the_links_expect():
    postbuild = (ROOT / "binder" / "postBuild").read_text(encoding="utf-8")
    assert "pip install --no-deps -e ." in postbuild and "python -m memwall.sphinxext.notebooks ." in postbuild
    assert "-r ../requirements.txt" in (ROOT / "binder" / "requirements.txt").read_text(encoding="utf-8")
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8"))
    steps = [s for job in workflow["jobs"].values() for s in job.get("steps", [])]
    text = "\n".join(str(s.get("run", "")) + str(s.get("with", "")) for s in steps)
    # the site of the chosen edition (_build/html by default) and its notebooks are what gets published
    assert "SITE=_build/html" in text and f'"$SITE/{notebooks.NOTEBOOK_DIR}"' in text
    assert notebooks.NOTEBOOKS_BRANCH in text and "${{ env.SITE }}" in text
    assert 'tools/build_book.py --clean --edition "$BOOK_EDITION"' in text
    assert "vars.BOOK_EDITION || 'instructor'" in str(workflow["jobs"]["build"]["env"])


def test_cli_writes_the_notebooks_binder_opens(tmp_path: Path):
    assert notebooks.main([str(tmp_path)]) == 0
    written = {p.relative_to(tmp_path).with_suffix(".md").as_posix() for p in tmp_path.rglob("*.ipynb")}
    assert written == {p.relative_to(ROOT).as_posix() for p in NOTEBOOKS}


@pytest.mark.parametrize("url", ["https://gitlab.com/a/b", "https://github.com/only-owner", "memwall"])
def test_launch_links_reject_non_github_urls(url: str):
    with pytest.raises(ValueError, match="repository url"):
        notebooks.launch_links(url, "main", "chapters/x")
