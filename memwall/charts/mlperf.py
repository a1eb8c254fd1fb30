"""Charts and tables of the MLPerf chapter: published results against their roofline bounds, and the fraction reached.

All take the table of :func:`memwall.wall.mlperf_results.default_bounds` (rates in tokens/s, SI) and compute
nothing: they filter, label and draw. Rows flagged ``duplicate_run`` (a run listed for both accuracy targets,
:func:`memwall.wall.mlperf_results.duplicate_runs`) are drawn once, by the row kept. Submitters have the book's
vendor colours (:mod:`memwall.charts.palette`: NVIDIA green, AMD red, Google blue, Intel light blue).
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from memwall.charts.palette import BLACK, BLUE, ORANGE, colour_scale
from memwall.charts.theme import decade_axis, require_columns, require_positive, responsive
from memwall.reader_table import Column, ReaderTable, reader_table

__all__ = ["achieved_vs_bound_chart", "fraction_chart", "result_counts_table", "results_table"]

_ALL = "all"
_OWN = "Llama-3-8B decode"
_OWN_SOURCE = "this book"
# legend labels stay short: the two legends sit side by side under the plot and must fit a phone's 358 px
_BENCHMARKS = {"gptj": "GPT-J 6B", "llama2-70b": "Llama-2-70B", "mixtral-8x7b": "Mixtral 8x7B"}
"""Reader's name of each benchmark family (:func:`memwall.wall.mlperf_results.benchmark_family`)."""
_SHORT = {"L40S (Ada AD102)": "L40S", "H100 NVL 94GB (Hopper)": "H100 NVL", "H100 SXM5 80GB (Hopper)": "H100 SXM",
          "GH200 96GB HBM3 (Grace Hopper, per GPU)": "GH200 96GB", "H200 SXM 141GB (Hopper)": "H200 SXM",
          "GH200 144GB HBM3e (Grace Hopper, per GPU)": "GH200 144GB", "B200 (HGX, Blackwell)": "B200",
          "Instinct MI300X (CDNA3)": "MI300X", "Gaudi2": "Gaudi2", "Google TPU v5e": "TPU v5e",
          "Xeon 6980P (Granite Rapids, 128c 2.0 GHz)": "Xeon 6980P"}
_DEVICE_ORDER = tuple(_SHORT)  # NVIDIA by generation and memory, then AMD, Intel Gaudi, Google, CPUs
_TAGS = ("CTS", "MaxQ", "Triton")
"""Words of a system id that tell two systems of one accelerator apart (custom thermal solution, power-capped,
Triton-served)."""
_REF = "#555"


