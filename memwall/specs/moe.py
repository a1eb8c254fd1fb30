"""Mixture-of-experts model descriptions: :class:`MoESpec` and the MoE presets (DeepSeek-V2, DeepSeek-V3).

A :class:`MoESpec` splits a decoder's parameters into what every decode step reads (attention, dense
first layers, shared experts, routers, norms, LM head), the routed experts (read only when some token
picks them) and the gathered embeddings. :meth:`MoESpec.from_model_spec` derives it from any
:class:`~memwall.specs.ModelSpec`, shared experts, dense first layers and MLA included;
:data:`MOE_PRESETS` holds DeepSeek-V2 and DeepSeek-V3 written out from their configs (the ModelSpec
presets of the same models must agree with them, ``tests/test_moe_decode.py``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from memwall.specs.attention import MLA_PRESETS, AttentionShape, from_model_spec
from memwall.specs.model_spec import ModelSpec, parameter_count
from memwall.specs.presets import get_preset

__all__ = ["MOE_PRESETS", "MoESpec", "get_moe"]




@dataclass(frozen=True)
class MoESpec:
    """Parameter split of a (mixture-of-experts or dense) decoder, for decode-step accounting.

    Parameters
    ----------
    name : str
        Display name.
    attention : AttentionShape
        Its attention (KV cache and attention-core cost).
    moe_layers : int
        Layers whose FFN is a mixture of experts (0 for a dense model). [layers]
    routed_experts : int
        Routed experts ``E`` per MoE layer. [experts]
    active_experts : int
        Routed experts per token ``k``. [experts]
    shared_experts : int
        Experts every token uses in every MoE layer (DeepSeek), same size as a routed one. A shared FFN
        that is not a whole number of routed experts is put in ``dense_params`` instead, with
        ``shared_experts = 0`` (:meth:`from_model_spec`). [experts]
    expert_params : int
        Parameters of one expert (its FFN matrices and biases). [parameters]
    dense_params : int
        Parameters read at every step whatever the routing: attention, dense FFN layers, routers,
        norms and the LM head (shared experts excluded when counted in ``shared_experts``). [parameters]
    embedding_params : int
        Gathered tables (token, position, segment embeddings), never multiplied. [parameters]
    source_url : str
        Where the configuration was read.

    Raises
    ------
    ValueError
        A count that is not a non-negative integer (``routed_experts``, ``active_experts`` and
        ``expert_params`` positive), ``active_experts > routed_experts``.
    """

    name: str
    attention: AttentionShape
    moe_layers: int
    routed_experts: int
    active_experts: int
    shared_experts: int
    expert_params: int
    dense_params: int
    embedding_params: int = 0
    source_url: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.attention, AttentionShape):
            raise ValueError(f"attention must be an AttentionShape, got {self.attention!r}")
        for field, low in (("moe_layers", 0), ("routed_experts", 1), ("active_experts", 1), ("shared_experts", 0),
                           ("expert_params", 1), ("dense_params", 0), ("embedding_params", 0)):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{field} must be an integer >= {low}, got {value!r}")
        if self.active_experts > self.routed_experts:
            raise ValueError(f"active_experts must not exceed routed_experts ({self.routed_experts}), "
                             f"got {self.active_experts}")

    @property
    def total_params(self) -> int:
        """All parameters: always-read, shared and routed experts, embeddings. [parameters]"""
        experts = self.moe_layers * (self.routed_experts + self.shared_experts) * self.expert_params
        return self.dense_params + experts + self.embedding_params

    @property
    def active_params(self) -> int:
        """Parameters each token multiplies (embeddings excluded, LM head included). [parameters]"""
        return self.dense_params + self.moe_layers * (self.active_experts + self.shared_experts) * self.expert_params

    def dense_equivalent(self) -> MoESpec:
        """A dense model of the same active size: every routed expert is used by every token.

        Returns
        -------
        MoESpec
            ``routed_experts = active_experts``, so the experts read per step are the active ones at
            any batch; same attention, same active parameters and FLOPs.
        """
        return dataclasses.replace(self, name=f"dense, {self.active_params / 1e9:.1f}B (= {self.name} active)",
                                   routed_experts=self.active_experts)

    @classmethod
    def from_model_spec(cls, spec: ModelSpec | str) -> MoESpec:
        """The parameter split of a :class:`~memwall.specs.ModelSpec` (MoE with shared experts, dense first
        layers and MLA, Mixtral-style MoE, or dense).

        Parameters
        ----------
        spec : ModelSpec or str
            Decoder architecture or preset name.

        Returns
        -------
        MoESpec
            ``attention`` = :func:`memwall.specs.attention.from_model_spec` (MLA and sliding windows
            carried over); ``moe_layers`` = ``spec.moe_layers`` (``layers - dense_layers``, 0 for a dense
            model); ``expert_params`` = one routed expert's FFN (``ffn_matrices·d·f`` plus biases);
            ``shared_experts`` = ``shared_ffn_dim / ffn_dim`` when the shared FFN is a whole number of
            routed-expert widths (DeepSeek-V3: ``n_shared_experts = 1`` of ``moe_intermediate_size`` 2048;
            Qwen1.5-MoE-A2.7B: 5632 = 4 × 1408), and 0 otherwise, the shared FFN then counted in
            ``dense_params`` (read at every step either way, so ``total_params`` and ``active_params`` do
            not depend on which). ``dense_params`` = :func:`memwall.specs.parameter_count` less the
            gathered tables and the experts: attention, dense first layers' FFNs, routers, a shared-expert
            gate, norms and an untied LM head (a tied one is the token embedding, read as the LM head).

        Raises
        ------
        ValueError
            For an encoder (no decode step).

        Notes
        -----
        Totals follow :func:`memwall.specs.parameter_count` exactly: ``total_params ==
        parameter_count(spec)`` for every spec (``tests/test_moe_decode.py``).
        """
        spec = get_preset(spec) if isinstance(spec, str) else spec
        if not spec.causal:
            raise ValueError(f"decode needs a causal (decoder) model, got encoder {spec.name!r}")
        d, f, b = spec.d_model, spec.ffn_dim, int(spec.has_mlp_bias)
        expert = spec.ffn_matrices * d * f + b * ((spec.ffn_matrices - 1) * f + d)
        moe_layers = spec.moe_layers
        shared = spec.shared_ffn_dim // f if moe_layers and spec.shared_ffn_dim % f == 0 else 0
        gathered = spec.type_vocab_size * d + (spec.max_positions * d if spec.learned_positions else 0)
        if not spec.tied_embeddings:
            gathered += spec.vocab_size * d
        dense = parameter_count(spec) - gathered - moe_layers * (spec.experts + shared) * expert
        return cls(name=spec.name, attention=from_model_spec(spec), moe_layers=moe_layers,
                   routed_experts=spec.experts, active_experts=spec.active_experts, shared_experts=shared,
                   expert_params=expert, dense_params=dense, embedding_params=gathered,
                   source_url=spec.source_url)


def _deepseek(name: str, attention: AttentionShape, d: int, layers: int, dense_layers: int, q_lora_rank: int,
              dense_ffn: int, expert_ffn: int, routed: int, active: int, shared: int, vocab: int,
              router_bias: bool, url: str) -> MoESpec:
    """Parameter split of a DeepSeek-V2/V3 model from its config.json dimensions.

    Per layer: MLA (``q_a_proj`` d×q_lora, its RMSNorm, ``q_b_proj`` q_lora×h·(d_h+d_h^R),
    ``kv_a_proj_with_mqa`` d×(d_c+d_h^R), its RMSNorm, ``kv_b_proj`` d_c×h·(d_h+d_v), ``o_proj``
    h·d_v×d) and two RMSNorms; ``dense_layers`` gated FFNs of ``dense_ffn``; the other layers hold
    ``routed + shared`` gated experts of ``expert_ffn`` and a router of ``routed × d``. V3's
    ``e_score_correction_bias`` (``routed`` values per layer) is a buffer in the Hugging Face class, not a
    parameter, so ``router_bias=False`` reproduces the class's count; the checkpoint stores those
    14,848 values beside the weights. Untied embedding and LM head, a final RMSNorm.
    Multi-token-prediction modules are not part of the main model and are left out.
    """
    a = attention
    h, r, dr = a.heads, a.kv_lora_rank, a.rope_dim
    if q_lora_rank:
        q = d * q_lora_rank + q_lora_rank + q_lora_rank * h * (a.head_dim + dr)
    else:
        q = d * h * (a.head_dim + dr)
    attn = q + d * (r + dr) + r + r * h * (a.head_dim + a.v_head_dim) + h * a.v_head_dim * d
    moe_layers = layers - dense_layers
    router = routed * d + (routed if router_bias else 0)
    dense = (layers * (attn + 2 * d) + dense_layers * 3 * d * dense_ffn + moe_layers * router
             + vocab * d + d)  # + LM head + final norm
    return MoESpec(name=name, attention=a, moe_layers=moe_layers, routed_experts=routed, active_experts=active,
                   shared_experts=shared, expert_params=3 * d * expert_ffn, dense_params=dense,
                   embedding_params=vocab * d, source_url=url)


#: DeepSeek-V3 (arXiv 2412.19437, §4.2; https://huggingface.co/deepseek-ai/DeepSeek-V3/blob/main/config.json):
#: d 7168, 61 layers of which the first 3 dense (FFN 18432), 256 routed experts (8 per token) and 1 shared
#: expert of FFN width 2048, q_lora_rank 1536, vocab 129280; 671B total, 37B activated per token.
#: DeepSeek-V2 (arXiv 2405.04434, §3.1.2; https://huggingface.co/deepseek-ai/DeepSeek-V2/blob/main/config.json):
#: d 5120, 60 layers of which the first dense (FFN 12288), 160 routed experts (6 per token) and 2 shared of
#: width 1536, q_lora_rank 1536, vocab 102400; 236B total, 21B activated.
MOE_PRESETS: dict[str, MoESpec] = {
    s.name: s
    for s in (
        _deepseek("deepseek-v3", MLA_PRESETS["deepseek-v3 mla"], d=7168, layers=61, dense_layers=3,
                  q_lora_rank=1536, dense_ffn=18432, expert_ffn=2048, routed=256, active=8, shared=1,
                  vocab=129280, router_bias=False, url="https://arxiv.org/abs/2412.19437"),
        _deepseek("deepseek-v2", MLA_PRESETS["deepseek-v2 mla"], d=5120, layers=60, dense_layers=1,
                  q_lora_rank=1536, dense_ffn=12288, expert_ffn=1536, routed=160, active=6, shared=2,
                  vocab=102400, router_bias=False, url="https://arxiv.org/abs/2405.04434"),
    )
}


def get_moe(name: str | MoESpec | ModelSpec) -> MoESpec:
    """A preset of :data:`MOE_PRESETS`, or :meth:`MoESpec.from_model_spec` of a :mod:`memwall.specs.presets` preset.

    Parameters
    ----------
    name : str, MoESpec or ModelSpec
        ``"deepseek-v3"``, ``"deepseek-v2"``, or a model preset such as ``"mixtral-8x7b"``.

    Returns
    -------
    MoESpec

    Raises
    ------
    ValueError
        For an unknown name, listing the presets.
    """
    if isinstance(name, MoESpec):
        return name
    if isinstance(name, ModelSpec):
        return MoESpec.from_model_spec(name)
    key = str(name).strip().lower()
    if key in MOE_PRESETS:
        return MOE_PRESETS[key]
    try:
        return MoESpec.from_model_spec(get_preset(key))
    except ValueError:
        raise ValueError(f"unknown model {name!r}; MoE presets: {', '.join(MOE_PRESETS)}, or a decoder of "
                         "memwall.specs.list_presets()") from None
