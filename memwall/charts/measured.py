"""Charts of measured rooflines: the GEMV-to-GEMM sweep."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from memwall.charts import palette
from memwall.charts.theme import decade_axis, pow2_axis, require_columns, require_positive, responsive

__all__ = ["gemv_chart"]

MEASURED, BOUND = "measured", "roofline bound"
"""Legend entries of the two lines of :func:`gemv_chart`."""


def _ridge_batch(batch: np.ndarray, intensity: np.ndarray, ridge: float) -> float | None:
    """The batch at which the intensity reaches ``ridge`` (log-log interpolation), or None outside the sweep."""
    order = np.argsort(batch)
    b, i = np.log(batch[order]), np.log(intensity[order])
    if not (np.all(np.diff(i) > 0) and i[0] <= np.log(ridge) <= i[-1]):
        return None
    return float(np.exp(np.interp(np.log(ridge), i, b)))


def gemv_chart(sweep: pd.DataFrame, *, peak_flop_per_s: float, bandwidth_bytes_per_s: float,
               title: str = "", height: int = 300) -> alt.LayerChart:
    """Measured matrix-product throughput against batch size, under the roofline bound.

    Parameters
    ----------
    sweep : pandas.DataFrame
        Output of :func:`memwall.wall.measure.gemv_gemm_sweep`: ``batch``, ``intensity_flop_per_byte``
        [FLOP/B] and ``flop_per_s`` [FLOP/s].
    peak_flop_per_s, bandwidth_bytes_per_s : float
        Ceilings of the bound ``min(peak, intensity x bandwidth)``. [FLOP/s], [B/s]
    title : str
        In-chart title; the book leaves it empty and puts the title in the figure's caption.
    height : int
        Height of the plotting area [px].

    Returns
    -------
    altair.LayerChart
        Width of the page's column: the measured line (solid, black) and the roofline bound (dashed, red),
        named in the legend, log-log over batch size (ticks 1 2 4 ... 512); where the sweep crosses the
        ridge point, a labelled dotted rule marks the batch at which the bound turns flat.

    Raises
    ------
    ValueError
        If a column is missing, a ceiling is not a positive number or a value cannot go on a log axis.
    """
    require_columns(sweep, ["batch", "intensity_flop_per_byte", "flop_per_s"], "sweep")
    for name, value in (("peak_flop_per_s", peak_flop_per_s), ("bandwidth_bytes_per_s", bandwidth_bytes_per_s)):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name}={value!r} must be a positive number")
    data = sweep[["batch", "intensity_flop_per_byte", "flop_per_s"]].copy()
    for column in data.columns:
        require_positive(data, column)
    data["bound_flop_per_s"] = np.minimum(peak_flop_per_s, data["intensity_flop_per_byte"] * bandwidth_bytes_per_s)
    long = data.melt(id_vars=["batch", "intensity_flop_per_byte"], value_vars=["flop_per_s", "bound_flop_per_s"],
                     var_name="what", value_name="rate")
    long["what"] = long["what"].map({"flop_per_s": MEASURED, "bound_flop_per_s": BOUND})
    batches = data["batch"].to_numpy(dtype=float)
    x_axis = pow2_axis(batches, "batch b (columns of X) [vectors]")
    x_axis.labelFlush = False  # the last label centred on its tick, clear of the one before on a phone
    x = alt.X("batch:Q", scale=alt.Scale(type="log", base=2), axis=x_axis)
    rates = long["rate"].to_numpy(dtype=float)
    y_scale = alt.Scale(type="log")
    colours = palette.colour_scale([MEASURED, BOUND], fixed={BOUND: palette.colour_of("bound")})
    # colour and dash on one field with one legend: Vega-Lite merges them into one legend of dashed strokes
    legend = alt.Legend(title=None, symbolType="stroke", symbolStrokeWidth=2.5, symbolSize=400)
    colour = alt.Color("what:N", scale=colours, sort=[MEASURED, BOUND], legend=legend)
    dash = alt.StrokeDash("what:N", scale=alt.Scale(domain=[MEASURED, BOUND], range=[[1, 0], [6, 4]]),
                          sort=[MEASURED, BOUND], legend=legend)
    lines = alt.Chart(long).mark_line(point=True, strokeWidth=2.5).encode(
        x=x, y=alt.Y("rate:Q", scale=y_scale, axis=decade_axis(rates, "throughput [FLOP/s]")),
        color=colour, strokeDash=dash,
        tooltip=[alt.Tooltip("what:N", title="line"), alt.Tooltip("batch:Q", title="batch [vectors]", format=","),
                 alt.Tooltip("intensity_flop_per_byte:Q", format=",.3~r", title="intensity [FLOP/B]"),
                 alt.Tooltip("rate:Q", format=".3~s", title="throughput [FLOP/s]")],
    )
    layers: list[alt.Chart] = [lines]
    ridge = peak_flop_per_s / bandwidth_bytes_per_s
    b_ridge = _ridge_batch(batches, data["intensity_flop_per_byte"].to_numpy(dtype=float), ridge)
    if b_ridge is not None:
        mark = pd.DataFrame({"batch": [b_ridge], "text": [f"ridge point {ridge:,.3g} FLOP/B"]})
        rule = alt.Chart(mark).mark_rule(color="#555", strokeDash=[2, 3], strokeWidth=1.5).encode(x=x)
        # right of the rule at the bottom: past the ridge both lines run near the peak, at the top
        label = alt.Chart(mark).mark_text(align="left", baseline="bottom", dx=5, dy=-4, fontSize=12,
                                          color="#333").encode(x=x, y=alt.value(height), text="text:N")
        layers += [rule, label]
    chart = responsive(alt.layer(*layers), height)
    return chart.properties(title=title) if title else chart
