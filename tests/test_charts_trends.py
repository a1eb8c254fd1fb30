"""Trend charts (memwall.charts.trends): responsive width, decade log axes, one legend matching the marks,
the book's palette, human tooltip titles; clear errors."""

from __future__ import annotations

import pandas as pd
import pytest

from memwall import charts, tables
from memwall.charts.palette import GREY, NAMED_COLOURS
from memwall.charts.trends import SHAPES, short_device_name, tooltip_title
from memwall.trends import decimal_year, fit_exponential
from memwall.wall import hardware_trends, model_growth, trend_checks

DECADE = "is a power of ten"


def _is_decades(values: list[float]) -> bool:
    import math

    return all(abs(math.log10(v) - round(math.log10(v))) < 1e-9 for v in values)


def _assert_responsive(spec: dict) -> None:
    assert spec["width"] == "container"
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}


def test_growth_chart_spec():
    pts = tables.load_paper_hw_points()
    fits = trend_checks.paper_figure_growth(pts)
    spec = charts.growth_chart(pts, value="normalized_value", series="series", fits=fits,
                               y_title="normalised [x]", tooltip=["label", "source_url"]).to_dict()
    _assert_responsive(spec)
    assert "title" not in spec  # the figure's caption says it
    assert len(spec["layer"]) == 2  # fitted lines + points
    lines, points = spec["layer"]
    enc = points["encoding"]
    assert enc["y"]["scale"]["type"] == "log"
    assert enc["y"]["axis"]["title"] == "normalised [x]" and _is_decades(enc["y"]["axis"]["values"]), DECADE
    assert {t["field"] for t in enc["tooltip"]} >= {"date", "normalized_value", "label", "source_url"}
    titles = {t["field"]: t["title"] for t in enc["tooltip"]}
    assert titles["source_url"] == "source" and titles["date"] == "release date"
    # one legend: colour and shape by the same field, same domain, a shape per series
    assert enc["color"]["field"] == enc["shape"]["field"] == "series"
    domain = enc["color"]["scale"]["domain"]
    assert enc["shape"]["scale"]["domain"] == domain and enc["shape"]["scale"]["range"] == list(SHAPES[:len(domain)])
    assert all("x / 2 yrs" in d for d in domain) and len(domain) == 3
    assert lines["encoding"]["color"]["scale"] == enc["color"]["scale"]


def test_growth_chart_title_height_and_fixed_colours():
    df = pd.DataFrame({"date": pd.to_datetime(["2000-01-01", "2010-01-01", "2005-01-01"]), "v": [1.0, 100.0, 3.0],
                       "s": ["NVIDIA", "NVIDIA", "other"]})
    spec = charts.growth_chart(df, value="v", series="s", y_title="v [x]", title="T", height=200,
                               colours={"other": GREY}).to_dict()
    assert spec["title"] == "T" and spec["height"] == 200
    scale = spec["layer"][0]["encoding"]["color"]["scale"]
    assert scale == {"domain": ["NVIDIA", "other"], "range": [NAMED_COLOURS["NVIDIA"], GREY]}
    assert spec["layer"][0]["encoding"]["y"]["axis"]["values"] == [1.0, 10.0, 100.0]


def test_growth_chart_rejects_non_positive():
    df = pd.DataFrame({"date": pd.to_datetime(["2000-01-01", "2001-01-01"]), "v": [1.0, 0.0], "s": ["a", "a"]})
    with pytest.raises(ValueError, match="non-positive"):
        charts.growth_chart(df, value="v", series="s", y_title="v")
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['nope'\]"):
        charts.growth_chart(df.assign(v=1.0), value="v", series="s", y_title="v", tooltip=["nope"])
    many = pd.DataFrame({"date": pd.to_datetime(["2000-01-01"] * 9), "v": 1.0, "s": list("abcdefghi")})
    with pytest.raises(ValueError, match="at most 8 series"):
        charts.growth_chart(many, value="v", series="s", y_title="v")


def test_fit_line_endpoints_follow_fit():
    df = pd.DataFrame({"date": pd.to_datetime(["2000-01-01", "2010-01-01"]), "v": [1.0, 100.0], "s": ["a", "a"]})
    fit = fit_exponential(decimal_year(df["date"]), df["v"])
    spec = charts.growth_chart(df, value="v", series="s", fits={"a": fit}, y_title="v").to_dict()
    line_data = spec["datasets"][spec["layer"][0]["data"]["name"]]
    assert [round(r["v"], 6) for r in line_data] == [1.0, 100.0]


