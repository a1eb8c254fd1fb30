r"""Attention variants in the cost model: MHA, GQA, MQA and multi-head latent attention (MLA).

What a decode step of attention reads is the KV cache, and how much work it does per byte read
depends on how many query heads share each cached element. The four variants share one description,
:class:`AttentionShape` (defined, with the variants and the two MLA decode forms, in
:mod:`memwall.specs.attention_shape` and re-exported here); this module gives per token and per decode step:

* :func:`kv_elements_per_token`, :func:`kv_bytes_per_token`: the cache a token leaves behind (the one
  KV-bytes formula of the package: serving, MoE and fused attention call it);
* :func:`layer_tokens`, :func:`kv_cache_elements`, :func:`kv_cache_bytes_per_sequence`: the cache of a
  whole sequence with sliding windows applied per layer (what :mod:`memwall.serving.memory` holds);
* the decode-step attention cost and its intensity limit are in :mod:`memwall.beyond.attention_cost`;
* :func:`variants_of`: MHA/GQA/MQA versions of a :class:`~memwall.specs.ModelSpec`;
* :data:`MLA_PRESETS`: DeepSeek-V2 and DeepSeek-V3 attention as published (from
  :mod:`memwall.specs.attention_shape`).

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

import numpy as np
from numpy.typing import ArrayLike

from memwall._checks import ArgumentTypeError, _check_array, _check_precision, finite_result
from memwall.specs.attention_shape import ATTENTION_KINDS, MLA_FORMS, MLA_PRESETS, AttentionShape, _check_int
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


def _shape(attention: AttentionShape | ModelSpec | str) -> AttentionShape:
    if isinstance(attention, AttentionShape):
        return attention
    if isinstance(attention, str):
        return get_attention(attention)
    if isinstance(attention, ModelSpec):
        return from_model_spec(attention)
    raise ArgumentTypeError(f"attention must be an AttentionShape, a ModelSpec or a name, got "
                            f"{type(attention).__name__} {attention!r:.80}")


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
        If ``kv_bytes`` is not a positive finite number (bools and strings are not numbers), or the bytes
        overflow a float.

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
    with np.errstate(over="ignore"):
        out = kv_elements_per_token(attention) * kb
    finite_result("kv_bytes_per_token", out, {"kv_bytes": kb})
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
        If ``tokens`` is negative or not an integer (at most ``2**53 - 1``), or ``kv_bytes`` not a positive finite
        number (bools and strings are not numbers), or the bytes overflow a float.
    """
    kb = _check_precision("kv_bytes", kv_bytes)
    with np.errstate(over="ignore"):
        out = np.asarray(kv_cache_elements(attention, tokens), dtype=float) * kb
    finite_result("kv_cache_bytes_per_sequence", out, {"tokens": tokens, "kv_bytes": kb})
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
