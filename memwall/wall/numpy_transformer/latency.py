"""Timing the numpy encoder and decoder: encode, generate, sampled generation and the latency table.

Every timing goes through :func:`memwall.wall.measure.timing.measure`: an untimed warm-up, then a
fixed number of repeats or, with ``budget_s``, as many as a wall-time budget allows (at least
``min_repeats``), reported as median, interquartile range and repeat count. The generation loop is
the real one: :meth:`NumpyTransformer.generate_greedy` from a one-token prompt (LM head included,
each argmax fed back as the next token); the sampled estimate times the same decode step
(:meth:`NumpyTransformer.decode_step_ids`, LM head included) at a few cache lengths.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from memwall.bounds import predict_time
from memwall.roofline import Ceilings
from memwall.specs.model_spec import ModelSpec
from memwall.wall.measure.timing import Measured, TimeBudget, Timing, _as_budget, measure, top_up
from memwall.wall.numpy_transformer.layers import KVCache, _check_len
from memwall.wall.numpy_transformer.model import NumpyTransformer
from memwall.widths import ByteWidths

__all__ = [
    "LATENCY_COLUMNS",
    "SampledGeneration",
    "generation_time_from_steps",
    "latency_table",
    "measure_decode_step",
    "measure_encode",
    "measure_generate",
    "measure_generate_sampled",
    "time_encode",
    "time_generate",
    "time_generate_sampled",
]

LATENCY_COLUMNS = ("seq_len", "engine", "encoder_s", "encoder_iqr_s", "encoder_repeats", "decoder_s",
                   "decoder_iqr_s", "decoder_repeats", "decoder_method", "ratio")
"""Leading columns of a latency table, numpy's (:func:`latency_table`) and PyTorch's
(:func:`memwall.wall.torch_engine.torch_latency_table`) alike: one row per length and engine.
``*_s`` are medians and ``*_iqr_s`` interquartile ranges [s], ``*_repeats`` timed runs, and
``decoder_method`` says how the generation was timed (``"loop"``: whole greedy generations;
``"loop-hidden"``: whole generations on hidden states, past the position table, see
:func:`measure_generate`; ``"sampled"``: :func:`time_generate_sampled`; ``"generate"``: Hugging
Face ``generate``)."""

_START_TOKEN = 0  # the one-token prompt of a timed generation (any id: the weights are random)


def _clock() -> float:
    """This module's clock (tests replace ``time`` here)."""
    return time.perf_counter()


def _measure(fn: Callable[[], object], budget_s: float | None, min_repeats: int, max_repeats: int, *,
             warmup: bool) -> Timing:
    return measure(fn, budget_s, min(min_repeats, max_repeats), max_repeats, warmup=warmup, clock=_clock)


def _decoder(model: NumpyTransformer | None, spec: ModelSpec | str, seed: int) -> NumpyTransformer:
    model = model or NumpyTransformer(spec, seed=seed)
    if not model.spec.causal:
        raise ValueError(f"generate needs a causal (decoder) spec; {model.spec.name!r} is an encoder")
    return model


def measure_encode(seq_len: int, spec: ModelSpec | str = "bert-base", *, repeats: int = 3,
                   model: NumpyTransformer | None = None, seed: int = 0, budget_s: float | None = None,
                   min_repeats: int = 1, warmup: bool = True) -> Timing:
    """Time encoding ``seq_len`` tokens, batch 1: a warm-up run, then repeats.

    Parameters
    ----------
    seq_len : int
        Tokens. [tokens]
    spec : ModelSpec or str
        Encoder (default BERT-Base); ignored when ``model`` is given.
    repeats : int
        Timed runs; with ``budget_s`` the most. [runs]
    model : NumpyTransformer, optional
        Reuse a model (building BERT-Base's random weights takes ~2 s).
    seed : int
        Seed of weights and input.
    budget_s : float, optional
        Wall-time allowance, warm-up included (:func:`~memwall.wall.measure.timing.measure`). [s]
    min_repeats : int
        Fewest timed runs under a budget. [runs]
    warmup : bool
        Make the untimed warm-up run.

    Returns
    -------
    Timing
        Median, IQR and count of the timed runs. [s]

    Raises
    ------
    ValueError
        If ``seq_len`` or a repeat count is not a positive integer, or the spec is causal.
    """
    _check_len("seq_len", seq_len)
    repeats = _check_len("repeats", repeats)
    model = model or NumpyTransformer(spec, seed=seed)
    return _measure(_encode_call(model, seq_len, seed), budget_s, min_repeats, repeats, warmup=warmup)


