r"""Per-GPU memory for training a Transformer: weights, gradients, optimizer states and activations.

Model states (Rajbhandari et al., *ZeRO: Memory Optimizations Toward Training Trillion Parameter Models*,
SC 2020, arXiv 1910.02054, §3.1): with :math:`\Psi` parameters, mixed-precision Adam keeps fp16 weights
(:math:`2\Psi` B) and gradients (:math:`2\Psi`) plus an fp32 master copy, momentum and variance
(:math:`K\Psi`, :math:`K = 12`): 16 B/param. ZeRO partitions these over :math:`N_d` data-parallel GPUs:
stage 1 the optimizer states, stage 2 also the gradients, stage 3 also the weights (their Fig. 1).

Activations (Korthikanti et al., *Reducing Activation Recomputation in Large Transformer Models*,
MLSys 2023, arXiv 2205.05198, §4, Eq. 1 and Table 2), per Transformer layer, with 16-bit activations and
1-byte dropout masks, where :math:`s` is the sequence length, :math:`b` the micro-batch size, :math:`h` the
hidden size, :math:`a` the attention heads and :math:`t` the tensor-parallel size:

.. math::

    \text{none, no parallelism:}\ sbh\,(34 + 5as/h) \qquad
    \text{tensor parallel:}\ sbh\,(10 + 24/t + 5as/(ht)) \qquad
    \text{tensor + sequence parallel:}\ \tfrac{sbh}{t}(34 + 5as/h)

    \text{selective recomputation:}\ sbh\,(10 + 24/t)\ \text{or}\ 34\,sbh/t\ \text{(with SP)} \qquad
    \text{full recomputation:}\ 2\,sbh

The derivation assumes multi-head attention with :math:`a \cdot d_\text{head} = h` and a :math:`4h` GELU
FFN; for grouped-query or gated-FFN models it is an approximation. Embeddings, the output layer and the
loss are not counted (the paper's Eq. 3 adds them for the first pipeline stage); pipeline parallelism is
not modelled.

Units: bytes [B] everywhere; conversion to GB happens in the chapters (:func:`memwall.book.in_unit`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from memwall._checks import ArgumentTypeError, choice, count, finite_result, flag, number
from memwall.specs.model_spec import ModelSpec, parameter_count
from memwall.specs.presets import get_preset

__all__ = ["OPTIMIZERS", "RECOMPUTE", "ZERO_STAGES", "BytesPerParam", "activation_bytes_per_layer",
           "attention_score_share", "bytes_per_param", "logits_bytes", "model_state_bytes", "training_memory"]


@dataclass(frozen=True)
class BytesPerParam:
    """Bytes kept per parameter by one training recipe.

    Attributes
    ----------
    weights, gradients, optimizer_states : float
        Storage per parameter of each part. [B/param]
    description : str
        What is stored.
    """

    weights: float
    gradients: float
    optimizer_states: float
    description: str

    @property
    def total(self) -> float:
        """All model states. [B/param]"""
        return self.weights + self.gradients + self.optimizer_states


OPTIMIZERS: dict[str, BytesPerParam] = {
    "sgd": BytesPerParam(4, 4, 0, "fp32 weights and gradients, no state"),
    "sgd_momentum": BytesPerParam(4, 4, 4, "fp32 weights, gradients and momentum"),
    "adam": BytesPerParam(4, 4, 8, "fp32 weights, gradients, Adam m and v"),
    "mixed_adam": BytesPerParam(2, 2, 12, "fp16 weights and gradients; fp32 master weights, m and v "
                                          "(ZeRO, arXiv 1910.02054, §3.1: K = 12)"),
}
"""Training recipes by name -> bytes per parameter."""

RECOMPUTE = ("none", "selective", "full")
"""Activation recomputation: none, selective (attention core only), full (keep each layer's input)."""

ZERO_STAGES = (0, 1, 2, 3)
"""ZeRO-DP stages: 0 none, 1 optimizer states, 2 + gradients, 3 + weights partitioned."""


def _positive_int(name: str, value: object) -> int:
    """One whole number in ``[1, 2**53 - 1]`` (``2.0`` is 2; ``True`` and ``"2"`` are errors)."""
    return count(name, value, minimum=1, scalar=True)


def _n_params(value: object) -> float:
    arr = number("n_params", value, unit="params")
    if arr.ndim:
        raise ValueError(f"n_params must be a single number >= 0 [params], got {value!r:.80}")
    return float(arr)


def bytes_per_param(optimizer: str = "mixed_adam") -> BytesPerParam:
    """Bytes per parameter of a training recipe.

    Parameters
    ----------
    optimizer : {"sgd", "sgd_momentum", "adam", "mixed_adam"}
        Recipe name (see :data:`OPTIMIZERS`).

    Returns
    -------
    BytesPerParam

    Raises
    ------
    ValueError
        For an unknown name (or a non-string), listing the allowed ones.
    """
    return OPTIMIZERS[choice("optimizer", optimizer, list(OPTIMIZERS))]


def model_state_bytes(n_params: float, optimizer: str = "mixed_adam", *, zero_stage: int = 0, n_gpus: int = 1,
                      tensor_parallel: int = 1) -> dict[str, float]:
    """Per-GPU bytes of weights, gradients and optimizer states.

    Parameters
    ----------
    n_params : float
        Parameters of the whole model. [params]
    optimizer : {"sgd", "sgd_momentum", "adam", "mixed_adam"}
        Training recipe.
    zero_stage : {0, 1, 2, 3}
        ZeRO-DP stage: which states are partitioned over the ``n_gpus`` data-parallel ranks.
    n_gpus : int
        Data-parallel degree :math:`N_d` ZeRO partitions over. [GPUs]
    tensor_parallel : int
        Tensor-parallel degree :math:`t`; every state is split over it (all parameters treated as sharded).

    Returns
    -------
    dict of str to float
        ``weights``, ``gradients``, ``optimizer_states`` and ``total`` per GPU. [B]

    Raises
    ------
    ValueError
        If ``n_params`` is negative, not finite or not a number (a bool, a string), the optimizer or ZeRO stage
        is unknown (``zero_stage`` must be the int 0, 1, 2 or 3: ``True`` and ``1.0`` are errors), or ``n_gpus``
        / ``tensor_parallel`` is not an integer in ``[1, 2**53 - 1]``; a result that overflows a float.

    Examples
    --------
    ZeRO Fig. 1: 7.5B parameters, 64 GPUs, mixed-precision Adam: 120 GB without ZeRO, 31.4 GB at stage 1,
    16.6 GB at stage 2, 1.9 GB at stage 3.
    """
    psi = _n_params(n_params)
    per = bytes_per_param(optimizer)
    zero_stage = choice("zero_stage", zero_stage, ZERO_STAGES)
    n = _positive_int("n_gpus", n_gpus)
    t = _positive_int("tensor_parallel", tensor_parallel)
    psi /= t
    w = psi * per.weights / (n if zero_stage >= 3 else 1)
    g = psi * per.gradients / (n if zero_stage >= 2 else 1)
    o = psi * per.optimizer_states / (n if zero_stage >= 1 else 1)
    finite_result("model_state_bytes", w + g + o, {"n_params": n_params, "n_gpus": n, "tensor_parallel": t})
    return {"weights": w, "gradients": g, "optimizer_states": o, "total": w + g + o}


def activation_bytes_per_layer(seq_len: ArrayLike, micro_batch: ArrayLike, hidden: int, heads: int, *,
                               recompute: str = "none", tensor_parallel: int = 1,
                               sequence_parallel: bool = True) -> np.ndarray:
    r"""Activation memory one Transformer layer keeps for the backward pass (Korthikanti et al. 2022).

    Parameters
    ----------
    seq_len : int or array_like of int
        Sequence length :math:`s`. [tokens]
    micro_batch : int or array_like of int
        Micro-batch size :math:`b`, broadcast against ``seq_len``. [sequences]
    hidden : int
        Hidden size :math:`h`. [elements]
    heads : int
        Attention heads :math:`a`. [heads]
    recompute : {"none", "selective", "full"}
        Recomputation strategy (Korthikanti et al. §5).
    tensor_parallel : int
        Tensor-parallel size :math:`t`.
    sequence_parallel : bool
        Whether the LayerNorm/dropout regions are split over the :math:`t` ranks too (their §4.2.2).

    Returns
    -------
    numpy.ndarray
        Bytes per layer per GPU, shape of the broadcast inputs. [B]

    Raises
    ------
    ValueError
        If a size is not a whole number in ``[1, 2**53 - 1]`` (bools and strings are not numbers),
        ``recompute`` is unknown, ``sequence_parallel`` not a bool, or the bytes overflow a float.

    Notes
    -----
    Eq. (1) and Table 2 of arXiv 2205.05198 (see the module docstring). With 16-bit activations the
    :math:`34\,sbh` term is the linear-layer, norm and dropout storage and :math:`5as^2b` the attention
    scores, softmax output and dropout mask.
    """
    s = count("seq_len", seq_len)
    b = count("micro_batch", micro_batch)
    h = _positive_int("hidden", hidden)
    a = _positive_int("heads", heads)
    t = _positive_int("tensor_parallel", tensor_parallel)
    recompute = choice("recompute", recompute, RECOMPUTE)
    sequence_parallel = flag("sequence_parallel", sequence_parallel)
    s, b = np.broadcast_arrays(s, b)
    with np.errstate(over="ignore", invalid="ignore"):
        sbh = s * b * h
        if recompute == "full":
            out = 2.0 * sbh
        else:
            attention = 0.0 if recompute == "selective" else 5.0 * a * s / h
            out = sbh / t * (34.0 + attention) if sequence_parallel else sbh * (10.0 + 24.0 / t + attention / t)
    finite_result("activation_bytes_per_layer", out, {"seq_len": s, "micro_batch": b, "hidden": h, "heads": a})
    return out


def _out(arr: np.ndarray) -> float | np.ndarray:
    return float(arr) if arr.ndim == 0 else arr


def attention_score_share(seq_len: ArrayLike, hidden: int, heads: int) -> float | np.ndarray:
    r"""Share of a layer's activation memory taken by the attention scores, with no recomputation.

    In Korthikanti et al.'s per-layer count :math:`sbh\,(34 + 5as/h)` (arXiv 2205.05198, Eq. 1; no
    tensor parallelism) the :math:`5as/h` term is the attention scores, their softmax and its dropout
    mask: the part that selective recomputation and fused attention (FlashAttention) never store.

    Parameters
    ----------
    seq_len : int or array_like of int
        Sequence length :math:`s`. [tokens]
    hidden : int
        Hidden size :math:`h`. [elements]
    heads : int
        Attention heads :math:`a`. [heads]

    Returns
    -------
    float or numpy.ndarray
        :math:`(5as/h) / (34 + 5as/h)`, shape of ``seq_len``. [1]

    Raises
    ------
    ValueError
        If a size is not a whole number in ``[1, 2**53 - 1]`` (bools and strings are not numbers).

    Examples
    --------
    At :math:`s = 34h/(5a)` the score term equals the rest: half of the memory.

    >>> attention_score_share(34, 5, 1)
    0.5
    """
    s = count("seq_len", seq_len)
    h = _positive_int("hidden", hidden)
    a = _positive_int("heads", heads)
    scores = 5 * a * s / h  # finite: at most 5·2**53·2**53 < 1e34
    return _out(scores / (34 + scores))


def logits_bytes(seq_len: ArrayLike, vocab_size: int, micro_batch: ArrayLike = 1, *,
                 bytes_per_element: float = 4.0) -> float | np.ndarray:
    r"""Memory of the LM head's logits, kept for the cross-entropy loss: :math:`s\,b\,v` elements.

    Korthikanti et al. (arXiv 2205.05198, §4) count them at fp32, :math:`4sbv` bytes, and leave them out
    of the per-layer formula, as :func:`training_memory` does.

    Parameters
    ----------
    seq_len : int or array_like of int
        Sequence length :math:`s`. [tokens]
    vocab_size : int
        Vocabulary size :math:`v`. [tokens]
    micro_batch : int or array_like of int
        Micro-batch :math:`b`, broadcast against ``seq_len``. [sequences]
    bytes_per_element : float
        Width of one logit (4 for fp32). [B/element]

    Returns
    -------
    float or numpy.ndarray
        :math:`s\,b\,v \times` ``bytes_per_element``, shape of the broadcast inputs. [B]

    Raises
    ------
    ValueError
        If a size is not a whole number in ``[1, 2**53 - 1]`` or ``bytes_per_element`` is not a positive number
        (bools and strings are not numbers), or the bytes overflow a float.

    Examples
    --------
    GPT-2's 50257-token vocabulary over 1024 tokens: 1024 * 50257 * 4 B = 205.9 MB per sequence.

    >>> logits_bytes(1024, 50257)
    205852672.0
    """
    s = count("seq_len", seq_len)
    b = count("micro_batch", micro_batch)
    v = _positive_int("vocab_size", vocab_size)
    width = number("bytes_per_element", bytes_per_element, strict=True, unit="B/element")
    s, b = np.broadcast_arrays(s, b)
    with np.errstate(over="ignore"):
        out = s * b * v * width
    finite_result("logits_bytes", out, {"seq_len": s, "micro_batch": b, "vocab_size": v,
                                        "bytes_per_element": width})
    return _out(out)


def training_memory(model: ModelSpec | None = None, *, seq_len: ArrayLike, micro_batch: ArrayLike = 1,
                    n_params: float | None = None, layers: int | None = None, hidden: int | None = None,
                    heads: int | None = None, optimizer: str = "mixed_adam", zero_stage: int = 0,
                    n_gpus: int = 1, recompute: str = "none", tensor_parallel: int = 1,
                    sequence_parallel: bool = True, precision: str | None = None,
                    block_size: int | None = None) -> pd.DataFrame:
    """Per-GPU training memory of a Transformer, by part.

    Parameters
    ----------
    model : ModelSpec or str, optional
        Architecture or preset name; gives ``n_params`` (:func:`memwall.specs.parameter_count`), ``layers``,
        ``hidden`` (``d_model``) and ``heads`` unless they are passed explicitly.
    seq_len : int or array_like of int
        Sequence length. [tokens]
    micro_batch : int or array_like of int
        Micro-batch per GPU, broadcast against ``seq_len``. [sequences]
    n_params : float, optional
        Parameters. [params]
    layers, hidden, heads : int, optional
        Transformer layers [layers], hidden size [elements], attention heads [heads].
    optimizer : {"sgd", "sgd_momentum", "adam", "mixed_adam"}
        Training recipe (:data:`OPTIMIZERS`).
    zero_stage : {0, 1, 2, 3}
        ZeRO-DP stage.
    n_gpus : int
        Data-parallel degree for ZeRO. [GPUs]
    recompute : {"none", "selective", "full"}
        Activation recomputation.
    tensor_parallel : int
        Tensor-parallel size.
    sequence_parallel : bool
        Sequence parallelism alongside tensor parallelism.
    precision : str, optional
        A recipe of :data:`memwall.levers.optimizer_state.PRECISIONS`; then ``optimizer`` is one of its
        ``OPTIMIZER_NAMES`` (second order needs ``model``) and the states come from ``model_states``.
    block_size : int, optional
        Shampoo's block side, with ``precision``. [elements]

    Returns
    -------
    pandas.DataFrame
        One row per (seq_len, micro_batch) pair: ``seq_len``, ``micro_batch``, ``weights_bytes``,
        ``gradients_bytes``, ``optimizer_bytes``, ``activations_bytes``, ``total_bytes`` [B].

    Raises
    ------
    ValueError
        For a missing size (no model and no explicit value), a bad size (a bool, a string, NaN, a float that is
        not whole, above ``2**53 - 1``), an unknown optimizer, recomputation or precision, a ZeRO stage that is not
        the int 0, 1, 2 or 3 (``True`` is not stage 1), ``n_gpus < 1``, a flag not a bool, or bytes that overflow
        a float; the message names the argument.
    ArgumentTypeError
        ``model`` neither a ModelSpec, a preset name nor ``None``.
    """
    sizes = {"n_params": n_params, "layers": layers, "hidden": hidden, "heads": heads}
    if model is not None and not isinstance(model, ModelSpec | str):
        raise ArgumentTypeError(f"model must be a ModelSpec, a preset name or None, got {type(model).__name__} "
                                f"{model!r:.80}")
    if isinstance(model, str):
        model = get_preset(model)
    if model is not None:
        defaults = {"n_params": parameter_count(model), "layers": model.layers, "hidden": model.d_model,
                    "heads": model.heads}
        sizes = {k: (defaults[k] if v is None else v) for k, v in sizes.items()}
    missing = [k for k, v in sizes.items() if v is None]
    if missing:
        raise ValueError(f"give a model or explicit sizes; missing: {', '.join(missing)}")
    n_layers = _positive_int("layers", sizes["layers"])
    _n_params(sizes["n_params"])
    zero_stage = choice("zero_stage", zero_stage, ZERO_STAGES)
    n_gpus, tensor_parallel = _positive_int("n_gpus", n_gpus), _positive_int("tensor_parallel", tensor_parallel)
    if precision is not None:
        from memwall.levers.optimizer_state import PRECISIONS
        precision = choice("precision", precision, list(PRECISIONS))
        if block_size is not None:
            block_size = _positive_int("block_size", block_size)
    elif block_size is not None:
        raise ValueError(f"block_size={block_size!r} needs a precision recipe (precision=...), got precision=None")
    if precision is None:
        states = model_state_bytes(sizes["n_params"], optimizer, zero_stage=zero_stage, n_gpus=n_gpus,
                                   tensor_parallel=tensor_parallel)
    else:
        from memwall.levers.optimizer_state import model_states
        states = model_states(sizes["n_params"] if model is None else model, optimizer, precision=precision,
                              zero_stage=zero_stage, n_gpus=n_gpus, tensor_parallel=tensor_parallel,
                              block_size=block_size)
    per_layer = activation_bytes_per_layer(seq_len, micro_batch, sizes["hidden"], sizes["heads"],
                                           recompute=recompute, tensor_parallel=tensor_parallel,
                                           sequence_parallel=sequence_parallel)
    s, b = np.broadcast_arrays(count("seq_len", seq_len), count("micro_batch", micro_batch))
    out = pd.DataFrame({"seq_len": s.ravel().astype(np.int64), "micro_batch": b.ravel().astype(np.int64)})
    out["weights_bytes"] = states["weights"]
    out["gradients_bytes"] = states["gradients"]
    out["optimizer_bytes"] = states["optimizer_states"]
    out["activations_bytes"] = n_layers * per_layer.ravel()
    parts = ["weights", "gradients", "optimizer", "activations"]
    with np.errstate(over="ignore"):
        out["total_bytes"] = out[[f"{p}_bytes" for p in parts]].sum(axis=1)
    finite_result("training_memory total_bytes", out["total_bytes"],
                  {"seq_len": s, "micro_batch": b, "n_params": sizes["n_params"], "layers": n_layers,
                   "hidden": sizes["hidden"], "heads": sizes["heads"]})
    return out
