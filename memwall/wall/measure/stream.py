"""The STREAM memory-bandwidth kernels in numpy (McCalpin, https://www.cs.virginia.edu/stream/ref.html)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np
import pandas as pd
from tqdm.std import tqdm  # text bars: tqdm.auto warns (IProgress) in a kernel without ipywidgets

from memwall.wall.measure.machine import last_level_cache_bytes
from memwall.wall.measure.timing import TimeBudget, _as_budget, _check_int, measure

__all__ = ["NUMPY_PASSES", "STREAM_BYTES_PER_ELEMENT", "STREAM_KERNELS", "stream_bandwidth"]



STREAM_KERNELS = ("copy", "scale", "add", "triad")

STREAM_BYTES_PER_ELEMENT: dict[str, int] = {"copy": 16, "scale": 16, "add": 24, "triad": 24}
"""Bytes per float64 element counted by STREAM: 2 arrays × 8 B for copy and scale, 3 × 8 B for add and
triad (McCalpin, https://www.cs.virginia.edu/stream/ref.html). Write-allocate traffic (reading a
destination line before writing it) is not counted, as in STREAM."""

NUMPY_PASSES: dict[str, tuple[str, ...]] = {
    "copy": ("np.copyto(c, a)",),
    "scale": ("np.multiply(c, s, out=b)",),
    "add": ("np.add(a, b, out=c)",),
    "triad": ("np.multiply(c, s, out=a)", "np.add(a, b, out=a)"),
}
"""The numpy calls of each kernel on whole arrays. Triad has no single-ufunc form in numpy: on whole
arrays it takes two passes, 16 B + 24 B = 40 B per element of DRAM traffic rather than 24 B. With
``triad_blocked=True`` (the default) :func:`stream_bandwidth` runs the two calls block by block into a
small scratch buffer that stays in cache (``tmp = s·c[i:j]``; ``a[i:j] = b[i:j] + tmp``), so DRAM
sees only STREAM's 24 B."""

_MOVED_BYTES_PER_ELEMENT = {"copy": 16, "scale": 16, "add": 24, "triad": 40}
_TRIAD_BLOCK = 32768  # elements of the cache-resident scratch buffer (256 KiB in float64)


# ------------------------------------------------------------------------------------------ STREAM


def _triad(a: np.ndarray, b: np.ndarray, c: np.ndarray, scalar: float, scratch: np.ndarray | None) -> None:
    """STREAM triad ``a = b + scalar·c`` in place; block-wise through ``scratch`` (one DRAM pass) if given."""
    if scratch is None:
        np.multiply(c, scalar, out=a)
        np.add(a, b, out=a)
        return
    for lo in range(0, a.size, scratch.size):
        hi = min(lo + scratch.size, a.size)
        t = scratch[: hi - lo]
        np.multiply(c[lo:hi], scalar, out=t)
        np.add(t, b[lo:hi], out=a[lo:hi])


