"""memwall.reader_table: headers with units, one number format per column, words for flags, splitting."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from memwall.reader_table import ARTICLE_WIDTH_PX, Column, format_number, reader_table, transposed_table


@pytest.mark.parametrize(("value", "digits", "text"), [
    (22.425, 3, "22.4"), (506.0, 3, "506"), (1326.0, 3, "1,326"), (46.368997, 3, "46.4"), (0.0125, 2, "0.013"),
    (524288.0, 3, "524,288"), (0.0, 3, "0"), (-1234.6, 3, "-1,235"), (1.0, 3, "1"), (3.2e-7, 2, "3.2e-07"),
    (2.5e16, 3, "2.5e+16"), (float("nan"), 3, "—"), (float("inf"), 3, "∞"), (-float("inf"), 3, "−∞"),
])
def test_format_number(value: float, digits: int, text: str) -> None:
    assert format_number(value, digits) == text


@given(st.floats(min_value=1e-4, max_value=1e14, allow_nan=False), st.integers(min_value=1, max_value=6))
def test_format_number_keeps_its_significant_digits(value: float, digits: int) -> None:
    """The printed number is the value rounded to ``digits`` significant digits (or more left of the point)."""
    printed = float(format_number(value, digits).replace(",", ""))
    magnitude = math.floor(math.log10(value))
    step = 10.0 ** max(magnitude - digits + 1, min(0, magnitude - digits + 1))
    assert abs(printed - value) <= step / 2 * (1 + 1e-9) + 1e-12 * value


@pytest.mark.parametrize(("value", "digits", "text"), [
    (2.7, 3, "2.70"), (2.0, 3, "2.00"), (0.5, 3, "0.500"), (506.0, 3, "506"), (1326.4, 3, "1,326"),
    (9.996, 3, "10.0"), (99.96, 3, "100"), (3.2e-7, 3, "3.20e-07"), (-0.5, 2, "-0.50"), (0.0, 3, "0"),
])
def test_format_number_can_keep_trailing_zeros(value: float, digits: int, text: str) -> None:
    assert format_number(value, digits, trailing_zeros=True) == text


@given(st.floats(min_value=1e-4, max_value=1e14, allow_nan=False, exclude_min=True),
       st.integers(min_value=1, max_value=6))
def test_trailing_zeros_show_every_significant_digit(value: float, digits: int) -> None:
    """With trailing zeros, a number shows ``digits`` significant digits, or all those left of the point."""
    text = format_number(value, digits, trailing_zeros=True)
    shown = text.replace(",", "").replace("-", "")
    integer_digits = len(shown.split(".")[0].lstrip("0"))
    significant = len(shown.replace(".", "").lstrip("0"))
    assert significant == max(digits, integer_digits), (value, digits, text)


def test_format_number_picks_fixed_or_exponent_from_the_rounded_value_and_checks_digits() -> None:
    assert format_number(9.9996e-05, 3) == format_number(1e-4, 3) == "0.0001"
    assert format_number(9.9996e14, 3) == "1e+15"
    for digits in (0, -1, 16, 2.5, True):
        with pytest.raises(ValueError, match=r"digits=.* must be an integer from 1 to 15"):
            format_number(1.5, digits)
    with pytest.raises(ValueError, match="is a flag, not a number"):
        format_number(True)


def test_transposed_table_prints_each_quantity_by_its_own_column() -> None:
    frame = pd.DataFrame({"model": ["Mixtral 8x7B", "DeepSeek-V3"], "experts": [8, 256], "touched": [7.199, 57.4],
                          "bandwidth": [3.35, 4.8]})
    table = transposed_table(frame, "model", {"experts": Column("routed experts", kind="integer"),
                                              "touched": Column("experts touched", digits=3),
                                              "bandwidth": Column("bandwidth", "TB/s", 3, trailing_zeros=False)})
    shown = table.to_frame()
    assert list(shown.columns) == ["Quantity", "Mixtral 8x7B", "DeepSeek-V3"]
    assert shown.values.tolist() == [["routed experts", "8", "256"], ["experts touched", "7.20", "57.4"],
                                     ["bandwidth [TB/s]", "3.35", "4.8"]]
    assert table.numeric == (False, True, True) and 'class="num"' in table._repr_html_()
    assert table.fits_phone == (True,)  # two items stay a table on a phone, the quantity names wrapping
    six = pd.DataFrame({"model": [f"Model number {i}" for i in range(6)], "experts": range(6)})
    assert transposed_table(six, "model", {"experts": Column("routed experts")}).fits_phone == (False,)
    with pytest.raises(ValueError, match=r"\(kind integer\) cannot print 2\.5, the value of item 'DeepSeek-V3'"):
        transposed_table(frame.assign(experts=[8, 2.5]), "model", {"experts": Column("routed", kind="integer")})
    with pytest.raises(ValueError, match="names an item twice"):
        transposed_table(frame.assign(model="same"), "model", {"experts": Column("routed")})
    with pytest.raises(ValueError, match=r"lacks column.*'nope'"):
        transposed_table(frame, "model", {"nope": Column("Nope")})
    with pytest.raises(ValueError, match="at least one"):
        transposed_table(frame, "model", {})


def test_a_column_keeps_its_precision_unless_its_values_are_quoted_as_given() -> None:
    frame = pd.DataFrame({"growth": [2.0, 2.42, 2.7, 3.0], "datasheet": [4.8, 3.35, 2.0, 8.0]})
    shown = reader_table(frame, {"growth": Column("Growth per 2 years", "x", digits=3),
                                 "datasheet": Column("Bandwidth", "TB/s", digits=3, trailing_zeros=False)}).to_frame()
    assert shown["Growth per 2 years [x]"].tolist() == ["2.00", "2.42", "2.70", "3.00"]
    assert shown["Bandwidth [TB/s]"].tolist() == ["4.8", "3.35", "2", "8"]


def test_headers_units_kinds_and_words() -> None:
    frame = pd.DataFrame({"model": ["a", "b"], "kv_bytes_per_token": [131072.0, 4096.0], "n": [3, 1_500_000],
                          "fits": [True, False], "share": [0.123456, float("nan")]})
    table = reader_table(frame, {"model": "Model",
                                 "kv_bytes_per_token": Column("KV cache per token", "B", kind="integer"),
                                 "n": "Requests", "fits": Column("Fits in memory", words=("fits", "too big")),
                                 "share": Column("Share", "%", digits=2)})
    shown = table.to_frame()
    assert list(shown.columns) == ["Model", "KV cache per token [B]", "Requests", "Fits in memory", "Share [%]"]
    assert shown.iloc[0].tolist() == ["a", "131,072", "3", "fits", "0.12"]
    assert shown.iloc[1].tolist() == ["b", "4,096", "1,500,000", "too big", "—"]
    html = table._repr_html_()
    assert 'data-label="KV cache per token [B]"' in html and "<th" in html and "True" not in html


def test_wide_table_is_split_and_repeats_its_key_column() -> None:
    frame = pd.DataFrame({"device": ["H100 SXM5 80GB (Hopper)"]} | {f"c{i}": [123456.789] for i in range(12)})
    columns = {"device": "Device"} | {f"c{i}": Column(f"Quantity number {i}", "GB/s", digits=6) for i in range(12)}
    table = reader_table(frame, columns)
    assert len(table.groups) > 1
    assert all(group[0] == 0 for group in table.groups)
    assert sorted({i for g in table.groups for i in g}) == list(range(13))
    assert table._repr_html_().count('<table class="reader-table">') == len(table.groups)
    narrow = reader_table(frame, columns, width_px=10 * ARTICLE_WIDTH_PX)
    assert len(narrow.groups) == 1


@pytest.mark.parametrize(("columns", "match"), [
    ({}, "at least one column"),
    ({"nope": "Nope"}, "lacks column.*'nope'.*has x, y"),
    ({"x": Column("X", kind="integer")}, "integer column but row 1 holds 2.5"),
    ({"y": Column("Y", kind="flag")}, "flag column but row 0 holds 'u'"),
    ({"y": Column("Y", kind="number")}, "number column but row 0 holds 'u'"),
])
def test_bad_input_is_named(columns: dict, match: str) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.5], "y": ["u", "v"]})
    with pytest.raises(ValueError, match=match):
        reader_table(frame, columns)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"header": " "}, "header must not be empty"), ({"header": "H", "kind": "bool"}, "kind='bool' is not one of"),
    ({"header": "H", "digits": 0}, "digits=0 must be"), ({"header": "H", "digits": True}, "digits=True must be"),
])
def test_bad_column_is_named(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Column(**kwargs)


def test_frame_must_be_a_dataframe() -> None:
    with pytest.raises(ValueError, match="must be a pandas DataFrame, not list"):
        reader_table([1, 2], {"a": "A"})  # type: ignore[arg-type]


def test_a_table_that_fits_a_phone_stays_a_table_there():
    """Groups estimated to fit the phone column get class "narrow" (memwall.css keeps them tables)."""
    small = reader_table(pd.DataFrame({"a": [1.5], "b": [2.5]}), {"a": Column("A"), "b": Column("B")})
    assert small.fits_phone == (True,) and '<table class="reader-table narrow">' in small._repr_html_()
    wide = pd.DataFrame({f"c{i}": [123456.0] for i in range(6)})
    big = reader_table(wide, {c: Column(f"A long header {c}", "GB") for c in wide.columns})
    assert big.fits_phone == (False,) and 'class="reader-table narrow"' not in big._repr_html_()
