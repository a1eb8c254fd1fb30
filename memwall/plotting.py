"""Altair charts with one theme for the whole book.

Importing this module registers and enables the ``"memwall"`` Altair theme (fonts, sizes, a
colour-blind-safe palette). Chart helpers take tidy DataFrames and return :class:`altair.Chart`
objects; log axes use SI labels (``10k``, ``1M``, ``1G``). Charts embed their data inline, so
callers pass small, aggregated tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from memwall.trends import GrowthFit

__all__ = [
    "PALETTE",
    "balance_chart",
    "growth_chart",
    "log_axis",
    "ratio_chart",
    "years_to_dates",
]

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
"""Okabe-Ito colour-blind-safe palette (https://jfly.uni-koeln.de/color/)."""


@alt.theme.register("memwall", enable=True)
def _memwall_theme() -> alt.theme.ThemeConfig:
    return {
        "config": {
            "view": {"continuousWidth": 460, "continuousHeight": 300, "stroke": None},
            "font": "sans-serif",
            "axis": {"labelFontSize": 12, "titleFontSize": 13, "grid": True, "gridOpacity": 0.4},
            "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "bottom", "direction": "vertical",
                       "labelLimit": 400},
            "title": {"fontSize": 15, "anchor": "start"},
            "range": {"category": list(PALETTE)},
        }
    }


def log_axis(title: str) -> alt.Axis:
    """A log-scale axis with SI-prefixed tick labels (1k, 1M, 1G, ...) above 1 and plain decimals below."""
    return alt.Axis(title=title, tickCount=8, labelOverlap="greedy",
                    labelExpr="datum.value >= 1 ? format(datum.value, '~s') : format(datum.value, '~g')")


def years_to_dates(years: Sequence[float] | np.ndarray) -> pd.DatetimeIndex:
    """Fractional calendar years [year] -> timestamps (inverse of :func:`memwall.trends.decimal_year`)."""
    years = np.asarray(years, dtype=float)
    whole = np.floor(years).astype(int)
    starts = pd.to_datetime([f"{y}-01-01" for y in whole])
    lengths = np.where(starts.is_leap_year, 366.0, 365.0)
    return starts + pd.to_timedelta((years - whole) * lengths, unit="D")


