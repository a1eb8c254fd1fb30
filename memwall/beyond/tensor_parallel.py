r"""Tensor-parallel decode across N chips: less weight traffic per chip, more all-reduce traffic.

Megatron-LM tensor parallelism (Shoeybi et al., arXiv 1909.08053, §3) splits every attention block by
heads and every FFN by its hidden dimension over ``N`` chips. Each chip then reads ``1/N`` of the
weights per decode step, but the partial outputs of the attention output projection and of the FFN
down projection must be summed across chips: **two all-reduces per layer** of the ``B × d`` activations
in the forward pass. The all-reduces sit on the critical path (the next layer needs their result).

Each all-reduce is a ring all-reduce, ``t_AR = t_0 + 2 (N - 1) ℓ + 2 (N - 1)/N · S/β`` with ``β`` the
**per-direction** link bandwidth of one chip: :func:`memwall.beyond.allreduce.ring_allreduce_time`, with
NCCL's latency constants and the link bandwidths of ``data/interconnects.csv`` in
:mod:`memwall.beyond.allreduce`.

Per chip, a decode step is bounded by the roofline of :mod:`memwall.serving` applied to its share of
each operation (:func:`tp_decode_time`). Not modelled: overlap of communication with compute,
sequence parallelism, pipeline parallelism, in-switch reductions (NVLink SHARP), all-gather of the
vocabulary-parallel logits.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from memwall._checks import _check_array, _check_precision
from memwall.beyond.allreduce import BASE_LATENCY_S, ring_allreduce_time
from memwall.cost import OpCost, cost_arrays
from memwall.roofline import Ceilings, _positive
from memwall.serving.memory import footprint
from memwall.specs.model_spec import ModelSpec
from memwall.specs.presets import decoder_spec
from memwall.widths import BF16, ByteWidths

__all__ = ["TPBound", "allreduce_bytes_per_step", "best_chip_count", "optimal_chips_closed_form", "tp_decode_time",
           "tp_sweep"]


def _spec(spec: ModelSpec | str) -> ModelSpec:
    return decoder_spec(spec, "decode")


def _out(arr: ArrayLike) -> float | np.ndarray:
    arr = np.asarray(arr, dtype=float)
    return float(arr) if arr.ndim == 0 else arr


def _chips(chips: ArrayLike) -> np.ndarray:
    return _check_array("chips", chips, integer=True, minimum=1)


# ------------------------------------------------------------------------------- all-reduces per step


def allreduce_bytes_per_step(spec: ModelSpec | str, batch: ArrayLike = 1,
                             act_bytes: ArrayLike = 2.0) -> tuple[int, float | np.ndarray]:
    """All-reduces of one tensor-parallel decode step and the bytes of each.

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder or preset name.
    batch : int or array_like of int
        Sequences decoded together (one new token each). [sequences]
    act_bytes : float or array_like of float
        Storage per activation element. [B/element]

    Returns
    -------
    count : int
        ``2 · layers``: one after the attention output projection and one after the FFN down
        projection of every layer (Shoeybi et al., arXiv 1909.08053, §3, Fig. 3 "g" operators).
    message_bytes : float or numpy.ndarray
        ``batch · d_model · act_bytes`` per all-reduce. [B]

    Raises
    ------
    ValueError
        ``batch`` not a positive integer, ``act_bytes`` not positive, an encoder.
    """
    spec = _spec(spec)
    b = _check_array("batch", batch, integer=True, minimum=1)
    ab = _check_precision("act_bytes", act_bytes)
    return 2 * spec.layers, _out(b * spec.d_model * ab)


# ---------------------------------------------------------------------------------------- sharding

_REPLICATED = ("residual_attn", "norm_attn", "residual_ffn", "norm_ffn", "final_norm", "router", "moe_combine")
_KV_SHARDED = ("k_proj", "v_proj")
_ATTENTION = ("qk_matmul", "sv_matmul")


def _shards(name: str, n: np.ndarray, kv_heads: int) -> tuple[np.ndarray, np.ndarray]:
    """Divisors of (FLOPs, bytes) of one operation on one chip of ``n``."""
    one = np.ones_like(n)
    kv = np.minimum(n, float(kv_heads))  # fewer KV heads than chips: each chip keeps a copy of one
    if name in _REPLICATED:
        return one, one
    if name in _KV_SHARDED:
        return kv, kv
    if name in _ATTENTION:
        return n, kv
    return n, n


def _weight_bytes(spec: ModelSpec, batch: np.ndarray, context: np.ndarray, wb: np.ndarray, ab: np.ndarray,
                  kb: np.ndarray) -> dict[str, np.ndarray]:
    """Weight bytes per operation: bytes are linear in the widths, so ``bytes(2 wb) - bytes(wb)``. [B]"""
    args = {"fused_attention": True, "include_lm_head": True}
    one = cost_arrays(spec, "decode", context, batch, widths=ByteWidths(weight=wb, act=ab, kv=kb), **args)
    two = cost_arrays(spec, "decode", context, batch, widths=ByteWidths(weight=2.0 * wb, act=ab, kv=kb), **args)
    return {k: (two[k].bytes_read + two[k].bytes_written) - (one[k].bytes_read + one[k].bytes_written)
            for k in one}


class TPBound(NamedTuple):
    """Per-token time bound of tensor-parallel decode, broadcast over the arguments.

    Attributes
    ----------
    step_s : float or numpy.ndarray
        Roofline bound of one chip's share of the decode step. [s]
    weights_s : float or numpy.ndarray
        Weight-streaming term: one chip's weight bytes over its DRAM bandwidth. [s]
    allreduce_s : float or numpy.ndarray
        ``2 · layers`` ring all-reduces of ``batch · d_model`` activations. [s]
    total_s : float or numpy.ndarray
        ``step_s + allreduce_s`` (no overlap: each all-reduce gates the next layer). [s]
    weight_bytes_per_chip : float or numpy.ndarray
        One chip's weights read per step. [B]
    fits : bool or numpy.ndarray
        Whether one chip's share of :func:`memwall.serving.footprint` fits in ``memory_bytes``.
    """

    step_s: float | np.ndarray
    weights_s: float | np.ndarray
    allreduce_s: float | np.ndarray
    total_s: float | np.ndarray
    weight_bytes_per_chip: float | np.ndarray
    fits: bool | np.ndarray


def tp_decode_time(spec: ModelSpec | str, ceilings: Ceilings, chips: ArrayLike, link_bytes_per_s: float,
                   hop_latency_s: float, base_latency_s: float = BASE_LATENCY_S, batch: ArrayLike = 1,
                   context: ArrayLike = 0, *, widths: ByteWidths = BF16, memory_bytes: float = np.inf) -> TPBound:
    """Lower bound on one tensor-parallel decode step over ``chips`` identical chips.

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder or preset name.
    ceilings : Ceilings
        One chip (peak at the matmul precision, DRAM bandwidth).
    chips : int or array_like of int
        Tensor-parallel degree ``N``, at most ``spec.heads``. [chips]
    link_bytes_per_s : float
        Per-direction chip-to-chip bandwidth (:func:`memwall.beyond.allreduce.link_bandwidth`). [B/s]
    hop_latency_s : float
        Latency per ring step (e.g. ``allreduce.HOP_LATENCY_S["nvlink"]``). [s]
    base_latency_s : float
        Fixed latency per all-reduce (default :data:`memwall.beyond.allreduce.BASE_LATENCY_S`). [s]
    batch : int or array_like of int
        Sequences. [sequences]
    context : int or array_like of int
        Cached tokens per sequence. [tokens]
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``BF16``). [B/element]
    memory_bytes : float
        Memory of one chip, for ``fits`` (default: unlimited). [B]

    Returns
    -------
    TPBound
        ``step_s``, ``weights_s``, ``allreduce_s``, ``total_s`` [s], ``weight_bytes_per_chip`` [B],
        ``fits``.

    Raises
    ------
    ValueError
        ``chips`` not an integer in ``[1, heads]``; widths, batch, context, bandwidth or latencies as
        in :func:`memwall.beyond.allreduce.ring_allreduce_time` and :func:`memwall.cost.cost_arrays`.

    Notes
    -----
    Each operation of :func:`memwall.cost.cost_arrays` (decode, fused attention, LM head) is split as
    Megatron-LM splits it: the Q, output, FFN and LM-head (vocabulary-parallel) matmuls, softmax and
    the FFN activation by ``N``; the K and V projections and the KV-cache reads by ``min(N, kv_heads)``
    (with fewer KV heads than chips, each chip keeps a copy of one KV head); norms, residual adds and
    a mixture-of-experts router are repeated on every chip. Each chip's step is then the roofline
    sum ``Σ max(F/P, M/BW)`` over its shares (a chip's replicated copy of the layer input is not
    counted, an under-count of ``(1 - 1/N) · batch · d · act_bytes`` per projection).
    """
    weight_bytes, act_bytes, kv_bytes = widths.weight, widths.act, widths.kv
    spec = _spec(spec)
    n = _chips(chips)
    if np.any(n > spec.heads):
        raise ValueError(f"chips must be at most heads={spec.heads} for {spec.name} (one head per chip), "
                         f"got {int(np.max(n))}")
    b = _check_array("batch", batch, integer=True, minimum=1)
    c = _check_array("context", context, integer=True, minimum=0)
    wb = np.asarray(weight_bytes, dtype=float)
    ab = np.asarray(act_bytes, dtype=float)
    kb = np.asarray(kv_bytes, dtype=float)
    ops: dict[str, OpCost] = cost_arrays(spec, "decode", c, b, widths=widths, fused_attention=True,
                                         include_lm_head=True)
    wbytes = _weight_bytes(spec, b, c, wb, ab, kb)
    peak, bw = ceilings.peak_flop_per_s, ceilings.bandwidth_bytes_per_s
    step = 0.0
    weights = 0.0
    for name, op in ops.items():
        f_div, m_div = _shards(name, n, spec.kv_heads)
        step = step + np.maximum(op.flops / f_div / peak, (op.bytes_read + op.bytes_written) / m_div / bw)
        weights = weights + wbytes[name] / m_div
    count, message = allreduce_bytes_per_step(spec, b, ab)
    allreduce = count * np.asarray(ring_allreduce_time(message, n, link_bytes_per_s, hop_latency_s, base_latency_s))
    fp = footprint(spec, b, c, widths=widths)
    per_chip_memory = (np.asarray(fp.weights) / n + np.asarray(fp.kv_cache) / np.minimum(n, spec.kv_heads)
                       + np.asarray(fp.activations))
    total = step + allreduce
    shape = np.broadcast_shapes(*(np.shape(x) for x in (step, weights, allreduce, per_chip_memory)))
    fields = [np.broadcast_to(np.asarray(x, dtype=float), shape)
              for x in (step, weights / bw, allreduce, total, weights)]
    fits = np.broadcast_to(per_chip_memory <= memory_bytes, shape)
    return TPBound(*(_out(x) for x in fields), bool(fits) if fits.ndim == 0 else fits)


def tp_sweep(spec: ModelSpec | str, ceilings: Ceilings, chips: ArrayLike, link_bytes_per_s: float, hop_latency_s: float,
             base_latency_s: float = BASE_LATENCY_S, batch: int = 1, context: int = 0, *, widths: ByteWidths = BF16,
             memory_bytes: float = np.inf) -> pd.DataFrame:
    """:func:`tp_decode_time` as a table, one row per chip count.

    Parameters
    ----------
    spec, ceilings, chips, link_bytes_per_s, hop_latency_s, base_latency_s, batch, context, widths, \
