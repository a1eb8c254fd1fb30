"""Charts and tables of the chapter "Lean optimizers and low-precision training": bytes per parameter, memory per
GPU, the published memory figures and the largest model one GPU trains.

What is stored has one colour on both charts (:data:`PART_COLOURS`: weights blue, gradients orange, master weights
light blue, optimizer state green, activations pink); tables go through :func:`memwall.reader_table.reader_table`.
"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

from memwall.book import in_unit
from memwall.charts.palette import BLUE, GREEN, ORANGE, PINK, SKY, colour_scale
from memwall.charts.theme import require_columns, responsive
from memwall.reader_table import Column, ReaderTable, reader_table
from memwall.specs.presets import display_name

__all__ = ["PART_COLOURS", "bytes_per_param_chart", "largest_model_table", "optimizer_memory_chart",
           "published_figures_table"]

_PARTS = ["weights", "gradients", "optimizer", "activations"]
_STATE_PARTS = ["weights", "gradients", "master weights", "optimizer state"]

PART_COLOURS: dict[str, str] = {"weights": BLUE, "gradients": ORANGE, "master weights": SKY, "optimizer state": GREEN,
                                "optimizer": GREEN, "activations": PINK}
"""Colour of each part of the training memory ("optimizer" is the master weights and the optimizer state)."""

_PART_LABELS = {"optimizer": "optimizer (master weights and state)"}
"""Reader's name of a part where its code is terse."""

_OPTIMIZER_NAMES = {"adam": "Adam (fp32 states)", "adam_8bit": "8-bit Adam", "adafactor": "Adafactor",
                    "adafactor_momentum": "Adafactor + momentum", "adam_bf16": "Adam with bf16 moments",
                    "shampoo": "Shampoo", "kfac": "K-FAC", "sgd": "SGD"}
_PAPERS = {"dettmers": "8-bit optimizers", "zero": "ZeRO", "deepseek": "DeepSeek-V3 report"}


def _pick(options: list, name: str, label: str, labels: list[str] | None = None) -> alt.Parameter:
    bind = alt.binding_select(options=options, name=label, **({} if labels is None else {"labels": labels}))
    return alt.param(name=name, value=options[0], bind=bind)


_NICE = (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)
"""Mantissas of round axis ends."""


