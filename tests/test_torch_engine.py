"""Tests of memwall.wall.torch_engine: without torch, the engine list and the refusal; with it, tiny timings.

torch and transformers are an optional extra (``memwall[torch]``); the tests that need them skip
without them, so the build, ``make test`` and CI never require PyTorch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from memwall.wall import torch_engine
from memwall.wall.numpy_transformer import LATENCY_COLUMNS

needs_torch = pytest.mark.skipif(not torch_engine.torch_available(), reason="torch/transformers not installed")


def test_engines_listed() -> None:
    engines = torch_engine.available_engines()
    assert engines[0] == "numpy" and set(engines) <= set(torch_engine.ENGINES)
    assert (len(engines) == 3) == torch_engine.torch_available()
    assert torch_engine.numpy_blas_threads() >= 1


def test_without_torch_the_engine_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch_engine, "torch_available", lambda: False)
    assert torch_engine.available_engines() == ("numpy",)
    with pytest.raises(ImportError, match=r"memwall\[torch\]"):
        torch_engine.build_torch_models()
    with pytest.raises(ImportError, match=r"memwall\[torch\]"):
        torch_engine.torch_latency_table((4,))


def test_compare_engines_numpy_only_has_the_latency_table_shape() -> None:
    from memwall.specs import ModelSpec
    from memwall.wall.numpy_transformer import NumpyTransformer

    def tiny(causal: bool) -> ModelSpec:
        return ModelSpec(name="tiny", layers=1, d_model=16, heads=2, kv_heads=2, head_dim=8, ffn_dim=32,
                         ffn_kind="gelu", vocab_size=16, max_positions=64, bias=True, norm="layernorm", causal=causal,
                         final_norm=causal)

    t = torch_engine.compare_engines(8, engines=["numpy"], rounds=3,
                                     numpy_models=(NumpyTransformer(tiny(False)), NumpyTransformer(tiny(True))))
    assert list(t.columns[: len(LATENCY_COLUMNS)]) == list(LATENCY_COLUMNS)
    row = t.iloc[0]
    assert row["engine"] == "numpy" and row["encoder_repeats"] == 3 and row["decoder_repeats"] == 3
    assert row["ratio"] == pytest.approx(row["decoder_s"] / row["encoder_s"])
    with pytest.raises(ValueError, match="engine"):
        torch_engine.compare_engines(8, engines=["jax"])


@pytest.fixture(scope="module")
def models() -> torch_engine.TorchModels:
    if not torch_engine.torch_available():
        pytest.skip("torch/transformers not installed")
    return torch_engine.build_torch_models(seed=0)


@needs_torch
@pytest.mark.slow  # builds BERT-Base and GPT-2 with random weights: several seconds
def test_torch_models_and_timings(models: torch_engine.TorchModels) -> None:
    import torch

    assert models.threads == torch.get_num_threads() == torch_engine.numpy_blas_threads()
    assert sum(p.numel() for p in models.gpt2.parameters()) == pytest.approx(124.44e6, rel=1e-3)  # tied head
    assert models.gpt2.lm_head.weight is models.gpt2.transformer.wte.weight
    assert next(models.bert.parameters()).dtype == torch.float32
    enc = torch_engine.measure_torch_encode(8, models, repeats=2)
    assert enc.repeats == 2 and enc.median_s > 0
    for method in ("own loop", "generate"):
        assert torch_engine.measure_torch_generate(4, models, method=method).median_s > 0
    step = torch_engine.measure_torch_decode_step(16, models, repeats=3)
    assert step.repeats == 3 and step.median_s > 0
    with pytest.raises(ValueError, match="method"):
        torch_engine.measure_torch_generate(4, models, method="beam")
    with pytest.raises(ValueError, match="n_positions"):
        torch_engine.measure_torch_generate(1024, models)
    with pytest.raises(ValueError, match="max_position_embeddings"):
        torch_engine.measure_torch_encode(513, models)


@needs_torch
@pytest.mark.slow
def test_own_loop_generates_what_generate_generates(models: torch_engine.TorchModels) -> None:
    # Greedy decoding is deterministic: the hand-written loop and model.generate must agree token for token.
    import torch

    own = torch_engine._generate_fn(models, "own loop")
    gen = torch_engine._generate_fn(models, "generate")
    prompt = torch.tensor([[0]])
    with torch.inference_mode():
        out = models.gpt2(input_ids=prompt, use_cache=True)
        tokens = [int(out.logits[0, -1].argmax())]
        ids = torch.tensor([[0, tokens[0]]])
        for _ in range(4):
            tokens.append(int(models.gpt2(input_ids=ids).logits[0, -1].argmax()))
            ids = torch.cat([ids, torch.tensor([[tokens[-1]]])], dim=1)
    assert gen(5)[0, 1:].tolist() == tokens
    assert int(own(5)[0]) == tokens[-1]


@needs_torch
@pytest.mark.slow
def test_torch_latency_table_and_interleaved_comparison(models: torch_engine.TorchModels) -> None:
    survey = pd.DataFrame({"model": [], "seq_len": [], "operator": [], "metric": [], "published_value": []})
    t = torch_engine.torch_latency_table((4,), models=models, repeats=2, published=survey, budget_s=5.0)
    assert list(t.columns[: len(LATENCY_COLUMNS)]) == list(LATENCY_COLUMNS)
    assert list(t["engine"]) == ["pytorch (own loop)", "pytorch (generate)"]
    assert list(t["decoder_method"]) == ["loop", "generate"]
    assert t["encoder_s"].nunique() == 1  # one encoding per length, shared by both rows
    c = torch_engine.compare_engines(4, engines=["pytorch (own loop)", "pytorch (generate)"], rounds=2,
                                     models=models, published=survey)
    assert list(c["decoder_repeats"]) == [2, 2] and np.all(c["ratio"] > 0)
