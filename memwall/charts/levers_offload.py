"""Charts and tables of the memory-hierarchy chapter: the memory tiers of systems, a multi-tier roofline, offloaded
decode throughput, recommendation models and their lookup bounds.

Each function takes a table computed by :mod:`memwall.levers.offload`, :mod:`memwall.levers.offload_batch` or
:mod:`memwall.levers.recommendation` and returns an Altair chart or a reader table; nothing here computes physics.
Colours come from :func:`memwall.charts.palette.colour_scale`.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from memwall.charts.palette import colour_scale
from memwall.charts.theme import POW2_LABEL, decade_axis, require_columns, require_positive, responsive
from memwall.reader_table import Column, ReaderTable, reader_table

__all__ = ["lookup_bounds_chart", "memory_tiers_table", "multi_tier_roofline_chart", "offload_throughput_chart",
           "recommendation_table"]

_OPERATION_KIND = "operation"


def _decades(values: pd.Series | np.ndarray) -> list[float]:
    arr = np.asarray(values, dtype=float)
    lo, hi = int(np.floor(np.log10(arr.min()))), int(np.ceil(np.log10(arr.max())))
    return [float(10.0**k) for k in range(lo, hi + 1)]


def memory_tiers_table(tiers: pd.DataFrame) -> ReaderTable:
    """The memory tiers of each system: capacity, bandwidth, how many accelerators share it, the link to it.

    Parameters
    ----------
    tiers : pandas.DataFrame
        :func:`memwall.tables.memory_tiers.load_memory_tiers` (``system``, ``tier_name``, ``capacity_gib`` [GiB],
        ``bandwidth_gb_per_s`` [GB/s], ``shared_by``, ``link``, ``link_gb_per_s_per_direction`` [GB/s]).

    Returns
    -------
    memwall.reader_table.ReaderTable
        One row per tier, keyed "system: tier" with the system's short name (before its parenthesis); a tier
        without a link (the processor's own memory) says so; a dash marks a number not published.

    Raises
    ------
    ValueError
        A missing column.
    """
    need = ["system", "tier_name", "capacity_gib", "bandwidth_gb_per_s", "shared_by", "link",
            "link_gb_per_s_per_direction"]
    require_columns(tiers, need, "tiers")
    shown = tiers[need].copy()
    # one key column, "system: tier", the system by its short name (its details are the other columns)
    shown["key"] = shown["system"].astype(str).str.split(" (", regex=False).str[0] + ": " + shown["tier_name"]
    shown["link"] = shown["link"].astype(object).where(shown["link"].notna(), "none (own memory)")
    shown["shared_by"] = shown["shared_by"].astype(float)
    return reader_table(shown, {
        "key": Column("System: memory tier", kind="text"),
        "capacity_gib": Column("Capacity", "GiB", 4, trailing_zeros=False),
        "bandwidth_gb_per_s": Column("Bandwidth", "GB/s", 4, trailing_zeros=False),
        "shared_by": Column("Accelerators sharing it", kind="integer"),
        "link": Column("Link to the accelerator", kind="text"),
        "link_gb_per_s_per_direction": Column("Link per direction", "GB/s", 4, trailing_zeros=False)})


def multi_tier_roofline_chart(ceilings: pd.DataFrame, points: pd.DataFrame) -> alt.LayerChart:
    """Log-log roofline with one ceiling per memory tier or link, and operations placed on it.

    Parameters
    ----------
    ceilings : pandas.DataFrame
        :func:`memwall.levers.offload_batch.tier_ceilings_table`: ``ceiling``, ``intensity_flop_per_byte``,
        ``attainable_flop_per_s``.
    points : pandas.DataFrame
        ``operation``, ``intensity_flop_per_byte``, ``attainable_flop_per_s`` and ``ceiling`` (the tier its
        bytes come from).

    Returns
    -------
    altair.LayerChart
        Ceilings as lines (legend of line swatches), operations as diamonds in their ceiling's colour (a legend
        entry of their own), each named beside it on a white halo.

    Raises
    ------
    ValueError
        A missing column, a non-positive value on a log axis, or an operation on a ceiling not drawn.
    """
    require_columns(ceilings, ["ceiling", "intensity_flop_per_byte", "attainable_flop_per_s"], "ceilings")
    require_columns(points, ["operation", "intensity_flop_per_byte", "attainable_flop_per_s", "ceiling"], "points")
    for t in (ceilings, points):
        require_positive(t, "intensity_flop_per_byte")
        require_positive(t, "attainable_flop_per_s")
    order = list(dict.fromkeys(ceilings["ceiling"]))
    unknown = sorted(set(points["ceiling"]) - set(order))
    if unknown:
        raise ValueError(f"points: ceiling(s) {unknown} are not in ceilings ({', '.join(order)})")
    data = ceilings.assign(tflop_per_s=ceilings["attainable_flop_per_s"] / 1e12)
    pts = points.assign(tflop_per_s=points["attainable_flop_per_s"] / 1e12, kind=_OPERATION_KIND)
    scale = colour_scale(order)
    colour = alt.Color("ceiling:N", title="ceiling (bytes from)", sort=order, scale=scale,
                       legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=3))
    cols = ["intensity_flop_per_byte", "tflop_per_s"]
    both = pd.concat([data[cols], pts[cols]])
    x_dec, y_dec = _decades(both[cols[0]]), _decades(both[cols[1]])
    x = alt.X("intensity_flop_per_byte:Q", scale=alt.Scale(type="log", domain=[x_dec[0], x_dec[-1]]),
              axis=decade_axis(both[cols[0]], "arithmetic intensity [FLOP/B]"))
    y = alt.Y("tflop_per_s:Q", scale=alt.Scale(type="log", domain=[y_dec[0], y_dec[-1]]),
              axis=decade_axis(both[cols[1]], "attainable [TFLOP/s]"))
    lines = alt.Chart(data).mark_line(strokeWidth=2.5).encode(
        x=x, y=y, color=colour, detail="ceiling:N",
        tooltip=[alt.Tooltip("ceiling:N", title="ceiling"),
                 alt.Tooltip("intensity_flop_per_byte:Q", format=".3g", title="intensity [FLOP/B]"),
                 alt.Tooltip("tflop_per_s:Q", format=".3g", title="attainable [TFLOP/s]")])
    shape = alt.Shape("kind:N", title=None, scale=alt.Scale(domain=[_OPERATION_KIND], range=["diamond"]),
                      legend=alt.Legend(symbolFillColor="#555", symbolStrokeColor="#555"))
    dots = alt.Chart(pts).mark_point(filled=True, size=90, opacity=1).encode(
        x=x, y=y, color=colour, shape=shape,
        tooltip=[alt.Tooltip("operation:N", title="operation"), alt.Tooltip("ceiling:N", title="bytes from"),
                 alt.Tooltip("intensity_flop_per_byte:Q", format=".3g", title="intensity [FLOP/B]"),
                 alt.Tooltip("tflop_per_s:Q", format=".3g", title="attainable [TFLOP/s]")])
    # names of operations right of the middle decade end at their point, the others start there: none runs out
    middle = float(np.sqrt(x_dec[0] * x_dec[-1]))
    right = pts["intensity_flop_per_byte"] > middle
    names = [alt.Chart(part).mark_text(align=align, dx=dx, dy=11, fontSize=11, **style).encode(
        x=x, y=y, text="operation:N")
        for part, align, dx in ((pts[~right], "left", 6), (pts[right], "right", -6)) if len(part)
        for style in ({"stroke": "white", "strokeWidth": 3, "strokeOpacity": 0.9}, {"color": "#222"})]  # a halo
    return responsive(alt.layer(lines, dots, *names).resolve_scale(shape="independent"), 340)


def _pow2_axis_every(values: pd.Series | np.ndarray, title: str, step: int = 2) -> tuple[alt.Axis, list[float]]:
    """Ticks at every ``step``-th power of two spanning ``values`` (1, 4, 16, ... 1k, 4k, 16k), labelled 1k not 1.024k.

    Returns the axis and the domain (first and last tick).
    """
    arr = np.asarray(values, dtype=float)
    lo, hi = int(np.floor(np.log2(arr.min()))), int(np.ceil(np.log2(arr.max())))
    ticks = [float(2.0**k) for k in range(lo, hi + 1, step)]
    axis = alt.Axis(title=title, values=ticks, labelExpr=POW2_LABEL, labelOverlap="greedy")
    return axis, [float(2.0**lo), float(2.0**hi)]


def offload_throughput_chart(table: pd.DataFrame) -> alt.LayerChart:
    """Decode tokens/s against batch, one line per system and placement, a menu to pick the model.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`memwall.levers.offload_batch.throughput_table`: ``model``, ``system``, ``placement``, ``batch``,
        ``tokens_per_s``.

    Returns
    -------
    altair.LayerChart
        Batch on a power-of-two axis (1, 4, 16 ... 16k), throughput on a decade axis, both fixed over all models;
        colour for the system, dashes for the placement, each with a legend of line swatches.

    Raises
    ------
    ValueError
        A missing column or a non-positive value on a log axis.
    """
    require_columns(table, ["model", "system", "placement", "batch", "tokens_per_s"], "table")
    require_positive(table, "tokens_per_s")
    require_positive(table, "batch")
    data = table.assign(line=table["placement"] + " · " + table["system"])
    models = list(dict.fromkeys(data["model"]))
    pick = alt.param(name="offload_model", value=models[0], bind=alt.binding_select(options=models, name="model "))
    stroke = alt.Legend(symbolType="stroke", symbolStrokeWidth=2.5, symbolSize=400)
    placements = list(dict.fromkeys(data["placement"]))
    systems = list(dict.fromkeys(data["system"]))
    dash = alt.StrokeDash("placement:N", title="weights", sort=placements, legend=stroke,
                          scale=alt.Scale(domain=placements, range=[[1, 0], [6, 4], [2, 2], [8, 3, 2, 3]][
                              :len(placements)]))
    colour = alt.Color("system:N", title="system (link to host memory)", sort=systems, scale=colour_scale(systems),
                       legend=stroke)
    x_axis, x_domain = _pow2_axis_every(data["batch"], "batch [sequences]")
    y_dec = _decades(data["tokens_per_s"])
    lines = alt.Chart(data).transform_filter(alt.datum.model == pick).mark_line(strokeWidth=2.2).encode(
        x=alt.X("batch:Q", scale=alt.Scale(type="log", base=2, domain=x_domain), axis=x_axis),
        y=alt.Y("tokens_per_s:Q", scale=alt.Scale(type="log", domain=[y_dec[0], y_dec[-1]]),
                axis=decade_axis(data["tokens_per_s"], "decode throughput bound [tokens/s]")),
        color=colour, strokeDash=dash, detail="line:N",
        tooltip=[alt.Tooltip("model:N", title="model"), alt.Tooltip("system:N", title="system"),
                 alt.Tooltip("placement:N", title="weights"), alt.Tooltip("batch:Q", format=",", title="batch"),
                 alt.Tooltip("tokens_per_s:Q", format=",.3~s", title="throughput bound [tokens/s]")])
    return responsive(alt.layer(lines).add_params(pick), 320)


def recommendation_table(summary: pd.DataFrame) -> ReaderTable:
    """The embedding tables of each recommendation model: rows, row width, lookups and bytes per sample, size.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`memwall.levers.recommendation.model_summary` (``model``, ``tables``, ``rows``, ``embedding_dim``,
        ``lookups_per_sample``, ``sample_bytes_cpu`` [B], ``table_bytes`` [B]).

    Returns
    -------
    memwall.reader_table.ReaderTable

    Raises
    ------
    ValueError
        A missing column.
    """
    need = ["model", "tables", "rows", "embedding_dim", "lookups_per_sample", "sample_bytes_cpu", "table_bytes"]
    require_columns(summary, need, "summary")
    shown = summary.assign(sample_kb=summary["sample_bytes_cpu"] / 1e3, table_gb=summary["table_bytes"] / 1e9)
    return reader_table(shown, {
        "model": Column("Model", kind="text"), "table_gb": Column("All tables", "GB", 3),
        "sample_kb": Column("Bytes per sample", "kB", 3),
        "lookups_per_sample": Column("Rows looked up per sample", kind="integer"),
        "embedding_dim": Column("Row width", "elements", kind="integer"),
        "tables": Column("Tables", kind="integer"), "rows": Column("Rows", kind="integer")})


def lookup_bounds_chart(bounds: pd.DataFrame) -> alt.LayerChart:
    """Horizontal bars of the embedding-lookup samples/s bound per setup, a menu to pick the model.

    Parameters
    ----------
    bounds : pandas.DataFrame
        Rows of :func:`memwall.levers.recommendation.lookup_bounds` with a ``model`` column added.

    Returns
    -------
    altair.LayerChart
        One bar per setup, named above it (so that the names never squeeze the bars on a phone), the bound written
        at its end; the decade axis is fixed over all models.

    Raises
    ------
    ValueError
        A missing column or a non-positive value on a log axis.
    """
    require_columns(bounds, ["model", "setup", "samples_per_s"], "bounds")
    require_positive(bounds, "samples_per_s")
    models = list(dict.fromkeys(bounds["model"]))
    setups = list(dict.fromkeys(bounds["setup"]))
    pick = alt.param(name="lookup_model", value=models[-1], bind=alt.binding_select(
        options=models, labels=[m.split(" (")[0] for m in models], name="model "))
    lo = float(10.0 ** np.floor(np.log10(bounds["samples_per_s"].min())))
    hi = float(bounds["samples_per_s"].max()) * 8  # room for the number at the longest bar's end
    base = alt.Chart(bounds.assign(bar_start=lo)).transform_filter(alt.datum.model == pick)
    x = alt.X("samples_per_s:Q", scale=alt.Scale(type="log", domain=[lo, hi], nice=False),
              axis=decade_axis(np.array([lo, hi / 8]), "embedding-lookup bound [samples/s]"))
    y = alt.Y("setup:N", sort=setups, title=None, axis=None, scale=alt.Scale(paddingInner=0.1, paddingOuter=0.05))
    colour = alt.Color("setup:N", sort=setups, legend=None, scale=colour_scale(setups))  # each bar is named
    tip = [alt.Tooltip("model:N", title="model"), alt.Tooltip("setup:N", title="setup"),
           alt.Tooltip("samples_per_s:Q", format=",.3~s", title="bound [samples/s]")]
    bars = base.mark_bar(height=14).encode(x=x, x2="bar_start:Q", y=y, color=colour, tooltip=tip)
    names = base.mark_text(align="left", baseline="bottom", dy=-8, fontSize=11, color="#222").encode(
        x="bar_start:Q", y=y, text="setup:N")
    values = base.mark_text(align="left", baseline="middle", dx=4, fontSize=11).encode(
        x=x, y=y, text=alt.Text("samples_per_s:Q", format=".3~s"))
    return responsive(alt.layer(bars, names, values).add_params(pick), 42 * len(setups))
