"""Charts and tables of the chapter "Pruning and sparsity": storage per weight and the decode speed-up bound.

One colour per storage format on both charts (:data:`FORMAT_COLOURS`, from the book's palette); the
tables go through :func:`memwall.reader_table.reader_table`.
"""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from memwall.charts.palette import BLACK, BLUE, GREEN, ORANGE, SKY, colour_of, colour_scale
from memwall.charts.theme import require_columns, responsive
from memwall.reader_table import Column, ReaderTable, reader_table
from memwall.specs.presets import display_name

__all__ = ["FORMAT_COLOURS", "formats_table", "measured_points", "published_table", "speedup_chart", "storage_chart",
           "whole_model_table"]

_DENSITY_AXIS = alt.Axis(values=[i / 10 for i in range(11)], format=".1f", labelExpr=(
    "datum.value * 10 % 2 < 0.01 ? format(datum.value, '.1f') : ''"))
"""Density ticks every 0.1, labelled every 0.2: round steps whose labels do not collide at a phone's width."""

FORMAT_COLOURS: dict[str, str] = {
    "dense": BLACK, "2:4": ORANGE, "2:4, sparse tensor cores": ORANGE,
    "CSR, 16-bit indices": BLUE, "CSR 16-bit indices, dense math": BLUE, "CSR, 32-bit indices": SKY,
    "bitmap": GREEN, "bitmap, dense math": GREEN}
"""Colour of each storage format, the same on the storage chart and on the speed-up chart (2:4 orange, CSR blue
and light blue, bitmap green, dense black)."""

_MEASURED_WORDS = {"end_to_end_decode": "decode", "end_to_end_throughput": "throughput", "spmv_kernel": "SpMV kernel",
                   "layer_gemm": "GEMM", "pruning_level": "pruning level"}
"""Short words for the ``measured`` codes of ``data/pruning_results.csv`` (chart labels)."""

_MEASURED_LONG = {"end_to_end_decode": "end-to-end decode", "end_to_end_throughput": "end-to-end throughput",
                  "spmv_kernel": "SpMV kernel", "layer_gemm": "layer GEMM", "pruning_level": "pruning level"}
"""The ``measured`` codes of ``data/pruning_results.csv`` in words (tables and tooltips)."""


def _colour(domain: list[str], in_legend: list[str], title: str) -> alt.Color:
    """One colour encoding for every layer (one scale, one legend: no conflicting properties), whose legend lists
    only ``in_legend`` (the formats drawn as lines, with line swatches); the others are named where drawn."""
    return alt.Color("format:N", title=title, sort=domain,
                     legend=alt.Legend(values=in_legend, symbolType="stroke", symbolStrokeWidth=3),
                     scale=colour_scale(domain, {f: FORMAT_COLOURS[f] for f in domain if f in FORMAT_COLOURS}))


def formats_table() -> ReaderTable:
    """The bytes per element of a pruned matrix in each storage format, as formulas.

    With ``w``-byte values, ``i``-byte column indices and ``q``-byte row pointers, an ``r x c`` matrix of density
    ``p`` (the formulas of :func:`memwall.levers.sparsity.bytes_per_element` and
    :func:`memwall.levers.sparsity.break_even_density`).

    Returns
    -------
    memwall.reader_table.ReaderTable
        Format, what it stores, bytes per element of the dense matrix, and when it stores fewer bytes than dense.
    """
    rows = pd.DataFrame({
        "format": ["2:4", "CSR", "bitmap"],
        "stores": ["two of every four values, a 2-bit index each", "the values, an i-byte column index each, row "
                   "pointers", "one bit per element, the values"],
        "bytes": ["w/2 + 1/8", "p (w + i) + (r + 1) q / (r c)", "1/8 + p w"],
        "saves": ["w > 1/4 B", "p < w / (w + i)", "p < 1 − 1/(8 w)"]})
    return reader_table(rows, {"format": Column("Format", kind="text"), "stores": Column("Stores", kind="text"),
                               "bytes": Column("Bytes per element", "B", kind="text"),
                               "saves": Column("Saves bytes when", kind="text")})


