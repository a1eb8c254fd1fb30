"""Charts and tables of the stored GPU measurement (:mod:`memwall.wall.gpu_reference`).

The charts take the tables of :mod:`memwall.wall.gpu_reference` (SI units: seconds, FLOP/s, B/s) and draw
them in the units a reader reads (µs, ms, TFLOP/s); measured series are black and grey, bounds red and
light blue (:mod:`memwall.charts.palette`). The tables go through :func:`memwall.reader_table.reader_table`.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from memwall.charts.palette import BLACK, GREY, SKY, VERMILION, colour_scale
from memwall.charts.theme import POW2_LABEL, decade_axis, require_columns, responsive
from memwall.reader_table import Column, ReaderTable, reader_table
from memwall.roofline import Ceilings

__all__ = ["ceiling_kernels_table", "datasheet_table", "decode_latency_chart", "gemv_sweep_chart", "prefill_table"]

_SERIES = {"graph": "measured, CUDA graph", "eager": "measured, eager", "bound_measured_s": "bound, measured ceilings",
           "bound_datasheet_s": "bound, datasheet ceilings"}
_SERIES_COLOURS = {"measured, CUDA graph": BLACK, "measured, eager": GREY, "bound, measured ceilings": VERMILION,
                   "bound, datasheet ceilings": SKY}
_SOLID, _DASHED, _DOTTED = [1, 0], [6, 3], [2, 2]

_POW2_THIN = ("(width < 420 && abs(round(log(datum.value) / LN2)) % 2 == 1) ? '' : " + f"({POW2_LABEL})")
"""Label of a power-of-two axis with a tick at every power: every power on a wide chart, every second one
(1, 4, 16, 64, 256, 1k, 4k) below 420 px of plot width, so that no label has to be hidden on a phone."""


def _pow2_axis(values: pd.Series | np.ndarray, title: str) -> alt.Axis:
    arr = np.asarray(values, dtype=float)
    lo, hi = int(np.floor(np.log2(arr.min()))), int(np.ceil(np.log2(arr.max())))
    return alt.Axis(title=title, values=[float(2.0**k) for k in range(lo, hi + 1)], labelExpr=_POW2_THIN,
                    labelOverlap="greedy")


def _pow2_domain(values: pd.Series | np.ndarray) -> list[float]:
    arr = np.asarray(values, dtype=float)
    return [float(2.0 ** np.floor(np.log2(arr.min()))), float(2.0 ** np.ceil(np.log2(arr.max())))]


def gemv_sweep_chart(sweep: pd.DataFrame, ceilings: Ceilings) -> alt.LayerChart:
    """Measured throughput of ``Y = X Wᵀ`` against the batch, under its roofline bound, with the ridge point marked.

    Parameters
    ----------
    sweep : pandas.DataFrame
        :func:`memwall.wall.gpu_reference.gemv_sweep`: ``batch_sequences``, ``intensity_flop_per_byte``
        [FLOP/B], ``time_s`` [s], ``flop_per_s`` [FLOP/s] and ``bound_s`` [s] (the bound with the measured
        ceilings).
    ceilings : memwall.roofline.Ceilings
        The ceilings of the bound; the vertical rule sits at the batch whose intensity is their ridge point.

    Returns
    -------
    altair.LayerChart
        Log-log lines of throughput [TFLOP/s] over batch [rows of X]: measured (black, points) and our bound
        (red, dashed), a legend naming both, and a labelled rule at the ridge point.

    Raises
    ------
    ValueError
        If a column is missing, the sweep is empty, or a batch, time or rate is not positive.
    """
    require_columns(sweep, ["batch_sequences", "intensity_flop_per_byte", "time_s", "flop_per_s", "bound_s"], "sweep")
    if sweep.empty:
        raise ValueError("sweep is empty")
    for column in ("batch_sequences", "intensity_flop_per_byte", "time_s", "flop_per_s", "bound_s"):
        if not (sweep[column] > 0).all():
            raise ValueError(f"sweep column {column!r} needs values > 0")
    data = sweep.sort_values("batch_sequences")
    flops = data["flop_per_s"] * data["time_s"]  # FLOPs of one product [FLOP]
    series = ["measured", "our bound"]
    long = pd.concat([
        pd.DataFrame({"batch": data["batch_sequences"], "intensity": data["intensity_flop_per_byte"],
                      "tflops": data["flop_per_s"] / 1e12, "us": data["time_s"] * 1e6, "series": series[0]}),
        pd.DataFrame({"batch": data["batch_sequences"], "intensity": data["intensity_flop_per_byte"],
                      "tflops": flops / data["bound_s"] / 1e12, "us": data["bound_s"] * 1e6, "series": series[1]}),
    ], ignore_index=True)
    x_scale = alt.Scale(type="log", base=2, domain=_pow2_domain(long["batch"]))
    y_lo = float(10 ** np.floor(np.log10(long["tflops"].min())))
    y_scale = alt.Scale(type="log", domain=[y_lo, float(10 ** np.ceil(np.log10(long["tflops"].max())))])
    x = alt.X("batch:Q", scale=x_scale, axis=_pow2_axis(long["batch"], "batch b (rows of X)"))
    y = alt.Y("tflops:Q", scale=y_scale, axis=decade_axis(long["tflops"], "throughput [TFLOP/s]"))
    colour = alt.Color("series:N", scale=colour_scale(series), title=None, legend=alt.Legend(symbolType="stroke"))
    dash = alt.StrokeDash("series:N", scale=alt.Scale(domain=series, range=[_SOLID, _DASHED]), title=None)
    tip = [alt.Tooltip("series:N", title="series"), alt.Tooltip("batch:Q", title="batch b"),
           alt.Tooltip("intensity:Q", format=".3~r", title="intensity [FLOP/B]"),
           alt.Tooltip("tflops:Q", format=".3~r", title="throughput [TFLOP/s]"),
           alt.Tooltip("us:Q", format=".3~r", title="time [µs]")]
    lines = alt.Chart(long).mark_line(strokeWidth=2).encode(x=x, y=y, color=colour, strokeDash=dash, tooltip=tip)
    points = alt.Chart(long[long["series"] == "measured"]).mark_point(filled=True, size=45).encode(
        x=x, y=y, color=colour, tooltip=tip)
    # the batch whose intensity is the ridge point, read off the sweep (log-log interpolation)
    ridge = float(ceilings.ridge_flop_per_byte)
    ridge_batch = float(2.0 ** np.interp(np.log2(ridge), np.log2(data["intensity_flop_per_byte"]),
                                         np.log2(data["batch_sequences"])))
    mark = pd.DataFrame({"batch": [ridge_batch], "tflops": [1.3 * y_lo], "label": [f"ridge point, {ridge:.0f} FLOP/B"]})
    rule = alt.Chart(mark).mark_rule(color=GREY, strokeDash=_DOTTED).encode(x=alt.X("batch:Q", scale=x_scale))
    text = alt.Chart(mark).mark_text(align="right", baseline="bottom", dx=-4, color="#444").encode(
        x=alt.X("batch:Q", scale=x_scale), y=alt.Y("tflops:Q", scale=y_scale), text="label:N")
    return responsive(alt.layer(rule, lines, points, text), 300)


def decode_latency_chart(decode: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Decode-step time against batch, measured and bounded, with a dropdown for the context length.

    Parameters
    ----------
    decode : pandas.DataFrame
        :func:`memwall.wall.gpu_reference.decode_vs_bound` output (``mode``, ``batch_sequences``,
        ``context_tokens``, ``time_s``, ``bound_measured_s``, ``bound_datasheet_s``).
    title : str
        Chart title (the book passes none: its caption is the figure's).

    Returns
    -------
    altair.LayerChart
        Lines of time per decode step [ms] (linear, one domain for every context length) over batch
        [sequences] (log 2): the two measured series solid with points (black, grey), the two bounds dashed
        and dotted (red, light blue); the dropdown ("cached tokens") keeps the rows of one context length.

    Raises
    ------
    ValueError
        If a column is missing or the table is empty.
    """
    need = ["mode", "batch_sequences", "context_tokens", "time_s", "bound_measured_s", "bound_datasheet_s"]
    require_columns(decode, need, "decode")
    if decode.empty:
        raise ValueError("decode is empty")
    measured = decode.assign(series=decode["mode"].map(_SERIES), ms=decode["time_s"] * 1e3)
    bounds = (decode[decode["mode"] == "graph"]
              .melt(id_vars=["batch_sequences", "context_tokens"], value_vars=["bound_measured_s", "bound_datasheet_s"],
                    var_name="what", value_name="s"))
    bounds = bounds.assign(series=bounds["what"].map(_SERIES), ms=bounds["s"] * 1e3)
    cols = ["batch_sequences", "context_tokens", "series", "ms"]
    long = pd.concat([measured[cols], bounds[cols]], ignore_index=True)
    contexts = sorted(int(c) for c in long["context_tokens"].unique())
    pick = alt.param(name="gpu_decode_context", value=contexts[0],
                     bind=alt.binding_select(options=contexts, name="cached tokens "))
    series = list(_SERIES.values())
    top = float(5 * np.ceil(long["ms"].max() / 5))  # one y domain for every context: the axis never jumps
    x_scale = alt.Scale(type="log", base=2, domain=_pow2_domain(long["batch_sequences"]))
    x = alt.X("batch_sequences:Q", scale=x_scale, axis=_pow2_axis(long["batch_sequences"], "batch [sequences]"))
    y = alt.Y("ms:Q", scale=alt.Scale(domain=[0, top]),
              axis=alt.Axis(title="time per decode step [ms]", tickMinStep=1, format="~g"))
    colour = alt.Color("series:N", title=None, sort=series, scale=colour_scale(series, _SERIES_COLOURS),
                       legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=2))
    dash = alt.StrokeDash("series:N", title=None, sort=series,
                          scale=alt.Scale(domain=series, range=[_SOLID, _SOLID, _DASHED, _DOTTED]))
    tip = [alt.Tooltip("series:N", title="series"), alt.Tooltip("batch_sequences:Q", title="batch [sequences]"),
           alt.Tooltip("context_tokens:Q", title="cached tokens"), alt.Tooltip("ms:Q", format=".3f", title="time [ms]")]
    base = alt.Chart(long).add_params(pick).transform_filter(alt.datum.context_tokens == pick)
    lines = base.mark_line(strokeWidth=2).encode(x=x, y=y, color=colour, strokeDash=dash, tooltip=tip)
    points = base.transform_filter(alt.FieldOneOfPredicate("series", series[:2])).mark_point(
        filled=True, size=45).encode(x=x, y=y, color=colour, tooltip=tip)
    chart = responsive(alt.layer(lines, points), 300)
    return chart.properties(title=title) if title else chart


