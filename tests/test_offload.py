"""Tests of memwall.levers.offload and the memory-tier table: analytic cases, foreign keys, bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from memwall import serving, specs, tables
from memwall.levers import offload, offload_batch
from memwall.tables.memory_tiers import load_memory_tiers
from memwall.tables.validation import DataValidationError

from .conftest import edit_csv_cell as _edit

DATA = Path(__file__).resolve().parents[1] / "data"
H100_PCIE5 = offload.TierCeilings(989.4e12, 3.35e12, 63e9, name="H100 + PCIe 5.0")
"""H100 SXM datasheet (989.4 TFLOP/s dense BF16, 3.35 TB/s), PCIe 5.0 x16: 32 GT/s x 128/130 x 16 / 8 = 63 GB/s."""


# ----------------------------------------------------------------------------------------------- the table


def test_tiers_fill_from_foreign_keys():
    t = load_memory_tiers().set_index(["system", "tier"])
    h100 = t.loc[(offload.SYSTEM_H100_PCIE5, 0)]
    assert (h100["capacity_gib"], h100["bandwidth_gb_per_s"]) == (80.0, 3350.0)  # from hardware.csv
    host = t.loc[(offload.SYSTEM_H100_PCIE5, 1)]
    assert host["bandwidth_gb_per_s"] == pytest.approx(2 * 307.2)  # 2 sockets x 8 x DDR5-4800 x 8 B
    assert host["link_gb_per_s_per_direction"] == 63.0  # interconnects.csv
    assert host["bandwidth_gb_per_s_per_accelerator"] == pytest.approx(614.4 / 8)
    gb = t.loc[(offload.SYSTEM_GB200_C2C, 1)]
    assert gb["link_gb_per_s_per_accelerator"] == 225.0  # 900 GB/s total = 450 each way, two GPUs


def test_every_accelerator_is_a_hardware_row():
    devices = set(tables.load_hardware()["device"])
    t = load_memory_tiers()
    assert set(t["accelerator"]) <= devices
    assert set(t["memory_device"].dropna()) <= devices


def _copy(tmp_path: Path) -> Path:
    for name in ("memory_tiers.csv", "hardware.csv", "memory_generations.csv", "interconnects.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path




@pytest.mark.parametrize(("row", "column", "value", "message"), [
    (0, "accelerator", "H900 (imaginary)", "is not a device of hardware.csv"),
    (1, "memory_device", "Xeon 9999", "memory_device 'Xeon 9999' is not a device"),
    (1, "interconnect", "PCIe 9.0", "is not a name in interconnects.csv"),
    (3, "bandwidth_gb_per_s", "999", "disagrees with 614.4 implied by its foreign key"),
    (3, "link", "", "a tier > 0 needs link"),
    (0, "link", "PCIe 5.0 x16", "tier 0 has no link"),
    (3, "tier", "2", "tiers must be 0, 1, ... without gaps"),
    (6, "capacity_gib", "-96", "must be > 0"),
    (7, "memory_family", "sram", "must be one of"),
])
def test_broken_row_is_rejected(tmp_path, row, column, value, message):
    d = _copy(tmp_path)
    _edit(d / "memory_tiers.csv", row, column, value)
    with pytest.raises(DataValidationError, match=message) as err:
        load_memory_tiers(d / "memory_tiers.csv", d / "hardware.csv", d / "interconnects.csv")
    assert "memory_tiers.csv" in str(err.value)


# ------------------------------------------------------------------------------------------------ the model


def test_traffic_split_adds_up_and_matches_parameters():
    """Weights read at batch 1 = every parameter but the embedding table (the LM head is untied), x 2 B."""
    spec = specs.get_preset("llama-2-70b")
    t = offload.step_traffic(spec, 1, 1024)
    assert t.weight_read == pytest.approx((specs.parameter_count(spec) - spec.vocab_size * spec.d_model) * 2, rel=1e-3)
    assert t.kv_read == pytest.approx(serving.kv_cache_bytes(spec, 1025, 1, 2.0), rel=1e-6)
    assert t.kv_written == pytest.approx(serving.kv_cache_bytes(spec, 1, 1, 2.0), rel=1e-6)
    assert t.act_bytes > 0


def test_all_in_hbm_equals_the_decode_bound_at_batch_1():
    ours = offload.offload_step_time("llama-3-8b", H100_PCIE5, 1, 1024, weights_on_host=0.0)
    ref = serving.decode_step_time("llama-3-8b", H100_PCIE5.hbm_ceilings(), 1, 1024)
    assert ours == pytest.approx(ref, rel=1e-4)


def test_batch1_slowdown_is_the_bandwidth_ratio():
    """All weights over the link at batch 1: t = W / BW_l against (W + K + A) / BW_h."""
    t = offload.step_traffic("llama-2-70b", 1, 0)
    by_hand = (t.weight_read / 63e9) / ((t.weight_read + t.kv_read + t.kv_written + t.act_bytes) / 3.35e12)
    assert offload.slowdown_vs_hbm("llama-2-70b", H100_PCIE5, 1, 0) == pytest.approx(by_hand, rel=1e-9)
    assert by_hand == pytest.approx(3350 / 63, rel=0.01)


def test_serial_is_slower_than_overlapped_and_sums_the_terms():
    t = offload.step_traffic("llama-3-8b", 8, 512)
    serial = offload.offload_step_time("llama-3-8b", H100_PCIE5, 8, 512, overlap=False)
    hbm = t.kv_read + t.kv_written + t.act_bytes
    assert serial == pytest.approx(hbm / 3.35e12 + t.weight_read / 63e9, rel=1e-9)
    assert serial > offload.offload_step_time("llama-3-8b", H100_PCIE5, 8, 512)


def test_kv_on_host_is_full_duplex():
    """KV read host->device and the new token's KV written device->host use the two directions."""
    t = offload.step_traffic("llama-3-8b", 4, 2048)
    got = offload.offload_step_time("llama-3-8b", H100_PCIE5, 4, 2048, weights_on_host=0.0, kv_on_host=1.0)
    link = max(t.kv_read, t.kv_written) / 63e9
    assert got == pytest.approx(max(link, (t.weight_read + t.act_bytes) / 3.35e12, t.flops / 989.4e12))


