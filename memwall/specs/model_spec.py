"""Transformer architecture specification: :class:`ModelSpec` and its parameter counts.

A :class:`ModelSpec` holds the hyperparameters that decide how much a Transformer computes and moves:
layer count, widths, attention and KV heads (multi-head, grouped-query or multi-query attention), an
explicit head size, FFN width and kind, and mixture-of-experts routing. The named presets built from
published configurations, each with the URL it was read from, are in :mod:`memwall.specs.presets`.

Parameter counts follow the Hugging Face implementations of each family (``BertModel``,
``GPT2Model``, ``LlamaForCausalLM``, ``MistralForCausalLM``, ``MixtralForCausalLM``), so that
:func:`parameter_count` reproduces the numbers those classes report; ``tests/test_specs.py`` checks
each preset against its published count.

DeepSeek-V2 and DeepSeek-V3 are not described by a :class:`ModelSpec`. Their multi-head latent attention
(MLA) projects queries and keys through low-rank bottlenecks (``q_lora_rank`` 1536, ``kv_lora_rank`` 512
for V3) and splits each head into a rotary part (64) and a non-rotary part (128); the KV cache holds the
512-wide latent plus the 64-wide rotary key, not per-head K and V. None of that fits the
``heads``/``kv_heads``/``head_dim`` fields below without misstating either the parameter count or the
KV-cache bytes. MLA is an attention kind of :class:`memwall.specs.attention.AttentionShape` (presets in
:data:`memwall.specs.attention.MLA_PRESETS`, cache size by
:func:`memwall.specs.attention.kv_bytes_per_token`), and the expert split with shared experts and first
dense layers is :class:`memwall.specs.moe.MoESpec` (presets in :data:`memwall.specs.moe.MOE_PRESETS`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["FFN_KINDS", "NORM_KINDS", "ModelSpec", "non_embedding_parameter_count", "parameter_count"]



#: FFN kinds: ``"gelu"`` = up (d→f), activation, down (f→d); ``"gated"`` = SwiGLU-style gate and up
#: (both d→f), SiLU(gate)·up, down (f→d) (Shazeer 2020, arXiv 2002.05202).
FFN_KINDS = ("gelu", "gated")
#: Normalisation kinds: LayerNorm (scale and shift, Ba et al. 2016) or RMSNorm (scale only,
#: Zhang & Sennrich 2019).
NORM_KINDS = ("layernorm", "rmsnorm")

_INT_FIELDS = (
    "layers", "d_model", "heads", "kv_heads", "head_dim", "ffn_dim", "vocab_size", "max_positions",
    "experts", "active_experts",
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
        Whether the attention and FFN linear layers carry biases (BERT, GPT-2) or not (Llama family).
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
    source_url: str = ""

    def __post_init__(self) -> None:
        for name in _INT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
            if value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(self.type_vocab_size, bool) or not isinstance(self.type_vocab_size, int) \
                or self.type_vocab_size < 0:
            raise ValueError(f"type_vocab_size must be a non-negative integer, got {self.type_vocab_size!r}")
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
        for name in ("bias", "causal", "learned_positions", "embedding_norm", "final_norm", "pooler",
                     "tied_embeddings"):
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
    def ffn_matrices(self) -> int:
        """Weight matrices per FFN (per expert): 2 for ``"gelu"``, 3 for ``"gated"``."""
        return 3 if self.ffn_kind == "gated" else 2

    def to_dict(self) -> dict[str, object]:
        """Fields as a plain ``dict`` (for tables and JSON)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _block_parameters(spec: ModelSpec) -> int:
    """Parameters of one Transformer block (attention + FFN + two norms). [parameters]"""
    d, b = spec.d_model, int(spec.bias)
    attn = d * spec.q_dim + 2 * d * spec.kv_dim + spec.q_dim * d
    attn += b * (spec.q_dim + 2 * spec.kv_dim + d)
    up = (spec.ffn_matrices - 1) * (d * spec.ffn_dim + b * spec.ffn_dim)
    down = spec.ffn_dim * d + b * d
    ffn = spec.experts * (up + down)
    router = d * spec.experts if spec.experts > 1 else 0
    norm_params = 2 * d if spec.norm == "layernorm" else d
    return attn + ffn + router + 2 * norm_params


def parameter_count(spec: ModelSpec, include_embeddings: bool = True) -> int:
    """Total parameters of a model as its reference implementation stores them.

    Parameters
    ----------
    spec : ModelSpec
        Architecture.
    include_embeddings : bool
        Count token, position and segment embeddings and an untied LM head. With ``False`` this is
        the "non-embedding" count N of Kaplan et al. 2020 (arXiv 2001.08361, §2.1), which still
        includes the norms, BERT's pooler and MoE routers.

    Returns
    -------
    int
        Parameter count. [parameters]

    Notes
    -----
    Per block: ``d·(h·d_h) + 2·d·(g·d_h) + (h·d_h)·d`` attention weights, ``E·m·d·f`` FFN weights
    (``m`` = 2 or 3 matrices, ``E`` experts), ``d·E`` router weights when ``E > 1``, biases when
    ``spec.bias``, and two norms of ``2d`` (LayerNorm) or ``d`` (RMSNorm) parameters. A tied LM head
    adds nothing. Matches ``sum(p.numel() for p in model.parameters())`` of the Hugging Face classes
    named in the module docstring.

    References
    ----------
    .. [1] J. Kaplan et al., "Scaling Laws for Neural Language Models", arXiv 2001.08361, 2020, §2.1
       (non-embedding parameter count N).
    .. [2] A. Radford et al., "Language Models are Unsupervised Multitask Learners", OpenAI, 2019 (Table 2);
       model card https://huggingface.co/openai-community/gpt2 (124M parameters).

    Examples
    --------
    GPT-2 124M [2]_ by hand: a block has ``4·768² + 4·768`` attention, ``2·768·3072 + 3072 + 768`` FFN and
    ``2·2·768`` LayerNorm parameters, 7,087,872; 12 blocks plus the final LayerNorm (1,536) give
    N = 85,056,000 [1]_; the token (50257·768) and position (1024·768) embeddings bring it to 124,439,808.
    BERT-Base and Llama-3-8B give the counts their Hugging Face checkpoints report:

    >>> from memwall.specs.model_spec import parameter_count
    >>> from memwall.specs.presets import get_preset
    >>> parameter_count(get_preset("gpt2")), parameter_count(get_preset("gpt2"), include_embeddings=False)
    (124439808, 85056000)
    >>> parameter_count(get_preset("bert-base")), parameter_count(get_preset("llama-3-8b"))
    (109482240, 8030261248)
    """
    d = spec.d_model
    n = spec.layers * _block_parameters(spec)
    norm_params = 2 * d if spec.norm == "layernorm" else d
    if spec.final_norm:
        n += norm_params
    if spec.embedding_norm:
        n += norm_params
    if spec.pooler:
        n += d * d + d
    if include_embeddings:
        n += spec.vocab_size * d
        n += spec.type_vocab_size * d
        if spec.learned_positions:
            n += spec.max_positions * d
        if not spec.tied_embeddings:
            n += spec.vocab_size * d
    return n


def non_embedding_parameter_count(spec: ModelSpec) -> int:
    """``parameter_count(spec, include_embeddings=False)``. [parameters]"""
    return parameter_count(spec, include_embeddings=False)
