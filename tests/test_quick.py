"""Tests for memwall.quick: the one-configuration fast path equals the vectorised and serving functions."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memwall.cost import cost_arrays
from memwall.quick import estimate
from memwall.roofline import Ceilings
from memwall.serving.decode import decode_step_time
from memwall.serving.frontier import request_split
from memwall.serving.memory import footprint
from memwall.specs import ModelSpec, get_preset, list_presets
from memwall.widths import BF16, ByteWidths

H100 = Ceilings(989e12, 3.35e12, name="H100-like")
SMALL = Ceilings(50e12, 0.4e12, name="small")

_LLAMA = get_preset("llama-3-8b")
#: Specs with the newer ModelSpec fields, built from a preset so that they are realistic in size.
EXTRA = [
    dataclasses.replace(get_preset("mistral-7b"), name="mistral-7b-window", sliding_window=4096, sliding_layers=32),
    dataclasses.replace(_LLAMA, name="gemma-like", sliding_window=1024, sliding_layers=26, qk_norm=True,
                        norms_per_block=4, attention_sinks=True, qkv_bias=True),
    dataclasses.replace(_LLAMA, name="deepseek-like", layers=6, d_model=2048, heads=16, kv_heads=1, head_dim=128,
                        v_head_dim=128, q_lora_rank=512, kv_lora_rank=512, rope_head_dim=64, ffn_dim=1408,
                        experts=64, active_experts=6, shared_ffn_dim=2816, dense_layers=1, dense_ffn_dim=10944),
    dataclasses.replace(_LLAMA, name="qwen2-moe-like", layers=4, experts=60, active_experts=4, ffn_dim=1408,
                        shared_ffn_dim=5632, shared_expert_gate=True, qkv_bias=True),
]
DECODERS = [get_preset(n) for n in list_presets() if get_preset(n).causal] + EXTRA
WIDTHS = [BF16, ByteWidths(weight=0.5), ByteWidths(weight=1.0, act=1.0, kv=1.0), ByteWidths(weight=0.5, kv=1.0)]


def _reference(spec: ModelSpec, ceilings: Ceilings, prompt: int, context: int, batch: int, widths: ByteWidths,
               **flags: bool) -> tuple[float, float, tuple[float, ...]]:
    ttft = request_split(spec, ceilings, prompt, 2, batch, widths=widths, **flags).ttft_s
    step = decode_step_time(spec, ceilings, batch, context, widths=widths, fused_attention=flags["fused_attention"],
                            include_lm_head=flags["include_lm_head"])
    fp = footprint(spec, batch, context, widths=widths, fused_attention=flags["fused_attention"])
    return ttft, step, tuple(fp)


def _check(spec: ModelSpec, ceilings: Ceilings, prompt: int, context: int, batch: int, widths: ByteWidths,
           **flags: bool) -> None:
    got = estimate(spec, ceilings, prompt, context, batch, widths=widths, **flags)
    ttft, step, fp = _reference(spec, ceilings, prompt, context, batch, widths, **flags)
    assert got.prefill_s == pytest.approx(ttft, rel=1e-12)
    assert got.decode_step_s == pytest.approx(step, rel=1e-12)
    assert tuple(got.footprint) == pytest.approx(fp, rel=1e-12)
    assert got.footprint.total == got.footprint.weights + got.footprint.kv_cache + got.footprint.activations


@pytest.mark.parametrize("spec", DECODERS, ids=lambda s: s.name)
def test_every_preset_equals_serving_functions(spec: ModelSpec) -> None:
    for prompt, context, batch in ((1, 0, 1), (1024, 1024, 8), (5000, 130000, 3)):
        for widths in WIDTHS[:2]:
            _check(spec, H100, prompt, context, batch, widths, fused_attention=True, causal_halving=True,
                   include_lm_head=True)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(DECODERS), st.integers(1, 70000), st.integers(0, 140000), st.integers(1, 512),
       st.sampled_from(WIDTHS), st.sampled_from([H100, SMALL]), st.booleans(), st.booleans(), st.booleans())
def test_random_configurations(spec: ModelSpec, prompt: int, context: int, batch: int, widths: ByteWidths,
                               ceilings: Ceilings, fused: bool, halving: bool, head: bool) -> None:
    _check(spec, ceilings, prompt, context, batch, widths, fused_attention=fused, causal_halving=halving,
           include_lm_head=head)


def test_prefill_is_the_roofline_sum_of_cost_arrays() -> None:
    """Independent of request_split: Σ max(F/P, M/BW) over the rows of a prefill whose LM head runs on each
    prompt's last token (``include_lm_head="last"``), and over the bare prefill without the head."""
    spec, prompt, batch = get_preset("llama-2-7b"), 300, 4
    for head in (True, False):
        ops = cost_arrays(spec, "prefill", prompt, batch, fused_attention=True, causal_halving=True,
                          include_lm_head="last" if head else "none")
        assert ("lm_head" in ops) is head
        expected = sum(max(float(o.flops) / H100.peak_flop_per_s,
                           float(o.bytes_read + o.bytes_written) / H100.bandwidth_bytes_per_s) for o in ops.values())
        got = estimate(spec, H100, prompt, 0, batch, include_lm_head=head).prefill_s
        assert got == pytest.approx(expected, rel=1e-12)


def test_defaults_and_names() -> None:
    by_name = estimate("llama-3-8b", H100, 512)
    by_spec = estimate(dataclasses.replace(_LLAMA), H100, 512, 512)  # equal spec, another object
    assert by_name == by_spec
    assert by_name.decode_step_s == pytest.approx(decode_step_time(_LLAMA, H100, 1, 512), rel=1e-12)
    assert estimate(_LLAMA, H100, 512, np.int64(7), np.int64(2)) == estimate(_LLAMA, H100, 512, 7, 2)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match=r"needs a causal .decoder. model"):
        estimate("bert-base", H100, 128)
    with pytest.raises(ValueError, match="unknown model preset"):
        estimate("gpt-9", H100, 128)
    with pytest.raises(ValueError, match=r"prompt_len must be an integer >= 1, got 0"):
        estimate(_LLAMA, H100, 0)
    with pytest.raises(ValueError, match=r"context must be an integer >= 0, got -1"):
        estimate(_LLAMA, H100, 8, -1)
    with pytest.raises(ValueError, match=r"batch must be an integer >= 1, got 1.5"):
        estimate(_LLAMA, H100, 8, 0, 1.5)
    with pytest.raises(ValueError, match=r"batch must be a scalar for estimate"):
        estimate(_LLAMA, H100, 8, 0, [1, 2])
    with pytest.raises(ValueError, match=r"weight_bytes must be a scalar for estimate"):
        estimate(_LLAMA, H100, 8, widths=ByteWidths(weight=[1.0, 2.0]))
