"""Serving charts: quantisation and the throughput-latency frontier."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from memwall.book import in_unit
from memwall.charts.theme import log_axis

__all__ = ["frontier_chart", "quantization_chart"]



def quantization_chart(table: pd.DataFrame, *, title: str = "") -> alt.Chart:
    """Batch-1 decode time per token by model, with a device dropdown and a weight-bits slider.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`memwall.serving.quantization_table` for weight-only schemes (16, 8 and 4 bits).
    title : str
        Chart title.

    Returns
    -------
    altair.Chart
        A point per model at its ms per token [ms] on a fixed log axis, coloured by whether the model
        fits the device; the slider sets ``log2(weight bits)`` (2, 3, 4 = 4, 8, 16 bits).
    """
    devices = list(dict.fromkeys(table["device"]))
    p_dev = alt.param(name="q_device", value=devices[0], bind=alt.binding_select(options=devices, name="device "))
    p_bits = alt.param(name="q_log2bits", value=4, bind=alt.binding_range(min=2, max=4, step=1,
                                                                           name="log2(weight bits) "))
    data = table[["model", "device", "scheme", "weight_bits", "fits"]].assign(  # SI in, display units out
        ms_per_token=in_unit(table["time_per_token_s"], "ms"), footprint_gb=in_unit(table["footprint_bytes"], "GB"),
        memory_gb=in_unit(table["memory_bytes"], "GB"))
    # a fixed log axis over every device and width: each halving of the bits moves a point the same distance
    lo, hi = float(data["ms_per_token"].min()) / 1.5, float(data["ms_per_token"].max()) * 1.5
    return alt.Chart(data).transform_filter(
        (alt.datum.device == p_dev) & (alt.datum.weight_bits == alt.expr.pow(2, p_bits))
    ).mark_point(filled=True, size=140).encode(
        y=alt.Y("model:N", title=None, sort=None),
        x=alt.X("ms_per_token:Q", scale=alt.Scale(type="log", domain=[lo, hi]),
                axis=log_axis("decode time per token, batch 1 [ms] (roofline bound)")),
        color=alt.Color("fits:N", title="fits in memory", scale=alt.Scale(domain=[True, False],
                                                                             range=["#009E73", "#D55E00"])),
        tooltip=["model:N", "device:N", "scheme:N", alt.Tooltip("ms_per_token:Q", format=".2f"),
                 alt.Tooltip("footprint_gb:Q", format=".1f", title="footprint [GB]"),
                 alt.Tooltip("memory_gb:Q", format=".1f", title="device memory [GB]")],
    ).add_params(p_dev, p_bits).properties(title=title, width=420)


def frontier_chart(grid: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Throughput against latency as the batch grows; dropdown for the device, sliders for context and batch.

    Parameters
    ----------
    grid : pandas.DataFrame
        Output of :func:`memwall.serving.frontier_grid` (contexts should be powers of two).
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        The frontier line (points that do not fit in memory in red) and the selected batch ``2**k``
        highlighted.
    """
    devices = list(dict.fromkeys(grid["device"]))
    ctx = np.log2(sorted(grid["context"].unique()))
    p_dev = alt.param(name="f_device", value=devices[0], bind=alt.binding_select(options=devices, name="device "))
    p_ctx = alt.param(name="f_log2ctx", value=int(ctx[0]),
                      bind=alt.binding_range(min=int(ctx.min()), max=int(ctx.max()), step=1, name="log2(context) "))
    p_k = alt.param(name="f_log2batch", value=0, bind=alt.binding_range(min=int(grid["k"].min()),
                                                                      max=int(grid["k"].max()), step=1,
                                                                      name="log2(batch) "))
    grid = grid.assign(ms_per_token=in_unit(grid["time_per_token_s"], "ms"),  # SI in, display units out
                       footprint_gb=in_unit(grid["footprint_bytes"], "GB"))
    base = alt.Chart(grid).transform_filter(
        (alt.datum.device == p_dev) & (alt.datum.context == alt.expr.pow(2, p_ctx)))
    x = alt.X("ms_per_token:Q", scale=alt.Scale(type="log"), axis=log_axis("time per output token [ms]"))
    y = alt.Y("tokens_per_s:Q", scale=alt.Scale(type="log"), axis=log_axis("throughput [tokens/s per device]"))
    tip = ["batch:Q", "context:Q", alt.Tooltip("tokens_per_s:Q", format=".3~s"),
           alt.Tooltip("ms_per_token:Q", format=".2f"), alt.Tooltip("footprint_gb:Q", format=".1f"), "fits:N"]
    line = base.mark_line(color="#888").encode(x=x, y=y, order="batch:Q")
    dots = base.mark_point(filled=True, size=50).encode(
        x=x, y=y, color=alt.Color("fits:N", title="fits in memory",
                                  scale=alt.Scale(domain=[True, False], range=["#0072B2", "#D55E00"])),
        tooltip=tip)
    chosen = base.transform_filter(alt.datum.k == p_k).mark_point(size=260, strokeWidth=3, color="#000").encode(
        x=x, y=y, tooltip=tip)
    return alt.layer(line, dots, chosen).add_params(p_dev, p_ctx, p_k).properties(title=title, width=440)
