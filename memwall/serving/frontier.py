"""Throughput against latency: the batch frontier and the split of one request into prefill and decode."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from memwall._checks import _check_array, finite_result, flag, instance
from memwall.cost import cost_arrays
from memwall.roofline import Ceilings
from memwall.serving.decode import _bound, _decode_ops
from memwall.serving.memory import footprint, max_batch
from memwall.serving.schemes import _out, _spec
from memwall.specs.model_spec import ModelSpec, parameter_count
from memwall.widths import BF16, ByteWidths

if TYPE_CHECKING:
    import pandas as pd  # imported where a DataFrame is built: the CLI's fast path never loads pandas

__all__ = ["RequestSplit", "frontier", "request_split"]


# ------------------------------------------------------------------------------------------ frontier

_FRONTIER_COLUMNS = ["batch", "step_time_s", "tokens_per_s", "time_per_token_s", "footprint_bytes",
                     "weights_bytes", "kv_cache_bytes", "activation_bytes", "fits", "compute_bound"]


def frontier(spec: ModelSpec | str, ceilings: Ceilings, device_memory_bytes: float, context: int,
             batches: ArrayLike | None = None, *, widths: ByteWidths = BF16, fused_attention: bool = True,
             include_lm_head: bool = True) -> pd.DataFrame:
    """Throughput against per-token latency as the batch grows, up to where memory runs out.

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder architecture or preset name.
    ceilings : Ceilings
        Device.
    device_memory_bytes : float
        Usable device memory. [B]
    context : int
        Cached tokens per sequence. [tokens]
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``BF16``). [B/element]
    batches : array_like of int, optional
        Batches to evaluate; rows that do not fit are kept with ``fits=False``. Default: powers of two
        below :func:`max_batch` and :func:`max_batch` itself, so the table ends where memory runs out.
    fused_attention, include_lm_head : bool
        As in :func:`decode_step_time`.

    Returns
    -------
    pandas.DataFrame
        One row per batch: ``batch`` [sequences], ``step_time_s`` [s], ``tokens_per_s`` (per device)
        [tokens/s], ``time_per_token_s`` (per sequence; equal to the step time) [s], ``footprint_bytes``,
        ``weights_bytes``, ``kv_cache_bytes``, ``activation_bytes`` [B], ``fits`` and ``compute_bound`` (step FLOP time
        at least its memory time). ``attrs`` holds ``max_batch`` and ``message``; when not even one
        sequence fits, the default table is empty, ``attrs["max_batch"] == 0`` and the message says
        how much memory the weights alone need.

    Raises
    ------
    ValueError
        Array-valued ``context`` or widths, ``batches`` not positive integers (bools and strings are not), a
        flag not a bool, a time or rate that overflows a float, and as :func:`max_batch`.
    ArgumentTypeError
        ``ceilings`` not a :class:`~memwall.roofline.Ceilings`, ``widths`` not a ByteWidths.
    """
    instance("ceilings", ceilings, Ceilings)
    instance("widths", widths, ByteWidths)
    weight_bytes, act_bytes, kv_bytes = widths.weight, widths.act, widths.kv
    spec = _spec(spec)
    for name, value in (("context", context), ("weight_bytes", weight_bytes), ("act_bytes", act_bytes),
                        ("kv_bytes", kv_bytes), ("device_memory_bytes", device_memory_bytes)):
        if np.ndim(value):
            raise ValueError(f"{name} must be a scalar for frontier, got {value!r}")
    limit = max_batch(spec, device_memory_bytes, context, widths=widths, fused_attention=fused_attention)
    if batches is None:
        grid = [2**k for k in range(int(math.log2(limit)) + 1) if 2**k < limit] + [limit] if limit else []
        b = np.asarray(grid, dtype=float)
    else:
        b = np.atleast_1d(_check_array("batches", batches, integer=True, minimum=1))
    fp = footprint(spec, np.maximum(b, 1.0), context, widths=widths, fused_attention=fused_attention)
    if b.size:
        ops = _decode_ops(spec, b, context, fused_attention=fused_attention, include_lm_head=include_lm_head,
                          widths=widths)
        step = np.asarray(_bound(ops, ceilings), dtype=float)
        with np.errstate(over="ignore"):
            flop_time = sum(o.flops for o in ops.values()) / ceilings.peak_flop_per_s
            mem_time = sum(o.bytes_read + o.bytes_written for o in ops.values()) / ceilings.bandwidth_bytes_per_s
            rate = b / step
        finite_result("frontier step time and tokens/s", [step, rate, flop_time, mem_time],
                      {"batches": b, "context": context, "peak_flop_per_s": ceilings.peak_flop_per_s,
                       "bandwidth_bytes_per_s": ceilings.bandwidth_bytes_per_s, "weight_bytes": weight_bytes,
                       "act_bytes": act_bytes, "kv_bytes": kv_bytes})
    else:
        step = flop_time = mem_time = np.zeros(0)
    import pandas as pd

    df = pd.DataFrame({
        "batch": b.astype(np.int64),
        "step_time_s": step,
        "tokens_per_s": rate if b.size else step,
        "time_per_token_s": step,
        "footprint_bytes": np.broadcast_to(fp.total, b.shape),
        "weights_bytes": np.broadcast_to(fp.weights, b.shape),
        "kv_cache_bytes": np.broadcast_to(fp.kv_cache, b.shape),
        "activation_bytes": np.broadcast_to(fp.activations, b.shape),
        "fits": np.broadcast_to(fp.total, b.shape) <= device_memory_bytes,
        "compute_bound": np.asarray(flop_time >= mem_time, dtype=bool),
    }, columns=_FRONTIER_COLUMNS)
    weights_gb = parameter_count(spec) * weight_bytes / 1e9
    if limit == 0:
        message = (f"{spec.name} does not fit: weights alone need {weights_gb:.1f} GB and one sequence of "
                   f"{context} tokens more, but the device has {device_memory_bytes / 1e9:.1f} GB")
    else:
        message = f"{spec.name}: at most {limit} sequences of {context} tokens fit"
    df.attrs.update({"max_batch": limit, "fits": bool(limit), "message": message})
    return df


# ----------------------------------------------------------------------------------------- requests


class RequestSplit(NamedTuple):
    """Latency bounds of serving requests, broadcast over the arguments.

    Attributes
    ----------
    ttft_s : float or numpy.ndarray
        Time to first token: the prefill of the prompt and the logits of its last token. [s]
    tpot_s : float or numpy.ndarray
        Time per output token after the first: mean decode-step bound; NaN when ``output_len == 1``
        (no decode step). [s]
    total_s : float or numpy.ndarray
        ``ttft_s + (output_len - 1) · tpot_s``. [s]
    """

    ttft_s: float | np.ndarray
    tpot_s: float | np.ndarray
    total_s: float | np.ndarray


def _positive_part_sum(alpha: np.ndarray, beta: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``sum_{c=lo}^{hi} max(alpha + beta c, 0)`` for integer ``c`` (empty when ``hi < lo``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        root = -alpha / beta
    start = np.where(beta > 0, np.maximum(lo, np.ceil(root)), lo)
    end = np.where(beta < 0, np.minimum(hi, np.floor(root)), hi)
    empty = (end < start) | ((beta == 0) & (alpha <= 0))
    n = np.where(empty, 0.0, end - start + 1)
    return np.where(empty, 0.0, n * alpha + beta * (start + end) * n / 2)


def _affine_steps_sum(ops_a: dict, ops_b: dict, c_a: int, lo: np.ndarray, hi: np.ndarray, peak: float,
                      bw: float) -> np.ndarray:
    """``sum_{c=lo}^{hi} sum_ops max(F(c)/P, M(c)/BW)`` with each operation's ``F`` and ``M`` affine in ``c``
    through its values at ``c_a`` (``ops_a``) and ``c_a + 1`` (``ops_b``); 0 where ``hi < lo``. [s]"""
    count = np.maximum(hi - lo + 1, 0)
    total = 0.0
    for name, oa in ops_a.items():
        ob = ops_b[name]
        ma, mb = (oa.bytes_read + oa.bytes_written) / bw, (ob.bytes_read + ob.bytes_written) / bw
        fa, fb = oa.flops / peak, ob.flops / peak
        dm, df = mb - ma, fb - fa
        m0, f0 = ma - c_a * dm, fa - c_a * df  # the lines' values at c = 0
        memory = count * m0 + dm * (lo + hi) * count / 2  # arithmetic series of M(c)/BW
        total = total + memory + _positive_part_sum(f0 - m0, df - dm, lo, hi)
    return total


def request_split(spec: ModelSpec | str, ceilings: Ceilings, prompt_len: ArrayLike, output_len: ArrayLike,
                  batch: ArrayLike = 1, *, widths: ByteWidths = BF16, fused_attention: bool = True,
                  causal_halving: bool = True, include_lm_head: bool = True) -> RequestSplit:
    """Time to first token and time per output token of ``batch`` identical requests served together.

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder architecture or preset name.
    ceilings : Ceilings
        Device.
    prompt_len : int or array_like of int
        Prompt tokens per request (at least 1). [tokens]
    output_len : int or array_like of int
        Generated tokens per request (at least 1). [tokens]
    batch : int or array_like of int
        Requests prefilled and decoded together. [sequences]
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``BF16``). [B/element]
    fused_attention : bool
        Scores stay on chip, in prefill and decode.
    causal_halving : bool
        Prefill counts only the causal half of the score grid (causal FlashAttention skips masked
        blocks).
    include_lm_head : bool
        Count the final norm and LM head: for the last prompt token only in prefill (serving engines
        compute no logits for the others), for every generated token in decode.

    Returns
    -------
    RequestSplit
        ``ttft_s``, ``tpot_s``, ``total_s``. [s]

    Raises
    ------
    ValueError
        ``prompt_len`` or ``output_len`` below 1, ``batch`` not a positive integer, a bool or a string, an integer
        above ``2**53 - 1``, a flag not a bool; an encoder or unknown preset; a time that overflows a float (the
        message lists the inputs).
    ArgumentTypeError
        ``ceilings`` not a :class:`~memwall.roofline.Ceilings`, ``widths`` not a ByteWidths.

    Notes
    -----
    The first output token comes from the prefill; tokens ``2 … n`` come from decode steps whose caches
    hold ``p, p+1, …, p+n-2`` tokens. Each operation's FLOPs and bytes are affine in the cache length
    ``c``, so the sum of ``max(F(c)/P, M(c)/BW)`` over the steps is computed in closed form: the memory
    time summed as an arithmetic series plus the positive part of ``F/P - M/BW`` over the steps where
    the operation is compute-bound. With a sliding window ``W`` the attention terms are affine on
    ``c <= W - 1`` and on ``c >= W`` (flatter: the sliding layers' keys stop growing), so the steps are
    summed on each piece with its own line (lines read off the cost model at ``c = 0, 1`` and
    ``c = W + 1, W + 2``; either convention of whether the window counts the new token has its kink
    between the pieces).
    """
    spec = _spec(spec)
    instance("ceilings", ceilings, Ceilings)
    instance("widths", widths, ByteWidths)
    include_lm_head = flag("include_lm_head", include_lm_head)
    p = _check_array("prompt_len", prompt_len, integer=True, minimum=1)
    n = _check_array("output_len", output_len, integer=True, minimum=1)
    _check_array("batch", batch, integer=True, minimum=1)
    prefill = cost_arrays(spec, "prefill", p, batch, widths=widths, fused_attention=fused_attention,
                          causal_halving=causal_halving)
    ttft = _bound(prefill, ceilings)
    if include_lm_head:
        head = cost_arrays(spec, "decode", 0, batch, widths=widths, include_lm_head=True)
        ttft = ttft + _bound({k: v for k, v in head.items() if k in ("final_norm", "lm_head")}, ceilings)

    peak, bw = ceilings.peak_flop_per_s, ceilings.bandwidth_bytes_per_s

    def ops_at(c: int) -> dict:
        return _decode_ops(spec, batch, c, fused_attention=fused_attention, include_lm_head=include_lm_head,
                           widths=widths)

    lo, hi = p, p + n - 2
    steps = n - 1
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below, naming the inputs
        if spec.sliding_layers:  # the cost is affine below the window and affine (flatter) past it
            w = spec.sliding_window
            decode_sum = (_affine_steps_sum(ops_at(0), ops_at(1), 0, lo, np.minimum(hi, w - 1), peak, bw)
                          + _affine_steps_sum(ops_at(w + 1), ops_at(w + 2), w + 1, np.maximum(lo, w), hi, peak,
                                              bw))
        else:
            decode_sum = _affine_steps_sum(ops_at(0), ops_at(1), 0, lo, hi, peak, bw)
    decode_sum = np.where(steps > 0, decode_sum, 0.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        tpot = np.where(steps > 0, decode_sum / np.where(steps > 0, steps, 1.0), np.nan)
        total = ttft + decode_sum
    inputs = {"prompt_len": p, "output_len": n, "batch": batch, "peak_flop_per_s": peak,
              "bandwidth_bytes_per_s": bw, "weight_bytes": widths.weight, "act_bytes": widths.act,
              "kv_bytes": widths.kv}
    finite_result("request_split ttft_s and total_s", [np.max(ttft), np.max(total)], inputs)
    finite_result("request_split tpot_s", tpot, inputs, nan_ok=True)  # NaN: no decode step (documented)
    shape = np.broadcast_shapes(np.shape(ttft), np.shape(tpot), np.shape(total))
    return RequestSplit(*(_out(np.broadcast_to(x, shape)) for x in (ttft, tpot, total)))
