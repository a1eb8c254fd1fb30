"""Trend charts: growth with fitted lines, machine balance, ratios and the fit matrix."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import altair as alt
import numpy as np
import pandas as pd

from memwall.book import in_unit
from memwall.charts.theme import log_axis, require_positive, years_to_dates

if TYPE_CHECKING:  # types only: charts draw computed data and import no computing module
    from memwall.trends import GrowthFit

__all__ = ["balance_chart", "fit_matrix_chart", "growth_chart", "ratio_chart"]





def growth_chart(
    points: pd.DataFrame,
    *,
    value: str,
    series: str,
    fits: Mapping[str, GrowthFit] | None = None,
    y_title: str,
    tooltip: Sequence[str] = (),
    title: str = "",
    fit_label: str = "{name}: {per2:.2f}x / 2 yrs",
) -> alt.LayerChart:
    """Dated points on a log y axis, one colour per series, with fitted exponential lines.

    Parameters
    ----------
    points : pandas.DataFrame
        One row per point with columns ``date`` (datetime), ``value``, ``series`` and the
        ``tooltip`` columns.
    value : str
        Column plotted on the log y axis (positive).
    series : str
        Column that names each point's series (colour).
    fits : mapping of str to GrowthFit, optional
        Fitted line per series name, drawn over that series' time span.
    y_title : str
        Y-axis title with unit, e.g. ``"peak [FLOP/s]"``.
    tooltip : sequence of str
        Extra columns shown on hover.
    title : str
        Chart title.
    fit_label : str
        Legend text of a series that has a fit (points and line); ``{name}``, ``{per2}`` and
        ``{per20}`` are filled in.

    Returns
    -------
    altair.LayerChart

    Raises
    ------
    ValueError
        If ``value`` holds a non-positive number (it cannot go on a log axis) or a column is missing.
    """
    needed = ["date", value, series, *tooltip]
    missing = [c for c in needed if c not in points.columns]
    if missing:
        raise ValueError(f"points lacks column(s) {missing}; has {list(points.columns)}")
    require_positive(points, value)
    data = points[list(dict.fromkeys(needed))].copy()
    labels = {name: fit_label.format(name=name, per2=fit.per_2_years, per20=fit.per_20_years)
              for name, fit in (fits or {}).items()}
    data[series] = data[series].map(lambda s: labels.get(s, s))
    colour = alt.Color(f"{series}:N", title=None)
    base = alt.Chart(data).mark_point(filled=True, size=55, opacity=0.85).encode(
        x=alt.X("date:T", title="release date"),
        y=alt.Y(f"{value}:Q", scale=alt.Scale(type="log"), axis=log_axis(y_title)),
        color=colour,
        # with fit lines the legend comes from the colour (lines + points); without, colour and shape merge
        shape=alt.Shape(f"{series}:N", legend=None) if fits else alt.Shape(f"{series}:N", title=None),
        tooltip=[alt.Tooltip("date:T", format="%Y-%m-%d"), alt.Tooltip(f"{value}:Q", format=".4~s"),
                 *[t for t in tooltip if t != series]],
    )
    layers: list[alt.Chart] = [base]
    if fits:
        rows = []
        for name, fit in fits.items():
            years = np.array([fit.first_year, fit.last_year])
            for d, v in zip(years_to_dates(years), fit.predict(years), strict=True):
                rows.append({"date": d, value: v, series: labels[name]})
        lines = alt.Chart(pd.DataFrame(rows)).mark_line(strokeWidth=6, opacity=0.35).encode(
            x="date:T", y=alt.Y(f"{value}:Q", scale=alt.Scale(type="log")), color=colour,
            tooltip=[alt.Tooltip(f"{series}:N", title="fit")],
        )
        layers.insert(0, lines)
    return alt.layer(*layers).properties(title=title)


def balance_chart(balance: pd.DataFrame, *, fit: GrowthFit | None = None, title: str = "") -> alt.LayerChart:
    """Machine balance (ridge point) of each device over time, log y, coloured by kind.

    Parameters
    ----------
    balance : pandas.DataFrame
        Table from :func:`memwall.wall.hardware_trends.machine_balance`.
    fit : GrowthFit, optional
        Trend of the balance, drawn as a line over its time span (rate in its tooltip).
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
    """
    data = balance[["device", "kind", "date", "precision", "ridge_flop_per_byte", "peak_flop_per_s",
                    "bandwidth_bytes_per_s", "source_url"]]
    layers = []
    if fit is not None:
        years = np.array([fit.first_year, fit.last_year])
        line = pd.DataFrame({"date": years_to_dates(years), "ridge_flop_per_byte": fit.predict(years),
                             "fit": f"trend: {fit.per_2_years:.2f}x / 2 yrs"})
        layers.append(alt.Chart(line).mark_line(strokeWidth=6, opacity=0.3, color="#555").encode(
            x="date:T", y=alt.Y("ridge_flop_per_byte:Q", scale=alt.Scale(type="log")), tooltip=["fit:N"]))
    points = alt.Chart(data).mark_point(filled=True, size=60).encode(
        x=alt.X("date:T", title="release date"),
        y=alt.Y("ridge_flop_per_byte:Q", scale=alt.Scale(type="log"),
                axis=log_axis("machine balance = peak / DRAM bandwidth [FLOP/B]")),
        color=alt.Color("kind:N", title="kind"),
        shape=alt.Shape("kind:N", title="kind"),
        tooltip=["device:N", alt.Tooltip("date:T", format="%Y-%m"), "precision:N",
                 alt.Tooltip("ridge_flop_per_byte:Q", format=".3~s", title="balance [FLOP/B]"),
                 alt.Tooltip("peak_flop_per_s:Q", format=".3~s", title="peak [FLOP/s]"),
                 alt.Tooltip("bandwidth_bytes_per_s:Q", format=".3~s", title="bandwidth [B/s]"), "source_url:N"],
    )
    return alt.layer(*layers, points).properties(title=title)


def ratio_chart(table: pd.DataFrame, *, ratio: str, series: str, label: str, y_title: str,
                title: str = "") -> alt.LayerChart:
    """Dated ratios on a log axis around a reference line at 1 (e.g. actual / extrapolated trend).

    Parameters
    ----------
    table : pandas.DataFrame
        Rows with ``date``, ``ratio``, ``series`` and ``label`` columns.
    ratio : str
        Column of positive ratios [x].
    series : str
        Column naming each point's group (colour).
    label : str
        Column shown first in the tooltip (e.g. the device).
    y_title : str
        Y-axis title.
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart

    Raises
    ------
    ValueError
        If ``ratio`` holds a non-positive number.
    """
    require_positive(table, ratio)
    data = table[["date", ratio, series, label]]
    ticks = [v for v in (0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100)
             if data[ratio].min() / 3 <= v <= data[ratio].max() * 3]
    points = alt.Chart(data).mark_point(filled=True, size=60).encode(
        x=alt.X("date:T", title="release date", axis=alt.Axis(format="%Y-%m")),
        y=alt.Y(f"{ratio}:Q", scale=alt.Scale(type="log"), axis=alt.Axis(title=y_title, values=ticks, format="~g")),
        color=alt.Color(f"{series}:N", title=None),
        shape=alt.Shape(f"{series}:N", title=None),
        tooltip=[f"{label}:N", alt.Tooltip("date:T", format="%Y-%m"), alt.Tooltip(f"{ratio}:Q", format=".2f")],
    )
    rule = alt.Chart(pd.DataFrame({"y": [1.0]})).mark_rule(strokeDash=[4, 4], color="#555").encode(y="y:Q")
    return alt.layer(rule, points).properties(title=title)


def fit_matrix_chart(table: pd.DataFrame, *, title: str = "") -> alt.Chart:
    """Heat map: the widest weight format in which each model fits each device.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`memwall.wall.model_growth.widest_fitting_format`.
    title : str
        Chart title.

    Returns
    -------
    altair.Chart
    """
    order = ["fp16", "int8", "int4", "none"]
    data = table[["name", "device", "widest_fitting", "total_params_billion"]].assign(  # SI in, GB out
        device_memory_gb=in_unit(table["device_memory_bytes"], "GB"))
    base = alt.Chart(data).encode(
        x=alt.X("device:N", title=None, sort=None, axis=alt.Axis(labelAngle=-40, labelLimit=120)),
        y=alt.Y("name:N", title=None, sort=alt.EncodingSortField("total_params_billion", order="ascending")),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("widest_fitting:N", title="widest format that fits",
                        scale=alt.Scale(domain=order, range=["#009E73", "#56B4E9", "#E69F00", "#D55E00"])),
        tooltip=["name:N", "device:N", "widest_fitting:N",
                 alt.Tooltip("total_params_billion:Q", title="params [B]"),
                 alt.Tooltip("device_memory_gb:Q", format=".1f", title="device memory [GB]")],
    )
    text = base.mark_text(fontSize=9).encode(text="widest_fitting:N")
    return (cells + text).properties(title=title, width=alt.Step(34), height=alt.Step(20))
