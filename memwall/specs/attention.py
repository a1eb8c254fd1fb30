r"""Attention variants in the cost model: MHA, GQA, MQA and multi-head latent attention (MLA).

What a decode step of attention reads is the KV cache, and how much work it does per byte read
depends on how many query heads share each cached element. This module puts the four variants in
one description, :class:`AttentionShape`, and gives per token and per decode step:

* :func:`kv_elements_per_token`, :func:`kv_bytes_per_token`: the cache a token leaves behind (the one
  KV-bytes formula of the package: serving, MoE and fused attention call it);
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

from memwall._checks import _check_precision
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
    "kv_elements_per_token",
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

    Raises
    ------
    ValueError
        Unknown ``kind``; a size that is not a positive integer (``kv_lora_rank``/``rope_dim`` may be
        0 outside MLA); ``kv_heads`` inconsistent with ``kind`` or not dividing ``heads``; MLA without
        ``kv_lora_rank``. The message names the field and the value.
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

    def __post_init__(self) -> None:
        if self.kind not in ATTENTION_KINDS:
            raise ValueError(f"kind must be one of {ATTENTION_KINDS}, got {self.kind!r}")
        if self.v_head_dim is None:
            object.__setattr__(self, "v_head_dim", self.head_dim)
        for field in ("layers", "heads", "head_dim", "kv_heads", "v_head_dim"):
            _check_int(field, getattr(self, field), 1)
        for field in ("kv_lora_rank", "rope_dim"):
            _check_int(field, getattr(self, field), 0)
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
        Architecture (MHA, GQA or MQA).
    kv_heads : int, optional
        K/V heads per layer instead of ``spec.kv_heads`` (must divide ``spec.heads``). [heads]

    Returns
    -------
    AttentionShape
        Kind ``"mha"``, ``"gqa"`` or ``"mqa"`` from the KV-head count.

    Raises
    ------
    ValueError
        If ``kv_heads`` does not divide ``spec.heads``.
    """
    g = spec.kv_heads if kv_heads is None else kv_heads
    _check_int("kv_heads", g, 1)
    kind = "mha" if g == spec.heads else "mqa" if g == 1 else "gqa"
    return AttentionShape(name=f"{spec.name} {kind.upper()} ({g} KV heads)", kind=kind, layers=spec.layers,
                          heads=spec.heads, head_dim=spec.head_dim, kv_heads=g, source_url=spec.source_url)


def variants_of(spec: ModelSpec | str) -> dict[str, AttentionShape]:
    """MHA, the published GQA (if any) and MQA versions of one model's attention.

    Parameters
    ----------
    spec : ModelSpec or str
        Architecture or preset name.

    Returns
    -------
    dict of str to AttentionShape
        Keys ``"MHA"``, ``"GQA"`` (only if the model has ``1 < kv_heads < heads``) and ``"MQA"``.
    """
    spec = get_preset(spec) if isinstance(spec, str) else spec
    out = {"MHA": from_model_spec(spec, spec.heads)}
    if 1 < spec.kv_heads < spec.heads:
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
