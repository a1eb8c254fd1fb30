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
    assert charts.quantization_chart(q[q["scheme"] != "FP8"]).to_dict()["params"]
    spec = charts.frontier_chart(grid).to_dict()
    assert {p["name"] for p in spec["params"]} == {"f_device", "f_context", "f_log2batch"}


# ------------------------------------------------------------ every ModelSpec feature: windows, MLA, MoE extras
# The specs are written from the published configs in tests/test_attention.py (not from memwall.specs.presets).

from tests.test_attention import DEEPSEEK_V3, GEMMA3_27B, MISTRAL_7B_SWA  # noqa: E402

FEATURE_SPECS = {"mistral-7b swa": MISTRAL_7B_SWA, "gemma-3-27b": GEMMA3_27B, "deepseek-v3": DEEPSEEK_V3,
                 "mixtral-8x7b": get_preset("mixtral-8x7b"), "llama-3-8b": get_preset("llama-3-8b")}


def test_kv_cache_mistral_window() -> None:
    # Mistral-7B-v0.1: 32 layers, 8 KV heads of 128, K and V, 2 B, and a rolling buffer of 4096 tokens
    # (arXiv 2310.06825, §2): at a 32,768-token context the cache is that of 4096 tokens, 8x less.
    window_cache = 2 * 32 * 8 * 128 * 2 * 4096
    assert kv_cache_bytes(MISTRAL_7B_SWA, 32768) == window_cache == pytest.approx(0.537e9, rel=1e-3)
    assert footprint(MISTRAL_7B_SWA, 1, 32768).kv_cache == window_cache
    assert kv_cache_bytes(get_preset("llama-3-8b"), 32768) == 8 * window_cache  # same GQA shape, no window
    np.testing.assert_array_equal(kv_cache_bytes(MISTRAL_7B_SWA, [100, 4096, 10**6], batch=[[1], [3]]),
                                  np.array([[1], [3]]) * 2 * 32 * 8 * 128 * 2 * np.array([100, 4096, 4096]))


def test_kv_cache_mistral_preset_window() -> None:
    # The preset itself (memwall.specs.presets, helper H1) once it carries the window; skipped before.
    if not get_preset("mistral-7b").sliding_window:
        pytest.skip("mistral-7b preset has no sliding window yet")
    assert kv_cache_bytes("mistral-7b", 32768) == 2 * 32 * 8 * 128 * 2 * 4096
    assert footprint("mistral-7b", 1, 32768).kv_cache == 2 * 32 * 8 * 128 * 2 * 4096


def test_kv_cache_gemma3_and_deepseek_by_hand() -> None:
    # Gemma-3-27B: 16 KV heads x (128 + 128) per layer; 10 global layers keep 32768 tokens, 52 sliding keep 1024
    assert kv_cache_bytes(GEMMA3_27B, 32768) == 16 * 256 * 2 * (10 * 32768 + 52 * 1024)
    # DeepSeek-V3 MLA: 61 layers x (512 latent + 64 rotary key) x 2 B per token
    assert kv_cache_bytes(DEEPSEEK_V3, 4096, batch=2) == 2 * 4096 * 61 * (512 + 64) * 2


@pytest.mark.parametrize("name", list(FEATURE_SPECS))
@pytest.mark.parametrize("fused", [True, False])
def test_footprint_identity_and_resident_weights(name: str, fused: bool) -> None:
    spec = FEATURE_SPECS[name]
    b, c = np.array([[1], [7], [64]]), np.array([0, 1000, 4096, 40000])
    widths = ByteWidths(weight=1.0, act=2.0, kv=2.0)
    fp = footprint(spec, b, c, widths=widths, fused_attention=fused)
    np.testing.assert_array_equal(fp.total, fp.weights + fp.kv_cache + fp.activations)
    # resident weights = every parameter (all experts), not the active ones
    np.testing.assert_array_equal(fp.weights, parameter_count(spec) * 1.0)
    np.testing.assert_array_equal(fp.kv_cache, kv_cache_bytes(spec, c, b, 2.0))
    assert np.all(fp.activations > 0) and np.all(fp.activations < 0.05 * fp.weights)


