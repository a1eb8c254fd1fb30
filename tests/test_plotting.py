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
    spec = charts.balance_chart(bal, fit=hardware_trends.fit_series(bal, "balance_flop_per_byte")).to_dict()
    assert spec["layer"][1]["encoding"]["y"]["scale"]["type"] == "log"
    assert "x / 2 yrs" in str(spec["datasets"])
    table = pd.DataFrame({"date": pd.to_datetime(["2024-01-01"]), "r": [2.0], "q": ["x"], "n": ["dev"]})
    assert charts.ratio_chart(table, ratio="r", series="q", label="n", y_title="r").to_dict()
    with pytest.raises(ValueError, match="non-positive"):
        charts.ratio_chart(table.assign(r=-1.0), ratio="r", series="q", label="n", y_title="r")


def test_issue5_charts():
    from memwall.wall import model_growth, training_bars

    hw = tables.load_hardware()
    fit = model_growth.inference_fit(devices=[d for d in hw["device"] if "H100 SXM" in d])
    widest = model_growth.widest_fitting_format(fit)
    assert set(widest["widest_fitting"]) <= {"fp16", "int8", "int4", "none"}
    assert charts.fit_matrix_chart(widest).to_dict()
    spec = charts.memory_bars_chart(training_bars.paper_bars_long()).to_dict()
    assert len(spec["layer"]) == 2
    grid = training_bars.calculator_grid({"GPT-2 XL": "gpt2-xl"}, seq_lens=[1024], micro_batches=[1, 2],
                                           zero_stages=[0, 3], n_gpus=[1, 8], recomputes=["none"])
    assert len(grid) == 1 * 2 * 2 * 2 * 1 * 4
    devices = pd.DataFrame({"device": ["x"], "memory_gb": [80.0]})
    spec = charts.training_calculator_chart(grid, devices).to_dict()
    assert {p["name"] for p in spec["params"]} == {"m_pick", "s_pick", "z_pick", "g_pick", "r_pick", "d_pick"}
