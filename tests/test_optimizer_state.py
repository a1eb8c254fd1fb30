"""Optimizer state and precision recipes: hand-computed shapes, ZeRO arithmetic, published figures, bad inputs."""

from __future__ import annotations

import math
import shutil

import pytest

from memwall.claims import lean_optimizers
from memwall.levers import optimizer_state as osb
from memwall.specs import get_preset, parameter_count
from memwall.tables import DataValidationError
from memwall.tables.optimizer_memory import load_optimizer_memory
from memwall.wall import training_bars, training_memory

from .conftest import DATA
from .conftest import edit_csv_cell as _edit

LLAMA = "llama-2-7b"


def test_shampoo_one_square_matrix_by_hand():
    # Gupta et al. 2018 (arXiv 1802.09568), Alg. 1: L (4096 x 4096) and R (4096 x 4096), fp32, plus their inverse
    # fourth roots: 2 * 4096^2 * 2 * 4 B = 268,435,456 B for 16,777,216 weights = 16 B/param.
    assert osb.shampoo_matrix_elements(4096, 4096) == 2 * 4096**2
    assert 2 * osb.FP32 * osb.shampoo_matrix_elements(4096, 4096) == 268_435_456
    # a square block has the same 2 elements per weight whatever its side
    assert osb.shampoo_matrix_elements(4096, 4096, 1024) == 16 * 2 * 1024**2


def test_shampoo_ragged_blocks_by_hand():
    # 4096 x 11008 in blocks of 1024: rows 4 x 1024, cols 10 x 1024 + 768 -> 44 blocks;
    # sum over blocks of r_i^2 + c_j^2 = 11 * 4 * 1024^2 + 4 * (10 * 1024^2 + 768^2)
    assert osb.shampoo_matrix_elements(4096, 11008, 1024) == 11 * 4 * 1024**2 + 4 * (10 * 1024**2 + 768**2)
    assert osb.shampoo_matrix_elements(3, 5) == 9 + 25


def test_kfac_factors_by_hand():
    # Martens & Grosse 2015 (arXiv 1503.05671), §3: A is in x in, G is out x out
    assert osb.kfac_matrix_elements(11008, 4096) == 4096**2 + 11008**2


def test_weight_matrices_cover_the_parameter_count():
    # Llama-2-7B: every parameter is in a matrix except 2 RMSNorms per block and the final one: 65 x 4096
    spec = get_preset(LLAMA)
    mats = osb.weight_matrices(spec)
    assert parameter_count(spec) - sum(m.elements for m in mats) == (2 * 32 + 1) * 4096
    shapes = {m.name: (m.rows, m.cols, m.count) for m in mats}
    assert shapes["attn.q"] == (4096, 4096, 32) and shapes["ffn.down"] == (4096, 11008, 32)
    assert shapes["embed.tokens"] == (32000, 4096, 1) and shapes["lm_head"] == (32000, 4096, 1)


@pytest.mark.parametrize("preset", ["gpt2-xl", "bert-large", "mixtral-8x7b", "deepseek-v3", "qwen3-8b", "gemma-3-27b"])
def test_weight_matrices_never_exceed_the_count(preset):
    spec = get_preset(preset)
    rest = parameter_count(spec) - sum(m.elements for m in osb.weight_matrices(spec))
    assert 0 <= rest < 0.001 * parameter_count(spec)  # only norms, biases, gates


@pytest.mark.parametrize(("optimizer", "per_param"), [
    ("sgd", 0.0), ("sgd_momentum", 4.0), ("adam", 8.0), ("adam_bf16", 4.0), ("adam_8bit", 2 * (1 + 4 / 2048)),
])
def test_first_order_bytes_per_param(optimizer, per_param):
    # Kingma & Ba: two fp32 moments; DeepSeek-V3 §3.3.3: bf16 moments; Dettmers et al. §2.1: 1 B + 4 B / 2048
    n = 2048 * 1000
    assert osb.optimizer_state_bytes(float(n), optimizer)["bytes_per_param"] == pytest.approx(per_param, rel=1e-12)


def test_adafactor_factored_state_by_hand():
    # Shazeer & Stern 2018, §3: an r x c matrix keeps r + c accumulators; vectors keep their own
    spec = get_preset(LLAMA)
    mats = osb.weight_matrices(spec)
    want = 4 * (sum(m.count * (m.rows + m.cols) for m in mats) + 65 * 4096)
    assert osb.optimizer_state_bytes(spec, "adafactor")["total"] == want
    with_m = osb.optimizer_state_bytes(spec, "adafactor_momentum")
    assert with_m["first_moment"] == 4 * parameter_count(spec)


