"""The memwall command line: fit and validate, every output format, clear errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from memwall.cli import main
from memwall.widths import INT8

from .conftest import DATA


def _usage_error(capsys, args: list[str]) -> str:
    """Run a line that is a usage error: exit status 2 (argparse's SystemExit) and one stderr line; its text."""
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"memwall {args[0]}: error: ")
    return err


def test_fit_paper_flops_json(capsys):
    assert main(["fit", "--series", "flops", "--data", "paper", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["per_2_years"] == pytest.approx(3.0, rel=0.03)
    assert row["n_points"] == 37
    for key in ("per_20_years", "doubling_time_years", "ci_low_per_2_years", "ci_high_per_2_years"):
        assert key in row


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_fit_datasheet_formats(capsys, fmt):
    args = ["fit", "--series", "dram_bandwidth", "--data", "datasheet", "--window", "2012", "2026",
            "--row-set", "records", "--format", fmt]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "per_2_years" in out
    if fmt == "csv":
        assert out.splitlines()[0].startswith("data,series,unit")


def test_fit_rejects_series_not_in_paper(capsys):
    # a usage error since the CLI contract (issue 18): the two options contradict each other (was exit 1)
    err = _usage_error(capsys, ["fit", "--series", "chip_to_chip_bandwidth", "--data", "paper"])
    assert "allowed with --data paper: flops, dram_bandwidth, interconnect_bandwidth" in err
    assert "(the default)" in _usage_error(capsys, ["fit", "--series", "chip_to_chip_bandwidth"])


def test_fit_unknown_series_is_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fit", "--series", "sram"])
    assert exc.value.code == 2
    assert "invalid choice: 'sram'" in capsys.readouterr().err


def test_fit_window_too_narrow(capsys):
    assert main(["fit", "--series", "flops", "--data", "datasheet", "--window", "1990", "1995"]) == 1
    assert "window 1990-1995 with row_set='all' leaves 0 point(s); need at least 2" in capsys.readouterr().err


def test_fit_rule_only_for_datasheet_flops(capsys):
    err = _usage_error(capsys, ["fit", "--series", "flops", "--data", "paper", "--rule", "fp32"])  # was exit 1
    assert "--rule applies only to --series flops --data datasheet" in err


def test_fit_window_order(capsys):
    assert "--window FIRST LAST needs FIRST <= LAST, got 2026 2012" in _usage_error(
        capsys, ["fit", "--series", "flops", "--window", "2026", "2012"])


def test_fit_window_must_be_whole_years(capsys):
    err = _usage_error(capsys, ["fit", "--series", "flops", "--window", "2022.5", "2023"])
    assert "--window must be an integer in [1900, 2100] [year] in ASCII digits" in err and "got '2022.5'" in err


def test_validate_ok(capsys):
    assert main(["validate", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    # every table of data/ is validated, and the example config.json
    assert out.count(",ok") == len(list(DATA.glob("*.csv"))) + 1
    for table in DATA.glob("*.csv"):
        assert f"{table.name}," in out, f"memwall validate does not check {table.name}"
    assert "example_config_qwen3-4b.json,1,ok" in out


def test_validate_reports_bad_row(tmp_path, capsys):
    for f in [*DATA.glob("*.csv"), *DATA.glob("*.json")]:
        shutil.copy(f, tmp_path / f.name)
    text = (tmp_path / "interconnects.csv").read_text(encoding="utf-8").splitlines()
    text[1] = text[1].replace("https://", "htps://", 1)
    (tmp_path / "interconnects.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    assert main(["validate", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "interconnects.csv: line 2 (data row 1" in err and "column 'source_url'" in err


@pytest.mark.slow  # a fresh interpreter imports the package: about 2 s
def test_help_documents_units():
    out = subprocess.run([sys.executable, "-m", "memwall", "fit", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "[x]" in out and "[years]" in out and "FLOP/s" in out


@pytest.mark.slow  # a fresh interpreter imports the package: about 2 s
def test_console_script_installed():
    exe = shutil.which("memwall", path=str(__import__("pathlib").Path(sys.executable).parent))
    assert exe, "the memwall entry point is not installed next to this Python (pip install -e .)"
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True).stdout
    assert "fit" in out and "validate" in out


def test_cost_totals_match_package(capsys):
    from memwall import cost, cost_totals

    assert main(["cost", "--model", "gpt2", "--phase", "generate", "--seq-len", "128", "512", "--bytes", "1",
                 "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["seq_len"] for r in rows] == [128, 512]
    expected = cost_totals.totals(cost.cost_table("gpt2", "generate", 512, 1, widths=INT8))
    assert rows[1]["flops"] == pytest.approx(float(expected["flops"].iloc[0]))
    assert rows[1]["intensity"] == pytest.approx(float(expected["intensity"].iloc[0]))


def test_cost_per_op_csv(capsys):
    assert main(["cost", "--model", "llama-3-8b", "--phase", "decode", "--seq-len", "1024", "--per-op",
                 "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split(",")
    assert {"op", "category", "count", "flops", "bytes_read", "bytes_written", "intensity"} <= set(header)
    assert any(",ffn_gate," in ln for ln in lines[1:])  # gated FFN has a gate matmul


@pytest.mark.parametrize(("flags", "options"), [
    (["--scope", "matmul"], {"scope": "matmul"}),
    (["--lm-head", "last"], {"include_lm_head": "last"}),
    (["--lm-head", "all", "--scope", "matmul"], {"include_lm_head": "all", "scope": "matmul"}),
    (["--include-lm-head"], {"include_lm_head": True}),  # alias of --lm-head all
])
def test_cost_scope_and_lm_head(capsys, flags, options):
    from memwall import cost, cost_totals

    assert main(["cost", "--model", "gpt2", "--phase", "prefill", "--seq-len", "256", "--batch", "2", *flags,
                 "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    expected = cost_totals.totals(cost.cost_table("gpt2", "prefill", 256, 2, **options))
    assert row["flops"] == pytest.approx(float(expected["flops"].iloc[0]))
    assert row["bytes"] == pytest.approx(float(expected["bytes"].iloc[0]))


def test_cost_matmul_scope_per_op_has_no_nonlinear_rows(capsys):
    assert main(["cost", "--model", "bert-base", "--phase", "encode", "--seq-len", "128", "--lm-head", "all",
                 "--scope", "matmul", "--per-op", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["category"] for r in rows} == {"projection", "act_to_act", "ffn"}
    assert {"mlm_dense", "lm_head"} <= {r["op"] for r in rows}


def test_cost_unknown_model(capsys):
    assert main(["cost", "--model", "gpt5", "--phase", "decode", "--seq-len", "1"]) == 1
    assert "--model: unknown model preset 'gpt5'; available presets" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),  # out-of-range values are usage errors since issue 18 (were exit 1 from the package)
    [
        (["--seq-len", "-1"], "--seq-len must be an integer in [0, 2147483647] [tokens], got '-1'"),
        (["--seq-len", "1", "--bytes", "0"], "--bytes must be a number in [0.015625, 64] [B/element], got '0'"),
        (["--seq-len", "1", "--batch", "0"], "--batch must be an integer in [1, 2147483647] [sequences], got '0'"),
    ],
)
def test_cost_bad_input(capsys, args, message):
    assert message in _usage_error(capsys, ["cost", "--model", "gpt2", "--phase", "decode", *args])


def test_models_lists_presets(capsys):
    assert main(["models", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("preset,layers,d_model")
    assert "\ngpt2,12,768," in out


def test_roofline_ceilings_and_per_op(capsys):
    assert main(["roofline", "--precision", "fp8", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(r["precision"] == "fp8" for r in rows)
    h100 = next(r for r in rows if "H100 SXM" in r["device"])
    assert h100["ridge_flop_per_byte"] == pytest.approx(h100["peak_flop_per_s"] / h100["bandwidth_bytes_per_s"])
    device = h100["device"]
    assert main(["roofline", "--device", device, "--model", "gpt2", "--phase", "decode", "--seq-len", "128",
                 "--format", "json"]) == 0
    ops = json.loads(capsys.readouterr().out)
    assert ops[-1]["op"] == "TOTAL"
    assert ops[-1]["time_s"] == pytest.approx(sum(r["time_s"] for r in ops[:-1]))
    assert all(r["bound"] == "memory" for r in ops[:-1])  # batch-1 decode is memory-bound on an H100


def test_roofline_bad_input(capsys):
    assert main(["roofline", "--device", "nope", "--model", "gpt2", "--phase", "decode", "--seq-len", "1"]) == 1
    assert "device='nope' is not in the hardware table" in capsys.readouterr().err
    err = _usage_error(capsys, ["roofline", "--model", "gpt2", "--phase", "decode", "--seq-len", "1"])  # was 1
    assert "give exactly one --device" in err


@pytest.mark.slow  # times STREAM and GEMM on this machine, and py-cpuinfo starts a subprocess: about 2 s
def test_measure_quick(capsys):
    assert main(["measure", "--quick", "--no-progress", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["stream_bandwidth_gb_per_s"] > 0 and row["gemm_fp32_gflop_per_s"] > 0
    assert row["ridge_fp32_flop_per_byte"] == pytest.approx(
        row["ceiling_fp32_gflop_per_s"] / row["ceiling_bandwidth_gb_per_s"])
    assert row["ceiling_fp32_gflop_per_s"] >= row["gemm_fp32_gflop_per_s"]
    assert row["ceiling_bandwidth_gb_per_s"] >= row["stream_bandwidth_gb_per_s"]


def test_roofline_device_without_precision(capsys):
    assert main(["roofline", "--device", "Google TPU v5e", "--precision", "fp32"]) == 1
    assert "has no dense fp32 peak" in capsys.readouterr().err
    assert "--phase needs --model" in _usage_error(capsys, ["roofline", "--phase", "decode"])  # was exit 1


def test_serve(capsys):
    assert main(["serve", "--model", "llama-3-8b", "--device", "H100 SXM5 80GB (Hopper)", "--batch", "1", "8",
                 "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["batch"] for r in rows] == [1, 8]
    assert rows[1]["tokens_per_s"] > rows[0]["tokens_per_s"]
    # closed form (P/BW) * b_w / 2 with 16-bit weights: H100 SXM 989.4e12 / 3.35e12 (datasheet)
    assert rows[0]["critical_batch_closed_form"] == pytest.approx(989.4e12 / 3.35e12, rel=1e-6)
    assert main(["serve", "--model", "llama-3-70b", "--device", "H100 SXM5 80GB (Hopper)", "--format", "json"]) == 0
    (big,) = json.loads(capsys.readouterr().out)
    assert big["fits"] is False and big["max_batch"] == 0


def test_serve_bad_input(capsys):
    line = ["serve", "--model", "llama-3-8b", "--device", "H100 SXM5 80GB (Hopper)"]
    # both are usage errors since issue 18 (were exit 1 from the package)
    err = _usage_error(capsys, [*line, "--scheme", "W3A16"])
    assert "--scheme 'W3A16' is not a precision scheme; allowed: W16A16, W8A16, W4A16, W8A8, FP8" in err
    assert "--batch must be an integer in [1, 2147483647] [sequences], got '0'" in _usage_error(
        capsys, [*line, "--batch", "0"])


def test_sequences_beyond_the_model_positions_warn(capsys):
    from memwall.cli import main as cli_main

    assert cli_main(["serve", "--model", "gpt2", "--device", "h100", "--context", "100000"]) == 0
    err = capsys.readouterr().err
    assert "warning: --context 100,000" in err and "gpt2's 1,024 positions" in err
    assert cli_main(["cost", "--model", "gpt2", "--phase", "prefill", "--seq-len", "1024"]) == 0
    assert "warning" not in capsys.readouterr().err  # exactly the trained length: no warning


def test_lm_head_alias_contradiction_is_an_error(capsys):
    err = _usage_error(capsys, ["cost", "--model", "gpt2", "--phase", "prefill", "--seq-len", "8",
                                "--include-lm-head", "--lm-head", "last"])
    assert "contradicts --lm-head last" in err
