"""The contract of the memwall command line (issue 18): exit statuses, one error line, JSON errors, ranges,
contradictory options refused, infinities the same in every format, output files checked first and written
atomically. Each example the issue found has its test here; ``tests/test_fuzz_cli.py`` generalises them."""

from __future__ import annotations

import errno
import json
import os
import shutil

import pandas as pd
import pytest

from memwall.cli import main
from memwall.cli.options import BYTES_RANGE, MAX_COUNT
from memwall.cli.output import check_finite, emit

from .conftest import DATA
from .conftest import run_cli as run

BIG = "9" * 400
COST = ["cost", "--model", "gpt2", "--phase", "prefill", "--seq-len", "8"]
SERVE = ["serve", "--model", "llama-3-8b", "--device", "h100"]


def error_of(capsys, argv: list[str], status: int, *, printed: bool = False) -> tuple[str, dict]:
    """Run ``argv`` as table and as JSON: the one stderr line and the JSON object; both with ``status``.

    ``printed``: the table format prints work done before the error on stdout (``validate``'s statuses).
    """
    code, out, err = run(capsys, argv)
    assert code == status and bool(out) == printed, (code, out, err)
    lines = err.splitlines()
    assert lines[0].startswith(f"memwall {argv[0]}: error: ") and all(ln.startswith("  ") for ln in lines[1:]), err
    code, out, err_json = run(capsys, [*argv, "--format", "json"])
    payload = json.loads(out)
    assert code == status and payload["exit_status"] == status and err_json == err
    assert set(payload) >= {"error", "parameter", "exit_status"}
    return err, payload


# ------------------------------------------------------------------------------------------ exit statuses


@pytest.mark.parametrize(("argv", "status"), [
    (["models"], 0),
    (COST, 0),
    (["cost", "--model", "gpt5", "--phase", "decode", "--seq-len", "1"], 1),  # an unknown model: input
    ([*SERVE[:3], "--device", "nope"], 1),  # an unknown device: input
    pytest.param(["claims", "--claim", "nope"], 1, marks=pytest.mark.slow),  # builds the ledger: about 3 s
    (["cost", "--model", "gpt2"], 2),  # missing options: usage
    ([*COST, "--seq-len", "9"], 2),  # repeated
    ([*COST, "--batch", "0"], 2),  # out of range
])
def test_exit_statuses(capsys, argv, status):
    assert run(capsys, argv)[0] == status


def test_help_exits_0_and_states_ranges_infinity_and_exit_statuses(capsys):
    code, out, _ = run(capsys, ["cost", "--help"])
    assert code == 0
    flat = " ".join(out.split())
    assert f"1 to {MAX_COUNT:,}" in flat and "in [1/64, 64]" in flat and 'the string "inf"' in flat
    assert "max_position_embeddings" in flat and "Exit status: 0 on success; 1 on an input error" in flat
    code, out, _ = run(capsys, ["serve", "--help"])
    assert "max_position_embeddings" in " ".join(out.split()) and "[1e+06, 1e+21] [FLOP/s]" in " ".join(out.split())


# ------------------------------------------------------------------------------- numbers out of range


@pytest.mark.parametrize(("argv", "option"), [
    (["cost", "--model", "gpt2", "--phase", "prefill", "--seq-len", BIG], "--seq-len"),
    ([*COST, "--batch", BIG], "--batch"),
    ([*SERVE, "--context", BIG], "--context"),
    ([*SERVE, "--batch", "-" + BIG], "--batch"),
])
def test_huge_integers_are_usage_errors_naming_option_and_range(capsys, argv, option):
    err, payload = error_of(capsys, argv, 2)
    assert f"error: {option} must be an integer in [" in err and f", {MAX_COUNT}]" in err
    assert "(40" in err or "characters)" in err  # the 400 digits are shortened, not printed whole
    assert payload["parameter"] == option


@pytest.mark.parametrize("option", ["--bytes", "--weight-bytes", "--act-bytes", "--kv-bytes"])
@pytest.mark.parametrize("value", ["1e308", "1e-320", "nan", "0", "-1"])
def test_bytes_per_element_in_range(capsys, option, value):
    err, payload = error_of(capsys, [*COST, option, value], 2)
    assert f"{option} must be a number in [{BYTES_RANGE[0]:g}, {BYTES_RANGE[1]:g}] [B/element], got '{value}'" in err
    assert payload["parameter"] == option


