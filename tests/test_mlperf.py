"""MLPerf results table, its loader, and the roofline bounds of memwall.wall.mlperf_bounds."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from memwall import serving, specs, tables
from memwall.book import H100, H200, MI300X
from memwall.charts.mlperf import achieved_vs_bound_chart, fraction_chart
from memwall.tables.mlperf import load_mlperf_results, load_mlperf_workloads
from memwall.tables.validation import DataValidationError
from memwall.wall import mlperf_bounds as mb
from memwall.wall import mlperf_results as mr

DATA = Path(tables.data_dir())
FP8 = mb.widths_of("fp8", "fp8", "fp8")
LLAMA = specs.get_preset("llama-2-70b")


def _hw():
    return tables.load_hardware()


def _mem(device: str) -> float:
    return float(_hw().set_index("device").loc[device, "memory_capacity_gib"]) * 2**30


# ------------------------------------------------------------------------------------------ loader


def _csv_rows() -> list[dict[str, str]]:
    with open(DATA / "mlperf_llm_results.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_shipped_tables_load_and_link():
    res, wl = load_mlperf_results(), load_mlperf_workloads()
    assert len(res) == len(_csv_rows()) and set(res["benchmark"]) <= set(wl["benchmark"])
    devices = set(_hw()["device"])
    assert set(res["accelerator"].dropna()) <= devices
    ends = {"summary": "mlperf_log_summary.txt", "checker_log": "submission_checker_log.txt",
            "results_page": "README.md"}
    for kind, end in ends.items():
        urls = res.loc[res["source_kind"] == kind, "source_url"].str.replace(r"#L\d+$", "", regex=True)
        assert len(urls) and urls.str.endswith(end).all()
    # a value read from a checker log: v4.1 NVIDIA 8 x H200 MaxQ Mixtral Offline, "... 48987.900000 with power_metric"
    # https://github.com/mlcommons/inference_results_v4.1/blob/a2f5d66d17e8f75c02fd74dfe810ecca6a046696/closed/NVIDIA/results/submission_checker_log.txt
    maxq = res[(res["system_id"] == "H200-SXM-141GBx8_TRT_MaxQ") & (res["benchmark"] == "mixtral-8x7b")
               & (res["scenario"] == "Offline")]
    assert maxq["tokens_per_s"].item() == 48987.9 and pd.isna(maxq["samples_per_s"].item())
    # a value read from its file: v4.1 NVIDIA 8 x H200 Llama-2-70B Offline, "Tokens per second: 31302.7"
    # https://github.com/mlcommons/inference_results_v4.1/blob/a2f5d66d17e8f75c02fd74dfe810ecca6a046696/closed/NVIDIA/results/H200-SXM-141GBx8_TRT/llama2-70b-99/Offline/performance/run_1/mlperf_log_summary.txt
    row = res[(res["round"] == "v4.1") & (res["system_id"] == "H200-SXM-141GBx8_TRT")
              & (res["benchmark"] == "llama2-70b-99") & (res["scenario"] == "Offline")]
    assert row["tokens_per_s"].item() == 31302.7
    # Intel's Gaudi2 results are filed under closed/Intel-HabanaLabs: v4.0 Offline "Tokens per second: 8034.85"
    # https://github.com/mlcommons/inference_results_v4.0/blob/3c4a1cf196b70175cfe7c59e067cd1d923aa4f3f/closed/Intel-HabanaLabs/results/HLS-Gaudi2-PT/llama2-70b-99.9/Offline/performance/run_1/mlperf_log_summary.txt
    gaudi = res[(res["submitter"] == "Intel-HabanaLabs") & (res["scenario"] == "Offline")
                & (res["source_kind"] == "summary")]
    assert gaudi["tokens_per_s"].item() == 8034.85 and gaudi["accelerator"].item() == "Gaudi2"


def _broken_copy(tmp_path: Path, line: int, column: str, value: str) -> tuple[Path, Path]:
    res, wl = tmp_path / "mlperf_llm_results.csv", tmp_path / "mlperf_llm_workloads.csv"
    shutil.copy(DATA / "mlperf_llm_workloads.csv", wl)
    with open(DATA / "mlperf_llm_results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    rows[line - 2][column] = value
    with open(res, "w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return res, wl


@pytest.mark.parametrize(("column", "value", "reason"), [
    ("accelerator", "H100 80GB", "is not a device of hardware.csv"),
    ("samples_per_s", "-3", "must be > 0"),
    ("benchmark", "llama2-7b", "must be one of"),
    ("scenario", "offline", "must be one of"),
    ("compute_precision", "fp6", "must be one of"),
    ("samples_per_s", "nan", "is not a finite number"),
])
def test_loader_rejects_a_bad_cell_naming_file_line_and_column(tmp_path, column, value, reason):
    res, wl = _broken_copy(tmp_path, 3, column, value)
    with pytest.raises(DataValidationError, match=rf"mlperf_llm_results\.csv: line 3 .*{column}.*{reason}"):
        load_mlperf_results(res, wl)


@pytest.mark.parametrize(("column", "value", "rule"), [
    ("source_url", "https://github.com/mlcommons/inference_results_v4.0/blob/3c4a1cf196b70175cfe7c59e067cd1d923aa4f3f/"
                   "closed/NVIDIA/results/H200-SXM-141GBx8_TRT/gptj-99/Server/performance/run_1/mlperf_log_summary.txt",
     "source_url must name"),
    ("tokens_kind", "none", "tokens_per_s is given iff"),
    ("tpot_limit_s", "0.2", "Offline rows carry no latency limit"),
    ("source_url", "https://github.com/mlcommons/inference_results_v4.0/blob/3c4a1cf196b70175cfe7c59e067cd1d923aa4f3f/"
                   "closed/NVIDIA/results/H200-SXM-141GBx8_TRT/llama2-70b-99.9/Offline/performance/run_2/"
                   "mlperf_log_summary.txt", "commit-pinned inference_results"),
])
def test_loader_rejects_inconsistent_rows(tmp_path, column, value, rule):
    res, wl = _broken_copy(tmp_path, 2, column, value)  # line 2: v4.0 NVIDIA H200 x 8 Llama-2-70B Offline
    with pytest.raises(DataValidationError, match=rf"line 2 .*{rule}"):
        load_mlperf_results(res, wl)


# ------------------------------------------------------------------------------------------- bounds


def _matmul_params(spec) -> float:
    return specs.non_embedding_parameter_count(spec) + spec.vocab_size * spec.d_model


@pytest.mark.parametrize(("device", "chips"), [(H100, 8), (H200, 8), (MI300X, 1)])
def test_bound_below_the_compute_and_weight_roofs(device, chips):
    ceil = mb.system_ceilings(_hw(), device, "fp8")
    b = mb.workload_bound(LLAMA, ceil, chips, _mem(device), 1, 294, widths=FP8)
    # every generated token multiplies with every block and LM-head weight: 2 FLOPs per weight
    assert b.tokens_per_s <= chips * ceil.peak_flop_per_s / (2 * _matmul_params(LLAMA))
    # every decode step reads the weights once for the whole batch (1 B per weight at FP8)
    assert b.tokens_per_s <= b.batch * chips * ceil.bandwidth_bytes_per_s / _matmul_params(LLAMA)
    assert b.binding in ("compute", "memory") and b.samples_per_s == pytest.approx(b.tokens_per_s / 294)


def test_bound_falls_with_the_prompt_and_scales_with_chips():
    ceil = mb.system_ceilings(_hw(), H200, "fp8")
    rates = [mb.workload_bound(LLAMA, ceil, 8, _mem(H200), i, 294, widths=FP8).tokens_per_s for i in (1, 256, 1024)]
    assert rates[0] > rates[1] > rates[2]
    one = mb.workload_bound(LLAMA, ceil, 4, _mem(H200), 1, 294, widths=FP8)
    two = mb.workload_bound(LLAMA, ceil, 8, _mem(H200), 1, 294, widths=FP8)
    assert one.binding == two.binding == "compute"
    assert two.tokens_per_s / one.tokens_per_s == pytest.approx(2.0, rel=0.01)


@pytest.mark.parametrize("spec", [LLAMA, specs.get_preset("mixtral-8x7b"), mb.GPT_J_6B])
def test_tpot_cap_is_the_largest_batch_meeting_the_limit(spec):
    ceil = mb.system_ceilings(_hw(), H100, "fp8")
    batch, step, _ = mb.decode_at_tpot(spec, ceil, 8, _mem(H100), 512, 0.04, widths=FP8)
    assert 0 < batch and step <= 0.04
    memory_cap = serving.max_batch(spec, 8 * _mem(H100), 512, widths=FP8)
    # one more sequence either misses the limit or does not fit (Mixtral on 8 x H100: memory binds first)
    assert batch == memory_cap or mb.decode_step_bound(spec, ceil, 8, batch + 1, 512, widths=FP8)[0] > 0.04


def test_gptj_spec_has_six_billion_parameters():
    # EleutherAI/gpt-j-6b model card: 6,053,381,344 parameters (https://huggingface.co/EleutherAI/gpt-j-6b)
    assert specs.parameter_count(mb.GPT_J_6B) / 1e9 == pytest.approx(6.05, abs=0.01)


def test_summary_directly_under_performance_is_accepted(tmp_path):
    # v4.0 Intel EMR GPT-J Server: the summary lies in .../Server/performance/ (no run_1 folder)
    rows = [r for r in _csv_rows() if "/performance/mlperf_log_summary.txt" in r["source_url"]]
    assert rows and all(r["scenario"] == "Server" for r in rows)
    res, wl = _broken_copy(tmp_path, 2, "source_url", _csv_rows()[0]["source_url"].replace("run_1/", ""))
    assert load_mlperf_results(res, wl)["source_url"].iloc[0].endswith("/performance/mlperf_log_summary.txt")


def test_no_published_result_exceeds_its_bound():
    table = mr.default_bounds()
    bounded = sum(bool(r["accelerator"]) for r in _csv_rows())
    assert len(table) == bounded and (table["fraction"] <= 1.0).all() and (table["fraction"] > 0).all()
    assert set(mr.best_per_family(table)["family"]) == {"gptj", "llama2-70b", "mixtral-8x7b"}


def test_own_h200_steps_below_their_bound():
    own = mr.own_h200_fractions(tables.load_gpu_reference(), _hw())
    assert ((own["fraction"] > 0) & (own["fraction"] <= 1.0)).all()


@pytest.mark.parametrize(("call", "match"), [
    (lambda c: mb.workload_bound(LLAMA, c, 0, 1e11, 1, 10, widths=FP8), "chips must be an integer >= 1"),
    (lambda c: mb.workload_bound(LLAMA, c, True, 1e11, 1, 10, widths=FP8), "chips must be an integer"),
    (lambda c: mb.workload_bound(LLAMA, c, 8, 1e11, "5", 10, widths=FP8), "input_tokens must be an integer"),
    (lambda c: mb.workload_bound(LLAMA, c, 8, 1e11, 1, 1, widths=FP8), "output_tokens must be an integer >= 2"),
    (lambda c: mb.workload_bound(LLAMA, c, 8, -1.0, 1, 10, widths=FP8), "memory_bytes_per_chip must be"),
    (lambda c: mb.workload_bound(LLAMA, c, 1, 1e9, 1, 10, widths=FP8), "does not fit"),
    (lambda c: mb.decode_at_tpot(LLAMA, c, 8, 1e11, 16, -0.04, widths=FP8), "tpot_limit_s must be"),
    (lambda c: mb.widths_of("fp8", "fp6", "fp8"), "activation_precision='fp6' is not known"),
    (lambda c: mb.system_ceilings(_hw(), H100, "fp2"), "compute_precision='fp2' is not known"),
    (lambda c: mb.system_ceilings(_hw(), H100, "fp8", 0.0), "bandwidth_gb_per_s must be"),
])
def test_bad_inputs_are_rejected(call, match):
    ceil = mb.system_ceilings(_hw(), H100, "fp8")
    with pytest.raises(ValueError, match=match):
        call(ceil)


def _line_of(pick) -> int:
    return next(i for i, r in enumerate(_csv_rows(), start=2) if pick(r))


def _checker_line() -> int:  # v4.0 NVIDIA DGX-H100 x 8 Llama-2-70B (99 %) Offline: one rate, tokens/s
    return _line_of(lambda r: r["source_kind"] == "checker_log" and r["round"] == "v4.0"
                    and r["system_id"] == "DGX-H100_H100-SXM-80GBx8_TRT" and r["benchmark"] == "llama2-70b-99"
                    and r["scenario"] == "Offline")


@pytest.mark.parametrize(("column", "value", "rule"), [
    ("tokens_per_s", "21805.9", "notes start with 'checker log line"),   # the quoted value is 21805.8
    ("benchmark", "llama2-70b-99.9", "repeated|notes start with"),       # quotes the 99 % line
    ("samples_per_s", "74.699", "exactly one of samples_per_s and tokens_per_s"),
    ("confidence", "A", "confidence B or C, not A"),
    ("source_url", "https://github.com/mlcommons/inference_results_v4.0/blob/3c4a1cf196b70175cfe7c59e067cd1d923aa4f3f/"
                   "closed/Google/results/submission_checker_log.txt", "source_url must name"),
    ("source_url", "https://github.com/mlcommons/inference_results_v4.0/blob/3c4a1cf196b70175cfe7c59e067cd1d923aa4f3f/"
                   "closed/NVIDIA/results/DGX-H100_H100-SXM-80GBx8_TRT/submission_checker_log.txt", "commit-pinned"),
    ("source_kind", "results_page", "commit-pinned|notes start with"),
])
def test_loader_rejects_a_checker_row_that_does_not_match_its_log_line(tmp_path, column, value, rule):
    line = _checker_line()
    res, wl = _broken_copy(tmp_path, line, column, value)
    with pytest.raises(DataValidationError, match=rf"line {line} .*({rule})"):
        load_mlperf_results(res, wl)


def test_loader_rejects_a_summary_row_without_samples(tmp_path):
    res, wl = _broken_copy(tmp_path, 2, "samples_per_s", "")
    with pytest.raises(DataValidationError, match=r"line 2 .*a summary row gives samples_per_s"):
        load_mlperf_results(res, wl)


def test_checker_notes_quote_the_rate_of_the_row():
    # independent of the loader: the quoted number is the table's only rate, the quoted path the row's result
    form = re.compile(r'^checker log line: "Results closed/([^/]+)/results/[^/]+/([^/]+)/(\w+) ([0-9.]+)[^"]*" '
                      r"gives (samples|tokens)/s")
    rows = [r for r in _csv_rows() if r["source_kind"] == "checker_log"]
    assert len(rows) == 72
    for r in rows:
        sub, bench, scen, value, unit = form.match(r["notes"]).groups()
        assert (sub, bench, scen) == (r["submitter"], r["benchmark"], r["scenario"])
        other = "samples_per_s" if unit == "tokens" else "tokens_per_s"
        assert float(r[f"{unit}_per_s"]) == float(value) and r[other] == ""
        assert r["source_url"].split("#")[0].endswith(f"/closed/{sub}/results/submission_checker_log.txt")


def test_bounds_use_the_workload_output_where_a_row_has_one_rate():
    res, wl = load_mlperf_results(), load_mlperf_workloads().set_index("benchmark")
    keys = ["round", "submitter", "system_id", "benchmark", "scenario"]
    table = mr.default_bounds().merge(res[[*keys, "samples_per_s", "tokens_per_s"]], on=keys)
    mean_out = table["benchmark"].map(wl["mean_output_tokens"])
    tokens = table["tokens_per_s"]
    tokens_only, samples_only = table["samples_per_s"].isna(), tokens.isna()
    assert tokens_only.sum() > 0 and samples_only.sum() > 0
    assert (table.loc[tokens_only, "achieved_tokens_per_s"] == tokens[tokens_only]).all()
    assert (table.loc[tokens_only, "output_tokens"] == mean_out[tokens_only]).all()
    assert table.loc[samples_only, "achieved_tokens_per_s"].to_numpy() == pytest.approx(
        (table.loc[samples_only, "samples_per_s"] * mean_out[samples_only]).to_numpy())
    both = ~tokens_only & ~samples_only
    assert table.loc[both, "output_tokens"].to_numpy() == pytest.approx(
        (tokens[both] / table.loc[both, "samples_per_s"]).to_numpy())


def test_bounds_table_rejects_a_row_without_a_rate():
    res = load_mlperf_results()
    res.loc[res.index[0], ["samples_per_s", "tokens_per_s"]] = float("nan")
    with pytest.raises(ValueError, match="neither tokens_per_s nor samples_per_s"):
        mb.bounds_table(res.iloc[:1], load_mlperf_workloads(), _hw(), 0.04)


def _run(kind: str, bench: str, samples: float | None, tokens: float | None, system: str = "S") -> dict:
    return {"round": "v4.1", "submitter": "X", "system_id": system, "benchmark": bench, "scenario": "Offline",
            "source_kind": kind, "samples_per_s": samples, "tokens_per_s": tokens}


def test_duplicate_runs_keep_the_summary_and_drop_same_rate_repeats():
    t = pd.DataFrame([
        _run("checker_log", "llama2-70b-99", None, 1000.4),     # same tokens/s as the summary below: a repeat
        _run("summary", "llama2-70b-99.9", 3.4, 1000.0),
        _run("checker_log", "gptj-99", 20.0, None),             # no summary: the first of two equal rows is kept
        _run("checker_log", "gptj-99.9", 20.01, None),
        _run("checker_log", "gptj-99", 30.0, None, system="T"),  # another system: kept
        _run("checker_log", "mixtral-8x7b", None, 1000.4),      # another model: kept
    ])
    assert mr.duplicate_runs(t).tolist() == [True, False, False, True, False, False]
    table = pd.DataFrame({"family": ["gptj", "gptj"], "fraction": [0.5, 0.2], "duplicate_run": [True, False]})
    assert mr.best_per_family(table)["fraction"].tolist() == [0.2]
    with pytest.raises(ValueError, match="source_kind"):
        mr.duplicate_runs(t.drop(columns="source_kind"))


def test_every_result_of_the_checker_logs_is_in_the_table():
    res = load_mlperf_results()
    distinct = res[~mr.duplicate_runs(res)]
    assert len(res) == 160 and len(distinct) == 90
    # each (round, submitter, system, model, scenario) appears for both accuracy targets where the model has two
    two = res[res["benchmark"].str.contains("-99")].assign(family=lambda d: d["benchmark"].map(mr.benchmark_family))
    counts = two.groupby(["round", "submitter", "system_id", "family", "scenario"]).size()
    intel = counts.index.get_level_values("submitter").isin(["Intel"]) | counts.index.get_level_values(
        "system_id").str.contains("tpu")
    assert (counts[~intel] == 2).all()
    # a checker-log or results-page row beside a summary of the other target gives that summary's rate: one run
    key = ["round", "submitter", "system_id", "family", "scenario"]
    fam = res.assign(family=res["benchmark"].map(mr.benchmark_family))
    with_summary = fam.merge(fam.loc[fam["source_kind"] == "summary", key].drop_duplicates(), on=key, how="left",
                             indicator=True)["_merge"].eq("both").to_numpy()
    beside = fam["source_kind"].ne("summary").to_numpy() & with_summary
    assert beside.sum() == 66 and mr.duplicate_runs(res)[beside].all()


def test_data_readme_overview_counts_match_the_tables():
    text = (DATA / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([\w.]+\.csv)` \| [^|]+ \| (\d+)[^|]*\|$", text, flags=re.MULTILINE)
    assert {"hardware.csv", "mlperf_llm_results.csv", "mlperf_llm_workloads.csv"} <= {f for f, _ in rows}
    for name, count in rows:
        with open(DATA / name, newline="", encoding="utf-8") as f:
            assert sum(1 for _ in csv.DictReader(f)) == int(count), name


def test_charts_build_and_check_columns():
    table = mr.default_bounds()
    assert achieved_vs_bound_chart(table).to_dict()["layer"]
    assert fraction_chart(table).to_dict()["layer"]
    with pytest.raises(ValueError, match="fraction"):
        fraction_chart(table.drop(columns="fraction"))


def test_extremes_are_the_highest_and_lowest_runs_once_each():
    from memwall.wall import mlperf_results as mr

    bounds = mr.default_bounds()
    runs = bounds[~bounds["duplicate_run"]]
    highest, lowest = mr.extremes(bounds, 3)
    assert len(highest) == len(lowest) == 3 and highest.columns[0] == "Result"
    top = runs.nlargest(3, "fraction")
    low = runs.nsmallest(3, "fraction")
    assert [float(v) for v in highest["Fraction of the bound [%]"]] == [round(100 * f, 1) for f in top["fraction"]]
    assert [float(v) for v in lowest["Fraction of the bound [%]"]] == [round(100 * f, 1) for f in low["fraction"]]
    assert all(sid in r for sid, r in zip(top["system_id"], highest["Result"], strict=True))
    with pytest.raises(ValueError, match="n must be"):
        mr.extremes(bounds, 0)
