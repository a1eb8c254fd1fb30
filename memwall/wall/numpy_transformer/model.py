"""A minimal numpy Transformer (BERT encoder, GPT-2 language model), to time encoding against generation.

Two block kinds, both multi-head attention plus a two-matrix GELU FFN with biases (Vaswani et al.
2017, arXiv 1706.03762):

* **Encoder (BERT)**, Devlin et al. 2019 (arXiv 1810.04805): post-LN, bidirectional attention,
  exact (erf) GELU, LayerNorm ε = 1e-12::

      x = LN(x + Attn(x));  x = LN(x + W2·GELU(W1·x + b1) + b2)

  The encoder maps input hidden states ``(l, d)`` to output hidden states ``(l, d)``; BERT's
  embeddings (token, position, segment, their LayerNorm) and pooler are left out.

* **Decoder (GPT-2)**, Radford et al. 2019 ("Language Models are Unsupervised Multitask
  Learners"): token embedding ``wte (vocab, d)`` plus learned position embedding
  ``wpe (max_positions, d)``, pre-LN blocks with causal attention and the tanh-approximated GELU,
  LayerNorm ε = 1e-5, a final LayerNorm, and the LM head **tied** to the token embedding, as Hugging
  Face's ``GPT2LMHeadModel`` (``lm_head.weight is transformer.wte.weight``, no bias)::

      x = wte[ids] + wpe[pos];  x = x + Attn(LN(x));  x = x + FFN(LN(x));  logits = LN_f(x)·wteᵀ

  :meth:`NumpyTransformer.generate_greedy` is the generation loop the survey timed (Kim et al.,
  arXiv 2302.14017, §2.2.2): prefill the prompt in one pass that fills the key/value cache, then
  feed back the argmax of each step's logits as the next token, one token per step
  (:meth:`~NumpyTransformer.decode_step_ids`). Greedy decoding only: no sampling, temperature,
  top-k/top-p, repetition penalty or stop token; batch 1; float32 by default. The hidden-state
  methods stay for timing the blocks alone: :meth:`~NumpyTransformer.forward` runs all tokens at
  once with the causal mask, :meth:`~NumpyTransformer.generate` feeds given hidden states one at a
  time through :meth:`~NumpyTransformer.step`. All of them run the same block code
  (:meth:`~NumpyTransformer.run_blocks`), with or without the cache; cached and uncached outputs
  agree (``tests/test_numpy_transformer.py``).

Weights are random (seeded) with the real shapes of a :class:`~memwall.specs.ModelSpec` (GPT-2's
``wte`` is 50257 × 768 float32, 154 MB). The layouts follow the Hugging Face ``BertModel`` /
``GPT2LMHeadModel`` maths; ``tools/transformer_reference.py`` checks that hidden states, logits and
greedily generated tokens agree with those classes given the same weights.

The timing helpers measure what the survey the paper re-uses measured on a CPU (Kim et al.,
arXiv 2302.14017, §2.2.2, Fig. 9): BERT-Base encoding ``l`` tokens against GPT-2 (124M) generating
``l`` tokens, batch 1, here in float32.

This module holds the weights and the block stack (hidden states in and out); the token-level
methods (embedding, LM head, greedy generation) come from
:mod:`memwall.wall.numpy_transformer.language_model`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from memwall.specs.model_spec import ModelSpec
from memwall.specs.presets import get_preset
from memwall.wall.numpy_transformer.language_model import _TokenLanguageModel
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

__all__ = ["EMBEDDING_FIELDS", "NumpyTransformer"]

EMBEDDING_FIELDS = ("wte", "wpe")
"""A decoder's embedding arrays: token embedding ``wte (vocab_size, d_model)`` (also the tied LM
head) and learned position embedding ``wpe (max_positions, d_model)``, as GPT-2's."""