def test_bytes_at_the_ends_of_the_range_give_finite_results(capsys):
    for value in BYTES_RANGE:
        code, out, err = run(capsys, [*COST, "--bytes", str(value), "--format", "json"])
        assert code == 0, err
        (row,) = json.loads(out)
        assert row["weight_bytes"] == value and 0 < row["intensity"] < float("inf")


def test_quantities_of_a_custom_device_in_range(capsys):
    err, _ = error_of(capsys, ["serve", "--model", "gpt2", "--peak-flops", "1e300", "--bandwidth", "1T"], 2)
    assert "--peak-flops must be a number in [1e+06, 1e+21] [FLOP/s], got '1e300'" in err
    err, _ = error_of(capsys, ["serve", "--model", "gpt2", "--peak-flops", "1P", "--bandwidth", "1e-300"], 2)
    assert "--bandwidth must be a number in [1000, 1e+18] [B/s], got '1e-300'" in err


def test_a_non_finite_result_is_an_input_error(capsys, monkeypatch):
    table = pd.DataFrame({"flops": [1.0, float("inf")]})
    monkeypatch.setitem(__import__("memwall.cli.commands").cli.commands.COMMANDS, "models", lambda args: table)
    err, _ = error_of(capsys, ["models"], 1)
    assert "the result is not finite: flops = inf in row 2" in err
    check_finite(pd.DataFrame({"critical_batch_step": [float("inf")]}))  # inf = never, allowed there


def test_an_unexpected_exception_is_not_hidden(capsys, monkeypatch):
    def broken(args):
        raise KeyError("a bug")

    monkeypatch.setitem(__import__("memwall.cli.commands").cli.commands.COMMANDS, "models", broken)
    with pytest.raises(KeyError, match="a bug"):
        main(["models"])


# ---------------------------------------------------------------------------------------------- JSON


def test_usage_errors_are_json_too(capsys):
    for argv in ([*COST, "--bogus", "--format", "json"], ["cost", "--format=json", "--model"],
                 ["cost", "--form", "json", "--model", "gpt2"]):
        code, out, err = run(capsys, argv)
        payload = json.loads(out)
        assert code == 2 and payload["exit_status"] == 2 and payload["error"] in err
    assert json.loads(run(capsys, [*COST, "--bogus=1", "--format", "json"])[1])["parameter"] == "--bogus"
    assert json.loads(run(capsys, ["cost", "--format", "json"])[1])["parameter"] == "--model"  # first missing


def test_input_error_json_names_the_option(capsys):
    _, payload = error_of(capsys, ["cost", "--model", "gpt5", "--phase", "decode", "--seq-len", "1"], 1)
    assert payload["parameter"] == "--model" and "unknown model preset 'gpt5'" in payload["error"]
    _, payload = error_of(capsys, [*SERVE[:3], "--device", "mi30x"], 1)
    assert payload["parameter"] == "--device"


