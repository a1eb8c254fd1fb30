r"""The description of one attention: :class:`AttentionShape` (MHA, GQA, MQA or MLA) and the published MLA shapes.

:class:`AttentionShape` holds what the KV cache and the decode cost of a decoder's attention depend on
(layers, heads, head sizes, the MLA latent, sliding windows) and checks it; :data:`MLA_PRESETS` gives
DeepSeek-V2 and DeepSeek-V3 attention as published. The functions over it (KV bytes per token, whole-sequence
caches, variants of a model) are in :mod:`memwall.specs.attention`, which re-exports these names.

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
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ATTENTION_KINDS", "MLA_FORMS", "MLA_PRESETS", "AttentionShape"]


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
        Keys a sliding-window layer attends to and caches (:mod:`memwall.specs.attention`, Sliding
        windows); 0 = none. [tokens]
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