def growth_chart(
    points: pd.DataFrame,
    *,
    value: str,
    series: str,
    fits: Mapping[str, GrowthFit] | None = None,
    y_title: str,
    tooltip: Sequence[str] = (),
    title: str = "",
    fit_label: str = "{name}: {per2:.2f}x / 2 yrs",
) -> alt.LayerChart:
    """Dated points on a log y axis, one colour per series, with fitted exponential lines.

    Parameters
    ----------
    points : pandas.DataFrame
        One row per point with columns ``date`` (datetime), ``value``, ``series`` and the
        ``tooltip`` columns.
    value : str
        Column plotted on the log y axis (positive).
    series : str
        Column that names each point's series (colour).
    fits : mapping of str to GrowthFit, optional
        Fitted line per series name, drawn over that series' time span.
    y_title : str
        Y-axis title with unit, e.g. ``"peak [FLOP/s]"``.
    tooltip : sequence of str
        Extra columns shown on hover.
    title : str
        Chart title.
    fit_label : str
        Legend text of a series that has a fit (points and line); ``{name}``, ``{per2}`` and
        ``{per20}`` are filled in.

    Returns
    -------
    altair.LayerChart

    Raises
    ------
    ValueError
        If ``value`` holds a non-positive number (it cannot go on a log axis) or a column is missing.
    """
    needed = ["date", value, series, *tooltip]
    missing = [c for c in needed if c not in points.columns]
    if missing:
        raise ValueError(f"points lacks column(s) {missing}; has {list(points.columns)}")
    if (points[value] <= 0).any():
        raise ValueError(f"column {value!r} has non-positive values; a log axis needs > 0")
    data = points[list(dict.fromkeys(needed))].copy()
    labels = {name: fit_label.format(name=name, per2=fit.per_2_years, per20=fit.per_20_years)
              for name, fit in (fits or {}).items()}
    data[series] = data[series].map(lambda s: labels.get(s, s))
    colour = alt.Color(f"{series}:N", title=None)
    base = alt.Chart(data).mark_point(filled=True, size=55, opacity=0.85).encode(
        x=alt.X("date:T", title="release date"),
        y=alt.Y(f"{value}:Q", scale=alt.Scale(type="log"), axis=log_axis(y_title)),
        color=colour,
        # with fit lines the legend comes from the colour (lines + points); without, colour and shape merge
        shape=alt.Shape(f"{series}:N", legend=None) if fits else alt.Shape(f"{series}:N", title=None),
        tooltip=[alt.Tooltip("date:T", format="%Y-%m-%d"), alt.Tooltip(f"{value}:Q", format=".4~s"),
                 *[t for t in tooltip if t != series]],
    )
    layers: list[alt.Chart] = [base]
    if fits:
        rows = []
        for name, fit in fits.items():
            years = np.array([fit.first_year, fit.last_year])
            for d, v in zip(years_to_dates(years), fit.predict(years), strict=True):
                rows.append({"date": d, value: v, series: labels[name]})
        lines = alt.Chart(pd.DataFrame(rows)).mark_line(strokeWidth=6, opacity=0.35).encode(
            x="date:T", y=alt.Y(f"{value}:Q", scale=alt.Scale(type="log")), color=colour,
            tooltip=[alt.Tooltip(f"{series}:N", title="fit")],
        )
        layers.insert(0, lines)
    return alt.layer(*layers).properties(title=title)


def balance_chart(balance: pd.DataFrame, *, fit: GrowthFit | None = None, title: str = "") -> alt.LayerChart:
    """Machine balance (ridge point) of each device over time, log y, coloured by kind.

    Parameters
    ----------
    balance : pandas.DataFrame
        Table from :func:`memwall.hardware.machine_balance`.
    fit : GrowthFit, optional
        Trend of the balance, drawn as a line over its time span (rate in its tooltip).
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
    """
    data = balance[["device", "kind", "date", "precision", "balance_flop_per_byte", "peak_flop_per_s",
                    "bandwidth_bytes_per_s", "source_url"]]
    layers = []
    if fit is not None:
        years = np.array([fit.first_year, fit.last_year])
        line = pd.DataFrame({"date": years_to_dates(years), "balance_flop_per_byte": fit.predict(years),
                             "fit": f"trend: {fit.per_2_years:.2f}x / 2 yrs"})
        layers.append(alt.Chart(line).mark_line(strokeWidth=6, opacity=0.3, color="#555").encode(
            x="date:T", y=alt.Y("balance_flop_per_byte:Q", scale=alt.Scale(type="log")), tooltip=["fit:N"]))
    points = alt.Chart(data).mark_point(filled=True, size=60).encode(
        x=alt.X("date:T", title="release date"),
        y=alt.Y("balance_flop_per_byte:Q", scale=alt.Scale(type="log"),
                axis=log_axis("machine balance = peak / DRAM bandwidth [FLOP/B]")),
        color=alt.Color("kind:N", title="kind"),
        shape=alt.Shape("kind:N", title="kind"),
        tooltip=["device:N", alt.Tooltip("date:T", format="%Y-%m"), "precision:N",
                 alt.Tooltip("balance_flop_per_byte:Q", format=".3~s", title="balance [FLOP/B]"),
                 alt.Tooltip("peak_flop_per_s:Q", format=".3~s", title="peak [FLOP/s]"),
                 alt.Tooltip("bandwidth_bytes_per_s:Q", format=".3~s", title="bandwidth [B/s]"), "source_url:N"],
    )
    return alt.layer(*layers, points).properties(title=title)


