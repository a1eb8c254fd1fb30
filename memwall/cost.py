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
* **Grouped-query attention.** A K/V head shared by ``heads / kv_heads`` query heads is read once;
  values may be narrower than keys (``value_head_dim``).
* **Mixture of experts.** Each token runs ``active_experts`` routed FFNs on each of the ``moe_layers``
  (``layers - dense_layers``) MoE layers. The weights read per step are those of the experts that some
  token in the step uses: ``E·(1 - (1 - k/E)^T)`` experts in expectation for ``T`` tokens routed
  uniformly at random (an assumption; real routers are not uniform). A router matmul (``d × E``) and a
  weighted combine of the ``k`` expert outputs are added on MoE layers only. A shared expert
  (``shared_ffn_dim``; DeepSeek-V2, arXiv 2405.04434, §2.2.1; Qwen2-MoE) runs on every token of a MoE
  layer (``shared_ffn_*`` rows, weights read once per step), its output added in the combine, scaled
  by a ``d → 1`` sigmoid gate where the model has one (``shared_gate``). The first ``dense_layers``
  (DeepSeek ``first_k_dense_replace``) run a dense FFN of ``dense_ffn_dim`` (``dense_ffn_*`` rows).
* **Multi-head latent attention** (MLA; DeepSeek-V2, arXiv 2405.04434, §2.1; DeepSeek-V3, arXiv
  2412.19437, §2.1.1), ``h`` heads of ``d_h`` (``head_dim`` = ``qk_nope_head_dim``) plus a rotary part
  ``d_h^R`` (``rope_head_dim``), values of ``d_v``, latent ``d_c`` (``kv_lora_rank``), query bottleneck
  ``d_c'`` (``q_lora_rank``). Projections: ``q_a_proj`` (``d → d_c'``), ``q_a_norm``, ``q_b_proj``
  (``d_c' → h·(d_h + d_h^R)``), or ``q_proj`` (``d → h·(d_h + d_h^R)``) when ``d_c'`` = 0;
  ``kv_a_proj`` (``d → d_c + d_h^R``; its output is what the KV cache stores, written at ``kv_bytes``),
  ``kv_a_norm`` (over ``d_c``), ``kv_b_proj`` (``d_c → h·(d_h + d_v)``), ``o_proj`` (``h·d_v → d``).
  **Prefill** (and encode) uses the naive form: ``kv_b_proj`` runs on every token and materialises
  per-head keys and values (written at ``kv_bytes``); attention is then MHA with a query/key width of
  ``d_h + d_h^R`` (the rotary key, shared by all heads, read once per row) and a value width ``d_v``.
  **Decode** (and generate) uses the absorbed form (DeepSeek-V2 §2.1.2: "we can absorb W^UK into W^Q,
  and W^UV into W^O"): ``kv_b_proj`` multiplies each query's non-rotary part by ``W_UK`` and the
  latent attention output by ``W_UV``, the same weight bytes and FLOPs as applying it to one token;
  attention is multi-query attention over the cached latent, with score width ``d_c + d_h^R`` and
  value width ``d_c``, each cache row of ``d_c + d_h^R`` elements read once for all heads (by
  ``qk_matmul``; ``sv_matmul`` reads the latent again only when scores go to DRAM). The decode
  attention rows then equal the absorbed form of
  :func:`memwall.beyond.attention_cost.decode_attention_cost` (``tests/test_cost.py`` checks it).
* **Sliding windows** (Mistral 7B, arXiv 2310.06825, §2; Gemma 2/3; gpt-oss): on each of the
  ``sliding_layers`` layers a query attends to at most ``sliding_window`` = ``w`` keys; the other
  layers attend to the whole context. A decode step with ``l_kv`` cached tokens attends to and reads
  ``min(l_kv + 1, w)`` cache rows on a sliding layer; ``generate`` of ``L`` tokens sums that over the
  steps, ``S(L, w) = Σ_{i=1..L} min(i, w)``. Prefill with ``causal_halving=True`` counts ``S(l, w)``
  score pairs per head on a sliding layer; without it the full ``l × l`` grid, as eager attention
  computes it (the window is a mask, not skipped work). Each K/V row of a prefill is read once either
  way.
* **Other block details.** ``qk_norm`` (Qwen3, Gemma 3) adds an RMSNorm over every query and key head
  (``qk_norm`` row: 4 FLOPs per element, the ``2·d_h`` scales read as weights); ``norms_per_block`` > 2
  (Gemma 2/3 put norms after attention and after the FFN as well) adds a ``post_norms`` row of
  ``norms_per_block - 2`` norms over ``d`` per layer; ``attention_sinks`` (gpt-oss) adds one logit per
  query and head to the softmax (4 FLOPs each, the ``h`` sink values read as weights); ``qkv_bias``
  (Qwen2) puts biases on the Q, K and V projections only.
* **Scope.** Embeddings and the LM head are excluded by default, as in the survey. ``include_lm_head``
  chooses the head and the positions it runs on: ``True`` (or ``"all"``) every position, as a Hugging
  Face forward pass computes logits for all positions (training, scoring); ``"last"`` one position per
  sequence in a prefill, the inference setting (a prompt needs the logits of its last token only; Hugging
  Face ``logits_to_keep=1``); decode and generate run one position per step either way. A decoder's head
  is the final norm (where the model has one) and the ``d × vocab`` matmul (``lm_head``, no bias). An
  encoder's (``causal=False``) is BERT's masked-LM head (``BertForMaskedLM`` →
  ``BertLMPredictionHead``): the transform ``BertPredictionHeadTransform`` (``mlm_dense``, a ``d × d``
  dense layer with bias; ``mlm_act``, GELU; ``mlm_norm``, LayerNorm) and the decoder (``lm_head``,
  ``d × vocab``, tied to the word embeddings, with its vocabulary bias). With ``"last"`` the final norm
  too runs on the kept positions only (a norm is per position; Hugging Face normalises every position
  before slicing, ``(l - 1)·b`` norms more, element-wise work outside the matmul scope).
  ``include_embeddings=True`` adds the embedding gather (no FLOPs). Dropout, masking, the ``1/sqrt(d_h)``
  scale and rotary embeddings are not counted.
* **Matmul scope.** ``scope="matmul"`` keeps the matrix products only, the operations of the categories
  ``projection``, ``act_to_act`` and ``ffn`` (:data:`MATMUL_CATEGORIES`: the Q/K/V/O and MLA
  projections, QKᵀ, score·V, the FFN matrices of every kind, the MoE router and shared-expert gate, the
  LM head and the MLM dense layer), and drops the ``nonlinear`` ones (softmax, norms, activations,
  residual adds, the MoE combine, the embedding gather). It is what PyTorch's
  ``torch.utils.flop_counter.FlopCounterMode`` counts (matmul-family kernels, 2 FLOPs per multiply-add)
  and what most papers report; ``tests/test_cost.py`` checks it equal, FLOP for FLOP, to FlopCounterMode
  on the Hugging Face models (``tools/flop_reference.py``). ``scope="all"`` (default) keeps everything.
* **Nonlinear operations** (survey "Other"). FLOPs per element: softmax 4 (subtract row max,
  exponentiate, accumulate, divide; comparisons not counted), GELU 10, LayerNorm 8, RMSNorm 4,
  SiLU-gate 5 (SiLU 4 plus the multiply by the up projection), residual add 1. The survey does not
  list per-element counts. Its Tables 3 and 11 imply a per-block "Other" of ``4·h·P + 58·n·d`` FLOPs
  (``P`` score elements per head, ``n`` tokens), which fixes softmax at 4 and ``4·gelu + 2·norm +
  2·add = 58``; GELU 10 / LayerNorm 8 / add 1 is one split that satisfies it (the tables cannot tell
  GELU from LayerNorm). Each nonlinear op reads its inputs and writes its output once (norm
  parameters are read as weights).

Not modelled: Gemma's embedding scaling and logit soft-capping, rotary embeddings, MLA's ``q_b_proj``
bias and norm variants other than LayerNorm/RMSNorm.

Evaluation
----------
Every operation's FLOPs and bytes are written once, in :mod:`memwall.cost_terms`
(:func:`~memwall.cost_terms._op_terms`), as a sum of per-spec coefficients times a few per-configuration
quantities (:data:`~memwall.cost_terms._BASIS`: tokens, weight reads, expected experts read, cache rows and
score pairs on global and sliding layers, the positions of a last-position LM head) times one width (none for
FLOPs, ``weight``, ``act`` or ``kv`` for bytes). The coefficients of a spec (or a tuple of specs) are built
once and cached; :func:`cost_arrays` evaluates them with one matrix product over any broadcast of
configurations, and :mod:`memwall.quick` with the same coefficients and
:func:`~memwall.cost_terms._basis` on Python floats for one configuration.

Output scope
------------
Values are for the whole model: a block operation is summed over its ``count`` (= layers) instances;
divide by ``count`` for one block. :func:`memwall.cost_totals.totals` aggregates a table by category or
overall; the totals of a ``scope="matmul"`` table are the matmul-only FLOPs (FlopCounterMode's) and the
bytes those matrix products move.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from memwall._checks import ArgumentTypeError, _check_array, finite_result, flag, instance
from memwall.cost_terms import FLOPS_PER_ELEMENT, _basis, _check_finite_costs, _coefficients, _spec_params
from memwall.specs.model_spec import ModelSpec
from memwall.specs.presets import get_preset
from memwall.widths import BF16, ByteWidths

if TYPE_CHECKING:
    import pandas as pd  # imported where a DataFrame is built: the CLI's fast path never loads pandas

__all__ = ["CATEGORIES", "FLOPS_PER_ELEMENT", "LM_HEAD_MODES", "MATMUL_CATEGORIES", "PHASES", "SCOPES", "OpCost",
           "cost_arrays", "cost_table"]


PHASES = ("prefill", "encode", "decode", "generate")
CATEGORIES = ("projection", "act_to_act", "ffn", "nonlinear")
#: Categories of the matrix products: the operations ``scope="matmul"`` keeps (what FlopCounterMode counts).
MATMUL_CATEGORIES = ("projection", "act_to_act", "ffn")
#: Operation scopes of :func:`cost_arrays`: every operation, or the matrix products only.
SCOPES = ("all", "matmul")
#: LM-head modes of :func:`cost_arrays` (``include_lm_head``): none, every position, each sequence's last.
LM_HEAD_MODES = ("none", "all", "last")


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
    if not isinstance(phase, str) or phase not in PHASES:
        raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
    return "prefill" if phase == "encode" else phase


def _lm_head_mode(value: bool | str) -> str:
    """``include_lm_head`` as one of :data:`LM_HEAD_MODES`: False → "none", True → "all", or the mode itself."""
    if isinstance(value, str) and value in LM_HEAD_MODES:
        return value
    if isinstance(value, bool | np.bool_):
        return "all" if value else "none"
    raise ValueError(f"include_lm_head must be True, False or one of {LM_HEAD_MODES}, got {value!r}")


def _check_scope(scope: str) -> str:
    if not isinstance(scope, str) or scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    return scope


def _specs(spec: ModelSpec | str | Sequence[ModelSpec | str]) -> tuple[bool, tuple[ModelSpec, ...]]:
    """(one spec given, the specs): preset names resolved, anything else rejected naming ``spec``."""
    if isinstance(spec, ModelSpec | str):
        return True, (get_preset(spec) if isinstance(spec, str) else spec,)
    if isinstance(spec, Sequence) and spec and all(isinstance(s, ModelSpec | str) for s in spec):
        return False, tuple(get_preset(s) if isinstance(s, str) else s for s in spec)
    raise ArgumentTypeError(f"spec must be a ModelSpec, a preset name or a non-empty sequence of them, got "
                            f"{type(spec).__name__} {spec!r:.80}")


# ----------------------------------------------------------------------------------------- the model


def cost_arrays(spec: ModelSpec | Sequence[ModelSpec], phase: str, seq_len: ArrayLike, batch: ArrayLike = 1, *,
                widths: ByteWidths = BF16, fused_attention: bool = False, causal_halving: bool = False,
                include_lm_head: bool | str = False, include_embeddings: bool = False,
                scope: str = "all") -> dict[str, OpCost]:
    """FLOPs and bytes of every operation, broadcast over arrays of configurations.

    Parameters
    ----------
    spec : ModelSpec, str or sequence of them, length M
        Architecture(s) or preset name(s). A sequence adds a leading model axis: the result has shape
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
        Prefill of a causal model counts ``l(l+1)/2`` score pairs instead of ``l²`` (``S(l, w)`` on a
        sliding-window layer); ignored for encoders and for decode/generate, which are causal by
        construction.
    include_lm_head : bool or {"none", "all", "last"}
        The LM head and the positions it runs on (see the module docstring, Scope). ``False``/``"none"``:
        no head (default, as the survey). ``True``/``"all"``: every position, as a Hugging Face forward pass
        (``GPT2LMHeadModel``, ``BertForMaskedLM``). ``"last"``: one position per sequence in a prefill
        (``logits_to_keep=1``, the inference setting); the same as ``"all"`` for decode and generate. A
        decoder's head is its final norm and the ``d × vocab`` matmul (``lm_head``); an encoder's is BERT's
        masked-LM head: ``mlm_dense`` (``d × d`` with bias), ``mlm_act`` (GELU), ``mlm_norm`` (LayerNorm),
        then ``lm_head`` (``d × vocab`` with its vocabulary bias).
    include_embeddings : bool
        Add the embedding gather (bytes only).
    scope : {"all", "matmul"}
        ``"all"`` (default): every operation. ``"matmul"``: only the matrix products (categories
        :data:`MATMUL_CATEGORIES`), the operations ``torch.utils.flop_counter.FlopCounterMode`` counts;
        softmax, norms, activations, residual adds, the MoE combine and the embedding gather are dropped.

    Returns
    -------
    dict of str to OpCost
        Whole-model cost per operation, in execution order. A single spec lists the operations it has
        (no gate matrix in a GELU FFN, no router in a dense model, MLA's ``q_a_proj`` … ``kv_b_proj``
        instead of ``q_proj``/``k_proj``/``v_proj``). Several specs list the operations any of them has
        plus the standard set (``q_proj`` … ``norm_ffn``, router and gate included), with zero cost and
        count where a spec lacks one.

    Raises
    ------
    ValueError
        Unknown ``phase``, ``scope`` or ``include_lm_head`` mode (the message lists the allowed ones);
        ``decode``/``generate`` for an encoder (non-causal) model; an unknown preset name; ``seq_len`` or
        ``batch`` not a positive integer (``seq_len`` may be 0 for decode), a bool, a string, above ``2**53 - 1``;
        a flag that is not ``True``/``False``; FLOPs or bytes that overflow a float (the message lists the
        inputs, the most extreme first). Each message names the argument and the offending value. Widths are
        checked by :class:`~memwall.widths.ByteWidths`.
    ArgumentTypeError
        ``spec`` not a ModelSpec, a preset name or a sequence of them, ``widths`` not a ByteWidths (a
        ``TypeError`` and a ``ValueError``).

    Notes
    -----
    The formulas are those of the module docstring, written once in
    :func:`memwall.cost_terms._op_terms` as coefficients of the :data:`~memwall.cost_terms._BASIS`
    quantities (:func:`~memwall.cost_terms._basis`); this function multiplies the cached coefficient
    array of the spec(s) by those quantities, one matrix product for all operations and configurations.
    """
    phase = _check_phase(phase)
    head = _lm_head_mode(include_lm_head)
    matmul_only = _check_scope(scope) == "matmul"
    single, specs = _specs(spec)
    instance("widths", widths, ByteWidths)
    fused = flag("fused_attention", fused_attention)
    causal_halving = flag("causal_halving", causal_halving)
    embeddings = flag("include_embeddings", include_embeddings)
    if phase in ("decode", "generate"):
        encoders = [x.name for x in specs if not x.causal]
        if encoders:
            raise ValueError(f"phase={phase!r} needs causal (decoder) models; encoder(s): {', '.join(encoders)} "
                             "(use phase='encode')")
    length = _check_array("seq_len", seq_len, integer=True, minimum=0 if phase == "decode" else 1)
    b = _check_array("batch", batch, integer=True, minimum=1)
    wb = np.asarray(widths.weight, dtype=float)
    ab = np.asarray(widths.act, dtype=float)
    kb = np.asarray(widths.kv, dtype=float)
    coef = _coefficients(specs, phase != "prefill", fused, head, embeddings, single)
    rest = np.broadcast_shapes(*(x.shape for x in (length, b, wb, ab, kb)))
    full = rest if single else (len(specs), *rest)
    params = _spec_params(specs, causal_halving)
    spec_params = params
    if single:
        params = params[:, 0]
    else:
        params = params.reshape(4, len(specs), *(1,) * len(rest))
    slot_values = (1.0, wb, ab, kb)
    basis = np.empty((len(coef.columns), *full))
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below, naming the inputs
        u = _basis(phase, length, b, *params, minimum=np.minimum)
        for i, (slot, j) in enumerate(coef.columns):
            basis[i] = u[j] * slot_values[slot] if slot else u[j]
    n = int(np.prod(rest, dtype=int))
    if single:
        with np.errstate(over="ignore", invalid="ignore"):
            values = (coef.matrix[0] @ basis.reshape(len(coef.columns), n)).reshape(3 * len(coef.names), *full)
        counts = coef.counts[0]

        def row(r: int) -> np.ndarray:
            return values[r]
    else:  # (M, rows, K) @ (M, K, n) -> (M, rows, n); row r of every model is a view, reshaped
        with np.errstate(over="ignore", invalid="ignore"):
            values = np.matmul(coef.matrix, basis.reshape(len(coef.columns), len(specs), n).transpose(1, 0, 2))
        counts = coef.counts.T.reshape(len(coef.names), len(specs), *(1,) * len(rest))

        def row(r: int) -> np.ndarray:
            return values[:, r].reshape(full)
    _check_finite_costs(coef, phase, length, b, spec_params, (wb, ab, kb), values)
    return {name: OpCost(cat, np.broadcast_to(counts[i], full), row(3 * i), row(3 * i + 1), row(3 * i + 2))
            for i, (name, cat) in enumerate(zip(coef.names, coef.categories, strict=True))
            if not matmul_only or cat in MATMUL_CATEGORIES}


def cost_table(spec: ModelSpec | str, phase: str, seq_len: int, batch: int = 1, *, widths: ByteWidths = BF16,
               **options: bool | str) -> pd.DataFrame:
    """Per-operation cost of one configuration as a table.

    Parameters
    ----------
    spec : ModelSpec or str
        Architecture or preset name.
    phase, seq_len, batch, weight_bytes, act_bytes, kv_bytes
        As in :func:`cost_arrays`, but scalars. [tokens], [sequences], [B/element]
    **options
        ``fused_attention``, ``causal_halving``, ``include_lm_head`` (bool or ``"none"``/``"all"``/``"last"``),
        ``include_embeddings``, ``scope`` (``"all"`` or ``"matmul"``): as in :func:`cost_arrays`.

    Returns
    -------
    pandas.DataFrame
        One row per operation (per matrix product for ``scope="matmul"``), whole-model values: ``op``,
        ``category``, ``count`` (instances), ``flops`` [FLOP], ``bytes_read``, ``bytes_written``, ``bytes``
        (= MOPs) [B], ``intensity`` [FLOP/B; NaN for an operation that moves no bytes, such as a fused
        softmax]. Divide by ``count`` for one block.

    Raises
    ------
    ValueError
        As :func:`cost_arrays`; also for an array ``seq_len``/``batch``/precision, an unknown preset, or bytes
        or an intensity that overflow a float (a width of ``1e-320`` B makes the intensity infinite).
    ArgumentTypeError
        ``spec`` not a ModelSpec or preset name, ``widths`` not a ByteWidths.
    """
    instance("spec", spec, (ModelSpec, str))
    instance("widths", widths, ByteWidths)
    weight_bytes, act_bytes, kv_bytes = widths.weight, widths.act, widths.kv
    if isinstance(spec, str):
        spec = get_preset(spec)
    for name, value in (("seq_len", seq_len), ("batch", batch), ("weight_bytes", weight_bytes),
                        ("act_bytes", act_bytes), ("kv_bytes", kv_bytes)):
        if np.ndim(value):
            raise ValueError(f"{name} must be a scalar for cost_table (use cost_arrays), got {value!r}")
    ops = cost_arrays(spec, phase, seq_len, batch, widths=widths, **options)
    import pandas as pd

    df = pd.DataFrame({
        "op": list(ops),
        "category": [o.category for o in ops.values()],
        "count": [int(o.count) for o in ops.values()],
        "flops": [float(o.flops) for o in ops.values()],
        "bytes_read": [float(o.bytes_read) for o in ops.values()],
        "bytes_written": [float(o.bytes_written) for o in ops.values()],
    })
    inputs = {"seq_len": seq_len, "batch": batch, "weight_bytes": weight_bytes, "act_bytes": act_bytes,
              "kv_bytes": kv_bytes}
    with np.errstate(over="ignore"):
        df["bytes"] = df["bytes_read"] + df["bytes_written"]
        finite_result("cost_table bytes", df["bytes"], inputs)
        df["intensity"] = _ratio(df["flops"], df["bytes"])
    finite_result("cost_table intensity", df["intensity"], inputs, nan_ok=True)
    return df


def _ratio(flops: pd.Series, bytes_: pd.Series) -> pd.Series:
    return flops.where(bytes_ > 0) / bytes_.where(bytes_ > 0)
