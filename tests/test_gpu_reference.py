"""Tests of the stored H200 measurement and the bounds set beside it (memwall.wall.gpu_reference)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from memwall import charts, tables
from memwall.specs import get_preset, parameter_count
from memwall.tables import DataValidationError, load_hardware
from memwall.wall import gpu_reference

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return tables.load_gpu_reference()


@pytest.fixture(scope="module")
def hw() -> pd.DataFrame:
    return load_hardware()


def test_stored_table_has_three_complete_runs(table):
    counts = table.groupby("run")["setting"].nunique()
    assert list(counts.index) == [1, 2, 3]
    assert counts.nunique() == 1  # every run measured the same settings
    assert set(table["experiment"]) == set(tables.GPU_EXPERIMENTS)


def test_script_writes_the_schema_columns():
    """tools/gpu_reference.py (which needs torch, so it is read, not imported) writes exactly the schema's columns."""
    tree = ast.parse((ROOT / "tools" / "gpu_reference.py").read_text())
    columns = next(ast.literal_eval(node.value) for node in tree.body
                   if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "COLUMNS")
    assert columns == list(tables.GPU_REFERENCE_RULES)


def test_median_runs_by_hand():
    rows = [{"machine": "m", "experiment": "copy", "setting": "s", "run": r, "time_s": t, "flop": np.nan,
             "bytes_moved": 8.0, "flop_per_s": np.nan, "bandwidth_bytes_per_s": 8.0 / t, "command": "c"}
            for r, t in [(1, 2.0), (2, 4.0), (3, 5.0)]]
    med = gpu_reference.median_runs(pd.DataFrame(rows))
    assert med.loc[0, "runs"] == 3
    assert med.loc[0, "time_s"] == 4.0
    assert med.loc[0, "spread"] == pytest.approx((5.0 - 2.0) / 2.0)
    assert med.loc[0, "bandwidth_bytes_per_s"] == pytest.approx(2.0)


def test_measured_ceilings_are_the_best_memory_kernel_and_the_median_gemm(table):
    med = gpu_reference.median_runs(table)
    c = gpu_reference.measured_gpu_ceilings(table)
    mem = med[med["experiment"].isin(["copy", "triad", "read"])]
    assert c.bandwidth_bytes_per_s == pytest.approx(mem["bandwidth_bytes_per_s"].max())
    bf16 = table[(table["experiment"] == "gemm") & (table["dtype"] == "bfloat16")]
    assert c.peak_flop_per_s == pytest.approx(bf16["flop"].iloc[0] / bf16["time_s"].median())
    # The measured ceilings sit below the datasheet's (H200 datasheet: 4.8 TB/s, 989 dense BF16 TFLOP/s).
    assert c.bandwidth_bytes_per_s < 4.8e12
    assert c.peak_flop_per_s < 989.4e12


def test_measured_ceilings_errors(table):
    with pytest.raises(ValueError, match=r"no GEMM measurement; measured: .*bfloat16"):
        gpu_reference.measured_gpu_ceilings(table, "int4")
    two = pd.concat([table, table.assign(machine="other")])
    with pytest.raises(ValueError, match="2 machines"):
        gpu_reference.measured_gpu_ceilings(two)


def test_gemv_intensity_is_analytic(table):
    """I(b) = 2·d²·b / (2·(d² + 2·d·b)) = d·b / (d + 2b) for W d×d in 2-byte elements."""
    sweep = gpu_reference.gemv_sweep(table)
    d, b = 16384, sweep["batch_sequences"].to_numpy(float)
    np.testing.assert_allclose(sweep["intensity_flop_per_byte"], d * b / (d + 2 * b), rtol=1e-12)
    assert (sweep["bound_fraction"] <= 1.0).all()  # nothing beats its roofline bound


def test_decode_bound_matches_a_hand_count(table, hw):
    """Batch 1, 1024 cached tokens: the bytes are the weights but the embedding table plus the KV cache."""
    dec = gpu_reference.decode_vs_bound(table, hw)
    row = dec[(dec["mode"] == "graph") & (dec["batch_sequences"] == 1) & (dec["context_tokens"] == 1024)].iloc[0]
    spec = get_preset("llama-3-8b")
    weights = 2 * (parameter_count(spec) - spec.vocab_size * spec.d_model)
    kv = 1024 * 2 * spec.layers * spec.kv_heads * spec.head_dim * 2
    bw = gpu_reference.measured_gpu_ceilings(table).bandwidth_bytes_per_s
    assert row["bound_measured_s"] == pytest.approx((weights + kv) / bw, rel=0.01)
    assert (dec["bound_fraction"] < 1.0).all()
    assert (dec["bound_datasheet_s"] < dec["bound_measured_s"]).all()


def test_prefill_is_compute_bound_and_under_its_bound(table, hw):
    pre = gpu_reference.prefill_vs_bound(table, hw)
    assert (pre["bound_fraction"] < 1.0).all()
    long = pre[pre["context_tokens"] == pre["context_tokens"].max()].iloc[0]
    assert long["flops"] / long["bytes"] > gpu_reference.measured_gpu_ceilings(table).ridge_flop_per_byte


