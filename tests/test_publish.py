"""Publishing and forking: CITATION.cff, the chapter template, the workflows and the bibliography."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest
import yaml
from nbclient import NotebookClient

from .conftest import ROOT

CFF_REQUIRED = ("cff-version", "message", "title", "authors")  # CFF 1.2.0 schema: required keys


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def test_citation_cff_structure_and_repository():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert all(k in cff for k in CFF_REQUIRED), [k for k in CFF_REQUIRED if k not in cff]
    assert cff["cff-version"] == "1.2.0"
    assert cff["type"] in ("software", "dataset")
    assert cff["authors"] and all("name" in a or "family-names" in a for a in cff["authors"])
    assert cff["repository-code"] == _config()["repository"]["url"], "CITATION.cff and _config.yml disagree"
    paper = cff["preferred-citation"]
    assert paper["doi"] == "10.1109/MM.2024.3373763" and paper["year"] == 2024
    assert all("family-names" in a for a in paper["authors"])


def test_repository_url_is_a_github_repository():
    url = _config()["repository"]["url"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url), url


def test_workflows_parse_and_build_clean_with_warnings_as_errors():
    pages = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8"))
    uses = [s.get("uses", "") for job in pages["jobs"].values() for s in job.get("steps", [])]
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    assert any(u.startswith("actions/deploy-pages") for u in uses)
    build = "\n".join(str(s.get("run", "")) for job in pages["jobs"].values() for s in job.get("steps", []))
    assert "tools/build_book.py --clean" in build
    assert "-W" in (ROOT / "tools" / "build_book.py").read_text(encoding="utf-8")
    ci = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    assert ".ci/run" in str(ci["jobs"])


def test_every_cited_key_is_in_references_bib():
    keys = set(re.findall(r"@\w+\{([^,\s]+),", (ROOT / "references.bib").read_text(encoding="utf-8")))
    sources = [ROOT / "intro.md", *sorted((ROOT / "chapters").glob("*.md"))]
    cited = {k.strip() for f in sources
             for group in re.findall(r"\{cite(?::[a-z]+)?\}`([^`]+)`", f.read_text(encoding="utf-8"))
             for k in group.split(",")}
    assert {"gholami2024memwall", "kim2023fullstack", "gholami2024memwalldata"} <= cited
    assert cited <= keys, f"cited but not in references.bib: {sorted(cited - keys)}"


TEMPLATE = ROOT / "chapters" / "_template.md"


def test_template_is_valid_jupytext_and_not_in_the_toc():
    nb = jupytext.read(TEMPLATE)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert any(c.cell_type == "code" for c in nb.cells)
    text = TEMPLATE.read_text(encoding="utf-8")
    for part in ("{glue:text}", "{exercise}", "{solution-start}", "{solution-end}", "admonition", "charts."):
        assert part in text, part
    assert "_template" not in (ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert _config()["only_build_toc_files"] is True


@pytest.mark.notebooks
def test_template_executes(tmp_path: Path):
    nb = jupytext.read(TEMPLATE)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                if o.get("output_type") == "error"]
