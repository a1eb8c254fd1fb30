"""The MyST -> plain Markdown converter of the reader notebooks, on small hand-written MyST (no build)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import nbformat
import pytest

from memwall.sphinxext import notebooks
from memwall.sphinxext.plain_markdown import (
    PLACEHOLDER_NOTE,
    Bibliography,
    BookIndex,
    Converter,
    leftover_myst,
    load_glue,
    split_directive_body,
)

from .conftest import ROOT

BIB = """\
@article{smith2020walls,
  author = {Smith, Ann and Jones, Bo and Lee, Cy},
  title = {Walls of {Memory}},
  journal = {J. Walls},
  year = {2020}
}
@misc{acme2021sheet,
  author = {{ACME}},
  title = {Datasheet},
  year = {2021}
}
@misc{two2019,
  author = {Kim, Dan and Park, Eve},
  title = {Two},
  year = {2019}
}
"""

OTHER = """\
# Other chapter

(sec-other)=
## A section elsewhere

```{exercise} Warm-up
:label: ex-other-warmup

Do it.
```
"""

THIS = """\
# This chapter

```{exercise} First one
:label: ex-this-first

Text.
```

```{exercise} Unnumbered
:label: ex-this-free
:nonumber:

Free.
```
"""

GLUE = {"chapters/this": {"ratio": {"text/plain": "3.14159"}, "count": {"text/plain": "1234567"},
                          "share": {"text/plain": "0.4567"}, "name": {"text/plain": "'llama_3*'"},
                          "chart": {"text/html": "<div></div>", "text/plain": "<Chart>"}},
        "chapters/other": {"far": {"text/plain": "2.5"}}}


@pytest.fixture()
def convert(tmp_path: Path) -> Converter:
    (tmp_path / "references.bib").write_text(BIB, encoding="utf-8")
    index = BookIndex(["chapters/other", "chapters/this"], {"chapters/other": OTHER, "chapters/this": THIS})
    return Converter("chapters/this", index, Bibliography(tmp_path / "references.bib"), GLUE,
                     site_url="https://o.github.io/r/", raw_url="https://raw.githubusercontent.com/o/r/main/")


def md(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def test_glue_text_uses_the_role_format_spec_as_the_page_does(convert: Converter):
    out = convert.convert("growth {glue:text}`ratio:.1f`x, {glue:text}`count:,.0f` rows, "
                          "{glue:text}`share:.0%`, {glue:text}`ratio` and {glue:text}`chapters/other::far:.2f`")
    assert out == "growth 3.1x, 1,234,567 rows, 46%, 3.14159 and 2.50"


def test_glued_text_is_escaped_and_unknown_glue_kept_as_placeholder(convert: Converter):
    assert convert.convert("model {glue:text}`name`") == r"model llama\_3\*"
    warned: list[str] = []
    convert.warn = warned.append
    assert convert.convert("{glue:text}`missing:.1f`") == "⟨missing⟩"
    assert warned and "missing" in warned[0]


def test_without_a_build_glue_becomes_placeholders(convert: Converter):
    convert.glue = None
    assert convert.convert("{glue:text}`ratio:.1f` and {glue}`count`") == "⟨ratio⟩ and ⟨count⟩"
    assert convert.placeholders == 2


def test_roles_inside_inline_code_are_left_alone(convert: Converter):
    source = "write `` {glue:text}`ratio:.1f` `` to get {glue:text}`ratio:.1f`"
    assert convert.convert(source) == "write `` {glue:text}`ratio:.1f` `` to get 3.1"


def test_roles_in_lists_quotes_tables_and_headings(convert: Converter):
    source = md("""
        ## Ratio {glue:text}`ratio:.2f`

        - first {glue:text}`ratio:.1f`
          continued {glue:text}`count:,.0f`

        > quoted {glue:text}`share:.0%`

        | a | b |
        |---|---|
        | {glue:text}`ratio:.1f` | {glue:text}`share:.1%` |
        """)
    out = convert.convert(source)
    assert "## Ratio 3.14" in out and "- first 3.1\n  continued 1,234,567" in out
    assert "> quoted 46%" in out and "| 3.1 | 45.7% |" in out
    assert not leftover_myst(out)


def test_citations_author_year_and_reference_list(convert: Converter):
    out = convert.convert("as {cite:t}`smith2020walls` show {cite:p}`acme2021sheet,two2019`.")
    assert out == "as Smith et al. (2020) show (ACME, 2021; Kim and Park, 2019)."
    refs = convert.references()
    assert refs.startswith("## References\n")
    lines = refs.splitlines()[2:]
    assert [line.split(".**")[0] for line in lines] == ["- **ACME, 2021", "- **Kim and Park, 2019",
                                                      "- **Smith et al., 2020"]
    assert "Walls of Memory" in refs and "{" not in refs


def test_exercise_and_gated_solution_become_headings(convert: Converter):
    convert.convert("## Exercises")
    out = convert.convert(md("""
        ```{exercise} First one
        :label: ex-this-first

        Compute {glue:text}`ratio:.1f`.
        ```

        ```{solution-start} ex-this-first
        :class: dropdown
        ```
        The answer is $x$.
        """))
    assert out == md("""
        ### Exercise 1: First one

        Compute 3.1.

        #### Solution to Exercise 1
        The answer is $x$.
        """)
    assert convert.convert("```{solution-end}\n```") == ""
    free = convert.convert("```{exercise} Unnumbered\n:label: ex-this-free\n:nonumber:\n\nFree.\n```")
    assert free.startswith("### Exercise: Unnumbered")


FIGURES = """\
# Figures

