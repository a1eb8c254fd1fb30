"""Charts of the on-chip lever: decode bound against model size per memory tier, and chips needed to stay on chip."""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from memwall.charts.theme import FIT_CONTAINER, PALETTE, decade_axis, require_columns, require_positive

__all__ = ["chips_needed_chart", "tier_bounds_chart"]

_TIER_ORDER = ("on-chip SRAM", "HBM", "host DRAM")




def tier_bounds_chart(table: pd.DataFrame, points: pd.DataFrame | None = None, *, title: str = "") -> alt.LayerChart:
    """Decode tokens/s bound against model size, one line per memory tier, dropdowns for device and batch.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`memwall.levers.onchip.tier_bounds` rows stacked with ``device`` and ``batch`` columns:
        ``device``, ``batch``, ``tier``, ``parameters``, ``tokens_per_s``, ``fits``. Only rows that fit are drawn,
        so each line ends at its tier's capacity.
    points : pandas.DataFrame, optional
        Presets on the same axes: ``device``, ``batch``, ``tier``, ``model``, ``parameters``, ``tokens_per_s``
        (from :func:`memwall.levers.onchip.decode_bound`), drawn as labelled dots.
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
    require_columns(table, ["device", "batch", "tier", "parameters", "tokens_per_s", "fits"], "table")
    require_positive(table, "tokens_per_s")
    data = table.loc[table["fits"], ["device", "batch", "tier", "parameters", "tokens_per_s"]].copy()
    devices = list(dict.fromkeys(data["device"]))
    batches = sorted(int(b) for b in data["batch"].unique())
    p_dev = alt.param(name="oc_device", value=devices[0], bind=alt.binding_select(options=devices, name="Device: "))
    p_b = alt.param(name="oc_batch", value=batches[0], bind=alt.binding_select(options=batches, name="Batch: "))
    order = [t for t in _TIER_ORDER if t in set(data["tier"])] + sorted(set(data["tier"]) - set(_TIER_ORDER))
    colour = alt.Color("tier:N", title="Weights streamed from", sort=order,
                       scale=alt.Scale(domain=order, range=list(PALETTE[:len(order)])))
    both = pd.concat([data[["parameters", "tokens_per_s"]]] + ([] if points is None else
                                                               [points[["parameters", "tokens_per_s"]]]))
    x = alt.X("parameters:Q", scale=alt.Scale(type="log"),
              axis=decade_axis(both["parameters"], "Model size [parameters]", billions=True))
    y = alt.Y("tokens_per_s:Q", scale=alt.Scale(type="log"),
              axis=decade_axis(both["tokens_per_s"], "Decode bound per sequence step [tokens/s]"))
    keep = (alt.datum.device == p_dev) & (alt.datum.batch == p_b)
    lines = alt.Chart(data).transform_filter(keep).mark_line(strokeWidth=2.5).encode(
        x=x, y=y, color=colour, detail="tier:N",
        tooltip=["device:N", "tier:N", alt.Tooltip("parameters:Q", format=".3~s"),
                 alt.Tooltip("tokens_per_s:Q", format=",.3~s", title="tokens/s")])
    layers = [lines]
    if points is not None:
        require_columns(points, ["device", "batch", "tier", "model", "parameters", "tokens_per_s"], "points")
        require_positive(points, "tokens_per_s")
        base = alt.Chart(points[["device", "batch", "tier", "model", "parameters", "tokens_per_s"]]).transform_filter(
            keep)
        layers.append(base.mark_point(filled=True, size=70, shape="diamond").encode(
            x=x, y=y, color=colour,
            tooltip=["model:N", "tier:N", alt.Tooltip("tokens_per_s:Q", format=",.3~s", title="tokens/s")]))
        layers.append(base.mark_text(align="left", dx=6, dy=-7, fontSize=10, color="#333").encode(
            x=x, y=y, text="model:N"))
    return alt.layer(*layers).add_params(p_dev, p_b).properties(
        width="container", autosize=FIT_CONTAINER, height=360, title=title)


def chips_needed_chart(table: pd.DataFrame, *, title: str = "", model: str | None = None) -> alt.Chart:
    """Chips needed to hold each model in on-chip memory, per device, one bar per width; a model dropdown.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`memwall.levers.onchip.chips_needed_table`: ``model``, ``widths``, ``device``, ``chips``.
    title : str
        Chart title.
    model : str, optional
        The model shown first (default: the table's last).

    Returns
    -------
    altair.LayerChart
        Horizontal bars on a log axis (1 = fits on one chip), the count written at each bar's end.

    Raises
    ------
    ValueError
        A missing column or a count below 1.
    """
    require_columns(table, ["model", "widths", "device", "chips"], "table")
    if (table["chips"] < 1).any():
        raise ValueError("column 'chips' has values below 1")
    models = list(dict.fromkeys(table["model"]))
    widths = list(dict.fromkeys(table["widths"]))
    if model is not None and model not in models:
        raise ValueError(f"model={model!r} is not in the table; allowed: {', '.join(models)}")
    pick = alt.param(name="oc_model", value=model or models[-1],
                     bind=alt.binding_select(options=models, name="Model: "))
    hi = 10.0 ** math.ceil(math.log10(float(np.max(table["chips"])) * 3))
    x = alt.X("chips:Q", scale=alt.Scale(type="log", domain=[1, hi]),
              axis=alt.Axis(title="Chips to hold the model on chip [chips]",
                            values=[10.0**k for k in range(round(math.log10(hi)) + 1)],
                            labelExpr="format(datum.value, '~s')"))
    y = alt.Y("device:N", title=None, sort=list(dict.fromkeys(table["device"])))
    colour = alt.Color("widths:N", title="Weights", sort=widths,
                       scale=alt.Scale(domain=widths, range=list(PALETTE[:len(widths)])))
    base = alt.Chart(table).transform_filter(alt.datum.model == pick).transform_calculate(one="1")
    bars = base.mark_bar(height=9).encode(
        x=x, x2="one:Q", y=y, yOffset=alt.YOffset("widths:N", sort=widths), color=colour,
        tooltip=["model:N", "device:N", "widths:N", alt.Tooltip("chips:Q", format=",")])
    text = base.mark_text(align="left", dx=3, fontSize=10, color="#333").encode(
        x=x, y=y, yOffset=alt.YOffset("widths:N", sort=widths), text=alt.Text("chips:Q", format=","))
    return alt.layer(bars, text).add_params(pick).properties(
        width="container", autosize=FIT_CONTAINER, height=22 * table["device"].nunique(), title=title)
