"""Charts and tables of the on-chip lever: the vendors' on-chip memories, the decode bound against model size per
memory tier, the chips needed to stay on chip, and the cost of spreading a model over them.

Colours come from the book's palette (:mod:`memwall.charts.palette`): weight widths take the colours of the number
formats (16-bit as bf16, 8-bit as int8, 4-bit as int4); tables go through :func:`memwall.reader_table.reader_table`.
"""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from memwall.charts.palette import colour_of, colour_scale
from memwall.charts.theme import decade_axis, require_columns, require_positive, responsive
from memwall.reader_table import Column, ReaderTable, reader_table
from memwall.specs.presets import display_name

__all__ = ["WIDTH_COLOURS", "chips_needed_chart", "onchip_memory_table", "spread_table", "tier_bounds_chart"]

_TIER_ORDER = ("on-chip SRAM", "HBM", "host DRAM")

WIDTH_COLOURS: dict[str, str] = {"16-bit": colour_of("bf16") or "", "8-bit": colour_of("int8") or "",
                                 "4-bit": colour_of("int4") or ""}
"""Colour of each weight width: that of the number format the book uses for it (bf16, int8, int4)."""

_PRESET_KIND = "preset model"


def _log_scale(values: pd.Series | np.ndarray) -> tuple[alt.Scale, list[float]]:
    """A log scale fixed to the decades spanning ``values`` and those decades."""
    arr = np.asarray(values, dtype=float)
    lo, hi = int(np.floor(np.log10(arr.min()))), int(np.ceil(np.log10(arr.max())))
    decades = [float(10.0**k) for k in range(lo, hi + 1)]
    return alt.Scale(type="log", domain=[decades[0], decades[-1]]), decades


def onchip_memory_table(table: pd.DataFrame) -> ReaderTable:
    """Every row of ``data/onchip_memory.csv``: on-chip capacity and bandwidth beside HBM and the FP16 peak.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`memwall.tables.onchip.load_onchip` (``device``, ``sram_name``, ``sram_capacity_mib`` [MiB],
        ``sram_bandwidth_tb_per_s`` [TB/s], ``memory_bandwidth_gb_per_s`` [GB/s], ``dense_fp16_tflop_per_s``
        [TFLOP/s], ``confidence``).

    Returns
    -------
    memwall.reader_table.ReaderTable
        A dash where the vendor publishes no number.

    Raises
    ------
    ValueError
        A missing column.
    """
    need = ["device", "sram_name", "sram_capacity_mib", "sram_bandwidth_tb_per_s", "memory_bandwidth_gb_per_s",
            "dense_fp16_tflop_per_s", "confidence"]
    require_columns(table, need, "table")
    # one key column naming device and memory, so that a row stays identifiable when a narrow page splits the table
    shown = table.assign(hbm_tb_per_s=table["memory_bandwidth_gb_per_s"] / 1e3,
                         key=table["device"].astype(str) + ": " + table["sram_name"].astype(str))
    return reader_table(shown, {
        "key": Column("Device: on-chip memory", kind="text"),
        "sram_capacity_mib": Column("Capacity", "MiB", 3, trailing_zeros=False),
        "sram_bandwidth_tb_per_s": Column("Bandwidth", "TB/s", 3, trailing_zeros=False),
        "hbm_tb_per_s": Column("HBM", "TB/s", 3, trailing_zeros=False),
        "confidence": Column("Confidence", kind="text"),
        "dense_fp16_tflop_per_s": Column("FP16 dense", "TFLOP/s", 3, trailing_zeros=False)})  # datasheets, as given


