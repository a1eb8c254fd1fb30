"""What fits on a device: KV-cache bytes, the serving footprint, the largest batch and context.

Every :class:`~memwall.specs.ModelSpec` feature that changes memory is applied here:

* **KV cache** (:func:`kv_cache_bytes`): one formula, :func:`memwall.specs.attention.kv_cache_elements`:
  ``layers·kv_heads·(head_dim + value_head_dim)`` elements per token for MHA/GQA/MQA (Pope et al. 2022,
  arXiv 2211.05102, §2), ``layers·(kv_lora_rank + rope_head_dim)`` for multi-head latent attention
  (DeepSeek-V2, arXiv 2405.04434, Table 1), and on sliding-window layers only the last
  ``sliding_window`` tokens kept (Mistral 7B, arXiv 2310.06825, §2: a rolling buffer of fixed size).
* **Resident vs active weights.** The footprint holds every parameter the model has
  (:func:`memwall.specs.parameter_count`: all routed and shared experts, dense layers, embeddings, an
  untied LM head), because a serving engine keeps all experts resident whichever ones the next token
  picks. What one decode step *reads* (the active parameters and, at batch ``B``, the experts some token
  was routed to) is the decode bound's business (:func:`memwall.serving.decode.decode_step_time` through
  :func:`memwall.cost.cost_arrays`, and :mod:`memwall.beyond.moe_decode`), not the footprint's.
* **Activations** (:func:`footprint`, Notes): the buffers of one block, with MLA's latent and
  compressed-query buffers, shared experts, dense first layers and the router logits.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from memwall._checks import _check_array, _check_precision, finite_result, flag, instance
from memwall.serving.schemes import _out, _out_int, _spec
from memwall.specs.attention import kv_cache_bytes_per_sequence
from memwall.specs.model_spec import ModelSpec, parameter_count
from memwall.widths import BF16, ByteWidths

__all__ = ["Footprint", "footprint", "kv_cache_bytes", "max_batch", "max_context"]


def _memory(value: ArrayLike) -> np.ndarray:
    return _check_array("device_memory_bytes", value, integer=False, minimum=0)


def _widths(widths: ByteWidths) -> None:
    """``widths`` must be a :class:`~memwall.widths.ByteWidths` (which checked its fields)."""
    instance("widths", widths, ByteWidths)


def _resident_weight_bytes(spec: ModelSpec, weight_bytes: ArrayLike) -> np.ndarray:
    """All parameters held on the device (every expert), times their width. [B]"""
    with np.errstate(over="ignore"):  # the public functions check their results finite
        return parameter_count(spec) * np.asarray(weight_bytes, dtype=float)


def _kv_bytes(spec: ModelSpec, tokens: np.ndarray, kv_bytes: np.ndarray) -> np.ndarray:
    """KV cache of one sequence of ``tokens`` tokens, windows applied
    (:func:`memwall.specs.attention.kv_cache_bytes_per_sequence`). [B]"""
    return np.asarray(kv_cache_bytes_per_sequence(spec, tokens, kv_bytes), dtype=float)


def _score_keys(spec: ModelSpec, context: np.ndarray) -> np.ndarray:
    """Keys whose scores the widest layer holds when attention is not fused: ``context``, or
    ``min(context, sliding_window)`` when every layer slides. [tokens]"""
    if spec.sliding_layers == spec.layers:
        return np.minimum(context, spec.sliding_window)
    return context


def _act_elements(spec: ModelSpec) -> tuple[float, float]:
    """Activation working set of one sequence in one decode step: (constant, per score key). [elements]

    Attention: MHA/GQA/MQA hold the query ``h·d_h``, the attention output ``h·d_v`` and the new key and
    value ``g·(d_h + d_v)``; MLA (absorbed, as serving kernels run it) the compressed query ``q_lora_rank``,
    the query ``h·(d_h + d_h^R)``, the query absorbed into the latent ``h·(d_c + d_h^R)``, the new latent
    and rotary key ``d_c + d_h^R``, the latent output ``h·d_c`` and the output ``h·d_v``. FFN: the widest
    block's hidden units, ``(1 + [gated])·max(k·f + f_shared, f_dense)``, plus ``E`` router logits for a MoE.
    """
    gated = 1 if spec.ffn_kind == "gated" else 0
    h, dh, dv = spec.heads, spec.head_dim, spec.value_head_dim
    if spec.is_mla:
        r, dr = spec.kv_lora_rank, spec.rope_head_dim
        attn = spec.q_lora_rank + h * (dh + dr) + h * (r + dr) + (r + dr) + h * r + h * dv
    else:
        attn = h * dh + h * dv + spec.kv_heads * (dh + dv)
    moe_hidden = spec.active_experts * spec.ffn_dim + spec.shared_ffn_dim
    dense_hidden = (spec.dense_ffn_dim or spec.ffn_dim) if spec.dense_layers else 0
    router = spec.experts if spec.experts > 1 else 0
    const = 2 * spec.d_model + attn + (1 + gated) * max(moe_hidden, dense_hidden) + router + spec.vocab_size
    return float(const), float(spec.heads)


def _per_sequence(spec: ModelSpec, context: np.ndarray, fused_attention: bool, *,
                  widths: ByteWidths = BF16) -> tuple[np.ndarray, np.ndarray]:
    """Bytes one sequence holding ``context`` cached tokens adds to the footprint: (KV cache,
    activations, scores included when not fused). [B], [B]"""
    const, per_key = _act_elements(spec)
    scores = 0.0 if fused_attention else per_key * _score_keys(spec, context)
    with np.errstate(over="ignore"):  # the public functions check their results finite
        acts = np.asarray(widths.act, dtype=float) * (const + scores)
    return _kv_bytes(spec, context, np.asarray(widths.kv, dtype=float)), acts


# ------------------------------------------------------------------------------------------ memory


def kv_cache_bytes(spec: ModelSpec | str, tokens: ArrayLike, batch: ArrayLike = 1,
                   kv_bytes: ArrayLike = 2.0) -> float | np.ndarray:
    """Bytes of the KV cache holding ``tokens`` tokens for each of ``batch`` sequences.

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder architecture or preset name.
    tokens : int or array_like of int
        Tokens per sequence (context length). [tokens]
    batch : int or array_like of int
        Sequences. [sequences]
    kv_bytes : float or array_like of float
        Storage per cached element. [B/element]

    Returns
    -------
    float or numpy.ndarray
        :func:`memwall.specs.attention.kv_cache_bytes_per_sequence` times ``batch``, broadcast over the
        arguments: per layer and kept token ``kv_heads·(head_dim + value_head_dim)`` elements
        (``kv_lora_rank + rope_head_dim`` for MLA), each sliding-window layer keeping
        ``min(tokens, sliding_window)`` tokens and the others all ``tokens``. [B]

    Raises
    ------
    ValueError
        ``tokens`` negative or not an integer, ``batch`` not a positive integer, ``kv_bytes`` not
        positive (a bool or a string is not a number), an integer above ``2**53 - 1``; an encoder model or unknown
        preset; bytes that overflow a float (the message lists the inputs).

    Notes
    -----
    Each layer stores one key and one value vector of ``kv_heads · head_dim`` elements per token
    (Pope et al. 2022, arXiv 2211.05102, §2: "the KV cache ... 2 · n_layers · n_kv_heads · d_head"
    per token). Grouped-query and multi-query attention shrink it by ``heads / kv_heads``. Llama-3-8B
    at 16 bits: ``2·32·8·128·2 = 131072`` B per token. Multi-head latent attention caches one latent of
    ``d_c`` and a rotary key of ``d_h^R`` per layer for all heads (DeepSeek-V2, arXiv 2405.04434, Table 1):
    DeepSeek-V3, ``61·(512 + 64)·2`` = 70,272 B per token. Mistral 7B's 4,096-token window (arXiv
    2310.06825, §2) caps its cache at ``2·32·8·128·2·4096`` = 0.54 GB per sequence at any longer context;
    Gemma 3's 52 of 62 layers with a 1,024-token window (arXiv 2503.19786, §2) keep a near-constant
    cache on those layers.
    """
    spec = _spec(spec)
    t = _check_array("tokens", tokens, integer=True, minimum=0)
    b = _check_array("batch", batch, integer=True, minimum=1)
    kb = _check_precision("kv_bytes", kv_bytes)
    with np.errstate(over="ignore"):
        out = _kv_bytes(spec, t, kb) * b
    finite_result("kv_cache_bytes", out, {"tokens": t, "batch": b, "kv_bytes": kb})
    return _out(out)


class Footprint(NamedTuple):
    """Device memory of a serving configuration, broadcast over its arguments.

    Attributes
    ----------
    weights : numpy.ndarray
        Resident weights: all parameters (embeddings, every routed and shared expert, dense layers, LM
        head) at ``weight_bytes``. [B]
    kv_cache : numpy.ndarray
        :func:`kv_cache_bytes` of ``context`` tokens for ``batch`` sequences (windows applied). [B]
    activations : numpy.ndarray
        Working set of one decode step (see :func:`footprint`). [B]
    total : numpy.ndarray
        Their sum. [B]
    """

    weights: float | np.ndarray
    kv_cache: float | np.ndarray
    activations: float | np.ndarray
    total: float | np.ndarray


def footprint(spec: ModelSpec | str, batch: ArrayLike, context: ArrayLike, *, widths: ByteWidths = BF16,
              fused_attention: bool = True) -> Footprint:
    """Memory needed to decode ``batch`` sequences holding ``context`` cached tokens each.

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder architecture or preset name.
    batch : int or array_like of int
        Sequences decoded together. [sequences]
    context : int or array_like of int
        Cached tokens per sequence. [tokens]
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``BF16``). [B/element]
    fused_attention : bool
        Attention scores stay on chip; with ``False`` each sequence also holds ``heads · context``
        scores (``heads · min(context, sliding_window)`` when every layer slides).

    Returns
    -------
    Footprint
        ``weights``, ``kv_cache``, ``activations`` and ``total``. [B]

    Raises
    ------
    ValueError
        ``batch`` not a positive integer, ``context`` negative or not an integer (bools and strings are not
        numbers), an integer above ``2**53 - 1``, ``fused_attention`` not a bool; an encoder or unknown preset; a
        total that overflows a float (the message lists the inputs).
    ArgumentTypeError
        ``widths`` not a :class:`~memwall.widths.ByteWidths`.

    Notes
    -----
    Weights are *resident* weights: :func:`memwall.specs.parameter_count` with embeddings (an untied LM
    head, every expert of a mixture of experts) times ``weight_bytes``, since all experts stay on the
    device. The *active* weights a step reads are the decode bound's (module docstring). Quantised
    schemes are assumed to quantise every tensor and store no scales.

    KV cache: :func:`kv_cache_bytes` (MLA latents, sliding windows applied per layer).

    Activations: the buffers of one block in one decode step, counted as if all were live at once
    (blocks run one after another and reuse them), plus the logits, per sequence:

    .. math::

        a_\\text{seq} = b_a\\,\\big(2d + A + (1 + [\\text{gated}])\\,\\max(k f + f_s,\\ f_\\text{dense})
        + E + V + [\\text{unfused}]\\, h\\,n\\big)

    (residual and normed input; attention buffers ``A = h d_h + h d_v + g (d_h + d_v)``: query,
    attention output, new key and value; FFN hidden of the ``k`` routed experts and the shared one, or
    of a dense first layer, whichever is wider; ``E`` router logits for a MoE; logits; ``n`` scores per
    head, ``n`` = ``context`` or, when every layer slides, ``min(context, W)``). For MLA
    ``A = q_c + h (d_h + d_h^R) + h (d_c + d_h^R) + (d_c + d_h^R) + h d_c + h d_v``: compressed query,
    query, query absorbed into the latent, new latent and rotary key, latent output, output
    (DeepSeek-V2, arXiv 2405.04434, §2.1.2). For Llama-3-8B at 16 bits that is 0.35 MB per sequence,
    against 0.54 GB of KV cache at a 4096-token context: the weights and the KV cache decide what fits.
    The identity ``total = weights + kv_cache + activations`` holds exactly.
    """
    spec = _spec(spec)
    b = _check_array("batch", batch, integer=True, minimum=1)
    c = _check_array("context", context, integer=True, minimum=0)
    _widths(widths)
    fused_attention = flag("fused_attention", fused_attention)
    with np.errstate(over="ignore", invalid="ignore"):
        weights = _resident_weight_bytes(spec, widths.weight)
        kv_one, acts_one = _per_sequence(spec, c, fused_attention, widths=widths)
        kv, acts = kv_one * b, b * acts_one
        shape = np.broadcast_shapes(*(np.shape(x) for x in (weights, kv, acts)))
        weights, kv, acts = (np.broadcast_to(x, shape) for x in (weights, kv, acts))
        total = weights + kv + acts
    finite_result("footprint total", total, {"batch": b, "context": c, "weight_bytes": widths.weight,
                                             "act_bytes": widths.act, "kv_bytes": widths.kv})
    return Footprint(*(_out(x) for x in (weights, kv, acts, total)))


def max_batch(spec: ModelSpec | str, device_memory_bytes: ArrayLike, context: ArrayLike, *, widths: ByteWidths = BF16,
              fused_attention: bool = True) -> int | np.ndarray:
    """Largest number of sequences whose :func:`footprint` fits in device memory.

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder architecture or preset name.
    device_memory_bytes : float or array_like of float
        Usable device memory (e.g. :func:`device_memory_bytes`, times a utilisation such as vLLM's
        0.9 if wanted). [B]
    context : int or array_like of int
        Cached tokens per sequence. [tokens]
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``BF16``). [B/element]
    fused_attention : bool
        As in :func:`footprint`.

    Returns
    -------
    int or numpy.ndarray of int
        ``floor((memory - weights) / per_sequence)`` with the resident weights (every expert) and each
        sequence's windowed KV cache and activations, and 0 when not even one sequence fits (the
        weights alone may not). ``footprint(batch=n).total <= memory < footprint(batch=n + 1).total``.
        Never negative; exact (at most ``2**53 - 1``, else an error). [sequences]

    Raises
    ------
    ValueError
        Negative or non-finite memory, ``context`` negative, a bool or a string, an integer above ``2**53 - 1``,
        ``fused_attention`` not a bool, an encoder or unknown preset; a count above ``2**53 - 1`` (``1e30`` B of
        memory), which a float no longer counts exactly: the message states the limit.
    ArgumentTypeError
        ``widths`` not a :class:`~memwall.widths.ByteWidths`.
    """
    spec = _spec(spec)
    mem = _memory(device_memory_bytes)
    c = _check_array("context", context, integer=True, minimum=0)
    _widths(widths)
    fused_attention = flag("fused_attention", fused_attention)
    weights = _resident_weight_bytes(spec, widths.weight)
    kv, acts = _per_sequence(spec, c, fused_attention, widths=widths)
    with np.errstate(over="ignore", invalid="ignore"):
        guess = np.maximum(np.floor((mem - weights) / (kv + acts)), 0.0)
    inputs = {"device_memory_bytes": device_memory_bytes, "context": context, "weight_bytes": widths.weight,
              "act_bytes": widths.act, "kv_bytes": widths.kv}
    _out_int(guess, "max_batch", inputs)  # finite and exact before the ±1 corrections

    def fits(n: np.ndarray) -> np.ndarray:  # the footprint total, summed as in footprint()
        with np.errstate(over="ignore", invalid="ignore"):
            return weights + kv * n + n * acts <= mem

    guess = np.where(fits(guess + 1), guess + 1, guess)  # undo floating-point rounding either way
    guess = np.where((guess > 0) & ~fits(guess), guess - 1, guess)
    return _out_int(np.maximum(guess, 0.0), "max_batch", inputs)


def max_context(spec: ModelSpec | str, device_memory_bytes: ArrayLike, batch: ArrayLike = 1, *,
                widths: ByteWidths = BF16, fused_attention: bool = True) -> int | float | np.ndarray:
    """Longest context whose :func:`footprint` for ``batch`` sequences fits in device memory.

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder architecture or preset name.
    device_memory_bytes : float or array_like of float
        Usable device memory. [B]
    batch : int or array_like of int
        Sequences. [sequences]
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``BF16``). [B/element]
    fused_attention : bool
        As in :func:`footprint`.

    Returns
    -------
    int, float or numpy.ndarray
        Cached tokens per sequence: the largest ``c`` with ``footprint(context=c).total <= memory <
        footprint(context=c + 1).total``; 0 when no cached token fits (check :func:`footprint` at context
        0 to tell "fits with an empty cache" from "does not fit at all"). With sliding windows the cache
        grows by ``global_layers`` token-layers per token past the window instead of ``layers``, so the
        limit is further out; when *every* layer slides the footprint stops growing at the window and the
        answer is ``numpy.inf`` wherever the footprint at ``sliding_window`` tokens fits (memory sets no
        limit). Not capped at the model's trained ``max_positions`` (compare with it yourself). An int
        (``int64`` array) when every value is finite, a float (float array) holding ``inf`` otherwise.
        Never negative. [tokens]

    Raises
    ------
    ValueError
        Negative memory, ``batch`` not a positive integer, a bool or a string, an integer above ``2**53 - 1``,
        ``fused_attention`` not a bool, an encoder or unknown preset; a finite context above ``2**53 - 1`` tokens,
        which a float no longer counts exactly (the message states the limit).
    ArgumentTypeError
        ``widths`` not a :class:`~memwall.widths.ByteWidths`.

    Notes
    -----
    The bytes of one sequence are piecewise linear in the context: slope ``s_1`` (every layer's KV, plus
    ``h·b_a`` unfused scores) up to the window ``W``, slope ``s_2`` (the global layers' KV, plus the scores
    if some layer is global) past it. With ``R = (memory - weights) / batch - a_0`` the room per
    sequence left after its fixed activations ``a_0``: ``c = floor(R / s_1)`` when that is below ``W``,
    otherwise ``W + floor((R - s_1 W) / s_2)`` (``inf`` when ``s_2 = 0``).
    """
    spec = _spec(spec)
    mem = _memory(device_memory_bytes)
    b = _check_array("batch", batch, integer=True, minimum=1)
    _widths(widths)
    fused_attention = flag("fused_attention", fused_attention)
    weights = _resident_weight_bytes(spec, widths.weight)
    inputs = {"device_memory_bytes": device_memory_bytes, "batch": batch, "weight_bytes": widths.weight,
              "act_bytes": widths.act, "kv_bytes": widths.kv}

    def per_seq(n: float | np.ndarray) -> np.ndarray:
        kv, acts = _per_sequence(spec, np.asarray(n, dtype=float), fused_attention, widths=widths)
        return kv + acts

    w = float(spec.sliding_window) if spec.sliding_layers else np.inf
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below
        a0 = per_seq(0.0)  # fixed activations, empty cache
        s1 = per_seq(1.0) - a0  # bytes per token below the window
        at_w = per_seq(w) if np.isfinite(w) else np.inf
        s2 = per_seq(w + 1.0) - at_w if np.isfinite(w) else s1  # bytes per token past the window
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # an overflow is reported below
        room = (mem - weights) / b - a0
        below = np.floor(room / s1)
        above = np.where(s2 > 0, w + np.floor((room - (at_w - a0)) / np.where(s2 > 0, s2, 1.0)), np.inf)
    guess = np.maximum(np.where(below < w, below, above), 0.0)
    every_slides = spec.sliding_layers == spec.layers
    unlimited = every_slides & (s2 <= 0) & ~(below < w)  # past a window that fits: the documented inf
    finite_result("max_context", np.where(unlimited, 0.0, guess), inputs)  # any other inf is an overflow
    _out_int(np.where(unlimited, 0.0, guess + 1), "max_context", inputs)  # exact, also the guess checked below

    def fits(n: np.ndarray) -> np.ndarray:  # the footprint total, as footprint() sums it
        n = np.where(np.isfinite(n), n, w)  # past the window (every layer sliding) nothing grows
        kv, acts = _per_sequence(spec, n, fused_attention, widths=widths)
        return weights + kv * b + b * acts <= mem

    guess = np.where(np.isinf(guess) & ~fits(guess), w - 1.0, guess)  # rounding at the window
    finite = np.isfinite(guess)
    guess = np.where(finite & fits(guess + 1), guess + 1, guess)  # undo floating-point rounding either way
    guess = np.where(finite & (guess > 0) & ~fits(guess), guess - 1, guess)
    guess = np.maximum(guess, 0.0)
    if np.all(np.isfinite(guess)):
        return _out_int(guess, "max_context", inputs)
    _out_int(np.where(np.isfinite(guess), guess, 0.0), "max_context", inputs)  # exact where finite
    return _out(guess)
