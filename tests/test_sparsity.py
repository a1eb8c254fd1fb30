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
    ({"fmt": "bitmap", "density": 0.0}, r"density must be a number in \(0, 1\], got 0.0"),
    ({"fmt": "bitmap", "density": 1.5}, r"density must be a number in \(0, 1\], got 1.5"),
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
    ((True, 4, 2.0), "rows must be an integer >= 1 .*got True"),
    ((4, 4, -2.0), r"element_bytes must be a number > 0 \[B/element\], got -2.0"),
    ((4, 4, "2"), "element_bytes must be a number > 0 .*got '2'"),
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


# ------------------------------------------------------------------------------------------ review fixes


def _hpc_row() -> dict:
    df = load_pruning_results()
    return df[df["source"].str.startswith("HPC-AI") & df["measured"].eq("end_to_end_throughput")].iloc[0].to_dict()


@pytest.mark.parametrize(("precision", "weight"), [("fp16", 2.0), ("bf16", 2.0), ("fp8", 1.0), ("int8", 1.0)])
def test_published_widths_follow_the_precision(precision, weight):
    # weights at the format's width (memwall.widths.BYTES_PER_ELEMENT); activations and KV cache at 16 bits
    assert sparsity_model.published_widths(precision) == ByteWidths(weight=weight, act=2.0, kv=2.0)


def test_published_widths_reject_unknown():
    with pytest.raises(ValueError, match=r"precision='fp6' is not known; allowed: fp32, bf16"):
        sparsity_model.published_widths("fp6")


def test_published_bound_uses_the_row_precision(h100):
    """The HPC-AI 2:4 Llama-3-8B row is fp8: its bound is at 1-byte weights (~1.52x), not 16-bit (~1.67x)."""
    vs = sparsity_model.published_vs_bound(load_pruning_results(), h100)
    row = vs[vs["source"].str.startswith("HPC-AI") & vs["measured"].eq("end_to_end_throughput")].iloc[0]
    assert _hpc_row()["precision"] == "fp8"
    fp8 = sparsity_model.decode_speedup_bound("llama-3-8b", h100, 1, 1024, pruning=STC,
                                              widths=ByteWidths(weight=1.0))
    assert row["bound_x"] == pytest.approx(fp8) and row["bound_x"] == pytest.approx(1.52, abs=0.01)
    # analytic ceiling at 8 bits: the block weights shrink from 1 B to 0.5 + 1/8 B, 1 / 0.625 = 1.6
    assert row["bound_x"] < 1 / 0.625 < sparsity_model.decode_speedup_bound("llama-3-8b", h100, 1, 1024, pruning=STC)
    # the fp16 MACKO row keeps its 16-bit bound
    macko = vs[vs["source"].str.startswith("Macko") & vs["measured"].eq("end_to_end_decode")].iloc[0]
    assert macko["bound_x"] == pytest.approx(1.457, abs=0.01)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"rows": 0, "cols": 4}, "rows must be an integer >= 1 .*got 0"),
    ({"rows": -5, "cols": 4}, "rows must be an integer >= 1 .*got -5"),
    ({"rows": 4, "cols": 2.5}, "cols must be an integer >= 1 .*got 2.5"),
    ({"rows": True, "cols": 4}, "rows must be an integer >= 1 .*got True"),
    ({"index_bytes": True}, r"index_bytes must be a number > 0 \[B\] .*got True"),
    ({"index_bytes": 0.0}, r"index_bytes must be a number > 0 \[B\], got 0.0"),
    ({"pointer_bytes": "4"}, "pointer_bytes must be a number > 0"),
    ({"index_bytes": float("nan")}, "index_bytes must be a number > 0"),
])
def test_break_even_rejects_bad_shape_and_widths(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sparsity.break_even_density("csr", 2.0, **kwargs)


@pytest.mark.parametrize(("fmt", "w"), [("2:4", 0.25), ("2:4", 0.125), ("bitmap", 0.125), ("bitmap", 0.1)])
def test_break_even_never_saves_is_zero(fmt, w):
    # 0.0 is the documented "never saves": no density in (0, 1] stores fewer bytes than dense
    assert sparsity.break_even_density(fmt, w) == 0.0


def test_break_even_csr_never_saves_on_a_tiny_matrix():
    # 1 x 4 at 1 B with 4 B row pointers: (1 - 2 * 4 / 4) / (1 + 4) < 0 -> 0.0, no RuntimeWarning
    assert sparsity.break_even_density("csr", 1.0, rows=1, cols=4) == 0.0


@pytest.mark.parametrize(("call", "match"), [
    (lambda h: sparsity_model.decode_speedup_bound("llama-2-7b", h, pruning="2:4"), "pruning must be a Pruning"),
    (lambda h: sparsity_model.decode_step_time_pruned("llama-2-7b", "h100"), "ceilings must be a Ceilings"),
    (lambda h: sparsity_model.decode_step_time_pruned("llama-2-7b", h, widths=2.0), "widths must be a ByteWidths"),
    (lambda h: sparsity_model.critical_batch_pruned("llama-2-7b", h, pruning="2:4"), "pruning must be a Pruning"),
    (lambda h: sparsity_model.effective_weight_bytes("llama-2-7b", "2:4"), "pruning must be a Pruning"),
    (lambda h: sparsity.matrix_bytes(4, 4, 2.0, "2:4"), "pruning must be a Pruning, got str '2:4'"),
    (lambda h: sparsity.bytes_per_element(2.0, "2:4"), "pruning must be a Pruning"),
    (lambda h: sparsity.critical_batch_closed_form("h100", 2.0), "ceilings must be a Ceilings"),
    (lambda h: sparsity_model.published_vs_bound(load_pruning_results(), "h100"), "ceilings must be a Ceilings"),
])
@pytest.mark.parametrize("error", [ValueError, TypeError])
def test_wrong_object_types_name_the_parameter(h100, call, match, error):
    with pytest.raises(error, match=match):
        call(h100)
