"""Charts and tables of the chapter "Beyond the paper: the model side": decode intensity against ridges, MoE batches.

The charts draw a decode step's arithmetic intensity [FLOP/B] against the context or the batch (base-2 axes
labelled 1k 2k 4k ..., a log intensity axis labelled at decades and fixed over every setting of the chart's
controls) with each device's ridge point as a dashed rule carrying its name; ridges too close to be told apart
share one rule label. The tables go through :func:`memwall.reader_table.reader_table`.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from memwall.book import in_unit
from memwall.charts.palette import GREY, colour_scale
from memwall.charts.serving import chip_name, decade_domain, fitted_pow2_axis, pow2_domain
from memwall.charts.theme import decade_axis, require_columns, responsive
from memwall.reader_table import Column, ReaderTable, reader_table, transposed_table

__all__ = ["decode_intensity_chart", "kv_attention_table", "moe_batch_chart", "moe_summary_table", "ridge_labels"]

RIDGE_MERGE_RATIO = 1.6
"""Ridges within this factor of each other share one label (closer, two labels of 12 px would overlap)."""
STACKED_MERGE_RATIO = 3.0
"""The same for the two-line labels above their rules (about 26 px tall: half a decade of a 320 px chart)."""

def ridge_labels(ridges: pd.DataFrame, merge_ratio: float = RIDGE_MERGE_RATIO) -> pd.DataFrame:
    """One label per group of ridge points that lie within ``merge_ratio`` of each other.

    Parameters
    ----------
    ridges : pandas.DataFrame
        ``device`` and ``ridge_flop_per_byte`` [FLOP/B] (> 0).
    merge_ratio : float
        Ridges whose ratio to the previous one (sorted) is below this share a label (> 1).

    Returns
    -------
    pandas.DataFrame
        ``ridge_flop_per_byte`` (the group's highest ridge, where its label sits) and ``label``
        ("A100 ridge 153 FLOP/B"; "B200, H100 ridges 292, 295 FLOP/B"), lowest group first.

    Raises
    ------
    ValueError
        If a column is missing, the table is empty, a ridge is not finite and > 0, or ``merge_ratio`` <= 1.
    """
    require_columns(ridges, ["device", "ridge_flop_per_byte"], "ridges")
    values = ridges["ridge_flop_per_byte"].to_numpy(dtype=float)
    if ridges.empty or not (np.isfinite(values).all() and (values > 0).all()):
        raise ValueError("ridges needs at least one ridge point, each finite and > 0")
    if not merge_ratio > 1:
        raise ValueError(f"merge_ratio must be > 1, got {merge_ratio!r}")
    ordered = ridges.sort_values("ridge_flop_per_byte")
    groups: list[list[tuple[str, float]]] = []
    for device, ridge in zip(ordered["device"], ordered["ridge_flop_per_byte"], strict=True):
        if groups and ridge / groups[-1][-1][1] < merge_ratio:
            groups[-1].append((chip_name(device), float(ridge)))
        else:
            groups.append([(chip_name(device), float(ridge))])
    rows = []
    for group in groups:
        names, numbers = [g[0] for g in group], [f"{g[1]:.0f}" for g in group]
        label = f"{', '.join(names)} {'ridge' if len(group) == 1 else 'ridges'} {', '.join(numbers)} FLOP/B"
        rows.append({"ridge_flop_per_byte": group[-1][1], "label": label})
    return pd.DataFrame(rows)


def _ridge_layers(ridges: pd.DataFrame, x_field: str, x_scale: alt.Scale, x_at: float, y_scale: alt.Scale,
                  *, stacked: bool = False) -> list[alt.Chart]:
    """Dashed grey rules at each ridge (the first layer) and their labels, written just above the rule at ``x_at``.

    ``stacked`` writes each label on two lines (names, then numbers) over a white halo, the lowest one below its
    rule; the groups above it merge within :data:`STACKED_MERGE_RATIO` (a two-line label is twice as tall).
    Narrow labels that stay readable where a curve rising from the bottom left passes them; draw the lines
    between the rules and the labels."""
    rules = alt.Chart(ridges[["device", "ridge_flop_per_byte"]]).mark_rule(strokeDash=[5, 4], color=GREY).encode(
        y=alt.Y("ridge_flop_per_byte:Q", scale=y_scale),
        tooltip=[alt.Tooltip("device:N", title="device"),
                 alt.Tooltip("ridge_flop_per_byte:Q", format=".0f", title="ridge point [FLOP/B]")])
    labels = ridge_labels(ridges).assign(**{x_field: x_at})
    enc = {"x": alt.X(f"{x_field}:Q", scale=x_scale), "y": alt.Y("ridge_flop_per_byte:Q", scale=y_scale),
           "text": "label:N"}
    style = {"align": "left", "dx": 3, "fontSize": 11, "color": "#444"}
    if not stacked:
        return [rules, alt.Chart(labels).mark_text(baseline="bottom", dy=-2, **style).encode(**enc)]
    lowest = labels.iloc[:1]
    rest = ridges[ridges["ridge_flop_per_byte"] > float(lowest["ridge_flop_per_byte"].iloc[0])]
    upper = ridge_labels(rest, STACKED_MERGE_RATIO).assign(**{x_field: x_at}) if len(rest) else labels.iloc[:0]
    lines = {"lineBreak": "\n", "lineHeight": 12}  # Vega puts a "bottom" baseline under the first line: lift it
    layers: list[alt.Chart] = [rules]
    for group, place in ((lowest, {"baseline": "top", "dy": 3}), (upper, {"baseline": "bottom", "dy": -2 - 12})):
        if group.empty:
            continue
        group = group.assign(label=group["label"].str.replace(r" (ridges?) ", r" \1\n", n=1, regex=True))
        for halo in ({"stroke": "white", "strokeWidth": 3, "strokeJoin": "round"}, {}):
            layers.append(alt.Chart(group).mark_text(**place, **lines, **style, **halo).encode(**enc))
    return layers


def _batches_are_pow2(values: pd.Series, what: str) -> np.ndarray:
    arr = np.asarray(sorted(pd.unique(values)), dtype=float)
    ks = np.log2(arr)
    if not (arr.size and (arr > 0).all() and np.allclose(ks, np.round(ks))):
        raise ValueError(f"{what} must be powers of two, got {arr.tolist()}")
    return np.round(ks).astype(int)


def decode_intensity_chart(grid: pd.DataFrame, ridges: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Decode-step intensity against context length, one line per model; a slider picks the batch.

    Parameters
    ----------
    grid : pandas.DataFrame
        Output of :func:`memwall.beyond.moe_decode.decode_step_grid` (``model``, ``context`` [tokens], ``batch``
        [sequences], powers of two, ``intensity`` [FLOP/B], ``flops`` [FLOP], ``bytes`` [B]).
    ridges : pandas.DataFrame
        ``device`` and ``ridge_flop_per_byte`` [FLOP/B], drawn as dashed rules with their names.
    title : str
        In-chart title; the book leaves it empty and puts the title in the figure's caption.

    Returns
    -------
    altair.LayerChart
        Lines of ``intensity`` over ``context`` (base 2, labelled 128 ... 128k; log intensity labelled at
        decades, one domain for every batch) for the batch ``2**k`` of the slider, which a text in the plot's
        lower left corner names.

    Raises
    ------
    ValueError
        If a column is missing, the grid is empty, a batch or context is not a power of two, or a ridge is not > 0.
    """
    require_columns(grid, ["model", "context", "batch", "intensity", "flops", "bytes"], "grid")
    if grid.empty:
        raise ValueError("grid is empty")
    ks = _batches_are_pow2(grid["batch"], "grid batches")
    _batches_are_pow2(grid["context"], "grid contexts")
    data = grid[["model", "context", "batch", "intensity", "flops", "bytes"]]
    models = list(dict.fromkeys(data["model"].astype(str)))
    p_k = alt.param(name="dv_log2batch", value=int(ks.min()), bind=alt.binding_range(
        min=int(ks.min()), max=int(ks.max()), step=1, name="batch 2^k, k "))
    # room below the lowest line (for the batch's name), none needed above
    y_dom = decade_domain([data["intensity"].min() / 1.5], data["intensity"], ridges["ridge_flop_per_byte"])
    y_scale = alt.Scale(type="log", domain=y_dom)
    x_dom = pow2_domain(data["context"])
    x_scale = alt.Scale(type="log", base=2, domain=x_dom)
    x = alt.X("context:Q", scale=x_scale, axis=fitted_pow2_axis(x_dom, "cached tokens per sequence"))
    y = alt.Y("intensity:Q", scale=y_scale, axis=decade_axis(y_dom, "decode-step intensity [FLOP/B]"))
    lines = alt.Chart(data).transform_filter(alt.datum.batch == alt.expr.pow(2, p_k)).mark_line(
        point=True, strokeWidth=2).encode(
        x=x, y=y, color=alt.Color("model:N", title=None, sort=models, scale=colour_scale(models),
                                  legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=3)),
        tooltip=[alt.Tooltip("model:N", title="model"), alt.Tooltip("context:Q", format=",", title="cached tokens"),
                 alt.Tooltip("batch:Q", format=",", title="batch [sequences]"),
                 alt.Tooltip("intensity:Q", format=".3~r", title="intensity [FLOP/B]"),
                 alt.Tooltip("flops:Q", format=".3~s", title="FLOPs per step"),
                 alt.Tooltip("bytes:Q", format=".3~s", title="bytes per step [B]")])
    corner = alt.Chart(pd.DataFrame({"context": [x_dom[0]], "intensity": [y_dom[0]]})).transform_calculate(
        label=f"'batch ' + format(pow(2, {p_k.name}), ',') + (pow(2, {p_k.name}) == 1 ? ' sequence' : ' sequences')"
    ).mark_text(align="left", baseline="bottom", dx=4, dy=-4, fontSize=12, fontWeight="bold").encode(
        x=alt.X("context:Q", scale=x_scale), y=alt.Y("intensity:Q", scale=y_scale), text="label:N")
    chart = responsive(alt.layer(*_ridge_layers(ridges, "context", x_scale, x_dom[0], y_scale), lines, corner)
                       .add_params(p_k), 320)
    return chart.properties(title=title) if title else chart


