"""Charts of the "Beyond the paper" chapters: decode intensity against ridges, MoE batches."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from memwall.charts.theme import log_axis

__all__ = ["decode_intensity_chart", "moe_batch_chart"]



def _ridge_rules(ridges: pd.DataFrame) -> alt.Chart:
    """Dashed horizontal rules at each device's ridge point (``device``, ``ridge_flop_per_byte``)."""
    return alt.Chart(ridges[["device", "ridge_flop_per_byte"]]).mark_rule(strokeDash=[5, 4], color="#555").encode(
        y="ridge_flop_per_byte:Q",
        tooltip=["device:N", alt.Tooltip("ridge_flop_per_byte:Q", format=".0f", title="ridge [FLOP/B]")])


def decode_intensity_chart(grid: pd.DataFrame, ridges: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Decode-step intensity against context length, one line per model; a slider picks the batch.

    Parameters
    ----------
    grid : pandas.DataFrame
        Output of :func:`memwall.beyond.moe_decode.decode_step_grid` with power-of-two batches.
    ridges : pandas.DataFrame
        ``device`` and ``ridge_flop_per_byte`` [FLOP/B], drawn as dashed rules.
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        Lines of ``intensity`` [FLOP/B] over ``context`` [tokens] (log-log, fixed axes) for the batch
        ``2**k`` chosen by the slider.
    """
    ks = np.log2(sorted(grid["batch"].unique()))
    p_k = alt.param(name="dv_log2batch", value=0, bind=alt.binding_range(
        min=int(ks.min()), max=int(ks.max()), step=1, name="log2(batch) "))
    data = grid[["model", "context", "batch", "intensity", "flops", "bytes"]]
    lo = min(float(data["intensity"].min()), float(ridges["ridge_flop_per_byte"].min())) / 1.5
    hi = max(float(data["intensity"].max()), float(ridges["ridge_flop_per_byte"].max())) * 1.5
    y = alt.Y("intensity:Q", scale=alt.Scale(type="log", domain=[lo, hi]),
              axis=log_axis("decode-step intensity [FLOP/B]"))
    lines = alt.Chart(data).transform_filter(alt.datum.batch == alt.expr.pow(2, p_k)).mark_line(point=True).encode(
        x=alt.X("context:Q", scale=alt.Scale(type="log", base=2), axis=log_axis("cached tokens per sequence")),
        y=y, color=alt.Color("model:N", title=None),
        tooltip=["model:N", "context:Q", "batch:Q", alt.Tooltip("intensity:Q", format=".3~f"),
                 alt.Tooltip("flops:Q", format=".3~s", title="FLOPs"),
                 alt.Tooltip("bytes:Q", format=".3~s", title="bytes")],
    ).add_params(p_k)
    return alt.layer(_ridge_rules(ridges), lines).properties(title=title, width=440)


def moe_batch_chart(grid: pd.DataFrame, ridges: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """MoE vs dense decode intensity against batch; a dropdown picks the model pair, a slider the context.

    Parameters
    ----------
    grid : pandas.DataFrame
        Output of :func:`memwall.beyond.moe_decode.decode_step_grid` with an added ``pair`` column (which MoE a row
        belongs to) and power-of-two contexts.
    ridges : pandas.DataFrame
        ``device`` and ``ridge_flop_per_byte`` [FLOP/B].
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        Lines of ``intensity`` [FLOP/B] over ``batch`` [sequences] (log-log, fixed axes).
    """
    pairs = list(dict.fromkeys(grid["pair"]))
    cs = np.log2(sorted(grid["context"].unique()))
    p_pair = alt.param(name="moe_pair", value=pairs[0], bind=alt.binding_select(options=pairs, name="model "))
    p_ctx = alt.param(name="moe_log2ctx", value=int(cs.min()), bind=alt.binding_range(
        min=int(cs.min()), max=int(cs.max()), step=1, name="log2(context) "))
    data = grid[["pair", "model", "context", "batch", "intensity", "distinct_experts", "weight_bytes"]]
    lo = min(float(data["intensity"].min()), float(ridges["ridge_flop_per_byte"].min())) / 1.5
    hi = max(float(data["intensity"].max()), float(ridges["ridge_flop_per_byte"].max())) * 1.5
    lines = alt.Chart(data).transform_filter(
        (alt.datum.pair == p_pair) & (alt.datum.context == alt.expr.pow(2, p_ctx))).mark_line(point=True).encode(
        x=alt.X("batch:Q", scale=alt.Scale(type="log", base=2), axis=log_axis("batch [sequences]")),
        y=alt.Y("intensity:Q", scale=alt.Scale(type="log", domain=[lo, hi]),
                axis=log_axis("decode-step intensity [FLOP/B]")),
        color=alt.Color("model:N", title=None),
        tooltip=["model:N", "batch:Q", "context:Q", alt.Tooltip("intensity:Q", format=".3~f"),
                 alt.Tooltip("distinct_experts:Q", format=".1f", title="experts touched per layer"),
                 alt.Tooltip("weight_bytes:Q", format=".3~s", title="weight bytes")],
    ).add_params(p_pair, p_ctx)
    return alt.layer(_ridge_rules(ridges), lines).properties(title=title, width=440)
