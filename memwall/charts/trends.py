"""Trend charts: growth with fitted lines, machine balance, ratios and the fit matrix.

Every chart here takes the width of the page's column (:func:`memwall.charts.theme.responsive`), labels its
log axis at the powers of ten only (:func:`memwall.charts.theme.log_axis`), takes its colours from the book's
one palette (:func:`memwall.charts.palette.colour_scale`) and shows one legend whose symbols have the shape
and the colour of the marks.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import altair as alt
import numpy as np
import pandas as pd

from memwall.book import in_unit
from memwall.charts.palette import GREY, colour_scale
from memwall.charts.theme import PALETTE, log_axis, require_positive, responsive, years_to_dates

if TYPE_CHECKING:  # types only: charts draw computed data and import no computing module
    from memwall.trends import GrowthFit

__all__ = ["FORMAT_BITS", "FORMAT_ORDER", "KIND_LABELS", "SHAPES", "TOOLTIP_TITLES", "balance_chart",
           "fit_matrix_chart", "growth_chart", "ratio_chart", "short_device_name", "tooltip_title", "year_axis"]

SHAPES = ("circle", "square", "triangle-up", "diamond", "triangle-down", "cross", "wedge", "stroke")
"""Point shapes of the series of a chart, in legend order (the legend shows the same shape and colour)."""

KIND_LABELS = {"cpu": "CPU", "gpu": "GPU", "tpu": "TPU", "accelerator": "other accelerator"}
"""Reader's name of each ``kind`` of the hardware table."""

TOOLTIP_TITLES = {"source_url": "source", "name": "name", "likely_identity": "our identification",
                  "implied_value": "implied value", "implied_unit": "unit of the implied value",
                  "total_params_billion": "parameters [billion]", "widest_fitting": "widest format that fits"}
"""Hover titles of the columns that recur in trend tables (other columns: underscores become blanks)."""

NARROW_PX = 420
"""Below this chart width [px] (a phone), legend labels longer than :data:`WRAP_CHARS` are broken into lines."""
WRAP_CHARS = 30
"""Longest legend line on a narrow chart [characters] (about 200 px of 12 px text)."""


def _wrap(label: str) -> list[str]:
    """Lines of a long legend label: a fitted rate ("name: 1.5x / 2 yrs") gets a line of its own."""
    name, sep, rate = label.partition(": ")
    return [*textwrap.wrap(name + sep.rstrip(), WRAP_CHARS), *([rate] if sep else [])]


def _legend(domain: Sequence[str]) -> alt.Legend:
    """One legend for colour and shape (same field, same title): symbols in the shape and colour of the points,
    opaque (the fitted lines are pale); on a narrow chart a long label wraps instead of being cut."""
    wrapped = {d: _wrap(d) for d in domain if len(d) > WRAP_CHARS}
    extra = {}
    if wrapped:
        lines = json.dumps(wrapped, ensure_ascii=False)
        extra["labelExpr"] = (f"width < {NARROW_PX} && isValid(({lines})[datum.label]) ? ({lines})[datum.label] "
                              ": datum.label")
    return alt.Legend(title=None, orient="bottom", direction="vertical", labelLimit=400, symbolSize=80,
                      symbolOpacity=0.9, **extra)


def tooltip_title(column: str) -> str:
    """The reader's title of a tooltip field: :data:`TOOLTIP_TITLES`, else the column with blanks for ``_``."""
    return TOOLTIP_TITLES.get(column, column.replace("_", " "))


def short_device_name(device: str) -> str:
    """A device name short enough for an axis label: no parenthesised architecture, no vendor's series word.

    ``"H100 SXM5 80GB (Hopper)"`` -> ``"H100 SXM5 80GB"``, ``"Google TPU v5e"`` -> ``"TPU v5e"``,
    ``"Tesla V100 SXM2 16GB (Volta)"`` -> ``"V100 SXM2 16GB"``.
    """
    name = re.sub(r"\s*\([^)]*\)\s*$", "", str(device))
    return re.sub(r"^(Google|Tesla|Instinct|NVIDIA|AMD|Intel)\s+", "", name) or str(device)