def test_validate_json_lists_every_problem_and_table(tmp_path, capsys):
    for f in [*DATA.glob("*.csv"), *DATA.glob("*.json")]:
        shutil.copy(f, tmp_path / f.name)
    lines = (tmp_path / "interconnects.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("https://", "htps://", 1)
    (tmp_path / "interconnects.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    err, payload = error_of(capsys, ["validate", "--data-dir", str(tmp_path)], 1, printed=True)
    assert any("interconnects.csv: line 2" in p for p in payload["problems"])
    assert err.splitlines()[1:] == [f"  {p}" for p in payload["problems"]]  # the same problems on stderr
    tables = {t["table"]: t["status"] for t in payload["tables"]}
    assert tables["interconnects.csv"] == "INVALID" and set(tables) >= {f.name for f in DATA.glob("*.csv")}
    code, out, _ = run(capsys, ["validate", "--format", "json"])
    assert code == 0 and {r["table"] for r in json.loads(out)} >= {f.name for f in DATA.glob("*.csv")}


def test_infinity_is_inf_in_every_format(capsys):
    """An infinite critical batch (never compute-bound) was null in JSON and inf in the table and CSV."""
    code, out, _ = run(capsys, [*SERVE, "--format", "json"])
    (row,) = json.loads(out)
    assert code == 0 and row["critical_batch_step"] == "inf"
    csv_rows = run(capsys, [*SERVE, "--format", "csv"])[1].splitlines()
    assert csv_rows[1].split(",")[csv_rows[0].split(",").index("critical_batch_step")] == "inf"
    table = run(capsys, [*SERVE, "--format", "table"])[1].splitlines()
    assert table[1].split()[-1] == "inf"
    for result in (pd.DataFrame({"x": [float("inf"), -float("inf"), float("nan")], "n": [1, 2, 3]}),
                   [{"x": float("inf"), "n": 1}, {"x": -float("inf"), "n": 2}, {"x": None, "n": 3}]):
        assert [r["x"] for r in json.loads(emit(result, "json"))] == ["inf", "-inf", None]
        assert emit(result, "csv").splitlines()[1:] == ["inf,1", "-inf,2", ",3"]
        assert [ln.split()[0] for ln in emit(result, "table").splitlines()[1:]] == ["inf", "-inf", "NaN"]


# ------------------------------------------------------------------------------- contradictory options


@pytest.mark.parametrize(("argv", "named"), [
    (["roofline", "--batch", "4"], ["--batch", "--model"]),
    (["roofline", "--bytes", "1"], ["--bytes", "--model"]),
    ([*COST, "--bytes", "1", "--weight-bytes", "4"], ["--bytes", "--weight-bytes"]),
    ([*COST, "--seq-len", "7"], ["--seq-len", "more than once"]),
    (["cost", "--model", "gpt2", "--phase", "decode", "--seq-len", "5", "--causal-halving"],
     ["--causal-halving", "--phase decode"]),
    (["cost", "--model", "bert-base", "--phase", "encode", "--seq-len", "5", "--causal-halving"],
     ["--causal-halving", "--model bert-base"]),
    ([*COST, "--include-embeddings", "--scope", "matmul"], ["--include-embeddings", "--scope matmul"]),
    ([*SERVE, "--scheme", "W4A16-"], ["--scheme", "W16A16, W8A16, W4A16, W8A8, FP8", "-KV8"]),
    ([*SERVE, "--peak-flops", "1P"], ["--peak-flops", "--device"]),
    (["roofline", "--device", "h100", "--bandwidth", "3T", "--peak-flops", "1P"],
     ["--peak-flops", "--bandwidth", "--device"]),
    (["measure", "stream", "--seq-len", "128"], ["--seq-len", "measure stream"]),
])
def test_contradictory_or_ignored_options_are_usage_errors(capsys, argv, named):
    err, payload = error_of(capsys, argv, 2)
    assert all(n in err for n in named), err
    assert payload["parameter"] == named[0]


def test_causal_halving_where_it_acts(capsys):
    from memwall import cost, cost_totals

    code, out, _ = run(capsys, [*COST, "--causal-halving", "--format", "json"])
    (row,) = json.loads(out)
    expected = cost_totals.totals(cost.cost_table("gpt2", "prefill", 8, 1, causal_halving=True))
    assert code == 0 and row["flops"] == pytest.approx(float(expected["flops"].iloc[0]))


@pytest.mark.parametrize("scheme", ["W4A16-KV8", "w4a16+kv4", "FP8"])
def test_well_formed_schemes(capsys, scheme):
    from memwall.serving import schemes

    code, out, _ = run(capsys, [*SERVE, "--scheme", scheme, "--format", "json"])
    assert code == 0 and json.loads(out)[0]["scheme"] == schemes.get_scheme(scheme).name


def test_beyond_the_model_positions_warns_and_succeeds(capsys):
    code, _, err = run(capsys, ["cost", "--model", "gpt2", "--phase", "prefill", "--seq-len", "4096"])
    assert code == 0 and err.startswith("memwall: warning: --seq-len 4,096") and err.count("\n") == 1


# ------------------------------------------------------------------------------------------ output file


@pytest.fixture
def stub(monkeypatch):
    """``measure`` returns this table at once; ``calls`` counts the measurements."""
    table = pd.DataFrame({"n": [1, 2], "bandwidth_bytes_per_s": [1.5e9, 2.5e9]})
    calls: list[int] = []

    def measure(args):
        calls.append(1)
        return table

    monkeypatch.setattr("memwall.cli.measure._measure_table", measure)
    return table, calls


@pytest.mark.parametrize("where", ["folder", "/dev/full", "missing/x.csv", "a_file/x.csv"])
def test_output_path_checked_before_measuring(tmp_path, capsys, stub, where):
    (tmp_path / "a_file").write_text("x\n", encoding="utf-8")
    target = {"folder": str(tmp_path), "/dev/full": "/dev/full"}.get(where, str(tmp_path / where))
    err, payload = error_of(capsys, ["measure", "stream", "--output", target], 1)
    assert stub[1] == [] and payload["parameter"] == "--output" and repr(target) in err


def test_output_written_atomically(tmp_path, capsys, stub):
    target = tmp_path / "out.csv"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o640)
    code, out, err = run(capsys, ["measure", "stream", "--output", str(target), "--format", "csv"])
    assert code == 0 and "wrote 2 rows" in err
    assert target.read_text(encoding="utf-8") == stub[0].to_csv(index=False) == out
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # no temporary file left
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    target.unlink()
    assert run(capsys, ["measure", "stream", "--output", str(link)])[0] == 0
    assert link.is_symlink() and target.read_text(encoding="utf-8") == stub[0].to_csv(index=False)


def test_failed_write_keeps_the_work(tmp_path, capsys, stub, monkeypatch):
    target = tmp_path / "out.csv"
    target.write_text("old\n", encoding="utf-8")

    def full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("memwall.cli.measure.os.replace", full)
    code, out, err = run(capsys, ["measure", "stream", "--output", str(target), "--format", "csv"])
    assert code == 1 and out == stub[0].to_csv(index=False)  # the measured table is printed all the same
    assert err.count("\n") == 1 and "writing its table failed (No space left on device)" in err
    assert target.read_text(encoding="utf-8") == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    code, out, _ = run(capsys, ["measure", "stream", "--output", str(target), "--format", "json"])
    payload = json.loads(out)
    assert code == 1 and payload["parameter"] == "--output"
    assert payload["result"] == json.loads(stub[0].to_json(orient="records"))


# --------------------------------------------------------------------- found by the fresh-clone review


@pytest.mark.parametrize("argv, option", [
    (["cost", "--model", BIG, "--phase", "decode", "--seq-len", "5"], "--model"),
    (["devices", "--hardware", "x" * 300], "--hardware"),
    (["validate", "--data-dir", "/tmp/" + "d" * 300], "--data-dir"),
])
def test_an_over_long_file_name_is_an_input_error(capsys, argv, option):
    line, obj = error_of(capsys, argv, 1)
    assert "File name too long" in line and "characters)" in line and len(line) < 300
    assert obj["parameter"] == option


def test_a_bad_data_folder_is_not_blamed_on_an_option_not_given(capsys, monkeypatch):
    monkeypatch.setenv("MEMWALL_DATA_DIR", "/etc/passwd")
    line, obj = error_of(capsys, SERVE, 1)
    assert "MEMWALL_DATA_DIR" in line and "--hardware" not in line and obj["parameter"] is None


@pytest.mark.parametrize("argv", [[*COST, "--per-op", "--per-op"], ["measure", "latency", "--quick", "--quick"]])
def test_a_repeated_flag_is_a_usage_error(capsys, argv):
    line, obj = error_of(capsys, argv, 2)
    assert "given more than once" in line and obj["exit_status"] == 2


def test_measure_latency_quick_uses_small_sizes(capsys, monkeypatch):
    from memwall.cli import measure as cli_measure
    from memwall.wall import measure, numpy_transformer

    seen: dict = {}

    def machine(**kw):
        seen["machine"] = kw
        return _Report()

    def latency(lengths, **kw):
        seen.update(lengths=lengths, **kw)
        return pd.DataFrame({"seq_len": lengths})

    monkeypatch.setattr(measure, "measure_machine", machine)
    monkeypatch.setattr(numpy_transformer, "latency_table", latency)
    assert main(["measure", "latency", "--quick", "--no-progress", "--format", "csv"]) == 0
    capsys.readouterr()
    assert seen["machine"]["quick"] and seen["lengths"] == cli_measure.QUICK_LENGTHS
    assert seen["loop_up_to"] == 0 and seen["decoder_repeats"] == 1


class _Report:
    """The one method of a measurement report that ``measure latency`` uses."""

    def ceilings(self, precision: str) -> object:
        return object()
