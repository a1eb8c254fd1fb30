"""Transformer architecture specification: :class:`ModelSpec` (parameter counts: :mod:`memwall.specs.parameter_counts`).

A :class:`ModelSpec` holds the hyperparameters that decide how much a Transformer computes and moves:
layer count, widths, attention and KV heads (multi-head, grouped-query or multi-query attention), an
explicit head size, FFN width and kind, and mixture-of-experts routing. The named presets built from
published configurations, each with the URL it was read from, are in :mod:`memwall.specs.presets`.

Parameter counts follow the Hugging Face implementations of each family (``BertModel``,
``GPT2LMHeadModel``, ``LlamaForCausalLM``, ``MistralForCausalLM``, ``MixtralForCausalLM``,
``Qwen2ForCausalLM``, ``Qwen2MoeForCausalLM``, ``Qwen3ForCausalLM``, ``Qwen3MoeForCausalLM``, the Gemma 1/2/3
classes, ``Phi3ForCausalLM``, ``DeepseekV2ForCausalLM``, ``DeepseekV3ForCausalLM``, ``GptOssForCausalLM``),
so that :func:`parameter_count` reproduces the numbers those classes report: ``tests/test_specs.py`` checks
each preset against its published count, and ``tests/test_hf_config.py`` checks the spec
:func:`memwall.specs.hf_config.load_config` reads from each family's ``config.json`` against the count of
the Hugging Face class built from that file, at zero tolerance.

Multi-head latent attention (DeepSeek-V2/V3, arXiv 2405.04434, §2.1) is described by ``kv_lora_rank``
(the cached latent ``d_c``), ``q_lora_rank`` (the query bottleneck, 0 for V2-Lite), ``rope_head_dim`` (the
decoupled rotary key ``d_h^R``) and ``v_head_dim``; ``head_dim`` is then the non-rotary query/key part and
``kv_heads`` is 1 (one latent shared by all heads). DeepSeekMoE's shared experts and first dense layers are
``shared_ffn_dim``, ``dense_layers`` and ``dense_ffn_dim``. The same models also have the separate
descriptions :data:`memwall.specs.attention.MLA_PRESETS` and :data:`memwall.specs.moe.MOE_PRESETS`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from memwall._checks import MAX_EXACT_INT as _MAX_SIZE
from memwall._checks import _show

__all__ = ["FFN_KINDS", "NORM_KINDS", "ModelSpec", "non_embedding_parameter_count", "parameter_count"]



#: FFN kinds: ``"gelu"`` = up (d→f), activation, down (f→d); ``"gated"`` = SwiGLU-style gate and up
#: (both d→f), SiLU(gate)·up, down (f→d) (Shazeer 2020, arXiv 2002.05202); Gemma's GeGLU (GELU(gate)·up)
#: has the same matrices and is ``"gated"`` too.
FFN_KINDS = ("gelu", "gated")
#: Normalisation kinds: LayerNorm (scale and shift, Ba et al. 2016) or RMSNorm (scale only,
#: Zhang & Sennrich 2019).
NORM_KINDS = ("layernorm", "rmsnorm")

_INT_FIELDS = (
    "layers", "d_model", "heads", "kv_heads", "head_dim", "ffn_dim", "vocab_size", "max_positions",
    "experts", "active_experts", "norms_per_block",
)
#: Integer fields where 0 means "absent" (no window, no MLA, no shared expert, no dense layers).
_COUNT_FIELDS = (
    "type_vocab_size", "sliding_window", "sliding_layers", "q_lora_rank", "kv_lora_rank", "rope_head_dim",
    "v_head_dim", "shared_ffn_dim", "dense_layers", "dense_ffn_dim",
)
_BOOL_FIELDS = (
    "bias", "causal", "learned_positions", "embedding_norm", "final_norm", "pooler", "tied_embeddings",
    "qkv_bias", "out_bias", "mlp_bias", "qk_norm", "attention_sinks", "shared_expert_gate",
)


@dataclass(frozen=True)
class ModelSpec:
    """Hyperparameters of a decoder-only or encoder-only Transformer.

    Parameters
    ----------
    name : str
        Display name.
    layers : int
        Transformer blocks. [blocks]
    d_model : int
        Residual-stream width. [elements]
    heads : int
        Query heads per block. [heads]
    kv_heads : int
        Key/value heads per block: ``heads`` for multi-head attention, fewer for grouped-query
        attention, 1 for multi-query attention; must divide ``heads``. [heads]
    head_dim : int
        Size of one head, not assumed equal to ``d_model / heads``. [elements]
    ffn_dim : int
        Hidden width of one FFN (of one expert for MoE). [elements]
    ffn_kind : {"gelu", "gated"}
        Two-matrix FFN with an elementwise activation, or three-matrix gated FFN (SwiGLU).
    vocab_size : int
        Token vocabulary. [tokens]
    max_positions : int
        Longest sequence the published model was trained for. [tokens]
    bias : bool
        Whether the attention and FFN linear layers carry biases (BERT, GPT-2, gpt-oss) or not (Llama
        family); in a MoE it also gives the router a bias (gpt-oss).
    norm : {"layernorm", "rmsnorm"}
        Normalisation used in each block (two per block).
    causal : bool
        Decoder (causal mask, autoregressive generation) or encoder (bidirectional).
    experts : int
        FFN experts per block; 1 for a dense model. [experts]
    active_experts : int
        Experts each token is routed to (top-k); 1 for a dense model. [experts]
    learned_positions : bool
        Learned absolute position embeddings (``max_positions × d_model`` parameters) rather than
        rotary embeddings (no parameters).
    type_vocab_size : int
        BERT's segment (token-type) embeddings; 0 for models without them. [segments]
    embedding_norm : bool
        A LayerNorm right after the embeddings (BERT).
    final_norm : bool
        A normalisation after the last block (GPT-2, Llama); BERT has none.
    pooler : bool
        BERT's pooler: a ``d_model × d_model`` dense layer with bias on the first token.
    tied_embeddings : bool
        LM head shares the token-embedding matrix (GPT-2) instead of owning one (Llama 2/3).
    qkv_bias, out_bias, mlp_bias : bool
        Biases per projection, for models that put them on some linear layers only: on the query, key and
        value projections (Qwen2), on the attention output projection, on the FFN matrices (Llama's
        ``attention_bias``/``mlp_bias`` set them separately). ``bias`` puts them on all of these (and on a
        MoE router); :attr:`has_qkv_bias`, :attr:`has_out_bias`, :attr:`has_mlp_bias` say what holds.
    qk_norm : bool
        RMSNorm over each query and key head (``head_dim`` scales each; Qwen3, Gemma 3).
    norms_per_block : int
        Normalisations per block over ``d_model``: 2 (pre-attention, pre-FFN), 4 for Gemma 2/3 (pre and
        post around both). [norms]
    attention_sinks : bool
        A learned sink logit per query head and layer (gpt-oss). [parameters]
    sliding_window : int
        Keys a sliding-window layer attends to (Mistral, Gemma 2/3, gpt-oss, Phi-3); 0 = none. [tokens]
    sliding_layers : int
        Layers that use ``sliding_window``; the other ``layers - sliding_layers`` attend to the whole
        context. Positive exactly when ``sliding_window`` is. [layers]
    q_lora_rank : int
        MLA (DeepSeek-V2/V3): width of the query bottleneck; 0 = queries projected directly. [elements]
    kv_lora_rank : int
        MLA: width ``d_c`` of the cached latent; 0 = not MLA. With MLA, ``head_dim`` is the non-rotary
        query/key part (``qk_nope_head_dim``) and ``kv_heads`` is 1 (one latent shared by all heads).
        [elements]
    rope_head_dim : int
        MLA: width of the decoupled rotary key (cached, shared by all heads) and of each head's rotary
        query part (``qk_rope_head_dim``). [elements]
    v_head_dim : int
        Value head size where it differs from ``head_dim`` (MLA); 0 = ``head_dim``. [elements]
    shared_ffn_dim : int
        Width of the shared-expert FFN every token of a MoE layer runs (DeepSeek: ``n_shared_experts ·
        moe_intermediate_size``; Qwen2-MoE: ``shared_expert_intermediate_size``); 0 = none. [elements]
    shared_expert_gate : bool
        A ``d_model → 1`` sigmoid gate on the shared expert (Qwen2-MoE).
    dense_layers : int
        With ``experts > 1``: the first layers whose FFN is dense (DeepSeek ``first_k_dense_replace``).
        [layers]
    dense_ffn_dim : int
        Hidden width of those dense FFNs; 0 = ``ffn_dim``. [elements]
    source_url : str
        Where the hyperparameters were read (Hugging Face ``config.json`` or paper).

    Raises
    ------
    ValueError
        If a size is not a positive integer, ``kv_heads`` does not divide ``heads``,
        ``active_experts > experts``, or ``ffn_kind``/``norm`` is not a known kind; the message names
        the field and the value.
    """

    name: str
    layers: int
    d_model: int
    heads: int
    kv_heads: int
    head_dim: int
    ffn_dim: int
    ffn_kind: str
    vocab_size: int
    max_positions: int
    bias: bool
    norm: str
    causal: bool
    experts: int = 1
    active_experts: int = 1
    learned_positions: bool = False
    type_vocab_size: int = 0
    embedding_norm: bool = False
    final_norm: bool = True
    pooler: bool = False
    tied_embeddings: bool = False
    qkv_bias: bool = False
    out_bias: bool = False
    mlp_bias: bool = False
    qk_norm: bool = False
    norms_per_block: int = 2
    attention_sinks: bool = False
    sliding_window: int = 0
    sliding_layers: int = 0
    q_lora_rank: int = 0
    kv_lora_rank: int = 0
    rope_head_dim: int = 0
    v_head_dim: int = 0
    shared_ffn_dim: int = 0
    shared_expert_gate: bool = False
    dense_layers: int = 0
    dense_ffn_dim: int = 0
    source_url: str = ""

    def __post_init__(self) -> None:
        for name in _INT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
            if value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in _COUNT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        for name in (*_INT_FIELDS, *_COUNT_FIELDS):
            if getattr(self, name) > _MAX_SIZE:  # beyond it a float (the cost model's arithmetic) is not exact
                raise ValueError(f"{name} must be an integer at most 2**53 - 1 = {_MAX_SIZE}, got "
                                 f"{_show(getattr(self, name))}")
        if (self.sliding_window > 0) != (self.sliding_layers > 0) or self.sliding_layers > self.layers:
            raise ValueError(f"sliding_layers must be in 1..layers ({self.layers}) when sliding_window > 0 and 0 "
                             f"otherwise, got sliding_window={self.sliding_window}, "
                             f"sliding_layers={self.sliding_layers}")
        if self.kv_lora_rank and (self.kv_heads != 1 or not self.rope_head_dim):
            raise ValueError(f"an MLA model (kv_lora_rank={self.kv_lora_rank}) needs kv_heads=1 and "
                             f"rope_head_dim > 0, got kv_heads={self.kv_heads}, rope_head_dim={self.rope_head_dim}")
        if not self.kv_lora_rank and (self.q_lora_rank or self.rope_head_dim):
            raise ValueError("q_lora_rank and rope_head_dim describe MLA and need kv_lora_rank > 0")
        if self.experts == 1 and (self.shared_ffn_dim or self.dense_layers or self.shared_expert_gate):
            raise ValueError("shared_ffn_dim, shared_expert_gate and dense_layers describe a MoE and need experts > 1")
        if self.shared_expert_gate and not self.shared_ffn_dim:
            raise ValueError("shared_expert_gate needs a shared expert (shared_ffn_dim > 0)")
        if self.dense_layers >= self.layers and self.experts > 1:
            raise ValueError(f"dense_layers must be below layers ({self.layers}) for a MoE, got {self.dense_layers}")
        if self.heads % self.kv_heads:
            raise ValueError(f"kv_heads must divide heads ({self.heads}), got kv_heads={self.kv_heads}")
        if self.active_experts > self.experts:
            raise ValueError(
                f"active_experts must not exceed experts ({self.experts}), got {self.active_experts}"
            )
        if self.ffn_kind not in FFN_KINDS:
            raise ValueError(f"ffn_kind must be one of {FFN_KINDS}, got {self.ffn_kind!r}")
        if self.norm not in NORM_KINDS:
            raise ValueError(f"norm must be one of {NORM_KINDS}, got {self.norm!r}")
        for name in _BOOL_FIELDS:
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}")

    @property
    def q_dim(self) -> int:
        """Width of all query heads together, ``heads * head_dim``. [elements]"""
        return self.heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """Width of all key (or value) heads together, ``kv_heads * head_dim``. [elements]"""
        return self.kv_heads * self.head_dim

    @property
    def has_qkv_bias(self) -> bool:
        """Biases on the query, key and value projections (``bias`` or ``qkv_bias``)."""
        return self.bias or self.qkv_bias

    @property
    def has_out_bias(self) -> bool:
        """A bias on the attention output projection (``bias`` or ``out_bias``)."""
        return self.bias or self.out_bias

    @property
    def has_mlp_bias(self) -> bool:
        """Biases on the FFN (every expert's) matrices (``bias`` or ``mlp_bias``)."""
        return self.bias or self.mlp_bias

    @property
    def is_mla(self) -> bool:
        """Multi-head latent attention (``kv_lora_rank > 0``)."""
        return self.kv_lora_rank > 0

    @property
    def value_head_dim(self) -> int:
        """Value head size: ``v_head_dim`` or, when 0, ``head_dim``. [elements]"""
        return self.v_head_dim or self.head_dim

    @property
    def moe_layers(self) -> int:
        """Layers whose FFN is a mixture of experts: ``layers - dense_layers`` (0 for a dense model). [layers]"""
        return self.layers - self.dense_layers if self.experts > 1 else 0

    @property
    def ffn_matrices(self) -> int:
        """Weight matrices per FFN (per expert): 2 for ``"gelu"``, 3 for ``"gated"``."""
        return 3 if self.ffn_kind == "gated" else 2

    def to_dict(self) -> dict[str, object]:
        """Fields as a plain ``dict`` (for tables and JSON)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


# the counts live in their own module; imported last (it needs ModelSpec only for its type hints)
from memwall.specs.parameter_counts import non_embedding_parameter_count, parameter_count  # noqa: E402
