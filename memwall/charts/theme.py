"""Altair charts with one theme for the whole book.

Importing this module registers and enables the ``"memwall"`` Altair theme (fonts, sizes, a
colour-blind-safe palette). Chart helpers take tidy DataFrames and return :class:`altair.Chart`
objects; log axes use SI labels (``10k``, ``1M``, ``1G``). Charts embed their data inline, so
callers pass small, aggregated tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

__all__ = ["DECADE_LABEL", "FIT_CONTAINER", "MIN_WIDTH_PX", "PALETTE", "POW2_LABEL", "decade_axis", "log_axis",
           "pow2_axis", "require_columns", "require_positive", "responsive", "years_to_dates"]

FIT_CONTAINER = alt.AutoSizeParams(type="fit-x", contains="padding")
"""Autosize for ``width="container"`` charts: the whole chart, axes and legend included, takes the width of the
page's column (without ``contains="padding"`` the axes would stick out of it), whatever the screen."""

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
"""Okabe-Ito colour-blind-safe palette (https://jfly.uni-koeln.de/color/)."""


@alt.theme.register("memwall", enable=True)
def _memwall_theme() -> alt.theme.ThemeConfig:
    return {
        "config": {
            "view": {"continuousWidth": 460, "continuousHeight": 300, "stroke": None},
            "font": "sans-serif",
            # labelOverlap: Vega hides a label that would touch its neighbour (3 px apart at least), on every
            # axis; log axes of the book label decades only (log_axis, decade_axis), powers of two as 1k 2k 4k
            "axis": {"labelFontSize": 12, "titleFontSize": 13, "grid": True, "gridOpacity": 0.4,
                     "labelOverlap": "greedy", "labelSeparation": 3},
            "axisX": {"labelFlush": True},
            "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "bottom", "direction": "vertical",
                       "labelLimit": 400},
            "title": {"fontSize": 15, "anchor": "start"},
            "range": {"category": list(PALETTE)},
        }
    }


def require_positive(table: pd.DataFrame, column: str) -> None:
    """Raise ``ValueError`` naming ``column`` if it holds a value <= 0 (a log axis cannot show it)."""
    if (table[column] <= 0).any():
        raise ValueError(f"column {column!r} has non-positive values; a log axis needs > 0")


def require_columns(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise ``ValueError`` naming the table (``what``) and the columns it lacks, and listing those it has."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {', '.join(missing)}; has {', '.join(map(str, table.columns))}")


def decade_axis(values: pd.Series | np.ndarray, title: str, *, billions: bool = False, grid: bool = True) -> alt.Axis:
    """A log axis with a tick and an SI label at every power of ten the data spans (1, 10, 100, 1k, 1M, ...).

    Data within one decade (say 120 to 900) would show two labels only: such an axis gets ticks at 1, 2 and 5
    times the powers of ten instead (100, 200, 500, 1k).

    Parameters
    ----------
    values : pandas.Series or numpy.ndarray
        The data on the axis (> 0).
    title : str
        Axis title, with its unit.
    billions : bool
        Write ``1B`` instead of ``1G`` (for counts such as parameters).
    grid : bool
        Grid lines at the decades.

    Returns
    -------
    altair.Axis

    Raises
    ------
    ValueError
        If ``values`` holds a non-positive or non-finite number.
    """
    arr = np.asarray(values, dtype=float)
    if not (np.isfinite(arr).all() and (arr > 0).all()):
        raise ValueError(f"a log axis ({title!r}) needs finite values > 0")
    lo, hi = int(np.floor(np.log10(arr.min()))), int(np.ceil(np.log10(arr.max())))
    steps = (1.0, 2.0, 5.0) if hi - lo <= 1 else (1.0,)  # one decade alone: 1-2-5 ticks, so it can be read
    ticks = [float(m * 10.0**k) for k in range(lo, hi + 1) for m in steps if m * 10.0**k <= 10.0**hi * (1 + 1e-9)]
    expr = "datum.value >= 1 ? format(datum.value, '~s') : format(datum.value, '~g')"
    if billions:
        expr = f"replace({expr}, 'G', 'B')"
    return alt.Axis(title=title, values=ticks, labelExpr=expr, grid=grid, labelOverlap="greedy")


DECADE_LABEL = ("abs(log(datum.value) / LN10 - round(log(datum.value) / LN10)) > 1e-6 ? '' : "
                "datum.value >= 1 ? format(datum.value, '~s') : format(datum.value, '~g')")
