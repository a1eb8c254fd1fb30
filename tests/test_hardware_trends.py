"""Hardware trends: the paper's rates from its own points, precision rules, record setters, balance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from memwall import tables
from memwall.wall import hardware_trends, trend_checks


@pytest.fixture(scope="module")
def hw() -> pd.DataFrame:
    return tables.load_hardware()


@pytest.fixture(scope="module")
def points() -> pd.DataFrame:
    return tables.load_paper_hw_points()


def test_paper_rates_reproduced_from_its_points(points):
    # Printed rates: Gholami et al., AI and Memory Wall (arXiv 2403.14123), Fig. 1 legend and abstract:
    # 3.0x / 1.6x / 1.4x per 2 years, 60000x / 100x / 30x per 20 years. Issue target: within 3 %.
    table = trend_checks.paper_figure_fits(points).set_index("series")
    printed = {"flops": (3.0, 60000.0), "dram_bandwidth": (1.6, 100.0), "interconnect_bandwidth": (1.4, 30.0)}
    for series, (per2, per20) in printed.items():
        assert table.loc[series, "per_2_years"] == pytest.approx(per2, rel=0.03)
        # the legend rounds to one decimal place
        assert round(table.loc[series, "per_2_years"], 1) == per2
        # per 20 years the legend rounds down to one significant figure
        assert per20 <= table.loc[series, "per_20_years"] < 1.2 * per20
    assert table.loc["flops", "n_points"] == 37


def test_paper_flops_slope_matches_vector_figure(points):
    # The drawn line of the vector figure has slope 0.2404 decades/yr (paper_claims §1, [V]).
    fits = trend_checks.paper_figure_growth(points)
    assert fits["flops"].slope_decades_per_year == pytest.approx(0.2404, abs=0.0005)


def _toy_hardware() -> pd.DataFrame:
    dates = pd.to_datetime(["2000-01-01", "2005-01-01", "2010-01-01", "2015-01-01"])
    return pd.DataFrame({
        "device": ["cpu", "old gpu", "tensor gpu", "fp8 gpu"],
        "kind": ["cpu", "gpu", "gpu", "gpu"],
        "date": dates,
        "year": [2000.0, 2005.0, 2010.0, 2015.0],
        "source_url": ["https://example.org"] * 4,
        "peak_fp32_tflop_per_s": [0.01, 1.0, 10.0, 50.0],
        "dense_fp16_tflop_per_s": [np.nan, np.nan, 100.0, 1000.0],
        "dense_fp8_tflop_per_s": [np.nan, np.nan, np.nan, 2000.0],
        "dense_int8_tera_op_per_s": [np.nan, np.nan, 200.0, np.nan],
        "memory_bandwidth_gb_per_s": [10.0, 100.0, 1000.0, 2000.0],
    })


def test_precision_rules_pick_the_fastest_available_format():
    toy = _toy_hardware()
    fp32 = hardware_trends.peak_flops(toy, "fp32").set_index("device")
    assert fp32.loc["tensor gpu", "peak_flop_per_s"] == pytest.approx(10e12)
    m16 = hardware_trends.peak_flops(toy, "max_16bit").set_index("device")
    assert m16.loc["tensor gpu", "peak_flop_per_s"] == pytest.approx(100e12)
    assert m16.loc["tensor gpu", "precision"] == "fp16/bf16"
    assert m16.loc["old gpu", "precision"] == "fp32"
    m8 = hardware_trends.peak_flops(toy, "max_8bit").set_index("device")
    assert m8.loc["tensor gpu", "precision"] == "int8"
    assert m8.loc["fp8 gpu", "peak_flop_per_s"] == pytest.approx(2000e12)


def test_fp32_rule_drops_devices_without_fp32(hw):
    fp32 = hardware_trends.peak_flops(hw, "fp32")
    tpus = hw[hw["kind"] == "tpu"]
    assert tpus["peak_fp32_tflop_per_s"].isna().any()
    assert not set(tpus.loc[tpus["peak_fp32_tflop_per_s"].isna(), "device"]) & set(fp32["device"])


def test_unknown_rule_lists_allowed():
    with pytest.raises(ValueError, match="rule='fp4' is not known; allowed: fp32, max_16bit, max_8bit"):
        hardware_trends.peak_flops(_toy_hardware(), "fp4")


def test_record_setters_keep_running_maxima():
    t = pd.DataFrame({"date": pd.to_datetime(["2000-01-01", "2001-01-01", "2002-01-01", "2002-01-01",
                                              "2003-01-01"]),
                      "v": [5.0, 3.0, 6.0, 7.0, 7.0]})
    rec = hardware_trends.record_setters(t, "v")
    assert rec["v"].tolist() == [5.0, 7.0]


def test_machine_balance_is_peak_over_bandwidth():
    bal = hardware_trends.machine_balance(_toy_hardware(), "max_16bit").set_index("device")
    # 100 TFLOP/s / 1000 GB/s = 100 FLOP/B
    assert bal.loc["tensor gpu", "ridge_flop_per_byte"] == pytest.approx(100.0)


def test_h100_balance_from_datasheet(hw):
    # H100 SXM: 989.4 TFLOP/s dense BF16 / 3.35 TB/s = ~295 FLOP/B
    # (https://www.nvidia.com/en-us/data-center/h100/ datasheet figures).
    bal = hardware_trends.machine_balance(hw).set_index("device")
    h100 = next(d for d in bal.index if "H100 SXM" in d)
    assert bal.loc[h100, "ridge_flop_per_byte"] == pytest.approx(989.4e12 / 3.35e12, rel=0.01)


def test_sensitivity_table_shape(hw):
    windows = {"1996-2022": (1996, 2022), "2012-2026": (2012, 2026)}
    table = trend_checks.sensitivity_table(hw, windows)
    assert len(table) == len(windows) * len(hardware_trends.ROW_SETS) * (len(hardware_trends.PRECISION_RULES) + 1)
    assert (table["per_2_years"] > 1).all()


def test_window_and_holdout():
    toy = _toy_hardware().assign(name=lambda d: d["device"])
    assert len(hardware_trends.select_window(toy, 2005, 2010)) == 2
    with pytest.raises(ValueError, match="first_year=2010 is after last_year=2005"):
        hardware_trends.select_window(toy, 2010, 2005)
    with pytest.raises(ValueError, match=r"first_year=2010\.5 must be a whole calendar year"):
        hardware_trends.select_window(toy, 2010.5, 2012)
    with pytest.raises(ValueError, match="window 1990-1991 with row_set='records' leaves 0 point"):
        hardware_trends.fit_series(toy, "memory_bandwidth_gb_per_s", row_set="records", window=(1990, 1991))
    fit, check = trend_checks.trend_holdout(toy, "memory_bandwidth_gb_per_s", train=(2000, 2010), test=(2015, 2015))
    assert fit.per_20_years == pytest.approx(1e4)  # 10 -> 1000 GB/s in 10 years = 10x / 5 yr
    assert check["ratio"].iloc[0] == pytest.approx(2000 / 10_000)  # trend predicts 10 000 GB/s in 2015


def test_datasheet_series_units(hw):
    links = tables.load_interconnects()
    lane, col, unit = trend_checks.datasheet_series("interconnect_lane_rate", hw, links)
    pcie1 = lane[lane["name"].str.startswith("PCIe 1")]
    assert pcie1[col].iloc[0] == pytest.approx(2.5e9) and unit == "bit/s per lane"
    c2c, col, _ = trend_checks.datasheet_series("chip_to_chip_bandwidth", hw, links)
    h100 = c2c[c2c["name"].str.contains("H100 SXM")]
    assert h100[col].iloc[0] == pytest.approx(450e9)  # NVLink 4: 900 GB/s bidirectional = 450 per direction
    with pytest.raises(ValueError, match="series='sram' is not known"):
        trend_checks.datasheet_series("sram", hw, links)


def test_sensitivity_helpers(hw):
    sens = trend_checks.sensitivity_table(hw, {"all": (1996, 2026)})
    direct = sens[(sens["quantity"] == "peak FLOP/s") & (sens["rule"] == "fp32") & (sens["row_set"] == "all")]
    assert trend_checks.sensitivity_rate(sens, "peak FLOP/s", "fp32", "all", "all") == direct["per_2_years"].iloc[0]
    with pytest.raises(ValueError, match="0 rows for quantity='peak FLOP/s', rule='fp4'"):
        trend_checks.sensitivity_rate(sens, "peak FLOP/s", "fp4", "all", "all")
    cases, wins = trend_checks.compute_vs_bandwidth_cases(sens)
    assert cases == len(hardware_trends.PRECISION_RULES) * len(hardware_trends.ROW_SETS) and 0 <= wins <= cases