def moe_batch_chart(grid: pd.DataFrame, ridges: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """MoE vs dense decode intensity against batch; a dropdown picks the model pair, another the context.

    Parameters
    ----------
    grid : pandas.DataFrame
        Output of :func:`memwall.beyond.moe_decode.decode_step_grid` with an added ``pair`` column (the MoE a row
        belongs to; its MoE row's ``model`` ends in "(MoE)", the other is the dense model of the same active size),
        power-of-two batches and contexts.
    ridges : pandas.DataFrame
        ``device`` and ``ridge_flop_per_byte`` [FLOP/B].
    title : str
        In-chart title; the book leaves it empty and puts the title in the figure's caption.

    Returns
    -------
    altair.LayerChart
        Two lines, the MoE and its dense counterpart, of ``intensity`` [FLOP/B] over ``batch`` [sequences]
        (base 2; log intensity at decades, both axes fixed over every pair and context), with the ridges.

    Raises
    ------
    ValueError
        If a column is missing, the grid is empty or a batch or context is not a power of two.
    """
    require_columns(grid, ["pair", "model", "context", "batch", "intensity", "distinct_experts", "weight_bytes"],
                    "grid")
    if grid.empty:
        raise ValueError("grid is empty")
    _batches_are_pow2(grid["batch"], "grid batches")
    contexts = [int(2**k) for k in _batches_are_pow2(grid["context"], "grid contexts")]
    pairs = list(dict.fromkeys(grid["pair"].astype(str)))
    kinds = ["mixture of experts", "dense, same active size"]
    data = grid[["pair", "model", "context", "batch", "intensity", "distinct_experts"]].assign(
        weight_gb=in_unit(grid["weight_bytes"], "GB"))
    p_pair = alt.param(name="moe_pair", value=pairs[0], bind=alt.binding_select(options=pairs, name="model "))
    p_ctx = alt.param(name="moe_context", value=contexts[0], bind=alt.binding_select(
        options=contexts, labels=[f"{c:,}" for c in contexts], name="cached tokens "))
    y_dom = decade_domain([data["intensity"].min() / 1.5], data["intensity"], ridges["ridge_flop_per_byte"])
    y_scale = alt.Scale(type="log", domain=y_dom)
    x_dom = pow2_domain(data["batch"])
    x_scale = alt.Scale(type="log", base=2, domain=x_dom)
    lines = alt.Chart(data).transform_filter(
        (alt.datum.pair == p_pair) & (alt.datum.context == p_ctx)).transform_calculate(  # the series, in Vega
        kind=f"slice(datum.model, -5) == '(MoE)' ? '{kinds[0]}' : '{kinds[1]}'").mark_line(
        point=True, strokeWidth=2).encode(
        x=alt.X("batch:Q", scale=x_scale, axis=fitted_pow2_axis(x_dom, "batch [sequences]")),
        y=alt.Y("intensity:Q", scale=y_scale, axis=decade_axis(y_dom, "decode-step intensity [FLOP/B]")),
        color=alt.Color("kind:N", title=None, sort=kinds, scale=colour_scale(kinds),
                        legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=3)),
        tooltip=[alt.Tooltip("model:N", title="model"), alt.Tooltip("batch:Q", format=",", title="batch [sequences]"),
                 alt.Tooltip("context:Q", format=",", title="cached tokens"),
                 alt.Tooltip("intensity:Q", format=".3~r", title="intensity [FLOP/B]"),
                 alt.Tooltip("distinct_experts:Q", format=".1f", title="experts touched per layer"),
                 alt.Tooltip("weight_gb:Q", format=".3~r", title="weights read per step [GB]")])
    rules, *labels = _ridge_layers(ridges, "batch", x_scale, x_dom[0], y_scale, stacked=True)
    chart = responsive(alt.layer(rules, lines, *labels)
                       .add_params(p_pair, p_ctx), 320)
    return chart.properties(title=title) if title else chart


