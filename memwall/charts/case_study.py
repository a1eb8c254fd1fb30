"""Charts of the survey's case study: length sweeps, category shares, the per-operation explorer."""

from __future__ import annotations

import altair as alt
import pandas as pd

from memwall.charts.theme import log_axis, require_positive

__all__ = ["op_explorer_chart", "share_chart", "sweep_chart"]



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
    require_positive(sweep, metric)
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
        Output of :func:`memwall.wall.case_study.category_breakdown`.
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
