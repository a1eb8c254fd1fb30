"""Interactive Altair charts and tables of the chapter "Beyond the paper: serving and hardware".

The charts take the tables of :mod:`memwall.beyond.speculative_grid` and :mod:`memwall.beyond.tensor_parallel` and
bind Vega-Lite parameters to dropdowns and a slider, so the reader explores them in the built page without a
kernel. The tables are in SI units (seconds); the charts and tables show milliseconds. Every domain is fixed
over all the settings of a chart's controls, reference lines carry text labels, and the charts take the width
of the page's column. The tables go through :func:`memwall.reader_table.reader_table`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from memwall.book import in_unit
from memwall.charts.palette import BLACK, BLUE, VERMILION, colour_scale
from memwall.charts.serving import decade_domain, fitted_pow2_axis, initial_option, pow2_domain, short_device
from memwall.charts.theme import decade_axis, require_columns, responsive
from memwall.reader_table import Column, ReaderTable, reader_table

__all__ = ["best_k_table", "speculative_chart", "tp_chart", "tp_table"]


def speculative_chart(grid: pd.DataFrame, *, device: str | None = None, title: str = "") -> alt.LayerChart:
    """Time per token against the number of drafted tokens; device dropdown, acceptance-rate slider.

    Parameters
    ----------
    grid : pandas.DataFrame
        Output of :func:`memwall.beyond.speculative_grid.speculative_grid` with acceptance rates on a 5 % grid
        (times in seconds).
    device : str, optional
        Device the dropdown opens on (default: the grid's first).
    title : str
        In-chart title; the book leaves it empty and puts the title in the figure's caption.

    Returns
    -------
    altair.LayerChart
        Speculative time per token [ms] (linear, one domain for every device and rate) against ``k``
        (``k = 0`` is plain decoding), blue; a red dashed rule at plain decoding labelled "plain decoding",
        and the fastest ``k`` ringed and labelled with its speedup.

    Raises
    ------
    ValueError
        If a column of :func:`memwall.beyond.speculative_grid.speculative_grid` is missing, the grid is empty, or
        ``device`` is not in it.
    """
    require_columns(grid, ["device", "alpha", "k", "time_per_token_s", "plain_time_per_token_s", "speedup",
                           "tokens_per_step"], "grid")
    if grid.empty:
        raise ValueError("grid is empty")
    shown = {"time_per_token_s": "ms_per_token", "plain_time_per_token_s": "plain_ms_per_token"}
    data = grid.rename(columns=shown).assign(  # SI in, milliseconds on the chart
        **{ms: in_unit(grid[si], "ms") for si, ms in shown.items()},
        alpha_pct=(100 * grid["alpha"]).round().astype(int))
    devices = list(dict.fromkeys(data["device"]))
    pcts = sorted(data["alpha_pct"].unique())
    step = int(pcts[1] - pcts[0]) if len(pcts) > 1 else 1
    start = 80 if 80 in pcts else int(pcts[len(pcts) // 2])
    p_dev = alt.param(name="s_device", value=initial_option(devices, device, "device"),
                      bind=alt.binding_select(options=devices, labels=[short_device(d) for d in devices],
                                              name="device "))
    p_a = alt.param(name="s_alpha", value=start, bind=alt.binding_range(min=int(pcts[0]), max=int(pcts[-1]),
                                                                        step=step, name="acceptance rate α [%] "))
    base = alt.Chart(data).transform_filter((alt.datum.device == p_dev) & (alt.datum.alpha_pct == p_a))
    k_max = int(data["k"].max())
    x_scale = alt.Scale(domain=[0, k_max], nice=False)
    x = alt.X("k:Q", scale=x_scale, axis=alt.Axis(title="drafted tokens per pass k", tickMinStep=1, format="d"))
    top = float(5 * np.ceil(max(data["ms_per_token"].max(), data["plain_ms_per_token"].max()) / 5))
    y_scale = alt.Scale(domain=[0, top], nice=False)
    y = alt.Y("ms_per_token:Q", scale=y_scale, axis=alt.Axis(title="time per token [ms]", tickMinStep=1, format="~g"))
    tip = [alt.Tooltip("device:N", title="device"), alt.Tooltip("k:Q", title="drafted tokens k"),
           alt.Tooltip("alpha_pct:Q", title="acceptance rate α [%]"),
           alt.Tooltip("tokens_per_step:Q", format=".2f", title="tokens per target pass"),
           alt.Tooltip("ms_per_token:Q", format=".2f", title="time per token [ms]"),
           alt.Tooltip("speedup:Q", format=".2f", title="speedup over plain decoding [x]")]
    plain_rows = base.transform_filter(alt.datum.k == 0)
    plain = plain_rows.mark_rule(strokeDash=[6, 3], color=VERMILION, strokeWidth=1.5).encode(
        y=alt.Y("plain_ms_per_token:Q", scale=y_scale),
        tooltip=[alt.Tooltip("plain_ms_per_token:Q", format=".2f", title="plain decoding [ms per token]")])
    plain_text = plain_rows.transform_calculate(label="'plain decoding'").mark_text(
        align="left", baseline="bottom", dx=8, dy=-3, color=VERMILION, fontSize=12).encode(
        x=x, y=alt.Y("plain_ms_per_token:Q", scale=y_scale), text="label:N")
    line = base.mark_line(point=True, color=BLUE, strokeWidth=2).encode(x=x, y=y, tooltip=tip)
    best_rows = base.transform_joinaggregate(fastest="min(ms_per_token)").transform_filter(
        alt.datum.ms_per_token == alt.datum.fastest).transform_calculate(
        label="'fastest: k = ' + datum.k + ', ' + format(datum.speedup, '.2f') + 'x'")
    best = best_rows.mark_point(size=300, strokeWidth=2.5, color=BLACK).encode(x=x, y=y, tooltip=tip)
    # the label under the ring reads towards the middle, so that it never leaves the plot
    best_left = best_rows.transform_filter(alt.datum.k <= k_max / 2).mark_text(
        align="left", baseline="top", dx=-6, dy=14, fontSize=12, color=BLACK).encode(x=x, y=y, text="label:N")
    best_right = best_rows.transform_filter(alt.datum.k > k_max / 2).mark_text(
        align="right", baseline="top", dx=6, dy=14, fontSize=12, color=BLACK).encode(x=x, y=y, text="label:N")
    chart = responsive(alt.layer(plain, line, best, plain_text, best_left, best_right).add_params(p_dev, p_a), 300)
    return chart.properties(title=title) if title else chart


def best_k_table(best: pd.DataFrame) -> ReaderTable:
    """The fastest draft length per acceptance rate, with its speedup over plain decoding, one row per rate.

    Parameters
    ----------
    best : pandas.DataFrame
        Output of :func:`memwall.beyond.speculative_grid.best_k` (``alpha``, ``best_k``, ``tokens_per_step``,
        ``time_per_token_s`` and ``plain_time_per_token_s`` [s], ``speedup``).

    Returns
    -------
    memwall.reader_table.ReaderTable

    Raises
    ------
    ValueError
        If a column is missing.
    """
    require_columns(best, ["alpha", "best_k", "tokens_per_step", "time_per_token_s", "plain_time_per_token_s",
                           "speedup"], "best")
    frame = best.assign(alpha_pct=in_unit(best["alpha"], "%"), ms=in_unit(best["time_per_token_s"], "ms"))
    return reader_table(frame, {
        "alpha_pct": Column("Acceptance rate α", "%", 3, "number", trailing_zeros=False),
        "best_k": Column("Fastest k", kind="integer"),
        "speedup": Column("Speedup", "x", 3, "number"),
        "ms": Column("Time per token", "ms", 3, "number"),
        "tokens_per_step": Column("Tokens per pass", digits=3, kind="number")})


def tp_table(sweeps: Mapping[str, pd.DataFrame], chips: Sequence[int] = (1, 2, 4, 8)) -> ReaderTable:
    """Tensor-parallel time per token and its two parts, one row per link and chip count.

    Parameters
    ----------
    sweeps : mapping of str to pandas.DataFrame
        Link name -> :func:`memwall.beyond.tensor_parallel.tp_sweep` (``chips``, ``time_per_token_s``, ``step_s``,
        ``allreduce_s`` [s], ``fits``).
    chips : sequence of int
        The chip counts to show (each must be in every sweep).

    Returns
    -------
    memwall.reader_table.ReaderTable

    Raises
    ------
    ValueError
        If ``sweeps`` is empty, a column is missing or a sweep lacks one of ``chips``.
    """
    if not sweeps:
        raise ValueError("sweeps is empty")
    parts = []
    for link, sweep in sweeps.items():
        require_columns(sweep, ["chips", "time_per_token_s", "step_s", "allreduce_s", "fits"], f"sweep {link!r}")
        missing = sorted(set(chips) - set(sweep["chips"]))
        if missing:
            raise ValueError(f"sweep {link!r} lacks chip count(s) {missing}")
        rows = sweep.set_index("chips").loc[list(chips)].reset_index()
        parts.append(pd.DataFrame({"link": link, "chips": rows["chips"].astype(int),
                                   "ms": in_unit(rows["time_per_token_s"], "ms"),
                                   "step_ms": in_unit(rows["step_s"], "ms"),
                                   "allreduce_ms": in_unit(rows["allreduce_s"], "ms"),
                                   "fits": rows["fits"].astype(bool)}))
    frame = pd.concat(parts, ignore_index=True)
    return reader_table(frame, {
        "link": Column("Link", kind="text"), "chips": Column("Chips N", kind="integer"),
        "ms": Column("Time per token", "ms", 3, "number"),
        "step_ms": Column("One chip's step", "ms", 3, "number"),
        "allreduce_ms": Column("All-reduces", "ms", 3, "number"),
        "fits": Column("Weights fit in one chip", kind="flag")})


def tp_chart(grid: pd.DataFrame, *, title: str = "") -> alt.LayerChart:
    """Tensor-parallel time per token against the chip count; setup and batch dropdowns.

    Parameters
    ----------
    grid : pandas.DataFrame
        Rows of :func:`memwall.beyond.tensor_parallel.tp_sweep` (times in seconds) with added columns ``setup``
        (device and link, a label) and ``log2_batch``.
    title : str
        In-chart title; the book leaves it empty and puts the title in the figure's caption.

    Returns
    -------
    altair.LayerChart
        Three lines on a log time axis [ms] labelled at decades (one domain for every setup and batch): one
        chip's roofline step, the all-reduces, and their sum, over the chip count (base 2); counts whose share
        does not fit in one chip's memory are drawn faded, as the second legend says.

    Raises
    ------
    ValueError
        If a column is missing or the grid is empty.
    """
    require_columns(grid, ["setup", "log2_batch", "chips", "time_per_token_s", "step_s", "allreduce_s", "fits"], "grid")
    if grid.empty:
        raise ValueError("grid is empty")
    setups = list(dict.fromkeys(grid["setup"]))
    # One row per (setup, batch, chips) with the three times as columns, folded into lines by Vega-Lite, and the
    # setup as its index in the dropdown: the page embeds a third of the rows of a long table, without repeating
    # the setup's name in each.
    terms = {"total_ms": "total per token", "step_ms": "one chip's decode step",
             "allreduce_ms": "all-reduces (2 per layer)"}
    wide = pd.DataFrame({"setup_i": grid["setup"].map({s: i for i, s in enumerate(setups)}),
                         "log2_batch": grid["log2_batch"], "chips": grid["chips"], "fits": grid["fits"],
                         **{ms: in_unit(grid[si], "ms")  # SI in, milliseconds on the chart
                            for si, ms in zip(["time_per_token_s", "step_s", "allreduce_s"], terms, strict=True)}})
    ks = sorted(int(k) for k in grid["log2_batch"].unique())
    p_set = alt.param(name="tp_setup", value=0, bind=alt.binding_select(options=list(range(len(setups))),
                                                                        labels=setups, name="setup "))
    p_b = alt.param(name="tp_log2batch", value=ks[0], bind=alt.binding_select(
        options=ks, labels=[f"{2**k:,}" for k in ks], name="batch [sequences] "))
    memory = ["fits", "does not fit"]
    base = (alt.Chart(wide).transform_filter((alt.datum.setup_i == p_set) & (alt.datum.log2_batch == p_b))
            .transform_fold(list(terms), as_=["term_key", "ms"])
            .transform_filter(alt.datum.ms > 0)
            .transform_calculate(term=f"{json.dumps(terms)}[datum.term_key]",
                                 setup=f"{json.dumps(setups)}[datum.setup_i]",
                                 memory=f"datum.fits ? {json.dumps(memory[0])} : {json.dumps(memory[1])}"))
    times = wide[list(terms)].to_numpy(dtype=float)
    y_dom = decade_domain(times[times > 0])
    x_dom = pow2_domain(wide["chips"])
    x = alt.X("chips:Q", scale=alt.Scale(type="log", base=2, domain=x_dom),
              axis=fitted_pow2_axis(x_dom, "chips N (tensor parallel)"))
    y = alt.Y("ms:Q", scale=alt.Scale(type="log", domain=y_dom), axis=decade_axis(y_dom, "time [ms]"))
    names = list(terms.values())
    colour = alt.Color("term:N", title=None, sort=names, scale=colour_scale(names),
                       legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=3))  # one legend: lines and points
    tip = [alt.Tooltip("setup:N", title="setup"), alt.Tooltip("chips:Q", title="chips N"),
           alt.Tooltip("term:N", title="term"), alt.Tooltip("ms:Q", format=".3~r", title="time [ms]"),
           alt.Tooltip("memory:N", title="memory")]
    lines = base.mark_line(strokeWidth=2).encode(x=x, y=y, color=colour, tooltip=tip)
    dots = base.mark_point(size=40, filled=True).encode(
        x=x, y=y, color=colour, tooltip=tip,
        opacity=alt.Opacity("memory:N", title="memory", sort=memory,
                            scale=alt.Scale(domain=memory, range=[1.0, 0.25]),
                            legend=alt.Legend(symbolFillColor="#555", symbolStrokeColor="#555")))
    chart = responsive(alt.layer(lines, dots).add_params(p_set, p_b), 320)
    return chart.properties(title=title) if title else chart
