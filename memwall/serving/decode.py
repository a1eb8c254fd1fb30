r"""Decoding on one device: the roofline bound of a decode step, tokens/s, ms/token and the critical batch.

Autoregressive decoding generates one token per sequence per step. Every step reads all the weights
once, whatever the batch, and each sequence reads its own key/value (KV) cache; the step does about
``2 · parameters`` FLOPs per sequence. Batching therefore amortises the weight traffic until the step
turns compute-bound, while each sequence's KV cache adds traffic that no batch amortises. This module
turns :mod:`memwall.cost` and :mod:`memwall.roofline` into the decode quantities the paper's argument
needs (Gholami et al., *AI and Memory Wall*, arXiv 2403.14123, §III):

* :func:`decode_step_time`, :func:`tokens_per_s`, :func:`time_per_token`: roofline bound of a step;
* :func:`critical_batch_closed_form`, :func:`critical_batch`: the batch where decode turns
  compute-bound, and how context length, KV precision and grouped-query attention move it
  (:data:`CRITICAL_BATCH_SEARCH_LIMIT` bounds the search).

The sibling modules of :mod:`memwall.serving` hold the rest: :mod:`~memwall.serving.schemes` (quantisation
schemes, :func:`~memwall.serving.schemes.ceilings_for`, device memory), :mod:`~memwall.serving.memory`
(KV-cache bytes, the footprint, the largest batch and context that fit), :mod:`~memwall.serving.frontier`
(throughput against latency, prefill/decode split of a request) and :mod:`~memwall.serving.grids` (the
chapters' tables).

The accounting of KV caches, weight reads and the latency/throughput trade-off follows Pope et al.,
*Efficiently Scaling Transformer Inference*, MLSys 2023, arXiv 2211.05102, §2.

Conventions
-----------
* One multiply-add is 2 FLOPs; times are in seconds, rates in FLOP/s and B/s.
* ``context`` is the number of tokens per sequence whose keys and values are held in the KV cache; a
  decode step at ``context`` reads that cache and appends one token (``phase="decode"`` of
  :func:`memwall.cost.cost_arrays`).
* Serving kernels keep attention scores on chip (FlashAttention, Dao et al. 2022, arXiv 2205.14135;
  PagedAttention, Kwon et al. 2023, arXiv 2309.06180), so ``fused_attention=True`` is the default
  here; ``include_lm_head=True`` counts the final norm and the LM head, which every generated token
  needs.
* All functions broadcast their numeric array arguments with numpy (a model is a single
  :class:`~memwall.specs.ModelSpec` or preset name; ceilings are one device) and return a float
  (or int) for scalar inputs, an array otherwise.
* Not modelled: quantisation scales and zero points, CUDA graphs, tensor/pipeline parallelism
  (:mod:`memwall.beyond.tensor_parallel`), speculative decoding (:mod:`memwall.beyond.speculative`),
  prefix sharing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from memwall._checks import ArgumentTypeError, _check_array, _check_precision, count, finite_result, instance
from memwall.cost import cost_arrays
from memwall.roofline import Ceilings
from memwall.serving.schemes import _out, _spec
from memwall.specs.model_spec import ModelSpec
from memwall.widths import BF16, ByteWidths

__all__ = ["CRITICAL_BATCH_SEARCH_LIMIT", "critical_batch", "critical_batch_closed_form", "decode_step_time",
           "smallest_compute_bound_batch",
           "time_per_token", "tokens_per_s"]


#: Largest batch :func:`critical_batch` searches before answering ``np.inf`` ("never"). [sequences]
CRITICAL_BATCH_SEARCH_LIMIT = 2**24


# ------------------------------------------------------------------------------------------- time


def _decode_ops(spec: ModelSpec, batch: ArrayLike, context: ArrayLike, fused_attention: bool, include_lm_head: bool, *,
                widths: ByteWidths = BF16) -> dict:
    _check_array("batch", batch, integer=True, minimum=1)  # named here, as the caller knows them
    _check_array("context", context, integer=True, minimum=0)
    instance("widths", widths, ByteWidths)
    return cost_arrays(spec, "decode", context, batch, widths=widths, fused_attention=fused_attention,
                       include_lm_head=include_lm_head)


def _bound(ops: dict, ceilings: Ceilings) -> np.ndarray:
    """Sum over operations of ``max(flops / peak, bytes / bandwidth)``. [s]"""
    with np.errstate(over="ignore"):  # the public functions check their results finite
        return sum(np.maximum(o.flops / ceilings.peak_flop_per_s,
                              (o.bytes_read + o.bytes_written) / ceilings.bandwidth_bytes_per_s)
                   for o in ops.values())


def _inputs(ceilings: Ceilings, widths: ByteWidths, **values: object) -> dict[str, object]:
    """The numeric inputs of a decode bound, for :func:`memwall._checks.finite_result`'s message."""
    return {**values, "peak_flop_per_s": ceilings.peak_flop_per_s,
            "bandwidth_bytes_per_s": ceilings.bandwidth_bytes_per_s, "weight_bytes": widths.weight,
            "act_bytes": widths.act, "kv_bytes": widths.kv}


