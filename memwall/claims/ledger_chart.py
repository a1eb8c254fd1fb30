"""The reproduction report's chart: our value over the paper's for every numeric claim, one band per chapter."""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from memwall.charts import theme
from memwall.claims.core import STATUSES, UNEXPLAINED, chapters
from memwall.claims.ledger import ledger
from memwall.claims.render import STATUS_COLOURS, chapter_title, our_value

__all__ = ["CHART_ROW_PX", "claims_chart"]

CHART_ROW_PX = 40
"""Height of one chapter's band in :func:`claims_chart` [px]: its title on top, its points below."""


def claims_chart(table: pd.DataFrame | None = None, *, title: str = "") -> alt.LayerChart:
    """Our value over the paper's for every numeric claim, log scale, coloured by status.

    One band per chapter, its title written at the top of the band (so the plot keeps the whole width on a
    phone), its claims as points below it (spread vertically at random, so that equal ratios stay visible).
    A dashed line marks ours = paper. The chart takes the width of the page's column.

    Parameters
    ----------
    table : pandas.DataFrame, optional
        A ledger (default: the whole ledger).
    title : str
        Chart title; leave it empty in the book (the figure's caption says what the chart shows).

    Returns
    -------
    altair.LayerChart
        Layers: the ours = paper rule, its label, the chapters' titles, the points (x = ours / paper [x],
        log axis labelled at the decades).

    Raises
    ------
    ValueError
        If the ledger holds no numeric claim with positive paper and own values.
    """
    table = ledger() if table is None else table
    num = table[(table["kind"] == "number")].copy()
    num["ours"] = [our_value(r) for _, r in num.iterrows()]
    num = num[(num["paper_value"] > 0) & (num["ours"] > 0)]
    if num.empty:
        raise ValueError("claims_chart: the ledger holds no numeric claim with positive paper and own values")
    num["ratio"] = num["ours"] / num["paper_value"]
    num["chapter_title"] = num["chapter"].map(chapter_title)
    order = [chapter_title(c) for c in chapters() if chapter_title(c) in set(num["chapter_title"])]
    order += [t for t in dict.fromkeys(num["chapter_title"]) if t not in order]
    present = set(num["status"])
    domain = [s for s in (*STATUSES, UNEXPLAINED) if s in present]
    lo = 10.0 ** math.floor(math.log10(min(num["ratio"].min(), 1.0)))
    hi = 10.0 ** math.ceil(math.log10(max(num["ratio"].max(), 1.0)))
    if lo == hi:
        lo, hi = lo / 10, hi * 10
    x_scale = alt.Scale(type="log", domain=[lo, hi])
    y = alt.Y("chapter_title:N", sort=order, title=None,
              axis=alt.Axis(labels=False, ticks=False, domain=False, grid=True, gridOpacity=0.4, bandPosition=0),
              scale=alt.Scale(paddingInner=0, paddingOuter=0))
    shown = num[["claim_id", "statement", "paper_text", "ours", "unit", "ratio", "status", "chapter_title"]]
    points = alt.Chart(shown).mark_circle(size=55, opacity=0.8).encode(
        x=alt.X("ratio:Q", scale=x_scale, axis=theme.decade_axis(np.array([lo, hi]), "ours / paper [x]")),
        y=y,
        yOffset=alt.YOffset("jitter:Q", scale=alt.Scale(domain=[0, 1], range=[17, CHART_ROW_PX - 5])),
        color=alt.Color("status:N", scale=alt.Scale(domain=domain, range=[STATUS_COLOURS[s] for s in domain]),
                        title="status", legend=alt.Legend(orient="bottom", direction="horizontal",
                                                          symbolType="circle", symbolOpacity=0.8)),
        tooltip=[alt.Tooltip("claim_id:N", title="claim"), alt.Tooltip("statement:N", title="statement"),
                 alt.Tooltip("chapter_title:N", title="chapter"),
                 alt.Tooltip("paper_text:N", title="paper"), alt.Tooltip("ours:Q", title="ours", format=".4~g"),
                 alt.Tooltip("unit:N", title="unit"),
                 alt.Tooltip("ratio:Q", title="ours / paper [x]", format=".3~g"),
                 alt.Tooltip("status:N", title="status")],
    ).transform_calculate(jitter="random()")
    # the chapters' titles, at the top left of their bands: cut with an ellipsis at the plot's width (so that
    # they never widen the chart), over a white halo where they cross the dashed line
    titles = alt.Chart(pd.DataFrame({"chapter_title": order})).encode(
        x=alt.datum(lo, scale=x_scale), y=alt.Y("chapter_title:N", sort=order, bandPosition=0, title=None),
        text="chapter_title:N")
    style = dict(align="left", baseline="top", dx=2, dy=3, fontSize=11, limit=alt.expr("width - 4"))
    labels = titles.mark_text(**style, stroke="white", strokeWidth=3, strokeOpacity=0.9) + titles.mark_text(
        **style, color="#333")
    one = alt.Chart(pd.DataFrame({"x": [1.0]}))
    rule = one.mark_rule(strokeDash=[4, 3], color="#444").encode(x=alt.X("x:Q", scale=x_scale))
    rule_label = one.mark_text(align="left", baseline="bottom", dx=3, dy=-2, fontSize=11, color="#444").encode(
        x=alt.X("x:Q", scale=x_scale), y=alt.value(0), text=alt.value("ours = paper"))
    chart = alt.layer(rule, labels, points, rule_label)
    chart = theme.responsive(chart, height=CHART_ROW_PX * len(order))
    return chart.properties(title=title) if title else chart