def tier_bounds_chart(table: pd.DataFrame, points: pd.DataFrame | None = None) -> alt.LayerChart:
    """Decode tokens/s bound against model size, one line per memory tier, menus for device and batch.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`memwall.levers.onchip.tier_bounds` rows stacked with ``device`` and ``batch`` columns:
        ``device``, ``batch``, ``tier``, ``parameters``, ``tokens_per_s``, ``fits``. Only rows that fit are drawn,
        so each line ends at its tier's capacity.
    points : pandas.DataFrame, optional
        Presets on the same axes: ``device``, ``batch``, ``tier``, ``model``, ``parameters``, ``tokens_per_s``
        (from :func:`memwall.levers.onchip.decode_bound`), drawn as labelled diamonds.

    Returns
    -------
    altair.LayerChart
        Log-log axes fixed over every device and batch (the menus never move them); the tiers' legend has line
        swatches, the presets a diamond of their own.

    Raises
    ------
    ValueError
        A missing column, a non-positive value on a log axis, or a device or batch without a line that fits.
    """
    require_columns(table, ["device", "batch", "tier", "parameters", "tokens_per_s", "fits"], "table")
    require_positive(table, "tokens_per_s")
    data = table.loc[table["fits"].astype(bool), ["device", "batch", "tier", "parameters", "tokens_per_s"]].copy()
    empty = sorted({(str(d), int(b)) for d, b in table[["device", "batch"]].itertuples(index=False)}
                   - {(str(d), int(b)) for d, b in data[["device", "batch"]].itertuples(index=False)})
    if empty:
        raise ValueError(f"table: no tier fits any size for (device, batch) {empty}; the chart would be empty")
    devices = list(dict.fromkeys(data["device"]))
    batches = sorted(int(b) for b in data["batch"].unique())
    p_dev = alt.param(name="oc_device", value=devices[0], bind=alt.binding_select(options=devices, name="device "))
    p_b = alt.param(name="oc_batch", value=batches[0], bind=alt.binding_select(
        options=batches, labels=[f"{b} sequence{'s' if b > 1 else ''}" for b in batches], name="batch "))
    order = [t for t in _TIER_ORDER if t in set(data["tier"])] + sorted(set(data["tier"]) - set(_TIER_ORDER))
    both = pd.concat([data[["parameters", "tokens_per_s"]]] + ([] if points is None else
                                                               [points[["parameters", "tokens_per_s"]]]))
    x_scale, _ = _log_scale(both["parameters"])
    y_scale, _ = _log_scale(both["tokens_per_s"])
    x = alt.X("parameters:Q", scale=x_scale,
              axis=decade_axis(both["parameters"], "model size [parameters]", billions=True))
    y = alt.Y("tokens_per_s:Q", scale=y_scale,
              axis=decade_axis(both["tokens_per_s"], "decode bound per sequence [tokens/s]"))
    keep = (alt.datum.device == p_dev) & (alt.datum.batch == p_b)
    colour = alt.Color("tier:N", title="weights streamed from", sort=order, scale=colour_scale(order),
                       legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=3))
    tip_tier = alt.Tooltip("tier:N", title="weights in")
    tip_tps = alt.Tooltip("tokens_per_s:Q", format=",.3~s", title="decode bound [tokens/s]")
    lines = alt.Chart(data).transform_filter(keep).mark_line(strokeWidth=2.5).encode(
        x=x, y=y, color=colour, detail="tier:N",
        tooltip=[alt.Tooltip("device:N", title="device"), tip_tier,
                 alt.Tooltip("parameters:Q", format=".3~s", title="parameters"), tip_tps])
    layers: list[alt.Chart] = [lines]
    if points is not None:
        require_columns(points, ["device", "batch", "tier", "model", "parameters", "tokens_per_s"], "points")
        require_positive(points, "tokens_per_s")
        base = alt.Chart(points[["device", "batch", "tier", "model", "parameters", "tokens_per_s"]].assign(
            kind=_PRESET_KIND, model=points["model"].map(display_name))).transform_filter(keep)
        shape = alt.Shape("kind:N", title=None, scale=alt.Scale(domain=[_PRESET_KIND], range=["diamond"]),
                          legend=alt.Legend(symbolFillColor="#555", symbolStrokeColor="#555"))
        layers.append(base.mark_point(filled=True, size=80, opacity=1).encode(
            x=x, y=y, color=colour, shape=shape,
            tooltip=[alt.Tooltip("model:N", title="model"), tip_tier, tip_tps]))
        layers.append(base.mark_text(align="left", dx=6, dy=-7, fontSize=10, color="#333").encode(
            x=x, y=y, text="model:N"))
    return responsive(alt.layer(*layers).add_params(p_dev, p_b).resolve_scale(shape="independent"), 340)