def _default_stream_elements(max_array_bytes: int) -> int:
    llc = last_level_cache_bytes() or 32 * 2**20
    return int(min(max(4 * llc, 64 * 2**20), max_array_bytes) // 8)


def stream_bandwidth(
    n_elements: int | None = None,
    *,
    repeats: int = 5,
    threads: int | None = None,
    triad_blocked: bool = True,
    scalar: float = 3.0,
    max_array_bytes: int = 2**29,
    kernels: Sequence[str] = STREAM_KERNELS,
    budget_s: float | TimeBudget | None = None,
    min_repeats: int = 1,
    bar: tqdm | None = None,
) -> pd.DataFrame:
    """Sustained memory bandwidth with STREAM's copy, scale, add and triad kernels in numpy.

    Parameters
    ----------
    n_elements : int, optional
        float64 elements per array (three arrays are allocated). Default: 4 × the last-level cache
        (STREAM's rule), at least 64 MiB and at most ``max_array_bytes`` per array; with the cap, each
        kernel's working set (2 or 3 arrays) still exceeds a 300 MiB cache 3-5 times. [elements]
    repeats : int
        Timed runs per kernel (after one untimed warm-up); the median is reported. With ``budget_s``,
        the most runs per kernel. [runs]
    threads : int, optional
        Threads splitting each array into contiguous chunks (numpy releases the GIL inside ufuncs);
        default: the CPUs this process may use. One thread measures one core's bandwidth. [threads]
    triad_blocked : bool
        Run triad block by block through a cache-resident scratch buffer (one DRAM pass, 24 B per
        element); ``False`` uses two whole-array passes (40 B per element moved).
    scalar : float
        The ``s`` of scale and triad.
    max_array_bytes : int
        Cap on the default array size. [B]
    kernels : sequence of str
        Subset of :data:`STREAM_KERNELS`, run in STREAM's order.
    budget_s : float or TimeBudget, optional
        Wall-time allowance of the kernels (array set-up included), shared among them as
        :class:`~memwall.wall.measure.timing.TimeBudget` does; each kernel then times between
        ``min_repeats`` and ``repeats`` runs (:func:`~memwall.wall.measure.timing.measure`). A
        :class:`TimeBudget` passed in is drawn on once per kernel. Without it, exactly ``repeats`` runs. [s]
    min_repeats : int
        Fewest timed runs per kernel under a budget. [runs]
    bar : tqdm, optional
        Progress bar advanced once per kernel.

    Returns
    -------
    pandas.DataFrame
        One row per kernel: ``kernel``, ``n_elements`` [elements], ``array_bytes`` [B], ``threads``,
        ``stream_bytes_per_element`` and ``moved_bytes_per_element`` [B/element] (STREAM's count and the
        DRAM passes numpy makes, see :data:`NUMPY_PASSES`), ``time_s`` (median), ``best_time_s`` (fastest
        run) and ``time_iqr_s`` (interquartile range of the runs, NaN for one run) [s], ``repeats``
        (timed runs) [runs], ``bandwidth_bytes_per_s`` (STREAM bytes / median time),
        ``best_bandwidth_bytes_per_s`` (STREAM bytes / best time, what STREAM prints) and
        ``moved_bandwidth_bytes_per_s`` [B/s].

    Raises
    ------
    ValueError
        If ``n_elements``, ``repeats``, ``min_repeats`` or ``threads`` is not a positive integer, a kernel
        is unknown, or ``budget_s`` is negative.

    Notes
    -----
    The kernels follow STREAM's order and arrays (``c = a``; ``b = s·c``; ``c = a + b``;
    ``a = b + s·c``), so each kernel's inputs were written by an earlier one. Destination arrays are
    written without non-temporal stores except where the C library's ``memcpy`` uses them for copy;
    the write-allocate reads this can cause are not counted, as in STREAM. That is why copy often
    reports the highest figure: ``memcpy`` streams its stores past the cache (16 B per element really
    move), whereas a ufunc's ordinary stores first read the destination line (scale really moves 24 B,
    add and triad 32 B per element).
    """
    n = _default_stream_elements(max_array_bytes) if n_elements is None else _check_int("n_elements", n_elements)
    repeats = _check_int("repeats", repeats)
    min_repeats = min(_check_int("min_repeats", min_repeats), repeats)
    if threads is None:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = _check_int("threads", threads)
    for k in kernels:
        if k not in STREAM_KERNELS:
            raise ValueError(f"kernel={k!r} is not known; allowed: {', '.join(STREAM_KERNELS)}")
    threads = min(threads, n)
    selected = [k for k in STREAM_KERNELS if k in kernels]
    budget = _as_budget(budget_s, len(selected))
    a = np.full(n, 1.0)
    b = np.full(n, 2.0)
    c = np.full(n, 0.0)  # touched now (np.zeros would defer the page faults into the first kernel)
    edges = np.linspace(0, n, threads + 1).astype(int)
    chunks = [slice(int(lo), int(hi)) for lo, hi in pairwise(edges)]
    scratch = [np.empty(min(_TRIAD_BLOCK, n)) for _ in chunks]

    def triad(part: slice, tmp: np.ndarray) -> None:
        _triad(a[part], b[part], c[part], scalar, tmp if triad_blocked else None)

    bodies: dict[str, Callable[[slice, np.ndarray], object]] = {
        "copy": lambda p, _: np.copyto(c[p], a[p]),
        "scale": lambda p, _: np.multiply(c[p], scalar, out=b[p]),
        "add": lambda p, _: np.add(a[p], b[p], out=c[p]),
        "triad": triad,
    }
    rows = []
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for kernel in selected:
            body = bodies[kernel]
            if threads == 1:
                def run(body: Callable = body) -> None:
                    body(chunks[0], scratch[0])
            else:
                def run(body: Callable = body) -> None:
                    list(pool.map(body, chunks, scratch))
            timing = measure(run, None if budget is None else budget.next_share(), min_repeats, repeats)
            if bar is not None:
                bar.update(1)
            median, best = timing.median_s, timing.min_s
            stream_b = STREAM_BYTES_PER_ELEMENT[kernel]
            moved_b = stream_b if (kernel != "triad" or triad_blocked) else _MOVED_BYTES_PER_ELEMENT["triad"]
            rows.append({
                "kernel": kernel, "n_elements": n, "array_bytes": 8 * n, "threads": threads,
                "stream_bytes_per_element": stream_b, "moved_bytes_per_element": moved_b,
                "time_s": median, "best_time_s": best, "time_iqr_s": timing.iqr_s, "repeats": timing.repeats,
                "bandwidth_bytes_per_s": stream_b * n / median,
                "best_bandwidth_bytes_per_s": stream_b * n / best,
                "moved_bandwidth_bytes_per_s": moved_b * n / median,
            })
    return pd.DataFrame(rows)
