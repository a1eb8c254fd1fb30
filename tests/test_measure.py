"""Tests of memwall.wall.measure (and the latency timings built on it) with tiny sizes: structure, STREAM byte
accounting, the adaptive repeats and time budget, errors (not speed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from memwall.roofline import Ceilings
from memwall.wall.measure import (
    NUMPY_PASSES,
    STREAM_BYTES_PER_ELEMENT,
    STREAM_KERNELS,
    MachineInfo,
    MachineReport,
    gemm_peak,
    gemv_gemm_sweep,
    machine_info,
    measure_machine,
    stream_bandwidth,
)
from memwall.wall.measure.stream import _triad
from memwall.wall.measure.timing import TimeBudget, Timing, measure

from .conftest import StubClock


def test_stream_byte_accounting_is_mccalpins() -> None:
    # STREAM (McCalpin): copy and scale touch 2 arrays, add and triad 3, of 8-byte elements.
    assert STREAM_BYTES_PER_ELEMENT == {"copy": 16, "scale": 16, "add": 24, "triad": 24}
    assert len(NUMPY_PASSES["triad"]) == 2 and all(len(NUMPY_PASSES[k]) == 1 for k in ("copy", "scale", "add"))


@pytest.mark.parametrize("threads", [1, 2])
def test_stream_table(threads: int) -> None:
    n = 20_000
    t = stream_bandwidth(n, repeats=2, threads=threads)
    assert list(t["kernel"]) == list(STREAM_KERNELS)
    assert (t["n_elements"] == n).all() and (t["array_bytes"] == 8 * n).all() and (t["threads"] == threads).all()
    assert list(t["stream_bytes_per_element"]) == [16, 16, 24, 24]
    assert list(t["moved_bytes_per_element"]) == [16, 16, 24, 24]  # blocked triad: one pass
    for col in ("time_s", "best_time_s", "bandwidth_bytes_per_s", "best_bandwidth_bytes_per_s"):
        assert (t[col] > 0).all() and np.isfinite(t[col]).all()
    np.testing.assert_allclose(t["bandwidth_bytes_per_s"], t["stream_bytes_per_element"] * n / t["time_s"])
    np.testing.assert_allclose(t["best_bandwidth_bytes_per_s"], t["stream_bytes_per_element"] * n / t["best_time_s"])



@pytest.mark.parametrize("threads", [1, 2])
def test_stream_timing_with_a_stubbed_clock(monkeypatch: pytest.MonkeyPatch, threads: int) -> None:
    # Three timed runs per kernel lasting 4, 1 and 2 ms: median 2 ms, best 1 ms. STREAM counts 16, 16, 24 and
    # 24 B per element (McCalpin), so with n = 1000 copy reports 16·1000 B / 2 ms = 8e6 B/s (1.6e7 at best)
    # and triad 24·1000 B / 2 ms = 1.2e7 B/s (2.4e7 at best). The warm-up run of each kernel is not timed.
    from memwall.wall.measure import timing

    clock = StubClock([4e-3, 1e-3, 2e-3] * 4)
    monkeypatch.setattr(timing, "time", clock)
    t = stream_bandwidth(1000, repeats=3, threads=threads).set_index("kernel")
    assert clock.reads == 2 * 3 * 4  # two reads per timed run, 3 runs, 4 kernels
    np.testing.assert_allclose(t["time_s"], [2e-3] * 4, rtol=1e-12)
    np.testing.assert_allclose(t["best_time_s"], [1e-3] * 4, rtol=1e-12)
    np.testing.assert_allclose(t["bandwidth_bytes_per_s"], [8e6, 8e6, 1.2e7, 1.2e7], rtol=1e-12)
    np.testing.assert_allclose(t["best_bandwidth_bytes_per_s"], [1.6e7, 1.6e7, 2.4e7, 2.4e7], rtol=1e-12)


def test_stream_two_pass_triad_counts_40_bytes() -> None:
    t = stream_bandwidth(4096, repeats=1, threads=1, triad_blocked=False, kernels=["triad"])
    assert list(t["kernel"]) == ["triad"]
    row = t.iloc[0]
    assert (row["stream_bytes_per_element"], row["moved_bytes_per_element"]) == (24, 40)
    assert row["moved_bandwidth_bytes_per_s"] == pytest.approx(row["bandwidth_bytes_per_s"] * 40 / 24)


@pytest.mark.parametrize("scratch", [None, 7, 1000])
def test_triad_kernel_is_b_plus_s_c(scratch: int | None) -> None:
    rng = np.random.default_rng(0)
    b, c = rng.standard_normal(100), rng.standard_normal(100)
    a = np.zeros(100)
    _triad(a, b, c, 3.0, None if scratch is None else np.empty(scratch))
    np.testing.assert_allclose(a, b + 3.0 * c)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"n_elements": 0}, "n_elements"),
    ({"n_elements": 100, "repeats": 0}, "repeats"),
    ({"n_elements": 100, "threads": 0}, "threads"),
    ({"n_elements": 100, "kernels": ["fma"]}, "kernel"),
    ({"n_elements": 1.5}, "n_elements"),
])
def test_stream_bad_input(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        stream_bandwidth(**kwargs)


def test_gemm_peak() -> None:
    t = gemm_peak((16, 32), repeats=1)
    assert list(t.columns) == ["dtype", "n", "flops", "time_s", "flop_per_s", "best_flop_per_s", "time_iqr_s",
                               "repeats"]
    assert (t["repeats"] == 1).all() and t["time_iqr_s"].isna().all()  # one run has no spread
    assert len(t) == 4 and set(t["dtype"]) == {"float32", "float64"}
    np.testing.assert_allclose(t["flops"], 2.0 * t["n"].astype(float) ** 3)
    np.testing.assert_allclose(t["flop_per_s"], t["flops"] / t["time_s"])
    assert (t["flop_per_s"] > 0).all()
    with pytest.raises(ValueError, match="dtype"):
        gemm_peak((16,), ("float16",))
    with pytest.raises(ValueError, match="sizes"):
        gemm_peak((0,))


def test_gemv_gemm_sweep_intensity() -> None:
    d = 64
    t = gemv_gemm_sweep(d, (1, 4, 64), repeats=1, weight_copies=2)
    assert list(t["batch"]) == [1, 4, 64]
    b = t["batch"].to_numpy(dtype=float)
    np.testing.assert_allclose(t["flops"], 2.0 * d * d * b)
    np.testing.assert_allclose(t["bytes"], (d * d + 2 * d * b) * 4)
    # Intensity of y = W x in float32: 2 d^2 b / ((d^2 + 2 d b) 4) -> b/2 for b << d, ~0.5 at b = 1.
    np.testing.assert_allclose(t["intensity_flop_per_byte"], 2 * d * d * b / ((d * d + 2 * d * b) * 4))
    assert t["intensity_flop_per_byte"].is_monotonic_increasing
    assert (t["flop_per_s"] > 0).all() and (t["effective_bandwidth_bytes_per_s"] > 0).all()
    for kwargs, name in (({"d": 0}, "d"), ({"batches": []}, "batches"), ({"dtype": "int8"}, "dtype"),
                         ({"weight_copies": 0}, "weight_copies")):
        with pytest.raises(ValueError, match=name):
            gemv_gemm_sweep(**{"d": 8, **kwargs})


def test_machine_info() -> None:
    info = machine_info()
    assert isinstance(info, MachineInfo)
    assert info.numpy_version == np.__version__
    assert info.logical_cpus >= info.usable_cpus >= 1
    assert info.blas_threads >= 1 and info.blas
    assert isinstance(info.cpu_model, str) and info.cpu_model
    assert set(info.as_dict()) >= {"cpu_model", "blas", "blas_threads", "numpy_version"}


def test_measure_machine_tiny() -> None:
    r = measure_machine(stream_elements=10_000, stream_repeats=1, gemm_sizes=(32,), gemv_d=32,
                        gemv_batches=(1, 2), repeats=1, progress=False)
    assert isinstance(r, MachineReport) and r.elapsed_s > 0
    assert len(r.stream) == 4 and len(r.gemm) == 2 and len(r.gemv) == 2
    assert r.bandwidth_bytes_per_s == pytest.approx(r.stream["bandwidth_bytes_per_s"].max())
    c = r.ceilings()
    assert isinstance(c, Ceilings) and c.precision == "fp32"
    assert c.peak_flop_per_s == pytest.approx(r.gemm.loc[r.gemm["dtype"] == "float32", "flop_per_s"].max())
    assert r.ceilings("float64").precision == "fp64"
    with pytest.raises(ValueError, match="dtype='float16'"):
        r.peak_flop_per_s("float16")



def test_envelope_bound_is_never_beaten_and_reference_rows_validate(tmp_path):
    """A bound must bound: every measured GEMM/GEMV point takes at least its roofline time."""
    from memwall import tables
    from memwall.wall import measure

    report = measure.measure_machine(quick=True, progress=False)
    check = report.bound_check()
    assert len(check) == len(report.gemv) + (report.gemm["dtype"] == "float32").sum()
    assert (check["ratio"] >= 1 - 1e-9).all(), check
    strict = report.ceilings(envelope=False)
    loose = report.ceilings()
    assert loose.peak_flop_per_s >= strict.peak_flop_per_s
    assert loose.bandwidth_bytes_per_s >= strict.bandwidth_bytes_per_s
    rows = report.to_reference_rows(command="memwall measure reference --quick")
    path = tmp_path / "reference_measurements.csv"
    rows.to_csv(path, index=False)
    loaded = tables.load_reference_measurements(path)
    assert set(loaded["experiment"]) == {"stream", "gemm", "gemv"}


# ------------------------------------------------------------------------------ adaptive timing


class ManualClock:
    """A clock that only moves when the timed function says so: ``advance(dt)`` [s]."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, dt: float) -> None:
        self.now += dt