def decode_step_time(spec: ModelSpec | str, ceilings: Ceilings, batch: ArrayLike = 1, context: ArrayLike = 0, *,
                     widths: ByteWidths = BF16, fused_attention: bool = True,
                     include_lm_head: bool = True) -> float | np.ndarray:
    """Roofline lower bound on one decode step: one new token for each of ``batch`` sequences.

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder architecture or preset name.
    ceilings : Ceilings
        Device (peak at the precision the matmuls run in, DRAM bandwidth).
    batch : int or array_like of int
        Sequences decoded together. [sequences]
    context : int or array_like of int
        Tokens already in each sequence's KV cache. [tokens]
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``BF16``). [B/element]
    fused_attention : bool
        Scores stay on chip (default, as in serving kernels).
    include_lm_head : bool
        Count the final norm and LM head (default: every generated token needs logits).

    Returns
    -------
    float or numpy.ndarray
        ``sum_ops max(flops / peak, bytes / bandwidth)`` over the operations of
        :func:`memwall.cost.cost_arrays` with ``phase="decode"``, broadcast over the arguments. [s]

    Raises
    ------
    ValueError
        As :func:`memwall.cost.cost_arrays`: ``batch`` not a positive integer, ``context`` negative,
        a bool or a string, an integer above ``2**53 - 1``, a flag not a bool; an encoder or unknown preset; a time
        that overflows a float (the message lists the inputs, the most extreme first).
    ArgumentTypeError
        ``ceilings`` not a :class:`~memwall.roofline.Ceilings`, ``widths`` not a ByteWidths, ``spec`` neither a
        ModelSpec nor a preset name.

    Notes
    -----
    At batch 1 with a short context, decode reads every weight once and does 2 FLOPs per weight: the
    bound is about ``parameter_count · weight_bytes / bandwidth`` (Pope et al. 2022, arXiv 2211.05102,
    §2: small-batch decode is memory-bandwidth bound). Embedding rows are not read beyond the token's.
    """
    spec = _spec(spec)
    instance("ceilings", ceilings, Ceilings)
    ops = _decode_ops(spec, batch, context, fused_attention=fused_attention, include_lm_head=include_lm_head,
                      widths=widths)
    step = _bound(ops, ceilings)
    finite_result("decode_step_time", step, _inputs(ceilings, widths, batch=batch, context=context))
    return _out(step)


