"""Fuzz the memwall command line with the classes of bad input of issue 18.

Every subcommand gets generated bad lines: integers too large for a float, floats that overflow or underflow
(1e308, 1e-320), NaN, infinities, negative zero and negative values, words, empty strings, separators and
other scripts' digits, unknown models, devices and schemes, contradictory, ignored and repeated options, bad
paths (missing, a folder, ``/dev/full``). Each runs in-process with ``--format table`` and ``--format json``
and must keep the contract of :mod:`memwall.cli.errors`: no uncaught exception (an unexpected one fails the
test with its traceback), exit status 1 or 2, one ``memwall <command>: error:`` line on stderr, and with JSON
one parseable object with ``error`` on stdout. Good lines must exit 0 with finite numbers (``inf`` only
where it means *never*). NumPy's floating-point warnings are errors here, so an overflow cannot pass
silently. ``measure`` never measures: its table is a stub.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import subprocess
import sys

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memwall.cli.options import BYTES_RANGE, MAX_COUNT, PEAK_RANGE
from memwall.cli.output import MAY_BE_INFINITE

from .conftest import run_cli as run

BIG = "9" * 400
BAD_NUMBERS = [BIG, "-" + BIG, "1e308", "1e-320", "1e400", "nan", "NaN", "inf", "-inf", "-1", "abc", "", " ", "1_000",
               "\u0661\u0662", "\uff11\uff12", "0x10", "+-1", "1e", ".", "--", "\x00"]
"""Invalid for every numeric option, whatever its range."""
BAD_INTEGERS = ["2.5", "1e3", "0.0", "-0.0", str(MAX_COUNT + 1), " 5", "5 "]
BAD_WIDTHS = ["0", "-0", "65", "1e-300", "0.001", "1e30"]
BAD_QUANTITIES = ["0", "-0", "1e-3", "1e30", "5X", "1 ZB", "1T B/s/s", "1e-320"]

GPT2_COST = ["cost", "--model", "gpt2", "--phase", "prefill", "--seq-len", "8"]
GPT2_ROOF = ["roofline", "--device", "h100", "--model", "gpt2", "--phase", "decode", "--seq-len", "8"]
GPT2_SERVE = ["serve", "--model", "gpt2", "--device", "h100", "--context", "512"]
CUSTOM_SERVE = ["serve", "--model", "gpt2", "--context", "512"]

NUMERIC = [  # (line without the option, option, kind, extra values after the bad one)
    (["fit", "--series", "flops"], "--window", "int", ["2020"]),
    (["fit", "--series", "flops", "--window", "2012"], "", "int", []),  # the second year
    (GPT2_COST[:-2], "--seq-len", "int", []),
    (GPT2_COST, "--batch", "int", []),
    *((GPT2_COST, o, "width", []) for o in ("--weight-bytes", "--act-bytes", "--kv-bytes", "--bytes")),
    (GPT2_ROOF[:-2], "--seq-len", "int", []),
    (GPT2_ROOF, "--batch", "int", []),
    (GPT2_ROOF, "--bytes", "width", []),
    (["roofline", "--bandwidth", "3T"], "--peak-flops", "quantity", []),
    (["roofline", "--peak-flops", "1P"], "--bandwidth", "quantity", []),
    (GPT2_SERVE, "--batch", "int", []),
    (GPT2_SERVE[:-2], "--context", "int", []),
    ([*CUSTOM_SERVE, "--bandwidth", "3T"], "--peak-flops", "quantity", []),
    ([*CUSTOM_SERVE, "--peak-flops", "1P"], "--bandwidth", "quantity", []),
    ([*CUSTOM_SERVE, "--peak-flops", "1P", "--bandwidth", "3T"], "--memory", "quantity", []),
    (["measure", "latency"], "--seq-len", "int", []),
]
EXTRA = {"int": BAD_INTEGERS, "width": BAD_WIDTHS, "quantity": BAD_QUANTITIES}


def _numeric_lines(case: tuple[list[str], str, str, list[str]]) -> list[list[str]]:
    base, option, kind, after = case
    return [[*base, *([option] if option else []), value, *after] for value in [*BAD_NUMBERS, *EXTRA[kind]]]


def _other_lines(tmp: str) -> list[list[str]]:
    no_file, a_file = f"{tmp}/none/x.csv", f"{tmp}/a_file"
    lines: list[list[str]] = [[], ["nope"], [""], ["--bogus"], ["cost"], ["serve", "--model"]]
    bases = [["fit", "--series", "flops"], ["validate"], GPT2_COST, ["roofline"], GPT2_ROOF, GPT2_SERVE, ["devices"],
             ["measure", "stream"], ["claims"], ["models"]]
    for base in bases:  # unknown options and stray words; every value-taking option repeated
        lines += [[*base, "--bogus"], [*base, "--bogus=1"]]
        if base[0] not in ("devices", "measure"):  # these take words
            lines.append([*base, "stray"])
        lines += [[*base, "--format", "table", "--format", "csv"]]
        lines += [[*base, base[i], base[i + 1]] for i in range(1, len(base) - 1) if base[i].startswith("--")
                  and not base[i + 1].startswith("--")]
    for model in ["gpt5", "", " ", "\x00", "/nonexistent/config.json", tmp, a_file, "org/not-cached"]:
        lines += [["cost", "--model", model, "--phase", "decode", "--seq-len", "1"], [*GPT2_SERVE[:2], model]]
    for device in ["nope", "", "TPU", "mi30x", "\x00"]:
        lines += [["serve", "--model", "gpt2", "--device", device], ["roofline", "--device", device]]
    lines += [["devices", ""], ["devices", "\x00"], ["devices", "nope", "--hardware", "/nonexistent.csv"]]
    for scheme in ["W4A16-", "W3A16", "", "-KV8", "W4A16-KV3", "W4A16--KV8", "W4A16 ", "w4a16-kv8-kv4", "W4A16-KV"]:
        lines.append([*GPT2_SERVE, "--scheme", scheme])
    for choice in [["--phase", "nope"], ["--scope", "some"], ["--lm-head", "first"], ["--format", "xml"]]:
        lines.append([*GPT2_COST[:3], *choice, *(["--phase", "decode"] if choice[0] != "--phase" else []),
                      "--seq-len", "1"])
    lines += [["fit", "--series", "sram"], ["fit", "--series", "flops", "--data", "nope"], ["measure", "nope"],
              ["claims", "--status", "nope"], ["roofline", "--precision", "fp4"]]
    lines += [  # contradictory, ignored or incomplete options
        ["roofline", "--batch", "4"], ["roofline", "--bytes", "1"], ["roofline", "--seq-len", "8"],
        ["roofline", "--phase", "decode"], ["roofline", "--model", "gpt2"], ["roofline", "--model", "gpt2", "--phase",
                                                                              "decode", "--seq-len", "1"],
        ["roofline", "--device", "h100", "b200", "--model", "gpt2", "--phase", "decode", "--seq-len", "1"],
        ["roofline", "--device", "h100", "--peak-flops", "1P", "--bandwidth", "3T"], ["roofline", "--name", "x"],
        ["roofline", "--peak-flops", "1P"], ["roofline", "--memory", "80G"],
        [*GPT2_COST, "--bytes", "1", "--weight-bytes", "4"], [*GPT2_COST, "--bytes", "1", "--kv-bytes", "1"],
        ["cost", "--model", "gpt2", "--phase", "decode", "--seq-len", "8", "--causal-halving"],
        ["cost", "--model", "gpt2", "--phase", "generate", "--seq-len", "8", "--causal-halving"],
        ["cost", "--model", "bert-base", "--phase", "encode", "--seq-len", "8", "--causal-halving"],
        ["cost", "--model", "bert-base", "--phase", "decode", "--seq-len", "8"],
        ["cost", "--model", "gpt2", "--phase", "prefill", "--seq-len", "0"],
        [*GPT2_COST, "--include-embeddings", "--scope", "matmul"],
        [*GPT2_COST, "--include-lm-head", "--lm-head", "last"],
        [*GPT2_SERVE, "--peak-flops", "1P"], [*GPT2_SERVE, "--bandwidth", "3T"], [*CUSTOM_SERVE, "--peak-flops", "1P"],
        [*CUSTOM_SERVE, "--name", "x"], CUSTOM_SERVE, ["serve", "--model", "bert-base", "--device", "h100"],
        ["serve", "--model", "gpt2", "--hardware", a_file, "--peak-flops", "1P", "--bandwidth", "3T"],
        ["fit", "--series", "flops", "--rule", "fp32"], ["fit", "--series", "chip_to_chip_bandwidth"],
        ["fit", "--series", "flops", "--window", "2026", "2012"],
        ["fit", "--series", "flops", "--window", "1990", "1995"],
        ["measure", "stream", "--seq-len", "128"], ["measure", "summary", "--full-generation"],
        ["claims", "--chapter", ""],
    ]
    for folder in ["", "/nonexistent", tmp + "/none", a_file, "/dev/full"]:  # bad paths
        lines += [["validate", "--data-dir", folder], ["fit", "--series", "flops", "--data-dir", folder]]
    for table in ["", no_file, tmp, a_file, "/dev/null"]:
        lines += [["devices", "--hardware", table], [*GPT2_SERVE, "--hardware", table],
                  ["roofline", "--hardware", table]]
    for output in ["", tmp, no_file, "/dev/full", f"{a_file}/x.csv", "/"]:
        lines.append(["measure", "stream", "--output", output])
    return lines


@pytest.fixture
def stub_measure(monkeypatch):
    """``measure`` returns a small table instead of timing this machine."""
    table = pd.DataFrame({"n": [1, 2], "bandwidth_bytes_per_s": [1e9, 2e9]})
    monkeypatch.setattr("memwall.cli.measure._measure_table", lambda args: table)
    return table


@pytest.fixture
def tmp_files(tmp_path):
    (tmp_path / "a_file").write_text("not a table\n", encoding="utf-8")
    return str(tmp_path)


def assert_error(argv: list[str], status: int, out: str, err: str) -> None:
    """The error contract: status 1 or 2, one error line on stderr, the JSON object with ``--format json``."""
    assert status in (1, 2), (argv, status, out, err)
    lines = err.splitlines()
    errors = [ln for ln in lines if re.match(r"memwall( [a-z]+)?: error: ", ln)]
    assert len(errors) == 1, (argv, err)
    assert all(ln in errors or ln.startswith(("  ", "memwall: warning: ")) for ln in lines), (argv, err)
    assert "Traceback" not in err
    if any(a == "--format" and b == "json" for a, b in itertools.pairwise(argv)):
        payload = json.loads(out)
        assert isinstance(payload, dict) and isinstance(payload["error"], str) and payload["error"], (argv, out)
        assert payload["exit_status"] == status
        assert payload["parameter"] is None or isinstance(payload["parameter"], str)
    else:
        assert out == "", (argv, out)


def assert_finite(argv: list[str], out: str) -> None:
    """Every number of a JSON result is finite; ``"inf"`` only in the columns where it means never."""
    for row in json.loads(out):
        for column, value in row.items():
            if isinstance(value, float):
                assert math.isfinite(value), (argv, column, value)
            if value in ("inf", "-inf"):
                assert column in MAY_BE_INFINITE, (argv, column)


def _with_format(argv: list[str], fmt: str) -> list[str]:
    return [*argv, "--format", fmt] if argv and argv[0] in ("fit", "validate", "cost", "roofline", "serve", "devices",
                                                           "measure", "claims", "models") else argv


@pytest.mark.parametrize("case", NUMERIC, ids=lambda c: f"{c[0][0]}{c[1] or '-second-year'}")
def test_bad_numbers_every_numeric_option(capsys, stub_measure, case):
    for argv in _numeric_lines(case):
        for fmt in ("table", "json"):
            line = _with_format(argv, fmt)
            status, out, err = run(capsys, line)
            assert status == 2, (line, status, err)  # a value outside its option's range is a usage error
            assert_error(line, status, out, err)


COMMANDS = ["", "fit", "validate", "cost", "roofline", "serve", "devices", "measure", "claims", "models"]


def test_the_generated_lines_cover_every_subcommand(tmp_files):
    lines = _other_lines(tmp_files)
    assert len(lines) > 150 and {(ln or [""])[0] for ln in lines} >= set(COMMANDS)


LEDGER_LINES = [["claims", "--chapter", "chapters/nope"], ["claims", "--claim", "nope"]]
"""Bad lines that build the claims ledger (seconds, once per process)."""


@pytest.mark.parametrize("command", COMMANDS)
def test_bad_lines_every_subcommand(capsys, stub_measure, tmp_files, command):
    lines = [ln for ln in _other_lines(tmp_files) if (ln[0] if ln and ln[0] in COMMANDS else "") == command]
    _bad_lines(capsys, lines)


@pytest.mark.slow  # the claims ledger is computed once per process: about 3 s
def test_bad_claims_lines(capsys):
    _bad_lines(capsys, LEDGER_LINES)


def _bad_lines(capsys, lines: list[list[str]]) -> None:
    for argv in lines:
        for fmt in ("table", "json"):
            line = _with_format(argv, fmt)
            status, out, err = run(capsys, line)
            assert_error(line, status, out, err)


GOOD = [
    ["fit", "--series", "flops"],
    ["fit", "--series", "dram_bandwidth", "--data", "datasheet", "--window", "2012", "2026"],
    ["validate"], GPT2_COST, [*GPT2_COST[:-2], "--seq-len", str(MAX_COUNT), "--batch", str(MAX_COUNT)],
    [*GPT2_COST, "--bytes", str(BYTES_RANGE[0])], [*GPT2_COST, "--bytes", str(BYTES_RANGE[1]), "--per-op"],
    ["cost", "--model", "gpt2", "--phase", "decode", "--seq-len", "0", "-0", "+7"],
    [*GPT2_COST, "--causal-halving"], ["cost", "--model", "bert-base", "--phase", "encode", "--seq-len", "128"],
    ["roofline"], GPT2_ROOF, ["roofline", "--peak-flops", str(PEAK_RANGE[1]), "--bandwidth", "1e3"],
    ["roofline", "--peak-flops", "1e6", "--bandwidth", "1e18", "--model", "gpt2", "--phase", "decode", "--seq-len",
     str(MAX_COUNT), "--batch", str(MAX_COUNT), "--bytes", "64"],
    GPT2_SERVE, [*GPT2_SERVE[:-2], "--context", "0", str(MAX_COUNT), "--batch", "1", str(MAX_COUNT)],
    [*CUSTOM_SERVE, "--peak-flops", "1e21", "--bandwidth", "1e3", "--memory", "1e18", "--scheme", "w4a16+kv4"],
    ["devices"], ["devices", "h100", "tpu"], ["measure", "stream"], ["models"],
    pytest.param(["claims", "--chapter", "hardware_trends"], marks=pytest.mark.slow),  # the ledger: about 3 s
]


@pytest.mark.parametrize("argv", GOOD, ids=lambda a: " ".join(a)[:40] if isinstance(a, list) else None)
def test_good_lines_exit_0_with_finite_numbers(capsys, stub_measure, argv):
    status, out, err = run(capsys, _with_format(argv, "json"))
    assert status == 0, (argv, err)
    assert_finite(argv, out)
    status, out, err = run(capsys, _with_format(argv, "table"))
    assert status == 0 and out, (argv, err)


_NUMBERISH = st.one_of(st.integers(-10**40, 10**40).map(str), st.floats().map(repr),
                       st.text(alphabet="0123456789+-.eE_ x", max_size=10))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_NUMBERISH)
def test_batch_accepts_exactly_the_integers_in_range(capsys, text):
    fmt = "json"
    status, out, err = run(capsys, ["cost", "--model", "gpt2", "--phase", "decode", "--seq-len", "4", "--batch", text,
                                    "--format", fmt])
    ok = re.fullmatch(r"[+-]?[0-9]+", text) is not None and 1 <= int(text) <= MAX_COUNT
    if ok:
        assert status == 0, (text, err)
        assert_finite([text], out)
    else:
        assert status == 2, (text, status, err)
        assert_error(["--format", fmt], status, out, err)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_NUMBERISH)
def test_bytes_accepts_exactly_the_widths_in_range(capsys, text):
    status, out, err = run(capsys, [*GPT2_COST, "--bytes", text, "--format", "json"])
    number = re.fullmatch(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", text)
    ok = number is not None and BYTES_RANGE[0] <= float(text) <= BYTES_RANGE[1]
    if ok:
        assert status == 0, (text, err)
        assert_finite([text], out)
    else:
        assert status == 2, (text, status, err)
        assert_error(["--format", "json"], status, out, err)


@pytest.mark.slow  # a fresh interpreter: about 1 s
def test_a_huge_integer_in_a_fresh_interpreter():
    """As a user runs it: no traceback, exit 2, one line on stderr and the JSON object on stdout."""
    done = subprocess.run([sys.executable, "-m", "memwall", "serve", "--model", "gpt2", "--device", "h100",
                           "--context", BIG, "--format", "json"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("memwall serve: error: --context must be")
    assert json.loads(done.stdout)["parameter"] == "--context"
