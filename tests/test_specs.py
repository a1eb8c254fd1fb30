"""Tests for memwall.specs: presets, parameter counts, validation."""

from __future__ import annotations

import dataclasses

import pytest

from memwall.specs import ModelSpec, get_preset, list_presets, non_embedding_parameter_count, parameter_count

# Published parameter counts: what the Hugging Face implementation of each config reports
# (sum(p.numel() for p in model.parameters()), tied weights once). Model cards round them
# (BERT-Base "110M", Devlin et al. 2019 Table 1; GPT-2 "124M"; Llama-2 "7B"...); the exact counts
# are those of the cited repositories' model classes:
PUBLISHED = {
    # google-bert/bert-base-uncased, BertModel with pooler; paper: 110M
    "bert-base": 109_482_240,
    # google-bert/bert-large-uncased, BertModel with pooler; paper: 340M
    "bert-large": 335_141_888,
    # openai-community/gpt2 (GPT2Model, tied head): 124,439,808, "124M" on the model card
    "gpt2": 124_439_808,
    # openai-community/gpt2-medium "355M"
    "gpt2-medium": 354_823_168,
    # openai-community/gpt2-large "774M"
    "gpt2-large": 774_030_080,
    # openai-community/gpt2-xl "1.5B" (1,557,611,200)
    "gpt2-xl": 1_557_611_200,
    # meta-llama/Llama-2-7b-hf: 6,738,415,616 (model card "7B")
    "llama-2-7b": 6_738_415_616,
    # meta-llama/Llama-2-13b-hf: 13,015,864,320
    "llama-2-13b": 13_015_864_320,
    # meta-llama/Llama-2-70b-hf: 68,976,648,192
    "llama-2-70b": 68_976_648_192,
    # meta-llama/Meta-Llama-3-8B: 8,030,261,248 (model card "8B")
    "llama-3-8b": 8_030_261_248,
    # meta-llama/Meta-Llama-3-70B: 70,553,706,496
    "llama-3-70b": 70_553_706_496,
    # meta-llama/Llama-3.1-405B: 405,853,388,800 (model card "405B")
    "llama-3.1-405b": 405_853_388_800,
    # mistralai/Mistral-7B-v0.1: 7,241,732,096 (paper, arXiv 2310.06825: "7B")
    "mistral-7b": 7_241_732_096,
    # mistralai/Mixtral-8x7B-v0.1: 46,702,792,704 (paper, arXiv 2401.04088: "47B" total, "13B" active)
    "mixtral-8x7b": 46_702_792_704,
    # Qwen/Qwen3-8B: 8,190,735,360 (model card: "8.2B")
    "qwen3-8b": 8_190_735_360,
    # google/gemma-3-27b-it, language model (Gemma3ForCausalLM of text_config): 27,009,346,304 (model card
    # "27B", vision encoder included)
    "gemma-3-27b": 27_009_346_304,
    # deepseek-ai/DeepSeek-V3 (DeepseekV3ForCausalLM, no MTP module): 671,026,404,352 (paper, arXiv
    # 2412.19437: "671B total parameters, 37B activated")
    "deepseek-v3": 671_026_404_352,
}


def test_every_preset_has_a_published_count_and_source() -> None:
    assert sorted(PUBLISHED) == sorted(list_presets())
    for name in list_presets():
        assert get_preset(name).source_url.startswith("https://")


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_parameter_count_matches_published(name: str) -> None:
    # zero tolerance: every preset is the exact Hugging Face count, biases and norms included
    assert parameter_count(get_preset(name)) == PUBLISHED[name]


@pytest.mark.parametrize(("flags", "extra_per_layer"), [
    # Llama-2-7B shapes: d = 4096, 32 heads of 128 (no GQA), gated FFN f = 11008 (3 matrices)
    ({"qkv_bias": True}, 3 * 4096),                    # q, k and v biases (Qwen2's layout)
    ({"out_bias": True}, 4096),                        # the output projection's bias
    ({"mlp_bias": True}, 2 * 11008 + 4096),            # gate and up (f each), down (d)
    ({"qkv_bias": True, "out_bias": True}, 4 * 4096),  # Llama's attention_bias
    ({"bias": True}, 4 * 4096 + 2 * 11008 + 4096),     # every linear layer (GPT-2's layout)
])
def test_biases_per_projection_are_counted_separately(flags: dict, extra_per_layer: int) -> None:
    base = get_preset("llama-2-7b")
    biased = dataclasses.replace(base, **flags)
    assert parameter_count(biased) - parameter_count(base) == base.layers * extra_per_layer
    assert biased.has_qkv_bias == bool(flags.get("qkv_bias") or flags.get("bias"))
    assert biased.has_out_bias == bool(flags.get("out_bias") or flags.get("bias"))
    assert biased.has_mlp_bias == bool(flags.get("mlp_bias") or flags.get("bias"))


