"""What fits on a device: KV-cache bytes, the serving footprint, the largest batch and context."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from memwall._checks import _check_array, _check_precision
from memwall.serving.schemes import _out, _out_int, _spec
from memwall.specs.attention import kv_bytes_per_token
from memwall.specs.model_spec import ModelSpec, parameter_count
from memwall.widths import BF16, ByteWidths

__all__ = ["Footprint", "footprint", "kv_cache_bytes", "max_batch", "max_context"]




def _memory(value: ArrayLike) -> np.ndarray:
    return _check_array("device_memory_bytes", value, integer=False, minimum=0)


def _kv_bytes_per_token(spec: ModelSpec, kv_bytes: np.ndarray) -> np.ndarray:
    """Keys and values of one token over all layers (:func:`memwall.specs.attention.kv_bytes_per_token`). [B]"""
    return np.asarray(kv_bytes_per_token(spec, kv_bytes), dtype=float)


def _act_elements(spec: ModelSpec) -> tuple[float, float]:
    """Activation working set of one sequence in one decode step: (constant, per cached token). [elements]"""
    gated = 1 if spec.ffn_kind == "gated" else 0
    const = (2 * spec.d_model + 2 * spec.q_dim + 2 * spec.kv_dim
             + (1 + gated) * spec.active_experts * spec.ffn_dim + spec.vocab_size)
    return float(const), float(spec.heads)


def _per_sequence(spec: ModelSpec, fused_attention: bool, *,
                  widths: ByteWidths = BF16) -> tuple[np.ndarray, np.ndarray]:
    """Bytes one sequence adds to the footprint: (constant part, part per cached token). [B], [B/token]"""
    act_bytes, kv_bytes = widths.act, widths.kv
    const, per_token = _act_elements(spec)
    scores = 0.0 if fused_attention else 1.0
    return const * act_bytes, _kv_bytes_per_token(spec, kv_bytes) + scores * per_token * act_bytes


# ------------------------------------------------------------------------------------------ memory


def kv_cache_bytes(spec: ModelSpec | str, tokens: ArrayLike, batch: ArrayLike = 1,
                   kv_bytes: ArrayLike = 2.0) -> float | np.ndarray:
    """Bytes of the KV cache holding ``tokens`` tokens for each of ``batch`` sequences.

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder architecture or preset name.
    tokens : int or array_like of int
        Cached tokens per sequence (context length). [tokens]
    batch : int or array_like of int
        Sequences. [sequences]
    kv_bytes : float or array_like of float
        Storage per key or value element. [B/element]

    Returns
    -------
    float or numpy.ndarray
        ``2 · layers · kv_heads · head_dim · kv_bytes · tokens · batch``, broadcast over the
        arguments. [B]

    Raises
    ------
    ValueError
        ``tokens`` negative or not an integer, ``batch`` not a positive integer, ``kv_bytes`` not
        positive; an encoder model.

    Notes
    -----
    Each layer stores one key and one value vector of ``kv_heads · head_dim`` elements per token
    (Pope et al. 2022, arXiv 2211.05102, §2: "the KV cache ... 2 · n_layers · n_kv_heads · d_head"
    per token). Grouped-query and multi-query attention shrink it by ``heads / kv_heads``. Llama-3-8B
    at 16 bits: ``2·32·8·128·2 = 131072`` B per token.
    """
    spec = _spec(spec)
    t = _check_array("tokens", tokens, integer=True, minimum=0)
    b = _check_array("batch", batch, integer=True, minimum=1)
    kb = _check_precision("kv_bytes", kv_bytes)
    return _out(_kv_bytes_per_token(spec, kb) * t * b)


class Footprint(NamedTuple):
    """Device memory of a serving configuration, broadcast over its arguments.

    Attributes
    ----------
    weights : numpy.ndarray
        All parameters (embeddings, every expert, LM head) at ``weight_bytes``. [B]
    kv_cache : numpy.ndarray
        :func:`kv_cache_bytes` of ``context`` tokens for ``batch`` sequences. [B]
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
        scores.

    Returns
    -------
    Footprint
        ``weights``, ``kv_cache``, ``activations`` and ``total``. [B]

    Raises
    ------
    ValueError
        ``batch`` not a positive integer, ``context`` negative, a width not positive, an encoder.

    Notes
    -----
    Weights: :func:`memwall.specs.parameter_count` with embeddings (an untied LM head included) times
    ``weight_bytes``; quantised schemes are assumed to quantise every tensor and store no scales.

    Activations: the buffers of one block in one decode step, counted as if all were live at once
    (blocks run one after another and reuse them), plus the logits, per sequence:

    .. math::

        a_\\text{seq} = b_a\\,\\big(2d + 2\\,h d_h + 2\\,g d_h + (1 + [\\text{gated}])\\,k f + V
        + [\\text{unfused}]\\, h\\,\\text{context}\\big)

    (residual and normed input, query and attention output, new key and value, FFN hidden, logits,
    scores). For Llama-3-8B at 16 bits that is 0.35 MB per sequence, against 0.54 GB of KV cache at a
    4096-token context: the weights and the KV cache decide what fits.
    """
    weight_bytes, act_bytes, kv_bytes = widths.weight, widths.act, widths.kv
    spec = _spec(spec)
    b = _check_array("batch", batch, integer=True, minimum=1)
    c = _check_array("context", context, integer=True, minimum=0)
    wb = np.asarray(weight_bytes, dtype=float)
    kb = np.asarray(kv_bytes, dtype=float)
    ab = np.asarray(act_bytes, dtype=float)
    return _footprint(spec, b, c, wb, kb, ab, fused_attention)


def _footprint(spec: ModelSpec, b: np.ndarray, c: np.ndarray, wb: np.ndarray, kb: np.ndarray,
               ab: np.ndarray, fused_attention: bool) -> Footprint:
    shape = np.broadcast_shapes(*(np.shape(x) for x in (b, c, wb, kb, ab)))
    weights = np.broadcast_to(parameter_count(spec) * wb, shape)
    kv = np.broadcast_to(_kv_bytes_per_token(spec, kb) * c * b, shape)
    const, per_token = _act_elements(spec)
    scores = 0.0 if fused_attention else per_token * c
    acts = np.broadcast_to(b * ab * (const + scores), shape)
    total = weights + kv + acts
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
        ``floor((memory - weights) / per_sequence)``, and 0 when not even one sequence fits (the
        weights alone may not). Never negative. [sequences]

    Raises
    ------
    ValueError
        Negative or non-finite memory, ``context`` negative, a width not positive, an encoder.
    """
    spec = _spec(spec)
    mem = _memory(device_memory_bytes)
    c = _check_array("context", context, integer=True, minimum=0)
    wb = np.asarray(widths.weight, dtype=float)
    weights = parameter_count(spec) * wb
    const, per_token = _per_sequence(spec, fused_attention=fused_attention, widths=widths)
    per_seq = const + per_token * c
    guess = np.maximum(np.floor((mem - weights) / per_seq), 0.0)

    def fits(n: np.ndarray) -> np.ndarray:  # the footprint total, written as in _footprint
        return weights + n * per_seq <= mem

    guess = np.where(fits(guess + 1), guess + 1, guess)  # undo floating-point rounding either way
    guess = np.where((guess > 0) & ~fits(guess), guess - 1, guess)
    return _out_int(np.maximum(guess, 0.0))