def _series_scales(domain: Sequence[str], colours: Mapping[str, str] | None) -> tuple[alt.Scale, alt.Scale]:
    if len(domain) > len(SHAPES):
        raise ValueError(f"a trend chart shows at most {len(SHAPES)} series; got {len(domain)}: {list(domain)}")
    colour = colour_scale(domain, colours)
    # the shape follows the colour (the k-th colour of the palette gets the k-th shape), so that a series keeps
    # its colour and its shape on every chart, whatever the order of the series
    order = [*PALETTE, GREY]
    wanted = [SHAPES[order.index(c) % len(SHAPES)] if c in order else None for c in colour.range]
    shapes = [w if w and wanted.count(w) == 1 else SHAPES[i] for i, w in enumerate(wanted)]
    if len(set(shapes)) < len(shapes):  # two colours share a shape: fall back to legend order
        shapes = list(SHAPES[:len(domain)])
    return colour, alt.Scale(domain=list(domain), range=shapes)


def _finite(values: np.ndarray) -> np.ndarray:
    """The finite values (missing ones are not drawn, so they do not set the axis's decades)."""
    return values[np.isfinite(values)]


MAX_YEAR_TICKS = 7
"""Most year ticks on a time axis: few enough that the labels fit a phone's chart."""


def year_axis(dates: pd.Series | Sequence[pd.Timestamp], title: str = "release date") -> alt.Axis:
    """A time axis with a tick on 1 January every 1, 2, 5, 10 or 20 years (at most :data:`MAX_YEAR_TICKS`).

    Parameters
    ----------
    dates : pandas.Series or sequence of pandas.Timestamp
        The dates on the axis (missing ones are ignored).
    title : str
        Axis title.

    Returns
    -------
    altair.Axis
        Ticks at whole years, labelled ``%Y`` (Vega's own ticks would print a year twice on a short span);
        for dates that span fewer than two new years, Vega's ticks labelled ``%Y-%m``.
    """
    stamps = pd.to_datetime(pd.Series(list(dates))).dropna()
    if stamps.empty:
        return alt.Axis(title=title, format="%Y")
    lo, hi = int(stamps.min().year), int(stamps.max().year) + 1
    step = next(s for s in (1, 2, 5, 10, 20, 50) if (hi - lo) / s <= MAX_YEAR_TICKS)
    years = [y for y in range(lo - lo % step, hi + 1, step) if stamps.min() <= pd.Timestamp(year=y, month=1, day=1)
             <= stamps.max()]
    if len(years) < 2:  # a span of about a year: Vega's own month ticks
        return alt.Axis(title=title, format="%Y-%m")
    return alt.Axis(title=title, format="%Y", values=[alt.DateTime(year=y, month=1, date=1) for y in years])


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
    height: int = 320,
    colours: Mapping[str, str] | None = None,
) -> alt.LayerChart:
    """Dated points on a log y axis, one colour and shape per series, with fitted exponential lines.

    The chart takes the width of the page's column; the y axis is labelled at the powers of ten; one legend
    shows each series' point shape in its colour (and names its fitted rate, when it has a fit).

    Parameters
    ----------
    points : pandas.DataFrame
        One row per point with columns ``date`` (datetime), ``value``, ``series`` and the
        ``tooltip`` columns.
    value : str
        Column plotted on the log y axis (positive).
    series : str
        Column that names each point's series (colour and shape).
    fits : mapping of str to GrowthFit, optional
        Fitted line per series name, drawn over that series' time span.
    y_title : str
        Y-axis title with unit, e.g. ``"peak [FLOP/s]"``.
    tooltip : sequence of str
        Extra columns shown on hover (titled by :func:`tooltip_title`: ``source_url`` reads "source").
    title : str
        Chart title (a numbered figure's caption usually says it instead).
    fit_label : str
        Legend text of a series that has a fit (points and line); ``{name}``, ``{per2}`` and
        ``{per20}`` are filled in.
    height : int
        Height of the plotting area [px].
    colours : mapping of str to str, optional
        Colours this chart fixes for some series (by series name), beyond the book's named colours.

    Returns
    -------
    altair.LayerChart

    Raises
    ------
    ValueError
        If ``value`` holds a non-positive number (it cannot go on a log axis), a column is missing, or there
        are more series than :data:`SHAPES`.
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
    domain = list(dict.fromkeys(data[series].astype(str)))
    colour_scale_, shape_scale = _series_scales(
        domain, {labels.get(k, k): c for k, c in (colours or {}).items()})
    legend = _legend(domain)
    colour = alt.Color(f"{series}:N", scale=colour_scale_, legend=legend)
    rows = []
    for name, fit in (fits or {}).items():
        years = np.array([fit.first_year, fit.last_year])
        for d, v in zip(years_to_dates(years), fit.predict(years), strict=True):
            rows.append({"date": d, value: v, series: labels[name]})
    shown_values = _finite(np.concatenate([data[value].to_numpy(dtype=float), [r[value] for r in rows]]))
    y_scale = alt.Scale(type="log")
    base = alt.Chart(data).mark_point(filled=True, size=55, opacity=0.85).encode(
        x=alt.X("date:T", title="release date", axis=year_axis(pd.concat([data["date"], pd.Series(
            [r["date"] for r in rows], dtype="datetime64[ns]")]))),
        y=alt.Y(f"{value}:Q", scale=y_scale, axis=log_axis(y_title, shown_values)),
        color=colour,
        shape=alt.Shape(f"{series}:N", scale=shape_scale, legend=legend),
        tooltip=[alt.Tooltip(f"{series}:N", title="series"),
                 alt.Tooltip("date:T", format="%Y-%m-%d", title="release date"),
                 alt.Tooltip(f"{value}:Q", format=".4~s", title=y_title),
                 *[alt.Tooltip(f"{t}:N", title=tooltip_title(t)) for t in dict.fromkeys(tooltip) if t != series]],
    )
    layers: list[alt.Chart] = [base]
    if rows:
        lines = alt.Chart(pd.DataFrame(rows)).mark_line(strokeWidth=6, opacity=0.35).encode(
            x="date:T", y=alt.Y(f"{value}:Q", scale=y_scale), color=colour,
            tooltip=[alt.Tooltip(f"{series}:N", title="fitted trend")],
        )
        layers.insert(0, lines)
    chart = alt.layer(*layers)
    if title:
        chart = chart.properties(title=title)
    return responsive(chart, height)


def balance_chart(balance: pd.DataFrame, *, fit: GrowthFit | None = None, title: str = "",
                  height: int = 320) -> alt.LayerChart:
    """Machine balance (ridge point) of each device over time, log y, colour and shape by kind of device.

    Parameters
    ----------
    balance : pandas.DataFrame
        Table from :func:`memwall.wall.hardware_trends.machine_balance`.
    fit : GrowthFit, optional
        Trend of the balance, drawn as a grey line over its time span, labelled with its rate.
    title : str
        Chart title (a numbered figure's caption usually says it instead).
    height : int
        Height of the plotting area [px].

    Returns
    -------
    altair.LayerChart
    """
    data = balance[["device", "kind", "date", "precision", "ridge_flop_per_byte", "peak_flop_per_s",
                    "bandwidth_bytes_per_s", "source_url"]].copy()
    data["kind"] = data["kind"].map(lambda k: KIND_LABELS.get(k, k))
    domain = [KIND_LABELS[k] for k in KIND_LABELS if KIND_LABELS[k] in set(data["kind"])]
    domain += sorted(set(data["kind"]) - set(domain))
    colour_scale_, shape_scale = _series_scales(domain, None)
    legend = _legend(domain)
    y_scale = alt.Scale(type="log")
    values = data["ridge_flop_per_byte"].to_numpy(dtype=float)
    layers = []
    if fit is not None:
        years = np.array([fit.first_year, fit.last_year])
        line = pd.DataFrame({"date": years_to_dates(years), "ridge_flop_per_byte": fit.predict(years),
                             "fit": f"trend: {fit.per_2_years:.2f}x / 2 yrs"})
        values = np.concatenate([values, line["ridge_flop_per_byte"].to_numpy(dtype=float)])
        layers.append(alt.Chart(line).mark_line(strokeWidth=6, opacity=0.35, color=GREY).encode(
            x="date:T", y=alt.Y("ridge_flop_per_byte:Q", scale=y_scale),
            tooltip=[alt.Tooltip("fit:N", title="fitted trend")]))
        # the label sits under the start of the line, where no device is (the devices of later years lie above)
        layers.append(alt.Chart(line.head(1)).mark_text(align="left", baseline="top", dx=6, dy=8, fontSize=12,
                                                        color="#333").encode(
            x="date:T", y=alt.Y("ridge_flop_per_byte:Q", scale=y_scale), text="fit:N"))
    points = alt.Chart(data).mark_point(filled=True, size=60, opacity=0.85).encode(
        x=alt.X("date:T", title="release date", axis=year_axis(data["date"])),
        y=alt.Y("ridge_flop_per_byte:Q", scale=y_scale,
                axis=log_axis("machine balance = peak / DRAM bandwidth [FLOP/B]", _finite(values))),
        color=alt.Color("kind:N", scale=colour_scale_, legend=legend),
        shape=alt.Shape("kind:N", scale=shape_scale, legend=legend),
        tooltip=[alt.Tooltip("device:N", title="device"), alt.Tooltip("kind:N", title="kind"),
                 alt.Tooltip("date:T", format="%Y-%m", title="release date"),
                 alt.Tooltip("precision:N", title="precision"),
                 alt.Tooltip("ridge_flop_per_byte:Q", format=".3~s", title="machine balance [FLOP/B]"),
                 alt.Tooltip("peak_flop_per_s:Q", format=".3~s", title="peak [FLOP/s]"),
                 alt.Tooltip("bandwidth_bytes_per_s:Q", format=".3~s", title="DRAM bandwidth [B/s]"),
                 alt.Tooltip("source_url:N", title="source")],
    )
    chart = alt.layer(*layers, points)
    if title:
        chart = chart.properties(title=title)
    return responsive(chart, height)


def ratio_chart(table: pd.DataFrame, *, ratio: str, series: str, label: str, y_title: str,
                title: str = "", label_title: str | None = None, reference: str = "on the trend",
                height: int = 300) -> alt.LayerChart:
    """Dated ratios on a log axis around a labelled reference line at 1 (e.g. actual / extrapolated trend).

    Parameters
    ----------
    table : pandas.DataFrame
        Rows with ``date``, ``ratio``, ``series`` and ``label`` columns.
    ratio : str
        Column of positive ratios [x].
    series : str
        Column naming each point's group (colour and shape).
    label : str
        Column shown first in the tooltip (e.g. the device).
    y_title : str
        Y-axis title.
    title : str
        Chart title (a numbered figure's caption usually says it instead).
    label_title : str, optional
        Hover title of ``label`` (default: :func:`tooltip_title` of it).
    reference : str
        Text label of the line at 1.
    height : int
        Height of the plotting area [px].

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
    domain = list(dict.fromkeys(data[series].astype(str)))
    colour_scale_, shape_scale = _series_scales(domain, None)
    legend = _legend(domain)
    y_scale = alt.Scale(type="log")
    values = np.concatenate([data[ratio].to_numpy(dtype=float), [1.0]])
    points = alt.Chart(data).mark_point(filled=True, size=60, opacity=0.85).encode(
        x=alt.X("date:T", title="release date", axis=year_axis(data["date"])),
        y=alt.Y(f"{ratio}:Q", scale=y_scale, axis=log_axis(y_title, _finite(values))),
        color=alt.Color(f"{series}:N", scale=colour_scale_, legend=legend),
        shape=alt.Shape(f"{series}:N", scale=shape_scale, legend=legend),
        tooltip=[alt.Tooltip(f"{label}:N", title=label_title or tooltip_title(label)),
                 alt.Tooltip(f"{series}:N", title="quantity"),
                 alt.Tooltip("date:T", format="%Y-%m", title="release date"),
                 alt.Tooltip(f"{ratio}:Q", format=".2f", title=y_title)],
    )
    ref = pd.DataFrame({"y": [1.0], "text": [reference]})
    rule = alt.Chart(ref).mark_rule(strokeDash=[4, 4], color="#555").encode(y=alt.Y("y:Q", scale=y_scale))
    # the label sits at the right end of the line: the newest devices, on the right, sit well off the trend
    text = alt.Chart(ref).mark_text(align="right", baseline="bottom", x=alt.expr("width"), dx=-4, dy=-3,
                                    fontSize=12, color="#333").encode(y=alt.Y("y:Q", scale=y_scale), text="text:N")
    chart = alt.layer(rule, points, text)
    if title:
        chart = chart.properties(title=title)
    return responsive(chart, height)


FORMAT_ORDER = ("fp16", "int8", "int4", "none")
"""Weight formats of the fit matrix, widest first; ``"none"``: not even int4 fits."""
FORMAT_BITS = {"fp16": "16", "int8": "8", "int4": "4"}
"""Bits per weight of each format: the text of a fit-matrix cell."""


def fit_matrix_chart(table: pd.DataFrame, *, title: str = "", row_px: int = 24) -> alt.LayerChart:
    """Heat map: the widest weight format in which each model (row) fits each device (column).

    Devices are ordered by memory and labelled by :func:`short_device_name`; the columns share the width of
    the page's column, so the matrix fits a phone; each cell's text is the bits per weight of its format
    (``—``: none fits).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`memwall.wall.model_growth.widest_fitting_format`.
    title : str
        Chart title (a numbered figure's caption usually says it instead).
    row_px : int
        Height of one row [px].

    Returns
    -------
    altair.LayerChart
    """
    data = table[["name", "device", "widest_fitting", "total_params_billion"]].assign(  # SI in, GB out
        device_memory_gb=in_unit(table["device_memory_bytes"], "GB"),
        device_label=table["device"].map(short_device_name),
        bits=table["widest_fitting"].map(lambda f: FORMAT_BITS.get(f, "—")))
    order = list(FORMAT_ORDER)  # fixed domain: the legend always explains all four
    base = alt.Chart(data).encode(
        x=alt.X("device_label:N", title=None,
                sort=alt.EncodingSortField("device_memory_gb", order="ascending"),
                axis=alt.Axis(labelAngle=-90, labelLimit=110, orient="top", labelPadding=4, grid=False)),
        y=alt.Y("name:N", title=None, sort=alt.EncodingSortField("total_params_billion", order="ascending"),
                axis=alt.Axis(labelLimit=120, grid=False)),
    )
    words = {f: f"{f} ({FORMAT_BITS[f]} bits)" for f in FORMAT_BITS} | {"none": "none fits (—)"}
    legend = alt.Legend(title="widest weight format that fits", orient="bottom", direction="vertical", columns=2,
                        labelExpr=f"({json.dumps(words)})[datum.label]", symbolType="square")
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color("widest_fitting:N", scale=colour_scale(order, {"none": GREY}), legend=legend),
        tooltip=[alt.Tooltip("name:N", title="model"), alt.Tooltip("device:N", title="device"),
                 alt.Tooltip("widest_fitting:N", title="widest format that fits"),
                 alt.Tooltip("total_params_billion:Q", title="parameters [billion]"),
                 alt.Tooltip("device_memory_gb:Q", format=".1f", title="device memory [GB]")],
    )
    text = base.mark_text(fontSize=10).encode(  # white on the dark blue of fp16, black on the others
        text="bits:N",  # bits per weight: short enough for a phone's narrow columns
        color=alt.condition(alt.datum.widest_fitting == "fp16", alt.value("white"), alt.value("black")))
    chart = alt.layer(cells, text)
    if title:
        chart = chart.properties(title=title)
    return responsive(chart, row_px * data["name"].nunique())