def tokens_per_s(spec: ModelSpec | str, ceilings: Ceilings, batch: ArrayLike = 1, context: ArrayLike = 0, *,
                 widths: ByteWidths = BF16, **options: bool) -> float | np.ndarray:
    """Upper bound on decode throughput of one device: ``batch / decode_step_time``.

    Parameters
    ----------
    spec, ceilings, batch, context, weight_bytes, act_bytes, kv_bytes, **options
        As in :func:`decode_step_time`. [sequences], [tokens], [B/element]

    Returns
    -------
    float or numpy.ndarray
        Generated tokens per second, all sequences together. [tokens/s]

    Raises
    ------
    ValueError
        As :func:`decode_step_time`; also if the rate overflows a float (a step time near 0).
    ArgumentTypeError
        As :func:`decode_step_time`.
    """
    step = decode_step_time(spec, ceilings, batch, context, widths=widths, **options)
    with np.errstate(over="ignore"):
        rate = np.asarray(batch, dtype=float) / step
    finite_result("tokens_per_s", rate, _inputs(ceilings, widths, batch=batch, context=context))
    return _out(rate)


def time_per_token(spec: ModelSpec | str, ceilings: Ceilings, batch: ArrayLike = 1, context: ArrayLike = 0, *,
                   widths: ByteWidths = BF16, **options: bool) -> float | np.ndarray:
    """Lower bound on the time between two tokens of one sequence (time per output token, TPOT).

    Every sequence of the batch gets one token per decode step, so this is :func:`decode_step_time`
    seen from one sequence; it is named for what a serving benchmark reports (TPOT).

    Parameters
    ----------
    spec, ceilings, batch, context, weight_bytes, act_bytes, kv_bytes, **options
        As in :func:`decode_step_time`. [sequences], [tokens], [B/element]

    Returns
    -------
    float or numpy.ndarray
        Inter-token latency seen by each sequence of the batch. [s]

    Raises
    ------
    ValueError
        As :func:`decode_step_time`.
    ArgumentTypeError
        As :func:`decode_step_time`.
    """
    return decode_step_time(spec, ceilings, batch, context, widths=widths, **options)


# --------------------------------------------------------------------------------- critical batch


def critical_batch_closed_form(peak_flop_per_s: ArrayLike, bandwidth_bytes_per_s: ArrayLike,
                               weight_bytes: ArrayLike = 2.0) -> float | np.ndarray:
    """Batch at which a decode weight matmul turns compute-bound, activations neglected.

    Parameters
    ----------
    peak_flop_per_s : float or array_like
        Peak of the arithmetic the matmul runs in. [FLOP/s]
    bandwidth_bytes_per_s : float or array_like
        DRAM bandwidth. [B/s]
    weight_bytes : float or array_like
        Storage per weight. [B/element]

    Returns
    -------
    float or numpy.ndarray
        ``B* = (peak / bandwidth) · weight_bytes / 2`` (not rounded). [sequences]

    Raises
    ------
    ValueError
        If a ceiling or ``weight_bytes`` is not a positive finite number (bools and strings are not), or the
        result overflows a float; the message names the argument(s).

    Notes
    -----
    A ``d_in × d_out`` weight matmul over ``B`` tokens does ``2 B d_in d_out`` FLOPs and reads
    ``d_in d_out b_w`` bytes of weights; with the activations' ``B (d_in + d_out) b_a`` bytes neglected
    (``B ≪ d``) its intensity is ``2B / b_w``. It is compute-bound when that reaches the ridge point
    ``P / BW`` (Williams et al. 2009):

    .. math::

        B^* = \\frac{P}{BW}\\,\\frac{b_w}{2}.

    With 16-bit weights ``B* = P / BW``; weight-only int8 on a 16-bit roof halves it, int8 weights on
    the int8 roof (twice the peak) leave it unchanged. Pope et al. (2022, arXiv 2211.05102, §3.2) make
    the same argument for the weight-loading time against the matmul time.
    """
    p = _check_precision("peak_flop_per_s", peak_flop_per_s)
    bw = _check_precision("bandwidth_bytes_per_s", bandwidth_bytes_per_s)
    wb = _check_precision("weight_bytes", weight_bytes)
    with np.errstate(over="ignore"):
        out = p / bw * wb / 2.0
    finite_result("critical_batch_closed_form", out, {"peak_flop_per_s": p, "bandwidth_bytes_per_s": bw,
                                                      "weight_bytes": wb})
    return _out(out)


