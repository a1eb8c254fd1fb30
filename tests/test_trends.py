"""Trend fitting against analytic results (an exact exponential) and noisy data."""

import numpy as np
import pandas as pd
import pytest

from memwall.trends import decimal_year, fit_exponential


def test_decimal_year_known_dates():
    years = decimal_year(["2020-01-01", "2020-07-02", "2021-01-01", "2019-12-31"])
    # 2020 is a leap year: 2 July is day 184, (184 - 1) / 366 = 0.5 exactly.
    np.testing.assert_allclose(years, [2020.0, 2020.5, 2021.0, 2019 + 364 / 365])


def test_decimal_year_rejects_bad_date():
    with pytest.raises(ValueError, match=r"entry 1 \('2020-13-01'\)"):
        decimal_year(["2020-01-01", "2020-13-01"])


def test_recovers_exact_exponential():
    # v = 3 * 2**((t - 2000) / 1.5): doubling time 1.5 years, growth per 2 years 2**(2/1.5).
    t = np.linspace(1996.0, 2026.0, 11)
    v = 3.0 * 2.0 ** ((t - 2000.0) / 1.5)
    fit = fit_exponential(t, v)
    assert fit.doubling_time_years == pytest.approx(1.5, rel=1e-12)
    assert fit.per_2_years == pytest.approx(2.0 ** (2 / 1.5), rel=1e-12)
    assert fit.per_20_years == pytest.approx(2.0 ** (20 / 1.5), rel=1e-10)
    assert fit.r_squared == pytest.approx(1.0)
    np.testing.assert_allclose(fit.predict([2000.0, 2003.0]), [3.0, 12.0], rtol=1e-12)
    lo, hi = fit.ci_per_2_years
    assert lo == pytest.approx(fit.per_2_years) and hi == pytest.approx(fit.per_2_years)


def test_two_points_give_exact_line_and_no_interval():
    fit = fit_exponential([2000.0, 2010.0], [1.0, 100.0])
    assert fit.per_20_years == pytest.approx(1e4)
    assert np.isnan(fit.ci_per_2_years[0]) and np.isnan(fit.slope_stderr)


def test_confidence_interval_covers_truth_on_noisy_data():
    # Coverage check: over many noisy samples of a known trend, the 95 % interval holds the true
    # growth per 2 years about 95 % of the time (binomial sd ~ 1 % at 400 trials).
    rng = np.random.default_rng(20240321)
    true_slope = 0.24  # decades / year, the paper's FLOPS slope
    truth = 10 ** (2 * true_slope)
    t = np.linspace(1997.0, 2022.0, 30)
    hits = 0
    trials = 400
    for _ in range(trials):
        v = 10 ** (true_slope * (t - 1997.0) + rng.normal(0.0, 0.3, t.size))
        lo, hi = fit_exponential(t, v).ci_per_2_years
        hits += lo <= truth <= hi
    assert 0.91 <= hits / trials <= 0.99


def test_accepts_pandas_series():
    t = pd.Series([2001.0, 2002.0, 2003.0])
    fit = fit_exponential(t, pd.Series([1.0, 2.0, 4.0]))
    assert fit.doubling_time_years == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("years", "values", "match"),
    [
        ([2000.0], [1.0], "at least 2 points"),
        ([], [], "at least 2 points"),
        ([2000.0, 2001.0], [1.0, 0.0], r"values: entry 1 is 0.0; exponential fits need values > 0"),
        ([2000.0, 2001.0], [1.0, -5.0], "values > 0"),
        ([2000.0, np.nan], [1.0, 2.0], "years: entry 1 is missing"),
        ([2000.0, 2001.0], [np.nan, 2.0], "values: entry 0 is missing"),
        ([2000.0, 2000.0], [1.0, 2.0], "share one date"),
        ([2000.0, 2001.0], [1.0], "differ in length"),
    ],
)
def test_bad_input(years, values, match):
    with pytest.raises(ValueError, match=match):
        fit_exponential(years, values)


def test_bad_confidence():
    with pytest.raises(ValueError, match="confidence"):
        fit_exponential([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], confidence=1.5)


def test_year_reaching_inverts_predict():
    fit = fit_exponential([2000.0, 2010.0], [1.0, 1000.0])
    assert fit.year_reaching(10.0) == pytest.approx(2000 + 10 / 3)
    np.testing.assert_allclose(fit.year_reaching(fit.predict([2003.0, 2017.5])), [2003.0, 2017.5])
    with pytest.raises(ValueError, match="value must be > 0"):
        fit.year_reaching(0.0)
