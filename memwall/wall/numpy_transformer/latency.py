"""Timing the numpy encoder and decoder: encode, whole greedy generations and single decode steps.

Every timing goes through :func:`memwall.wall.measure.timing.measure`: an untimed warm-up, then a
fixed number of repeats or, with ``budget_s``, as many as a wall-time budget allows (at least
``min_repeats``), reported as median, interquartile range and repeat count. The generation loop is
the real one: :meth:`NumpyTransformer.generate_greedy` from a one-token prompt (LM head included,
each argmax fed back as the next token); the sampled estimate
(:mod:`memwall.wall.numpy_transformer.sampled`) times the same decode step
(:meth:`NumpyTransformer.decode_step_ids`, LM head included) at a few cache lengths, and
:mod:`memwall.wall.numpy_transformer.table` assembles the latency table. This module's clock
(:func:`_clock`) is the one all three use.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from memwall.specs.model_spec import ModelSpec
from memwall.wall.measure.timing import Timing, measure
from memwall.wall.numpy_transformer.layers import KVCache, _check_len
from memwall.wall.numpy_transformer.model import NumpyTransformer

__all__ = [
    "measure_decode_step",
    "measure_encode",
    "measure_generate",
    "time_encode",
    "time_generate",
]

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
