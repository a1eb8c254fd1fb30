"""Build the reference outputs that ``tests/test_numpy_transformer.py`` checks memwall's numpy Transformer against.

Runs Hugging Face ``BertModel``, ``GPT2Model`` and ``GPT2LMHeadModel`` (tiny configurations built
from a config, no download, ``attn_implementation="eager"``) in float64 with random weights, and
writes to ``tests/data/transformer_reference.npz``:

* the weights, converted to :mod:`memwall.wall.numpy_transformer`'s layout (``x @ w + b``, Q/K/V side by
  side) and stored as float32; the torch models use exactly these float32 values (held in float64);
* BERT: input hidden states ``bert.x`` ``(l, d)`` and the encoder output ``bert.y``;
* GPT-2: input hidden states ``gpt2.x``, the full causal forward ``gpt2.y_prefill`` and the outputs of
  token-by-token generation with Hugging Face's KV cache ``gpt2.y_generate``. Embeddings are
  bypassed: BERT's encoder is called on the hidden states directly, and this GPT-2's position
  embeddings ``gpt2.wpe`` are zeroed so ``inputs_embeds`` reach the first block unchanged;
* the whole GPT-2 language model (``lm.``: token and position embeddings, blocks, final norm, LM head
  tied to ``wte``; vocabulary 500, 64 positions): the logits ``lm.logits`` of a full forward over
  the token ids ``lm.ids``; greedy generation of ``new_tokens`` tokens from the prompt ``lm.prompt``
  with the KV cache, by a hand-written loop (``lm.gen_ids``, the logits of every step
  ``lm.gen_logits``) and by ``model.generate(do_sample=False)`` (``lm.hf_generate_ids``,
  ``lm.hf_generate_logits``); the script checks that the two agree (ids equal; logits to float32
  rounding, as ``generate`` hands its logits back cast to float32 although the model runs in
  float64); the same loop from a one-token prompt ``lm.bos`` (``lm.bos_gen_ids``,
  ``lm.bos_gen_logits``). Logits are stored as float32 (relative rounding 6e-8, far below the
  tests' 1e-4) to keep the file small; the smallest gap between the best and second-best logit of a
  generation step, which the float32 numpy model must not bridge, is ``meta["lm_min_top2_gap"]``.

The test suite needs no torch; this script does (torch 2.13.0 and transformers, in a separate
environment)::

    /tmp/refenv/bin/python tools/transformer_reference.py
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import BertConfig, BertModel, GPT2Config, GPT2LMHeadModel, GPT2Model

TINY = {"layers": 2, "d_model": 32, "heads": 4, "ffn_dim": 128}
LM = {"vocab_size": 500, "max_positions": 64}
"""The language model's vocabulary and positions (blocks as ``TINY``); ``gpt2.`` has 16 tokens, 64 positions."""
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "transformer_reference.npz"


def _randomise(model: torch.nn.Module, rng: np.random.Generator) -> None:
    """Matrices ~ N(0, 1/fan_in), biases ~ N(0, 0.1²), LayerNorm gains 1 + N(0, 0.1²) and shifts N(0, 0.1²).

    Weights of unit-variance scale (rather than the 0.02 of the published initialisers) keep the
    attention peaked and GELU in its curved range, so a wrong scale, mask or activation shows up well
    above the test tolerance. Values are rounded to float32 so that the npz (float32) holds them exactly.
    """
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name or name.split(".")[-2].startswith("ln_"):
                base, scale = (1.0, 0.1) if name.endswith("weight") else (0.0, 0.1)
            elif p.ndim == 2:
                fan_in = p.shape[0] if type(getattr_path(model, name)).__name__ == "Conv1D" else p.shape[1]
                base, scale = 0.0, fan_in ** -0.5
            else:
                base, scale = 0.0, 0.1
            if name.startswith("wpe"):
                base, scale = 0.0, 0.0
            values = (base + scale * rng.standard_normal(tuple(p.shape))).astype(np.float32)
            p.copy_(torch.from_numpy(values.astype(np.float64)))