_SCOPES = {"step": None, "weight_matmuls": ("projection", "ffn")}


def critical_batch(spec: ModelSpec | str | None, ceilings: Ceilings, context: ArrayLike = 0, *,
                   widths: ByteWidths = BF16, scope: str = 'step', fused_attention: bool = True,
                   include_lm_head: bool = True) -> float | np.ndarray:
    """Smallest batch at which a decode step is compute-bound; ``np.inf`` if no batch gets there.

    Parameters
    ----------
    spec : ModelSpec, str or None
        Decoder architecture or preset name; ``None`` gives :func:`critical_batch_closed_form`.
    ceilings : Ceilings
        Device.
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``BF16``). [B/element]
    context : int or array_like of int
        Tokens cached per sequence. [tokens]
    scope : {"step", "weight_matmuls"}
        ``"step"``: every operation of the step, KV-cache reads included; ``"weight_matmuls"``: the
        projections, FFN matmuls and LM head only (the closed form's setting, activation traffic kept).
    fused_attention, include_lm_head : bool
        As in :func:`decode_step_time`.

    Returns
    -------
    float or numpy.ndarray
        With a model: the smallest integer ``B`` with ``sum flops / peak >= sum bytes / bandwidth``
        over the scope's operations, as a float; ``np.inf`` means *never*: the step is still
        memory-bound at :data:`CRITICAL_BATCH_SEARCH_LIMIT` sequences, which for a dense model means
        each sequence's own traffic (its KV cache) costs more time than its FLOPs, so batching cannot
        amortise it. Without a model: the real-valued closed form. [sequences]

    Raises
    ------
    ValueError
        Unknown ``scope`` (lists the allowed ones); bad widths, context or flags as in :func:`decode_step_time`.
    ArgumentTypeError
        ``ceilings`` not a :class:`~memwall.roofline.Ceilings`, ``widths`` not a ByteWidths.

    Notes
    -----
    Per step, FLOPs grow as ``B · F(c)`` and bytes as ``W(B) + B · K(c)``: weights ``W`` read once
    (the *active* weights: for a mixture of experts the shared experts, dense layers and the routed
    experts some token uses, not the resident total of :func:`memwall.serving.memory.footprint`), and
    per sequence ``K`` its KV cache in view of the step,
    ``kv_bytes ·`` :func:`memwall.specs.attention.kv_cache_elements` ``(c + 1)`` B
    (``2 · layers · kv_heads · head_dim · (c + 1)`` elements for GQA, ``layers · (d_c + d_h^R) · (c + 1)``
    for MLA, a sliding layer capped at its window), plus activations. Hence

    .. math::

        B^* = \\left\\lceil \\frac{W / BW}{F / P - K / BW} \\right\\rceil \\quad
        \\text{if}\\ F / P > K / BW, \\ \\text{else never.}

    The attention part of ``F/K`` is ``2 (heads / kv_heads) / kv_bytes`` FLOP/B (MLA: about
    ``heads · (4 d_c + 2 d_h^R) / ((d_c + d_h^R) kv_bytes)``,
    :func:`memwall.beyond.attention_cost.attention_intensity_limit`), for GQA far below any
    accelerator's ridge, so a longer context raises ``B*`` until, past a few hundred tokens for
    Llama-3-8B on an H100, no batch is compute-bound; an 8-bit KV cache or fewer KV heads
    (grouped-/multi-query attention, Ainslie et al. 2023, arXiv 2305.13245; Shazeer 2019,
    arXiv 1911.02150) lower ``K`` and push that limit out, and so does a sliding window, past which
    ``K`` stops growing on the sliding layers. ``B*`` is found by bisection on the cost
    model (exact for dense and mixture-of-experts models alike, since ``W(B)`` is concave). The FLOPs
    and bytes per operation are :func:`memwall.cost.cost_arrays`' (MLA, windows, shared experts and
    dense layers as that function counts them).
    """
    instance("ceilings", ceilings, Ceilings)
    instance("widths", widths, ByteWidths)
    weight_bytes, act_bytes, kv_bytes = widths.weight, widths.act, widths.kv
    if spec is None:
        return critical_batch_closed_form(ceilings.peak_flop_per_s, ceilings.bandwidth_bytes_per_s, weight_bytes)
    if not isinstance(scope, str) or scope not in _SCOPES:
        raise ValueError(f"scope must be one of {tuple(_SCOPES)}, got {scope!r}")
    spec = _spec(spec)
    categories = _SCOPES[scope]

    def compute_bound(b: np.ndarray) -> np.ndarray:
        ops = _decode_ops(spec, b, context, fused_attention=fused_attention, include_lm_head=include_lm_head,
                          widths=widths)
        chosen = [o for o in ops.values() if categories is None or o.category in categories]
        with np.errstate(over="ignore", invalid="ignore"):
            flops = sum(o.flops for o in chosen)
            bytes_ = sum(o.bytes_read + o.bytes_written for o in chosen)
            return flops / ceilings.peak_flop_per_s >= bytes_ / ceilings.bandwidth_bytes_per_s

    shape = np.broadcast_shapes(*(np.shape(x) for x in (weight_bytes, act_bytes, kv_bytes, context)))
    return _out(smallest_compute_bound_batch(compute_bound, shape))