def test_shampoo_and_kfac_on_llama_by_hand():
    spec = get_preset(LLAMA)
    n = parameter_count(spec)
    bare = osb.optimizer_state_bytes(spec, "shampoo", momentum=False, grafting=False)
    pre = sum(m.count * osb.shampoo_matrix_elements(m.rows, m.cols) for m in osb.weight_matrices(spec))
    assert bare["preconditioners"] == bare["inverse_roots"] == 4 * pre
    assert bare["total"] == 8 * pre + 4 * 65 * 4096
    full = osb.optimizer_state_bytes(spec, "shampoo")
    assert full["total"] == bare["total"] + 8 * n  # fp32 momentum and grafting
    kfac = osb.optimizer_state_bytes(spec, "kfac")
    linear = sum(m.count * osb.kfac_matrix_elements(m.rows, m.cols) for m in osb.weight_matrices(spec)
                 if m.kind == "linear")
    assert kfac["total"] == 8 * linear + 4 * (65 * 4096 + 32000 * 4096) + 4 * n  # embedding: diagonal fallback


def test_blocked_shampoo_is_at_least_three_adams():
    # square blocks: 4 b^2 fp32 matrices per b^2 weights (16 B) + momentum + grafting (8 B) = 24 B vs Adam's 8 B
    ratio = lean_optimizers._state_ratio("shampoo", 1024)
    assert 3.0 <= ratio < 3.03


@pytest.mark.parametrize(("stage", "shards"), [(0, (1, 1, 1)), (1, (1, 1, 8)), (2, (1, 8, 8)), (3, (8, 8, 8))])
def test_zero_shards_second_order_states(stage, shards):
    # ZeRO (arXiv 1910.02054) Fig. 1: stage 1 shards optimizer states (master, preconditioners), 2 + grads, 3 + weights
    base = osb.model_states(LLAMA, "shampoo", precision="bf16_mixed", block_size=1024)
    z = osb.model_states(LLAMA, "shampoo", precision="bf16_mixed", block_size=1024, zero_stage=stage, n_gpus=8)
    for part, k in zip(("weights", "gradients", "optimizer_states"), shards, strict=True):
        assert z[part] == pytest.approx(base[part] / k, rel=1e-12)


@pytest.mark.parametrize(("optimizer", "precision", "legacy"), [
    ("adam", "bf16_mixed", "mixed_adam"), ("adam", "fp32", "adam"), ("sgd", "fp32", "sgd"),
    ("sgd_momentum", "fp32", "sgd_momentum"),
])
@pytest.mark.parametrize("stage", [0, 1, 2, 3])
def test_recipes_match_the_legacy_calculator(optimizer, precision, legacy, stage):
    new = osb.model_states(7.5e9, optimizer, precision=precision, zero_stage=stage, n_gpus=64)
    old = training_memory.model_state_bytes(7.5e9, legacy, zero_stage=stage, n_gpus=64)
    assert new["total"] == pytest.approx(old["total"], rel=1e-12)


def test_training_memory_takes_optimizer_and_precision():
    old = training_memory.training_memory(LLAMA, seq_len=4096, optimizer="mixed_adam", zero_stage=1, n_gpus=8)
    new = training_memory.training_memory(LLAMA, seq_len=4096, optimizer="adam", precision="bf16_mixed",
                                          zero_stage=1, n_gpus=8)
    assert new["total_bytes"].iloc[0] == pytest.approx(old["total_bytes"].iloc[0], rel=1e-12)
    grid = training_bars.optimizer_grid(LLAMA, {"8-bit": ("adam_8bit", "bf16_mixed")}, zero_stages=[0])
    assert set(grid["part"]) == {"weights", "gradients", "optimizer", "activations"}
    with pytest.raises(ValueError, match="needs the weight shapes"):
        training_memory.training_memory(seq_len=8, n_params=1e9, layers=2, hidden=64, heads=2, optimizer="shampoo",
                                        precision="fp32")


def test_fp8_recipe_and_largest_model():
    # DeepSeek-V3 §3.3: bf16 weights 2 + fp32 grads 4 + fp32 master 4 + bf16 m, v 2 + 2 = 14 B/param
    st = osb.model_states(1e9, "adam_bf16", precision="fp8_mixed")
    assert st["total"] == 14e9
    # 80 GiB / 16 B/param = 5.37e9 parameters
    assert lean_optimizers.largest_trainable_params(80 * 2**30, "adam", "bf16_mixed") == 80 * 2**30 / 16


