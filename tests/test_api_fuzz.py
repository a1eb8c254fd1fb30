"""Fuzz the public API with the classes of bad input of issue 18: every bad argument is a ValueError naming it.

For every public function of the cost, roofline, bounds, serving, quick and training-memory modules, one valid
call is taken from :data:`CASES`, and each numeric argument is replaced in turn by each value of :data:`BAD`
(bools, strings, bytes, ``None``, NaN, infinities, -1, 0, 1e308, 1e-320, a 400-digit integer, 2.5, a list
holding a string or a bool, an ``object()``). Each call must either raise a ``ValueError`` (an
:class:`memwall._checks.ArgumentTypeError` is one) whose message names the argument, or, where the value is a
legal one for that argument (0 cached tokens, 2.5 B per element, 1e308 B of memory), return a result that is
finite and non-negative. Never an ``OverflowError``, ``TypeError``, ``AttributeError`` or
``ZeroDivisionError``, never an accepted bool or string, never a silent infinity, NaN or negative number.
Flags, choices (phase, scope, LM-head mode, scheme, optimizer, precision, recomputation, ZeRO stage) and object
arguments (a model, the ceilings, the widths) get their own bad values in :data:`OTHER`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from memwall import bounds, cost, cost_totals, quick, roofline
from memwall import serving as sv
from memwall.roofline import Ceilings
from memwall.specs import get_preset
from memwall.wall import training_memory as tm
from memwall.widths import ByteWidths

#: Bad values of every numeric argument (issue 18: "15 bad values"): (label, value).
BAD: list[tuple[str, object]] = [
    ("True", True), ("False", False), ("'5'", "5"), ("''", ""), ("b'5'", b"5"), ("None", None),
    ("nan", math.nan), ("inf", math.inf), ("-inf", -math.inf), ("-1", -1), ("0", 0), ("1e308", 1e308),
    ("1e-320", 1e-320), ("10**400", 10**400), ("2.5", 2.5), ("[1, 'a']", [1, "a"]), ("[2, True]", [2, True]),
    ("object()", object()),
]
#: Values each kind of argument may accept; any other bad value must raise.
ACCEPTS = {
    "count1": set(),  # a whole number >= 1 (and <= 2**53 - 1)
    "count0": {"0"},  # a whole number >= 0
    "pos": {"2.5", "1e308", "1e-320"},  # a real > 0 (1e308 or 1e-320 may still overflow a result: then an error)
    "nonneg": {"0", "2.5", "1e308", "1e-320"},  # a real >= 0
}
WIDTHS = {"weight_bytes": "weight", "act_bytes": "act", "kv_bytes": "kv"}
CEILS = {"peak": "peak_flop_per_s", "bw": "bandwidth_bytes_per_s"}
H100 = {"peak_flop_per_s": 989e12, "bandwidth_bytes_per_s": 3.35e12}
W = {name: "pos" for name in WIDTHS}
C = {"peak": "pos", "bw": "pos"}
LLAMA_TINY = "llama-3-8b"


@dataclass
class Case:
    """One public function, a valid call, and the kind of each numeric argument to fuzz."""

    name: str
    fn: Callable
    kwargs: dict
    numeric: dict[str, str]
    widths: bool = False  # pass ``widths=ByteWidths(...)`` built from the *_bytes overrides
    ceilings: bool = False  # pass ``ceilings=Ceilings(...)`` built from the peak/bw overrides
    allow: set[str] = field(default_factory=set)  # "inf": documented infinities in the result
    optional: set[str] = field(default_factory=set)  # arguments whose documented default is None


def _call(case: Case, **override: object) -> object:
    kwargs = dict(case.kwargs)
    widths = {WIDTHS[k]: override.pop(k) for k in list(override) if case.widths and k in WIDTHS}
    ceil = {CEILS[k]: override.pop(k) for k in list(override) if case.ceilings and k in CEILS}
    kwargs.update(override)
    if case.widths:
        kwargs["widths"] = ByteWidths(**widths)
    if case.ceilings:
        kwargs["ceilings"] = Ceilings(**{**H100, **ceil})
    return case.fn(**kwargs)


CASES = [
    Case("cost_arrays", cost.cost_arrays, {"spec": "gpt2", "phase": "prefill", "seq_len": 128, "batch": 2},
         {"seq_len": "count1", "batch": "count1", **W}, widths=True),
    Case("cost_arrays decode", cost.cost_arrays, {"spec": ["gpt2", "llama-3-8b"], "phase": "decode",
                                                  "seq_len": 64, "batch": 2}, {"seq_len": "count0", **W},
         widths=True),
    Case("cost_table", cost.cost_table, {"spec": "llama-3-8b", "phase": "prefill", "seq_len": 128, "batch": 2},
         {"seq_len": "count1", "batch": "count1", **W}, widths=True),
    Case("ridge_point", roofline.ridge_point, dict(H100), {k: "pos" for k in H100}),
    Case("attainable_flop_per_s", roofline.attainable_flop_per_s, {"intensity": 50.0, **H100},
         {"intensity": "nonneg", **{k: "pos" for k in H100}}),
    Case("op_time_bound", roofline.op_time_bound, {"flops": 1e12, "bytes_": 1e9, **H100},
         {"flops": "nonneg", "bytes_": "nonneg", **{k: "pos" for k in H100}}),
    Case("Ceilings", Ceilings, dict(H100), {k: "pos" for k in H100}),
    Case("Ceilings.from_measured", Ceilings.from_measured, dict(H100), {k: "pos" for k in H100}),
    Case("predict_time", bounds.predict_time, {"spec": "bert-base", "phase": "encode", "seq_len": 128, "batch": 2},
         {"seq_len": "count1", "batch": "count1", **W, **C}, widths=True, ceilings=True),
    Case("predicted_ratio", bounds.predicted_ratio, {"seq_len": 128}, {"seq_len": "count1", **W, **C},
         widths=True, ceilings=True),
    Case("decode_step_time", sv.decode_step_time, {"spec": LLAMA_TINY, "batch": 4, "context": 512},
         {"batch": "count1", "context": "count0", **W, **C}, widths=True, ceilings=True),
    Case("tokens_per_s", sv.tokens_per_s, {"spec": LLAMA_TINY, "batch": 4, "context": 512},
         {"batch": "count1", "context": "count0", **W, **C}, widths=True, ceilings=True),
    Case("time_per_token", sv.time_per_token, {"spec": "gpt2", "batch": 4, "context": 512},
         {"batch": "count1", "context": "count0", **W, **C}, widths=True, ceilings=True),
    Case("critical_batch", sv.critical_batch, {"spec": "gpt2", "context": 64},
         {"context": "count0", **W, **C}, widths=True, ceilings=True, allow={"inf"}),
    Case("critical_batch_closed_form", sv.critical_batch_closed_form, {**H100, "weight_bytes": 2.0},
         {**{k: "pos" for k in H100}, "weight_bytes": "pos"}),
    Case("footprint", sv.footprint, {"spec": LLAMA_TINY, "batch": 4, "context": 512},
         {"batch": "count1", "context": "count0", **W}, widths=True),
    Case("kv_cache_bytes", sv.kv_cache_bytes, {"spec": LLAMA_TINY, "tokens": 512, "batch": 4, "kv_bytes": 2.0},
         {"tokens": "count0", "batch": "count1", "kv_bytes": "pos"}),
    Case("max_batch", sv.max_batch, {"spec": "gpt2", "device_memory_bytes": 80e9, "context": 1024},
         {"device_memory_bytes": "nonneg", "context": "count0", **W}, widths=True),
    Case("max_context", sv.max_context, {"spec": "gpt2", "device_memory_bytes": 80e9, "batch": 4},
         {"device_memory_bytes": "nonneg", "batch": "count1", **W}, widths=True),
    Case("frontier", sv.frontier, {"spec": "gpt2", "device_memory_bytes": 80e9, "context": 1024,
                                   "batches": [1, 8]},
         {"device_memory_bytes": "nonneg", "context": "count0", "batches": "count1", **W, **C},
         widths=True, ceilings=True, optional={"batches"}),
    Case("request_split", sv.request_split, {"spec": "gpt2", "prompt_len": 256, "output_len": 16, "batch": 2},
         {"prompt_len": "count1", "output_len": "count1", "batch": "count1", **W, **C}, widths=True, ceilings=True),
    Case("estimate", quick.estimate, {"spec": LLAMA_TINY, "prompt_len": 256, "context": 300, "batch": 2},
         {"prompt_len": "count1", "context": "count0", "batch": "count1", **W, **C}, widths=True, ceilings=True,
         optional={"context"}),
    Case("training_memory", tm.training_memory,
         {"seq_len": 512, "micro_batch": 2, "n_params": 1e9, "layers": 24, "hidden": 2048, "heads": 16,
          "n_gpus": 8, "tensor_parallel": 2},
         {"seq_len": "count1", "micro_batch": "count1", "n_params": "nonneg", "layers": "count1",
          "hidden": "count1", "heads": "count1", "n_gpus": "count1", "tensor_parallel": "count1"}),
    Case("model_state_bytes", tm.model_state_bytes, {"n_params": 1e9, "n_gpus": 8, "tensor_parallel": 2},
         {"n_params": "nonneg", "n_gpus": "count1", "tensor_parallel": "count1"}),
    Case("activation_bytes_per_layer", tm.activation_bytes_per_layer,
         {"seq_len": 512, "micro_batch": 2, "hidden": 2048, "heads": 16, "tensor_parallel": 2},
         {"seq_len": "count1", "micro_batch": "count1", "hidden": "count1", "heads": "count1",
          "tensor_parallel": "count1"}),
    Case("logits_bytes", tm.logits_bytes, {"seq_len": 512, "vocab_size": 50257, "micro_batch": 2,
                                           "bytes_per_element": 4.0},
         {"seq_len": "count1", "vocab_size": "count1", "micro_batch": "count1", "bytes_per_element": "pos"}),
    Case("attention_score_share", tm.attention_score_share, {"seq_len": 512, "hidden": 2048, "heads": 16},
         {"seq_len": "count1", "hidden": "count1", "heads": "count1"}),
]


def _arrays(result: object) -> list[np.ndarray]:
    """Every number of a result (float, array, NamedTuple, dict of OpCost, DataFrame) as float arrays."""
    if isinstance(result, pd.DataFrame):
        return [result[c].to_numpy(dtype=float) for c in result.columns if result[c].dtype.kind in "iuf"]
    if isinstance(result, Ceilings):
        return [np.asarray([result.peak_flop_per_s, result.bandwidth_bytes_per_s])]
    if isinstance(result, dict):
        return [a for v in result.values() for a in _arrays(v)]
    if isinstance(result, tuple):
        return [a for v in result if not isinstance(v, str) for a in _arrays(v)]
    return [np.asarray(result, dtype=float)]


def _problems_with_result(case: Case, result: object) -> str | None:
    for arr in _arrays(result):
        values = arr[~np.isinf(arr)] if "inf" in case.allow else arr
        if not np.all(np.isfinite(values)):
            return f"silent non-finite result {arr.ravel()[:4]}"
        if np.any(values < 0):
            return f"silent negative result {arr.ravel()[:4]}"
    return None


def _outcome(case: Case, arg: str, label: str, value: object) -> str | None:
    """None if the call behaved; else what went wrong."""
    try:
        result = _call(case, **{arg: value})
    except ValueError as err:
        named = CEILS.get(arg, arg)
        if named not in str(err):
            return f"ValueError not naming {named!r}: {err}"
        return None
    except Exception as err:  # the point: any other exception type is a failure
        return f"{type(err).__name__}: {err}"
    if label not in ACCEPTS[case.numeric[arg]] and not (value is None and arg in case.optional):
        return f"accepted (coerced) {label}: {str(result)[:80]}"
    return _problems_with_result(case, result)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_valid_call_is_finite(case: Case) -> None:
    assert _problems_with_result(case, _call(case)) is None


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_bad_numeric_argument_is_a_value_error_naming_it(case: Case) -> None:
    failures = [f"{case.name}({arg}={label}): {problem}" for arg in case.numeric for label, value in BAD
                if (problem := _outcome(case, arg, label, value)) is not None]
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------------------- flags, choices, objects

FLAG_BAD = [1, 0, "yes", None, 1.0, np.array(True)]
SPEC_BAD = [5, None, object(), b"gpt2", "no-such-model", ["gpt2", 5], 3.0]


def _d(**kw: object) -> dict:
    return kw


#: A hardware table of one made-up device (rows, as :func:`memwall.device_lookup.hardware_records` gives them).
HW = [{"device": "Toy GPU 80GB", "memory_bandwidth_gb_per_s": 2000.0, "dense_fp16_tflop_per_s": 300.0,
       "peak_fp32_tflop_per_s": 20.0, "dense_fp8_tflop_per_s": None, "dense_int8_tera_op_per_s": 600.0,
       "memory_capacity_gib": 80.0}]
TOY = "Toy GPU 80GB"
TABLE = cost.cost_table("gpt2", "prefill", 64)


#: (label, function, valid kwargs, argument, bad values, words one of which the message must contain).
OTHER: list[tuple[str, Callable, dict, str, list, tuple[str, ...]]] = [
    ("cost_arrays", cost.cost_arrays, _d(spec="gpt2", phase="prefill", seq_len=8), "phase",
     ["train", None, 1, True, ["prefill"]], ("phase",)),
    ("cost_arrays", cost.cost_arrays, _d(spec="gpt2", phase="prefill", seq_len=8), "scope",
     ["gemm", None, 1, True], ("scope",)),
    ("cost_arrays", cost.cost_arrays, _d(spec="gpt2", phase="prefill", seq_len=8), "include_lm_head",
     ["first", None, 1, 0, 1.0, "yes"], ("include_lm_head",)),
    *[("cost_arrays", cost.cost_arrays, _d(spec="gpt2", phase="prefill", seq_len=8), f, FLAG_BAD, (f,))
      for f in ("fused_attention", "causal_halving", "include_embeddings")],
    ("cost_arrays", cost.cost_arrays, _d(phase="prefill", seq_len=8), "spec", SPEC_BAD, ("spec", "preset")),
    ("cost_arrays", cost.cost_arrays, _d(spec="gpt2", phase="prefill", seq_len=8), "widths",
     [2.0, None, "bf16", object()], ("widths",)),
    ("cost_table", cost.cost_table, _d(spec="gpt2", phase="prefill", seq_len=8), "spec", SPEC_BAD,
     ("spec", "preset")),
    ("predict_time", bounds.predict_time, _d(spec="gpt2", phase="prefill", seq_len=8), "ceilings",
     [None, "H100", 1e12, object()], ("ceilings",)),
    *[(name, fn, _d(spec="gpt2"), "ceilings", [None, "H100", 1e12, (1e12, 1e9)], ("ceilings",))
      for name, fn in (("decode_step_time", sv.decode_step_time), ("tokens_per_s", sv.tokens_per_s),
                       ("critical_batch", sv.critical_batch))],
    ("decode_step_time", sv.decode_step_time, _d(spec="gpt2", ceilings=Ceilings(**H100)), "fused_attention",
     FLAG_BAD, ("fused_attention",)),
    ("decode_step_time", sv.decode_step_time, _d(ceilings=Ceilings(**H100)), "spec",
     [*SPEC_BAD, "bert-base"], ("spec", "preset", "encoder")),
    ("critical_batch", sv.critical_batch, _d(spec="gpt2", ceilings=Ceilings(**H100)), "scope",
     ["attention", None, 1], ("scope",)),
    ("footprint", sv.footprint, _d(spec="gpt2", batch=1, context=8), "widths", [2, None, "W16A16"], ("widths",)),
    ("footprint", sv.footprint, _d(spec="gpt2", batch=1, context=8), "fused_attention", FLAG_BAD,
     ("fused_attention",)),
    ("max_batch", sv.max_batch, _d(spec="gpt2", device_memory_bytes=80e9, context=8), "fused_attention",
     FLAG_BAD, ("fused_attention",)),
    ("request_split", sv.request_split, _d(spec="gpt2", ceilings=Ceilings(**H100), prompt_len=8, output_len=2),
     "causal_halving", FLAG_BAD, ("causal_halving",)),
    ("estimate", quick.estimate, _d(spec="gpt2", ceilings=Ceilings(**H100), prompt_len=8), "include_lm_head",
     FLAG_BAD, ("include_lm_head",)),
    ("estimate", quick.estimate, _d(spec="gpt2", prompt_len=8), "ceilings", [None, "H100", 1e12], ("ceilings",)),
    ("get_scheme", sv.get_scheme, {}, "scheme", ["W3A3", "W4A16-", "W4A16-KV3", "", None, 16, True, object()],
     ("scheme",)),
    ("Ceilings", Ceilings, dict(H100), "name", [None, 5, b"x"], ("name",)),
    ("Ceilings", Ceilings, dict(H100), "peak_flop_per_s", [[1e12, 2e12], np.array([1e12])], ("peak_flop_per_s",)),
    ("training_memory", tm.training_memory, _d(model="gpt2", seq_len=128), "zero_stage",
     [True, False, 1.0, "1", 4, -1, None], ("zero_stage",)),
    ("training_memory", tm.training_memory, _d(model="gpt2", seq_len=128), "optimizer",
     ["lion", None, 1, True], ("optimizer",)),
    ("training_memory", tm.training_memory, _d(model="gpt2", seq_len=128), "recompute", ["some", None, 0, True],
     ("recompute",)),
    ("training_memory", tm.training_memory, _d(model="gpt2", seq_len=128), "precision", ["fp4", 1, True, ["x"]],
     ("precision",)),
    ("training_memory", tm.training_memory, _d(model="gpt2", seq_len=128), "sequence_parallel", FLAG_BAD,
     ("sequence_parallel",)),
    ("training_memory", tm.training_memory, _d(seq_len=128), "model", [5, object(), b"gpt2", "nope"],
     ("model", "preset")),
    ("training_memory", tm.training_memory, _d(model="gpt2", seq_len=128), "block_size", [4, True],
     ("block_size",)),
    ("model_state_bytes", tm.model_state_bytes, _d(n_params=1e9), "zero_stage", [True, 1.0, "2", 7],
     ("zero_stage",)),
    ("bytes_per_param", tm.bytes_per_param, {}, "optimizer", ["lion", None, 3, ["adam"]], ("optimizer",)),
    ("Ceilings.from_hardware", Ceilings.from_hardware, _d(hardware=HW, device=TOY), "precision",
     ["fp4", None, 16, True], ("precision",)),
    ("Ceilings.from_hardware", Ceilings.from_hardware, _d(hardware=HW), "device", [None, 5, True, "", "nope"],
     ("device",)),
    ("Ceilings.from_hardware", Ceilings.from_hardware, _d(device=TOY), "hardware", [None, "hardware.csv", 5],
     ("hardware",)),
    ("Ceilings.from_row", Ceilings.from_row, _d(precision="fp16"), "row",
     [None, 5, {**HW[0], "dense_fp16_tflop_per_s": "300"}, {**HW[0], "dense_fp16_tflop_per_s": True},
      {**HW[0], "memory_bandwidth_gb_per_s": -1.0}], ("row", "tflop_per_s", "gb_per_s")),
    ("ceilings_for", sv.ceilings_for, _d(hardware=HW, device=TOY), "scheme", [5, None, "W3A3", "FP8"],
     ("scheme", "fp8")),
    ("device_memory_bytes", sv.device_memory_bytes, _d(hardware=HW), "device", [None, 5, "nope"], ("device",)),
    ("device_memory_bytes", sv.device_memory_bytes, _d(device=TOY),
     "hardware", [None, "x", [{**HW[0], "memory_capacity_gib": "80"}]], ("hardware", "memory_capacity_gib")),
    ("quantization_table", sv.quantization_table, _d(hardware=HW, devices=[TOY], schemes=["W16A16"]), "models",
     ["gpt2", None, [5]], ("models",)),
    ("quantization_table", sv.quantization_table,
     _d(hardware=HW, models=["gpt2"], devices=[TOY], schemes=["W16A16"]), "context", [True, -1, 2.5, "8"],
     ("context",)),
    ("critical_batch_table", sv.critical_batch_table, _d(hardware=HW, devices=[TOY]), "schemes",
     ["W16A16", None, ["W3A3"]], ("schemes", "scheme")),
    ("frontier_grid", sv.frontier_grid, _d(hardware=HW, model="gpt2", devices=[TOY], contexts=[64]),
     "batch_exponents", [[60], [True], [-1], None, "3"], ("batch_exponents",)),
    ("totals", cost_totals.totals, _d(df=TABLE), "by",
     ["op", 5, True], ("by",)),
    ("category_intensity", cost_totals.category_intensity, _d(df=TABLE), "categories",
     ["ffn", None, ["gemm"], [None]], ("categories",)),
    ("roofline_table", bounds.roofline_table, _d(ceilings=Ceilings(**H100)), "costs",
     [None, TABLE.assign(flops="x"), TABLE.assign(bytes=-1.0), TABLE.drop(columns="bytes")],
     ("costs", "flops", "bytes")),
    ("model_time", bounds.model_time, _d(costs=TABLE), "ceilings", [None, "H100", Ceilings(1e-320, 1e12)],
     ("ceilings", "peak_flop_per_s")),
    ("smallest_compute_bound_batch", sv.smallest_compute_bound_batch, _d(compute_bound=lambda b: b >= 3), "limit",
     [0, True, 2.5, 10**400, None], ("limit",)),
]


@pytest.mark.parametrize(("label", "fn", "kwargs", "arg", "values", "words"), OTHER,
                         ids=[f"{o[0]}-{o[3]}" for o in OTHER])
def test_bad_flags_choices_and_objects(label, fn, kwargs, arg, values, words) -> None:
    failures = []
    for value in values:
        try:
            result = fn(**{**kwargs, arg: value})
        except ValueError as err:
            if not any(w in str(err) for w in words):
                failures.append(f"{label}({arg}={value!r}): message names none of {words}: {err}")
            continue
        except Exception as err:  # any other exception type is a failure
            failures.append(f"{label}({arg}={value!r}): {type(err).__name__}: {err}")
            continue
        failures.append(f"{label}({arg}={value!r}) accepted: {str(result)[:80]}")
    assert not failures, "\n".join(failures)


# -------------------------------------------------------------------------- integer results, by hand


def test_max_batch_of_a_huge_memory_raises_instead_of_wrapping() -> None:
    # issue 18: max_batch('gpt2', 1e30, 0) returned -9223372036854775808; the count is above 2**53 - 1
    with pytest.raises(ValueError, match=r"max_batch = .* is above 2\*\*53 - 1"):
        sv.max_batch("gpt2", 1e30, 0)
    with pytest.raises(ValueError, match=r"max_context = .* is above 2\*\*53 - 1"):
        sv.max_context("gpt2", 1e30)


def test_max_batch_stays_an_exact_int_up_to_the_limit() -> None:
    # memory for exactly n sequences of an empty cache (GPT-2, 16-bit): weights + n·(per sequence); n near 2**50
    spec = get_preset("gpt2")
    one = sv.footprint(spec, 1, 0)
    weights, per_seq = one.weights, one.total - one.weights
    n = 2**50
    got = sv.max_batch(spec, weights + n * per_seq, 0)
    assert isinstance(got, int) and got > 0
    assert sv.footprint(spec, got, 0).total <= weights + n * per_seq < sv.footprint(spec, got + 1, 0).total


def test_preset_names_are_specs_everywhere() -> None:
    # issue 18: cost_arrays('gpt2', 'decode', 16) raised AttributeError; a name is accepted as cost_table does
    by_name = cost.cost_arrays("gpt2", "decode", 16)
    by_spec = cost.cost_arrays(get_preset("gpt2"), "decode", 16)
    assert {k: float(v.flops) for k, v in by_name.items()} == {k: float(v.flops) for k, v in by_spec.items()}


def test_overflow_names_the_extreme_input_first() -> None:
    # issue 18: --bytes 1e308 gave bytes = inf and exit 0
    with pytest.raises(ValueError, match=r"not finite.*with weight_bytes=1e\+308"):
        cost.cost_arrays("gpt2", "prefill", 128, widths=ByteWidths(weight=1e308))
    with pytest.raises(ValueError, match=r"ridge_point is not finite.*bandwidth_bytes_per_s="):
        roofline.ridge_point(1e15, 1e-320)
