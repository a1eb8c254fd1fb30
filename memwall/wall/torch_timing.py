"""Timing primitives of the PyTorch engine: BERT-Base encoding, GPT-2 generation and one decode step.

The measurements behind :mod:`memwall.wall.torch_engine`'s tables, each on the models of
:func:`~memwall.wall.torch_engine.build_torch_models` (Hugging Face ``BertModel`` and
``GPT2LMHeadModel`` with random weights, float32, batch 1, under ``torch.inference_mode()``):
:func:`measure_torch_encode` times one encoding, :func:`measure_torch_generate` one greedy generation
from a one-token prompt (the model's forward in a Python loop with the key/value cache, or
``model.generate``), :func:`measure_torch_decode_step` one forward of one token at a fixed cache
length. The functions that build these calls (``_encode_fn``, ``_generate_fn``) are shared with
:func:`memwall.wall.torch_engine.compare_engines`, which interleaves them with the numpy engine.

Nothing here imports ``torch`` at module level; each function imports it when it runs. Timings use
:func:`memwall.wall.measure.timing.measure` (warm-up, repeats within a budget, median and IQR).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from memwall.wall.measure.timing import Timing, _check_int, measure

if TYPE_CHECKING:
    from memwall.wall.torch_engine import TorchModels

__all__ = ["measure_torch_decode_step", "measure_torch_encode", "measure_torch_generate"]

_START_TOKEN = 0  # the one-token prompt (any id: the weights are random)


def _cache_keyword(model: Any) -> str:
    """``cache`` (transformers ≥ 5.2x) or ``past_key_values`` (earlier): the forward's KV-cache argument."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def _out_cache(out: Any) -> Any:
    cache = getattr(out, "cache", None)
    return cache if cache is not None else out.past_key_values


def _encode_fn(models: TorchModels, seq_len: int, seed: int) -> Callable[[], object]:
    import torch

    gen = torch.Generator().manual_seed(seed + 1)
    ids = torch.randint(0, models.bert.config.vocab_size, (1, seq_len), generator=gen)

    def run() -> object:
        with torch.inference_mode():
            return models.bert(input_ids=ids)

    return run


def _generate_fn(models: TorchModels, method: str) -> Callable[[int], object]:
    """A function generating ``n`` tokens greedily from a one-token prompt, by ``method``."""
    import torch

    model = models.gpt2
    prompt = torch.tensor([[_START_TOKEN]])
    key = _cache_keyword(model)
    eos = model.config.eos_token_id

    def own_loop(n: int) -> object:
        with torch.inference_mode():
            out = model(input_ids=prompt, use_cache=True)
            cache = _out_cache(out)
            for _ in range(n - 1):
                token = out.logits[:, -1].argmax(-1, keepdim=True)
                out = model(input_ids=token, use_cache=True, **{key: cache})
                cache = _out_cache(out)
            return out.logits[:, -1].argmax(-1)

    def generate(n: int) -> object:
        with torch.inference_mode():
            return model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=n, min_new_tokens=n,
                                  do_sample=False, pad_token_id=eos)

    if method == "own loop":
        return own_loop
    if method == "generate":
        return generate
    raise ValueError(f"method={method!r} is not known; allowed: own loop, generate")


def _check_len(name: str, value: object) -> int:
    return _check_int(name, value, 1)


def measure_torch_encode(seq_len: int, models: TorchModels, *, repeats: int = 3, budget_s: float | None = None,
                         min_repeats: int = 1, seed: int = 0) -> Timing:
    """Time ``BertModel`` encoding ``seq_len`` random token ids, batch 1 (embeddings and pooler included).

    Parameters
    ----------
    seq_len : int
        Tokens (at most 512, BERT's position table). [tokens]
    models : TorchModels
        From :func:`~memwall.wall.torch_engine.build_torch_models`.
    repeats : int
        Timed runs; with ``budget_s`` the most. [runs]
    budget_s : float, optional
        Wall-time allowance, warm-up included (:func:`~memwall.wall.measure.timing.measure`). [s]
    min_repeats : int
        Fewest timed runs under a budget. [runs]
    seed : int
        Seed of the token ids.

    Returns
    -------
    Timing
        Median, IQR and count. [s]

    Raises
    ------
    ValueError
        If a length or count is not a positive integer, or ``seq_len`` exceeds BERT's 512 positions.
    """
    length = _check_len("seq_len", seq_len)
    if length > models.bert.config.max_position_embeddings:
        raise ValueError(f"seq_len={length} exceeds BERT's max_position_embeddings="
                         f"{models.bert.config.max_position_embeddings}")
    repeats = _check_len("repeats", repeats)
    return measure(_encode_fn(models, length, seed), budget_s, min(min_repeats, repeats), repeats)