class NumpyTransformer(_TokenLanguageModel):
    """A stack of BERT-style (``spec.causal`` False) or GPT-2-style (True) blocks in numpy.

    A decoder is a whole GPT-2 language model (embeddings, blocks, final norm, tied LM head); an
    encoder is BERT's block stack alone (hidden states in, hidden states out).

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
    wte : numpy.ndarray, shape (vocab_size, d_model), optional
        Decoder only: token embedding, also the tied LM head; default random ~ N(0, 0.02²) (GPT-2's
        initialiser range) from ``seed``.
    wpe : numpy.ndarray, shape (max_positions, d_model), optional
        Decoder only: learned position embedding; default random ~ N(0, 0.02²) from ``seed``.

    Attributes
    ----------
    wte, wpe : numpy.ndarray or None
        The decoder's embeddings (None for an encoder).

    Raises
    ------
    ValueError
        If the architecture is not supported, a weight has the wrong shape (naming the field), or
        embeddings are given to an encoder.
    """

    def __init__(self, spec: ModelSpec | str, blocks: Sequence[Block] | None = None,
                 final_norm: tuple[np.ndarray, np.ndarray] | None = None, *, seed: int = 0,
                 dtype: np.dtype | type = np.float32, eps: float | None = None,
                 wte: np.ndarray | None = None, wpe: np.ndarray | None = None):
        spec = get_preset(spec) if isinstance(spec, str) else spec
        for name, ok in (("kv_heads", spec.kv_heads == spec.heads), ("ffn_kind", spec.ffn_kind == "gelu"),
                         ("norm", spec.norm == "layernorm"), ("bias", spec.bias), ("experts", spec.experts == 1)):
            if not ok:
                raise ValueError(f"NumpyTransformer supports BERT/GPT-2-style blocks only; "
                                 f"{name}={getattr(spec, name)!r} is not supported")
        self.spec = spec
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"dtype must be a floating-point type (float32, float64), got {self.dtype}")
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
        # Drawn after the blocks and the final norm, so a seed gives the same block weights as before
        # the embeddings existed.
        self.wte: np.ndarray | None = None
        self.wpe: np.ndarray | None = None
        if spec.causal:
            self.wte = self._embedding("wte", wte, (spec.vocab_size, spec.d_model), rng)
            self.wpe = self._embedding("wpe", wpe, (spec.max_positions, spec.d_model), rng)
        elif wte is not None or wpe is not None:
            raise ValueError(f"wte/wpe are a decoder's (GPT-2) embeddings; {spec.name!r} is an encoder")
        self.scale = np.asarray(1.0 / np.sqrt(spec.head_dim), dtype=self.dtype)

    # ------------------------------------------------------------------ weights

    def _shapes(self) -> dict[str, tuple[int, ...]]:
        s = self.spec
        d, q, f = s.d_model, s.q_dim, s.ffn_dim
        return {"w_qkv": (d, 3 * q), "b_qkv": (3 * q,), "w_o": (q, d), "b_o": (d,), "ln1_g": (d,), "ln1_b": (d,),
                "w_up": (d, f), "b_up": (f,), "w_down": (f, d), "b_down": (d,), "ln2_g": (d,), "ln2_b": (d,)}

    def _embedding(self, name: str, given: np.ndarray | None, shape: tuple[int, int],
                   rng: np.random.Generator, std: float = 0.02) -> np.ndarray:
        if given is None:
            return (std * rng.standard_normal(shape, dtype=np.float32)).astype(self.dtype, copy=False)
        arr = np.asarray(given)
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
        return np.ascontiguousarray(arr, dtype=self.dtype)

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
        """All weights as ``{f"{prefix}layer{i}.{field}": array}``, for npz files.

        Plus ``final_g``/``final_b`` (the final norm) when the spec has one, and ``wte``/``wpe``
        (:data:`EMBEDDING_FIELDS`) for a decoder; the tied LM head is ``wte`` and is not stored twice.
        """
        out = {f"{prefix}layer{i}.{name}": getattr(b, name) for i, b in enumerate(self.blocks) for name in BLOCK_FIELDS}
        if self.final_norm is not None:
            out[f"{prefix}final_g"], out[f"{prefix}final_b"] = self.final_norm
        if self.wte is not None and self.wpe is not None:
            out[f"{prefix}wte"], out[f"{prefix}wpe"] = self.wte, self.wpe
        return out

    @classmethod
    def from_arrays(cls, spec: ModelSpec | str, arrays: Mapping[str, np.ndarray], prefix: str = "",
                    **kwargs: object) -> NumpyTransformer:
        """Inverse of :meth:`to_arrays` (a decoder needs ``wte`` and ``wpe``).

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
        if spec.causal:
            kwargs = {**kwargs, "wte": get("wte"), "wpe": get("wpe")}
        return cls(spec, blocks, final, **kwargs)

    def random_input(self, seq_len: int, seed: int = 1) -> np.ndarray:
        """Random hidden states ~ N(0, 1), shape ``(seq_len, d_model)``, in the model's dtype."""
        _check_len("seq_len", seq_len)
        rng = np.random.default_rng(seed)
        return rng.standard_normal((seq_len, self.spec.d_model), dtype=np.float32).astype(self.dtype, copy=False)

    # ------------------------------------------------------------------ blocks

    def _input(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.spec.d_model or x.shape[0] < 1:
            raise ValueError(f"x must have shape (seq_len >= 1, d_model={self.spec.d_model}), got {x.shape}")
        return np.ascontiguousarray(x, dtype=self.dtype)

    def _attention(self, i: int, blk: Block, x: np.ndarray, cache: KVCache | None) -> np.ndarray:
        """Multi-head self-attention of ``x`` ``(l, d)`` (block ``i``), output projection included.

        Without a cache the tokens attend to each other (causally for a decoder). With one, ``x`` are
        the tokens at positions ``cache.length … cache.length + l - 1``: their keys and values are
        written into the cache, and each attends causally to the cached tokens and to itself and the
        earlier ones of ``x``. ``cache.length`` is not advanced here (see :meth:`run_blocks`).
        """
        s = self.spec
        length, h, dh = x.shape[0], s.heads, s.head_dim
        qkv = x @ blk.w_qkv + blk.b_qkv  # (l, 3q)
        qkv = qkv.reshape(length, 3, h, dh).transpose(1, 2, 0, 3)  # (3, h, l, dh)
        q, k, v = qkv[0], qkv[1], qkv[2]
        start = 0
        if cache is not None:
            start = cache.length
            cache.k[i, :, start:start + length] = k
            cache.v[i, :, start:start + length] = v
            k, v = cache.k[i, :, :start + length], cache.v[i, :, :start + length]  # (h, start+l, dh)
        scores = (q * self.scale) @ k.transpose(0, 2, 1)  # (h, l, start+l)
        if s.causal and length > 1:  # query j (position start+j) sees keys 0 … start+j
            scores[:, ~np.tri(length, start + length, k=start, dtype=bool)] = -np.inf
        ctx = _softmax_inplace(scores) @ v  # (h, l, dh)
        return ctx.transpose(1, 0, 2).reshape(length, s.q_dim) @ blk.w_o + blk.b_o

    def _ffn(self, blk: Block, x: np.ndarray) -> np.ndarray:
        return self.activation(x @ blk.w_up + blk.b_up) @ blk.w_down + blk.b_down

    def _finish(self, x: np.ndarray) -> np.ndarray:
        if self.final_norm is None:
            return x
        return layer_norm(x, *self.final_norm, self.eps)

    def run_blocks(self, x: np.ndarray, cache: KVCache | None = None) -> np.ndarray:
        """The block stack alone: hidden states after the last block, **before** the final norm.

        This is the one implementation of the block maths; :meth:`forward`, :meth:`step`,
        :meth:`decode_step_ids` and :meth:`generate_greedy` call it.

        Parameters
        ----------
        x : numpy.ndarray, shape (l, d_model)
            Input hidden states (for a decoder, e.g. :meth:`embed`).
        cache : KVCache, optional
            Decoder only. Keys and values of the ``cache.length`` earlier tokens: ``x`` are the
            tokens that follow (a prefill for ``l > 1``, a decode step for ``l = 1``); their keys and
            values are appended and ``cache.length`` grows by ``l``. [tokens]

        Returns
        -------
        numpy.ndarray, shape (l, d_model)
            Output of the last block.

        Raises
        ------
        ValueError
            If ``x`` has the wrong shape, a cache is given to an encoder, or ``x`` does not fit in the
            cache.
        """
        x = self._input(x)
        if cache is not None:
            if not self.spec.causal:
                raise ValueError(f"a KV cache needs a causal (decoder) spec; {self.spec.name!r} is an encoder")
            want = (self.spec.layers, self.spec.heads, cache.capacity, self.spec.head_dim)
            if cache.k.shape != want:
                raise ValueError(f"cache has shape {cache.k.shape} (layers, heads, capacity, head_dim) but this model "
                                 f"needs {want}: make it with this model's new_cache()")
            if cache.length + x.shape[0] > cache.capacity:
                raise ValueError(f"cache is full: {cache.length} cached + {x.shape[0]} new tokens exceed its "
                                 f"capacity {cache.capacity}")
        for i, blk in enumerate(self.blocks):
            if self.spec.causal:
                x = x + self._attention(i, blk, layer_norm(x, blk.ln1_g, blk.ln1_b, self.eps), cache)
                x = x + self._ffn(blk, layer_norm(x, blk.ln2_g, blk.ln2_b, self.eps))
            else:
                x = layer_norm(x + self._attention(i, blk, x, None), blk.ln1_g, blk.ln1_b, self.eps)
                x = layer_norm(x + self._ffn(blk, x), blk.ln2_g, blk.ln2_b, self.eps)
        if cache is not None:
            cache.length += x.shape[0]
        return x

    # ------------------------------------------------------------------ hidden states in, hidden states out

    def forward(self, x: np.ndarray) -> np.ndarray:
        """All tokens at once: the encoder (bidirectional, post-LN) or the decoder (causal, pre-LN).

        Parameters
        ----------
        x : numpy.ndarray, shape (l, d_model)
            Input hidden states.

        Returns
        -------
        numpy.ndarray, shape (l, d_model)
            Output hidden states, after the final norm for GPT-2 (Hugging Face ``GPT2Model``'s
            ``last_hidden_state``); not an input of :meth:`logits`, which applies the final norm itself.

        Raises
        ------
        ValueError
            If ``x`` has the wrong shape.
        """
        return self._finish(self.run_blocks(x))

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

    def _need_decoder(self, what: str) -> None:
        if not self.spec.causal:
            raise ValueError(f"{what} needs a causal (decoder) spec; {self.spec.name!r} is an encoder")

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
            Output hidden state of the new token (after the final norm for GPT-2).

        Raises
        ------
        ValueError
            If the model is not causal, ``x_t`` has the wrong shape or the cache is full.
        """
        self._need_decoder("step")
        return self._finish(self.run_blocks(np.reshape(x_t, (1, -1)), cache))[0]

    def generate(self, x: np.ndarray, cache: KVCache | None = None) -> np.ndarray:
        """Feed hidden states ``x`` token by token through :meth:`step` (decoding with a KV cache).

        The next input is the given hidden state, not the embedding of a chosen token (that loop is
        :meth:`generate_greedy`); embeddings and the LM head are left out, the block work of each
        step is the same.

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
        self._need_decoder("generate")
        x = self._input(x)
        cache = cache if cache is not None else self.new_cache(x.shape[0])
        return np.stack([self.step(row, cache) for row in x])