@pytest.mark.parametrize(("peak", "bw", "expected"), [(989.4e12, 63e9, 15704.76), (989.4e12, 450e9, 2198.67),
                                                       (312e12, 31.5e9, 9904.76)])
def test_link_critical_batch_closed_form(peak, bw, expected):
    assert offload_batch.link_critical_batch_closed_form(peak, bw) == pytest.approx(expected, rel=1e-5)


def test_link_critical_batch_matches_the_closed_form_and_is_exact():
    system = offload.TierCeilings(989.4e12, 3.35e12, 450e9)
    b = offload_batch.link_critical_batch("llama-2-70b", system, 0)
    assert b == pytest.approx(offload_batch.link_critical_batch_closed_form(989.4e12, 450e9), rel=0.01)
    for batch, free in ((b - 1, False), (b, True)):
        t = offload.step_traffic("llama-2-70b", int(batch), 0)
        hbm = (t.kv_read + t.kv_written + t.act_bytes) / 3.35e12
        assert bool(t.weight_read / 450e9 <= max(t.flops / 989.4e12, hbm)) is free
    assert np.isinf(offload_batch.link_critical_batch("llama-3-8b", system, 4096, kv_on_host=1.0))


def test_hbm_batch_limit_by_hand():
    system = offload.TierCeilings(989.4e12, 3.35e12, 63e9, hbm_bytes=80 * 2**30)
    spec = specs.get_preset("llama-2-70b")
    staging = 2 * specs.parameter_count(spec) * 2 / spec.layers
    expected = int((80 * 2**30 - staging) // serving.kv_cache_bytes(spec, 1024, 1, 2.0))
    assert offload_batch.hbm_batch_limit(spec, system, 1024) == expected
    assert offload_batch.hbm_batch_limit(spec, system, 1024, weights_on_host=0.0) == 0  # 138 GB of weights alone


def test_from_tables_per_accelerator_shares():
    s = offload.TierCeilings.from_tables(load_memory_tiers(), tables.load_hardware(), offload.SYSTEM_H100_PCIE5)
    assert (s.peak_flop_per_s, s.hbm_bandwidth_bytes_per_s, s.link_bandwidth_bytes_per_s) == (989.4e12, 3.35e12, 63e9)
    assert s.stream_bandwidth_bytes_per_s == 63e9 and s.host_bytes == 2048 * 2**30 / 8
    with pytest.raises(ValueError, match="is not in the tier table"):
        offload.TierCeilings.from_tables(load_memory_tiers(), tables.load_hardware(), "DGX Z")
    with pytest.raises(ValueError, match="has no tier behind a link"):
        offload.TierCeilings.from_tables(load_memory_tiers(), tables.load_hardware(), offload.CPU_EPYC_9654)


def test_opt_30b_has_30_billion_parameters():
    """OPT-30B: 29.97e9 parameters (Zhang et al. 2022, arXiv 2205.01068, Table 1 lists 30B)."""
    assert specs.parameter_count(offload.OPT_30B) / 1e9 == pytest.approx(29.97, abs=0.02)


def test_tier_ceilings_table_ridges():
    t = offload_batch.tier_ceilings_table(1e15, {"a": 1e12, "b": 1e11}, [1.0, 1e5])
    assert t.groupby("ceiling")["ridge_flop_per_byte"].first().to_dict() == {"a": 1000.0, "b": 10000.0}
    assert t["attainable_flop_per_s"].tolist() == [1e12, 1e15, 1e11, 1e15]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"weights_on_host": 1.5}, r"weights_on_host must be a number in \[0, 1\], got 1.5"),
    ({"weights_on_host": True}, "weights_on_host must be a number"),
    ({"kv_on_host": "0.5"}, "kv_on_host must be a number"),
    ({"kv_on_host": -0.1}, r"kv_on_host must be a number in \[0, 1\], got -0.1"),
    ({"phase": "train"}, "phase must be one of"),
    ({"overlap": 1}, "overlap must be True or False"),
    ({"batch": 0}, "batch must be an integer >= 1"),
    ({"batch": True}, "batch must be an integer >= 1 .*got True"),
])
def test_bad_arguments(kwargs, message):
    args = {"batch": 1, **kwargs}
    batch = args.pop("batch")
    with pytest.raises(ValueError, match=message):
        offload.offload_step_time("llama-3-8b", H100_PCIE5, batch, 0, **args)


