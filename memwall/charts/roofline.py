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

from memwall.charts.theme import log_axis

if TYPE_CHECKING:  # types only: charts draw computed data and import no computing module
    from memwall.roofline import Ceilings

__all__ = ["ceilings_frame", "roofline_chart"]




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


def _pick(name: str, label: str, options: list[str], value: str | None) -> alt.Parameter:
    if value is not None and value not in options:
        raise ValueError(f"{label}={value!r} is not among the ceilings; choices: {', '.join(options)}")
    return alt.param(name=name, value=value if value is not None else options[0],
                     bind=alt.binding_select(options=options, name=f"{label} "))


def roofline_chart(
    ops: pd.DataFrame,
    ceilings: pd.DataFrame | Sequence[Ceilings],
    *,
    device: str | None = None,
    precision: str | None = None,
    title: str = "",
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
        Chart title.

    Returns
    -------
    altair.LayerChart
        Roof line, ridge point and operations; a device/precision pair absent from ``ceilings``
        shows a note instead.

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
    p_prec = _pick("roofline_precision", "precision", precisions, precision)

    intensities = points["intensity"].to_numpy(dtype=float)
    ridges = ceil["ridge_flop_per_byte"].to_numpy(dtype=float)
    x_lo = 10 ** np.floor(np.log10(min(intensities.min(), ridges.min()) / 2))
    x_hi = 10 ** np.ceil(np.log10(max(intensities.max(), ridges.max()) * 2))
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
              axis=log_axis("arithmetic intensity [FLOP/B]"))
    y_axis = log_axis("attainable throughput [FLOP/s]")
    # One y range for every device/precision choice: roofs stay comparable and the scale never empties.
    y_lo = 10 ** np.floor(np.log10(roof["attainable_flop_per_s"].min()))
    y_hi = 10 ** np.ceil(np.log10(roof["peak_flop_per_s"].max()))
    y_scale = alt.Scale(type="log", domain=[y_lo, y_hi])
    ceiling_tip = ["device:N", "precision:N",
                   alt.Tooltip("peak_flop_per_s:Q", format=".3~s", title="peak [FLOP/s]"),
                   alt.Tooltip("bandwidth_bytes_per_s:Q", format=".3~s", title="bandwidth [B/s]"),
                   alt.Tooltip("ridge_flop_per_byte:Q", format=".3~f", title="ridge [FLOP/B]")]
    roof_base = alt.Chart(roof).transform_filter(selected)
    line = roof_base.mark_line(color="#333", strokeWidth=2.5, clip=True).encode(
        x=x, y=alt.Y("attainable_flop_per_s:Q", scale=y_scale, axis=y_axis),
        order="order:Q", tooltip=ceiling_tip)
    ridge = roof_base.transform_filter("datum.order == 1").mark_point(
        shape="diamond", size=90, filled=True, color="#333").encode(
        x=x, y=alt.Y("attainable_flop_per_s:Q", scale=y_scale), tooltip=ceiling_tip)

    lookup_fields = ["peak_flop_per_s", "bandwidth_bytes_per_s"]
    op_tip = ([alt.Tooltip("label:N")] if "label" in points.columns else []) + [
        "op:N", "category:N",
        alt.Tooltip("flops:Q", format=".3~s", title="FLOPs"),
        alt.Tooltip("bytes:Q", format=".3~s", title="bytes"),
        alt.Tooltip("intensity:Q", format=".3~f", title="intensity [FLOP/B]"),
        alt.Tooltip("attainable_flop_per_s:Q", format=".3~s", title="attainable [FLOP/s]"),
        alt.Tooltip("time_bound_s:Q", format=".3~s", title="time bound [s]"),
        "bound:N"]
    dots = alt.Chart(points).transform_calculate(key=key_expr).transform_lookup(
        lookup="key", from_=alt.LookupData(ceil, key="key", fields=lookup_fields)
    ).transform_filter("isValid(datum.peak_flop_per_s)").transform_calculate(
        attainable_flop_per_s="min(datum.peak_flop_per_s, datum.intensity * datum.bandwidth_bytes_per_s)",
        time_bound_s="max(datum.flops / datum.peak_flop_per_s, datum.bytes / datum.bandwidth_bytes_per_s)",
        bound="datum.intensity * datum.bandwidth_bytes_per_s < datum.peak_flop_per_s ? 'memory' : 'compute'",
    ).mark_point(filled=True, size=80, opacity=0.85).encode(
        x=x, y=alt.Y("attainable_flop_per_s:Q", scale=y_scale),
        color=alt.Color("category:N", title="operation category",
                        scale=alt.Scale(domain=list(dict.fromkeys(points["category"])))),
        shape=(alt.Shape("label:N", title=None, scale=alt.Scale(domain=list(dict.fromkeys(points["label"]))))
               if "label" in points.columns else alt.value("circle")),
        tooltip=op_tip)
    note = alt.Chart(pd.DataFrame({"n": [0]})).transform_calculate(key=key_expr).transform_lookup(
        lookup="key", from_=alt.LookupData(ceil, key="key", fields=["peak_flop_per_s"])
    ).transform_filter("!isValid(datum.peak_flop_per_s)").transform_calculate(
        text=f"'no ' + {p_prec.name} + ' ceiling for ' + {p_dev.name}"
    ).mark_text(align="left", baseline="top", fontSize=13, color="#D55E00").encode(
        x=alt.value(8), y=alt.value(8), text="text:N")
    return alt.layer(line, ridge, dots, note).add_params(p_dev, p_prec).properties(title=title)
