"""One serving configuration in microseconds: prefill bound, decode-step bound and memory footprint.

:func:`estimate` answers, for one model, one device and one configuration, what
:func:`memwall.serving.frontier.request_split` (time to first token), :func:`memwall.serving.decode.decode_step_time`
and :func:`memwall.serving.memory.footprint` answer, without their per-call numpy overhead (about 2 ms
together): a few tens of microseconds, for loops over configurations in Python (a search, a CLI, a service).

It adds no formula. The FLOPs and bytes are those of :func:`memwall.cost.cost_arrays`: the same cached
coefficient array of the spec (:func:`memwall.cost_terms._coefficients`, built from the one op list
:func:`memwall.cost_terms._op_terms`) multiplied by the same per-configuration quantities
(:func:`memwall.cost_terms._basis`, here on Python floats), the roofline bound of each operation taken as
``max(flops / peak, bytes / bandwidth)`` (Williams et al. 2009) and summed. The footprint is assembled from
the per-spec pieces :mod:`memwall.serving.memory` itself uses (:func:`memwall.specs.parameter_count`,
:func:`memwall.specs.attention.kv_elements_per_token` and ``_layer_tokens``, ``memory._act_elements`` and
``memory._score_keys``), cached per spec. ``tests/test_quick.py`` checks every field against those functions
on every preset and on random configurations; ``bench/bench_cost.py`` times it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from memwall._checks import MAX_EXACT_INT, _check_array, finite_result, flag, instance
from memwall.cost_terms import _BASIS, _basis, _coefficients
from memwall.roofline import Ceilings
from memwall.serving import memory
from memwall.serving.memory import Footprint
from memwall.specs.attention import AttentionShape, _layer_tokens, from_model_spec, kv_elements_per_token
from memwall.specs.model_spec import ModelSpec, parameter_count
from memwall.specs.presets import decoder_spec
from memwall.widths import BF16, ByteWidths

__all__ = ["Estimate", "estimate"]


class Estimate(NamedTuple):
    """Roofline bounds and memory of one serving configuration.

    Attributes
    ----------
    prefill_s : float
        Lower bound on the prefill of ``batch`` prompts, the LM head of each prompt's last token included
        when asked (time to first token). [s]
    decode_step_s : float
        Lower bound on one decode step at ``context`` cached tokens per sequence (time per output token). [s]
    footprint : memwall.serving.memory.Footprint
        Weights, KV cache, activations and total at ``context`` cached tokens. [B]
    """

    prefill_s: float
    decode_step_s: float
    footprint: Footprint


class _Plan(NamedTuple):
    matrix: np.ndarray  # (4·2·ops, blocks·len(_BASIS)): per width slot, the F rows of all blocks, then their B rows
    n_ops: int  # rows of the prefill and the decode step together
    n_prefill: int  # the first rows: the prefill (the rest: the decode step)
    params: tuple[float, float, float, float]  # experts, active experts, window, causal halving
    weights: float  # resident parameters [parameters]
    kv_row: float  # cached elements per token and layer [elements]
    attention: AttentionShape  # the spec's attention (windows)
    act_const: float  # activation elements per sequence [elements]
    act_per_key: float  # activation elements per score key when attention is not fused [elements]


def _build_plan(spec: ModelSpec, fused: bool, halving: bool, lm_head: bool) -> _Plan:
    """The coefficient rows of the prefill and the decode step as one block matrix.

    With ``lm_head`` the prefill counts the final norm and LM head on each prompt's last token
    (``include_lm_head="last"`` of :func:`memwall.cost.cost_arrays`), the decode step on its one token.
    """
    pre = _coefficients((spec,), False, fused, "last" if lm_head else "none", False, True)
    dec = _coefficients((spec,), True, fused, "all" if lm_head else "none", False, True)
    blocks = (pre, dec)
    n_ops = sum(len(coef.names) for coef in blocks)
    j = len(_BASIS)
    matrix = np.zeros((4, 2 * n_ops, len(blocks) * j))  # flattened to (4·2·ops, columns) below
    row = 0
    for k, coef in enumerate(blocks):
        m = coef.matrix[0]
        for i in range(len(coef.names)):
            for col, (slot, basis) in enumerate(coef.columns):
                matrix[slot, row, k * j + basis] += m[3 * i, col]  # flops
                matrix[slot, n_ops + row, k * j + basis] += m[3 * i + 1, col] + m[3 * i + 2, col]  # bytes
            row += 1
    matrix = np.ascontiguousarray(matrix.reshape(4 * 2 * n_ops, len(blocks) * j))
    matrix.setflags(write=False)
    a = from_model_spec(spec)
    const, per_key = memory._act_elements(spec)
    params = (float(spec.experts), float(spec.active_experts), float(spec.sliding_window),
              float(halving and spec.causal))
    return _Plan(matrix, n_ops, len(pre.names), params, float(parameter_count(spec)),
                 float(kv_elements_per_token(a) // a.layers), a, float(const), float(per_key))


#: Plans by (id(spec), options), holding the spec so that its id stays its own; bounded like an LRU cache.
_PLANS: dict[tuple[int, bool, bool, bool], tuple[ModelSpec, _Plan]] = {}
_PLANS_MAX = 256


def _plan(spec: ModelSpec, fused: bool, halving: bool, lm_head: bool) -> _Plan:
    """:func:`_build_plan`, cached by the spec's identity (hashing a frozen spec costs more than the rest)."""
    key = (id(spec), fused, halving, lm_head)
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is spec:
        return hit[1]
    plan = _build_plan(spec, fused, halving, lm_head)
    if len(_PLANS) >= _PLANS_MAX:
        _PLANS.pop(next(iter(_PLANS)))
    _PLANS[key] = (spec, plan)
    return plan