def ratio_chart(table: pd.DataFrame, *, ratio: str, series: str, label: str, y_title: str,
                title: str = "") -> alt.LayerChart:
    """Dated ratios on a log axis around a reference line at 1 (e.g. actual / extrapolated trend).

    Parameters
    ----------
    table : pandas.DataFrame
        Rows with ``date``, ``ratio``, ``series`` and ``label`` columns.
    ratio : str
        Column of positive ratios [x].
    series : str
        Column naming each point's group (colour).
    label : str
        Column shown first in the tooltip (e.g. the device).
    y_title : str
        Y-axis title.
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart

    Raises
    ------
    ValueError
        If ``ratio`` holds a non-positive number.
    """
    if (table[ratio] <= 0).any():
        raise ValueError(f"column {ratio!r} has non-positive values; a log axis needs > 0")
    data = table[["date", ratio, series, label]]
    ticks = [v for v in (0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100)
             if data[ratio].min() / 3 <= v <= data[ratio].max() * 3]
    points = alt.Chart(data).mark_point(filled=True, size=60).encode(
        x=alt.X("date:T", title="release date", axis=alt.Axis(format="%Y-%m")),
        y=alt.Y(f"{ratio}:Q", scale=alt.Scale(type="log"), axis=alt.Axis(title=y_title, values=ticks, format="~g")),
        color=alt.Color(f"{series}:N", title=None),
        shape=alt.Shape(f"{series}:N", title=None),
        tooltip=[f"{label}:N", alt.Tooltip("date:T", format="%Y-%m"), alt.Tooltip(f"{ratio}:Q", format=".2f")],
    )
    rule = alt.Chart(pd.DataFrame({"y": [1.0]})).mark_rule(strokeDash=[4, 4], color="#555").encode(y="y:Q")
    return alt.layer(rule, points).properties(title=title)


def sweep_chart(sweep: pd.DataFrame, *, metric: str, y_title: str, published: pd.DataFrame | None = None,
                title: str = "") -> alt.LayerChart:
    """A quantity against sequence length, one line per model, with published points overlaid.

    Parameters
    ----------
    sweep : pandas.DataFrame
        Rows with ``model``, ``seq_len`` [tokens] and the column ``metric`` (our values, drawn as lines).
    metric : str
        Column plotted on the log y axis (positive).
    y_title : str
        Y-axis title with unit.
    published : pandas.DataFrame, optional
        Rows with ``model``, ``seq_len`` and ``published_value`` in the same unit (drawn as hollow points).
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart

    Raises
    ------
    ValueError
        If ``metric`` holds a non-positive number.
    """
    if (sweep[metric] <= 0).any():
        raise ValueError(f"column {metric!r} has non-positive values; a log axis needs > 0")
    x = alt.X("seq_len:Q", scale=alt.Scale(type="log", base=2), title="sequence length l [tokens]",
              axis=alt.Axis(values=sorted(sweep["seq_len"].unique().tolist())))
    colour = alt.Color("model:N", title=None)
    lines = alt.Chart(sweep[["model", "seq_len", metric]]).mark_line(point=True).encode(
        x=x, y=alt.Y(f"{metric}:Q", scale=alt.Scale(type="log"), axis=log_axis(y_title)), color=colour,
        tooltip=["model:N", "seq_len:Q", alt.Tooltip(f"{metric}:Q", format=".4~s", title=f"ours: {metric}")],
    )
    layers: list[alt.Chart] = [lines]
    if published is not None and len(published):
        pts = alt.Chart(published[["model", "seq_len", "published_value"]].assign(source="published")).mark_point(
            size=120, filled=False, strokeWidth=2, shape="diamond").encode(
            x=x, y=alt.Y("published_value:Q", scale=alt.Scale(type="log")), color=colour,
            tooltip=["model:N", "seq_len:Q", alt.Tooltip("published_value:Q", title="published")],
        )
        layers.append(pts)
    return alt.layer(*layers).properties(title=title)


