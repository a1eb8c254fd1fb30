"""The decoder-over-encoder latency ratio: its roofline limit, ridge scaling and the decode time split."""

from __future__ import annotations

import math

import pytest

from memwall import specs, tables
from memwall.claims.paper_data import SURVEY_CPU
from memwall.roofline import Ceilings
from memwall.wall import latency_ratio
from memwall.wall.latency_ratio import decode_time_split, ratio_limit, ridge_scaled_ratio


def test_ratio_limit_is_half_the_weight_bytes_times_the_ridge():
    assert ratio_limit(Ceilings(2e12, 1e11), 4.0) == pytest.approx(40.0)  # (4/2) * 20
    assert ratio_limit(Ceilings(2e12, 1e11), 1.0) == pytest.approx(10.0)


def test_model_limit_is_the_closed_form_with_the_weight_ratio():
    # GPT-2 reads its blocks and LM head per token; BERT-Base multiplies its blocks: N_d/N_e by hand.
    gpt2, bert = specs.get_preset("gpt2"), specs.get_preset("bert-base")
    n_d = specs.non_embedding_parameter_count(gpt2) + gpt2.vocab_size * gpt2.d_model
    assert latency_ratio.weight_ratio() == pytest.approx(n_d / specs.non_embedding_parameter_count(bert))
    xeon = Ceilings.from_hardware(tables.load_hardware(), SURVEY_CPU, "fp32")
    closed = ratio_limit(xeon, 4.0, latency_ratio.weight_ratio())
    assert closed == pytest.approx(2 * xeon.ridge_flop_per_byte * n_d / specs.non_embedding_parameter_count(bert))
    # the cost model adds the KV cache, activations and the encoder's attention FLOPs: within a few percent
    assert latency_ratio.model_ratio_limit(xeon, 128) == pytest.approx(closed, rel=0.05)
    # the limit scales with the ridge point alone
    half_ridge = Ceilings(xeon.peak_flop_per_s / 2, xeon.bandwidth_bytes_per_s)
    full = latency_ratio.model_ratio_limit(xeon, 128)
    assert latency_ratio.model_ratio_limit(half_ridge, 128) == pytest.approx(full / 2)


def test_ridge_scaling():
    assert ridge_scaled_ratio(9.0, 4.5, 18.0) == pytest.approx(36.0)
    for bad in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="ridge_from"):
            ridge_scaled_ratio(9.0, bad, 18.0)


def test_decode_split_adds_up_and_counts_every_weight_once_per_token():
    gpt2 = specs.get_preset("gpt2")
    split = decode_time_split(gpt2, 1, 0.05, 20e9)
    weights = 4 * (specs.non_embedding_parameter_count(gpt2) + gpt2.vocab_size * gpt2.d_model)  # blocks + LM head
    assert weights <= split.bytes_per_token < 1.01 * weights  # activations and the 1-token cache on top
    assert split.streaming_s + split.overhead_s == pytest.approx(split.time_per_token_s)
    assert split.achieved_bandwidth_bytes_per_s * split.time_per_token_s == pytest.approx(split.bytes_per_token)
    assert split.bandwidth_share == pytest.approx(split.achieved_bandwidth_bytes_per_s / 20e9)


def test_decode_split_rejects_bad_input():
    with pytest.raises(ValueError, match="generate_time_s"):
        decode_time_split("gpt2", 128, 0.0, 20e9)
    with pytest.raises(ValueError, match="bandwidth_bytes_per_s"):
        decode_time_split("gpt2", 128, 1.0, math.nan)
    with pytest.raises(ValueError, match="causal"):
        decode_time_split("bert-base", 128, 1.0, 20e9)


def test_encoder_elementwise_time_is_a_timing_of_every_layer():
    from memwall.specs import ModelSpec

    tiny = ModelSpec(name="tiny", layers=2, d_model=16, heads=2, kv_heads=2, head_dim=8, ffn_dim=64, ffn_kind="gelu",
                     vocab_size=100, max_positions=64, bias=True, norm="layernorm", causal=False)
    t = latency_ratio.encoder_elementwise_time(8, tiny, repeats=2)
    assert t.repeats == 2 and t.median_s > 0
    with pytest.raises(ValueError, match="seq_len"):
        latency_ratio.encoder_elementwise_time(0, tiny)
