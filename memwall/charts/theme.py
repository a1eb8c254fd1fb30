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

__all__ = ["FIT_CONTAINER", "PALETTE", "decade_axis", "log_axis", "require_columns", "require_positive",
           "years_to_dates"]




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
            "axis": {"labelFontSize": 12, "titleFontSize": 13, "grid": True, "gridOpacity": 0.4},
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
    expr = "datum.value >= 1 ? format(datum.value, '~s') : format(datum.value, '~g')"
    if billions:
        expr = f"replace({expr}, 'G', 'B')"
    return alt.Axis(title=title, values=[float(10.0**k) for k in range(lo, hi + 1)], labelExpr=expr, grid=grid)


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
