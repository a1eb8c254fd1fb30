r"""Exponential trend fits on calendar time.

A quantity that grows exponentially, :math:`v(t) = v_0 \cdot 10^{s (t - t_0)}`, is a straight line
in :math:`\log_{10} v` against time. We fit that line by ordinary least squares of
:math:`\log_{10} v` on the *fractional calendar year* :math:`t` and report

* growth per 2 years :math:`10^{2s}` and per 20 years :math:`10^{20s}` (the paper's
  "3.0x / 2 yrs" and "60000x / 20 yrs" labels),
* the doubling time :math:`\log_{10} 2 / s` [years],
* a confidence interval for the growth per 2 years from the slope's t-interval.

This is the fit that reproduces the lines of Gholami et al., *AI and Memory Wall* (IEEE Micro
44(3), 2024, Fig. 1): ``numpy.polyfit(year, log10(v), 1)`` over every point of a series, with
matplotlib-style calendar dates (see :func:`decimal_year`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import stdtrit

__all__ = ["GrowthFit", "decimal_year", "fit_exponential"]



def decimal_year(dates: ArrayLike) -> np.ndarray:
    """Calendar dates as fractional years.

    Parameters
    ----------
    dates : array_like of datetime-like or str, shape (n,)
        Dates; strings are parsed by :func:`pandas.to_datetime`.

    Returns
    -------
    numpy.ndarray of float, shape (n,)
        ``year + (day_of_year - 1) / days_in_year`` [year]; 2020-07-02 -> 2020.5.

    Raises
    ------
    ValueError
        If any date is missing or cannot be parsed, naming its position.
    """
    raw = pd.Series(np.atleast_1d(np.asarray(dates, dtype=object)))
    parsed = pd.to_datetime(raw, errors="coerce")
    bad = parsed.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(f"dates: entry {i} ({raw.iloc[i]!r}) is missing or not a date")
    days = np.where(parsed.dt.is_leap_year, 366.0, 365.0)
    return (parsed.dt.year + (parsed.dt.day_of_year - 1) / days).to_numpy(dtype=float)


@dataclass(frozen=True)
class GrowthFit:
    """Result of :func:`fit_exponential`.

    Attributes
    ----------
    slope_decades_per_year : float
        Fitted slope of log10(value) against time [decades/year].
    intercept : float
        log10(value) of the fitted line at ``year = 0`` (use :meth:`predict`).
    n_points : int
        Points used.
    first_year, last_year : float
        Time span of the points [year].
    slope_stderr : float
        Standard error of the slope [decades/year]; NaN for 2 points.
    confidence : float
        Level of the interval in ``ci_per_2_years`` (e.g. 0.95).
    ci_per_2_years : tuple of float
        Confidence interval of the growth per 2 years [x]; NaN for 2 points.
    r_squared : float
        Coefficient of determination of the log-linear fit.
    """

    slope_decades_per_year: float
    intercept: float
    n_points: int
    first_year: float
    last_year: float
    slope_stderr: float
    confidence: float
    ci_per_2_years: tuple[float, float]
    r_squared: float

    @property
    def per_2_years(self) -> float:
        """Growth factor over 2 years [x]."""
        return float(10.0 ** (2.0 * self.slope_decades_per_year))

    @property
    def per_20_years(self) -> float:
        """Growth factor over 20 years [x]."""
        return float(10.0 ** (20.0 * self.slope_decades_per_year))

    @property
    def doubling_time_years(self) -> float:
        """Time for the fitted value to double [year]; negative for a decaying series."""
        return float(np.log10(2.0) / self.slope_decades_per_year)

    def growth_over(self, years: float) -> float:
        """Growth factor over ``years`` [x]."""
        return float(10.0 ** (years * self.slope_decades_per_year))

    def year_reaching(self, value: ArrayLike) -> np.ndarray:
        """Fractional year at which the fitted line reaches ``value`` (same unit as the data). [year]

        Raises
        ------
        ValueError
            If a value is not positive.
        """
        v = np.asarray(value, dtype=float)
        if np.any(~(v > 0)):
            raise ValueError(f"value must be > 0 to place it on an exponential trend, got {value!r}")
        return (np.log10(v) - self.intercept) / self.slope_decades_per_year

    def predict(self, years: ArrayLike) -> np.ndarray:
        """Fitted value at fractional years ``years`` (same unit as the data)."""
        return 10.0 ** (self.intercept + self.slope_decades_per_year * np.asarray(years, dtype=float))

    def as_dict(self) -> dict[str, float]:
        """Summary numbers, for tables and the command line."""
        return {
            "n_points": self.n_points,
            "first_year": self.first_year,
            "last_year": self.last_year,
            "per_2_years": self.per_2_years,
            "per_20_years": self.per_20_years,
            "doubling_time_years": self.doubling_time_years,
            "ci_low_per_2_years": self.ci_per_2_years[0],
            "ci_high_per_2_years": self.ci_per_2_years[1],
            "r_squared": self.r_squared,
        }


def fit_exponential(years: ArrayLike, values: ArrayLike, *, confidence: float = 0.95) -> GrowthFit:
    """Fit exponential growth by least squares of log10(value) on time.

    Parameters
    ----------
    years : array_like of float, shape (n,)
        Fractional calendar years [year] (see :func:`decimal_year`).
    values : array_like of float, shape (n,)
        Positive values, any unit (the growth factor is unit-free).
    confidence : float
        Level of the slope's two-sided t-interval, in (0, 1).

    Returns
    -------
    GrowthFit
        Slope, growth per 2 and 20 years, doubling time and confidence interval.

    Raises
    ------
    ValueError
        If the inputs differ in length, hold fewer than 2 points, contain a missing
        (NaN) year or value, a non-positive value, all years equal, or if ``confidence``
        is outside (0, 1) -- naming the offending input and position.

    Notes
    -----
    The interval is :math:`10^{2(\\hat s \\pm t_{n-2} \\, \\mathrm{se}(\\hat s))}` with the usual
    OLS standard error; it assumes independent, normally distributed log-residuals, which
    hardware release data only roughly satisfy, so read it as a measure of scatter.

    References
    ----------
    .. [1] A. Gholami, Z. Yao, S. Kim, C. Hooper, M. W. Mahoney and K. Keutzer, "AI and Memory Wall",
       IEEE Micro 44(3), 33-39, 2024, arXiv 2403.14123, https://arxiv.org/abs/2403.14123 (Fig. 1)
    .. [2] N. R. Draper and H. Smith, *Applied Regression Analysis*, 3rd ed., Wiley, 1998, ch. 1
       (straight-line least squares and the t-interval of the slope)

    Examples
    --------
    A value that triples every 2 years grows ``3**10`` = 59049x in 20 years (the paper's "3.0x / 2 yrs"
    and "60000x / 20 yrs" [1]_) and doubles every ``2·log 2 / log 3`` = 1.262 years; an exact
    exponential has ``r² = 1`` and a zero-width interval:

    >>> from memwall.trends import fit_exponential
    >>> fit = fit_exponential([2000, 2002, 2004, 2006], [1.0, 3.0, 9.0, 27.0])
    >>> round(fit.per_2_years, 9), round(fit.per_20_years), round(fit.doubling_time_years, 3)
    (3.0, 59049, 1.262)
    >>> round(fit.r_squared, 9), [round(x, 9) for x in fit.ci_per_2_years]
    (1.0, [3.0, 3.0])
    """
    x = np.asarray(years, dtype=float).ravel()
    v = np.asarray(values, dtype=float).ravel()
    if x.shape != v.shape:
        raise ValueError(f"years and values differ in length: {x.size} vs {v.size}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if x.size < 2:
        raise ValueError(f"need at least 2 points to fit a trend, got {x.size}")
    for name, arr in (("years", x), ("values", v)):
        missing = np.flatnonzero(~np.isfinite(arr))
        if missing.size:
            raise ValueError(f"{name}: entry {missing[0]} is missing or not finite ({arr[missing[0]]})")
    bad = np.flatnonzero(v <= 0)
    if bad.size:
        raise ValueError(f"values: entry {bad[0]} is {v[bad[0]]}; exponential fits need values > 0")
    if np.ptp(x) == 0:
        raise ValueError("years: all points share one date; the growth rate is undefined")

    y = np.log10(v)
    xm = x.mean()
    sxx = float(np.sum((x - xm) ** 2))
    slope = float(np.sum((x - xm) * (y - y.mean())) / sxx)
    intercept = float(y.mean() - slope * xm)
    resid = y - (intercept + slope * x)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else 1.0
    dof = x.size - 2
    if dof > 0:
        se = float(np.sqrt(np.sum(resid**2) / dof / sxx))
        t = float(stdtrit(dof, 0.5 + confidence / 2.0))  # Student t quantile (scipy.stats.t.ppf, lighter import)
        ci = (float(10.0 ** (2 * (slope - t * se))), float(10.0 ** (2 * (slope + t * se))))
    else:
        se, ci = float("nan"), (float("nan"), float("nan"))
    return GrowthFit(slope, intercept, int(x.size), float(x.min()), float(x.max()), se, confidence, ci, r2)
