"""Attention variants: KV bytes per token and decode intensity, against hand derivations.

Dimensions are those of the published configs: Llama-3-70B (https://huggingface.co/meta-llama/Meta-Llama-3-70B,
config.json: 80 layers, 64 heads, 8 KV heads, head size 8192/64 = 128) and DeepSeek-V3 (arXiv 2412.19437,
§4.2: 61 layers, 128 heads, d_c = 512, d_h^R = 64, d_h = 128).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memwall import cost, specs
from memwall.beyond import attention_cost
from memwall.widths import ByteWidths


def test_llama3_70b_kv_bytes_per_token_by_hand():
    v = specs.variants_of("llama-3-70b")
    # 2 (K and V) x 80 layers x KV heads x 128 x 2 bytes
    assert specs.kv_bytes_per_token(v["MHA"]) == 2 * 80 * 64 * 128 * 2 == 2_621_440
    assert specs.kv_bytes_per_token(v["GQA"]) == 2 * 80 * 8 * 128 * 2 == 327_680
    assert specs.kv_bytes_per_token(v["MQA"]) == 2 * 80 * 1 * 128 * 2 == 40_960


def test_deepseek_v3_mla_kv_bytes_per_token_by_hand():
    # 61 layers x (512 latent + 64 rotary key) x 2 bytes
    assert specs.kv_bytes_per_token("deepseek-v3") == 61 * (512 + 64) * 2 == 70_272


def test_mla_cache_matches_deepseek_v2_table_1():
    # DeepSeek-V2 (arXiv 2405.04434) Table 1: MLA caches (d_c + d_h^R) per layer = 9/2 d_h with d_c = 4 d_h,
    # d_h^R = d_h / 2; d_h = 128, 60 layers.
    a = specs.get_attention("deepseek-v2")
    assert specs.kv_elements_per_token(a) == 60 * 4.5 * 128
    # ... and MHA with the same heads would cache 2 n_h d_h per layer (same table)
    mha = specs.AttentionShape("mha", "mha", layers=60, heads=128, head_dim=128, kv_heads=128)
    assert specs.kv_elements_per_token(mha) == 60 * 2 * 128 * 128


def test_matches_cost_module_attention_rows():
    """For MHA/GQA/MQA the attention core equals cost.cost_arrays' qk/softmax/sv rows with fused attention."""
    base = specs.get_preset("llama-3-8b")
    for g in (32, 8, 1):
        spec = dataclasses.replace(base, kv_heads=g)
        ctx, batch = np.array([0, 100, 4096]), 3
        ops = cost.cost_arrays(spec, "decode", ctx, batch, widths=ByteWidths(weight=2.0, act=2.0, kv=1.0),
                               fused_attention=True)
        flops = sum(ops[k].flops for k in ("qk_matmul", "softmax", "sv_matmul"))
        bytes_ = sum(ops[k].bytes_read + ops[k].bytes_written for k in ("qk_matmul", "softmax", "sv_matmul"))
        ours = attention_cost.decode_attention_cost(spec, ctx, batch, widths=ByteWidths(act=2.0, kv=1.0))
        np.testing.assert_allclose(ours.flops, flops, rtol=1e-12)
        np.testing.assert_allclose(ours.bytes, bytes_, rtol=1e-12)


def test_intensity_limits_by_hand():
    v = specs.variants_of("llama-3-70b")
    # per cached key and head: 2·128 (q·k) + 4 (softmax) + 2·128 (p·v) FLOPs; per KV head 256 elements x 2 B
    per_head = 2 * 128 + 4 + 2 * 128
    assert attention_cost.attention_intensity_limit(v["MHA"]) == pytest.approx(1 * per_head / (256 * 2))
    assert attention_cost.attention_intensity_limit(v["GQA"]) == pytest.approx(8 * per_head / (256 * 2))
    assert attention_cost.attention_intensity_limit(v["MQA"]) == pytest.approx(64 * per_head / (256 * 2))
    # absorbed MLA, per head and cached token: 2·(512+64) score + 4 softmax + 2·512 latent output FLOPs;
    # the 576 cached elements (2 B each) are read once for all 128 heads
    mla = specs.get_attention("deepseek-v3")
    assert attention_cost.attention_intensity_limit(mla) == pytest.approx(128 * (2 * 576 + 4 + 2 * 512) / (576 * 2))
    # naive MLA adds the up-projection 2·512·128·(128+128) per cached token, scores over 128+64
    naive = (2 * 512 * 128 * 256 + 128 * (2 * 192 + 4 + 2 * 128)) / (576 * 2)
    assert attention_cost.attention_intensity_limit(mla, mla_form="naive") == pytest.approx(naive)


