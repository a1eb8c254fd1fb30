"""Operation-level FLOP and memory-traffic model of Transformer inference.

For one phase of inference, every operation of a Transformer block (and optionally the LM head and
the embedding lookup) gets a FLOP count and the bytes it reads from and writes to DRAM; their ratio is
the operation's arithmetic intensity, the x-axis of a roofline (Williams, Waterman & Patterson 2009,
doi 10.1145/1498765.1498785). The recipe is the one of Kim et al., *Full Stack Optimization of
Transformer Inference: a Survey* (arXiv 2302.14017, §2.2.1), generalised to grouped-query attention,
gated FFNs, mixtures of experts, batching and per-tensor precisions.

Conventions (stated once, used everywhere)
------------------------------------------
* **FLOPs.** One multiply-add is 2 FLOPs: an ``(m×k)·(k×n)`` matmul costs ``2·m·n·k`` (the survey
  counts "the multiplication and addition from a MAC operation separately"). A bias add is not counted
  separately: ``k`` multiplies and ``k-1`` adds per output plus the bias add make exactly ``2k``.
* **MOPs.** Bytes moved = bytes read + bytes written. Each operand of an operation is read from DRAM
  once and each result written once, whatever its size: the survey's "local memories large enough to
  hold both matrices", i.e. an upper bound on reuse (ideal tiling). Weights are read once per call and
  shared by the whole batch. No operator fusion unless asked for.
* **Precisions** are given separately, in bytes per element: ``weight_bytes`` (weights, biases and
  norm parameters), ``act_bytes`` (activations, attention scores), ``kv_bytes`` (keys and values: the
  outputs of the K and V projections and what the attention matmuls read back, i.e. the KV cache).
* **Attention span.** Prefill/encode counts the full ``l × l`` score grid per head by default, as the
  survey does for BERT and as Hugging Face's eager attention computes even for causal models;
  ``causal_halving=True`` counts only the ``l(l+1)/2`` causal pairs of a decoder. A decode step with
  a KV cache of ``l_kv`` tokens attends to ``l_kv + 1`` keys (the cache plus the new token).
  ``generate`` (no prompt) of ``L`` tokens is the sum of decode steps with caches ``0 … L-1``, in
  closed form: ``L`` weight reads per matrix, ``L(L+1)/2`` score elements per head, and
  ``L(L+1)/2`` cached rows read per K or V.
* **Fusion.** ``fused_attention=True`` keeps the scores on chip (FlashAttention-style, Dao et al.
  2022, arXiv 2205.14135): QKᵀ reads Q and K and writes nothing, softmax moves nothing, score·V reads
  V and writes the output; FLOPs are unchanged.
* **Grouped-query attention.** A K/V head shared by ``heads / kv_heads`` query heads is read once.
* **Mixture of experts.** Each token runs ``active_experts`` FFNs. The weights read per step are those
  of the experts that some token in the step uses: ``E·(1 - (1 - k/E)^T)`` experts in expectation for
  ``T`` tokens routed uniformly at random (an assumption; real routers are not uniform). A router
  matmul (``d × E``) and a weighted combine of the ``k`` expert outputs are added.
* **Scope.** Embeddings and the LM head are excluded by default, as in the survey;
  ``include_lm_head=True`` adds the final norm and the LM-head matmul for every position (Hugging Face
  causal LMs compute logits for all positions in a forward pass), ``include_embeddings=True`` adds the
  embedding gather (no FLOPs). Dropout, masking, the ``1/sqrt(d_h)`` scale and rotary embeddings are
  not counted.
* **Nonlinear operations** (survey "Other"). FLOPs per element: softmax 4 (subtract row max,
  exponentiate, accumulate, divide; comparisons not counted), GELU 10, LayerNorm 8, RMSNorm 4,
  SiLU-gate 5 (SiLU 4 plus the multiply by the up projection), residual add 1. The survey does not
  list per-element counts. Its Tables 3 and 11 imply a per-block "Other" of ``4·h·P + 58·n·d`` FLOPs
  (``P`` score elements per head, ``n`` tokens), which fixes softmax at 4 and ``4·gelu + 2·norm +
  2·add = 58``; GELU 10 / LayerNorm 8 / add 1 is one split that satisfies it (the tables cannot tell
  GELU from LayerNorm). Each nonlinear op reads its inputs and writes its output once (norm
  parameters are read as weights).

Output scope
------------
Values are for the whole model: a block operation is summed over its ``count`` (= layers) instances;
divide by ``count`` for one block. :func:`memwall.cost_totals.totals` aggregates a table by category or
overall.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from memwall._checks import _check_array
from memwall.specs.model_spec import ModelSpec
from memwall.specs.presets import get_preset
from memwall.widths import BF16, ByteWidths

__all__ = ["CATEGORIES", "FLOPS_PER_ELEMENT", "PHASES", "OpCost", "cost_arrays", "cost_table"]


PHASES = ("prefill", "encode", "decode", "generate")
CATEGORIES = ("projection", "act_to_act", "ffn", "nonlinear")

#: FLOPs per element of the non-matmul operations; see the module docstring for their source.
FLOPS_PER_ELEMENT: dict[str, float] = {
    "softmax": 4.0,
    "gelu": 10.0,
    "silu_gate": 5.0,
    "layernorm": 8.0,
    "rmsnorm": 4.0,
    "add": 1.0,
}



class OpCost(NamedTuple):
    """Cost of one operation over the whole model (arrays broadcast over the configurations).

    Attributes
    ----------
    category : str
        One of :data:`CATEGORIES`.
    count : numpy.ndarray
        Instances in the model (layers for a block op, 1 for a model-level op). [ops]
    flops : numpy.ndarray
        Floating-point operations. [FLOP]
    bytes_read, bytes_written : numpy.ndarray
        DRAM traffic. [B]
    """

    category: str
    count: np.ndarray
    flops: np.ndarray
    bytes_read: np.ndarray
    bytes_written: np.ndarray


def _check_phase(phase: str) -> str:
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
    return "prefill" if phase == "encode" else phase


def _dims(spec: ModelSpec | Sequence[ModelSpec], ndim: int) -> dict[str, np.ndarray]:
    """Architecture fields as float arrays; several specs give a leading model axis."""
    specs = [spec] if isinstance(spec, ModelSpec) else list(spec)
    if not specs or not all(isinstance(s, ModelSpec) for s in specs):
        raise ValueError(f"spec must be a ModelSpec or a non-empty sequence of them, got {spec!r}")
    shape = (len(specs),) + (1,) * ndim if not isinstance(spec, ModelSpec) else ()

    def col(values: list[float]) -> np.ndarray:
        return np.asarray(values, dtype=float).reshape(shape)

    return {
        "layers": col([s.layers for s in specs]),
        "d": col([s.d_model for s in specs]),
        "h": col([s.heads for s in specs]),
        "dh": col([s.head_dim for s in specs]),
        "qd": col([s.q_dim for s in specs]),
        "kvd": col([s.kv_dim for s in specs]),
        "f": col([s.ffn_dim for s in specs]),
        "vocab": col([s.vocab_size for s in specs]),
        "experts": col([s.experts for s in specs]),
        "active": col([s.active_experts for s in specs]),
        "bias": col([float(s.bias) for s in specs]),
        "gated": col([float(s.ffn_kind == "gated") for s in specs]),
        "layernorm": col([float(s.norm == "layernorm") for s in specs]),
        "causal": col([float(s.causal) for s in specs]),
        "final_norm": col([float(s.final_norm) for s in specs]),
        "learned_pos": col([float(s.learned_positions) for s in specs]),
    }


# ----------------------------------------------------------------------------------------- the model


def cost_arrays(spec: ModelSpec | Sequence[ModelSpec], phase: str, seq_len: ArrayLike, batch: ArrayLike = 1, *,
                widths: ByteWidths = BF16, fused_attention: bool = False, causal_halving: bool = False,
                include_lm_head: bool = False, include_embeddings: bool = False) -> dict[str, OpCost]:
    """FLOPs and bytes of every operation, broadcast over arrays of configurations.

    Parameters
    ----------
    spec : ModelSpec or sequence of ModelSpec, length M
        Architecture(s). A sequence adds a leading model axis: the result has shape
        ``(M, *broadcast(seq_len, batch, weight_bytes, act_bytes, kv_bytes).shape)``.
    phase : {"prefill", "encode", "decode", "generate"}
        ``prefill``/``encode``: one forward pass over ``seq_len`` tokens. ``decode``: one token with
        a KV cache of ``seq_len`` tokens. ``generate``: ``seq_len`` tokens generated one by one from
        an empty cache (sum of decode steps, closed form).
    seq_len : int or array_like of int
        Tokens (prefill, generate) or cached tokens (decode, may be 0). [tokens]
    batch : int or array_like of int
        Sequences processed together. [sequences]
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``BF16``). [B/element]
    fused_attention : bool
        Scores stay on chip (see module docstring).
    causal_halving : bool
        Prefill of a causal model counts ``l(l+1)/2`` score pairs instead of ``l²``; ignored for
        encoders and for decode/generate, which are causal by construction.
    include_lm_head : bool
        Add the final norm and the LM-head matmul over every position.
    include_embeddings : bool
        Add the embedding gather (bytes only).

    Returns
    -------
    dict of str to OpCost
        Whole-model cost per operation, in execution order. Operations a model lacks (a gate matrix in
        a GELU FFN, a router in a dense model) are present with zero cost when several specs are
        passed, and dropped for a single spec.

    Raises
    ------
    ValueError
        Unknown ``phase``; ``decode``/``generate`` for an encoder (non-causal) model; ``seq_len`` or
        ``batch`` not a positive integer (``seq_len`` may be 0 for decode); a precision that is not a
        positive finite number; the message names the argument and the offending value.
    """
    weight_bytes, act_bytes, kv_bytes = widths.weight, widths.act, widths.kv
    phase = _check_phase(phase)
    if phase in ("decode", "generate"):
        encoders = [x.name for x in ([spec] if isinstance(spec, ModelSpec) else spec) if not x.causal]
        if encoders:
            raise ValueError(f"phase={phase!r} needs causal (decoder) models; encoder(s): {', '.join(encoders)} "
                             "(use phase='encode')")
    length = _check_array("seq_len", seq_len, integer=True, minimum=0 if phase == "decode" else 1)
    b = _check_array("batch", batch, integer=True, minimum=1)
    wb = np.asarray(weight_bytes, dtype=float)
    ab = np.asarray(act_bytes, dtype=float)
    kb = np.asarray(kv_bytes, dtype=float)
    ndim = max(x.ndim for x in (length, b, wb, ab, kb))
    m = _dims(spec, ndim)
    d, h, dh, qd, kvd, f = m["d"], m["h"], m["dh"], m["qd"], m["kvd"], m["f"]
    layers, bias = m["layers"], m["bias"]

    # Per sequence: tokens n, weight reads (steps), score pairs per head, K/V rows read per op.
    if phase == "prefill":
        n, steps, per_step = length, 1.0, b * length
        halve = float(causal_halving) * m["causal"]
        pairs = length * length * (1.0 - halve) + halve * length * (length + 1) / 2
        kv_rows = length
    elif phase == "decode":
        n, steps, per_step = 1.0, 1.0, b
        pairs = kv_rows = length + 1
    else:  # generate: sum over decode steps with caches 0 … L-1
        n, steps, per_step = length, length, b
        pairs = kv_rows = length * (length + 1) / 2
    t = b * n  # tokens through every token-wise op [tokens]
    scores = b * h * pairs  # score elements over all heads [elements]
    keep_scores = 0.0 if fused_attention else 1.0

    c = FLOPS_PER_ELEMENT
    norm_flops = np.where(m["layernorm"] > 0, c["layernorm"], c["rmsnorm"])
    norm_params = d * (1.0 + m["layernorm"])
    experts, active = m["experts"], m["active"]
    moe = (experts > 1).astype(float)
    touched = experts * (1.0 - (1.0 - active / experts) ** per_step)  # expected experts read per step
    act_flops = np.where(m["gated"] > 0, c["silu_gate"], c["gelu"])
    act_inputs = 1.0 + m["gated"]
    one = np.ones_like(layers)

    ops: dict[str, tuple[str, np.ndarray, ArrayLike, ArrayLike, ArrayLike]] = {}

    def linear(name: str, cat: str, k_in: ArrayLike, n_out: ArrayLike, tokens: ArrayLike,
               mats: ArrayLike, out_bytes: ArrayLike, count: np.ndarray = layers,
               has_bias: ArrayLike = bias) -> None:
        ops[name] = (
            cat, count,
            2.0 * tokens * k_in * n_out,
            steps * mats * (k_in * n_out + has_bias * n_out) * wb + tokens * k_in * ab,
            tokens * n_out * out_bytes,
        )

    if include_embeddings:
        ops["embedding"] = ("nonlinear", one, 0.0 * t, t * d * (1.0 + m["learned_pos"]) * wb, t * d * ab)
    linear("q_proj", "projection", d, qd, t, 1.0, ab)
    linear("k_proj", "projection", d, kvd, t, 1.0, kb)
    linear("v_proj", "projection", d, kvd, t, 1.0, kb)
    ops["qk_matmul"] = ("act_to_act", layers, 2.0 * scores * dh,
                        t * qd * ab + b * kv_rows * kvd * kb, keep_scores * scores * ab)
    ops["softmax"] = ("nonlinear", layers, c["softmax"] * scores,
                      keep_scores * scores * ab, keep_scores * scores * ab)
    ops["sv_matmul"] = ("act_to_act", layers, 2.0 * scores * dh,
                        keep_scores * scores * ab + b * kv_rows * kvd * kb, t * qd * ab)
    linear("o_proj", "projection", qd, d, t, 1.0, ab)
    ops["residual_attn"] = ("nonlinear", layers, c["add"] * t * d, 2.0 * t * d * ab, t * d * ab)
    ops["norm_attn"] = ("nonlinear", layers, norm_flops * t * d,
                        t * d * ab + steps * norm_params * wb, t * d * ab)
    linear("router", "ffn", d, experts, t * moe, moe, ab, has_bias=0.0)
    linear("ffn_gate", "ffn", d, f, t * active * m["gated"], touched * m["gated"], ab)
    linear("ffn_up", "ffn", d, f, t * active, touched, ab)
    ops["ffn_act"] = ("nonlinear", layers, act_flops * t * active * f,
                      act_inputs * t * active * f * ab, t * active * f * ab)
    linear("ffn_down", "ffn", f, d, t * active, touched, ab)
    ops["moe_combine"] = ("nonlinear", layers, moe * 2.0 * t * active * d,
                          moe * t * active * (d + 1.0) * ab, moe * t * d * ab)
    ops["residual_ffn"] = ("nonlinear", layers, c["add"] * t * d, 2.0 * t * d * ab, t * d * ab)
    ops["norm_ffn"] = ("nonlinear", layers, norm_flops * t * d,
                       t * d * ab + steps * norm_params * wb, t * d * ab)
    if include_lm_head:
        fn = m["final_norm"]
        ops["final_norm"] = ("nonlinear", one, fn * norm_flops * t * d,
                             fn * (t * d * ab + steps * norm_params * wb), fn * t * d * ab)
        linear("lm_head", "projection", d, m["vocab"], t, 1.0, ab, count=one, has_bias=0.0)

    shape = np.broadcast_shapes(*(np.shape(v) for op in ops.values() for v in op[1:]))
    out = {
        name: OpCost(cat, np.broadcast_to(cnt, shape),
                     *(np.broadcast_to(cnt * np.asarray(v, dtype=float), shape) for v in vals))
        for name, (cat, cnt, *vals) in ops.items()
    }
    if isinstance(spec, ModelSpec):
        absent = set()
        if spec.ffn_kind != "gated":
            absent.add("ffn_gate")
        if spec.experts == 1:
            absent |= {"router", "moe_combine"}
        if include_lm_head and not spec.final_norm:
            absent.add("final_norm")
        out = {k: v for k, v in out.items() if k not in absent}
    return out


def cost_table(spec: ModelSpec | str, phase: str, seq_len: int, batch: int = 1, *, widths: ByteWidths = BF16,
               **options: bool) -> pd.DataFrame:
    """Per-operation cost of one configuration as a table.

    Parameters
    ----------
    spec : ModelSpec or str
        Architecture or preset name.
    phase, seq_len, batch, weight_bytes, act_bytes, kv_bytes
        As in :func:`cost_arrays`, but scalars. [tokens], [sequences], [B/element]
    **options
        ``fused_attention``, ``causal_halving``, ``include_lm_head``, ``include_embeddings``.

    Returns
    -------
    pandas.DataFrame
        One row per operation, whole-model values: ``op``, ``category``, ``count`` (instances),
        ``flops`` [FLOP], ``bytes_read``, ``bytes_written``, ``bytes`` (= MOPs) [B], ``intensity``
        [FLOP/B]. Divide by ``count`` for one block.

    Raises
    ------
    ValueError
        As :func:`cost_arrays`; also for an array ``seq_len``/``batch``/precision or an unknown preset.
    """
    weight_bytes, act_bytes, kv_bytes = widths.weight, widths.act, widths.kv
    if isinstance(spec, str):
        spec = get_preset(spec)
    for name, value in (("seq_len", seq_len), ("batch", batch), ("weight_bytes", weight_bytes),
                        ("act_bytes", act_bytes), ("kv_bytes", kv_bytes)):
        if np.ndim(value):
            raise ValueError(f"{name} must be a scalar for cost_table (use cost_arrays), got {value!r}")
    ops = cost_arrays(spec, phase, seq_len, batch, widths=widths, **options)
    df = pd.DataFrame({
        "op": list(ops),
        "category": [o.category for o in ops.values()],
        "count": [int(o.count) for o in ops.values()],
        "flops": [float(o.flops) for o in ops.values()],
        "bytes_read": [float(o.bytes_read) for o in ops.values()],
        "bytes_written": [float(o.bytes_written) for o in ops.values()],
    })
    df["bytes"] = df["bytes_read"] + df["bytes_written"]
    df["intensity"] = _ratio(df["flops"], df["bytes"])
    return df


def _ratio(flops: pd.Series, bytes_: pd.Series) -> pd.Series:
    return flops.where(bytes_ > 0) / bytes_.where(bytes_ > 0)
