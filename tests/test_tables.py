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
        ("release_date", "\uff12\uff10\uff12\uff10-05", "must be a date"),  # full-width digits
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


# ---------------------------------------------------------------------------------------------
# Corrupted text: each class rejected by read_validated_csv, naming file, line and column.

_RULES = {
    "device": tables.ColumnRule("str", True),
    "bandwidth_gb_per_s": tables.ColumnRule("float", False),
    "count": tables.ColumnRule("int", False),
    "source_url": tables.ColumnRule("str", True, (tables.url_check(),)),
    "notes": tables.ColumnRule("str", False),
}
_HEADER = "device,bandwidth_gb_per_s,count,source_url,notes"
_ROWS = ["H100 SXM,3350,8,https://www.nvidia.com/en-us/data-center/h100/,fine",
         'A100 SXM4,2039,,https://www.nvidia.com/a100,"HBM2e, 5 stacks"']


def _write(tmp_path: Path, text: str | bytes, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def _rejected(path: Path, line: int, column: str, reason: str) -> str:
    with pytest.raises(DataValidationError) as err:
        tables.read_validated_csv(path, _RULES, key="device")
    message = str(err.value)
    place = rf"{path.name}: line {line} \(.*\), column {re.escape(repr(column))}\W"
    assert re.search(rf"{place}.*{reason}", message), message
    return message


def test_sound_text_reads_the_same_with_lf_or_crlf(tmp_path):
    lf = tables.read_validated_csv(_write(tmp_path, "\n".join([_HEADER, *_ROWS]) + "\n", "lf.csv"), _RULES)
    crlf = tables.read_validated_csv(_write(tmp_path, "\r\n".join([_HEADER, *_ROWS]) + "\r\n", "crlf.csv"), _RULES)
    pd.testing.assert_frame_equal(lf, crlf)
    assert lf.loc[1, "notes"] == "HBM2e, 5 stacks" and lf.loc[0, "count"] == 8 and pd.isna(lf.loc[1, "count"])


@pytest.mark.parametrize(("char", "name"), [
    ("\x00", "NUL"), ("\x1b", "ESC"), ("\x7f", "DEL"), ("\t", "TAB"), ("\r", "CR"), ("\x85", ""),
    ("\u200b", "ZERO WIDTH SPACE"), ("\u00a0", "NO-BREAK SPACE"), ("\u2028", "LINE SEPARATOR"),
    ("\ufeff", "ZERO WIDTH NO-BREAK SPACE"), ("\u202e", "RIGHT-TO-LEFT OVERRIDE"),
])
@pytest.mark.parametrize("column", ["device", "notes"])
def test_control_and_format_characters_rejected(tmp_path, char, name, column):
    """Tabs are rejected too: no table needs one, and a tab in a name is invisible in review."""
    row = _ROWS[1].replace("A100 SXM4", f"A100{char}SXM4") if column == "device" else \
        _ROWS[1].replace("5 stacks", f"5{char}stacks")
    code = f"U\\+{ord(char):04X}" + (rf" \({name}\)" if name else "")
    path = _write(tmp_path, "\n".join([_HEADER, _ROWS[0], row]) + "\n")
    _rejected(path, 3, column, f"contains the character {code}:")


@pytest.mark.parametrize(("row", "column", "reason"), [
    ('H100"x,3350,8,https://www.nvidia.com/h100,ok', "device", "a double quote inside an unquoted field"),
    ('"H100 SXM,3350,8,https://www.nvidia.com/h100,ok', "device", "a quote opens this field and is not closed"),
    ('"H100"x,3350,8,https://www.nvidia.com/h100,ok', "device", "text follows the closing quote"),
    ('H100,3350,8,https://www.nvidia.com/h100,"unclosed note', "notes", "a quote opens this field and is not closed"),
    ('H100,3350,8,https://www.nvidia.com/h100', "notes", "the row has 4 fields, the header has 5"),
    ('H100,3350,8,https://www.nvidia.com/h100,ok,extra', "6 (beyond the header's 5)", "the row has 6 fields"),
])
def test_stray_quotes_and_wrong_widths_rejected(tmp_path, row, column, reason):
    path = _write(tmp_path, "\n".join([_HEADER, _ROWS[0], row, _ROWS[1]]) + "\n")
    with pytest.raises(DataValidationError) as err:
        tables.read_validated_csv(path, _RULES, key="device")
    message = str(err.value)
    assert "t.csv: not a readable CSV table" in message
    named = re.escape(repr(column)) if column[0].isalpha() else re.escape(column)
    assert re.search(rf"t\.csv: line 3 \(data row 2.*\), column {named}, character [0-9]+: {reason}", message), message


def test_unclosed_quote_does_not_swallow_the_next_rows(tmp_path):
    """Python's csv module reads an unclosed quote's cell to the end of the file; each line is a record here."""
    rows = [_ROWS[0].replace("fine", '"fine'), _ROWS[1], _ROWS[1].replace("A100 SXM4", "A100 PCIe")]
    path = _write(tmp_path, "\n".join([_HEADER, *rows]) + "\n")
    _rejected(path, 2, "notes", "a quote opens this field and is not closed")
    with pytest.raises(DataValidationError) as err:
        tables.read_validated_csv(path, _RULES)
    assert len(err.value.problems) == 2 and "line 2" in err.value.problems[1]  # the head line, then line 2 only


@pytest.mark.parametrize("cut", ["https://www.nvid", "https://www.nvidia.com/a1", "https://www.nvidia.com/a100,HB"])
def test_truncated_last_row_rejected(tmp_path, cut):
    """A file cut inside its last row, line break lost: a cut-off URL is still a well-formed URL, but the missing
    line break gives it away."""
    last = _ROWS[1][:_ROWS[1].index("https://")] + cut
    column = "notes" if "," in cut else "source_url"
    _rejected(_write(tmp_path, "\n".join([_HEADER, _ROWS[0], last])), 3, column,
              "the file ends without a line break after this cell")


@pytest.mark.parametrize("url", ["https://", "https://www", "https://www.", "https:/www.nvidia.com",
                                 "https://www.nvidia.c0m/x", "https://www.nvidia.com x"])
def test_url_cut_inside_its_host_rejected(tmp_path, url):
    row = _ROWS[1].replace("https://www.nvidia.com/a100", url)
    _rejected(_write(tmp_path, "\n".join([_HEADER, _ROWS[0], row]) + "\n"), 3, "source_url",
              r"must be one http\(s\):// URL")


@pytest.mark.parametrize("text", ["1_555", "\uff11\uff15\uff15\uff15", "\u0661\u0665\u0665\u0665", '"1,555"',
                                  "1 555", "+1555", "0x1F", "1555.", ".5", "\u22125", "1.5.5", "1e", "12\u00b3"])
def test_numbers_in_plain_ascii_notation_only(tmp_path, text):
    row = _ROWS[1].replace("2039", text)
    shown = re.escape(repr(text.strip('"')))
    _rejected(_write(tmp_path, "\n".join([_HEADER, _ROWS[0], row]) + "\n"), 3, "bandwidth_gb_per_s",
              f"is not a number; got {shown}")


@pytest.mark.parametrize("text", ["8.0", "1e3", "+8", "\uff18", "8_0"])
def test_integers_in_plain_ascii_digits_only(tmp_path, text):
    row = _ROWS[0].replace(",8,", f",{text},")
    _rejected(_write(tmp_path, "\n".join([_HEADER, row, _ROWS[1]]) + "\n"), 2, "count", "is not an integer")


def test_plain_numbers_accepted(tmp_path):
    rows = [_ROWS[0].replace("3350", value).replace("H100 SXM", f"H{i}") for i, value in
            enumerate(["-0.5", "1.2e3", "7E-2", "0012"])]
    table = tables.read_validated_csv(_write(tmp_path, "\n".join([_HEADER, *rows]) + "\n"), _RULES)
    assert list(table["bandwidth_gb_per_s"]) == [-0.5, 1200.0, 0.07, 12.0]


@pytest.mark.parametrize("byte", [b"\xe9", b"\x80", b"\xc3", b"\xff"])
def test_encoding_error_by_line_and_column(tmp_path, byte):
    row = _ROWS[1].encode().replace(b"stacks", b"st" + byte + b"acks")
    path = _write(tmp_path, b"\n".join([_HEADER.encode(), _ROWS[0].encode(), row]) + b"\n")
    character = row.index(byte) + 1  # the line is ASCII before the bad byte
    _rejected(path, 3, "notes", rf"character {character}: is not valid UTF-8: byte 0x{byte.hex().upper()}")


def test_byte_order_mark_rejected(tmp_path):
    path = _write(tmp_path, b"\xef\xbb\xbf" + "\n".join([_HEADER, *_ROWS]).encode() + b"\n")
    _rejected(path, 1, "device", "the file starts with a UTF-8 byte-order mark")


@pytest.mark.parametrize(("header", "column", "reason"), [
    ("device,device,count,source_url,notes", "device", "appears twice in the header"),
    ("device,,count,source_url,notes", "", "is empty"),
])
def test_bad_header_names(tmp_path, header, column, reason):
    _rejected(_write(tmp_path, "\n".join([header, *_ROWS]) + "\n"), 1, column, reason)


def test_bad_header_quote_stops_the_read(tmp_path):
    path = _write(tmp_path, "\n".join(['device,"bandwidth_gb_per_s,count,source_url,notes', *_ROWS]) + "\n")
    with pytest.raises(DataValidationError) as err:
        tables.read_validated_csv(path, _RULES)
    assert err.value.problems == ["t.csv: not a readable CSV table", "t.csv: line 1 (header), column 2, character 8: "
                                  "a quote opens this field and is not closed on its line (one record per line); "
                                  "got '\"bandwidth_gb_per_s,count,source_url,not'"]