def datasheet_table(rows: pd.DataFrame) -> ReaderTable:
    """Measured ceilings against the datasheet's, one row per ceiling.

    Parameters
    ----------
    rows : pandas.DataFrame
        ``quantity`` (the reader's name with its unit, "DRAM bandwidth [TB/s]"), ``measured`` and ``datasheet``
        (in that unit).

    Returns
    -------
    memwall.reader_table.ReaderTable
        Quantity, measured, datasheet (3 significant digits) and measured / datasheet [%] (2 digits).

    Raises
    ------
    ValueError
        If a column is missing or a datasheet value is not positive.
    """
    require_columns(rows, ["quantity", "measured", "datasheet"], "rows")
    if not (rows["datasheet"] > 0).all():
        raise ValueError("rows: datasheet values must be > 0")
    shown = rows.assign(fraction=100 * rows["measured"] / rows["datasheet"])
    return reader_table(shown, {"quantity": Column("Ceiling", kind="text"), "measured": Column("Measured"),
                                "datasheet": Column("Datasheet", trailing_zeros=False),
                                "fraction": Column("Measured / datasheet", "%", digits=2)})


def ceiling_kernels_table(median: pd.DataFrame) -> ReaderTable:
    """The kernels behind the measured ceilings: copy, triad, read and the square matrix products.

    Parameters
    ----------
    median : pandas.DataFrame
        :func:`memwall.wall.gpu_reference.median_runs`: ``experiment``, ``setting``, ``time_s`` [s],
        ``spread`` [1], ``flop_per_s`` [FLOP/s] and ``bandwidth_bytes_per_s`` [B/s]; the rows of the
        experiments copy, triad, read and gemm are shown.

    Returns
    -------
    memwall.reader_table.ReaderTable
        Kernel, setting, time [ms], TFLOP/s (``—`` for the memory kernels), TB/s and the spread between
        runs [%].

    Raises
    ------
    ValueError
        If a column is missing or no row is one of those kernels.
    """
    require_columns(median, ["experiment", "setting", "time_s", "spread", "flop_per_s", "bandwidth_bytes_per_s"],
                    "median")
    rows = median[median["experiment"].isin(["copy", "triad", "read", "gemm"])]
    if rows.empty:
        raise ValueError("median has no copy, triad, read or gemm row")
    shown = rows.assign(ms=rows["time_s"] * 1e3, tflops=rows["flop_per_s"] / 1e12,
                        tbs=rows["bandwidth_bytes_per_s"] / 1e12, spread_pct=100 * rows["spread"],
                        kernel=rows["experiment"].map({"gemm": "matrix product"}).fillna(rows["experiment"]))
    return reader_table(shown, {"kernel": Column("Kernel", kind="text"), "setting": Column("Setting", kind="text"),
                                "tflops": Column("Throughput", "TFLOP/s"), "tbs": Column("Bandwidth", "TB/s"),
                                "ms": Column("Time", "ms"), "spread_pct": Column("Spread between runs", "%", 2)})