def _encode_call(model: NumpyTransformer, seq_len: int, seed: int) -> Callable[[], object]:
    x = model.random_input(seq_len, seed=seed + 1)
    model.encode(x[:1])  # refuses a decoder before anything is timed
    return lambda: model.encode(x)


def time_encode(seq_len: int, spec: ModelSpec | str = "bert-base", *, repeats: int = 3,
                model: NumpyTransformer | None = None, seed: int = 0, budget_s: float | None = None,
                min_repeats: int = 1) -> float:
    """Median wall time of encoding ``seq_len`` tokens, batch 1 (after one warm-up run).

    The median of :func:`measure_encode`; see there for the parameters.

    Returns
    -------
    float
        Median time. [s]

    Raises
    ------
    ValueError
        If ``seq_len`` or ``repeats`` is not a positive integer, or the spec is causal.
    """
    return measure_encode(seq_len, spec, repeats=repeats, model=model, seed=seed, budget_s=budget_s,
                          min_repeats=min_repeats).median_s


def measure_generate(seq_len: int, spec: ModelSpec | str = "gpt2", *, repeats: int = 1,
                     model: NumpyTransformer | None = None, seed: int = 0, warmup: bool = False,
                     budget_s: float | None = None, min_repeats: int = 1) -> Timing:
    """Time generating ``seq_len`` tokens greedily with a KV cache, batch 1, from a one-token prompt.

    Each run is :meth:`NumpyTransformer.generate_greedy` of ``seq_len`` new tokens: one prefill of
    the prompt token and ``seq_len - 1`` decode steps, each with embedding, all blocks, final norm
    and LM head, the argmax fed back; the same loop as Hugging Face's
    ``generate(max_new_tokens=seq_len, do_sample=False)`` (cache lengths ``0 … seq_len - 1``).
    A generation longer than the position table (``seq_len + 1 > max_positions``, e.g. past 1023
    tokens for GPT-2) cannot embed its tokens; it is then timed as ``seq_len`` steps of blocks and
    LM head on random hidden states (``decoder_method`` ``"loop-hidden"`` in :func:`latency_table`):
    the same work but the embedding gather and the argmax.

    Parameters
    ----------
    seq_len : int
        Tokens generated. [tokens]
    spec : ModelSpec or str
        Decoder (default GPT-2 124M); ignored when ``model`` is given.
    repeats : int
        Timed generations (each is already ``seq_len`` steps, so 1 is usually enough); with
        ``budget_s`` the most. [runs]
    model : NumpyTransformer, optional
        Reuse a model.
    seed : int
        Seed of the weights.
    warmup : bool
        Run a short (8-token) generation first, untimed.
    budget_s : float, optional
        Wall-time allowance, warm-up included. [s]
    min_repeats : int
        Fewest timed generations under a budget. [runs]

    Returns
    -------
    Timing
        Median, IQR and count of the timed generations. [s]

    Raises
    ------
    ValueError
        If ``seq_len`` or a repeat count is not a positive integer, or the spec is not causal.
    """
    length = _check_len("seq_len", seq_len)
    repeats = _check_len("repeats", repeats)
    run = _generate_call(_decoder(model, spec, seed), length, seed)
    if warmup:
        run(min(8, length))
    return _measure(run, budget_s, min_repeats, repeats, warmup=False)


def _generate_call(model: NumpyTransformer, length: int, seed: int) -> Callable[..., object]:
    """``run(n=length)``: a whole generation of ``n`` tokens (see :func:`measure_generate`)."""
    prompt = np.array([_START_TOKEN])
    if _fits_positions(model, length):
        def run(n: int = length) -> object:
            return model.generate_greedy(prompt, n)
    else:
        x = model.random_input(length, seed=seed + 1)

        def run(n: int = length) -> object:
            cache = model.new_cache(n)
            for i in range(n):
                model.logits(model.run_blocks(x[i:i + 1], cache))
            return cache
    return run


def _fits_positions(model: NumpyTransformer, seq_len: int) -> bool:
    """Whether a one-token prompt and ``seq_len`` new tokens fit in the learned position embedding."""
    return 1 + seq_len <= model.spec.max_positions


