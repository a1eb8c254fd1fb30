"""Per-family readers of a Hugging Face ``config.json``: :data:`FAMILY_DEFAULTS` and the field mappers.

The machinery behind :func:`memwall.specs.hf_config.load_config` (which re-exports the public names here):
:data:`SUPPORTED_FAMILIES` (``model_type`` → family), :data:`FAMILY_DEFAULTS` (the defaults of each
family's ``transformers`` configuration class for fields published files may omit), the typed field access
``_Fields`` whose every error names the file and the field, and one reader per family (``_READERS``) that
maps a configuration dict onto the keyword arguments of :class:`~memwall.specs.model_spec.ModelSpec`. The
rules those readers apply (what is defaulted, what is refused, how MLA, MoE and sliding-window attention are
mapped) are listed in the :mod:`memwall.specs.hf_config` module docstring.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

__all__ = ["FAMILY_DEFAULTS", "SUPPORTED_FAMILIES"]

#: ``model_type`` → the family it names (and the ``transformers`` class whose parameters are counted).
SUPPORTED_FAMILIES: dict[str, str] = {
    "gpt2": "GPT-2 (GPT2LMHeadModel)",
    "bert": "BERT (BertModel with pooler)",
    "llama": "Llama 1/2/3.x (LlamaForCausalLM)",
    "mistral": "Mistral (MistralForCausalLM)",
    "mixtral": "Mixtral (MixtralForCausalLM)",
    "qwen2": "Qwen2/2.5 (Qwen2ForCausalLM)",
    "qwen2_moe": "Qwen1.5/Qwen2-MoE (Qwen2MoeForCausalLM)",
    "qwen3": "Qwen3 (Qwen3ForCausalLM)",
    "qwen3_moe": "Qwen3-MoE (Qwen3MoeForCausalLM)",
    "gemma": "Gemma (GemmaForCausalLM)",
    "gemma2": "Gemma 2 (Gemma2ForCausalLM)",
    "gemma3_text": "Gemma 3 text (Gemma3ForCausalLM)",
    "gemma3": "Gemma 3 multimodal: its text_config (Gemma3ForCausalLM)",
    "phi3": "Phi-3 (Phi3ForCausalLM)",
    "deepseek_v2": "DeepSeek-V2/V2-Lite (DeepseekV2ForCausalLM)",
    "deepseek_v3": "DeepSeek-V3 (DeepseekV3ForCausalLM)",
    "gpt_oss": "gpt-oss (GptOssForCausalLM)",
}

#: Multimodal ``model_type`` → the ``model_type`` its ``text_config`` has when the key is absent.
_MULTIMODAL = {"gemma3": "gemma3_text"}

#: Per family, the defaults of its ``transformers`` configuration class (transformers 5.x, e.g.
#: ``transformers.Gemma3TextConfig()``) for fields that published files may omit. Only these are filled
#: in; ``"head_dim": None`` means ``hidden_size // num_attention_heads``, ``"num_key_value_heads": None``
#: means ``num_attention_heads`` (multi-head attention).
FAMILY_DEFAULTS: dict[str, dict[str, object]] = {
    "gpt2": {"n_inner": None, "tie_word_embeddings": True, "add_cross_attention": False},
    "bert": {"type_vocab_size": 2, "position_embedding_type": "absolute", "add_cross_attention": False},
    "llama": {"head_dim": None, "num_key_value_heads": None, "tie_word_embeddings": False,
              "attention_bias": False, "mlp_bias": False},
    "mistral": {"head_dim": None, "num_key_value_heads": None, "tie_word_embeddings": False,
                "sliding_window": 4096},
    "mixtral": {"head_dim": None, "num_key_value_heads": None, "tie_word_embeddings": False,
                "sliding_window": None},
    "qwen2": {"num_key_value_heads": None, "tie_word_embeddings": False, "use_sliding_window": False,
              "sliding_window": 4096, "max_window_layers": 28},
    "qwen2_moe": {"num_key_value_heads": None, "tie_word_embeddings": False, "use_sliding_window": False,
                  "sliding_window": 4096, "max_window_layers": 28, "decoder_sparse_step": 1,
                  "mlp_only_layers": [], "qkv_bias": True},
    "qwen3": {"head_dim": 128, "num_key_value_heads": None, "tie_word_embeddings": False,
              "attention_bias": False, "use_sliding_window": False, "sliding_window": 4096,
              "max_window_layers": 28},
    "qwen3_moe": {"head_dim": None, "num_key_value_heads": None, "tie_word_embeddings": False,
                  "attention_bias": False, "use_sliding_window": False, "sliding_window": 4096,
                  "max_window_layers": 28, "decoder_sparse_step": 1, "mlp_only_layers": []},
    "gemma": {"head_dim": 256, "num_key_value_heads": None, "tie_word_embeddings": True,
              "attention_bias": False},
    "gemma2": {"head_dim": 256, "num_key_value_heads": None, "tie_word_embeddings": True,
               "attention_bias": False, "sliding_window": 4096},
    "gemma3_text": {"vocab_size": 262208, "max_position_embeddings": 131072, "head_dim": 256,
                    "num_key_value_heads": None, "tie_word_embeddings": True, "attention_bias": False,
                    "sliding_window": 4096, "sliding_window_pattern": 6},
    "phi3": {"num_key_value_heads": None, "tie_word_embeddings": False, "sliding_window": None},
    "deepseek_v2": {"tie_word_embeddings": False, "attention_bias": False, "mlp_bias": False,
                    "first_k_dense_replace": 0, "moe_layer_freq": 1, "n_shared_experts": None,
                    "n_routed_experts": 64, "moe_intermediate_size": 1407},
    "deepseek_v3": {"tie_word_embeddings": False, "attention_bias": False, "first_k_dense_replace": 3,
                    "moe_layer_freq": 1, "n_shared_experts": 1, "n_routed_experts": 256, "num_experts_per_tok": 8,
                    "moe_intermediate_size": 2048},
    "gpt_oss": {"head_dim": 64, "num_key_value_heads": None, "tie_word_embeddings": False,
                "attention_bias": True, "sliding_window": 128},
}


class _Fields:
    """Typed access to one configuration dict; every error names the file and the field."""

    def __init__(self, data: dict, file: Path, family: str, prefix: str = "") -> None:
        self.data, self.file, self.family, self.prefix = data, file, family, prefix
        self.defaults = FAMILY_DEFAULTS.get(family, {})

    def _fail(self, key: str, why: str) -> ValueError:
        return ValueError(f"{self.file}: field {self.prefix + key!r} {why}")

    def raw(self, key: str) -> object:
        if key in self.data:
            return self.data[key]
        if key in self.defaults:
            return self.defaults[key]
        raise self._fail(key, f"is missing (needed for a {SUPPORTED_FAMILIES[self.family]} model)")

    def has(self, key: str) -> bool:
        return key in self.data or key in self.defaults

    def int(self, key: str, minimum: int = 1, allow_none: bool = False) -> int | None:
        value = self.raw(key)
        if value is None and allow_none:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self._fail(key, f"must be an integer >= {minimum}, got {value!r}")
        return value

    def bool(self, key: str) -> bool:
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self._fail(key, f"must be true or false, got {value!r}")
        return value

    def refuse(self, key: str, value: object, why: str) -> ValueError:
        return self._fail(key, f"= {value!r} is not supported: {why}")


def _heads(f: _Fields) -> tuple[int, int, int]:
    """(query heads, KV heads, head size) with the family's defaults."""
    d, h = f.int("hidden_size"), f.int("num_attention_heads")
    g = f.int("num_key_value_heads", allow_none=True) or h
    head_dim = f.int("head_dim", allow_none=True) if f.has("head_dim") else None
    if head_dim is None:
        if d % h:
            raise ValueError(f"{f.file}: field {f.prefix + 'head_dim'!r} is missing and hidden_size {d} is not a "
                             f"multiple of num_attention_heads {h}")
        head_dim = d // h
    return h, g, head_dim


