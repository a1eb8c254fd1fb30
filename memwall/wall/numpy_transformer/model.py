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

Weights are random (seeded) with the real shapes of a :class:`~memwall.specs.ModelSpec`; token
embeddings, position embeddings and the LM head are left out, as in :mod:`memwall.cost`: the model
maps input hidden states ``(l, d)`` to output hidden states ``(l, d)``. The layouts follow the
Hugging Face ``BertModel``/``GPT2Model`` maths; ``tools/transformer_reference.py`` checks that the
outputs agree with those classes given the same weights.

The timing helpers measure what the survey the paper re-uses measured on a CPU (Kim et al.,
arXiv 2302.14017, §2.2.2, Fig. 9): BERT-Base encoding ``l`` tokens against GPT-2 (124M) generating
``l`` tokens, batch 1, here in float32.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from memwall.specs.model_spec import ModelSpec
from memwall.specs.presets import get_preset
from memwall.wall.numpy_transformer.layers import (
    BLOCK_FIELDS,
    Block,
    KVCache,
    _check_len,
    _softmax_inplace,
    gelu_erf,
    gelu_tanh,
    layer_norm,
)

__all__ = ["NumpyTransformer"]




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
