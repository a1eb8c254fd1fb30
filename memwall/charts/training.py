"""Training-memory charts and tables: the paper's bars beside ours, the mitigations, and the calculator."""

from __future__ import annotations

import json

import altair as alt
import numpy as np
import pandas as pd

from memwall.book import in_unit
from memwall.charts.palette import BLACK, BLUE, GREEN, ORANGE, SKY, VERMILION, colour_scale
from memwall.charts.theme import require_columns, responsive
from memwall.reader_table import Column, ReaderTable, reader_table

__all__ = ["bar_comparison_table", "memory_bars_chart", "mitigation_table", "training_calculator_chart"]

_SOURCES = {"paper": "the paper's bar", "ours": "ours"}
_PARTS = ["weights", "gradients", "optimizer", "activations"]
_PART_COLOURS = {"weights": BLUE, "parameters": BLUE, "gradients": SKY, "optimizer": ORANGE, "activations": GREEN}
"""One colour per part of training memory on both charts of the chapter (the paper's "parameters" are weights)."""


def memory_bars_chart(bars: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """The paper's training-memory bars beside ours, stacked by part, with the GPU memory of each bar's day.

    Parameters
    ----------
    bars : pandas.DataFrame
        Long table: ``model`` (in plot order), ``source`` ("paper" or "ours"), ``part``, ``gb`` [GB] and
        ``gpu_limit_gb`` [GB].
    title : str
        Chart title (the book passes none: the caption is the figure's).

    Returns
    -------
    altair.LayerChart
        Horizontal stacked bars, the model's name above its bars (the paper's light, ours dark), a black
        tick across each model's bar rows at its GPU memory labelled "GPU 32 GB" beside it, and legends for the
        parts and the two bars.

    Raises
    ------
    ValueError
        If a column is missing or ``source`` holds a value other than "paper" and "ours".
    """
    require_columns(bars, ["model", "source", "part", "gb", "gpu_limit_gb"], "bars")
    unknown = sorted(set(bars["source"]) - set(_SOURCES))
    if unknown:
        raise ValueError(f"bars: source {unknown} is not one of {', '.join(_SOURCES)}")
    order = list(dict.fromkeys(bars["model"]))
    parts = list(dict.fromkeys(bars["part"]))
    sources = list(_SOURCES.values())
    data = bars.assign(source=bars["source"].map(_SOURCES))
    # horizontal bars, three rows per model: its name, the paper's bar, ours. The names sit above the bars
    # instead of beside them, so that on a phone the bars and the legends keep the whole width.
    slots = ["name", *sources]
    y = alt.Y("model:N", sort=order, title=None, axis=None, scale=alt.Scale(paddingInner=0.15))
    y_offset = alt.YOffset("slot:N", sort=slots, scale=alt.Scale(domain=slots, paddingInner=0.1))
    totals = data.groupby(["model", "source"])["gb"].sum()
    top = float(5 * np.ceil(max(totals.max() * 1.1, data["gpu_limit_gb"].max() * 1.3) / 5))
    x_scale = alt.Scale(domain=[0, top])
    stacks = alt.Chart(data.assign(slot=data["source"])).mark_bar().encode(
        y=y, yOffset=y_offset,
        x=alt.X("sum(gb):Q", title="training memory [GB]", scale=x_scale, axis=alt.Axis(tickMinStep=5)),
        color=alt.Color("part:N", title="part", sort=parts, scale=colour_scale(parts, _PART_COLOURS),
                        legend=alt.Legend(symbolType="square")),
        opacity=alt.Opacity("source:N", title="bar", sort=sources, scale=alt.Scale(domain=sources, range=[0.5, 1.0]),
                            legend=alt.Legend(symbolType="square", symbolFillColor=BLACK)),
        tooltip=[alt.Tooltip("model:N", title="model"), alt.Tooltip("source:N", title="bar"),
                 alt.Tooltip("part:N", title="part"), alt.Tooltip("gb:Q", format=".2f", title="memory [GB]")],
    )
    limits = data.drop_duplicates("model")[["model", "gpu_limit_gb"]]
    limits = limits.assign(label=limits["gpu_limit_gb"].map(lambda v: f"GPU {v:g} GB"))
    tip = [alt.Tooltip("model:N", title="model"), alt.Tooltip("gpu_limit_gb:Q", title="GPU memory of the day [GB]")]
    # the tick crosses the rows of the bars, not the row of the name
    per_bar = pd.concat([limits.assign(slot=source) for source in sources], ignore_index=True)
    steps = alt.Chart(per_bar).mark_tick(color=BLACK, thickness=2).encode(
        y=y, yOffset=y_offset, x=alt.X("gpu_limit_gb:Q", scale=x_scale), tooltip=tip)
    labels = alt.Chart(limits.assign(slot=sources[-1])).mark_text(align="left", dx=4, fontSize=11,
                                                                  color=BLACK).encode(
        y=y, yOffset=y_offset, x=alt.X("gpu_limit_gb:Q", scale=x_scale), text="label:N", tooltip=tip)
    names = alt.Chart(limits.assign(slot="name", x=0.0)).mark_text(align="left", fontSize=12,
                                                                  fontWeight="bold").encode(
        y=y, yOffset=y_offset, x=alt.X("x:Q", scale=x_scale), text="model:N")
    chart = responsive(alt.layer(stacks, steps, labels, names), 440)
    return chart.properties(title=title) if title else chart


def training_calculator_chart(grid: pd.DataFrame, devices: pd.DataFrame, *, device: str | None = None,
                              title: str = "") -> alt.LayerChart:
    """Interactive per-GPU training memory: dropdowns for model, sequence, ZeRO stage, GPUs, recomputation, device.

    Parameters
    ----------
    grid : pandas.DataFrame
        Output of :func:`memwall.wall.training_bars.calculator_grid`.
    devices : pandas.DataFrame
        ``device`` and ``memory_bytes`` [B] of the devices offered as the capacity line.
    device : str, optional
        The device the chart opens on (the one the prose discusses); the first of ``devices`` if omitted.
    title : str
        Chart title (the book passes none).

    Returns
    -------
    altair.LayerChart
        Stacked bars of GB per GPU against micro-batch with each bar's total written on it, and the chosen
        device's capacity as a labelled red rule. The y axis is fixed at 0 to 1.5 times the largest device
        memory (rounded up to 100 GB) for every setting: a taller bar is cut at the top, and its total is
        written inside it under an arrow.

    Raises
    ------
    ValueError
        If ``grid`` or ``devices`` lacks a column or is empty, ``device`` is not one of ``devices``, ``grid``
        holds two rows for one setting and part, or a part other than weights, gradients, optimizer and
        activations.
    """
    settings = ["model", "seq_len", "micro_batch", "zero_stage", "n_gpus", "recompute"]
    require_columns(grid, [*settings, "part", "bytes"], "grid")
    require_columns(devices, ["device", "memory_bytes"], "devices")
    if grid.empty or devices.empty:
        raise ValueError("grid and devices must not be empty")
    repeated = grid.duplicated([*settings, "part"])
    if repeated.any():
        raise ValueError(f"grid holds {int(repeated.sum())} repeated row(s) of one setting and part, e.g. "
                         f"{grid.loc[repeated, [*settings, 'part']].iloc[0].to_dict()}")
    if device is not None and device not in set(devices["device"]):
        raise ValueError(f"device {device!r} is not one of {', '.join(map(str, devices['device']))}")
    parts = _PARTS
    unknown = sorted(set(grid["part"]) - set(parts))
    if unknown:
        raise ValueError(f"grid has part(s) {', '.join(map(str, unknown))}; the chart stacks {', '.join(parts)}")

    def pick(column: str, name: str, label: str, frame: pd.DataFrame = grid,
             words: dict | None = None, first: object = None) -> alt.Parameter:
        options = list(dict.fromkeys(frame[column].tolist()))
        opening = options[0] if first is None else first  # the setting the chart opens on: the table's first
        if all(isinstance(o, int | float) and not isinstance(o, bool) for o in options):
            options = sorted(options)  # a menu of numbers reads in order (1, 8, 64 GPUs)
        labels = [str((words or {}).get(o, o)) for o in options]
        return alt.param(name=name, value=opening,
                         bind=alt.binding_select(options=options, labels=labels, name=label))

    params = [pick("model", "m_pick", "model "), pick("seq_len", "s_pick", "sequence [tokens] "),
              pick("zero_stage", "z_pick", "ZeRO stage ", words={0: "0 (none)"}), pick("n_gpus", "g_pick", "GPUs "),
              pick("recompute", "r_pick", "recomputation "), pick("device", "d_pick", "device ", devices, first=device)]
    m, s, z, g, r, d = params
    # One row per setting with the four parts as columns (folded into stacked bars by Vega-Lite): the page embeds
    # a quarter of the rows of the long table (tests/test_reproducible.py caps the size of every chart spec).
    wide = (grid.assign(gb=in_unit(grid["bytes"], "GB"))  # SI in, GB out
            .pivot(index=settings, columns="part", values="gb").reindex(columns=parts).fillna(0.0).reset_index())
    wide.columns.name = None
    wide["total"] = wide[parts].sum(axis=1)
    devices = devices.assign(memory_gb=in_unit(devices["memory_bytes"], "GB"))
    top = float(100 * np.ceil(1.5 * devices["memory_gb"].max() / 100))
    y_scale = alt.Scale(domain=[0, top], clamp=True)
    chosen = ((alt.datum.model == m) & (alt.datum.seq_len == s) & (alt.datum.zero_stage == z)
              & (alt.datum.n_gpus == g) & (alt.datum.recompute == r))
    x = alt.X("micro_batch:O", title="micro-batch per GPU [sequences]", axis=alt.Axis(labelAngle=0))
    bars = alt.Chart(wide).transform_filter(chosen).transform_fold(parts, as_=["part", "gb"]).transform_calculate(
        part_order=f"indexof({json.dumps(parts)}, datum.part)"
    ).mark_bar(clip=True).encode(
        x=x,
        y=alt.Y("sum(gb):Q", title="memory per GPU [GB]", scale=y_scale, axis=alt.Axis(tickMinStep=50)),
        color=alt.Color("part:N", title=None, sort=parts, scale=colour_scale(parts, _PART_COLOURS),
                        legend=alt.Legend(symbolType="square", columns=2)),
        order=alt.Order("part_order:Q"),
        tooltip=[alt.Tooltip("part:N", title="part"), alt.Tooltip("micro_batch:O", title="micro-batch"),
                 alt.Tooltip("gb:Q", format=".2f", title="memory [GB]")],
    )
    total_tip = [alt.Tooltip("micro_batch:O", title="micro-batch"),
                 alt.Tooltip("total:Q", format=",.1f", title="total [GB]")]
    chosen_totals = alt.Chart(wide).transform_filter(chosen).transform_calculate(
        label="format(datum.total, datum.total < 10 ? '.1f' : ',.0f')")
    fits = chosen_totals.transform_filter(f"datum.total <= {top}").mark_text(
        baseline="bottom", dy=-3, fontSize=11).encode(x=x, y=alt.Y("total:Q", scale=y_scale), text="label:N",
                                                      tooltip=total_tip)
    # a bar taller than the axis is cut at its top: its total is written inside, under an arrow
    cut = chosen_totals.transform_filter(f"datum.total > {top}").transform_calculate(
        top=f"{top}", label="'↑ ' + datum.label").mark_text(
        baseline="top", dy=4, fontSize=11, fontWeight="bold", color="white").encode(
        x=x, y=alt.Y("top:Q", scale=y_scale), text="label:N", tooltip=total_tip)
    chosen_device = alt.Chart(devices).transform_filter(alt.datum.device == d).transform_calculate(
        label="datum.device + ': ' + format(datum.memory_gb, '.0f') + ' GB'")
    cap = chosen_device.mark_rule(color=VERMILION, strokeWidth=2, strokeDash=[6, 3]).encode(
        y=alt.Y("memory_gb:Q", scale=y_scale),
        tooltip=[alt.Tooltip("device:N", title="device"),
                 alt.Tooltip("memory_gb:Q", format=".1f", title="memory [GB]")])
    # the device's name on a white halo, so that it reads over the bars
    label = {"align": "left", "baseline": "bottom", "dx": 2, "dy": -4, "fontSize": 11, "fontWeight": "bold"}
    halo = chosen_device.mark_text(**label, color="white", stroke="white", strokeWidth=4, strokeJoin="round").encode(
        x=alt.value(0), y=alt.Y("memory_gb:Q", scale=y_scale), text="label:N")
    cap_label = chosen_device.mark_text(**label, color=VERMILION).encode(
        x=alt.value(0), y=alt.Y("memory_gb:Q", scale=y_scale), text="label:N")
    chart = responsive(alt.layer(bars, fits, cut, cap, halo, cap_label).add_params(*params), 300)
    return chart.properties(title=title) if title else chart


def bar_comparison_table(comparison: pd.DataFrame) -> ReaderTable:
    """The paper's bars against ours: totals and activations, paper value and difference first.

    Parameters
    ----------
    comparison : pandas.DataFrame
        :func:`memwall.wall.training_bars.paper_bar_comparison`: ``model``, ``total_paper_gb``,
        ``total_ours_gb``, ``total_diff_pct``, ``activations_paper_gb`` and ``activations_diff_pct`` [GB, %]
        (NaN in ours where the bar is not modelled).

    Returns
    -------
    memwall.reader_table.ReaderTable
        Model, then the total (paper, ours, difference) and the activations (paper, difference); ``—`` in
        our columns where the bar is the paper's alone (the CNNs).

    Raises
    ------
    ValueError
        If a column is missing.
    """
    cols = ["model", "total_paper_gb", "total_ours_gb", "total_diff_pct", "activations_paper_gb",
            "activations_diff_pct"]
    require_columns(comparison, cols, "comparison")
    return reader_table(comparison, {
        "model": Column("Model", kind="text"),
        "total_paper_gb": Column("Total, paper", "GB", trailing_zeros=False),  # as the paper prints it
        "total_ours_gb": Column("Total, ours", "GB"),
        "total_diff_pct": Column("Total, difference", "%", digits=2),
        "activations_paper_gb": Column("Activations, paper", "GB", trailing_zeros=False),
        "activations_diff_pct": Column("Activations, difference", "%", digits=2),
    })


def mitigation_table(steps: pd.DataFrame) -> ReaderTable:
    """Memory per GPU of one training setting after another, the total first.

    Parameters
    ----------
    steps : pandas.DataFrame
        ``setting`` (text) and ``weights_gb``, ``gradients_gb``, ``optimizer_gb``, ``activations_gb`` and
        ``total_gb`` [GB per GPU], one row per setting.

    Returns
    -------
    memwall.reader_table.ReaderTable
        Setting, total and the four parts [GB], 3 significant digits.

    Raises
    ------
    ValueError
        If a column is missing.
    """
    require_columns(steps, ["setting", *(f"{p}_gb" for p in [*_PARTS, "total"])], "steps")
    return reader_table(steps, {"setting": Column("Setting", kind="text"), "total_gb": Column("Total", "GB"),
                                **{f"{p}_gb": Column(p.capitalize(), "GB") for p in _PARTS}})