def _sliding(f: _Fields, layers: int, rule: str) -> tuple[int, int]:
    """(sliding window [tokens], layers that use it) as the family's configuration class resolves them."""
    window = f.int("sliding_window", minimum=0, allow_none=True) if f.has("sliding_window") else None
    if rule == "qwen" and not f.bool("use_sliding_window"):
        window = None
    if not window:
        return 0, 0
    types = f.data.get("layer_types")
    if types is not None:
        if not isinstance(types, list) or len(types) != layers or not set(types) <= {"sliding_attention",
                                                                                       "full_attention"}:
            raise f.refuse("layer_types", types, f"expected {layers} entries of 'sliding_attention' or "
                                                 "'full_attention'")
        count = sum(t == "sliding_attention" for t in types)
    elif rule == "all":
        count = layers
    elif rule == "qwen":
        count = max(layers - f.int("max_window_layers", minimum=0), 0)
    elif rule == "alternate":  # even-indexed layers slide: (i + 1) % 2 != 0
        count = math.ceil(layers / 2)
    elif rule == "pattern":  # every p-th layer is global: (i + 1) % p == 0
        count = layers - layers // f.int("sliding_window_pattern")
    else:
        count = 0
    return (window, count) if count else (0, 0)


def _moe_dense_prefix(f: _Fields, layers: int) -> int:
    """Qwen-MoE: the dense layers (``mlp_only_layers``, ``decoder_sparse_step``), which must come first."""
    step = f.int("decoder_sparse_step")
    only = f.raw("mlp_only_layers")
    if not isinstance(only, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in only):
        raise f.refuse("mlp_only_layers", only, "expected a list of layer indices")
    dense = [i for i in range(layers) if i in only or (i + 1) % step]
    if dense != list(range(len(dense))) or len(dense) >= layers:
        raise f.refuse("mlp_only_layers", only, f"with decoder_sparse_step={step} the dense layers {dense} are "
                       "not the first layers followed by MoE layers")
    return len(dense)


