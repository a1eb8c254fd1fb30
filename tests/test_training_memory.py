"""Training memory: ZeRO and Korthikanti golden values, the paper's bars, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memwall.specs import get_preset, parameter_count
from memwall.wall import training_bars, training_memory


@pytest.mark.parametrize(("optimizer", "total"), [("sgd", 8), ("sgd_momentum", 12), ("adam", 16), ("mixed_adam", 16)])
def test_bytes_per_param(optimizer, total):
    assert training_memory.bytes_per_param(optimizer).total == total


def test_mixed_adam_is_2_2_12():
    # Rajbhandari et al. 2020 (ZeRO, arXiv 1910.02054) §3.1: 2Ψ + 2Ψ + KΨ with K = 12 -> 16Ψ bytes.
    p = training_memory.bytes_per_param("mixed_adam")
    assert (p.weights, p.gradients, p.optimizer_states) == (2, 2, 12)


@pytest.mark.parametrize(("stage", "gb"), [(0, 120.0), (1, 31.4), (2, 16.6), (3, 1.9)])
def test_zero_figure_1(stage, gb):
    # ZeRO paper Fig. 1: Ψ = 7.5B, N_d = 64, K = 12 -> 120 / 31.4 / 16.6 / 1.9 GB per device.
    out = training_memory.model_state_bytes(7.5e9, "mixed_adam", zero_stage=stage, n_gpus=64)
    assert round(out["total"] / 1e9, 1) == gb


def test_zero_stages_shard_the_right_parts():
    n, base = 8, training_memory.model_state_bytes(1e9, "adam")
    z1 = training_memory.model_state_bytes(1e9, "adam", zero_stage=1, n_gpus=n)
    z3 = training_memory.model_state_bytes(1e9, "adam", zero_stage=3, n_gpus=n)
    assert z1["optimizer_states"] == base["optimizer_states"] / n
    assert (z1["weights"], z1["gradients"]) == (base["weights"], base["gradients"])
    assert z3["total"] == pytest.approx(base["total"] / n)


def test_korthikanti_gpt3_layer():
    # Korthikanti et al. 2022 (arXiv 2205.05198): Eq. (1) sbh(34 + 5as/h), GPT-3 175B settings of Table 3
    # (a = 96, h = 12288, s = 2048), micro-batch 1. 5as/h = 5·96·2048/12288 = 80, so per layer
    # 2048·1·12288·114 = 2,868,903,936 B; selective recomputation keeps 34·sbh, i.e. saves 80/114 = 70 %
    # ("70% ... for GPT-3", §5); full recomputation keeps 2·sbh; t = 8 with sequence parallelism divides by 8.
    s, b, h, a = 2048, 1, 12288, 96
    sbh = s * b * h
    assert training_memory.activation_bytes_per_layer(s, b, h, a) == 2_868_903_936
    sel = training_memory.activation_bytes_per_layer(s, b, h, a, recompute="selective")
    assert sel == 34 * sbh
    assert 1 - sel / (114 * sbh) == pytest.approx(0.70, abs=0.005)
    assert training_memory.activation_bytes_per_layer(s, b, h, a, recompute="full") == 2 * sbh
    assert training_memory.activation_bytes_per_layer(s, b, h, a, tensor_parallel=8) == pytest.approx(114 * sbh / 8)
    # Tensor parallelism without sequence parallelism (Table 2): sbh(10 + 24/t + 5as/(ht)).
    tp = training_memory.activation_bytes_per_layer(s, b, h, a, tensor_parallel=8, sequence_parallel=False)
    assert tp == pytest.approx(sbh * (10 + 24 / 8 + 80 / 8))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 8192), st.integers(1, 64), st.integers(2, 4))
def test_activation_scaling(s, b, k):
    h, a = 1024, 16
    base = training_memory.activation_bytes_per_layer(s, b, h, a)
    assert training_memory.activation_bytes_per_layer(s, k * b, h, a) == pytest.approx(k * base)  # linear in batch
    assert training_memory.activation_bytes_per_layer(k * s, b, h,
                                                      a) > k * base  # super-linear in sequence (5as²b term)


def test_training_memory_vectorised_and_from_spec():
    spec = get_preset("llama-2-7b")
    out = training_memory.training_memory(spec, seq_len=[1024, 2048, 4096], micro_batch=2)
    assert list(out["seq_len"]) == [1024, 2048, 4096]
    assert out["weights_bytes"].iloc[0] == 2 * parameter_count(spec)
    assert np.allclose(out["total_bytes"], out[["weights_bytes", "gradients_bytes", "optimizer_bytes",
                                                "activations_bytes"]].sum(axis=1))
    assert not any(c.endswith("_gb") for c in out.columns)  # SI only: display units are the chapters' job
    explicit = training_memory.training_memory(seq_len=2048, micro_batch=2, n_params=parameter_count(spec), layers=32,
                                  hidden=4096, heads=32)
    assert explicit["total_bytes"].iloc[0] == pytest.approx(out["total_bytes"].iloc[1])


def test_paper_bars():
    cmp = training_bars.paper_bar_comparison().set_index("model")
    assert len(cmp) == 8 and cmp["modelled"].sum() == 3
    cnn = cmp[~cmp["modelled"]]
    # we have no CNN activation model: no "ours" values are invented for those bars
    assert cnn["total_ours_gb"].isna().all() and cnn["total_diff_pct"].isna().all()
    assert cnn["total_paper_gb"].notna().all()
    # Our fp32-params, Adam 2x, Korthikanti-activation bars land within 10 % of BERT-L's and GPT-2's bars.
    assert abs(cmp.loc["BERT Large", "total_diff_pct"]) < 10
    assert abs(cmp.loc["GPT-2", "total_diff_pct"]) < 10
    assert cmp.loc["GPT-2", "optimizer_ours_gb"] == pytest.approx(2 * cmp.loc["GPT-2", "params_ours_gb"])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"micro_batch": -1}, "micro_batch must be an integer >= 1, got -1"),
    ({"seq_len": [512, 0]}, "seq_len must be an integer >= 1, got 0"),
    ({"optimizer": "lion"}, "optimizer='lion' is not known; allowed: sgd, sgd_momentum, adam, mixed_adam"),
    ({"zero_stage": 4}, "zero_stage=4 is not known; allowed: 0, 1, 2, 3"),
    ({"n_gpus": 0}, "n_gpus must be an integer >= 1, got 0"),
    ({"recompute": "some"}, "recompute='some' is not known; allowed: none, selective, full"),
    ({"tensor_parallel": 1.5}, "tensor_parallel must be an integer >= 1, got 1.5"),
])
def test_bad_inputs(kwargs, match):
    args = {"seq_len": 512, "micro_batch": 1, "n_params": 1e9, "layers": 24, "hidden": 2048, "heads": 16, **kwargs}
    with pytest.raises(ValueError, match=match):
        training_memory.training_memory(**args)


def test_missing_sizes_and_negative_params():
    with pytest.raises(ValueError, match="missing: n_params, layers, hidden, heads"):
        training_memory.training_memory(seq_len=512)
    with pytest.raises(ValueError, match=r"n_params must be a number >= 0 \[params\], got -5"):
        training_memory.model_state_bytes(-5)


def test_calculator_grid_llama3_8b_zero3_by_hand():
    # Llama-3-8B, Ψ = 8,030,261,248 parameters (the Hugging Face checkpoint's count), mixed-precision Adam
    # (ZeRO, arXiv 1910.02054, §3.1: 2Ψ + 2Ψ + 12Ψ B), ZeRO stage 3 over N_d = 8 GPUs (Fig. 1: every state
    # divided by N_d), full recomputation (Korthikanti et al., arXiv 2205.05198, §5: 2·sbh B per layer kept),
    # s = 2048, b = 2, h = 4096, 32 layers.
    from memwall.wall import training_bars

    psi, n_d = 8_030_261_248, 8
    grid = training_bars.calculator_grid({"L": "llama-3-8b"}, seq_lens=[2048], micro_batches=[2], zero_stages=[3],
                                         n_gpus=[n_d], recomputes=["full"])
    got = dict(zip(grid["part"], grid["bytes"] / 1e9, strict=True))
    want = {"weights": 2 * psi / n_d / 1e9, "gradients": 2 * psi / n_d / 1e9, "optimizer": 12 * psi / n_d / 1e9,
            "activations": 32 * 2 * 2048 * 2 * 4096 / 1e9}
    assert want["activations"] == 1.073741824 and sum(want.values()) == pytest.approx(17.13426432, rel=1e-12)
    assert got == pytest.approx(want, rel=1e-12)


def test_zero_figure_1_exact():
    # ZeRO Fig. 1 (Ψ = 7.5B, N_d = 64, K = 12) prints rounded values; unrounded they are
    # 16Ψ = 120 GB, 4Ψ + 12Ψ/64 = 31.40625 GB, 2Ψ + 14Ψ/64 = 16.640625 GB and 16Ψ/64 = 1.875 GB per GPU.
    totals = [training_memory.model_state_bytes(7.5e9, "mixed_adam", zero_stage=z, n_gpus=64)["total"] / 1e9
              for z in (0, 1, 2, 3)]
    assert totals == pytest.approx([120.0, 31.40625, 16.640625, 1.875], rel=1e-12)


def test_paper_bars_long_has_both_sources_for_modelled_bars():
    from memwall.wall import training_bars

    bars = training_bars.paper_bars_long()
    ours = bars[bars["source"] == "ours"]
    assert set(ours["model"]) == {"Transformer Big (WMT)", "BERT Large", "GPT-2"}
    assert (bars["gpu_limit_gb"] > 0).all()


def test_attention_score_share_by_hand():
    # Llama-3-8B (h = 4096, a = 32) at s = 4096: 5as/h = 5 * 32 * 4096 / 4096 = 160; share 160 / 194
    assert training_memory.attention_score_share(4096, 4096, 32) == pytest.approx(160 / 194, rel=1e-15)
    # the share is one half where 5as/h = 34, i.e. at s* = 34h/(5a): h = 160, a = 32 -> s* = 34
    assert training_memory.attention_score_share(34, 160, 32) == 0.5
    # GPT-2 XL (h = 1600, a = 25): 5as/h = 80 at s = 1024 and 160 at s = 2048
    np.testing.assert_allclose(training_memory.attention_score_share([1024, 2048], 1600, 25), [80 / 114, 160 / 194])


def test_attention_score_share_is_what_selective_recomputation_removes():
    seqs = np.array([128, 1024, 8192])
    full = training_memory.activation_bytes_per_layer(seqs, 1, 4096, 32)
    sel = training_memory.activation_bytes_per_layer(seqs, 1, 4096, 32, recompute="selective")
    np.testing.assert_allclose(training_memory.attention_score_share(seqs, 4096, 32), (full - sel) / full, rtol=1e-12)


def test_logits_bytes_by_hand():
    # Llama-3 vocabulary (128256 tokens), 4096 tokens, fp32: 4096 * 128256 * 4 = 2,101,346,304 B
    assert training_memory.logits_bytes(4096, 128256) == 2_101_346_304
    assert training_memory.logits_bytes(4096, 128256, 2, bytes_per_element=2.0) == 2_101_346_304
    np.testing.assert_array_equal(training_memory.logits_bytes([1, 2], 10, [3, 4]), [120.0, 320.0])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"seq_len": 0, "vocab_size": 10}, "seq_len"),
    ({"seq_len": 8, "vocab_size": 0}, "vocab_size"),
    ({"seq_len": 8, "vocab_size": 10, "bytes_per_element": 0.0}, "bytes_per_element"),
])
def test_logits_bytes_rejects_bad_sizes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        training_memory.logits_bytes(**kwargs)


def test_attention_score_share_rejects_bad_sizes():
    with pytest.raises(ValueError, match="heads"):
        training_memory.attention_score_share(128, 64, 0)


@pytest.mark.parametrize("stage", [True, False, 1.0, "1", np.float64(2.0)])
def test_zero_stage_is_an_int_never_a_bool_or_float(stage):
    # issue 18: zero_stage=True used to be taken as stage 1
    with pytest.raises(ValueError, match=r"zero_stage=.* is not known; allowed: 0, 1, 2, 3"):
        training_memory.training_memory("gpt2", seq_len=128, zero_stage=stage, n_gpus=8)
    with pytest.raises(ValueError, match="zero_stage"):
        training_memory.model_state_bytes(1e9, zero_stage=stage, n_gpus=8)
    assert training_memory.model_state_bytes(1e9, zero_stage=np.int64(1), n_gpus=8) == \
        training_memory.model_state_bytes(1e9, zero_stage=1, n_gpus=8)


def test_block_size_without_a_precision_recipe_is_not_ignored():
    with pytest.raises(ValueError, match="block_size=512 needs a precision recipe"):
        training_memory.training_memory("gpt2", seq_len=128, block_size=512)
