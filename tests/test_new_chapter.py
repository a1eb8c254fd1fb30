"""``make chapter NAME=...`` (``tools/new_chapter.py``): a chapter from the template, added to ``_toc.yml``."""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import jupytext
import pytest
import yaml

from .conftest import ROOT
from .test_exercises import LABEL, exercises_minimum, parse_page

_spec = importlib.util.spec_from_file_location("new_chapter", ROOT / "tools" / "new_chapter.py")
new_chapter = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(new_chapter)


@pytest.fixture
def fork(tmp_path: Path) -> Path:
    """A copy of the book's table of contents and template."""
    (tmp_path / "chapters").mkdir()
    shutil.copy(ROOT / "_toc.yml", tmp_path / "_toc.yml")
    shutil.copy(ROOT / new_chapter.TEMPLATE, tmp_path / new_chapter.TEMPLATE)
    return tmp_path


def _unused(stem: str) -> str:
    """A chapter name the book's ``_toc.yml`` does not list (a fork may already have ``lab_first_0``)."""
    taken = set(_files((ROOT / "_toc.yml").read_text(encoding="utf-8")))
    return next(f"{stem}_{i}" for i in range(1000) if f"chapters/{stem}_{i}" not in taken)


def _files(toc_text: str) -> list[str]:
    toc = yaml.safe_load(toc_text)
    return [c["file"] for part in toc["parts"] for c in part["chapters"]]


def _part_of(toc_text: str, docname: str) -> str:
    toc = yaml.safe_load(toc_text)
    return next(p["caption"] for p in toc["parts"] if any(c["file"] == docname for c in p["chapters"]))


def test_new_chapter_in_a_new_part_before_the_reference(fork: Path):
    name = _unused("lab_roofline")
    part = "Labs for the test"  # a caption no fork uses
    assert new_chapter.main([name, "--root", str(fork), "--title", "Lab: the roofline", "--part", part]) == 0
    toc = (fork / "_toc.yml").read_text(encoding="utf-8")
    before = _files((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    assert sorted(_files(toc)) == sorted([*before, f"chapters/{name}"])
    assert _part_of(toc, f"chapters/{name}") == part
    captions = [p["caption"] for p in yaml.safe_load(toc)["parts"]]
    assert captions.index(part) == captions.index("Reference") - 1
    assert toc.startswith("# Table of contents")  # comments kept
    text = (fork / "chapters" / f"{name}.md").read_text(encoding="utf-8")
    assert f'claims_box("chapters/{name}")' in text and "_template" not in text.split("-->", 2)[-1]
    assert "# Lab: the roofline" in text
    page = parse_page(text)
    stem = name.replace("_", "-")
    assert page.exercises and all(LABEL.match(label) and label.startswith(f"ex-{stem}-")
                                  for label, _ in page.exercises)
    assert len(page.exercises) >= exercises_minimum(text) == 1  # a lab may set one exercise
    figures = re.findall(r"name: (fig-[\w-]+)", text)  # figure labels too are the chapter's own
    assert figures and all(f.startswith(f"fig-{stem}-") for f in figures) and "fig-template-" not in text
    assert jupytext.reads(text, fmt="md:myst").metadata["kernelspec"]["name"] == "python3"


def test_second_chapter_joins_the_existing_part(fork: Path):
    one, two = _unused("lab_first"), _unused("lab_second")
    new_chapter.main([one, "--root", str(fork)])
    new_chapter.main([two, "--root", str(fork)])
    toc = (fork / "_toc.yml").read_text(encoding="utf-8")
    files = _files(toc)
    assert files.index(f"chapters/{two}") == files.index(f"chapters/{one}") + 1
    assert toc.count("caption: Labs") == 1


def test_named_part_that_exists(fork: Path):
    name = _unused("extra")
    part = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))["parts"][0]["caption"]
    new_chapter.main([name, "--root", str(fork), "--part", part])
    toc = (fork / "_toc.yml").read_text(encoding="utf-8")
    assert _part_of(toc, f"chapters/{name}") == part


@pytest.mark.parametrize("bad", ["Lab", "1lab", "lab-roofline", "lab/x", "", "a" * 65])
def test_bad_names_are_usage_errors(fork: Path, bad: str, capsys):
    with pytest.raises(SystemExit) as exc:
        new_chapter.main([bad, "--root", str(fork)])
    assert exc.value.code == 2
    assert "not a valid chapter name" in capsys.readouterr().err


def test_nothing_is_overwritten(fork: Path, capsys):
    lab = _unused("lab")
    new_chapter.main([lab, "--root", str(fork)])
    before = (fork / "_toc.yml").read_text(encoding="utf-8")
    with pytest.raises(SystemExit):
        new_chapter.main([lab, "--root", str(fork)])
    assert "exists already" in capsys.readouterr().err
    (fork / "chapters" / f"{lab}.md").unlink()
    with pytest.raises(SystemExit):
        new_chapter.main([lab, "--root", str(fork)])
    assert f"already lists chapters/{lab}" in capsys.readouterr().err
    assert (fork / "_toc.yml").read_text(encoding="utf-8") == before


def test_titles_and_parts_are_written_as_given(fork: Path):
    name = _unused("lab_week")
    part = "Labs: week 1 # and more"  # a colon and a hash: YAML needs quotes
    assert new_chapter.main([name, "--root", str(fork), "--part", part, "--title", r"Lab \1: the roofline"]) == 0
    toc = (fork / "_toc.yml").read_text(encoding="utf-8")
    assert _part_of(toc, f"chapters/{name}") == part  # _toc.yml still parses
    text = (fork / "chapters" / f"{name}.md").read_text(encoding="utf-8")
    assert "# Lab \\1: the roofline" in text
    assert "<!--" not in text, "the template's instructions to its copier are left in the chapter"
    other = _unused("lab_week_two")
    new_chapter.main([other, "--root", str(fork), "--part", part])
    assert _part_of((fork / "_toc.yml").read_text(encoding="utf-8"), f"chapters/{other}") == part


@pytest.mark.parametrize("reserved", ["intro", "index", "genindex", "search"])
def test_names_of_the_root_page_and_sphinx_pages_are_refused(fork: Path, reserved: str, capsys):
    with pytest.raises(SystemExit) as exc:
        new_chapter.main([reserved, "--root", str(fork)])
    assert exc.value.code == 2 and "taken by the book's root page or by Sphinx" in capsys.readouterr().err
