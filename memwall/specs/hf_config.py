"""Models from a Hugging Face ``config.json`` (offline): :func:`load_config` and :func:`resolve_model`.

:func:`load_config` reads a model's published ``config.json`` (a file, or a folder holding one) and returns
the :class:`~memwall.specs.model_spec.ModelSpec` whose :func:`~memwall.specs.model_spec.parameter_count`
equals the parameter count of the model class Hugging Face ``transformers`` builds from that file
(``sum(p.numel() for p in model.parameters())``): ``tools/hf_param_counts.py`` counts the stored test
configurations with ``transformers`` on PyTorch's meta device and ``tests/test_hf_config.py`` holds every
family to zero difference. :func:`resolve_model` turns what a user types (a preset name, a path, or a Hub
id already in the local Hugging Face cache) into a spec. Nothing is downloaded, ever.

Families (the ``model_type`` of the file; :data:`SUPPORTED_FAMILIES`)
--------------------------------------------------------------------
GPT-2 (``gpt2``), BERT (``bert``, counted as ``BertModel`` with its pooler), Llama 1/2/3.x (``llama``),
Mistral (``mistral``), Mixtral (``mixtral``), Qwen2/2.5 (``qwen2``), Qwen1.5/Qwen2-MoE (``qwen2_moe``),
Qwen3 (``qwen3``), Qwen3-MoE (``qwen3_moe``), Gemma 1/2/3 (``gemma``, ``gemma2``, ``gemma3_text``, and
the multimodal ``gemma3`` whose ``text_config`` is read), Phi-3 (``phi3``), DeepSeek-V2/V2-Lite/V3
(``deepseek_v2``, ``deepseek_v3``) and gpt-oss (``gpt_oss``).

Rules
-----
* The size fields (width, layers, heads, FFN width, vocabulary, context) must be in the file: a missing
  or invalid one is a ``ValueError`` naming the file and the field.
* Fields that published files leave out because ``transformers`` supplies them take the default of that
  family's ``transformers`` configuration class, listed per family in :data:`FAMILY_DEFAULTS` (for example
  Gemma 3 27B's ``text_config`` has no ``vocab_size``: ``Gemma3TextConfig`` gives 262,208); those are the
  values Hugging Face builds the model with, so the count stays exact. Nothing else is defaulted.
* A configuration whose parameters a :class:`ModelSpec` cannot state (biases on attention but not on the
  FFN, MoE layers that are not all after the dense ones, a cross-attention GPT-2, relative-position BERT)
  is refused with a ``ValueError`` that says which field, rather than counted approximately.
* A multimodal file with a ``text_config`` (Gemma 3 4B and larger) gives its language model only, the model
  ``Gemma3ForCausalLM`` builds from ``text_config``; the vision tower and projector are not counted and the
  spec's name ends in ``(language model)``.
* DeepSeek-V3's multi-token-prediction module (``num_nextn_predict_layers``) is not part of
  ``DeepseekV3ForCausalLM`` and is not counted; its router's ``e_score_correction_bias`` is a buffer there,
  not a parameter.

Mapping onto :class:`ModelSpec`: multi-head latent attention sets ``kv_lora_rank``, ``q_lora_rank``,
``rope_head_dim`` (``qk_rope_head_dim``), ``v_head_dim``, ``head_dim = qk_nope_head_dim`` and
``kv_heads = 1``; a MoE's ``ffn_dim`` is one routed expert's width (``moe_intermediate_size``), the shared
expert's width is ``shared_ffn_dim`` (DeepSeek: ``n_shared_experts · moe_intermediate_size``) and the dense
first layers are ``dense_layers`` of ``dense_ffn_dim`` (``intermediate_size``); sliding-window attention
sets ``sliding_window`` and the number of layers that use it (``layer_types`` where the file has them,
else each family's rule as its ``transformers`` configuration class applies it: Mistral and Phi-3 apply a
set ``sliding_window`` on every layer, Phi-3-mini-4k's 2,047 tokens included; Gemma 2 and gpt-oss
alternate; Gemma 3 keeps one global layer in ``sliding_window_pattern``; Qwen2/3 only with
``use_sliding_window``, from layer ``max_window_layers`` on).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from collections.abc import Callable
from pathlib import Path

from memwall.specs.model_spec import ModelSpec
from memwall.specs.presets import get_preset

__all__ = ["EXAMPLE_CONFIG", "FAMILY_DEFAULTS", "SUPPORTED_FAMILIES", "find_in_hf_cache", "hf_hub_cache", "load_config",
           "resolve_model"]

#: The example ``config.json`` in the data folder (Qwen3-4B's published file,
#: https://huggingface.co/Qwen/Qwen3-4B/blob/main/config.json): the chapter "Bring your own model" and
#: ``memwall validate`` read it.
EXAMPLE_CONFIG = "example_config_qwen3-4b.json"

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

_HUB_URL = "https://huggingface.co/{}/blob/main/config.json"
_DOWNLOAD_URL = "https://huggingface.co/{}/resolve/main/config.json"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")
_MISSING = object()


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


def _read_json(file: Path) -> dict:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{file}: not valid JSON ({err})") from None
    except OSError as err:
        raise ValueError(f"{file}: cannot be read ({err.strerror})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{file}: a config.json holds a JSON object, got {type(data).__name__}")
    return data


def _config_file(path: str | Path) -> Path:
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / "config.json"
    if not p.is_file():
        raise ValueError(f"{p}: no such file (expected a Hugging Face config.json, or a folder holding one)")
    return p


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
    if attn_bias != mlp_bias:
        raise f.refuse("attention_bias", attn_bias, f"with mlp_bias={mlp_bias} only part of the linear layers "
                       "carry biases, which a ModelSpec does not state")
    out.update(ffn_dim=f.int("intermediate_size"), bias=attn_bias)
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


def _unsupported(file: Path, model_type: object, where: str = "model_type") -> ValueError:
    return ValueError(f"{file}: {where} {model_type!r} is not supported; supported families (model_type): "
                      + ", ".join(f"{k} = {v}" for k, v in SUPPORTED_FAMILIES.items()))


def load_config(path: str | Path, *, name: str | None = None, source_url: str | None = None) -> ModelSpec:
    """The :class:`ModelSpec` of a Hugging Face ``config.json``, read offline.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``config.json`` file, or a folder holding one (a downloaded model, a Hub cache snapshot).
    name : str, optional
        Display name, used as given; default the folder's name (the file's stem when it is not
        ``config.json``), followed by `` (language model)`` for a multimodal file.
    source_url : str, optional
        Where the file was published (e.g. ``https://huggingface.co/<org>/<repo>/blob/main/config.json``);
        default the file's own ``file://`` URI.

    Returns
    -------
    ModelSpec
        The architecture, with ``parameter_count`` equal to the parameters of the ``transformers`` model
        class the file describes [parameters] (the module docstring lists the classes and the rules).

    Raises
    ------
    ValueError
        If the file does not exist or is not a JSON object; if its ``model_type`` is missing or not a
        supported family (the message names the model_type, the file and every supported family); if a
        needed field is missing or invalid, or has a value whose parameters a ModelSpec cannot state (the
        message names the file and the field).

    References
    ----------
    .. [1] Hugging Face, ``transformers`` configuration classes and their defaults,
       https://huggingface.co/docs/transformers/main_classes/configuration.
    .. [2] Each model's ``config.json``, ``https://huggingface.co/<org>/<repo>/blob/main/config.json``
       (the stored copies and their URLs: ``tests/data/hf_configs/SOURCES.md``).

    Examples
    --------
    Mistral-7B-v0.1's published configuration (the size fields of
    https://huggingface.co/mistralai/Mistral-7B-v0.1/blob/main/config.json), 4,096-token sliding window on
    all 32 layers, 7,241,732,096 parameters as ``MistralForCausalLM`` holds them:

    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from memwall.specs import parameter_count
    >>> from memwall.specs.hf_config import load_config
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = Path(tmp.name) / "Mistral-7B-v0.1"
    >>> folder.mkdir()
    >>> _ = (folder / "config.json").write_text(json.dumps({
    ...     "model_type": "mistral", "hidden_size": 4096, "intermediate_size": 14336,
    ...     "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
    ...     "vocab_size": 32000, "max_position_embeddings": 32768, "sliding_window": 4096,
    ...     "tie_word_embeddings": False}))
    >>> spec = load_config(folder)
    >>> spec.name, spec.kv_heads, spec.head_dim, spec.sliding_window, spec.sliding_layers
    ('Mistral-7B-v0.1', 8, 128, 4096, 32)
    >>> parameter_count(spec)
    7241732096
    >>> tmp.cleanup()
    """
    file = _config_file(path)
    data = _read_json(file)
    prefix, suffix = "", ""
    model_type = data.get("model_type")
    if model_type is None:
        raise ValueError(f"{file}: field 'model_type' is missing (it names the model family)")
    if model_type in _MULTIMODAL:
        text = data.get("text_config")
        if not isinstance(text, dict):
            raise ValueError(f"{file}: field 'text_config' is missing or not an object (a multimodal "
                             f"{model_type!r} file describes its language model there)")
        data, prefix, suffix = text, "text_config.", " (language model)"
        model_type = data.get("model_type", _MULTIMODAL[model_type])
    if model_type not in _READERS:
        raise _unsupported(file, model_type, f"{prefix}model_type")
    fields = _Fields(data, file, model_type, prefix)
    values = _READERS[model_type](fields)
    default_name = file.parent.name if file.name == "config.json" else file.stem
    values["name"] = name or default_name + suffix
    values["source_url"] = source_url or file.resolve().as_uri()
    try:
        return ModelSpec(**values)
    except ValueError as err:
        raise ValueError(f"{file}: {err}") from None


def hf_hub_cache() -> Path:
    """Folder of the local Hugging Face Hub cache, as ``huggingface_hub`` finds it.

    Returns
    -------
    pathlib.Path
        ``$HF_HUB_CACHE``, else ``$HUGGINGFACE_HUB_CACHE``, else ``$HF_HOME/hub``, else
        ``$XDG_CACHE_HOME/huggingface/hub``, else ``~/.cache/huggingface/hub`` (the order of
        ``huggingface_hub.constants``; https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables).
    """
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(xdg).expanduser() / "huggingface" / "hub"


def find_in_hf_cache(repo_id: str) -> Path | None:
    """The cached ``config.json`` of a Hub model, if it was ever downloaded; never the network.

    Parameters
    ----------
    repo_id : str
        ``<org>/<name>``, e.g. ``Qwen/Qwen3-4B``.

    Returns
    -------
    pathlib.Path or None
        ``<cache>/models--<org>--<name>/snapshots/<commit>/config.json`` for the commit ``refs/main``
        names, else the most recently modified snapshot holding a ``config.json``; ``None`` if none
        (the cache layout: https://huggingface.co/docs/huggingface_hub/guides/manage-cache).
    """
    repo = hf_hub_cache() / ("models--" + repo_id.replace("/", "--"))
    snapshots = repo / "snapshots"
    ref = repo / "refs" / "main"
    if ref.is_file():
        candidate = snapshots / ref.read_text(encoding="utf-8").strip() / "config.json"
        if candidate.is_file():
            return candidate
    found = [p for p in snapshots.glob("*/config.json") if p.is_file()] if snapshots.is_dir() else []
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def resolve_model(text: str | ModelSpec) -> ModelSpec:
    """A model from what a user types: a preset name, a config path, or a Hub id in the local cache.

    Parameters
    ----------
    text : str or ModelSpec
        A :func:`~memwall.specs.presets.get_preset` name (``llama-3-8b``); a path to a ``config.json`` or
        to a folder holding one; or a Hugging Face Hub id (``Qwen/Qwen3-4B``) whose ``config.json`` is in
        the local cache (:func:`hf_hub_cache`). A ModelSpec is returned as is.

    Returns
    -------
    ModelSpec
        From a Hub id: named by the id (plus `` (language model)`` for a multimodal file), ``source_url``
        the file's Hub address.

    Raises
    ------
    ValueError
        For a Hub id not in the cache: the message gives the URL of the file to download
        (``https://huggingface.co/<id>/resolve/main/config.json``) and says to pass it with ``--model PATH``;
        for anything else that is neither a preset nor a path: the message lists the presets. Errors of
        :func:`load_config` pass through.
    """
    if isinstance(text, ModelSpec):
        return text
    raw = str(text).strip()
    p = Path(raw).expanduser()
    if p.is_file() or (p.is_dir() and (p / "config.json").is_file()) or raw.endswith(".json"):
        return load_config(p)
    try:
        return get_preset(raw)
    except ValueError as err:
        preset_error = err
    if p.is_dir():  # an existing folder wins over a Hub id of the same spelling ("tests/data")
        raise ValueError(f"{p}: folder holds no config.json (a local folder of this name is read as a path, "
                         "not as a Hub id)") from None
    if _HUB_ID.match(raw):
        found = find_in_hf_cache(raw)
        if found is not None:
            spec = load_config(found, source_url=_HUB_URL.format(raw))
            # the default name is the snapshot folder (a commit hash) plus any " (language model)"
            return dataclasses.replace(spec, name=raw + spec.name.removeprefix(found.parent.name))
        raise ValueError(
            f"{raw!r} is not a preset and its config.json is not in the local Hugging Face cache "
            f"({hf_hub_cache()}); memwall never downloads: fetch {_DOWNLOAD_URL.format(raw)} and pass it with "
            "--model PATH") from None
    raise ValueError(f"{preset_error}; or give a path to a Hugging Face config.json, or a Hub id "
                     "(<org>/<name>) in the local Hugging Face cache") from None