def test_decode_cost_tends_to_limit_and_has_fixed_part():
    mla = specs.get_attention("deepseek-v3")
    c = attention_cost.decode_attention_cost(mla, 0, 1)
    # one key (context 0 + the new token): per layer 128·(2·576+4+2·512) FLOPs; bytes: 576 cached + 128·(576+512)
    # query/output elements, 2 B each
    assert c.flops == pytest.approx(61 * 128 * (2 * 576 + 4 + 2 * 512))
    assert c.bytes == pytest.approx(61 * (576 + 128 * (576 + 512)) * 2)
    long = attention_cost.decode_attention_cost(mla, 10**7, 1)
    assert long.intensity == pytest.approx(attention_cost.attention_intensity_limit(mla), rel=1e-3)


@settings(max_examples=40, deadline=None)
@given(batch=st.integers(1, 512), context=st.integers(0, 10**6), heads=st.sampled_from([8, 16, 64, 128]))
def test_intensity_independent_of_batch_and_mla_grows_with_heads(batch, context, heads):
    mla = specs.with_heads(specs.get_attention("deepseek-v3"), heads)
    one = attention_cost.decode_attention_cost(mla, context, 1)
    many = attention_cost.decode_attention_cost(mla, context, batch)
    assert many.intensity == pytest.approx(one.intensity)
    assert many.bytes == pytest.approx(batch * one.bytes)
    double = specs.with_heads(mla, 2 * heads)
    limit = attention_cost.attention_intensity_limit
    assert limit(double) == pytest.approx(2 * limit(mla))


def test_vectorised_over_context_and_batch():
    c = attention_cost.decode_attention_cost("llama-3-70b", np.array([[0], [1024]]), np.array([1, 8, 64]))
    assert np.shape(c.flops) == (2, 3)
    assert np.all(np.diff(c.bytes, axis=0) > 0)


def test_kv_table_columns():
    t = attention_cost.kv_table({"GQA": specs.get_attention("llama-3-70b"), "MLA": specs.get_attention("deepseek-v3")})
    assert t.loc["GQA", "kv_bytes_per_token"] == 327_680
    assert t.loc["MLA", "kv_bytes_per_token_per_layer"] == 1152


@pytest.mark.parametrize("kwargs, match", [
    (dict(kind="xyz", kv_heads=8), "kind must be one of"),
    (dict(kind="mha", kv_heads=8), "kind='mha' needs kv_heads == heads"),
    (dict(kind="gqa", kv_heads=64), "kind='gqa' needs 1 < kv_heads"),
    (dict(kind="mqa", kv_heads=8), "kind='mqa' needs kv_heads == 1"),
    (dict(kind="gqa", kv_heads=7), "kv_heads must divide heads"),
    (dict(kind="mla"), "needs kv_lora_rank"),
    (dict(kind="gqa", kv_heads=8, kv_lora_rank=512), "for kind='mla' only"),
    (dict(kind="gqa", kv_heads=0), "kv_heads must be an integer >= 1"),
])
def test_bad_shapes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        specs.AttentionShape("x", layers=80, heads=64, head_dim=128, **kwargs)


def test_bad_arguments():
    with pytest.raises(ValueError, match="mla_form must be one of"):
        attention_cost.decode_attention_cost("deepseek-v3", 10, mla_form="fast")
    with pytest.raises(ValueError, match="context must be an integer >= 0"):
        attention_cost.decode_attention_cost("llama-3-70b", -1)
    with pytest.raises(ValueError, match="batch must be an integer >= 1"):
        attention_cost.decode_attention_cost("llama-3-70b", 1, 0)
    with pytest.raises(ValueError, match="kv_bytes must be a positive number"):
        specs.kv_bytes_per_token("llama-3-70b", 0)
    with pytest.raises(ValueError, match="unknown attention"):
        specs.get_attention("gpt-5")


# ------------------------------------------------------------------- ModelSpec features: MLA, sliding windows
# Specs written here from the published configs, independent of memwall.specs.presets:
# DeepSeek-V3 https://huggingface.co/deepseek-ai/DeepSeek-V3/blob/main/config.json (61 layers, hidden 7168, 128 heads,
#   qk_nope_head_dim 128, qk_rope_head_dim 64, v_head_dim 128, q_lora_rank 1536, kv_lora_rank 512, 256 routed experts
#   of moe_intermediate_size 2048, 8 per token, n_shared_experts 1, first_k_dense_replace 3 of intermediate_size 18432,
#   vocab 129280, untied);
# Gemma-3-27B https://huggingface.co/google/gemma-3-27b-pt/blob/main/config.json (text_config: 62 layers, hidden 5376,
#   32 heads, 16 KV heads, head_dim 128, intermediate 21504, vocab 262208, sliding_window 1024;
#   sliding_window_pattern 6, the Gemma3TextConfig default, and newer configs' layer_types: layer i is global
#   when (i + 1) % 6 == 0);
# Mistral-7B-v0.1 https://huggingface.co/mistralai/Mistral-7B-v0.1/blob/main/config.json (32 layers, 8 KV heads of 128,
#   sliding_window 4096, on every layer).

