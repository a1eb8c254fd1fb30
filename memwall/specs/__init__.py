"""Model descriptions: dense specs and presets, attention variants (the KV-bytes formula), MoE specs.

Modules
-------
``model_spec``
    Transformer architecture specifications (:class:`ModelSpec`).
``parameter_counts``
    Their parameter counts, as the Hugging Face classes store them (re-exported by ``model_spec``).
``presets``
    Named model presets (GPT-2, BERT, Llama, ...) built from their published ``config.json``, and ``decoder_spec``.
``attention``
    Attention variants in the cost model: MHA, GQA, MQA and multi-head latent attention (MLA).
``attention_shape``
    :class:`AttentionShape`, the description of one attention (re-exported by ``attention``), and the published
    MLA shapes.
``moe``
    Mixture-of-experts model descriptions: :class:`MoESpec` and the MoE presets (Mixtral, DeepSeek, Qwen).
``hf_config``
    Models from a Hugging Face ``config.json``, offline: :func:`load_config` (a file or folder) and
    :func:`resolve_model` (a preset name, a path, or a Hub id in the local Hugging Face cache).
``hf_families``
    The per-family readers behind ``hf_config``: :data:`FAMILY_DEFAULTS`, :data:`SUPPORTED_FAMILIES` and
    the field mappers onto :class:`ModelSpec`.
"""

from memwall.specs import attention, attention_shape, hf_config, model_spec, moe, presets
from memwall.specs.attention import *
from memwall.specs.hf_config import *
from memwall.specs.model_spec import *
from memwall.specs.moe import *
from memwall.specs.presets import *

__all__ = [
    "ATTENTION_KINDS",
    "FAMILY_DEFAULTS",
    "FFN_KINDS",
    "MLA_FORMS",
    "MLA_PRESETS",
    "MOE_PRESETS",
    "NORM_KINDS",
    "PRESET_TITLES",
    "SUPPORTED_FAMILIES",
    "AttentionShape",
    "MoESpec",
    "ModelSpec",
    "decoder_spec",
    "display_name",
    "find_in_hf_cache",
    "from_model_spec",
    "get_attention",
    "get_moe",
    "get_preset",
    "hf_hub_cache",
    "kv_bytes_per_token",
    "kv_elements_per_token",
    "list_presets",
    "load_config",
    "non_embedding_parameter_count",
    "parameter_count",
    "resolve_model",
    "variants_of",
    "with_heads",
]
