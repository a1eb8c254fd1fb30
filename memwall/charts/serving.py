"""Serving charts and tables: quantisation, the critical batch, the KV cache and the throughput-latency frontier.

The charts take the tables of :mod:`memwall.serving` (SI units: seconds, bytes) and draw them in the units a
reader reads (ms, GB); every log axis is labelled at its decades (:func:`memwall.charts.theme.decade_axis`) or
at its powers of two, every domain is fixed over all the settings a control can pick, and the charts take the
width of the page's column (:func:`memwall.charts.theme.responsive`). The tables go through
:func:`memwall.reader_table.reader_table`.

The small helpers :func:`decade_domain`, :func:`pow2_domain`, :func:`fitted_pow2_axis`,
:func:`initial_option`, :func:`short_device` and :func:`chip_name` are shared with :mod:`memwall.charts.beyond` and
:mod:`memwall.charts.beyond_serving`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from memwall.book import in_unit
from memwall.charts.palette import BLACK, BLUE, GREY, VERMILION, colour_of, colour_scale
from memwall.charts.theme import POW2_LABEL, decade_axis, require_columns, responsive
from memwall.reader_table import Column, ReaderTable, reader_table, transposed_table
from memwall.specs.presets import display_name

__all__ = ["critical_batch_by_device_table", "frontier_chart", "intensity_by_batch_table", "kv_variants_table",
           "quantization_chart", "quantization_times_table", "ridge_by_scheme_table"]

FITS, NO_FIT = "fits in memory", "does not fit in memory"
"""Words of the two memory states a chart shows (never ``true``/``false``)."""
FIT_COLOURS = {FITS: BLUE, NO_FIT: VERMILION}
"""Blue for a point that fits in the device's memory, red (Okabe-Ito vermilion) for one that does not."""
FIT_SHAPES = {FITS: "circle", NO_FIT: "cross"}
"""Shape of each memory state, so that the two differ without colour too."""

WEIGHT_ONLY = {"W16A16": ("16-bit (W16A16)", "bf16"), "W8A16": ("int8 (W8A16)", "int8"),
               "W4A16": ("int4 (W4A16)", "int4")}
"""Weight-only scheme -> (legend text, number format whose book-wide colour it takes)."""


# ------------------------------------------------------------------------------------------- shared helpers
def decade_domain(*values: pd.Series | np.ndarray | Sequence[float], pad: float = 1.0) -> list[float]:
    """A log domain over all ``values`` (> 0) that starts and ends at a power of ten.

    Parameters
    ----------
    *values : pandas.Series, numpy.ndarray or sequence of float
        The data the domain must hold.
    pad : float
        Room kept beyond the data, as a factor (>= 1): with ``pad=1.5`` no value lies within a factor 1.5 of
        either end, so that no point sits on an axis.

    Returns
    -------
    list of float
        ``[10**floor(log10(min / pad)), 10**ceil(log10(max * pad))]``.

    Raises
    ------
    ValueError
        If no value is given, one is not finite and > 0, or ``pad`` < 1.
    """
    arr = np.concatenate([np.asarray(v, dtype=float).ravel() for v in values]) if values else np.array([])
    if not (arr.size and np.isfinite(arr).all() and (arr > 0).all()):
        raise ValueError("decade_domain needs finite values > 0")
    if not pad >= 1:
        raise ValueError(f"decade_domain: pad must be >= 1, got {pad!r}")
    return [float(10.0 ** np.floor(np.log10(arr.min() / pad))), float(10.0 ** np.ceil(np.log10(arr.max() * pad)))]


def pow2_domain(values: pd.Series | np.ndarray | Sequence[float]) -> list[float]:
    """``[2**floor(log2(min)), 2**ceil(log2(max))]`` of ``values`` (> 0): a base-2 domain that ends at powers of two.

    Raises
    ------
    ValueError
        If ``values`` is empty or holds a value that is not finite and > 0.
    """
    arr = np.asarray(values, dtype=float).ravel()
    if not (arr.size and np.isfinite(arr).all() and (arr > 0).all()):
        raise ValueError("pow2_domain needs finite values > 0")
    return [float(2.0 ** np.floor(np.log2(arr.min()))), float(2.0 ** np.ceil(np.log2(arr.max())))]


