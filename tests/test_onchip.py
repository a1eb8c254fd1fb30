"""On-chip lever: the validated on-chip table, fits and chip counts, decode bounds in SRAM, spreading, distillation."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from memwall import serving, specs, tables
from memwall.beyond import allreduce
from memwall.charts.levers_onchip import chips_needed_chart, tier_bounds_chart
from memwall.claims import evaluate
from memwall.levers import onchip, onchip_spread
from memwall.roofline import Ceilings
from memwall.tables import DataValidationError
from memwall.tables.onchip import ONCHIP_RULES, load_onchip
from memwall.widths import BF16, ByteWidths

from .conftest import DATA
from .conftest import edit_csv_cell as _edit

GROQ = "GroqChip (LPU v1)"
GROQ_SRAM = Ceilings(188e12, 80e12, name=GROQ)  # GroqChip: 188 TFLOP/s FP16, 80 TB/s SRAM (data/onchip_memory.csv)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return load_onchip()


# ------------------------------------------------------------------------------------------ table


def test_shipped_table_validates_and_joins_hardware(table):
    assert len(table) >= 10 and table.set_index(["device", "sram_name"]).index.is_unique
    hw_names = set(tables.load_hardware()["device"])
    listed = table[table["specs_from"] == "hardware.csv"]
    assert set(listed["device"]) <= hw_names and not listed.empty
    assert not (set(table.loc[table["specs_from"] == "this_row", "device"]) & hw_names)
    # MI300X: 256 MB Infinity Cache at 17.2 TB/s (AMD CDNA 3 white paper), HBM 5.3 TB/s joined from hardware.csv
    mi = table.set_index(["device", "sram_name"]).loc[("Instinct MI300X (CDNA3)", "Infinity Cache")]
    assert mi["sram_capacity_bytes"] == 256 * 2**20 and mi["sram_bandwidth_bytes_per_s"] == 17.2e12
    assert mi["memory_bandwidth_gb_per_s"] == 5300.0
    # GroqChip: 480 GB/s of links both ways = 240 GB/s each way (Linley Group, Nov 2020)
    groq = table.set_index("device").loc[GROQ]
    assert groq["chip_to_chip_gb_per_s_per_direction"] == 240.0


def test_every_onchip_column_is_described():
    for name, rule in ONCHIP_RULES.items():
        assert rule.description, name
        numeric = rule.dtype == "float"
        assert not numeric or any(name.endswith(u) for u in ("_mib", "_tb_per_s", "_tflop_per_s", "_tera_op_per_s",
                                                               "_gib", "_gb_per_s")), name


def _copy(tmp_path: Path) -> Path:
    for name in ("onchip_memory.csv", "hardware.csv", "memory_generations.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path




def _load(d: Path) -> pd.DataFrame:
    return load_onchip(d / "onchip_memory.csv", d / "hardware.csv", d / "memory_generations.csv")


@pytest.mark.parametrize(("row", "column", "value", "reason"), [
    (0, "sram_capacity_mib", "-40", r"must be > 0 \[MiB\]"),
    (0, "sram_bandwidth_tb_per_s", "fast", "is not a number"),
    (0, "sram_kind", "register", "must be one of: cache, scratchpad"),
    (0, "specs_from", "datasheet", "must be one of: hardware.csv, this_row"),
    (0, "confidence", "D", "must be one of: A, B, C"),
    (0, "source_url", "whitepaper.pdf", r"must be one http\(s\):// URL"),
    (0, "device", "A100 SXM4 99GB (Ampere)", "device is not a device of hardware.csv"),
    (0, "dense_fp16_tflop_per_s", "312", "must leave .* empty"),
    (8, "chip_to_chip_direction", "", "'chip_to_chip_direction' must be given exactly when"),
    (8, "device", "H100 SXM5 80GB (Hopper)", "device is in hardware.csv"),
])
def test_broken_row_is_named(tmp_path, row, column, value, reason):
    d = _copy(tmp_path)
    raw = pd.read_csv(d / "onchip_memory.csv", dtype=str)
    if row == 8:
        assert raw.loc[row, "device"] == GROQ  # the row used for the this_row checks
    device = _edit(d / "onchip_memory.csv", row, column, value)
    with pytest.raises(DataValidationError, match=reason) as err:
        _load(d)
    assert f"line {row + 2} (data row {row + 1}, device={device!r})" in str(err.value)


def test_duplicate_memory_is_rejected(tmp_path):
    d = _copy(tmp_path)
    path = d / "onchip_memory.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join([*lines, lines[1]]), encoding="utf-8")
    with pytest.raises(DataValidationError, match="duplicate value"):
        _load(d)


# ------------------------------------------------------------------------------------------- fits


def test_chips_by_hand():
    # Llama-2-70B: 68,976,648,192 parameters (HF config) x 2 B over 220 MiB: 598.02 -> 599; 8 bits: 299.01 -> 300
    n = specs.parameter_count(specs.get_preset("llama-2-70b"))
    for wb in (2.0, 1.0):
        hand = math.ceil(n * wb / (220 * 2**20))
        assert onchip.chips_to_stay_on_chip("llama-2-70b", 220 * 2**20, widths=ByteWidths(weight=wb),
                                            weights_only=True) == hand
    assert onchip.chips_to_stay_on_chip("llama-2-70b", 220 * 2**20, weights_only=True) == 599


def test_chips_with_cache_and_activations():
    spec, cap = specs.get_preset("llama-3-8b"), 897 * 2**20
    fp = serving.footprint(spec, 2, 4096)
    hand = math.ceil((fp.weights + fp.kv_cache) / (cap - fp.activations))
    assert onchip.chips_to_stay_on_chip(spec, cap, 2, 4096) == hand
    assert onchip.chips_to_stay_on_chip(spec, [cap, 2 * cap], 2, 4096).tolist()[0] == hand
    assert onchip.chips_to_stay_on_chip(spec, fp.total, 2, 4096) == 1 and onchip.fits_on_chip(spec, fp.total, 2, 4096)
    assert not onchip.fits_on_chip(spec, fp.total * 0.999, 2, 4096)


# ----------------------------------------------------------------------------------------- decode


def test_decode_bound_is_bytes_over_sram_bandwidth():
    # Llama-2-7B at batch 1, empty cache: the step reads ~the block and LM-head weights at 2 B each.
    spec = specs.get_preset("llama-2-7b")
    n_read = specs.non_embedding_parameter_count(spec) + spec.vocab_size * spec.d_model
    b = onchip.decode_bound(spec, 188e12, 80e12, 1, 0)
    assert b.time_per_token_s == pytest.approx(2.0 * n_read / 80e12, rel=0.01)
    assert not b.compute_bound and b.tokens_per_s == pytest.approx(1 / b.time_per_token_s)


@pytest.mark.parametrize(("peak", "weight", "batch"), [(188e12, 2.0, 3), (750e12, 1.0, 5)])
def test_compute_binds_at_the_closed_form_batch(peak, weight, batch):
    # B* = ceil(P / BW * b_w / 2): 188/80 = 2.35 -> 3; 750/80/2 = 4.69 -> 5
    w = ByteWidths(weight=weight, act=weight, kv=weight)
    assert math.ceil(peak / 80e12 * weight / 2) == batch
    assert onchip.decode_bound("llama-2-7b", peak, 80e12, batch, 0, widths=w).compute_bound
    assert not onchip.decode_bound("llama-2-7b", peak, 80e12, batch - 1, 0, widths=w).compute_bound


def test_tier_bounds_match_the_cost_model(table):
    tiers = onchip.device_tiers(table, "MI300X", host_link_bytes_per_s=63e9)
    assert [t.name for t in tiers] == ["on-chip SRAM", "HBM", "host DRAM"]
    n = specs.parameter_count(specs.get_preset("llama-2-13b"))
    approx = onchip.tier_bounds(tiers, 1307.4e12, [n]).set_index("tier")
    full = onchip.decode_bound("llama-2-13b", 1307.4e12, 5.3e12, 1, 0)
    assert approx.loc["HBM", "time_per_token_s"] == pytest.approx(full.time_per_token_s, rel=0.03)
    assert not approx.loc["on-chip SRAM", "fits"] and approx.loc["HBM", "fits"]
    big = onchip.tier_bounds(tiers[:1], 1307.4e12, [1e6], batch=4096)
    assert bool(big["compute_bound"].iloc[0])


def test_distillation_gain_is_near_the_size_ratio():
    ceil = Ceilings(989.4e12, 3.35e12)
    gain = onchip.distillation_gain("llama-3-70b", "llama-3-8b", ceil, 1, 0)
    assert gain["parameter_ratio"] == pytest.approx(70553706496 / 8030261248)
    assert 1.0 < gain["speedup"] / gain["parameter_ratio"] < 1.1
    assert gain["speedup"] == pytest.approx(gain["teacher_time_per_token_s"] / gain["student_time_per_token_s"])


# --------------------------------------------------------------------------------------- spreading


def test_pipeline_link_time_by_hand():
    # (S - 1)(l + B d b_a / beta): 9 hops x (1 us + 2 x 8192 x 2 B / 100 GB/s) = 9 x 1.32768 us
    t = onchip_spread.pipeline_link_time("llama-2-70b", 10, 100e9, 1e-6, 2)
    assert t == pytest.approx(9 * (1e-6 + 2 * 8192 * 2 / 100e9))
    assert onchip_spread.pipeline_link_time("llama-2-70b", 1, 100e9, 1e-6) == 0.0


def test_spread_adds_links_to_the_tensor_parallel_step():
    r = onchip_spread.spread_decode("llama-2-70b", GROQ_SRAM, 8, 75, 240e9, allreduce.HOP_LATENCY_S["nvlink"])
    ring = allreduce.ring_allreduce_time(8192 * 2.0, 8, 240e9, allreduce.HOP_LATENCY_S["nvlink"],
                                         allreduce.BASE_LATENCY_S)
    assert r.allreduce_s == pytest.approx(2 * 80 * ring)
    assert r.total_s == pytest.approx(r.step_s + r.allreduce_s + r.pipeline_s) and r.link_bound
    budget = onchip_spread.link_latency_budget("llama-2-70b", GROQ_SRAM, 8, 75)
    assert budget == pytest.approx(r.step_s / (160 + 74))
    assert onchip_spread.link_latency_budget("llama-2-7b", GROQ_SRAM, 1, 1) == math.inf


def test_spread_table_needs_enough_chips():
    sweep = onchip_spread.spread_table("llama-2-70b", GROQ_SRAM, 220 * 2**20, 240e9, 0.47e-6)
    assert sweep["tensor_parallel"].min() == 8  # fewer chips per stage would need more stages than 80 layers
    assert (sweep["chips"] >= onchip.chips_to_stay_on_chip("llama-2-70b", 220 * 2**20)).all()
    assert sweep["step_s"].is_monotonic_decreasing and sweep["allreduce_s"].is_monotonic_increasing


# ------------------------------------------------------------------------------------ bad arguments


@pytest.mark.parametrize(("call", "match"), [
    (lambda: onchip.chips_to_stay_on_chip("llama-2-7b", 0), r"capacity_bytes must be a number > 0 \[B\], got 0"),
    (lambda: onchip.chips_to_stay_on_chip("llama-2-7b", 1e3, 1, 0), "does not exceed one step's activation"),
    (lambda: onchip.decode_bound("llama-2-7b", True, 80e12), "peak_flop_per_s must be a number > 0 .*got True"),
    (lambda: onchip.decode_bound("llama-2-7b", "188e12", 80e12), "peak_flop_per_s must be a number > 0"),
    (lambda: onchip.decode_bound("llama-2-7b", 188e12, -1.0),
     r"bandwidth_bytes_per_s must be a number > 0 \[B/s\], got -1.0"),
    (lambda: onchip.decode_bound("bert-base", 188e12, 80e12), "decoder"),
    (lambda: onchip_spread.pipeline_link_time("llama-2-7b", 33, 1e9, 0.0),
     r"stages must be an integer in \[1, layers=32\].*got 33"),
    (lambda: onchip_spread.pipeline_link_time("llama-2-7b", True, 1e9, 0.0), "stages must be an integer"),
    (lambda: onchip_spread.pipeline_link_time("llama-2-7b", 2, 1e9, -1e-6), "hop_latency_s must be a number >= 0"),
    (lambda: onchip_spread.spread_decode("llama-2-70b", GROQ_SRAM, 128, 1, 1e9, 0.0), "at most heads=64"),
    (lambda: onchip.tier_bounds([], 1e12, [1e9], batch=0), "batch must be an integer >= 1"),
    (lambda: onchip.tier_bounds([], 1e12, [0.0]), "parameters must be a number > 0, got 0.0"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_devices_and_memories(table):
    with pytest.raises(ValueError, match="not a memory of 'Instinct MI300X"):
        onchip.onchip_row(table, "MI300X", "L3 cache")
    with pytest.raises(ValueError, match="no published on-chip bandwidth"):
        onchip.device_tiers(table, "H100", sram_name="L2 cache")
    with pytest.raises(ValueError, match="no published dense fp16 peak"):
        onchip.device_peak(onchip.onchip_row(table, "Cerebras WSE-3"))
    with pytest.raises(ValueError, match="precision='fp4' is not known"):
        onchip.device_peak(onchip.onchip_row(table, GROQ), "fp4")
    with pytest.raises(ValueError):
        onchip.onchip_row(table, "no such chip 9000")


# ---------------------------------------------------------------------------------- charts, claims


def test_charts_build(table):
    tiers = onchip.device_tiers(table, GROQ, host_link_bytes_per_s=31.5e9)
    bounds = onchip.tier_bounds(tiers, 188e12, np.logspace(7, 11, 9)).assign(device=GROQ, batch=1)
    assert "oc_device" in tier_bounds_chart(bounds).to_json()
    chips = onchip.chips_needed_table(["llama-2-7b"], table, {"16-bit": BF16}, devices=[GROQ, "Cerebras WSE-3"])
    assert chips.set_index("device").loc["Cerebras WSE-3", "fits_one_chip"]
    assert "oc_model" in chips_needed_chart(chips).to_json()
    with pytest.raises(ValueError, match="lacks column"):
        tier_bounds_chart(bounds.drop(columns="tier"))


@pytest.mark.parametrize("claim_id", ["onchip-small-model-faster", "onchip-mi300x-sram-hbm-ratio",
                                      "onchip-groq-compute-binds-batch-3", "onchip-groq-llama2-70b-chips",
                                      "onchip-spread-link-binds", "onchip-distill-70b-to-8b-h100"])
def test_claims_reproduce(claim_id):
    assert evaluate(claim_id)["status"] == "reproduced"


# ------------------------------------------------------------------------------------ review fixes


@pytest.mark.parametrize(("args", "match"), [
    (("SRAM", 1e9, 0), r"bandwidth_bytes_per_s must be a number > 0 \[B/s\], got 0"),
    (("SRAM", 1e9, -1.0), r"bandwidth_bytes_per_s must be a number > 0 \[B/s\], got -1.0"),
    (("SRAM", 1e9, True), r"bandwidth_bytes_per_s must be a number > 0 \[B/s\] .*got True"),
    (("SRAM", 1e9, math.inf), r"bandwidth_bytes_per_s must be a number > 0 \[B/s\], got inf"),
    (("SRAM", 0.0, 1e12), r"capacity_bytes must be a number > 0 \[B\] or inf"),
    (("SRAM", "1e9", 1e12), r"capacity_bytes must be a number > 0 \[B\] or inf"),
    ((None, 1e9, 1e12), "name must be a str"),
])
def test_memory_tier_is_validated(args, match):
    with pytest.raises(ValueError, match=match):
        onchip.MemoryTier(*args)


def test_memory_tier_allows_unlimited_capacity():
    tier = onchip.MemoryTier("host DRAM", math.inf, 63e9)
    assert tier.capacity_bytes == math.inf and tier.bandwidth_bytes_per_s == 63e9


@pytest.mark.parametrize(("call", "match"), [
    (lambda: onchip.fits_on_chip("llama-2-7b", True), r"capacity_bytes must be a number > 0 \[B\] .*got True"),
    (lambda: onchip.fits_on_chip("llama-2-7b", "1e12"), r"capacity_bytes must be a number > 0 \[B\]"),
    (lambda: onchip.chips_to_stay_on_chip("llama-2-7b", True), "capacity_bytes must be a number > 0"),
    (lambda: onchip.chips_to_stay_on_chip("llama-2-7b", 2**30, weights_only="no"),
     "weights_only must be True or False, got 'no'"),
    (lambda: onchip.chips_to_stay_on_chip("llama-2-7b", 2**30, weights_only=1),
     "weights_only must be True or False, got 1"),
    (lambda: onchip.chips_needed_table(["llama-2-7b"], load_onchip(), {"16-bit": BF16}, weights_only="yes"),
     "weights_only must be True or False"),
    (lambda: onchip.tier_bounds([("SRAM", 1e9, 1e12)], 1e12, [1e9]), r"tiers\[0\] must be a MemoryTier"),
])
def test_onchip_flags_and_capacities(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(("call", "match"), [
    (lambda: onchip.distillation_gain("llama-3-70b", "llama-3-8b", "h100"), "ceilings must be a Ceilings, got str"),
    (lambda: onchip.distillation_gain("llama-3-70b", "llama-3-8b", GROQ_SRAM, widths="bf16"),
     "widths must be a ByteWidths"),
    (lambda: onchip.decode_bound("llama-2-7b", 1e12, 1e12, widths=2.0), "widths must be a ByteWidths"),
    (lambda: onchip_spread.spread_decode("llama-2-7b", "groq", 1, 1, 1e9, 0.0), "ceilings must be a Ceilings"),
    (lambda: onchip_spread.link_latency_budget("llama-2-7b", "groq", 1, 1), "ceilings must be a Ceilings"),
])
@pytest.mark.parametrize("error", [ValueError, TypeError])
def test_wrong_object_types_name_the_parameter(call, match, error):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("pp", [33, 100])
def test_latency_budget_and_pipeline_agree_on_stages(pp):
    # Llama-2-7B has 32 layers: both functions reject more stages than layers
    with pytest.raises(ValueError, match=r"stages must be an integer in \[1, layers=32\]"):
        onchip_spread.pipeline_link_time("llama-2-7b", pp, 1e9, 0.0)
    with pytest.raises(ValueError, match=rf"pipeline_stages must be an integer in \[1, layers=32\].*got {pp}"):
        onchip_spread.link_latency_budget("llama-2-7b", GROQ_SRAM, 1, pp)
    with pytest.raises(ValueError, match=r"pipeline_stages must be an integer in \[1, layers=32\]"):
        onchip_spread.spread_decode("llama-2-7b", GROQ_SRAM, 1, pp, 1e9, 0.0)
    assert onchip_spread.link_latency_budget("llama-2-7b", GROQ_SRAM, 1, 32) > 0


@pytest.mark.parametrize(("model", "tp", "match"), [
    ("llama-2-7b", 3, "tensor_parallel must be at most heads=32 of llama-2-7b and divide it.*got 3"),
    ("llama-2-7b", 12, "divide it.*got 12"),
    ("llama-2-70b", 128, "at most heads=64"),
    ("llama-2-7b", 2.5, "tensor_parallel must be an integer >= 1, got 2.5"),
    ("llama-2-7b", True, "tensor_parallel must be an integer >= 1 .*got True"),
])
def test_tensor_parallel_must_split_whole_heads(model, tp, match):
    with pytest.raises(ValueError, match=match):
        onchip_spread.spread_decode(model, GROQ_SRAM, tp, 1, 1e9, 0.0)
    with pytest.raises(ValueError, match=match):
        onchip_spread.link_latency_budget(model, GROQ_SRAM, tp, 1)


def test_tensor_parallel_kv_heads_split_or_replicated():
    # Llama-2-70B: 64 heads, 8 KV heads; tp = 16 replicates each KV head on two chips (accepted)
    assert onchip_spread.spread_decode("llama-2-70b", GROQ_SRAM, 16, 5, 1e9, 0.0).step_s > 0
    spec = specs.get_preset("llama-2-70b")
    odd = specs.ModelSpec(**{**spec.__dict__, "name": "odd-kv", "heads": 24, "kv_heads": 6})
    with pytest.raises(ValueError, match="tensor_parallel must divide kv_heads=6 of odd-kv or be a multiple"):
        onchip_spread.spread_decode(odd, GROQ_SRAM, 4, 1, 1e9, 0.0)
    sweep = onchip_spread.spread_table(odd, GROQ_SRAM, 2**40, 240e9, 0.47e-6, tensor_parallel=(1, 2, 3, 4, 6, 8))
    assert sweep["tensor_parallel"].tolist() == [1, 2, 3, 6]  # 4 splits the heads but not the 6 KV heads
