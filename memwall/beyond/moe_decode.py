r"""Mixture-of-experts decode: total vs active parameters, experts touched by a batch, critical batch.

An MoE layer holds ``E`` routed experts (plus, in DeepSeek's design, ``S`` shared experts every token
uses) and sends each token to ``k`` of the routed ones. Per token it computes like a model of its
*active* parameters, but a decode step must read every expert that *some* token of the batch was
routed to. At batch 1 that is ``k`` experts per layer; as the batch grows it approaches all ``E``.
This module counts those bytes and finds where decode turns compute-bound:

* :class:`MoESpec`: parameters split into always-read (attention, dense FFN layers, shared experts,
  routers, norms, LM head), routed experts, and gathered embeddings; :meth:`MoESpec.from_model_spec`
  for any :class:`~memwall.specs.ModelSpec` (Mixtral 8x7B, dense models, and specs with shared experts,
  dense first layers, MLA or sliding windows), :data:`MOE_PRESETS` for DeepSeek-V2 and DeepSeek-V3;
* :func:`expected_distinct_experts`: expected routed experts a batch touches per layer;
* :func:`decode_step_cost`, :func:`decode_step_grid`: FLOPs, bytes and intensity of a decode step;
* :func:`critical_batch`: the smallest batch whose decode step is compute-bound on a device.

Experts touched by a batch
--------------------------
Let a layer have ``E`` routed experts and let each of ``T`` tokens pick ``k`` distinct experts,
uniformly at random and independently of the other tokens (an assumption: trained routers are
neither uniform nor independent, and load-balancing losses push them only towards uniform *load*).
Fix one expert. A token's ``k``-subset is one of ``C(E, k)`` equally likely ones, of which
``C(E-1, k-1)`` contain the expert, so the token picks it with probability ``k/E``. The ``T`` tokens
are independent, so the expert is missed by all with probability ``(1 - k/E)^T``. The number of
distinct experts touched is a sum of ``E`` indicators, and expectation is linear (the indicators need
not be independent):

.. math:: \mathbb{E}[\text{distinct}] = E\,\bigl(1 - (1 - k/E)^T\bigr).

It is ``k`` at ``T = 1``, at most ``min(T·k, E)``, and tends to ``E``. Shared experts are read at
every step. In a decode step ``T`` is the batch (one new token per sequence). The same expectation is
used by :func:`memwall.cost.cost_arrays` for its MoE weight reads.

Why MoE helps FLOPs more than bytes at small batch
--------------------------------------------------
Per token, FLOPs are ``2·N_active``. Bytes of a step are ``(N_always + m·(S + D(B))·N_expert)·b_w``
with ``D(B)`` the expected distinct experts of ``m`` MoE layers. At ``B = 1`` the step reads about
the active parameters, like a dense model of that size; but ``D(B) ≈ k·B`` grows with the batch until
it saturates at ``E``, so the weight bytes grow with the batch too and the intensity stays near its
batch-1 value. Only once every expert is touched do the bytes stop growing: the intensity then
rises as ``2·B·N_active / (N_total·b_w)``, and the critical batch is about ``N_total/N_active`` times
that of a dense model of the active size, ``(P/BW)·b_w/2`` (:func:`memwall.serving.critical_batch_closed_form`).

Accounting (as :mod:`memwall.serving`, simplified)
--------------------------------------------------
A decode step of batch ``B`` with ``context`` cached tokens: FLOPs ``2·B·N_active`` (every matmul
weight used per token, the LM head included) plus the attention core of
:func:`memwall.beyond.attention_cost.decode_attention_cost`; bytes: the weights read (always-read and
the expected touched experts) plus the attention core's query, cache and output traffic (MLA's latent
read once for all heads; on a sliding-window layer at most ``sliding_window`` keys,
:func:`memwall.specs.attention.layer_tokens`). Not
counted: the embedding gather, activations between operations (``O(B·d)`` per operation, small next to
weights at small batch), norms and activation-function FLOPs, router top-k selection. Up to batch 16 this
agrees with :func:`memwall.cost.cost_arrays` within 3 % for Mixtral, Llama, DeepSeek-V3 (MLA, shared
expert, dense first layers) and a sliding-window Mistral (``tests/test_moe_decode.py``); at batch 256 the
uncounted activation traffic reaches about 5 % of the bytes. These are the *active* weights a step reads;
the *resident* weights a device must hold are all of them (:func:`memwall.serving.memory.footprint`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from memwall._checks import _check_array
from memwall.beyond.attention_cost import decode_attention_cost
from memwall.roofline import Ceilings
from memwall.serving.decode import CRITICAL_BATCH_SEARCH_LIMIT, smallest_compute_bound_batch
from memwall.specs.model_spec import ModelSpec
from memwall.specs.moe import MoESpec, get_moe
from memwall.widths import BF16, ByteWidths

__all__ = ["StepCost", "critical_batch", "decode_step_cost", "decode_step_grid", "expected_distinct_experts",
           "moe_table"]


#: Largest batch :func:`critical_batch` searches before answering ``np.inf``. [sequences]
SEARCH_LIMIT = CRITICAL_BATCH_SEARCH_LIMIT


def expected_distinct_experts(experts: ArrayLike, active: ArrayLike, tokens: ArrayLike) -> float | np.ndarray:
    """Expected number of distinct routed experts that ``tokens`` tokens use in one layer.

    Parameters
    ----------
    experts : int or array_like of int
        Routed experts ``E`` in the layer. [experts]
    active : int or array_like of int
        Experts per token ``k`` (top-k), ``1 <= k <= E``. [experts]
    tokens : int or array_like of int
        Tokens routed ``T`` (the batch, in a decode step); 0 gives 0. [tokens]

    Returns
    -------
    float or numpy.ndarray
        ``E·(1 - (1 - k/E)^T)`` under uniform, independent top-k routing (derivation in the module
        docstring), broadcast over the arguments. [experts]

    Raises
    ------
    ValueError
        ``experts`` or ``active`` not a positive integer, ``active > experts``, ``tokens`` negative or
        not an integer; the message names the argument and value.
    """
    e = _check_array("experts", experts, integer=True, minimum=1)
    k = _check_array("active", active, integer=True, minimum=1)
    t = _check_array("tokens", tokens, integer=True, minimum=0)
    if np.any(k > e):
        bad = np.broadcast_to(k, np.broadcast_shapes(k.shape, e.shape))[np.broadcast_to(k > e, np.broadcast_shapes(
            k.shape, e.shape))]
        raise ValueError(f"active must not exceed experts, got active={bad.reshape(-1)[0]:g}")
    out = e * (1.0 - (1.0 - k / e) ** t)
    return float(out) if out.ndim == 0 else out


# ----------------------------------------------------------------------------------------- decode


class StepCost(NamedTuple):
    """One decode step, broadcast over batch and context.

    Attributes
    ----------
    flops : float or numpy.ndarray
        Weight matmuls and attention core. [FLOP]
    bytes : float or numpy.ndarray
        Weights read plus attention traffic. [B]
    intensity : float or numpy.ndarray
        ``flops / bytes``. [FLOP/B]
    weight_bytes : float or numpy.ndarray
        Weights read (always-read, shared and expected touched experts). [B]
    attention_bytes : float or numpy.ndarray
        Query, KV cache and output traffic of the attention core. [B]
    distinct_experts : float or numpy.ndarray
        Expected routed experts touched per MoE layer by the batch. [experts]
    """

    flops: float | np.ndarray
    bytes: float | np.ndarray
    intensity: float | np.ndarray
    weight_bytes: float | np.ndarray
    attention_bytes: float | np.ndarray
    distinct_experts: float | np.ndarray


def _o(x: ArrayLike) -> float | np.ndarray:
    x = np.asarray(x, dtype=float)
    return float(x) if x.ndim == 0 else x


def decode_step_cost(model: MoESpec | ModelSpec | str, batch: ArrayLike, context: ArrayLike, *,
                     widths: ByteWidths = BF16, mla_form: str = 'absorbed') -> StepCost:
    """FLOPs, bytes and intensity of one decode step of ``batch`` sequences with ``context`` cached tokens.

    Parameters
    ----------
    model : MoESpec, ModelSpec or str
        Model (see :func:`get_moe`).
    batch : int or array_like of int
        Sequences decoded together, one new token each. [sequences]
    context : int or array_like of int
        Cached tokens per sequence. [tokens]
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``BF16``). [B/element]
    mla_form : {"absorbed", "naive"}
        MLA computation (:mod:`memwall.beyond.attention_cost`).

    Returns
    -------
    StepCost
        Broadcast over the numeric arguments.

    Raises
    ------
    ValueError
        ``batch`` not a positive integer, ``context`` negative, a width not positive, unknown model.

    Notes
    -----
    ``flops = 2·B·N_active + attention FLOPs``;
    ``bytes = (N_always + m·(S + E·(1 - (1 - k/E)^B))·N_expert)·b_w + attention bytes`` (module
    docstring).
    """
    weight_bytes = widths.weight
    spec = get_moe(model)
    b = _check_array("batch", batch, integer=True, minimum=1)
    wb = np.asarray(weight_bytes, dtype=float)
    touched = expected_distinct_experts(spec.routed_experts, spec.active_experts, b)
    weights = (spec.dense_params + spec.moe_layers * (spec.shared_experts + np.asarray(touched))
               * spec.expert_params) * wb
    att = decode_attention_cost(spec.attention, context, b, widths=widths, mla_form=mla_form)
    flops = 2.0 * b * spec.active_params + np.asarray(att.flops)
    bytes_ = weights + np.asarray(att.bytes)
    shape = np.broadcast_shapes(np.shape(flops), np.shape(bytes_), np.shape(touched))
    return StepCost(*(_o(np.broadcast_to(x, shape)) for x in (
        flops, bytes_, flops / bytes_, weights, att.bytes, touched)))


def critical_batch(model: MoESpec | ModelSpec | str, ceilings: Ceilings, context: int = 0, *,
                        widths: ByteWidths = BF16, mla_form: str = 'absorbed') -> float:
    """Smallest batch whose decode step is compute-bound (step intensity >= the ridge point).

    Parameters
    ----------
    model : MoESpec, ModelSpec or str
        Model.
    ceilings : Ceilings
        Device (peak [FLOP/s], bandwidth [B/s]).
    context : int
        Cached tokens per sequence. [tokens]
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``BF16``). [B/element]
    mla_form : {"absorbed", "naive"}
        MLA computation.

    Returns
    -------
    float
        The batch [sequences], or ``numpy.inf`` if no batch up to :data:`SEARCH_LIMIT` gets there
        (the per-sequence attention traffic keeps the step memory-bound). Memory capacity is not
        checked: the batch may not fit on the device.

    Raises
    ------
    ValueError
        Array-valued arguments, and as :func:`decode_step_cost`.

    Notes
    -----
    The step intensity ``I(B) = F(B)/M(B)`` has ``F`` linear in ``B`` and ``M`` concave in ``B``
    with ``M(0) > 0`` (the expected touched experts are concave, the KV traffic linear), so
    ``M(B)/B`` falls and ``I(B)`` rises: bisection on the integers finds the first ``B`` with
    ``I(B) >= P/BW``.
    """
    weight_bytes, act_bytes, kv_bytes = widths.weight, widths.act, widths.kv
    for name, value in (("context", context), ("weight_bytes", weight_bytes), ("kv_bytes", kv_bytes),
                        ("act_bytes", act_bytes)):
        if np.ndim(value):
            raise ValueError(f"{name} must be a scalar for critical_batch, got {value!r}")
    ridge = ceilings.ridge_flop_per_byte

    def compute_bound(b: np.ndarray) -> np.ndarray:
        return np.asarray(decode_step_cost(model, b, context, widths=widths, mla_form=mla_form).intensity) >= ridge

    return float(smallest_compute_bound_batch(compute_bound, limit=SEARCH_LIMIT))


def decode_step_grid(models: dict[str, MoESpec | ModelSpec | str], contexts: ArrayLike, batches: ArrayLike, *,
                     widths: ByteWidths = BF16) -> pd.DataFrame:
    """Decode-step cost over a grid of contexts and batches for several models (for interactive charts).

    Parameters
    ----------
    models : dict of str to MoESpec, ModelSpec or str
        Label -> model.
    contexts : array_like of int
        Cached tokens per sequence. [tokens]
    batches : array_like of int
        Batches. [sequences]
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``BF16``). [B/element]

    Returns
    -------
    pandas.DataFrame
        One row per (model, context, batch): ``model``, ``context`` [tokens], ``batch`` [sequences],
        ``flops`` [FLOP], ``bytes`` [B], ``intensity`` [FLOP/B], ``weight_bytes``,
        ``attention_bytes`` [B], ``distinct_experts`` [experts per MoE layer].
    """
    c = np.asarray(contexts).reshape(-1, 1)
    b = np.asarray(batches).reshape(1, -1)
    frames = []
    for label, model in models.items():
        s = decode_step_cost(model, b, c, widths=widths)
        cc, bb = np.broadcast_arrays(c, b)
        frames.append(pd.DataFrame({"model": label, "context": cc.ravel(), "batch": bb.ravel(),
                                    **{k: np.broadcast_to(v, cc.shape).ravel() for k, v in s._asdict().items()}}))
    return pd.concat(frames, ignore_index=True)


def moe_table(models: dict[str, MoESpec | ModelSpec | str], batches: tuple[int, ...] = (1, 8, 64),
              weight_bytes: float = 2.0) -> pd.DataFrame:
    """Total vs active parameters and expected experts touched per layer at a few batches.

    Parameters
    ----------
    models : dict of str to MoESpec, ModelSpec or str
        Label -> model.
    batches : tuple of int
        Batches at which to count distinct experts and weight bytes. [sequences]
    weight_bytes : float
        Storage per weight. [B/element]

    Returns
    -------
    pandas.DataFrame
        Index ``model``; ``total_params``, ``active_params`` [parameters], ``active_share`` (fraction),
        ``routed_experts``, ``active_experts``, ``shared_experts`` [experts], and per batch ``B``:
        ``distinct_B`` [experts per MoE layer] and ``weight_bytes_B`` (weights read per step) [B].
    """
    rows = []
    for label, model in models.items():
        s = get_moe(model)
        row = {"model": label, "total_params": s.total_params, "active_params": s.active_params,
               "active_share": s.active_params / s.total_params, "routed_experts": s.routed_experts,
               "active_experts": s.active_experts, "shared_experts": s.shared_experts}
        for b in batches:
            step = decode_step_cost(s, b, 0, widths=ByteWidths(weight=weight_bytes))
            row[f"distinct_{b}"] = step.distinct_experts if s.moe_layers else float("nan")
            row[f"weight_bytes_{b}"] = step.weight_bytes
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")
