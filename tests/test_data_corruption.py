"""Corrupted data is never accepted: every class of corruption, in every table, is rejected by the folder check
with a message naming file, line and column; every table's status is reported whatever else failed."""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pytest

from memwall import tables
from memwall.cli import main
from memwall.tables.folder_check import DataFolderError, check_folder, table_names, validate_folder

from .conftest import DATA
from .conftest import edit_csv_cell as _edit

RULES = {
    "hardware.csv": tables.HARDWARE_RULES, "memory_generations.csv": tables.MEMORY_RULES,
    "interconnects.csv": tables.INTERCONNECT_RULES, "paper_hw_scaling_points.csv": tables.PAPER_POINT_RULES,
    "survey_case_study.csv": tables.SURVEY_RULES, "reference_measurements.csv": tables.REFERENCE_RULES,
    "models.csv": tables.MODEL_RULES, "paper_model_points.csv": tables.PAPER_MODEL_POINT_RULES,
    "paper_training_memory.csv": tables.PAPER_TRAINING_MEMORY_RULES,
    "gpu_reference_measurements.csv": tables.GPU_REFERENCE_RULES, "pruning_results.csv": tables.PRUNING_RULES,
    "onchip_memory.csv": tables.ONCHIP_RULES, "memory_tiers.csv": tables.MEMORY_TIER_RULES,
    "recommendation_models.csv": tables.RECOMMENDATION_RULES,
    "optimizer_memory_published.csv": tables.OPTIMIZER_MEMORY_RULES,
    "mlperf_llm_workloads.csv": tables.MLPERF_WORKLOAD_RULES, "mlperf_llm_results.csv": tables.MLPERF_RESULT_RULES,
}
TABLES = sorted(p.name for p in DATA.glob("*.csv"))

# characters no cell may hold (each in the middle of a cell's text)
BAD_CHARACTERS = {"NUL": "\x00", "ESC": "\x1b", "DEL": "\x7f", "TAB": "\t", "CR": "\r", "ZERO WIDTH SPACE": "\u200b",
                  "NO-BREAK SPACE": "\u00a0", "LINE SEPARATOR": "\u2028", "BYTE ORDER MARK": "\ufeff",
                  "RIGHT-TO-LEFT OVERRIDE": "\u202e", "C1 CONTROL": "\x85"}
# bytes that are not UTF-8 (a Latin-1 'é', a lone continuation byte, a truncated two-byte sequence)
BAD_BYTES = {"latin-1": b"\xe9", "continuation": b"\x80", "truncated": b"\xc3"}
# number text that Python's float() or pandas would read, or that is not plain ASCII decimal notation
BAD_NUMBERS = ["1_555", "\uff11\uff15\uff15\uff15", "\u0661\u0665\u0665\u0665", "\u09e7\u09eb", "1,555", "1 555",
               "+1555", "0x1F", "1555.", ".5", "\u22125", "1.5.5", "1e", "Infinity", "nan", "12\u00b3"]
# source URLs cut inside the host
BAD_URLS = ["https://", "https://www", "https://www.", "https:/www.nvidia.com"]


def _split(data: bytes) -> tuple[list[bytes], bytes]:
    newline = b"\r\n" if data.endswith(b"\r\n") else b"\n"
    lines = data.split(newline)
    assert lines[-1] == b"" and all(lines[:-1]), "the test expects no blank lines and a final line break"
    return lines[:-1], newline


def _fields(line: bytes) -> list[str]:
    return next(csv.reader([line.decode("utf-8")]))


def _quoted(value: str) -> bytes:
    if not value:
        return b""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([value])
    return out.getvalue().encode("utf-8")


def _set_raw(data: bytes, row: int, column: str, raw: bytes) -> bytes:
    """The table with the cell (data row ``row``, ``column``) written as the bytes ``raw``, exactly."""
    lines, newline = _split(data)
    k = _fields(lines[0]).index(column)
    fields = [_quoted(v) for v in _fields(lines[row + 1])]
    fields[k] = raw
    lines[row + 1] = b",".join(fields)
    return newline.join(lines) + newline


def _cell(data: bytes, row: int, column: str) -> str:
    lines, _ = _split(data)
    return _fields(lines[row + 1])[_fields(lines[0]).index(column)]


def _plain(value: str) -> str:
    """A cell's text without quotes or commas, so that it can be written unquoted."""
    return value.replace('"', "").replace(",", ";")[:30] or "x"


def _columns(table: str, dtypes: tuple[str, ...]) -> list[str]:
    return [c for c, rule in RULES[table].items() if rule.dtype in dtypes]


def _url_column(table: str) -> str | None:
    return next((c for c, rule in RULES[table].items() if any("http" in str(ch.error) for ch in rule.checks)), None)


