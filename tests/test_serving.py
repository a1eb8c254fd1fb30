"""Tests of memwall.serving: golden values from first principles, properties, bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memwall.cost import cost_arrays
from memwall.roofline import Ceilings
from memwall.serving import (
    PRECISION_SCHEMES,
    Scheme,
    ceilings_for,
    critical_batch,
    critical_batch_closed_form,
    decode_step_time,
    device_memory_bytes,
    footprint,
    frontier,
    get_scheme,
    kv_cache_bytes,
    max_batch,
    max_context,
    request_split,
    time_per_token,
    tokens_per_s,
)
from memwall.specs import get_preset, parameter_count
from memwall.tables import load_hardware
from memwall.units import GIB
from memwall.widths import BF16, ByteWidths

H100 = "H100 SXM5 80GB (Hopper)"
V5E = "Google TPU v5e"
FAST = settings(max_examples=12, deadline=None)


@pytest.fixture(scope="module")
def hardware() -> pd.DataFrame:
    return load_hardware()


@pytest.fixture(scope="module")
def h100(hardware: pd.DataFrame) -> Ceilings:
    return ceilings_for(hardware, H100, "W16A16")


# Hand-made ceilings for the property tests (no table needed): H100-like, ridge ~295 FLOP/B.
TOY = Ceilings(989.4e12, 3.35e12, name="toy H100", precision="bf16")


# ------------------------------------------------------------------------------------- schemes


def test_schemes_widths_and_roofs(hardware: pd.DataFrame) -> None:
    assert PRECISION_SCHEMES["W16A16"].widths == BF16
    assert PRECISION_SCHEMES["W4A16"].widths == ByteWidths(weight=0.5, act=2.0, kv=2.0)
    kv8 = get_scheme("w4a16+kv8")
    assert (kv8.name, kv8.weight_bytes, kv8.kv_bytes, kv8.compute) == ("W4A16-KV8", 0.5, 1.0, "bf16")
    # H100 SXM datasheet: 989.4 dense bf16 TFLOP/s, 1979 dense int8 TOP/s and fp8 TFLOP/s, 3.35 TB/s.
    assert ceilings_for(hardware, H100, "W4A16").peak_flop_per_s == pytest.approx(989.4e12)
    assert ceilings_for(hardware, H100, "W8A8").peak_flop_per_s == pytest.approx(1979e12)
    assert ceilings_for(hardware, H100, "FP8").precision == "fp8"
    assert ceilings_for(hardware, H100, "FP8").bandwidth_bytes_per_s == pytest.approx(3.35e12)
    # 80 GB read as 80 GiB (vendor nominal), converted explicitly.
    assert device_memory_bytes(hardware, H100) == 80 * 2**30


def test_scheme_errors(hardware: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="unknown precision scheme 'W3A3'"):
        get_scheme("W3A3")
    with pytest.raises(ValueError, match="unknown precision scheme"):
        get_scheme("W16A16-KV2")
    with pytest.raises(ValueError, match="no dense fp8 peak"):  # TPU v5e lists no fp8 peak
        ceilings_for(hardware, V5E, "FP8")
    with pytest.raises(ValueError, match="weight_bytes"):
        Scheme("bad", 0.0, 2.0, 2.0, "bf16")
    with pytest.raises(ValueError, match="compute='fp4'"):
        Scheme("bad", 0.5, 2.0, 2.0, "fp4")


# ------------------------------------------------------------------------------------ golden values


def test_kv_cache_llama3_8b() -> None:
    # Llama-3-8B config.json: 32 layers, 8 KV heads, head_dim 4096/32 = 128; K and V at 2 B each.
    assert kv_cache_bytes("llama-3-8b", 1) == 2 * 32 * 8 * 128 * 2 == 131072
    # Llama-2-7B is multi-head (32 KV heads): 4x more per token; 8-bit KV halves it.
    got = kv_cache_bytes("llama-2-7b", np.array([1, 4096]), batch=[[1], [8]], kv_bytes=1.0)
    np.testing.assert_array_equal(got, 2 * 32 * 32 * 128 * np.array([[1, 4096], [8, 8 * 4096]]))


def test_critical_batch_closed_form_devices(hardware: pd.DataFrame) -> None:
    # bf16 weights: B* = P/BW. TPU v5e: 197e12 / 819e9 ~ 240.5; H100 SXM: 989.4e12 / 3.35e12 ~ 295.3.
    v5e = ceilings_for(hardware, V5E, "W16A16")
    assert critical_batch(None, v5e) == pytest.approx(197e12 / 819e9) == pytest.approx(240.54, abs=0.01)
    h100 = ceilings_for(hardware, H100, "W16A16")
    assert critical_batch(None, h100) == pytest.approx(295.34, abs=0.01)
    # int8 weights dequantised onto the bf16 roof: halved. On the int8 roof (2x peak): unchanged.
    w8 = get_scheme("W8A16")
    assert critical_batch(None, ceilings_for(hardware, H100, w8),
                          widths=ByteWidths(weight=w8.weight_bytes)) == pytest.approx(295.34 / 2,
                                                                                                     abs=0.01)
    w8a8 = get_scheme("W8A8")
    assert critical_batch(None, ceilings_for(hardware, H100, w8a8),
                          widths=ByteWidths(weight=1.0)) == pytest.approx(1979e12 / 3.35e12 / 2)
    np.testing.assert_allclose(critical_batch_closed_form(1e12, 1e10, [0.5, 1.0, 2.0, 4.0]), [25, 50, 100, 200])


def test_critical_batch_weight_matmuls_first_principles(h100: Ceilings) -> None:
    # Llama-2-7B weight matmuls per layer: q,k,v,o are d x d, gate/up d x f, down f x d (d=4096, f=11008):
    # N = 4 d^2 + 3 d f weights; per token they read/write S = 2 B x (8d + 3(d + f)) activation bytes.
    # Compute-bound when 2 B N / P >= (2 N + B S) / BW  =>  B* = ceil((2N/BW) / (2N/P - S/BW)).
    d, f, peak, bw = 4096, 11008, 989.4e12, 3.35e12
    n = 4 * d * d + 3 * d * f
    s = 2 * (8 * d + 3 * (d + f))
    expected = np.ceil((2 * n / bw) / (2 * n / peak - s / bw))
    assert expected == 334
    got = critical_batch("llama-2-7b", h100, scope="weight_matmuls", include_lm_head=False)
    assert got == expected
    # Activation traffic (neglected by the closed form) pushes it ~13 % above P/BW = 295.
    assert 1.0 < got / critical_batch(None, h100) < 1.2


def test_critical_batch_step_context_kv_gqa(h100: Ceilings) -> None:
    ctx = np.array([0, 128, 256, 512, 4096])
    gqa = critical_batch("llama-3-8b", h100, context=ctx)
    assert np.all(gqa[1:] >= gqa[:-1])  # longer context: more KV traffic per sequence, later (or never)
    assert 295 < gqa[0] < 400 and np.isinf(gqa[-1])
    # Per-sequence intensity of attention is 2 (heads/kv_heads) / kv_bytes FLOP/B, far below the ridge:
    # an 8-bit cache or fewer KV heads lower the critical batch; MHA (32 KV heads) never gets there.
    kv8 = critical_batch("llama-3-8b", h100, widths=ByteWidths(kv=1.0), context=ctx)
    assert np.all(kv8 <= gqa) and kv8[2] < gqa[2]
    spec = get_preset("llama-3-8b")
    mha = critical_batch(dataclasses.replace(spec, kv_heads=32), h100, context=ctx)
    mqa = critical_batch(dataclasses.replace(spec, kv_heads=1), h100, context=ctx)
    # With an empty cache only the size of the K/V projections differs: within 2 %.
    assert mqa[0] == pytest.approx(gqa[0], rel=0.02) and mha[0] == pytest.approx(gqa[0], rel=0.02)
    assert np.all(mqa[1:] <= gqa[1:]) and np.all(gqa[1:] <= mha[1:])
    assert np.isinf(mha[1]) and np.isfinite(gqa[2]) and np.isfinite(mqa[3]) and np.isinf(gqa[3])


def test_critical_batch_is_the_smallest(h100: Ceilings) -> None:
    b = critical_batch("llama-3-8b", h100, context=256)

    def compute_bound(batch: float) -> bool:
        ops = cost_arrays(get_preset("llama-3-8b"), "decode", 256, batch, fused_attention=True,
                          include_lm_head=True)
        return (sum(o.flops for o in ops.values()) / h100.peak_flop_per_s
                >= sum(o.bytes_read + o.bytes_written for o in ops.values()) / h100.bandwidth_bytes_per_s)

    assert compute_bound(b) and not compute_bound(b - 1)
    assert np.isfinite(critical_batch("mixtral-8x7b", h100))  # MoE: expert reads saturate, bisection still works


def test_decode_batch1_is_weight_bytes_over_bandwidth(h100: Ceilings) -> None:
    # Batch-1 decode of Llama-2-7B with an empty cache reads each weight once: t ~ 2 B x 6.74e9 / 3.35 TB/s
    # ~ 4.02 ms. The bound is ~2 % lower because the embedding table is not read (one row per token).
    expected = parameter_count(get_preset("llama-2-7b")) * 2 / 3.35e12
    assert decode_step_time("llama-2-7b", h100) == pytest.approx(expected, rel=0.03)
    assert time_per_token("llama-2-7b", h100) == pytest.approx(expected, rel=0.03)
    assert tokens_per_s("llama-2-7b", h100) == pytest.approx(1 / expected, rel=0.03)
    # W4A16 moves a quarter of the bytes: ~4x faster at batch 1.
    w4 = decode_step_time("llama-2-7b", h100, widths=get_scheme("W4A16").widths)
    assert w4 == pytest.approx(expected / 4, rel=0.05)


def test_footprint_and_max_batch_llama2_7b(hardware: pd.DataFrame) -> None:
    memory = device_memory_bytes(hardware, H100)  # 80 GiB = 85.9e9 B
    # Weights 2 B x 6,738,415,616; KV 2*32*32*128*2 = 524,288 B/token -> 2 GiB per 4096-token sequence;
    # activations ~0.2 MB per sequence: floor((85.90e9 - 13.48e9) / 2.148e9) = 33.
    fp = footprint("llama-2-7b", 33, 4096)
    assert fp.weights == 2 * 6_738_415_616
    assert fp.kv_cache == 33 * 4096 * 524_288
    assert 0 < fp.activations < 1e-3 * fp.kv_cache
    assert fp.total == fp.weights + fp.kv_cache + fp.activations
    assert max_batch("llama-2-7b", memory, 4096) == 33
    assert footprint("llama-2-7b", 33, 4096).total <= memory < footprint("llama-2-7b", 34, 4096).total
    # max_context is the inverse question: 33 sequences fit at 4096 tokens but not at the next multiple.
    c = max_context("llama-2-7b", memory, 33)
    assert c >= 4096 and footprint("llama-2-7b", 33, c).total <= memory < footprint("llama-2-7b", 33, c + 1).total


def test_max_batch_vectorised_never_negative(hardware: pd.DataFrame) -> None:
    memory = device_memory_bytes(hardware, H100)
    got = max_batch("llama-2-7b", memory, np.array([0, 1024, 4096, 10**6]))
    assert got.dtype == np.int64 and got[-1] == 0 and np.all(got >= 0) and np.all(np.diff(got) <= 0)
    assert max_batch("llama-2-7b", [1e9, 0.0], 128).tolist() == [0, 0]  # weights alone do not fit
    assert max_context("llama-3-70b", memory, 1) == 0


def test_model_that_does_not_fit(hardware: pd.DataFrame, h100: Ceilings) -> None:
    # Llama-3-70B: 70.55e9 parameters x 2 B = 141 GB > 80 GiB.
    memory = device_memory_bytes(hardware, H100)
    assert max_batch("llama-3-70b", memory, 1024) == 0
    df = frontier("llama-3-70b", h100, memory, 1024)
    assert df.empty and list(df.columns)[:3] == ["batch", "step_time_s", "tokens_per_s"]
    assert df.attrs["max_batch"] == 0 and df.attrs["fits"] is False
    assert "does not fit" in df.attrs["message"] and "141.1 GB" in df.attrs["message"]
    # W4A16 brings it to 35 GB of weights: it fits again.
    assert frontier("llama-3-70b", h100, memory, 1024, widths=get_scheme("W4A16").widths).attrs["max_batch"] > 0


def test_frontier_shape(hardware: pd.DataFrame, h100: Ceilings) -> None:
    memory = device_memory_bytes(hardware, H100)
    df = frontier("llama-3-8b", h100, memory, 4096)
    limit = max_batch("llama-3-8b", memory, 4096)
    assert df["batch"].iloc[-1] == limit == df.attrs["max_batch"]
    assert df["fits"].all() and df["batch"].is_monotonic_increasing
    assert df["tokens_per_s"].is_monotonic_increasing and df["time_per_token_s"].is_monotonic_increasing
    np.testing.assert_allclose(df["tokens_per_s"], df["batch"] / df["step_time_s"])
    # Explicit batches keep the rows that do not fit, flagged.
    extra = frontier("llama-3-8b", h100, memory, 4096, batches=[1, limit, limit + 1])
    assert extra["fits"].tolist() == [True, True, False]
    # Short context, small model: the frontier reaches the compute roof.
    assert frontier("llama-3-8b", h100, memory, 0, batches=[1, 4096])["compute_bound"].tolist() == [False, True]


def test_request_split_matches_sum_of_steps(h100: Ceilings) -> None:
    spec, prompt, out = "llama-3-8b", 300, 40
    split = request_split(spec, h100, prompt, out, batch=512)
    steps = decode_step_time(spec, h100, 512, np.arange(prompt, prompt + out - 1))
    assert split.tpot_s == pytest.approx(steps.mean(), rel=1e-12)
    assert split.total_s == pytest.approx(split.ttft_s + steps.sum(), rel=1e-12)
    # A low ridge (3 FLOP/B) makes QK^T and score-V cross from memory- to compute-bound at cache ~11
    # (intensity 2 h d_h (c+1) / (h d_h b_a + (c+1) g d_h b_kv) = 3 at c + 1 = 12): the closed form's
    # split of each operation's sum at its crossing must still match the step-by-step sum.
    low = Ceilings(3e12, 1e12)
    split = request_split(spec, low, np.array([[2], [5]]), [1, 2, 30], widths=ByteWidths(kv=[2.0, 2.0, 1.0]), batch=3)
    for i, prompt in enumerate((2, 5)):
        for j, out in enumerate((1, 2, 30)):
            steps = decode_step_time(spec, low, 3, np.arange(prompt, prompt + out - 1),
                                     widths=ByteWidths(kv=[2.0, 2.0, 1.0][j]))
            assert split.total_s[i, j] == pytest.approx(split.ttft_s[i, j] + np.sum(steps), rel=1e-12)
    # TTFT: prefill of 2048 tokens at batch 1 is compute-bound, ~2 x 7e9 x 2048 / 989 TFLOP/s ~ 30 ms.
    long = request_split(spec, h100, [2048], [1, 2])
    assert 0.02 < long.ttft_s[0] < 0.05 and np.isnan(long.tpot_s[0]) and np.isfinite(long.tpot_s[1])
    assert long.total_s[0] == long.ttft_s[0]


# ------------------------------------------------------------------------------------- properties


@FAST
@given(batch=st.integers(1, 4096), context=st.integers(0, 8192), wb=st.sampled_from([0.5, 1.0, 2.0]))
def test_tokens_per_s_below_compute_roof(batch: int, context: int, wb: float) -> None:
    ops = cost_arrays(get_preset("llama-3-8b"), "decode", context, batch, widths=ByteWidths(weight=wb),
                      fused_attention=True, include_lm_head=True)
    flops_per_token = sum(float(o.flops) for o in ops.values()) / batch
    assert tokens_per_s("llama-3-8b", TOY, batch, context,
                        widths=ByteWidths(weight=wb)) * flops_per_token <= TOY.peak_flop_per_s * (1 + 1e-12)


@FAST
@given(batch=st.integers(1, 2048), context=st.integers(0, 8192), wb=st.sampled_from([0.5, 1.0, 2.0, 4.0]))
def test_halving_weight_bytes_never_slows(batch: int, context: int, wb: float) -> None:
    full = decode_step_time("mistral-7b", TOY, batch, context, widths=ByteWidths(weight=wb))
    half = decode_step_time("mistral-7b", TOY, batch, context, widths=ByteWidths(weight=wb / 2))
    assert half <= full


@FAST
@given(contexts=st.lists(st.integers(0, 200_000), min_size=2, max_size=6),
       memory_gib=st.floats(1.0, 200.0), kv=st.sampled_from([0.5, 1.0, 2.0]))
def test_max_batch_non_increasing_in_context(contexts: list[int], memory_gib: float, kv: float) -> None:
    ctx = np.sort(np.asarray(contexts))
    got = max_batch("llama-3-8b", memory_gib * GIB, ctx, widths=ByteWidths(kv=kv))
    assert np.all(got >= 0) and np.all(np.diff(got) <= 0)


# --------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs, match", [
    ({"weight_bytes": 0.0}, "weight_bytes must be a positive number of bytes per element, got 0.0"),
    ({"kv_bytes": -1.0}, "kv_bytes must be a positive number of bytes per element, got -1.0"),
    ({"act_bytes": [2.0, np.nan]}, "act_bytes"),
    ({"batch": 0}, "batch must be an integer >= 1, got 0"),
    ({"batch": 2.5}, "batch must be an integer"),
    ({"context": -3}, "context must be an integer >= 0, got -3"),
])
def test_decode_bad_input(kwargs: dict, match: str) -> None:
    fields = {"weight_bytes": "weight", "act_bytes": "act", "kv_bytes": "kv"}
    widths = {fields[k]: kwargs.pop(k) for k in list(kwargs) if k in fields}
    with pytest.raises(ValueError, match=match):
        decode_step_time("llama-3-8b", TOY, widths=ByteWidths(**widths), **kwargs)


def test_memory_functions_bad_input() -> None:
    with pytest.raises(ValueError, match="batch must be an integer >= 1, got 0"):
        footprint("llama-3-8b", 0, 128)
    with pytest.raises(ValueError, match="context must be an integer >= 0, got -1"):
        max_batch("llama-3-8b", 80 * GIB, -1)
    with pytest.raises(ValueError, match=r"device_memory_bytes must be a number >= 0, got -1\.0"):
        max_batch("llama-3-8b", -1.0, 128)
    with pytest.raises(ValueError, match="weight_bytes"):
        max_context("llama-3-8b", 80 * GIB, 1, widths=ByteWidths(weight=0.0))
    with pytest.raises(ValueError, match="kv_bytes"):
        kv_cache_bytes("llama-3-8b", 1, kv_bytes=0)
    with pytest.raises(ValueError, match="encoder"):
        kv_cache_bytes("bert-base", 1)
    with pytest.raises(ValueError, match="scope must be one of"):
        critical_batch("llama-3-8b", TOY, scope="attention")
    with pytest.raises(ValueError, match="output_len must be an integer >= 1, got 0"):
        request_split("llama-3-8b", TOY, 128, 0)
    with pytest.raises(ValueError, match="context must be a scalar"):
        frontier("llama-3-8b", TOY, 80 * GIB, [128, 256])
    with pytest.raises(ValueError, match="batches must be an integer >= 1, got 0"):
        frontier("llama-3-8b", TOY, 80 * GIB, 128, batches=[0, 1])


def test_chapter_tables_and_charts():
    from memwall import charts, serving, tables

    hw = tables.load_hardware()
    h100, a100 = "H100 SXM5 80GB (Hopper)", "A100 SXM4 80GB (Ampere)"
    q = serving.quantization_table(hw, ["llama-2-7b"], [h100, a100], ["W16A16", "W4A16", "FP8"], 512)
    # the A100 has no FP8 peak in the table: that pair is left out, not filled with a fallback
    assert set(q.loc[q["device"] == a100, "scheme"]) == {"W16A16", "W4A16"}
    assert (q["weight_bits"].isin([16.0, 4.0, 8.0])).all()
    crit = serving.critical_batch_table(hw, [h100], ["W16A16", "W8A16"]).set_index("scheme")
    assert crit.loc["W8A16", "critical_batch"] == pytest.approx(crit.loc["W16A16", "critical_batch"] / 2)
    grid = serving.frontier_grid(hw, "llama-3-8b", [h100], [1024, 2048], "W16A16", (0, 1, 2))
    assert len(grid) == 6 and list(grid["batch"][:3]) == [1, 2, 4]
    assert charts.quantization_chart(q).to_dict()["params"]
    spec = charts.frontier_chart(grid).to_dict()
    assert {p["name"] for p in spec["params"]} == {"f_device", "f_log2ctx", "f_log2batch"}
