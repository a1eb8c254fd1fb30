"""Named model presets (GPT-2, BERT, Llama, Qwen3, Gemma 3, DeepSeek-V3, ...) from their published ``config.json``.

:func:`decoder_spec` resolves a name and checks that the model is a decoder.

Every preset here is a :class:`~memwall.specs.model_spec.ModelSpec`: dense, Mixtral-style MoE
(``experts``/``active_experts``), or DeepSeek-V3 with multi-head latent attention, a shared expert and
dense first layers. Each is written out as a literal from the model's published ``config.json`` (the
``source_url``); ``tests/test_hf_config.py`` checks that the config-built ones equal
:func:`memwall.specs.hf_config.load_config` of the stored copy of that file, and
:func:`~memwall.specs.model_spec.parameter_count` of each equals the count of the Hugging Face class.
DeepSeek-V2 and DeepSeek-V3 also have separate descriptions in :mod:`memwall.specs.attention`
(:data:`~memwall.specs.attention.MLA_PRESETS`, through :func:`~memwall.specs.attention.get_attention`)
and :mod:`memwall.specs.moe` (:data:`~memwall.specs.moe.MOE_PRESETS`, through :func:`~memwall.specs.moe.get_moe`),
which look those names up first.
"""

from __future__ import annotations

from memwall.specs.model_spec import ModelSpec

__all__ = ["PRESET_TITLES", "decoder_spec", "display_name", "get_preset", "list_presets"]




_HF = "https://huggingface.co/{}/blob/main/config.json"


def _bert(name: str, repo: str, layers: int, d: int, heads: int, ffn: int) -> ModelSpec:
    return ModelSpec(
        name=name, layers=layers, d_model=d, heads=heads, kv_heads=heads, head_dim=d // heads,
        ffn_dim=ffn, ffn_kind="gelu", vocab_size=30522, max_positions=512, bias=True, norm="layernorm",
        causal=False, learned_positions=True, type_vocab_size=2, embedding_norm=True, final_norm=False,
        pooler=True, tied_embeddings=True, source_url=_HF.format(repo),
    )


def _gpt2(name: str, repo: str, layers: int, d: int, heads: int) -> ModelSpec:
    return ModelSpec(
        name=name, layers=layers, d_model=d, heads=heads, kv_heads=heads, head_dim=d // heads,
        ffn_dim=4 * d, ffn_kind="gelu", vocab_size=50257, max_positions=1024, bias=True,
        norm="layernorm", causal=True, learned_positions=True, tied_embeddings=True,
        source_url=_HF.format(repo),
    )


def _llama(name: str, repo: str, layers: int, d: int, heads: int, kv_heads: int, ffn: int, vocab: int,
           max_positions: int, experts: int = 1, active: int = 1, **extra: object) -> ModelSpec:
    return ModelSpec(
        name=name, layers=layers, d_model=d, heads=heads, kv_heads=kv_heads, head_dim=d // heads,
        ffn_dim=ffn, ffn_kind="gated", vocab_size=vocab, max_positions=max_positions, bias=False,
        norm="rmsnorm", causal=True, experts=experts, active_experts=active,
        source_url=_HF.format(repo), **extra,
    )


#: Qwen3-8B (https://huggingface.co/Qwen/Qwen3-8B/blob/main/config.json): explicit head_dim 128, an
#: RMSNorm over each query and key head, untied LM head.
_QWEN3_8B = ModelSpec(
    name="qwen3-8b", layers=36, d_model=4096, heads=32, kv_heads=8, head_dim=128, ffn_dim=12288,
    ffn_kind="gated", vocab_size=151936, max_positions=40960, bias=False, norm="rmsnorm", causal=True,
    qk_norm=True, source_url=_HF.format("Qwen/Qwen3-8B"),
)

#: Gemma 3 27B, its language model (``text_config`` of
#: https://huggingface.co/google/gemma-3-27b-it/blob/main/config.json; the vision tower is not counted):
#: head_dim 128 (not 5376/32), four RMSNorms per block, q/k norms, tied embeddings, 1,024-token sliding
#: window on 5 of every 6 layers (``sliding_window_pattern`` 6: 52 of 62). ``vocab_size`` 262,208 and
#: 131,072 positions are ``Gemma3TextConfig``'s defaults, which the file does not override.
_GEMMA3_27B = ModelSpec(
    name="gemma-3-27b", layers=62, d_model=5376, heads=32, kv_heads=16, head_dim=128, ffn_dim=21504,
    ffn_kind="gated", vocab_size=262208, max_positions=131072, bias=False, norm="rmsnorm", causal=True,
    tied_embeddings=True, qk_norm=True, norms_per_block=4, sliding_window=1024, sliding_layers=52,
    source_url=_HF.format("google/gemma-3-27b-it"),
)

