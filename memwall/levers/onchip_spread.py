r"""Spreading a model over the chips it needs to stay on chip: pipeline hops, all-reduces, and the interconnect wall.

A model too large for one chip's SRAM is split over ``tensor_parallel x pipeline_stages`` chips
(:func:`memwall.levers.onchip.chips_to_stay_on_chip` of them). Each pipeline stage boundary carries ``batch ·
d_model`` activations per token (:func:`pipeline_link_time`); each tensor-parallel group pays two all-reduces per
layer (Shoeybi et al., Megatron-LM, arXiv 1909.08053, §3; :mod:`memwall.beyond.tensor_parallel` and
:mod:`memwall.beyond.allreduce`). At batch 1 the stages run one after another, so more chips buy capacity and,
through tensor parallelism, a shorter memory time, while the message latencies stay: the interconnect wall of the
paper's Fig. 1 (Gholami et al., arXiv 2403.14123) returns. :func:`spread_decode` bounds one split,
:func:`spread_table` sweeps the degrees, :func:`link_latency_budget` says how fast a message must be for the link not
to bind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from memwall.beyond.allreduce import BASE_LATENCY_S
from memwall.beyond.tensor_parallel import tp_decode_time
from memwall.levers._args import count, instance, number, positive
from memwall.levers.onchip import _spec, chips_to_stay_on_chip
from memwall.roofline import Ceilings
from memwall.specs.model_spec import ModelSpec
from memwall.widths import BF16, ByteWidths

__all__ = ["SpreadBound", "link_latency_budget", "pipeline_link_time", "spread_decode", "spread_table"]


def _stages(spec: ModelSpec, stages: ArrayLike, name: str = "stages") -> np.ndarray:
    """Pipeline stages: integers in ``[1, layers]`` (each stage holds at least one whole layer)."""
    s = count(name, stages)
    if np.any(s > spec.layers):
        raise ValueError(f"{name} must be an integer in [1, layers={spec.layers}] for {spec.name} (each stage holds "
                         f"at least one layer), got {int(np.max(s))}")
    return s


def _tensor_parallel(spec: ModelSpec, tensor_parallel: object) -> int:
    """A tensor-parallel degree that splits the attention into whole heads on every chip (Megatron-LM).

    ``tensor_parallel`` must divide ``heads``; the KV heads are split too (``tensor_parallel`` divides
    ``kv_heads``) or replicated (``kv_heads`` divides ``tensor_parallel``), the rule of vLLM and Megatron-LM.
    """
    tp = count("tensor_parallel", tensor_parallel, scalar=True)
    if spec.heads % tp:
        raise ValueError(f"tensor_parallel must be at most heads={spec.heads} of {spec.name} and divide it (each chip "
                         f"holds whole heads), got {tp}")
    if spec.kv_heads % tp and tp % spec.kv_heads:
        raise ValueError(f"tensor_parallel must divide kv_heads={spec.kv_heads} of {spec.name} or be a multiple of "
                         f"it (KV heads split or replicated), got {tp}")
    return tp


def _splits_heads(spec: ModelSpec, tp: int) -> bool:
    """Whether :func:`_tensor_parallel` accepts ``tp``."""
    return not spec.heads % tp and not (spec.kv_heads % tp and tp % spec.kv_heads)


def pipeline_link_time(spec: ModelSpec | str, stages: ArrayLike, link_bytes_per_s: float, hop_latency_s: float,
                       batch: ArrayLike = 1, *, act_bytes: float = 2.0) -> float | np.ndarray:
    """Link time per decode step of a model pipelined over ``S = stages`` chips: ``(S - 1)(ℓ + B d b_a / β)``. [s]

    ``link_bytes_per_s`` is the per-direction bandwidth ``β`` [B/s], ``hop_latency_s`` the latency ``ℓ`` of one
    stage-to-stage transfer [s], ``batch`` the sequences ``B``, ``act_bytes`` ``b_a`` [B/element]: each token's
    ``d_model`` activations cross the ``S - 1`` boundaries one after another.

    Raises
    ------
    ValueError
        ``stages`` not an integer in ``[1, layers]``; a bandwidth, latency or width out of range (bools and
        strings rejected).
    """
    spec = _spec(spec)
    s = _stages(spec, stages)
    bw = positive("link_bytes_per_s", link_bytes_per_s, unit="B/s", scalar=True)
    hop = number("hop_latency_s", hop_latency_s, minimum=0.0, unit="s")
    act = positive("act_bytes", act_bytes, unit="B/element")
    out = (s - 1) * (hop + count("batch", batch) * spec.d_model * act / bw)
    return float(out) if np.ndim(out) == 0 else out


class SpreadBound(NamedTuple):
    """Per-token bound over ``tensor_parallel x pipeline_stages`` chips: ``step_s`` (the chips' roofline shares,
    stage after stage), ``allreduce_s`` (``2 · layers`` ring all-reduces), ``pipeline_s``
    (:func:`pipeline_link_time`), ``total_s`` (their sum, no overlap), ``link_s`` (all-reduces plus hops) [s], and
    ``link_bound`` (``link_s > step_s``: the interconnect, not the memory, binds)."""

    step_s: float
    allreduce_s: float
    pipeline_s: float
    total_s: float
    link_s: float
    link_bound: bool


def spread_decode(spec: ModelSpec | str, ceilings: Ceilings, tensor_parallel: int, pipeline_stages: int,
                  link_bytes_per_s: float, hop_latency_s: float, base_latency_s: float = BASE_LATENCY_S,
                  batch: int = 1, context: int = 0, *, widths: ByteWidths = BF16) -> SpreadBound:
    """Decode bound of a model split into ``pipeline_stages`` stages of ``tensor_parallel`` chips each.

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder or preset name.
    ceilings : Ceilings
        One chip, with the bandwidth of the memory the weights sit in (SRAM to stay on chip).
    tensor_parallel, pipeline_stages : int
        Chips per stage (a divisor of ``heads``, and a divisor or a multiple of ``kv_heads``: whole heads per
        chip, the Megatron-LM split of Shoeybi et al., arXiv 1909.08053); stages (at most ``layers``).
    link_bytes_per_s, hop_latency_s, base_latency_s : float
        Per-direction link bandwidth [B/s], latency per ring step or stage hop [s] and fixed latency per
        all-reduce [s] (:mod:`memwall.beyond.allreduce`).
    batch, context, widths
        As in :func:`decode_bound`.

    Returns
    -------
    SpreadBound

    Raises
    ------
    ValueError
        ``tensor_parallel`` not dividing the heads (or not fitting the KV heads), ``pipeline_stages`` not an
        integer in ``[1, layers]``; ``ceilings`` not a Ceilings; as
        :func:`memwall.beyond.tensor_parallel.tp_decode_time`.

    Notes
    -----
    At batch 1 the stages run one after another, so the step is the whole model's tensor-parallel step plus the
    hops: more stages buy capacity, not speed; tensor parallelism buys speed and pays all-reduces whose latency
    does not shrink with the weights.
    """
    instance("ceilings", ceilings, Ceilings)
    instance("widths", widths, ByteWidths)
    spec = _spec(spec)
    tp = _tensor_parallel(spec, tensor_parallel)
    _stages(spec, pipeline_stages, "pipeline_stages")
    r = tp_decode_time(spec, ceilings, tp, link_bytes_per_s, hop_latency_s, base_latency_s, batch, context,
                       widths=widths)
    pp = float(pipeline_link_time(spec, pipeline_stages, link_bytes_per_s, hop_latency_s, batch, act_bytes=widths.act))
    link = float(r.allreduce_s) + pp
    return SpreadBound(float(r.step_s), float(r.allreduce_s), pp, float(r.step_s) + link, link, link > float(r.step_s))


def link_latency_budget(spec: ModelSpec | str, ceilings: Ceilings, tensor_parallel: int, pipeline_stages: int,
                        batch: int = 1, context: int = 0, *, widths: ByteWidths = BF16) -> float:
    """Latency per message (all-reduce or stage hop) at which the link time equals the on-chip step. [s]

    ``step_s / (2 · layers · [tensor_parallel > 1] + pipeline_stages - 1)``, link bytes neglected: slower
    messages make the interconnect the wall. ``inf`` on one chip.

    Raises
    ------
    ValueError
        As :func:`spread_decode`: the same degrees are accepted (``pipeline_stages`` at most ``layers``,
        ``tensor_parallel`` dividing the heads).
    """
    instance("ceilings", ceilings, Ceilings)
    instance("widths", widths, ByteWidths)
    spec = _spec(spec)
    tp, pp = _tensor_parallel(spec, tensor_parallel), int(_stages(spec, pipeline_stages, "pipeline_stages"))
    step = float(tp_decode_time(spec, ceilings, tp, 1.0, 0.0, 0.0, batch, context, widths=widths).step_s)
    messages = 2 * spec.layers * (tp > 1) + pp - 1
    return step / messages if messages else float("inf")


def spread_table(spec: ModelSpec | str, ceilings: Ceilings, capacity_bytes: float, link_bytes_per_s: float,
                 hop_latency_s: float, tensor_parallel: Sequence[int] = (1, 2, 4, 8, 16, 32, 64),
                 base_latency_s: float = BASE_LATENCY_S, batch: int = 1, context: int = 0, *,
                 widths: ByteWidths = BF16) -> pd.DataFrame:
    """:func:`spread_decode` per tensor-parallel degree, with the stages staying on chip needs (``capacity_bytes``).

    Degrees that do not split the heads (:func:`spread_decode`), or needing more stages than layers, are left out.

    Returns
    -------
    pandas.DataFrame
        ``tensor_parallel``, ``pipeline_stages`` (``ceil(chips / tensor_parallel)``), ``chips``, ``step_s``,
        ``allreduce_s``, ``pipeline_s``, ``total_s`` [s], ``tokens_per_s`` [tokens/s], ``link_share`` (link over
        total), ``link_bound`` and ``latency_budget_s`` (:func:`link_latency_budget`) [s].

    Raises
    ------
    ValueError
        As :func:`chips_to_stay_on_chip` and :func:`spread_decode`.
    """
    instance("ceilings", ceilings, Ceilings)
    spec = _spec(spec)
    needed = int(chips_to_stay_on_chip(spec, capacity_bytes, batch, context, widths=widths))
    rows = []
    for tp in tensor_parallel:
        tp = count("tensor_parallel", tp, scalar=True)
        pp = -(-needed // tp)
        if not _splits_heads(spec, tp) or pp > spec.layers:
            continue
        r = spread_decode(spec, ceilings, tp, pp, link_bytes_per_s, hop_latency_s, base_latency_s, batch, context,
                          widths=widths)
        rows.append({"tensor_parallel": tp, "pipeline_stages": pp, "chips": tp * pp, "step_s": r.step_s,
                     "allreduce_s": r.allreduce_s, "pipeline_s": r.pipeline_s, "total_s": r.total_s,
                     "tokens_per_s": batch / r.total_s, "link_share": r.link_s / r.total_s,
                     "link_bound": r.link_bound,
                     "latency_budget_s": link_latency_budget(spec, ceilings, tp, pp, batch, context, widths=widths)})
    return pd.DataFrame(rows)