GEMMA3_LAYERS, GEMMA3_PATTERN = 62, 6
GEMMA3_SLIDING = sum(1 for i in range(GEMMA3_LAYERS) if (i + 1) % GEMMA3_PATTERN)  # 52 local, 10 global

DEEPSEEK_V3 = specs.ModelSpec(
    name="deepseek-v3 (test)", layers=61, d_model=7168, heads=128, kv_heads=1, head_dim=128, ffn_dim=2048,
    ffn_kind="gated", vocab_size=129280, max_positions=163840, bias=False, norm="rmsnorm", causal=True,
    experts=256, active_experts=8, q_lora_rank=1536, kv_lora_rank=512, rope_head_dim=64, v_head_dim=128,
    shared_ffn_dim=2048, dense_layers=3, dense_ffn_dim=18432)
GEMMA3_27B = specs.ModelSpec(
    name="gemma-3-27b (test)", layers=GEMMA3_LAYERS, d_model=5376, heads=32, kv_heads=16, head_dim=128,
    ffn_dim=21504, ffn_kind="gated", vocab_size=262208, max_positions=131072, bias=False, norm="rmsnorm",
    causal=True, tied_embeddings=True, qk_norm=True, norms_per_block=4, sliding_window=1024,
    sliding_layers=GEMMA3_SLIDING)
MISTRAL_7B_SWA = dataclasses.replace(specs.get_preset("mistral-7b"), sliding_window=4096, sliding_layers=32)


def _preset_or_skip(name: str) -> specs.ModelSpec:
    try:
        return specs.get_preset(name)
    except ValueError:
        pytest.skip(f"preset {name!r} not (yet) in memwall.specs.presets")


def test_gemma3_layer_split_from_config_pattern():
    # sliding_window_pattern 6 = "5 local layers for every global one" (Gemma 3 report, arXiv 2503.19786, §2)
    assert GEMMA3_SLIDING == 52 and GEMMA3_LAYERS - GEMMA3_SLIDING == 10
    layer_types = ["full_attention" if (i + 1) % 6 == 0 else "sliding_attention" for i in range(62)]
    assert layer_types.count("sliding_attention") == 52 and layer_types[5] == "full_attention"


def test_from_model_spec_mla_matches_mla_preset():
    a = specs.from_model_spec(DEEPSEEK_V3)
    ref = specs.MLA_PRESETS["deepseek-v3 mla"]
    assert (a.kind, a.layers, a.heads, a.head_dim, a.v_head_dim, a.kv_lora_rank, a.rope_dim) == \
        ("mla", 61, 128, 128, 128, 512, 64)
    assert specs.kv_elements_per_token(a) == specs.kv_elements_per_token(ref) == 61 * (512 + 64)
    assert specs.kv_bytes_per_token(DEEPSEEK_V3) == 61 * (512 + 64) * 2 == 70_272
    # the name still resolves to the MLA preset
    assert specs.get_attention("deepseek-v3") == ref
    limit = attention_cost.attention_intensity_limit
    assert limit(a) == pytest.approx(limit(ref))


def test_variants_of_mla_spec():
    v = specs.variants_of(DEEPSEEK_V3)
    assert list(v) == ["MHA", "MLA", "MQA"]
    # the MHA counterpart: 128 KV heads with keys of 128 + 64 and values of 128 (DeepSeek-V2, §2.1.3)
    assert specs.kv_elements_per_token(v["MHA"]) == 61 * 128 * (192 + 128)
    assert specs.kv_elements_per_token(v["MQA"]) == 61 * 1 * (192 + 128)
    assert v["MLA"].kind == "mla"


def test_value_head_dim_enters_the_kv_formula():
    spec = dataclasses.replace(specs.get_preset("llama-3-8b"), v_head_dim=64)
    assert specs.kv_elements_per_token(spec) == 32 * 8 * (128 + 64)


