"""Tests of memwall.levers.recommendation and the recommendation-model table: published sizes, bad rows, bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from memwall.levers import recommendation as rec
from memwall.tables.recommendation import load_recommendation_models
from memwall.tables.validation import DataValidationError

from .conftest import edit_csv_cell as _edit

DATA = Path(__file__).resolve().parents[1] / "data"
V2 = "DLRM-v2 DCNv2 (MLPerf; Criteo 1TB multi-hot)"
KAGGLE = "DLRM (Criteo Kaggle)"


@pytest.fixture(scope="module")
def tables():
    return load_recommendation_models()


def test_dlrm_v2_matches_the_mlperf_definition(tables):
    """26 tables, dimension 128, multi-hot sizes summing to 214 (mlcommons/training recommendation_v2 README)."""
    v2 = tables[tables["model"] == V2]
    assert len(v2) == 26 and set(v2["embedding_dim"]) == {128}
    assert v2["lookups_per_sample"].sum() == 214
    assert (v2["rows"] == 40_000_000).sum() == 5  # the tables capped at 40M rows


def test_dlrm_v2_size_is_the_published_checkpoint(tables):
    """fp32 tables = 97.31 (du) of the MLCommons inference README (~100 GB); du counts GiB."""
    assert rec.table_bytes(tables, V2, 4.0) / 2**30 == pytest.approx(97.31, rel=0.005)


def test_size_formula_on_torchrecs_published_table():
    """TorchRec's DLRM README: the uncapped Criteo-1TB tables at dimension 128 are '91.10' (its GiB column holds
    decimal GB), https://github.com/mlcommons/training/blob/3e2f73174ec2764e58efea1a43e2e2d18f26f2c6/
    recommendation_v2/torchrec_dlrm/README.MD"""
    rows = [45833188, 36746, 17245, 7413, 20243, 3, 7114, 1441, 62, 29275261, 1572176, 345138, 10, 2209, 11267,
            128, 4, 974, 14, 48937457, 11316796, 40094537, 452104, 12606, 104, 35]
    import pandas as pd
    t = pd.DataFrame({"model": "tb", "rows": rows, "embedding_dim": 128, "lookups_per_sample": 1})
    assert rec.table_bytes(t, "tb") / 1e9 == pytest.approx(91.10, abs=0.01)


@pytest.mark.parametrize(("dim", "width", "g", "expected"), [
    (128, 4.0, 64, 512.0), (16, 4.0, 64, 64.0), (16, 2.0, 64, 64.0), (16, 2.0, 32, 32.0), (10, 4.0, 64, 64.0),
    (100, 1.0, 32, 128.0),
])
def test_row_bytes_rounds_up(dim, width, g, expected):
    assert rec.row_bytes(dim, width, granularity_bytes=g) == expected


def test_sample_bytes_by_hand(tables):
    assert rec.sample_lookup_bytes(tables, V2) == 214 * 512
    assert rec.sample_lookup_bytes(tables, KAGGLE) == 26 * 64  # 16 x 4 B = one cache line
    assert rec.sample_lookup_bytes(tables, KAGGLE, 2.0, granularity_bytes=rec.GPU_SECTOR_BYTES) == 26 * 32


def test_bounds_and_break_even():
    per = 214 * 512
    cpu = rec.samples_per_s_bound(per, 460.8e9)
    link = rec.samples_per_s_bound(per, 63e9)
    assert cpu == pytest.approx(460.8e9 / per) and cpu / link == pytest.approx(460.8 / 63)
    e = rec.break_even_efficiency(460.8e9, 63e9)
    assert e == pytest.approx(63 / 460.8)
    assert rec.samples_per_s_bound(per, 460.8e9, random_access_efficiency=e) == pytest.approx(link)
    assert rec.samples_per_s_bound(per, 3.35e12, devices=2) == pytest.approx(2 * 3.35e12 / per)
    # 32-byte rows: the CPU moves a whole 64-byte line, the link one 32-byte sector
    assert rec.break_even_efficiency(460.8e9, 63e9, row_payload_bytes=32) == pytest.approx(2 * 63 / 460.8)


def test_gpus_to_hold(tables):
    assert rec.gpus_to_hold(rec.table_bytes(tables, V2), 80 * 2**30) == 2
    assert rec.gpus_to_hold(rec.table_bytes(tables, KAGGLE), 80 * 2**30) == 1


def test_lookup_bounds_table(tables):
    b = rec.lookup_bounds(tables, V2, {"cpu": {"bandwidth_bytes_per_s": 460.8e9, "granularity_bytes": 64},
                                       "hbm": {"bandwidth_bytes_per_s": 3.35e12, "granularity_bytes": 32,
                                               "devices": 2}}).set_index("setup")
    assert b.loc["hbm", "samples_per_s"] / b.loc["cpu", "samples_per_s"] == pytest.approx(2 * 3350 / 460.8)
    with pytest.raises(ValueError, match="lacks granularity_bytes"):
        rec.lookup_bounds(tables, V2, {"x": {"bandwidth_bytes_per_s": 1e9}})


def _copy(tmp_path: Path) -> Path:
    shutil.copy(DATA / "recommendation_models.csv", tmp_path / "recommendation_models.csv")
    return tmp_path / "recommendation_models.csv"




@pytest.mark.parametrize(("row", "column", "value", "message"), [
    (3, "rows", "0", "must be > 0"),
    (3, "rows", "1.5", "rows"),
    (60, "lookups_per_sample", "-3", "must be > 0"),
    (5, "table_index", "7", "table_index must run 0, 1"),
    (30, "embedding_dim", "64", "same embedding_dim"),
    (2, "reference_dtype", "fp64", "must be one of"),
    (2, "source_url", "mlcommons.org", "must be one http"),
])
def test_broken_row_is_rejected(tmp_path, row, column, value, message):
    path = _copy(tmp_path)
    _edit(path, row, column, value)
    with pytest.raises(DataValidationError, match=message) as err:
        load_recommendation_models(path)
    assert "recommendation_models.csv" in str(err.value)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: rec.row_bytes(0), "embedding_dim must be an integer >= 1"),
    (lambda: rec.row_bytes(True), "embedding_dim must be an integer >= 1 .*got True"),
    (lambda: rec.row_bytes(16, 0.0), r"element_bytes must be a number > 0 \[B/element\], got 0.0"),
    (lambda: rec.row_bytes(16, 4.0, granularity_bytes="64"), "granularity_bytes must be an integer >= 1 .*got '64'"),
    (lambda: rec.samples_per_s_bound(100, 1e9, random_access_efficiency=1.5),
     r"random_access_efficiency must be a number in \(0, 1\], got 1.5"),
    (lambda: rec.samples_per_s_bound(100, 0.0), "bandwidth_bytes_per_s must be a number > 0"),
    (lambda: rec.gpus_to_hold(1e9, 1e9, usable_fraction=0), r"usable_fraction must be a number in \(0, 1\], got 0"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_unknown_model(tables):
    with pytest.raises(ValueError, match="is not in the table; known: DLRM"):
        rec.sample_lookup_bytes(tables, "DLRM-v9")


# ------------------------------------------------------------------------------------------------ review fixes


def test_break_even_efficiency_analytic():
    # 512 B rows are 8 lines of 64 B and 16 sectors of 32 B: e* = BW_link / BW_cpu
    assert rec.break_even_efficiency(460.8e9, 63e9) == pytest.approx(63 / 460.8)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"cpu_bandwidth_bytes_per_s": 0}, r"cpu_bandwidth_bytes_per_s must be a number > 0 \[B/s\], got 0"),
    ({"link_bandwidth_bytes_per_s": -1.0}, r"link_bandwidth_bytes_per_s must be a number > 0 \[B/s\], got -1.0"),
    ({"row_payload_bytes": 0}, r"row_payload_bytes must be a number > 0 \[B\], got 0"),
    ({"row_payload_bytes": -5}, r"row_payload_bytes must be a number > 0 \[B\], got -5"),
    ({"row_payload_bytes": float("nan")}, r"row_payload_bytes must be a number > 0 \[B\], got nan"),
    ({"cpu_granularity_bytes": 0}, r"cpu_granularity_bytes must be an integer >= 1 \[B\], got 0"),
    ({"gpu_granularity_bytes": 32.5}, r"gpu_granularity_bytes must be an integer >= 1 \[B\], got 32.5"),
    ({"gpu_granularity_bytes": True}, "gpu_granularity_bytes must be an integer >= 1 .*got True"),
    ({"cpu_bandwidth_bytes_per_s": "4e11"}, "cpu_bandwidth_bytes_per_s must be a number > 0"),
])
def test_break_even_efficiency_bad_arguments(kwargs, message):
    args = {"cpu_bandwidth_bytes_per_s": 460.8e9, "link_bandwidth_bytes_per_s": 63e9, **kwargs}
    cpu, link = args.pop("cpu_bandwidth_bytes_per_s"), args.pop("link_bandwidth_bytes_per_s")
    with pytest.raises(ValueError, match=message):
        rec.break_even_efficiency(cpu, link, **args)


GOOD = {"bandwidth_bytes_per_s": 1e9, "granularity_bytes": 64}


@pytest.mark.parametrize(("setup", "message"), [
    ({**GOOD, "devices": 2.7}, r"\['devices'\] must be an integer >= 1, got 2.7"),
    ({**GOOD, "granularity_bytes": 48.9}, r"\['granularity_bytes'\] must be an integer >= 1 \[B\], got 48.9"),
    ({**GOOD, "devices": True}, r"\['devices'\] must be an integer"),
    ({**GOOD, "bandwidth_bytes_per_s": "1e9"}, r"\['bandwidth_bytes_per_s'\] must be a number > 0"),
    ({**GOOD, "device": 2}, r"unknown keys \['device'\]"),
    ("fast", r"setups\['x'\] must be a Mapping"),
])
def test_lookup_bounds_rejects_truncation_and_bad_setups(tables, setup, message):
    with pytest.raises(ValueError, match=message):
        rec.lookup_bounds(tables, V2, {"x": setup})


def test_lookup_bounds_accepts_whole_floats(tables):
    whole = rec.lookup_bounds(tables, V2, {"x": {"bandwidth_bytes_per_s": 1e9, "granularity_bytes": 64.0,
                                                 "devices": 2.0}})
    exact = rec.lookup_bounds(tables, V2, {"x": {"bandwidth_bytes_per_s": 1e9, "granularity_bytes": 64, "devices": 2}})
    assert whole.equals(exact)


@pytest.mark.parametrize(("element_bytes", "expected"), [(4.0, 0.25), (2.0, 0.5), (1.0, 1.0)])
def test_pooling_intensity_is_one_add_per_element(element_bytes, expected):
    assert rec.pooling_intensity(element_bytes) == expected


@pytest.mark.parametrize("bad", [0, -4, True, "4", float("nan")])
def test_pooling_intensity_rejects_bad_widths(bad):
    with pytest.raises(ValueError, match="element_bytes"):
        rec.pooling_intensity(bad)
