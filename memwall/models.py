"""Transformer architecture specifications and published presets.

A :class:`ModelSpec` holds the hyperparameters that decide how much a Transformer computes and moves:
layer count, widths, attention and KV heads (multi-head, grouped-query or multi-query attention), an
explicit head size, FFN width and kind, and mixture-of-experts routing. Presets carry the values of the
published configurations, each with the URL it was read from.

Parameter counts follow the Hugging Face implementations of each family (``BertModel``,
``GPT2Model``, ``LlamaForCausalLM``, ``MistralForCausalLM``, ``MixtralForCausalLM``), so that
:func:`parameter_count` reproduces the numbers those classes report; ``tests/test_models.py`` checks
each preset against its published count.

DeepSeek-V3 is deliberately absent. Its multi-head latent attention (MLA) projects queries and keys
through low-rank bottlenecks (``q_lora_rank`` 1536, ``kv_lora_rank`` 512) and splits each head into a
rotary part (64) and a non-rotary part (128) with a different value head size (128); its KV cache holds
the 512-wide latent plus the 64-wide rotary key, not per-head K and V. None of that fits the
``heads``/``kv_heads``/``head_dim`` fields below without misstating either the parameter count or the
KV-cache bytes, which are the quantities this package exists to get right. It needs its own attention
kind (and the MoE fields ``shared experts`` and ``first dense layers``), left for later.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = [
    "FFN_KINDS",
    "NORM_KINDS",
    "ModelSpec",
    "decoder_spec",
    "get_preset",
    "list_presets",
    "non_embedding_parameter_count",
    "parameter_count",
]

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
           max_positions: int, experts: int = 1, active: int = 1) -> ModelSpec:
    return ModelSpec(
        name=name, layers=layers, d_model=d, heads=heads, kv_heads=kv_heads, head_dim=d // heads,
        ffn_dim=ffn, ffn_kind="gated", vocab_size=vocab, max_positions=max_positions, bias=False,
        norm="rmsnorm", causal=True, experts=experts, active_experts=active,
        source_url=_HF.format(repo),
    )


# Hyperparameters copied from each config.json (BERT: Devlin et al. 2019, arXiv 1810.04805, Table 1
# gives L/H/A; GPT-2: Radford et al. 2019, Table 2). Mistral-7B's 4096-token sliding window is not
# modelled: attention is counted over the whole cache, as Hugging Face's eager path computes it.
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
        _llama("mistral-7b", "mistralai/Mistral-7B-v0.1", 32, 4096, 32, 8, 14336, 32000, 32768),
        _llama("mixtral-8x7b", "mistralai/Mixtral-8x7B-v0.1", 32, 4096, 32, 8, 14336, 32000, 32768,
               experts=8, active=2),
    )
}

_ALIASES = {"gpt2-124m": "gpt2", "gpt2-355m": "gpt2-medium", "gpt2-774m": "gpt2-large",
            "gpt2-1.5b": "gpt2-xl"}


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
