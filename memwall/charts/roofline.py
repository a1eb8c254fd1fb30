"""Interactive roofline chart (Altair): ceilings of a chosen device and precision, operations as points.

The chart is a log-log roofline (Williams, Waterman and Patterson 2009,
https://doi.org/10.1145/1498765.1498785): x is arithmetic intensity [FLOP/B], y attainable
throughput [FLOP/s]. Two dropdowns (Vega-Lite parameters) pick the device and the precision; the
roof (memory slope up to the ridge point, then the flat compute roof) and the operations' positions
on it are recomputed in the browser, so the chart works in a static HTML page. Each operation sits at
its intensity and at the throughput the roofline allows it, ``min(peak, intensity × bandwidth)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import altair as alt
import numpy as np
import pandas as pd

from memwall.charts import palette
from memwall.charts.case_study import CATEGORY_TITLE, _with_category_names, category_colour
from memwall.charts.theme import decade_axis, responsive

if TYPE_CHECKING:  # types only: charts draw computed data and import no computing module
    from memwall.roofline import Ceilings

__all__ = ["ceilings_frame", "roofline_chart"]

_ROOF_COLOUR = "#333333"
"""Colour of the roof line, its ridge point and the ridge's label."""
_SHAPES = ("circle", "square", "triangle-up", "diamond", "cross", "triangle-down")
"""Point shapes of the workloads (``label``), in order."""

_CEILING_COLUMNS = ["device", "precision", "peak_flop_per_s", "bandwidth_bytes_per_s", "ridge_flop_per_byte"]


def ceilings_frame(ceilings: Sequence[Ceilings]) -> pd.DataFrame:
    """Ceiling sets as a table for :func:`roofline_chart` (concatenate with
    :func:`memwall.device_ceilings.ceilings_table`).

    Parameters
    ----------
    ceilings : sequence of Ceilings
        E.g. a measured machine's :meth:`memwall.wall.measure.MachineReport.ceilings`.

    Returns
    -------
    pandas.DataFrame
        ``device`` (the ceiling's name), ``precision``, ``peak_flop_per_s`` [FLOP/s],
        ``bandwidth_bytes_per_s`` [B/s], ``ridge_flop_per_byte`` [FLOP/B].
    """
    return pd.DataFrame([{"device": c.name, "precision": c.precision, "peak_flop_per_s": c.peak_flop_per_s,
                          "bandwidth_bytes_per_s": c.bandwidth_bytes_per_s,
                          "ridge_flop_per_byte": c.ridge_flop_per_byte} for c in ceilings])


def _pick(name: str, label: str, options: list[str], value: str | None, *, bind: bool = True) -> alt.Parameter:
    if value is not None and value not in options:
        raise ValueError(f"{label}={value!r} is not among the ceilings; choices: {', '.join(options)}")
    initial = value if value is not None else options[0]
    if not bind:
        return alt.param(name=name, value=initial)
    return alt.param(name=name, value=initial, bind=alt.binding_select(options=options, name=f"{label} "))