def share_chart(breakdown: pd.DataFrame, *, share: str, title: str = "") -> alt.Chart:
    """Stacked bars: each operation category's share of a model's total, per sequence length.

    Parameters
    ----------
    breakdown : pandas.DataFrame
        Output of :func:`memwall.survey.category_breakdown`.
    share : {"flops_share", "bytes_share"}
        Which share to stack.
    title : str
        Chart title.

    Returns
    -------
    altair.Chart
        Faceted by model (columns).
    """
    if share not in ("flops_share", "bytes_share"):
        raise ValueError(f"share={share!r} is not known; allowed: flops_share, bytes_share")
    label = "share of FLOPs" if share == "flops_share" else "share of bytes moved (MOPs)"
    data = breakdown[["model", "seq_len", "category", share, "intensity"]]
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("seq_len:O", title="l [tokens]"),
        y=alt.Y(f"{share}:Q", stack="normalize", axis=alt.Axis(format="%", title=label)),
        color=alt.Color("category:N", title="operation category"),
        tooltip=["model:N", "seq_len:O", "category:N", alt.Tooltip(f"{share}:Q", format=".1%"),
                 alt.Tooltip("intensity:Q", format=".3~f", title="intensity [FLOP/B]")],
    ).properties(width=120, height=220).facet(column=alt.Column("model:N", title=None)).properties(title=title)


def op_explorer_chart(ops: pd.DataFrame, *, title: str = "") -> alt.VConcatChart:
    """Interactive per-operation chart: dropdowns choose model, phase and precision.

    Parameters
    ----------
    ops : pandas.DataFrame
        One row per (model, phase, precision, op) with ``category``, ``flops`` [FLOP], ``bytes`` [B]
        and ``intensity`` [FLOP/B] (e.g. from :func:`memwall.cost.cost_table` over a small grid).
    title : str
        Chart title.

    Returns
    -------
    altair.VConcatChart
        A dot per operation (intensity on a log axis) above stacked bars of the FLOP and byte shares,
        filtered by three dropdowns; works in a static page (the selection runs in the browser).
    """
    def pick(column: str, name: str) -> alt.Parameter:
        options = list(dict.fromkeys(ops[column]))
        return alt.param(name=name, value=options[0], bind=alt.binding_select(options=options, name=f"{column} "))

    p_model, p_phase, p_prec = pick("model", "model_pick"), pick("phase", "phase_pick"), pick("precision", "prec_pick")
    cols = ["model", "phase", "precision", "op", "category", "flops", "bytes", "intensity"]
    base = alt.Chart(ops[cols]).transform_filter(
        (alt.datum.model == p_model) & (alt.datum.phase == p_phase) & (alt.datum.precision == p_prec))
    order = list(dict.fromkeys(ops["op"]))
    tooltip = ["op:N", "category:N", alt.Tooltip("flops:Q", format=".3~s", title="FLOPs"),
               alt.Tooltip("bytes:Q", format=".3~s", title="bytes"),
               alt.Tooltip("intensity:Q", format=".3~f", title="intensity [FLOP/B]")]
    intensity = base.mark_circle(size=90, opacity=0.9).encode(
        y=alt.Y("op:N", sort=order, title=None),
        x=alt.X("intensity:Q", scale=alt.Scale(type="log"), axis=log_axis("arithmetic intensity [FLOP/B]")),
        color=alt.Color("category:N", title="operation category"), tooltip=tooltip,
    ).add_params(p_model, p_phase, p_prec).properties(height=260, title=title)
    shares = base.transform_fold(["flops", "bytes"], as_=["quantity", "amount"]).mark_bar().encode(
        y=alt.Y("quantity:N", title=None),
        x=alt.X("amount:Q", stack="normalize", axis=alt.Axis(format="%", title="share of the model total")),
        color=alt.Color("category:N", title="operation category"), tooltip=tooltip,
    ).properties(height=70)
    return alt.vconcat(intensity, shares)