def time_generate(seq_len: int, spec: ModelSpec | str = "gpt2", *, repeats: int = 1,
                  model: NumpyTransformer | None = None, seed: int = 0, warmup: bool = False,
                  budget_s: float | None = None, min_repeats: int = 1) -> float:
    """Median wall time of generating ``seq_len`` tokens greedily with a KV cache, batch 1.

    The median of :func:`measure_generate` (the real loop: LM head included, each argmax fed back);
    see there for the parameters.

    Returns
    -------
    float
        Median time. [s]

    Raises
    ------
    ValueError
        If ``seq_len`` or ``repeats`` is not a positive integer, or the spec is not causal.
    """
    return measure_generate(seq_len, spec, repeats=repeats, model=model, seed=seed, warmup=warmup,
                            budget_s=budget_s, min_repeats=min_repeats).median_s


def _random_cache(model: NumpyTransformer, capacity: int, seed: int) -> KVCache:
    rng = np.random.default_rng(seed)
    cache = model.new_cache(capacity)
    cache.k[...] = rng.standard_normal(cache.k.shape, dtype=np.float32).astype(cache.k.dtype)
    cache.v[...] = rng.standard_normal(cache.v.shape, dtype=np.float32).astype(cache.v.dtype)
    return cache


def _step_fn(model: NumpyTransformer, cache: KVCache, seed: int, lm_head: bool) -> Callable[[int], object]:
    """One decode step with ``k`` cached tokens: token ids in, logits out where positions allow."""
    x_t = model.random_input(1, seed=seed + 1)
    max_positions = model.spec.max_positions

    def one_step(k: int) -> object:
        cache.length = k
        if not lm_head:
            return model.step(x_t[0], cache)
        if k < max_positions:
            return model.decode_step_ids(_START_TOKEN, cache)
        return model.logits(model.run_blocks(x_t, cache))  # past the position table: blocks + LM head

    return one_step


def measure_decode_step(cache_len: int, spec: ModelSpec | str = "gpt2", *, repeats: int = 3,
                        model: NumpyTransformer | None = None, seed: int = 0, budget_s: float | None = None,
                        min_repeats: int = 1, lm_head: bool = True) -> Timing:
    """Time one decode step with ``cache_len`` tokens already in the KV cache, batch 1.

    The cache holds random keys and values; the step is :meth:`NumpyTransformer.decode_step_ids`
    (embedding, blocks, final norm, LM head). Past ``max_positions`` (no position embedding left)
    the step runs the blocks and the LM head on a random hidden state instead, the same work but
    the embedding gather.

    Parameters
    ----------
    cache_len : int
        Tokens in the cache before the step (0 allowed). [tokens]
    spec : ModelSpec or str
        Decoder (default GPT-2 124M); ignored when ``model`` is given.
    repeats : int
        Timed steps; with ``budget_s`` the most. [runs]
    model : NumpyTransformer, optional
        Reuse a model.
    seed : int
        Seed of weights, cache contents and input.
    budget_s : float, optional
        Wall-time allowance, warm-up step included. [s]
    min_repeats : int
        Fewest timed steps under a budget. [runs]
    lm_head : bool
        Include embedding, final norm and LM head (``False``: the blocks and final norm alone,
        :meth:`NumpyTransformer.step`, as the cost model counts a step).

    Returns
    -------
    Timing
        Median, IQR and count of the timed steps. [s]

    Raises
    ------
    ValueError
        If ``cache_len`` is negative or not an integer, a repeat count is not a positive integer, or
        the spec is not causal.
    """
    if isinstance(cache_len, bool) or not isinstance(cache_len, (int, np.integer)) or cache_len < 0:
        raise ValueError(f"cache_len must be a non-negative integer, got {cache_len!r}")
    repeats = _check_len("repeats", repeats)
    model = _decoder(model, spec, seed)
    one_step = _step_fn(model, _random_cache(model, int(cache_len) + 1, seed + 2), seed, lm_head)
    return _measure(lambda: one_step(int(cache_len)), budget_s, min_repeats, repeats, warmup=True)


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


def _paper_ratios(published: pd.DataFrame | None) -> pd.DataFrame:
    if published is None:
        from memwall.tables.paper import load_survey_case_study

        published = load_survey_case_study()
    table = published[(published["operator"] == "total")
                      & published["metric"].isin(["latency_cpu_norm", "latency_analytic_norm"])]
    def series(metric: str, model: str) -> pd.Series:
        rows = table[(table["metric"] == metric) & (table["model"] == model)]
        return rows.groupby("seq_len")["published_value"].mean().astype(float)

    return pd.DataFrame({
        "paper_ratio": series("latency_cpu_norm", "GPT-2") / series("latency_cpu_norm", "BERT-Base"),
        "paper_analytic_ratio": (series("latency_analytic_norm", "GPT-2")
                                 / series("latency_analytic_norm", "BERT-Base")),
    }, dtype=float).rename_axis("seq_len")


