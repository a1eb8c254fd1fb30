"""Model descriptions: dense specs and presets, attention variants (the KV-bytes formula), MoE specs.

Modules
-------
``model_spec``
    Transformer architecture specifications and published presets.
``presets``
    Named model presets (GPT-2, BERT, Llama, ...) built from their published ``config.json``, and ``decoder_spec``.
``attention``
    Attention variants in the cost model: MHA, GQA, MQA and multi-head latent attention (MLA).
``moe``
    Mixture-of-experts model descriptions: :class:`MoESpec` and the MoE presets (Mixtral, DeepSeek, Qwen).
"""

from memwall.specs import attention, model_spec, moe, presets
from memwall.specs.attention import *
from memwall.specs.model_spec import *
from memwall.specs.moe import *
from memwall.specs.presets import *

__all__ = [
    "ATTENTION_KINDS",
    "FFN_KINDS",
    "MLA_FORMS",
    "MLA_PRESETS",
    "MOE_PRESETS",
    "NORM_KINDS",
    "AttentionShape",
    "MoESpec",
    "ModelSpec",
    "decoder_spec",
    "from_model_spec",
    "get_attention",
    "get_moe",
    "get_preset",
    "kv_bytes_per_token",
    "kv_elements_per_token",
    "list_presets",
    "non_embedding_parameter_count",
    "parameter_count",
    "variants_of",
    "with_heads",
]
