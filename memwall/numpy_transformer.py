"""A minimal numpy Transformer forward, to time an encoder against a decoder on this machine.

Two block kinds, both multi-head attention plus a two-matrix GELU FFN with biases (Vaswani et al.
2017, arXiv 1706.03762):

* **Encoder (BERT)**, Devlin et al. 2019 (arXiv 1810.04805): post-LN, bidirectional attention,
  exact (erf) GELU, LayerNorm ε = 1e-12::

      x = LN(x + Attn(x));  x = LN(x + W2·GELU(W1·x + b1) + b2)

* **Decoder (GPT-2)**, Radford et al. 2019: pre-LN, causal attention, tanh-approximated GELU,
  LayerNorm ε = 1e-5, a final LayerNorm after the last block::

      x = x + Attn(LN(x));  x = x + FFN(LN(x))

  :meth:`NumpyTransformer.generate` feeds the tokens one at a time with a key/value cache, as
  autoregressive generation does; :meth:`NumpyTransformer.forward` runs all tokens at once with the
  causal mask. Both give the same outputs (``tests/test_numpy_transformer.py``).

Weights are random (seeded) with the real shapes of a :class:`~memwall.models.ModelSpec`; token
embeddings, position embeddings and the LM head are left out, as in :mod:`memwall.cost`: the model
maps input hidden states ``(l, d)`` to output hidden states ``(l, d)``. The layouts follow the
Hugging Face ``BertModel``/``GPT2Model`` maths; ``tools/transformer_reference.py`` checks that the
outputs agree with those classes given the same weights.

The timing helpers measure what the survey the paper re-uses measured on a CPU (Kim et al.,
arXiv 2302.14017, §2.2.2, Fig. 9): BERT-Base encoding ``l`` tokens against GPT-2 (124M) generating
``l`` tokens, batch 1, here in float32.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import erf
from tqdm.auto import tqdm

from memwall.models import ModelSpec, get_preset
from memwall.roofline import Ceilings, predict_time

__all__ = [
    "BLOCK_FIELDS",
    "Block",
    "KVCache",
    "NumpyTransformer",
    "gelu_erf",
    "gelu_tanh",
    "generation_time_from_steps",
    "latency_table",
    "layer_norm",
    "time_encode",
    "time_generate",
    "time_generate_sampled",
]

BLOCK_FIELDS = ("w_qkv", "b_qkv", "w_o", "b_o", "ln1_g", "ln1_b", "w_up", "b_up", "w_down", "b_down",
                "ln2_g", "ln2_b")
"""Arrays of one block. Matrices are ``(in, out)`` so a layer is ``x @ w + b``; ``w_qkv`` is the
query, key and value projections side by side, ``(d, 3·h·d_h)``. ``ln1`` is the norm next to attention
(after it in BERT, before it in GPT-2), ``ln2`` the one next to the FFN."""


# --------------------------------------------------------------------------------------- elementwise


def gelu_erf(x: np.ndarray) -> np.ndarray:
    """Exact GELU ``x·Φ(x) = x/2·(1 + erf(x/√2))`` (Hendrycks & Gimpel 2016, arXiv 1606.08415), as in BERT.

    Parameters
    ----------
    x : numpy.ndarray, any shape
        Pre-activations.

    Returns
    -------
    numpy.ndarray, same shape and dtype
    """
    return (0.5 * x * (1.0 + erf(x * np.asarray(1.0 / np.sqrt(2.0), dtype=x.dtype)))).astype(x.dtype, copy=False)


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    """Tanh approximation of GELU, ``x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³)))``, as in GPT-2 (``gelu_new``).

    Parameters
    ----------
    x : numpy.ndarray, any shape
        Pre-activations.

    Returns
    -------
    numpy.ndarray, same shape and dtype
    """
    c = np.asarray(np.sqrt(2.0 / np.pi), dtype=x.dtype)
    return 0.5 * x * (1.0 + np.tanh(c * (x + np.asarray(0.044715, dtype=x.dtype) * x * x * x)))


def layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis (Ba et al. 2016, arXiv 1607.06450), biased variance.

    Parameters
    ----------
    x : numpy.ndarray, shape (..., d)
        Input.
    gain, bias : numpy.ndarray, shape (d,)
        Scale and shift.
    eps : float
        Added to the variance.

    Returns
    -------
    numpy.ndarray, shape (..., d)
    """
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred / np.sqrt(var + np.asarray(eps, dtype=x.dtype)) * gain + bias