def test_balance_chart():
    bal = hardware_trends.machine_balance(tables.load_hardware())
    spec = charts.balance_chart(bal, fit=hardware_trends.fit_series(bal, "ridge_flop_per_byte")).to_dict()
    _assert_responsive(spec)
    line, label, points = spec["layer"]
    assert (line["mark"]["type"], label["mark"]["type"], points["mark"]["type"]) == ("line", "text", "point")
    assert "x / 2 yrs" in str(spec["datasets"][label["data"]["name"]])  # the trend line carries its rate
    enc = points["encoding"]
    assert enc["y"]["scale"]["type"] == "log" and _is_decades(enc["y"]["axis"]["values"])
    assert enc["color"]["field"] == enc["shape"]["field"] == "kind"
    assert set(enc["color"]["scale"]["domain"]) <= {"CPU", "GPU", "TPU", "other accelerator"}
    assert "source" in [t["title"] for t in enc["tooltip"]]
    assert not any("_" in t["title"] for t in enc["tooltip"])


def test_ratio_chart():
    table = pd.DataFrame({"date": pd.to_datetime(["2020-01-01", "2022-06-01", "2024-01-01"]), "r": [0.5, 2.0, 20.0],
                          "q": ["x", "y", "x"], "n": ["a", "b", "c"]})
    spec = charts.ratio_chart(table, ratio="r", series="q", label="n", y_title="ratio [x]", title="T",
                              label_title="device", reference="on the trend").to_dict()
    assert spec["title"] == "T"
    _assert_responsive(spec)
    rule, points, text = spec["layer"]
    assert rule["mark"]["type"] == "rule" and spec["datasets"][rule["data"]["name"]][0]["y"] == 1.0
    assert text["mark"]["type"] == "text" and spec["datasets"][text["data"]["name"]][0]["text"] == "on the trend"
    assert (text["mark"]["align"], text["mark"]["x"]) == ("right", {"expr": "width"})  # at the line's right end
    enc = points["encoding"]
    assert (enc["x"]["field"], enc["x"]["type"]) == ("date", "temporal")
    assert (enc["y"]["field"], enc["y"]["type"], enc["y"]["scale"]["type"]) == ("r", "quantitative", "log")
    assert enc["y"]["axis"]["title"] == "ratio [x]"
    assert enc["y"]["axis"]["values"] == [0.1, 1.0, 10.0, 100.0]  # the decades of [0.5, 20]
    assert enc["color"]["field"] == enc["shape"]["field"] == "q"
    assert [t["field"] for t in enc["tooltip"]] == ["n", "q", "date", "r"]
    assert enc["tooltip"][0]["title"] == "device"
    rows = spec["datasets"][points["data"]["name"]]
    assert len(rows) == len(table) and [r["r"] for r in rows] == [0.5, 2.0, 20.0]
    with pytest.raises(ValueError, match="non-positive"):
        charts.ratio_chart(table.assign(r=-1.0), ratio="r", series="q", label="n", y_title="r")


def test_fit_matrix_chart():
    hw = tables.load_hardware()
    fit = model_growth.inference_fit(devices=[d for d in hw["device"] if "H100" in d or "A100" in d])
    widest = model_growth.widest_fitting_format(fit)
    assert set(widest["widest_fitting"]) <= {"fp16", "int8", "int4", "none"}
    spec = charts.fit_matrix_chart(widest, title="M").to_dict()
    assert spec["title"] == "M" and len(spec["datasets"][spec["data"]["name"]]) == len(widest)
    _assert_responsive(spec)  # the columns share the page's width: the matrix fits a phone
    assert spec["height"] == 24 * widest["name"].nunique()
    cells, text = spec["layer"]
    assert (cells["mark"]["type"], text["mark"]["type"]) == ("rect", "text")
    assert cells["encoding"]["color"]["field"] == "widest_fitting"
    scale = cells["encoding"]["color"]["scale"]
    assert scale["domain"] == ["fp16", "int8", "int4", "none"]  # fixed: the legend explains all four
    assert scale["range"] == [NAMED_COLOURS["fp16"], NAMED_COLOURS["int8"], NAMED_COLOURS["int4"], GREY]
    assert (cells["encoding"]["x"]["field"], cells["encoding"]["y"]["field"]) == ("device_label", "name")
    assert cells["encoding"]["x"]["sort"] == {"field": "device_memory_gb", "order": "ascending"}
    assert cells["encoding"]["y"]["sort"] == {"field": "total_params_billion", "order": "ascending"}
    bits = {r["widest_fitting"]: r["bits"] for r in spec["datasets"][spec["data"]["name"]]}
    assert all(v == {"fp16": "16", "int8": "8", "int4": "4", "none": "—"}[k] for k, v in bits.items())
    assert text["encoding"]["text"]["field"] == "bits"
    assert {t["title"] for t in cells["encoding"]["tooltip"]} >= {"model", "device", "parameters [billion]"}


