r"""How far batch-1 decode sits from each device's ridge point, and how fast that gap grows.

A device with peak ``P`` [FLOP/s] and DRAM bandwidth ``BW`` [B/s] runs a kernel at its compute roof
only if the kernel performs at least ``P / BW`` FLOPs per byte moved: the machine balance, or ridge
point, of the roofline (Williams, Waterman and Patterson, CACM 52(4), 2009,
doi 10.1145/1498765.1498785). Decoding one sequence (batch 1) does one multiply-add, 2 FLOPs, per
weight read, so its intensity is about ``2 / b_w`` FLOP/B for ``b_w``-byte weights: 1 FLOP/B at 16
bits. The ratio

.. math::

    \text{gap} = \frac{P / BW}{I_\text{decode}} = \frac{P / I_\text{decode}}{BW}

is both how many times too little arithmetic batch-1 decode offers and how many times more bandwidth
the device would need, ``BW_\text{needed} = P / I_\text{decode}``, for that decode to become
compute-bound. With a fixed weight width the decode intensity does not move, so the gap grows as
the machine balance does: the paper's "memory wall" as one number per device
(Gholami et al., arXiv 2403.14123, §II-III).

Peaks follow the precision rules of :mod:`memwall.wall.hardware_trends` (``"max_16bit"`` is the paper's rule and
the one the hardware-trends chapter uses for its balance fit).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from memwall.cost import cost_arrays
from memwall.specs.model_spec import ModelSpec
from memwall.specs.presets import decoder_spec
from memwall.trends import GrowthFit
from memwall.wall.hardware_trends import PRECISION_RULES, fit_series, machine_balance
from memwall.widths import BF16, ByteWidths

__all__ = ["balance_gap_table", "decode_intensity", "gap_trend", "needed_bandwidth"]



def _spec(spec: ModelSpec | str) -> ModelSpec:
    return decoder_spec(spec, "decode")


def decode_intensity(spec: ModelSpec | str, batch: ArrayLike = 1, context: ArrayLike = 1024, *,
                     widths: ByteWidths = BF16) -> float | np.ndarray:
    """Arithmetic intensity of one whole decode step (all operations, LM head included).

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder or preset name.
    batch : int or array_like of int
        Sequences. [sequences]
    context : int or array_like of int
        Cached tokens per sequence. [tokens]
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``BF16``). [B/element]

    Returns
    -------
    float or numpy.ndarray
        Summed FLOPs over summed bytes of :func:`memwall.cost.cost_arrays` (decode, fused attention,
        LM head), broadcast over the arguments. [FLOP/B]

    Raises
    ------
    ValueError
        As :func:`memwall.cost.cost_arrays`.

    Notes
    -----
    At batch 1 each weight is read once (``b_w`` bytes) and used in one multiply-add (2 FLOPs), so the
    intensity is close to ``2 / b_w``: activations and the KV cache add bytes, attention over the cache
    adds FLOPs (with grouped-query attention each cached byte serves ``heads / kv_heads`` queries).
    """
    ops = cost_arrays(_spec(spec), "decode", context, batch, widths=widths, fused_attention=True, include_lm_head=True)
    flops = sum(o.flops for o in ops.values())
    bytes_ = sum(o.bytes_read + o.bytes_written for o in ops.values())
    out = np.asarray(flops / bytes_, dtype=float)
    return float(out) if out.ndim == 0 else out


def needed_bandwidth(peak_flop_per_s: ArrayLike, intensity_flop_per_byte: ArrayLike) -> float | np.ndarray:
    """DRAM bandwidth at which a kernel of the given intensity reaches the compute roof.

    Parameters
    ----------
    peak_flop_per_s : float or array_like
        Peak. [FLOP/s]
    intensity_flop_per_byte : float or array_like
        The kernel's arithmetic intensity. [FLOP/B]

    Returns
    -------
    float or numpy.ndarray
        ``peak / intensity``: the bandwidth that puts the ridge point at the kernel. [B/s]

    Raises
    ------
    ValueError
        If a value is not positive and finite.
    """
    p = np.asarray(peak_flop_per_s, dtype=float)
    i = np.asarray(intensity_flop_per_byte, dtype=float)
    for name, arr in (("peak_flop_per_s", p), ("intensity_flop_per_byte", i)):
        if np.any(~np.isfinite(arr) | (arr <= 0)):
            raise ValueError(f"{name} must be positive and finite, got {arr!r}")
    out = p / i
    return float(out) if out.ndim == 0 else out


def balance_gap_table(hardware: pd.DataFrame, spec: ModelSpec | str = 'llama-3-70b', rule: str = 'max_16bit',
                      context: int = 1024, *, widths: ByteWidths = BF16) -> pd.DataFrame:
    """Machine balance, batch-1 decode intensity, their ratio and the bandwidth that would close it.

    Parameters
    ----------
    hardware : pandas.DataFrame
        Table from :func:`memwall.tables.load_hardware`.
    spec : ModelSpec or str
        Decoder whose batch-1 decode is measured against each device.
    rule : {"fp32", "max_16bit", "max_8bit"}
        Precision rule for the peak (:data:`memwall.wall.hardware_trends.PRECISION_RULES`).
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``BF16``). [B/element]
    context : int
        Cached tokens. [tokens]

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`memwall.wall.hardware_trends.machine_balance` (``device``, ``kind``, ``date``,
        ``year``, ``precision``, ``peak_flop_per_s`` [FLOP/s], ``bandwidth_bytes_per_s`` [B/s],
        ``ridge_flop_per_byte`` [FLOP/B]) for devices with a peak and a bandwidth, plus
        ``decode_intensity`` [FLOP/B], ``gap`` [x] = balance / decode intensity and
        ``needed_bandwidth_bytes_per_s`` [B/s] = peak / decode intensity.

    Raises
    ------
    ValueError
        Unknown ``rule``; widths or context as in :func:`decode_intensity`.
    """
    if rule not in PRECISION_RULES:
        raise ValueError(f"rule={rule!r} is not known; allowed: {', '.join(PRECISION_RULES)}")
    intensity = decode_intensity(spec, 1, context, widths=widths)
    out = machine_balance(hardware, rule).dropna(subset=["ridge_flop_per_byte"]).reset_index(drop=True)
    out["decode_intensity"] = intensity
    out["gap"] = out["ridge_flop_per_byte"] / intensity
    out["needed_bandwidth_bytes_per_s"] = needed_bandwidth(out["peak_flop_per_s"].to_numpy(), intensity)
    return out


def gap_trend(table: pd.DataFrame, window: tuple[int, int] = (2016, 2026), row_set: str = "all") -> GrowthFit:
    """Exponential trend of the gap over a window of release years.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`balance_gap_table`.
    window : tuple of int
        Inclusive calendar years.
    row_set : {"all", "records"}
        Every device, or only those that set a record gap.

    Returns
    -------
    GrowthFit
        :func:`memwall.wall.hardware_trends.fit_series` of ``gap``: ``per_2_years`` is the growth of the gap
        every two years.

    Raises
    ------
    ValueError
        As :func:`memwall.wall.hardware_trends.fit_series` (fewer than 2 points, unknown row set, bad window).
    """
    return fit_series(table, "gap", row_set=row_set, window=window)
