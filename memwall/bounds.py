"""Roofline time bounds of a whole cost table: per-operation bounds, model latency and predicted ratios."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from memwall.cost import cost_arrays
from memwall.roofline import Ceilings, _out, _positive, op_time_bound
from memwall.specs.model_spec import ModelSpec
from memwall.specs.presets import get_preset
from memwall.widths import BF16, ByteWidths

__all__ = ["model_time", "predict_time", "predicted_ratio", "roofline_table"]



def roofline_table(costs: pd.DataFrame, ceilings: Ceilings) -> pd.DataFrame:
    """Per-operation roofline bounds for a cost table.

    Parameters
    ----------
    costs : pandas.DataFrame
        Output of :func:`memwall.cost.cost_table` (needs ``flops`` [FLOP] and ``bytes`` [B]).
    ceilings : Ceilings
        Machine.

    Returns
    -------
    pandas.DataFrame
        A copy of ``costs`` with ``compute_time_s`` = flops/peak, ``memory_time_s`` = bytes/bandwidth,
        ``time_s`` (their maximum) [s], ``bound`` (``"compute"`` or ``"memory"``), and
        ``attainable_flop_per_s`` [FLOP/s].

    Raises
    ------
    ValueError
        If a column is missing or holds a negative value.
    """
    missing = [c for c in ("flops", "bytes") if c not in costs.columns]
    if missing:
        raise ValueError(f"costs lacks column(s) {missing}; has {list(costs.columns)}")
    f = _positive("flops", costs["flops"].to_numpy(dtype=float), allow_zero=True)
    m = _positive("bytes", costs["bytes"].to_numpy(dtype=float), allow_zero=True)
    out = costs.copy()
    out["compute_time_s"] = f / ceilings.peak_flop_per_s
    out["memory_time_s"] = m / ceilings.bandwidth_bytes_per_s
    out["time_s"] = np.maximum(out["compute_time_s"], out["memory_time_s"])
    out["bound"] = np.where(out["compute_time_s"] >= out["memory_time_s"], "compute", "memory")
    with np.errstate(divide="ignore", invalid="ignore"):
        achieved = np.where(out["time_s"] > 0, f / out["time_s"].to_numpy(), 0.0)
    out["attainable_flop_per_s"] = achieved
    return out


def model_time(costs: pd.DataFrame, ceilings: Ceilings) -> float:
    """Lower bound on a model's time: the sum of its operations' roofline bounds.

    Parameters
    ----------
    costs : pandas.DataFrame
        Output of :func:`memwall.cost.cost_table` (whole-model rows).
    ceilings : Ceilings
        Machine.

    Returns
    -------
    float
        ``sum_i max(flops_i / peak, bytes_i / bandwidth)``. [s]

    Raises
    ------
    ValueError
        As :func:`roofline_table`.
    """
    return float(roofline_table(costs, ceilings)["time_s"].sum())


def predict_time(spec: ModelSpec | str, phase: str, seq_len: ArrayLike, ceilings: Ceilings, batch: ArrayLike = 1, *,
                 widths: ByteWidths = BF16, **options: bool) -> float | np.ndarray:
    """Roofline-predicted latency of one inference phase: sum over operations of their time bounds.

    Parameters
    ----------
    spec : ModelSpec or str
        Architecture or preset name (e.g. ``"bert-base"``, ``"gpt2"``).
    phase : {"prefill", "encode", "decode", "generate"}
        As in :func:`memwall.cost.cost_arrays`; ``generate`` is ``seq_len`` tokens one by one with a
        KV cache.
    seq_len : int or array_like of int
        Tokens (prefill, encode, generate) or cached tokens (decode). [tokens]
    ceilings : Ceilings
        Machine.
    batch : int or array_like of int
        Sequences processed together. [sequences]
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``BF16``). [B/element]
    **options : bool
        Passed to :func:`memwall.cost.cost_arrays` (``fused_attention``, ``causal_halving``, ...).

    Returns
    -------
    float or numpy.ndarray
        Predicted time, broadcast shape of the array arguments. [s]

    Raises
    ------
    ValueError
        As :func:`memwall.cost.cost_arrays`.
    """
    if isinstance(spec, str):
        spec = get_preset(spec)
    ops = cost_arrays(spec, phase, seq_len, batch, widths=widths, **options)
    total = sum(op_time_bound(o.flops, o.bytes_read + o.bytes_written, ceilings.peak_flop_per_s,
                              ceilings.bandwidth_bytes_per_s) for o in ops.values())
    return _out(np.asarray(total, dtype=float))


def predicted_ratio(seq_len: ArrayLike, ceilings: Ceilings, decoder: ModelSpec | str = 'gpt2',
                    encoder: ModelSpec | str = 'bert-base', *, widths: ByteWidths = BF16,
                    **options: bool) -> float | np.ndarray:
    """Predicted latency of generating ``l`` tokens with a decoder over encoding ``l`` tokens.

    Parameters
    ----------
    seq_len : int or array_like of int
        Sequence length ``l``. [tokens]
    ceilings : Ceilings
        Machine.
    decoder, encoder : ModelSpec or str
        Models (default GPT-2 124M and BERT-Base, the survey's pair).
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``BF16``). [B/element]
    **options : bool
        Passed to :func:`memwall.cost.cost_arrays`.

    Returns
    -------
    float or numpy.ndarray
        ``predict_time(decoder, "generate", l) / predict_time(encoder, "encode", l)``. [dimensionless]

    Raises
    ------
    ValueError
        As :func:`predict_time`.
    """
    kw = dict(widths=widths, **options)
    dec = predict_time(decoder, "generate", seq_len, ceilings, **kw)
    enc = predict_time(encoder, "encode", seq_len, ceilings, **kw)
    return _out(np.asarray(dec, dtype=float) / np.asarray(enc, dtype=float))
