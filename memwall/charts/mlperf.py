"""Charts of the MLPerf chapter: published results against their roofline bounds, and the fraction reached.

Both take the table of :func:`memwall.wall.mlperf_results.default_bounds` (rates in tokens/s, SI) and compute
nothing: they filter, label and draw. Rows flagged ``duplicate_run`` (a run listed for both accuracy targets,
:func:`memwall.wall.mlperf_results.duplicate_runs`) are drawn once, by the row kept.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from memwall.charts.theme import FIT_CONTAINER, PALETTE, decade_axis, require_columns, require_positive

__all__ = ["achieved_vs_bound_chart", "fraction_chart"]

_ALL = "all"
_OWN = "llama-3-8b decode (this book)"
_SHORT = {"L40S (Ada AD102)": "L40S", "H100 NVL 94GB (Hopper)": "H100 NVL", "H100 SXM5 80GB (Hopper)": "H100 SXM",
          "GH200 96GB HBM3 (Grace Hopper, per GPU)": "GH200 96GB", "H200 SXM 141GB (Hopper)": "H200 SXM",
          "GH200 144GB HBM3e (Grace Hopper, per GPU)": "GH200 144GB", "B200 (HGX, Blackwell)": "B200",
          "Instinct MI300X (CDNA3)": "MI300X", "Gaudi2": "Gaudi2", "Google TPU v5e": "TPU v5e",
          "Xeon 6980P (Granite Rapids, 128c 2.0 GHz)": "Xeon 6980P"}
_DEVICE_ORDER = tuple(_SHORT)  # NVIDIA by generation and memory, then AMD, Intel Gaudi, Google, CPUs


def _labelled(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    if "duplicate_run" in out.columns:
        out = out[~out["duplicate_run"].astype(bool)]
    out["device"] = out["accelerator"].map(_SHORT).fillna(out["accelerator"])
    out["system"] = out["accelerator_count"].astype(str) + " x " + out["device"]
    return out


def achieved_vs_bound_chart(table: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Published tokens/s against our upper bound, one point per result; benchmark and scenario dropdowns.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`memwall.wall.mlperf_results.default_bounds`: ``family``, ``scenario``, ``submitter``,
        ``accelerator``, ``accelerator_count``, ``round``, ``achieved_tokens_per_s``, ``bound_tokens_per_s``,
        ``bound_tokens_per_s_at_max_input`` (NaN allowed), ``fraction``, ``binding``. [tokens/s]
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        Log-log scatter coloured by submitter; a segment from the bound at the longest documented prompt to
        the bound at a 1-token prompt where both exist; labelled lines at 100 % and 10 % of the bound.

    Raises
    ------
    ValueError
        If a column is missing or a rate is not positive.
    """
    require_columns(table, ["family", "scenario", "submitter", "accelerator", "accelerator_count", "round",
                            "achieved_tokens_per_s", "bound_tokens_per_s", "bound_tokens_per_s_at_max_input",
                            "fraction", "binding"], "table")
    for column in ("achieved_tokens_per_s", "bound_tokens_per_s"):
        require_positive(table, column)
    data = _labelled(table)
    lo = float(min(data["achieved_tokens_per_s"].min(), data["bound_tokens_per_s"].min())) / 2
    hi = float(max(data["achieved_tokens_per_s"].max(), data["bound_tokens_per_s"].max())) * 2
    families = [_ALL, *sorted(data["family"].unique())]
    scenarios = [_ALL, *sorted(data["scenario"].unique())]
    p_fam = alt.param(name="mlperf_family", value=_ALL, bind=alt.binding_select(options=families, name="benchmark "))
    p_sc = alt.param(name="mlperf_scenario", value=_ALL, bind=alt.binding_select(options=scenarios, name="scenario "))
    keep = ((p_fam == _ALL) | (alt.datum.family == p_fam)) & ((p_sc == _ALL) | (alt.datum.scenario == p_sc))
    ticks = pd.Series([lo, hi])
    x_axis = decade_axis(ticks, "our upper bound [tokens/s]")
    y_axis = decade_axis(ticks, "published [tokens/s]")
    scale = alt.Scale(type="log", domain=[lo, hi])
    refs = pd.DataFrame([{"x": lo, "y": lo * k, "label": lab, "k": k} for k, lab in ((1.0, "100 % of the bound"),
                                                                                   (0.1, "10 %"))]
                        + [{"x": hi, "y": hi * k, "label": lab, "k": k} for k, lab in ((1.0, "100 % of the bound"),
                                                                                     (0.1, "10 %"))])
    lines = alt.Chart(refs).mark_line(strokeDash=[6, 3], color="#555", clip=True).encode(
        x=alt.X("x:Q", scale=scale, axis=x_axis), y=alt.Y("y:Q", scale=scale, axis=y_axis), detail="label:N")
    labels = alt.Chart(refs[refs["x"] == hi]).mark_text(align="right", dx=-4, dy=-6, color="#555").encode(
        x="x:Q", y="y:Q", text="label:N")
    base = alt.Chart(data).transform_filter(keep)
    ranged = base.transform_filter("isValid(datum.bound_tokens_per_s_at_max_input)").mark_rule(
        strokeWidth=2, opacity=0.5).encode(
        x=alt.X("bound_tokens_per_s_at_max_input:Q", scale=scale), x2="bound_tokens_per_s:Q",
        y=alt.Y("achieved_tokens_per_s:Q", scale=scale),
        color=alt.Color("submitter:N", title="submitter", scale=alt.Scale(range=list(PALETTE))))
    tip = ["round:N", "submitter:N", "system:N", "family:N", "scenario:N",
           alt.Tooltip("achieved_tokens_per_s:Q", format=",.0f", title="published [tokens/s]"),
           alt.Tooltip("bound_tokens_per_s:Q", format=",.0f", title="bound [tokens/s]"),
           alt.Tooltip("fraction:Q", format=".1%"), "binding:N"]
    points = base.mark_point(size=80, filled=True).encode(
        x=alt.X("bound_tokens_per_s:Q", scale=scale), y=alt.Y("achieved_tokens_per_s:Q", scale=scale),
        color=alt.Color("submitter:N", title="submitter", scale=alt.Scale(range=list(PALETTE))),
        shape=alt.Shape("family:N", title="benchmark"), tooltip=tip)
    return alt.layer(lines, labels, ranged, points).add_params(p_fam, p_sc).properties(
        title=title, width="container", height=340, autosize=FIT_CONTAINER)