def getattr_path(model: torch.nn.Module, name: str) -> torch.nn.Module:
    """The module owning parameter ``name``."""
    module = model
    for part in name.split(".")[:-1]:
        module = getattr(module, part)
    return module


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def bert_arrays(rng: np.random.Generator, seq_len: int) -> dict[str, np.ndarray]:
    cfg = BertConfig(hidden_size=TINY["d_model"], num_hidden_layers=TINY["layers"],
                     num_attention_heads=TINY["heads"], intermediate_size=TINY["ffn_dim"], hidden_act="gelu",
                     hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, vocab_size=16,
                     attn_implementation="eager")
    model = BertModel(cfg, add_pooling_layer=False).double().eval()
    _randomise(model, rng)
    out: dict[str, np.ndarray] = {}
    for i, layer in enumerate(model.encoder.layer):
        att = layer.attention
        q, k, v = att.self.query, att.self.key, att.self.value
        w = {
            "w_qkv": torch.cat([q.weight.T, k.weight.T, v.weight.T], dim=1),
            "b_qkv": torch.cat([q.bias, k.bias, v.bias]),
            "w_o": att.output.dense.weight.T, "b_o": att.output.dense.bias,
            "ln1_g": att.output.LayerNorm.weight, "ln1_b": att.output.LayerNorm.bias,
            "w_up": layer.intermediate.dense.weight.T, "b_up": layer.intermediate.dense.bias,
            "w_down": layer.output.dense.weight.T, "b_down": layer.output.dense.bias,
            "ln2_g": layer.output.LayerNorm.weight, "ln2_b": layer.output.LayerNorm.bias,
        }
        out.update({f"bert.layer{i}.{k_}": _np(v_).astype(np.float32) for k_, v_ in w.items()})
    x = rng.standard_normal((seq_len, TINY["d_model"])).astype(np.float32)
    with torch.no_grad():
        y = model.encoder(torch.from_numpy(x.astype(np.float64))[None])[0][0]
    out["bert.x"], out["bert.y"] = x, _np(y)
    return out


def gpt2_arrays(rng: np.random.Generator, seq_len: int) -> dict[str, np.ndarray]:
    cfg = GPT2Config(n_embd=TINY["d_model"], n_layer=TINY["layers"], n_head=TINY["heads"], n_inner=TINY["ffn_dim"],
                     n_positions=64, vocab_size=16, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                     bos_token_id=0, eos_token_id=0, attn_implementation="eager")
    model = GPT2Model(cfg).double().eval()
    _randomise(model, rng)
    out: dict[str, np.ndarray] = {}
    for i, blk in enumerate(model.h):  # GPT-2's Conv1D weights are already (in, out)
        w = {
            "w_qkv": blk.attn.c_attn.weight, "b_qkv": blk.attn.c_attn.bias,
            "w_o": blk.attn.c_proj.weight, "b_o": blk.attn.c_proj.bias,
            "ln1_g": blk.ln_1.weight, "ln1_b": blk.ln_1.bias,
            "w_up": blk.mlp.c_fc.weight, "b_up": blk.mlp.c_fc.bias,
            "w_down": blk.mlp.c_proj.weight, "b_down": blk.mlp.c_proj.bias,
            "ln2_g": blk.ln_2.weight, "ln2_b": blk.ln_2.bias,
        }
        out.update({f"gpt2.layer{i}.{k_}": _np(v_).astype(np.float32) for k_, v_ in w.items()})
    out["gpt2.final_g"] = _np(model.ln_f.weight).astype(np.float32)
    out["gpt2.final_b"] = _np(model.ln_f.bias).astype(np.float32)
    out["gpt2.wte"] = _np(model.wte.weight).astype(np.float32)
    out["gpt2.wpe"] = _np(model.wpe.weight).astype(np.float32)  # zeros
    x = rng.standard_normal((seq_len, TINY["d_model"])).astype(np.float32)
    xt = torch.from_numpy(x.astype(np.float64))[None]
    with torch.no_grad():
        prefill = model(inputs_embeds=xt, use_cache=False).last_hidden_state[0]
        steps, cache = [], None
        for t in range(seq_len):
            res = model(inputs_embeds=xt[:, t:t + 1], cache=cache, use_cache=True)
            cache = _cache_of(res)
            steps.append(res.last_hidden_state[0, 0])
    out["gpt2.x"], out["gpt2.y_prefill"], out["gpt2.y_generate"] = x, _np(prefill), _np(torch.stack(steps))
    return out


def _cache_of(res: object) -> object:
    """The KV cache a forward returned (``cache`` in transformers 5.24, ``past_key_values`` before)."""
    return getattr(res, "cache", None) or res.past_key_values


def _greedy_loop(model: GPT2LMHeadModel, prompt: np.ndarray, new_tokens: int) -> tuple[np.ndarray, np.ndarray]:
    """Greedy generation by hand with Hugging Face's KV cache: prefill, then one token per step."""
    ids, steps = [], []
    with torch.no_grad():
        res = model(input_ids=torch.from_numpy(prompt)[None], use_cache=True)
        for _ in range(new_tokens):
            step_logits = res.logits[0, -1]
            ids.append(int(torch.argmax(step_logits)))
            steps.append(step_logits)
            if len(ids) < new_tokens:  # the last chosen token is not fed back
                res = model(input_ids=torch.tensor([[ids[-1]]]), cache=_cache_of(res), use_cache=True)
    return np.array(ids, dtype=np.int64), _np(torch.stack(steps))


