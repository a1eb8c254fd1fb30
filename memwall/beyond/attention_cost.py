"""Decode-step attention cost of MHA, GQA, MQA and MLA: FLOPs and bytes per step, and the intensity limit."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from memwall._checks import _check_array, _check_precision
from memwall.cost import FLOPS_PER_ELEMENT
from memwall.specs.attention import (
    MLA_FORMS,
    AttentionShape,
    _layer_tokens,
    _shape,
    kv_bytes_per_token,
    kv_elements_per_token,
)
from memwall.specs.model_spec import ModelSpec
from memwall.widths import BF16, ByteWidths

__all__ = ["AttentionCost", "attention_intensity_limit", "decode_attention_cost", "kv_table"]



# ------------------------------------------------------------------------------------- decode cost


class AttentionCost(NamedTuple):
    """FLOPs and bytes of the attention core of one decode step, summed over layers.

    Attributes
    ----------
    flops : float or numpy.ndarray
        QKᵀ, softmax and score·V (and, for naive MLA, the up-projection of the cache). [FLOP]
    bytes : float or numpy.ndarray
        Query read, KV cache read, output written. [B]
    intensity : float or numpy.ndarray
        ``flops / bytes``. [FLOP/B]
    """

    flops: float | np.ndarray
    bytes: float | np.ndarray
    intensity: float | np.ndarray


def _per_key_and_fixed(a: AttentionShape, kb: np.ndarray, ab: np.ndarray, form: str
                       ) -> tuple[float, np.ndarray, float, np.ndarray]:
    """Per layer and sequence: (FLOPs per attended key, bytes per attended key, fixed FLOPs, fixed bytes)."""
    h, sm = a.heads, FLOPS_PER_ELEMENT["softmax"]
    bytes_key = kv_elements_per_token(a) // a.layers * kb  # the cache one token leaves in one layer
    if a.kind != "mla":
        flops_key = h * (2.0 * a.head_dim + sm + 2.0 * a.v_head_dim)
        return flops_key, bytes_key, 0.0, h * (a.head_dim + a.v_head_dim) * ab
    r, dr = a.kv_lora_rank, a.rope_dim
    if form == "absorbed":  # queries and outputs live in the latent space (width r, plus the rotary part)
        return h * (2.0 * (r + dr) + sm + 2.0 * r), bytes_key, 0.0, h * ((r + dr) + r) * ab
    up = 2.0 * r * h * (a.head_dim + a.v_head_dim)  # decompress one cached token for all heads
    flops_key = up + h * (2.0 * (a.head_dim + dr) + sm + 2.0 * a.v_head_dim)
    return flops_key, bytes_key, 0.0, h * ((a.head_dim + dr) + a.v_head_dim) * ab


def decode_attention_cost(attention: AttentionShape | ModelSpec | str, context: ArrayLike, batch: ArrayLike = 1, *,
                          widths: ByteWidths = BF16, mla_form: str = 'absorbed') -> AttentionCost:
    """FLOPs and bytes of the attention core of one decode step, all layers, scores on chip.

    Parameters
    ----------
    attention : AttentionShape, ModelSpec or str
        Attention.
    context : int or array_like of int
        Cached tokens per sequence; the step attends to ``context + 1`` keys. [tokens]
    batch : int or array_like of int
        Sequences decoded together (each reads its own cache). [sequences]
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``BF16``). [B/element]
    mla_form : {"absorbed", "naive"}
        How MLA is computed (module docstring); ignored for MHA/GQA/MQA.

    Returns
    -------
    AttentionCost
        ``flops`` [FLOP], ``bytes`` [B], ``intensity`` [FLOP/B], broadcast over the numeric
        arguments.

    Raises
    ------
    ValueError
        ``context`` negative or not an integer, ``batch`` not a positive integer, a width not
        positive, an unknown ``mla_form``.

    Notes
    -----
    With ``n = context + 1`` keys, per layer and sequence (``h`` heads, ``g`` KV heads, ``d_h``
    key and ``d_v`` value head sizes, ``b_kv``/``b_a`` bytes):

    * MHA/GQA/MQA: FLOPs ``n·h·(2·d_h + 4 + 2·d_v)``; bytes ``n·g·(d_h + d_v)·b_kv + h·(d_h + d_v)·b_a``.
    * MLA, absorbed: FLOPs ``n·h·(2·(d_c + d_h^R) + 4 + 2·d_c)``; bytes
      ``n·(d_c + d_h^R)·b_kv + h·(2·d_c + d_h^R)·b_a``.
    * MLA, naive: FLOPs ``n·(2·d_c·h·(d_h + d_v) + h·(2·(d_h + d_h^R) + 4 + 2·d_v))``; bytes
      ``n·(d_c + d_h^R)·b_kv + h·(d_h + d_h^R + d_v)·b_a``.

    A sliding-window layer sees ``min(n, W)`` keys instead of ``n`` (:func:`memwall.specs.attention.layer_tokens`;
    Jiang et al. 2023, arXiv 2310.06825, §2), so its per-key terms stop growing at the window.

    Everything scales with ``batch`` and ``layers``, so the intensity depends on neither; for a long
    cache it tends to :func:`attention_intensity_limit`.
    """
    act_bytes, kv_bytes = widths.act, widths.kv
    if mla_form not in MLA_FORMS:
        raise ValueError(f"mla_form must be one of {MLA_FORMS}, got {mla_form!r}")
    a = _shape(attention)
    n = _check_array("context", context, integer=True, minimum=0) + 1.0
    b = _check_array("batch", batch, integer=True, minimum=1)
    kb = np.asarray(kv_bytes, dtype=float)
    ab = np.asarray(act_bytes, dtype=float)
    fk, bk, f0, b0 = _per_key_and_fixed(a, kb, ab, mla_form)
    keys = _layer_tokens(a, n)  # keys in view summed over layers: min(n, W) on sliding layers
    flops = b * (keys * fk + a.layers * f0)
    bytes_ = b * (keys * bk + a.layers * b0)
    intensity = flops / bytes_

    def out(x: np.ndarray) -> float | np.ndarray:
        x = np.asarray(x, dtype=float)
        return float(x) if x.ndim == 0 else x

    return AttentionCost(out(flops), out(bytes_), out(intensity))


def attention_intensity_limit(attention: AttentionShape | ModelSpec | str, kv_bytes: ArrayLike = 2.0, *,
                              mla_form: str = "absorbed") -> float | np.ndarray:
    """Arithmetic intensity of decode attention for a long cache: FLOPs per cached byte read.

    Parameters
    ----------
    attention : AttentionShape, ModelSpec or str
        Attention.
    kv_bytes : float or array_like of float
        Storage per cached element. [B/element]
    mla_form : {"absorbed", "naive"}
        As in :func:`decode_attention_cost`.

    Returns
    -------
    float or numpy.ndarray
        ``(h/g)·(2·d_h + 4 + 2·d_v) / ((d_h + d_v)·b_kv)`` for MHA/GQA/MQA (``2·(h/g)/b_kv`` plus the
        softmax share); ``h·(4·d_c + 2·d_h^R + 4) / ((d_c + d_h^R)·b_kv)`` for absorbed MLA. [FLOP/B]

    Raises
    ------
    ValueError
        As :func:`decode_attention_cost`.
    """
    if mla_form not in MLA_FORMS:
        raise ValueError(f"mla_form must be one of {MLA_FORMS}, got {mla_form!r}")
    kb = _check_precision("kv_bytes", kv_bytes)
    fk, bk, _, _ = _per_key_and_fixed(_shape(attention), kb, kb, mla_form)
    out = np.asarray(fk / bk, dtype=float)
    return float(out) if out.ndim == 0 else out


def kv_table(shapes: dict[str, AttentionShape], kv_bytes: float = 2.0) -> pd.DataFrame:
    """KV bytes per token and long-cache attention intensity of several attention shapes.

    Parameters
    ----------
    shapes : dict of str to AttentionShape
        Label -> attention.
    kv_bytes : float
        Storage per cached element. [B/element]

    Returns
    -------
    pandas.DataFrame
        Index ``attention``; columns ``kind``, ``layers``, ``heads``, ``kv_elements_per_token``
        [elements], ``kv_bytes_per_token`` [B], ``kv_bytes_per_token_per_layer`` [B],
        ``attention_intensity`` [FLOP/B] (:func:`attention_intensity_limit`, absorbed MLA).
    """
    rows = []
    for label, a in shapes.items():
        per_token = kv_bytes_per_token(a, kv_bytes)
        rows.append({"attention": label, "kind": a.kind, "layers": a.layers, "heads": a.heads,
                     "kv_elements_per_token": kv_elements_per_token(a), "kv_bytes_per_token": per_token,
                     "kv_bytes_per_token_per_layer": per_token / a.layers,
                     "attention_intensity": attention_intensity_limit(a, kv_bytes)})
    return pd.DataFrame(rows).set_index("attention")
