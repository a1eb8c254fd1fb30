"""Charts of the survey's case study: length sweeps, category shares, the per-operation explorer.

Operation categories are the codes of :data:`memwall.cost.CATEGORIES`, shown under their reader's names
(:func:`memwall.charts.palette.category_label`) and coloured by the book-wide palette, in the same order on
every chart.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from memwall.charts import palette
from memwall.charts.theme import (
    FIT_CONTAINER,
    POW2_LABEL,
    decade_axis,
    pow2_axis,
    require_columns,
    require_positive,
    responsive,
)

__all__ = ["category_colour", "op_explorer_chart", "share_chart", "sweep_chart"]

CATEGORIES: tuple[str, ...] = tuple(palette.CATEGORY_LABELS)
"""The operation categories in the book's order: those of :data:`memwall.cost.CATEGORIES` (a test checks it;
charts import no computing module)."""

CATEGORY_TITLE = "operation category"
"""Legend title of every operation-category colour."""


def category_colour(*, legend: alt.Legend | None = None) -> alt.Color:
    """The colour channel of an operation category: field ``category_name``, book palette, CATEGORIES order.

    Parameters
    ----------
    legend : altair.Legend, optional
        Legend of the channel (default: titled "operation category", one column: two would not fit a phone).

    Returns
    -------
    altair.Color
        For data whose ``category_name`` column holds :func:`memwall.charts.palette.category_label` names.
    """
    names = [palette.category_label(c) for c in CATEGORIES]
    return alt.Color("category_name:N", scale=palette.colour_scale(names), sort=names,
                     legend=legend if legend is not None else alt.Legend(title=CATEGORY_TITLE))


def _with_category_names(table: pd.DataFrame, what: str) -> pd.DataFrame:
    """``table`` plus ``category_name`` (reader's name) and ``category_rank`` (position in CATEGORIES)."""
    unknown = sorted(set(table["category"].astype(str)) - set(CATEGORIES))
    if unknown:
        raise ValueError(f"{what}: unknown operation categories {unknown}; allowed: {', '.join(CATEGORIES)}")
    rank = {c: i for i, c in enumerate(CATEGORIES)}
    return table.assign(category_name=table["category"].map(palette.category_label),
                        category_rank=table["category"].map(rank))


def _stack_order(*, horizontal: bool = False) -> alt.Order:
    # the first category of CATEGORIES at the top of an upright bar (left of a horizontal one), as in the legend
    return alt.Order("category_rank:Q", sort="ascending" if horizontal else "descending")


def sweep_chart(sweep: pd.DataFrame, *, metric: str, y_title: str, published: pd.DataFrame | None = None,
                published_label: str = "published", title: str = "", height: int = 300) -> alt.LayerChart:
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
        Rows with ``model``, ``seq_len`` and ``published_value`` in the same unit (drawn as hollow diamonds
        in the model's colour).
    published_label : str
        Legend entry of the hollow diamonds.
    title : str
        In-chart title; the book leaves it empty and puts the title in the figure's caption.
    height : int
        Height of the plotting area [px].

    Returns
    -------
    altair.LayerChart
        Width of the page's column; sequence lengths on a base-2 axis (128 ... 1k 2k 4k), the metric on a
        log axis labelled at its decades; one legend of models (lines), one of the published points.

    Raises
    ------
    ValueError
        If a column is missing or ``metric`` (or ``published_value``) holds a non-positive number.
    """
    require_columns(sweep, ["model", "seq_len", metric], "sweep")
    require_positive(sweep, metric)
    values = [sweep[metric].to_numpy(dtype=float)]
    has_published = published is not None and len(published) > 0
    if has_published:
        require_columns(published, ["model", "seq_len", "published_value"], "published")
        require_positive(published, "published_value")
        values.append(published["published_value"].to_numpy(dtype=float))
    models = list(dict.fromkeys(sweep["model"].astype(str)))
    if has_published:
        models += [m for m in dict.fromkeys(published["model"].astype(str)) if m not in models]
    lengths = sweep["seq_len"].to_numpy(dtype=float)
    x = alt.X("seq_len:Q", scale=alt.Scale(type="log", base=2), axis=pow2_axis(lengths, "sequence length l [tokens]"))
    y_scale = alt.Scale(type="log")
    colour = alt.Color("model:N", scale=palette.colour_scale(models), sort=models,
                       legend=alt.Legend(title="model (lines: ours)", symbolType="stroke", symbolStrokeWidth=3))
    length_tip = alt.Tooltip("seq_len:Q", title="sequence length [tokens]", format=",")
    lines = alt.Chart(sweep[["model", "seq_len", metric]]).mark_line(point=True).encode(
        x=x, y=alt.Y(f"{metric}:Q", scale=y_scale, axis=decade_axis(np.concatenate(values), y_title)),
        color=colour,
        tooltip=[alt.Tooltip("model:N", title="model"), length_tip,
                 alt.Tooltip(f"{metric}:Q", format=",.3~r", title=f"ours: {y_title}")],
    )
    layers: list[alt.Chart] = [lines]
    if has_published:
        pts = alt.Chart(published[["model", "seq_len", "published_value"]].assign(source=published_label)).mark_point(
            size=120, filled=False, strokeWidth=2).encode(
            x=x, y=alt.Y("published_value:Q", scale=y_scale), color=colour,
            shape=alt.Shape("source:N", scale=alt.Scale(domain=[published_label], range=["diamond"]),
                            legend=alt.Legend(title=None, symbolStrokeColor="#333", symbolFillColor="transparent",
                                              symbolStrokeWidth=2, symbolSize=120)),
            tooltip=[alt.Tooltip("model:N", title="model"), length_tip,
                     alt.Tooltip("published_value:Q", format=",.3~r", title=f"{published_label}: {y_title}")],
        )
        layers.append(pts)
    chart = responsive(alt.layer(*layers), height)
    return chart.properties(title=title) if title else chart


def share_chart(breakdown: pd.DataFrame, *, share: str, title: str = "", panel_width: int = 125,
                height: int = 220) -> alt.FacetChart:
    """Stacked bars: each operation category's share of a model's total, per sequence length.

    Parameters
    ----------
    breakdown : pandas.DataFrame
        Output of :func:`memwall.wall.case_study.category_breakdown` (``model``, ``seq_len`` [tokens],
        ``category``, the share column and ``intensity`` [FLOP/B]).
    share : {"flops_share", "bytes_share"}
        Which share to stack.
    title : str
        In-chart title; the book leaves it empty and puts the title in the figure's caption.
    panel_width, height : int
        Size of one model's panel [px]; two panels and the axis fit a 390 px phone.

    Returns
    -------
    altair.FacetChart
        One panel per model (columns), one bar per sequence length (labels 128, 512, 4k), categories stacked
        in :data:`memwall.cost.CATEGORIES` order.

    Raises
    ------
    ValueError
        If ``share`` is unknown, a column is missing or a category is not one of CATEGORIES.
    """
    if share not in ("flops_share", "bytes_share"):
        raise ValueError(f"share={share!r} is not known; allowed: flops_share, bytes_share")
    require_columns(breakdown, ["model", "seq_len", "category", share, "intensity"], "breakdown")
    label = "share of FLOPs" if share == "flops_share" else "share of bytes moved"
    data = _with_category_names(breakdown[["model", "seq_len", "category", share, "intensity"]], "breakdown")
    models = list(dict.fromkeys(data["model"].astype(str)))
    chart = alt.Chart(data).mark_bar().encode(
        x=alt.X("seq_len:O", title="l [tokens]", axis=alt.Axis(labelAngle=0, labelExpr=POW2_LABEL)),
        y=alt.Y(f"{share}:Q", stack="normalize",
                axis=alt.Axis(format="%", title=label, values=[0, 0.25, 0.5, 0.75, 1])),
        color=category_colour(), order=_stack_order(),
        tooltip=[alt.Tooltip("model:N", title="model"), alt.Tooltip("seq_len:O", title="sequence length [tokens]"),
                 alt.Tooltip("category_name:N", title="category"),
                 alt.Tooltip(f"{share}:Q", format=".1%", title=label),
                 alt.Tooltip("intensity:Q", format=",.3~r", title="intensity [FLOP/B]")],
    ).properties(width=panel_width, height=height).facet(
        column=alt.Column("model:N", title=None, sort=models, header=alt.Header(labelFontSize=12)))
    return chart.properties(title=title) if title else chart


CASE_SEPARATOR = ": "
"""Between the model and the phase in the explorer's first menu ("GPT-2: decode, 512 cached")."""


def _empty_notes(data: pd.DataFrame, cases: list[str], precisions: list[str]) -> pd.DataFrame:
    """One row per (model and phase, precision) the data lack, with the text to show instead of the dots."""
    present = set(map(tuple, data[["case", "precision"]].astype(str).drop_duplicates().to_numpy()))
    rows = [{"case": c, "precision": q, "text": f"no {q} counts for {c}.\nChoose another precision."}
            for c in cases for q in precisions if (c, q) not in present]
    return pd.DataFrame(rows, columns=["case", "precision", "text"])


def op_explorer_chart(ops: pd.DataFrame, *, title: str = "", height: int = 280) -> alt.VConcatChart:
    """Interactive per-operation chart: one menu chooses model and phase together, one the precision.

    Parameters
    ----------
    ops : pandas.DataFrame
        One row per (model, phase, precision, op) with ``category``, ``flops`` [FLOP], ``bytes`` [B]
        and ``intensity`` [FLOP/B] (e.g. :func:`memwall.wall.case_study.operation_grid`). The first menu
        offers only the (model, phase) pairs the data hold, so an encoder is never offered a decode phase;
        a precision the data lack for a pair shows a message in the chart.
    title : str
        In-chart title; the book leaves it empty and puts the title in the figure's caption.
    height : int
        Height of the upper (per-operation) panel [px].

    Returns
    -------
    altair.VConcatChart
        A dot per operation (intensity on a log axis whose range is fixed over all the data, so it does
        not jump when a menu changes) above stacked bars of the FLOP and byte shares per category; both
        panels take the page's column width. Works in a static page (the selection runs in the browser).

    Raises
    ------
    ValueError
        If a column is missing, a category is unknown or no operation has a positive intensity.
    """
    cols = ["model", "phase", "precision", "op", "category", "flops", "bytes", "intensity"]
    require_columns(ops, cols, "ops")
    ops = ops.loc[ops["intensity"].to_numpy(dtype=float) > 0, cols]
    if ops.empty:
        raise ValueError("ops has no operation with a positive intensity to plot")
    data = _with_category_names(ops, "ops")
    data = data.assign(case=data["model"].astype(str) + CASE_SEPARATOR + data["phase"].astype(str))

    def options(column: str) -> list[str]:
        return list(dict.fromkeys(data[column].astype(str)))

    cases, precisions = options("case"), options("precision")

    def pick(name: str, label: str, choices: list[str]) -> alt.Parameter:
        return alt.param(name=name, value=choices[0], bind=alt.binding_select(options=choices, name=f"{label} "))

    p_case, p_prec = pick("case_pick", "model, phase", cases), pick("prec_pick", "precision", precisions)
    chosen = (alt.datum.case == p_case) & (alt.datum.precision == p_prec)
    base = alt.Chart(data).transform_filter(chosen)
    order = list(dict.fromkeys(data["op"]))
    intensities = data["intensity"].to_numpy(dtype=float)
    x_lo = float(10 ** np.floor(np.log10(intensities.min())))
    x_hi = float(10 ** np.ceil(np.log10(intensities.max())))
    colour = category_colour()
    tooltip = [alt.Tooltip("op:N", title="operation"), alt.Tooltip("category_name:N", title="category"),
               alt.Tooltip("flops:Q", format=".3~s", title="FLOPs"),
               alt.Tooltip("bytes:Q", format=".3~s", title="bytes moved [B]"),
               alt.Tooltip("intensity:Q", format=",.3~r", title="intensity [FLOP/B]")]
    dots = base.mark_circle(size=90, opacity=1).encode(
        y=alt.Y("op:N", sort=order, title=None),
        x=alt.X("intensity:Q", scale=alt.Scale(type="log", domain=[x_lo, x_hi]),
                axis=decade_axis([x_lo, x_hi], "arithmetic intensity [FLOP/B]")),
        color=colour, tooltip=tooltip,
    )
    missing = _empty_notes(data, cases, precisions)
    layers = [dots]
    if len(missing):
        layers.append(alt.Chart(missing).transform_filter(chosen).mark_text(
            align="left", baseline="top", fontSize=13, fontWeight="bold", color=palette.VERMILION, lineBreak="\n"
        ).encode(x=alt.value(6), y=alt.value(6), text="text:N"))
    upper = alt.layer(*layers).add_params(p_case, p_prec).properties(width="container", height=height)
    shares = base.transform_fold(["flops", "bytes"], as_=["quantity", "amount"]).transform_joinaggregate(
        total="sum(amount)", groupby=["quantity"]).transform_calculate(
        share="datum.amount / datum.total",
        quantity_name="datum.quantity == 'flops' ? 'FLOPs' : 'bytes moved'",
    ).mark_bar().encode(
        y=alt.Y("quantity_name:N", title=None, sort=["FLOPs", "bytes moved"]),
        x=alt.X("sum(share):Q", stack="zero", scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%", title="share of the model's total", values=[0, 0.25, 0.5, 0.75, 1])),
        color=colour, order=_stack_order(horizontal=True),
        tooltip=[alt.Tooltip("quantity_name:N", title="quantity"), alt.Tooltip("category_name:N", title="category"),
                 alt.Tooltip("sum(share):Q", format=".1%", title="share")],
    ).properties(width="container", height=70)
    chart = alt.vconcat(upper, shares, spacing=18).properties(autosize=FIT_CONTAINER)
    return chart.properties(title=title) if title else chart