def storage_chart(table: pd.DataFrame) -> alt.LayerChart:
    """Bytes per weight against density for dense, 2:4, CSR and bitmap storage, with a value-width dropdown.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`memwall.levers.sparsity_model.storage_table` (``element_bytes``, ``format``,
        ``density``, ``bytes_per_element`` [B/element], ``break_even_density`` [1]).

    Returns
    -------
    altair.LayerChart
        Lines for the density-dependent formats (legend of line swatches), a dashed line at the dense width and
        a diamond for 2:4 at 1/2 (each labelled where it is drawn), and a labelled vertical rule at each format's
        break-even density (where it crosses the dense line). The y axis is fixed over both value widths.

    Raises
    ------
    ValueError
        A missing column.
    """
    require_columns(table, ["element_bytes", "format", "density", "bytes_per_element", "break_even_density"],
                    "table")
    widths = sorted(table["element_bytes"].unique(), reverse=True)
    data = table.assign(value_bits=8 * table["element_bytes"])
    p_w = alt.param(name="s_bits", value=float(8 * widths[0]),
                    bind=alt.binding_select(options=[float(8 * w) for w in widths],
                                            labels=[f"{8 * w:.0f}-bit" for w in widths], name="values "))
    base = alt.Chart(data).transform_filter(alt.datum.value_bits == p_w)
    lines = [f for f in FORMAT_COLOURS if f in set(table["format"]) and f not in ("dense", "2:4")]
    shown = ["dense", "2:4", *lines]
    y_top = float(np.ceil(data.loc[data["density"] <= 1.0, "bytes_per_element"].max()))
    x = alt.X("density:Q", title="density (fraction of weights kept)", scale=alt.Scale(domain=[0, 1]),
              axis=_DENSITY_AXIS)
    y = alt.Y("bytes_per_element:Q", title="bytes per weight of the dense matrix [B]",
              scale=alt.Scale(domain=[0, y_top]), axis=alt.Axis(tickMinStep=1, format="~g"))
    tip = [alt.Tooltip("format:N", title="storage format"), alt.Tooltip("value_bits:Q", title="bits per value"),
           alt.Tooltip("density:Q", format=".2f", title="density"),
           alt.Tooltip("bytes_per_element:Q", format=".3f", title="bytes per weight [B]"),
           alt.Tooltip("break_even_density:Q", format=".3f", title="break-even density")]
    fixed = _colour(shown, lines, "storage format")
    curves = base.transform_filter(alt.FieldOneOfPredicate(field="format", oneOf=lines)).mark_line(
        strokeWidth=2.5).encode(x=x, y=y, color=fixed, tooltip=tip)
    dense = base.transform_filter(alt.datum.format == "dense")
    dense_rule = dense.mark_rule(strokeDash=[6, 4], strokeWidth=2).encode(y=y, color=fixed, tooltip=tip)
    dense_text = dense.mark_text(align="left", baseline="bottom", dx=4, dy=-3, fontSize=11).encode(
        x=alt.value(0), y=y, color=fixed, text=alt.value("dense"))
    two_four = base.transform_filter(alt.datum.format == "2:4")
    diamond = two_four.mark_point(filled=True, size=160, shape="diamond", opacity=1).encode(
        x=x, y=y, color=fixed, tooltip=tip)
    diamond_text = two_four.mark_text(align="left", dx=9, dy=-8, fontSize=11).encode(
        x=x, y=y, color=fixed, text=alt.value("2:4"))
    edges = base.transform_filter(alt.datum.density == 1.0).transform_filter(
        (alt.datum.break_even_density > 0) & (alt.datum.break_even_density < 1))
    rules = edges.mark_rule(strokeDash=[2, 3], strokeWidth=1.5).encode(
        x="break_even_density:Q", color=fixed, tooltip=tip)
    labels = edges.transform_calculate(label="'break-even ' + format(datum.break_even_density, '.2f')").mark_text(
        angle=270, align="right", baseline="bottom", dx=0, dy=-3, fontSize=11).encode(
        x="break_even_density:Q", y=alt.value(0), text="label:N", color=fixed)
    return responsive(alt.layer(curves, dense_rule, dense_text, diamond, diamond_text, rules, labels).add_params(
        p_w), 320)


def _short_labels(rows: pd.DataFrame) -> pd.Series:
    """"Macko, decode": the first word of each row's source (or "forum user") and what it measured, in short."""
    words = rows["measured"].map(lambda m: _MEASURED_WORDS.get(m, str(m).replace("_", " ")))
    who = rows["source"].map(lambda s: "forum user" if "forum" in s else str(s).split(" ")[0])
    return who + ", " + words


