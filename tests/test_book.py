"""Tests of the chapter helpers (memwall.book): display units, glue, device names, stacked series, fits."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from memwall import book, tables
from memwall.trends import fit_exponential
from memwall.wall import hardware_trends

from .conftest import DATA

DEVICE_CONSTANTS = ["A100", "B200", "GAUDI3", "H100", "H100_PCIE", "H200", "K40", "MI300X", "MI355X", "TPU7X",
                    "TPU_V5E", "V100", "XEON_GOLD_6242", "XEON_PHI_7290"]


# --- in_unit ---------------------------------------------------------------------------------------------------

def in_unit_close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12)


@pytest.mark.parametrize(("si", "unit", "expected"), [
    (0.0125, "ms", 12.5),                    # 12.5 ms
    (3.5e-6, "us", 3.5),
    (80 * 2**30, "GiB", 80.0),               # the H100's 80 GiB
    (80 * 2**30, "GB", 85.89934592),         # ... is 85.9e9 B
    (3.35e12, "TB/s", 3.35),                 # H100 SXM HBM3 bandwidth
    (989.4e12, "TFLOP/s", 989.4),            # H100 SXM dense BF16
    (2.25e15, "PFLOP/s", 2.25),
    (1.5e9, "billion", 1.5),
    (2048.0, "KiB", 2.0),
    (42.0, "1", 42.0),
])
def test_in_unit_converts_si_values(si, unit, expected):
    assert in_unit_close(book.in_unit(si, unit), expected)


def test_in_unit_of_one_returns_the_value_itself():
    value = object()
    assert book.in_unit(value) is value


def test_in_unit_is_the_division_by_the_unit_bit_for_bit():
    """x / 1e9 and in_unit(x, "GB") are the same float: chapters may switch without changing a glued value."""
    rng = np.random.default_rng(0)
    for x in rng.uniform(1, 1e15, 200):
        assert book.in_unit(x, "GB") == x / 1e9
        assert book.in_unit(x, "TB/s") == x / 1e12
        assert book.in_unit(x, "GiB") == x / 2**30
        assert book.in_unit(x, "MB") == x / 1e6


def test_in_unit_of_a_sub_unit_is_the_multiplication_by_its_exact_inverse():
    """in_unit(t, "ms") is t * 1e3 (one rounding), not t / 1e-3 (1e-3 is inexact): chapters may switch from
    ``1e3 * t`` without changing a glued value."""
    for unit, inverse in (("ms", 1e3), ("us", 1e6), ("%", 100.0)):
        assert 1 / book.DISPLAY_UNITS[unit] == inverse  # exact integer floats
    rng = np.random.default_rng(1)
    xs = rng.uniform(1e-7, 10, 500)
    assert all(book.in_unit(x, "ms") == 1e3 * x and book.in_unit(x, "us") == x * 1e6 for x in xs)
    assert any(x / 1e-3 != 1e3 * x for x in xs)  # the division would have differed in the last bit


def test_in_unit_keeps_arrays_and_series():
    s = pd.Series([1e9, 2e9], index=["a", "b"])
    out = book.in_unit(s, "GB")
    assert isinstance(out, pd.Series) and list(out.index) == ["a", "b"] and out.tolist() == [1.0, 2.0]
    np.testing.assert_array_equal(book.in_unit(np.array([1e-3, 2e-3]), "ms"), [1.0, 2.0])


def test_in_unit_rejects_an_unknown_unit_listing_the_allowed_ones():
    with pytest.raises(ValueError, match=r"unit='GBps' is not known; allowed: .*GB/s"):
        book.in_unit(1.0, "GBps")


def test_display_units_are_si_factors():
    assert book.DISPLAY_UNITS["GB"] == 1e9 and book.DISPLAY_UNITS["GiB"] == 2**30
    assert book.DISPLAY_UNITS["ms"] == 1e-3 and book.DISPLAY_UNITS["%"] == 0.01
    assert all(v > 0 for v in book.DISPLAY_UNITS.values())


# --- glue_number / glue_text -----------------------------------------------------------------------------------

@pytest.fixture
def glued(monkeypatch: pytest.MonkeyPatch) -> dict:
    """myst_nb.glue replaced by a recorder: {key: (value, display)}."""
    myst_nb = pytest.importorskip("myst_nb")
    record: dict = {}

    def fake_glue(name, variable, display=True):
        record[name] = (variable, display)

    monkeypatch.setattr(myst_nb, "glue", fake_glue)
    return record


def test_glue_number_glues_a_plain_python_number_without_display(glued):
    assert book.glue_number("n", np.int64(7)) is None  # a cell ending with it displays nothing
    assert glued["n"] == (7, False) and type(glued["n"][0]) is int
    book.glue_number("x", np.float64(0.25))
    assert type(glued["x"][0]) is float and glued["x"][0] == 0.25
    book.glue_number("ok", np.bool_(True))
    assert glued["ok"] == (True, False) and type(glued["ok"][0]) is bool


def test_glue_number_converts_to_the_display_unit(glued):
    book.glue_number("mem_gb", 80 * 2**30, unit="GB")
    book.glue_number("bw_tb", np.float64(3.35e12), unit="TB/s")
    assert glued["mem_gb"][0] == 80 * 2**30 / 1e9
    assert glued["bw_tb"][0] == 3.35e12 / 1e12 and type(glued["bw_tb"][0]) is float


def test_glue_number_matches_the_chapters_old_helper(glued):
    """The per-chapter ``number(key, value)`` it replaces glued ``value.item()`` or ``value``."""
    for value in (np.float64(1 / 3), 3, 2.5, np.int32(4), "text"):
        book.glue_number("k", value)
        assert glued["k"] == (value.item() if hasattr(value, "item") else value, False)


def test_glue_number_rejects_an_unknown_unit_and_glues_nothing(glued):
    with pytest.raises(ValueError, match="not known"):
        book.glue_number("bad", 1.0, unit="parsec")
    assert "bad" not in glued


def test_glue_text_glues_the_string(glued):
    assert book.glue_text("gpu", "NVIDIA H200") is None
    book.glue_text("v", 2.5)
    assert glued["gpu"] == ("NVIDIA H200", False) and glued["v"] == ("2.5", False)


# --- device constants ------------------------------------------------------------------------------------------

def test_device_constants_are_rows_of_hardware_csv():
    devices = set(pd.read_csv(DATA / "hardware.csv")["device"])
    for name in DEVICE_CONSTANTS:
        assert getattr(book, name) in devices, name


def test_device_constants_are_exported_and_distinct():
    assert set(DEVICE_CONSTANTS) <= set(book.__all__)
    values = [getattr(book, n) for n in DEVICE_CONSTANTS]
    assert len(set(values)) == len(values)


def test_device_constants_name_the_part_they_say():
    hw = tables.load_hardware().set_index("device")
    assert hw.loc[book.H100, "memory_capacity_gib"] == 80 and hw.loc[book.H200, "memory_capacity_gib"] == 141
    assert hw.loc[book.XEON_GOLD_6242, "kind"] == "cpu" and hw.loc[book.TPU_V5E, "kind"] == "tpu"


# --- stack_series ----------------------------------------------------------------------------------------------

@pytest.fixture
def two_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    flops = pd.DataFrame({"date": pd.to_datetime(["2020-05-14", "2022-03-22"]), "year": [2020.37, 2022.22],
                          "name": ["A100", "H100"], "peak": [312e12, 989e12]}, index=[7, 3])
    bw = pd.DataFrame({"date": pd.to_datetime(["2021-01-01"]), "year": [2021.0], "name": ["HBM2e"],
                       "peak": [2.0e12], "source_url": ["https://example.org"]})
    return flops, bw


def test_stack_series_columns_and_order(two_tables):
    flops, bw = two_tables
    long = book.stack_series({"compute": flops, "memory": bw}, value="peak", keep=("name", "source_url"))
    assert list(long.columns) == ["series", "date", "peak", "name", "source_url"]
    assert long["series"].tolist() == ["compute", "compute", "memory"]
    assert long["name"].tolist() == ["A100", "H100", "HBM2e"]  # each table's rows in its own order
    assert long["peak"].tolist() == [312e12, 989e12, 2.0e12]
    assert list(long.index) == [0, 1, 2]
    assert long["source_url"].isna().tolist() == [True, True, False]  # missing keep columns are NaN


def test_stack_series_follows_the_mapping_order(two_tables):
    flops, bw = two_tables
    long = book.stack_series({"memory": bw, "compute": flops}, value="peak", name="quantity")
    assert list(long.columns) == ["quantity", "date", "peak"]
    assert long["quantity"].tolist() == ["memory", "compute", "compute"]


def test_stack_series_takes_a_named_column_per_table(two_tables):
    flops, bw = two_tables
    long = book.stack_series({"compute": (flops, "peak"), "memory": (bw.rename(columns={"peak": "gbps"}), "gbps")},
                             value="value", keep=("year",))
    assert list(long.columns) == ["series", "date", "value", "year"]
    assert long["value"].tolist() == [312e12, 989e12, 2.0e12]


def test_stack_series_equals_the_concat_it_replaces(two_tables):
    flops, bw = two_tables
    by_hand = pd.concat([flops.assign(series="compute"), bw.assign(series="memory")],
                        ignore_index=True)[["series", "date", "peak", "year"]]
    pd.testing.assert_frame_equal(book.stack_series({"compute": flops, "memory": bw}, value="peak", keep=("year",)),
                                  by_hand)


def test_stack_series_of_nothing_is_an_empty_table():
    empty = book.stack_series({}, value="v", keep=("name",))
    assert empty.empty and list(empty.columns) == ["series", "date", "v", "name"]


def test_stack_series_errors_name_the_series(two_tables):
    flops, bw = two_tables
    with pytest.raises(ValueError, match=r"series 'memory' has no column\(s\) peak"):
        book.stack_series({"compute": flops, "memory": bw.drop(columns="peak")}, value="peak")
    with pytest.raises(ValueError, match=r"series 'compute' has no column\(s\) release_date"):
        book.stack_series({"compute": flops}, value="peak", date="release_date")
    with pytest.raises(ValueError, match=r"series 'compute' has no column\(s\) tflops"):
        book.stack_series({"compute": (flops, "tflops")}, value="value")
    with pytest.raises(ValueError, match="name='name' is also a column"):
        book.stack_series({"compute": flops}, value="peak", name="name", keep=("name",))
    with pytest.raises(ValueError, match="repeat a column"):
        book.stack_series({"compute": flops}, value="peak", keep=("peak",))


# --- fit_each --------------------------------------------------------------------------------------------------

def test_fit_each_fits_every_series_in_sorted_order():
    years = np.array([2000.0, 2002.0, 2004.0])
    long = pd.DataFrame({"series": ["b"] * 3 + ["a"] * 3, "year": np.r_[years, years],
                         "date": pd.to_datetime(["2000-01-01", "2002-01-01", "2004-01-01"] * 2),
                         "v": [1.0, 3.0, 9.0, 1.0, 2.0, 4.0]})
    fits = hardware_trends.fit_each(long, "v")
    assert list(fits) == ["a", "b"]  # as groupby
    assert math.isclose(fits["a"].per_2_years, 2.0) and math.isclose(fits["b"].per_2_years, 3.0)
    assert fits["b"] == fit_exponential(years, [1.0, 3.0, 9.0])


def test_fit_each_with_labels_picks_and_orders_series():
    long = pd.DataFrame({"s": ["x", "x", "y", "y", "z"], "year": [2000.0, 2002.0, 2000.0, 2002.0, 2001.0],
                         "date": pd.to_datetime(["2000-01-01"] * 5), "v": [1.0, 4.0, 1.0, 2.0, 5.0]})
    fits = hardware_trends.fit_each(long, "v", name="s", labels=["y", "x"])
    assert list(fits) == ["y", "x"] and math.isclose(fits["x"].per_2_years, 4.0)
    with pytest.raises(ValueError, match=r"no rows labelled 'w' in column 's'; present: 'x', 'y', 'z'"):
        hardware_trends.fit_each(long, "v", name="s", labels=["w"])
    with pytest.raises(ValueError, match="at least 2"):
        hardware_trends.fit_each(long, "v", name="s", labels=["z"])


# --- glue_claim / in_units ----------------------------------------------------------------------------------

def test_glue_claim_glues_the_ledger_value(glued):
    from memwall import claims

    row = claims.evaluate("hw-flops-per-2y")
    book.glue_claim("ours", "hw-flops-per-2y")
    book.glue_claim("ext", "hw-flops-per-2y", "ours_extended")
    book.glue_claim("printed", "hw-flops-per-2y", "paper_value")
    assert glued["ours"][0] == row["ours_paper_data"] and glued["ext"][0] == row["ours_extended"]
    assert glued["printed"][0] == 3.0  # the paper's legend: 3.0x per 2 years (arXiv 2403.14123, Fig. 1)


def test_glue_claim_rejects_bad_values(glued):
    with pytest.raises(ValueError, match="value='ours' is not one of"):
        book.glue_claim("k", "hw-flops-per-2y", "ours")
    with pytest.raises(ValueError, match="not registered"):
        book.glue_claim("k", "no-such-claim")
    with pytest.raises(ValueError, match="no numeric"):
        book.glue_claim("k", "mit-decode-memory-bound", "paper_value")  # a yes/no claim
    assert "k" not in glued


def test_in_units_converts_and_relabels():
    frame = pd.DataFrame({"time_per_token_s": [0.004, 0.02], "footprint_bytes": [16e9, 80e9], "batch": [1, 8]})
    shown = book.in_units(frame, {"time_per_token_s": "ms", "footprint_bytes": "GB"})
    assert list(shown.columns) == ["time_per_token [ms]", "footprint [GB]", "batch"]
    assert shown["time_per_token [ms]"].tolist() == [4.0, 20.0] and shown["footprint [GB]"].tolist() == [16.0, 80.0]
    assert frame["time_per_token_s"].tolist() == [0.004, 0.02]  # the input is not changed
    with pytest.raises(ValueError, match="no field"):
        book.in_units(frame, {"latency_s": "ms"})