def fitted_pow2_axis(values: pd.Series | np.ndarray | Sequence[float], title: str, *, min_gap_px: int = 34,
                     grid: bool = True) -> alt.Axis:
    """A base-2 axis with a tick at every power of two of ``values`` and as many labels as the plot's width holds.

    Every ``s``-th tick is labelled (1k 4k 16k ... on a phone, 1k 2k 4k ... on a laptop), ``s`` the smallest
    stride that leaves ``min_gap_px`` between label centres at the chart's current width; the other ticks stay
    as unlabelled minor ticks, so no label ever has to be hidden.

    Parameters
    ----------
    values : sequence of float, pandas.Series or numpy.ndarray
        The data on the axis (> 0).
    title : str
        Axis title, with its unit in brackets.
    min_gap_px : int
        Least distance between two labelled ticks [px].
    grid : bool
        Grid lines at the ticks.

    Returns
    -------
    altair.Axis
        Use with ``alt.Scale(type="log", base=2, domain=pow2_domain(values))``.

    Raises
    ------
    ValueError
        If ``values`` is empty or holds a value that is not finite and > 0.
    """
    lo, hi = (round(float(np.log2(v))) for v in pow2_domain(values))
    stride = f"max(1, ceil({min_gap_px * max(hi - lo, 1)} / max(width, 1)))"
    expr = f"(round(log(datum.value) / LN2) - {lo}) % {stride} ? '' : ({POW2_LABEL})"
    return alt.Axis(title=title, values=[float(2.0**k) for k in range(lo, hi + 1)], labelExpr=expr,
                    labelOverlap="greedy", grid=grid)


def short_device(device: str) -> str:
    """A device's name without its parenthesised part (``"H100 SXM5 80GB (Hopper)"`` -> ``"H100 SXM5 80GB"``)."""
    return str(device).split(" (")[0].strip() or str(device)


_FORM_FACTOR = re.compile(r"^(SXM\d*|NVL|HGX,?|\d+GB|Instinct|Google)$")


def chip_name(device: str) -> str:
    """A chip's shortest name: ``"H100 SXM5 80GB (Hopper)"`` -> ``"H100"``, ``"Instinct MI300X"`` -> ``"MI300X"``.

    The PCIe form factor is kept (``"H100 PCIe"``): it is another chip, with another bandwidth.
    """
    words = [w for w in short_device(device).split() if not _FORM_FACTOR.match(w)]
    return " ".join(words) or short_device(device)


def initial_option(options: Sequence[str], wanted: str | None, what: str) -> str:
    """A control's first setting: ``wanted`` if given, else the first of ``options``.

    Raises
    ------
    ValueError
        If ``wanted`` is not one of ``options`` (the message names ``what`` and lists the options).
    """
    if wanted is None:
        return options[0]
    if wanted not in options:
        raise ValueError(f"{what} {wanted!r} is not in the data; it has {', '.join(map(str, options))}")
    return wanted


def _memory_words(fits: pd.Series) -> pd.Series:
    return fits.map({True: FITS, False: NO_FIT}).astype(str)