def test_mixtral_footprint_holds_all_experts() -> None:
    from memwall.specs import get_moe

    moe = get_moe("mixtral-8x7b")
    fp = footprint("mixtral-8x7b", 1, 0)
    assert fp.weights == 2 * moe.total_params > 3 * 2 * moe.active_params  # 46.7B resident, 12.9B active


def test_activations_mla_and_moe_by_hand() -> None:
    # DeepSeek-V3 at 2 B: residual and normed input 2·7168; MLA buffers: compressed query 1536, query 128·(128+64),
    # absorbed query 128·(512+64), new latent and rotary key 512+64, latent output 128·512, output 128·128;
    # FFN hidden 2·max(8·2048 + 2048 shared, 18432 dense); 256 router logits; 129280 logits.
    mla = 1536 + 128 * 192 + 128 * 576 + 576 + 128 * 512 + 128 * 128
    expected = 2 * (2 * 7168 + mla + 2 * max(8 * 2048 + 2048, 18432) + 256 + 129280)
    assert footprint(DEEPSEEK_V3, 1, 0).activations == expected
    # unfused scores: 128 heads per key; Mistral with every layer sliding holds at most its 4096-key window
    assert footprint(DEEPSEEK_V3, 1, 100, fused_attention=False).activations == expected + 2 * 128 * 100
    mistral = [footprint(MISTRAL_7B_SWA, 1, c, fused_attention=False).activations for c in (0, 4096, 10**5)]
    assert mistral[1] - mistral[0] == 2 * 32 * 4096 and mistral[2] == mistral[1]
    # Gemma 3 has global layers: their scores cover the whole context
    g = [footprint(GEMMA3_27B, 1, c, fused_attention=False).activations for c in (0, 10**5)]
    assert g[1] - g[0] == 2 * 32 * 10**5


@pytest.mark.parametrize("name", list(FEATURE_SPECS))
def test_max_batch_is_the_largest_that_fits(name: str) -> None:
    spec = FEATURE_SPECS[name]
    memory = 2.0e12 if spec.experts > 100 else 80 * GIB  # DeepSeek-V3 (671B) needs a node
    widths = ByteWidths(weight=1.0)
    for context in (0, 1024, 4096, 32768, 131072):
        n = max_batch(spec, memory, context, widths=widths)
        assert n >= 1, (name, context)
        assert footprint(spec, n, context, widths=widths).total <= memory
        assert footprint(spec, n + 1, context, widths=widths).total > memory


def test_max_batch_window_no_longer_shrinks_past_it() -> None:
    got = max_batch(MISTRAL_7B_SWA, 80 * GIB, np.array([1024, 4096, 32768, 10**6]))
    assert got[1] == got[2] == got[3] < got[0]
    full = dataclasses.replace(MISTRAL_7B_SWA, sliding_window=0, sliding_layers=0)
    assert got[2] > 7 * max_batch(full, 80 * GIB, 32768)  # the window's 8x smaller cache


def test_max_context_all_layers_sliding_is_unbounded() -> None:
    # Mistral 7B with every layer sliding: past 4096 tokens nothing grows, so memory sets no limit
    assert max_context(MISTRAL_7B_SWA, 80 * GIB, 1) == np.inf
    assert footprint(MISTRAL_7B_SWA, 1, 4096).total <= 80 * GIB
    # ... unless the window's cache itself does not fit: then a finite context, as footprint says
    batch = np.array([1, 100, 1000])
    got = max_context(MISTRAL_7B_SWA, 80 * GIB, batch)
    assert got.dtype == float and np.isinf(got[0]) and np.isinf(got[1]) and np.isfinite(got[2])
    c = int(got[2])
    assert footprint(MISTRAL_7B_SWA, 1000, c).total <= 80 * GIB < footprint(MISTRAL_7B_SWA, 1000, c + 1).total
    assert max_context(MISTRAL_7B_SWA, 1e9, 1) == 0  # the weights alone do not fit