def _common(f: _Fields) -> dict[str, object]:
    return {"layers": f.int("num_hidden_layers"), "d_model": f.int("hidden_size"),
            "vocab_size": f.int("vocab_size"), "max_positions": f.int("max_position_embeddings"),
            "tied_embeddings": f.bool("tie_word_embeddings")}


def _gpt2(f: _Fields) -> dict[str, object]:
    if f.bool("add_cross_attention"):
        raise f.refuse("add_cross_attention", True, "cross-attention blocks are not modelled")
    d, h = f.int("n_embd"), f.int("n_head")
    if d % h:
        raise f.refuse("n_head", h, f"it must divide n_embd ({d})")
    inner = f.int("n_inner", allow_none=True) or 4 * d
    return {"layers": f.int("n_layer"), "d_model": d, "heads": h, "kv_heads": h, "head_dim": d // h,
            "ffn_dim": inner, "ffn_kind": "gelu", "vocab_size": f.int("vocab_size"),
            "max_positions": f.int("n_positions"), "bias": True, "norm": "layernorm", "causal": True,
            "learned_positions": True, "tied_embeddings": f.bool("tie_word_embeddings")}


def _bert(f: _Fields) -> dict[str, object]:
    kind = f.raw("position_embedding_type")
    if kind != "absolute":
        raise f.refuse("position_embedding_type", kind, "only absolute position embeddings are modelled")
    if f.bool("add_cross_attention"):
        raise f.refuse("add_cross_attention", True, "cross-attention blocks are not modelled")
    d, h = f.int("hidden_size"), f.int("num_attention_heads")
    if d % h:
        raise f.refuse("num_attention_heads", h, f"it must divide hidden_size ({d})")
    return {"layers": f.int("num_hidden_layers"), "d_model": d, "heads": h, "kv_heads": h, "head_dim": d // h,
            "ffn_dim": f.int("intermediate_size"), "ffn_kind": "gelu", "vocab_size": f.int("vocab_size"),
            "max_positions": f.int("max_position_embeddings"), "bias": True, "norm": "layernorm",
            "causal": False, "learned_positions": True, "type_vocab_size": f.int("type_vocab_size", minimum=0),
            "embedding_norm": True, "final_norm": False, "pooler": True, "tied_embeddings": True}


def _no_attention_bias(f: _Fields) -> None:
    if f.has("attention_bias") and f.bool("attention_bias"):
        raise f.refuse("attention_bias", True, f"{SUPPORTED_FAMILIES[f.family]} then has biases on the "
                       "attention projections but not on the FFN, which a ModelSpec does not state")


def _decoder(f: _Fields, sliding_rule: str) -> dict[str, object]:
    """Llama-style decoder (gated FFN, RMSNorm, rotary positions): the fields every such family shares."""
    h, g, head_dim = _heads(f)
    out = _common(f)
    window, sliding_layers = _sliding(f, out["layers"], sliding_rule)
    out.update(heads=h, kv_heads=g, head_dim=head_dim, ffn_kind="gated", bias=False, norm="rmsnorm",
               causal=True, sliding_window=window, sliding_layers=sliding_layers)
    return out


def _llama(f: _Fields) -> dict[str, object]:
    out = _decoder(f, "none")
    attn_bias, mlp_bias = f.bool("attention_bias"), f.bool("mlp_bias")
    if attn_bias and mlp_bias:  # one flag for every linear layer, as for GPT-2
        out.update(ffn_dim=f.int("intermediate_size"), bias=True)
    else:  # LlamaAttention: attention_bias on q, k, v and o; LlamaMLP: mlp_bias on gate, up and down
        out.update(ffn_dim=f.int("intermediate_size"), bias=False, qkv_bias=attn_bias, out_bias=attn_bias,
                   mlp_bias=mlp_bias)
    return out


def _mistral(f: _Fields) -> dict[str, object]:
    return {**_decoder(f, "all"), "ffn_dim": f.int("intermediate_size")}


def _mixtral(f: _Fields) -> dict[str, object]:
    return {**_decoder(f, "all"), "ffn_dim": f.int("intermediate_size"), "experts": f.int("num_local_experts"),
            "active_experts": f.int("num_experts_per_tok")}


def _phi3(f: _Fields) -> dict[str, object]:
    return {**_decoder(f, "all"), "ffn_dim": f.int("intermediate_size")}


