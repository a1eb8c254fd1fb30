"""Training-memory charts: the paper's bars and the calculator."""

from __future__ import annotations

import json

import altair as alt
import pandas as pd

from memwall.book import in_unit
from memwall.charts.theme import require_columns

__all__ = ["memory_bars_chart", "training_calculator_chart"]



def memory_bars_chart(bars: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """The paper's training-memory bars beside ours, stacked by part, with the GPU-limit steps.

    Parameters
    ----------
    bars : pandas.DataFrame
        Long table: ``model`` (in plot order), ``source`` ("paper" or "ours"), ``part``, ``gb`` [GB] and
        ``gpu_limit_gb`` [GB].
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
    """
    order = list(dict.fromkeys(bars["model"]))
    x = alt.X("model:N", sort=order, title=None, axis=alt.Axis(labelAngle=-30))
    stacks = alt.Chart(bars).mark_bar().encode(
        x=x, xOffset=alt.XOffset("source:N", sort=["paper", "ours"]),
        y=alt.Y("sum(gb):Q", title="training memory [GB]"),
        color=alt.Color("part:N", title=None), opacity=alt.Opacity("source:N", sort=["paper", "ours"],
                                                                      scale=alt.Scale(range=[0.55, 1.0])),
        tooltip=["model:N", "source:N", "part:N", alt.Tooltip("gb:Q", format=".2f", title="GB")],
    )
    limits = bars.drop_duplicates("model")[["model", "gpu_limit_gb"]]
    steps = alt.Chart(limits).mark_tick(color="#000", thickness=2, size=22, strokeDash=[4, 2]).encode(
        x=x, y="gpu_limit_gb:Q", tooltip=["model:N", alt.Tooltip("gpu_limit_gb:Q", title="GPU limit [GB]")])
    return alt.layer(stacks, steps).properties(title=title, width=460)


def training_calculator_chart(grid: pd.DataFrame, devices: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Interactive per-GPU training memory: dropdowns for model, sequence, ZeRO stage, GPUs, recomputation, device.

    Parameters
    ----------
    grid : pandas.DataFrame
        Output of :func:`memwall.wall.training_bars.calculator_grid`.
    devices : pandas.DataFrame
        ``device`` and ``memory_bytes`` [B] of the devices offered as the capacity line.
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        Stacked bars of GB per GPU against micro-batch, and the chosen device's capacity as a rule.

    Raises
    ------
    ValueError
        If ``grid`` or ``devices`` lacks a column, ``grid`` holds two rows for one setting and part, or a part
        other than weights, gradients, optimizer and activations.
    """
    settings = ["model", "seq_len", "micro_batch", "zero_stage", "n_gpus", "recompute"]
    require_columns(grid, [*settings, "part", "bytes"], "grid")
    require_columns(devices, ["device", "memory_bytes"], "devices")
    repeated = grid.duplicated([*settings, "part"])
    if repeated.any():
        raise ValueError(f"grid holds {int(repeated.sum())} repeated row(s) of one setting and part, e.g. "
                         f"{grid.loc[repeated, [*settings, 'part']].iloc[0].to_dict()}")
    parts = ["weights", "gradients", "optimizer", "activations"]
    unknown = sorted(set(grid["part"]) - set(parts))
    if unknown:
        raise ValueError(f"grid has part(s) {', '.join(map(str, unknown))}; the chart stacks {', '.join(parts)}")

    def pick(column: str, name: str, label: str, frame: pd.DataFrame = grid) -> alt.Parameter:
        options = list(dict.fromkeys(frame[column].tolist()))
        return alt.param(name=name, value=options[0], bind=alt.binding_select(options=options, name=label))

    params = [pick("model", "m_pick", "model "), pick("seq_len", "s_pick", "sequence [tokens] "),
              pick("zero_stage", "z_pick", "ZeRO stage "), pick("n_gpus", "g_pick", "GPUs "),
              pick("recompute", "r_pick", "recomputation "), pick("device", "d_pick", "device ", devices)]
    m, s, z, g, r, d = params
    # One row per setting with the four parts as columns (folded into stacked bars by Vega-Lite): the page embeds
    # a quarter of the rows of the long table (tests/test_reproducible.py caps the size of every chart spec).
    wide = (grid.assign(gb=in_unit(grid["bytes"], "GB"))  # SI in, GB out
            .pivot(index=settings, columns="part", values="gb").reindex(columns=parts).reset_index())
    wide.columns.name = None
    devices = devices.assign(memory_gb=in_unit(devices["memory_bytes"], "GB"))
    bars = alt.Chart(wide).transform_filter(
        (alt.datum.model == m) & (alt.datum.seq_len == s) & (alt.datum.zero_stage == z)
        & (alt.datum.n_gpus == g) & (alt.datum.recompute == r)
    ).transform_fold(parts, as_=["part", "gb"]).transform_calculate(
        part_order=f"indexof({json.dumps(parts)}, datum.part)"
    ).mark_bar().encode(
        x=alt.X("micro_batch:O", title="micro-batch per GPU [sequences]"),
        y=alt.Y("sum(gb):Q", title="memory per GPU [GB]"),
        color=alt.Color("part:N", title=None, sort=parts),
        order=alt.Order("part_order:Q"),
        tooltip=["part:N", "micro_batch:O", alt.Tooltip("gb:Q", format=".2f", title="GB")],
    )
    cap = alt.Chart(devices).transform_filter(alt.datum.device == d).mark_rule(
        color="#D55E00", strokeWidth=2, strokeDash=[6, 3]).encode(
        y="memory_gb:Q", tooltip=["device:N", alt.Tooltip("memory_gb:Q", format=".1f", title="capacity [GB]")])
    return alt.layer(bars, cap).add_params(*params).properties(title=title, width=320)