@pytest.mark.parametrize("batch, fused", [(1, True), (8, True), (8, False), (40, True)])
def test_max_context_partial_window_is_exact(batch: int, fused: bool) -> None:
    # Gemma 3 at 8 bits on a 141 GB device: 10 global layers keep growing, the 52 sliding ones stop at 1024
    memory = 141e9
    widths = ByteWidths(weight=1.0, kv=1.0)
    c = max_context(GEMMA3_27B, memory, batch, widths=widths, fused_attention=fused)
    assert isinstance(c, int) and c > 1024
    kwargs = dict(widths=widths, fused_attention=fused)
    assert footprint(GEMMA3_27B, batch, c, **kwargs).total <= memory < footprint(GEMMA3_27B, batch, c + 1,
                                                                                   **kwargs).total
    plain = dataclasses.replace(GEMMA3_27B, sliding_window=0, sliding_layers=0)
    assert c > 5 * max_context(plain, memory, batch, **kwargs)  # 62 growing layers against 10


def test_max_context_below_the_window() -> None:
    # So little room that the context stays below Gemma's 1024-token window: every layer's cache grows
    weights = parameter_count(GEMMA3_27B) * 2.0
    memory = weights + 2 * footprint(GEMMA3_27B, 1, 500).activations + kv_cache_bytes(GEMMA3_27B, 500, 2)
    c = max_context(GEMMA3_27B, memory, 2)
    assert c == 500 or (c < 1024 and footprint(GEMMA3_27B, 2, c).total <= memory
                        < footprint(GEMMA3_27B, 2, c + 1).total)


def test_request_split_across_the_window(h100: Ceilings) -> None:
    # Decode steps from a 4000-token prompt to past the 4096-token window: the closed form sums each piece
    # with its own line and must match the step-by-step sum (whatever cost.py's window convention).
    spec, prompt, out = MISTRAL_7B_SWA, 4000, 300
    split = request_split(spec, h100, prompt, out, batch=64)
    steps = decode_step_time(spec, h100, 64, np.arange(prompt, prompt + out - 1))
    assert split.total_s == pytest.approx(split.ttft_s + steps.sum(), rel=1e-9)
    low = Ceilings(3e12, 1e12)  # a low ridge: attention ops cross to compute-bound inside the range
    split = request_split(GEMMA3_27B, low, np.array([[2], [1000]]), [1, 30, 200], batch=3)
    for i, prompt in enumerate((2, 1000)):
        for j, out in enumerate((1, 30, 200)):
            steps = decode_step_time(GEMMA3_27B, low, 3, np.arange(prompt, prompt + out - 1)) if out > 1 else 0.0
            assert split.total_s[i, j] == pytest.approx(split.ttft_s[i, j] + np.sum(steps), rel=1e-9)


# These depend on memwall/cost.py::cost_arrays counting MLA, windows and MoE extras (helper H2).


def test_decode_window_stops_the_kv_traffic(h100: Ceilings) -> None:  # needs cost.py windows
    far = decode_step_time(MISTRAL_7B_SWA, h100, 64, np.array([10**5, 10**6]))
    assert far[0] == pytest.approx(far[1], rel=1e-12)
    full = dataclasses.replace(MISTRAL_7B_SWA, sliding_window=0, sliding_layers=0)
    assert far[0] < decode_step_time(full, h100, 64, 10**5) / 4
    # past the window the critical batch no longer moves with the context
    crit = critical_batch(MISTRAL_7B_SWA, h100, context=np.array([8192, 65536]))
    assert crit[0] == crit[1]


