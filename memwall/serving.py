r"""Serving a decoder on one device: memory footprint, decode-step roofline, critical batch, frontier.

Autoregressive decoding generates one token per sequence per step. Every step reads all the weights
once, whatever the batch, and each sequence reads its own key/value (KV) cache; the step does about
``2 · parameters`` FLOPs per sequence. Batching therefore amortises the weight traffic until the step
turns compute-bound, while each sequence's KV cache both fills device memory and adds traffic that no
batch amortises. This module turns :mod:`memwall.cost` and :mod:`memwall.roofline` into the serving
quantities the paper's argument needs (Gholami et al., *AI and Memory Wall*, arXiv 2403.14123, §III):

* :func:`kv_cache_bytes`, :func:`footprint`, :func:`max_batch`, :func:`max_context`: what fits;
* :func:`decode_step_time`, :func:`tokens_per_s`, :func:`ms_per_token`: roofline bound of a step;
* :func:`critical_batch_closed_form`, :func:`critical_batch`: the batch where decode turns
  compute-bound, and how context length, KV precision and grouped-query attention move it;
* :func:`frontier`: throughput against per-token latency, up to the largest batch that fits;
* :func:`request_split`: time to first token and time per output token of one request;
* :data:`PRECISION_SCHEMES`, :func:`get_scheme`, :func:`ceilings_for`: named quantisation schemes.

The accounting of KV caches, weight reads and the latency/throughput trade-off follows Pope et al.,
*Efficiently Scaling Transformer Inference*, MLSys 2023, arXiv 2211.05102, §2.

Conventions
-----------
* Bytes are SI (1 GB = 1e9 B); device capacities in the hardware table are GiB (2**30 B), converted by
  :func:`device_memory_bytes`. One multiply-add is 2 FLOPs.
* ``context`` is the number of tokens per sequence whose keys and values are held in the KV cache; a
  decode step at ``context`` reads that cache and appends one token (``phase="decode"`` of
  :func:`memwall.cost.cost_arrays`). The footprint counts the ``context`` cached tokens, not the one
  being appended (an error under ``1/context``).
* Serving kernels keep attention scores on chip (FlashAttention, Dao et al. 2022, arXiv 2205.14135;
  PagedAttention, Kwon et al. 2023, arXiv 2309.06180), so ``fused_attention=True`` is the default
  here; ``include_lm_head=True`` counts the final norm and the LM head, which every generated token
  needs.
* All functions broadcast their numeric array arguments with numpy (a model is a single
  :class:`~memwall.models.ModelSpec` or preset name; ceilings are one device) and return a float
  (or int) for scalar inputs, an array otherwise.
* Not modelled: paged-cache fragmentation, quantisation scales and zero points, framework workspace,
  CUDA graphs, tensor/pipeline parallelism, speculative decoding, prefix sharing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from memwall.cost import _check_array, _check_precision, cost_arrays
from memwall.models import ModelSpec, decoder_spec, parameter_count
from memwall.roofline import PRECISION_COLUMNS, Ceilings

__all__ = [
    "KV_MODIFIERS",
    "PRECISION_SCHEMES",
    "Footprint",
    "RequestSplit",
    "Scheme",
    "ceilings_for",
    "critical_batch",
    "critical_batch_closed_form",
    "decode_step_time",
    "device_memory_bytes",
    "footprint",
    "frontier",
    "get_scheme",
    "kv_cache_bytes",
    "max_batch",
    "max_context",
    "ms_per_token",
    "request_split",
    "tokens_per_s",
]

GIB = 2**30
"""Bytes in one GiB, the unit of ``memory_capacity_gib`` in the hardware table. [B]"""

#: Largest batch :func:`critical_batch` searches before answering ``np.inf`` ("never"). [sequences]
CRITICAL_BATCH_SEARCH_LIMIT = 2**24


# -------------------------------------------------------------------------------------- precisions


@dataclass(frozen=True)
class Scheme:
    """Storage widths of one quantisation scheme and the arithmetic it runs on.

    Parameters
    ----------
    name : str
        Label, e.g. ``"W4A16"``.
    weight_bytes : float
        Storage per weight. [B/element]
    act_bytes : float
        Storage per activation element. [B/element]
    kv_bytes : float
        Storage per cached key or value element. [B/element]
    compute : {"fp32", "fp16", "bf16", "fp8", "int8"}
        Precision of the matmul units, i.e. which peak of the hardware table bounds compute. Weight-only
        quantisation dequantises to 16 bits before the multiply and keeps the 16-bit roof; weight *and*
        activation quantisation multiplies in int8 or fp8 and gets that roof.
    source : str
        Where the scheme is described.

    Raises
    ------
    ValueError
        If a width is not a positive finite number or ``compute`` is not a known precision.
    """

    name: str
    weight_bytes: float
    act_bytes: float
    kv_bytes: float
    compute: str
    source: str = ""

    def __post_init__(self) -> None:
        for field in ("weight_bytes", "act_bytes", "kv_bytes"):
            value = getattr(self, field)
            if isinstance(value, bool) or np.ndim(value) != 0:
                raise ValueError(f"{field} must be a positive number of bytes per element, got {value!r}")
            object.__setattr__(self, field, float(_check_precision(field, value)))
        if self.compute not in PRECISION_COLUMNS:
            raise ValueError(f"compute={self.compute!r} is not known; allowed: {', '.join(PRECISION_COLUMNS)}")

    @property
    def byte_widths(self) -> dict[str, float]:
        """``weight_bytes``, ``act_bytes``, ``kv_bytes`` as keyword arguments for this module. [B/element]"""
        return {"weight_bytes": self.weight_bytes, "act_bytes": self.act_bytes, "kv_bytes": self.kv_bytes}

    def with_kv_bytes(self, kv_bytes: float, suffix: str = "") -> Scheme:
        """The same scheme with another KV-cache width. [B/element]"""
        return replace(self, name=self.name + suffix, kv_bytes=kv_bytes)


PRECISION_SCHEMES: dict[str, Scheme] = {
    s.name: s
    for s in (
        Scheme("W16A16", 2.0, 2.0, 2.0, "bf16", "16-bit (bf16/fp16) weights, activations and KV cache"),
        Scheme("W8A16", 1.0, 2.0, 2.0, "bf16",
               "weight-only int8, e.g. GPTQ (Frantar et al. 2022, arXiv 2210.17323); 16-bit compute"),
        Scheme("W4A16", 0.5, 2.0, 2.0, "bf16",
               "weight-only 4-bit: GPTQ (arXiv 2210.17323), AWQ (Lin et al. 2023, arXiv 2306.00978); "
               "16-bit compute; group scales not counted"),
        Scheme("W8A8", 1.0, 1.0, 1.0, "int8",
               "int8 weights and activations, SmoothQuant (Xiao et al. 2022, arXiv 2211.10438); int8 roof"),
        Scheme("FP8", 1.0, 1.0, 1.0, "fp8",
               "fp8 E4M3 weights, activations and KV (Micikevicius et al. 2022, arXiv 2209.05433); fp8 roof"),
    )
}
"""Named precision schemes; append a modifier of :data:`KV_MODIFIERS` (``"W4A16-KV8"``) via :func:`get_scheme`."""

KV_MODIFIERS: dict[str, float] = {"KV16": 2.0, "KV8": 1.0, "KV4": 0.5}
"""KV-cache width [B/element] set by a ``-KVn`` suffix: int8/fp8 caches (vLLM's ``kv_cache_dtype``), 4-bit
caches (KIVI, Liu et al. 2024, arXiv 2402.02750; KVQuant, Hooper et al. 2024, arXiv 2401.18079)."""


def get_scheme(scheme: str | Scheme) -> Scheme:
    """Scheme by name, with an optional KV-cache modifier.

    Parameters
    ----------
    scheme : str or Scheme
        A key of :data:`PRECISION_SCHEMES`, optionally followed by ``-`` or ``+`` and a key of
        :data:`KV_MODIFIERS` (``"W16A16-KV8"``: 16-bit weights and activations, 8-bit KV cache); a
        :class:`Scheme` is returned unchanged. Case-insensitive.

    Returns
    -------
    Scheme

    Raises
    ------
    ValueError
        For an unknown base scheme or modifier; the message lists the valid names.
    """
    if isinstance(scheme, Scheme):
        return scheme
    text = str(scheme).strip().upper().replace("+", "-")
    base, _, modifier = text.partition("-")
    if base not in PRECISION_SCHEMES or (modifier and modifier not in KV_MODIFIERS):
        raise ValueError(f"unknown precision scheme {scheme!r}; schemes: {', '.join(PRECISION_SCHEMES)}, "
                         f"optionally with a KV modifier ({', '.join('-' + k for k in KV_MODIFIERS)})")
    out = PRECISION_SCHEMES[base]
    return out.with_kv_bytes(KV_MODIFIERS[modifier], "-" + modifier) if modifier else out


def ceilings_for(hardware: pd.DataFrame, device: str, scheme: str | Scheme) -> Ceilings:
    """Roofline ceilings of a device under a scheme's compute precision.

    Parameters
    ----------
    hardware : pandas.DataFrame
        Table from :func:`memwall.datasets.load_hardware`.
    device : str
        Exact value of its ``device`` column.
    scheme : str or Scheme
        Name accepted by :func:`get_scheme`, or a scheme.

    Returns
    -------
    Ceilings
        Dense peak at ``scheme.compute`` [FLOP/s] and datasheet bandwidth [B/s].

    Raises
    ------
    ValueError
        Unknown scheme or device, or a device without a peak at that precision (e.g. fp8 on TPU v5e).
    """
    return Ceilings.from_hardware(hardware, device, get_scheme(scheme).compute)


def device_memory_bytes(hardware: pd.DataFrame, device: str) -> float:
    """Memory capacity of a device in bytes: ``memory_capacity_gib · 2**30``.

    Parameters
    ----------
    hardware : pandas.DataFrame
        Table from :func:`memwall.datasets.load_hardware` (``memory_capacity_gib`` [GiB], the vendor's
        nominal "80 GB" read as GiB).
    device : str
        Exact value of the ``device`` column.

    Returns
    -------
    float
        Capacity. [B]

    Raises
    ------
    ValueError
        Unknown device or no capacity in the table.
    """
    rows = hardware[hardware["device"] == device]
    if rows.empty:
        raise ValueError(f"device={device!r} is not in the hardware table")
    gib = rows.iloc[0]["memory_capacity_gib"]
    if pd.isna(gib):
        raise ValueError(f"device={device!r} has no memory capacity in the table")
    return float(gib) * GIB


# ----------------------------------------------------------------------------------------- helpers


def _spec(spec: ModelSpec | str) -> ModelSpec:
    return decoder_spec(spec, "serving")


def _out(arr: np.ndarray) -> float | np.ndarray:
    arr = np.asarray(arr, dtype=float)
    return float(arr) if arr.ndim == 0 else arr


def _out_int(arr: np.ndarray) -> int | np.ndarray:
    arr = np.asarray(arr).astype(np.int64)
    return int(arr) if arr.ndim == 0 else arr


def _memory(value: ArrayLike) -> np.ndarray:
    return _check_array("device_memory_bytes", value, integer=False, minimum=0)


def _kv_bytes_per_token(spec: ModelSpec, kv_bytes: np.ndarray) -> np.ndarray:
    """Keys and values of one token over all layers: ``2 · layers · kv_heads · head_dim · kv_bytes``. [B]"""
    return 2.0 * spec.layers * spec.kv_heads * spec.head_dim * kv_bytes


def _act_elements(spec: ModelSpec) -> tuple[float, float]:
    """Activation working set of one sequence in one decode step: (constant, per cached token). [elements]"""
    gated = 1 if spec.ffn_kind == "gated" else 0
    const = (2 * spec.d_model + 2 * spec.q_dim + 2 * spec.kv_dim
             + (1 + gated) * spec.active_experts * spec.ffn_dim + spec.vocab_size)
    return float(const), float(spec.heads)


def _per_sequence(spec: ModelSpec, kv_bytes: np.ndarray, act_bytes: np.ndarray,
                  fused_attention: bool) -> tuple[np.ndarray, np.ndarray]:
    """Bytes one sequence adds to the footprint: (constant part, part per cached token). [B], [B/token]"""
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


def footprint(spec: ModelSpec | str, batch: ArrayLike, context: ArrayLike, weight_bytes: ArrayLike = 2.0,
              kv_bytes: ArrayLike = 2.0, act_bytes: ArrayLike = 2.0, *,
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
    weight_bytes, kv_bytes, act_bytes : float or array_like of float
        Storage per weight / K or V element / activation element. [B/element]
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
    Weights: :func:`memwall.models.parameter_count` with embeddings (an untied LM head included) times
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
    spec = _spec(spec)
    b = _check_array("batch", batch, integer=True, minimum=1)
    c = _check_array("context", context, integer=True, minimum=0)
    wb = _check_precision("weight_bytes", weight_bytes)
    kb = _check_precision("kv_bytes", kv_bytes)
    ab = _check_precision("act_bytes", act_bytes)
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


def max_batch(spec: ModelSpec | str, device_memory_bytes: ArrayLike, context: ArrayLike,
              weight_bytes: ArrayLike = 2.0, kv_bytes: ArrayLike = 2.0, act_bytes: ArrayLike = 2.0, *,
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
    weight_bytes, kv_bytes, act_bytes : float or array_like of float
        Storage widths. [B/element]
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
    wb = _check_precision("weight_bytes", weight_bytes)
    kb = _check_precision("kv_bytes", kv_bytes)
    ab = _check_precision("act_bytes", act_bytes)
    weights = parameter_count(spec) * wb
    const, per_token = _per_sequence(spec, kb, ab, fused_attention)
    per_seq = const + per_token * c
    guess = np.maximum(np.floor((mem - weights) / per_seq), 0.0)

    def fits(n: np.ndarray) -> np.ndarray:  # the footprint total, written as in _footprint
        return weights + n * per_seq <= mem

    guess = np.where(fits(guess + 1), guess + 1, guess)  # undo floating-point rounding either way
    guess = np.where((guess > 0) & ~fits(guess), guess - 1, guess)
    return _out_int(np.maximum(guess, 0.0))


def max_context(spec: ModelSpec | str, device_memory_bytes: ArrayLike, batch: ArrayLike = 1,
                weight_bytes: ArrayLike = 2.0, kv_bytes: ArrayLike = 2.0, act_bytes: ArrayLike = 2.0, *,
                fused_attention: bool = True) -> int | np.ndarray:
    """Longest context whose :func:`footprint` for ``batch`` sequences fits in device memory.

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder architecture or preset name.
    device_memory_bytes : float or array_like of float
        Usable device memory. [B]
    batch : int or array_like of int
        Sequences. [sequences]
    weight_bytes, kv_bytes, act_bytes : float or array_like of float
        Storage widths. [B/element]
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
    wb = _check_precision("weight_bytes", weight_bytes)
    kb = _check_precision("kv_bytes", kv_bytes)
    ab = _check_precision("act_bytes", act_bytes)
    weights = parameter_count(spec) * wb
    const, per_token = _per_sequence(spec, kb, ab, fused_attention)

    def fits(n: np.ndarray) -> np.ndarray:
        return weights + b * (const + per_token * n) <= mem

    guess = np.maximum(np.floor((mem - weights - b * const) / (b * per_token)), 0.0)
    guess = np.where(fits(guess + 1), guess + 1, guess)
    guess = np.where((guess > 0) & ~fits(guess), guess - 1, guess)
    return _out_int(np.maximum(guess, 0.0))


# ------------------------------------------------------------------------------------------- time


def _decode_ops(spec: ModelSpec, batch: ArrayLike, context: ArrayLike, weight_bytes: ArrayLike,
                act_bytes: ArrayLike, kv_bytes: ArrayLike, fused_attention: bool, include_lm_head: bool) -> dict:
    _check_array("batch", batch, integer=True, minimum=1)  # named here, as the caller knows them
    _check_array("context", context, integer=True, minimum=0)
    return cost_arrays(spec, "decode", context, batch, weight_bytes, act_bytes, kv_bytes,
                       fused_attention=fused_attention, include_lm_head=include_lm_head)


def _bound(ops: dict, ceilings: Ceilings) -> np.ndarray:
    """Sum over operations of ``max(flops / peak, bytes / bandwidth)``. [s]"""
    return sum(np.maximum(o.flops / ceilings.peak_flop_per_s,
                          (o.bytes_read + o.bytes_written) / ceilings.bandwidth_bytes_per_s)
               for o in ops.values())


def decode_step_time(spec: ModelSpec | str, ceilings: Ceilings, batch: ArrayLike = 1, context: ArrayLike = 0,
                     weight_bytes: ArrayLike = 2.0, act_bytes: ArrayLike = 2.0, kv_bytes: ArrayLike = 2.0, *,
                     fused_attention: bool = True, include_lm_head: bool = True) -> float | np.ndarray:
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
    weight_bytes, act_bytes, kv_bytes : float or array_like of float
        Storage widths. [B/element]
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
        a width not positive; an encoder.

    Notes
    -----
    At batch 1 with a short context, decode reads every weight once and does 2 FLOPs per weight: the
    bound is about ``parameter_count · weight_bytes / bandwidth`` (Pope et al. 2022, arXiv 2211.05102,
    §2: small-batch decode is memory-bandwidth bound). Embedding rows are not read beyond the token's.
    """
    spec = _spec(spec)
    ops = _decode_ops(spec, batch, context, weight_bytes, act_bytes, kv_bytes, fused_attention, include_lm_head)
    return _out(_bound(ops, ceilings))


def tokens_per_s(spec: ModelSpec | str, ceilings: Ceilings, batch: ArrayLike = 1, context: ArrayLike = 0,
                 weight_bytes: ArrayLike = 2.0, act_bytes: ArrayLike = 2.0, kv_bytes: ArrayLike = 2.0,
                 **options: bool) -> float | np.ndarray:
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
        As :func:`decode_step_time`.
    """
    step = decode_step_time(spec, ceilings, batch, context, weight_bytes, act_bytes, kv_bytes, **options)
    return _out(np.asarray(batch, dtype=float) / step)


def ms_per_token(spec: ModelSpec | str, ceilings: Ceilings, batch: ArrayLike = 1, context: ArrayLike = 0,
                 weight_bytes: ArrayLike = 2.0, act_bytes: ArrayLike = 2.0, kv_bytes: ArrayLike = 2.0,
                 **options: bool) -> float | np.ndarray:
    """Lower bound on the time between two tokens of one sequence: ``1000 · decode_step_time``.

    Parameters
    ----------
    spec, ceilings, batch, context, weight_bytes, act_bytes, kv_bytes, **options
        As in :func:`decode_step_time`. [sequences], [tokens], [B/element]

    Returns
    -------
    float or numpy.ndarray
        Inter-token latency seen by each sequence of the batch. [ms]

    Raises
    ------
    ValueError
        As :func:`decode_step_time`.
    """
    return _out(1e3 * np.asarray(decode_step_time(spec, ceilings, batch, context, weight_bytes, act_bytes,
                                                  kv_bytes, **options)))


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
        If a ceiling or ``weight_bytes`` is not positive and finite.

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
    return _out(p / bw * wb / 2.0)


_SCOPES = {"step": None, "weight_matmuls": ("projection", "ffn")}


def critical_batch(spec: ModelSpec | str | None, ceilings: Ceilings, weight_bytes: ArrayLike = 2.0,
                   act_bytes: ArrayLike = 2.0, kv_bytes: ArrayLike = 2.0, context: ArrayLike = 0, *,
                   scope: str = "step", fused_attention: bool = True,
                   include_lm_head: bool = True) -> float | np.ndarray:
    """Smallest batch at which a decode step is compute-bound; ``np.inf`` if no batch gets there.

    Parameters
    ----------
    spec : ModelSpec, str or None
        Decoder architecture or preset name; ``None`` gives :func:`critical_batch_closed_form`.
    ceilings : Ceilings
        Device.
    weight_bytes, act_bytes, kv_bytes : float or array_like of float
        Storage widths (only ``weight_bytes`` is used when ``spec`` is None). [B/element]
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
        Unknown ``scope``; bad widths or context as in :func:`decode_step_time`.

    Notes
    -----
    Per step, FLOPs grow as ``B · F(c)`` and bytes as ``W(B) + B · K(c)``: weights ``W`` read once
    (for a mixture of experts, the experts some token uses), and per sequence ``K`` its KV cache of
    ``c`` tokens, ``2 · layers · kv_heads · head_dim · kv_bytes · (c + 1)`` B, plus activations. Hence

    .. math::

        B^* = \\left\\lceil \\frac{W / BW}{F / P - K / BW} \\right\\rceil \\quad
        \\text{if}\\ F / P > K / BW, \\ \\text{else never.}

    The attention part of ``F/K`` is ``2 (heads / kv_heads) / kv_bytes`` FLOP/B, far below any
    accelerator's ridge, so a longer context raises ``B*`` until, past a few hundred tokens for
    Llama-3-8B on an H100, no batch is compute-bound; an 8-bit KV cache or fewer KV heads
    (grouped-/multi-query attention, Ainslie et al. 2023, arXiv 2305.13245; Shazeer 2019,
    arXiv 1911.02150) lower ``K`` and push that limit out. ``B*`` is found by bisection on the cost
    model (exact for dense and mixture-of-experts models alike, since ``W(B)`` is concave).
    """
    if spec is None:
        return critical_batch_closed_form(ceilings.peak_flop_per_s, ceilings.bandwidth_bytes_per_s, weight_bytes)
    if scope not in _SCOPES:
        raise ValueError(f"scope must be one of {tuple(_SCOPES)}, got {scope!r}")
    spec = _spec(spec)
    categories = _SCOPES[scope]

    def compute_bound(b: np.ndarray) -> np.ndarray:
        ops = _decode_ops(spec, b, context, weight_bytes, act_bytes, kv_bytes, fused_attention, include_lm_head)
        chosen = [o for o in ops.values() if categories is None or o.category in categories]
        flops = sum(o.flops for o in chosen)
        bytes_ = sum(o.bytes_read + o.bytes_written for o in chosen)
        return flops / ceilings.peak_flop_per_s >= bytes_ / ceilings.bandwidth_bytes_per_s

    one = np.ones(np.broadcast_shapes(*(np.shape(x) for x in (weight_bytes, act_bytes, kv_bytes, context))))
    lo, hi = one.copy(), one * CRITICAL_BATCH_SEARCH_LIMIT
    at_one, at_limit = compute_bound(lo), compute_bound(hi)
    # Invariant: memory-bound at lo, compute-bound at hi (entries decided at the ends are left alone).
    while True:
        open_ = ~at_one & at_limit & (hi - lo > 1)
        if not open_.any():
            break
        mid = np.floor((lo + hi) / 2)
        cb = compute_bound(mid)
        hi = np.where(open_ & cb, mid, hi)
        lo = np.where(open_ & ~cb, mid, lo)
    return _out(np.where(at_one, 1.0, np.where(at_limit, hi, np.inf)))


# ------------------------------------------------------------------------------------------ frontier

_FRONTIER_COLUMNS = ["batch", "step_time_s", "tokens_per_s", "ms_per_token", "footprint_bytes",
                     "weights_bytes", "kv_cache_bytes", "activation_bytes", "fits", "compute_bound"]


def frontier(spec: ModelSpec | str, ceilings: Ceilings, device_memory_bytes: float, context: int,
             weight_bytes: float = 2.0, act_bytes: float = 2.0, kv_bytes: float = 2.0,
             batches: ArrayLike | None = None, *, fused_attention: bool = True,
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
    weight_bytes, act_bytes, kv_bytes : float
        Storage widths (``**get_scheme(name).byte_widths``). [B/element]
    batches : array_like of int, optional
        Batches to evaluate; rows that do not fit are kept with ``fits=False``. Default: powers of two
        below :func:`max_batch` and :func:`max_batch` itself, so the table ends where memory runs out.
    fused_attention, include_lm_head : bool
        As in :func:`decode_step_time`.

    Returns
    -------
    pandas.DataFrame
        One row per batch: ``batch`` [sequences], ``step_time_s`` [s], ``tokens_per_s`` (per device)
        [tokens/s], ``ms_per_token`` (per sequence) [ms], ``footprint_bytes``, ``weights_bytes``,
        ``kv_cache_bytes``, ``activation_bytes`` [B], ``fits`` and ``compute_bound`` (step FLOP time
        at least its memory time). ``attrs`` holds ``max_batch`` and ``message``; when not even one
        sequence fits, the default table is empty, ``attrs["max_batch"] == 0`` and the message says
        how much memory the weights alone need.

    Raises
    ------
    ValueError
        Array-valued ``context`` or widths, ``batches`` not positive integers, and as
        :func:`max_batch`.
    """
    spec = _spec(spec)
    for name, value in (("context", context), ("weight_bytes", weight_bytes), ("act_bytes", act_bytes),
                        ("kv_bytes", kv_bytes), ("device_memory_bytes", device_memory_bytes)):
        if np.ndim(value):
            raise ValueError(f"{name} must be a scalar for frontier, got {value!r}")
    widths = {"weight_bytes": weight_bytes, "kv_bytes": kv_bytes, "act_bytes": act_bytes}
    limit = max_batch(spec, device_memory_bytes, context, **widths, fused_attention=fused_attention)
    if batches is None:
        grid = [2**k for k in range(int(math.log2(limit)) + 1) if 2**k < limit] + [limit] if limit else []
        b = np.asarray(grid, dtype=float)
    else:
        b = _check_array("batches", np.atleast_1d(np.asarray(batches, dtype=float)), integer=True, minimum=1)
    fp = footprint(spec, np.maximum(b, 1.0), context, **widths, fused_attention=fused_attention)
    if b.size:
        ops = _decode_ops(spec, b, context, weight_bytes, act_bytes, kv_bytes, fused_attention, include_lm_head)
        step = np.asarray(_bound(ops, ceilings), dtype=float)
        flop_time = sum(o.flops for o in ops.values()) / ceilings.peak_flop_per_s
        mem_time = sum(o.bytes_read + o.bytes_written for o in ops.values()) / ceilings.bandwidth_bytes_per_s
    else:
        step = flop_time = mem_time = np.zeros(0)
    df = pd.DataFrame({
        "batch": b.astype(np.int64),
        "step_time_s": step,
        "tokens_per_s": b / step if b.size else step,
        "ms_per_token": 1e3 * step,
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


def request_split(spec: ModelSpec | str, ceilings: Ceilings, prompt_len: ArrayLike, output_len: ArrayLike,
                  batch: ArrayLike = 1, weight_bytes: ArrayLike = 2.0, act_bytes: ArrayLike = 2.0,
                  kv_bytes: ArrayLike = 2.0, *, fused_attention: bool = True, causal_halving: bool = True,
                  include_lm_head: bool = True) -> RequestSplit:
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
    weight_bytes, act_bytes, kv_bytes : float or array_like of float
        Storage widths. [B/element]
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
        ``prompt_len`` or ``output_len`` below 1, ``batch`` not a positive integer, a width not
        positive; an encoder.

    Notes
    -----
    The first output token comes from the prefill; tokens ``2 … n`` come from decode steps whose caches
    hold ``p, p+1, …, p+n-2`` tokens. Each operation's FLOPs and bytes are affine in the cache length
    ``c``, so the sum of ``max(F(c)/P, M(c)/BW)`` over the steps is computed in closed form: the memory
    time summed as an arithmetic series plus the positive part of ``F/P - M/BW`` over the steps where
    the operation is compute-bound.
    """
    spec = _spec(spec)
    p = _check_array("prompt_len", prompt_len, integer=True, minimum=1)
    n = _check_array("output_len", output_len, integer=True, minimum=1)
    prefill = cost_arrays(spec, "prefill", p, batch, weight_bytes, act_bytes, kv_bytes,
                          fused_attention=fused_attention, causal_halving=causal_halving)
    ttft = _bound(prefill, ceilings)
    if include_lm_head:
        head = cost_arrays(spec, "decode", 0, batch, weight_bytes, act_bytes, kv_bytes, include_lm_head=True)
        ttft = ttft + _bound({k: v for k, v in head.items() if k in ("final_norm", "lm_head")}, ceilings)

    peak, bw = ceilings.peak_flop_per_s, ceilings.bandwidth_bytes_per_s
    at0 = _decode_ops(spec, batch, 0, weight_bytes, act_bytes, kv_bytes, fused_attention, include_lm_head)
    at1 = _decode_ops(spec, batch, 1, weight_bytes, act_bytes, kv_bytes, fused_attention, include_lm_head)
    lo, hi = p, p + n - 2
    steps = n - 1
    decode_sum = 0.0
    for name, o0 in at0.items():
        o1 = at1[name]
        m0, m1 = (o0.bytes_read + o0.bytes_written) / bw, (o1.bytes_read + o1.bytes_written) / bw
        f0, f1 = o0.flops / peak, o1.flops / peak
        memory = steps * m0 + (m1 - m0) * (lo + hi) * steps / 2  # arithmetic series of M(c)/BW
        decode_sum = decode_sum + memory + _positive_part_sum(f0 - m0, (f1 - f0) - (m1 - m0), lo, hi)
    decode_sum = np.where(steps > 0, decode_sum, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        tpot = np.where(steps > 0, decode_sum / np.where(steps > 0, steps, 1.0), np.nan)
    total = ttft + decode_sum
    shape = np.broadcast_shapes(np.shape(ttft), np.shape(tpot), np.shape(total))
    return RequestSplit(*(_out(np.broadcast_to(x, shape)) for x in (ttft, tpot, total)))


# ------------------------------------------------------------------------------------ chapter tables


def quantization_table(hardware: pd.DataFrame, models: Sequence[str], devices: Sequence[str],
                       schemes: Sequence[str], context: int = 1024) -> pd.DataFrame:
    """Batch-1 decode bound and footprint of each model on each device under each precision scheme.

    Parameters
    ----------
    hardware : pandas.DataFrame
        Table from :func:`memwall.datasets.load_hardware`.
    models, devices, schemes : sequence of str
        Preset names, device names (``hardware.csv``) and scheme names (:func:`get_scheme`).
    context : int
        Tokens in the KV cache. [tokens]

    Returns
    -------
    pandas.DataFrame
        One row per (model, device, scheme): ``weight_bits`` [bit], ``ms_per_token`` [ms] (roofline bound,
        batch 1), ``footprint_gb`` [GB = 1e9 B] (weights + KV cache + activations at batch 1), ``memory_gb``
        [GB] and ``fits``. Devices without a peak for the scheme's compute format are left out.
    """
    rows = []
    for device in devices:
        mem = device_memory_bytes(hardware, device)
        for name in schemes:
            scheme = get_scheme(name)
            try:
                ceil = ceilings_for(hardware, device, scheme)
            except ValueError:
                continue  # no datasheet peak at this compute format (e.g. no FP8 on an A100)
            for model in models:
                widths = scheme.byte_widths
                fp = footprint(model, 1, context, widths["weight_bytes"], widths["kv_bytes"], widths["act_bytes"])
                rows.append({"model": model, "device": device, "scheme": scheme.name,
                             "weight_bits": 8 * widths["weight_bytes"],
                             "ms_per_token": float(ms_per_token(model, ceil, 1, context, **widths)),
                             "footprint_gb": float(fp.total) / 1e9, "memory_gb": mem / 1e9,
                             "fits": bool(fp.total <= mem)})
    return pd.DataFrame(rows)


def critical_batch_table(hardware: pd.DataFrame, devices: Sequence[str], schemes: Sequence[str]) -> pd.DataFrame:
    """Closed-form critical batch ``(P / BW) * b_w / 2`` of each device under each scheme.

    Parameters
    ----------
    hardware : pandas.DataFrame
        Table from :func:`memwall.datasets.load_hardware`.
    devices, schemes : sequence of str
        Device names and scheme names.

    Returns
    -------
    pandas.DataFrame
        ``device``, ``scheme``, ``peak_flop_per_s`` [FLOP/s], ``bandwidth_bytes_per_s`` [B/s],
        ``ridge_flop_per_byte`` [FLOP/B] and ``critical_batch`` [sequences]; pairs without a datasheet peak
        for the scheme's compute format are left out.
    """
    rows = []
    for device in devices:
        for name in schemes:
            scheme = get_scheme(name)
            try:
                ceil = ceilings_for(hardware, device, scheme)
            except ValueError:
                continue
            rows.append({"device": device, "scheme": scheme.name, "peak_flop_per_s": ceil.peak_flop_per_s,
                         "bandwidth_bytes_per_s": ceil.bandwidth_bytes_per_s,
                         "ridge_flop_per_byte": ceil.ridge_flop_per_byte,
                         "critical_batch": float(critical_batch_closed_form(
                             ceil.peak_flop_per_s, ceil.bandwidth_bytes_per_s, scheme.weight_bytes))})
    return pd.DataFrame(rows)


def frontier_grid(hardware: pd.DataFrame, model: str, devices: Sequence[str], contexts: Sequence[int],
                  scheme: str = "W16A16", batch_exponents: Sequence[int] = tuple(range(11))) -> pd.DataFrame:
    """Throughput-latency points over devices, contexts and batches ``2**k`` (for an interactive chart).

    Parameters
    ----------
    hardware : pandas.DataFrame
        Table from :func:`memwall.datasets.load_hardware`.
    model : str
        Decoder preset.
    devices : sequence of str
        Device names.
    contexts : sequence of int
        Cached tokens per sequence. [tokens]
    scheme : str
        Precision scheme.
    batch_exponents : sequence of int
        Batches are ``2**k`` for these ``k``. [sequences]

    Returns
    -------
    pandas.DataFrame
        ``device``, ``context``, ``k``, ``batch``, ``tokens_per_s`` [tokens/s per device], ``ms_per_token``
        [ms], ``footprint_gb`` [GB] and ``fits`` (footprint within the device memory).
    """
    widths = get_scheme(scheme).byte_widths
    frames = []
    for device in devices:
        ceil = ceilings_for(hardware, device, scheme)
        mem = device_memory_bytes(hardware, device)
        ks = np.asarray(batch_exponents)
        for context in contexts:
            f = frontier(model, ceil, mem, int(context), batches=2**ks, **widths)
            frames.append(f.assign(device=device, context=int(context), k=ks,
                                   footprint_gb=f["footprint_bytes"] / 1e9))
    out = pd.concat(frames, ignore_index=True)
    return out[["device", "context", "k", "batch", "tokens_per_s", "ms_per_token", "footprint_gb", "fits"]]
