r"""Mixture-of-experts decode: total vs active parameters, experts touched by a batch, critical batch.

An MoE layer holds ``E`` routed experts (plus, in DeepSeek's design, ``S`` shared experts every token
uses) and sends each token to ``k`` of the routed ones. Per token it computes like a model of its
*active* parameters, but a decode step must read every expert that *some* token of the batch was
routed to. At batch 1 that is ``k`` experts per layer; as the batch grows it approaches all ``E``.
This module counts those bytes and finds where decode turns compute-bound:

* :class:`MoESpec`: parameters split into always-read (attention, dense FFN layers, shared experts,
  routers, norms, LM head), routed experts, and gathered embeddings; :meth:`MoESpec.from_model_spec`
  for :mod:`memwall.models` presets (Mixtral 8x7B, dense models), :data:`MOE_PRESETS` for DeepSeek-V2
  and DeepSeek-V3;
* :func:`expected_distinct_experts`: expected routed experts a batch touches per layer;
* :func:`decode_step_cost`, :func:`decode_step_grid`: FLOPs, bytes and intensity of a decode step;
* :func:`compute_bound_batch`: the smallest batch whose decode step is compute-bound on a device.

Experts touched by a batch
--------------------------
Let a layer have ``E`` routed experts and let each of ``T`` tokens pick ``k`` distinct experts,
uniformly at random and independently of the other tokens (an assumption: trained routers are
neither uniform nor independent, and load-balancing losses push them only towards uniform *load*).
Fix one expert. A token's ``k``-subset is one of ``C(E, k)`` equally likely ones, of which
``C(E-1, k-1)`` contain the expert, so the token picks it with probability ``k/E``. The ``T`` tokens
are independent, so the expert is missed by all with probability ``(1 - k/E)^T``. The number of
distinct experts touched is a sum of ``E`` indicators, and expectation is linear (the indicators need
not be independent):

.. math:: \mathbb{E}[\text{distinct}] = E\,\bigl(1 - (1 - k/E)^T\bigr).

It is ``k`` at ``T = 1``, at most ``min(T·k, E)``, and tends to ``E``. Shared experts are read at
every step. In a decode step ``T`` is the batch (one new token per sequence). The same expectation is
used by :func:`memwall.cost.cost_arrays` for its MoE weight reads.

Why MoE helps FLOPs more than bytes at small batch
--------------------------------------------------
Per token, FLOPs are ``2·N_active``. Bytes of a step are ``(N_always + m·(S + D(B))·N_expert)·b_w``
with ``D(B)`` the expected distinct experts of ``m`` MoE layers. At ``B = 1`` the step reads about
the active parameters, like a dense model of that size; but ``D(B) ≈ k·B`` grows with the batch until
it saturates at ``E``, so the weight bytes grow with the batch too and the intensity stays near its
batch-1 value. Only once every expert is touched do the bytes stop growing: the intensity then
rises as ``2·B·N_active / (N_total·b_w)``, and the critical batch is about ``N_total/N_active`` times
that of a dense model of the active size, ``(P/BW)·b_w/2`` (:func:`memwall.serving.critical_batch_closed_form`).

Accounting (as :mod:`memwall.serving`, simplified)
--------------------------------------------------
A decode step of batch ``B`` with ``context`` cached tokens: FLOPs ``2·B·N_active`` (every matmul
weight used per token, the LM head included) plus the attention core of
:func:`memwall.attention_variants.decode_attention_cost`; bytes: the weights read (always-read and
the expected touched experts) plus the attention core's query, cache and output traffic. Not
counted: the embedding gather, activations between operations (``O(B·d)`` per operation, small next to
weights at small batch), norms and activation-function FLOPs, router top-k selection. Up to batch 16 this
agrees with :func:`memwall.cost.cost_arrays` within 3 % (``tests/test_moe.py``); at batch 256 the
uncounted activation traffic reaches about 5 % of the bytes.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from memwall.attention_variants import MLA_PRESETS, AttentionShape, decode_attention_cost, from_model_spec
from memwall.cost import _check_array, _check_precision
from memwall.models import ModelSpec, get_preset, parameter_count
from memwall.roofline import Ceilings

__all__ = [
    "MOE_PRESETS",
    "MoESpec",
    "StepCost",
    "compute_bound_batch",
    "decode_step_cost",
    "decode_step_grid",
    "expected_distinct_experts",
    "get_moe",
    "moe_table",
]

#: Largest batch :func:`compute_bound_batch` searches before answering ``np.inf``. [sequences]
SEARCH_LIMIT = 2**24


def expected_distinct_experts(experts: ArrayLike, active: ArrayLike, tokens: ArrayLike) -> float | np.ndarray:
    """Expected number of distinct routed experts that ``tokens`` tokens use in one layer.

    Parameters
    ----------
    experts : int or array_like of int
        Routed experts ``E`` in the layer. [experts]
    active : int or array_like of int
        Experts per token ``k`` (top-k), ``1 <= k <= E``. [experts]
    tokens : int or array_like of int
        Tokens routed ``T`` (the batch, in a decode step); 0 gives 0. [tokens]

    Returns
    -------
    float or numpy.ndarray
        ``E·(1 - (1 - k/E)^T)`` under uniform, independent top-k routing (derivation in the module
        docstring), broadcast over the arguments. [experts]

    Raises
    ------
    ValueError
        ``experts`` or ``active`` not a positive integer, ``active > experts``, ``tokens`` negative or
        not an integer; the message names the argument and value.
    """
    e = _check_array("experts", experts, integer=True, minimum=1)
    k = _check_array("active", active, integer=True, minimum=1)
    t = _check_array("tokens", tokens, integer=True, minimum=0)
    if np.any(k > e):
        bad = np.broadcast_to(k, np.broadcast_shapes(k.shape, e.shape))[np.broadcast_to(k > e, np.broadcast_shapes(
            k.shape, e.shape))]
        raise ValueError(f"active must not exceed experts, got active={bad.reshape(-1)[0]:g}")
    out = e * (1.0 - (1.0 - k / e) ** t)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class MoESpec:
    """Parameter split of a (mixture-of-experts or dense) decoder, for decode-step accounting.

    Parameters
    ----------
    name : str
        Display name.
    attention : AttentionShape
        Its attention (KV cache and attention-core cost).
    moe_layers : int
        Layers whose FFN is a mixture of experts (0 for a dense model). [layers]
    routed_experts : int
        Routed experts ``E`` per MoE layer. [experts]
    active_experts : int
        Routed experts per token ``k``. [experts]
    shared_experts : int
        Experts every token uses in every MoE layer (DeepSeek), same size as a routed one. [experts]
    expert_params : int
        Parameters of one expert (its FFN matrices and biases). [parameters]
    dense_params : int
        Parameters read at every step whatever the routing: attention, dense FFN layers, routers,
        norms and the LM head (shared experts excluded, they are counted from ``shared_experts``).
        [parameters]
    embedding_params : int
        Gathered tables (token, position, segment embeddings), never multiplied. [parameters]
    source_url : str
        Where the configuration was read.

    Raises
    ------
    ValueError
        A count that is not a non-negative integer (``routed_experts``, ``active_experts`` and
        ``expert_params`` positive), ``active_experts > routed_experts``.
    """

    name: str
    attention: AttentionShape
    moe_layers: int
    routed_experts: int
    active_experts: int
    shared_experts: int
    expert_params: int
    dense_params: int
    embedding_params: int = 0
    source_url: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.attention, AttentionShape):
            raise ValueError(f"attention must be an AttentionShape, got {self.attention!r}")
        for field, low in (("moe_layers", 0), ("routed_experts", 1), ("active_experts", 1), ("shared_experts", 0),
                           ("expert_params", 1), ("dense_params", 0), ("embedding_params", 0)):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{field} must be an integer >= {low}, got {value!r}")
        if self.active_experts > self.routed_experts:
            raise ValueError(f"active_experts must not exceed routed_experts ({self.routed_experts}), "
                             f"got {self.active_experts}")

    @property
    def total_params(self) -> int:
        """All parameters: always-read, shared and routed experts, embeddings. [parameters]"""
        experts = self.moe_layers * (self.routed_experts + self.shared_experts) * self.expert_params
        return self.dense_params + experts + self.embedding_params

    @property
    def active_params(self) -> int:
        """Parameters each token multiplies (embeddings excluded, LM head included). [parameters]"""
        return self.dense_params + self.moe_layers * (self.active_experts + self.shared_experts) * self.expert_params

    def dense_equivalent(self) -> MoESpec:
        """A dense model of the same active size: every routed expert is used by every token.

        Returns
        -------
        MoESpec
            ``routed_experts = active_experts``, so the experts read per step are the active ones at
            any batch; same attention, same active parameters and FLOPs.
        """
        return dataclasses.replace(self, name=f"dense, {self.active_params / 1e9:.1f}B (= {self.name} active)",
                                   routed_experts=self.active_experts)

    @classmethod
    def from_model_spec(cls, spec: ModelSpec | str) -> MoESpec:
        """The parameter split of a :mod:`memwall.models` preset (Mixtral-style MoE or dense).

        Parameters
        ----------
        spec : ModelSpec or str
            Decoder architecture or preset name.

        Returns
        -------
        MoESpec
            ``expert_params`` = one FFN (``ffn_matrices·d·f`` plus biases); a dense model has
            ``moe_layers = 0`` and its FFNs in ``dense_params``; an untied LM head is in
            ``dense_params``, a tied one is the token embedding (read as the LM head).

        Raises
        ------
        ValueError
            For an encoder (no decode step).
        """
        spec = get_preset(spec) if isinstance(spec, str) else spec
        if not spec.causal:
            raise ValueError(f"decode needs a causal (decoder) model, got encoder {spec.name!r}")
        d, f, b = spec.d_model, spec.ffn_dim, int(spec.bias)
        expert = spec.ffn_matrices * d * f + b * ((spec.ffn_matrices - 1) * f + d)
        moe_layers = spec.layers if spec.experts > 1 else 0
        gathered = spec.type_vocab_size * d + (spec.max_positions * d if spec.learned_positions else 0)
        if not spec.tied_embeddings:
            gathered += spec.vocab_size * d
        dense = parameter_count(spec) - gathered - moe_layers * spec.experts * expert
        return cls(name=spec.name, attention=from_model_spec(spec), moe_layers=moe_layers,
                   routed_experts=spec.experts, active_experts=spec.active_experts, shared_experts=0,
                   expert_params=expert, dense_params=dense, embedding_params=gathered,
                   source_url=spec.source_url)


def _deepseek(name: str, attention: AttentionShape, d: int, layers: int, dense_layers: int, q_lora_rank: int,
              dense_ffn: int, expert_ffn: int, routed: int, active: int, shared: int, vocab: int,
              router_bias: bool, url: str) -> MoESpec:
    """Parameter split of a DeepSeek-V2/V3 model from its config.json dimensions.

    Per layer: MLA (``q_a_proj`` d×q_lora, its RMSNorm, ``q_b_proj`` q_lora×h·(d_h+d_h^R),
    ``kv_a_proj_with_mqa`` d×(d_c+d_h^R), its RMSNorm, ``kv_b_proj`` d_c×h·(d_h+d_v), ``o_proj``
    h·d_v×d) and two RMSNorms; ``dense_layers`` gated FFNs of ``dense_ffn``; the other layers hold
    ``routed + shared`` gated experts of ``expert_ffn`` and a router of ``routed × d`` (plus a bias of
    ``routed`` in V3, ``e_score_correction_bias``). Untied embedding and LM head, a final RMSNorm.
    Multi-token-prediction modules are not part of the main model and are left out.
    """
    a = attention
    h, r, dr = a.heads, a.kv_lora_rank, a.rope_dim
    if q_lora_rank:
        q = d * q_lora_rank + q_lora_rank + q_lora_rank * h * (a.head_dim + dr)
    else:
        q = d * h * (a.head_dim + dr)
    attn = q + d * (r + dr) + r + r * h * (a.head_dim + a.v_head_dim) + h * a.v_head_dim * d
    moe_layers = layers - dense_layers
    router = routed * d + (routed if router_bias else 0)
    dense = (layers * (attn + 2 * d) + dense_layers * 3 * d * dense_ffn + moe_layers * router
             + vocab * d + d)  # + LM head + final norm
    return MoESpec(name=name, attention=a, moe_layers=moe_layers, routed_experts=routed, active_experts=active,
                   shared_experts=shared, expert_params=3 * d * expert_ffn, dense_params=dense,
                   embedding_params=vocab * d, source_url=url)


#: DeepSeek-V3 (arXiv 2412.19437, §4.2; https://huggingface.co/deepseek-ai/DeepSeek-V3/blob/main/config.json):
#: d 7168, 61 layers of which the first 3 dense (FFN 18432), 256 routed experts (8 per token) and 1 shared
#: expert of FFN width 2048, q_lora_rank 1536, vocab 129280; 671B total, 37B activated per token.
#: DeepSeek-V2 (arXiv 2405.04434, §3.1.2; https://huggingface.co/deepseek-ai/DeepSeek-V2/blob/main/config.json):
#: d 5120, 60 layers of which the first dense (FFN 12288), 160 routed experts (6 per token) and 2 shared of
#: width 1536, q_lora_rank 1536, vocab 102400; 236B total, 21B activated.
MOE_PRESETS: dict[str, MoESpec] = {
    s.name: s
    for s in (
        _deepseek("deepseek-v3", MLA_PRESETS["deepseek-v3 mla"], d=7168, layers=61, dense_layers=3,
                  q_lora_rank=1536, dense_ffn=18432, expert_ffn=2048, routed=256, active=8, shared=1,
                  vocab=129280, router_bias=True, url="https://arxiv.org/abs/2412.19437"),
        _deepseek("deepseek-v2", MLA_PRESETS["deepseek-v2 mla"], d=5120, layers=60, dense_layers=1,
                  q_lora_rank=1536, dense_ffn=12288, expert_ffn=1536, routed=160, active=6, shared=2,
                  vocab=102400, router_bias=False, url="https://arxiv.org/abs/2405.04434"),
    )
}


def get_moe(name: str | MoESpec | ModelSpec) -> MoESpec:
    """A preset of :data:`MOE_PRESETS`, or :meth:`MoESpec.from_model_spec` of a :mod:`memwall.models` preset.

    Parameters
    ----------
    name : str, MoESpec or ModelSpec
        ``"deepseek-v3"``, ``"deepseek-v2"``, or a model preset such as ``"mixtral-8x7b"``.

    Returns
    -------
    MoESpec

    Raises
    ------
    ValueError
        For an unknown name, listing the presets.
    """
    if isinstance(name, MoESpec):
        return name
    if isinstance(name, ModelSpec):
        return MoESpec.from_model_spec(name)
    key = str(name).strip().lower()
    if key in MOE_PRESETS:
        return MOE_PRESETS[key]
    try:
        return MoESpec.from_model_spec(get_preset(key))
    except ValueError:
        raise ValueError(f"unknown model {name!r}; MoE presets: {', '.join(MOE_PRESETS)}, or a decoder of "
                         "memwall.models.list_presets()") from None


# ----------------------------------------------------------------------------------------- decode


class StepCost(NamedTuple):
    """One decode step, broadcast over batch and context.

    Attributes
    ----------
    flops : float or numpy.ndarray
        Weight matmuls and attention core. [FLOP]
    bytes : float or numpy.ndarray
        Weights read plus attention traffic. [B]
    intensity : float or numpy.ndarray
        ``flops / bytes``. [FLOP/B]
    weight_bytes : float or numpy.ndarray
        Weights read (always-read, shared and expected touched experts). [B]
    attention_bytes : float or numpy.ndarray
        Query, KV cache and output traffic of the attention core. [B]
    distinct_experts : float or numpy.ndarray
        Expected routed experts touched per MoE layer by the batch. [experts]
    """

    flops: float | np.ndarray
    bytes: float | np.ndarray
    intensity: float | np.ndarray
    weight_bytes: float | np.ndarray
    attention_bytes: float | np.ndarray
    distinct_experts: float | np.ndarray


def _o(x: ArrayLike) -> float | np.ndarray:
    x = np.asarray(x, dtype=float)
    return float(x) if x.ndim == 0 else x


def decode_step_cost(model: MoESpec | ModelSpec | str, batch: ArrayLike, context: ArrayLike,
                     weight_bytes: ArrayLike = 2.0, kv_bytes: ArrayLike = 2.0, act_bytes: ArrayLike = 2.0, *,
                     mla_form: str = "absorbed") -> StepCost:
    """FLOPs, bytes and intensity of one decode step of ``batch`` sequences with ``context`` cached tokens.

    Parameters
    ----------
    model : MoESpec, ModelSpec or str
        Model (see :func:`get_moe`).
    batch : int or array_like of int
        Sequences decoded together, one new token each. [sequences]
    context : int or array_like of int
        Cached tokens per sequence. [tokens]
    weight_bytes, kv_bytes, act_bytes : float or array_like of float
        Storage per weight, cached element, query/output element. [B/element]
    mla_form : {"absorbed", "naive"}
        MLA computation (:mod:`memwall.attention_variants`).

    Returns
    -------
    StepCost
        Broadcast over the numeric arguments.

    Raises
    ------
    ValueError
        ``batch`` not a positive integer, ``context`` negative, a width not positive, unknown model.

    Notes
    -----
    ``flops = 2·B·N_active + attention FLOPs``;
    ``bytes = (N_always + m·(S + E·(1 - (1 - k/E)^B))·N_expert)·b_w + attention bytes`` (module
    docstring).
    """
    spec = get_moe(model)
    b = _check_array("batch", batch, integer=True, minimum=1)
    wb = _check_precision("weight_bytes", weight_bytes)
    touched = expected_distinct_experts(spec.routed_experts, spec.active_experts, b)
    weights = (spec.dense_params + spec.moe_layers * (spec.shared_experts + np.asarray(touched))
               * spec.expert_params) * wb
    att = decode_attention_cost(spec.attention, context, b, kv_bytes, act_bytes, mla_form=mla_form)
    flops = 2.0 * b * spec.active_params + np.asarray(att.flops)
    bytes_ = weights + np.asarray(att.bytes)
    shape = np.broadcast_shapes(np.shape(flops), np.shape(bytes_), np.shape(touched))
    return StepCost(*(_o(np.broadcast_to(x, shape)) for x in (
        flops, bytes_, flops / bytes_, weights, att.bytes, touched)))


def compute_bound_batch(model: MoESpec | ModelSpec | str, ceilings: Ceilings, context: int = 0,
                        weight_bytes: float = 2.0, kv_bytes: float = 2.0, act_bytes: float = 2.0, *,
                        mla_form: str = "absorbed") -> float:
    """Smallest batch whose decode step is compute-bound (step intensity >= the ridge point).

    Parameters
    ----------
    model : MoESpec, ModelSpec or str
        Model.
    ceilings : Ceilings
        Device (peak [FLOP/s], bandwidth [B/s]).
    context : int
        Cached tokens per sequence. [tokens]
    weight_bytes, kv_bytes, act_bytes : float
        Storage widths. [B/element]
    mla_form : {"absorbed", "naive"}
        MLA computation.

    Returns
    -------
    float
        The batch [sequences], or ``numpy.inf`` if no batch up to :data:`SEARCH_LIMIT` gets there
        (the per-sequence attention traffic keeps the step memory-bound). Memory capacity is not
        checked: the batch may not fit on the device.

    Raises
    ------
    ValueError
        Array-valued arguments, and as :func:`decode_step_cost`.

    Notes
    -----
    The step intensity ``I(B) = F(B)/M(B)`` has ``F`` linear in ``B`` and ``M`` concave in ``B``
    with ``M(0) > 0`` (the expected touched experts are concave, the KV traffic linear), so
    ``M(B)/B`` falls and ``I(B)`` rises: bisection on the integers finds the first ``B`` with
    ``I(B) >= P/BW``.
    """
    for name, value in (("context", context), ("weight_bytes", weight_bytes), ("kv_bytes", kv_bytes),
                        ("act_bytes", act_bytes)):
        if np.ndim(value):
            raise ValueError(f"{name} must be a scalar for compute_bound_batch, got {value!r}")
    ridge = ceilings.ridge_flop_per_byte

    def bound(b: int) -> bool:
        return decode_step_cost(model, b, context, weight_bytes, kv_bytes, act_bytes,
                                mla_form=mla_form).intensity >= ridge

    if not bound(SEARCH_LIMIT):
        return math.inf
    lo, hi = 1, SEARCH_LIMIT
    while lo < hi:
        mid = (lo + hi) // 2
        if bound(mid):
            hi = mid
        else:
            lo = mid + 1
    return float(lo)


def decode_step_grid(models: dict[str, MoESpec | ModelSpec | str], contexts: ArrayLike, batches: ArrayLike,
                     weight_bytes: float = 2.0, kv_bytes: float = 2.0, act_bytes: float = 2.0) -> pd.DataFrame:
    """Decode-step cost over a grid of contexts and batches for several models (for interactive charts).

    Parameters
    ----------
    models : dict of str to MoESpec, ModelSpec or str
        Label -> model.
    contexts : array_like of int
        Cached tokens per sequence. [tokens]
    batches : array_like of int
        Batches. [sequences]
    weight_bytes, kv_bytes, act_bytes : float
        Storage widths. [B/element]

    Returns
    -------
    pandas.DataFrame
        One row per (model, context, batch): ``model``, ``context`` [tokens], ``batch`` [sequences],
        ``flops`` [FLOP], ``bytes`` [B], ``intensity`` [FLOP/B], ``weight_bytes``,
        ``attention_bytes`` [B], ``distinct_experts`` [experts per MoE layer].
    """
    c = np.asarray(contexts).reshape(-1, 1)
    b = np.asarray(batches).reshape(1, -1)
    frames = []
    for label, model in models.items():
        s = decode_step_cost(model, b, c, weight_bytes, kv_bytes, act_bytes)
        cc, bb = np.broadcast_arrays(c, b)
        frames.append(pd.DataFrame({"model": label, "context": cc.ravel(), "batch": bb.ravel(),
                                    **{k: np.broadcast_to(v, cc.shape).ravel() for k, v in s._asdict().items()}}))
    return pd.concat(frames, ignore_index=True)


def moe_table(models: dict[str, MoESpec | ModelSpec | str], batches: tuple[int, ...] = (1, 8, 64),
              weight_bytes: float = 2.0) -> pd.DataFrame:
    """Total vs active parameters and expected experts touched per layer at a few batches.

    Parameters
    ----------
    models : dict of str to MoESpec, ModelSpec or str
        Label -> model.
    batches : tuple of int
        Batches at which to count distinct experts and weight bytes. [sequences]
    weight_bytes : float
        Storage per weight. [B/element]

    Returns
    -------
    pandas.DataFrame
        Index ``model``; ``total_params``, ``active_params`` [parameters], ``active_share`` (fraction),
        ``routed_experts``, ``active_experts``, ``shared_experts`` [experts], and per batch ``B``:
        ``distinct_B`` [experts per MoE layer] and ``weight_gb_B`` (weights read per step) [GB = 1e9 B].
    """
    rows = []
    for label, model in models.items():
        s = get_moe(model)
        row = {"model": label, "total_params": s.total_params, "active_params": s.active_params,
               "active_share": s.active_params / s.total_params, "routed_experts": s.routed_experts,
               "active_experts": s.active_experts, "shared_experts": s.shared_experts}
        for b in batches:
            step = decode_step_cost(s, b, 0, weight_bytes)
            row[f"distinct_{b}"] = step.distinct_experts if s.moe_layers else float("nan")
            row[f"weight_gb_{b}"] = step.weight_bytes / 1e9
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")