def measured_points(results: pd.DataFrame) -> pd.DataFrame:
    """The published speed-ups of ``results`` that have a density, with a short label for the chart.

    Parameters
    ----------
    results : pandas.DataFrame
        :func:`memwall.tables.pruning.load_pruning_results` (``source``, ``model``, ``pattern``, ``measured``,
        ``density``, ``speedup_x``).

    Returns
    -------
    pandas.DataFrame
        ``density``, ``speedup_x`` [x], ``label`` (first word of the source and what was measured, e.g.
        "Macko, decode"), ``measured`` (in words), ``source``, ``model`` and ``pattern``.

    Raises
    ------
    ValueError
        A missing column.
    """
    require_columns(results, ["source", "model", "pattern", "measured", "density", "speedup_x"], "results")
    rows = results[results["speedup_x"].notna() & results["density"].notna()]
    label = _short_labels(rows)
    long = rows["measured"].map(lambda m: _MEASURED_LONG.get(m, str(m).replace("_", " ")))
    return pd.DataFrame({"density": rows["density"].astype(float), "speedup_x": rows["speedup_x"].astype(float),
                         "label": label, "measured": long, "source": rows["source"], "model": rows["model"],
                         "pattern": rows["pattern"]}).reset_index(drop=True)


def speedup_chart(bounds: pd.DataFrame, measured: pd.DataFrame, *, device: str | None = None) -> alt.LayerChart:
    """Batch-1 decode speed-up bound against density on one device, with published measured speed-ups.

    Parameters
    ----------
    bounds : pandas.DataFrame
        Output of :func:`memwall.levers.sparsity_model.speedup_table` (``device``, ``format``, ``density``,
        ``speedup_bound`` [x]); its first format is the 2:4 one (a single density).
    measured : pandas.DataFrame
        :func:`measured_points`: ``density``, ``speedup_x`` [x], ``label``, ``measured``, ``source``, ``model``.
    device : str, optional
        The device whose bound is drawn (default: the first of ``bounds``). A batch-1 step is memory-bound, so
        the bound hardly depends on it; no menu is offered.

    Returns
    -------
    altair.LayerChart
        Bound lines per format, 2:4 as an orange diamond at 1/2 and the measured points as black squares, all in
        one legend (line swatches for the lines); a labelled rule at 1x (no gain); each measured point has a leader
        to its label in the empty upper right of the plot.

    Raises
    ------
    ValueError
        A missing column or an unknown device.
    """
    require_columns(bounds, ["device", "format", "density", "speedup_bound"], "bounds")
    require_columns(measured, ["density", "speedup_x", "label", "measured", "source", "model"], "measured")
    devices = list(dict.fromkeys(bounds["device"]))
    device = devices[0] if device is None else device
    if device not in devices:
        raise ValueError(f"device={device!r} is not in bounds; has {', '.join(devices)}")
    rows = bounds[bounds["device"] == device].assign(speedup=lambda d: d["speedup_bound"])
    formats = list(dict.fromkeys(rows["format"]))
    top = float(math.ceil(max(rows["speedup"].max(), measured["speedup_x"].max())))
    x = alt.X("density:Q", title="density (fraction of block weights kept)", scale=alt.Scale(domain=[0, 1]),
              axis=_DENSITY_AXIS)
    y = alt.Y("speedup:Q", title="decode speed-up over dense [x]", scale=alt.Scale(domain=[0, top]),
              axis=alt.Axis(tickMinStep=1, format="~g"))
    tip = [alt.Tooltip("format:N", title="format"), alt.Tooltip("density:Q", format=".2f", title="density"),
           alt.Tooltip("speedup:Q", format=".2f", title="speed-up bound [x]")]
    # one legend for every series: line swatches for the bound lines, the orange diamond, the black square
    measured_name = "measured (published)"
    series = [f"bound: {f}" for f in formats[1:]] + [f"bound: {formats[0]}", measured_name]
    colours = {f"bound: {f}": FORMAT_COLOURS.get(f) for f in formats} | {measured_name: colour_of("measured") or BLACK}
    scale = colour_scale(series, {k: v for k, v in colours.items() if v})
    legend = alt.Legend(symbolStrokeWidth=3, symbolSize=120, labelLimit=300)
    colour = alt.Color("series:N", title=None, sort=series, scale=scale, legend=legend)
    shape = alt.Shape("series:N", title=None, sort=series, legend=legend, scale=alt.Scale(
        domain=series, range=["stroke"] * (len(formats) - 1) + ["diamond", "square"]))
    rows = rows.assign(series="bound: " + rows["format"])
    lines = alt.Chart(rows[rows["format"] != formats[0]]).mark_line(strokeWidth=2.5).encode(
        x=x, y=y, tooltip=tip, color=colour)
    point = alt.Chart(rows[rows["format"] == formats[0]]).mark_point(
        filled=True, size=170, opacity=1).encode(x=x, y=y, color=colour, shape=shape, tooltip=tip)
    one = alt.Chart(pd.DataFrame({"speedup": [1.0], "label": ["1x: no gain"]}))
    rule = one.mark_rule(color="#777", strokeDash=[4, 4]).encode(y="speedup:Q")
    rule_text = one.mark_text(align="left", baseline="top", dx=4, dy=3, color="#555").encode(
        x=alt.value(0), y="speedup:Q", text="label:N")
    pts = measured.assign(speedup=measured["speedup_x"], series=measured_name).sort_values("speedup_x")
    # labels stacked in the upper right, where no bound line runs (they all fall below 2x beyond half density)
    n = len(pts)
    pts = pts.assign(label_x=0.56, label_y=[top * (0.45 + 0.4 * i / max(n - 1, 1)) for i in range(n)])
    mtip = [alt.Tooltip("source:N", title="source"), alt.Tooltip("model:N", title="model"),
            alt.Tooltip("measured:N", title="what was measured"),
            alt.Tooltip("density:Q", format=".2f", title="density"),
            alt.Tooltip("speedup:Q", format=".2f", title="measured speed-up [x]")]
    dots = alt.Chart(pts).mark_point(filled=True, size=110, opacity=1).encode(
        x=x, y=y, color=colour, shape=shape, tooltip=mtip)
    leader = alt.Chart(pts).mark_rule(color="#999", strokeWidth=0.8).encode(x=x, y=y, x2="label_x:Q", y2="label_y:Q")
    text = alt.Chart(pts).mark_text(align="left", dx=3, fontSize=11, color="#222").encode(
        x="label_x:Q", y="label_y:Q", text="label:N", tooltip=mtip)
    return responsive(alt.layer(lines, point, rule, rule_text, leader, dots, text), 340)


