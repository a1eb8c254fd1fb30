"""Tests of memwall.beyond.tensor_parallel and allreduce: ring all-reduce against a brute-force ring, hand-derived
per-chip bytes, N = 1 against single-device decode, the closed-form optimum, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memwall.beyond.allreduce import BASE_LATENCY_S, HOP_LATENCY_S, link_bandwidth, ring_allreduce_time
from memwall.beyond.tensor_parallel import (
    allreduce_bytes_per_step,
    best_chip_count,
    optimal_chips_closed_form,
    tp_decode_time,
    tp_sweep,
)
from memwall.charts import tp_chart
from memwall.roofline import Ceilings
from memwall.serving import ceilings_for, decode_step_time
from memwall.specs import get_preset, parameter_count
from memwall.tables import load_hardware, load_interconnects

FAST = settings(max_examples=25, deadline=None)
H100 = "H100 SXM5 80GB (Hopper)"


@pytest.fixture(scope="module")
def h100() -> Ceilings:
    return ceilings_for(load_hardware(), H100, "W16A16")


# ------------------------------------------------------------------------------------ all-reduce


def _ring_allreduce_bytes_sent(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force ring all-reduce (reduce-scatter, then all-gather) of ``values`` (chips x elements).

    Returns the result on every chip and the elements each chip sent.
    """
    n, m = values.shape
    chunks = np.array_split(np.arange(m), n)
    data = values.astype(float).copy()
    sent = np.zeros(n)
    for step in range(n - 1):  # reduce-scatter: chip i sends chunk (i - step) to chip i + 1
        outgoing = [(i, (i - step) % n, data[i, chunks[(i - step) % n]].copy()) for i in range(n)]
        for i, c, payload in outgoing:
            data[(i + 1) % n, chunks[c]] += payload
            sent[i] += payload.size
    for step in range(n - 1):  # all-gather: chip i sends its finished chunk (i + 1 - step)
        outgoing = [(i, (i + 1 - step) % n, data[i, chunks[(i + 1 - step) % n]].copy()) for i in range(n)]
        for i, c, payload in outgoing:
            data[(i + 1) % n, chunks[c]] = payload
            sent[i] += payload.size
    return data, sent


@pytest.mark.parametrize("n", [2, 3, 4, 8])
def test_ring_model_counts_the_bytes_a_real_ring_sends(n):
    rng = np.random.default_rng(n)
    m = 96  # divisible by every n here
    values = rng.normal(size=(n, m))
    result, sent = _ring_allreduce_bytes_sent(values)
    assert np.allclose(result, values.sum(axis=0))  # the brute-force ring is a correct all-reduce
    element_bytes, beta = 2.0, 1.0  # with bandwidth 1 B/s and no latency the model's time is bytes per chip
    model = ring_allreduce_time(m * element_bytes, n, beta, 0.0)
    assert sent * element_bytes == pytest.approx(np.full(n, model))  # 2 (N-1)/N * S, Patarasuk & Yuan 2009


def test_ring_allreduce_golden_by_hand():
    # N = 4, S = 16384 B, beta = 450 GB/s, hop 0.47 us, base 3.6 us:
    # 3.6e-6 + 2*3*0.47e-6 + (2*3/4) * 16384 / 450e9
    expect = 3.6e-6 + 6 * 0.47e-6 + 1.5 * 16384 / 450e9
    assert ring_allreduce_time(16384, 4, 450e9, 0.47e-6, 3.6e-6) == pytest.approx(expect, rel=1e-12)


@FAST
@given(st.floats(0, 1e9), st.floats(1e6, 1e13), st.floats(0, 1e-4), st.floats(0, 1e-4))
def test_one_chip_has_no_allreduce_cost(s, bw, hop, base):
    assert ring_allreduce_time(s, 1, bw, hop, base) == 0.0


@FAST
@given(st.floats(1, 1e9), st.integers(2, 64), st.floats(1e6, 1e13))
def test_allreduce_grows_with_chips(s, n, bw):
    assert ring_allreduce_time(s, n + 1, bw, 1e-6) > ring_allreduce_time(s, n, bw, 1e-6)


def test_allreduce_count_and_size():
    count, msg = allreduce_bytes_per_step("llama-3-70b", 4, 2.0)
    assert count == 2 * 80  # two per layer, Megatron-LM (Shoeybi et al. 2019) Sec. 3
    assert msg == 4 * 8192 * 2


# ----------------------------------------------------------------------------- links and latency


def test_link_bandwidths_are_per_direction():
    links = load_interconnects()
    assert link_bandwidth(links, "NVLink 4.0") == (450e9, "nvlink")  # 900 GB/s bidirectional / 2
    assert link_bandwidth(links, "PCIe 5.0") == (63e9, "pcie")
    with pytest.raises(ValueError, match="not in the interconnect table"):
        link_bandwidth(links, "NVLink 9")
    # NCCL's tuning.cc constants (ring, LL protocol)
    assert HOP_LATENCY_S["nvlink"] == 0.47e-6 and HOP_LATENCY_S["pcie"] == 1.0e-6 and BASE_LATENCY_S == 3.6e-6


# ----------------------------------------------------------------------------------- decode on N


def test_one_chip_is_single_device_decode(h100):
    r = tp_decode_time("llama-3-70b", h100, 1, 450e9, 1e-6, context=1024)
    assert r.allreduce_s == 0.0
    assert r.step_s == pytest.approx(decode_step_time("llama-3-70b", h100, 1, 1024), rel=1e-12)


