"""Sampled generation timing: a generation's time estimated from decode steps timed at a few cache lengths.

A whole greedy generation of ``L`` tokens (:func:`~memwall.wall.numpy_transformer.latency.measure_generate`)
takes ``L`` decode steps; here a few of them, at evenly spaced cache lengths, are timed with the
clock of :mod:`memwall.wall.numpy_transformer.latency`, interpolated linearly and summed
(:func:`generation_time_from_steps`), which makes generations of thousands of tokens measurable
in seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from memwall.specs.model_spec import ModelSpec
from memwall.wall.measure.timing import TimeBudget, Timing, _as_budget
from memwall.wall.numpy_transformer.latency import _decoder, _measure, _random_cache, _step_fn
from memwall.wall.numpy_transformer.layers import _check_len
from memwall.wall.numpy_transformer.model import NumpyTransformer

__all__ = [
    "SampledGeneration",
    "generation_time_from_steps",
    "measure_generate_sampled",
    "time_generate_sampled",
]


@dataclass(frozen=True)
class SampledGeneration:
    """A generation's time estimated from decode steps timed at a few cache lengths.

    Attributes
    ----------
    seq_len : int
        Steps of the generation (cache lengths ``0 … seq_len - 1``). [tokens]
    cache_lengths : tuple of int
        Cache lengths at which a step was timed. [tokens]
    steps : tuple of Timing
        The timed steps at each of those lengths. [s]
    """

    seq_len: int
    cache_lengths: tuple[int, ...]
    steps: tuple[Timing, ...]

    def _total(self, per_step: Sequence[float]) -> float:
        return generation_time_from_steps(self.cache_lengths, per_step, self.seq_len)

    @property
    def median_s(self) -> float:
        """Estimate from the median step times (the reported time). [s]"""
        return self._total([t.median_s for t in self.steps])

    @property
    def q1_s(self) -> float:
        """Estimate from the first-quartile step times; NaN if a length has one step. [s]"""
        return self._total([t.q1_s for t in self.steps])

    @property
    def q3_s(self) -> float:
        """Estimate from the third-quartile step times; NaN if a length has one step. [s]"""
        return self._total([t.q3_s for t in self.steps])

    @property
    def iqr_s(self) -> float:
        """Spread of the estimate: ``q3_s - q1_s``, the step IQRs carried through the sum. [s]"""
        return self.q3_s - self.q1_s

    @property
    def repeats(self) -> int:
        """Fewest timed steps at any sampled cache length. [runs]"""
        return min(t.repeats for t in self.steps)


def measure_generate_sampled(seq_len: int, spec: ModelSpec | str = "gpt2", *, samples: int = 8, repeats: int = 3,
                             model: NumpyTransformer | None = None, seed: int = 0,
                             budget_s: float | TimeBudget | None = None, min_repeats: int = 1,
                             lm_head: bool = True) -> SampledGeneration:
    """Estimate the time of generating ``seq_len`` tokens from a sample of timed decode steps.

    See :func:`time_generate_sampled` for the method. Under a budget each cache length gets its
    share of it (:class:`~memwall.wall.measure.timing.TimeBudget`); a :class:`TimeBudget` passed
    in is drawn on once per sampled length.

    Parameters
    ----------
    seq_len, spec, samples, repeats, model, seed
        As :func:`time_generate_sampled` (``repeats``: the most under a budget).
    budget_s : float or TimeBudget, optional
        Wall-time allowance of all sampled steps, cache set-up and warm-up step included. [s]
    min_repeats : int
        Fewest timed steps per cache length under a budget. [runs]
    lm_head : bool
        Time steps with embedding and LM head (default, as :func:`measure_decode_step`).

    Returns
    -------
    SampledGeneration
        The estimate (median, IQR carried through the sum, repeats).

    Raises
    ------
    ValueError
        As :func:`time_generate_sampled`.
    """
    length = _check_len("seq_len", seq_len)
    samples = _check_len("samples", samples)
    repeats = _check_len("repeats", repeats)
    if samples < 2:
        raise ValueError(f"samples must be at least 2, got {samples}")
    ks, calls = _sampled_calls(_decoder(model, spec, seed), length, samples, seed, lm_head)
    budget = _as_budget(budget_s, len(ks))
    steps = tuple(_measure(fn, None if budget is None else budget.next_share(), min_repeats, repeats, warmup=False)
                  for fn in calls)
    return SampledGeneration(length, tuple(ks), steps)


def _sampled_cache_lengths(length: int, samples: int) -> list[int]:
    return [int(k) for k in np.unique(np.linspace(0, length - 1, min(samples, length)).round().astype(int))]


def _sampled_calls(model: NumpyTransformer, length: int, samples: int, seed: int,
                   lm_head: bool) -> tuple[list[int], list[Callable[[], object]]]:
    """The sampled cache lengths and one decode-step call for each, after one untimed warm-up step."""
    ks = _sampled_cache_lengths(length, samples)
    one_step = _step_fn(model, _random_cache(model, length, seed + 2), seed, lm_head)
    one_step(ks[0])  # warm-up
    return ks, [lambda k=k: one_step(k) for k in ks]


def time_generate_sampled(seq_len: int, spec: ModelSpec | str = "gpt2", *, samples: int = 8, repeats: int = 3,
                          model: NumpyTransformer | None = None, seed: int = 0, budget_s: float | None = None,
                          min_repeats: int = 1) -> float:
    """Estimated wall time of generating ``seq_len`` tokens, from a sample of timed decode steps.

    Generating ``L`` tokens from an empty cache takes :math:`T = \\sum_{k=0}^{L-1} t(k)`, where
    :math:`t(k)` is the time of one step with ``k`` tokens in the KV cache. Every step reads all
    weights, the LM head's included (a constant cost), and ``k`` cached keys and values (a cost
    linear in ``k``), so :math:`t(k)` is close to linear. We time steps
    (:meth:`NumpyTransformer.decode_step_ids`: embedding, blocks, final norm, LM head) at
    ``samples`` evenly spaced cache lengths (median of ``repeats`` each, the cache filled with
    random keys and values), interpolate linearly between them and sum over every ``k``. This makes
    long generations measurable in seconds; :func:`time_generate` times the whole generation
    instead (it also feeds each argmax back, which takes no measurable time).

    Parameters
    ----------
    seq_len : int
        Tokens generated (no prompt). [tokens]
    spec : ModelSpec or str
        Decoder (default GPT-2 124M); ignored when ``model`` is given.
    samples : int
        Cache lengths timed (at least 2; capped at ``seq_len``). [steps]
    repeats : int
        Timed steps per cache length (median); with ``budget_s`` the most. [runs]
    model : NumpyTransformer, optional
        Reuse a model.
    seed : int
        Seed of weights, cache contents and input.
    budget_s : float, optional
        Wall-time allowance of all sampled steps. [s]
    min_repeats : int
        Fewest timed steps per cache length under a budget. [runs]

    Returns
    -------
    float
        Estimated time of the whole generation. [s]

    Raises
    ------
    ValueError
        If ``seq_len``, ``samples`` or ``repeats`` is not a positive integer, ``samples < 2``, or the
        spec is not causal.
    """
    return measure_generate_sampled(seq_len, spec, samples=samples, repeats=repeats, model=model, seed=seed,
                                    budget_s=budget_s, min_repeats=min_repeats).median_s


def generation_time_from_steps(cache_lengths: Sequence[int], step_times_s: Sequence[float], seq_len: int) -> float:
    """Total time of ``seq_len`` decode steps from step times sampled at some cache lengths.

    Parameters
    ----------
    cache_lengths : sequence of int, shape (n,)
        Increasing cache lengths at which a step was timed, within ``[0, seq_len - 1]``. [tokens]
    step_times_s : sequence of float, shape (n,)
        Time of one step at each of those lengths. [s]
    seq_len : int
        Steps in the generation (cache lengths ``0 … seq_len - 1``). [tokens]

    Returns
    -------
    float
        ``sum_k t(k)`` with ``t`` interpolated linearly between the samples (held constant outside
        them); exact when the step time is linear in the cache length. [s]

    Raises
    ------
    ValueError
        If the lengths are not increasing, differ in count from the times, or fall outside the range.
    """
    ks = np.asarray(cache_lengths, dtype=float)
    ts = np.asarray(step_times_s, dtype=float)
    length = _check_len("seq_len", seq_len)
    if ks.shape != ts.shape or ks.ndim != 1 or ks.size < 1:
        raise ValueError(f"cache_lengths and step_times_s must be 1-d and equally long, got {ks.shape} and {ts.shape}")
    if np.any(np.diff(ks) <= 0) or ks[0] < 0 or ks[-1] > length - 1:
        raise ValueError(f"cache_lengths must increase within [0, {length - 1}], got {ks.tolist()}")
    return float(np.interp(np.arange(length), ks, ts).sum())
