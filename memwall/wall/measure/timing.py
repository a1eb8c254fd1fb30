"""Shared helpers of the measurements: argument checks, a time budget and an adaptive repeat timer.

Every measurement of :mod:`memwall.wall.measure` and :mod:`memwall.wall.numpy_transformer.latency`
(and the PyTorch engine, :mod:`memwall.wall.torch_engine`) times a call through :func:`measure`:
one untimed warm-up call, then repeats until either ``max_repeats`` is reached or, with a time
budget, the next repeat would not fit in it (never fewer than ``min_repeats``). The result,
:class:`Timing`, carries the median (the reported time), the spread as the interquartile range
(and the min/max) and the repeat count, so that a table built from it says how reliable each
number is. A :class:`TimeBudget` shares one wall-clock allowance between many such measurements:
each takes the remaining time divided by the measurements still to come, so time a cheap one does
not use flows on to the later ones. When the measurements differ much in cost (a 1 s encoding beside
a 30 ms decode step), an equal share leaves the expensive ones with few repeats and the cheap ones at
their maximum; :func:`top_up` then spends what is left of the budget on further repeats of the
measurements with the fewest, one at a time.

The median and IQR follow the usual practice of robust benchmark statistics (e.g. Hoefler and
Belli, "Scientific benchmarking of parallel computing systems", SC'15,
https://doi.org/10.1145/2807591.2807644: report the median and a nonparametric spread, and the
number of repeats).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Measured", "TimeBudget", "Timing", "measure", "top_up"]


def _check_int(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_ints(name: str, values: Sequence[int], minimum: int = 1) -> list[int]:
    values = list(values)
    if not values:
        raise ValueError(f"{name} must not be empty, got {values!r}")
    return [_check_int(name, v, minimum) for v in values]


def _check_budget(budget_s: object) -> float:
    if isinstance(budget_s, bool) or not isinstance(budget_s, (int, float, np.integer, np.floating)) \
            or not math.isfinite(budget_s) or budget_s < 0:
        raise ValueError(f"budget_s must be a finite number of seconds >= 0, got {budget_s!r}")
    return float(budget_s)


@dataclass(frozen=True)
class Timing:
    """Wall times of the repeats of one measured call.

    Attributes
    ----------
    times_s : tuple of float
        Each timed repeat, in order (the warm-up call excluded). [s]

    Notes
    -----
    The quartiles are numpy's default (linear interpolation between order statistics); with one
    repeat they and the IQR are NaN, since one sample has no spread.
    """

    times_s: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.times_s:
            raise ValueError("a Timing needs at least one timed repeat")

    @classmethod
    def from_samples(cls, times_s: Sequence[float]) -> Timing:
        """A :class:`Timing` of given repeat times. [s]

        Raises
        ------
        ValueError
            If ``times_s`` is empty or holds a negative or non-finite time.
        """
        values = tuple(float(t) for t in times_s)
        if any(not math.isfinite(t) or t < 0 for t in values):
            raise ValueError(f"times must be finite and >= 0, got {values}")
        return cls(values)

    @property
    def repeats(self) -> int:
        """Timed repeats. [runs]"""
        return len(self.times_s)

    @property
    def median_s(self) -> float:
        """Median repeat time (the reported time). [s]"""
        return float(np.median(self.times_s))

    @property
    def min_s(self) -> float:
        """Fastest repeat (what STREAM reports). [s]"""
        return float(min(self.times_s))

    @property
    def max_s(self) -> float:
        """Slowest repeat. [s]"""
        return float(max(self.times_s))

    @property
    def q1_s(self) -> float:
        """First quartile; NaN with one repeat. [s]"""
        return float(np.percentile(self.times_s, 25)) if self.repeats > 1 else math.nan

    @property
    def q3_s(self) -> float:
        """Third quartile; NaN with one repeat. [s]"""
        return float(np.percentile(self.times_s, 75)) if self.repeats > 1 else math.nan

    @property
    def iqr_s(self) -> float:
        """Interquartile range ``q3 - q1``, the spread reported in the tables; NaN with one repeat. [s]"""
        return self.q3_s - self.q1_s

    @property
    def total_s(self) -> float:
        """Sum of the timed repeats. [s]"""
        return float(sum(self.times_s))


class TimeBudget:
    """A wall-clock allowance shared by ``items`` measurements made one after another.

    Parameters
    ----------
    total_s : float
        Allowance, counted from construction. [s]
    items : int
        Measurements that will draw on it (each through :meth:`next_share`). [measurements]
    clock : callable, optional
        Monotonic clock in seconds (default :func:`time.perf_counter`).

    Raises
    ------
    ValueError
        If ``total_s`` is negative or not finite, or ``items`` is not a positive integer.

    Notes
    -----
    The budget is wall time: setup work between measurements (allocating arrays, building a model)
    is paid from it too. It is a target, not a hard limit: a measurement always makes its warm-up
    call and ``min_repeats`` repeats, so a slow machine overruns it by about that minimum.
    """

    def __init__(self, total_s: float, items: int = 1, *, clock: Callable[[], float] | None = None) -> None:
        self.total_s = _check_budget(total_s)
        self.items_left = _check_int("items", items)
        self._clock = clock or time.perf_counter
        self._start = self._clock()

    @property
    def spent_s(self) -> float:
        """Wall time since construction. [s]"""
        return self._clock() - self._start

    @property
    def remaining_s(self) -> float:
        """Allowance left (never negative). [s]"""
        return max(0.0, self.total_s - self.spent_s)

    def next_share(self) -> float:
        """The budget of the next measurement: what is left over the measurements still to come. [s]

        Each call counts one measurement as started; after the last, a call returns what is left.
        """
        share = self.remaining_s / max(self.items_left, 1)
        self.items_left = max(self.items_left - 1, 0)
        return share


def _as_budget(budget_s: float | TimeBudget | None, items: int) -> TimeBudget | None:
    """``None``, a shared :class:`TimeBudget`, or a new one of ``budget_s`` seconds for ``items`` measurements."""
    if budget_s is None or isinstance(budget_s, TimeBudget):
        return budget_s
    return TimeBudget(budget_s, items)


def measure(
    fn: Callable[[], object],
    budget_s: float | None = None,
    min_repeats: int = 1,
    max_repeats: int = 5,
    *,
    warmup: bool = True,
    clock: Callable[[], float] | None = None,
) -> Timing:
    """Time ``fn()``: one untimed warm-up call, then repeats within a time budget.

    Parameters
    ----------
    fn : callable
        The call to time (its result is discarded).
    budget_s : float, optional
        Wall-time allowance of the whole measurement, warm-up included. Without it exactly
        ``max_repeats`` repeats are timed (and the warm-up call is not timed at all). With it,
        repeats stop at ``max_repeats`` or as soon as one more repeat of the median length so far
        would overrun the budget, but never before ``min_repeats``. [s]
    min_repeats : int
        Fewest timed repeats under a budget. [runs]
    max_repeats : int
        Most timed repeats (the fixed count without a budget). [runs]
    warmup : bool
        Make the untimed warm-up call.
    clock : callable, optional
        Monotonic clock in seconds (default :func:`time.perf_counter`); the callers pass their own
        module's clock so that tests can replace it. Two reads per timed repeat (and, with a budget,
        two around the warm-up).

    Returns
    -------
    Timing
        The timed repeats: median, IQR, min/max and count.

    Raises
    ------
    ValueError
        If a repeat count is not a positive integer, ``min_repeats > max_repeats``, or ``budget_s``
        is negative or not finite.
    """
    min_repeats = _check_int("min_repeats", min_repeats)
    max_repeats = _check_int("max_repeats", max_repeats)
    if min_repeats > max_repeats:
        raise ValueError(f"min_repeats ({min_repeats}) must not exceed max_repeats ({max_repeats})")
    budget = None if budget_s is None else _check_budget(budget_s)
    now = clock or time.perf_counter
    spent = 0.0
    if warmup:
        if budget is None:
            fn()
        else:
            t0 = now()
            fn()
            spent += now() - t0
    times: list[float] = []
    while len(times) < max_repeats:
        if budget is not None and len(times) >= min_repeats and spent + float(np.median(times)) > budget:
            break
        t0 = now()
        fn()
        dt = now() - t0
        times.append(dt)
        spent += dt
    return Timing(tuple(times))


@dataclass
class Measured:
    """A measurement that :func:`top_up` may extend: the call, its timing so far and its cap.

    Attributes
    ----------
    fn : callable
        The timed call.
    timing : Timing
        Its repeats so far (replaced by a longer one when topped up).
    max_repeats : int
        Most repeats. [runs]
    """

    fn: Callable[[], object]
    timing: Timing
    max_repeats: int


def top_up(measured: Sequence[Measured], budget: TimeBudget, *, clock: Callable[[], float] | None = None) -> int:
    """Spend what is left of ``budget`` on more repeats, always of the measurement with the fewest.

    Each round picks, among the measurements below their ``max_repeats`` whose median repeat still
    fits in the remaining budget, the one with the fewest repeats (the cheaper on a tie), times one
    more call of it (no warm-up: it was warmed when first measured) and appends it to its
    :attr:`Measured.timing`. It stops when nothing fits or everything is at its cap.

    Parameters
    ----------
    measured : sequence of Measured
        The measurements, updated in place.
    budget : TimeBudget
        The allowance they were measured under.
    clock : callable, optional
        Monotonic clock in seconds (default :func:`time.perf_counter`).

    Returns
    -------
    int
        Repeats added. [runs]
    """
    now = clock or time.perf_counter
    added = 0
    while True:
        left = budget.remaining_s
        open_ = [m for m in measured if m.timing.repeats < m.max_repeats and m.timing.median_s <= left]
        if not open_:
            return added
        m = min(open_, key=lambda m: (m.timing.repeats, m.timing.median_s))
        t0 = now()
        m.fn()
        m.timing = Timing((*m.timing.times_s, now() - t0))
        added += 1