def _softmax_inplace(s: np.ndarray) -> np.ndarray:
    s -= s.max(axis=-1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(axis=-1, keepdims=True)
    return s


# -------------------------------------------------------------------------------------------- model


@dataclass
class Block:
    """Weights of one Transformer block (see :data:`BLOCK_FIELDS` for the layout).

    Shapes with ``d`` = d_model, ``q`` = heads·head_dim, ``f`` = ffn_dim: ``w_qkv (d, 3q)``,
    ``b_qkv (3q,)``, ``w_o (q, d)``, ``b_o (d,)``, ``w_up (d, f)``, ``b_up (f,)``, ``w_down (f, d)``,
    ``b_down (d,)``, norms ``(d,)``.
    """

    w_qkv: np.ndarray
    b_qkv: np.ndarray
    w_o: np.ndarray
    b_o: np.ndarray
    ln1_g: np.ndarray
    ln1_b: np.ndarray
    w_up: np.ndarray
    b_up: np.ndarray
    w_down: np.ndarray
    b_down: np.ndarray
    ln2_g: np.ndarray
    ln2_b: np.ndarray


class KVCache:
    """Keys and values of the tokens seen so far, preallocated for ``max_len`` tokens.

    Parameters
    ----------
    layers, heads, head_dim : int
        Model shape.
    max_len : int
        Capacity. [tokens]
    dtype : numpy dtype
        Storage type.

    Attributes
    ----------
    k, v : numpy.ndarray, shape (layers, heads, max_len, head_dim)
        Cached keys and values; rows ``[:length]`` are valid.
    length : int
        Tokens cached. [tokens]
    """

    def __init__(self, layers: int, heads: int, head_dim: int, max_len: int, dtype: np.dtype | type = np.float32):
        self.k = np.empty((layers, heads, max_len, head_dim), dtype=dtype)
        self.v = np.empty_like(self.k)
        self.length = 0

    @property
    def capacity(self) -> int:
        """Tokens the cache can hold. [tokens]"""
        return self.k.shape[2]


class NumpyTransformer:
    """A stack of BERT-style (``spec.causal`` False) or GPT-2-style (True) blocks in numpy.

    Parameters
    ----------
    spec : ModelSpec or str
        Architecture or preset name; must be multi-head attention (``kv_heads == heads``), a GELU FFN,
        LayerNorm, with biases and a single expert (BERT and GPT-2 families).
    blocks : sequence of Block, optional
        Weights; default random from ``seed`` (see :meth:`random_blocks`).
    final_norm : tuple of numpy.ndarray, optional
        ``(gain, bias)`` of the norm after the last block, used when ``spec.final_norm``; default
        random from ``seed``.
    seed : int
        Seed of the random weights.
    dtype : numpy dtype
        Compute type (float32 by default).
    eps : float, optional
        LayerNorm ε; default 1e-12 for an encoder (BERT), 1e-5 for a decoder (GPT-2).

    Raises
    ------
    ValueError
        If the architecture is not supported, or a weight has the wrong shape, naming the field.
    """

    def __init__(self, spec: ModelSpec | str, blocks: Sequence[Block] | None = None,
                 final_norm: tuple[np.ndarray, np.ndarray] | None = None, *, seed: int = 0,
                 dtype: np.dtype | type = np.float32, eps: float | None = None):
        spec = get_preset(spec) if isinstance(spec, str) else spec
        for name, ok in (("kv_heads", spec.kv_heads == spec.heads), ("ffn_kind", spec.ffn_kind == "gelu"),
                         ("norm", spec.norm == "layernorm"), ("bias", spec.bias), ("experts", spec.experts == 1)):
            if not ok:
                raise ValueError(f"NumpyTransformer supports BERT/GPT-2-style blocks only; "
                                 f"{name}={getattr(spec, name)!r} is not supported")
        self.spec = spec
        self.dtype = np.dtype(dtype)
        self.eps = float(eps if eps is not None else (1e-5 if spec.causal else 1e-12))
        self.activation = gelu_tanh if spec.causal else gelu_erf
        rng = np.random.default_rng(seed)
        self.blocks = list(blocks) if blocks is not None else self.random_blocks(spec, rng, self.dtype)
        if len(self.blocks) != spec.layers:
            raise ValueError(f"blocks must hold spec.layers={spec.layers} blocks, got {len(self.blocks)}")
        for i, blk in enumerate(self.blocks):
            for name, shape in self._shapes().items():
                arr = getattr(blk, name)
                if arr.shape != shape:
                    raise ValueError(f"block {i} field {name} must have shape {shape}, got {arr.shape}")
                setattr(blk, name, np.ascontiguousarray(arr, dtype=self.dtype))
        self.final_norm: tuple[np.ndarray, np.ndarray] | None = None
        if spec.final_norm:
            if final_norm is None:
                final_norm = (1.0 + 0.1 * rng.standard_normal(spec.d_model), 0.1 * rng.standard_normal(spec.d_model))
            self.final_norm = (np.asarray(final_norm[0], self.dtype), np.asarray(final_norm[1], self.dtype))
        self.scale = np.asarray(1.0 / np.sqrt(spec.head_dim), dtype=self.dtype)

    # ------------------------------------------------------------------ weights

    def _shapes(self) -> dict[str, tuple[int, ...]]:
        s = self.spec
        d, q, f = s.d_model, s.q_dim, s.ffn_dim
        return {"w_qkv": (d, 3 * q), "b_qkv": (3 * q,), "w_o": (q, d), "b_o": (d,), "ln1_g": (d,), "ln1_b": (d,),
                "w_up": (d, f), "b_up": (f,), "w_down": (f, d), "b_down": (d,), "ln2_g": (d,), "ln2_b": (d,)}

    @staticmethod
    def random_blocks(spec: ModelSpec, rng: np.random.Generator, dtype: np.dtype | type = np.float32,
                      std: float = 0.02) -> list[Block]:
        """Random weights of the real shapes: matrices and biases ~ N(0, std²), norm gains ~ 1 + N(0, 0.1²).

        Parameters
        ----------
        spec : ModelSpec
            Architecture.
        rng : numpy.random.Generator
            Source of randomness.
        dtype : numpy dtype
            Storage type.
        std : float
            Standard deviation of matrices and biases (0.02 is GPT-2's and BERT's initialiser range).

        Returns
        -------
        list of Block
        """
        d, q, f = spec.d_model, spec.q_dim, spec.ffn_dim

        def normal(*shape: int, scale: float = std) -> np.ndarray:
            return (scale * rng.standard_normal(shape, dtype=np.float32)).astype(dtype, copy=False)

        return [Block(w_qkv=normal(d, 3 * q), b_qkv=normal(3 * q), w_o=normal(q, d), b_o=normal(d),
                      ln1_g=1.0 + normal(d, scale=0.1), ln1_b=normal(d, scale=0.1),
                      w_up=normal(d, f), b_up=normal(f), w_down=normal(f, d), b_down=normal(d),
                      ln2_g=1.0 + normal(d, scale=0.1), ln2_b=normal(d, scale=0.1))
                for _ in range(spec.layers)]

    def to_arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        """All weights as ``{f"{prefix}layer{i}.{field}": array}`` (plus ``final_g``/``final_b``), for npz files."""
        out = {f"{prefix}layer{i}.{name}": getattr(b, name) for i, b in enumerate(self.blocks) for name in BLOCK_FIELDS}
        if self.final_norm is not None:
            out[f"{prefix}final_g"], out[f"{prefix}final_b"] = self.final_norm
        return out

    @classmethod
    def from_arrays(cls, spec: ModelSpec | str, arrays: Mapping[str, np.ndarray], prefix: str = "",
                    **kwargs: object) -> NumpyTransformer:
        """Inverse of :meth:`to_arrays`.

        Raises
        ------
        ValueError
            If an array is missing (naming its key) or has the wrong shape.
        """
        spec = get_preset(spec) if isinstance(spec, str) else spec

        def get(key: str) -> np.ndarray:
            if prefix + key not in arrays:
                raise ValueError(f"arrays lacks key {prefix + key!r}")
            return np.asarray(arrays[prefix + key])

        blocks = [Block(**{name: get(f"layer{i}.{name}") for name in BLOCK_FIELDS}) for i in range(spec.layers)]
        final = (get("final_g"), get("final_b")) if spec.final_norm else None
        return cls(spec, blocks, final, **kwargs)

    def random_input(self, seq_len: int, seed: int = 1) -> np.ndarray:
        """Random hidden states ~ N(0, 1), shape ``(seq_len, d_model)``, in the model's dtype."""
        _check_len("seq_len", seq_len)
        rng = np.random.default_rng(seed)
        return rng.standard_normal((seq_len, self.spec.d_model), dtype=np.float32).astype(self.dtype, copy=False)

    # ------------------------------------------------------------------ forward

    def _input(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.spec.d_model or x.shape[0] < 1:
            raise ValueError(f"x must have shape (seq_len >= 1, d_model={self.spec.d_model}), got {x.shape}")
        return np.ascontiguousarray(x, dtype=self.dtype)

    def _attention(self, blk: Block, x: np.ndarray, causal: bool) -> np.ndarray:
        """Multi-head self-attention over all of ``x`` ``(l, d)``, output projection included."""
        s = self.spec
        length, h, dh = x.shape[0], s.heads, s.head_dim
        qkv = x @ blk.w_qkv + blk.b_qkv  # (l, 3q)
        qkv = qkv.reshape(length, 3, h, dh).transpose(1, 2, 0, 3)  # (3, h, l, dh)
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = (q * self.scale) @ k.transpose(0, 2, 1)  # (h, l, l)
        if causal:
            scores[:, ~np.tri(length, dtype=bool)] = -np.inf
        ctx = _softmax_inplace(scores) @ v  # (h, l, dh)
        return ctx.transpose(1, 0, 2).reshape(length, s.q_dim) @ blk.w_o + blk.b_o

    def _ffn(self, blk: Block, x: np.ndarray) -> np.ndarray:
        return self.activation(x @ blk.w_up + blk.b_up) @ blk.w_down + blk.b_down

    def _finish(self, x: np.ndarray) -> np.ndarray:
        if self.final_norm is None:
            return x
        return layer_norm(x, *self.final_norm, self.eps)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """All tokens at once: the encoder (bidirectional, post-LN) or the decoder (causal, pre-LN).

        Parameters
        ----------
        x : numpy.ndarray, shape (l, d_model)
            Input hidden states.

        Returns
        -------
        numpy.ndarray, shape (l, d_model)
            Output hidden states (after the final norm for GPT-2).

        Raises
        ------
        ValueError
            If ``x`` has the wrong shape.
        """
        x = self._input(x)
        for blk in self.blocks:
            if self.spec.causal:
                x = x + self._attention(blk, layer_norm(x, blk.ln1_g, blk.ln1_b, self.eps), causal=True)
                x = x + self._ffn(blk, layer_norm(x, blk.ln2_g, blk.ln2_b, self.eps))
            else:
                x = layer_norm(x + self._attention(blk, x, causal=False), blk.ln1_g, blk.ln1_b, self.eps)
                x = layer_norm(x + self._ffn(blk, x), blk.ln2_g, blk.ln2_b, self.eps)
        return self._finish(x)

    def encode(self, x: np.ndarray) -> np.ndarray:
        """:meth:`forward` of an encoder (BERT).

        Raises
        ------
        ValueError
            If the model is a decoder, or ``x`` has the wrong shape.
        """
        if self.spec.causal:
            raise ValueError(f"encode needs an encoder spec; {self.spec.name!r} is causal (use generate)")
        return self.forward(x)

    def new_cache(self, max_len: int) -> KVCache:
        """An empty :class:`KVCache` for up to ``max_len`` tokens. [tokens]"""
        _check_len("max_len", max_len)
        s = self.spec
        return KVCache(s.layers, s.heads, s.head_dim, max_len, self.dtype)

    def step(self, x_t: np.ndarray, cache: KVCache) -> np.ndarray:
        """One decoding step: the next token attends to the cache and itself; its K/V are appended.

        Parameters
        ----------
        x_t : numpy.ndarray, shape (d_model,)
            Hidden state of the new token.
        cache : KVCache
            Keys and values of the earlier tokens; updated in place.

        Returns
        -------
        numpy.ndarray, shape (d_model,)
            Output hidden state of the new token.

        Raises
        ------
        ValueError
            If the model is not causal, ``x_t`` has the wrong shape or the cache is full.
        """
        if not self.spec.causal:
            raise ValueError(f"step needs a causal (decoder) spec; {self.spec.name!r} is an encoder")
        if cache.length >= cache.capacity:
            raise ValueError(f"cache is full (capacity {cache.capacity} tokens)")
        s = self.spec
        h, dh, pos = s.heads, s.head_dim, cache.length
        x = self._input(np.reshape(x_t, (1, -1)))[0]
        for i, blk in enumerate(self.blocks):
            qkv = layer_norm(x, blk.ln1_g, blk.ln1_b, self.eps) @ blk.w_qkv + blk.b_qkv  # (3q,)
            qkv = qkv.reshape(3, h, dh)
            cache.k[i, :, pos] = qkv[1]
            cache.v[i, :, pos] = qkv[2]
            keys, values = cache.k[i, :, : pos + 1], cache.v[i, :, : pos + 1]  # (h, pos+1, dh)
            scores = keys @ (qkv[0] * self.scale)[:, :, None]  # (h, pos+1, 1)
            probs = _softmax_inplace(scores[:, :, 0])  # (h, pos+1)
            ctx = (probs[:, None, :] @ values).reshape(s.q_dim)  # (q,)
            x = x + (ctx @ blk.w_o + blk.b_o)
            x = x + self._ffn(blk, layer_norm(x, blk.ln2_g, blk.ln2_b, self.eps))
        cache.length = pos + 1
        return self._finish(x)

    def generate(self, x: np.ndarray, cache: KVCache | None = None) -> np.ndarray:
        """Feed ``x`` token by token through :meth:`step` (autoregressive decoding with a KV cache).

        Without an LM head the next input is not sampled from the output; the given hidden states are
        used instead, which leaves the work of each step unchanged.

        Parameters
        ----------
        x : numpy.ndarray, shape (l, d_model)
            Hidden states of the tokens, in order.
        cache : KVCache, optional
            Cache to continue from (e.g. after a prompt); default a new one sized for ``x``.

        Returns
        -------
        numpy.ndarray, shape (l, d_model)
            Output hidden state of every step; equals ``forward(x)`` for a fresh cache.

        Raises
        ------
        ValueError
            As :meth:`step`.
        """
        x = self._input(x)
        cache = cache if cache is not None else self.new_cache(x.shape[0])
        return np.stack([self.step(row, cache) for row in x])


# ------------------------------------------------------------------------------------------- timing


def _check_len(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


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
        from memwall.datasets import load_survey_case_study

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
        Machine for the roofline prediction (e.g. :meth:`memwall.measure.MachineReport.ceilings`);
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
        The survey table (default :func:`memwall.datasets.load_survey_case_study`).
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
        (:func:`memwall.roofline.predict_time`).

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
        kw = dict(weight_bytes=bytes_per_element, act_bytes=bytes_per_element, kv_bytes=bytes_per_element)
        out["predicted_encoder_s"] = np.atleast_1d(predict_time(enc.spec, "encode", lens, ceilings, **kw))
        out["predicted_decoder_s"] = np.atleast_1d(predict_time(dec.spec, "generate", lens, ceilings, **kw))
        out["predicted_ratio"] = out["predicted_decoder_s"] / out["predicted_encoder_s"]
    return out