def chips_needed_chart(table: pd.DataFrame, *, model: str | None = None) -> alt.LayerChart:
    """Chips needed to hold a model in on-chip memory, per device, one bar per weight width; a model menu.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`memwall.levers.onchip.chips_needed_table`: ``model``, ``widths``, ``device``, ``chips``.
    model : str, optional
        The model shown first (default: the table's last).

    Returns
    -------
    altair.LayerChart
        Horizontal bars on a log axis fixed over all models (a bar of 1 chip is a short stub: the model fits on
        one chip), the count written at each bar's end.

    Raises
    ------
    ValueError
        A missing column, a count below 1 or an unknown model.
    """
    require_columns(table, ["model", "widths", "device", "chips"], "table")
    if (table["chips"] < 1).any():
        raise ValueError("column 'chips' has values below 1")
    models = list(dict.fromkeys(table["model"]))
    widths = list(dict.fromkeys(table["widths"]))
    if model is not None and model not in models:
        raise ValueError(f"model={model!r} is not in the table; allowed: {', '.join(models)}")
    table = table.assign(model=table["model"].map(display_name))  # the reader's names: Llama-2-70B
    models = [display_name(m) for m in models]
    pick = alt.param(name="oc_model", value=display_name(model) if model is not None else models[-1],
                     bind=alt.binding_select(options=models, name="model "))
    hi = 10.0 ** math.ceil(math.log10(float(np.max(table["chips"])) * 3))
    start = 0.6  # bars start left of 1, so that "fits on one chip" is a visible stub
    x = alt.X("chips:Q", scale=alt.Scale(type="log", domain=[start, hi], nice=False),
              axis=decade_axis(np.array([1.0, hi]), "chips holding the weights on chip"))
    devices = list(dict.fromkeys(table["device"]))
    # each device's band has a slot for its name above its bars: the names never squeeze the bars on a phone
    slots = ["name", *widths]
    y = alt.Y("device:N", title=None, sort=devices, axis=None, scale=alt.Scale(paddingInner=0.15, paddingOuter=0.05))
    offset = alt.YOffset("slot:N", sort=slots, scale=alt.Scale(domain=slots, paddingInner=0.1))
    colour = alt.Color("widths:N", title="weights", sort=widths,
                       scale=colour_scale(widths, {w: c for w, c in WIDTH_COLOURS.items() if w in widths}))
    base = alt.Chart(table).transform_filter(alt.datum.model == pick).transform_calculate(
        start=f"{start}", slot="datum.widths")
    bars = base.mark_bar().encode(
        x=x, x2="start:Q", y=y, yOffset=offset, color=colour,
        tooltip=[alt.Tooltip("model:N", title="model"), alt.Tooltip("device:N", title="device"),
                 alt.Tooltip("widths:N", title="weights"), alt.Tooltip("chips:Q", format=",", title="chips")])
    text = base.mark_text(align="left", baseline="middle", dx=3, fontSize=10, color="#333").encode(
        x=x, y=y, yOffset=offset, text=alt.Text("chips:Q", format=","))
    names = alt.Chart(pd.DataFrame({"device": devices, "slot": "name", "start": start})).mark_text(
        align="left", baseline="middle", fontSize=11, color="#222").encode(
        x="start:Q", y=y, yOffset=offset, text="device:N")
    return responsive(alt.layer(bars, text, names).add_params(pick), 11 * len(slots) * len(devices))


def spread_table(spread: pd.DataFrame) -> ReaderTable:
    """A model spread over chips: SRAM time, link time and the decode bound per parallel layout.

    Parameters
    ----------
    spread : pandas.DataFrame
        Rows of :func:`memwall.levers.onchip_spread.spread_decode` (``tensor_parallel``, ``pipeline_stages``,
        ``chips``, ``step_s``, ``allreduce_s``, ``pipeline_s`` [s], ``tokens_per_s``, ``link_share`` [1]).

    Returns
    -------
    memwall.reader_table.ReaderTable
        The layout as "tensor parallel × stages = chips", the bound, the link share [%], the SRAM and hop times
        [µs] and the all-reduce time [ms] per token.

    Raises
    ------
    ValueError
        A missing column.
    """
    need = ["tensor_parallel", "pipeline_stages", "chips", "step_s", "allreduce_s", "pipeline_s", "tokens_per_s",
            "link_share"]
    require_columns(spread, need, "spread")
    layout = [f"{t} × {p} = {c:,}" for t, p, c in
              zip(spread["tensor_parallel"], spread["pipeline_stages"], spread["chips"], strict=True)]
    shown = spread.assign(layout=layout, step_us=spread["step_s"] * 1e6, allreduce_ms=spread["allreduce_s"] * 1e3,
                          pipeline_us=spread["pipeline_s"] * 1e6, link_pct=100 * spread["link_share"])
    return reader_table(shown, {
        "layout": Column("Tensor parallel × stages = chips", kind="text"),
        "tokens_per_s": Column("Decode", "tokens/s", 3), "link_pct": Column("Link share", "%", 3),
        "step_us": Column("SRAM step", "µs", 3), "allreduce_ms": Column("All-reduces", "ms", 3),
        "pipeline_us": Column("Hops", "µs", 3)})