def test_timing_statistics() -> None:
    # Five runs 1..5 s: median 3, numpy's linear quartiles 2 and 4, so IQR 2; min 1, max 5.
    t = Timing.from_samples([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (t.repeats, t.median_s, t.q1_s, t.q3_s, t.iqr_s, t.min_s, t.max_s, t.total_s) == (5, 3, 2, 4, 2, 1, 5, 15)
    one = Timing.from_samples([0.5])
    assert one.median_s == 0.5 and np.isnan(one.iqr_s)
    for bad in ([], [-1.0], [float("nan")]):
        with pytest.raises(ValueError):
            Timing.from_samples(bad)


def test_measure_without_budget_times_exactly_max_repeats() -> None:
    clock, calls = ManualClock(), []

    def fn() -> None:
        calls.append(1)
        clock.advance(1.0)

    t = measure(fn, None, 1, 4, clock=clock)
    assert t.repeats == 4 and len(calls) == 5 and t.median_s == 1.0  # 4 timed + 1 warm-up
    t = measure(fn, None, 1, 2, warmup=False, clock=clock)
    assert t.repeats == 2 and len(calls) == 7


def test_measure_stops_when_the_next_repeat_would_overrun_the_budget() -> None:
    # 1 s per call, budget 3.5 s: warm-up (1 s) + 2 repeats = 3 s; a third would end at 4 s > 3.5 s.
    clock = ManualClock()
    t = measure(lambda: clock.advance(1.0), 3.5, 1, 10, clock=clock)
    assert t.repeats == 2 and clock.now == 3.0
    # A budget smaller than one call still gets min_repeats repeats.
    clock = ManualClock()
    assert measure(lambda: clock.advance(1.0), 0.1, 3, 10, clock=clock).repeats == 3
    # max_repeats caps a generous budget.
    clock = ManualClock()
    assert measure(lambda: clock.advance(1.0), 100.0, 1, 4, clock=clock).repeats == 4
    for kwargs, name in (({"min_repeats": 0}, "min_repeats"), ({"max_repeats": 0}, "max_repeats"),
                         ({"min_repeats": 3, "max_repeats": 2}, "must not exceed"), ({"budget_s": -1.0}, "budget_s"),
                         ({"budget_s": float("inf")}, "budget_s")):
        with pytest.raises(ValueError, match=name):
            measure(lambda: None, **kwargs)


def test_time_budget_shares_what_is_left() -> None:
    clock = ManualClock()
    budget = TimeBudget(10.0, 4, clock=clock)
    assert budget.next_share() == pytest.approx(2.5)  # 10 s over 4 measurements
    clock.advance(1.0)  # the first used 1 s of its 2.5: the rest flows on
    assert budget.next_share() == pytest.approx(3.0)  # 9 s over 3
    clock.advance(8.5)
    assert budget.next_share() == pytest.approx(0.25)  # 0.5 s over 2
    clock.advance(5.0)
    assert budget.remaining_s == 0.0 and budget.next_share() == 0.0 and budget.spent_s == pytest.approx(14.5)
    assert budget.next_share() == 0.0  # past the last item: what is left
    with pytest.raises(ValueError, match="items"):
        TimeBudget(1.0, 0)
    with pytest.raises(ValueError, match="budget_s"):
        TimeBudget(-1.0)


def test_budgeted_measurements_carry_spread_and_repeats() -> None:
    s = stream_bandwidth(20_000, repeats=4, threads=1, budget_s=5.0, min_repeats=2)
    assert ((s["repeats"] >= 2) & (s["repeats"] <= 4)).all() and (s["time_iqr_s"] >= 0).all()
    g = gemm_peak((16,), ("float32",), repeats=3, budget_s=0.0, min_repeats=2)
    assert list(g["repeats"]) == [2]  # a spent budget still gives min_repeats
    v = gemv_gemm_sweep(32, (1, 2), repeats=5, weight_copies=1, budget_s=TimeBudget(5.0, 2))
    assert ((v["repeats"] >= 1) & (v["repeats"] <= 5)).all()
    r = measure_machine(stream_elements=10_000, gemm_sizes=(32,), gemv_d=32, gemv_batches=(1, 2), repeats=3,
                        stream_repeats=3, budget_s=2.0, progress=False)
    assert {"time_iqr_s", "repeats"} <= set(r.stream.columns) & set(r.gemm.columns) & set(r.gemv.columns)
    assert r.elapsed_s < 10  # tiny sizes: far inside the budget's reach


def test_top_up_gives_repeats_to_the_measurement_with_fewest() -> None:
    from memwall.wall.measure.timing import Measured, top_up

    clock = ManualClock()
    budget = TimeBudget(10.0, 2, clock=clock)
    cheap = Measured(lambda: clock.advance(1.0), Timing((1.0,) * 3), 5)
    dear = Measured(lambda: clock.advance(3.0), Timing((3.0,)), 3)
    # 10 s left. dear has the fewest repeats (1): +3 s (7 left); still the fewest (2 < 3): +3 s (4 left), now
    # at its cap of 3. cheap: +1 s twice (2 left), reaching its cap of 5. Four repeats added, 8 s spent.
    assert top_up([cheap, dear], budget, clock=clock) == 4
    assert (cheap.timing.repeats, dear.timing.repeats, clock.now) == (5, 3, 8.0)
    assert top_up([cheap, dear], TimeBudget(0.5, clock=clock), clock=clock) == 0


def _tiny(causal: bool, max_positions: int = 64):
    from memwall.specs import ModelSpec

    return ModelSpec(name="tiny", layers=1, d_model=16, heads=2, kv_heads=2, head_dim=8, ffn_dim=32, ffn_kind="gelu",
                     vocab_size=16, max_positions=max_positions, bias=True, norm="layernorm", causal=causal,
                     final_norm=causal)


def test_generation_timing_runs_the_greedy_loop_and_the_lm_head(monkeypatch: pytest.MonkeyPatch) -> None:
    from memwall.wall.numpy_transformer import NumpyTransformer, measure_decode_step, measure_generate
    from memwall.wall.numpy_transformer.sampled import measure_generate_sampled

    dec = NumpyTransformer(_tiny(True))
    greedy, steps = [], []
    real_greedy, real_step = dec.generate_greedy, dec.decode_step_ids
    monkeypatch.setattr(dec, "generate_greedy", lambda p, n: greedy.append((p.tolist(), n)) or real_greedy(p, n))
    monkeypatch.setattr(dec, "decode_step_ids", lambda t, c: steps.append(c.length) or real_step(t, c))
    t = measure_generate(12, model=dec, repeats=2, warmup=True)
    assert t.repeats == 2 and greedy == [([0], 8), ([0], 12), ([0], 12)]  # 8-token warm-up, then 2 timed
    steps.clear()
    est = measure_generate_sampled(12, model=dec, samples=3, repeats=2)
    assert est.cache_lengths == (0, 6, 11) and est.repeats == 2
    assert steps == [0, 0, 0, 6, 6, 11, 11]  # warm-up, then 2 steps at each length, LM head included
    assert est.q1_s <= est.median_s <= est.q3_s and est.iqr_s >= 0
    steps.clear()
    assert measure_decode_step(5, model=dec, repeats=3).repeats == 3 and steps == [5] * 4
    with pytest.raises(ValueError, match="cache_len"):
        measure_decode_step(-1, model=dec)


def test_latency_table_under_a_budget_carries_spread_repeats_and_method() -> None:
    from memwall.wall.numpy_transformer import LATENCY_COLUMNS, latency_table

    survey = pd.DataFrame({"model": [], "seq_len": [], "operator": [], "metric": [], "published_value": []})
    t = latency_table((8, 16, 80), encoder=_tiny(False, 128), decoder=_tiny(True), repeats=4, decoder_repeats=3,
                      decoder_samples=3, loop_up_to=8, budget_s=3.0, published=survey, progress=False)
    assert list(t.columns[: len(LATENCY_COLUMNS)]) == list(LATENCY_COLUMNS)
    assert list(t["engine"]) == ["numpy"] * 3 and list(t["decoder_method"]) == ["loop", "sampled", "sampled"]
    assert t["encoder_repeats"].between(1, 4).all() and t["decoder_repeats"].between(1, 3).all()
    np.testing.assert_allclose(t["ratio"], t["decoder_s"] / t["encoder_s"])
    # Past the 64 positions of the tiny decoder a whole generation runs on hidden states.
    whole = latency_table((80,), encoder=_tiny(False, 128), decoder=_tiny(True), repeats=1, published=survey,
                          progress=False)
    assert list(whole["decoder_method"]) == ["loop-hidden"] and np.isnan(whole["decoder_iqr_s"].iloc[0])