```{code-cell} ipython3
---
tags: [remove-input]
mystnb:
  figure:
    name: fig-figs-first
    caption: |
      The first chart, {doc}`two lines <other>`
      high.

      A second paragraph.
---
chart()
```

```{code-cell} ipython3
---
mystnb:
  figure:
    name: fig-figs-uncaptioned
---
chart()
```

````{exercise} One
:label: ex-figs-one

```{figure} ../images/wall.png
:name: fig-figs-inside

Inside an exercise.
```
````

```{list-table} A table
:name: tab-figs-table

* - a
```

```{glue:figure} chart
:name: fig-figs-glued

Glued.
```
"""


def test_numbers_restart_in_every_chapter_per_kind():
    docs = ["chapters/other", "chapters/this", "chapters/figs"]
    index = BookIndex(docs, {"chapters/other": OTHER, "chapters/this": THIS, "chapters/figs": FIGURES})
    first_of = {doc: [t for t in index.targets.values() if t.docname == doc and t.number == 1] for doc in docs}
    assert all(first_of.values()), "every chapter with numbered things starts at 1"
    numbers = {label: (t.number, t.numref or t.text) for label, t in index.targets.items() if t.number}
    assert numbers == {"ex-other-warmup": (1, "Exercise 1"), "ex-this-first": (1, "Exercise 1"),
                       "fig-figs-first": (1, "Figure 1"), "ex-figs-one": (1, "Exercise 1"),
                       "fig-figs-inside": (2, "Figure 2"), "tab-figs-table": (1, "Table 1"),
                       "fig-figs-glued": (3, "Figure 3")}
    assert index.targets["fig-figs-first"].text == "The first chart, two lines high."
    assert "fig-figs-uncaptioned" not in index.targets, "Sphinx numbers no figure without a caption"
    assert index.targets["ex-this-free"].number is None


def test_numref_to_a_figure_shows_its_number_ref_its_caption(tmp_path: Path):
    (tmp_path / "references.bib").write_text(BIB, encoding="utf-8")
    index = BookIndex(["chapters/this", "chapters/figs"], {"chapters/this": THIS, "chapters/figs": FIGURES},
                      {"figure": "Fig. %s"})
    convert = Converter("chapters/figs", index, Bibliography(tmp_path / "references.bib"), GLUE,
                        site_url="https://o.github.io/r/")
    out = convert.convert("{numref}`fig-figs-glued`, {numref}`Chart {number}: {name} <fig-figs-inside>`, "
                          "{ref}`fig-figs-inside`, {numref}`tab-figs-table`.")
    assert out == "Fig. 3, Chart 2: Inside an exercise., Inside an exercise., Table 1."


def test_colon_fence_admonitions_become_block_quotes(convert: Converter):
    out = convert.convert(md("""
        :::{admonition} In this chapter you will
        :class: tip

        - learn {glue:text}`ratio:.1f`;
        - compute.
        :::

        ```{note}
        Careful.
        ```
        """))
    assert out == md("""
        > **In this chapter you will**
        >
        > - learn 3.1;
        > - compute.

        > **Note**
        >
        > Careful.
        """)


def test_nested_directives_and_math(convert: Converter):
    out = convert.convert(md("""
        ````{tip}
        Outer.

        ```{math}
        :label: eq-one
        a = b
        ```
        ````

        $$
        c = d
        $$ (eq-two)

        See {math}`e^x` and {eq}`eq-two`.
        """))
    assert "> **Tip**\n>\n> Outer.\n>\n> $$\n> a = b\n> $$" in out
    assert "$$\nc = d\n$$" in out and "(eq-two)" in out and "$e^x$" in out
    assert not leftover_myst(out) and "{math}" not in out


def test_cross_references_text_here_links_elsewhere(convert: Converter):
    out = convert.convert("see {ref}`ex-this-first`, {numref}`ex-other-warmup`, {ref}`sec-other`, "
                          "{ref}`the warm-up <ex-other-warmup>` and {doc}`other`.")
    assert out == ("see Exercise 1, [Exercise 1](https://o.github.io/r/chapters/other.html#ex-other-warmup), "
                   "[A section elsewhere](https://o.github.io/r/chapters/other.html#sec-other), "
                   "[the warm-up](https://o.github.io/r/chapters/other.html#ex-other-warmup) and "
                   "[Other chapter](https://o.github.io/r/chapters/other.html).")


def test_figures_glue_figures_targets_and_comments(convert: Converter):
    out = convert.convert(md("""
        (fig-label)=
        % a comment
        ```{figure} ../images/wall.png
        :name: fig-wall

        The wall, {glue:text}`ratio:.1f` high.
        ```

        ```{glue:figure} chart
        :name: fig-chart

        A chart.
        ```

        Text.
        """))
    assert out.startswith("![The wall, 3.1 high.](https://raw.githubusercontent.com/o/r/main/images/wall.png)")
    assert "*The wall, 3.1 high.*" in out and "(fig-label)=" not in out and "% a comment" not in out
    assert "*A chart. (The chart or table glued as `chart` is an output of the code cell" in out
    assert out.endswith("Text.")


def test_other_roles_and_unknown_directives(convert: Converter):
    out = convert.convert("{py:func}`~memwall.serving.time_per_token`, H{sub}`2`O, {kbd}`Ctrl`, "
                          "{abbr}`KV (key-value)`")
    assert out == "`memwall.serving.time_per_token`, H<sub>2</sub>O, <kbd>Ctrl</kbd>, KV"
    out = convert.convert("```{tableofcontents}\n```")
    assert out == "*(The book's page shows the tableofcontents here: <https://o.github.io/r/chapters/this.html>.)*"
    assert convert.convert("```{div} wide\nInside {glue:text}`ratio:.1f`.\n```") == "**wide**\n\nInside 3.1."


def test_plain_markdown_is_kept_byte_for_byte(convert: Converter):
    source = md(r"""
        # Title

        Some *emphasis*, \*escaped\*, a [link](https://x.org) and `code {x}`.

        ```python
        print("{glue:text}`not a role in code`")
        ```

        <!-- a comment -->
        """)
    assert convert.convert(source) == source


def test_split_directive_body_options_yaml_and_content():
    assert split_directive_body(":label: a\n:nonumber:\n\nBody\nmore") == ({"label": "a", "nonumber": ""},
                                                                          "Body\nmore")
    assert split_directive_body("---\nlabel: b\nclass: tip\n---\nBody") == ({"label": "b", "class": "tip"}, "Body")
    assert split_directive_body("Just text") == ({}, "Just text")


def test_leftover_markers():
    assert leftover_myst("a {glue:text}`x` b ```{note}") == ["{glue", "```{"]
    assert leftover_myst("plain $x$ {not a role}") == []


def test_load_glue_reads_glue_json_and_scrapbook_outputs(tmp_path: Path):
    (tmp_path / "chapters").mkdir()
    out = {"output_type": "display_data", "metadata": {"scrapbook": {"name": "a", "mime_prefix": ""}},
           "data": {"text/plain": "1024"}}
    (tmp_path / "chapters" / "x.glue.json").write_text(json.dumps({"a": out}), encoding="utf-8")
    cell = {"cell_type": "code", "outputs": [{"output_type": "display_data", "data": {
        "application/papermill.record/text/plain": "2.5"}, "metadata": {"scrapbook": {
            "name": "b", "mime_prefix": "application/papermill.record/"}}}]}
    (tmp_path / "chapters" / "x.ipynb").write_text(json.dumps({"cells": [cell]}), encoding="utf-8")
    assert load_glue(tmp_path, ["chapters/x", "chapters/y"]) == {
        "chapters/x": {"a": {"text/plain": "1024"}, "b": {"text/plain": "2.5"}}, "chapters/y": {}}


@pytest.mark.slow  # reads the whole book's sources and writes one real chapter (about 2 s)
def test_write_notebook_of_a_real_chapter_without_a_build(tmp_path: Path):
    target = notebooks.write_notebook(ROOT / "chapters" / "quantization.md", tmp_path / "q.ipynb",
                                      notebooks.repository_url(ROOT))
    nb = nbformat.read(target, as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].metadata["tags"] == ["memwall-setup"] and nb.cells[1].source == PLACEHOLDER_NOTE
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert not [m for m in markdown if leftover_myst(m)]
    assert any(m.startswith("### Exercise ") for m in markdown) and markdown[-1].startswith("## References")
    assert "(NVIDIA, 2023)" in "".join(markdown) and "⟨l8\\_W16A16⟩" in "".join(markdown)
    assert all(c.source.strip() for c in nb.cells)
    # the prose cites "Figure 1"; the cell after the chart's says which output that is, with the page's caption
    chart = next(i for i, c in enumerate(nb.cells) if "quantization_chart(" in c.source)
    assert nb.cells[chart + 1].cell_type == "markdown"
    assert nb.cells[chart + 1].source.startswith("**Figure 1.** Roofline bound of one batch-1 decode step")
    assert [m.split(".**")[0] for m in markdown if m.startswith("**Figure ")] == ["**Figure 1", "**Figure 2",
                                                                                 "**Figure 3"]


@pytest.mark.slow  # converts every chapter (about 2 s)
def test_cli_takes_glue_values_from_a_build_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    glue = tmp_path / "jupyter_execute" / "chapters"
    glue.mkdir(parents=True)
    out = {"output_type": "display_data", "metadata": {"scrapbook": {"name": "context", "mime_prefix": ""}},
           "data": {"text/plain": "4096"}}
    (glue / "quantization.glue.json").write_text(json.dumps({"context": out}), encoding="utf-8")
    assert notebooks.main([str(tmp_path / "out"), "--glue", str(glue.parent)]) == 0
    nb = nbformat.read(tmp_path / "out" / "chapters" / "quantization.ipynb", as_version=4)
    text = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "with 4096 tokens in the KV cache" in text and "⟨context⟩" not in text
    assert "⟨l8\\_W16A16⟩" in text  # not in this glue folder: a placeholder, and a warning
    assert "no glue value 'l8_W16A16'" in capsys.readouterr().out
