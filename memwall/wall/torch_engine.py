"""BERT-Base encode vs GPT-2 generate in PyTorch (Hugging Face ``transformers``) beside the numpy engine.

The numpy Transformer of :mod:`memwall.wall.numpy_transformer` is written for reading; a reader may
fairly ask whether the decoder/encoder gap it measures is numpy's overhead. This module times the
same experiment with the production implementations: Hugging Face ``BertModel`` (BERT-Base config,
Devlin et al. 2019, arXiv 1810.04805) and ``GPT2LMHeadModel`` (GPT-2 124M config, Radford et al.
2019), built from their default configurations with random weights (nothing is downloaded), float32,
batch 1, under ``torch.inference_mode()``, with PyTorch pinned to as many threads as numpy's BLAS
uses (so neither engine gets more cores). GPT-2 generation is timed two ways:

* ``"pytorch (own loop)"``: the model's forward in a Python loop, one token per call, the key/value
  cache passed back in, the next token the argmax of the logits (the loop of
  :meth:`memwall.wall.numpy_transformer.NumpyTransformer.generate_greedy`);
* ``"pytorch (generate)"``: ``model.generate(max_new_tokens=l, min_new_tokens=l, do_sample=False)``,
  what a user of ``transformers`` calls (it adds logits processing and stopping checks per step).

Both start from a one-token prompt and make ``l`` forward passes (one prefill, ``l - 1`` decode
steps), cache lengths ``0 … l - 1``, as the numpy loop does. PyTorch and ``transformers`` are an
optional extra (``pip install memwall[torch]``): nothing else in ``memwall`` imports them, and
:func:`available_engines` says whether they are there.

The single measurements (:func:`measure_torch_encode`, :func:`measure_torch_generate`,
:func:`measure_torch_decode_step`) live in :mod:`memwall.wall.torch_timing` and are re-exported here;
this module builds the models and the tables. Timings use :func:`memwall.wall.measure.timing.measure`
(warm-up, repeats within a budget, median and IQR); :func:`compare_engines` interleaves the engines
round by round in one process, so that a change of machine load hits all of them alike.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from memwall.roofline import Ceilings
from memwall.specs.presets import get_preset
from memwall.wall.measure.timing import TimeBudget, Timing, _check_budget, _check_int
from memwall.wall.numpy_transformer.model import NumpyTransformer
from memwall.wall.numpy_transformer.table import LATENCY_COLUMNS, _with_paper_and_bounds
from memwall.wall.torch_timing import (
    _START_TOKEN,
    _check_len,
    _encode_fn,
    _generate_fn,
    measure_torch_decode_step,
    measure_torch_encode,
    measure_torch_generate,
)

__all__ = [
    "ENGINES",
    "TorchModels",
    "available_engines",
    "build_torch_models",
    "compare_engines",
    "measure_torch_decode_step",
    "measure_torch_encode",
    "measure_torch_generate",
    "numpy_blas_threads",
    "torch_available",
    "torch_latency_table",
]

ENGINES = ("numpy", "pytorch (own loop)", "pytorch (generate)")
"""The engines of a latency table's ``engine`` column."""

_TORCH_ENGINES = {"pytorch (own loop)": "own loop", "pytorch (generate)": "generate"}


def torch_available() -> bool:
    """Whether ``torch`` and ``transformers`` can be imported (without importing them)."""
    return all(importlib.util.find_spec(name) is not None for name in ("torch", "transformers"))


def available_engines() -> tuple[str, ...]:
    """The engines this environment can time: ``"numpy"`` always, the PyTorch ones with ``memwall[torch]``."""
    return ENGINES if torch_available() else ENGINES[:1]


def numpy_blas_threads() -> int:
    """Threads numpy's BLAS uses (threadpoolctl; largest over its BLAS pools, 1 if none). [threads]"""
    from threadpoolctl import threadpool_info

    pools = [p for p in threadpool_info() if p.get("user_api") == "blas" and "torch" not in str(p.get("filepath"))]
    return max((int(p.get("num_threads", 1)) for p in pools), default=1)


def _require_torch() -> None:
    if not torch_available():
        raise ImportError("the PyTorch engine needs torch and transformers: pip install 'memwall[torch]'")


@dataclass(frozen=True)
class TorchModels:
    """The two Hugging Face models with random weights, and how they were set up.

    Attributes
    ----------
    bert : transformers.BertModel
        BERT-Base (``BertConfig()`` defaults: 12 layers, d = 768, 12 heads, FFN 3072), eval mode.
    gpt2 : transformers.GPT2LMHeadModel
        GPT-2 124M (``GPT2Config()`` defaults: 12 layers, d = 768, 12 heads, 1024 positions,
        vocabulary 50257, LM head tied to the token embedding), eval mode.
    threads : int
        ``torch.get_num_threads()`` after pinning. [threads]
    attn_implementation : str
        Attention kernel ``transformers`` chose (e.g. ``"sdpa"``).
    torch_version, transformers_version : str
        Versions.
    """

    bert: Any
    gpt2: Any
    threads: int
    attn_implementation: str
    torch_version: str
    transformers_version: str