def test_decode_mla_moe_batch1_reads_the_active_weights(h100: Ceilings) -> None:  # needs cost.py MLA and MoE
    from memwall.specs import get_moe

    moe = get_moe("deepseek-v3")
    # batch 1, empty cache: about the active parameters (37B, the LM head included) at 2 B, not the 671B resident
    t = time_per_token(DEEPSEEK_V3, h100, 1, 0)
    assert t == pytest.approx(moe.active_params * 2 / 3.35e12, rel=0.05)
    assert footprint(DEEPSEEK_V3, 1, 0).weights == pytest.approx(2 * moe.total_params, rel=1e-3)
    # MLA's 576-element cache per layer, read once for all 128 heads (absorbed form): at 32k tokens the score
    # matmul is bound by reading 61·576·2 B per cached token, the latent-weighted sum (128·2·512 FLOPs per token and
    # layer, operands on chip) and the softmax (4 per score) by the FLOPs: the per-operation roofline sum.
    long = decode_step_time(DEEPSEEK_V3, h100, 1, 32768) - decode_step_time(DEEPSEEK_V3, h100, 1, 0)
    by_hand = 32768 * 61 * (576 * 2 / 3.35e12 + (128 * 2 * 512 + 128 * 4) / 989.4e12)
    assert long == pytest.approx(by_hand, rel=0.02)
    assert np.isfinite(critical_batch(DEEPSEEK_V3, h100, context=4096))  # absorbed MLA: ~128 heads per cached byte


@FAST
@given(memory_gib=st.floats(20.0, 400.0), batch=st.integers(1, 512), kv=st.sampled_from([0.5, 1.0, 2.0]),
       fused=st.booleans(), which=st.sampled_from(["gemma", "mistral"]))
def test_max_context_windowed_is_exact(memory_gib: float, batch: int, kv: float, fused: bool, which: str) -> None:
    spec = GEMMA3_27B if which == "gemma" else MISTRAL_7B_SWA
    widths, memory = ByteWidths(weight=1.0, kv=kv), memory_gib * GIB
    c = max_context(spec, memory, batch, widths=widths, fused_attention=fused)
    kwargs = dict(widths=widths, fused_attention=fused)
    if np.isinf(c):  # only when every layer slides and the window's cache fits
        assert spec.sliding_layers == spec.layers
        assert footprint(spec, batch, spec.sliding_window, **kwargs).total <= memory
    elif c > 0:
        assert footprint(spec, batch, c, **kwargs).total <= memory < footprint(spec, batch, c + 1, **kwargs).total
    else:
        assert footprint(spec, batch, 1, **kwargs).total > memory


def test_frontier_mla_moe(h100: Ceilings) -> None:  # needs cost.py MLA and MoE (helper H2)
    memory = 8 * 141e9  # an 8-GPU H200 node, FP8 weights
    widths = ByteWidths(weight=1.0, act=2.0, kv=2.0)
    df = frontier(DEEPSEEK_V3, h100, memory, 4096, widths=widths)
    assert df["batch"].iloc[-1] == max_batch(DEEPSEEK_V3, memory, 4096, widths=widths) > 1000
    assert df["fits"].all() and df["tokens_per_s"].is_monotonic_increasing
    np.testing.assert_array_equal(df["weights_bytes"], parameter_count(DEEPSEEK_V3) * 1.0)  # resident


def test_scheme_with_a_dangling_separator_is_rejected() -> None:
    # issue 18: "W4A16-" was read as W4A16
    for name in ("W4A16-", "W4A16+", "w8a8 -"):
        with pytest.raises(ValueError, match="unknown precision scheme"):
            get_scheme(name)
    assert get_scheme("w4a16+kv8").kv_bytes == 1.0


def test_max_batch_of_huge_memory_is_an_error_not_a_wrapped_int() -> None:
    # issue 18: max_batch('gpt2', 1e30, 0) returned -9223372036854775808
    with pytest.raises(ValueError, match=r"max_batch = .* is above 2\*\*53 - 1"):
        max_batch("gpt2", 1e30, 0)
