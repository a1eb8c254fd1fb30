r"""Fused attention: what keeping the ``l × l`` scores on chip does to the survey's encoder curve.

In the survey's case study (Kim et al. 2023, arXiv 2302.14017, §2.2, reproduced by
:mod:`memwall.wall.case_study`) BERT's arithmetic intensity rises with the sequence length ``l`` up to
``l = 512`` and then falls: the act-to-act operations (QKᵀ, softmax, score·V) write and re-read an
``h × l × l`` score tensor per layer, whose bytes grow as ``l²`` while the FLOPs per score element are
only ``2·d_h`` (QKᵀ) + 4 (softmax) + ``2·d_h`` (score·V). A fused kernel (FlashAttention, Dao et al.
2022, arXiv 2205.14135) never writes the scores to DRAM. This module compares three accountings of
the attention core of an encoder (or a prefill) layer:

``"unfused"``
    The survey's recipe (:func:`memwall.cost.cost_arrays`, ``fused_attention=False``): per head,
    QKᵀ reads Q and K and writes the ``l²`` scores, softmax reads and writes them, score·V reads them
    and V and writes the output: ``4·l·d_h + 4·l²`` elements.
``"fused"``
    Ideal fusion (``fused_attention=True``): Q, K, V read once, the output written once:
    ``4·l·d_h`` elements per head. This is the lower bound of any kernel.
``"tiled"``
    FlashAttention's Algorithm 1 (Dao et al. 2022, §3.1) with an on-chip memory of ``M`` elements:
    blocks of ``B_c = ⌈M/(4d)⌉`` keys and ``B_r = min(⌈M/(4d)⌉, d)`` queries; the outer loop over the
    ``T_c = ⌈l/B_c⌉`` key/value blocks loads each K and V block once, the inner loop loads every
    query block and the running output ``O`` and statistics ``ℓ, m`` and writes ``O, ℓ, m`` back.
    Per head: ``l·d + 2·l`` elements to initialise ``O, ℓ, m``, ``2·l·d`` for K and V, and
    ``T_c·(3·l·d + 4·l)`` for Q, O (read and write), ℓ and m (read and write). This is
    ``Θ(l²·d²/M)`` (their Theorem 2) and tends to ``"fused"`` as ``M`` grows.

FLOPs are the same in all three (recomputation in the backward pass does not arise in inference).
Every other operation is counted as in :mod:`memwall.cost`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from memwall._checks import _check_array
from memwall.cost import cost_arrays
from memwall.specs.model_spec import ModelSpec
from memwall.specs.presets import get_preset
from memwall.widths import INT8, ByteWidths

__all__ = ["FUSION_MODES", "attention_core_bytes", "fusion_sweep", "intensity_peaks", "tiled_attention_elements"]


#: Accountings of the attention core (module docstring).
FUSION_MODES = ("unfused", "fused", "tiled")
_CORE = ("qk_matmul", "softmax", "sv_matmul")


def tiled_attention_elements(seq_len: ArrayLike, head_dim: int, sram_elements: ArrayLike) -> float | np.ndarray:
    """DRAM traffic of FlashAttention's Algorithm 1 for one head, in elements.

    Parameters
    ----------
    seq_len : int or array_like of int
        Sequence length ``l`` (queries = keys). [tokens]
    head_dim : int
        Head size ``d``. [elements]
    sram_elements : int or array_like of int
        On-chip memory ``M`` available to the kernel, at least ``4·d`` (one block row). [elements]

    Returns
    -------
    float or numpy.ndarray
        ``l·d + 2·l + 2·l·d + ⌈l/B_c⌉·(3·l·d + 4·l)`` with ``B_c = ⌈M/(4d)⌉`` (Dao et al. 2022,
        arXiv 2205.14135, Algorithm 1: lines 2, 6, 8, 12-13), broadcast over the arguments. [elements]

    Raises
    ------
    ValueError
        ``seq_len`` not a positive integer, ``head_dim`` not a positive integer, ``sram_elements``
        below ``4·head_dim``.
    """
    n = _check_array("seq_len", seq_len, integer=True, minimum=1)
    d = _check_array("head_dim", head_dim, integer=True, minimum=1)
    m = _check_array("sram_elements", sram_elements, integer=True, minimum=float(4 * d.max()))
    block_cols = np.ceil(m / (4.0 * d))
    passes = np.ceil(n / block_cols)
    out = n * d + 2.0 * n + 2.0 * n * d + passes * (3.0 * n * d + 4.0 * n)
    return float(out) if out.ndim == 0 else out


def attention_core_bytes(spec: ModelSpec | str, seq_len: ArrayLike, mode: str, batch: ArrayLike = 1,
                         sram_elements: int | None = None, *, widths: ByteWidths = INT8) -> float | np.ndarray:
    """Bytes moved by QKᵀ, softmax and score·V of an encode/prefill pass, all layers.

    Parameters
    ----------
    spec : ModelSpec or str
        Architecture or preset name.
    seq_len : int or array_like of int
        Tokens ``l``. [tokens]
    mode : {"unfused", "fused", "tiled"}
        Accounting (module docstring). ``"tiled"`` runs Algorithm 1 once per query head, loading
        that head's K and V even when grouped-query heads share them.
    batch : int or array_like of int
        Sequences. [sequences]
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``INT8``). [B/element]
    sram_elements : int, optional
        On-chip memory ``M`` for ``"tiled"`` (required there, ignored otherwise). [elements]

    Returns
    -------
    float or numpy.ndarray
        [B]

    Raises
    ------
    ValueError
        Unknown ``mode``; ``"tiled"`` without ``sram_elements``; as :func:`tiled_attention_elements`
        and :func:`memwall.cost.cost_arrays`.
    """
    act_bytes, kv_bytes = widths.act, widths.kv
    if mode not in FUSION_MODES:
        raise ValueError(f"mode must be one of {FUSION_MODES}, got {mode!r}")
    spec = get_preset(spec) if isinstance(spec, str) else spec
    if mode == "tiled":
        if sram_elements is None:
            raise ValueError("mode='tiled' needs sram_elements (on-chip memory M in elements)")
        ab = np.asarray(act_bytes, dtype=float)
        kb = np.asarray(kv_bytes, dtype=float)
        b = _check_array("batch", batch, integer=True, minimum=1)
        n = _check_array("seq_len", seq_len, integer=True, minimum=1)
        total = np.asarray(tiled_attention_elements(n, spec.head_dim, sram_elements))
        kv = 2.0 * n * spec.head_dim  # K and V at kv_bytes, everything else at act_bytes
        per_head = (total - kv) * ab + kv * kb
        out = spec.layers * spec.heads * b * per_head
    else:
        ops = cost_arrays(spec, "prefill", seq_len, batch, widths=ByteWidths(weight=1.0, act=act_bytes, kv=kv_bytes),
                          fused_attention=mode == "fused")
        out = sum(ops[k].bytes_read + ops[k].bytes_written for k in _CORE)
    out = np.asarray(out, dtype=float)
    return float(out) if out.ndim == 0 else out


def fusion_sweep(models: dict[str, str], lengths: Sequence[int], *, widths: ByteWidths = INT8,
                 sram_elements: int) -> pd.DataFrame:
    """Whole-model FLOPs, bytes and intensity of an encode pass over lengths, for each fusion mode.

    Parameters
    ----------
    models : dict of str to str
        Display name -> preset name (encoders, or decoders in prefill).
    lengths : sequence of int
        Sequence lengths ``l``. [tokens]
    sram_elements : int
        On-chip memory ``M`` of the ``"tiled"`` mode. [elements]
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``INT8``). [B/element]

    Returns
    -------
    pandas.DataFrame
        One row per (model, mode, length): ``model``, ``mode``, ``seq_len`` [tokens], ``flops``
        [FLOP], ``bytes`` [B], ``intensity`` [FLOP/B], ``act_to_act_bytes`` [B] (the attention core:
        QKᵀ, softmax, score·V) and ``act_to_act_share`` (its fraction of all bytes). Batch 1.
    """
    n = np.asarray(lengths)
    frames = []
    for label, preset in models.items():
        spec = get_preset(preset)
        ops = cost_arrays(spec, "prefill", n, 1, widths=widths, fused_attention=False)
        flops = sum(o.flops for o in ops.values())
        other = sum(o.bytes_read + o.bytes_written for k, o in ops.items() if k not in _CORE)
        for mode in FUSION_MODES:
            core = attention_core_bytes(spec, n, mode, 1, widths=widths, sram_elements=sram_elements)
            total = other + core
            frames.append(pd.DataFrame({"model": label, "mode": mode, "seq_len": n, "flops": flops, "bytes": total,
                                        "intensity": flops / total, "act_to_act_bytes": core,
                                        "act_to_act_share": core / total}))
    return pd.concat(frames, ignore_index=True)


def intensity_peaks(sweep: pd.DataFrame) -> pd.DataFrame:
    """Where each (model, mode) curve of :func:`fusion_sweep` peaks, and whether it falls after.

    Parameters
    ----------
    sweep : pandas.DataFrame
        Output of :func:`fusion_sweep`.

    Returns
    -------
    pandas.DataFrame
        One row per (model, mode): ``peak_seq_len`` [tokens], ``peak_intensity`` [FLOP/B],
        ``last_intensity`` [FLOP/B] (at the longest length) and ``falls_after_peak`` (the longest
        length is below the peak).
    """
    rows = []
    for (model, mode), g in sweep.groupby(["model", "mode"], sort=False):
        g = g.sort_values("seq_len")
        i = int(np.argmax(g["intensity"].to_numpy()))
        rows.append({"model": model, "mode": mode, "peak_seq_len": int(g["seq_len"].iloc[i]),
                     "peak_intensity": float(g["intensity"].iloc[i]),
                     "last_intensity": float(g["intensity"].iloc[-1]),
                     "falls_after_peak": bool(g["intensity"].iloc[-1] < g["intensity"].iloc[i])})
    return pd.DataFrame(rows)
