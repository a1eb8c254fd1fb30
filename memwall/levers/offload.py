r"""The memory hierarchy: decode and prefill bounds when weights or the KV cache live in host memory.

The paper asks accelerators for "more efficient caching and higher-capacity DRAM", perhaps a hierarchy of
DRAMs with different bandwidths (Gholami et al., *AI and Memory Wall*, arXiv 2403.14123, mitigation
section). Today's systems already have one: HBM on the package, and host memory behind a link (PCIe, or
NVLink-C2C on Grace Hopper / Grace Blackwell), :func:`memwall.tables.memory_tiers.load_memory_tiers`. This
module bounds a Transformer step when part of its bytes come over that link.

Model
-----
A step does ``F`` FLOPs and moves ``H`` bytes between HBM and the chip, ``L_in`` bytes host → device and
``L_out`` device → host. The link is full duplex with the same bandwidth ``BW_l`` each way, and what
crosses it is also limited by the host DRAM's share ``BW_d``, so host data streams at
``BW_s = min(BW_l, BW_d)``. Two bounds:

* **overlapped** (default): transfers, HBM traffic and compute run concurrently, as FlexGen's block
  schedule arranges (Sheng et al., *FlexGen*, ICML 2023, arXiv 2303.06865, §4):
  ``t = max(F / P, H / BW_h, max(L_in, L_out) / BW_s)``;
* **serial**: memory traffic is not overlapped, ``t = max(F / P, H / BW_h + max(L_in, L_out) / BW_s)``.

``F`` and the byte split come from :func:`memwall.cost.cost_arrays` for the whole step (all operations
pooled, so the step-level bound is at most the per-operation sum of
:func:`memwall.serving.decode.decode_step_time`; at batch 1 every operation is memory-bound and the two
agree). The split into weight, KV-cache and activation bytes uses that the cost model is linear in each
byte width. Weights placed on the host are streamed over the link once per step (a weight is read once
per step whatever the batch); their extra write to and read from HBM staging buffers is not counted.

Throughput against latency
--------------------------
Streaming all weights each step costs ``W / BW_s`` however large the batch, so a large batch amortises it
(throughput-oriented offloading, FlexGen's setting): the link stops binding once the batch's FLOPs take as
long, :func:`memwall.levers.offload_batch.link_critical_batch_closed_form`, ``B* = (P / BW_s) · b_w / 2``
(the decode critical batch of :func:`memwall.serving.decode.critical_batch_closed_form` with the link in
place of HBM). At batch 1
(latency-oriented serving) the step is ``BW_h / BW_s`` times slower than from HBM.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from memwall.cost import cost_arrays
from memwall.levers._args import flag, instance, positive
from memwall.levers._args import number as _number
from memwall.roofline import Ceilings
from memwall.serving.schemes import _out, _spec
from memwall.specs.model_spec import ModelSpec
from memwall.widths import BF16, ByteWidths

__all__ = ["CPU_EPYC_9654", "OPT_30B", "PHASES", "SYSTEM_A100_PCIE4", "SYSTEM_GB200_C2C", "SYSTEM_GH200_C2C",
           "SYSTEM_H100_PCIE5", "SYSTEM_T4_FLEXGEN", "StepTraffic", "TierCeilings", "offload_step_time",
           "offload_tokens_per_s", "slowdown_vs_hbm", "step_traffic"]

SYSTEM_A100_PCIE4 = "DGX A100 (A100 SXM4 80GB; host DDR4 over PCIe 4.0)"
"""A100 with host DDR4 behind PCIe 4.0 x16 (row ``system`` of ``data/memory_tiers.csv``)."""
SYSTEM_H100_PCIE5 = "DGX H100 (H100 SXM5; host DDR5 over PCIe 5.0)"
"""H100 SXM with host DDR5 behind PCIe 5.0 x16 (row ``system`` of ``data/memory_tiers.csv``)."""
SYSTEM_GH200_C2C = "GH200 144GB (HBM3e; Grace LPDDR5X over NVLink-C2C)"
"""GH200 with Grace's LPDDR5X behind NVLink-C2C (row ``system`` of ``data/memory_tiers.csv``)."""
SYSTEM_GB200_C2C = "GB200 (per Blackwell GPU; Grace LPDDR5X over NVLink-C2C)"
"""One GPU of a GB200 superchip (row ``system`` of ``data/memory_tiers.csv``)."""
SYSTEM_T4_FLEXGEN = "Tesla T4 host (FlexGen's GCP instance; host DRAM over PCIe 3.0)"
"""FlexGen's testbed, a T4 with 208 GB of host DRAM (row ``system`` of ``data/memory_tiers.csv``)."""
CPU_EPYC_9654 = "AMD EPYC 9654 socket (12 x DDR5-4800)"
"""A CPU socket with its DRAM (row ``system`` of ``data/memory_tiers.csv``)."""