def kv_attention_table(kv: pd.DataFrame) -> ReaderTable:
    """KV-cache bytes per token, decode-attention intensity and query heads of attention variants, one per row.

    Parameters
    ----------
    kv : pandas.DataFrame
        Output of :func:`memwall.beyond.attention_cost.kv_table` (indexed by the variant's label; ``kind``,
        ``heads``, ``kv_elements_per_token``, ``kv_bytes_per_token`` [B], ``attention_intensity`` [FLOP/B]).

    Returns
    -------
    memwall.reader_table.ReaderTable

    Raises
    ------
    ValueError
        If a column is missing.
    """
    frame = kv.rename_axis("attention").reset_index() if "attention" not in kv.columns else kv
    require_columns(frame, ["attention", "kind", "heads", "kv_elements_per_token", "kv_bytes_per_token",
                            "attention_intensity"], "kv")
    return reader_table(frame, {
        "attention": Column("Model and attention", kind="text"),
        "kv_bytes_per_token": Column("KV cache per token", "B", kind="integer"),
        "attention_intensity": Column("Attention intensity", "FLOP/B", 3, "number"),
        "heads": Column("Query heads", kind="integer")})


def moe_summary_table(table: pd.DataFrame, batches: tuple[int, ...] = (1, 8, 64)) -> ReaderTable:
    """Parameters, experts and the experts and weights a decode step touches, one row per quantity, per model.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`memwall.beyond.moe_decode.moe_table` (indexed by model), with ``distinct_<B>`` and
        ``weight_bytes_<B>`` [B] for each batch ``B`` of ``batches``.
    batches : tuple of int
        The batches to show [sequences].

    Returns
    -------
    memwall.reader_table.ReaderTable
        Transposed (:func:`memwall.reader_table.transposed_table`): a first column naming each quantity with its
        unit, one column per model; expert counts as integers, the rest with 3 significant digits.

    Raises
    ------
    ValueError
        If a column is missing, or an expert count is not a whole number.
    """
    need = ["total_params", "active_params", "active_share", "routed_experts", "active_experts", "shared_experts"]
    need += [f"{c}_{b}" for b in batches for c in ("distinct", "weight_bytes")]
    require_columns(table, need, "table")
    frame = pd.DataFrame({
        "model": [str(m) for m in table.index], "total": table["total_params"].to_numpy() / 1e9,
        "active": table["active_params"].to_numpy() / 1e9, "share": in_unit(table["active_share"], "%").to_numpy(),
        "routed": table["routed_experts"].to_numpy(), "per_token": table["active_experts"].to_numpy(),
        "shared": table["shared_experts"].to_numpy()}
        | {f"distinct_{b}": table[f"distinct_{b}"].to_numpy() for b in batches}
        | {f"weights_{b}": in_unit(table[f"weight_bytes_{b}"], "GB").to_numpy() for b in batches})
    counts = {"routed": "routed experts per MoE layer", "per_token": "routed experts per token",
              "shared": "shared experts"}
    quantities = {"total": Column("total parameters", "billion", 3), "active": Column(
        "active parameters per token", "billion", 3), "share": Column("active share", "%", 3)}
    quantities |= {c: Column(words, kind="integer") for c, words in counts.items()}
    quantities |= {f"distinct_{b}": Column(f"experts touched per layer, batch {b}", digits=3) for b in batches}
    quantities |= {f"weights_{b}": Column(f"weights read per step, batch {b}", "GB", 3) for b in batches}
    return transposed_table(frame, "model", quantities)