"""Vega expression of a log axis's tick label: SI text at a power of ten (1, 10, 100, 1k, 1M, 1G, 1T;
0.1, 0.01 below 1), nothing at the ticks between (they stay as unlabelled minor ticks)."""

POW2_LABEL = ("datum.value >= 1048576 ? format(datum.value / 1048576, '~g') + 'M' : "
              "datum.value >= 1024 ? format(datum.value / 1024, '~g') + 'k' : format(datum.value, '~g')")
"""Vega expression of a power-of-two axis's tick label: 512, 1k, 2k, 4k, ... 64k, 1M (k = 1024, M = 1024**2,
as context lengths and batch sizes are spoken of), never ``1.024k``."""


def log_axis(title: str, values: pd.Series | np.ndarray | None = None, *, grid: bool = True) -> alt.Axis:
    """A log axis that labels the powers of ten only, with unlabelled minor ticks between them.

    Parameters
    ----------
    title : str
        Axis title, with its unit in brackets.
    values : pandas.Series or numpy.ndarray, optional
        The data on the axis (> 0). Given, the axis gets a tick at every power of ten the data spans (as
        :func:`decade_axis`); omitted, Vega places the ticks and :data:`DECADE_LABEL` blanks all but the decades.
    grid : bool
        Grid lines at the ticks.

    Returns
    -------
    altair.Axis

    Raises
    ------
    ValueError
        If ``values`` holds a non-positive or non-finite number.
    """
    if values is not None:
        return decade_axis(values, title, grid=grid)
    return alt.Axis(title=title, labelExpr=DECADE_LABEL, labelOverlap="greedy", grid=grid)


def pow2_axis(values: Sequence[float] | pd.Series | np.ndarray, title: str, *, grid: bool = True) -> alt.Axis:
    """An axis with a tick at every power of two the data spans, labelled 1, 2, ... 512, 1k, 2k ... 1M.

    Use it with ``alt.Scale(type="log", base=2)`` for context lengths, batch sizes and other doubling series.

    Parameters
    ----------
    values : sequence of float, pandas.Series or numpy.ndarray
        The data on the axis (> 0).
    title : str
        Axis title, with its unit in brackets.
    grid : bool
        Grid lines at the ticks.

    Returns
    -------
    altair.Axis
        Ticks at ``2**k`` for every ``k`` from ``floor(log2(min))`` to ``ceil(log2(max))``, labels by
        :data:`POW2_LABEL`; Vega drops labels that would overlap (``labelOverlap="greedy"``).

    Raises
    ------
    ValueError
        If ``values`` holds a non-positive or non-finite number.
    """
    arr = np.asarray(values, dtype=float)
    if not (arr.size and np.isfinite(arr).all() and (arr > 0).all()):
        raise ValueError(f"a power-of-two axis ({title!r}) needs finite values > 0")
    lo, hi = int(np.floor(np.log2(arr.min()))), int(np.ceil(np.log2(arr.max())))
    return alt.Axis(title=title, values=[float(2.0**k) for k in range(lo, hi + 1)], labelExpr=POW2_LABEL,
                    labelOverlap="greedy", grid=grid)


def responsive(chart: alt.TopLevelMixin, height: int = 320) -> alt.TopLevelMixin:
    """``chart`` sized to the width of the page's column (axes and legend included) and ``height`` [px] tall.

    Parameters
    ----------
    chart : altair.Chart or altair.LayerChart
        A single or layered chart (concatenations size their parts themselves).
    height : int
        Height of the plotting area [px].

    Returns
    -------
    altair.Chart or altair.LayerChart
        The same chart with ``width="container"`` and :data:`FIT_CONTAINER`; the book's style sheet gives
        chart containers a minimum width of :data:`MIN_WIDTH_PX`.
    """
    return chart.properties(width="container", height=height, autosize=FIT_CONTAINER)


MIN_WIDTH_PX = 300
"""Narrowest a responsive chart is drawn [px] (the book's style sheet); a 390 px phone's column is 358 px."""


def years_to_dates(years: Sequence[float] | np.ndarray) -> pd.DatetimeIndex:
    """Fractional calendar years [year] -> timestamps (inverse of :func:`memwall.trends.decimal_year`)."""
    years = np.asarray(years, dtype=float)
    whole = np.floor(years).astype(int)
    starts = pd.to_datetime([f"{y}-01-01" for y in whole])
    lengths = np.where(starts.is_leap_year, 366.0, 365.0)
    return starts + pd.to_timedelta((years - whole) * lengths, unit="D")
