"""Charts of the stored GPU measurement (:mod:`memwall.wall.gpu_reference`)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from memwall.charts.theme import log_axis

__all__ = ["decode_latency_chart"]




_SERIES = {"graph": "measured, CUDA graph", "eager": "measured, eager", "bound_measured_s": "bound, measured ceilings",
           "bound_datasheet_s": "bound, datasheet ceilings"}


def decode_latency_chart(decode: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Decode-step time against batch, measured and bounded, with a dropdown for the context length.

    Parameters
    ----------
    decode : pandas.DataFrame
        :func:`memwall.wall.gpu_reference.decode_vs_bound` output (``mode``, ``batch_sequences``,
        ``context_tokens``, ``time_s``, ``bound_measured_s``, ``bound_datasheet_s``).
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        Log-log lines of time per decode step [ms] over batch [sequences], one per series; the dropdown
        ("cached tokens") keeps the rows of one context length.

    Raises
    ------
    ValueError
        If a column is missing or the table is empty.
    """
    need = ["mode", "batch_sequences", "context_tokens", "time_s", "bound_measured_s", "bound_datasheet_s"]
    missing = [c for c in need if c not in decode.columns]
    if missing:
        raise ValueError(f"decode lacks column(s) {missing}; has {list(decode.columns)}")
    if decode.empty:
        raise ValueError("decode is empty")
    measured = decode.assign(series=decode["mode"].map(_SERIES), ms=decode["time_s"] * 1e3)
    bounds = (decode[decode["mode"] == "graph"]
              .melt(id_vars=["batch_sequences", "context_tokens"], value_vars=["bound_measured_s", "bound_datasheet_s"],
                    var_name="what", value_name="s"))
    bounds = bounds.assign(series=bounds["what"].map(_SERIES), ms=bounds["s"] * 1e3)
    long = pd.concat([measured[["batch_sequences", "context_tokens", "series", "ms"]],
                      bounds[["batch_sequences", "context_tokens", "series", "ms"]]], ignore_index=True)
    contexts = sorted(int(c) for c in long["context_tokens"].unique())
    pick = alt.param(name="gpu_decode_context", value=contexts[0],
                     bind=alt.binding_select(options=contexts, name="cached tokens "))
    return alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("batch_sequences:Q", scale=alt.Scale(type="log", base=2), title="batch [sequences]",
                axis=alt.Axis(values=sorted(long["batch_sequences"].unique().tolist()))),
        y=alt.Y("ms:Q", scale=alt.Scale(type="log"), axis=log_axis("time per decode step [ms]")),
        color=alt.Color("series:N", title=None, sort=list(_SERIES.values())),
        strokeDash=alt.StrokeDash("series:N", legend=None, sort=list(_SERIES.values())),
        tooltip=["series:N", alt.Tooltip("batch_sequences:Q", title="batch"),
                 alt.Tooltip("context_tokens:Q", title="cached tokens"), alt.Tooltip("ms:Q", format=".3f", title="ms")],
    ).add_params(pick).transform_filter(alt.datum.context_tokens == pick).properties(title=title, width=460)
