"""Layers of the numpy Transformer: GELU, layer norm, softmax, a block's weights and the KV cache."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import erf

__all__ = ["BLOCK_FIELDS", "Block", "KVCache", "gelu_erf", "gelu_tanh", "layer_norm"]



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
        Tokens cached, also the position of the next token fed (GPT-2's position embedding index).
        [tokens]
    """

    def __init__(self, layers: int, heads: int, head_dim: int, max_len: int, dtype: np.dtype | type = np.float32):
        self.k = np.empty((layers, heads, max_len, head_dim), dtype=dtype)
        self.v = np.empty_like(self.k)
        self.length = 0

    @property
    def capacity(self) -> int:
        """Tokens the cache can hold. [tokens]"""
        return self.k.shape[2]



# ------------------------------------------------------------------------------------------- timing


def _check_len(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
