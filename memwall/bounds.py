"""Roofline time bounds of a whole cost table: per-operation bounds, model latency and predicted ratios."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from memwall._checks import finite_result, instance
from memwall.cost import cost_arrays
from memwall.roofline import Ceilings, _out, _positive
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
        If a column is missing or holds a negative, non-finite or non-numeric value, or a time overflows a float.
    ArgumentTypeError
        ``costs`` not a DataFrame or ``ceilings`` not a :class:`~memwall.roofline.Ceilings`.
    """
    instance("costs", costs, pd.DataFrame)
    instance("ceilings", ceilings, Ceilings)
    missing = [c for c in ("flops", "bytes") if c not in costs.columns]
    if missing:
        raise ValueError(f"costs lacks column(s) {missing}; has {list(costs.columns)}")
    f = _positive("flops", costs["flops"], allow_zero=True, unit="FLOP")
    m = _positive("bytes", costs["bytes"], allow_zero=True, unit="B")
    out = costs.copy()
    with np.errstate(over="ignore"):
        out["compute_time_s"] = f / ceilings.peak_flop_per_s
        out["memory_time_s"] = m / ceilings.bandwidth_bytes_per_s
    finite_result("roofline_table times", out[["compute_time_s", "memory_time_s"]].to_numpy(),
                  {"flops": f, "bytes": m, "peak_flop_per_s": ceilings.peak_flop_per_s,
                   "bandwidth_bytes_per_s": ceilings.bandwidth_bytes_per_s})
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
        As :func:`roofline_table`; also if the sum overflows a float.
    ArgumentTypeError
        As :func:`roofline_table`.
    """
    table = roofline_table(costs, ceilings)
    with np.errstate(over="ignore"):
        total = float(table["time_s"].sum())
    finite_result("model_time", total, {"flops": table["flops"], "bytes": table["bytes"]})
    return total


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
        As :func:`memwall.cost.cost_arrays`; also if the time overflows a float (the message lists the inputs).
    ArgumentTypeError
        ``ceilings`` not a :class:`~memwall.roofline.Ceilings`, and as :func:`memwall.cost.cost_arrays`.
    """
    instance("ceilings", ceilings, Ceilings)
    if isinstance(spec, str):
        spec = get_preset(spec)
    ops = cost_arrays(spec, phase, seq_len, batch, widths=widths, **options)
    peak, bw = ceilings.peak_flop_per_s, ceilings.bandwidth_bytes_per_s
    with np.errstate(over="ignore"):
        total = np.asarray(sum(np.maximum(o.flops / peak, (o.bytes_read + o.bytes_written) / bw)
                               for o in ops.values()), dtype=float)
    finite_result("predict_time", total, {"seq_len": seq_len, "batch": batch, "peak_flop_per_s": peak,
                                          "bandwidth_bytes_per_s": bw, "weight_bytes": widths.weight,
                                          "act_bytes": widths.act, "kv_bytes": widths.kv})
    return _out(total)


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
        As :func:`predict_time`, also if the ratio overflows a float.
    ArgumentTypeError
        As :func:`predict_time`.
    """
    kw = dict(widths=widths, **options)
    dec = predict_time(decoder, "generate", seq_len, ceilings, **kw)
    enc = predict_time(encoder, "encode", seq_len, ceilings, **kw)
    with np.errstate(over="ignore"):
        out = np.asarray(dec, dtype=float) / np.asarray(enc, dtype=float)
    finite_result("predicted_ratio", out, {"seq_len": seq_len})
    return _out(out)