def test_short_device_name_and_tooltip_title():
    assert short_device_name("H100 SXM5 80GB (Hopper)") == "H100 SXM5 80GB"
    assert short_device_name("Google TPU v5e") == "TPU v5e"
    assert short_device_name("Tesla V100 SXM2 16GB (Volta)") == "V100 SXM2 16GB"
    assert short_device_name("Gaudi 3") == "Gaudi 3"
    assert tooltip_title("source_url") == "source" and tooltip_title("kv_bytes") == "kv bytes"


def test_year_axis_ticks_whole_years_few_enough_for_a_phone():
    from memwall.charts.trends import MAX_YEAR_TICKS, year_axis

    def years(a: str, b: str) -> list[int]:
        return [v["year"] for v in year_axis(pd.Series(pd.to_datetime([a, b]))).to_dict()["values"]]

    assert years("1996-03-01", "2026-05-01") == [2000, 2005, 2010, 2015, 2020, 2025]
    assert years("2016-03-01", "2022-05-01") == [2017, 2018, 2019, 2020, 2021, 2022]
    assert years("2023-03-01", "2026-09-01") == [2024, 2025, 2026]
    assert 0 < len(years("1990-01-01", "2030-01-01")) <= MAX_YEAR_TICKS
    short = year_axis(pd.Series(pd.to_datetime(["2000-03-01", "2000-09-01"]))).to_dict()
    assert short["format"] == "%Y-%m" and "values" not in short


def test_long_legend_labels_wrap_on_a_phone():
    df = pd.DataFrame({"date": pd.to_datetime(["2000-01-01", "2010-01-01"]), "v": [1.0, 100.0],
                       "s": ["needed for compute-bound batch-1 decode"] * 2})
    fit = fit_exponential(decimal_year(df["date"]), df["v"])
    spec = charts.growth_chart(df, value="v", series="s", fits={df["s"][0]: fit}, y_title="v").to_dict()
    legend = spec["layer"][1]["encoding"]["color"]["legend"]
    assert legend["symbolOpacity"] == 0.9 and legend["title"] is None
    expr = legend["labelExpr"]  # narrow: the name in lines of at most 30 characters, the rate on a line of its own
    assert expr.startswith("width < 420") and '["needed for compute-bound", "batch-1 decode:", "2.51x / 2 yrs"]' in expr
    short = charts.growth_chart(df.assign(s="a"), value="v", series="s", y_title="v").to_dict()
    assert "labelExpr" not in short["layer"][0]["encoding"]["color"]["legend"]


def test_a_series_keeps_its_colour_and_shape_whatever_the_order():
    """Peak FLOP/s is a blue circle and DRAM bandwidth an orange square on the paper's and on our chart."""
    from memwall.charts.trends import _series_scales

    paper_colour, paper_shape = _series_scales(["DRAM bandwidth: 1.59x", "peak FLOP/s: 3.03x"], None)
    ours_colour, ours_shape = _series_scales(["peak FLOP/s (max 16-bit): 2.70x", "DRAM bandwidth: 1.70x"], None)
    paper = dict(zip(paper_colour.range, paper_shape.range, strict=True))
    assert paper == dict(zip(ours_colour.range, ours_shape.range, strict=True))
    assert paper_shape.range == ["square", "circle"] and ours_shape.range == ["circle", "square"]