def roofline_chart(
    ops: pd.DataFrame,
    ceilings: pd.DataFrame | Sequence[Ceilings],
    *,
    device: str | None = None,
    precision: str | None = None,
    title: str = "",
    height: int = 340,
) -> alt.LayerChart:
    """Log-log roofline with device and precision dropdowns and one point per operation.

    Parameters
    ----------
    ops : pandas.DataFrame
        One row per operation with ``op``, ``category``, ``flops`` [FLOP], ``bytes`` [B] and
        ``intensity`` [FLOP/B] (e.g. :func:`memwall.cost.cost_table`, or several concatenated); an
        optional ``label`` column (e.g. ``"GPT-2 decode"``) sets the point shape. Rows with no
        positive intensity are left out.
    ceilings : pandas.DataFrame or sequence of Ceilings
        Ceiling sets with ``device``, ``precision``, ``peak_flop_per_s`` [FLOP/s],
        ``bandwidth_bytes_per_s`` [B/s] and ``ridge_flop_per_byte`` [FLOP/B] (e.g.
        :func:`memwall.device_ceilings.ceilings_table`, plus :func:`ceilings_frame` of measured ones).
    device, precision : str, optional
        Initial dropdown choices (default: the first device and the first precision it has).
    title : str
        In-chart title; the book leaves it empty and puts the title in the figure's caption.
    height : int
        Height of the plotting area [px].

    Returns
    -------
    altair.LayerChart
        Width of the page's column: roof line, labelled ridge point and operations (colour: operation
        category in the book's palette; shape: the ``label``), on log axes labelled at their decades and
        fixed over every choice; a device/precision pair absent from ``ceilings`` shows a note instead.
        With one precision in ``ceilings`` there is no precision dropdown.

    Raises
    ------
    ValueError
        If a column is missing, ``ceilings`` or the plottable operations are empty, or ``device`` /
        ``precision`` is not among the ceilings.
    """
    if not isinstance(ceilings, pd.DataFrame):
        ceilings = ceilings_frame(list(ceilings))
    for name, table, cols in (("ops", ops, ["op", "category", "flops", "bytes", "intensity"]),
                              ("ceilings", ceilings, _CEILING_COLUMNS)):
        missing = [c for c in cols if c not in table.columns]
        if missing:
            raise ValueError(f"{name} lacks column(s) {missing}; has {list(table.columns)}")
    if ceilings.empty:
        raise ValueError("ceilings is empty")
    keep = ["op", "category", "flops", "bytes", "intensity"] + (["label"] if "label" in ops.columns else [])
    points = ops.loc[ops["intensity"].to_numpy(dtype=float) > 0, keep].copy()
    if points.empty:
        raise ValueError("ops has no operation with a positive intensity to plot")

    points = _with_category_names(points, "ops")
    ceil = ceilings[_CEILING_COLUMNS].copy()
    ceil["key"] = ceil["device"].astype(str) + "|" + ceil["precision"].astype(str)
    devices = list(dict.fromkeys(ceil["device"].astype(str)))
    device = device if device is not None else devices[0]
    if device not in devices:
        raise ValueError(f"device={device!r} is not among the ceilings; choices: {', '.join(devices)}")
    precisions = list(dict.fromkeys(ceil["precision"].astype(str)))
    if precision is None:
        precision = str(ceil.loc[ceil["device"] == device, "precision"].iloc[0])
    p_dev = _pick("roofline_device", "device", devices, device)
    # one precision in the ceilings: no dropdown (a menu of one option is no choice); the caption names it
    p_prec = _pick("roofline_precision", "precision", precisions, precision, bind=len(precisions) > 1)

    intensities = points["intensity"].to_numpy(dtype=float)
    ridges = ceil["ridge_flop_per_byte"].to_numpy(dtype=float)
    x_lo = float(10 ** np.floor(np.log10(min(intensities.min(), ridges.min()) / 2)))
    x_hi = float(10 ** np.ceil(np.log10(max(intensities.max(), ridges.max()) * 2)))
    roof = pd.concat([
        ceil.assign(intensity=x, order=i)
        for i, x in enumerate([x_lo, None, x_hi])
    ], ignore_index=True)
    roof["intensity"] = roof["intensity"].fillna(roof["ridge_flop_per_byte"])
    roof["attainable_flop_per_s"] = np.minimum(roof["peak_flop_per_s"],
                                               roof["intensity"] * roof["bandwidth_bytes_per_s"])

    key_expr = f"{p_dev.name} + '|' + {p_prec.name}"
    selected = f"datum.key == ({key_expr})"
    x = alt.X("intensity:Q", scale=alt.Scale(type="log", domain=[x_lo, x_hi]),
              axis=decade_axis([x_lo, x_hi], "arithmetic intensity [FLOP/B]"))
    # One y range for every device/precision choice: roofs stay comparable and the scale never empties.
    y_lo = float(10 ** np.floor(np.log10(roof["attainable_flop_per_s"].min())))
    y_hi = float(10 ** np.ceil(np.log10(roof["peak_flop_per_s"].max())))
    y_axis = decade_axis([y_lo, y_hi], "attainable throughput [FLOP/s]")
    y_scale = alt.Scale(type="log", domain=[y_lo, y_hi])
    ceiling_tip = [alt.Tooltip("device:N", title="device"), alt.Tooltip("precision:N", title="precision"),
                   alt.Tooltip("peak_flop_per_s:Q", format=".3~s", title="peak [FLOP/s]"),
                   alt.Tooltip("bandwidth_bytes_per_s:Q", format=".3~s", title="bandwidth [B/s]"),
                   alt.Tooltip("ridge_flop_per_byte:Q", format=",.3~r", title="ridge point [FLOP/B]")]
    roof_base = alt.Chart(roof).transform_filter(selected)
    line = roof_base.mark_line(color=_ROOF_COLOUR, strokeWidth=2.5, clip=True).encode(
        x=x, y=alt.Y("attainable_flop_per_s:Q", scale=y_scale, axis=y_axis),
        order="order:Q", tooltip=ceiling_tip)
    ridge_base = roof_base.transform_filter("datum.order == 1")
    ridge = ridge_base.mark_point(shape="diamond", size=90, filled=True, color=_ROOF_COLOUR).encode(
        x=x, y=alt.Y("attainable_flop_per_s:Q", scale=y_scale), tooltip=ceiling_tip)
    # the ridge's label sits above the ridge, left of it, where no operation can be drawn (they sit on the roof)
    ridge_label = ridge_base.transform_calculate(
        text="['ridge point', format(datum.ridge_flop_per_byte, ',.3~r') + ' FLOP/B']").mark_text(
        align="right", baseline="bottom", dx=-8, dy=-12, fontSize=12, color=_ROOF_COLOUR).encode(
        x=x, y=alt.Y("attainable_flop_per_s:Q", scale=y_scale), text="text:N")

    lookup_fields = ["peak_flop_per_s", "bandwidth_bytes_per_s"]
    op_tip = ([alt.Tooltip("label:N", title="workload")] if "label" in points.columns else []) + [
        alt.Tooltip("op:N", title="operation"), alt.Tooltip("category_name:N", title="category"),
        alt.Tooltip("flops:Q", format=".3~s", title="FLOPs"),
        alt.Tooltip("bytes:Q", format=".3~s", title="bytes moved [B]"),
        alt.Tooltip("intensity:Q", format=",.3~r", title="intensity [FLOP/B]"),
        alt.Tooltip("attainable_flop_per_s:Q", format=".3~s", title="attainable [FLOP/s]"),
        alt.Tooltip("time_bound_s:Q", format=".3~s", title="time bound [s]"),
        alt.Tooltip("bound:N", title="bound by")]
    colour = category_colour(legend=alt.Legend(title=CATEGORY_TITLE, symbolType="circle", symbolOpacity=1))
    if "label" in points.columns:
        labels = list(dict.fromkeys(points["label"].astype(str)))
        shape = alt.Shape("label:N", scale=alt.Scale(domain=labels, range=list(_SHAPES[:len(labels)])),
                          # inside the plot, bottom right: under the flat roof nothing is drawn (the ridge's label
                          # sits above the roof), and a second legend beside the colours would not fit a phone
                          legend=alt.Legend(title=None, orient="bottom-right", symbolFillColor="#555",
                                            symbolStrokeColor="#555", symbolOpacity=1, fillColor="white",
                                            padding=4, offset=4))
    else:
        shape = alt.value("circle")
    dots = alt.Chart(points).transform_calculate(key=key_expr).transform_lookup(
        lookup="key", from_=alt.LookupData(ceil, key="key", fields=lookup_fields)
    ).transform_filter("isValid(datum.peak_flop_per_s)").transform_calculate(
        attainable_flop_per_s="min(datum.peak_flop_per_s, datum.intensity * datum.bandwidth_bytes_per_s)",
        time_bound_s="max(datum.flops / datum.peak_flop_per_s, datum.bytes / datum.bandwidth_bytes_per_s)",
        bound="datum.intensity * datum.bandwidth_bytes_per_s < datum.peak_flop_per_s ? 'memory' : 'compute'",
    ).mark_point(filled=True, size=80, opacity=0.9).encode(
        x=x, y=alt.Y("attainable_flop_per_s:Q", scale=y_scale), color=colour, shape=shape, tooltip=op_tip)
    note = alt.Chart(pd.DataFrame({"n": [0]})).transform_calculate(key=key_expr).transform_lookup(
        lookup="key", from_=alt.LookupData(ceil, key="key", fields=["peak_flop_per_s"])
    ).transform_filter("!isValid(datum.peak_flop_per_s)").transform_calculate(
        # two lines, so that the message fits a phone's chart
        text=f"'no ' + {p_prec.name} + ' ceiling for ' + {p_dev.name} + '\\n' + 'choose another precision'"
    ).mark_text(align="left", baseline="top", fontSize=13, fontWeight="bold", color=palette.VERMILION,
                lineBreak="\n").encode(
        x=alt.value(8), y=alt.value(8), text="text:N")
    chart = responsive(alt.layer(line, ridge, ridge_label, dots, note).add_params(p_dev, p_prec), height)
    return chart.properties(title=title) if title else chart
