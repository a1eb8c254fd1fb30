"""Tests of memwall.wall.numpy_transformer against Hugging Face outputs (stored npz, no torch needed) and by itself."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from memwall.roofline import Ceilings
from memwall.specs import ModelSpec, get_preset
from memwall.wall.numpy_transformer import (
    NumpyTransformer,
    gelu_erf,
    gelu_tanh,
    latency_table,
    layer_norm,
    time_encode,
    time_generate,
)
from memwall.wall.numpy_transformer.table import _paper_ratios

from .conftest import StubClock

REFERENCE = Path(__file__).parent / "data" / "transformer_reference.npz"


def tiny(causal: bool, layers: int = 2, d: int = 32, heads: int = 4, ffn: int = 128, vocab: int = 16,
         positions: int = 64) -> ModelSpec:
    return ModelSpec(name=f"tiny-{'gpt2' if causal else 'bert'}", layers=layers, d_model=d, heads=heads,
                     kv_heads=heads, head_dim=d // heads, ffn_dim=ffn, ffn_kind="gelu", vocab_size=vocab,
                     max_positions=positions, bias=True, norm="layernorm", causal=causal, final_norm=causal,
                     learned_positions=causal, tied_embeddings=causal)


def tiny_lm() -> ModelSpec:
    """The language model of the reference file (``lm.``): TINY blocks, vocabulary 500, 64 positions."""
    return tiny(True, vocab=500, positions=64)


@pytest.fixture(scope="module")
def ref() -> dict[str, np.ndarray]:
    with np.load(REFERENCE) as z:
        return dict(z)


def _close(ours: np.ndarray, theirs: np.ndarray) -> None:
    # Within 1e-4 relative of the float64 Hugging Face reference (atol scaled to the output size).
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4 * np.abs(theirs).max())


# ------------------------------------------------------------------------------- Hugging Face reference


def test_reference_file_is_small_and_described(ref: dict[str, np.ndarray]) -> None:
    assert REFERENCE.stat().st_size < 1_000_000  # 543 KiB: three tiny models' float32 weights and outputs
    meta = json.loads(str(ref["meta"]))
    assert meta["made_by"] == "tools/transformer_reference.py"
    assert (meta["layers"], meta["d_model"], meta["heads"], meta["ffn_dim"]) == (2, 32, 4, 128)
    assert (meta["lm_vocab_size"], meta["lm_max_positions"]) == (500, 64)
    assert ref["lm.gen_logits"].shape == (meta["lm_new_tokens"], 500)


def test_bert_encoder_matches_hugging_face(ref: dict[str, np.ndarray]) -> None:
    model = NumpyTransformer.from_arrays(tiny(False), ref, prefix="bert.")
    _close(model.encode(ref["bert.x"]), ref["bert.y"])


def test_gpt2_prefill_matches_hugging_face(ref: dict[str, np.ndarray]) -> None:
    model = NumpyTransformer.from_arrays(tiny(True), ref, prefix="gpt2.")
    _close(model.forward(ref["gpt2.x"]), ref["gpt2.y_prefill"])


def test_gpt2_generation_with_cache_matches_hugging_face(ref: dict[str, np.ndarray]) -> None:
    model = NumpyTransformer.from_arrays(tiny(True), ref, prefix="gpt2.")
    _close(model.generate(ref["gpt2.x"]), ref["gpt2.y_generate"])


def _close_logits(ours: np.ndarray, theirs: np.ndarray) -> None:
    # float32 numpy against the float64 reference (stored rounded to float32): 1e-4 relative, atol
    # 1e-4 of the largest logit. The observed error is below 4e-7 of it (tools/transformer_reference.py).
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4 * np.abs(theirs).max())


def test_lm_full_forward_logits_match_hugging_face(ref: dict[str, np.ndarray]) -> None:
    model = NumpyTransformer.from_arrays(tiny_lm(), ref, prefix="lm.")
    assert model.dtype == np.float32
    logits = model.forward_ids(ref["lm.ids"])
    assert logits.shape == (32, 500) and logits.dtype == np.float32
    _close_logits(logits, ref["lm.logits"])
    # the same through the public pieces
    _close_logits(model.logits(model.run_blocks(model.embed(ref["lm.ids"]))), ref["lm.logits"])


@pytest.mark.parametrize("prompt, key", [("lm.prompt", "lm.gen"), ("lm.bos", "lm.bos_gen")])
def test_lm_greedy_generation_matches_hugging_face(ref: dict[str, np.ndarray], prompt: str, key: str) -> None:
    """Same ids as HF's loop with its KV cache (and, for the prompt, as ``generate(do_sample=False)``)."""
    model = NumpyTransformer.from_arrays(tiny_lm(), ref, prefix="lm.")
    new_tokens = ref[f"{key}_ids"].shape[0]
    ids, logits = model.generate_greedy(ref[prompt], new_tokens)
    assert ids.shape == (new_tokens,) and logits.shape == (new_tokens, 500)
    np.testing.assert_array_equal(ids, ref[f"{key}_ids"])
    _close_logits(logits, ref[f"{key}_logits"])
    if prompt == "lm.prompt":
        np.testing.assert_array_equal(ids, ref["lm.hf_generate_ids"])
        _close_logits(logits, ref["lm.hf_generate_logits"])
    # The ids are robust: our logit error is far below the smallest top-1/top-2 gap of the reference.
    gap = json.loads(str(ref["meta"]))["lm_min_top2_gap"]
    assert np.abs(logits - ref[f"{key}_logits"]).max() < gap / 10


