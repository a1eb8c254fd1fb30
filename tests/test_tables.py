"""Data tables: the shipped tables validate; each kind of bad row is rejected with file, line and column."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from memwall import tables
from memwall.tables import DataValidationError

from .conftest import DATA
from .conftest import edit_csv_cell as _edit

TABLES = ["hardware.csv", "memory_generations.csv", "interconnects.csv", "paper_hw_scaling_points.csv",
          "survey_case_study.csv", "reference_measurements.csv"]


def test_shipped_tables_validate():
    hw = tables.load_hardware()
    assert len(hw) >= 50
    assert hw["device"].is_unique
    assert hw["year"].between(1996, 2027).all()
    assert len(tables.load_memory_generations()) >= 15
    assert len(tables.load_interconnects()) >= 12
    points = tables.load_paper_hw_points()
    assert points.groupby("series").size().to_dict() == {
        "flops": 37, "dram_bandwidth": 12, "interconnect_bandwidth": 10}


def test_required_devices_present():
    names = " | ".join(tables.load_hardware()["device"]).lower()
    for needle in ["r10000", "gold 6242", "g80", "b200", "b300", "mi100", "mi355x", "tpu v2", "tpu7x",
                   "gaudi ?2", "gaudi ?3", "epyc", "h100", "a100", "v100", "k40", "gtx 580"]:
        assert re.search(needle, names), f"hardware.csv lacks a device matching {needle!r}"
    kinds = set(tables.load_hardware()["kind"])
    assert {"cpu", "gpu", "tpu"} <= kinds


def test_every_column_is_documented(root):
    dictionary = (root / "data" / "README.md").read_text(encoding="utf-8")
    for rules in (tables.HARDWARE_RULES, tables.MEMORY_RULES, tables.INTERCONNECT_RULES,
                  tables.PAPER_POINT_RULES, tables.SURVEY_RULES, tables.REFERENCE_RULES, tables.PRUNING_RULES,
                  tables.ONCHIP_RULES, tables.MEMORY_TIER_RULES, tables.RECOMMENDATION_RULES,
                  tables.OPTIMIZER_MEMORY_RULES, tables.MLPERF_RESULT_RULES, tables.MLPERF_WORKLOAD_RULES):
        for column in rules:
            assert f"`{column}`" in dictionary, f"data/README.md does not document column {column!r}"


def test_dense_not_sparse_sanity():
    # A100's dense BF16 peak is 312 TFLOP/s (624 is the 2:4-sparse figure):
    # https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf
    hw = tables.load_hardware().set_index("device")
    a100 = [d for d in hw.index if "A100" in d and "40" in d]
    assert a100 and hw.loc[a100[0], "dense_fp16_tflop_per_s"] == pytest.approx(312, rel=0.01)


# ---------------------------------------------------------------------------------------------
# Bad rows: copy the real tables to a temp folder, break one cell, expect a named error.


def _copy_tables(tmp_path: Path) -> Path:
    for name in TABLES:
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path




def _load_hw(d: Path):
    return tables.load_hardware(d / "hardware.csv", d / "memory_generations.csv")


def test_loads_are_remembered_by_content_and_copied(tmp_path):
    """A table is validated once per content: every call gets its own copy, an edit is read, a bad edit raises."""
    d = _copy_tables(tmp_path)
    first = _load_hw(d)
    first.loc[0, "memory_bandwidth_gb_per_s"] = -1.0  # a caller's edit must not reach the next caller
    again = _load_hw(d)
    assert again is not first and again.loc[0, "memory_bandwidth_gb_per_s"] > 0
    pd.testing.assert_frame_equal(again, tables.load_hardware())
    device = _edit(d / "hardware.csv", 5, "memory_bandwidth_gb_per_s", "12345")
    assert _load_hw(d).set_index("device").loc[device, "memory_bandwidth_gb_per_s"] == 12345.0
    _edit(d / "memory_generations.csv", 0, "name", "HBM9")  # a hardware row's memory_type is now unknown
    for _ in range(2):  # failures are not remembered
        with pytest.raises(DataValidationError, match="memory_type"):
            _load_hw(d)


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("memory_bandwidth_gb_per_s", "-3", r"must be > 0 \[GB/s\]; got -3"),
        ("memory_bandwidth_gb_per_s", "fast", "is not a number; got 'fast'"),
        ("release_date", "2020-13", "must be a date written YYYY-MM or YYYY-MM-DD, between 1940 and 20..; "
                                    "got '2020-13'"),
        ("release_date", "2099-01", "between 1940 and"),
        ("memory_bandwidth_gb_per_s", "inf", "is not a finite number"),
        ("memory_bandwidth_gb_per_s", "NaN", "is not a finite number"),
        ("memory_bandwidth_gb_per_s", "1e400", "must be finite"),
        ("vendor", "NVIDIA ", "has leading or trailing spaces"),
        ("release_date", "May 2020", "must be a date"),
        ("source_url", "", "is empty but required"),
        ("source_url", "datasheet.pdf", r"must be one http\(s\):// URL"),
        ("fp16_unit", "tensorish", "must be one of: matrix, vector; got 'tensorish'"),
        ("memory_type", "HBM9", "must be one of: .*HBM3e.*; got 'HBM9'"),
        ("kind", "fpga", "must be one of: cpu, gpu, tpu, accelerator; got 'fpga'"),
        ("confidence", "D", "must be one of: A, B, C; got 'D'"),
    ],
)
def test_bad_hardware_cell(tmp_path, column, value, reason):
    d = _copy_tables(tmp_path)
    row = 5
    if column == "fp16_unit":  # pick a row that has a 16-bit peak so only the vocabulary is wrong
        raw = pd.read_csv(d / "hardware.csv", dtype=str)
        row = int(raw["dense_fp16_tflop_per_s"].notna().to_numpy().nonzero()[0][0])
    device = _edit(d / "hardware.csv", row, column, value)
    with pytest.raises(DataValidationError) as err:
        _load_hw(d)
    message = str(err.value)
    assert "hardware.csv" in message
    assert f"line {row + 2} (data row {row + 1}, device={device!r})" in message
    assert f"column {column!r}" in message
    assert re.search(reason, message), message


def test_duplicate_device(tmp_path):
    d = _copy_tables(tmp_path)
    path = d / "hardware.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join([*lines, lines[3]]), encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"column 'device': duplicate value") as err:
        _load_hw(d)
    assert f"line {len(lines) + 1}" in str(err.value)


def test_unknown_column(tmp_path):
    d = _copy_tables(tmp_path)
    path = d / "hardware.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",dense_fp4_tflop_per_s"] + [ln + "," for ln in lines[1:]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"column 'dense_fp4_tflop_per_s': is not a known column"):
        _load_hw(d)


def test_unit_without_value(tmp_path):
    d = _copy_tables(tmp_path)
    raw = pd.read_csv(d / "hardware.csv", dtype=str)
    row = int(raw["dense_fp16_tflop_per_s"].isna().to_numpy().nonzero()[0][0])
    _edit(d / "hardware.csv", row, "fp16_unit", "matrix")
    with pytest.raises(DataValidationError, match="'fp16_unit' must be given exactly when"):
        _load_hw(d)


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("series", "sram_bandwidth", "must be one of: flops, dram_bandwidth, interconnect_bandwidth"),
        ("precision", "fp4", "must be one of: fp32, fp64, fp16_vector, fp16_matrix; got 'fp4'"),
        ("normalized_value", "0", "must be > 0"),
        ("date", "2022-02-30", "must be a date"),
    ],
)
def test_bad_paper_point(tmp_path, column, value, reason):
    d = _copy_tables(tmp_path)
    _edit(d / "paper_hw_scaling_points.csv", 2, column, value)
    with pytest.raises(DataValidationError, match=reason) as err:
        tables.load_paper_hw_points(d / "paper_hw_scaling_points.csv")
    assert "line 4" in str(err.value) and f"column {column!r}" in str(err.value)


def test_bad_memory_bandwidth_product(tmp_path):
    d = _copy_tables(tmp_path)
    _edit(d / "memory_generations.csv", 0, "bandwidth_per_device_gb_per_s", "999")
    with pytest.raises(DataValidationError, match="pin rate x width / 8"):
        tables.load_memory_generations(d / "memory_generations.csv")


def test_bad_interconnect_rate(tmp_path):
    d = _copy_tables(tmp_path)
    name = _edit(d / "interconnects.csv", 1, "lane_rate_gbit_per_s", "-2.5")
    with pytest.raises(DataValidationError, match=rf"line 3 \(data row 2, name={name!r}\), column "
                                                  r"'lane_rate_gbit_per_s': must be > 0"):
        tables.load_interconnects(d / "interconnects.csv")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        tables.load_interconnects(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("model", "GPT-3", "must be one of: BERT-Base, BERT-Large, GPT-2"),
        ("unit", "GB", "unit must match metric"),
        ("seq_len", "12.5", "is not an integer"),
    ],
)
def test_bad_survey_row(tmp_path, column, value, reason):
    d = _copy_tables(tmp_path)
    _edit(d / "survey_case_study.csv", 0, column, value)
    with pytest.raises(DataValidationError, match=reason) as err:
        tables.load_survey_case_study(d / "survey_case_study.csv")
    assert "survey_case_study.csv: line 2" in str(err.value)


def test_missing_column_is_named(tmp_path):
    d = _copy_tables(tmp_path)
    raw = pd.read_csv(d / "hardware.csv", dtype=str, keep_default_na=False)
    raw.drop(columns="tdp_w").to_csv(d / "hardware.csv", index=False)
    with pytest.raises(DataValidationError, match=r"column 'tdp_w': is missing from the header"):
        _load_hw(d)


def test_blank_lines_do_not_shift_line_numbers(tmp_path):
    d = _copy_tables(tmp_path)
    path = d / "hardware.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[10] = lines[10].replace("https://", "ftp://", 1)
    lines.insert(5, "")  # a blank line before the bad row: the bad row is now on line 12
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"line 12 \(data row 10,"):
        _load_hw(d)


def test_unreadable_and_empty_tables(tmp_path):
    d = _copy_tables(tmp_path)
    path = d / "interconnects.csv"
    header = path.read_text(encoding="utf-8").splitlines()[0]
    path.write_text(header + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"interconnects\.csv: has 0 data rows; at least 1 needed"):
        tables.load_interconnects(path)
    path.write_text("", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"interconnects\.csv: not a readable CSV table"):
        tables.load_interconnects(path)
    path.write_text(header + "\n" + ",".join(["x"] * 40) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"interconnects\.csv: not a readable CSV table"):
        tables.load_interconnects(path)


def test_duplicate_paper_point(tmp_path):
    d = _copy_tables(tmp_path)
    path = d / "paper_hw_scaling_points.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, lines[5]]) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="duplicate value"):
        tables.load_paper_hw_points(path)
