"""Pruning and sparsity: storage formats, break-even densities, the pruned decode bound, the results table."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from memwall import serving, tables
from memwall.book import H100
from memwall.levers import sparsity, sparsity_model
from memwall.levers.sparsity import Pruning
from memwall.tables import DataValidationError
from memwall.tables.pruning import load_pruning_results
from memwall.widths import ByteWidths

STC = Pruning("2:4", execution="sparse_tensor_core")


@pytest.fixture(scope="module")
def h100():
    return serving.ceilings_for(tables.load_hardware(), H100, "W16A16")


# ------------------------------------------------------------------------------------------ matrix level


@pytest.mark.parametrize("w", [2.0, 1.0, 0.5])
def test_two_four_bytes_analytic(w):
    # half the values plus a 2-bit index per kept value (Mishra et al. 2021, arXiv 2104.08378, §3.1)
    assert sparsity.bytes_per_element(w, Pruning("2:4")) == pytest.approx(0.5 * w + 0.5 * 2 / 8)
    assert sparsity.matrix_bytes(64, 128, w, Pruning("2:4")) == pytest.approx(64 * 128 * (0.5 * w + 0.125))


def test_two_four_fp16_is_1_125_bytes():
    assert sparsity.bytes_per_element(2.0, Pruning("2:4")) == 0.5 * 2 + 0.5 * 2 / 8 == 1.125


@pytest.mark.parametrize(("p", "w", "i"), [(0.5, 2.0, 2.0), (0.1, 2.0, 4.0), (0.3, 1.0, 4.0)])
def test_csr_and_bitmap_bytes(p, w, i):
    r, c = 100, 40
    assert sparsity.matrix_bytes(r, c, w, Pruning("csr", p, index_bytes=i, pointer_bytes=4.0)) == pytest.approx(
        p * r * c * (w + i) + (r + 1) * 4.0)
    assert sparsity.matrix_bytes(r, c, w, Pruning("bitmap", p)) == pytest.approx(r * c / 8 + p * r * c * w)


@pytest.mark.parametrize(("w", "i"), [(2.0, 2.0), (2.0, 4.0), (1.0, 4.0), (4.0, 4.0)])
def test_csr_break_even_closed_form(w, i):
    assert sparsity.break_even_density("csr", w, index_bytes=i) == pytest.approx(w / (w + i))
    p = w / (w + i)  # at the break-even the large-matrix CSR stores exactly the dense bytes
    assert sparsity.bytes_per_element(w, Pruning("csr", p, index_bytes=i)) == pytest.approx(w)


def test_csr_break_even_with_row_pointers_crosses_dense():
    r = c = 512
    p = sparsity.break_even_density("csr", 2.0, index_bytes=2.0, rows=r, cols=c, pointer_bytes=4.0)
    assert p == pytest.approx((2.0 - (r + 1) * 4.0 / (r * c)) / 4.0)
    dense = sparsity.matrix_bytes(r, c, 2.0)
    assert sparsity.matrix_bytes(r, c, 2.0, Pruning("csr", p, index_bytes=2.0)) == pytest.approx(dense)


@pytest.mark.parametrize("w", [2.0, 1.0])
def test_bitmap_break_even(w):
    p = sparsity.break_even_density("bitmap", w)
    assert p == pytest.approx(1 - 1 / (8 * w))
    assert sparsity.bytes_per_element(w, Pruning("bitmap", p)) == pytest.approx(w)


def test_two_four_break_even_width():
    assert sparsity.break_even_density("2:4", 2.0) == 0.5
    assert sparsity.break_even_density("2:4", 0.25) == 0.0  # 2-bit values: the index is as large as the value


def test_flops_and_intensity():
    assert sparsity.matrix_flops(8, 4, 3) == 2 * 8 * 4 * 3
    assert sparsity.matrix_flops(8, 4, 3, STC) == 8 * 4 * 3
    assert sparsity.matrix_flops(8, 4, 3, Pruning("bitmap", 0.2, execution="ideal_sparse")) == pytest.approx(
        0.2 * 2 * 8 * 4 * 3)
    assert sparsity.weight_matmul_intensity(4, 2.0, STC) == pytest.approx(2 * 4 * 0.5 / 1.125)


def test_critical_batch_closed_form(h100):
    dense = sparsity.critical_batch_closed_form(h100, 2.0)
    assert dense == pytest.approx(serving.critical_batch_closed_form(h100.peak_flop_per_s,
                                                                     h100.bandwidth_bytes_per_s, 2.0))
    assert sparsity.critical_batch_closed_form(h100, 2.0, STC) / dense == pytest.approx(9 / 8)
    assert sparsity.critical_batch_closed_form(h100, 2.0, Pruning("bitmap", 0.5)) / dense == pytest.approx(9 / 16)


# ------------------------------------------------------------------------------------------ bad inputs


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"fmt": "coo"}, "fmt must be one of"),
    ({"fmt": "2:4", "density": 0.4}, "density must be 0.5"),
    ({"fmt": "csr"}, "density is required"),
    ({"fmt": "bitmap", "density": 0.0}, r"density must be in \(0, 1\]"),
    ({"fmt": "bitmap", "density": 1.5}, r"density must be in \(0, 1\]"),
    ({"fmt": "bitmap", "density": True}, "density must be a number"),
    ({"fmt": "bitmap", "density": "0.5"}, "density must be a number"),
    ({"fmt": "csr", "density": 0.5, "index_bytes": 0.0}, "index_bytes"),
    ({"fmt": "bitmap", "density": 0.5, "execution": "sparse_tensor_core"}, "needs fmt='2:4'"),
    ({"fmt": "dense", "execution": "magic"}, "execution must be one of"),
])
def test_bad_pruning(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Pruning(**kwargs)


@pytest.mark.parametrize(("args", "match"), [
    ((0, 4, 2.0), "rows must be an integer >= 1"),
    ((4, 2.5, 2.0), "cols must be an integer"),
    ((True, 4, 2.0), "rows must be a positive integer"),
    ((4, 4, -2.0), "element_bytes must be a positive number"),
    ((4, 4, "2"), "element_bytes must be a positive number"),
    ((4, 6, 2.0, Pruning("2:4")), "cols must be a multiple of 4"),
])
def test_bad_matrix(args, match):
    with pytest.raises(ValueError, match=match):
        sparsity.matrix_bytes(*args)


def test_bad_break_even_and_scope(h100):
    with pytest.raises(ValueError, match="fmt must be one of"):
        sparsity.break_even_density("dense", 2.0)
    with pytest.raises(ValueError, match="give both rows and cols"):
        sparsity.break_even_density("csr", 2.0, rows=4)
    with pytest.raises(ValueError, match="scope must be"):
        sparsity_model.critical_batch_pruned("llama-2-7b", h100, scope="all")
    with pytest.raises(ValueError, match="batch must be an integer"):
        sparsity_model.decode_step_time_pruned("llama-2-7b", h100, 0)


# ------------------------------------------------------------------------------------------ whole model


def test_no_pruning_equals_serving_bound(h100):
    ours = sparsity_model.decode_step_time_pruned("llama-2-7b", h100, [1, 8, 64], 512)
    np.testing.assert_allclose(ours, serving.time_per_token("llama-2-7b", h100, [1, 8, 64], 512))


def test_pruned_ops_exclude_head_and_router():
    ops = sparsity_model.pruned_ops("mixtral-8x7b")
    assert "lm_head" not in ops and "router" not in ops and "ffn_up" in ops and "q_proj" in ops


def test_effective_bytes_reproduce_batch1_bound(h100):
    eff = sparsity_model.effective_weight_bytes("llama-2-7b", STC)
    # block linear layers at 1.125 B, the rest (LM head, norms) at 2 B: between the two
    assert 1.125 < eff < 2.0
    via_widths = (serving.time_per_token("llama-2-7b", h100, 1, 1024)
                  / serving.time_per_token("llama-2-7b", h100, 1, 1024, widths=ByteWidths(weight=eff)))
    bound = sparsity_model.decode_speedup_bound("llama-2-7b", h100, 1, 1024, pruning=STC)
    assert bound == pytest.approx(via_widths, rel=1e-6)


def test_speedup_bound_properties(h100):
    # dense-equivalent CSR gives no gain; lower density more gain; large batch less gain
    assert sparsity_model.decode_speedup_bound("llama-2-7b", h100, 1, 0, pruning=Pruning(
        "csr", 0.5, index_bytes=2.0)) == pytest.approx(1.0, rel=1e-3)
    s = [sparsity_model.decode_speedup_bound("llama-2-7b", h100, 1, 0, pruning=Pruning("bitmap", p))
         for p in (0.2, 0.5, 0.8)]
    assert s[0] > s[1] > s[2] > 1
    by_batch = sparsity_model.decode_speedup_bound("llama-2-7b", h100, np.array([1, 64, 1024]), 1024, pruning=STC)
    assert np.all(np.diff(by_batch) < 0) and by_batch[0] < 2.0 / 1.125


def test_critical_batch_model_level(h100):
    dense = sparsity_model.critical_batch_pruned("llama-2-7b", h100)
    assert dense == serving.critical_batch("llama-2-7b", h100, scope="weight_matmuls")
    assert sparsity_model.critical_batch_pruned("llama-2-7b", h100, pruning=STC) > dense
    assert sparsity_model.critical_batch_pruned("llama-2-7b", h100, pruning=Pruning("bitmap", 0.5)) < dense


def test_tables_for_charts(h100):
    st = sparsity_model.storage_table((2.0,), (0.25, 0.5))
    assert set(st["format"]) == {"dense", "2:4", "CSR, 16-bit indices", "CSR, 32-bit indices", "bitmap"}
    sp = sparsity_model.speedup_table(tables.load_hardware(), "llama-2-7b", [H100], (0.5,))
    assert (sp["speedup_bound"] > 0).all() and len(sp) == 3


# ------------------------------------------------------------------------------------------ the table


def test_pruning_results_load():
    df = load_pruning_results()
    assert len(df) >= 10 and df["source_url"].str.startswith("https://").all()
    assert (df.loc[df["pattern"] == "2:4", "density"] == 0.5).all()
    vs = sparsity_model.published_vs_bound(df, serving.ceilings_for(tables.load_hardware(), H100, "W16A16"))
    assert (vs["fraction_of_bound"].dropna() < 1.2).all()


@pytest.mark.parametrize(("column", "value", "reason"), [
    ("sparsity_percent", "150", r"must be < 100 \[%\]"),
    ("pattern", "3:4", "must be one of"),
    ("confidence", "D", "must be one of"),
    ("source_url", "arxiv.org/abs/1", "must be one http"),
    ("speedup_x", "fast", "is not a number"),
])
def test_loader_rejects_broken_cell(tmp_path, column, value, reason):
    path = tmp_path / "pruning_results.csv"
    shutil.copy(tables.data_dir() / "pruning_results.csv", path)
    import pandas as pd

    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[7, column] = value
    df.to_csv(path, index=False)
    with pytest.raises(DataValidationError, match=reason) as err:
        load_pruning_results(path)
    assert f"column {column!r}" in str(err.value)


def test_loader_rejects_speedup_on_pruning_level(tmp_path):
    import pandas as pd

    path = tmp_path / "pruning_results.csv"
    df = pd.read_csv(tables.data_dir() / "pruning_results.csv", dtype=str, keep_default_na=False)
    df.loc[0, "speedup_x"] = "2.0"
    df.to_csv(path, index=False)
    with pytest.raises(DataValidationError, match="speedup_x must be given exactly"):
        load_pruning_results(path)
