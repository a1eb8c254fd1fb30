"""Build the reference outputs that ``tests/test_numpy_transformer.py`` checks memwall's numpy Transformer against.

Runs Hugging Face ``BertModel`` and ``GPT2Model`` (tiny configurations built from a config, no
download, ``attn_implementation="eager"``) in float64 with random weights, and writes to
``tests/data/transformer_reference.npz``:

* the weights, converted to :mod:`memwall.wall.numpy_transformer`'s layout (``x @ w + b``, Q/K/V side by
  side) and stored as float32; the torch models use exactly these float32 values (held in float64);
* BERT: input hidden states ``bert.x`` ``(l, d)`` and the encoder output ``bert.y``;
* GPT-2: input hidden states ``gpt2.x``, the full causal forward ``gpt2.y_prefill`` and the outputs of
  token-by-token generation with Hugging Face's KV cache ``gpt2.y_generate``.

Embeddings are bypassed: BERT's encoder is called on the hidden states directly, and GPT-2's position
embeddings are zeroed so ``inputs_embeds`` reach the first block unchanged. The test suite needs no
torch; this script does (torch 2.13.0 and transformers, in a separate environment)::

    /tmp/refenv/bin/python tools/transformer_reference.py
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import BertConfig, BertModel, GPT2Config, GPT2Model

TINY = {"layers": 2, "d_model": 32, "heads": 4, "ffn_dim": 128}
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
                     n_positions=64, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                     attn_implementation="eager")
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
    x = rng.standard_normal((seq_len, TINY["d_model"])).astype(np.float32)
    xt = torch.from_numpy(x.astype(np.float64))[None]
    with torch.no_grad():
        prefill = model(inputs_embeds=xt, use_cache=False).last_hidden_state[0]
        steps, cache = [], None
        for t in range(seq_len):
            res = model(inputs_embeds=xt[:, t:t + 1], cache=cache, use_cache=True)
            cache = getattr(res, "cache", None) or res.past_key_values
            steps.append(res.last_hidden_state[0, 0])
    out["gpt2.x"], out["gpt2.y_prefill"], out["gpt2.y_generate"] = x, _np(prefill), _np(torch.stack(steps))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--seq-len", type=int, default=12)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    arrays = {**bert_arrays(rng, args.seq_len), **gpt2_arrays(rng, args.seq_len)}
    meta = {**TINY, "seq_len": args.seq_len, "seed": args.seed, "torch": torch.__version__,
            "transformers": transformers.__version__, "dtype": "float64 reference, float32 weights/inputs",
            "made_by": "tools/transformer_reference.py"}
    arrays["meta"] = np.array(json.dumps(meta))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB): {meta}")


if __name__ == "__main__":
    main()