# ----------------------------------------------------------------------------------------------- quantization
def quantization_chart(table: pd.DataFrame, *, device: str | None = None, title: str = "") -> alt.LayerChart:
    """Batch-1 decode time per token of each model at 16, 8 and 4 bits per weight, with a device dropdown.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`memwall.serving.quantization_table` for the weight-only schemes W16A16, W8A16 and W4A16.
    device : str, optional
        Device the dropdown opens on (default: the table's first).
    title : str
        In-chart title; the book leaves it empty and puts the title in the figure's caption.

    Returns
    -------
    altair.LayerChart
        One row per model: a point per weight width at its time per token [ms] on a log axis fixed over every
        device (labelled at decades), coloured by number format (16-bit blue, int8 green, int4 pink), a circle
        where the model fits in the device's memory and a cross where it does not; a grey line joins a model's
        points.

    Raises
    ------
    ValueError
        If a column is missing, the table is empty, holds a scheme that is not weight-only, or ``device`` is not
        in it.
    """
    require_columns(table, ["model", "device", "scheme", "time_per_token_s", "footprint_bytes", "memory_bytes",
                            "fits"], "table")
    if table.empty:
        raise ValueError("table is empty")
    other = sorted(set(table["scheme"]) - set(WEIGHT_ONLY))
    if other:
        raise ValueError(f"quantization_chart shows the weight-only schemes {', '.join(WEIGHT_ONLY)}; "
                         f"the table also holds {', '.join(other)}")
    devices = list(dict.fromkeys(table["device"]))
    schemes = [s for s in WEIGHT_ONLY if s in set(table["scheme"])]
    formats = [WEIGHT_ONLY[s][0] for s in schemes]
    data = pd.DataFrame({  # SI in, display units out
        "model": table["model"].map(display_name), "device": table["device"],
        "format": table["scheme"].map(lambda s: WEIGHT_ONLY[s][0]),
        "memory": _memory_words(table["fits"]), "ms": in_unit(table["time_per_token_s"], "ms"),
        "footprint_gb": in_unit(table["footprint_bytes"], "GB"),
        # a datasheet's "80GB" is 80 GiB: say both, so the tooltip's GB match the footprint's
        "device_memory": [f"{b / 2**30:.0f} GiB = {in_unit(b, 'GB'):.1f} GB" for b in table["memory_bytes"]]})
    pick = alt.param(name="q_device", value=initial_option(devices, device, "device"),
                     bind=alt.binding_select(options=devices, labels=[short_device(d) for d in devices],
                                             name="device "))
    domain = decade_domain(data["ms"])
    x = alt.X("ms:Q", scale=alt.Scale(type="log", domain=domain), axis=decade_axis(domain, "time per token [ms]"))
    y = alt.Y("model:N", title=None, sort=list(dict.fromkeys(data["model"])))
    colour = alt.Color("format:N", title="weights", sort=formats,
                       scale=colour_scale(formats, {WEIGHT_ONLY[s][0]: colour_of(WEIGHT_ONLY[s][1]) for s in schemes}))
    memory = [FITS, NO_FIT]
    shape = alt.Shape("memory:N", title="in memory", sort=memory,
                      scale=alt.Scale(domain=memory, range=[FIT_SHAPES[m] for m in memory]),
                      legend=alt.Legend(symbolFillColor=GREY, symbolStrokeColor=GREY,
                                        labelExpr="datum.label == 'fits in memory' ? 'fits' : 'does not fit'"))
    tip = [alt.Tooltip("model:N", title="model"), alt.Tooltip("device:N", title="device"),
           alt.Tooltip("format:N", title="weights"), alt.Tooltip("ms:Q", format=".3~r", title="time per token [ms]"),
           alt.Tooltip("footprint_gb:Q", format=".1f", title="footprint [GB]"),
           alt.Tooltip("device_memory:N", title="device memory"),
           alt.Tooltip("memory:N", title="memory")]
    base = alt.Chart(data).transform_filter(alt.datum.device == pick)
    span = base.mark_line(color=GREY, strokeWidth=1).encode(x=x, y=y, detail="model:N")
    points = base.mark_point(filled=True, size=110, opacity=0.9).encode(x=x, y=y, color=colour, shape=shape,
                                                                        tooltip=tip)
    chart = responsive(alt.layer(span, points).add_params(pick), 40 * data["model"].nunique())
    return chart.properties(title=title) if title else chart


