"""Charts of the chapter "Pruning and sparsity": storage per weight and the decode speed-up bound vs density."""

from __future__ import annotations

import altair as alt
import pandas as pd

from memwall.charts.theme import FIT_CONTAINER, PALETTE

__all__ = ["speedup_chart", "storage_chart"]

_DENSITY_AXIS = alt.Axis(values=[i / 10 for i in range(11)], format=".1f")
"""Density ticks every 0.1: round steps whose labels do not collide at a phone's width."""

_FORMAT_COLOURS = {"dense": PALETTE[7], "2:4": PALETTE[5], "CSR, 16-bit indices": PALETTE[0],
                   "CSR, 32-bit indices": PALETTE[4], "bitmap": PALETTE[2]}


def storage_chart(table: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Bytes per weight against density for dense, 2:4, CSR and bitmap storage, with a value-width dropdown.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`memwall.levers.sparsity_model.storage_table` (``element_bytes``, ``format``,
        ``density``, ``bytes_per_element`` [B/element], ``break_even_density`` [1]).
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        Lines for the density-dependent formats, a dashed line at the dense width, a point for 2:4 at 1/2, and a
        labelled vertical rule at each format's break-even density (where it crosses the dense line).
    """
    widths = sorted(table["element_bytes"].unique(), reverse=True)
    data = table.assign(value_bits=8 * table["element_bytes"])
    p_w = alt.param(name="s_bits", value=float(8 * widths[0]),
                    bind=alt.binding_select(options=[float(8 * w) for w in widths], name="bits per value "))
    base = alt.Chart(data).transform_filter(alt.datum.value_bits == p_w)
    domain = [f for f in _FORMAT_COLOURS if f in set(table["format"])]
    colour = alt.Color("format:N", title="storage format", sort=domain, legend=alt.Legend(symbolType="stroke"),
                       scale=alt.Scale(domain=domain, range=[_FORMAT_COLOURS[f] for f in domain]))
    x = alt.X("density:Q", title="density (fraction of weights kept)", scale=alt.Scale(domain=[0, 1]),
              axis=_DENSITY_AXIS)
    y = alt.Y("bytes_per_element:Q", title="bytes per weight of the dense matrix [B]")
    tip = ["format:N", alt.Tooltip("density:Q", format=".2f"), alt.Tooltip("bytes_per_element:Q", format=".3f"),
           alt.Tooltip("break_even_density:Q", format=".3f", title="break-even density")]
    curves = base.transform_filter(alt.datum.density < 1.0001).transform_filter(
        (alt.datum.format != "dense") & (alt.datum.format != "2:4")).mark_line(strokeWidth=2.5).encode(
        x=x, y=y, color=colour, tooltip=tip)
    dense = base.transform_filter(alt.datum.format == "dense").mark_rule(strokeDash=[6, 4], strokeWidth=2).encode(
        y=y, color=colour, tooltip=tip)
    two_four = base.transform_filter(alt.datum.format == "2:4").mark_point(
        filled=True, size=160, shape="diamond").encode(x=x, y=y, color=colour, tooltip=tip)
    edges = base.transform_filter(alt.datum.density == 1.0).transform_filter(
        (alt.datum.break_even_density > 0) & (alt.datum.break_even_density < 1))
    rules = edges.mark_rule(strokeDash=[2, 3], strokeWidth=1.5).encode(
        x="break_even_density:Q", color=colour, tooltip=tip)
    labels = edges.transform_calculate(label="'break-even ' + format(datum.break_even_density, '.2f')").mark_text(
        angle=270, align="left", dx=-4, dy=-6, fontSize=11).encode(
        x="break_even_density:Q", y=alt.value(120), text="label:N", color=colour)
    return alt.layer(curves, dense, two_four, rules, labels).add_params(p_w).properties(
        title=title,
        width="container", autosize=FIT_CONTAINER, height=320)


def speedup_chart(bounds: pd.DataFrame, measured: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Batch-1 decode speed-up bound against density, with published measured speed-ups as labelled points.

    Parameters
    ----------
    bounds : pandas.DataFrame
        Output of :func:`memwall.levers.sparsity_model.speedup_table` (``device``, ``format``, ``density``,
        ``speedup_bound`` [x]).
    measured : pandas.DataFrame
        Published measurements with ``density``, ``speedup_x`` [x], ``label`` (short name) and ``measured``
        (what was measured), e.g. rows of :func:`memwall.tables.pruning.load_pruning_results`.
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        Bound lines per format (2:4 as a point at 1/2) for the device of the dropdown, a rule at 1x (no gain)
        and the measured points (black, labelled) on every device's view.
    """
    devices = list(dict.fromkeys(bounds["device"]))
    p_dev = alt.param(name="sp_device", value=devices[0],
                      bind=alt.binding_select(options=devices, name="device (bound) "))
    base = alt.Chart(bounds.assign(kind="bound (this book)")).transform_filter(alt.datum.device == p_dev)
    x = alt.X("density:Q", title="density (fraction of block weights kept)", scale=alt.Scale(domain=[0, 1]),
              axis=_DENSITY_AXIS)
    y = alt.Y("speedup:Q", title="decode speed-up over dense [x]")
    formats = list(dict.fromkeys(bounds["format"]))
    # the lines get a legend of line swatches; 2:4 (one density) is a diamond labelled where it is drawn
    colour = alt.Color("format:N", title="our bound (lines)", sort=formats[1:],
                       legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=3),
                       scale=alt.Scale(domain=formats[1:], range=list(PALETTE[1: len(formats)])))
    tip = ["format:N", alt.Tooltip("density:Q", format=".2f"), alt.Tooltip("speedup:Q", format=".2f")]
    lines = base.transform_filter(alt.datum.format != formats[0]).transform_calculate(
        speedup="datum.speedup_bound").mark_line(strokeWidth=2.5).encode(x=x, y=y, color=colour, tooltip=tip)
    diamond = base.transform_filter(alt.datum.format == formats[0]).transform_calculate(
        speedup="datum.speedup_bound")
    point = alt.layer(
        diamond.mark_point(filled=True, size=170, shape="diamond", color=PALETTE[0]).encode(x=x, y=y, tooltip=tip),
        diamond.mark_text(align="right", dx=-9, dy=-8, fontSize=11, color=PALETTE[0]).encode(
            x=x, y=y, text=alt.value(f"bound, {formats[0]}")))
    one = alt.Chart(pd.DataFrame({"speedup": [1.0], "label": ["1x: no gain"]}))
    rule = one.mark_rule(color="#777", strokeDash=[4, 4]).encode(y="speedup:Q")
    rule_text = one.mark_text(align="left", dx=4, dy=-6, color="#555").encode(
        x=alt.value(0), y="speedup:Q", text="label:N")
    pts = measured.assign(speedup=measured["speedup_x"], kind="measured (published)").sort_values("speedup_x")
    pts = pts.assign(label_x=0.6, label_y=[0.45 + 0.4 * i for i in range(len(pts))])  # stacked labels, no overlap
    shape = alt.Shape("kind:N", title=None, scale=alt.Scale(domain=["measured (published)"], range=["square"]))
    mtip = ["label:N", "measured:N", alt.Tooltip("density:Q", format=".2f"), alt.Tooltip("speedup:Q", format=".2f")]
    dots = alt.Chart(pts).mark_point(filled=True, size=110, color="#000").encode(x=x, y=y, shape=shape, tooltip=mtip)
    leader = alt.Chart(pts).mark_rule(color="#999", strokeWidth=0.8).encode(
        x=x, y=y, x2="label_x:Q", y2="label_y:Q")
    text = alt.Chart(pts).mark_text(align="left", dx=3, fontSize=11).encode(
        x="label_x:Q", y="label_y:Q", text="label:N", tooltip=mtip)
    return alt.layer(lines, point, rule, rule_text, leader, dots, text).add_params(p_dev).resolve_scale(
        shape="independent").properties(title=title,
        width="container", autosize=FIT_CONTAINER, height=340)
