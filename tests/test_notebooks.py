"""Every chapter in the table of contents executes top to bottom without error."""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest
import yaml
from nbclient import NotebookClient

from .conftest import ROOT


def _toc_files() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    stack = list(toc.get("parts", [])) + list(toc.get("chapters", []))
    while stack:
        entry = stack.pop(0)
        if "file" in entry:
            files.append(entry["file"])
        stack.extend(entry.get("chapters", []) + entry.get("sections", []))
    return [ROOT / f"{f}.md" for f in files]


NOTEBOOKS = [p for p in _toc_files() if "kernelspec:" in p.read_text(encoding="utf-8")[:600]]


def test_toc_lists_notebooks():
    assert NOTEBOOKS, "no executable chapter found in _toc.yml"


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_chapter_executes(path: Path, monkeypatch: pytest.MonkeyPatch):
    # The kernel inherits this: chapters that measure the machine shrink to a smoke test (the build
    # itself runs the full measurements).
    monkeypatch.setenv("MEMWALL_QUICK", "1")
    nb = jupytext.read(path)
    client = NotebookClient(nb, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError naming the failing cell
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