def _nice_top(value: float) -> float:
    """The smallest round number (:data:`_NICE` times a power of ten) at or above ``value`` (an axis end)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(m * power for m in _NICE if m * power >= value * (1 - 1e-12))


def _round_ticks(top: float) -> list[float]:
    """Ticks from 0 to ``top`` at a round step (1, 2 or 5 times a power of ten) giving 3 to 6 intervals."""
    for power in (10.0 ** k for k in range(math.floor(math.log10(top)) - 1, math.floor(math.log10(top)) + 2)):
        for m in (1, 2, 5):
            step = m * power
            if top / step <= 6:
                return [round(i * step, 10) for i in range(int(top / step + 1e-9) + 1)]
    return [0.0, top]


def optimizer_memory_chart(grid: pd.DataFrame, devices: pd.DataFrame) -> alt.LayerChart:
    """Training memory per GPU by optimizer and precision recipe, stacked by part, with a ZeRO-stage menu.

    Parameters
    ----------
    grid : pandas.DataFrame
        Output of :func:`memwall.wall.training_bars.optimizer_grid` (``recipe``, ``zero_stage``, ``part``,
        ``bytes`` [B]), optionally with a ``model`` column (then a model menu is added).
    devices : pandas.DataFrame
        ``device`` and ``memory_bytes`` [B]: each is drawn as a labelled horizontal line.

    Returns
    -------
    altair.LayerChart
        Stacked bars (GB per GPU) per recipe on a y axis fixed over every stage and model, the device capacities
        as dashed rules with their names.

    Raises
    ------
    ValueError
        A missing column or an unknown part.
    """
    require_columns(grid, ["recipe", "zero_stage", "part", "bytes"], "grid")
    require_columns(devices, ["device", "memory_bytes"], "devices")
    unknown = sorted(set(grid["part"]) - set(_PARTS))
    if unknown:
        raise ValueError(f"grid: unknown part(s) {unknown}; known: {', '.join(_PARTS)}")
    grid = grid.assign(gb=in_unit(grid["bytes"], "GB"), part_order=grid["part"].map(_PARTS.index),
                       part_label=grid["part"].map(lambda p: _PART_LABELS.get(p, p)))
    stages = sorted(int(s) for s in grid["zero_stage"].unique())
    params = [_pick(stages, "zero_pick", "ZeRO stage ", [f"{s}" + (" (none)" if s == 0 else "") for s in stages])]
    keep = alt.datum.zero_stage == params[0]
    keys = ["recipe", "zero_stage"]
    if "model" in grid.columns:
        grid = grid.assign(model=grid["model"].map(display_name))  # the reader's names: Llama-2-7B
        params.append(_pick(list(dict.fromkeys(grid["model"])), "model_pick", "model "))
        keep = keep & (alt.datum.model == params[1])
        keys.append("model")
    short = devices["device"].astype(str).str.split(" ").str[0]
    caps = devices.assign(memory_gb=in_unit(devices["memory_bytes"], "GB"),
                          label=[f"{d}: {b / 2**30:.0f} GiB = {in_unit(b, 'GB'):.0f} GB" for d, b in
                                 zip(short, devices["memory_bytes"], strict=True)])
    top = _nice_top(max(float(grid.groupby(keys)["gb"].sum().max()), float(caps["memory_gb"].max())) * 1.05)
    order = list(dict.fromkeys(grid["recipe"]))
    parts = [_PART_LABELS.get(p, p) for p in _PARTS]
    # horizontal bars, each recipe named above its bar: long recipe names never squeeze the bars on a phone; the
    # first band is kept free for the names of the capacity rules, one per line
    band = 38
    y = alt.Y("recipe:N", title=None, axis=None,
              scale=alt.Scale(domain=[" ", *order], paddingInner=0.1, paddingOuter=0.05))
    x = alt.X("sum(gb):Q", title="memory per GPU [GB]", scale=alt.Scale(domain=[0, top], nice=False),
              axis=alt.Axis(values=_round_ticks(top), format="~r"))
    base = alt.Chart(grid).transform_filter(keep)
    bars = base.mark_bar(height=12).encode(
        y=y, x=x,
        color=alt.Color("part_label:N", title=None, sort=parts,
                        scale=colour_scale(parts, {_PART_LABELS.get(p, p): PART_COLOURS[p] for p in _PARTS})),
        order=alt.Order("part_order:Q"),
        tooltip=[alt.Tooltip("recipe:N", title="recipe"), alt.Tooltip("part_label:N", title="part"),
                 alt.Tooltip("gb:Q", format=".1f", title="memory per GPU [GB]")],
    )
    totals = base.transform_aggregate(total="sum(gb)", groupby=["recipe"])
    names = totals.transform_calculate(zero="0").mark_text(
        align="left", baseline="bottom", dy=-7, fontSize=11, color="#222").encode(x="zero:Q", y=y, text="recipe:N")
    values = totals.mark_text(align="left", baseline="middle", dx=4, fontSize=11, color="#333").encode(
        x="total:Q", y=y, text=alt.Text("total:Q", format=".0f"))
    rules = alt.Chart(caps).mark_rule(color="#444", strokeDash=[6, 3]).encode(
        x="memory_gb:Q", tooltip=[alt.Tooltip("device:N", title="device"),
                                  alt.Tooltip("memory_gb:Q", format=".1f", title="capacity [GB]")])
    caps = caps.sort_values("memory_gb").assign(label_px=[3 + 12 * i for i in range(len(caps))])
    labels = [alt.Chart(caps).mark_text(align="left", baseline="top", dx=3, fontSize=11, **style).encode(
        x="memory_gb:Q", y=alt.Y("label_px:Q", scale=None, axis=None), text="label:N")
        for style in ({"stroke": "white", "strokeWidth": 3}, {"color": "#444"})]  # a white halo under the text
    return responsive(alt.layer(bars, names, values, rules, *labels).add_params(*params), band * (len(order) + 1))


def bytes_per_param_chart(table: pd.DataFrame) -> alt.LayerChart:
    """Model-state bytes per parameter by recipe, stacked by what is stored, with a model menu.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`memwall.wall.training_bars.bytes_per_param_table` (``model``, ``recipe``, ``part``,
        ``bytes_per_param`` [B/param]).

    Returns
    -------
    altair.LayerChart
        Horizontal stacked bars, one per recipe, each named above its bar (the names never squeeze the bars on a
        phone); the x axis is fixed over all models.

    Raises
    ------
    ValueError
        A missing column or an unknown part.
    """
    require_columns(table, ["model", "recipe", "part", "bytes_per_param"], "table")
    unknown = sorted(set(table["part"]) - set(_STATE_PARTS))
    if unknown:
        raise ValueError(f"table: unknown part(s) {unknown}; known: {', '.join(_STATE_PARTS)}")
    table = table.assign(part_order=table["part"].map(_STATE_PARTS.index), model=table["model"].map(display_name))
    model = _pick(list(dict.fromkeys(table["model"])), "bpp_model", "model ")
    order = list(dict.fromkeys(table["recipe"]))
    top = _nice_top(float(table.groupby(["model", "recipe"])["bytes_per_param"].sum().max()))
    base = alt.Chart(table).transform_filter(alt.datum.model == model)
    y = alt.Y("recipe:N", sort=order, title=None, axis=None, scale=alt.Scale(paddingInner=0.1, paddingOuter=0.05))
    bars = base.mark_bar(height=12).encode(
        y=y, x=alt.X("sum(bytes_per_param):Q", title="model states [B/param]",
                     scale=alt.Scale(domain=[0, top], nice=False),
                     axis=alt.Axis(values=_round_ticks(top), format="~r")),
        color=alt.Color("part:N", title=None, sort=_STATE_PARTS,
                        scale=colour_scale(_STATE_PARTS, {p: PART_COLOURS[p] for p in _STATE_PARTS})),
        order=alt.Order("part_order:Q"),
        tooltip=[alt.Tooltip("recipe:N", title="recipe"), alt.Tooltip("part:N", title="part"),
                 alt.Tooltip("bytes_per_param:Q", format=".2f", title="bytes per parameter [B/param]")],
    )
    totals = base.transform_aggregate(total="sum(bytes_per_param)", groupby=["recipe"])
    names = totals.transform_calculate(zero="0").mark_text(
        align="left", baseline="bottom", dy=-7, fontSize=11, color="#222").encode(x="zero:Q", y=y, text="recipe:N")
    values = totals.mark_text(align="left", baseline="middle", dx=4, fontSize=11, color="#333").encode(
        x="total:Q", y=y, text=alt.Text("total:Q", format=".3~g"))
    return responsive(alt.layer(bars, names, values).add_params(model), 36 * len(order))


def published_figures_table(published: pd.DataFrame) -> ReaderTable:
    """The memory figures the optimizers' papers print, with where they print them.

    Parameters
    ----------
    published : pandas.DataFrame
        :func:`memwall.tables.optimizer_memory.load_optimizer_memory` (``figure_id``, ``optimizer``, ``model``,
        ``printed``, ``location``).

    Returns
    -------
    memwall.reader_table.ReaderTable

    Raises
    ------
    ValueError
        A missing column.
    """
    frame = published.reset_index() if "figure_id" not in published.columns else published
    require_columns(frame, ["figure_id", "optimizer", "model", "printed", "location"], "published")
    shown = pd.DataFrame({
        "optimizer": frame["optimizer"].map(lambda o: _OPTIMIZER_NAMES.get(o, str(o).replace("_", " "))),
        "model": frame["model"].fillna("any"), "printed": frame["printed"],
        "where": [f"{_PAPERS.get(str(i).split('-')[0], i)}, {loc}"
                  for i, loc in zip(frame["figure_id"], frame["location"], strict=True)]})
    return reader_table(shown, {"optimizer": Column("Optimizer", kind="text"),
                                "printed": Column("Published figure", kind="text"),
                                "model": Column("Model", kind="text"), "where": Column("Where", kind="text")})


def largest_model_table(largest: pd.DataFrame) -> ReaderTable:
    """Per recipe, the model-state bytes per parameter and the largest model whose states fit one GPU.

    Parameters
    ----------
    largest : pandas.DataFrame
        ``recipe``, ``bytes_per_param`` [B/param] and ``largest_billion`` [billion parameters], one row per recipe
        (the GPU is named in the figure's caption: a short header keeps the phone's cards readable).

    Returns
    -------
    memwall.reader_table.ReaderTable

    Raises
    ------
    ValueError
        A missing column.
    """
    require_columns(largest, ["recipe", "bytes_per_param", "largest_billion"], "largest")
    return reader_table(largest, {"recipe": Column("Recipe", kind="text"),
                                  "bytes_per_param": Column("Model states", "B/param", 3, trailing_zeros=False),
                                  "largest_billion": Column("Largest model", "billion params", 3)})