def smallest_compute_bound_batch(compute_bound: Callable[[np.ndarray], np.ndarray], shape: tuple[int, ...] = (), *,
                                 limit: int = CRITICAL_BATCH_SEARCH_LIMIT) -> np.ndarray:
    """The smallest batch at which a decode step is compute-bound: the one search behind every critical batch.

    Parameters
    ----------
    compute_bound : callable
        ``compute_bound(batch)`` takes an array of batches of shape ``shape`` [sequences] and returns a boolean
        array: whether the step at that batch needs at least as long for its FLOPs as for its bytes
        (``F / P >= M / BW``, i.e. intensity at or above the ridge point). It must be monotone in the batch
        (memory-bound below some batch, compute-bound from it on), as decode steps are: FLOPs grow linearly
        with the batch and bytes sub-linearly.
    shape : tuple of int
        Shape of the batches passed to ``compute_bound`` (the broadcast shape of the other arguments).
    limit : int
        Largest batch searched. [sequences]

    Returns
    -------
    numpy.ndarray, shape ``shape``
        The batch [sequences]; ``1`` where already compute-bound at batch 1; ``inf`` where still
        memory-bound at ``limit``.

    Raises
    ------
    ValueError
        ``limit`` not an integer >= 1.
    ArgumentTypeError
        ``compute_bound`` not callable.

    Notes
    -----
    Vectorised bisection on integers: ``log2(limit)`` evaluations of ``compute_bound``. Used by
    :func:`critical_batch` (every :class:`~memwall.specs.ModelSpec`) and
    :func:`memwall.beyond.moe_decode.critical_batch`.

    Examples
    --------
    >>> smallest_compute_bound_batch(lambda b: b >= 300).item()
    300.0
    """
    if not callable(compute_bound):
        raise ArgumentTypeError(f"compute_bound must be a callable, got {type(compute_bound).__name__}")
    one = np.ones(shape)
    lo, hi = one.copy(), one * count("limit", limit, scalar=True)
    at_one, at_limit = np.asarray(compute_bound(lo)), np.asarray(compute_bound(hi))
    # Invariant: memory-bound at lo, compute-bound at hi (entries decided at the ends are left alone).
    while True:
        open_ = ~at_one & at_limit & (hi - lo > 1)
        if not open_.any():
            break
        mid = np.floor((lo + hi) / 2)
        cb = np.asarray(compute_bound(mid))
        hi = np.where(open_ & cb, mid, hi)
        lo = np.where(open_ & ~cb, mid, lo)
    return np.where(at_one, 1.0, np.where(at_limit, hi, np.inf))
