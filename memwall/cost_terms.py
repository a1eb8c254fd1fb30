"""Coefficients of the cost model: every operation's FLOPs and bytes as terms over a few per-configuration quantities.

This is the machinery behind :func:`memwall.cost.cost_arrays` (the conventions, formulas and sources are
in the :mod:`memwall.cost` module docstring). Every operation's FLOPs and bytes are written once, in
:func:`_op_terms`, as a sum of per-spec coefficients times a few per-configuration quantities
(:data:`_BASIS`: tokens, weight reads, expected experts read, cache rows and score pairs on global and
sliding layers, the positions of a last-position LM head) times one width (none for FLOPs, ``weight``,
``act`` or ``kv`` for bytes). The coefficients of a spec (or a tuple of specs) are built once and cached
(:func:`_coefficients`); :func:`memwall.cost.cost_arrays` evaluates them with one matrix product over any
broadcast of configurations, and :mod:`memwall.quick` with the same coefficients and :func:`_basis` on
Python floats for one configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from memwall._checks import finite_result
from memwall.specs.model_spec import ModelSpec

__all__ = ["FLOPS_PER_ELEMENT"]

#: FLOPs per element of the non-matmul operations; see the :mod:`memwall.cost` module docstring for their source.
FLOPS_PER_ELEMENT: dict[str, float] = {
    "softmax": 4.0,
    "gelu": 10.0,
    "silu_gate": 5.0,
    "layernorm": 8.0,
    "rmsnorm": 4.0,
    "add": 1.0,
}

#: Per-configuration quantities every cost is a linear combination of (see :func:`_basis`).
_BASIS = ("tok", "step", "touched", "rows_g", "rows_s", "pairs_g", "pairs_s", "last")
#: What multiplies a term: nothing (FLOPs) or one of the three widths (bytes).
_SLOTS = ("flop", "weight", "act", "kv")
_J = len(_BASIS)
_B = {name: j for j, name in enumerate(_BASIS)}
_S = {name: i for i, name in enumerate(_SLOTS)}

#: Every operation in execution order (a spec has a subset of them).
_ORDER = (
    "embedding", "q_a_proj", "q_a_norm", "q_b_proj", "q_proj", "kv_a_proj", "kv_a_norm", "kv_b_proj", "k_proj",
    "v_proj", "qk_norm", "qk_matmul", "softmax", "sv_matmul", "o_proj", "residual_attn", "norm_attn", "router",
    "ffn_gate", "ffn_up", "ffn_act", "ffn_down", "dense_ffn_gate", "dense_ffn_up", "dense_ffn_act",
    "dense_ffn_down", "shared_gate", "shared_ffn_gate", "shared_ffn_up", "shared_ffn_act", "shared_ffn_down",
    "moe_combine", "residual_ffn", "norm_ffn", "post_norms", "final_norm", "mlm_dense", "mlm_act", "mlm_norm",
    "lm_head",
)
#: Operations listed for several specs even when none of them has one (zero cost), as before MLA.
_LEGACY = ("q_proj", "k_proj", "v_proj", "qk_matmul", "softmax", "sv_matmul", "o_proj", "residual_attn",
           "norm_attn", "router", "ffn_gate", "ffn_up", "ffn_act", "ffn_down", "moe_combine", "residual_ffn",
           "norm_ffn")


# ------------------------------------------------------------------------------ the one op list

#: A term: (coefficient, slot, basis quantity).
_Term = tuple[float, str, str]


class _Op(NamedTuple):
    category: str
    count: int
    flops: tuple[_Term, ...]
    read: tuple[_Term, ...]
    written: tuple[_Term, ...]


@lru_cache(maxsize=512)
def _op_terms(spec: ModelSpec, decode_form: bool, fused: bool, lm_head: str,
              embeddings: bool) -> dict[str, _Op]:
    """Whole-model FLOPs and bytes of every operation of ``spec`` as terms over :data:`_BASIS`.

    ``decode_form`` selects the decode/generate variant (MLA absorbed) over the prefill one (MLA naive);
    the basis quantities themselves (:func:`_basis`) carry the phase. ``lm_head`` is one of
    :data:`memwall.cost.LM_HEAD_MODES`. This is the cost model: every formula of the :mod:`memwall.cost`
    module docstring is written here once.
    """
    c = FLOPS_PER_ELEMENT
    d, L = float(spec.d_model), spec.layers
    h, g, dh, dv = float(spec.heads), float(spec.kv_heads), float(spec.head_dim), float(spec.value_head_dim)
    Ls = float(spec.sliding_layers)
    Lg = L - Ls
    bias, bias_qkv = float(spec.bias), float(spec.has_qkv_bias)
    bias_out, bias_mlp = float(spec.has_out_bias), float(spec.has_mlp_bias)
    keep = 0.0 if fused else 1.0
    layernorm = spec.norm == "layernorm"
    norm_flops = c["layernorm"] if layernorm else c["rmsnorm"]
    norm_scale = 2.0 if layernorm else 1.0  # parameters per normalised element (scale and shift, or scale)
    gated = spec.ffn_kind == "gated"
    act_flops = c["silu_gate"] if gated else c["gelu"]
    ops: dict[str, _Op] = {}

    def add(name: str, cat: str, count: int, flops: list[_Term], read: list[_Term],
            written: list[_Term]) -> None:
        ops[name] = _Op(cat, count, tuple(flops), tuple(read), tuple(written))

    def linear(name: str, cat: str, k_in: float, n_out: float, count: float, *, tokens: float = 1.0,
               weights: str = "step", mats: float = 1.0, has_bias: float = bias, in_slot: str = "act",
               out_slot: str = "act", per: str = "tok") -> None:
        # 2·T·k·n FLOPs; the matrix (and bias) read once per step; input read, output written once.
        # ``per``: the basis quantity counting the positions it runs on (every token, or each sequence's last).
        add(name, cat, int(count),
            [(2.0 * count * tokens * k_in * n_out, "flop", per)],
            [(count * mats * (k_in * n_out + has_bias * n_out), "weight", weights),
             (count * tokens * k_in, in_slot, per)],
            [(count * tokens * n_out, out_slot, per)])

    def norm(name: str, width: float, count: float, slot: str = "act", per: str = "tok",
             flops: float = norm_flops, scale: float = norm_scale) -> None:
        add(name, "nonlinear", int(count), [(flops * count * width, "flop", per)],
            [(count * width, slot, per), (count * scale * width, "weight", "step")],
            [(count * width, slot, per)])

    def pairs(coef: float) -> list[tuple[float, str]]:  # score pairs (or cache rows) on global, sliding layers
        return [(coef * Lg, "_g"), (coef * Ls, "_s")]

    def attention(q_width: float, key_row: float, v_width: float, value_row: float) -> None:
        """QKᵀ, softmax, score·V: queries/outputs of ``q_width``/``v_width`` per head, cache rows of
        ``key_row`` (read by QKᵀ) and ``value_row`` (read by score·V) elements."""
        add("qk_matmul", "act_to_act", L,
            [(2.0 * h * q_width * k, "flop", "pairs" + s) for k, s in pairs(1.0)],
            [(L * h * q_width, "act", "tok")] + [(key_row * k, "kv", "rows" + s) for k, s in pairs(1.0)],
            [(keep * h * k, "act", "pairs" + s) for k, s in pairs(1.0)])
        sinks = float(spec.attention_sinks)
        add("softmax", "nonlinear", L,
            [(c["softmax"] * h * k, "flop", "pairs" + s) for k, s in pairs(1.0)]
            + [(sinks * c["softmax"] * L * h, "flop", "tok")],
            [(keep * h * k, "act", "pairs" + s) for k, s in pairs(1.0)] + [(sinks * L * h, "weight", "step")],
            [(keep * h * k, "act", "pairs" + s) for k, s in pairs(1.0)])
        add("sv_matmul", "act_to_act", L,
            [(2.0 * h * v_width * k, "flop", "pairs" + s) for k, s in pairs(1.0)],
            [(keep * h * k, "act", "pairs" + s) for k, s in pairs(1.0)]
            + [(value_row * k, "kv", "rows" + s) for k, s in pairs(1.0)],
            [(L * h * v_width, "act", "tok")])

    if embeddings:
        add("embedding", "nonlinear", 1, [], [(d * (1.0 + spec.learned_positions), "weight", "tok")],
            [(d, "act", "tok")])
    if spec.is_mla:
        r, dr, rq = float(spec.kv_lora_rank), float(spec.rope_head_dim), float(spec.q_lora_rank)
        if rq:
            linear("q_a_proj", "projection", d, rq, L)
            norm("q_a_norm", rq, L)
            linear("q_b_proj", "projection", rq, h * (dh + dr), L)
        else:
            linear("q_proj", "projection", d, h * (dh + dr), L)
        linear("kv_a_proj", "projection", d, r + dr, L, out_slot="kv")
        norm("kv_a_norm", r, L, slot="kv")
        if decode_form:  # absorbed: W_UK on the query (h·d_h → h·d_c), W_UV on the latent output (h·d_c → h·d_v)
            add("kv_b_proj", "projection", L, [(2.0 * L * r * h * (dh + dv), "flop", "tok")],
                [(L * (r * h * (dh + dv) + bias * h * (dh + dv)), "weight", "step"),
                 (L * h * (dh + r), "act", "tok")],
                [(L * h * (r + dv), "act", "tok")])
            attention(r + dr, r + dr, r, keep * r)
        else:  # naive: per-head keys and values from every cached latent
            linear("kv_b_proj", "projection", r, h * (dh + dv), L, in_slot="kv", out_slot="kv")
            attention(dh + dr, h * dh + dr, dv, h * dv)
    else:
        linear("q_proj", "projection", d, h * dh, L, has_bias=bias_qkv)
        linear("k_proj", "projection", d, g * dh, L, has_bias=bias_qkv, out_slot="kv")
        linear("v_proj", "projection", d, g * dv, L, has_bias=bias_qkv, out_slot="kv")
        if spec.qk_norm:  # RMSNorm over each query head (activations) and key head (cache)
            add("qk_norm", "nonlinear", L, [(c["rmsnorm"] * L * (h + g) * dh, "flop", "tok")],
                [(L * h * dh, "act", "tok"), (L * g * dh, "kv", "tok"), (L * 2.0 * dh, "weight", "step")],
                [(L * h * dh, "act", "tok"), (L * g * dh, "kv", "tok")])
        attention(dh, g * dh, dv, g * dv)
    linear("o_proj", "projection", h * dv, d, L, has_bias=bias_out)
    add("residual_attn", "nonlinear", L, [(c["add"] * L * d, "flop", "tok")], [(2.0 * L * d, "act", "tok")],
        [(L * d, "act", "tok")])
    norm("norm_attn", d, L)

    def ffn(prefix: str, width: float, count: float, tokens: float = 1.0, weights: str = "step") -> None:
        if gated:
            linear(prefix + "_gate", "ffn", d, width, count, tokens=tokens, weights=weights, has_bias=bias_mlp)
        linear(prefix + "_up", "ffn", d, width, count, tokens=tokens, weights=weights, has_bias=bias_mlp)
        add(prefix + "_act", "nonlinear", int(count), [(act_flops * count * tokens * width, "flop", "tok")],
            [((1.0 + gated) * count * tokens * width, "act", "tok")], [(count * tokens * width, "act", "tok")])
        linear(prefix + "_down", "ffn", width, d, count, tokens=tokens, weights=weights, has_bias=bias_mlp)

    if spec.experts > 1:
        lm, k = float(spec.moe_layers), float(spec.active_experts)
        shared, sgate = float(spec.shared_ffn_dim > 0), float(spec.shared_expert_gate)
        linear("router", "ffn", d, float(spec.experts), lm, has_bias=0.0)
        ffn("ffn", float(spec.ffn_dim), lm, tokens=k, weights="touched")
        if spec.dense_layers:
            ffn("dense_ffn", float(spec.dense_ffn_dim or spec.ffn_dim), float(spec.dense_layers))
        if sgate:
            linear("shared_gate", "ffn", d, 1.0, lm, has_bias=0.0)
        if shared:
            ffn("shared_ffn", float(spec.shared_ffn_dim), lm)
        # Σ_k p_k·y_k (2kd FLOPs), plus the shared output (d adds; d multiplies by its gate).
        add("moe_combine", "nonlinear", int(lm), [(lm * d * (2.0 * k + shared + sgate), "flop", "tok")],
            [(lm * (k * (d + 1.0) + shared * (d + sgate)), "act", "tok")], [(lm * d, "act", "tok")])
    else:
        ffn("ffn", float(spec.ffn_dim), L)
    add("residual_ffn", "nonlinear", L, [(c["add"] * L * d, "flop", "tok")], [(2.0 * L * d, "act", "tok")],
        [(L * d, "act", "tok")])
    if spec.norms_per_block >= 2:
        norm("norm_ffn", d, L)
    if spec.norms_per_block > 2:
        norm("post_norms", d, L * (spec.norms_per_block - 2))
    if lm_head != "none":
        per = "tok" if lm_head == "all" else "last"
        vocab = float(spec.vocab_size)
        if spec.final_norm:
            norm("final_norm", d, 1, per=per)
        if spec.causal:  # GPT-2 / Llama: the d × vocab matmul, no bias
            linear("lm_head", "projection", d, vocab, 1, has_bias=0.0, per=per)
        else:  # BERT's masked-LM head: BertPredictionHeadTransform, then the tied decoder with its vocab bias
            linear("mlm_dense", "projection", d, d, 1, has_bias=bias, per=per)
            add("mlm_act", "nonlinear", 1, [(c["gelu"] * d, "flop", per)], [(d, "act", per)], [(d, "act", per)])
            norm("mlm_norm", d, 1, per=per, flops=c["layernorm"], scale=2.0)
            linear("lm_head", "projection", d, vocab, 1, has_bias=1.0, per=per)
    return {name: ops[name] for name in _ORDER if name in ops}


class _Coefficients(NamedTuple):
    names: tuple[str, ...]
    categories: tuple[str, ...]
    counts: np.ndarray  # (M, ops) [ops]
    matrix: np.ndarray  # (M, 3·ops, len(columns)): rows op-major (flops, read, written)
    columns: tuple[tuple[int, int], ...]  # (slot, basis) of each used column


@lru_cache(maxsize=256)
def _coefficients(specs: tuple[ModelSpec, ...], decode_form: bool, fused: bool, lm_head: str,
                  embeddings: bool, single: bool) -> _Coefficients:
    """:func:`_op_terms` of each spec as one coefficient array over the used (slot, basis) columns.

    ``lm_head`` is one of :data:`memwall.cost.LM_HEAD_MODES`.
    """
    terms = [_op_terms(s, decode_form, fused, lm_head, embeddings) for s in specs]
    present = set().union(*terms)
    if not single:
        present |= set(_LEGACY) | ({"final_norm"} if lm_head != "none" else set())
    names = tuple(n for n in _ORDER if n in present)
    dense = np.zeros((len(specs), 3 * len(names), len(_SLOTS) * _J))
    counts = np.zeros((len(specs), len(names)))
    categories = {}
    for m, per_spec in enumerate(terms):
        for i, name in enumerate(names):
            op = per_spec.get(name)
            if op is None:
                continue
            categories[name] = op.category
            counts[m, i] = op.count
            for out, part in enumerate((op.flops, op.read, op.written)):
                for coef, slot, basis in part:
                    dense[m, 3 * i + out, _S[slot] * _J + _B[basis]] += coef
    default = {"router": "ffn", "ffn_gate": "ffn", "moe_combine": "nonlinear", "final_norm": "nonlinear"}
    used = np.flatnonzero(np.any(dense != 0.0, axis=(0, 1)))
    columns = tuple((int(k) // _J, int(k) % _J) for k in used)
    matrix = np.ascontiguousarray(dense[:, :, used])
    matrix.setflags(write=False)
    counts.setflags(write=False)
    cats = tuple(categories.get(n, default.get(n, "nonlinear")) for n in names)
    return _Coefficients(names, cats, counts, matrix, columns)


def _window_sum(n: ArrayLike, w: ArrayLike, minimum: Callable) -> ArrayLike:
    """``S(n, w) = Σ_{i=1..n} min(i, w)``: keys in view summed over ``n`` consecutive queries. [tokens]"""
    m = minimum(n, w)
    return m * (m + 1.0) / 2.0 + (n - m) * w


def _basis(phase: str, length: ArrayLike, b: ArrayLike, experts: ArrayLike, active: ArrayLike,
           window: ArrayLike, halve: ArrayLike, minimum: Callable) -> tuple[ArrayLike, ...]:
    """The quantities of :data:`_BASIS` for one phase, on Python floats or numpy arrays.

    ``length``: prompt tokens (prefill), cached tokens (decode) or generated tokens (generate);
    ``halve``: 1 where causal halving applies; ``minimum``: ``min`` or ``numpy.minimum``.
    Returns tokens through each token-wise op, weight reads, expected distinct routed experts read over
    the steps (``E·(1 - (1 - k/E)^T)`` per step of ``T`` tokens), cache rows read per K/V row width and
    score pairs per head, each on global and on sliding layers, and the positions an LM head on each
    sequence's last position runs on (``b`` in a prefill; every token of decode and generate), all summed
    over the ``b`` sequences.
    """
    if phase == "prefill":
        pairs_g = length * length * (1.0 - halve) + halve * length * (length + 1.0) / 2.0
        pairs_s = length * length * (1.0 - halve) + halve * _window_sum(length, window, minimum)
        touched = experts * (1.0 - (1.0 - active / experts) ** (b * length))
        return b * length, 1.0, touched, b * length, b * length, b * pairs_g, b * pairs_s, b
    touched = experts * (1.0 - (1.0 - active / experts) ** b)
    if phase == "decode":
        rows_g, rows_s = length + 1.0, minimum(length + 1.0, window)
        return b, 1.0, touched, b * rows_g, b * rows_s, b * rows_g, b * rows_s, b
    rows_g, rows_s = length * (length + 1.0) / 2.0, _window_sum(length, window, minimum)
    return b * length, length, length * touched, b * rows_g, b * rows_s, b * rows_g, b * rows_s, b * length


def _spec_params(specs: Sequence[ModelSpec], causal_halving: bool) -> np.ndarray:
    """(experts, active experts, window, halve) of each spec, shape (4, M)."""
    return np.array([[s.experts for s in specs], [s.active_experts for s in specs],
                     [s.sliding_window for s in specs],
                     [float(causal_halving and s.causal) for s in specs]], dtype=float)


def _check_finite_costs(coef: _Coefficients, phase: str, length: np.ndarray, b: np.ndarray, params: np.ndarray,
                        widths: tuple[np.ndarray, np.ndarray, np.ndarray], values: np.ndarray) -> None:
    """Raise if some FLOP or byte count overflowed a float, cheaply.

    Every basis quantity of :func:`~memwall.cost_terms._basis` is non-decreasing in the length and the batch and
    non-negative, so ``|coefficients| @ basis(max length, max batch) · max width`` bounds every value: a large
    grid is scanned only when that bound is near a float's limit (a small one is scanned, which is cheaper).
    """
    if values.size > 1 << 14:  # a large grid: bound the values (a few scalars) rather than scan them
        with np.errstate(over="ignore", invalid="ignore"):
            top = [np.max(x) if x.size else 0.0 for x in (length, b, *widths)]
            u = _basis(phase, top[0], top[1], *params.reshape(4, -1), minimum=np.minimum)
            slots = (1.0, *top[2:])
            col = np.stack([np.broadcast_to(u[j] * slots[slot], params.reshape(4, -1)[0].shape)
                            for slot, j in coef.columns])  # (K, M)
            bound = np.einsum("mrk,km->mr", np.abs(coef.matrix), col)
        if np.all(bound < 1e300):  # a margin for the rounding of the two sums
            return
    if np.isfinite(values).all():
        return
    wb, ab, kb = widths
    finite_result("cost_arrays FLOPs and bytes", values, {"seq_len": length, "batch": b, "weight_bytes": wb,
                                                          "act_bytes": ab, "kv_bytes": kb})
