"""Devices by the names people type, the cached hardware records, custom devices and user tables on the CLI."""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from memwall import book, device_lookup, tables
from memwall.cli import main
from memwall.cli.parser import parse_quantity
from memwall.device_lookup import (
    DEVICE_ALIASES,
    MAX_LISTED,
    DeviceLookupError,
    device_names,
    device_row,
    find_device,
    hardware_records,
    normalize_device_name,
)
from memwall.serving import schemes
from memwall.tables import DataValidationError

from .conftest import DATA, ROOT


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory, monkeypatch):
    """Each test writes the records cache into a folder of its own, never the user's, and starts unremembered."""
    monkeypatch.setenv(device_lookup.CACHE_DIR_VARIABLE, str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setattr(device_lookup, "_RECORDS", {})


NAMES = list(tables.load_hardware()["device"])

TYPED = {
    "H100": book.H100,
    "h100": book.H100,
    "h100 sxm": book.H100,
    "H100-SXM5": book.H100,
    "h100sxm": book.H100,
    "h100 pcie": book.H100_PCIE,
    "MI300X": book.MI300X,
    "mi300x": book.MI300X,
    "A100": book.A100,
    "A100 80GB": book.A100,
    "a100 40gb": "A100 SXM4 40GB (Ampere)",
    "A100 PCIe": "A100 PCIe 80GB (Ampere)",
    "A10": "A10 (Ampere GA102)",
    "TPU v5e": book.TPU_V5E,
    "tpuv5e": book.TPU_V5E,
    "L40S": "L40S (Ada AD102)",
    "L4": "L4 (Ada AD104)",
    "B200": book.B200,
    "GB200": "GB200 (per Blackwell GPU, NVL72)",
    "H200": book.H200,
    "V100": book.V100,
    "gaudi 3": book.GAUDI3,
    "trillium": "Google TPU v6e (Trillium)",
    "h100 sxm5 80gb (hopper)": book.H100,
    book.XEON_GOLD_6242: book.XEON_GOLD_6242,
    "nvidia h100": book.H100,  # vendor words are dropped
    "AMD MI300X": book.MI300X,
    "google tpu v5e": book.TPU_V5E,
    "a100-40": "A100 SXM4 40GB (Ampere)",  # a number completes a capacity word: 40 -> 40GB
}


@pytest.mark.parametrize(("typed", "other_product"), [("H20", book.H200), ("L40", "L40S (Ada AD102)"),
                                                      ("mi300", book.MI300X)])
def test_a_model_number_is_never_completed_into_another_product(typed, other_product):
    with pytest.raises(DeviceLookupError) as err:
        find_device(typed, NAMES)
    assert not err.value.ambiguous and err.value.candidates[0] == other_product  # suggested, never picked


def test_empty_name_is_an_error():
    for typed in ("", "  ", "--"):
        with pytest.raises(DeviceLookupError, match="is empty"):
            find_device(typed, NAMES)


@pytest.mark.parametrize(("typed", "row"), TYPED.items())
def test_typed_names_find_the_intended_row(typed, row):
    assert find_device(typed, NAMES) == row


def test_every_alias_names_a_row_and_is_normalised():
    for alias, row in DEVICE_ALIASES.items():
        assert row in NAMES, f"alias {alias!r} names {row!r}, which is not in data/hardware.csv"
        assert normalize_device_name(alias) == alias
        assert find_device(alias.upper(), NAMES) == row


def test_alias_of_a_row_the_table_lacks_falls_back_to_the_words():
    names = ["H100 PCIe 80GB (Hopper)", "A10 (Ampere GA102)"]
    assert find_device("h100", names) == "H100 PCIe 80GB (Hopper)"


def test_ambiguous_name_lists_candidates():
    with pytest.raises(DeviceLookupError) as err:
        find_device("TPU", NAMES)
    assert err.value.ambiguous and err.value.typed == "TPU"
    assert set(err.value.candidates) >= {"Google TPU v1", "Google TPU v5e", "Google TPU v5p"}
    assert "device='TPU' matches" in str(err.value) and "'Google TPU v5e'" in str(err.value)
    with pytest.raises(DeviceLookupError) as err:
        find_device("tesla", NAMES)  # many: the message lists MAX_LISTED and counts the rest
    shown = str(err.value)
    assert len(err.value.candidates) > MAX_LISTED
    assert f"and {len(err.value.candidates) - MAX_LISTED} more" in shown and shown.count("'Tesla") == MAX_LISTED
    with pytest.raises(ValueError, match="matches 2 devices"):
        find_device("a100 sxm4", NAMES)


@pytest.mark.parametrize(("typed", "first"), [("mi30x", book.MI300X), ("hh100", None), ("rtx 5900", None)])
def test_unknown_name_suggests_the_closest_three(typed, first):
    with pytest.raises(DeviceLookupError) as err:
        find_device(typed, NAMES)
    assert not err.value.ambiguous and len(err.value.candidates) == 3
    assert f"device={typed!r} is not in the hardware table; closest: " in str(err.value)
    if first is not None:
        assert err.value.candidates[0] == first
    assert len(str(err.value)) < 300  # never the whole table on one line


def test_unknown_name_suggestions_are_near():
    with pytest.raises(DeviceLookupError) as err:
        find_device("hh100", NAMES)
    assert {book.H100, book.H100_PCIE} <= set(err.value.candidates)


def test_lookup_in_package_functions():
    hw = tables.load_hardware()
    assert schemes.ceilings_for(hw, "h100", "W16A16") == schemes.ceilings_for(hw, book.H100, "W16A16")
    assert schemes.ceilings_for(hw, "h100", "W16A16").name == book.H100
    assert schemes.device_memory_bytes(hw, "mi300x") == schemes.device_memory_bytes(hw, book.MI300X)
    from memwall.device_ceilings import ceilings_table
    from memwall.roofline import Ceilings

    assert list(ceilings_table(hw, ["fp16"], devices=["H100", "b200"])["device"]) == [book.H100, book.B200]
    assert Ceilings.from_hardware(hw, "tpu v5e", "bf16") == Ceilings.from_hardware(hw, book.TPU_V5E, "bf16")
    with pytest.raises(ValueError, match="device='Nope' is not in the hardware table; closest"):
        schemes.device_memory_bytes(hw, "Nope")


# ------------------------------------------------------------------------------------------ records


def _copy(tmp_path: Path) -> Path:
    for name in ("hardware.csv", "memory_generations.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path


def _set(path: Path, device: str, column: str, value: str) -> None:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    next(r for r in rows if r["device"] == device)[column] = value
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_records_are_the_validated_table():
    records = hardware_records()
    table = tables.load_hardware()
    assert device_names(records) == list(table["device"])
    h100 = device_row(records, "h100")
    row = table.set_index("device").loc[book.H100]
    assert h100["dense_fp16_tflop_per_s"] == row["dense_fp16_tflop_per_s"]
    assert h100["memory_capacity_gib"] == row["memory_capacity_gib"]
    assert h100["chip_to_chip_gb_per_s_per_direction"] == row["chip_to_chip_gb_per_s_per_direction"]
    assert device_row(records, "Google TPU v5e")["dense_fp8_tflop_per_s"] is None  # empty cell


def test_records_cache_is_keyed_by_content(tmp_path, monkeypatch):
    d = _copy(tmp_path)
    paths = (d / "hardware.csv", d / "memory_generations.csv")
    cache = Path(device_lookup._cache_dir())
    first = hardware_records(*paths)
    (stored,) = cache.glob("hardware-*.json")
    assert json.loads(stored.read_text())[0]["device"] == first[0]["device"]
    import memwall.tables.hardware as hardware_module

    def fail(*args, **kwargs):
        raise AssertionError("a cached table was validated again")

    with monkeypatch.context() as m:
        m.setattr(device_lookup, "_RECORDS", {})
        m.setattr(hardware_module, "load_hardware", fail)
        assert hardware_records(*paths) == first  # read from the cache file, not validated again
    _set(paths[0], book.H100, "memory_bandwidth_gb_per_s", "4321")  # an edit is never served stale
    assert device_row(hardware_records(*paths), "h100")["memory_bandwidth_gb_per_s"] == 4321.0
    assert len(list(cache.glob("hardware-*.json"))) == 2
    for f in cache.glob("hardware-*.json"):
        f.write_text("not json")  # a damaged cache is validated again
    monkeypatch.setattr(device_lookup, "_RECORDS", {})
    assert device_row(hardware_records(*paths), "h100")["memory_bandwidth_gb_per_s"] == 4321.0


def test_bad_table_is_not_cached(tmp_path):
    d = _copy(tmp_path)
    _set(d / "hardware.csv", book.H100, "memory_bandwidth_gb_per_s", "-1")
    for _ in range(2):
        with pytest.raises(DataValidationError, match=r"hardware.csv: line \d+ .*column 'memory_bandwidth_gb_per_s'"):
            hardware_records(d / "hardware.csv")
    assert not list(Path(device_lookup._cache_dir()).glob("hardware-*.json"))


def test_serve_is_light():
    """The serve path imports no pandas of its own: device_lookup, schemes and the CLI modules are stdlib at the top."""
    for module in ("memwall/device_lookup.py", "memwall/cli/commands.py", "memwall/cli/parser.py",
                   "memwall/cli/main.py", "memwall/cli/resolve.py", "memwall/cli/measure.py",
                   "memwall/serving/schemes.py", "memwall/roofline.py"):
        top = [ln for ln in (ROOT / module).read_text().splitlines() if ln.startswith(("import ", "from "))]
        assert not any("pandas" in ln or "pandera" in ln or "altair" in ln for ln in top), module


# ---------------------------------------------------------------------------------------------- CLI


def _serve(capsys, *args: str) -> list[dict]:
    assert main(["serve", "--model", "llama-3-8b", *args, "--format", "json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_serve_short_names(capsys):
    exact = _serve(capsys, "--device", book.H100)
    assert _serve(capsys, "--device", "h100") == exact
    assert _serve(capsys, "--device", "H100 SXM") == exact
    (row,) = _serve(capsys, "--device", "MI300X")
    assert row["device"] == book.MI300X


def test_serve_device_errors(capsys):
    assert main(["serve", "--model", "llama-3-8b", "--device", "TPU"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("memwall serve: error: device='TPU' matches 7 devices") and err.count("\n") == 1
    assert main(["serve", "--model", "llama-3-8b", "--device", "mi30x"]) == 1
    assert "device='mi30x' is not in the hardware table; closest: 'Instinct MI300X (CDNA3)'" in capsys.readouterr().err


def test_serve_custom_device(capsys):
    """A device given by its ceilings is the same as the table's row with those numbers."""
    table = _serve(capsys, "--device", "h100", "--batch", "1", "64")
    custom = _serve(capsys, "--peak-flops", "989.4T", "--bandwidth", "3.35e12", "--memory", "80Gi",
                    "--name", "my H100", "--batch", "1", "64")
    for a, b in zip(table, custom, strict=True):
        assert b["device"] == "my H100"
        for key in ("step_time_s", "tokens_per_s", "footprint_gb", "device_memory_gb", "fits", "max_batch",
                    "critical_batch_closed_form"):
            assert b[key] == pytest.approx(a[key]), key
    (bare,) = _serve(capsys, "--peak-flops", "1e15", "--bandwidth", "2TB/s")
    assert bare["device"] == "custom" and bare["device_memory_gb"] is None and bare["fits"] is None
    assert bare["critical_batch_closed_form"] == pytest.approx(1e15 / 2e12)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--device", "h100", "--peak-flops", "1e15"],
         "--peak-flops describes a device that is in no table and cannot be combined with --device 'h100'"),
        (["--peak-flops", "1e15"], "also needs --bandwidth"),
        (["--name", "x"], "also needs --peak-flops and --bandwidth"),
        ([], "give --device NAME"),
    ],
)
def test_serve_contradictory_device_options(capsys, args, message):
    with pytest.raises(SystemExit) as exc:  # a usage error (exit 2), one line naming the options
        main(["serve", "--model", "llama-3-8b", *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_quantity_rule():
    assert parse_quantity("989e12", "FLOP/s") == 989e12
    assert parse_quantity("989 TFLOP/s", "FLOP/s") == 989e12
    assert parse_quantity("3.35T", "B/s") == 3.35e12
    assert parse_quantity("80GiB", "B") == 80 * 2**30
    assert parse_quantity("80GB", "B") == 80e9
    for bad, unit in [("989t", "FLOP/s"), ("fast", "B/s"), ("0", "B"), ("-1T", "B"), ("3T B", "FLOP/s"),
                      ("80i", "B"), ("inf", "B")]:
        with pytest.raises(argparse.ArgumentTypeError, match=repr(bad).replace("\\", "")):
            parse_quantity(bad, unit)


def test_bad_quantity_names_option(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--model", "llama-3-8b", "--peak-flops", "lots", "--bandwidth", "1T"])
    assert "argument --peak-flops: 'lots' is not a quantity in FLOP/s" in capsys.readouterr().err


def test_hardware_csv(tmp_path, capsys):
    own = tmp_path / "mine.csv"
    with (DATA / "hardware.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    keep = [r for r in rows if r["device"] in (book.H100, book.H100_PCIE)]
    keep[0] = {**keep[0], "device": "Lab H100 (power-capped)", "dense_fp16_tflop_per_s": "500"}
    with own.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(keep)
    (row,) = _serve(capsys, "--hardware", str(own), "--device", "lab h100")
    assert row["device"] == "Lab H100 (power-capped)"
    assert row["critical_batch_closed_form"] == pytest.approx(500e12 / (float(keep[0]["memory_bandwidth_gb_per_s"])
                                                                        * 1e9))
    assert main(["serve", "--model", "llama-3-8b", "--hardware", str(own), "--device", "b200"]) == 1
    assert f"device='b200' is not in --hardware {str(own)!r}; closest" in capsys.readouterr().err
    assert main(["roofline", "--hardware", str(own), "--device", "lab", "--format", "json"]) == 0
    (ceil,) = json.loads(capsys.readouterr().out)
    assert ceil["peak_tflop_per_s"] == 500.0
    assert main(["devices", "--hardware", str(own), "--format", "csv"]) == 0
    assert capsys.readouterr().out.count("\n") == 3


def test_bad_hardware_csv_names_file_line_column(tmp_path, capsys):
    own = tmp_path / "mine.csv"
    shutil.copy(DATA / "hardware.csv", own)
    _set(own, book.H100, "memory_bandwidth_gb_per_s", "fast")
    assert main(["serve", "--model", "llama-3-8b", "--hardware", str(own), "--device", "h100"]) == 1
    err = capsys.readouterr().err
    assert "mine.csv: line " in err and f"device={book.H100!r}" in err
    assert "column 'memory_bandwidth_gb_per_s': is not a number; got 'fast'" in err
    assert main(["serve", "--model", "llama-3-8b", "--hardware", str(tmp_path / "none.csv"), "--device", "x"]) == 1
    assert "data table not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--model", "llama-3-8b", "--hardware", str(own), "--peak-flops", "1T", "--bandwidth", "1T"])
    assert exc.value.code == 2
    assert "cannot be combined with --hardware" in capsys.readouterr().err


def test_roofline_custom_and_short_names(capsys):
    assert main(["roofline", "--device", "h100", "b200", "--format", "json"]) == 0
    assert [r["device"] for r in json.loads(capsys.readouterr().out)] == [book.H100, book.B200]
    assert main(["roofline", "--peak-flops", "1e15", "--bandwidth", "2e12", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["ridge_flop_per_byte"] == pytest.approx(500.0)
    assert main(["roofline", "--peak-flops", "989.4T", "--bandwidth", "3.35T", "--model", "gpt2", "--phase",
                 "decode", "--seq-len", "128", "--format", "json"]) == 0
    custom = json.loads(capsys.readouterr().out)
    assert main(["roofline", "--device", "h100", "--model", "gpt2", "--phase", "decode", "--seq-len", "128",
                 "--format", "json"]) == 0
    assert custom == json.loads(capsys.readouterr().out)


def test_devices_listing(capsys):
    assert main(["devices", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["device"] for r in rows] == NAMES
    assert next(r for r in rows if r["device"] == book.H100)["aliases"] == "h100, h100 80gb"
    assert main(["devices", "h100", "tpu v5e", "--format", "csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("typed,found,device,aliases") and out[1].startswith(f"h100,this row,{book.H100},")
    # each typed name on its own: an ambiguous or unknown one lists its candidates, the command still succeeds
    assert main(["devices", "h100", "tpu", "h20", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["found"] == "this row"
    tpu = [r for r in rows if r["typed"] == "tpu"]
    assert len(tpu) > 1 and all(r["found"].startswith(f"one of {len(tpu)} matches") for r in tpu)
    assert next(r["device"] for r in rows if r["typed"] == "h20") == book.H200


def test_help_shows_rule_and_units(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for text in ("[FLOP/s]", "[B/s]", "[B]", "'h100' = 'H100 SXM5 80GB (Hopper)'", "config.json",
                 "Hub id", "MEMWALL_DATA_DIR", "--hardware CSV", "memwall devices"):
        assert text in out, text


@pytest.mark.parametrize("model", ["llama-3-8b", "gpt2"])
def test_model_preset(capsys, model):
    assert main(["cost", "--model", model, "--phase", "decode", "--seq-len", "8", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["model"] == model


CONFIGS = ROOT / "tests" / "data" / "hf_configs"


@pytest.mark.skipif(not (CONFIGS / "llama-3.1-8b" / "config.json").is_file(), reason="no config.json fixtures")
def test_model_from_config_json(capsys):
    """--model takes a config.json (or its folder): Llama 3.1 8B has Llama 3 8B's shape, so the same numbers."""
    config = CONFIGS / "llama-3.1-8b" / "config.json"
    preset = _serve(capsys, "--device", "h100")
    for given in (config, config.parent):
        (row,) = _serve_model(capsys, str(given))
        assert row["step_time_s"] == pytest.approx(preset[0]["step_time_s"], rel=1e-9)
    assert main(["cost", "--model", str(config.parent), "--phase", "decode", "--seq-len", "8"]) == 0
    capsys.readouterr()
    assert main(["cost", "--model", str(CONFIGS / "no-such-model" / "config.json"), "--phase", "decode",
                 "--seq-len", "8"]) == 1
    assert "no-such-model" in capsys.readouterr().err


def _serve_model(capsys, model: str) -> list[dict]:
    assert main(["serve", "--model", model, "--device", "h100", "--format", "json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


# ------------------------------------------------------------------------------------ book build key


def _build_book():
    spec = importlib.util.spec_from_file_location("build_book", ROOT / "tools" / "build_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_key_covers_the_data_folder_content(tmp_path, monkeypatch):
    build_book = _build_book()
    folder = tmp_path / "mydata"
    folder.mkdir()
    for f in DATA.glob("*.csv"):
        shutil.copy(f, folder / f.name)
    before = build_book.folder_digest(folder)
    assert build_book.folder_digest(folder) == before
    monkeypatch.setenv("MEMWALL_DATA_DIR", str(folder))
    assert build_book.data_folder() == folder
    key = build_book.inputs_digest()
    _set(folder / "hardware.csv", book.H100, "tdp_w", "650")  # same name, same size class: content counts
    assert build_book.folder_digest(folder) != before
    assert build_book.inputs_digest() != key
    (folder / "extra.csv").write_text("a\n")
    assert build_book.folder_digest(folder) != before
    monkeypatch.delenv("MEMWALL_DATA_DIR")
    assert build_book.data_folder() == tables.data_dir()