def gemv_chart(sweep: pd.DataFrame, *, peak_flop_per_s: float, bandwidth_bytes_per_s: float,
               title: str = "") -> alt.LayerChart:
    """Measured matrix-product throughput against batch size, under the roofline bound.

    Parameters
    ----------
    sweep : pandas.DataFrame
        Output of :func:`memwall.measure.gemv_gemm_sweep`: ``batch``, ``intensity_flop_per_byte``
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


def fit_matrix_chart(table: pd.DataFrame, *, title: str = "") -> alt.Chart:
    """Heat map: the widest weight format in which each model fits each device.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`memwall.model_growth.widest_fitting_format`.
    title : str
        Chart title.

    Returns
    -------
    altair.Chart
    """
    order = ["fp16", "int8", "int4", "none"]
    data = table[["name", "device", "widest_fitting", "total_params_billion", "device_memory_gb"]]
    base = alt.Chart(data).encode(
        x=alt.X("device:N", title=None, sort=None, axis=alt.Axis(labelAngle=-40, labelLimit=120)),
        y=alt.Y("name:N", title=None, sort=alt.EncodingSortField("total_params_billion", order="ascending")),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("widest_fitting:N", title="widest format that fits",
                        scale=alt.Scale(domain=order, range=["#009E73", "#56B4E9", "#E69F00", "#D55E00"])),
        tooltip=["name:N", "device:N", "widest_fitting:N",
                 alt.Tooltip("total_params_billion:Q", title="params [B]"),
                 alt.Tooltip("device_memory_gb:Q", format=".1f", title="device memory [GB]")],
    )
    text = base.mark_text(fontSize=9).encode(text="widest_fitting:N")
    return (cells + text).properties(title=title, width=alt.Step(34), height=alt.Step(20))


def memory_bars_chart(bars: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """The paper's training-memory bars beside ours, stacked by part, with the GPU-limit steps.

    Parameters
    ----------
    bars : pandas.DataFrame
        Long table: ``model`` (in plot order), ``source`` ("paper" or "ours"), ``part``, ``gb`` [GB] and
        ``gpu_limit_gb`` [GB].
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
    """
    order = list(dict.fromkeys(bars["model"]))
    x = alt.X("model:N", sort=order, title=None, axis=alt.Axis(labelAngle=-30))
    stacks = alt.Chart(bars).mark_bar().encode(
        x=x, xOffset=alt.XOffset("source:N", sort=["paper", "ours"]),
        y=alt.Y("sum(gb):Q", title="training memory [GB]"),
        color=alt.Color("part:N", title=None), opacity=alt.Opacity("source:N", sort=["paper", "ours"],
                                                                      scale=alt.Scale(range=[0.55, 1.0])),
        tooltip=["model:N", "source:N", "part:N", alt.Tooltip("gb:Q", format=".2f", title="GB")],
    )
    limits = bars.drop_duplicates("model")[["model", "gpu_limit_gb"]]
    steps = alt.Chart(limits).mark_tick(color="#000", thickness=2, size=22, strokeDash=[4, 2]).encode(
        x=x, y="gpu_limit_gb:Q", tooltip=["model:N", alt.Tooltip("gpu_limit_gb:Q", title="GPU limit [GB]")])
    return alt.layer(stacks, steps).properties(title=title, width=460)


def training_calculator_chart(grid: pd.DataFrame, devices: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Interactive per-GPU training memory: dropdowns for model, sequence, ZeRO stage, GPUs, recomputation, device.

    Parameters
    ----------
    grid : pandas.DataFrame
        Output of :func:`memwall.training_memory.calculator_grid`.
    devices : pandas.DataFrame
        ``device`` and ``memory_gb`` [GB] of the devices offered as the capacity line.
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        Stacked bars of GB per GPU against micro-batch, and the chosen device's capacity as a rule.
    """
    def pick(column: str, name: str, label: str, frame: pd.DataFrame = grid) -> alt.Parameter:
        options = list(dict.fromkeys(frame[column].tolist()))
        return alt.param(name=name, value=options[0], bind=alt.binding_select(options=options, name=label))

    params = [pick("model", "m_pick", "model "), pick("seq_len", "s_pick", "sequence [tokens] "),
              pick("zero_stage", "z_pick", "ZeRO stage "), pick("n_gpus", "g_pick", "GPUs "),
              pick("recompute", "r_pick", "recomputation "), pick("device", "d_pick", "device ", devices)]
    m, s, z, g, r, d = params
    parts = {"weights": 0, "gradients": 1, "optimizer": 2, "activations": 3}
    bars = alt.Chart(grid.assign(part_order=grid["part"].map(parts))).transform_filter(
        (alt.datum.model == m) & (alt.datum.seq_len == s) & (alt.datum.zero_stage == z)
        & (alt.datum.n_gpus == g) & (alt.datum.recompute == r)
    ).mark_bar().encode(
        x=alt.X("micro_batch:O", title="micro-batch per GPU [sequences]"),
        y=alt.Y("sum(gb):Q", title="memory per GPU [GB]"),
        color=alt.Color("part:N", title=None, sort=["weights", "gradients", "optimizer", "activations"]),
        order=alt.Order("part_order:Q"),
        tooltip=["part:N", "micro_batch:O", alt.Tooltip("gb:Q", format=".2f", title="GB")],
    )
    cap = alt.Chart(devices).transform_filter(alt.datum.device == d).mark_rule(
        color="#D55E00", strokeWidth=2, strokeDash=[6, 3]).encode(
        y="memory_gb:Q", tooltip=["device:N", alt.Tooltip("memory_gb:Q", format=".1f", title="capacity [GB]")])
    return alt.layer(bars, cap).add_params(*params).properties(title=title, width=320)