def prefill_table(prefill: pd.DataFrame) -> ReaderTable:
    """Measured prefill times beside their roofline bounds, one row per prompt length.

    Parameters
    ----------
    prefill : pandas.DataFrame
        :func:`memwall.wall.gpu_reference.prefill_vs_bound`: ``context_tokens``, ``time_s`` and
        ``bound_measured_s`` [s], ``bound_fraction`` [1], ``achieved_flop_per_s`` [FLOP/s] and ``spread`` [1].

    Returns
    -------
    memwall.reader_table.ReaderTable
        Prompt [tokens], measured time and its fraction of the bound first, then the bound with the measured
        ceilings [ms], the achieved TFLOP/s and the spread between runs [%] (one table that fits the article).

    Raises
    ------
    ValueError
        If a column is missing.
    """
    require_columns(prefill, ["context_tokens", "time_s", "bound_measured_s", "bound_fraction", "achieved_flop_per_s",
                              "spread"], "prefill")
    shown = prefill.assign(tokens=prefill["context_tokens"].astype(int), ms=prefill["time_s"] * 1e3,
                           bound_ms=prefill["bound_measured_s"] * 1e3,
                           pct=100 * prefill["bound_fraction"], tflops=prefill["achieved_flop_per_s"] / 1e12,
                           spread_pct=100 * prefill["spread"])
    return reader_table(shown, {"tokens": Column("Prompt", "tokens", kind="integer"), "ms": Column("Measured", "ms"),
                                "pct": Column("Bound / measured", "%", 2),
                                "bound_ms": Column("Bound, measured ceilings", "ms"),
                                "tflops": Column("Achieved", "TFLOP/s"),
                                "spread_pct": Column("Spread between runs", "%", 2)})
