"""Tests of memwall.beyond.decode_balance: datasheet ridge points by hand, decode intensity near
2 FLOP per weight, the gap trend against an independent least-squares fit, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memwall.beyond.decode_balance import balance_gap_table, decode_intensity, gap_trend, needed_bandwidth
from memwall.tables import load_hardware
from memwall.widths import ByteWidths

FAST = settings(max_examples=20, deadline=None)


@pytest.fixture(scope="module")
def table():
    return balance_gap_table(load_hardware(), "llama-3-70b", "max_16bit")


def test_decode_intensity_is_two_flops_per_weight():
    # one multiply-add (2 FLOPs) per weight read: ~1 FLOP/B at 2 bytes, ~2 at 1 byte, ~4 at 0.5 byte
    for wb, expect in ((2.0, 1.0), (1.0, 2.0), (0.5, 4.0)):
        assert decode_intensity("llama-3-70b", 1, 0, widths=ByteWidths(weight=wb, act=2.0,
                                                                       kv=2.0)) == pytest.approx(expect, rel=0.03)


def test_h100_and_b200_by_hand(table):
    t = table.set_index("device")
    h = t.loc["H100 SXM5 80GB (Hopper)"]
    # datasheet: 989.4 TFLOP/s dense BF16, 3.35 TB/s HBM3 (NVIDIA H100 datasheet)
    assert h["ridge_flop_per_byte"] == pytest.approx(989.4e12 / 3.35e12)
    assert h["gap"] == pytest.approx(989.4e12 / 3.35e12 / h["decode_intensity"])
    assert h["needed_bandwidth_bytes_per_s"] == pytest.approx(989.4e12 / h["decode_intensity"])
    b = t.loc["B200 (HGX, Blackwell)"]  # 2250 TFLOP/s dense BF16, 7.7 TB/s
    assert b["needed_bandwidth_bytes_per_s"] == pytest.approx(2250e12 / b["decode_intensity"])
    # the needed bandwidth is the gap times the bandwidth it has
    assert np.allclose(table["needed_bandwidth_bytes_per_s"], table["gap"] * table["bandwidth_bytes_per_s"])


def test_gap_trend_matches_independent_fit(table):
    fit = gap_trend(table, (2016, 2026))
    rows = table[(table["year"] >= 2016) & (table["year"] < 2027)]
    slope = np.polyfit(rows["year"], np.log10(rows["gap"]), 1)[0]
    assert fit.per_2_years == pytest.approx(10 ** (2 * slope), rel=1e-9)
    assert fit.n_points == len(rows)
    # fixed weight width: the gap is balance over a constant, so it grows as machine balance does
    bal = np.polyfit(rows["year"], np.log10(rows["ridge_flop_per_byte"]), 1)[0]
    assert fit.per_2_years == pytest.approx(10 ** (2 * bal), rel=1e-9)


@FAST
@given(st.floats(1e9, 1e18), st.floats(0.01, 1e4))
def test_needed_bandwidth_puts_the_ridge_at_the_kernel(peak, intensity):
    bw = needed_bandwidth(peak, intensity)
    assert peak / bw == pytest.approx(intensity)


def test_bad_input():
    hw = load_hardware()
    with pytest.raises(ValueError, match="rule"):
        balance_gap_table(hw, rule="fp4")
    with pytest.raises(ValueError, match="intensity_flop_per_byte"):
        needed_bandwidth(1e15, 0.0)
    with pytest.raises(ValueError, match="encoder"):
        decode_intensity("bert-base")
    with pytest.raises(ValueError, match="weight_bytes"):
        decode_intensity("llama-3-70b", widths=ByteWidths(weight=0))