def build_torch_models(*, seed: int = 0, threads: int | None = None) -> TorchModels:
    """Build BERT-Base and GPT-2 (124M) from their default configs, random float32 weights, no download.

    Parameters
    ----------
    seed : int
        ``torch.manual_seed`` of the initialisation.
    threads : int, optional
        Intra-op threads for PyTorch (``torch.set_num_threads``, a process-wide setting); default
        :func:`numpy_blas_threads`, so that both engines compute on the same cores. [threads]

    Returns
    -------
    TorchModels

    Raises
    ------
    ImportError
        If torch or transformers is missing.
    ValueError
        If ``threads`` is not a positive integer.

    Notes
    -----
    Initialising the 235 M random parameters takes a few seconds on a 2-core machine.
    """
    _require_torch()
    import torch
    import transformers
    from transformers import BertConfig, BertModel, GPT2Config, GPT2LMHeadModel

    threads = numpy_blas_threads() if threads is None else _check_int("threads", threads)
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    bert = BertModel(BertConfig()).to(torch.float32).eval()
    gpt2 = GPT2LMHeadModel(GPT2Config()).to(torch.float32).eval()
    return TorchModels(bert, gpt2, torch.get_num_threads(), str(getattr(gpt2.config, "_attn_implementation", "?")),
                       torch.__version__, transformers.__version__)


def _row(length: int, engine: str, enc: Timing, dec: Timing, method: str) -> dict[str, object]:
    return {"seq_len": length, "engine": engine, "encoder_s": enc.median_s, "encoder_iqr_s": enc.iqr_s,
            "encoder_repeats": enc.repeats, "decoder_s": dec.median_s, "decoder_iqr_s": dec.iqr_s,
            "decoder_repeats": dec.repeats, "decoder_method": method, "ratio": dec.median_s / enc.median_s}


def _check_engines(engines: Sequence[str], allowed: Sequence[str]) -> list[str]:
    engines = list(engines)
    if not engines:
        raise ValueError("engines must not be empty")
    for e in engines:
        if e not in allowed:
            raise ValueError(f"engine={e!r} is not known; allowed: {', '.join(allowed)}")
    return engines