def fraction_chart(table: pd.DataFrame, own: pd.DataFrame | None = None, *, title: str = "") -> alt.LayerChart:
    """Fraction of the bound per result, by accelerator, coloured by round; a benchmark dropdown.

    Parameters
    ----------
    table : pandas.DataFrame
        As :func:`achieved_vs_bound_chart`.
    own : pandas.DataFrame, optional
        :func:`memwall.wall.mlperf_results.own_h200_fractions` (``batch``, ``context``, ``fraction``): drawn on the
        H200 column as this book's PyTorch decode steps.
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        Log fraction axis, one column per accelerator in generation order.

    Raises
    ------
    ValueError
        If a column is missing or a fraction is not positive.
    """
    require_columns(table, ["family", "scenario", "round", "accelerator", "accelerator_count", "submitter",
                            "fraction"], "table")
    require_positive(table, "fraction")
    data = _labelled(table)
    data["source"] = "MLPerf " + data["round"]
    order = [_SHORT[d] for d in _DEVICE_ORDER if d in set(data["accelerator"])]
    if own is not None:
        require_columns(own, ["batch", "context", "fraction"], "own")
        extra = own.assign(device=_SHORT["H200 SXM 141GB (Hopper)"], family=_OWN, scenario="decode step",
                           round="this book", submitter="this book", system="1 x H200 SXM",
                           source="this book: PyTorch decode, Llama-3-8B bf16")
        extra["system"] = extra["system"] + " (B=" + extra["batch"].astype(str) + ", ctx=" + \
            extra["context"].astype(str) + ")"
        data = pd.concat([data, extra], ignore_index=True)
    families = [_ALL, *sorted(table["family"].unique())]
    p_fam = alt.param(name="mlperf_fraction_family", value=_ALL,
                      bind=alt.binding_select(options=families, name="benchmark "))
    keep = (p_fam == _ALL) | (alt.datum.family == p_fam) | (alt.datum.family == _OWN)
    sources = list(dict.fromkeys(sorted(data["source"])))
    tip = ["source:N", "submitter:N", "system:N", "family:N", "scenario:N", alt.Tooltip("fraction:Q", format=".1%")]
    points = alt.Chart(data).transform_filter(keep).mark_point(size=70, filled=True, opacity=0.85).encode(
        x=alt.X("device:N", sort=order, title=None,  # upright: a dozen names fit side by side even on a phone
                  axis=alt.Axis(labelAngle=-90, labelAlign="right", labelBaseline="middle", labelLimit=110)),
        xOffset=alt.XOffset("source:N", sort=sources),
        y=alt.Y("fraction:Q", scale=alt.Scale(type="log"), axis=decade_axis(data["fraction"], "fraction of our bound")),
        color=alt.Color("source:N", title=None, sort=sources, scale=alt.Scale(range=list(PALETTE))),
        shape=alt.Shape("family:N", title="benchmark"), tooltip=tip)
    return alt.layer(points).add_params(p_fam).properties(title=title, width="container", height=320,
                                                          autosize=FIT_CONTAINER)
