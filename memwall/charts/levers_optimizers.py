"""Charts of the chapter "Lean optimizers and low-precision training": memory per GPU and bytes per parameter."""

from __future__ import annotations

import altair as alt
import pandas as pd

from memwall.book import in_unit
from memwall.charts.theme import FIT_CONTAINER, PALETTE

__all__ = ["bytes_per_param_chart", "optimizer_memory_chart"]

_PARTS = ["weights", "gradients", "optimizer", "activations"]
_STATE_PARTS = ["weights", "gradients", "master weights", "optimizer state"]


def _pick(frame: pd.DataFrame, column: str, name: str, label: str) -> alt.Parameter:
    options = list(dict.fromkeys(frame[column].tolist()))
    return alt.param(name=name, value=options[0], bind=alt.binding_select(options=options, name=label))


def optimizer_memory_chart(grid: pd.DataFrame, devices: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Training memory per GPU by optimizer and precision recipe, stacked by part, with a ZeRO-stage dropdown.

    Parameters
    ----------
    grid : pandas.DataFrame
        Output of :func:`memwall.wall.training_bars.optimizer_grid` (``recipe``, ``zero_stage``, ``part``,
        ``bytes`` [B]), optionally with a ``model`` column (then a model dropdown is added).
    devices : pandas.DataFrame
        ``device`` and ``memory_bytes`` [B]: each is drawn as a labelled horizontal line.
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        Stacked bars (GB per GPU) per recipe, the device capacities as dashed rules with their names.
    """
    grid = grid.assign(gb=in_unit(grid["bytes"], "GB"), part_order=grid["part"].map(_PARTS.index))
    params = [_pick(grid, "zero_stage", "zero_pick", "ZeRO stage ")]
    keep = alt.datum.zero_stage == params[0]
    if "model" in grid.columns:
        params.append(_pick(grid, "model", "model_pick", "model "))
        keep = keep & (alt.datum.model == params[1])
    order = list(dict.fromkeys(grid["recipe"]))
    x = alt.X("recipe:N", sort=order, title=None, axis=alt.Axis(labelAngle=-35, labelLimit=220))
    bars = alt.Chart(grid).transform_filter(keep).mark_bar().encode(
        x=x, y=alt.Y("sum(gb):Q", title="memory per GPU [GB]"),
        color=alt.Color("part:N", title=None, sort=_PARTS, scale=alt.Scale(domain=_PARTS, range=list(PALETTE[:4]))),
        order=alt.Order("part_order:Q"),
        tooltip=["recipe:N", "part:N", alt.Tooltip("gb:Q", format=".1f", title="GB")],
    )
    caps = devices.assign(memory_gb=in_unit(devices["memory_bytes"], "GB"),
                          label=[f"{d}: {b / 2**30:.0f} GiB = {in_unit(b, 'GB'):.0f} GB" for d, b in
                                 zip(devices["device"], devices["memory_bytes"], strict=True)])
    rules = alt.Chart(caps).mark_rule(color="#444", strokeDash=[6, 3]).encode(
        y="memory_gb:Q", tooltip=["device:N", alt.Tooltip("memory_gb:Q", format=".1f", title="capacity [GB]")])
    labels = alt.Chart(caps).mark_text(align="left", dx=4, dy=-6, fontSize=11, color="#444").encode(
        y="memory_gb:Q", x=alt.value(0), text="label:N")
    return alt.layer(bars, rules, labels).add_params(*params).properties(title=title,
        width="container", autosize=FIT_CONTAINER, height=320)


def bytes_per_param_chart(table: pd.DataFrame, *, title: str = "") -> alt.Chart:
    """Model-state bytes per parameter by recipe, stacked by what is stored, with a model dropdown.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`memwall.wall.training_bars.bytes_per_param_table` (``model``, ``recipe``, ``part``,
        ``bytes_per_param`` [B/param]).
    title : str
        Chart title.

    Returns
    -------
    altair.Chart
        Horizontal stacked bars, one per recipe.
    """
    table = table.assign(part_order=table["part"].map(_STATE_PARTS.index))
    model = _pick(table, "model", "bpp_model", "model ")
    order = list(dict.fromkeys(table["recipe"]))
    return alt.Chart(table).transform_filter(alt.datum.model == model).mark_bar().encode(
        y=alt.Y("recipe:N", sort=order, title=None, axis=alt.Axis(labelLimit=260)),
        x=alt.X("sum(bytes_per_param):Q", title="model states [B/param]"),
        color=alt.Color("part:N", title=None, sort=_STATE_PARTS,
                        scale=alt.Scale(domain=_STATE_PARTS, range=[PALETTE[0], PALETTE[1], PALETTE[4], PALETTE[2]])),
        order=alt.Order("part_order:Q"),
        tooltip=["recipe:N", "part:N", alt.Tooltip("bytes_per_param:Q", format=".2f", title="B/param")],
    ).add_params(model).properties(title=title, width="container", autosize=FIT_CONTAINER,
                                   height=22 * len(order))  # a fixed height: fit-x needs a continuous one
