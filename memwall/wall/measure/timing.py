"""Shared helpers of the measurements: argument checks and a median-of-repeats timer."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
from tqdm.auto import tqdm


def _check_int(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_ints(name: str, values: Sequence[int], minimum: int = 1) -> list[int]:
    values = list(values)
    if not values:
        raise ValueError(f"{name} must not be empty, got {values!r}")
    return [_check_int(name, v, minimum) for v in values]


def _median_time(fn: Callable[[], object], repeats: int, bar: tqdm | None = None) -> tuple[float, float]:
    """Median and minimum wall time of ``repeats`` calls, after one untimed warm-up call. [s]"""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if bar is not None:
            bar.update(1)
    return float(np.median(times)), float(np.min(times))
