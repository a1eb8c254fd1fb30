"""Charts: valid Vega-Lite specs with log axes, tooltips and the book's theme; clear errors."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import pytest

from memwall import charts
from memwall.trends import decimal_year


def test_theme_enabled():
    assert alt.theme.active == "memwall"


def test_years_to_dates_inverts_decimal_year():
    years = np.array([2000.0, 2020.5, 2023.999])
    # decimal_year works on whole days, so the round trip is exact to within one day
    np.testing.assert_allclose(decimal_year(charts.years_to_dates(years)), years, atol=1 / 365)


# the trend charts (memwall.charts.trends) are tested in tests/test_charts_trends.py


def test_issue5_charts():
    from memwall.wall import training_bars

    spec = charts.memory_bars_chart(training_bars.paper_bars_long()).to_dict()
    # bars, GPU-memory ticks, their "GPU 32 GB" labels and the model names; no in-chart title, container width
    assert [lay["mark"]["type"] for lay in spec["layer"]] == ["bar", "tick", "text", "text"]
    assert spec["width"] == "container" and "title" not in spec
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
    # data within one decade: 1-2-5 ticks, so that the axis shows more than its two ends
    assert decade_axis(pd.Series([120.0, 900.0]), "x [FLOP/B]").values == [100.0, 200.0, 500.0, 1000.0]
    for bad in ([0.0, 1.0], [1.0, float("inf")], [-1.0, 2.0]):
        with pytest.raises(ValueError, match="needs finite values > 0"):
            decade_axis(pd.Series(bad), "x")


def test_require_columns_names_the_table_and_what_it_has():
    from memwall.charts.theme import require_columns

    with pytest.raises(ValueError, match=r"ceilings lacks column\(s\) b; has a"):
        require_columns(pd.DataFrame({"a": [1]}), ["a", "b"], "ceilings")
