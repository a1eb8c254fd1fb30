"""Property tests (hypothesis) of the cost, roofline, serving and training-memory functions (issue 18, item 6).

Over valid ranges every result is finite and non-negative and moves the way the physics says: bytes and FLOPs
do not fall as the sequence or the batch grows, a decode step does not get faster with more sequences or a
longer cache, throughput does not fall with the batch, the roofline never exceeds its peak, the footprint grows
with batch and context, a higher ZeRO stage never needs more memory. Over the classes of bad input of issue 18
every function raises a ``ValueError`` naming the argument. Analytic relations (``B* = (P / BW) · b_w / 2``,
``time · attainable = FLOPs``) are checked against their formulas, not against stored outputs.

Other property tests live beside their modules (``test_cost.py``: intensity against batch, bytes linear in the
width; ``test_roofline.py``: attainable monotone in intensity; ``test_serving.py``: tokens/s under the compute
roof, ``max_batch`` against context, windowed ``max_context``); these do not repeat them.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memwall import bounds, cost, roofline
from memwall import serving as sv
from memwall.roofline import Ceilings
from memwall.specs import get_preset
from memwall.wall import training_memory as tm
from memwall.widths import ByteWidths

FAST = settings(max_examples=25, deadline=None)
DECODERS = ["gpt2", "llama-3-8b", "mistral-7b", "mixtral-8x7b", "gemma-3-27b", "deepseek-v3"]
ANY = ["bert-base", *DECODERS]
REL = 1e-12  # floating-point slack of a sum of products

widths = st.builds(ByteWidths, weight=st.sampled_from([0.5, 1.0, 2.0, 4.0]), act=st.sampled_from([1.0, 2.0, 4.0]),
                   kv=st.sampled_from([0.5, 1.0, 2.0]))
ceilings = st.builds(Ceilings, st.floats(1e9, 1e16), st.floats(1e8, 1e14))
pair = st.tuples(st.integers(1, 1 << 20), st.integers(1, 1 << 20)).map(sorted)
batches = st.tuples(st.integers(1, 4096), st.integers(1, 4096)).map(sorted)


def _nondecreasing(a: np.ndarray, axis: int) -> bool:
    lo, hi = np.take(a, 0, axis=axis), np.take(a, 1, axis=axis)
    return bool(np.all(hi >= lo * (1 - REL)))


# --------------------------------------------------------------------------------------------- cost


@FAST
@given(st.sampled_from(ANY), st.sampled_from(["prefill", "decode", "generate"]), pair, batches, widths,
       st.booleans(), st.booleans())
def test_cost_finite_non_negative_and_monotone(name, phase, lengths, bs, w, fused, halving) -> None:
    spec = get_preset(name)
    if not spec.causal and phase != "prefill":
        phase = "prefill"
    seq = np.array(lengths, dtype=float).reshape(2, 1)
    ops = cost.cost_arrays(spec, phase, seq, np.array(bs).reshape(1, 2), widths=w, fused_attention=fused,
                           causal_halving=halving, include_lm_head="last", include_embeddings=True)
    for op in ops.values():
        for values in (op.flops, op.bytes_read, op.bytes_written):
            assert values.shape == (2, 2) and np.all(np.isfinite(values)) and np.all(values >= 0)
            assert _nondecreasing(values, 0) and _nondecreasing(values, 1)  # in seq_len, in batch


@FAST
@given(st.lists(st.integers(0, 1 << 16), min_size=1, max_size=6), st.integers(1, 64))
def test_cost_array_inputs_of_every_kind_agree(lengths, batch) -> None:
    # the validation layer reads lists, tuples, int arrays and Series alike; none changes a value
    want = cost.cost_arrays("llama-3-8b", "decode", np.asarray(lengths, dtype=float), float(batch))
    for seq in (lengths, tuple(lengths), np.asarray(lengths, dtype=np.int32), pd.Series(lengths)):
        got = cost.cost_arrays("llama-3-8b", "decode", seq, np.int64(batch))
        for name, op in want.items():
            np.testing.assert_array_equal(got[name].bytes_read, op.bytes_read)
            np.testing.assert_array_equal(got[name].flops, op.flops)


@FAST
@given(st.sampled_from(ANY), st.integers(1, 1 << 16), st.integers(1, 512), widths)
def test_cost_table_totals_are_its_rows(name, length, batch, w) -> None:
    table = cost.cost_table(name, "prefill", length, batch, widths=w, scope="matmul")
    assert np.all(np.isfinite(table[["flops", "bytes"]].to_numpy())) and (table["bytes"] > 0).all()
    np.testing.assert_allclose(table["intensity"], table["flops"] / table["bytes"], rtol=1e-15)


@FAST
@given(st.sampled_from(ANY), pair, batches, ceilings)
def test_predicted_time_positive_and_monotone(name, lengths, bs, c) -> None:
    phase = "generate" if get_preset(name).causal else "encode"
    t = bounds.predict_time(name, phase, np.array(lengths).reshape(2, 1), c, np.array(bs).reshape(1, 2))
    assert np.all(np.isfinite(t)) and np.all(t > 0)
    assert _nondecreasing(t, 0) and _nondecreasing(t, 1)


# ----------------------------------------------------------------------------------------- roofline


@FAST
@given(st.floats(1e6, 1e18), st.floats(1e6, 1e15))
def test_ridge_point_is_peak_over_bandwidth(peak, bw) -> None:
    ridge = roofline.ridge_point(peak, bw)
    assert ridge == peak / bw and Ceilings(peak, bw).ridge_flop_per_byte == ridge
    assert roofline.attainable_flop_per_s(ridge, peak, bw) == pytest.approx(peak, rel=1e-15)  # the roofs meet


@FAST
@given(st.floats(0, 1e6), st.tuples(st.floats(1e6, 1e16), st.floats(1e6, 1e16)).map(sorted),
       st.tuples(st.floats(1e6, 1e13), st.floats(1e6, 1e13)).map(sorted))
def test_attainable_rises_with_either_ceiling_and_stays_under_both(intensity, peaks, bws) -> None:
    got = np.array([[roofline.attainable_flop_per_s(intensity, p, b) for b in bws] for p in peaks])
    assert np.all(np.diff(got, axis=0) >= 0) and np.all(np.diff(got, axis=1) >= 0)
    assert np.all(got <= np.array(peaks)[:, None]) and np.all(got <= intensity * np.array(bws)[None, :] * (1 + REL))


@FAST
@given(st.floats(1.0, 1e18), st.floats(1.0, 1e15), st.floats(1e6, 1e16), st.floats(1e6, 1e13))
def test_time_bound_times_attainable_is_the_flops(flops, bytes_, peak, bw) -> None:
    # max(F/P, M/B) · min(P, (F/M)·B) = F: the time and the throughput forms of one roofline
    t = roofline.op_time_bound(flops, bytes_, peak, bw)
    assert t >= flops / peak and t >= bytes_ / bw
    assert t * roofline.attainable_flop_per_s(flops / bytes_, peak, bw) == pytest.approx(flops, rel=1e-12)
    assert roofline.op_time_bound(2 * flops, bytes_, peak, bw) >= t  # more work never takes less time
    assert roofline.op_time_bound(flops, bytes_, 2 * peak, 2 * bw) == pytest.approx(t / 2, rel=1e-15)


# ------------------------------------------------------------------------------------------ serving


@FAST
@given(st.sampled_from(DECODERS), batches, st.tuples(st.integers(0, 1 << 17), st.integers(0, 1 << 17)).map(sorted),
       widths, ceilings)
def test_decode_step_time_rises_with_batch_and_context(name, bs, contexts, w, c) -> None:
    b, ctx = np.array(bs).reshape(2, 1), np.array(contexts).reshape(1, 2)
    step = sv.decode_step_time(name, c, b, ctx, widths=w)
    assert np.all(np.isfinite(step)) and np.all(step > 0)
    assert _nondecreasing(step, 0) and _nondecreasing(step, 1)
    np.testing.assert_array_equal(sv.time_per_token(name, c, b, ctx, widths=w), step)
    rate = sv.tokens_per_s(name, c, b, ctx, widths=w)  # b / step(b): weights amortised, never worse
    assert np.all(np.isfinite(rate)) and _nondecreasing(rate, 0)


@FAST
@given(st.floats(1e9, 1e17), st.floats(1e8, 1e14), st.sampled_from([0.5, 1.0, 2.0, 4.0]))
def test_closed_form_critical_batch_is_ridge_times_half_the_weight_width(peak, bw, wb) -> None:
    got = sv.critical_batch_closed_form(peak, bw, wb)
    assert got == pytest.approx(peak / bw * wb / 2, rel=1e-15)  # B* = (P/BW)·b_w/2 (module Notes)
    assert sv.critical_batch_closed_form(peak, bw, 2 * wb) == pytest.approx(2 * got, rel=1e-15)
    assert sv.critical_batch(None, Ceilings(peak, bw), widths=ByteWidths(weight=wb)) == got


@settings(max_examples=15, deadline=None)
@given(st.sampled_from(["gpt2", "llama-3-8b", "mixtral-8x7b"]), st.integers(0, 4096), ceilings)
def test_critical_batch_is_where_the_step_turns_compute_bound(name, context, c) -> None:
    found = sv.critical_batch(name, c, context)

    def compute_bound(b: float) -> bool:
        ops = cost.cost_arrays(name, "decode", context, b, fused_attention=True, include_lm_head=True)
        flops = sum(float(o.flops) for o in ops.values())
        return flops / c.peak_flop_per_s >= sum(float(o.bytes_read + o.bytes_written) for o in ops.values()) \
            / c.bandwidth_bytes_per_s

    if math.isinf(found):
        assert not compute_bound(sv.CRITICAL_BATCH_SEARCH_LIMIT)
    else:
        assert found >= 1 and compute_bound(found) and (found == 1 or not compute_bound(found - 1))


@FAST
@given(st.sampled_from(DECODERS), st.integers(1, 2048), st.integers(0, 1 << 17), widths, st.booleans())
def test_footprint_grows_with_batch_and_context(name, batch, context, w, fused) -> None:
    kw = dict(widths=w, fused_attention=fused)
    fp = sv.footprint(name, batch, context, **kw)
    assert all(math.isfinite(x) and x >= 0 for x in fp) and fp.total == fp.weights + fp.kv_cache + fp.activations
    assert sv.footprint(name, batch + 1, context, **kw).total > fp.total  # one more sequence costs bytes
    longer = sv.footprint(name, batch, context + 1, **kw).total
    assert longer >= fp.total and (longer > fp.total or get_preset(name).sliding_layers)  # windows may cap
    assert sv.kv_cache_bytes(name, context, batch, w.kv) == pytest.approx(batch * sv.kv_cache_bytes(
        name, context, 1, w.kv), rel=1e-15)


@FAST
@given(st.sampled_from(DECODERS), st.tuples(st.floats(1e9, 1e13), st.floats(1e9, 1e13)).map(sorted),
       st.integers(0, 1 << 16), widths)
def test_max_batch_rises_with_memory_and_brackets_the_footprint(name, memories, context, w) -> None:
    lo, hi = (sv.max_batch(name, m, context, widths=w) for m in memories)
    assert isinstance(lo, int) and 0 <= lo <= hi
    if hi:
        assert sv.footprint(name, hi, context, widths=w).total <= memories[1]
    assert sv.footprint(name, hi + 1, context, widths=w).total > memories[1]


@FAST
@given(st.sampled_from(["gpt2", "llama-3-8b", "mixtral-8x7b", "deepseek-v3"]),
       st.tuples(st.floats(1e9, 1e13), st.floats(1e9, 1e13)).map(sorted), batches, widths)
def test_max_context_falls_with_batch_and_rises_with_memory(name, memories, bs, w) -> None:
    grid = np.array([[sv.max_context(name, m, b, widths=w) for b in bs] for m in memories], dtype=float)
    assert np.all(np.isfinite(grid)) and np.all(grid >= 0)
    assert np.all(np.diff(grid, axis=0) >= 0) and np.all(np.diff(grid, axis=1) <= 0)
    c = int(grid[1, 0])
    if c:
        assert sv.footprint(name, bs[0], c, widths=w).total <= memories[1] < \
            sv.footprint(name, bs[0], c + 1, widths=w).total


@settings(max_examples=15, deadline=None)
@given(st.sampled_from(DECODERS), st.integers(1, 8192), st.integers(2, 4096), st.integers(1, 64), ceilings)
def test_request_split_adds_up(name, prompt, output, batch, c) -> None:
    r = sv.request_split(name, c, prompt, output, batch)
    assert r.ttft_s > 0 and r.tpot_s > 0 and math.isfinite(r.total_s)
    assert r.total_s == pytest.approx(r.ttft_s + (output - 1) * r.tpot_s, rel=1e-9)
    assert sv.request_split(name, c, prompt + 1, output, batch).ttft_s >= r.ttft_s * (1 - REL)


# ---------------------------------------------------------------------------------- training memory


@FAST
@given(st.sampled_from(["gpt2", "llama-3-8b", "mixtral-8x7b"]), st.integers(1, 512),
       st.sampled_from(["sgd", "sgd_momentum", "adam", "mixed_adam"]), st.integers(1, 16))
def test_higher_zero_stage_never_needs_more(name, n_gpus, optimizer, t) -> None:
    rows = [tm.training_memory(name, seq_len=1024, optimizer=optimizer, zero_stage=z, n_gpus=n_gpus,
                               tensor_parallel=t).iloc[0] for z in tm.ZERO_STAGES]
    for part in ("weights_bytes", "gradients_bytes", "optimizer_bytes", "total_bytes"):
        values = [float(r[part]) for r in rows]
        assert all(math.isfinite(v) and v >= 0 for v in values)
        assert all(b <= a for a, b in itertools.pairwise(values))
        if n_gpus == 1:  # nothing to partition over
            assert len(set(values)) == 1


@FAST
@given(st.floats(0, 1e13), st.sampled_from(tm.ZERO_STAGES),
       st.tuples(st.integers(1, 1024), st.integers(1, 1024)).map(sorted), st.integers(1, 64))
def test_model_states_shrink_with_more_gpus(n_params, stage, gpus, t) -> None:
    few, many = (tm.model_state_bytes(n_params, zero_stage=stage, n_gpus=n, tensor_parallel=t)["total"] for n in gpus)
    assert 0 <= many <= few
    assert tm.model_state_bytes(n_params, zero_stage=stage, n_gpus=gpus[0], tensor_parallel=2 * t)["total"] <= few


@FAST
@given(pair, batches, st.sampled_from([(768, 12), (4096, 32), (8192, 64)]), st.integers(1, 64), st.booleans())
def test_activations_grow_with_tokens_and_recomputation_saves(lengths, bs, shape, t, sp) -> None:
    hidden, heads = shape
    s, b = np.array(lengths).reshape(2, 1), np.array(bs).reshape(1, 2)
    kw = dict(tensor_parallel=t, sequence_parallel=sp)
    none = tm.activation_bytes_per_layer(s, b, hidden, heads, recompute="none", **kw)
    selective = tm.activation_bytes_per_layer(s, b, hidden, heads, recompute="selective", **kw)
    assert np.all(np.isfinite(none)) and np.all(selective > 0) and np.all(selective <= none)
    assert _nondecreasing(none, 0) and _nondecreasing(none, 1) and _nondecreasing(selective, 0)


@FAST
@given(st.sampled_from(["gpt2", "llama-3-8b"]), st.lists(st.integers(1, 1 << 15), min_size=1, max_size=4),
       st.integers(1, 64), st.sampled_from(["none", "selective", "full"]))
def test_training_memory_total_is_its_parts(name, seq_lens, micro_batch, recompute) -> None:
    out = tm.training_memory(name, seq_len=seq_lens, micro_batch=micro_batch, recompute=recompute)
    parts = out[["weights_bytes", "gradients_bytes", "optimizer_bytes", "activations_bytes"]]
    assert np.all(np.isfinite(parts.to_numpy())) and (parts.to_numpy() >= 0).all()
    np.testing.assert_allclose(out["total_bytes"], parts.sum(axis=1), rtol=1e-15)
    assert out["seq_len"].tolist() == seq_lens and out["seq_len"].dtype == np.int64


# -------------------------------------------------------------------------------------- bad inputs

#: The classes of bad input of issue 18 for a whole number (>= 1): bools, strings, bytes, None, NaN and the
#: infinities, negatives and 0, fractions, integers beyond 2**53 - 1 (up to 400 digits), lists holding a non-number.
bad_counts = st.one_of(
    st.booleans(), st.text(max_size=4), st.binary(max_size=3), st.none(),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, 1e-320]), st.integers(max_value=0),
    st.integers(min_value=2**53, max_value=10**400),
    st.floats(-1e6, 1e6).filter(lambda x: x != round(x)),
    st.lists(st.one_of(st.text(min_size=1, max_size=2), st.booleans(), st.none()), min_size=1, max_size=3),
)
#: ... and for a positive real (a width, a ceiling): the same, less the fractions, plus 0 and negatives.
bad_reals = st.one_of(
    st.booleans(), st.text(max_size=4), st.binary(max_size=3), st.none(),
    st.sampled_from([math.nan, math.inf, -math.inf]), st.floats(-1e300, 0.0),
    st.integers(min_value=10**309, max_value=10**400), st.integers(max_value=0),
    st.lists(st.one_of(st.text(min_size=1, max_size=2), st.booleans()), min_size=1, max_size=3),
)
H100 = Ceilings(989e12, 3.35e12)
COUNT_TARGETS = [
    ("seq_len", lambda v: cost.cost_arrays("gpt2", "prefill", v)),
    ("batch", lambda v: cost.cost_table("gpt2", "decode", 8, v)),
    ("batch", lambda v: sv.decode_step_time("gpt2", H100, v)),
    ("batch", lambda v: sv.footprint("gpt2", v, 8)),
    ("prompt_len", lambda v: sv.request_split("gpt2", H100, v, 4)),
    ("n_gpus", lambda v: tm.training_memory("gpt2", seq_len=64, n_gpus=v)),
    ("micro_batch", lambda v: tm.training_memory("gpt2", seq_len=64, micro_batch=v)),
    ("hidden", lambda v: tm.activation_bytes_per_layer(64, 1, v, 8)),
]
REAL_TARGETS = [
    ("kv_bytes", lambda v: cost.cost_arrays("gpt2", "decode", 8, widths=ByteWidths(kv=v))),
    ("peak_flop_per_s", lambda v: roofline.ridge_point(v, 1e12)),
    ("bandwidth_bytes_per_s", lambda v: roofline.op_time_bound(1.0, 1.0, 1e12, v)),
    ("weight_bytes", lambda v: sv.critical_batch_closed_form(1e15, 1e12, v)),
    ("peak_flop_per_s", lambda v: sv.decode_step_time("gpt2", Ceilings(v, 1e12))),
    ("kv_bytes", lambda v: sv.kv_cache_bytes("gpt2", 8, 1, v)),
    ("bytes_per_element", lambda v: tm.logits_bytes(8, 10, bytes_per_element=v)),
]


@settings(max_examples=30, deadline=None)
@pytest.mark.parametrize(("arg", "call"), COUNT_TARGETS, ids=[f"{a}-{i}" for i, (a, _) in enumerate(COUNT_TARGETS)])
@given(value=bad_counts)
def test_bad_counts_are_value_errors_naming_the_argument(arg, call, value) -> None:
    with pytest.raises(ValueError, match=arg):
        call(value)


@settings(max_examples=30, deadline=None)
@pytest.mark.parametrize(("arg", "call"), REAL_TARGETS, ids=[f"{a}-{i}" for i, (a, _) in enumerate(REAL_TARGETS)])
@given(value=bad_reals)
def test_bad_reals_are_value_errors_naming_the_argument(arg, call, value) -> None:
    with pytest.raises(ValueError, match=arg):
        call(value)