#: DeepSeek-V3 (https://huggingface.co/deepseek-ai/DeepSeek-V3/blob/main/config.json): multi-head latent
#: attention (q_lora_rank 1536, kv_lora_rank 512, qk_nope_head_dim 128 as ``head_dim``, qk_rope_head_dim
#: 64, v_head_dim 128), 256 routed experts of 2048 (top-8) and one shared expert of 2048 on 58 layers, the
#: first 3 layers dense (FFN 18432). The multi-token-prediction module is not part of the model
#: (``DeepseekV3ForCausalLM`` does not build it).
_DEEPSEEK_V3 = ModelSpec(
    name="deepseek-v3", layers=61, d_model=7168, heads=128, kv_heads=1, head_dim=128, ffn_dim=2048,
    ffn_kind="gated", vocab_size=129280, max_positions=163840, bias=False, norm="rmsnorm", causal=True,
    experts=256, active_experts=8, q_lora_rank=1536, kv_lora_rank=512, rope_head_dim=64, v_head_dim=128,
    shared_ffn_dim=2048, dense_layers=3, dense_ffn_dim=18432, source_url=_HF.format("deepseek-ai/DeepSeek-V3"),
)


# Hyperparameters copied from each config.json (BERT: Devlin et al. 2019, arXiv 1810.04805, Table 1
# gives L/H/A; GPT-2: Radford et al. 2019, Table 2). Mistral-7B-v0.1 attends over a 4,096-token sliding
# window in all 32 layers (its config's ``sliding_window``; Jiang et al. 2023, arXiv 2310.06825, §2).
_PRESETS: dict[str, ModelSpec] = {
    s.name: s
    for s in (
        _bert("bert-base", "google-bert/bert-base-uncased", 12, 768, 12, 3072),
        _bert("bert-large", "google-bert/bert-large-uncased", 24, 1024, 16, 4096),
        _gpt2("gpt2", "openai-community/gpt2", 12, 768, 12),
        _gpt2("gpt2-medium", "openai-community/gpt2-medium", 24, 1024, 16),
        _gpt2("gpt2-large", "openai-community/gpt2-large", 36, 1280, 20),
        _gpt2("gpt2-xl", "openai-community/gpt2-xl", 48, 1600, 25),
        _llama("llama-2-7b", "meta-llama/Llama-2-7b-hf", 32, 4096, 32, 32, 11008, 32000, 4096),
        _llama("llama-2-13b", "meta-llama/Llama-2-13b-hf", 40, 5120, 40, 40, 13824, 32000, 4096),
        _llama("llama-2-70b", "meta-llama/Llama-2-70b-hf", 80, 8192, 64, 8, 28672, 32000, 4096),
        _llama("llama-3-8b", "meta-llama/Meta-Llama-3-8B", 32, 4096, 32, 8, 14336, 128256, 8192),
        _llama("llama-3-70b", "meta-llama/Meta-Llama-3-70B", 80, 8192, 64, 8, 28672, 128256, 8192),
        _llama("llama-3.1-405b", "meta-llama/Llama-3.1-405B", 126, 16384, 128, 8, 53248, 128256, 131072),
        _llama("mistral-7b", "mistralai/Mistral-7B-v0.1", 32, 4096, 32, 8, 14336, 32000, 32768,
               sliding_window=4096, sliding_layers=32),
        _llama("mixtral-8x7b", "mistralai/Mixtral-8x7B-v0.1", 32, 4096, 32, 8, 14336, 32000, 32768,
               experts=8, active=2),
        _QWEN3_8B,
        _GEMMA3_27B,
        _DEEPSEEK_V3,
    )
}

_ALIASES = {"gpt2-124m": "gpt2", "gpt2-355m": "gpt2-medium", "gpt2-774m": "gpt2-large",
            "gpt2-1.5b": "gpt2-xl"}


