"""Timing the numpy encoder and decoder: encode, generate, sampled generation and the latency table."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from memwall.bounds import predict_time
from memwall.roofline import Ceilings
from memwall.specs.model_spec import ModelSpec
from memwall.wall.numpy_transformer.layers import _check_len
from memwall.wall.numpy_transformer.model import NumpyTransformer
from memwall.widths import ByteWidths

__all__ = ["generation_time_from_steps", "latency_table", "time_encode", "time_generate", "time_generate_sampled"]



def _median_seconds(fn: object, repeats: int, warmup: bool) -> float:
    repeats = _check_len("repeats", repeats)
    if warmup:
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def time_encode(seq_len: int, spec: ModelSpec | str = "bert-base", *, repeats: int = 3,
                model: NumpyTransformer | None = None, seed: int = 0) -> float:
    """Median wall time of encoding ``seq_len`` tokens, batch 1 (after one warm-up run).

    Parameters
    ----------
    seq_len : int
        Tokens. [tokens]
    spec : ModelSpec or str
        Encoder (default BERT-Base); ignored when ``model`` is given.
    repeats : int
        Timed runs. [runs]
    model : NumpyTransformer, optional
        Reuse a model (building BERT-Base's random weights takes ~0.3 s).
    seed : int
        Seed of weights and input.

    Returns
    -------
    float
        Median time. [s]

    Raises
    ------
    ValueError
        If ``seq_len`` or ``repeats`` is not a positive integer, or the spec is causal.
    """
    _check_len("seq_len", seq_len)
    model = model or NumpyTransformer(spec, seed=seed)
    x = model.random_input(seq_len, seed=seed + 1)
    return _median_seconds(lambda: model.encode(x), repeats, warmup=True)


def time_generate(seq_len: int, spec: ModelSpec | str = "gpt2", *, repeats: int = 1,
                  model: NumpyTransformer | None = None, seed: int = 0, warmup: bool = False) -> float:
    """Median wall time of generating ``seq_len`` tokens one by one with a KV cache, batch 1.

    Parameters
    ----------
    seq_len : int
        Tokens generated (no prompt). [tokens]
    spec : ModelSpec or str
        Decoder (default GPT-2 124M); ignored when ``model`` is given.
    repeats : int
        Timed runs (each is already ``seq_len`` steps, so 1 is usually enough). [runs]
    model : NumpyTransformer, optional
        Reuse a model.
    seed : int
        Seed of weights and input.
    warmup : bool
        Run a short 8-token generation first.

    Returns
    -------
    float
        Median time. [s]

    Raises
    ------
    ValueError
        If ``seq_len`` or ``repeats`` is not a positive integer, or the spec is not causal.
    """
    _check_len("seq_len", seq_len)
    model = model or NumpyTransformer(spec, seed=seed)
    if not model.spec.causal:
        raise ValueError(f"generate needs a causal (decoder) spec; {model.spec.name!r} is an encoder")
    x = model.random_input(seq_len, seed=seed + 1)
    if warmup:
        model.generate(x[:8])
    return _median_seconds(lambda: model.generate(x), repeats, warmup=False)


def time_generate_sampled(seq_len: int, spec: ModelSpec | str = "gpt2", *, samples: int = 8, repeats: int = 3,
                          model: NumpyTransformer | None = None, seed: int = 0) -> float:
    """Estimated wall time of generating ``seq_len`` tokens, from a sample of timed decode steps.

    Generating ``L`` tokens from an empty cache takes :math:`T = \\sum_{k=0}^{L-1} t(k)`, where
    :math:`t(k)` is the time of one step with ``k`` tokens in the KV cache. Every step reads all
    weights (a constant cost) and ``k`` cached keys and values (a cost linear in ``k``), so
    :math:`t(k)` is close to linear. We time steps at ``samples`` evenly spaced cache lengths
    (median of ``repeats`` each, the cache filled with random keys and values), interpolate
    linearly between them and sum over every ``k``. This makes long generations measurable in
    seconds; :func:`time_generate` times the whole generation instead.

    Parameters
    ----------
    seq_len : int
        Tokens generated (no prompt). [tokens]
    spec : ModelSpec or str
        Decoder (default GPT-2 124M); ignored when ``model`` is given.
    samples : int
        Cache lengths timed (at least 2; capped at ``seq_len``). [steps]
    repeats : int
        Timed steps per cache length (median). [runs]
    model : NumpyTransformer, optional
        Reuse a model.
    seed : int
        Seed of weights, cache contents and input.

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
    length = _check_len("seq_len", seq_len)
    samples = _check_len("samples", samples)
    _check_len("repeats", repeats)
    if samples < 2:
        raise ValueError(f"samples must be at least 2, got {samples}")
    model = model or NumpyTransformer(spec, seed=seed)
    if not model.spec.causal:
        raise ValueError(f"generate needs a causal (decoder) spec; {model.spec.name!r} is an encoder")
    rng = np.random.default_rng(seed + 2)
    cache = model.new_cache(length)
    cache.k[...] = rng.standard_normal(cache.k.shape, dtype=np.float32).astype(cache.k.dtype)
    cache.v[...] = rng.standard_normal(cache.v.shape, dtype=np.float32).astype(cache.v.dtype)
    x_t = model.random_input(1, seed=seed + 1)[0]
    ks = np.unique(np.linspace(0, length - 1, min(samples, length)).round().astype(int))

    def one_step(k: int) -> None:
        cache.length = k
        model.step(x_t, cache)

    one_step(int(ks[0]))  # warm-up
    times = [_median_seconds(lambda k=int(k): one_step(k), repeats, warmup=False) for k in ks]
    return generation_time_from_steps(ks, times, length)


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
    bytes_per_element: float = 4.0,
    published: pd.DataFrame | None = None,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Measured decoder/encoder latency ratio beside the survey's and the roofline's.

    Parameters
    ----------
    seq_lens : sequence of int
        Sequence lengths ``l``; GPT-2 generation costs about 20-40 ms per token in float32 on a
        2-core CPU, so ``l = 4096`` takes minutes. [tokens]
    ceilings : Ceilings, optional
        Machine for the roofline prediction (e.g. :meth:`memwall.wall.measure.MachineReport.ceilings`);
        without it the ``predicted_*`` columns are left out.
    encoder, decoder : ModelSpec or str
        Default BERT-Base and GPT-2 (124M), the survey's pair.
    repeats : int
        Timed encoder runs per length (median). [runs]
    decoder_repeats : int
        Timed generations per length (median); with ``decoder_samples``, timed steps per sampled
        cache length. [runs]
    decoder_samples : int, optional
        If given, estimate each generation from this many timed decode steps
        (:func:`time_generate_sampled`) instead of running it whole; makes ``l`` in the thousands
        affordable. [steps]
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
        One row per ``seq_len``: ``encoder_s``, ``decoder_s`` [s], ``ratio`` (decoder / encoder,
        measured), ``paper_ratio`` (GPT-2 / BERT-Base normalised CPU latency of the survey's Fig. 9,
        Kim et al. arXiv 2302.14017: 45 at 128, 2344/84 ≈ 28 at 4096; NaN where not published),
        ``paper_analytic_ratio`` (same from its analytic model, Fig. 32) and, with ``ceilings``,
        ``predicted_encoder_s``, ``predicted_decoder_s`` [s] and ``predicted_ratio``
        (:func:`memwall.bounds.predict_time`).

    Raises
    ------
    ValueError
        If a length or a repeat count is not a positive integer.

    Notes
    -----
    The survey's latencies are rounded normalised values read from a figure; at ``l = 256`` and
    ``512`` the BERT-Base values (2, 3) carry up to ±25 % rounding error, so their ratios do too.
    """
    lens = [_check_len("seq_lens", v) for v in seq_lens]
    _check_len("repeats", repeats)
    _check_len("decoder_repeats", decoder_repeats)
    enc = NumpyTransformer(encoder, seed=seed)
    dec = NumpyTransformer(decoder, seed=seed)
    rows = []
    with tqdm(total=2 * len(lens), desc="encoder vs decoder", unit="run", disable=not progress, leave=False) as bar:
        for length in lens:
            bar.set_postfix_str(f"encode l={length}")
            enc_s = time_encode(length, repeats=repeats, model=enc, seed=seed)
            bar.update(1)
            bar.set_postfix_str(f"generate l={length}")
            if decoder_samples is None:
                dec_s = time_generate(length, repeats=decoder_repeats, model=dec, seed=seed, warmup=not rows)
            else:
                dec_s = time_generate_sampled(length, samples=decoder_samples, repeats=decoder_repeats, model=dec,
                                              seed=seed)
            bar.update(1)
            rows.append({"seq_len": length, "encoder_s": enc_s, "decoder_s": dec_s, "ratio": dec_s / enc_s})
    out = pd.DataFrame(rows)
    paper = _paper_ratios(published)
    out = out.join(paper, on="seq_len")
    if ceilings is not None:
        kw = {"widths": ByteWidths.uniform(bytes_per_element)}
        out["predicted_encoder_s"] = np.atleast_1d(predict_time(enc.spec, "encode", lens, ceilings, **kw))
        out["predicted_decoder_s"] = np.atleast_1d(predict_time(dec.spec, "generate", lens, ceilings, **kw))
        out["predicted_ratio"] = out["predicted_decoder_s"] / out["predicted_encoder_s"]
    return out