def test_bad_row_is_named(tmp_path, table):
    path = tmp_path / "gpu.csv"
    src = (ROOT / "data" / "gpu_reference_measurements.csv").read_text().splitlines()
    src[2] = src[2].replace(",triad,", ",warp,")
    path.write_text("\n".join(src) + "\n")
    with pytest.raises(DataValidationError, match=r"line 3.*experiment.*must be one of"):
        tables.load_gpu_reference(path)


def test_decode_chart_has_a_context_dropdown(table, hw):
    chart = charts.decode_latency_chart(gpu_reference.decode_vs_bound(table, hw))
    spec = chart.to_dict()
    assert spec["params"][0]["bind"]["input"] == "select"
    assert sorted(spec["params"][0]["bind"]["options"]) == [1024, 8192]
    with pytest.raises(ValueError, match="lacks column"):
        charts.decode_latency_chart(pd.DataFrame({"mode": []}))


def test_every_column_is_documented():
    dictionary = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    section = dictionary.split("## `gpu_reference_measurements.csv`", 1)[1]
    for column in tables.GPU_REFERENCE_RULES:
        assert f"`{column}`" in section, f"data/README.md does not document column {column!r}"


def _corrupt(tmp_path, line: int, old: str, new: str):
    src = (ROOT / "data" / "gpu_reference_measurements.csv").read_text().splitlines()
    assert old in src[line - 1]
    src[line - 1] = src[line - 1].replace(old, new, 1)
    path = tmp_path / "gpu.csv"
    path.write_text("\n".join(src) + "\n")
    return path


def test_an_empty_column_the_experiment_needs_is_named(tmp_path):
    """A gemv row without its FLOPs would break the sweep later: the loader refuses it, naming the line."""
    src = (ROOT / "data" / "gpu_reference_measurements.csv").read_text().splitlines()
    line = next(i for i, row in enumerate(src, 1) if ",gemv," in row)
    flop = src[line - 1].split(",")[list(tables.GPU_REFERENCE_RULES).index("flop")]
    path = _corrupt(tmp_path, line, f",{flop},", ",,")
    with pytest.raises(DataValidationError, match=rf"line {line}.*column this experiment needs is empty"):
        tables.load_gpu_reference(path)


def test_a_rate_that_is_not_its_quotient_is_named(tmp_path):
    src = (ROOT / "data" / "gpu_reference_measurements.csv").read_text().splitlines()
    line = next(i for i, row in enumerate(src, 1) if ",gemm," in row)
    rate = src[line - 1].split(",")[list(tables.GPU_REFERENCE_RULES).index("flop_per_s")]
    path = _corrupt(tmp_path, line, f",{rate},", f",{float(rate) * 2},")
    with pytest.raises(DataValidationError, match=rf"line {line}.*must equal flop/time_s"):
        tables.load_gpu_reference(path)


def test_arithmetic_intensity_and_distance_to_the_ridge_by_hand():
    # a BF16 GEMV over a 16384 x 16384 matrix at b = 1: 2 d^2 FLOPs on 2 (d^2 + 2d) bytes -> about 1 FLOP/B
    d = 16384
    i = gpu_reference.arithmetic_intensity(2 * d**2, 2 * (d**2 + 2 * d))
    assert i == pytest.approx(d / (d + 2), rel=1e-15)
    # H100 SXM datasheet: 989.4e12 FLOP/s over 3.35e12 B/s -> ridge 295.3 FLOP/B, 295.3 / 0.5 times below it
    from memwall.roofline import Ceilings
    assert gpu_reference.times_below_ridge(Ceilings(989.4e12, 3.35e12), 0.5) == pytest.approx(2 * 989.4 / 3.35)
    np.testing.assert_allclose(gpu_reference.arithmetic_intensity([2.0, 9.0], [4.0, 3.0]), [0.5, 3.0])


def test_intensity_of_the_stored_decode_step_matches_its_columns(table, hw):
    dec = gpu_reference.decode_vs_bound(table, hw)
    np.testing.assert_array_equal(gpu_reference.arithmetic_intensity(dec["flops"], dec["bytes"]),
                                  dec["flops"].to_numpy(float) / dec["bytes"].to_numpy(float))
    meas = gpu_reference.measured_gpu_ceilings(table)
    assert (gpu_reference.times_below_ridge(meas, dec["flops"] / dec["bytes"]) > 1).all()  # decode is memory-bound


def test_prefill_tokens_per_s_by_hand(table, hw):
    assert gpu_reference.prefill_tokens_per_s(8192, 0.5) == 16384.0
    pre = gpu_reference.prefill_vs_bound(table, hw)
    np.testing.assert_array_equal(gpu_reference.prefill_tokens_per_s(pre["context_tokens"], pre["time_s"]),
                                  pre["context_tokens"] / pre["time_s"])


@pytest.mark.parametrize(("call", "match"), [
    (lambda: gpu_reference.arithmetic_intensity(1.0, 0.0), "bytes_"),
    (lambda: gpu_reference.arithmetic_intensity(-1.0, 1.0), "flops"),
    (lambda: gpu_reference.prefill_tokens_per_s(0, 1.0), "prompt_tokens"),
    (lambda: gpu_reference.prefill_tokens_per_s(128, 0.0), "time_s"),
])
def test_step_rates_reject_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()