PRESET_TITLES: dict[str, str] = {
    "bert-base": "BERT-Base", "bert-large": "BERT-Large", "gpt2": "GPT-2 (124M)",
    "gpt2-medium": "GPT-2 Medium (355M)", "gpt2-large": "GPT-2 Large (774M)", "gpt2-xl": "GPT-2 XL (1.5B)",
    "llama-2-7b": "Llama-2-7B", "llama-2-13b": "Llama-2-13B", "llama-2-70b": "Llama-2-70B",
    "llama-3-8b": "Llama-3-8B", "llama-3-70b": "Llama-3-70B", "llama-3.1-405b": "Llama-3.1-405B",
    "mistral-7b": "Mistral 7B", "mixtral-8x7b": "Mixtral 8x7B",
    "qwen3-8b": "Qwen3-8B", "gemma-3-27b": "Gemma 3 27B", "deepseek-v3": "DeepSeek-V3",
}
"""The reader's name of each preset, as its model card writes it (GPT-2 with its size, as the GPT-2 paper's
Table 2 gives it); charts and tables show these, code and data keep the preset names."""


def display_name(name: str) -> str:
    """The reader's name of a model: the title of a preset (``"llama-2-7b"`` gives ``"Llama-2-7B"``), any
    other name as it is.

    Parameters
    ----------
    name : str
        A preset name (:func:`list_presets`, its aliases, any case) or the name of another model (a
        ``config.json`` the reader loaded), which is returned unchanged.

    Returns
    -------
    str
        The title from :data:`PRESET_TITLES`, or ``name``.

    Examples
    --------
    >>> from memwall.specs.presets import display_name
    >>> display_name("llama-2-7b"), display_name("GPT2-124M"), display_name("my-model")
    ('Llama-2-7B', 'GPT-2 (124M)', 'my-model')
    """
    key = str(name).strip().lower()
    return PRESET_TITLES.get(_ALIASES.get(key, key), str(name))


def list_presets() -> list[str]:
    """Names accepted by :func:`get_preset`, in presentation order."""
    return list(_PRESETS)


def get_preset(name: str) -> ModelSpec:
    """Published architecture by name (case-insensitive; ``gpt2-124m`` etc. are aliases).

    Parameters
    ----------
    name : str
        One of :func:`list_presets`.

    Returns
    -------
    ModelSpec

    Raises
    ------
    ValueError
        For an unknown name; the message lists the available presets.

    References
    ----------
    .. [1] A. Radford, J. Wu, R. Child, D. Luan, D. Amodei and I. Sutskever, "Language Models are
       Unsupervised Multitask Learners", OpenAI, 2019 (Table 2); config:
       https://huggingface.co/openai-community/gpt2/blob/main/config.json
    .. [2] Llama Team, AI @ Meta, "The Llama 3 Herd of Models", arXiv 2407.21783, 2024 (Table 3); config:
       https://huggingface.co/meta-llama/Meta-Llama-3-8B/blob/main/config.json

    Examples
    --------
    GPT-2 124M: 12 layers, width 768, 12 heads, 50257 tokens [1]_; Llama-3-8B: 32 layers, 32 query and
    8 key/value heads of 128, FFN 14336 [2]_.

    >>> from memwall.specs.presets import get_preset
    >>> g = get_preset("GPT2-124M")  # alias, any case
    >>> g.name, g.layers, g.d_model, g.heads, g.vocab_size
    ('gpt2', 12, 768, 12, 50257)
    >>> s = get_preset("llama-3-8b")
    >>> s.layers, s.heads, s.kv_heads, s.head_dim, s.ffn_dim
    (32, 32, 8, 128, 14336)
    >>> get_preset("gpt-5")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown model preset 'gpt-5'; available presets: bert-base, bert-large, gpt2, ...
    """
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _PRESETS:
        raise ValueError(f"unknown model preset {name!r}; available presets: {', '.join(_PRESETS)}")
    return _PRESETS[key]


def decoder_spec(spec: ModelSpec | str, purpose: str = "decode") -> ModelSpec:
    """Resolve a preset name to its :class:`ModelSpec` and check that it is a decoder.

    Parameters
    ----------
    spec : ModelSpec or str
        Architecture or preset name (:func:`list_presets`).
    purpose : str
        What needs the decoder, for the error message (e.g. ``"speculative decoding"``).

    Returns
    -------
    ModelSpec
        The architecture, causal.

    Raises
    ------
    ValueError
        Unknown preset name (lists the presets), an object that is not a ModelSpec, or an encoder
        (``purpose`` needs a KV cache and token-by-token generation).
    """
    out = get_preset(spec) if isinstance(spec, str) else spec
    if not isinstance(out, ModelSpec):
        raise ValueError(f"spec must be a ModelSpec or a preset name, got {spec!r}")
    if not out.causal:
        raise ValueError(f"{purpose} needs a causal (decoder) model, got encoder {out.name!r}")
    return out