def test_lm_reference_detects_missing_positions_and_double_norm(ref: dict[str, np.ndarray]) -> None:
    model = NumpyTransformer.from_arrays(tiny_lm(), ref, prefix="lm.")
    with pytest.raises(AssertionError):  # the final norm applied twice (forward's output fed to logits)
        _close_logits(model.logits(model.forward(model.embed(ref["lm.ids"]))), ref["lm.logits"])
    model.wpe[...] = 0.0
    with pytest.raises(AssertionError):  # no position embedding
        _close_logits(model.forward_ids(ref["lm.ids"]), ref["lm.logits"])


def test_reference_detects_wrong_gelu(ref: dict[str, np.ndarray]) -> None:
    # The reference weights are large enough that the tanh GELU (GPT-2's) fails BERT's check.
    model = NumpyTransformer.from_arrays(tiny(False), ref, prefix="bert.")
    model.activation = gelu_tanh
    with pytest.raises(AssertionError):
        _close(model.encode(ref["bert.x"]), ref["bert.y"])


def test_from_arrays_missing_key(ref: dict[str, np.ndarray]) -> None:
    arrays = {k: v for k, v in ref.items() if k != "gpt2.final_g"}
    with pytest.raises(ValueError, match=r"gpt2\.final_g"):
        NumpyTransformer.from_arrays(tiny(True), arrays, prefix="gpt2.")


# ------------------------------------------------------------------------------------- self-consistency


@pytest.mark.parametrize("seq_len", [1, 2, 9])
def test_cached_decoding_equals_full_causal_forward(seq_len: int) -> None:
    model = NumpyTransformer(tiny(True, layers=3, d=24, heads=3, ffn=40), seed=5, dtype=np.float64)
    x = model.random_input(seq_len)
    np.testing.assert_allclose(model.generate(x), model.forward(x), rtol=1e-10, atol=1e-10)


def test_generation_continues_from_a_prompt_cache() -> None:
    model = NumpyTransformer(tiny(True), seed=1, dtype=np.float64)
    x = model.random_input(10)
    cache = model.new_cache(10)
    first = model.generate(x[:4], cache)
    rest = model.generate(x[4:], cache)
    np.testing.assert_allclose(np.vstack([first, rest]), model.forward(x), rtol=1e-10, atol=1e-10)
    assert cache.length == 10
    with pytest.raises(ValueError, match="full"):
        model.step(x[0], cache)


