"""Figures, tables and exercises numbered per chapter (memwall.sphinxext.chapter_numbers).

The unit tests renumber a hand-made ``env.toc_fignumbers``; the slow test builds a two-chapter Sphinx project
with sphinx-exercise and the extension, checks that each chapter starts at Exercise 1 / Figure 1 in captions
and ``{numref}`` texts, and that a second build of an unchanged project writes no page again.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from memwall.sphinxext.chapter_numbers import per_document


def test_numbers_restart_per_document_and_type_in_sphinx_order():
    book_wide = {"a": {"figure": {"f1": (1,), "f2": (2,)}, "exercise": {"e1": (1,)}},
                 "b": {"figure": {"late": (4,), "early": (3,)}, "exercise": {"e2": (2,), "e3": (3,)}}}
    assert per_document(book_wide) == {
        "a": {"figure": {"f1": (1,), "f2": (2,)}, "exercise": {"e1": (1,)}},
        "b": {"figure": {"late": (2,), "early": (1,)}, "exercise": {"e2": (1,), "e3": (2,)}}}


def test_section_numbered_figures_are_left_alone():
    numbered = {"a": {"figure": {"f": (2, 1), "g": (2, 2)}}}
    assert per_document(numbered) == numbered


@pytest.mark.parametrize("bad", [(), (0,), ("1",), [1]])
def test_a_number_that_is_not_positive_integers_is_an_error(bad):
    with pytest.raises(ValueError, match=r"a: figure 'f' has number"):
        per_document({"a": {"figure": {"f": bad}}})


CHAPTER = """\
# Chapter {n}

```{{figure}} wall.png
:name: fig-{n}-wall

The wall of chapter {n}.
```

```{{exercise}} First of {n}
:label: ex-{n}-first

Do it.
```

```{{exercise}} Second of {n}
:label: ex-{n}-second

See {{numref}}`fig-{n}-wall` and {{ref}}`ex-{n}-first`.
```
"""


def _build(src: Path, out: Path) -> list[str]:
    """Build ``src`` into ``out`` (HTML); the documents Sphinx wrote."""
    from sphinx.application import Sphinx

    written: list[str] = []
    app = Sphinx(str(src), str(src), str(out), str(out / ".doctrees"), "html", status=None, warning=None,
                 freshenv=False)
    app.connect("html-page-context", lambda app, pagename, *_: written.append(pagename))
    app.build()
    return written


@pytest.mark.slow  # two small Sphinx builds: about 3 s
def test_a_sphinx_book_numbers_each_chapter_from_one(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(textwrap.dedent("""\
        extensions = ["myst_parser", "sphinx_exercise", "memwall.sphinxext.chapter_numbers"]
        numfig = True
        exclude_patterns = ["_build"]
        """), encoding="utf-8")
    (src / "index.md").write_text("# Book\n\n```{toctree}\none\ntwo\n```\n", encoding="utf-8")
    for n in ("one", "two"):
        (src / f"{n}.md").write_text(CHAPTER.format(n=n), encoding="utf-8")
    (src / "wall.png").write_bytes(b"")
    out = tmp_path / "html"
    assert {"one", "two"} <= set(_build(src, out))
    for n in ("one", "two"):
        page = (out / f"{n}.html").read_text(encoding="utf-8")
        assert re.findall(r'caption-number">Exercise (\d+) ', page) == ["1", "2"], n
        assert re.findall(r'caption-number">Fig\. (\d+) ', page) == ["1"], n
        assert re.search(r'std-numref">Fig\. 1</span>', page), f"{n}: the numref to its figure"
        assert f'href="#ex-{n}-first"><span class="std std-numref">Exercise 1</span>' in page, n
    assert "one" not in _build(src, out) and "two" not in _build(src, out), "an unchanged page is not rewritten"