@pytest.mark.parametrize("flag", ["qkv_bias", "out_bias", "mlp_bias"])
def test_bias_flags_must_be_bools(flag: str) -> None:
    with pytest.raises(ValueError, match=flag):
        dataclasses.replace(get_preset("gpt2"), **{flag: 1})


def test_non_embedding_count_excludes_embeddings_and_untied_head() -> None:
    gpt2 = get_preset("gpt2")
    # Tied head: only token + position embeddings leave (50257·768 + 1024·768).
    assert parameter_count(gpt2) - non_embedding_parameter_count(gpt2) == 50257 * 768 + 1024 * 768
    llama = get_preset("llama-2-7b")
    # Untied head: input embedding and LM head (2 · 32000 · 4096).
    assert parameter_count(llama) - parameter_count(llama, include_embeddings=False) == 2 * 32000 * 4096


def test_mixtral_active_parameters_about_13b() -> None:
    # Mixtral paper (arXiv 2401.04088, §1): 13B active parameters per token.
    spec = get_preset("mixtral-8x7b")
    per_expert = 3 * spec.d_model * spec.ffn_dim * spec.layers
    active = parameter_count(spec) - (spec.experts - spec.active_experts) * per_expert
    assert 12.5e9 < active < 13.5e9


def test_head_dim_is_not_assumed_from_d_model() -> None:
    base = get_preset("llama-3-8b")
    wide = dataclasses.replace(base, head_dim=256)
    assert wide.q_dim == 32 * 256 and wide.kv_dim == 8 * 256
    assert parameter_count(wide) > parameter_count(base)


def test_aliases_and_case() -> None:
    assert get_preset("GPT2-124M") is get_preset("gpt2")
    assert get_preset("Llama-2-7B").layers == 32


def test_every_preset_has_a_title_for_readers() -> None:
    """Charts and tables show the model card's name (Llama-2-7B), not the preset key (llama-2-7b)."""
    from memwall.specs.presets import PRESET_TITLES, display_name, list_presets

    assert set(PRESET_TITLES) == set(list_presets())
    assert len(set(PRESET_TITLES.values())) == len(PRESET_TITLES)
    for name, title in PRESET_TITLES.items():
        assert display_name(name) == display_name(name.upper()) == title
        family = name.split("-")[0].rstrip("0123456789.")  # gpt2 -> gpt, llama-3.1-405b -> llama
        assert title.lower().replace("-", "").startswith(family.replace("-", "")), (name, title)
    assert display_name("gpt2-124m") == PRESET_TITLES["gpt2"]
    assert display_name("My own model") == "My own model"


def test_unknown_preset_lists_available() -> None:
    with pytest.raises(ValueError, match=r"unknown model preset 'gpt5'.*bert-base.*mixtral-8x7b"):
        get_preset("gpt5")


def _spec(**overrides: object) -> ModelSpec:
    return dataclasses.replace(get_preset("llama-3-8b"), **overrides)


def test_rejects_non_positive_size() -> None:
    with pytest.raises(ValueError, match=r"layers must be a positive integer, got 0"):
        _spec(layers=0)


def test_rejects_non_integer_size() -> None:
    with pytest.raises(ValueError, match=r"d_model must be a positive integer, got 4096\.5"):
        _spec(d_model=4096.5)


def test_rejects_kv_heads_not_dividing_heads() -> None:
    with pytest.raises(ValueError, match=r"kv_heads must divide heads \(32\), got kv_heads=5"):
        _spec(kv_heads=5)


def test_rejects_more_active_experts_than_experts() -> None:
    with pytest.raises(ValueError, match=r"active_experts must not exceed experts \(8\), got 9"):
        _spec(experts=8, active_experts=9)


def test_rejects_unknown_ffn_kind() -> None:
    with pytest.raises(ValueError, match=r"ffn_kind must be one of .*got 'relu'"):
        _spec(ffn_kind="relu")


def test_rejects_unknown_norm() -> None:
    with pytest.raises(ValueError, match=r"norm must be one of .*got 'batchnorm'"):
        _spec(norm="batchnorm")


def test_rejects_bool_as_size() -> None:
    with pytest.raises(ValueError, match=r"heads must be a positive integer, got True"):
        _spec(heads=True)
