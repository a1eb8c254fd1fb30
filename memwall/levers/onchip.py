r"""Small models and on-chip memory: when a model fits in SRAM, how fast it then decodes, and what spreading it costs.

The paper's deployment lever (Gholami et al., *AI and Memory Wall*, arXiv 2403.14123, §IV): a model small enough
to sit largely on chip would decode much faster, since a batch-1 decode step reads every weight once.

* :func:`fits_on_chip`, :func:`chips_to_stay_on_chip`, :func:`chips_needed_table`: the serving footprint
  (:func:`memwall.serving.footprint`: weights, KV cache, activations) against on-chip capacities;
* :func:`decode_bound`: the roofline bound with weights read at SRAM bandwidth, and whether the compute peak then
  binds instead (SRAM-centric chips have ridge points of a few FLOP/B, so it soon does);
* :mod:`memwall.levers.onchip_spread`: what spreading a model over the chips it needs costs in link time;
* :func:`device_tiers`, :func:`tier_bounds`: tokens/s bound against model size per memory tier of one device;
* :func:`distillation_gain`: what distilling to a smaller model buys on a fixed device (Hinton et al., arXiv
  1503.02531; Sanh et al., DistilBERT, arXiv 1910.01108).

Conventions as in :mod:`memwall.serving`: SI units, 1 multiply-add = 2 FLOPs, fused attention, LM head counted.
Not modelled: SRAM bank conflicts and the compiler's placement, weights that spill out of a cache, prefill, and
micro-batch pipelining (which raises throughput, not a sequence's tokens/s).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from memwall.cost import cost_arrays
from memwall.device_lookup import find_device, is_missing
from memwall.levers._args import capacity, count, flag, instance, positive
from memwall.roofline import Ceilings
from memwall.serving.decode import decode_step_time
from memwall.serving.memory import footprint
from memwall.specs.model_spec import ModelSpec, parameter_count
from memwall.specs.presets import decoder_spec
from memwall.widths import BF16, ByteWidths

__all__ = ["DecodeBound", "MemoryTier", "chips_needed_table", "chips_to_stay_on_chip", "decode_bound", "device_peak",
           "device_tiers", "distillation_gain", "fits_on_chip", "onchip_row", "tier_bounds"]

_PEAK_COLUMNS = {"fp16": "dense_fp16_tflop_per_s", "bf16": "dense_fp16_tflop_per_s", "int8": "dense_int8_tera_op_per_s"}


def _spec(spec: ModelSpec | str) -> ModelSpec:
    return decoder_spec(spec, "decode")


# ------------------------------------------------------------------------------------------ devices


def onchip_row(table: pd.DataFrame, device: str, sram_name: str | None = None) -> dict:
    """One row of :func:`memwall.tables.onchip.load_onchip` as a dict.

    ``device`` is the exact name or one :func:`memwall.device_lookup.find_device` resolves (``"groq"``);
    ``sram_name`` picks one of its memories, default the largest (where a model would sit).

    Raises
    ------
    ValueError
        Unknown device, or an ``sram_name`` the device does not have (lists those it has).
    """
    name = find_device(device, sorted(set(table["device"])), table="the on-chip memory table")
    rows = table[table["device"] == name]
    if sram_name is None:
        return dict(rows.loc[rows["sram_capacity_mib"].idxmax()].to_dict())
    chosen = rows[rows["sram_name"] == sram_name]
    if chosen.empty:
        raise ValueError(f"sram_name={sram_name!r} is not a memory of {name!r}; it has: {', '.join(rows['sram_name'])}")
    return dict(chosen.iloc[0].to_dict())


def device_peak(row: dict, precision: str = "fp16") -> float:
    """Dense peak of an on-chip-table row at ``precision`` (``"fp16"``, ``"bf16"``, ``"int8"``). [FLOP/s]

    Raises
    ------
    ValueError
        Unknown precision, or no published dense peak at it (e.g. the Cerebras wafers).
    """
    if precision not in _PEAK_COLUMNS:
        raise ValueError(f"precision={precision!r} is not known; allowed: {', '.join(_PEAK_COLUMNS)}")
    peak = row.get(_PEAK_COLUMNS[precision])
    if is_missing(peak):
        raise ValueError(f"device={row['device']!r} has no published dense {precision} peak in the table")
    return float(peak) * 1e12


@dataclass(frozen=True)
class MemoryTier:
    """A memory weights can stream from: ``name``, ``capacity_bytes`` [B] (``inf``: not limiting) and
    ``bandwidth_bytes_per_s`` [B/s].

    Raises
    ------
    ValueError
        ``name`` not a string; a capacity not > 0 (or ``inf``), a bandwidth not a finite number > 0 (bools and
        strings rejected), naming the field, its value and unit.
    """

    name: str
    capacity_bytes: float
    bandwidth_bytes_per_s: float

    def __post_init__(self) -> None:
        instance("name", self.name, str)
        object.__setattr__(self, "capacity_bytes", capacity("capacity_bytes", self.capacity_bytes))
        object.__setattr__(self, "bandwidth_bytes_per_s",
                           positive("bandwidth_bytes_per_s", self.bandwidth_bytes_per_s, unit="B/s", scalar=True))


def device_tiers(table: pd.DataFrame, device: str, *, sram_name: str | None = None,
                 host_link_bytes_per_s: float | None = None, host_capacity_bytes: float = np.inf) -> list[MemoryTier]:
    """Memory tiers of one device, fastest first: on-chip SRAM, HBM (if any), host DRAM (if a link is given).

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`memwall.tables.onchip.load_onchip`.
    device, sram_name : str
        As in :func:`onchip_row`.
    host_link_bytes_per_s : float, optional
        Per-direction bandwidth of the host link, e.g. PCIe 5.0 x16's 63 GB/s
        (:func:`memwall.beyond.allreduce.link_bandwidth` of ``data/interconnects.csv``). [B/s]
    host_capacity_bytes : float
        Host memory (default ``inf``: not the limit). [B]

    Returns
    -------
    list of MemoryTier

    Raises
    ------
    ValueError
        The on-chip memory has no published bandwidth, or a bandwidth or capacity is not positive.
    """
    row = onchip_row(table, device, sram_name)
    if is_missing(row["sram_bandwidth_bytes_per_s"]):
        raise ValueError(f"{row['device']!r} ({row['sram_name']}) has no published on-chip bandwidth")
    tiers = [MemoryTier("on-chip SRAM", float(row["sram_capacity_bytes"]), float(row["sram_bandwidth_bytes_per_s"]))]
    if not is_missing(row["memory_bandwidth_gb_per_s"]) and not is_missing(row["memory_capacity_gib"]):
        tiers.append(MemoryTier("HBM", float(row["memory_capacity_gib"]) * 2.0**30,
                                float(row["memory_bandwidth_gb_per_s"]) * 1e9))
    if host_link_bytes_per_s is not None:
        tiers.append(MemoryTier("host DRAM", capacity("host_capacity_bytes", host_capacity_bytes),
                                positive("host_link_bytes_per_s", host_link_bytes_per_s, unit="B/s", scalar=True)))
    return tiers


# ---------------------------------------------------------------------------------------------- fit


def fits_on_chip(spec: ModelSpec | str, capacity_bytes: ArrayLike, batch: ArrayLike = 1, context: ArrayLike = 0, *,
                 widths: ByteWidths = BF16) -> bool | np.ndarray:
    """Whether ``footprint(spec, batch, context).total`` fits in one chip's on-chip memory ``capacity_bytes`` [B].

    ``spec`` is a decoder or preset name, ``batch`` [sequences] and ``context`` [tokens] as in
    :func:`memwall.serving.footprint`, ``widths`` the storage widths [B/element].

    Raises
    ------
    ValueError
        A capacity not a finite number > 0 (bools and strings rejected); ``widths`` not a ByteWidths; bad batch
        or context as in :func:`memwall.serving.footprint`.
    """
    cap = positive("capacity_bytes", capacity_bytes, unit="B")
    instance("widths", widths, ByteWidths)
    fits = np.asarray(footprint(_spec(spec), batch, context, widths=widths).total) <= cap
    return bool(fits) if fits.ndim == 0 else fits


def chips_to_stay_on_chip(spec: ModelSpec | str, capacity_bytes: ArrayLike, batch: ArrayLike = 1,
                          context: ArrayLike = 0, *, widths: ByteWidths = BF16,
                          weights_only: bool = False) -> int | np.ndarray:
    """Fewest chips whose on-chip memories together hold a model: ``ceil((W + K) / (C - A))``.

    Parameters
    ----------
    spec, batch, context, widths
        As in :func:`fits_on_chip`.
    capacity_bytes : float or array_like
        On-chip capacity ``C`` of one chip. [B]
    weights_only : bool
        Count the weights alone: ``ceil(W / C)``. ``True`` or ``False`` only.

    Returns
    -------
    int or numpy.ndarray of int
        Weights ``W`` and KV cache ``K`` are split over the chips; each chip also holds one step's
        activation buffers ``A`` (:func:`memwall.serving.footprint`). [chips]

    Raises
    ------
    ValueError
        A capacity not a finite number > 0 (bools and strings rejected), or not larger than one step's
        activation buffers; ``weights_only`` not a bool; ``widths`` not a ByteWidths.

    Examples
    --------
    Llama-2-70B's 68.98e9 parameters at 2 B over 220 MiB of GroqChip SRAM: 137.95e9 / 230.69e6 = 598.02 -> 599:

    >>> from memwall.levers.onchip import chips_to_stay_on_chip
    >>> chips_to_stay_on_chip("llama-2-70b", 220 * 2**20, weights_only=True)
    599
    """
    cap = positive("capacity_bytes", capacity_bytes, unit="B")
    flag("weights_only", weights_only)
    instance("widths", widths, ByteWidths)
    fp = footprint(_spec(spec), batch, context, widths=widths)
    shared = np.asarray(fp.weights) + (0.0 if weights_only else np.asarray(fp.kv_cache))
    room = cap - (0.0 if weights_only else np.asarray(fp.activations))
    if np.any(room <= 0):
        raise ValueError(f"capacity_bytes={float(np.min(cap)):.4g} B does not exceed one step's activation "
                         f"buffers ({float(np.max(fp.activations)):.4g} B): no number of chips holds the model")
    n = np.ceil(shared / room).astype(np.int64)
    return int(n) if n.ndim == 0 else n


def chips_needed_table(models: Sequence[str], table: pd.DataFrame, widths: dict[str, ByteWidths], *,
                       devices: Sequence[str] | None = None, batch: int = 1, context: int = 0,
                       weights_only: bool = False) -> pd.DataFrame:
    """:func:`chips_to_stay_on_chip` for models x width labels (``{"16-bit": BF16}``) x devices (default all).

    Returns
    -------
    pandas.DataFrame
        ``model``, ``widths``, ``device``, ``sram_name``, ``sram_capacity_bytes`` [B], ``footprint_bytes``
        [B] (weights only with ``weights_only``), ``chips`` and ``fits_one_chip``, in the devices' largest
        on-chip memory.

    Raises
    ------
    ValueError
        Unknown model or device; ``widths`` not a dict of ByteWidths; as :func:`chips_to_stay_on_chip`.
    """
    flag("weights_only", weights_only)
    names = list(dict.fromkeys(table["device"])) if devices is None else list(devices)
    rows = []
    for model in models:
        spec = _spec(model)
        for label, w in instance("widths", widths, dict).items():
            instance(f"widths[{label!r}]", w, ByteWidths)
            fp = footprint(spec, batch, context, widths=w)
            need = float(fp.weights) if weights_only else float(fp.total)
            for device in names:
                row = onchip_row(table, device)
                cap = float(row["sram_capacity_bytes"])
                rows.append({"model": spec.name, "widths": label, "device": row["device"],
                             "sram_name": row["sram_name"], "sram_capacity_bytes": cap, "footprint_bytes": need,
                             "chips": chips_to_stay_on_chip(spec, cap, batch, context, widths=w,
                                                            weights_only=weights_only),
                             "fits_one_chip": need <= cap})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------- decode


class DecodeBound(NamedTuple):
    """``time_per_token_s`` (:func:`memwall.serving.decode_step_time`) [s], ``tokens_per_s`` [tokens/s],
    ``compute_s`` (all FLOPs over the peak) and ``memory_s`` (all bytes over the bandwidth) [s], and
    ``compute_bound`` (``compute_s >= memory_s``: the peak, not the memory, binds the step)."""

    time_per_token_s: float
    tokens_per_s: float
    compute_s: float
    memory_s: float
    compute_bound: bool


def decode_bound(spec: ModelSpec | str, peak_flop_per_s: float, bandwidth_bytes_per_s: float, batch: int = 1,
                 context: int = 0, *, widths: ByteWidths = BF16) -> DecodeBound:
    """Decode bound with the weights and KV cache read at one memory's bandwidth, e.g. SRAM.

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder or preset name.
    peak_flop_per_s : float
        Dense peak at the matmul precision. [FLOP/s]
    bandwidth_bytes_per_s : float
        Bandwidth of the memory holding weights and cache. [B/s]
    batch, context : int
        Sequences; cached tokens per sequence. [sequences], [tokens]
    widths : memwall.widths.ByteWidths
        Storage widths (keyword-only). [B/element]

    Returns
    -------
    DecodeBound

    Raises
    ------
    ValueError
        A ceiling not a finite number > 0 (booleans and strings rejected); bad batch or context; ``widths``
        not a ByteWidths.

    Notes
    -----
    On chip the bandwidth grows by an order of magnitude or more and the peak does not, so the ridge ``P / BW``
    falls to a few FLOP/B (GroqChip: 188e12 / 80e12 = 2.35) and a few sequences make the step compute-bound.
    """
    peak = positive("peak_flop_per_s", peak_flop_per_s, unit="FLOP/s", scalar=True)
    bw = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, unit="B/s", scalar=True)
    instance("widths", widths, ByteWidths)
    spec = _spec(spec)
    step = float(decode_step_time(spec, Ceilings(peak, bw), batch, context, widths=widths))
    ops = cost_arrays(spec, "decode", context, batch, widths=widths, fused_attention=True, include_lm_head=True)
    compute_s = float(sum(o.flops for o in ops.values())) / peak
    memory_s = float(sum(o.bytes_read + o.bytes_written for o in ops.values())) / bw
    return DecodeBound(step, batch / step, compute_s, memory_s, compute_s >= memory_s)


def distillation_gain(teacher: ModelSpec | str, student: ModelSpec | str, ceilings: Ceilings, batch: int = 1,
                      context: int = 0, *, widths: ByteWidths = BF16) -> dict[str, float]:
    """Ratio of the decode bounds of a teacher and its distilled student on one device (``ceilings``).

    Returns
    -------
    dict
        ``teacher_time_per_token_s``, ``student_time_per_token_s`` [s], ``speedup`` (their ratio),
        ``parameter_ratio`` (all parameters), ``teacher_bytes``, ``student_bytes`` (footprints) [B].

    Raises
    ------
    ValueError
        ``ceilings`` not a :class:`memwall.roofline.Ceilings` or ``widths`` not a ByteWidths (an
        :class:`memwall.levers._args.ArgumentTypeError`, also a ``TypeError``); as
        :func:`memwall.serving.decode_step_time`.

    Notes
    -----
    Memory-bound decode scales with the bytes read, so the speed-up is near the parameter ratio, moved a little by
    the two KV caches. Accuracy, the price of distillation, is not modelled.
    """
    instance("ceilings", ceilings, Ceilings)
    instance("widths", widths, ByteWidths)
    t, s = _spec(teacher), _spec(student)
    tt = float(decode_step_time(t, ceilings, batch, context, widths=widths))
    ts = float(decode_step_time(s, ceilings, batch, context, widths=widths))
    return {"teacher_time_per_token_s": tt, "student_time_per_token_s": ts, "speedup": tt / ts,
            "parameter_ratio": parameter_count(t) / parameter_count(s),
            "teacher_bytes": float(footprint(t, batch, context, widths=widths).total),
            "student_bytes": float(footprint(s, batch, context, widths=widths).total)}


# ----------------------------------------------------------------------------------------- tiers


def tier_bounds(tiers: Sequence[MemoryTier], peak_flop_per_s: float, parameters: ArrayLike, *, batch: int = 1,
                weight_bytes: float = 2.0) -> pd.DataFrame:
    """Decode tokens/s bound against model size for each memory tier (weights only, KV cache neglected).

    Parameters
    ----------
    tiers : sequence of MemoryTier
        :func:`device_tiers`.
    peak_flop_per_s : float
        Dense peak at the matmul precision. [FLOP/s]
    parameters : array_like, shape (n,)
        Model sizes ``N``. [parameters]
    batch : int
        Sequences ``B``. [sequences]
    weight_bytes : float
        Storage per weight ``b_w``. [B/element]

    Returns
    -------
    pandas.DataFrame, n x len(tiers) rows
        ``tier``, ``parameters``, ``weight_bytes_total`` [B], ``time_per_token_s`` = ``max(2 N B / P, N b_w / BW)``
        [s], ``tokens_per_s`` = ``B / time`` [tokens/s], ``fits`` (``N b_w <= capacity``), ``compute_bound``.

    Raises
    ------
    ValueError
        A tier not a :class:`MemoryTier`; a size, peak or width not a finite number > 0, or ``batch`` not an
        integer >= 1 (bools and strings rejected).

    Notes
    -----
    A dense decoder's batch-``B`` step reads its ``N`` weights once and does ``2 N B`` FLOPs (Pope et al. 2022,
    arXiv 2211.05102, §2); :func:`decode_bound` is the full cost model of a preset, within a few per cent of this
    at short contexts (tests).
    """
    n = positive("parameters", parameters).reshape(-1)
    peak = positive("peak_flop_per_s", peak_flop_per_s, unit="FLOP/s", scalar=True)
    b = count("batch", batch, scalar=True)
    wb = positive("weight_bytes", weight_bytes, unit="B/element", scalar=True)
    parts = []
    for i, tier in enumerate(tiers):
        instance(f"tiers[{i}]", tier, MemoryTier)
        compute, memory = 2.0 * n * b / peak, n * wb / tier.bandwidth_bytes_per_s
        t = np.maximum(compute, memory)
        parts.append(pd.DataFrame({"tier": tier.name, "parameters": n, "weight_bytes_total": n * wb,
                                   "time_per_token_s": t, "tokens_per_s": b / t,
                                   "fits": n * wb <= tier.capacity_bytes, "compute_bound": compute >= memory}))
    return pd.concat(parts, ignore_index=True)
