"""Claims checked by the chapter "Bring your own model": models loaded from their ``config.json``.

Each claim is one a model's own paper or model card makes about its size or its KV cache, recomputed from
the configuration through the same functions the reader uses for their own model
(:func:`memwall.specs.hf_config.load_config`, :func:`memwall.specs.attention.kv_cache_elements`, the serving
bound). They check that the loader and the KV-cache formula read a configuration the way its authors do.
Registered on import; the ledger finds the module by itself (:func:`memwall.claims.core.discovered_claim_modules`).
"""

from __future__ import annotations

import dataclasses
import functools

from memwall import specs, tables
from memwall.book import A100, B200, H100, H200, MI300X
from memwall.claims.core import Claim, NotApplicable, register
from memwall.serving import decode, schemes
from memwall.specs.hf_config import EXAMPLE_CONFIG

CHAPTER = "chapters/own_model"
SECTION = "your own model"
DEVICES = (A100, H100, H200, B200, MI300X)
"""Devices on which the batch-1 decode claim is checked."""

_NOT_PAPER = NotApplicable("the memory-wall paper has no such model; the model's own publication is the reference")


@functools.cache
def example_spec() -> specs.ModelSpec:
    """The shipped example model, loaded from its ``config.json`` in the data folder."""
    return specs.load_config(tables.data_dir() / EXAMPLE_CONFIG, name="qwen3-4b")


def _qwen3_4b_billions() -> float:
    return specs.parameter_count(example_spec()) / 1e9


def _qwen3_4b_non_embedding_billions() -> float:
    spec = example_spec()
    return (specs.parameter_count(spec) - spec.vocab_size * spec.d_model * (1 if spec.tied_embeddings else 2)) / 1e9


def _mistral_window_saving() -> float:
    windowed = specs.get_preset("mistral-7b")
    full = dataclasses.replace(windowed, sliding_window=0, sliding_layers=0)
    return float(specs.kv_cache_elements(full, 32768) / specs.kv_cache_elements(windowed, 32768))


def _mla_gqa_groups() -> float:
    spec = specs.get_preset("deepseek-v3")
    return specs.kv_elements_per_token(spec) / (spec.layers * 2 * spec.head_dim)


def _example_decode_memory_bound() -> bool:
    hw = tables.load_hardware()
    spec = example_spec()
    for device in DEVICES:
        ceilings = schemes.ceilings_for(hw, device, "W16A16")
        if decode.critical_batch(spec, ceilings, context=1024) <= 1:
            return False
    return True


def _register() -> None:
    register(Claim(
        claim_id="own-qwen3-4b-parameters", chapter=CHAPTER, section=SECTION,
        statement="Loaded from its published config.json, Qwen3-4B has the 4.0 billion parameters its model card "
                  "states.",
        paper_value=4.0, paper_text="4.0B", unit="billion parameters",
        source="Qwen3-4B model card, https://huggingface.co/Qwen/Qwen3-4B",
        method="memwall.specs.parameter_count(memwall.specs.load_config(data/example_config_qwen3-4b.json))",
        rel_tol=0.0125, tolerance_note="half a unit of the printed digit (0.05 of 4.0)",
        ours_paper_data=_NOT_PAPER, ours_extended=_qwen3_4b_billions), replace=True)
    register(Claim(
        claim_id="own-qwen3-4b-non-embedding", chapter=CHAPTER, section=SECTION,
        statement="Of those, 3.6 billion are not embeddings (the tied embedding matrix is counted once).",
        paper_value=3.6, paper_text="3.6B (non-embedding)", unit="billion parameters",
        source="Qwen3-4B model card, https://huggingface.co/Qwen/Qwen3-4B",
        method="parameter_count minus vocab_size x d_model (tied embeddings) of the loaded config",
        rel_tol=0.05 / 3.6, tolerance_note="half a unit of the printed digit (0.05 of 3.6)",
        ours_paper_data=_NOT_PAPER, ours_extended=_qwen3_4b_non_embedding_billions), replace=True)
    register(Claim(
        claim_id="own-mistral-window-8x", chapter=CHAPTER, section=SECTION,
        statement="A sliding window caps the KV cache: Mistral 7B's 4,096-token window holds 8x less cache than "
                  "full attention at a 32k-token context.",
        paper_value=8.0, paper_text="reduces the cache memory usage by 8x", unit="x",
        source="Jiang et al., Mistral 7B, arXiv 2310.06825, §2 (rolling buffer cache)",
        method="memwall.specs.kv_cache_elements at 32,768 tokens, mistral-7b preset without and with its window",
        ours_paper_data=_NOT_PAPER, ours_extended=_mistral_window_saving), replace=True)
    register(Claim(
        claim_id="own-mla-gqa-2.25-groups", chapter=CHAPTER, section=SECTION,
        statement="Multi-head latent attention caches per token what grouped-query attention with 2.25 groups "
                  "would: DeepSeek-V3's 512-wide latent plus its 64-wide rotary key, over 2 x 128 per KV head.",
        paper_value=2.25, paper_text="equal to GQA with only 2.25 groups", unit="KV heads",
        source="DeepSeek-AI, DeepSeek-V2, arXiv 2405.04434, §2.1.4 and Table 1",
        method="memwall.specs.kv_elements_per_token(deepseek-v3) / (layers x 2 x head_dim)",
        ours_paper_data=_NOT_PAPER, ours_extended=_mla_gqa_groups), replace=True)
    register(Claim(
        claim_id="own-decode-memory-bound", chapter=CHAPTER, section=SECTION,
        statement="The reader's own decoder is memory-bound at batch 1 too: the example model loaded from its "
                  "config.json needs more than one sequence per step to reach the ridge on every listed "
                  "accelerator (16-bit weights, 1,024 cached tokens).",
        paper_value=True, paper_text="decoder models are memory-bandwidth bound", unit="yes/no",
        source="abstract; survey §2.2 summary",
        method="memwall.serving.critical_batch > 1 on A100, H100, H200, B200 and MI300X (W16A16, context 1,024)",
        ours_paper_data=_NOT_PAPER, ours_extended=_example_decode_memory_bound), replace=True)


_register()