def measure_torch_generate(seq_len: int, models: TorchModels, *, method: str = "own loop", repeats: int = 1,
                           budget_s: float | None = None, min_repeats: int = 1, warmup: bool = True) -> Timing:
    """Time GPT-2 generating ``seq_len`` tokens greedily from a one-token prompt, batch 1.

    Parameters
    ----------
    seq_len : int
        New tokens; the prompt and them must fit in GPT-2's 1024 positions. [tokens]
    models : TorchModels
        From :func:`~memwall.wall.torch_engine.build_torch_models`.
    method : {"own loop", "generate"}
        The model's forward in a loop with the KV cache and argmax, or ``model.generate``.
    repeats : int
        Timed generations; with ``budget_s`` the most. [runs]
    budget_s : float, optional
        Wall-time allowance, warm-up included. [s]
    min_repeats : int
        Fewest timed generations under a budget. [runs]
    warmup : bool
        Generate 8 tokens first, untimed.

    Returns
    -------
    Timing
        Median, IQR and count. [s]

    Raises
    ------
    ValueError
        If a length or count is not a positive integer, the generation does not fit in the position
        table, or ``method`` is unknown.
    """
    length = _check_len("seq_len", seq_len)
    repeats = _check_len("repeats", repeats)
    if length + 1 > models.gpt2.config.n_positions:
        raise ValueError(f"seq_len={length} plus the prompt token exceeds n_positions={models.gpt2.config.n_positions}")
    run = _generate_fn(models, method)
    if warmup:
        run(min(8, length))
    return measure(lambda: run(length), budget_s, min(min_repeats, repeats), repeats, warmup=False)


def measure_torch_decode_step(cache_len: int, models: TorchModels, *, repeats: int = 5,
                              budget_s: float | None = None, min_repeats: int = 1, seed: int = 0) -> Timing:
    """Time one GPT-2 forward of one token with ``cache_len`` tokens in the KV cache (LM head included).

    The cache is filled once by a prefill of ``cache_len`` random tokens; before each timed step it
    is cropped back to ``cache_len`` tokens, so every step sees the same cache length.

    Parameters
    ----------
    cache_len : int
        Tokens in the cache (0 allowed; at most 1023). [tokens]
    models : TorchModels
        From :func:`~memwall.wall.torch_engine.build_torch_models`.
    repeats : int
        Timed steps; with ``budget_s`` the most. [runs]
    budget_s : float, optional
        Wall-time allowance, warm-up included. [s]
    min_repeats : int
        Fewest timed steps under a budget. [runs]
    seed : int
        Seed of the prefill tokens.

    Returns
    -------
    Timing
        Median, IQR and count. [s]

    Raises
    ------
    ValueError
        If ``cache_len`` is negative or does not leave room for the step, or a count is not positive.
    """
    import torch

    if isinstance(cache_len, bool) or not isinstance(cache_len, (int, np.integer)) or cache_len < 0:
        raise ValueError(f"cache_len must be a non-negative integer, got {cache_len!r}")
    k = int(cache_len)
    model = models.gpt2
    if k + 1 > model.config.n_positions:
        raise ValueError(f"cache_len={k} leaves no position for the step (n_positions={model.config.n_positions})")
    repeats = _check_len("repeats", repeats)
    key = _cache_keyword(model)
    token = torch.tensor([[_START_TOKEN]])
    cache = None
    if k:
        ids = torch.randint(0, model.config.vocab_size, (1, k), generator=torch.Generator().manual_seed(seed + 2))
        with torch.inference_mode():
            cache = _out_cache(model(input_ids=ids, use_cache=True))

    def step() -> object:
        with torch.inference_mode():
            if cache is None:
                return model(input_ids=token, use_cache=True).logits
            extra = cache.get_seq_length() - k
            if extra:
                cache.crop(-extra)  # a negative count removes that many tokens (every transformers version)
            return model(input_ids=token, use_cache=True, **{key: cache}).logits

    return measure(step, budget_s, min(min_repeats, repeats), repeats)
