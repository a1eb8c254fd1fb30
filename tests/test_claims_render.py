"""The claims views read on a laptop and on a phone: one number format per column, rows that become blocks on a
narrow screen, the ledger's anchors kept, and the claims chart a responsive, numbered figure."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from memwall import claims
from memwall.charts import theme
from memwall.claims import render

from .conftest import ROOT


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return claims.ledger(strict=True)


@pytest.mark.parametrize(("value", "kind", "text"), [
    (506.0, "number", "506"), (1326.0, "number", "1,326"), (22.4251, "number", "22.43"),
    (0.141678, "number", "0.1417"), (64311.265, "number", "64,311"), (0.0, "number", "0"),
    (np.nan, "number", "—"), (None, "number", "—"), (1.0, "yes/no", "yes"), (0.0, "yes/no", "no"),
])
def test_format_value_has_fixed_significant_digits(value, kind, text):
    assert render.format_value(value, kind) == text


def test_format_value_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="kind='percent'"):
        render.format_value(1.0, "percent")


def test_format_difference_is_signed_percent_with_two_digits():
    row = pd.Series({"kind": "number", "difference": 0.2, "difference_pct": 0.7430, "unit": "x"})
    assert render.format_difference(row) == "+0.74 %"
    assert render.format_difference(row.copy().replace({0.7430: -12.34})) == "−12 %"
    assert render.format_difference(pd.Series({"kind": "number", "difference": 0.5, "difference_pct": np.nan,
                                               "unit": "GB"})) == "+0.5 GB"
    assert render.format_difference(pd.Series({"kind": "yes/no", "difference": 0.0, "difference_pct": np.nan,
                                               "unit": "yes/no"})) == "—"


def _value_cells(markup: str) -> list[str]:
    return re.findall(r"<td(?: [^>]*)?>", markup)


@pytest.mark.parametrize("chapter", ["chapters/hardware_trends", "chapters/encoder_decoder"])
def test_claims_box_rows_become_blocks_on_a_phone(chapter):
    box = str(claims.claims_box(chapter))
    assert render.STYLE in box and f"max-width: {render.NARROW_PX}px" in box
    assert '<div class="claims-box-body"><table class="claims-box-table">' in box  # inside the admonition's margins
    cells = _value_cells(box)
    text_cells = [c for c in cells if 'class="claim-text"' in c]
    assert text_cells and len(cells) == 4 * len(text_cells)  # claim, paper, ours, status per row
    assert all("data-label=" in c for c in cells if c not in text_cells)
    ours = re.findall(r'data-label="Ours" class="num">([^<]*)</td>', box)
    assert ours and not [o for o in ours if re.match(r"^\d[\d,]*\.0(\D|$)", o)], "a whole number printed as 506.0"


def test_ledger_keeps_every_anchor_and_fits_the_article(table):
    markup = str(claims.ledger_html(table))
    assert markup.startswith(render.STYLE)
    for cid in table["claim_id"]:
        assert f'<tr id="claim-{cid}">' in markup
    for chapter in table["chapter"].unique():
        from docutils.nodes import make_id

        assert f'<p id="{make_id(render.chapter_title(chapter))}" class="claims-ledger-chapter">' in markup
    widths = [float(w.rstrip("%")) for _, _, w in render.LEDGER_COLUMNS]
    assert sum(widths) == pytest.approx(100)
    assert markup.count('<table class="claims-ledger">') == table["chapter"].nunique()
    assert "table-layout: fixed" in render.STYLE and "overflow-wrap: anywhere" in render.STYLE


def test_ledger_values_have_one_format(table):
    markup = str(claims.ledger_html(table))
    bold = re.findall(r"<strong>([^<]*)</strong>", markup)
    assert len(bold) == len(table)
    number = re.compile(r"^(—|yes|no|-?\d{1,3}(,\d{3})*(\.\d+)?|-?\d\.\d*e[+-]\d+)$")
    assert all(number.match(b) for b in bold), [b for b in bold if not number.match(b)]
    for b in bold:  # at most DIGITS significant digits (left of the point kept)
        digits = re.sub(r"\D", "", b.split("e")[0]).lstrip("0")
        whole = b.split(".")[0].replace(",", "").lstrip("-")
        assert len(digits) <= max(render.DIGITS, len(whole.lstrip("0"))), b
    differences = re.findall(r'data-label="Difference" class="num">([^<]*) <br>', markup)
    assert len(differences) == len(table)
    assert all(re.match(r"^(—|[+−]\d[\d,.]* %|±0 %|[+−±][\d,.]+ .+)$", d) for d in differences), differences[:5]


def test_claims_chart_is_responsive_without_title_and_labelled(table):
    spec = claims.claims_chart(table).to_dict()
    assert spec["width"] == "container" and spec["autosize"] == theme.FIT_CONTAINER.to_dict()
    assert "title" not in spec
    layers = spec["layer"]
    points = next(layer for layer in layers if layer.get("mark", {}).get("type") == "circle")
    legend = points["encoding"]["color"]["legend"]
    assert legend["symbolType"] == "circle" and legend["orient"] == "bottom"
    assert points["encoding"]["x"]["axis"]["values"][0] == pytest.approx(0.1)
    assert all(t["title"] and "_" not in t["title"] for t in points["encoding"]["tooltip"])
    texts = [json for json in map(str, layers) if "'text'" in json]
    assert any("ours = paper" in t for t in texts)  # the reference line is labelled
    assert any("width - 4" in t for t in texts)  # chapter titles never widen the chart
    assert claims.claims_chart(table, title="T").to_dict()["title"] == "T"


def test_report_shows_its_chart_and_ledger_as_numbered_figures():
    text = (ROOT / "chapters" / "reproduction_report.md").read_text(encoding="utf-8")
    for name, call in [("fig-report-claims", "claims.claims_chart(table)"),
                       ("fig-report-ledger", "claims.ledger_html(table)")]:
        cell = re.search(rf"mystnb:\n  figure:\n    name: {name}\n    caption: \|\n(?:      .*\n)+---\n(.*)\n", text)
        assert cell and cell.group(1) == call, name
        assert f"{{numref}}`{name}`" in text