def latency_table(
    seq_lens: Sequence[int] = (128, 256, 512),
    *,
    ceilings: Ceilings | None = None,
    encoder: ModelSpec | str = "bert-base",
    decoder: ModelSpec | str = "gpt2",
    repeats: int = 3,
    decoder_repeats: int = 1,
    decoder_samples: int | None = None,
    loop_up_to: int = 0,
    budget_s: float | None = None,
    min_repeats: int = 1,
    bytes_per_element: float = 4.0,
    published: pd.DataFrame | None = None,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Measured decoder/encoder latency ratio beside the survey's and the roofline's.

    Parameters
    ----------
    seq_lens : sequence of int
        Sequence lengths ``l``; GPT-2 generation costs about 25-40 ms per token in float32 on a
        2-core CPU, so a whole generation of 512 tokens takes 15-20 s. [tokens]
    ceilings : Ceilings, optional
        Machine for the roofline prediction (e.g. :meth:`memwall.wall.measure.MachineReport.ceilings`);
        without it the ``predicted_*`` columns are left out.
    encoder, decoder : ModelSpec or str
        Default BERT-Base and GPT-2 (124M), the survey's pair.
    repeats : int
        Timed encoder runs per length (median); with ``budget_s`` the most. [runs]
    decoder_repeats : int
        Timed generations per length (median); with ``decoder_samples``, timed steps per sampled
        cache length; with ``budget_s`` the most. [runs]
    decoder_samples : int, optional
        If given, estimate each generation longer than ``loop_up_to`` from this many timed decode
        steps (:func:`time_generate_sampled`) instead of running it whole; makes ``l`` in the
        thousands affordable. [steps]
    loop_up_to : int
        With ``decoder_samples``, lengths up to this one are still timed as whole generations
        (e.g. 128: the real loop at ``l = 128``, estimates beyond). [tokens]
    budget_s : float, optional
        Wall-time allowance of the whole table, the building of both models included, shared as
        :class:`~memwall.wall.measure.timing.TimeBudget` does among the encodings, the whole
        generations and the sampled cache lengths. Under a budget only the first length's encoding
        is preceded by a warm-up run (the weights and BLAS threads are then warm for all); what the
        measurements leave of it goes to further repeats of those with the fewest
        (:func:`~memwall.wall.measure.timing.top_up`). The minimum (building, one warm-up,
        ``min_repeats`` of everything) is always done. [s]
    min_repeats : int
        Fewest timed runs of each measurement under a budget. [runs]
    bytes_per_element : float
        Precision of the roofline prediction (4 = float32, as measured here). [B/element]
    published : pandas.DataFrame, optional
        The survey table (default :func:`memwall.tables.load_survey_case_study`).
    seed : int
        Seed of weights and inputs.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per ``seq_len``, columns :data:`LATENCY_COLUMNS` (``engine`` is ``"numpy"``;
        ``encoder_s``, ``decoder_s`` medians and ``encoder_iqr_s``, ``decoder_iqr_s`` interquartile
        ranges [s], NaN for one run; for a sampled generation the step quartiles carried through the
        sum; ``encoder_repeats``, ``decoder_repeats`` timed runs, for a sampled generation the fewest
        timed steps at a cache length; ``decoder_method`` ``"loop"``, ``"loop-hidden"`` or
        ``"sampled"``; ``ratio`` =
        decoder / encoder, measured), then ``paper_ratio`` (GPT-2 / BERT-Base normalised CPU latency
        of the survey's Fig. 9, Kim et al. arXiv 2302.14017: 45 at 128, 2344/84 ≈ 28 at 4096; NaN
        where not published), ``paper_analytic_ratio`` (same from its analytic model, Fig. 32) and,
        with ``ceilings``, ``predicted_encoder_s``, ``predicted_decoder_s`` [s] and
        ``predicted_ratio`` (:func:`memwall.bounds.predict_time`; the decoder's with the LM head on every
        generated token, as the measured loop runs it; the embedding gathers are left out).

    Raises
    ------
    ValueError
        If a length or a repeat count is not a positive integer, or ``budget_s`` is negative.

    Notes
    -----
    The survey's latencies are rounded normalised values read from a figure; at ``l = 256`` and
    ``512`` the BERT-Base values (2, 3) carry up to ±25 % rounding error, so their ratios do too.
    """
    lens = [_check_len("seq_lens", v) for v in seq_lens]
    _check_len("repeats", repeats)
    _check_len("decoder_repeats", decoder_repeats)
    _check_len("min_repeats", min_repeats)
    if isinstance(loop_up_to, bool) or not isinstance(loop_up_to, (int, np.integer)) or loop_up_to < 0:
        raise ValueError(f"loop_up_to must be a non-negative integer, got {loop_up_to!r}")
    if decoder_samples is not None:
        _check_len("decoder_samples", decoder_samples)
    sampled = {n: decoder_samples is not None and n > loop_up_to for n in lens}
    ks_of = {n: _sampled_cache_lengths(n, decoder_samples or 2) for n in lens}
    items = sum(1 + (len(ks_of[n]) if sampled[n] else 1) for n in lens)
    budget = None if budget_s is None else TimeBudget(budget_s, items)

    def timed(fn: Callable[[], object], max_repeats: int, *, warmup: bool) -> Measured:
        share = None if budget is None else budget.next_share()
        return Measured(fn, _measure(fn, share, min_repeats, max_repeats, warmup=warmup), max_repeats)

    enc = NumpyTransformer(encoder, seed=seed)
    dec = NumpyTransformer(decoder, seed=seed)
    parts: list[tuple[int, Measured, list[Measured]]] = []
    with tqdm(total=2 * len(lens), desc="encoder vs decoder", unit="run", disable=not progress, leave=False) as bar:
        for length in lens:
            bar.set_postfix_str(f"encode l={length}")
            e = timed(_encode_call(enc, length, seed), repeats, warmup=budget is None or not parts)
            bar.update(1)
            bar.set_postfix_str(f"generate l={length}")
            if sampled[length]:
                _, calls = _sampled_calls(dec, length, decoder_samples or 2, seed, True)
                d = [timed(fn, decoder_repeats, warmup=False) for fn in calls]
            else:
                run = _generate_call(dec, length, seed)
                if not parts:
                    run(min(8, length))  # warm-up
                d = [timed(run, decoder_repeats, warmup=False)]
            bar.update(1)
            parts.append((length, e, d))
        if budget is not None:
            bar.set_postfix_str("more repeats")
            top_up([m for _, e, d in parts for m in (e, *d)], budget, clock=_clock)
    rows = []
    for length, e, d in parts:
        et = e.timing
        dt: Timing | SampledGeneration = (SampledGeneration(length, tuple(ks_of[length]), tuple(m.timing for m in d))
                                          if sampled[length] else d[0].timing)
        rows.append({"seq_len": length, "engine": "numpy", "encoder_s": et.median_s, "encoder_iqr_s": et.iqr_s,
                     "encoder_repeats": et.repeats, "decoder_s": dt.median_s, "decoder_iqr_s": dt.iqr_s,
                     "decoder_repeats": dt.repeats,
                     "decoder_method": "sampled" if sampled[length] else
                     "loop" if _fits_positions(dec, length) else "loop-hidden",
                     "ratio": dt.median_s / et.median_s})
    out = pd.DataFrame(rows, columns=list(LATENCY_COLUMNS))
    return _with_paper_and_bounds(out, enc.spec, dec.spec, lens, ceilings, bytes_per_element, published)


def _with_paper_and_bounds(out: pd.DataFrame, enc_spec: ModelSpec, dec_spec: ModelSpec, lens: Sequence[int],
                           ceilings: Ceilings | None, bytes_per_element: float,
                           published: pd.DataFrame | None) -> pd.DataFrame:
    """Join the survey's ratios and, with ``ceilings``, the roofline prediction to a latency table."""
    out = out.join(_paper_ratios(published), on="seq_len")
    if ceilings is not None:
        kw = {"widths": ByteWidths.uniform(bytes_per_element)}
        per_len = pd.DataFrame({
            "seq_len": list(lens),
            "predicted_encoder_s": np.atleast_1d(predict_time(enc_spec, "encode", list(lens), ceilings, **kw)),
            # the measured loop runs the tied LM head at every generated token: so does the bound
            "predicted_decoder_s": np.atleast_1d(predict_time(dec_spec, "generate", list(lens), ceilings,
                                                              include_lm_head=True, **kw)),
        }).drop_duplicates("seq_len").set_index("seq_len")
        out = out.join(per_len, on="seq_len")
        out["predicted_ratio"] = out["predicted_decoder_s"] / out["predicted_encoder_s"]
    return out