def _labelled(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    if "duplicate_run" in out.columns:
        out = out[~out["duplicate_run"].astype(bool)]
    out["device"] = out["accelerator"].map(_SHORT).fillna(out["accelerator"])
    tags = (out["system_id"].map(lambda s: ", ".join(t for t in _TAGS if t in str(s)))
            if "system_id" in out.columns else pd.Series("", index=out.index))
    out["system"] = (out["accelerator_count"].astype(int).astype(str) + " x " + out["device"]
                     + np.where(tags != "", " (" + tags + ")", ""))
    out["benchmark_name"] = out["family"].map(_BENCHMARKS).fillna(out["family"])
    out["percent"] = 100 * out["fraction"]
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
        Chart title (the book passes none: the caption is the figure's).

    Returns
    -------
    altair.LayerChart
        Log-log scatter, colour by submitter (vendor colours), shape by benchmark; a segment from the bound
        at the longest documented prompt to the bound at a 1-token prompt where both exist; labelled lines at
        100 % and 10 % of the bound. Both axes keep one domain whatever the menus pick.

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
    rates = pd.concat([data["achieved_tokens_per_s"], data["bound_tokens_per_s"],
                       data["bound_tokens_per_s_at_max_input"].dropna()])
    lo, hi = float(rates.min()) / 1.5, float(rates.max()) * 1.5
    # ticks at the powers of ten inside the domain (both axes share it, so the 100 % line is the diagonal)
    decades = pd.Series([10.0 ** np.ceil(np.log10(lo)), 10.0 ** np.floor(np.log10(hi))])
    families = [_ALL, *sorted(data["family"].unique())]
    scenarios = [_ALL, *sorted(data["scenario"].unique())]
    p_fam = alt.param(name="mlperf_family", value=_ALL, bind=alt.binding_select(
        options=families, labels=[_BENCHMARKS.get(f, f) for f in families], name="benchmark "))
    p_sc = alt.param(name="mlperf_scenario", value=_ALL, bind=alt.binding_select(options=scenarios, name="scenario "))
    keep = ((p_fam == _ALL) | (alt.datum.family == p_fam)) & ((p_sc == _ALL) | (alt.datum.scenario == p_sc))
    x_axis = decade_axis(decades, "our upper bound [tokens/s]")
    y_axis = decade_axis(decades, "published [tokens/s]")
    scale = alt.Scale(type="log", domain=[lo, hi], nice=False)
    refs = pd.DataFrame([{"x": x, "y": x * k, "label": lab} for k, lab in ((1.0, "100 % of the bound"), (0.1, "10 %"))
                         for x in (lo, hi)])
    lines = alt.Chart(refs).mark_line(strokeDash=[6, 3], color=_REF, clip=True).encode(
        x=alt.X("x:Q", scale=scale, axis=x_axis), y=alt.Y("y:Q", scale=scale, axis=y_axis), detail="label:N")
    # the labels sit on their lines, right-aligned: 100 % a little in from the top corner (the menu button
    # of the chart is there), 10 % at the right edge
    spots = pd.DataFrame({"x": [hi / 4, hi], "y": [hi / 4, hi / 10], "label": ["100 % of the bound", "10 %"]})
    labels = alt.Chart(spots).mark_text(align="right", dx=-4, dy=-6, color=_REF).encode(
        x="x:Q", y="y:Q", text="label:N")
    submitters = sorted(data["submitter"].unique())
    colour = alt.Color("submitter:N", title="submitter", scale=colour_scale(submitters),
                       legend=alt.Legend(symbolType="circle", symbolOpacity=1))
    benchmarks = [_BENCHMARKS.get(f, f) for f in sorted(data["family"].unique())]
    base = alt.Chart(data).transform_filter(keep)
    ranged = base.transform_filter("isValid(datum.bound_tokens_per_s_at_max_input)").mark_rule(
        strokeWidth=2, opacity=0.5).encode(
        x=alt.X("bound_tokens_per_s_at_max_input:Q", scale=scale), x2="bound_tokens_per_s:Q",
        y=alt.Y("achieved_tokens_per_s:Q", scale=scale), color=colour)
    tip = [alt.Tooltip("round:N", title="round"), alt.Tooltip("submitter:N", title="submitter"),
           alt.Tooltip("system:N", title="system"), alt.Tooltip("benchmark_name:N", title="benchmark"),
           alt.Tooltip("scenario:N", title="scenario"),
           alt.Tooltip("achieved_tokens_per_s:Q", format=",.0f", title="published [tokens/s]"),
           alt.Tooltip("bound_tokens_per_s:Q", format=",.0f", title="our bound [tokens/s]"),
           alt.Tooltip("percent:Q", format=".1f", title="fraction of the bound [%]"),
           alt.Tooltip("binding:N", title="binding roof")]
    points = base.mark_point(size=80, filled=True).encode(
        x=alt.X("bound_tokens_per_s:Q", scale=scale), y=alt.Y("achieved_tokens_per_s:Q", scale=scale),
        color=colour, shape=alt.Shape("benchmark_name:N", title="benchmark", sort=benchmarks,
                                      scale=alt.Scale(domain=benchmarks)), tooltip=tip)
    chart = responsive(alt.layer(lines, labels, ranged, points).add_params(p_fam, p_sc), 340)
    return chart.properties(title=title) if title else chart


def fraction_chart(table: pd.DataFrame, own: pd.DataFrame | None = None, *, title: str = "") -> alt.LayerChart:
    """Fraction of the bound per result [%], by accelerator, coloured by round; a benchmark dropdown.

    Parameters
    ----------
    table : pandas.DataFrame
        As :func:`achieved_vs_bound_chart`.
    own : pandas.DataFrame, optional
        :func:`memwall.wall.mlperf_results.own_h200_fractions` (``batch``, ``context``, ``fraction``): drawn on the
        H200 column, in black, as this book's PyTorch decode steps (shown whatever benchmark is picked).
    title : str
        Chart title (the book passes none).

    Returns
    -------
    altair.LayerChart
        Log percent axis with one domain for every menu setting, one column per accelerator in generation
        order; MLPerf v4.0 blue, v4.1 orange, this book black; shape by benchmark; a labelled line at 100 %.

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
    order += sorted(set(data["device"]) - set(order))
    if own is not None:
        require_columns(own, ["batch", "context", "fraction"], "own")
        require_positive(own, "fraction")
        extra = own.assign(device=_SHORT["H200 SXM 141GB (Hopper)"], family=_OWN, benchmark_name=_OWN,
                           scenario="decode step", round="this book", submitter="this book", source=_OWN_SOURCE,
                           percent=100 * own["fraction"])
        extra["system"] = ("1 x H200 SXM (batch " + extra["batch"].astype(int).astype(str) + ", "
                           + extra["context"].astype(int).astype(str) + " cached tokens)")
        data = pd.concat([data, extra], ignore_index=True)
    families = [_ALL, *sorted(table["family"].unique())]
    p_fam = alt.param(name="mlperf_fraction_family", value=_ALL, bind=alt.binding_select(
        options=families, labels=[_BENCHMARKS.get(f, f) for f in families], name="benchmark "))
    keep = (p_fam == _ALL) | (alt.datum.family == p_fam) | (alt.datum.family == _OWN)
    sources = sorted(set(data["source"]) - {_OWN_SOURCE}) + ([_OWN_SOURCE] if own is not None else [])
    fixed = {"MLPerf v4.0": BLUE, "MLPerf v4.1": ORANGE, _OWN_SOURCE: BLACK}
    benchmarks = [_BENCHMARKS.get(f, f) for f in sorted(table["family"].unique())] + ([_OWN] if own is not None else [])
    lo = float(10 ** np.floor(np.log10(data["percent"].min())))
    hi = float(10 ** np.ceil(np.log10(max(data["percent"].max(), 100.0))))
    y_scale = alt.Scale(type="log", domain=[lo, hi], nice=False)
    tip = [alt.Tooltip("source:N", title="source"), alt.Tooltip("submitter:N", title="submitter"),
           alt.Tooltip("system:N", title="system"), alt.Tooltip("benchmark_name:N", title="benchmark"),
           alt.Tooltip("scenario:N", title="scenario"),
           alt.Tooltip("percent:Q", format=".1f", title="fraction of the bound [%]")]
    x = alt.X("device:N", sort=order, title=None, scale=alt.Scale(domain=order),  # every column, whatever is picked
              axis=alt.Axis(labelAngle=-90, labelAlign="right", labelBaseline="middle", labelLimit=110))
    points = alt.Chart(data).transform_filter(keep).mark_point(size=70, filled=True, opacity=0.85).encode(
        x=x, xOffset=alt.XOffset("source:N", sort=sources, scale=alt.Scale(domain=sources)),
        y=alt.Y("percent:Q", scale=y_scale, axis=decade_axis(pd.Series([lo, hi]), "fraction of our bound [%]")),
        color=alt.Color("source:N", title=None, sort=sources, scale=colour_scale(sources, fixed),
                        legend=alt.Legend(symbolType="circle")),
        shape=alt.Shape("benchmark_name:N", title="benchmark", sort=benchmarks, scale=alt.Scale(domain=benchmarks)),
        tooltip=tip)
    ref = pd.DataFrame({"percent": [100.0], "label": ["our bound (100 %)"]})
    rule = alt.Chart(ref).mark_rule(color=_REF, strokeDash=[6, 3]).encode(y=alt.Y("percent:Q", scale=y_scale))
    text = alt.Chart(ref).mark_text(align="right", baseline="top", dy=3, dx=-2, color=_REF).encode(
        x=alt.value({"expr": "width"}), y=alt.Y("percent:Q", scale=y_scale), text="label:N")
    chart = responsive(alt.layer(rule, text, points).add_params(p_fam), 320)
    return chart.properties(title=title) if title else chart


def result_counts_table(results: pd.DataFrame) -> ReaderTable:
    """How many results each submitter published per benchmark and round.

    Parameters
    ----------
    results : pandas.DataFrame
        :func:`memwall.tables.mlperf.load_mlperf_results`: ``round``, ``submitter``, ``benchmark``.

    Returns
    -------
    memwall.reader_table.ReaderTable
        Round, submitter, one integer column per benchmark (accuracy target in the header) and the total.

    Raises
    ------
    ValueError
        If a column is missing.
    """
    require_columns(results, ["round", "submitter", "benchmark"], "results")
    counts = pd.crosstab([results["round"], results["submitter"]], results["benchmark"])
    benchmarks = list(counts.columns)
    counts["total"] = counts.sum(axis=1)
    counts = counts.reset_index()
    counts.columns.name = None

    def header(benchmark: str) -> str:
        family, _, target = benchmark.rpartition("-")
        if family in _BENCHMARKS and target.replace(".", "").isdigit():
            return f"{_BENCHMARKS[family]}, {target} % accuracy"
        return _BENCHMARKS.get(benchmark, benchmark)

    spec: dict[str, Column] = {"round": Column("Round", kind="text"), "submitter": Column("Submitter", kind="text")}
    spec |= {b: Column(header(b), kind="integer") for b in benchmarks}
    spec["total"] = Column("All", kind="integer")
    return reader_table(counts, spec)


def results_table(rows: pd.DataFrame) -> ReaderTable:
    """Results with their fraction of the bound, one row each, as :func:`memwall.wall.mlperf_results.extremes` picks.

    Parameters
    ----------
    rows : pandas.DataFrame
        Rows of :func:`memwall.wall.mlperf_results.default_bounds`, in the order to show: ``round``,
        ``submitter``, ``system_id``, ``accelerator``, ``accelerator_count``, ``family``, ``benchmark``,
        ``scenario``, ``fraction``, ``fraction_at_max_input`` (NaN allowed), ``achieved_tokens_per_s``.

    Returns
    -------
    memwall.reader_table.ReaderTable
        Result ("v4.1 NVIDIA 8 x H200 SXM (CTS): llama2-70b-99.9 Offline"), fraction of the one-token-prompt
        bound [%], fraction of the bound at the longest prompt [%] (3 digits) and published [tokens/s].

    Raises
    ------
    ValueError
        If a column is missing.
    """
    require_columns(rows, ["round", "submitter", "system_id", "accelerator", "accelerator_count", "family",
                           "benchmark", "scenario", "fraction", "fraction_at_max_input", "achieved_tokens_per_s"],
                    "rows")
    shown = _labelled(rows.drop(columns="duplicate_run", errors="ignore"))
    shown["result"] = (shown["round"] + " " + shown["submitter"] + " " + shown["system"] + ": " + shown["benchmark"]
                       + " " + shown["scenario"])
    shown["at_max_pct"] = 100 * shown["fraction_at_max_input"]
    shown["tokens"] = shown["achieved_tokens_per_s"].round()
    return reader_table(shown, {"result": Column("Result", kind="text"),
                                "percent": Column("Of the bound", "%"),
                                "at_max_pct": Column("At the longest prompt", "%"),
                                "tokens": Column("Published", "tokens/s", kind="integer")})