PHASES = ("decode", "prefill")
"""Steps this module bounds: one decode step (one token per sequence) or one prefill over a prompt."""

OPT_30B = ModelSpec(
    name="opt-30b", layers=48, d_model=7168, heads=56, kv_heads=56, head_dim=128, ffn_dim=28672,
    ffn_kind="gelu", vocab_size=50272, max_positions=2050, bias=True, norm="layernorm", causal=True,
    learned_positions=True, tied_embeddings=True,
    source_url="https://huggingface.co/facebook/opt-30b/blob/main/config.json",
)
"""OPT-30B (Zhang et al. 2022, arXiv 2205.01068, Table 1: 48 layers, 56 heads, d_model 7168; FFN 4·d), the
model of FlexGen's single-GPU runs; learned positions of 2048 + 2 offset rows; ReLU FFN, which costs the
same as the ``"gelu"`` kind (two matrices)."""


@dataclass(frozen=True)
class TierCeilings:
    """Ceilings of one accelerator with a second memory tier behind a link.

    Parameters
    ----------
    peak_flop_per_s : float
        Dense peak at the precision the matmuls run in. [FLOP/s]
    hbm_bandwidth_bytes_per_s : float
        Tier-0 (on-package) bandwidth. [B/s]
    link_bandwidth_bytes_per_s : float
        Host link, each direction, this accelerator's share. [B/s]
    host_bandwidth_bytes_per_s : float, optional
        This accelerator's share of the host DRAM bandwidth; ``None`` if unknown (the link alone limits). [B/s]
    hbm_bytes, host_bytes : float, optional
        Capacities of the two tiers (this accelerator's share). [B]
    name, precision : str
        Labels.

    Raises
    ------
    ValueError
        If a rate or capacity is not a positive finite number (bools and strings rejected), naming it, its
        value and unit; ``name`` or ``precision`` not a string.
    """

    peak_flop_per_s: float
    hbm_bandwidth_bytes_per_s: float
    link_bandwidth_bytes_per_s: float
    host_bandwidth_bytes_per_s: float | None = None
    hbm_bytes: float | None = None
    host_bytes: float | None = None
    name: str = "system"
    precision: str = "bf16"

    def __post_init__(self) -> None:
        units = {"peak_flop_per_s": "FLOP/s", "hbm_bytes": "B", "host_bytes": "B"}
        for field in ("peak_flop_per_s", "hbm_bandwidth_bytes_per_s", "link_bandwidth_bytes_per_s",
                      "host_bandwidth_bytes_per_s", "hbm_bytes", "host_bytes"):
            value = getattr(self, field)
            if value is None and field not in ("peak_flop_per_s", "hbm_bandwidth_bytes_per_s",
                                               "link_bandwidth_bytes_per_s"):
                continue
            object.__setattr__(self, field, positive(field, value, unit=units.get(field, "B/s"), scalar=True))
        instance("name", self.name, str)
        instance("precision", self.precision, str)

    @property
    def stream_bandwidth_bytes_per_s(self) -> float:
        """Rate at which host data reaches the accelerator: ``min(link, host DRAM share)``. [B/s]"""
        host = self.host_bandwidth_bytes_per_s
        return self.link_bandwidth_bytes_per_s if host is None else min(self.link_bandwidth_bytes_per_s, host)

    def hbm_ceilings(self) -> Ceilings:
        """The ordinary roofline of tier 0 (:class:`memwall.roofline.Ceilings`)."""
        return Ceilings(self.peak_flop_per_s, self.hbm_bandwidth_bytes_per_s, name=self.name,
                        precision=self.precision)

    def host_ceilings(self) -> Ceilings:
        """The roofline of data read from the host tier: peak and :attr:`stream_bandwidth_bytes_per_s`."""
        return Ceilings(self.peak_flop_per_s, self.stream_bandwidth_bytes_per_s, name=f"{self.name} (host tier)",
                        precision=self.precision)

    @classmethod
    def from_tables(cls, tiers: pd.DataFrame, hardware: pd.DataFrame, system: str,
                    precision: str = "bf16") -> TierCeilings:
        """Ceilings of one system of :func:`memwall.tables.memory_tiers.load_memory_tiers`.

        Parameters
        ----------
        tiers : pandas.DataFrame
            The memory-tier table.
        hardware : pandas.DataFrame
            :func:`memwall.tables.load_hardware` (the accelerator's peak).
        system : str
            A ``system`` of the tier table with a tier 1.
        precision : {"fp32", "fp16", "bf16", "fp8", "int8"}
            Which dense peak.

        Returns
        -------
        TierCeilings
            Peak [FLOP/s]; tier-0 bandwidth, tier-1 link and DRAM bandwidth per accelerator [B/s];
            capacities per accelerator (GiB · 2**30) [B].

        Raises
        ------
        ValueError
            Unknown system (lists the known ones), a system without a tier 1, or no peak at ``precision``.
        """
        rows = tiers[tiers["system"] == system].set_index("tier")
        if rows.empty:
            known = ", ".join(dict.fromkeys(tiers["system"]))
            raise ValueError(f"system={system!r} is not in the tier table; known: {known}")
        if 1 not in rows.index:
            raise ValueError(f"system={system!r} has no tier behind a link (tier 1)")
        peak = Ceilings.from_hardware(hardware, rows.loc[0, "accelerator"], precision).peak_flop_per_s
        t0, t1 = rows.loc[0], rows.loc[1]
        host_bw = t1["bandwidth_gb_per_s_per_accelerator"]
        return cls(peak, float(t0["bandwidth_gb_per_s_per_accelerator"]) * 1e9,
                   float(t1["link_gb_per_s_per_accelerator"]) * 1e9,
                   None if pd.isna(host_bw) else float(host_bw) * 1e9,
                   float(t0["capacity_gib"]) / t0["shared_by"] * 2**30,
                   float(t1["capacity_gib"]) / t1["shared_by"] * 2**30, name=system, precision=precision)