def test_windowed_cache_gemma3_by_hand():
    t = np.array([0, 1, 1000, 1024, 1025, 32768, 131072])
    # per layer and token 16 KV heads x (128 + 128); 10 global layers keep every token, 52 the last 1024
    expected = 16 * 256 * (10 * t + 52 * np.minimum(t, 1024))
    np.testing.assert_array_equal(specs.attention.kv_cache_elements(GEMMA3_27B, t), expected)
    np.testing.assert_array_equal(specs.attention.kv_cache_bytes_per_sequence(GEMMA3_27B, t, 1.0), expected)
    np.testing.assert_array_equal(specs.attention.layer_tokens(GEMMA3_27B, t), 10 * t + 52 * np.minimum(t, 1024))
    # without windows: tokens x per-token elements (the one KV formula)
    plain = dataclasses.replace(GEMMA3_27B, sliding_window=0, sliding_layers=0)
    np.testing.assert_array_equal(specs.attention.kv_cache_elements(plain, t), specs.kv_elements_per_token(plain) * t)
    assert specs.kv_elements_per_token(GEMMA3_27B) == specs.kv_elements_per_token(plain) == 62 * 16 * 256


def test_windowed_cache_mistral_by_hand():
    # 32 layers x 8 KV heads x (K and V of 128) x the 4096 tokens of the rolling buffer, at 2 B
    got = specs.attention.kv_cache_bytes_per_sequence(MISTRAL_7B_SWA, [4095, 4096, 32768, 10**6])
    np.testing.assert_array_equal(got, [2 * 32 * 8 * 128 * 2 * 4095] + 3 * [2 * 32 * 8 * 128 * 2 * 4096])
    # an MLA model without windows: tokens x 61 x 576
    assert specs.attention.kv_cache_elements(DEEPSEEK_V3, 1000) == 1000 * 61 * 576


def test_decode_attention_cost_applies_windows():
    a = specs.from_model_spec(GEMMA3_27B)
    assert (a.sliding_window, a.sliding_layers, a.global_layers) == (1024, 52, 10)
    ctx = np.array([0, 500, 1023, 5000, 50000])
    n = ctx + 1
    keys = 10 * n + 52 * np.minimum(n, 1024)  # keys in view, over all layers
    c = attention_cost.decode_attention_cost(a, ctx, 2, widths=ByteWidths(act=2.0, kv=1.0))
    per_key_flops = 32 * (2 * 128 + 4 + 2 * 128)
    np.testing.assert_allclose(c.flops, 2 * keys * per_key_flops)
    np.testing.assert_allclose(c.bytes, 2 * (keys * 16 * 256 * 1.0 + 62 * 32 * 256 * 2.0))
    # every layer sliding: nothing grows past the window
    m = attention_cost.decode_attention_cost(MISTRAL_7B_SWA, [4095, 10**5], 1)
    assert m.flops[0] == m.flops[1] and m.bytes[0] == m.bytes[1]


@pytest.mark.parametrize("kwargs, match", [
    (dict(sliding_window=4096), "sliding_layers must be in 1..layers"),
    (dict(sliding_layers=4), "sliding_layers must be in 1..layers"),
    (dict(sliding_window=4096, sliding_layers=81), "sliding_layers must be in 1..layers"),
    (dict(sliding_window=-1, sliding_layers=4), "sliding_window must be an integer >= 0"),
])
def test_bad_windows(kwargs, match):
    with pytest.raises(ValueError, match=match):
        specs.AttentionShape("x", "gqa", layers=80, heads=64, head_dim=128, kv_heads=8, **kwargs)
    with pytest.raises(ValueError, match="tokens must be an integer >= 0"):
        specs.attention.kv_cache_elements(MISTRAL_7B_SWA, -1)


# The presets H1 adds (memwall/specs/presets.py); skipped while they are not there.


def test_presets_carry_windows_and_mla():
    mistral = specs.get_preset("mistral-7b")
    if not mistral.sliding_window:
        pytest.skip("mistral-7b preset has no sliding window yet")
    assert (mistral.sliding_window, mistral.sliding_layers) == (4096, 32)
    gemma = _preset_or_skip("gemma-3-27b")
    assert (gemma.layers, gemma.kv_heads, gemma.head_dim, gemma.sliding_window, gemma.sliding_layers) == \
        (62, 16, 128, 1024, 52)
    assert specs.attention.kv_cache_elements(gemma, 32768) == specs.attention.kv_cache_elements(GEMMA3_27B, 32768)
    dsv3 = _preset_or_skip("deepseek-v3")
    assert specs.from_model_spec(dsv3).kind == "mla"
    assert specs.kv_elements_per_token(dsv3) == specs.kv_elements_per_token("deepseek-v3") == 61 * 576