def corruptions(table: str, data: bytes) -> list[tuple[str, bytes, int, str | None]]:
    """Every corruption of ``table``: (what, corrupted bytes, line it lies on, column it lies in (None: any))."""
    lines, newline = _split(data)
    texts, numbers = _columns(table, ("str",)), _columns(table, ("float", "int"))
    cases = []
    for i, (name, char) in enumerate(BAD_CHARACTERS.items()):
        column = texts[i % len(texts)]
        value = _cell(data, 1, column) or "x"
        cases.append((f"{name} in {column}", _set_raw(data, 1, column, _quoted(value[:1] + char + value[1:])), 3,
                      column))
    for i, (name, byte) in enumerate(BAD_BYTES.items()):
        column = texts[-1 - i % len(texts)]
        value = _plain(_cell(data, 1, column)).encode("utf-8")
        cases.append((f"{name} byte in {column}", _set_raw(data, 1, column, value[:1] + byte + value[1:]), 3, column))
    for i, (name, template) in enumerate({"a quote inside an unquoted field": '{0}"{1}',
                                          "an unclosed quote": '"{0}{1}',
                                          "text after the closing quote": '"{0}{1}"x'}.items()):
        column = texts[(i * 2) % len(texts)]
        value = _plain(_cell(data, 1, column))
        raw = template.format(value[:1], value[1:]).encode("utf-8")
        cases.append((f"{name} in {column}", _set_raw(data, 1, column, raw), 3, column))
    last = lines[-1]
    for fraction in (0.25, 0.5, 0.75):
        cut = max(1, int(len(last) * fraction))
        cases.append((f"last row cut at {fraction:.0%}", newline.join([*lines[:-1], last[:cut]]), len(lines), None))
    cases.append(("last line break missing", newline.join(lines), len(lines), None))
    cases.append(("last row missing fields", newline.join([*lines[:-1], b",".join(last.split(b",")[:2])]) + newline,
                  len(lines), None))
    url = _url_column(table)
    if url:
        value = _cell(data, len(lines) - 2, url)
        cut = newline.join([*lines[:-1], last[:last.index(value.encode()) + 16]])
        cases.append((f"last row cut inside its {url}", cut, len(lines), url))
        cases += [(f"{url} {bad!r}", _set_raw(data, 1, url, bad.encode()), 3, url) for bad in BAD_URLS]
    for i, bad in enumerate(BAD_NUMBERS):
        if numbers:
            column = numbers[i % len(numbers)]
            cases.append((f"{column} {bad!r}", _set_raw(data, 1, column, _quoted(bad)), 3, column))
    cases.append(("a byte-order mark", b"\xef\xbb\xbf" + data, 1, _fields(lines[0])[0]))
    return cases


def _names_place(problems: tuple[str, ...], table: str, line: int, column: str | None) -> bool:
    named = re.escape(repr(column)) if column else "(?:'[^']+'|[0-9]+)"
    return any(re.match(rf"{re.escape(table)}: line {line} \(.*\), column {named}", p) for p in problems)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pristine")
    for f in [*DATA.glob("*.csv"), *DATA.glob("*.json")]:
        shutil.copy(f, folder / f.name)
    return folder


def test_every_table_has_rules_and_is_checked():
    assert sorted(RULES) == TABLES
    assert sorted(n for n in table_names() if n.endswith(".csv")) == TABLES


def test_pristine_folder_passes(pristine):
    report = validate_folder(pristine)
    assert report.ok and not report.problems
    assert list(report.frame()["table"]) == table_names()
    assert set(report.frame()["status"]) == {"ok"}


@pytest.mark.parametrize("table", TABLES)
def test_no_corruption_accepted(table, pristine, tmp_path):
    """Each corruption class applied to the table (one at a time, in a copy of the folder): the folder check
    rejects it, naming the table, the line and the column of the corrupted cell."""
    folder = tmp_path / "data"
    shutil.copytree(pristine, folder)
    data = (pristine / table).read_bytes()
    accepted, unnamed = [], []
    cases = corruptions(table, data)
    assert len(cases) >= 20
    for what, corrupted, line, column in cases:
        assert corrupted != data, what
        (folder / table).write_bytes(corrupted)
        status = next(t for t in check_folder(folder).tables if t.table == table)
        if not status.status.startswith("INVALID"):
            accepted.append(f"{what}: status {status.status!r}")
        elif not _names_place(status.problems, table, line, column):
            unnamed.append(f"{what}: no problem names line {line}, column {column!r}: {list(status.problems)}")
    (folder / table).write_bytes(data)
    assert check_folder(folder).ok
    assert not accepted, f"{len(accepted)} corruptions of {table} accepted:\n" + "\n".join(accepted)
    assert not unnamed, "\n".join(unnamed)


# ---------------------------------------------------------------------------------------------
# Every table's status, whatever else failed.


def _break(folder: Path, table: str, row: int, column: str, value: str) -> None:
    _edit(folder / table, row, column, value)


def _statuses(folder: Path) -> dict[str, str]:
    return {t.table: t.status for t in check_folder(folder).tables}