def test_bad_ceilings():
    with pytest.raises(ValueError, match="link_bandwidth_bytes_per_s must be"):
        offload.TierCeilings(1e15, 1e12, 0.0)
    with pytest.raises(ValueError, match="peak_flop_per_s must be a number"):
        offload.TierCeilings(True, 1e12, 1e9)


# ----------------------------------------------------------------------------------------------- review fixes


def test_hbm_batch_limit_without_cache_is_unbounded():
    system = offload.TierCeilings(989.4e12, 3.35e12, 63e9, hbm_bytes=80 * 2**30)
    # no KV cache: once the weights (and staging buffers) fit, every batch fits (activations not counted)
    assert offload_batch.hbm_batch_limit("llama-2-7b", system, 0) == float("inf")
    # 138 GB of Llama-2-70B weights alone exceed 80 GiB: nothing fits, with or without a cache
    assert offload_batch.hbm_batch_limit("llama-2-70b", system, 0, weights_on_host=0.0) == 0


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"context": -1}, "context must be an integer >= 0, got -1"),
    ({"context": 2.5}, "context must be an integer >= 0, got 2.5"),
    ({"context": True}, "context must be an integer >= 0 .*got True"),
    ({"staging_layers": 1.5}, "staging_layers must be an integer >= 0, got 1.5"),
    ({"weights_on_host": "1"}, r"weights_on_host must be a number in \[0, 1\]"),
])
def test_hbm_batch_limit_bad_arguments(kwargs, match):
    system = offload.TierCeilings(989.4e12, 3.35e12, 63e9, hbm_bytes=80 * 2**30)
    args = {"context": 1024, **kwargs}
    with pytest.raises(ValueError, match=match):
        offload_batch.hbm_batch_limit("llama-2-7b", system, args.pop("context"), **args)


