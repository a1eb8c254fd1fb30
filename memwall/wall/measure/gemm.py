"""Peak GEMM throughput and the GEMV-to-GEMM sweep on this machine (numpy BLAS)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from tqdm.std import tqdm  # text bars: tqdm.auto warns (IProgress) in a kernel without ipywidgets

from memwall.wall.measure.machine import last_level_cache_bytes
from memwall.wall.measure.timing import TimeBudget, _as_budget, _check_int, _check_ints, measure

__all__ = ["gemm_peak", "gemv_gemm_sweep"]




# -------------------------------------------------------------------------------------------- GEMM


def gemm_peak(
    sizes: Sequence[int] = (1024, 2048),
    dtypes: Sequence[str] = ("float32", "float64"),
    *,
    repeats: int = 3,
    seed: int = 0,
    budget_s: float | TimeBudget | None = None,
    min_repeats: int = 1,
    bar: tqdm | None = None,
) -> pd.DataFrame:
    """Throughput of square matrix products ``C = A·B`` through numpy's BLAS.

    Parameters
    ----------
    sizes : sequence of int
        Matrix orders ``n``; large enough ones (≥ 1024 on a CPU) saturate the BLAS. [elements]
    dtypes : sequence of {"float32", "float64"}
        Precisions.
    repeats : int
        Timed runs per configuration (after a warm-up); the median is reported. With ``budget_s``,
        the most runs. [runs]
    seed : int
        Seed of the random operands.
    budget_s : float or TimeBudget, optional
        Wall-time allowance of the whole call (operand set-up included), shared among the
        configurations as :class:`~memwall.wall.measure.timing.TimeBudget` does; each then times
        between ``min_repeats`` and ``repeats`` runs (:func:`~memwall.wall.measure.timing.measure`).
        A :class:`TimeBudget` passed in is drawn on once per configuration. Under a budget only the
        first configuration gets a warm-up run (it warms the BLAS threads and the operands' pages
        for the others; warming each would double the cost of the largest ones). Without it,
        exactly ``repeats`` runs, each configuration after its own warm-up. [s]
    min_repeats : int
        Fewest timed runs per configuration under a budget. [runs]
    bar : tqdm, optional
        Progress bar advanced once per configuration.

    Returns
    -------
    pandas.DataFrame
        ``dtype``, ``n``, ``flops`` (= ``2·n³``) [FLOP], ``time_s`` (median) [s], ``flop_per_s``
        (median) and ``best_flop_per_s`` [FLOP/s], ``time_iqr_s`` (interquartile range of the runs,
        NaN for one run) [s] and ``repeats`` (timed runs) [runs]. The compute roof is the maximum of ``flop_per_s``
        per dtype.

    Raises
    ------
    ValueError
        If a size, ``repeats`` or ``min_repeats`` is not a positive integer, a dtype is not
        float32/float64, or ``budget_s`` is negative.
    """
    sizes = _check_ints("sizes", sizes)
    repeats = _check_int("repeats", repeats)
    min_repeats = min(_check_int("min_repeats", min_repeats), repeats)
    for dt in dtypes:
        if dt not in ("float32", "float64"):
            raise ValueError(f"dtype={dt!r} is not supported; allowed: float32, float64")
    budget = _as_budget(budget_s, len(sizes) * len(dtypes))
    rng = np.random.default_rng(seed)
    rows = []
    for dt in dtypes:
        for n in sizes:
            a = rng.standard_normal((n, n)).astype(dt)
            b = rng.standard_normal((n, n)).astype(dt)
            out = np.empty((n, n), dtype=dt)
            timing = measure(lambda a=a, b=b, out=out: np.matmul(a, b, out=out),
                             None if budget is None else budget.next_share(), min_repeats, repeats,
                             warmup=budget is None or not rows)
            if bar is not None:
                bar.update(1)
            flops = 2.0 * n**3
            rows.append({"dtype": dt, "n": n, "flops": flops, "time_s": timing.median_s,
                         "flop_per_s": flops / timing.median_s, "best_flop_per_s": flops / timing.min_s,
                         "time_iqr_s": timing.iqr_s, "repeats": timing.repeats})
    return pd.DataFrame(rows)


def gemv_gemm_sweep(
    d: int = 8192,
    batches: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
    *,
    dtype: str = "float32",
    repeats: int = 3,
    weight_copies: int | None = None,
    seed: int = 0,
    budget_s: float | TimeBudget | None = None,
    min_repeats: int = 1,
    bar: tqdm | None = None,
) -> pd.DataFrame:
    """Matrix-vector to matrix-matrix: ``Y = W·X``, ``W`` ``(d, d)``, ``X`` ``(d, b)``, for growing ``b``.

    Parameters
    ----------
    d : int
        Order of the weight matrix; ``d² ×`` element size should exceed the last-level cache for the
        ``b = 1`` point to be memory-bound (8192 in float32 is 256 MiB). [elements]
    batches : sequence of int
        Columns ``b`` of ``X`` (tokens or sequences sharing the weights). [columns]
    dtype : {"float32", "float64"}
        Precision.
    repeats : int
        Timed runs per batch (after a warm-up); the median is reported. With ``budget_s``, the most
        runs. [runs]
    weight_copies : int, optional
        Identical copies of ``W`` used in turn, so that the copy a product reads was evicted from the
        cache by the others (default: enough copies to total twice the last-level cache plus one, at
        most 4). [copies]
    seed : int
        Seed of the random operands.
    budget_s : float or TimeBudget, optional
        Wall-time allowance of the whole call (operand set-up included), shared among the
        configurations as :class:`~memwall.wall.measure.timing.TimeBudget` does; each then times
        between ``min_repeats`` and ``repeats`` runs (:func:`~memwall.wall.measure.timing.measure`).
        A :class:`TimeBudget` passed in is drawn on once per configuration. Under a budget only the
        first configuration gets a warm-up run (it warms the BLAS threads and the operands' pages
        for the others; warming each would double the cost of the largest ones). Without it,
        exactly ``repeats`` runs, each configuration after its own warm-up. [s]
    min_repeats : int
        Fewest timed runs per configuration under a budget. [runs]
    bar : tqdm, optional
        Progress bar advanced once per configuration.

    Returns
    -------
    pandas.DataFrame
        ``batch``, ``flops`` (= ``2·d²·b``) [FLOP], ``bytes`` (``W``, ``X`` read and ``Y`` written once:
        ``(d² + 2·d·b)·size``) [B], ``intensity_flop_per_byte`` [FLOP/B], ``time_s`` (median) [s],
        ``flop_per_s`` [FLOP/s], ``effective_bandwidth_bytes_per_s`` (= bytes / time) [B/s],
        ``time_iqr_s`` (interquartile range of the runs, NaN for one run) [s] and ``repeats`` [runs].

    Raises
    ------
    ValueError
        If ``d``, a batch, ``repeats`` or ``min_repeats`` is not a positive integer, ``dtype`` is not
        float32/float64, or ``budget_s`` is negative.

    Notes
    -----
    The byte count is the roofline's compulsory traffic (Williams et al. 2009): every operand crosses
    the memory bus once. ``b = 1`` is the decode step of a Transformer, larger ``b`` a prefill or a
    batched decode (Kim et al., arXiv 2302.14017, §2.2).
    """
    d = _check_int("d", d)
    batches = _check_ints("batches", batches)
    repeats = _check_int("repeats", repeats)
    min_repeats = min(_check_int("min_repeats", min_repeats), repeats)
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype={dtype!r} is not supported; allowed: float32, float64")
    size = np.dtype(dtype).itemsize
    if weight_copies is None:
        llc = last_level_cache_bytes() or 0
        weight_copies = min(4, 1 + int(np.ceil(2 * llc / (d * d * size))))
    weight_copies = _check_int("weight_copies", weight_copies)
    budget = _as_budget(budget_s, len(batches))
    rng = np.random.default_rng(seed)
    w0 = rng.random((d, d), dtype=np.float32).astype(dtype, copy=False)
    w0 -= 0.5
    ws = [w0] + [w0.copy() for _ in range(weight_copies - 1)]
    turn = [0]

    def product(x: np.ndarray, y: np.ndarray) -> None:
        np.matmul(ws[turn[0] % len(ws)], x, out=y)
        turn[0] += 1

    rows = []
    for b in batches:
        x = rng.standard_normal((d, b), dtype=np.float32).astype(dtype, copy=False)
        y = np.empty((d, b), dtype=dtype)
        timing = measure(lambda x=x, y=y: product(x, y), None if budget is None else budget.next_share(),
                         min_repeats, repeats, warmup=budget is None or not rows)
        if bar is not None:
            bar.update(1)
        median = timing.median_s
        flops = 2.0 * d * d * b
        bytes_ = float((d * d + 2 * d * b) * size)
        rows.append({"batch": b, "flops": flops, "bytes": bytes_, "intensity_flop_per_byte": flops / bytes_,
                     "time_s": median, "flop_per_s": flops / median,
                     "effective_bandwidth_bytes_per_s": bytes_ / median,
                     "time_iqr_s": timing.iqr_s, "repeats": timing.repeats})
    return pd.DataFrame(rows)