def _count(name: str, value: object, minimum: int) -> float:
    """An integer count as a float; one configuration only."""
    if type(value) is int and minimum <= value <= MAX_EXACT_INT:
        return float(value)
    arr = _check_array(name, value, integer=True, minimum=minimum)
    if arr.ndim:
        raise ValueError(f"{name} must be a scalar for estimate (use memwall.cost.cost_arrays), got {value!r}")
    return float(arr)


def _width(name: str, value: object) -> float:
    if type(value) is float:
        return value
    if np.ndim(value):
        raise ValueError(f"{name} must be a scalar for estimate (use memwall.cost.cost_arrays), got {value!r}")
    return float(value)  # type: ignore[arg-type]


def estimate(spec: ModelSpec | str, ceilings: Ceilings, prompt_len: int, context: int | None = None,
             batch: int = 1, *, widths: ByteWidths = BF16, fused_attention: bool = True, causal_halving: bool = True,
             include_lm_head: bool = True) -> Estimate:
    """Prefill bound, decode-step bound and memory footprint of one configuration, fast.

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder architecture or preset name.
    ceilings : memwall.roofline.Ceilings
        Device: peak at the precision the matmuls run in [FLOP/s], DRAM bandwidth [B/s].
    prompt_len : int
        Prompt tokens per sequence (at least 1). [tokens]
    context : int, optional
        Cached tokens per sequence at the decode step and in the footprint; default ``prompt_len`` (the
        first decode step after the prefill). [tokens]
    batch : int
        Sequences prefilled and decoded together. [sequences]
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache, scalars (keyword-only; default ``BF16``).
        [B/element]
    fused_attention : bool
        Scores stay on chip, in prefill, decode and the footprint (default, as serving kernels run).
    causal_halving : bool
        The prefill counts only the causal part of each score grid (default, as causal FlashAttention).
    include_lm_head : bool
        Count the final norm and LM head: for each prompt's last token in the prefill
        (``include_lm_head="last"`` of :func:`memwall.cost.cost_arrays`), for every sequence in the decode
        step (default).

    Returns
    -------
    Estimate
        ``prefill_s`` [s], equal to :func:`memwall.serving.frontier.request_split`'s ``ttft_s``;
        ``decode_step_s`` [s], equal to :func:`memwall.serving.decode.decode_step_time`; ``footprint``
        [B], equal to :func:`memwall.serving.memory.footprint` (same options).

    Raises
    ------
    ValueError
        An encoder or unknown preset; ``prompt_len`` or ``batch`` not a positive integer, ``context``
        negative or not an integer (bools and strings are not numbers; at most ``2**53 - 1``); a flag not a bool;
        an array where one configuration is expected; a result that overflows a float (the message lists the
        inputs).
    ArgumentTypeError
        ``ceilings`` not a :class:`~memwall.roofline.Ceilings`, ``widths`` not a ByteWidths.

    Notes
    -----
    Each bound is ``Σ_ops max(F_op / P, M_op / BW)`` over the operations of
    :func:`memwall.cost.cost_arrays` (Williams, Waterman & Patterson 2009, doi 10.1145/1498765.1498785),
    computed as one product of the spec's cached coefficient matrix (one slice per width slot) with the
    per-configuration quantities of :func:`memwall.cost_terms._basis`, the slices weighted by ``1/P`` (FLOPs) and
    ``width/BW`` (bytes).

    Examples
    --------
    Llama-3-8B on a device of 989 TFLOP/s and 3.35 TB/s, one 1024-token prompt: the decode step streams
    about 16 GB of weights and the 1024-token cache, about 4.5 ms; the footprint is 16.2 GB.

    >>> from memwall.quick import estimate
    >>> from memwall.roofline import Ceilings
    >>> e = estimate("llama-3-8b", Ceilings(989e12, 3.35e12), 1024)
    >>> round(e.decode_step_s * 1e3, 1), round(e.footprint.total / 1e9, 1)
    (4.5, 16.2)
    """
    if type(spec) is not ModelSpec:
        spec = decoder_spec(spec, "estimate")
    elif not spec.causal:
        raise ValueError(f"estimate needs a causal (decoder) model, got encoder {spec.name!r}")
    p = _count("prompt_len", prompt_len, 1)
    c = p if context is None else _count("context", context, 0)
    b = _count("batch", batch, 1)
    if type(ceilings) is not Ceilings:
        instance("ceilings", ceilings, Ceilings)
    if type(widths) is not ByteWidths:
        instance("widths", widths, ByteWidths)
    if type(fused_attention) is not bool or type(causal_halving) is not bool or type(include_lm_head) is not bool:
        fused_attention = flag("fused_attention", fused_attention)
        causal_halving = flag("causal_halving", causal_halving)
        include_lm_head = flag("include_lm_head", include_lm_head)
    wb, ab, kb = _width("weight_bytes", widths.weight), _width("act_bytes", widths.act), _width("kv_bytes", widths.kv)
    plan = _plan(spec, bool(fused_attention), bool(causal_halving), bool(include_lm_head))
    experts, active, window, halve = plan.params
    u = np.array((*_basis("prefill", p, b, experts, active, window, halve, min),
                  *_basis("decode", c, b, experts, active, window, 0.0, min)))
    inv_bw = 1.0 / ceilings.bandwidth_bytes_per_s
    weights_of_time = (1.0 / ceilings.peak_flop_per_s, wb * inv_bw, ab * inv_bw, kb * inv_bw)
    scale = np.array(weights_of_time)
    if max(weights_of_time) < 1e250:  # the usual case: no product can overflow (F and M stay below ~1e60)
        times = scale @ (plan.matrix @ u).reshape(4, -1)  # F/P rows, then M/BW rows
    else:  # extreme widths or ceilings: the overflow is reported, naming the inputs, below
        with np.errstate(all="ignore"):
            times = scale @ (plan.matrix @ u).reshape(4, -1)
    per_op = np.maximum(times[:plan.n_ops], times[plan.n_ops:]).tolist()
    prefill_s = sum(per_op[:plan.n_prefill])
    decode_s = sum(per_op[plan.n_prefill:])
    weights = plan.weights * wb
    kv = plan.kv_row * float(_layer_tokens(plan.attention, c)) * kb * b
    scores = 0.0 if fused_attention else plan.act_per_key * float(memory._score_keys(spec, c))
    acts = b * (ab * (plan.act_const + scores))
    total = weights + kv + acts
    if not (math.isfinite(prefill_s) and math.isfinite(decode_s) and math.isfinite(total)):
        finite_result("estimate", [prefill_s, decode_s, total],
                      {"prompt_len": p, "context": c, "batch": b, "weight_bytes": wb, "act_bytes": ab, "kv_bytes": kb,
                       "peak_flop_per_s": ceilings.peak_flop_per_s,
                       "bandwidth_bytes_per_s": ceilings.bandwidth_bytes_per_s})
    return Estimate(prefill_s, decode_s, Footprint(weights, kv, acts, total))
