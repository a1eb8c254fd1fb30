"""Tests of memwall.wall.measure with tiny sizes: structure, positivity, STREAM byte accounting, errors (not speed)."""

from __future__ import annotations

import numpy as np
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


class StubClock:
    """``perf_counter`` stand-in: each (start, stop) pair of reads spans the next of ``durations`` [s]."""

    def __init__(self, durations: list[float]) -> None:
        self.durations, self.now, self.reads = iter(durations), 0.0, 0

    def perf_counter(self) -> float:
        self.reads += 1
        if self.reads % 2 == 0:  # a stop read: the timed call took the next duration
            self.now += next(self.durations)
        return self.now


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
    assert list(t.columns) == ["dtype", "n", "flops", "time_s", "flop_per_s", "best_flop_per_s"]
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