def lm_arrays(rng: np.random.Generator, seq_len: int, prompt_len: int, new_tokens: int) -> tuple[dict, dict]:
    """The whole GPT-2 language model: full-forward logits and greedy generation (see the module docstring)."""
    cfg = GPT2Config(n_embd=TINY["d_model"], n_layer=TINY["layers"], n_head=TINY["heads"], n_inner=TINY["ffn_dim"],
                     n_positions=LM["max_positions"], vocab_size=LM["vocab_size"], resid_pdrop=0.0, embd_pdrop=0.0,
                     attn_pdrop=0.0, bos_token_id=LM["vocab_size"] - 1, eos_token_id=None, pad_token_id=None,
                     tie_word_embeddings=True, attn_implementation="eager")
    model = GPT2LMHeadModel(cfg).double().eval()
    _randomise(model, rng)
    tr = model.transformer
    assert model.lm_head.weight is tr.wte.weight and model.lm_head.bias is None, "LM head must be tied, no bias"
    out: dict[str, np.ndarray] = {}
    for i, blk in enumerate(tr.h):
        w = {
            "w_qkv": blk.attn.c_attn.weight, "b_qkv": blk.attn.c_attn.bias,
            "w_o": blk.attn.c_proj.weight, "b_o": blk.attn.c_proj.bias,
            "ln1_g": blk.ln_1.weight, "ln1_b": blk.ln_1.bias,
            "w_up": blk.mlp.c_fc.weight, "b_up": blk.mlp.c_fc.bias,
            "w_down": blk.mlp.c_proj.weight, "b_down": blk.mlp.c_proj.bias,
            "ln2_g": blk.ln_2.weight, "ln2_b": blk.ln_2.bias,
        }
        out.update({f"lm.layer{i}.{k_}": _np(v_).astype(np.float32) for k_, v_ in w.items()})
    out["lm.final_g"] = _np(tr.ln_f.weight).astype(np.float32)
    out["lm.final_b"] = _np(tr.ln_f.bias).astype(np.float32)
    out["lm.wte"] = _np(tr.wte.weight).astype(np.float32)
    out["lm.wpe"] = _np(tr.wpe.weight).astype(np.float32)
    vocab = LM["vocab_size"]
    ids = rng.integers(0, vocab, seq_len).astype(np.int64)
    prompt = rng.integers(0, vocab, prompt_len).astype(np.int64)
    bos = np.array([cfg.bos_token_id], dtype=np.int64)
    with torch.no_grad():
        logits = model(input_ids=torch.from_numpy(ids)[None], use_cache=False).logits[0]
        gen_ids, gen_logits = _greedy_loop(model, prompt, new_tokens)
        bos_ids, bos_logits = _greedy_loop(model, bos, new_tokens)
        res = model.generate(torch.from_numpy(prompt)[None], attention_mask=torch.ones(1, prompt_len, dtype=torch.long),
                             do_sample=False, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                             return_dict_in_generate=True, output_logits=True)
    hf_ids = _np(res.sequences[0, prompt_len:])
    hf_logits = _np(torch.stack(res.logits, dim=1)[0]).astype(np.float64)
    if not np.array_equal(hf_ids, gen_ids):
        raise AssertionError(f"generate() ids {hf_ids} differ from the hand-written loop's {gen_ids}")
    # generate() hands its logits back cast to float32 (the model runs in float64): agreement to float32 rounding.
    loop_vs_generate = float(np.abs(hf_logits - gen_logits).max())
    if loop_vs_generate > 2.0 ** -22 * np.abs(gen_logits).max():
        raise AssertionError(f"generate() logits differ from the loop's by {loop_vs_generate}")
    gaps = [np.diff(np.sort(row)[-2:])[0] for row in (*gen_logits, *bos_logits)]
    out.update({"lm.ids": ids, "lm.logits": _np(logits).astype(np.float32), "lm.prompt": prompt,
                "lm.gen_ids": gen_ids, "lm.gen_logits": gen_logits.astype(np.float32),
                "lm.hf_generate_ids": hf_ids, "lm.hf_generate_logits": hf_logits.astype(np.float32),
                "lm.bos": bos, "lm.bos_gen_ids": bos_ids, "lm.bos_gen_logits": bos_logits.astype(np.float32)})
    meta = {**{f"lm_{k}": v for k, v in LM.items()}, "lm_seq_len": seq_len, "lm_prompt_len": prompt_len,
            "lm_new_tokens": new_tokens, "lm_min_top2_gap": float(min(gaps)),
            "lm_loop_vs_generate_max_abs": loop_vs_generate,
            "lm_distinct_generated": len(set(gen_ids.tolist()))}
    return out, meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--seq-len", type=int, default=12)
    parser.add_argument("--lm-seq-len", type=int, default=32, help="tokens of the language model's full forward")
    parser.add_argument("--prompt-len", type=int, default=5)
    parser.add_argument("--new-tokens", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    arrays = {**bert_arrays(rng, args.seq_len), **gpt2_arrays(rng, args.seq_len)}
    lm, lm_meta = lm_arrays(rng, args.lm_seq_len, args.prompt_len, args.new_tokens)
    arrays.update(lm)
    meta = {**TINY, **lm_meta, "seq_len": args.seq_len, "seed": args.seed, "torch": torch.__version__,
            "transformers": transformers.__version__, "dtype": "float64 reference, float32 weights/inputs/logits",
            "made_by": "tools/transformer_reference.py"}
    arrays["meta"] = np.array(json.dumps(meta))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB): {meta}")


if __name__ == "__main__":
    main()