def quantization_times_table(table: pd.DataFrame) -> ReaderTable:
    """Batch-1 decode time per token [ms], one row per model and scheme, one column per device.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`memwall.serving.quantization_table`; a pair it leaves out (no datasheet peak for the
        scheme's compute format) shows as ``—``.

    Returns
    -------
    memwall.reader_table.ReaderTable

    Raises
    ------
    ValueError
        If a column is missing.
    """
    require_columns(table, ["model", "device", "scheme", "time_per_token_s"], "table")
    devices = list(dict.fromkeys(table["device"]))
    wide = table.assign(ms=in_unit(table["time_per_token_s"], "ms")).pivot_table(
        index=["model", "scheme"], columns="device", values="ms", sort=False).reset_index()
    columns: dict[str, Column] = {"model": Column("Model", kind="text"), "scheme": Column("Scheme", kind="text")}
    columns.update({d: Column(chip_name(d), "ms", 3, "number") for d in devices})
    return reader_table(wide.assign(model=wide["model"].map(display_name)), columns)


def ridge_by_scheme_table(crit: pd.DataFrame) -> ReaderTable:
    """Critical batch, ridge point and the two roofs of one device under each scheme (one column per scheme).

    Parameters
    ----------
    crit : pandas.DataFrame
        Output of :func:`memwall.serving.critical_batch_table` for one device (``scheme``, ``critical_batch``,
        ``ridge_flop_per_byte``, ``peak_flop_per_s``, ``bandwidth_bytes_per_s``), as rows or indexed by scheme.

    Returns
    -------
    memwall.reader_table.ReaderTable
        Transposed (:func:`memwall.reader_table.transposed_table`): a first column naming each quantity with its
        unit, one column per scheme; computed rows with 3 significant digits, the datasheet's as given.

    Raises
    ------
    ValueError
        If a column is missing or a scheme appears twice (the table holds more than one device).
    """
    frame = crit.reset_index() if "scheme" not in crit.columns else crit
    require_columns(frame, ["scheme", "critical_batch", "ridge_flop_per_byte", "peak_flop_per_s",
                            "bandwidth_bytes_per_s"], "crit")
    schemes = [str(x) for x in frame["scheme"]]
    if len(set(schemes)) != len(schemes):
        raise ValueError(f"crit repeats a scheme ({schemes}): give the rows of one device")
    shown = pd.DataFrame({"scheme": schemes, "critical": frame["critical_batch"].to_numpy(dtype=float),
                          "ridge": frame["ridge_flop_per_byte"].to_numpy(dtype=float),
                          "peak": in_unit(frame["peak_flop_per_s"], "TFLOP/s").to_numpy(dtype=float),
                          "bandwidth": in_unit(frame["bandwidth_bytes_per_s"], "TB/s").to_numpy(dtype=float)})
    return transposed_table(shown, "scheme", {
        "critical": Column("critical batch", "sequences", 3), "ridge": Column("ridge point", "FLOP/B", 3),
        # datasheet values, as given (989.4 and 3.35 for an H100 SXM5)
        "peak": Column("dense peak", "TFLOP/s", 4, trailing_zeros=False),
        "bandwidth": Column("DRAM bandwidth", "TB/s", 4, trailing_zeros=False)})


# --------------------------------------------------------------------------------------------------- batching
def intensity_by_batch_table(intensity: pd.DataFrame) -> ReaderTable:
    """Arithmetic intensity of a decode step's weight matmuls and of the whole step, one row per batch.

    Parameters
    ----------
    intensity : pandas.DataFrame
        ``batch`` [sequences] (a column or the index), ``weight_matmuls`` and ``whole_step`` [FLOP/B].

    Returns
    -------
    memwall.reader_table.ReaderTable

    Raises
    ------
    ValueError
        If a column is missing.
    """
    frame = intensity.reset_index() if "batch" not in intensity.columns else intensity
    require_columns(frame, ["batch", "weight_matmuls", "whole_step"], "intensity")
    return reader_table(frame, {"batch": Column("Batch", "sequences", kind="integer"),
                                "weight_matmuls": Column("Weight matmuls", "FLOP/B", 3, "number"),
                                "whole_step": Column("Whole decode step", "FLOP/B", 3, "number")})