@pytest.mark.parametrize(("args", "match"), [
    ((1e12, 0), r"link_bandwidth_bytes_per_s must be a number > 0 \[B/s\], got 0"),
    ((1e12, -1e9), r"link_bandwidth_bytes_per_s must be a number > 0 \[B/s\], got -1000000000.0"),
    ((0, 63e9), r"peak_flop_per_s must be a number > 0 \[FLOP/s\], got 0"),
    ((True, 63e9), r"peak_flop_per_s must be a number > 0 \[FLOP/s\] .*got True"),
    ((1e12, 63e9, True), r"weight_bytes must be a number > 0 \[B/element\] .*got True"),
    ((1e12, 63e9, "2"), r"weight_bytes must be a number > 0 \[B/element\]"),
])
def test_link_critical_batch_closed_form_names_the_parameter(args, match):
    with pytest.raises(ValueError, match=match):
        offload_batch.link_critical_batch_closed_form(*args)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: offload.offload_step_time("llama-3-8b", "h100"), "system must be a TierCeilings, got str 'h100'"),
    (lambda: offload.offload_tokens_per_s("llama-3-8b", None), "system must be a TierCeilings"),
    (lambda: offload_batch.link_critical_batch("llama-3-8b", "h100"), "system must be a TierCeilings"),
    (lambda: offload_batch.hbm_batch_limit("llama-3-8b", "h100", 1024), "system must be a TierCeilings"),
    (lambda: offload.step_traffic("llama-3-8b", widths=2.0), "widths must be a ByteWidths"),
])
@pytest.mark.parametrize("error", [ValueError, TypeError])
def test_wrong_system_type_names_the_parameter(call, match, error):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(("args", "match"), [
    ((0.0, 1e12, 1e9), r"peak_flop_per_s must be a number > 0 \[FLOP/s\], got 0.0"),
    ((1e15, "1e12", 1e9), r"hbm_bandwidth_bytes_per_s must be a number > 0 \[B/s\]"),
    ((1e15, 1e12, [1e9]), "link_bandwidth_bytes_per_s must be a single number > 0"),
])
def test_tier_ceilings_messages_carry_units(args, match):
    with pytest.raises(ValueError, match=match):
        offload.TierCeilings(*args)


def test_roofline_point_is_flops_over_all_bytes_under_its_ceiling():
    t = offload.StepTraffic(np.float64(4e9), np.float64(1e9), np.float64(0.5e9), np.float64(0.25e9), np.float64(0.25e9))
    p = offload_batch.roofline_point("op", "HBM", t, 1e15, 1e12)
    assert p["intensity_flop_per_byte"] == pytest.approx(2.0)  # 4 GFLOP over 2 GB
    assert p["attainable_flop_per_s"] == pytest.approx(2e12)  # memory-bound: 2 FLOP/B x 1 TB/s
    assert offload_batch.roofline_point("op", "HBM", t, 1e12, 1e13)["attainable_flop_per_s"] == pytest.approx(1e12)
    with pytest.raises(ValueError, match="bandwidth_bytes_per_s"):
        offload_batch.roofline_point("op", "HBM", t, 1e15, 0)
    with pytest.raises((ValueError, TypeError), match="traffic"):
        offload_batch.roofline_point("op", "HBM", (1, 2), 1e15, 1e12)