memory_bytes
        As in :func:`tp_decode_time` (scalars except ``chips``).

    Returns
    -------
    pandas.DataFrame
        ``chips``, ``time_per_token_s`` (``total_s``), ``step_s``, ``weights_s``, ``allreduce_s`` [s],
        ``weight_bytes_per_chip`` [B] and ``fits``.

    Raises
    ------
    ValueError
        As :func:`tp_decode_time`.
    """
    n = np.atleast_1d(_chips(chips)).ravel()
    r = tp_decode_time(spec, ceilings, n, link_bytes_per_s, hop_latency_s, base_latency_s, batch, context,
                       widths=widths, memory_bytes=memory_bytes)
    return pd.DataFrame({"chips": n.astype(np.int64), "time_per_token_s": np.asarray(r.total_s),
                         "step_s": np.asarray(r.step_s), "weights_s": np.asarray(r.weights_s),
                         "allreduce_s": np.asarray(r.allreduce_s),
                         "weight_bytes_per_chip": np.asarray(r.weight_bytes_per_chip),
                         "fits": np.asarray(r.fits, dtype=bool)})


def best_chip_count(sweep: pd.DataFrame) -> dict[str, float]:
    """Where adding chips stops helping, read off a :func:`tp_sweep` table.

    Parameters
    ----------
    sweep : pandas.DataFrame
        Output of :func:`tp_sweep` (any set of chip counts).

    Returns
    -------
    dict
        ``best_chips``: the chip count with the smallest ``time_per_token_s`` (ties: fewest chips);
        ``best_time_per_token_s``: that time [s]; ``crossover_chips``: the smallest chip count whose all-reduce term
        exceeds its weight-streaming term, NaN if none in the table.

    Raises
    ------
    ValueError
        If the table is empty or lacks a column of :func:`tp_sweep`.
    """
    need = {"chips", "time_per_token_s", "weights_s", "allreduce_s"}
    if sweep.empty or not need <= set(sweep.columns):
        raise ValueError(f"sweep must be a non-empty tp_sweep table with columns {sorted(need)}")
    s = sweep.sort_values("chips", kind="stable")
    best = s.loc[s["time_per_token_s"].idxmin()]
    over = s[s["allreduce_s"] > s["weights_s"]]
    return {"best_chips": int(best["chips"]), "best_time_per_token_s": float(best["time_per_token_s"]),
            "crossover_chips": float(over["chips"].iloc[0]) if len(over) else float("nan")}


def optimal_chips_closed_form(weight_stream_s: ArrayLike, allreduces: ArrayLike, message_bytes: ArrayLike,
                              link_bytes_per_s: ArrayLike, hop_latency_s: ArrayLike) -> float | np.ndarray:
    """Real-valued ``N`` minimising ``W/N + A (t_0 + 2(N-1) ℓ + 2(N-1)/N · S/β)``.

    Parameters
    ----------
    weight_stream_s : float or array_like
        ``W``: the whole model's weight bytes over one chip's DRAM bandwidth. [s]
    allreduces : float or array_like
        ``A``: all-reduces per step (``2 · layers``).
    message_bytes : float or array_like
        ``S`` per all-reduce. [B]
    link_bytes_per_s : float or array_like
        ``β``, per direction. [B/s]
    hop_latency_s : float or array_like
        ``ℓ`` per ring step, positive. [s]

    Returns
    -------
    float or numpy.ndarray
        ``sqrt((W - 2 A S / β) / (2 A ℓ))``, from setting the derivative in ``N`` to zero; NaN when
        ``W ≤ 2 A S / β`` (the bandwidth term alone grows faster than the weights shrink). [chips]

    Raises
    ------
    ValueError
        A value negative or not finite, or ``link_bytes_per_s``/``hop_latency_s`` not positive.
    """
    w = _check_array("weight_stream_s", weight_stream_s, integer=False, minimum=0)
    a = _check_array("allreduces", allreduces, integer=False, minimum=0)
    s = _check_array("message_bytes", message_bytes, integer=False, minimum=0)
    bw = _positive("link_bytes_per_s", link_bytes_per_s)
    hop = _positive("hop_latency_s", hop_latency_s)
    num = w - 2.0 * a * s / bw
    with np.errstate(invalid="ignore", divide="ignore"):
        return _out(np.where(num > 0, np.sqrt(np.maximum(num, 0.0) / (2.0 * a * hop)), np.nan))