def torch_latency_table(
    seq_lens: Sequence[int] = (128,),
    *,
    engines: Sequence[str] = ("pytorch (own loop)", "pytorch (generate)"),
    models: TorchModels | None = None,
    repeats: int = 3,
    decoder_repeats: int = 1,
    budget_s: float | None = None,
    min_repeats: int = 1,
    ceilings: Ceilings | None = None,
    published: pd.DataFrame | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """BERT-Base encode vs GPT-2 generate in PyTorch, in the shape of the numpy latency table.

    Parameters
    ----------
    seq_lens : sequence of int
        Lengths ``l`` (at most 512, BERT's position table). [tokens]
    engines : sequence of {"pytorch (own loop)", "pytorch (generate)"}
        How GPT-2 generates (see the module docstring).
    models : TorchModels, optional
        Reuse models (default :func:`build_torch_models` with ``seed``).
    repeats : int
        Timed encodings per length; with ``budget_s`` the most. [runs]
    decoder_repeats : int
        Timed generations per length and engine; with ``budget_s`` the most. [runs]
    budget_s : float, optional
        Wall-time allowance of the table (the building of the models included), shared among its
        measurements as :class:`~memwall.wall.measure.timing.TimeBudget` does. [s]
    min_repeats : int
        Fewest timed runs of each measurement under a budget. [runs]
    ceilings, published
        As :func:`memwall.wall.numpy_transformer.latency_table` (roofline and survey columns).
    seed : int
        Seed of weights and inputs.

    Returns
    -------
    pandas.DataFrame
        One row per length and engine, columns
        :data:`~memwall.wall.numpy_transformer.table.LATENCY_COLUMNS` (``decoder_method``
        ``"loop"`` or ``"generate"``; both engines' rows share one timed encoding per length) and the
        survey and roofline columns of the numpy table.

    Raises
    ------
    ImportError
        If torch or transformers is missing.
    ValueError
        If a length, count or engine is not valid.
    """
    _require_torch()
    lens = [_check_len("seq_lens", n) for n in seq_lens]
    engines = _check_engines(engines, list(_TORCH_ENGINES))
    _check_len("min_repeats", min_repeats)
    budget = None if budget_s is None else TimeBudget(_check_budget(budget_s), len(lens) * (1 + len(engines)))
    share = (lambda: None) if budget is None else budget.next_share
    models = models or build_torch_models(seed=seed)
    rows = []
    for length in lens:
        enc = measure_torch_encode(length, models, repeats=repeats, budget_s=share(), min_repeats=min_repeats,
                                   seed=seed)
        for engine in engines:
            method = _TORCH_ENGINES[engine]
            dec = measure_torch_generate(length, models, method=method, repeats=decoder_repeats, budget_s=share(),
                                         min_repeats=min_repeats)
            rows.append(_row(length, engine, enc, dec, "loop" if method == "own loop" else "generate"))
    out = pd.DataFrame(rows, columns=list(LATENCY_COLUMNS))
    return _with_paper_and_bounds(out, get_preset("bert-base"), get_preset("gpt2"), lens, ceilings, 4.0, published)


def compare_engines(
    seq_len: int = 128,
    *,
    engines: Sequence[str] | None = None,
    rounds: int = 5,
    min_rounds: int = 1,
    budget_s: float | None = None,
    models: TorchModels | None = None,
    numpy_models: tuple[NumpyTransformer, NumpyTransformer] | None = None,
    ceilings: Ceilings | None = None,
    published: pd.DataFrame | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """BERT-Base encode vs GPT-2 generate of ``seq_len`` tokens, the engines interleaved in one process.

    Each round times, for every engine in turn, one encoding and one whole generation; the order of
    the engines rotates from round to round, so that drifting machine load falls on all of them
    alike. One untimed warm-up round (an encoding, an 8-token generation per engine) comes first.

    Parameters
    ----------
    seq_len : int
        Tokens encoded and generated (at most 512). [tokens]
    engines : sequence of str, optional
        Subset of :data:`ENGINES`; default :func:`available_engines`.
    rounds : int
        Most timed rounds. [rounds]
    min_rounds : int
        Fewest timed rounds under a budget. [rounds]
    budget_s : float, optional
        Wall-time allowance of the timed rounds (warm-up included, model building not): rounds stop
        when one more round of the median round time would overrun it. Without it, ``rounds``
        rounds. [s]
    models : TorchModels, optional
        Reuse the PyTorch models.
    numpy_models : (NumpyTransformer, NumpyTransformer), optional
        Reuse the numpy encoder and decoder (default BERT-Base and GPT-2 from ``seed``).
    ceilings, published
        As :func:`memwall.wall.numpy_transformer.latency_table`.
    seed : int
        Seed of weights and inputs.

    Returns
    -------
    pandas.DataFrame
        One row per engine, columns
        :data:`~memwall.wall.numpy_transformer.table.LATENCY_COLUMNS` (medians and IQRs over the
        rounds; ``*_repeats`` = timed rounds) and the survey and roofline columns.

    Raises
    ------
    ImportError
        If a PyTorch engine is asked for and torch or transformers is missing.
    ValueError
        If a count or an engine is not valid.
    """
    length = _check_len("seq_len", seq_len)
    rounds = _check_len("rounds", rounds)
    min_rounds = min(_check_len("min_rounds", min_rounds), rounds)
    limit = None if budget_s is None else _check_budget(budget_s)
    engines = _check_engines(engines if engines is not None else available_engines(), ENGINES)
    if any(e in _TORCH_ENGINES for e in engines):
        _require_torch()
        models = models or build_torch_models(seed=seed)
    calls: dict[str, tuple[Callable[[], object], Callable[[int], object]]] = {}
    if "numpy" in engines:
        enc, dec = numpy_models or (NumpyTransformer("bert-base", seed=seed), NumpyTransformer("gpt2", seed=seed))
        x = enc.random_input(length, seed=seed + 1)
        prompt = np.array([_START_TOKEN])
        calls["numpy"] = (lambda: enc.encode(x), lambda n: dec.generate_greedy(prompt, n))
    for engine in engines:
        if engine in _TORCH_ENGINES:
            assert models is not None
            calls[engine] = (_encode_fn(models, length, seed), _generate_fn(models, _TORCH_ENGINES[engine]))
    start = time.perf_counter()
    for encode, generate in calls.values():  # warm-up round
        encode()
        generate(min(8, length))
    samples: dict[str, tuple[list[float], list[float]]] = {e: ([], []) for e in engines}
    round_times: list[float] = []
    for r in range(rounds):
        if limit is not None and r >= min_rounds and \
                time.perf_counter() - start + float(np.median(round_times)) > limit:
            break
        t_round = time.perf_counter()
        for engine in engines[r % len(engines):] + engines[:r % len(engines)]:
            encode, generate = calls[engine]
            t0 = time.perf_counter()
            encode()
            t1 = time.perf_counter()
            generate(length)
            t2 = time.perf_counter()
            samples[engine][0].append(t1 - t0)
            samples[engine][1].append(t2 - t1)
        round_times.append(time.perf_counter() - t_round)
    rows = [_row(length, e, Timing.from_samples(samples[e][0]), Timing.from_samples(samples[e][1]),
                 "generate" if e == "pytorch (generate)" else "loop") for e in engines]
    out = pd.DataFrame(rows, columns=list(LATENCY_COLUMNS))
    return _with_paper_and_bounds(out, get_preset("bert-base"), get_preset("gpt2"), [length], ceilings, 4.0,
                                  published)