def quantization_chart(table: pd.DataFrame, *, title: str = "") -> alt.Chart:
    """Batch-1 decode time per token by model, with a device dropdown and a weight-bits slider.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`memwall.serving.quantization_table` for weight-only schemes (16, 8 and 4 bits).
    title : str
        Chart title.

    Returns
    -------
    altair.Chart
        A point per model at its ms per token [ms] on a fixed log axis, coloured by whether the model
        fits the device; the slider sets ``log2(weight bits)`` (2, 3, 4 = 4, 8, 16 bits).
    """
    devices = list(dict.fromkeys(table["device"]))
    p_dev = alt.param(name="q_device", value=devices[0], bind=alt.binding_select(options=devices, name="device "))
    p_bits = alt.param(name="q_log2bits", value=4, bind=alt.binding_range(min=2, max=4, step=1,
                                                                           name="log2(weight bits) "))
    data = table[["model", "device", "scheme", "weight_bits", "ms_per_token", "footprint_gb", "memory_gb", "fits"]]
    # a fixed log axis over every device and width: each halving of the bits moves a point the same distance
    lo, hi = float(data["ms_per_token"].min()) / 1.5, float(data["ms_per_token"].max()) * 1.5
    return alt.Chart(data).transform_filter(
        (alt.datum.device == p_dev) & (alt.datum.weight_bits == alt.expr.pow(2, p_bits))
    ).mark_point(filled=True, size=140).encode(
        y=alt.Y("model:N", title=None, sort=None),
        x=alt.X("ms_per_token:Q", scale=alt.Scale(type="log", domain=[lo, hi]),
                axis=log_axis("decode time per token, batch 1 [ms] (roofline bound)")),
        color=alt.Color("fits:N", title="fits in memory", scale=alt.Scale(domain=[True, False],
                                                                             range=["#009E73", "#D55E00"])),
        tooltip=["model:N", "device:N", "scheme:N", alt.Tooltip("ms_per_token:Q", format=".2f"),
                 alt.Tooltip("footprint_gb:Q", format=".1f", title="footprint [GB]"),
                 alt.Tooltip("memory_gb:Q", format=".1f", title="device memory [GB]")],
    ).add_params(p_dev, p_bits).properties(title=title, width=420)


