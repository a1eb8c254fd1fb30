r"""Speculative decoding on the roofline: how many tokens a target pass yields and what it costs.

A small *draft* model proposes ``k`` tokens one at a time; the large *target* model then scores all
``k + 1`` positions (the ``k`` proposals and one more) in a single forward pass and keeps the longest
prefix it agrees with, plus one token of its own (Leviathan, Kalman and Matias, *Fast Inference from
Transformers via Speculative Decoding*, ICML 2023, arXiv 2211.17192; the same scheme is Chen et al.,
arXiv 2302.01318). The output distribution is exactly the target's.

Why it helps on a memory-bound device: the verify pass reads the target's weights once for ``k + 1``
tokens, so the weight matmuls do ``k + 1`` times the FLOPs per byte of a decode step
(:func:`weight_matmul_intensity`), while the pass takes about as long as one decode step as long as it
stays left of the ridge point.

This module computes, with :mod:`memwall.cost` and the roofline of :mod:`memwall.roofline`:

* :func:`expected_tokens_per_step`: tokens per target pass at acceptance rate ``alpha``
  (Leviathan et al. 2023, Eq. 1, i.i.d. acceptance);
* :func:`verify_ops`, :func:`verify_step_time`: the verify pass over ``k + 1`` tokens against a KV cache;
* :func:`time_per_token_from_steps`, :func:`speculative_time_per_token`: the time-per-token bound
  ``(k · draft step + verify pass) / expected tokens`` against plain decode;
* :func:`memwall.beyond.speculative_grid.best_k` (the ``k`` that minimises it for each ``alpha``) and
  :func:`memwall.beyond.speculative_grid.speculative_grid` (a table over devices, ``alpha`` and ``k``
  for an interactive chart) build tables from these, in :mod:`memwall.beyond.speculative_grid`.

Conventions as in :mod:`memwall.serving`: fused attention, logits for every scored position, bytes and times in
SI units, one multiply-add = 2 FLOPs. Not modelled: the draft catching up on a rejected token's cache,
tree-structured drafts, sampling overheads, batching several sequences.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from memwall._checks import _check_array
from memwall.cost import OpCost, cost_arrays
from memwall.roofline import Ceilings
from memwall.serving.decode import decode_step_time
from memwall.specs.model_spec import ModelSpec
from memwall.specs.presets import decoder_spec
from memwall.widths import BF16, ByteWidths

__all__ = ["SpeculativeBound", "expected_tokens_per_step", "speculative_time_per_token", "time_per_token_from_steps",
           "verify_ops", "verify_step_time", "weight_matmul_intensity"]


_WEIGHT_CATEGORIES = ("projection", "ffn")


def _spec(spec: ModelSpec | str) -> ModelSpec:
    return decoder_spec(spec, "speculative decoding")


def _alpha(alpha: ArrayLike) -> np.ndarray:
    a = np.asarray(alpha, dtype=float)
    bad = ~np.isfinite(a) | (a < 0) | (a > 1)
    if np.any(bad):
        first = a.reshape(-1)[np.flatnonzero(bad.reshape(-1))[0]].item()
        raise ValueError(f"alpha must be an acceptance rate in [0, 1], got {first!r}")
    return a


def _out(arr: ArrayLike) -> float | np.ndarray:
    arr = np.asarray(arr, dtype=float)
    return float(arr) if arr.ndim == 0 else arr


# ------------------------------------------------------------------------------------- acceptance


def expected_tokens_per_step(alpha: ArrayLike, k: ArrayLike) -> float | np.ndarray:
    """Expected tokens produced by one target pass that verifies ``k`` drafted tokens.

    Parameters
    ----------
    alpha : float or array_like of float
        Probability that the target accepts a drafted token, the same for every position and
        independent of the others (Leviathan et al.'s i.i.d. assumption), in ``[0, 1]``.
    k : int or array_like of int
        Drafted tokens per target pass (``k = 0`` is plain decoding). [tokens]

    Returns
    -------
    float or numpy.ndarray
        ``(1 - alpha**(k+1)) / (1 - alpha)``, and ``k + 1`` at ``alpha = 1``; broadcast over the
        arguments. [tokens per target pass]

    Raises
    ------
    ValueError
        ``alpha`` outside ``[0, 1]`` or not finite; ``k`` negative or not an integer.

    Notes
    -----
    Leviathan, Kalman and Matias, arXiv 2211.17192, Eq. (1): the number of accepted drafts is
    capped-geometric, ``P(n accepted) = alpha**n (1 - alpha)`` for ``n < k`` and ``alpha**k`` for
    ``n = k``; the target always adds one token (a correction after a rejection, or a bonus token when
    all ``k`` are accepted), so the expectation is ``sum_{n=0}^{k} alpha**n``.
    """
    a = _alpha(alpha)
    kk = _check_array("k", k, integer=True, minimum=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        geometric = (1.0 - a ** (kk + 1.0)) / (1.0 - a)
    return _out(np.where(a == 1.0, kk + 1.0, geometric))


# ----------------------------------------------------------------------------------- verify pass


def verify_ops(spec: ModelSpec | str, k: ArrayLike, context: ArrayLike = 0, *,
               widths: ByteWidths = BF16) -> dict[str, OpCost]:
    """Operations of the target's verify pass: ``k + 1`` new tokens against a KV cache of ``context``.

    Parameters
    ----------
    spec : ModelSpec or str
        Target decoder or preset name.
    k : int or array_like of int
        Drafted tokens; the pass scores ``k + 1`` positions. [tokens]
    context : int or array_like of int
        Tokens already in the target's KV cache. [tokens]
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``BF16``). [B/element]

    Returns
    -------
    dict of str to OpCost
        Whole-model FLOPs [FLOP] and bytes [B] per operation, broadcast over the arguments: the
        operations of :func:`memwall.cost.cost_arrays` for a causal prefill of ``k + 1`` tokens
        (fused attention, LM head over every position), with ``qk_matmul``, ``softmax`` and
        ``sv_matmul`` extended by the ``context`` cached keys and values (see Notes).

    Raises
    ------
    ValueError
        ``k`` or ``context`` negative or not integers, a width not positive, an encoder.

    Notes
    -----
    Attending to ``context`` more cached tokens adds, per query, what a decode step at ``context``
    adds over a decode step at cache 0: ``Δ = decode(context) - decode(0)`` (the cost model is affine in
    the cache length). The ``k + 1`` queries each pay ``Δ`` FLOPs, but a fused kernel reads the cached
    keys and values once for all of them, so the bytes grow by ``Δ`` only once. With ``k = 0`` the pass
    is exactly one decode step at ``context`` (checked in the tests).
    """
    spec = _spec(spec)
    kk = _check_array("k", k, integer=True, minimum=0)
    c = _check_array("context", context, integer=True, minimum=0)
    ops = cost_arrays(spec, "prefill", kk + 1.0, 1, widths=widths, fused_attention=True, causal_halving=True,
                      include_lm_head=True)
    at_c = cost_arrays(spec, "decode", c, 1, widths=widths, fused_attention=True)
    at_0 = cost_arrays(spec, "decode", 0, 1, widths=widths, fused_attention=True)
    queries = kk + 1.0
    out = {}
    for name, op in ops.items():
        if name in ("qk_matmul", "softmax", "sv_matmul"):
            d_flops = at_c[name].flops - at_0[name].flops
            d_read = at_c[name].bytes_read - at_0[name].bytes_read
            d_write = at_c[name].bytes_written - at_0[name].bytes_written
            op = OpCost(op.category, op.count, op.flops + queries * d_flops, op.bytes_read + d_read,
                        op.bytes_written + d_write)
        out[name] = op
    shape = np.broadcast_shapes(*(np.shape(v) for o in out.values() for v in o[1:]))
    return {n: OpCost(o.category, *(np.broadcast_to(np.asarray(v, dtype=float), shape) for v in o[1:]))
            for n, o in out.items()}


def _bound(ops: dict[str, OpCost], ceilings: Ceilings) -> np.ndarray:
    """Sum over operations of ``max(flops / peak, bytes / bandwidth)``, as :mod:`memwall.serving`. [s]"""
    return sum(np.maximum(o.flops / ceilings.peak_flop_per_s,
                          (o.bytes_read + o.bytes_written) / ceilings.bandwidth_bytes_per_s)
               for o in ops.values())


def verify_step_time(spec: ModelSpec | str, ceilings: Ceilings, k: ArrayLike, context: ArrayLike = 0, *,
                     widths: ByteWidths = BF16) -> float | np.ndarray:
    """Roofline lower bound on the target's verify pass over ``k + 1`` tokens.

    Parameters
    ----------
    spec : ModelSpec or str
        Target decoder or preset name.
    ceilings : Ceilings
        Device running the target.
    k, context, widths
        As in :func:`verify_ops`. [tokens], [B/element]

    Returns
    -------
    float or numpy.ndarray
        ``sum_ops max(flops / peak, bytes / bandwidth)`` over :func:`verify_ops`. [s]

    Raises
    ------
    ValueError
        As :func:`verify_ops`.
    """
    return _out(_bound(verify_ops(spec, k, context, widths=widths), ceilings))


def weight_matmul_intensity(spec: ModelSpec | str, k: ArrayLike, context: ArrayLike = 0, *,
                            widths: ByteWidths = BF16) -> float | np.ndarray:
    """Arithmetic intensity of the weight matmuls (projections, FFN, LM head) of a verify pass.

    Parameters
    ----------
    spec, k, context, widths
        As in :func:`verify_ops`; ``k = 0`` is a plain decode step. [tokens], [B/element]

    Returns
    -------
    float or numpy.ndarray
        Their summed FLOPs over their summed bytes. [FLOP/B]

    Raises
    ------
    ValueError
        As :func:`verify_ops`.

    Notes
    -----
    A ``d_in × d_out`` matmul over ``T`` tokens does ``2 T d_in d_out`` FLOPs and reads
    ``d_in d_out b_w`` weight bytes plus ``T (d_in + d_out) b_a`` activation bytes, so with
    ``T = k + 1 ≪ d`` the intensity is ``≈ 2 (k + 1) / b_w``: ``k + 1`` times that of decode.
    """
    ops = verify_ops(spec, k, context, widths=widths)
    chosen = [o for o in ops.values() if o.category in _WEIGHT_CATEGORIES]
    flops = sum(o.flops for o in chosen)
    bytes_ = sum(o.bytes_read + o.bytes_written for o in chosen)
    return _out(flops / bytes_)


# ------------------------------------------------------------------------------------ time per token


def time_per_token_from_steps(draft_step_s: ArrayLike, verify_step_s: ArrayLike, alpha: ArrayLike,
                              k: ArrayLike) -> float | np.ndarray:
    """Expected time per generated token: ``(k · draft_step + verify_step) / expected tokens``.

    Parameters
    ----------
    draft_step_s : float or array_like of float
        One decode step of the draft model. [s]
    verify_step_s : float or array_like of float
        One verify pass of the target over ``k + 1`` tokens. [s]
    alpha : float or array_like of float
        Acceptance rate in ``[0, 1]``.
    k : int or array_like of int
        Drafted tokens per pass. [tokens]

    Returns
    -------
    float or numpy.ndarray
        Time per token. [s/token]

    Raises
    ------
    ValueError
        A time negative or not finite; ``alpha`` or ``k`` as in :func:`expected_tokens_per_step`.

    Notes
    -----
    With ``verify_step_s`` equal to one target decode step ``T`` and ``draft_step_s = c · T``, the
    speedup over plain decoding ``T / time`` is ``(1 - alpha**(k+1)) / ((1 - alpha)(k c + 1))``,
    Leviathan et al. (arXiv 2211.17192), Theorem 3.8.
    """
    d = _check_array("draft_step_s", draft_step_s, integer=False, minimum=0)
    v = _check_array("verify_step_s", verify_step_s, integer=False, minimum=0)
    kk = _check_array("k", k, integer=True, minimum=0)
    return _out((kk * d + v) / expected_tokens_per_step(alpha, kk))


class SpeculativeBound(NamedTuple):
    """Time-per-token bounds of speculative and plain decoding, broadcast over the arguments.

    Attributes
    ----------
    draft_step_s : float or numpy.ndarray
        One decode step of the draft model. [s]
    verify_step_s : float or numpy.ndarray
        The target's pass over ``k + 1`` tokens. [s]
    tokens_per_step : float or numpy.ndarray
        :func:`expected_tokens_per_step`. [tokens]
    time_per_token_s : float or numpy.ndarray
        ``(k · draft_step_s + verify_step_s) / tokens_per_step``. [s/token]
    plain_time_per_token_s : float or numpy.ndarray
        The target's decode step alone. [s/token]
    speedup : float or numpy.ndarray
        ``plain_time_per_token_s / time_per_token_s``. [x]
    """

    draft_step_s: float | np.ndarray
    verify_step_s: float | np.ndarray
    tokens_per_step: float | np.ndarray
    time_per_token_s: float | np.ndarray
    plain_time_per_token_s: float | np.ndarray
    speedup: float | np.ndarray


def speculative_time_per_token(target: ModelSpec | str, draft: ModelSpec | str, ceilings: Ceilings, alpha: ArrayLike,
                               k: ArrayLike, context: ArrayLike = 1024, *, widths: ByteWidths = BF16,
                               draft_ceilings: Ceilings | None = None) -> SpeculativeBound:
    """Roofline time per token of speculative decoding at batch 1 against plain decoding.

    Parameters
    ----------
    target, draft : ModelSpec or str
        Target and draft decoders (e.g. ``"llama-3-70b"`` and ``"llama-3-8b"``, which share a
        tokenizer).
    ceilings : Ceilings
        Device of the target (and of the draft unless ``draft_ceilings`` is given).
    alpha : float or array_like of float
        Acceptance rate in ``[0, 1]``.
    k : int or array_like of int
        Drafted tokens per target pass. [tokens]
    context : int or array_like of int
        Tokens in both KV caches when the step starts. [tokens]
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``BF16``). [B/element]
    draft_ceilings : Ceilings, optional
        Another device for the draft.

    Returns
    -------
    SpeculativeBound
        Draft step, verify pass, expected tokens, time per token, plain decode time and speedup.

    Raises
    ------
    ValueError
        As :func:`verify_ops` and :func:`expected_tokens_per_step`.

    Notes
    -----
    Each of the ``k`` draft steps is bounded by :func:`memwall.serving.decode_step_time` at
    ``context`` (the draft's cache grows by fewer than ``k`` tokens during the pass; neglected), the
    verify pass by :func:`verify_step_time`, and plain decoding by one target decode step. The two
    models run one after the other, as in Leviathan et al.'s Algorithm 1.
    """
    kk = _check_array("k", k, integer=True, minimum=0)
    draft_step = decode_step_time(_spec(draft), draft_ceilings or ceilings, 1, context, widths=widths)
    verify = verify_step_time(target, ceilings, kk, context, widths=widths)
    plain = decode_step_time(_spec(target), ceilings, 1, context, widths=widths)
    tokens = expected_tokens_per_step(alpha, kk)
    per_token = time_per_token_from_steps(draft_step, verify, alpha, kk)
    shape = np.broadcast_shapes(*(np.shape(x) for x in (draft_step, verify, plain, tokens, per_token)))
    fields = (draft_step, verify, tokens, per_token, plain, np.asarray(plain) / np.asarray(per_token))
    return SpeculativeBound(*(_out(np.broadcast_to(np.asarray(x, dtype=float), shape)) for x in fields))

