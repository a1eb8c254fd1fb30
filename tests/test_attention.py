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
