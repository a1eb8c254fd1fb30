"""Charts of measured rooflines: the GEMV-to-GEMM sweep."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from memwall.charts.theme import log_axis

__all__ = ["gemv_chart"]



def gemv_chart(sweep: pd.DataFrame, *, peak_flop_per_s: float, bandwidth_bytes_per_s: float,
               title: str = "") -> alt.LayerChart:
    """Measured matrix-product throughput against batch size, under the roofline bound.

    Parameters
    ----------
    sweep : pandas.DataFrame
        Output of :func:`memwall.wall.measure.gemv_gemm_sweep`: ``batch``, ``intensity_flop_per_byte``
        [FLOP/B] and ``flop_per_s`` [FLOP/s].
    peak_flop_per_s, bandwidth_bytes_per_s : float
        Ceilings of the bound ``min(peak, intensity x bandwidth)``. [FLOP/s], [B/s]
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        Measured points and the bound, log-log over batch size.
    """
    data = sweep[["batch", "intensity_flop_per_byte", "flop_per_s"]].copy()
    data["bound_flop_per_s"] = np.minimum(peak_flop_per_s, data["intensity_flop_per_byte"] * bandwidth_bytes_per_s)
    long = data.melt(id_vars=["batch", "intensity_flop_per_byte"], value_vars=["flop_per_s", "bound_flop_per_s"],
                     var_name="what", value_name="rate")
    long["what"] = long["what"].map({"flop_per_s": "measured", "bound_flop_per_s": "roofline bound"})
    x = alt.X("batch:Q", scale=alt.Scale(type="log", base=2), title="batch b (columns of X) [vectors]",
              axis=alt.Axis(values=data["batch"].tolist()))
    return alt.Chart(long).mark_line(point=True).encode(
        x=x, y=alt.Y("rate:Q", scale=alt.Scale(type="log"), axis=log_axis("throughput [FLOP/s]")),
        color=alt.Color("what:N", title=None), strokeDash=alt.StrokeDash("what:N", legend=None),
        tooltip=["what:N", "batch:Q",
                 alt.Tooltip("intensity_flop_per_byte:Q", format=".3~f", title="intensity [FLOP/B]"),
                 alt.Tooltip("rate:Q", format=".3~s", title="FLOP/s")],
    ).properties(title=title)
