"""Interactive Altair charts of the chapter "Beyond the paper: serving and hardware".

The charts take the tables of :mod:`memwall.beyond.speculative_grid` and :mod:`memwall.beyond.tensor_parallel` and
bind Vega-Lite parameters to a dropdown and a slider, so the reader explores them in the built page
without a kernel. The tables are in SI units (seconds); the charts show milliseconds. The book's theme
comes from :mod:`memwall.charts`.
"""

from __future__ import annotations

import json

import altair as alt
import pandas as pd

from memwall.book import in_unit
from memwall.charts.theme import log_axis, require_columns

__all__ = ["speculative_chart", "tp_chart"]




def speculative_chart(grid: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Time per token against the number of drafted tokens; device dropdown, acceptance-rate slider.

    Parameters
    ----------
    grid : pandas.DataFrame
        Output of :func:`memwall.beyond.speculative_grid.speculative_grid` with acceptance rates on a 5 % grid
        (times in seconds).
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        Speculative time per token [ms] against ``k`` (``k = 0`` is plain decoding), a dashed rule
        at plain decoding and the fastest ``k`` ringed.

    Raises
    ------
    ValueError
        If a column of :func:`memwall.beyond.speculative_grid.speculative_grid` is missing.
    """
    require_columns(grid, ["device", "alpha", "k", "time_per_token_s", "plain_time_per_token_s", "speedup",
                           "tokens_per_step"], "grid")
    shown = {"time_per_token_s": "ms_per_token", "plain_time_per_token_s": "plain_ms_per_token"}
    data = grid.rename(columns=shown).assign(  # SI in, milliseconds on the chart
        **{ms: in_unit(grid[si], "ms") for si, ms in shown.items()},
        alpha_pct=(100 * grid["alpha"]).round().astype(int))
    devices = list(dict.fromkeys(data["device"]))
    pcts = sorted(data["alpha_pct"].unique())
    step = int(pcts[1] - pcts[0]) if len(pcts) > 1 else 1
    start = 80 if 80 in pcts else int(pcts[len(pcts) // 2])
    p_dev = alt.param(name="s_device", value=devices[0], bind=alt.binding_select(options=devices, name="device "))
    p_a = alt.param(name="s_alpha", value=start, bind=alt.binding_range(min=int(pcts[0]), max=int(pcts[-1]),
                                                                        step=step, name="acceptance rate α [%] "))
    base = alt.Chart(data).transform_filter((alt.datum.device == p_dev) & (alt.datum.alpha_pct == p_a))
    x = alt.X("k:Q", title="drafted tokens per target pass k (0 = plain decoding)")
    lo, hi = float(data["ms_per_token"].min()) / 1.2, float(data["ms_per_token"].max()) * 1.2
    y = alt.Y("ms_per_token:Q", scale=alt.Scale(type="log", domain=[lo, hi]),
              axis=log_axis("time per token, batch 1 [ms] (roofline bound)"))
    tip = ["device:N", "k:Q", alt.Tooltip("alpha:Q", format=".2f"),
           alt.Tooltip("tokens_per_step:Q", format=".2f", title="tokens per target pass"),
           alt.Tooltip("ms_per_token:Q", format=".2f"), alt.Tooltip("speedup:Q", format=".2f")]
    line = base.mark_line(point=True, color="#0072B2").encode(x=x, y=y, tooltip=tip)
    plain = base.transform_filter(alt.datum.k == 0).mark_rule(strokeDash=[6, 3], color="#D55E00").encode(
        y="plain_ms_per_token:Q", tooltip=[alt.Tooltip("plain_ms_per_token:Q", format=".2f", title="plain [ms]")])
    best = base.transform_joinaggregate(fastest="min(ms_per_token)").transform_filter(
        alt.datum.ms_per_token == alt.datum.fastest).mark_point(size=300, strokeWidth=3, color="#000").encode(
        x=x, y=y, tooltip=tip)
    return alt.layer(plain, line, best).add_params(p_dev, p_a).properties(title=title, width=440)


def tp_chart(grid: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Tensor-parallel time per token against the chip count; setup dropdown, batch slider.

    Parameters
    ----------
    grid : pandas.DataFrame
        Rows of :func:`memwall.beyond.tensor_parallel.tp_sweep` (times in seconds) with added columns ``setup``
        (device and link, a label) and ``log2_batch``.
    title : str
        Chart title.

    Returns
    -------
    altair.LayerChart
        Three lines on a log time axis [ms]: one chip's roofline step, the all-reduces, and their sum;
        counts whose share does not fit in one chip's memory are drawn faded.

    Raises
    ------
    ValueError
        If a column is missing.
    """
    require_columns(grid, ["setup", "log2_batch", "chips", "time_per_token_s", "step_s", "allreduce_s", "fits"], "grid")
    setups = list(dict.fromkeys(grid["setup"]))
    # One row per (setup, batch, chips) with the three times as columns, folded into lines by Vega-Lite, and the
    # setup as its index in the dropdown: the page embeds a third of the rows of a long table, without repeating
    # the setup's name in each (tests/test_reproducible.py caps the size of every chart spec).
    terms = {"total_ms": "total per token", "step_ms": "one chip's decode step",
             "allreduce_ms": "all-reduces (2 per layer)"}
    wide = pd.DataFrame({"setup_i": grid["setup"].map({s: i for i, s in enumerate(setups)}),
                         "log2_batch": grid["log2_batch"], "chips": grid["chips"], "fits": grid["fits"],
                         **{ms: in_unit(grid[si], "ms")  # SI in, milliseconds on the chart
                            for si, ms in zip(["time_per_token_s", "step_s", "allreduce_s"], terms, strict=True)}})
    p_set = alt.param(name="tp_setup", value=0, bind=alt.binding_select(options=list(range(len(setups))),
                                                                        labels=setups, name="setup "))
    p_b = alt.param(name="tp_log2batch", value=0, bind=alt.binding_range(
        min=int(grid["log2_batch"].min()), max=int(grid["log2_batch"].max()), step=1, name="log2(batch) "))
    base = (alt.Chart(wide).transform_filter((alt.datum.setup_i == p_set) & (alt.datum.log2_batch == p_b))
            .transform_fold(list(terms), as_=["term_key", "ms"])
            .transform_filter(alt.datum.ms > 0)
            .transform_calculate(term=f"{json.dumps(terms)}[datum.term_key]",
                                 setup=f"{json.dumps(setups)}[datum.setup_i]"))
    x = alt.X("chips:Q", scale=alt.Scale(type="log", base=2), axis=alt.Axis(title="chips N (tensor parallel)"))
    y = alt.Y("ms:Q", scale=alt.Scale(type="log"), axis=log_axis("time [ms]"))
    colour = alt.Color("term:N", title=None, sort=list(terms.values()))
    tip = ["setup:N", "chips:Q", "term:N", alt.Tooltip("ms:Q", format=".3f"), "fits:N"]
    lines = base.mark_line().encode(x=x, y=y, color=colour, tooltip=tip)
    dots = base.mark_point(size=45, filled=True).encode(
        x=x, y=y, color=colour, tooltip=tip, opacity=alt.condition(alt.datum.fits, alt.value(1.0), alt.value(0.25)))
    return alt.layer(lines, dots).add_params(p_set, p_b).properties(title=title, width=440)