def max_context(spec: ModelSpec | str, device_memory_bytes: ArrayLike, batch: ArrayLike = 1, *,
                widths: ByteWidths = BF16, fused_attention: bool = True) -> int | np.ndarray:
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
    int or numpy.ndarray of int
        Cached tokens per sequence; 0 when no cached token fits (check :func:`footprint` at context 0
        to tell "fits with an empty cache" from "does not fit at all"). Not capped at the model's
        trained ``max_positions``. Never negative. [tokens]

    Raises
    ------
    ValueError
        Negative memory, ``batch`` not a positive integer, a width not positive, an encoder.
    """
    spec = _spec(spec)
    mem = _memory(device_memory_bytes)
    b = _check_array("batch", batch, integer=True, minimum=1)
    wb = np.asarray(widths.weight, dtype=float)
    weights = parameter_count(spec) * wb
    const, per_token = _per_sequence(spec, fused_attention=fused_attention, widths=widths)

    def fits(n: np.ndarray) -> np.ndarray:
        return weights + b * (const + per_token * n) <= mem

    guess = np.maximum(np.floor((mem - weights - b * const) / (b * per_token)), 0.0)
    guess = np.where(fits(guess + 1), guess + 1, guess)
    guess = np.where((guess > 0) & ~fits(guess), guess - 1, guess)
    return _out_int(np.maximum(guess, 0.0))
