"""Tests of the unit conversions (memwall.units) against values computed by hand from their definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from memwall import units


def test_gib_to_bytes_uses_binary_gigabytes():
    # NIST binary prefixes: 1 GiB = 1024**3 B = 1,073,741,824 B; "80 GB" of H100 HBM3 = 85,899,345,920 B
    assert units.gib_to_bytes(1) == 1_073_741_824
    assert units.gib_to_bytes(80) == 85_899_345_920
    assert units.gib_to_bytes(80) / units.GB == 85.89934592


def test_gib_to_bytes_keeps_series_and_is_exact():
    s = pd.Series([16.0, 80.0, 141.0], index=["V100", "H100", "H200"])
    out = units.gib_to_bytes(s)
    assert isinstance(out, pd.Series) and list(out.index) == list(s.index)
    assert out.tolist() == [16 * 1024**3, 80 * 1024**3, 141 * 1024**3]
    pd.testing.assert_series_equal(out / 1e9, s * 2**30 / 1e9)  # what the chapters computed inline


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf, [1.0, -2.0]])
def test_gib_to_bytes_rejects_negative_or_missing_capacities(bad):
    with pytest.raises(ValueError, match="gib must be finite and >= 0"):
        units.gib_to_bytes(bad)


def test_bit_rate_to_byte_rate_divides_by_eight_bits():
    # PCIe 1.0a: 2.5 GT/s per lane, 1 bit per transfer -> 312.5 MB/s raw; NVLink 4: 100 Gbit/s per lane -> 12.5 GB/s
    assert units.bit_rate_to_byte_rate(2.5e9) == 312.5e6
    assert units.bit_rate_to_byte_rate(100e9) == 12.5e9
    lanes = pd.Series([2.5e9, 8e9, 32e9], name="lane_rate_bit_per_s")
    out = units.bit_rate_to_byte_rate(lanes)
    assert isinstance(out, pd.Series) and out.name == "lane_rate_bit_per_s"
    pd.testing.assert_series_equal(out, lanes / 8)


def test_bit_rate_to_byte_rate_rejects_negative_rates():
    with pytest.raises(ValueError, match="bits_per_s must be finite and >= 0"):
        units.bit_rate_to_byte_rate(-1.0)


def test_bits_to_bytes_still_takes_one_width():
    assert units.bits_to_bytes(4) == 0.5 and units.bits_to_bytes(16) == 2.0
