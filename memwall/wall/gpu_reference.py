"""A real accelerator's measured roofline: the stored H200 measurement and what memwall's bounds say of it.

``data/gpu_reference_measurements.csv`` holds three consecutive runs of ``tools/gpu_reference.py``
(PyTorch, CUDA events, medians of repeats) on one NVIDIA H200: device-memory bandwidth (copy, triad,
read), square GEMMs in five precisions, a GEMV→GEMM sweep over the batch ``b``, and the prefill and
decode latency of a decoder with Llama-3-8B's shapes and random bf16 weights. This module loads and
validates that table, reduces the runs to medians with their spread, derives the measured ceilings, and
sets each decode and prefill time beside the roofline lower bound that :mod:`memwall.serving` and
:mod:`memwall.cost` compute for the same shapes, with the datasheet ceilings and with the measured ones.

The measurement needs a GPU; the book only reads the stored table, so it builds anywhere.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from memwall.cost import cost_arrays
from memwall.roofline import Ceilings
from memwall.serving.decode import decode_step_time
from memwall.specs.presets import get_preset

__all__ = ["arithmetic_intensity", "decode_vs_bound", "gemv_sweep", "measured_gpu_ceilings", "median_runs",
           "prefill_tokens_per_s", "prefill_vs_bound", "times_below_ridge"]


H200_DEVICE = "H200 SXM 141GB (Hopper)"
"""The ``data/hardware.csv`` row of the measured GPU (datasheet ceilings)."""

DECODER_PRESET = "llama-3-8b"
"""The :mod:`memwall.specs` preset whose shapes the measured decoder has (``tools/gpu_reference.py``)."""


def median_runs(table: pd.DataFrame) -> pd.DataFrame:
    """Collapse the runs: median time per setting, with the spread between runs.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`load_gpu_reference` output.

    Returns
    -------
    pandas.DataFrame
        One row per ``(machine, experiment, setting)`` in file order: the descriptive columns, ``runs``,
        ``time_s`` (median over runs) [s], ``spread`` ((max − min) / min of the run times) [1], and
        ``flop_per_s`` / ``bandwidth_bytes_per_s`` recomputed from the median time where ``flop`` /
        ``bytes_moved`` are known.
    """
    keys = ["machine", "experiment", "setting"]
    first = table.drop_duplicates(keys).drop(columns=["run", "time_s", "flop_per_s", "bandwidth_bytes_per_s",
                                                       "command"])
    agg = table.groupby(keys, sort=False)["time_s"].agg(runs="count", time_s="median", t_min="min", t_max="max")
    out = first.merge(agg.reset_index(), on=keys, how="left")
    out["spread"] = (out.pop("t_max") - out["t_min"]) / out.pop("t_min")
    out["flop_per_s"] = out["flop"] / out["time_s"]
    out["bandwidth_bytes_per_s"] = out["bytes_moved"] / out["time_s"]
    return out.reset_index(drop=True)


def measured_gpu_ceilings(table: pd.DataFrame, dtype: str = "bfloat16") -> Ceilings:
    """Measured ceilings: the fastest memory kernel and the ``dtype`` GEMM, medians over runs.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`load_gpu_reference` output (one machine).
    dtype : {"bfloat16", "float16", "tf32", "float32", "float8_e4m3"}
        Precision of the compute roof.

    Returns
    -------
    Ceilings
        ``peak_flop_per_s`` = median GEMM throughput at ``dtype`` [FLOP/s]; ``bandwidth_bytes_per_s`` =
        the highest of the copy/triad/read medians [B/s] (the envelope, as for the CPU measurement:
        Williams et al. 2009 take the best achievable bandwidth as the roof); ``name`` = machine +
        "(measured)".

    Raises
    ------
    ValueError
        If the table holds several machines, or no GEMM at ``dtype`` (lists the dtypes measured).
    """
    machines = table["machine"].unique()
    if len(machines) != 1:
        raise ValueError(f"table holds {len(machines)} machines ({', '.join(machines)}); pass one")
    med = median_runs(table)
    gemm = med[(med["experiment"] == "gemm") & (med["dtype"] == dtype)]
    if gemm.empty:
        have = sorted(med.loc[med["experiment"] == "gemm", "dtype"].unique())
        raise ValueError(f"dtype={dtype!r} has no GEMM measurement; measured: {', '.join(have)}")
    bw = med.loc[med["experiment"].isin(["copy", "triad", "read"]), "bandwidth_bytes_per_s"].max()
    precision = {"bfloat16": "bf16", "float16": "fp16", "float8_e4m3": "fp8"}.get(dtype, dtype)
    return Ceilings(float(gemm["flop_per_s"].max()), float(bw), name=f"{machines[0]} (measured)",
                    precision=precision)


def gemv_sweep(table: pd.DataFrame) -> pd.DataFrame:
    """The GEMV→GEMM sweep, median over runs, with the roofline bound of each point.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`load_gpu_reference` output.

    Returns
    -------
    pandas.DataFrame
        ``batch_sequences``, ``intensity_flop_per_byte`` [FLOP/B], ``time_s`` [s], ``spread`` [1],
        ``flop_per_s`` [FLOP/s], ``bandwidth_bytes_per_s`` [B/s] and ``bound_s`` = the measured-ceiling
        roofline bound ``max(flop/peak, bytes/bandwidth)`` [s], ``bound_fraction`` = bound_s / time_s [1].
    """
    ceil = measured_gpu_ceilings(table)
    med = median_runs(table)
    g = med[med["experiment"] == "gemv"].copy()
    g["bound_s"] = ceil.time_bound(g["flop"].to_numpy(float), g["bytes_moved"].to_numpy(float))
    g["bound_fraction"] = g["bound_s"] / g["time_s"]
    cols = ["batch_sequences", "intensity_flop_per_byte", "time_s", "spread", "flop_per_s", "bandwidth_bytes_per_s",
            "bound_s", "bound_fraction"]
    return g[cols].reset_index(drop=True)


def _datasheet(hardware: pd.DataFrame) -> Ceilings:
    return Ceilings.from_hardware(hardware, H200_DEVICE, "fp16")


def decode_vs_bound(table: pd.DataFrame, hardware: pd.DataFrame) -> pd.DataFrame:
    """Measured decode steps beside :func:`memwall.serving.decode_step_time` for the same shapes.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`load_gpu_reference` output.
    hardware : pandas.DataFrame
        ``data/hardware.csv`` (:func:`memwall.tables.load_hardware`), for the datasheet ceilings of
        :data:`H200_DEVICE`.

    Returns
    -------
    pandas.DataFrame
        One row per decode setting: ``mode`` ("graph": a replayed CUDA graph; "eager": one launch per
        kernel from Python), ``batch_sequences``, ``context_tokens``, ``time_s`` (median over runs) [s],
        ``spread`` [1], ``bound_datasheet_s`` and ``bound_measured_s`` (bf16 weights, activations and KV
        cache, fused attention, LM head counted) [s], ``bound_fraction`` = bound_measured_s / time_s [1],
        ``tokens_per_s`` = batch / time_s [token/s], ``bytes`` and ``flops`` of the step from
        :func:`memwall.cost.cost_arrays` [B], [FLOP], ``achieved_bandwidth_bytes_per_s`` = bytes / time_s
        [B/s].
    """
    med = median_runs(table)
    dec = med[med["experiment"].isin(["decode_graph", "decode_eager"])].copy()
    dec["mode"] = dec["experiment"].str.removeprefix("decode_")
    b = dec["batch_sequences"].to_numpy(int)
    c = dec["context_tokens"].to_numpy(int)
    spec = get_preset(DECODER_PRESET)
    meas = measured_gpu_ceilings(table)
    dec["bound_datasheet_s"] = decode_step_time(spec, _datasheet(hardware), b, c)
    dec["bound_measured_s"] = decode_step_time(spec, meas, b, c)
    ops = cost_arrays(spec, "decode", c, b, fused_attention=True, include_lm_head=True)
    dec["bytes"] = np.sum([op.bytes_read + op.bytes_written for op in ops.values()], axis=0)
    dec["flops"] = np.sum([op.flops for op in ops.values()], axis=0)
    dec["bound_fraction"] = dec["bound_measured_s"] / dec["time_s"]
    dec["tokens_per_s"] = b / dec["time_s"]
    dec["achieved_bandwidth_bytes_per_s"] = dec["bytes"] / dec["time_s"]
    cols = ["mode", "batch_sequences", "context_tokens", "time_s", "spread", "bound_datasheet_s", "bound_measured_s",
            "bound_fraction", "tokens_per_s", "bytes", "flops", "achieved_bandwidth_bytes_per_s"]
    return dec[cols].reset_index(drop=True)


def prefill_vs_bound(table: pd.DataFrame, hardware: pd.DataFrame) -> pd.DataFrame:
    """Measured prefills beside the roofline bound of :func:`memwall.cost.cost_arrays` for the same shapes.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`load_gpu_reference` output.
    hardware : pandas.DataFrame
        ``data/hardware.csv``, for the datasheet ceilings.

    Returns
    -------
    pandas.DataFrame
        ``context_tokens`` (prompt length l), ``time_s`` [s], ``spread`` [1], ``flops`` [FLOP], ``bytes``
        [B], ``bound_datasheet_s`` / ``bound_measured_s`` [s] (sum over operations of
        ``max(flops/peak, bytes/bandwidth)``, bf16, fused causal attention with ``l(l+1)/2`` score pairs),
        ``bound_fraction`` [1] and ``achieved_flop_per_s`` [FLOP/s].

    Notes
    -----
    The measured prefill computes logits for the last position only; the bound leaves the LM head out
    (``include_lm_head=False``), so it stays a lower bound (the head of one token adds 1.05 GB of reads,
    about 0.25 ms at the measured bandwidth).
    """
    med = median_runs(table)
    pre = med[med["experiment"] == "prefill"].copy()
    prompt = pre["context_tokens"].to_numpy(int)
    spec = get_preset(DECODER_PRESET)
    ops = cost_arrays(spec, "prefill", prompt, 1, fused_attention=True, causal_halving=True)
    flops = np.sum([op.flops for op in ops.values()], axis=0)
    bytes_ = np.sum([op.bytes_read + op.bytes_written for op in ops.values()], axis=0)
    pre["flops"], pre["bytes"] = flops, bytes_

    def bound(ceil: Ceilings) -> np.ndarray:
        return np.sum([ceil.time_bound(op.flops, op.bytes_read + op.bytes_written) for op in ops.values()], axis=0)

    pre["bound_datasheet_s"] = bound(_datasheet(hardware))
    pre["bound_measured_s"] = bound(measured_gpu_ceilings(table))
    pre["bound_fraction"] = pre["bound_measured_s"] / pre["time_s"]
    pre["achieved_flop_per_s"] = pre["flops"] / pre["time_s"]
    cols = ["context_tokens", "time_s", "spread", "flops", "bytes", "bound_datasheet_s", "bound_measured_s",
            "bound_fraction", "achieved_flop_per_s"]
    return pre[cols].reset_index(drop=True)


def _as_out(arr: np.ndarray) -> float | np.ndarray:
    return float(arr) if arr.ndim == 0 else arr


def arithmetic_intensity(flops: ArrayLike, bytes_: ArrayLike) -> float | np.ndarray:
    """FLOPs per byte of DRAM traffic of a measured step (its operational intensity).

    Williams, Waterman and Patterson, *Roofline* (CACM 52(4), 2009, doi:10.1145/1498765.1498785): the
    intensity set against the ridge point decides whether a kernel is memory- or compute-bound.

    Parameters
    ----------
    flops : float or array_like
        Arithmetic of the step, e.g. the ``flops`` column of :func:`decode_vs_bound`. [FLOP]
    bytes_ : float or array_like
        DRAM bytes read and written by it, e.g. the ``bytes`` column. [B]

    Returns
    -------
    float or numpy.ndarray
        ``flops / bytes_``, shape of the broadcast inputs. [FLOP/B]

    Raises
    ------
    ValueError
        If ``flops`` is negative or ``bytes_`` is not positive (or either is not finite).

    Examples
    --------
    A BF16 matrix-vector product over a d x d matrix does 2d^2 FLOPs on about 2d^2 bytes:

    >>> arithmetic_intensity(2 * 4096**2, 2 * 4096**2)
    1.0
    """
    f = np.asarray(flops, dtype=float)
    b = np.asarray(bytes_, dtype=float)
    if not (np.isfinite(f).all() and (f >= 0).all()):
        raise ValueError("flops must be finite and >= 0")
    if not (np.isfinite(b).all() and (b > 0).all()):
        raise ValueError("bytes_ must be finite and > 0")
    return _as_out(f / b)


def times_below_ridge(ceilings: Ceilings, intensity: ArrayLike) -> float | np.ndarray:
    """How many times a kernel's intensity would have to grow to reach the ridge point of ``ceilings``.

    Parameters
    ----------
    ceilings : Ceilings
        Peak and bandwidth; the ridge point is their ratio (Williams et al. 2009). [FLOP/B]
    intensity : float or array_like
        Arithmetic intensity of the kernel (:func:`arithmetic_intensity`). [FLOP/B]

    Returns
    -------
    float or numpy.ndarray
        ``ceilings.ridge_flop_per_byte / intensity``: above 1 the kernel is memory-bound. [1]

    Raises
    ------
    ValueError
        If an intensity is not positive and finite.

    Examples
    --------
    >>> times_below_ridge(Ceilings(1000e12, 4e12), 2.0)
    125.0
    """
    i = np.asarray(intensity, dtype=float)
    if not (np.isfinite(i).all() and (i > 0).all()):
        raise ValueError("intensity must be finite and > 0")
    return _as_out(ceilings.ridge_flop_per_byte / i)


def prefill_tokens_per_s(prompt_tokens: ArrayLike, time_s: ArrayLike) -> float | np.ndarray:
    """Prompt tokens processed per second by a prefill (one sequence): prompt length over prefill time.

    Parameters
    ----------
    prompt_tokens : int or array_like of int
        Prompt length, e.g. the ``context_tokens`` column of :func:`prefill_vs_bound`. [tokens]
    time_s : float or array_like
        Measured time of the prefill (``time_s``). [s]

    Returns
    -------
    float or numpy.ndarray
        ``prompt_tokens / time_s``. [token/s]

    Raises
    ------
    ValueError
        If a prompt length is not a whole number >= 1 or a time is not positive and finite.

    Examples
    --------
    >>> prefill_tokens_per_s(8192, 0.5)
    16384.0
    """
    n = np.asarray(prompt_tokens, dtype=float)
    t = np.asarray(time_s, dtype=float)
    if not (np.isfinite(n).all() and (n >= 1).all() and (n == np.round(n)).all()):
        raise ValueError("prompt_tokens must be whole numbers >= 1")
    if not (np.isfinite(t).all() and (t > 0).all()):
        raise ValueError("time_s must be finite and > 0")
    return _as_out(n / t)