def test_bad_memory_generations_hides_nothing(pristine, tmp_path, capsys):
    folder = tmp_path / "data"
    shutil.copytree(pristine, folder)
    _break(folder, "memory_generations.csv", 1, "source_url", "ftp://example.com")
    device = _edit(folder / "hardware.csv", 4, "memory_bandwidth_gb_per_s", "-5")
    with pytest.raises(DataFolderError) as err:
        validate_folder(folder)
    by_table = {t["table"]: t for t in err.value.tables}
    assert list(by_table) == table_names()
    assert by_table["memory_generations.csv"]["status"] == "INVALID"
    assert by_table["hardware.csv"]["status"] == "INVALID; foreign keys not checked (memory_generations.csv is invalid)"
    assert by_table["hardware.csv"]["problems"] == 1
    hardware_problem = f"hardware.csv: line 6 (data row 5, device={device!r}), column 'memory_bandwidth_gb_per_s'"
    assert any(p.startswith(hardware_problem) for p in err.value.problems)
    assert any(p.startswith("memory_generations.csv: line 3") for p in err.value.problems)
    assert by_table["onchip_memory.csv"]["status"] == "ok except foreign keys not checked (hardware.csv is invalid)"
    assert by_table["interconnects.csv"]["status"] == "ok"
    # the command line lists every table's status and hardware.csv's own problem
    assert main(["validate", "--data-dir", str(folder)]) == 1
    captured = capsys.readouterr()
    out = captured.out + captured.err
    for name in table_names():
        assert re.search(rf"{re.escape(name)}\W+(ok|INVALID|MISSING)", out), f"no status for {name}"
    assert hardware_problem in out
    assert "foreign keys not checked (memory_generations.csv is invalid)" in out


def test_memory_generations_invalid_hardware_sound(pristine, tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(pristine, folder)
    _break(folder, "memory_generations.csv", 1, "confidence", "Z")
    statuses = _statuses(folder)
    assert statuses["hardware.csv"] == "ok except foreign keys not checked (memory_generations.csv is invalid)"
    for dependent in ("onchip_memory.csv", "memory_tiers.csv", "mlperf_llm_results.csv"):
        assert statuses[dependent] == "ok", dependent  # checked against hardware.csv's sound devices
    assert statuses["interconnects.csv"] == "ok"


def test_dependents_of_a_bad_hardware_table(pristine, tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(pristine, folder)
    _break(folder, "hardware.csv", 0, "kind", "fpga")
    statuses = _statuses(folder)
    assert statuses["hardware.csv"] == "INVALID"
    assert statuses["onchip_memory.csv"] == "ok except foreign keys not checked (hardware.csv is invalid)"
    assert statuses["memory_tiers.csv"] == ("ok except foreign keys into hardware.csv, interconnects.csv not checked "
                                            "(hardware.csv is invalid)")
    assert statuses["mlperf_llm_results.csv"] == "ok except foreign keys not checked (hardware.csv is invalid)"
    _break(folder, "onchip_memory.csv", 2, "sram_capacity_mib", "0")
    report = check_folder(folder)
    onchip = next(t for t in report.tables if t.table == "onchip_memory.csv")
    assert onchip.status == "INVALID; foreign keys not checked (hardware.csv is invalid)"
    assert len(onchip.problems) == 1 and "line 4" in onchip.problems[0] and "'sram_capacity_mib'" in onchip.problems[0]


def test_dependents_of_bad_links_and_workloads(pristine, tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(pristine, folder)
    _break(folder, "interconnects.csv", 0, "lane_rate_gbit_per_s", "fast")
    _break(folder, "mlperf_llm_workloads.csv", 0, "samples", "-1")
    statuses = _statuses(folder)
    assert statuses["memory_tiers.csv"] == ("ok except foreign keys into hardware.csv, interconnects.csv not checked "
                                            "(interconnects.csv is invalid)")
    assert statuses["mlperf_llm_results.csv"] == ("ok except foreign keys not checked "
                                                  "(mlperf_llm_workloads.csv is invalid)")
    assert statuses["onchip_memory.csv"] == "ok"


def test_missing_table_and_foreign_key_into_this_folder(pristine, tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(pristine, folder)
    (folder / "hardware.csv").unlink()
    statuses = _statuses(folder)
    assert statuses["hardware.csv"] == "MISSING"
    assert statuses["onchip_memory.csv"] == "ok except foreign keys not checked (hardware.csv is missing)"
    # a results row naming a device this folder's hardware.csv lacks is caught (not checked against data/)
    shutil.copy(pristine / "hardware.csv", folder / "hardware.csv")
    _break(folder, "mlperf_llm_results.csv", 0, "accelerator", "Imaginary X1")
    report = check_folder(folder)
    results = next(t for t in report.tables if t.table == "mlperf_llm_results.csv")
    assert results.status == "INVALID"
    assert any("line 2" in p and "'accelerator'" in p and "Imaginary X1" in p for p in results.problems)


def test_bad_example_config_and_repeated_checks(pristine, tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(pristine, folder)
    config = next(n for n in table_names() if n.endswith(".json"))
    (folder / config).write_text("{", encoding="utf-8")
    first, again = check_folder(folder), check_folder(folder)  # the second is answered from memory: the same
    assert first == again
    bad = [t for t in first.tables if t.status != "ok"]
    assert [t.table for t in bad] == [config] and bad[0].status == "INVALID"
    assert bad[0].problems[0].startswith(f"{config}: ")
