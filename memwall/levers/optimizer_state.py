r"""Lean optimizers and low-precision training: bytes of optimizer state, weights and gradients per model.

The paper (Gholami et al., arXiv 2403.14123, section on breaking the wall) names two training levers: second-order
optimizers, more robust to hyperparameters but hungry for memory, and algorithms robust to low-precision training.
This module counts the bytes of both from a model's weight shapes (:func:`weight_matrices`), not from a constant:

* first order: SGD (no state), SGD with momentum (one fp32 buffer), Adam/AdamW (fp32 :math:`m`, :math:`v`; Kingma &
  Ba, arXiv 1412.6980), Adam with bf16 moments (DeepSeek-V3, arXiv 2412.19437, §3.3.3) and 8-bit Adam (Dettmers et
  al., arXiv 2110.02861, §2: each state block-wise quantized to 1 B per element plus one fp32 absolute maximum per
  block of :data:`BLOCK_8BIT` = 2048 elements);
* factored: Adafactor (Shazeer & Stern, arXiv 1804.04235, §3): an :math:`r \times c` matrix keeps a row and a column
  accumulator, :math:`r + c` fp32 elements instead of :math:`rc`; vectors keep their full second moment; optional
  fp32 first moment (:math:`\beta_1 > 0`);
* second order: Shampoo (Gupta et al., arXiv 1802.09568, Alg. 1) keeps :math:`L` (:math:`r \times r`) and :math:`R`
  (:math:`c \times c`) per matrix and their inverse fourth roots, all fp32; distributed Shampoo (Anil et al., arXiv
  2002.09018) splits a matrix into blocks of at most ``block_size`` on a side, each with its own pair, and grafts
  the step size from a diagonal method (one more fp32 buffer); K-FAC (Martens & Grosse, arXiv 1503.05671, §3) keeps
  per linear layer :math:`A` (in x in) and :math:`G` (out x out) and their inverses. Both use fp32 momentum.
  Parameters outside matrices (norms, biases) get a diagonal fp32 statistic; K-FAC leaves embedding tables (lookups,
  no input activations) to that diagonal fallback too.

Master weights and gradients come from a named precision recipe (:data:`PRECISIONS`); :func:`model_states` adds
them to the optimizer state and applies ZeRO partitioning (Rajbhandari et al., arXiv 1910.02054, Fig. 1): stage 1
shards the optimizer states (master weights and preconditioners included), stage 2 also gradients, stage 3 also
weights. Units: bytes [B]; parameters [params].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from memwall.levers._args import choice, count, finite_result, number
from memwall.specs.model_spec import ModelSpec, parameter_count
from memwall.specs.presets import get_preset

__all__ = ["BLOCK_8BIT", "OPTIMIZER_NAMES", "PRECISIONS", "SECOND_ORDER", "SHAPE_DEPENDENT", "PrecisionRecipe",
           "WeightMatrix", "kfac_matrix_elements", "model_states", "optimizer_state_bytes", "shampoo_matrix_elements",
           "weight_matrices"]

BLOCK_8BIT = 2048
"""Elements per quantization block of 8-bit optimizer states (Dettmers et al., arXiv 2110.02861, §2.1: B = 2048)."""
FP32 = 4.0
"""Bytes of one fp32 element. [B]"""

OPTIMIZER_NAMES = ("sgd", "sgd_momentum", "adam", "adam_bf16", "adam_8bit", "adafactor", "adafactor_momentum",
                   "shampoo", "kfac")
"""Optimizers :func:`optimizer_state_bytes` knows. AdamW keeps the same state as Adam."""
SECOND_ORDER = ("shampoo", "kfac")
"""Optimizers with matrix preconditioners."""
SHAPE_DEPENDENT = ("adafactor", "adafactor_momentum", "shampoo", "kfac")
"""Optimizers whose state depends on the weight shapes, not only the parameter count: they need a ModelSpec."""
ZERO_STAGES = (0, 1, 2, 3)
"""ZeRO-DP stages (arXiv 1910.02054, Fig. 1): 0 none, 1 optimizer states, 2 + gradients, 3 + weights."""

@dataclass(frozen=True)
class PrecisionRecipe:
    """Storage of weights, gradients and master weights per parameter in one precision recipe.

    Attributes
    ----------
    weights, gradients, master : float
        Working weights, gradients and the separate master copy (0 when the weights are the master). [B/param]
    description, source : str
        What is stored, and where the recipe is published.
    """

    weights: float
    gradients: float
    master: float
    description: str
    source: str


PRECISIONS: dict[str, PrecisionRecipe] = {
    "fp32": PrecisionRecipe(4, 4, 0, "fp32 weights and gradients (the weights are the master copy)",
                            "single-precision training"),
    "bf16_mixed": PrecisionRecipe(2, 2, 4, "16-bit (bf16/fp16) weights and gradients, fp32 master weights",
                                  "Micikevicius et al., arXiv 1710.03740; ZeRO, arXiv 1910.02054, §3.1"),
    "bf16_pure": PrecisionRecipe(2, 2, 0, "bf16 weights and gradients, no master copy (stochastic rounding)",
                                 "Zamirai et al., arXiv 2010.06192"),
    "fp8_mixed": PrecisionRecipe(2, 4, 4, "FP8 GEMM inputs cast on the fly; bf16 weights, fp32 gradients and "
                                          "fp32 master weights", "DeepSeek-V3, arXiv 2412.19437, §3.3; FP8 formats: "
                                                                 "Micikevicius et al., arXiv 2209.05433"),
}
"""Precision recipes by name. FP8 values exist only transiently around the GEMMs (E4M3/E5M2, arXiv 2209.05433), so
they add no per-parameter storage; DeepSeek-V3 keeps master weights and gradients in fp32 and stores the AdamW
moments in bf16 (use ``optimizer="adam_bf16"``)."""


@dataclass(frozen=True)
class WeightMatrix:
    """One kind of weight matrix of a model.

    Attributes
    ----------
    name : str
        Role, e.g. ``"attn.q"``, ``"ffn.down"``, ``"embed.tokens"``.
    rows, cols : int
        Output and input features (PyTorch ``Linear.weight`` layout; ``vocab x d`` for embeddings). [elements]
    count : int
        How many matrices of this role and shape the model holds.
    kind : {"linear", "embedding"}
        Whether the matrix multiplies an activation (linear) or is a lookup table (embedding).
    """

    name: str
    rows: int
    cols: int
    count: int
    kind: str = "linear"

    @property
    def elements(self) -> int:
        """``rows * cols * count``. [params]"""
        return self.rows * self.cols * self.count


def _ffn(spec: ModelSpec, width: int, count: int, prefix: str) -> list[WeightMatrix]:
    ups = ["gate", "up"] if spec.ffn_kind == "gated" else ["up"]
    out = [WeightMatrix(f"{prefix}.{u}", width, spec.d_model, count) for u in ups]
    return [*out, WeightMatrix(f"{prefix}.down", spec.d_model, width, count)]


def weight_matrices(model: ModelSpec | str) -> list[WeightMatrix]:
    """The weight matrices of a model, by role and shape.

    Parameters
    ----------
    model : ModelSpec or str
        Architecture or preset name.

    Returns
    -------
    list of WeightMatrix
        Attention projections (grouped-query or multi-head latent attention), FFN matrices (routed and shared
        experts, routers), BERT's pooler, embedding tables and an untied LM head. Norm scales, biases, sinks and
        the Qwen2-MoE shared-expert gate (a ``1 x d`` vector) are not matrices; they are ``parameter_count(model)``
        minus the sum of ``elements``.

    Notes
    -----
    Mirrors :func:`memwall.specs.model_spec.parameter_count` (same fields, same Hugging Face layouts); MLA follows
    DeepSeek-V2 (arXiv 2405.04434, §2.1): ``q_a`` d->r_q, ``q_b`` r_q->h(d_h+d_R), ``kv_a`` d->d_c+d_R, ``kv_b``
    d_c->h(d_h+d_v).
    """
    spec = get_preset(model) if isinstance(model, str) else model
    d, h, dh, dv, layers = spec.d_model, spec.heads, spec.head_dim, spec.value_head_dim, spec.layers
    if spec.is_mla:
        qk, rq, dc = dh + spec.rope_head_dim, spec.q_lora_rank, spec.kv_lora_rank
        attn = ([WeightMatrix("attn.q_a", rq, d, layers), WeightMatrix("attn.q_b", h * qk, rq, layers)] if rq
                else [WeightMatrix("attn.q", h * qk, d, layers)])
        attn += [WeightMatrix("attn.kv_a", dc + spec.rope_head_dim, d, layers),
                 WeightMatrix("attn.kv_b", h * (dh + dv), dc, layers)]
    else:
        g = spec.kv_heads
        attn = [WeightMatrix("attn.q", h * dh, d, layers), WeightMatrix("attn.k", g * dh, d, layers),
                WeightMatrix("attn.v", g * dv, d, layers)]
    out = [*attn, WeightMatrix("attn.o", d, h * dv, layers)]
    moe, dense = spec.moe_layers, layers - spec.moe_layers
    if dense:
        out += _ffn(spec, spec.dense_ffn_dim or spec.ffn_dim, dense, "ffn")
    if moe:
        out += _ffn(spec, spec.ffn_dim, moe * spec.experts, "experts")
        out.append(WeightMatrix("router", spec.experts, d, moe))
        if spec.shared_ffn_dim:
            out += _ffn(spec, spec.shared_ffn_dim, moe, "shared")
    if spec.pooler:
        out.append(WeightMatrix("pooler", d, d, 1))
    out.append(WeightMatrix("embed.tokens", spec.vocab_size, d, 1, "embedding"))
    if spec.learned_positions:
        out.append(WeightMatrix("embed.positions", spec.max_positions, d, 1, "embedding"))
    if spec.type_vocab_size:
        out.append(WeightMatrix("embed.types", spec.type_vocab_size, d, 1, "embedding"))
    if not spec.tied_embeddings:
        out.append(WeightMatrix("lm_head", spec.vocab_size, d, 1))
    return out


def _vector_params(spec: ModelSpec, matrices: list[WeightMatrix]) -> int:
    rest = parameter_count(spec) - sum(m.elements for m in matrices)
    if rest < 0:  # pragma: no cover - a mismatch with parameter_count is a bug here
        raise RuntimeError(f"{spec.name}: weight matrices exceed the parameter count by {-rest}")
    return rest


def _positive_int(name: str, value: object) -> int:
    """One whole number in ``[1, 2**53 - 1]`` (no bool, no string; ``10**400`` an error, not an OverflowError)."""
    if isinstance(value, float | np.floating):  # a count is an int here: 2.0 is as wrong as 2.5
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return count(name, value, minimum=1, scalar=True)


def _blocks(n: int, block: int | None) -> list[int]:
    if block is None or block >= n:
        return [n]
    return [block] * (n // block) + ([n % block] if n % block else [])


def shampoo_matrix_elements(rows: int, cols: int, block_size: int | None = None) -> int:
    r"""Elements of Shampoo's statistics for one ``rows x cols`` matrix, inverse roots not included.

    Parameters
    ----------
    rows, cols : int
        Matrix shape. [elements]
    block_size : int, optional
        Largest block side (distributed Shampoo, Anil et al., arXiv 2002.09018); ``None`` = one block (Gupta et al.,
        arXiv 1802.09568, Alg. 1).

    Returns
    -------
    int
        :math:`\sum_{i,j} (r_i^2 + c_j^2)` over blocks :math:`r_i \times c_j`; :math:`r^2 + c^2` unblocked. [elements]

    Raises
    ------
    ValueError
        If a size is not an integer >= 1.

    Examples
    --------
    >>> shampoo_matrix_elements(4096, 4096), shampoo_matrix_elements(4096, 11008, 1024)
    (33554432, 90439680)
    """
    r, c = _positive_int("rows", rows), _positive_int("cols", cols)
    rb = _blocks(r, None if block_size is None else _positive_int("block_size", block_size))
    cb = _blocks(c, block_size)
    return len(cb) * sum(x * x for x in rb) + len(rb) * sum(x * x for x in cb)


def kfac_matrix_elements(rows: int, cols: int) -> int:
    r"""Elements of K-FAC's Kronecker factors for one linear layer, inverses not included.

    Parameters
    ----------
    rows, cols : int
        Output and input features. [elements]

    Returns
    -------
    int
        :math:`\text{in}^2 + \text{out}^2`: :math:`A = E[a a^T]` and :math:`G = E[g g^T]` (Martens & Grosse, arXiv
        1503.05671, §3; the bias' homogeneous coordinate, +1 on ``in``, is neglected). [elements]

    Raises
    ------
    ValueError
        If a size is not an integer >= 1.
    """
    r, c = _positive_int("rows", rows), _positive_int("cols", cols)
    return r * r + c * c


def _check_optimizer(optimizer: object) -> None:
    choice("optimizer", optimizer, OPTIMIZER_NAMES)


def optimizer_state_bytes(model: ModelSpec | str | float, optimizer: str = "adam", *, block_size: int | None = None,
                          momentum: bool = True, grafting: bool = True) -> dict[str, float]:
    """Bytes of an optimizer's state for a whole model (no master weights, no sharding).

    Parameters
    ----------
    model : ModelSpec, str or float
        Architecture, preset name, or a parameter count [params] (first-order optimizers only).
    optimizer : {"sgd", "sgd_momentum", "adam", "adam_bf16", "adam_8bit", "adafactor", "adafactor_momentum", \
"shampoo", "kfac"}
        See the module docstring.
    block_size : int, optional
        Shampoo's largest block side; ``None`` = unblocked. [elements]
    momentum, grafting : bool
        Shampoo / K-FAC: an fp32 momentum buffer; Shampoo: an fp32 diagonal grafting buffer (Anil et al.). [-]

    Returns
    -------
    dict of str to float
        ``first_moment``, ``second_moment``, ``quantization_constants``, ``preconditioners``, ``inverse_roots``,
        ``grafting``, ``total`` [B], ``bytes_per_param`` [B/param] and ``n_params`` [params].

    Raises
    ------
    ValueError
        For an unknown optimizer, a shape-dependent optimizer without a ModelSpec, a negative or non-finite
        parameter count (a bool or a string is not one), a bad ``block_size``, a ``block_size`` for another
        optimizer than Shampoo, a non-bool ``momentum``/``grafting``, or bytes that overflow a float.

    Examples
    --------
    Adam keeps 8 B/param, 8-bit Adam 2 B/param plus 2 x 4 B per 2048-element block:

    >>> optimizer_state_bytes(1e9, "adam")["bytes_per_param"], optimizer_state_bytes(2048.0, "adam_8bit")["total"]
    (8.0, 4104.0)
    """
    _check_optimizer(optimizer)
    for name, flag in (("momentum", momentum), ("grafting", grafting)):
        if not isinstance(flag, bool):
            raise ValueError(f"{name} must be a bool, got {flag!r}")
    if block_size is not None and optimizer != "shampoo":
        raise ValueError(f"block_size applies to shampoo only, got block_size={block_size!r} for {optimizer!r}")
    _ = block_size is None or _positive_int("block_size", block_size)
    parts = dict.fromkeys(("first_moment", "second_moment", "quantization_constants", "preconditioners",
                           "inverse_roots", "grafting"), 0.0)
    if isinstance(model, ModelSpec | str):
        spec = get_preset(model) if isinstance(model, str) else model
        matrices = weight_matrices(spec)
        vectors = _vector_params(spec, matrices)
        n = float(parameter_count(spec))
    else:
        if optimizer in SHAPE_DEPENDENT:
            raise ValueError(f"optimizer={optimizer!r} needs the weight shapes: pass a ModelSpec or preset name, "
                             f"got {model!r}")
        try:
            n = float(number("model", model, unit="params"))
        except ValueError:
            raise ValueError(f"model (a parameter count) must be a finite number >= 0, got {model!r:.80}") from None
        matrices, vectors = [], n
    if optimizer == "sgd_momentum" or optimizer == "adafactor_momentum" or (optimizer in SECOND_ORDER and momentum):
        parts["first_moment"] = FP32 * n
    if optimizer in ("adam", "adam_bf16"):
        width = FP32 if optimizer == "adam" else 2.0
        parts["first_moment"] = parts["second_moment"] = width * n
    elif optimizer == "adam_8bit":
        parts["first_moment"] = parts["second_moment"] = n
        blocks = sum(m.count * math.ceil(m.rows * m.cols / BLOCK_8BIT) for m in matrices)
        blocks += math.ceil(vectors / BLOCK_8BIT)  # the vectors counted as one tensor: a few blocks at most
        parts["quantization_constants"] = 2 * FP32 * blocks
    elif optimizer in ("adafactor", "adafactor_momentum"):
        parts["second_moment"] = FP32 * (sum(m.count * (m.rows + m.cols) for m in matrices) + vectors)
    elif optimizer in SECOND_ORDER:
        if optimizer == "shampoo":
            pre = sum(m.count * shampoo_matrix_elements(m.rows, m.cols, block_size) for m in matrices)
            diagonal = vectors
            parts["grafting"] = FP32 * n if grafting else 0.0
        else:
            linear = [m for m in matrices if m.kind == "linear"]
            pre = sum(m.count * kfac_matrix_elements(m.rows, m.cols) for m in linear)
            diagonal = vectors + sum(m.elements for m in matrices if m.kind != "linear")
        parts["preconditioners"] = parts["inverse_roots"] = FP32 * pre
        parts["second_moment"] = FP32 * diagonal
    total = float(sum(parts.values()))
    finite_result("optimizer_state_bytes", total, {"n_params": n, "block_size": block_size or 0})
    return {**parts, "total": total, "bytes_per_param": total / n if n else 0.0, "n_params": n}


def model_states(model: ModelSpec | str | float, optimizer: str = "adam", *, precision: str = "bf16_mixed",
                 zero_stage: int = 0, n_gpus: int = 1, tensor_parallel: int = 1, block_size: int | None = None,
                 momentum: bool = True, grafting: bool = True) -> dict[str, float]:
    """Per-GPU bytes of weights, gradients and optimizer states (master weights included) under ZeRO.

    Parameters
    ----------
    model : ModelSpec, str or float
        Architecture, preset name, or a parameter count [params] (first-order optimizers only).
    optimizer : str
        One of :data:`OPTIMIZER_NAMES`.
    precision : str
        One of :data:`PRECISIONS`.
    zero_stage : {0, 1, 2, 3}
        ZeRO-DP stage over ``n_gpus`` (arXiv 1910.02054, Fig. 1).
    n_gpus : int
        Data-parallel degree. [GPUs]
    tensor_parallel : int
        Tensor-parallel degree; every state divided by it (as :func:`memwall.wall.training_memory.model_state_bytes`;
        for Shampoo/K-FAC this assumes each shard preconditions its own block).
    block_size, momentum, grafting
        As :func:`optimizer_state_bytes`.

    Returns
    -------
    dict of str to float
        ``weights``, ``gradients``, ``optimizer_states`` (master copy + optimizer state), ``master``,
        ``total`` per GPU [B] and ``n_params`` [params].

    Raises
    ------
    ValueError
        For an unknown precision, a ZeRO stage not an int in (0, 1, 2, 3) (``1.0`` and ``True`` rejected),
        ``n_gpus``/``tensor_parallel`` not an integer in ``[1, 2**53 - 1]``, bytes that overflow a float, and as
        :func:`optimizer_state_bytes`.

    Examples
    --------
    Mixed-precision Adam is ZeRO's 2 + 2 + 12 = 16 B/param:

    >>> model_states(1e9, "adam", precision="bf16_mixed")["total"] / 1e9
    16.0
    """
    choice("precision", precision, PRECISIONS)
    if isinstance(zero_stage, bool) or not isinstance(zero_stage, int | np.integer) or zero_stage not in ZERO_STAGES:
        raise ValueError(f"zero_stage={zero_stage!r} is not known; allowed: the ints 0, 1, 2, 3 (no bool or float)")
    n_d, t = _positive_int("n_gpus", n_gpus), _positive_int("tensor_parallel", tensor_parallel)
    state = optimizer_state_bytes(model, optimizer, block_size=block_size, momentum=momentum, grafting=grafting)
    n, rec = state["n_params"], PRECISIONS[precision]
    master = rec.master * n / t / (n_d if zero_stage >= 1 else 1)
    w = rec.weights * n / t / (n_d if zero_stage >= 3 else 1)
    g = rec.gradients * n / t / (n_d if zero_stage >= 2 else 1)
    o = master + state["total"] / t / (n_d if zero_stage >= 1 else 1)
    finite_result("model_states", w + g + o, {"n_params": n, "n_gpus": n_d, "tensor_parallel": t})
    return {"weights": w, "gradients": g, "optimizer_states": o, "master": master, "total": w + g + o,
            "n_params": n}