@pytest.mark.parametrize(("call", "match"), [
    (lambda: osb.optimizer_state_bytes(1e9, "lion"), "optimizer='lion' is not known"),
    (lambda: osb.optimizer_state_bytes(1e9, "shampoo"), "needs the weight shapes"),
    (lambda: osb.optimizer_state_bytes(-1.0, "adam"), "finite number >= 0, got -1.0"),
    (lambda: osb.optimizer_state_bytes(True, "adam"), "finite number >= 0, got True"),
    (lambda: osb.optimizer_state_bytes("5", "adam"), "unknown model preset .5."),  # a string is a preset name
    (lambda: osb.optimizer_state_bytes(LLAMA, "adam", block_size=1024), "block_size applies to shampoo only"),
    (lambda: osb.optimizer_state_bytes(LLAMA, "shampoo", block_size=0), "block_size must be an integer >= 1"),
    (lambda: osb.optimizer_state_bytes(LLAMA, "shampoo", momentum=1), "momentum must be a bool"),
    (lambda: osb.model_states(1e9, "adam", precision="fp4"), "precision='fp4' is not known"),
    (lambda: osb.model_states(1e9, "adam", zero_stage=4), "zero_stage=4 is not known"),
    (lambda: osb.model_states(1e9, "adam", zero_stage=True), "zero_stage=True is not known"),
    (lambda: osb.model_states(1e9, "adam", n_gpus=0), "n_gpus must be an integer >= 1, got 0"),
    (lambda: osb.shampoo_matrix_elements(0, 5), "rows must be an integer >= 1, got 0"),
    (lambda: osb.kfac_matrix_elements(5, 2.5), "cols must be an integer >= 1, got 2.5"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------------------------------------- published table


def test_published_table_and_claim_references_agree():
    t = load_optimizer_memory().set_index("figure_id")
    assert t["source_url"].str.startswith("https://arxiv.org/abs/").all()
    p = lean_optimizers.PUBLISHED
    # Dettmers et al. 2021 (https://arxiv.org/abs/2110.02861), §1 and Table 1
    assert t.loc["dettmers-adam8-state", "bytes_per_param"] == p["adam8_bytes"] == 2.0
    assert t.loc["dettmers-t15b-8bit", "memory_saved_gb"] == p["t15b_8bit_gb"]
    assert t.loc["dettmers-t15b-adafactor", "memory_saved_gb"] == p["t15b_adafactor_gb"]
    assert t.loc["dettmers-gpt3medium-8bit", "memory_saved_gb"] == p["gpt3m_8bit_gb"]
    assert t.loc["dettmers-robertalarge-8bit", "memory_saved_gb"] == p["robertal_8bit_gb"]
    # ZeRO (https://arxiv.org/abs/1910.02054) §3.1: 16 B/param, = our recipe
    assert t.loc["zero-mixed-adam", "bytes_per_param"] == osb.model_states(1.0e6, "adam")["total"] / 1.0e6




@pytest.mark.parametrize(("row", "column", "value", "reason"), [
    (0, "bytes_per_param", "-8", r"must be > 0 \[B/param\]"),
    (0, "optimizer", "lion", "must be one of: sgd"),
    (0, "source_url", "arxiv 2110.02861", r"must be one http\(s\):// URL"),
    (0, "confidence", "D", "must be one of: A, B, C"),
    (0, "memory_saved_gb", "3.0", "give exactly one of bytes_per_param and memory_saved_gb"),
    (2, "compared_with", "", "a memory_saved_gb needs compared_with"),
    (2, "memory_saved_gb", "lots", "is not a number"),
])
def test_loader_rejects_a_broken_row(tmp_path, row, column, value, reason):
    path = tmp_path / "optimizer_memory_published.csv"
    shutil.copy(DATA / "optimizer_memory_published.csv", path)
    _edit(path, row, column, value)
    with pytest.raises(DataValidationError, match=reason) as err:
        load_optimizer_memory(path)
    assert "optimizer_memory_published.csv" in str(err.value)


def test_gib_reading_of_table_1():
    # 8-bit Adam saves 6 B/param (minus block constants): 1.5e9 params -> 8.99e9 B = 8.37 GiB; printed 8.5
    assert lean_optimizers.saving_gib(1.5e9, "adam_8bit") == pytest.approx(1.5e9 * (8 - 2 * (1 + 4 / 2048)) / 2**30,
                                                                           rel=1e-9)
    assert math.isclose(lean_optimizers.saving_gib(1.5e9, "adam_8bit"), 8.5, rel_tol=0.02)


@pytest.mark.parametrize("stage", [1.0, 2.0, True, False, "1", None, 4, -1])
def test_zero_stage_must_be_an_int(stage):
    with pytest.raises(ValueError, match=rf"zero_stage={stage!r} is not known; allowed: the ints 0, 1, 2, 3"):
        osb.model_states(1e9, "adam", zero_stage=stage, n_gpus=8)


def test_zero_stage_numpy_int_accepted():
    import numpy as np

    assert osb.model_states(1e9, "adam", zero_stage=np.int64(1), n_gpus=8) == osb.model_states(
        1e9, "adam", zero_stage=1, n_gpus=8)
