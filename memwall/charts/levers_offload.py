"""Charts of the memory-hierarchy chapter: a multi-tier roofline, offloaded decode throughput, lookup bounds.

Each function takes a table computed by :mod:`memwall.levers.offload` or :mod:`memwall.levers.recommendation`
and returns an Altair chart; nothing here computes physics.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from memwall.charts.theme import FIT_CONTAINER, PALETTE, decade_axis, require_columns, require_positive

__all__ = ["lookup_bounds_chart", "multi_tier_roofline_chart", "offload_throughput_chart"]

_WIDTH, _HEIGHT = 520, 360  # fixed: the ceiling labels' angle follows from the plot's aspect
"""Plot size of the roofline [px]: fixed, so that the ceiling labels can be drawn parallel to the ceilings."""




def multi_tier_roofline_chart(ceilings: pd.DataFrame, points: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Log-log roofline with one ceiling per memory tier or link, and operations placed on it.

    Parameters
    ----------
    ceilings : pandas.DataFrame
        :func:`memwall.levers.offload_batch.tier_ceilings_table`: ``ceiling``, ``intensity_flop_per_byte``,
        ``attainable_flop_per_s``.
    points : pandas.DataFrame
        ``operation``, ``intensity_flop_per_byte``, ``attainable_flop_per_s`` and ``ceiling`` (the tier its
        bytes come from).
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart

    Raises
    ------
    ValueError
        A missing column or a non-positive value on a log axis.
    """
    require_columns(ceilings, ["ceiling", "intensity_flop_per_byte", "attainable_flop_per_s"], "ceilings")
    require_columns(points, ["operation", "intensity_flop_per_byte", "attainable_flop_per_s", "ceiling"], "points")
    for t in (ceilings, points):
        require_positive(t, "intensity_flop_per_byte")
        require_positive(t, "attainable_flop_per_s")
    data = ceilings.assign(tflop_per_s=ceilings["attainable_flop_per_s"] / 1e12)
    pts = points.assign(tflop_per_s=points["attainable_flop_per_s"] / 1e12)
    order = list(dict.fromkeys(data["ceiling"]))
    colour = alt.Color("ceiling:N", title="Ceiling", sort=order,
                       scale=alt.Scale(domain=order, range=list(PALETTE[:len(order)])),
                       legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=3))
    cols = ["intensity_flop_per_byte", "tflop_per_s"]
    both = pd.concat([data[cols], pts[cols]])
    x_axis, y_axis = (decade_axis(both[c], t) for c, t in zip(cols, ("Arithmetic intensity [FLOP/B]",
                                                                 "Attainable [TFLOP/s]"), strict=True))
    x = alt.X("intensity_flop_per_byte:Q", scale=alt.Scale(type="log", domain=[x_axis.values[0], x_axis.values[-1]]),
              axis=x_axis)
    y = alt.Y("tflop_per_s:Q", scale=alt.Scale(type="log", domain=[y_axis.values[0], y_axis.values[-1]]), axis=y_axis)
    # labels run along their (parallel) sloped ceilings: the on-screen angle follows from the fixed plot size
    px_x = _WIDTH / (len(x_axis.values) - 1)
    px_y = _HEIGHT / (len(y_axis.values) - 1)
    angle = 360.0 - float(np.degrees(np.arctan(px_y / px_x)))
    lines = alt.Chart(data).mark_line(strokeWidth=2.5).encode(x=x, y=y, color=colour, detail="ceiling:N")
    start = data.loc[data.groupby("ceiling", sort=False)["intensity_flop_per_byte"].idxmin()]
    start = start.assign(intensity_flop_per_byte=start["intensity_flop_per_byte"] * 2.0,
                         tflop_per_s=start["tflop_per_s"] * 2.0)
    labels = alt.Chart(start).mark_text(align="left", baseline="bottom", dy=-3, angle=angle, fontSize=10).encode(
        x=x, y=y, text="ceiling:N", color=colour)
    dots = alt.Chart(pts).mark_point(filled=True, size=90, shape="diamond", opacity=1).encode(
        x=x, y=y, color=colour,  # one colour encoding in every layer: one legend, no conflicting properties
        tooltip=["operation:N", "ceiling:N", alt.Tooltip("intensity_flop_per_byte:Q", format=".3g", title="FLOP/B"),
                 alt.Tooltip("tflop_per_s:Q", format=".3g", title="TFLOP/s")])
    names = alt.Chart(pts).mark_text(align="left", dx=7, dy=10, fontSize=11, color="#333").encode(
        x=x, y=y, text="operation:N")
    return alt.layer(lines, labels, dots, names).properties(width=_WIDTH, height=_HEIGHT, title=title)


