"""Charts: valid Vega-Lite specs with log axes, tooltips and the book's theme; clear errors."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import pytest

from memwall import charts, tables
from memwall.trends import decimal_year, fit_exponential
from memwall.wall import hardware_trends, trend_checks


def test_theme_enabled():
    assert alt.theme.active == "memwall"


def test_years_to_dates_inverts_decimal_year():
    years = np.array([2000.0, 2020.5, 2023.999])
    # decimal_year works on whole days, so the round trip is exact to within one day
    np.testing.assert_allclose(decimal_year(charts.years_to_dates(years)), years, atol=1 / 365)


def test_growth_chart_spec():
    pts = tables.load_paper_hw_points()
    fits = trend_checks.paper_figure_growth(pts)
    chart = charts.growth_chart(pts, value="normalized_value", series="series", fits=fits,
                                  y_title="normalised [x]", tooltip=["label"])
    spec = chart.to_dict()
    points_layer = spec["layer"][1]
    assert points_layer["encoding"]["y"]["scale"]["type"] == "log"
    assert {t["field"] for t in points_layer["encoding"]["tooltip"]} >= {"date", "normalized_value", "label"}
    assert len(spec["layer"]) == 2  # fitted lines + points


def test_growth_chart_rejects_non_positive():
    df = pd.DataFrame({"date": pd.to_datetime(["2000-01-01", "2001-01-01"]), "v": [1.0, 0.0], "s": ["a", "a"]})
    with pytest.raises(ValueError, match="non-positive"):
        charts.growth_chart(df, value="v", series="s", y_title="v")
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['nope'\]"):
        charts.growth_chart(df.assign(v=1.0), value="v", series="s", y_title="v", tooltip=["nope"])


def test_fit_line_endpoints_follow_fit():
    df = pd.DataFrame({"date": pd.to_datetime(["2000-01-01", "2010-01-01"]), "v": [1.0, 100.0], "s": ["a", "a"]})
    fit = fit_exponential(decimal_year(df["date"]), df["v"])
    spec = charts.growth_chart(df, value="v", series="s", fits={"a": fit}, y_title="v").to_dict()
    line_data = spec["datasets"][spec["layer"][0]["data"]["name"]]
    assert [round(r["v"], 6) for r in line_data] == [1.0, 100.0]


def test_balance_and_ratio_charts():
    bal = hardware_trends.machine_balance(tables.load_hardware())
    spec = charts.balance_chart(bal, fit=hardware_trends.fit_series(bal, "ridge_flop_per_byte")).to_dict()
    assert spec["layer"][1]["encoding"]["y"]["scale"]["type"] == "log"
    assert "x / 2 yrs" in str(spec["datasets"])
    table = pd.DataFrame({"date": pd.to_datetime(["2020-01-01", "2022-06-01", "2024-01-01"]), "r": [0.5, 2.0, 20.0],
                          "q": ["x", "y", "x"], "n": ["a", "b", "c"]})
    spec = charts.ratio_chart(table, ratio="r", series="q", label="n", y_title="ratio [x]", title="T").to_dict()
    assert spec["title"] == "T"
    rule, points = spec["layer"]
    assert rule["mark"]["type"] == "rule" and spec["datasets"][rule["data"]["name"]] == [{"y": 1.0}]
    enc = points["encoding"]
    assert (enc["x"]["field"], enc["x"]["type"]) == ("date", "temporal")
    assert (enc["y"]["field"], enc["y"]["type"], enc["y"]["scale"]["type"]) == ("r", "quantitative", "log")
    assert enc["y"]["axis"]["title"] == "ratio [x]"
    assert enc["y"]["axis"]["values"] == [0.3, 1, 3, 10, 30]  # ticks within [min / 3, max * 3] = [0.17, 60]
    assert enc["color"]["field"] == enc["shape"]["field"] == "q"
    assert [t["field"] for t in enc["tooltip"]] == ["n", "date", "r"]
    rows = spec["datasets"][points["data"]["name"]]
    assert len(rows) == len(table) and [r["r"] for r in rows] == [0.5, 2.0, 20.0]
    with pytest.raises(ValueError, match="non-positive"):
        charts.ratio_chart(table.assign(r=-1.0), ratio="r", series="q", label="n", y_title="r")


def test_issue5_charts():
    from memwall.wall import model_growth, training_bars

    hw = tables.load_hardware()
    fit = model_growth.inference_fit(devices=[d for d in hw["device"] if "H100 SXM" in d])
    widest = model_growth.widest_fitting_format(fit)
    assert set(widest["widest_fitting"]) <= {"fp16", "int8", "int4", "none"}
    spec = charts.fit_matrix_chart(widest, title="M").to_dict()
    assert spec["title"] == "M" and len(spec["datasets"][spec["data"]["name"]]) == len(widest)
    cells, text = spec["layer"]
    assert (cells["mark"]["type"], text["mark"]["type"]) == ("rect", "text")
    assert cells["encoding"]["color"]["field"] == text["encoding"]["text"]["field"] == "widest_fitting"
    assert cells["encoding"]["color"]["scale"]["domain"] == ["fp16", "int8", "int4", "none"]
    assert (cells["encoding"]["x"]["field"], cells["encoding"]["y"]["field"]) == ("device", "name")
    assert cells["encoding"]["y"]["sort"] == {"field": "total_params_billion", "order": "ascending"}
    spec = charts.memory_bars_chart(training_bars.paper_bars_long()).to_dict()
    assert len(spec["layer"]) == 2
    grid = training_bars.calculator_grid({"GPT-2 XL": "gpt2-xl"}, seq_lens=[1024], micro_batches=[1, 2],
                                           zero_stages=[0, 3], n_gpus=[1, 8], recomputes=["none"])
    assert len(grid) == 1 * 2 * 2 * 2 * 1 * 4
    devices = pd.DataFrame({"device": ["x"], "memory_bytes": [80e9]})
    spec = charts.training_calculator_chart(grid, devices).to_dict()
    assert {p["name"] for p in spec["params"]} == {"m_pick", "s_pick", "z_pick", "g_pick", "r_pick", "d_pick"}


def test_decade_axis_ticks_every_power_of_ten_the_data_spans():
    from memwall.charts.theme import decade_axis

    axis = decade_axis(pd.Series([0.3, 2e4]), "x [B]")
    assert axis.values == [0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0]
    assert "replace" in decade_axis(pd.Series([1e9, 7e10]), "parameters", billions=True).labelExpr
    for bad in ([0.0, 1.0], [1.0, float("inf")], [-1.0, 2.0]):
        with pytest.raises(ValueError, match="needs finite values > 0"):
            decade_axis(pd.Series(bad), "x")


def test_require_columns_names_the_table_and_what_it_has():
    from memwall.charts.theme import require_columns

    with pytest.raises(ValueError, match=r"ceilings lacks column\(s\) b; has a"):
        require_columns(pd.DataFrame({"a": [1]}), ["a", "b"], "ceilings")