def _qwen2(f: _Fields) -> dict[str, object]:
    return {**_decoder(f, "qwen"), "ffn_dim": f.int("intermediate_size"), "qkv_bias": True}


def _qwen_moe(f: _Fields, out: dict[str, object]) -> dict[str, object]:
    dense = _moe_dense_prefix(f, out["layers"])
    out.update(ffn_dim=f.int("moe_intermediate_size"), experts=f.int("num_experts"),
               active_experts=f.int("num_experts_per_tok"), dense_layers=dense,
               dense_ffn_dim=f.int("intermediate_size") if dense else 0)
    return out


def _qwen2_moe(f: _Fields) -> dict[str, object]:
    out = _qwen_moe(f, {**_decoder(f, "qwen"), "qkv_bias": f.bool("qkv_bias")})
    shared = f.int("shared_expert_intermediate_size")
    out.update(shared_ffn_dim=shared, shared_expert_gate=True)
    return out


def _qwen3(f: _Fields) -> dict[str, object]:
    _no_attention_bias(f)
    return {**_decoder(f, "qwen"), "ffn_dim": f.int("intermediate_size"), "qk_norm": True}


def _qwen3_moe(f: _Fields) -> dict[str, object]:
    _no_attention_bias(f)
    return _qwen_moe(f, {**_decoder(f, "qwen"), "qk_norm": True})


def _gemma(f: _Fields) -> dict[str, object]:
    _no_attention_bias(f)
    return {**_decoder(f, "none"), "ffn_dim": f.int("intermediate_size")}


def _gemma2(f: _Fields) -> dict[str, object]:
    _no_attention_bias(f)
    return {**_decoder(f, "alternate"), "ffn_dim": f.int("intermediate_size"), "norms_per_block": 4}


def _gemma3_text(f: _Fields) -> dict[str, object]:
    _no_attention_bias(f)
    return {**_decoder(f, "pattern"), "ffn_dim": f.int("intermediate_size"), "norms_per_block": 4,
            "qk_norm": True}


def _deepseek(f: _Fields) -> dict[str, object]:
    if f.bool("attention_bias"):
        raise f.refuse("attention_bias", True, "biases on multi-head latent attention are not modelled")
    if f.family == "deepseek_v2" and f.bool("mlp_bias"):
        raise f.refuse("mlp_bias", True, "FFN biases of DeepSeek-V2 are not modelled")
    freq = f.int("moe_layer_freq")
    if freq != 1:
        raise f.refuse("moe_layer_freq", freq, "transformers makes every layer after first_k_dense_replace a MoE "
                       "layer; only moe_layer_freq = 1 describes that")
    out = _common(f)
    h = f.int("num_attention_heads")
    out.update(heads=h, kv_heads=1, head_dim=f.int("qk_nope_head_dim"), v_head_dim=f.int("v_head_dim"),
               rope_head_dim=f.int("qk_rope_head_dim"), kv_lora_rank=f.int("kv_lora_rank"),
               q_lora_rank=f.int("q_lora_rank", allow_none=True) or 0, ffn_kind="gated", bias=False,
               norm="rmsnorm", causal=True)
    routed = f.int("n_routed_experts", allow_none=True) if f.has("n_routed_experts") else None
    if not routed:
        out["ffn_dim"] = f.int("intermediate_size")
        return out
    width = f.int("moe_intermediate_size")
    dense = min(f.int("first_k_dense_replace", minimum=0), out["layers"])
    shared = f.int("n_shared_experts", minimum=0, allow_none=True) or 0
    out.update(ffn_dim=width, experts=routed, active_experts=f.int("num_experts_per_tok"),
               shared_ffn_dim=shared * width, dense_layers=dense,
               dense_ffn_dim=f.int("intermediate_size") if dense else 0)
    return out


def _gpt_oss(f: _Fields) -> dict[str, object]:
    if not f.bool("attention_bias"):
        raise f.refuse("attention_bias", False, "gpt-oss experts and router always carry biases; attention "
                       "without them is not modelled")
    out = _decoder(f, "alternate")
    out.update(ffn_dim=f.int("intermediate_size"), bias=True, attention_sinks=True,
               experts=f.int("num_local_experts"), active_experts=f.int("num_experts_per_tok"))
    return out


_READERS: dict[str, Callable[[_Fields], dict[str, object]]] = {
    "gpt2": _gpt2, "bert": _bert, "llama": _llama, "mistral": _mistral, "mixtral": _mixtral,
    "qwen2": _qwen2, "qwen2_moe": _qwen2_moe, "qwen3": _qwen3, "qwen3_moe": _qwen3_moe, "gemma": _gemma,
    "gemma2": _gemma2, "gemma3_text": _gemma3_text, "phi3": _phi3, "deepseek_v2": _deepseek,
    "deepseek_v3": _deepseek, "gpt_oss": _gpt_oss,
}