def offload_throughput_chart(table: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Decode tokens/s against batch, one line per system and placement, a dropdown to pick the model.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`memwall.levers.offload_batch.throughput_table`: ``model``, ``system``, ``placement``, ``batch``,
        ``tokens_per_s``.
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart

    Raises
    ------
    ValueError
        A missing column or a non-positive value on a log axis.
    """
    require_columns(table, ["model", "system", "placement", "batch", "tokens_per_s"], "table")
    require_positive(table, "tokens_per_s")
    data = table.assign(line=table["placement"] + " · " + table["system"])
    models = list(dict.fromkeys(data["model"]))
    pick = alt.param(name="offload_model", value=models[0],
                     bind=alt.binding_select(options=models, name="Model: "))
    stroke = alt.Legend(symbolType="stroke", symbolStrokeWidth=2.5, symbolSize=400)
    dash = alt.StrokeDash("placement:N", title="Weights", sort=list(dict.fromkeys(data["placement"])), legend=stroke)
    colour = alt.Color("system:N", title="System (link to host memory)", sort=list(dict.fromkeys(data["system"])),
                       legend=stroke)
    base = alt.Chart(data).transform_filter(alt.datum.model == pick)
    lines = base.mark_line(strokeWidth=2.2).encode(
        x=alt.X("batch:Q", scale=alt.Scale(type="log"), axis=decade_axis(data["batch"], "Batch [sequences]")),
        y=alt.Y("tokens_per_s:Q", scale=alt.Scale(type="log"),
                axis=decade_axis(data["tokens_per_s"], "Decode throughput bound [tokens/s]")),
        color=colour, strokeDash=dash, detail="line:N",
        tooltip=["model:N", "system:N", "placement:N", "batch:Q",
                 alt.Tooltip("tokens_per_s:Q", format=",.3~s", title="tokens/s")])
    return alt.layer(lines).add_params(pick).properties(
        width="container", autosize=FIT_CONTAINER, height=340, title=title)


def lookup_bounds_chart(bounds: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Horizontal bars of the embedding-lookup samples/s bound per setup, a dropdown to pick the model.

    Parameters
    ----------
    bounds : pandas.DataFrame
        Rows of :func:`memwall.levers.recommendation.lookup_bounds` with a ``model`` column added.
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart

    Raises
    ------
    ValueError
        A missing column or a non-positive value on a log axis.
    """
    require_columns(bounds, ["model", "setup", "samples_per_s"], "bounds")
    require_positive(bounds, "samples_per_s")
    models = list(dict.fromkeys(bounds["model"]))
    setups = list(dict.fromkeys(bounds["setup"]))
    pick = alt.param(name="lookup_model", value=models[-1], bind=alt.binding_select(options=models, name="Model: "))
    floor = float(10.0 ** np.floor(np.log10(bounds["samples_per_s"].min())))
    base = alt.Chart(bounds.assign(bar_start=floor)).transform_filter(alt.datum.model == pick)
    x = alt.X("samples_per_s:Q", scale=alt.Scale(type="log"),
              axis=decade_axis(bounds["samples_per_s"], "Embedding-lookup bound [samples/s]"))
    y = alt.Y("setup:N", sort=setups, title=None, axis=alt.Axis(labelLimit=320))
    colour = alt.Color("setup:N", sort=setups, legend=None,  # the y axis names each bar
                       scale=alt.Scale(domain=setups, range=list(PALETTE[:len(setups)])))
    bars = base.mark_bar().encode(x=x, x2="bar_start:Q", y=y, color=colour,
                                  tooltip=["setup:N", alt.Tooltip("samples_per_s:Q", format=",.3~s")])
    text = base.mark_text(align="left", dx=4, fontSize=11).encode(
        x=x, y=y, text=alt.Text("samples_per_s:Q", format=".3~s"))
    return alt.layer(bars, text).add_params(pick).properties(
        width="container", autosize=FIT_CONTAINER, height=28 * len(setups) + 20, title=title)