def test_prefill_in_chunks_with_the_cache_equals_the_full_forward() -> None:
    # A chunk of several tokens at a cache offset (the causal mask shifted by cache.length).
    model = NumpyTransformer(tiny(True, layers=3, d=24, heads=3, ffn=40), seed=5, dtype=np.float64)
    x = model.random_input(11)
    cache = model.new_cache(11)
    chunks = [model.run_blocks(x[:4], cache), model.run_blocks(x[4:5], cache), model.run_blocks(x[5:], cache)]
    np.testing.assert_allclose(np.vstack(chunks), model.run_blocks(x), rtol=1e-10, atol=1e-10)
    assert cache.length == 11
    with pytest.raises(ValueError, match="capacity 11"):
        model.run_blocks(x[:1], cache)


def test_greedy_generation_equals_full_forward_over_its_own_tokens() -> None:
    # Cached generation against the uncached LM over prompt + generated tokens (float64, self-consistency).
    model = NumpyTransformer(tiny(True, vocab=40, positions=20), seed=7, dtype=np.float64)
    prompt = np.array([3, 17, 5])
    ids, logits = model.generate_greedy(prompt, 8)
    full = model.forward_ids(np.concatenate([prompt, ids[:-1]]))
    np.testing.assert_allclose(logits, full[len(prompt) - 1:], rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(ids, logits.argmax(axis=1))
    # decode_step_ids continues a cache: embeds at position cache.length
    cache = model.new_cache(4)
    model.run_blocks(model.embed(prompt), cache)
    np.testing.assert_allclose(model.decode_step_ids(int(ids[0]), cache), logits[1], rtol=1e-10, atol=1e-10)
    assert cache.length == 4
    # prompt + new tokens may fill max_positions exactly
    assert model.generate_greedy(np.array([1]), 19)[0].shape == (19,)


@pytest.mark.slow  # GPT-2 124M's random weights (wte 50257 × 768 float32, 154 MB): about 2 s
def test_generate_greedy_full_size_gpt2_reads_the_lm_head() -> None:
    model = NumpyTransformer("gpt2", seed=0)
    assert model.wte.shape == (50257, 768) and model.wpe.shape == (1024, 768) and model.wte.dtype == np.float32
    bos = np.array([50256])
    ids, logits = model.generate_greedy(bos, 2)
    assert ids.shape == (2,) and logits.shape == (2, 50257) and logits.dtype == np.float32
    assert np.all((0 <= ids) & (ids < 50257)) and np.all(np.isfinite(logits))
    np.testing.assert_allclose(logits[0], model.logits(model.run_blocks(model.embed(bos)))[0], rtol=1e-5, atol=1e-5)
    # the head is tied: the logits are the final hidden state times each token's embedding
    h = model.forward(model.embed(bos))[0]
    np.testing.assert_allclose(logits[0, [0, 50256]], model.wte[[0, 50256]] @ h, rtol=1e-4, atol=1e-5)


def test_embeddings_in_arrays_round_trip() -> None:
    model = NumpyTransformer(tiny(True), seed=4)
    arrays = model.to_arrays("m.")
    assert arrays["m.wte"].shape == (16, 32) and arrays["m.wpe"].shape == (64, 32)
    again = NumpyTransformer.from_arrays(tiny(True), arrays, prefix="m.")
    ids = np.array([0, 15, 7])
    np.testing.assert_array_equal(again.forward_ids(ids), model.forward_ids(ids))
    assert "m.wte" not in NumpyTransformer(tiny(False)).to_arrays("m.")
    with pytest.raises(ValueError, match=r"m\.wpe"):
        NumpyTransformer.from_arrays(tiny(True), {k: v for k, v in arrays.items() if k != "m.wpe"}, prefix="m.")
    with pytest.raises(ValueError, match=r"wte must have shape \(16, 32\)"):
        NumpyTransformer(tiny(True), wte=np.zeros((15, 32)))
    with pytest.raises(ValueError, match="encoder"):
        NumpyTransformer(tiny(False), wte=np.zeros((16, 32)))


def test_embed_logits_and_generation_errors() -> None:
    enc, dec = NumpyTransformer(tiny(False)), NumpyTransformer(tiny(True))  # vocab 16, 64 positions
    with pytest.raises(ValueError, match=r"ids must lie in 0 … vocab_size - 1 = 15, got 16"):
        dec.embed(np.array([1, 16]))
    with pytest.raises(ValueError, match=r"ids .* got -1"):
        dec.embed(np.array([-1]))
    with pytest.raises(ValueError, match="ids must be a 1-D integer array"):
        dec.embed(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="ids must be a 1-D integer array"):
        dec.embed(np.zeros((2, 2), dtype=int))
    with pytest.raises(ValueError, match=r"start=60 … 64 reach past max_positions=64"):
        dec.embed(np.arange(5), start=60)
    assert dec.embed(np.arange(4), start=60).shape == (4, 32)  # the last position is 63
    with pytest.raises(ValueError, match="start must be a non-negative integer"):
        dec.embed(np.arange(2), start=-1)
    with pytest.raises(ValueError, match=r"h must have shape \(l >= 1, d_model=32\)"):
        dec.logits(np.zeros(32))
    for call in (lambda: enc.embed(np.array([1])), lambda: enc.logits(np.zeros((1, 32))),
                 lambda: enc.generate_greedy(np.array([1]), 2), lambda: enc.decode_step_ids(1, dec.new_cache(2))):
        with pytest.raises(ValueError, match="is an encoder"):
            call()
    with pytest.raises(ValueError, match=r"prompt_ids \(60 tokens\) \+ new_tokens \(5\) = 65 exceed max_positions=64"):
        dec.generate_greedy(np.zeros(60, dtype=int), 5)
    with pytest.raises(ValueError, match="new_tokens"):
        dec.generate_greedy(np.array([1]), 0)
    with pytest.raises(ValueError, match="token_id must be an integer"):
        dec.decode_step_ids(1.0, dec.new_cache(2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="vocab_size"):
        dec.decode_step_ids(16, dec.new_cache(2))
    cache = dec.new_cache(1)
    dec.decode_step_ids(1, cache)
    with pytest.raises(ValueError, match="full"):
        dec.decode_step_ids(1, cache)
    with pytest.raises(ValueError, match="encoder"):
        enc.run_blocks(enc.random_input(2), dec.new_cache(2))


def test_causality_and_bidirectionality() -> None:
    enc, dec = NumpyTransformer(tiny(False), seed=2), NumpyTransformer(tiny(True), seed=2)
    x = enc.random_input(6)
    y = x.copy()
    y[-1] += 1.0  # change only the last token
    assert not np.allclose(enc.encode(x)[0], enc.encode(y)[0])  # the encoder sees the future
    np.testing.assert_array_equal(dec.forward(x)[:-1], dec.forward(y)[:-1])  # the decoder does not


def test_gelu_and_layer_norm_analytic() -> None:
    x = np.array([-1.0, 0.0, 1.0, 3.0])
    # x·Φ(x) with Φ(1) = 0.8413447460685429, Φ(3) = 0.9986501019683699.
    np.testing.assert_allclose(gelu_erf(x), [-(1 - 0.8413447460685429), 0.0, 0.8413447460685429,
                                             3 * 0.9986501019683699], rtol=1e-12)
    np.testing.assert_allclose(gelu_tanh(x), gelu_erf(x), atol=1e-3)
    assert gelu_erf(x.astype(np.float32)).dtype == np.float32
    z = layer_norm(np.array([[1.0, 2.0, 3.0, 6.0]]), np.ones(4), np.zeros(4), 0.0)
    np.testing.assert_allclose([z.mean(), z.var()], [0.0, 1.0], atol=1e-12)


def test_real_shapes_from_presets() -> None:
    for name in ("bert-base", "gpt2"):
        spec = dataclasses.replace(get_preset(name), layers=1)
        model = NumpyTransformer(spec, seed=0)
        blk = model.blocks[0]
        assert blk.w_qkv.shape == (768, 3 * 768) and blk.w_up.shape == (768, 3072) and blk.w_down.shape == (3072, 768)
        assert blk.w_qkv.dtype == np.float32
        assert (model.final_norm is not None) == (name == "gpt2")
        assert model.eps == (1e-5 if name == "gpt2" else 1e-12)
    a = NumpyTransformer(tiny(True), seed=3).blocks[0].w_up
    np.testing.assert_array_equal(a, NumpyTransformer(tiny(True), seed=3).blocks[0].w_up)  # seeded


def test_errors() -> None:
    with pytest.raises(ValueError, match="ffn_kind='gated'"):
        NumpyTransformer(dataclasses.replace(get_preset("llama-2-7b"), layers=1))
    enc, dec = NumpyTransformer(tiny(False)), NumpyTransformer(tiny(True))
    with pytest.raises(ValueError, match="shape"):
        enc.encode(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="causal"):
        dec.encode(dec.random_input(3))
    with pytest.raises(ValueError, match="encoder"):
        enc.generate(enc.random_input(3))
    with pytest.raises(ValueError, match="seq_len"):
        enc.random_input(0)
    with pytest.raises(ValueError, match="blocks"):
        NumpyTransformer(tiny(True), blocks=dec.blocks[:1])
    with pytest.raises(ValueError, match="w_qkv"):
        NumpyTransformer(tiny(True, d=16), blocks=dec.blocks)


# -------------------------------------------------------------------------------------------- timing



def _stub_clock(monkeypatch: pytest.MonkeyPatch, durations: list[float]) -> StubClock:
    from memwall.wall.numpy_transformer import latency

    clock = StubClock(durations)
    monkeypatch.setattr(latency, "time", clock)
    return clock


def test_timing_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    enc, dec = NumpyTransformer(tiny(False)), NumpyTransformer(tiny(True))
    # Runs of 3, 1 and 2 s: the median is 2 s; the warm-up run is not timed (6 clock reads, not 8).
    clock = _stub_clock(monkeypatch, [3.0, 1.0, 2.0])
    assert time_encode(8, model=enc, repeats=3) == pytest.approx(2.0, rel=1e-12) and clock.reads == 6
    # Two runs of 1 and 4 s: the median of an even count is their mean, 2.5 s.
    _stub_clock(monkeypatch, [1.0, 4.0])
    assert time_encode(8, model=enc, repeats=2) == pytest.approx(2.5, rel=1e-12)
    # One timed generation of 5 s; the 8-token warm-up generation is not timed.
    clock = _stub_clock(monkeypatch, [5.0])
    assert time_generate(8, model=dec, repeats=1, warmup=True) == pytest.approx(5.0, rel=1e-12) and clock.reads == 2
    monkeypatch.undo()
    with pytest.raises(ValueError, match="seq_len"):
        time_encode(0, model=enc)
    with pytest.raises(ValueError, match="repeats"):
        time_generate(4, model=dec, repeats=0)
    with pytest.raises(ValueError, match="causal"):
        time_generate(4, model=enc)


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    from memwall.tables import load_survey_case_study

    return load_survey_case_study()


def test_paper_ratios(survey: pd.DataFrame) -> None:
    # Survey (Kim et al., arXiv 2302.14017) Fig. 9: GPT-2/BERT-Base CPU latency 45/1 at l = 128 and
    # 2344/84 ≈ 28 at 4096; Fig. 32 (analytic model): 18/1 and 840/80.
    r = _paper_ratios(survey)
    assert r.loc[128, "paper_ratio"] == pytest.approx(45.0)
    assert r.loc[4096, "paper_ratio"] == pytest.approx(2344 / 84)
    assert r.loc[4096, "paper_analytic_ratio"] == pytest.approx(840 / 80)


def test_latency_table_small(survey: pd.DataFrame) -> None:
    ceil = Ceilings(1e11, 1e10)
    t = latency_table((8, 128), ceilings=ceil, encoder=tiny(False), decoder=tiny(True), repeats=1, progress=False,
                      published=survey)
    assert list(t["seq_len"]) == [8, 128]
    assert (t[["encoder_s", "decoder_s", "ratio"]] > 0).all().all()
    np.testing.assert_allclose(t["ratio"], t["decoder_s"] / t["encoder_s"])
    assert np.isnan(t.loc[0, "paper_ratio"]) and t.loc[1, "paper_ratio"] == pytest.approx(45.0)
    np.testing.assert_allclose(t["predicted_ratio"], t["predicted_decoder_s"] / t["predicted_encoder_s"])
    assert "predicted_ratio" not in latency_table((4,), encoder=tiny(False), decoder=tiny(True), repeats=1,
                                                  progress=False, published=pd.DataFrame(
                                                      {"model": [], "seq_len": [], "operator": [], "metric": [],
                                                       "published_value": []})).columns


def test_generation_time_from_steps_is_exact_for_linear_step_cost():
    """Sum of t(k) = a + b k over k = 0..L-1 is L a + b L (L-1) / 2; two samples determine it exactly."""
    from memwall.wall.numpy_transformer import generation_time_from_steps

    a, b, length = 0.02, 1e-5, 512
    ks = [0, 170, 341, 511]
    exact = length * a + b * length * (length - 1) / 2
    assert generation_time_from_steps(ks, [a + b * k for k in ks], length) == pytest.approx(exact, rel=1e-12)
    with pytest.raises(ValueError, match="must increase within"):
        generation_time_from_steps([5, 3], [1.0, 1.0], 10)
    with pytest.raises(ValueError, match="equally long"):
        generation_time_from_steps([0, 3], [1.0], 10)


def test_sampled_generation_sums_the_sampled_step_times(monkeypatch: pytest.MonkeyPatch):
    """With step times t(k) = a + b·k at the sampled cache lengths, the estimate is L·a + b·L(L-1)/2."""
    from memwall.wall.numpy_transformer import NumpyTransformer, time_generate_sampled

    spec = dataclasses.replace(get_preset("gpt2"), name="tiny", layers=1, d_model=32, heads=4, kv_heads=4,
                               head_dim=8, ffn_dim=64)
    a, b, length = 0.02, 1e-5, 64
    ks = [0, 21, 42, 63]  # 4 samples evenly spaced over 0 … 63, rounded
    # 3 timed steps per cache length: 10·t, t and t/10, so the median is t(k)
    clock = _stub_clock(monkeypatch, [x for k in ks for x in (10 * (a + b * k), a + b * k, (a + b * k) / 10)])
    est = time_generate_sampled(length, model=NumpyTransformer(spec, seed=0), samples=4, repeats=3)
    assert clock.reads == 2 * 3 * len(ks)  # the warm-up step is not timed
    assert est == pytest.approx(length * a + b * length * (length - 1) / 2, rel=1e-12)  # 1.28 + 0.02016 s


@pytest.mark.slow  # the encoder case draws BERT-Base's random weights before it is refused: about 2 s
def test_sampled_generation_bad_input():
    from memwall.wall.numpy_transformer import time_generate_sampled

    with pytest.raises(ValueError, match="samples must be at least 2"):
        time_generate_sampled(16, samples=1)
    with pytest.raises(ValueError, match="encoder"):
        time_generate_sampled(16, spec="bert-base")


def test_foreign_cache_integer_dtype_and_integer_hidden_states_are_refused():
    small = NumpyTransformer(tiny(True), seed=0)
    foreign = NumpyTransformer(tiny(True, layers=3), seed=0).new_cache(8)
    with pytest.raises(ValueError, match="new_cache"):
        small.decode_step_ids(0, foreign)
    with pytest.raises(ValueError, match="floating-point"):
        NumpyTransformer(tiny(True), dtype=np.int32)
    with pytest.raises(ValueError, match="floating-point"):
        small.logits(np.zeros((1, 32), dtype=np.int64))