class StepTraffic(NamedTuple):
    """FLOPs and bytes of one step split by what the bytes are (arrays broadcast over the arguments).

    Attributes
    ----------
    flops : numpy.ndarray
        [FLOP]
    weight_read, kv_read, kv_written, act_bytes : numpy.ndarray
        Weights read, KV cache read and written, activations read plus written. [B]
    """

    flops: np.ndarray
    weight_read: np.ndarray
    kv_read: np.ndarray
    kv_written: np.ndarray
    act_bytes: np.ndarray


def _phase(phase: str) -> str:
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
    return phase


def _totals(spec: ModelSpec, phase: str, batch: np.ndarray, context: np.ndarray, widths: ByteWidths
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    options = ({"include_lm_head": True} if phase == "decode" else {"include_lm_head": "last", "causal_halving": True})
    ops = cost_arrays(spec, phase, context, batch, widths=widths, fused_attention=True, **options)
    return (sum(o.flops for o in ops.values()), sum(o.bytes_read for o in ops.values()),
            sum(o.bytes_written for o in ops.values()))


def step_traffic(spec: ModelSpec | str, batch: ArrayLike = 1, context: ArrayLike = 0, *, phase: str = "decode",
                 widths: ByteWidths = BF16) -> StepTraffic:
    """FLOPs and bytes of one decode step or prefill, split into weights, KV cache and activations.

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder or preset name.
    batch : int or array_like of int
        Sequences. [sequences]
    context : int or array_like of int
        Decode: tokens already cached; prefill: prompt length. [tokens]
    phase : {"decode", "prefill"}
        Which step.
    widths : memwall.widths.ByteWidths
        Storage widths (keyword-only). [B/element]

    Returns
    -------
    StepTraffic
        Broadcast over ``batch`` and ``context``. [FLOP], [B]

    Raises
    ------
    ValueError
        Unknown phase; ``batch`` not a positive integer or ``context`` negative (prefill: below 1), bools and
        strings rejected; ``widths`` not a :class:`memwall.widths.ByteWidths` (an ``ArgumentTypeError``).

    Notes
    -----
    :func:`memwall.cost.cost_arrays` (fused attention; decode with the LM head, prefill with the head on
    the last position and causal halving) is linear in each width, so the bytes due to the weights are
    ``T(2 b_w) - T(b_w)`` and likewise for the KV cache; the rest is activations.
    """
    phase = _phase(phase)
    spec = _spec(spec)
    instance("widths", widths, ByteWidths)
    b = _number("batch", batch, minimum=1, integer=True)
    c = _number("context", context, minimum=0 if phase == "decode" else 1, integer=True)
    flops, read, written = _totals(spec, phase, b, c, widths)
    w2 = ByteWidths(weight=2 * np.asarray(widths.weight), act=widths.act, kv=widths.kv)
    k2 = ByteWidths(weight=widths.weight, act=widths.act, kv=2 * np.asarray(widths.kv))
    _, read_w2, _ = _totals(spec, phase, b, c, w2)  # inference writes no weights
    _, read_k2, written_k2 = _totals(spec, phase, b, c, k2)
    weight_read = read_w2 - read
    kv_read, kv_written = read_k2 - read, written_k2 - written
    act = read + written - weight_read - kv_read - kv_written
    return StepTraffic(flops, weight_read, kv_read, kv_written, act)


def offload_step_time(spec: ModelSpec | str, system: TierCeilings, batch: ArrayLike = 1, context: ArrayLike = 0, *,
                      phase: str = "decode", weights_on_host: ArrayLike = 1.0, kv_on_host: ArrayLike = 0.0,
                      overlap: bool = True, widths: ByteWidths = BF16) -> float | np.ndarray:
    """Roofline bound of one step with a share of the weights and of the KV cache in host memory.

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder or preset name.
    system : TierCeilings
        Accelerator, its HBM and the host tier behind a link.
    batch, context : int or array_like of int
        As in :func:`step_traffic`. [sequences], [tokens]
    phase : {"decode", "prefill"}
        Which step.
    weights_on_host, kv_on_host : float or array_like, in [0, 1]
        Share of the weights / of the KV cache held in host memory (streamed over the link each step). [1]
    overlap : bool
        Overlapped bound (default) or serial (see the module docstring).
    widths : memwall.widths.ByteWidths
        Storage widths (keyword-only). [B/element]

    Returns
    -------
    float or numpy.ndarray
        Broadcast over the arguments. [s]

    Raises
    ------
    ValueError
        A share outside [0, 1] or not a number (bools and strings rejected), ``overlap`` not a bool, and the
        errors of :func:`step_traffic`.
    ArgumentTypeError
        ``system`` not a :class:`TierCeilings` (a ``TypeError`` and a ``ValueError``).

    Notes
    -----
    ``H = (1 - f_w) W + (1 - f_k)(K_r + K_w) + A``, ``L_in = f_w W + f_k K_r``, ``L_out = f_k K_w``;
    ``t = max(F/P, H/BW_h, max(L_in, L_out)/BW_s)`` overlapped, ``max(F/P, H/BW_h + max(L_in, L_out)/BW_s)``
    serial (module docstring; FlexGen, arXiv 2303.06865, §4, overlaps the transfers the same way).
    """
    instance("system", system, TierCeilings)
    flag("overlap", overlap)
    fw = _number("weights_on_host", weights_on_host, minimum=0.0, maximum=1.0)
    fk = _number("kv_on_host", kv_on_host, minimum=0.0, maximum=1.0)
    t = step_traffic(spec, batch, context, phase=phase, widths=widths)
    hbm = (1 - fw) * t.weight_read + (1 - fk) * (t.kv_read + t.kv_written) + t.act_bytes
    link = np.maximum(fw * t.weight_read + fk * t.kv_read, fk * t.kv_written) / system.stream_bandwidth_bytes_per_s
    compute = t.flops / system.peak_flop_per_s
    memory = hbm / system.hbm_bandwidth_bytes_per_s
    return _out(np.maximum(compute, np.maximum(memory, link)) if overlap else np.maximum(compute, memory + link))


def offload_tokens_per_s(spec: ModelSpec | str, system: TierCeilings, batch: ArrayLike = 1, context: ArrayLike = 0,
                         *, phase: str = "decode", **placement: Any) -> float | np.ndarray:
    """Upper bound on tokens per second: ``batch / t`` for decode, ``batch · prompt / t`` for prefill.

    Parameters
    ----------
    spec, system, batch, context, phase
        As in :func:`offload_step_time`.
    **placement
        ``weights_on_host``, ``kv_on_host``, ``overlap``, ``widths`` of :func:`offload_step_time`.

    Returns
    -------
    float or numpy.ndarray
        [tokens/s]

    Raises
    ------
    ValueError
        As :func:`offload_step_time`.
    """
    step = offload_step_time(spec, system, batch, context, phase=phase, **placement)
    tokens = np.asarray(batch, dtype=float) * (np.asarray(context, dtype=float) if phase == "prefill" else 1.0)
    return _out(tokens / step)


def slowdown_vs_hbm(spec: ModelSpec | str, system: TierCeilings, batch: ArrayLike = 1, context: ArrayLike = 0,
                    **placement: Any) -> float | np.ndarray:
    """How many times longer a step takes with the given placement than with everything in HBM.

    Parameters
    ----------
    spec, system, batch, context
        As in :func:`offload_step_time`.
    **placement
        ``phase``, ``weights_on_host``, ``kv_on_host``, ``overlap``, ``widths`` of :func:`offload_step_time`.

    Returns
    -------
    float or numpy.ndarray
        ``t(placement) / t(all in HBM)``; about ``BW_h / BW_s`` at batch 1 with every weight on the host. [1]

    Raises
    ------
    ValueError
        As :func:`offload_step_time`.
    """
    resident = {k: v for k, v in placement.items() if k in ("phase", "overlap", "widths")}
    return _out(offload_step_time(spec, system, batch, context, **placement)
                / offload_step_time(spec, system, batch, context, weights_on_host=0.0, kv_on_host=0.0, **resident))