def test_weight_bytes_per_chip_by_hand(h100):
    s = get_preset("llama-3-70b")
    # decode reads every weight except the embedding table (one row, not counted), at 2 bytes
    total = 2.0 * (parameter_count(s) - s.vocab_size * s.d_model)
    norms = 2.0 * (2 * s.layers * s.d_model + s.d_model)  # RMSNorm gains, replicated on every chip
    r1 = tp_decode_time(s, h100, 1, 450e9, 1e-6)
    assert r1.weight_bytes_per_chip == pytest.approx(total, rel=1e-12)
    assert r1.weights_s == pytest.approx(total / 3.35e12, rel=1e-12)
    r8 = tp_decode_time(s, h100, 8, 450e9, 1e-6)  # 8 chips = 8 KV heads: everything else splits 8 ways
    assert r8.weight_bytes_per_chip == pytest.approx((total - norms) / 8 + norms, rel=1e-12)
    # 16 chips: K and V projections stay split 8 ways (one KV head per chip, replicated)
    kv = 2.0 * 2 * s.layers * s.d_model * s.kv_heads * s.head_dim
    r16 = tp_decode_time(s, h100, 16, 450e9, 1e-6)
    assert r16.weight_bytes_per_chip == pytest.approx((total - norms - kv) / 16 + kv / 8 + norms, rel=1e-12)


def test_more_chips_less_step_more_allreduce(h100):
    r = tp_decode_time("llama-3-70b", h100, np.arange(1, 65), 450e9, 0.47e-6, context=1024)
    assert (np.diff(r.step_s) <= 1e-15).all()
    assert (np.diff(r.allreduce_s) > 0).all()
    assert r.fits.shape == (64,)


def test_fits_flags_memory(h100):
    mem = 80 * 2**30
    r = tp_decode_time("llama-3-70b", h100, [1, 2], 450e9, 1e-6, context=1024, memory_bytes=mem)
    assert list(r.fits) == [False, True]  # 141 GB of weights need two 80 GB chips


def test_best_chip_count_and_crossover():
    sweep = pd.DataFrame({"chips": [1, 2, 4, 8], "time_per_token_s": [10e-3, 6e-3, 5e-3, 5.5e-3],
                          "weights_s": [10e-3, 5e-3, 2.5e-3, 1.25e-3], "allreduce_s": [0.0, 1e-3, 2.5e-3, 4.2e-3]})
    out = best_chip_count(sweep)
    assert out["best_chips"] == 4 and out["best_time_per_token_s"] == 5e-3 and out["crossover_chips"] == 8.0
    assert np.isnan(best_chip_count(sweep.iloc[:2])["crossover_chips"])
    with pytest.raises(ValueError, match="tp_sweep"):
        best_chip_count(sweep.drop(columns="weights_s"))


def test_closed_form_optimum_matches_brute_force():
    w, a, s, beta, hop = 0.04, 160, 16384.0, 450e9, 0.47e-6
    n = np.linspace(1, 100, 200_001)
    t = w / n + a * (3.6e-6 + 2 * (n - 1) * hop + 2 * (n - 1) / n * s / beta)
    assert optimal_chips_closed_form(w, a, s, beta, hop) == pytest.approx(n[np.argmin(t)], abs=1e-3)
    assert np.isnan(optimal_chips_closed_form(1e-9, a, s, 1e3, hop))  # bandwidth term dominates


def test_sweep_and_chart(h100):
    sw = tp_sweep("llama-3-70b", h100, [1, 2, 4], 450e9, 0.47e-6)
    assert list(sw["chips"]) == [1, 2, 4]
    assert sw["time_per_token_s"].to_numpy() == pytest.approx((sw["step_s"] + sw["allreduce_s"]).to_numpy())
    r = tp_decode_time("llama-3-70b", h100, [1, 2, 4], 450e9, 0.47e-6)
    assert (sw["time_per_token_s"].to_numpy() == r.total_s).all()  # SI: seconds and bytes, as tp_decode_time
    assert (sw["weight_bytes_per_chip"].to_numpy() == r.weight_bytes_per_chip).all()
    grid = sw.assign(setup="H100 over NVLink", log2_batch=0)
    chart = tp_chart(grid).to_dict()
    names = {p["name"] for p in chart["params"]}
    assert {"tp_setup", "tp_log2batch"} <= names
    # the chart shows milliseconds
    shown = next(iter(chart["datasets"].values()))
    total = [row["total_ms"] for row in shown]  # one row per chip count; Vega-Lite folds the three times
    assert total == list(1e3 * sw["time_per_token_s"])
    assert chart["layer"][0]["transform"][1]["fold"] == ["total_ms", "step_ms", "allreduce_ms"]
    assert chart["layer"][0]["encoding"]["y"]["axis"]["title"] == "time [ms]"


# ---------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("chips", [0, 1.5, -2])
def test_bad_chip_count(h100, chips):
    with pytest.raises(ValueError, match="chips"):
        tp_decode_time("llama-3-70b", h100, chips, 450e9, 1e-6)


def test_too_many_chips(h100):
    with pytest.raises(ValueError, match="at most heads=64"):
        tp_decode_time("llama-3-70b", h100, 128, 450e9, 1e-6)


def test_bad_link_and_latency():
    with pytest.raises(ValueError, match="link_bytes_per_s"):
        ring_allreduce_time(100, 2, 0.0, 1e-6)
    with pytest.raises(ValueError, match="hop_latency_s"):
        ring_allreduce_time(100, 2, 1e9, -1e-6)
    with pytest.raises(ValueError, match="message_bytes"):
        ring_allreduce_time(-1, 2, 1e9, 1e-6)
    with pytest.raises(ValueError, match="encoder"):
        allreduce_bytes_per_step("bert-base")
