"""GPT-2's token-level language model on top of the numpy block stack: embeddings, LM head, greedy generation.

:class:`~memwall.wall.numpy_transformer.model.NumpyTransformer` inherits these methods (for a
decoder): :meth:`~NumpyTransformer.embed` (``wte[ids] + wpe[pos]``, Radford et al. 2019),
:meth:`~NumpyTransformer.logits` (the final LayerNorm and the LM head tied to ``wte``, as Hugging
Face's ``GPT2LMHeadModel``), :meth:`~NumpyTransformer.forward_ids` (the whole model over a
sequence, no cache), :meth:`~NumpyTransformer.decode_step_ids` (one generation step with the KV
cache) and :meth:`~NumpyTransformer.generate_greedy` (prefill, then feed back each step's argmax;
Kim et al., arXiv 2302.14017, §2.2.2). The block maths they run is
:meth:`NumpyTransformer.run_blocks`, in :mod:`memwall.wall.numpy_transformer.model`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from memwall.wall.numpy_transformer.layers import KVCache, _check_len

if TYPE_CHECKING:
    from memwall.specs.model_spec import ModelSpec

__all__: list[str] = []


class _TokenLanguageModel:
    """Token ids in, logits out: the GPT-2 methods of :class:`NumpyTransformer` (a mixin).

    Relies on the attributes and block methods :class:`NumpyTransformer` defines.
    """

    spec: ModelSpec
    dtype: np.dtype
    wte: np.ndarray | None
    wpe: np.ndarray | None

    if TYPE_CHECKING:
        def _need_decoder(self, what: str) -> None: ...
        def _finish(self, x: np.ndarray) -> np.ndarray: ...
        def run_blocks(self, x: np.ndarray, cache: KVCache | None = None) -> np.ndarray: ...
        def new_cache(self, max_len: int) -> KVCache: ...

    def embed(self, ids: np.ndarray, start: int = 0) -> np.ndarray:
        """GPT-2's input embedding: ``wte[ids] + wpe[start … start + l - 1]`` (Radford et al. 2019).

        Parameters
        ----------
        ids : numpy.ndarray of int, shape (l,)
            Token ids, each in ``0 … vocab_size - 1``. [tokens]
        start : int
            Position of the first token (``cache.length`` when continuing a cached sequence). [tokens]

        Returns
        -------
        numpy.ndarray, shape (l, d_model)
            Input hidden states of the first block, in the model's dtype.

        Raises
        ------
        ValueError
            If the model is an encoder, ``ids`` is not a non-empty 1-D integer array of ids in the
            vocabulary, or the positions reach past ``max_positions``.
        """
        self._need_decoder("embed")
        assert self.wte is not None and self.wpe is not None
        ids = np.asarray(ids)
        if ids.ndim != 1 or ids.shape[0] < 1 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"ids must be a 1-D integer array of >= 1 token ids, got shape {ids.shape}, "
                             f"dtype {ids.dtype}")
        vocab = self.spec.vocab_size
        if ids.min() < 0 or ids.max() >= vocab:
            bad = ids[(ids < 0) | (ids >= vocab)][0]
            raise ValueError(f"ids must lie in 0 … vocab_size - 1 = {vocab - 1}, got {int(bad)}")
        if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or start < 0:
            raise ValueError(f"start must be a non-negative integer, got {start!r}")
        start = int(start)
        end = start + ids.shape[0]
        if end > self.spec.max_positions:
            raise ValueError(f"positions start={start} … {end - 1} reach past max_positions="
                             f"{self.spec.max_positions} (the learned position embedding)")
        return self.wte[ids] + self.wpe[start:end]

    def logits(self, h: np.ndarray) -> np.ndarray:
        """The final LayerNorm and the tied LM head: ``LN_f(h) · wteᵀ`` (HF ``GPT2LMHeadModel``).

        Parameters
        ----------
        h : numpy.ndarray, shape (l, d_model)
            Output of the last block, before the final norm (:meth:`run_blocks`, not :meth:`forward`).

        Returns
        -------
        numpy.ndarray, shape (l, vocab_size)
            Unnormalised next-token scores (no bias; softmax gives the probabilities). [logits]

        Raises
        ------
        ValueError
            If the model is an encoder or ``h`` has the wrong shape.
        """
        self._need_decoder("logits")
        assert self.wte is not None
        h = np.asarray(h)
        if h.dtype.kind != "f":
            raise ValueError(f"h must hold floating-point hidden states, got dtype {h.dtype}")
        if h.ndim != 2 or h.shape[1] != self.spec.d_model or h.shape[0] < 1:
            raise ValueError(f"h must have shape (l >= 1, d_model={self.spec.d_model}), got {h.shape}")
        return self._finish(np.asarray(h, dtype=self.dtype)) @ self.wte.T

    def forward_ids(self, ids: np.ndarray) -> np.ndarray:
        """The whole language model over a sequence at once (no cache): ``logits(run_blocks(embed(ids)))``.

        Parameters
        ----------
        ids : numpy.ndarray of int, shape (l,)
            Token ids from position 0. [tokens]

        Returns
        -------
        numpy.ndarray, shape (l, vocab_size)
            Logits of every position (row ``t`` scores the token after ``ids[t]``), as HF
            ``GPT2LMHeadModel(input_ids).logits[0]``.

        Raises
        ------
        ValueError
            As :meth:`embed`.
        """
        return self.logits(self.run_blocks(self.embed(ids)))

    def decode_step_ids(self, token_id: int, cache: KVCache) -> np.ndarray:
        """One generation step: embed ``token_id`` at position ``cache.length``, run the blocks, score.

        Parameters
        ----------
        token_id : int
            The token just chosen, in ``0 … vocab_size - 1``. [token id]
        cache : KVCache
            Keys and values of the earlier tokens (``cache.length`` of them, also the new token's
            position); the new token's are appended. [tokens]

        Returns
        -------
        numpy.ndarray, shape (vocab_size,)
            Logits of the token that follows. [logits]

        Raises
        ------
        ValueError
            If the model is an encoder, ``token_id`` is not an id of the vocabulary, the position
            reaches past ``max_positions`` or the cache is full.
        """
        self._need_decoder("decode_step_ids")
        if isinstance(token_id, bool) or not isinstance(token_id, (int, np.integer)):
            raise ValueError(f"token_id must be an integer token id, got {token_id!r}")
        return self.logits(self.run_blocks(self.embed(np.array([token_id]), start=cache.length), cache))[0]

    def generate_greedy(self, prompt_ids: np.ndarray, new_tokens: int) -> tuple[np.ndarray, np.ndarray]:
        """Greedy generation with a KV cache: prefill the prompt, then feed back each step's argmax.

        The prompt (it may be a single token, e.g. a BOS id) runs through the blocks in one pass
        that fills the cache; the logits of its last position give the first new token. Each
        further token is the argmax of the logits of the step before, fed through
        :meth:`decode_step_ids`: ``1`` prefill and ``new_tokens - 1`` decode steps, as Hugging Face's
        ``generate(do_sample=False, max_new_tokens=new_tokens)`` (the last token is chosen, not
        fed back). Ties in the argmax go to the lower id (``numpy.argmax``, as ``torch.argmax``).

        Parameters
        ----------
        prompt_ids : numpy.ndarray of int, shape (p,)
            Prompt token ids, ``p >= 1``. [tokens]
        new_tokens : int
            Tokens to generate, ``>= 1``; ``p + new_tokens`` must not exceed ``max_positions``. [tokens]

        Returns
        -------
        ids : numpy.ndarray of int64, shape (new_tokens,)
            The generated tokens. [token ids]
        logits : numpy.ndarray, shape (new_tokens, vocab_size)
            Row ``i``: the logits ``ids[i]`` was the argmax of. [logits]

        Raises
        ------
        ValueError
            If the model is an encoder, ``prompt_ids`` is not valid for :meth:`embed`, ``new_tokens``
            is not a positive integer, or prompt and new tokens do not fit in ``max_positions``.
        """
        self._need_decoder("generate_greedy")
        n = _check_len("new_tokens", new_tokens)
        prompt_ids = np.asarray(prompt_ids)
        p = prompt_ids.shape[0] if prompt_ids.ndim == 1 else 0
        if prompt_ids.ndim == 1 and p + n > self.spec.max_positions:
            raise ValueError(f"prompt_ids ({p} tokens) + new_tokens ({n}) = {p + n} exceed "
                             f"max_positions={self.spec.max_positions}")
        cache = self.new_cache(max(p, 1) + n - 1)  # every token but the last generated one is fed
        out_ids = np.empty(n, dtype=np.int64)
        out_logits = np.empty((n, self.spec.vocab_size), dtype=self.dtype)
        h = self.run_blocks(self.embed(prompt_ids), cache)
        out_logits[0] = self.logits(h[-1:])[0]
        out_ids[0] = np.argmax(out_logits[0])
        for i in range(1, n):
            out_logits[i] = self.decode_step_ids(int(out_ids[i - 1]), cache)
            out_ids[i] = np.argmax(out_logits[i])
        return out_ids, out_logits
