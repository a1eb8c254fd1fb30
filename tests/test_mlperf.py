"""MLPerf results table, its loader, and the roofline bounds of memwall.wall.mlperf_bounds."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

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


def test_shipped_tables_load_and_link():
    res, wl = load_mlperf_results(), load_mlperf_workloads()
    assert len(res) >= 30 and set(res["benchmark"]) <= set(wl["benchmark"])
    devices = set(_hw()["device"])
    assert set(res["accelerator"].dropna()) <= devices
    assert res["source_url"].str.endswith("mlperf_log_summary.txt").all()
    # a value read from its file: v4.1 NVIDIA 8 x H200 Llama-2-70B Offline, "Tokens per second: 31302.7"
    # https://github.com/mlcommons/inference_results_v4.1/blob/a2f5d66d17e8f75c02fd74dfe810ecca6a046696/closed/NVIDIA/results/H200-SXM-141GBx8_TRT/llama2-70b-99/Offline/performance/run_1/mlperf_log_summary.txt
    row = res[(res["round"] == "v4.1") & (res["system_id"] == "H200-SXM-141GBx8_TRT")
              & (res["benchmark"] == "llama2-70b-99") & (res["scenario"] == "Offline")]
    assert row["tokens_per_s"].item() == 31302.7


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


def test_no_published_result_exceeds_its_bound():
    table = mr.default_bounds()
    assert len(table) >= 30 and (table["fraction"] <= 1.0).all() and (table["fraction"] > 0).all()
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


def test_charts_build_and_check_columns():
    table = mr.default_bounds()
    assert achieved_vs_bound_chart(table).to_dict()["layer"]
    assert fraction_chart(table).to_dict()["layer"]
    with pytest.raises(ValueError, match="fraction"):
        fraction_chart(table.drop(columns="fraction"))