def critical_batch_by_device_table(crit: pd.DataFrame) -> ReaderTable:
    """Critical batch [sequences] of each device (rows) under each scheme (columns).

    Parameters
    ----------
    crit : pandas.DataFrame
        Output of :func:`memwall.serving.critical_batch_table` (``device``, ``scheme``, ``critical_batch``).

    Returns
    -------
    memwall.reader_table.ReaderTable

    Raises
    ------
    ValueError
        If a column is missing.
    """
    require_columns(crit, ["device", "scheme", "critical_batch"], "crit")
    schemes = list(dict.fromkeys(crit["scheme"]))
    wide = crit.pivot_table(index="device", columns="scheme", values="critical_batch", sort=False).reset_index()
    wide["device"] = wide["device"].map(short_device)
    columns: dict[str, Column] = {"device": Column("Device", kind="text")}
    columns.update({s: Column(f"Critical batch, {s}", "sequences", 3, "number") for s in schemes})
    return reader_table(wide, columns)


def kv_variants_table(kv: pd.DataFrame) -> ReaderTable:
    """KV-cache bytes per token of attention variants and the sequences that fit next to the weights.

    Parameters
    ----------
    kv : pandas.DataFrame
        ``attention`` (a column or the index), ``kv_bytes_per_token`` [B] and one ``max_batch_<n>k`` column per
        context length ``n`` x 1024 tokens [sequences].

    Returns
    -------
    memwall.reader_table.ReaderTable

    Raises
    ------
    ValueError
        If a column is missing or there is no ``max_batch_<n>k`` column.
    """
    frame = kv.reset_index() if "attention" not in kv.columns else kv
    require_columns(frame, ["attention", "kv_bytes_per_token"], "kv")
    batches = [c for c in frame.columns if str(c).startswith("max_batch_") and str(c).endswith("k")]
    if not batches:
        raise ValueError(f"kv lacks max_batch_<n>k columns; has {', '.join(map(str, frame.columns))}")
    columns: dict[str, Column] = {"attention": Column("Attention", kind="text"),
                                  "kv_bytes_per_token": Column("KV cache per token", "B", kind="integer")}
    for c in batches:
        tokens = 1024 * int(str(c)[len("max_batch_"):-1])
        columns[c] = Column(f"Max batch at {tokens:,} tokens", kind="integer")
    return reader_table(frame, columns)


