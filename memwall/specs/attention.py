r"""Attention variants in the cost model: MHA, GQA, MQA and multi-head latent attention (MLA).

What a decode step of attention reads is the KV cache, and how much work it does per byte read
depends on how many query heads share each cached element. This module puts the four variants in
one description, :class:`AttentionShape`, and gives per token and per decode step:

* :func:`kv_elements_per_token`, :func:`kv_bytes_per_token`: the cache a token leaves behind (the one
  KV-bytes formula of the package: serving, MoE and fused attention call it);
* :func:`layer_tokens`, :func:`kv_cache_elements`, :func:`kv_cache_bytes_per_sequence`: the cache of a
  whole sequence with sliding windows applied per layer (what :mod:`memwall.serving.memory` holds);
* the decode-step attention cost and its intensity limit are in :mod:`memwall.beyond.attention_cost`;
* :func:`variants_of`: MHA/GQA/MQA versions of a :class:`~memwall.specs.ModelSpec`;
* :data:`MLA_PRESETS`: DeepSeek-V2 and DeepSeek-V3 attention as published.

Variants (per layer; ``h`` query heads, ``g`` KV heads, ``d_h`` head size)
-------------------------------------------------------------------------
* **MHA** (Vaswani et al. 2017, arXiv 1706.03762): ``g = h``; a token caches ``2·h·d_h`` elements.
* **GQA** (Ainslie et al. 2023, arXiv 2305.13245): ``1 < g < h``, ``h/g`` query heads share one
  K/V head; ``2·g·d_h`` elements.
* **MQA** (Shazeer 2019, arXiv 1911.02150): ``g = 1``; ``2·d_h`` elements.
* **MLA** (DeepSeek-AI, DeepSeek-V2, arXiv 2405.04434, §2.1; DeepSeek-V3, arXiv 2412.19437,
  §2.1.1): keys and values of all heads are up-projected from one shared latent ``c_KV`` of
  ``d_c`` (``kv_lora_rank``) elements; a decoupled rotary key of ``d_h^R`` (``qk_rope_head_dim``)
  elements is shared by all heads. A token caches ``d_c + d_h^R`` elements (DeepSeek-V2, Table 1:
  ``(d_c + d_h^R)·l ≈ 9/2·d_h·l`` over ``l`` layers, with ``d_c = 4·d_h`` and ``d_h^R = d_h/2``).

The MLA decode forms
--------------------
Per head ``i`` the key of a cached token is ``[W_UK,i · c ; k^R]`` and its value ``W_UV,i · c``
(``W_UK,i``: ``d_h × d_c``, ``W_UV,i``: ``d_v × d_c``). Two ways to compute a decode step:

``"absorbed"``
    Move the up-projections to the query and output side (DeepSeek-V2 §2.1.2: "we can absorb
    W^UK into W^Q, and W^UV into W^O"): the score of head ``i`` is
    ``(W_UK,iᵀ q_i^C)·c + q_i^R·k^R`` and its output ``W_UV,i (Σ_t p_t c_t)``. Attention then runs
    in the latent space: per head and cached token ``2·(d_c + d_h^R)`` FLOPs for the score and
    ``2·d_c`` for the weighted sum, while the cached ``d_c + d_h^R`` elements are read **once for all
    heads**. It is multi-query attention with a ``d_c + d_h^R``-wide key and a ``d_c``-wide value,
    so the intensity of the attention core grows with the number of heads:
    ``h·(4·d_c + 2·d_h^R + 4) / ((d_c + d_h^R)·b_kv)`` FLOP/B for a long cache (the 4 is softmax).
    The absorption matmuls (``W_UK,iᵀ q_i`` and ``W_UV,i o_i``) cost the same weights and FLOPs per
    token whatever the cache length; they are weight matmuls and are not counted here.
``"naive"``
    Up-project the cached latents of every token to per-head keys and values at every step, on
    chip (fused, nothing written back): ``2·d_c·h·(d_h + d_v)`` extra FLOPs per cached token, the
    same bytes. More FLOPs, no fewer bytes: the intensity rises because the work is wasted.

Sliding windows
---------------
A sliding-window layer (Beltagy et al. 2020, arXiv 2004.05150; Mistral 7B, Jiang et al. 2023,
arXiv 2310.06825, §2) attends to the last ``W`` keys only, so it needs to keep only ``W`` tokens: Mistral's
"rolling buffer cache" of fixed size ``W`` stores the keys and values of position ``i`` at ``i mod W``, and
"on a sequence length of 32k tokens, this reduces the cache memory usage by 8x" (``W`` = 4096). With
``s`` of the ``l`` layers sliding (:attr:`AttentionShape.sliding_layers`; Gemma 3 alternates 5 local layers
with 1 global one, Gemma Team 2025, arXiv 2503.19786, §2), a sequence of ``T`` tokens caches
``(l - s)·T + s·min(T, W)`` token-layers; a decode step with ``n`` keys in view (the cache and the new
token) reads ``(l - s)·n + s·min(n, W)`` of them. Sliding changes nothing per token
(:func:`kv_elements_per_token` is the cache of one token in every layer), only how long it is kept.

Conventions
-----------
As in :mod:`memwall.cost`: 1 multiply-add = 2 FLOPs; softmax 4 FLOPs per score
(:data:`memwall.cost.FLOPS_PER_ELEMENT`); a decode step with ``context`` cached tokens attends to
``context + 1`` keys (the cache and the new token); scores stay on chip (FlashAttention-style, as
serving kernels run; :mod:`memwall.serving`). Bytes = the query read, the cache read, the output
written. For MHA/GQA/MQA this is exactly the ``qk_matmul``, ``softmax`` and ``sv_matmul`` rows of
:func:`memwall.cost.cost_arrays` with ``fused_attention=True`` (``tests/test_attention.py``
checks it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from memwall._checks import _check_array, _check_precision
from memwall.specs.model_spec import ModelSpec
from memwall.specs.presets import get_preset

__all__ = [
    "ATTENTION_KINDS",
    "MLA_FORMS",
    "MLA_PRESETS",
    "AttentionShape",
    "from_model_spec",
    "get_attention",
    "kv_bytes_per_token",
    "kv_cache_bytes_per_sequence",
    "kv_cache_elements",
    "kv_elements_per_token",
    "layer_tokens",
    "variants_of",
    "with_heads",
]



#: Attention kinds: multi-head, grouped-query, multi-query, multi-head latent attention.
ATTENTION_KINDS = ("mha", "gqa", "mqa", "mla")
#: Ways to compute an MLA decode step (see the module docstring).
MLA_FORMS = ("absorbed", "naive")


@dataclass(frozen=True)
class AttentionShape:
    """The attention of a decoder, as far as the KV cache and decode cost are concerned.

    Parameters
    ----------
    name : str
        Display name.
    kind : {"mha", "gqa", "mqa", "mla"}
        Variant. ``"mha"`` needs ``kv_heads == heads``, ``"mqa"`` ``kv_heads == 1``, ``"gqa"``
        ``1 < kv_heads < heads``; ``"mla"`` ignores ``kv_heads`` and needs ``kv_lora_rank``.
    layers : int
        Attention layers. [layers]
    heads : int
        Query heads per layer. [heads]
    head_dim : int
        Query/key head size; for MLA the non-rotary part ``qk_nope_head_dim``. [elements]
    kv_heads : int
        K/V heads per layer (MHA/GQA/MQA). [heads]
    v_head_dim : int, optional
        Value head size (default ``head_dim``). [elements]
    kv_lora_rank : int
        MLA: width ``d_c`` of the cached latent ``c_KV``; 0 otherwise. [elements]
    rope_dim : int
        MLA: width ``d_h^R`` of the decoupled rotary key (cached, shared by all heads) and of each
        head's rotary query part; 0 otherwise. [elements]
    source_url : str
        Where the dimensions were read.
    sliding_window : int
        Keys a sliding-window layer attends to and caches (module docstring); 0 = none. [tokens]
    sliding_layers : int
        Layers that use ``sliding_window``, the others attending to the whole context; positive exactly
        when ``sliding_window`` is, at most ``layers``. [layers]

    Raises
    ------
    ValueError
        Unknown ``kind``; a size that is not a positive integer (``kv_lora_rank``/``rope_dim`` may be
        0 outside MLA, ``sliding_window``/``sliding_layers`` 0 without windows); ``kv_heads`` inconsistent
        with ``kind`` or not dividing ``heads``; MLA without ``kv_lora_rank``; ``sliding_layers`` above
        ``layers`` or set without ``sliding_window`` (or the reverse). The message names the field and
        the value.
    """

    name: str
    kind: str
    layers: int
    heads: int
    head_dim: int
    kv_heads: int = 1
    v_head_dim: int | None = None
    kv_lora_rank: int = 0
    rope_dim: int = 0
    source_url: str = ""
    sliding_window: int = 0
    sliding_layers: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ATTENTION_KINDS:
            raise ValueError(f"kind must be one of {ATTENTION_KINDS}, got {self.kind!r}")
        if self.v_head_dim is None:
            object.__setattr__(self, "v_head_dim", self.head_dim)
        for field in ("layers", "heads", "head_dim", "kv_heads", "v_head_dim"):
            _check_int(field, getattr(self, field), 1)
        for field in ("kv_lora_rank", "rope_dim", "sliding_window", "sliding_layers"):
            _check_int(field, getattr(self, field), 0)
        if (self.sliding_window > 0) != (self.sliding_layers > 0) or self.sliding_layers > self.layers:
            raise ValueError(f"sliding_layers must be in 1..layers ({self.layers}) when sliding_window > 0 and 0 "
                             f"otherwise, got sliding_window={self.sliding_window}, "
                             f"sliding_layers={self.sliding_layers}")
        h, g = self.heads, self.kv_heads
        if self.kind == "mla":
            if self.kv_lora_rank < 1:
                raise ValueError(f"kind='mla' needs kv_lora_rank >= 1, got {self.kv_lora_rank!r}")
            return
        if self.kv_lora_rank or self.rope_dim:
            raise ValueError(f"kv_lora_rank and rope_dim are for kind='mla' only, got kind={self.kind!r}")
        if h % g:
            raise ValueError(f"kv_heads must divide heads ({h}), got kv_heads={g}")
        expected = {"mha": g == h, "mqa": g == 1, "gqa": 1 < g < h}[self.kind]
        if not expected:
            rule = {"mha": f"kv_heads == heads ({h})", "mqa": "kv_heads == 1",
                    "gqa": f"1 < kv_heads < heads ({h})"}[self.kind]
            raise ValueError(f"kind={self.kind!r} needs {rule}, got kv_heads={g}")

    @property
    def global_layers(self) -> int:
        """Layers attending to (and caching) the whole context: ``layers - sliding_layers``. [layers]"""
        return self.layers - self.sliding_layers

    @property
    def group_size(self) -> float:
        """Query heads reading each cached element: ``heads / kv_heads``; ``heads`` for MLA. [heads]"""
        return float(self.heads) if self.kind == "mla" else self.heads / self.kv_heads


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _shape(attention: AttentionShape | ModelSpec | str) -> AttentionShape:
    if isinstance(attention, AttentionShape):
        return attention
    if isinstance(attention, str):
        return get_attention(attention)
    if isinstance(attention, ModelSpec):
        return from_model_spec(attention)
    raise ValueError(f"attention must be an AttentionShape, a ModelSpec or a name, got {attention!r}")


def from_model_spec(spec: ModelSpec, kv_heads: int | None = None) -> AttentionShape:
    """The attention of a :class:`~memwall.specs.ModelSpec`, optionally with another KV-head count.

    Parameters
    ----------
    spec : ModelSpec
        Architecture (MHA, GQA, MQA or MLA; sliding windows are carried over).
    kv_heads : int, optional
        K/V heads per layer instead of the published attention (must divide ``spec.heads``). For an MLA
        spec this gives the MHA/GQA/MQA counterpart without the latent: query/key heads of
        ``head_dim + rope_head_dim`` (``qk_nope_head_dim + qk_rope_head_dim``, the key width MLA's
        up-projection produces; DeepSeek-V2, arXiv 2405.04434, §2.1.3) and values of
        ``value_head_dim``. [heads]

    Returns
    -------
    AttentionShape
        Kind ``"mla"`` for an MLA spec (``spec.kv_lora_rank > 0``) without ``kv_heads``, with
        ``head_dim`` = ``qk_nope_head_dim``, ``v_head_dim``, ``kv_lora_rank`` and ``rope_dim`` =
        ``rope_head_dim``; otherwise ``"mha"``, ``"gqa"`` or ``"mqa"`` from the KV-head count, with
        ``v_head_dim`` = ``spec.value_head_dim``.

    Raises
    ------
    ValueError
        If ``kv_heads`` is not a positive integer or does not divide ``spec.heads``.
    """
    windows = {"sliding_window": spec.sliding_window, "sliding_layers": spec.sliding_layers}
    if spec.is_mla and kv_heads is None:
        return AttentionShape(name=f"{spec.name} MLA", kind="mla", layers=spec.layers, heads=spec.heads,
                              head_dim=spec.head_dim, v_head_dim=spec.value_head_dim,
                              kv_lora_rank=spec.kv_lora_rank, rope_dim=spec.rope_head_dim,
                              source_url=spec.source_url, **windows)
    g = spec.kv_heads if kv_heads is None else kv_heads
    _check_int("kv_heads", g, 1)
    kind = "mha" if g == spec.heads else "mqa" if g == 1 else "gqa"
    return AttentionShape(name=f"{spec.name} {kind.upper()} ({g} KV heads)", kind=kind, layers=spec.layers,
                          heads=spec.heads, head_dim=spec.head_dim + spec.rope_head_dim, kv_heads=g,
                          v_head_dim=spec.value_head_dim, source_url=spec.source_url, **windows)


def variants_of(spec: ModelSpec | str) -> dict[str, AttentionShape]:
    """MHA, the published GQA (if any) and MQA versions of one model's attention.

    Parameters
    ----------
    spec : ModelSpec or str
        Architecture or preset name.

    Returns
    -------
    dict of str to AttentionShape
        Keys ``"MHA"``, ``"GQA"`` (only if the model has ``1 < kv_heads < heads``), ``"MLA"`` (only for an
        MLA model; its MHA and MQA are the counterparts of :func:`from_model_spec` with ``kv_heads``) and
        ``"MQA"``.
    """
    spec = get_preset(spec) if isinstance(spec, str) else spec
    out = {"MHA": from_model_spec(spec, spec.heads)}
    if spec.is_mla:
        out["MLA"] = from_model_spec(spec)
    elif 1 < spec.kv_heads < spec.heads:
        out["GQA"] = from_model_spec(spec)
    out["MQA"] = from_model_spec(spec, 1)
    return out


_DSV3 = "https://huggingface.co/deepseek-ai/DeepSeek-V3/blob/main/config.json"
_DSV2 = "https://huggingface.co/deepseek-ai/DeepSeek-V2/blob/main/config.json"

#: MLA as published. DeepSeek-V3 (arXiv 2412.19437, §4.2 "Model Hyper-Parameters"; config.json):
#: 61 layers, 128 heads, ``qk_nope_head_dim`` 128, ``qk_rope_head_dim`` 64, ``v_head_dim`` 128,
#: ``kv_lora_rank`` 512. DeepSeek-V2 (arXiv 2405.04434, §3.1.2; config.json): 60 layers, same
#: attention dimensions.
MLA_PRESETS: dict[str, AttentionShape] = {
    s.name: s
    for s in (
        AttentionShape("deepseek-v3 mla", "mla", layers=61, heads=128, head_dim=128, v_head_dim=128,
                       kv_lora_rank=512, rope_dim=64, source_url=_DSV3),
        AttentionShape("deepseek-v2 mla", "mla", layers=60, heads=128, head_dim=128, v_head_dim=128,
                       kv_lora_rank=512, rope_dim=64, source_url=_DSV2),
    )
}


def get_attention(name: str) -> AttentionShape:
    """An MLA preset, or the published attention of a :mod:`memwall.specs` preset.

    Parameters
    ----------
    name : str
        A key of :data:`MLA_PRESETS` (``"deepseek-v3 mla"``; ``"deepseek-v3"`` also works; case-insensitive) or a
        name accepted by :func:`memwall.specs.get_preset`.

    Returns
    -------
    AttentionShape

    Raises
    ------
    ValueError
        For an unknown name, listing the MLA presets and the model presets.
    """
    key = str(name).strip().lower()
    for cand in (key, f"{key} mla"):
        if cand in MLA_PRESETS:
            return MLA_PRESETS[cand]
    try:
        return from_model_spec(get_preset(key))
    except ValueError:
        raise ValueError(f"unknown attention {name!r}; MLA presets: {', '.join(MLA_PRESETS)}; "
                         "or a model preset (memwall.specs.list_presets())") from None


# ---------------------------------------------------------------------------------------- KV cache


def kv_elements_per_token(attention: AttentionShape | ModelSpec | str) -> int:
    """Cached elements one token leaves in all layers.

    Parameters
    ----------
    attention : AttentionShape, ModelSpec or str
        Attention (a model spec or name uses its published attention).

    Returns
    -------
    int
        MHA/GQA/MQA: ``layers · kv_heads · (head_dim + v_head_dim)`` (a key and a value per KV
        head; Pope et al. 2022, arXiv 2211.05102, §2); MLA: ``layers · (kv_lora_rank + rope_dim)``
        (DeepSeek-V2, arXiv 2405.04434, Table 1). [elements]
    """
    a = _shape(attention)
    if a.kind == "mla":
        return a.layers * (a.kv_lora_rank + a.rope_dim)
    return a.layers * a.kv_heads * (a.head_dim + a.v_head_dim)


def kv_bytes_per_token(attention: AttentionShape | ModelSpec | str, kv_bytes: ArrayLike = 2.0) -> float | np.ndarray:
    """Bytes of KV cache per token: :func:`kv_elements_per_token` times ``kv_bytes``.

    Parameters
    ----------
    attention : AttentionShape, ModelSpec or str
        Attention.
    kv_bytes : float or array_like of float
        Storage per cached element. [B/element]

    Returns
    -------
    float or numpy.ndarray
        [B/token]

    Raises
    ------
    ValueError
        If ``kv_bytes`` is not a positive finite number.

    References
    ----------
    .. [1] R. Pope et al., "Efficiently Scaling Transformer Inference", arXiv 2211.05102, 2022, §2
       (a key and a value per layer and KV head).
    .. [2] J. Ainslie et al., "GQA: Training Generalized Multi-Query Transformer Models from Multi-Head
       Checkpoints", arXiv 2305.13245, 2023.
    .. [3] DeepSeek-AI, "DeepSeek-V2: A Strong, Economical, and Efficient Mixture-of-Experts Language
       Model", arXiv 2405.04434, 2024, Table 1 (MLA caches ``(d_c + d_h^R)·l`` elements).

    Examples
    --------
    Llama-3-8B (32 layers, GQA [2]_ with 8 KV heads of 128) at 16 bits: ``2·32·8·128·2`` = 131,072 B per
    token [1]_; Llama-2-7B (MHA, 32 KV heads): ``2·32·32·128·2`` = 524,288 B; DeepSeek-V3's MLA (61 layers,
    ``d_c`` = 512, ``d_h^R`` = 64) [3]_: ``61·(512 + 64)·2`` = 70,272 B.

    >>> from memwall.specs.attention import kv_bytes_per_token
    >>> kv_bytes_per_token("llama-3-8b"), kv_bytes_per_token("llama-2-7b"), kv_bytes_per_token("deepseek-v3")
    (131072.0, 524288.0, 70272.0)
    >>> kv_bytes_per_token("llama-3-8b", [2.0, 1.0, 0.5]).tolist()  # 16, 8 and 4 bits
    [131072.0, 65536.0, 32768.0]
    """
    kb = _check_precision("kv_bytes", kv_bytes)
    out = kv_elements_per_token(attention) * kb
    return float(out) if out.ndim == 0 else out


def _layer_tokens(a: AttentionShape, tokens: np.ndarray) -> np.ndarray:
    """``(layers - s)·T + s·min(T, W)`` without argument checks (``tokens`` already an array). [token·layers]"""
    if not a.sliding_layers:
        return a.layers * tokens
    return a.global_layers * tokens + a.sliding_layers * np.minimum(tokens, a.sliding_window)


def layer_tokens(attention: AttentionShape | ModelSpec | str, tokens: ArrayLike) -> float | np.ndarray:
    """Tokens held over all layers by a sequence of ``tokens`` tokens, sliding windows applied.

    Parameters
    ----------
    attention : AttentionShape, ModelSpec or str
        Attention (a model spec or name uses its published attention and windows).
    tokens : int or array_like of int
        Tokens of the sequence (cached, or in view of a decode step). [tokens]

    Returns
    -------
    float or numpy.ndarray
        ``(layers - s)·T + s·min(T, W)`` with ``s`` = ``sliding_layers`` and ``W`` = ``sliding_window``
        (``layers·T`` without windows): each global layer keeps every token, each sliding layer the last
        ``W`` (Jiang et al. 2023, arXiv 2310.06825, §2, rolling buffer cache). [token·layers]

    Raises
    ------
    ValueError
        If ``tokens`` is negative or not an integer.

    Examples
    --------
    Gemma 3 27B (62 layers, 5 local of window 1024 to 1 global: 52 sliding) at 32,768 tokens:
    ``10·32768 + 52·1024`` = 380,928 token-layers, against ``62·32768`` = 2,031,616 without windows.

    >>> import dataclasses
    >>> from memwall.specs.attention import AttentionShape, layer_tokens
    >>> g3 = AttentionShape("gemma-3-27b", "gqa", layers=62, heads=32, head_dim=128, kv_heads=16,
    ...                     sliding_window=1024, sliding_layers=52)
    >>> layer_tokens(g3, 32768), layer_tokens(dataclasses.replace(g3, sliding_window=0, sliding_layers=0), 32768)
    (380928.0, 2031616.0)
    """
    a = _shape(attention)
    t = _check_array("tokens", tokens, integer=True, minimum=0)
    out = np.asarray(_layer_tokens(a, t), dtype=float)
    return float(out) if out.ndim == 0 else out


def kv_cache_elements(attention: AttentionShape | ModelSpec | str, tokens: ArrayLike) -> float | np.ndarray:
    """Cached elements of one sequence of ``tokens`` tokens, sliding windows applied per layer.

    Parameters
    ----------
    attention : AttentionShape, ModelSpec or str
        Attention (a model spec or name uses its published attention and windows).
    tokens : int or array_like of int
        Tokens of the sequence (context length). [tokens]

    Returns
    -------
    float or numpy.ndarray
        ``kv_elements_per_token / layers · layer_tokens(tokens)``: the elements one token leaves in one
        layer (:func:`kv_elements_per_token`, the one KV formula) times the tokens each layer keeps
        (:func:`layer_tokens`). Equal to ``kv_elements_per_token · tokens`` without windows. [elements]

    Raises
    ------
    ValueError
        If ``tokens`` is negative or not an integer.

    References
    ----------
    .. [1] A. Q. Jiang et al., "Mistral 7B", arXiv 2310.06825, 2023, §2 (sliding window 4096, rolling
       buffer cache of fixed size W); config https://huggingface.co/mistralai/Mistral-7B-v0.1/blob/main/config.json
       (32 layers, 8 KV heads, head 128, ``sliding_window`` 4096).

    Examples
    --------
    Mistral 7B [1]_ at a 32,768-token context keeps 4,096 tokens in each of its 32 layers:
    ``2·32·8·128·4096`` = 268,435,456 elements, an eighth of the 2,147,483,648 without the window.

    >>> from memwall.specs.attention import AttentionShape, kv_cache_elements
    >>> m7 = AttentionShape("mistral-7b", "gqa", layers=32, heads=32, head_dim=128, kv_heads=8,
    ...                     sliding_window=4096, sliding_layers=32)
    >>> kv_cache_elements(m7, [1, 4096, 32768]).tolist()
    [65536.0, 268435456.0, 268435456.0]
    """
    a = _shape(attention)
    t = _check_array("tokens", tokens, integer=True, minimum=0)
    out = np.asarray(kv_elements_per_token(a) // a.layers * _layer_tokens(a, t), dtype=float)
    return float(out) if out.ndim == 0 else out


def kv_cache_bytes_per_sequence(attention: AttentionShape | ModelSpec | str, tokens: ArrayLike,
                                kv_bytes: ArrayLike = 2.0) -> float | np.ndarray:
    """Bytes of the KV cache of one sequence: :func:`kv_cache_elements` times ``kv_bytes``.

    Parameters
    ----------
    attention : AttentionShape, ModelSpec or str
        Attention.
    tokens : int or array_like of int
        Tokens of the sequence. [tokens]
    kv_bytes : float or array_like of float
        Storage per cached element. [B/element]

    Returns
    -------
    float or numpy.ndarray
        Broadcast over ``tokens`` and ``kv_bytes``. [B]

    Raises
    ------
    ValueError
        If ``tokens`` is negative or not an integer, or ``kv_bytes`` not a positive finite number.
    """
    kb = _check_precision("kv_bytes", kv_bytes)
    out = np.asarray(kv_cache_elements(attention, tokens), dtype=float) * kb
    return float(out) if out.ndim == 0 else out


def with_heads(attention: AttentionShape, heads: int) -> AttentionShape:
    """The same attention with another number of query heads (MLA, MQA; GQA/MHA keep ``kv_heads``).

    Parameters
    ----------
    attention : AttentionShape
        Attention.
    heads : int
        Query heads per layer. [heads]

    Returns
    -------
    AttentionShape

    Raises
    ------
    ValueError
        As :class:`AttentionShape` (e.g. ``kv_heads`` no longer divides ``heads``).
    """
    kv = heads if attention.kind == "mha" else attention.kv_heads
    return dataclasses.replace(attention, heads=heads, kv_heads=kv, name=f"{attention.name}, {heads} heads")