def frontier_chart(grid: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Throughput against latency as the batch grows; dropdown for the device, sliders for context and batch.

    Parameters
    ----------
    grid : pandas.DataFrame
        Output of :func:`memwall.serving.frontier_grid` (contexts should be powers of two).
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        The frontier line (points that do not fit in memory in red) and the selected batch ``2**k``
        highlighted.
    """
    devices = list(dict.fromkeys(grid["device"]))
    ctx = np.log2(sorted(grid["context"].unique()))
    p_dev = alt.param(name="f_device", value=devices[0], bind=alt.binding_select(options=devices, name="device "))
    p_ctx = alt.param(name="f_log2ctx", value=int(ctx[0]),
                      bind=alt.binding_range(min=int(ctx.min()), max=int(ctx.max()), step=1, name="log2(context) "))
    p_k = alt.param(name="f_log2batch", value=0, bind=alt.binding_range(min=int(grid["k"].min()),
                                                                      max=int(grid["k"].max()), step=1,
                                                                      name="log2(batch) "))
    base = alt.Chart(grid).transform_filter(
        (alt.datum.device == p_dev) & (alt.datum.context == alt.expr.pow(2, p_ctx)))
    x = alt.X("ms_per_token:Q", scale=alt.Scale(type="log"), axis=log_axis("time per output token [ms]"))
    y = alt.Y("tokens_per_s:Q", scale=alt.Scale(type="log"), axis=log_axis("throughput [tokens/s per device]"))
    tip = ["batch:Q", "context:Q", alt.Tooltip("tokens_per_s:Q", format=".3~s"),
           alt.Tooltip("ms_per_token:Q", format=".2f"), alt.Tooltip("footprint_gb:Q", format=".1f"), "fits:N"]
    line = base.mark_line(color="#888").encode(x=x, y=y, order="batch:Q")
    dots = base.mark_point(filled=True, size=50).encode(
        x=x, y=y, color=alt.Color("fits:N", title="fits in memory",
                                  scale=alt.Scale(domain=[True, False], range=["#0072B2", "#D55E00"])),
        tooltip=tip)
    chosen = base.transform_filter(alt.datum.k == p_k).mark_point(size=260, strokeWidth=3, color="#000").encode(
        x=x, y=y, tooltip=tip)
    return alt.layer(line, dots, chosen).add_params(p_dev, p_ctx, p_k).properties(title=title, width=440)


def _ridge_rules(ridges: pd.DataFrame) -> alt.Chart:
    """Dashed horizontal rules at each device's ridge point (``device``, ``ridge_flop_per_byte``)."""
    return alt.Chart(ridges[["device", "ridge_flop_per_byte"]]).mark_rule(strokeDash=[5, 4], color="#555").encode(
        y="ridge_flop_per_byte:Q",
        tooltip=["device:N", alt.Tooltip("ridge_flop_per_byte:Q", format=".0f", title="ridge [FLOP/B]")])


def decode_intensity_chart(grid: pd.DataFrame, ridges: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Decode-step intensity against context length, one line per model; a slider picks the batch.

    Parameters
    ----------
    grid : pandas.DataFrame
        Output of :func:`memwall.moe.decode_step_grid` with power-of-two batches.
    ridges : pandas.DataFrame
        ``device`` and ``ridge_flop_per_byte`` [FLOP/B], drawn as dashed rules.
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        Lines of ``intensity`` [FLOP/B] over ``context`` [tokens] (log-log, fixed axes) for the batch
        ``2**k`` chosen by the slider.
    """
    ks = np.log2(sorted(grid["batch"].unique()))
    p_k = alt.param(name="dv_log2batch", value=0, bind=alt.binding_range(
        min=int(ks.min()), max=int(ks.max()), step=1, name="log2(batch) "))
    data = grid[["model", "context", "batch", "intensity", "flops", "bytes"]]
    lo = min(float(data["intensity"].min()), float(ridges["ridge_flop_per_byte"].min())) / 1.5
    hi = max(float(data["intensity"].max()), float(ridges["ridge_flop_per_byte"].max())) * 1.5
    y = alt.Y("intensity:Q", scale=alt.Scale(type="log", domain=[lo, hi]),
              axis=log_axis("decode-step intensity [FLOP/B]"))
    lines = alt.Chart(data).transform_filter(alt.datum.batch == alt.expr.pow(2, p_k)).mark_line(point=True).encode(
        x=alt.X("context:Q", scale=alt.Scale(type="log", base=2), axis=log_axis("cached tokens per sequence")),
        y=y, color=alt.Color("model:N", title=None),
        tooltip=["model:N", "context:Q", "batch:Q", alt.Tooltip("intensity:Q", format=".3~f"),
                 alt.Tooltip("flops:Q", format=".3~s", title="FLOPs"),
                 alt.Tooltip("bytes:Q", format=".3~s", title="bytes")],
    ).add_params(p_k)
    return alt.layer(_ridge_rules(ridges), lines).properties(title=title, width=440)


def moe_batch_chart(grid: pd.DataFrame, ridges: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """MoE vs dense decode intensity against batch; a dropdown picks the model pair, a slider the context.

    Parameters
    ----------
    grid : pandas.DataFrame
        Output of :func:`memwall.moe.decode_step_grid` with an added ``pair`` column (which MoE a row
        belongs to) and power-of-two contexts.
    ridges : pandas.DataFrame
        ``device`` and ``ridge_flop_per_byte`` [FLOP/B].
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        Lines of ``intensity`` [FLOP/B] over ``batch`` [sequences] (log-log, fixed axes).
    """
    pairs = list(dict.fromkeys(grid["pair"]))
    cs = np.log2(sorted(grid["context"].unique()))
    p_pair = alt.param(name="moe_pair", value=pairs[0], bind=alt.binding_select(options=pairs, name="model "))
    p_ctx = alt.param(name="moe_log2ctx", value=int(cs.min()), bind=alt.binding_range(
        min=int(cs.min()), max=int(cs.max()), step=1, name="log2(context) "))
    data = grid[["pair", "model", "context", "batch", "intensity", "distinct_experts", "weight_bytes"]]
    lo = min(float(data["intensity"].min()), float(ridges["ridge_flop_per_byte"].min())) / 1.5
    hi = max(float(data["intensity"].max()), float(ridges["ridge_flop_per_byte"].max())) * 1.5
    lines = alt.Chart(data).transform_filter(
        (alt.datum.pair == p_pair) & (alt.datum.context == alt.expr.pow(2, p_ctx))).mark_line(point=True).encode(
        x=alt.X("batch:Q", scale=alt.Scale(type="log", base=2), axis=log_axis("batch [sequences]")),
        y=alt.Y("intensity:Q", scale=alt.Scale(type="log", domain=[lo, hi]),
                axis=log_axis("decode-step intensity [FLOP/B]")),
        color=alt.Color("model:N", title=None),
        tooltip=["model:N", "batch:Q", "context:Q", alt.Tooltip("intensity:Q", format=".3~f"),
                 alt.Tooltip("distinct_experts:Q", format=".1f", title="experts touched per layer"),
                 alt.Tooltip("weight_bytes:Q", format=".3~s", title="weight bytes")],
    ).add_params(p_pair, p_ctx)
    return alt.layer(_ridge_rules(ridges), lines).properties(title=title, width=440)