def whole_model_table(whole: pd.DataFrame) -> ReaderTable:
    """The batch-1 decode speed-up bound per pruning choice (rows) and model (columns).

    Parameters
    ----------
    whole : pandas.DataFrame
        ``model``, ``pruning`` (label) and ``speedup_bound_batch1`` [x], one row per pair.

    Returns
    -------
    memwall.reader_table.ReaderTable
        One row per pruning choice, one column per model (both in the order of ``whole``; a preset headed by
        its reader's name, :func:`memwall.specs.presets.display_name`), 3 significant digits.

    Raises
    ------
    ValueError
        A missing column.
    """
    require_columns(whole, ["model", "pruning", "speedup_bound_batch1"], "whole")
    wide = whole.pivot_table(index="pruning", columns="model", values="speedup_bound_batch1", sort=False)
    models = list(dict.fromkeys(whole["model"]))
    wide = wide.loc[list(dict.fromkeys(whole["pruning"])), models].reset_index()
    wide.columns = ["pruning", *(f"m{i}" for i in range(len(models)))]
    cols: dict[str, Column] = {"pruning": Column("Pruning", kind="text")}
    cols.update({f"m{i}": Column(display_name(str(m)), "x", 3) for i, m in enumerate(models)})
    return reader_table(wide, cols)


def published_table(table: pd.DataFrame) -> ReaderTable:
    """Published speed-ups beside our bound, the most important columns first.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`memwall.levers.sparsity_model.published_vs_bound` (``source``, ``model``, ``pattern``,
        ``measured``, ``speedup_x``, ``bound_x``, ``fraction_of_bound``).

    Returns
    -------
    memwall.reader_table.ReaderTable
        Each result under its short label of the chart (:func:`measured_points`), its measured speed-up, our bound,
        their ratio and the model, then its source, pattern and what was measured; a dash where the bound does not
        apply (a baseline that is another sparse library).

    Raises
    ------
    ValueError
        A missing column.
    """
    require_columns(table, ["source", "model", "pattern", "measured", "speedup_x", "bound_x", "fraction_of_bound"],
                    "table")
    shown = table.assign(label=_short_labels(table), measured=table["measured"].map(
        lambda m: _MEASURED_LONG.get(m, str(m).replace("_", " "))))
    return reader_table(shown, {
        "label": Column("Result", kind="text"), "speedup_x": Column("Measured speed-up", "x", 3, trailing_zeros=False),
        "bound_x": Column("Our bound", "x", 3), "fraction_of_bound": Column("Measured / bound", digits=3),
        "model": Column("Model", kind="text"), "source": Column("Source", kind="text"),
        "pattern": Column("Pattern", kind="text"), "measured": Column("What was measured", kind="text")})
