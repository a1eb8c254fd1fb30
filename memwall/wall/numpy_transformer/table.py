"""The numpy latency table: measured decoder/encoder latency ratio beside the survey's and the roofline's.

:func:`latency_table` times BERT-Base encodings and GPT-2 generations (whole, with
:mod:`memwall.wall.numpy_transformer.latency`, or sampled, with
:mod:`memwall.wall.numpy_transformer.sampled`) under one shared wall-time budget, and joins the
survey's ratios (Kim et al., arXiv 2302.14017, Figs. 9 and 32) and the roofline prediction; the
PyTorch table (:func:`memwall.wall.torch_engine.torch_latency_table`) shares its columns and joins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from tqdm.std import tqdm  # text bars: tqdm.auto warns (IProgress) in a kernel without ipywidgets

from memwall.bounds import predict_time
from memwall.roofline import Ceilings
from memwall.specs.model_spec import ModelSpec
from memwall.wall.measure.timing import Measured, TimeBudget, Timing, top_up
from memwall.wall.numpy_transformer.latency import (
    _clock,
    _encode_call,
    _fits_positions,
    _generate_call,
    _measure,
)
from memwall.wall.numpy_transformer.layers import _check_len
from memwall.wall.numpy_transformer.model import NumpyTransformer
from memwall.wall.numpy_transformer.sampled import SampledGeneration, _sampled_cache_lengths, _sampled_calls
from memwall.widths import ByteWidths

__all__ = ["LATENCY_COLUMNS", "latency_table"]

LATENCY_COLUMNS = ("seq_len", "engine", "encoder_s", "encoder_iqr_s", "encoder_repeats", "decoder_s",
                   "decoder_iqr_s", "decoder_repeats", "decoder_method", "ratio")
"""Leading columns of a latency table, numpy's (:func:`latency_table`) and PyTorch's
(:func:`memwall.wall.torch_engine.torch_latency_table`) alike: one row per length and engine.
``*_s`` are medians and ``*_iqr_s`` interquartile ranges [s], ``*_repeats`` timed runs, and
``decoder_method`` says how the generation was timed (``"loop"``: whole greedy generations;
``"loop-hidden"``: whole generations on hidden states, past the position table, see
:func:`measure_generate`; ``"sampled"``: :func:`time_generate_sampled`; ``"generate"``: Hugging
Face ``generate``)."""


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