def frontier_chart(grid: pd.DataFrame, *, device: str | None = None, title: str = "") -> alt.LayerChart:
    """Throughput against latency as the batch grows; dropdowns for the device and the context, a batch slider.

    Parameters
    ----------
    grid : pandas.DataFrame
        Output of :func:`memwall.serving.frontier_grid` (``device``, ``context``, ``k``, ``batch`` = ``2**k``,
        ``tokens_per_s``, ``time_per_token_s`` [s], ``footprint_bytes`` [B], ``fits``).
    device : str, optional
        Device the dropdown opens on (default: the grid's first).
    title : str
        In-chart title; the book leaves it empty and puts the title in the figure's caption.

    Returns
    -------
    altair.LayerChart
        Log-log, both axes fixed over every device and context and labelled at decades: the frontier (grey line)
        with a point per batch (blue circle: fits in the device's memory, red cross: does not) and the batch
        ``2**k`` of the slider ringed and labelled.

    Raises
    ------
    ValueError
        If a column is missing, the grid is empty, or ``device`` is not in it.
    """
    require_columns(grid, ["device", "context", "k", "batch", "tokens_per_s", "time_per_token_s", "footprint_bytes",
                           "fits"], "grid")
    if grid.empty:
        raise ValueError("grid is empty")
    devices = list(dict.fromkeys(grid["device"]))
    contexts = sorted(int(c) for c in grid["context"].unique())
    data = pd.DataFrame({"device": grid["device"], "context": grid["context"].astype(int), "k": grid["k"].astype(int),
                         "batch": grid["batch"].astype(int), "tokens_per_s": grid["tokens_per_s"],
                         "ms": in_unit(grid["time_per_token_s"], "ms"),  # SI in, display units out
                         "footprint_gb": in_unit(grid["footprint_bytes"], "GB"), "memory": _memory_words(grid["fits"])})
    p_dev = alt.param(name="f_device", value=initial_option(devices, device, "device"),
                      bind=alt.binding_select(options=devices, labels=[short_device(d) for d in devices],
                                              name="device "))
    p_ctx = alt.param(name="f_context", value=contexts[0],
                      bind=alt.binding_select(options=contexts, labels=[f"{c:,}" for c in contexts],
                                              name="cached tokens "))
    p_k = alt.param(name="f_log2batch", value=int(data["k"].min()), bind=alt.binding_range(
        min=int(data["k"].min()), max=int(data["k"].max()), step=1, name="batch 2^k, k "))
    base = alt.Chart(data).transform_filter((alt.datum.device == p_dev) & (alt.datum.context == p_ctx))
    x_dom, y_dom = decade_domain(data["ms"]), decade_domain(data["tokens_per_s"])
    x = alt.X("ms:Q", scale=alt.Scale(type="log", domain=x_dom), axis=decade_axis(x_dom, "time per output token [ms]"))
    y = alt.Y("tokens_per_s:Q", scale=alt.Scale(type="log", domain=y_dom),
              axis=decade_axis(y_dom, "throughput [tokens/s per device]"))
    memory = [FITS, NO_FIT]
    colour = alt.Color("memory:N", title=None, sort=memory, scale=colour_scale(memory, FIT_COLOURS))
    shape = alt.Shape("memory:N", title=None, sort=memory,
                      scale=alt.Scale(domain=memory, range=[FIT_SHAPES[m] for m in memory]))
    tip = [alt.Tooltip("batch:Q", title="batch [sequences]"),
           alt.Tooltip("context:Q", format=",", title="cached tokens"),
           alt.Tooltip("tokens_per_s:Q", format=",.0f", title="throughput [tokens/s]"),
           alt.Tooltip("ms:Q", format=".3~r", title="time per token [ms]"),
           alt.Tooltip("footprint_gb:Q", format=".1f", title="footprint [GB]"), alt.Tooltip("memory:N", title="memory")]
    line = base.mark_line(color=GREY, strokeWidth=1.5).encode(x=x, y=y, order="batch:Q")
    dots = base.mark_point(filled=True, size=60).encode(x=x, y=y, color=colour, shape=shape, tooltip=tip)
    chosen = base.transform_filter(alt.datum.k == p_k)
    ring = chosen.mark_point(size=280, strokeWidth=2.5, color=BLACK).encode(x=x, y=y, tooltip=tip)
    # the label of the ringed point reads towards the middle of the plot, so that it never leaves the chart
    middle = float(np.sqrt(x_dom[0] * x_dom[1]))
    named = chosen.transform_calculate(label="'batch ' + format(datum.batch, ',')")
    left = named.transform_filter(alt.datum.ms <= middle).mark_text(
        align="left", baseline="top", dx=10, dy=6, fontSize=12, color=BLACK).encode(x=x, y=y, text="label:N")
    right = named.transform_filter(alt.datum.ms > middle).mark_text(
        align="right", baseline="top", dx=-10, dy=6, fontSize=12, color=BLACK).encode(x=x, y=y, text="label:N")
    chart = responsive(alt.layer(line, dots, ring, left, right).add_params(p_dev, p_ctx, p_k), 320)
    return chart.properties(title=title) if title else chart
