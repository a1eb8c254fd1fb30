"""The build gate: a failing cell, a broken cross-reference, an unknown MIME type or a bad data row
fails the book build, and the log names each one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DATA, ROOT

HEADER = """---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
"""

PAGES = {
    "intro": "# Gate test\n\nA page with a {ref}`label-that-does-not-exist`.\n",
    "failing_cell": HEADER + "# Failing cell\n\n```{code-cell} ipython3\nraise RuntimeError('gate-test-boom')\n```\n",
    "unknown_mime": HEADER + "# Unknown MIME\n\n```{code-cell} ipython3\nfrom IPython.display import display\n"
                    "display({'application/x-memwall-unknown': 'x'}, raw=True)\n```\n",
    "bad_data": HEADER + "# Bad data\n\n```{code-cell} ipython3\nfrom memwall import tables\n"
                "tables.load_hardware()\n```\n",
}


def _make_book(folder: Path, pages: dict[str, str]) -> Path:
    folder.mkdir()
    shutil.copy(ROOT / "_config.yml", folder / "_config.yml")
    shutil.copy(ROOT / "references.bib", folder / "references.bib")  # _config.yml names it (sphinxcontrib-bibtex)
    shutil.copytree(ROOT / "images", folder / "images")
    (folder / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n" + "".join(f"  - file: {p}\n" for p in pages if p != "intro"),
        encoding="utf-8")
    for name, text in pages.items():
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
    return folder


def _build(book: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env or {})}
    env.pop("CI", None)
    return subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py"), "--source", str(book)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)


@pytest.mark.notebooks
def test_build_gate_fails_and_names_each_problem(tmp_path: Path):
    book = _make_book(tmp_path / "book", PAGES)
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    hw = (data / "hardware.csv").read_text(encoding="utf-8").splitlines()
    hw[3] = hw[3].replace("https://", "not-a-url://", 1)
    (data / "hardware.csv").write_text("\n".join(hw) + "\n", encoding="utf-8")

    result = _build(book, {"MEMWALL_DATA_DIR": str(data)})
    log = result.stdout + result.stderr
    assert result.returncode != 0, log
    assert "label-that-does-not-exist" in log
    assert "gate-test-boom" in log
    assert "application/x-memwall-unknown" in log
    assert "hardware.csv: line 4" in log and "column 'source_url'" in log


@pytest.mark.notebooks
def test_rerun_after_failure_still_fails_and_executes_only_the_failed_notebook(tmp_path: Path):
    ok_cell = HEADER + "# Page\n\n```{code-cell} ipython3\nx = 1\n```\n"
    other = HEADER + "# Other\n\n```{code-cell} ipython3\ny = 2\n```\n"
    book = _make_book(tmp_path / "book", {"intro": "# Gate test\n", "page": ok_cell, "other": other})
    first = _build(book)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "clean build (first build)" in first.stdout
    assert "notebooks executed by this build: 2 (other.md, page.md)" in first.stdout
    (book / "page.md").write_text(ok_cell.replace("x = 1", "raise RuntimeError('second-run-boom')"),
                                  encoding="utf-8")
    second = _build(book)
    assert second.returncode != 0 and "second-run-boom" in second.stdout + second.stderr
    assert "clean build" not in second.stdout  # the inputs did not change: the cache stays
    assert "notebooks executed by this build: 0; with a run cached by an earlier build: 1; " \
           "failed: 1 (page.md)" in second.stdout
    third = _build(book)  # nothing changed: an incremental Sphinx run would otherwise report success
    assert third.returncode != 0, third.stdout + third.stderr
    assert "second-run-boom" in third.stdout + third.stderr
    assert "the previous build failed: every page is read again" in third.stdout
    assert "clean build" not in third.stdout and "other.md: Executing" not in third.stdout + third.stderr
    assert "other.md: Using cached notebook" in third.stdout + third.stderr
    (book / "page.md").write_text(ok_cell.replace("x = 1", "x = 3"), encoding="utf-8")  # fixed, new code
    fourth = _build(book)
    assert fourth.returncode == 0, fourth.stdout + fourth.stderr
    assert "notebooks executed by this build: 1 (page.md); with a run cached by an earlier build: 1" in fourth.stdout
    assert not (book / "_build" / "html" / "reports").exists()
