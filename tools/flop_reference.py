"""Independent matmul-FLOP reference for memwall's cost model, counted by PyTorch.

Builds each preset that Hugging Face ``transformers`` implements from its configuration (random or
no weights, nothing downloaded), runs a prefill over ``l`` tokens and one decode step after a KV cache
of ``l_kv`` tokens under ``torch.utils.flop_counter.FlopCounterMode``, and writes the counts to
``tests/data/flop_reference.json``. ``tests/test_cost.py`` compares memwall's matmul-scope FLOPs
(``cost_arrays(..., scope="matmul")``: projection + act-to-act + FFN, plus the LM head where the reference
has one) against that file, FLOP for FLOP, without needing torch.

Each record's ``lm_head`` says which head ran (``includes_lm_head`` is ``lm_head != "none"``):

* ``"none"``: the bare body (``AutoModel``: ``BertModel`` without its pooler, ``GPT2Model``, ``LlamaModel``, ...);
* ``"all"``: the head over every position, as a plain forward pass: ``GPT2LMHeadModel`` and
  ``LlamaForCausalLM`` (final norm and ``d × vocab`` matmul), ``BertForMaskedLM`` (BERT's MLM head,
  ``BertLMPredictionHead``: the ``BertPredictionHeadTransform`` dense ``d × d`` + GELU + LayerNorm, then the
  decoder ``d × vocab`` tied to the word embeddings, with its vocabulary bias);
* ``"last"``: a causal LM asked for the logits of each sequence's last position only
  (``logits_to_keep=1``, which transformers 5 passes to ``slice_logits_to_keep`` before ``lm_head``: the
  inference setting); a decode step has one position anyway.

FlopCounterMode counts matmul-family kernels (mm, addmm, bmm, ...) as 2 FLOPs per multiply-add and
ignores softmax, norms, activations and adds. Traps handled here:

* attention runs with ``attn_implementation="eager"``: the default SDPA path may dispatch to a kernel
  FlopCounterMode has no formula for, silently counting QKᵀ and score·V as zero; every record stores
  its attention (``bmm``/``baddbmm``) FLOPs so the tests can check they are non-zero;
* Mixtral's experts run with ``experts_implementation="eager"`` for the same reason: the default
  grouped-GEMM kernel is not counted (transformers 5.24 reported only attention and router FLOPs);
* dense models are built on PyTorch's ``meta`` device (shapes only, no memory, no arithmetic), so the
  full models, Llama-3.1-405B included, are counted with all their layers;
* Mixtral routes tokens with data-dependent indexing, which the meta device cannot run: it is built on
  the CPU in bfloat16 with 1 layer and a 1,024-token vocabulary (vocabulary does not enter the body's
  matmuls), and compared per layer (``layers_built`` < ``layers_full``).

Run with a separate environment holding torch and transformers (not the project's)::

    python3 -m venv /tmp/refenv
    /tmp/refenv/bin/pip install torch==2.13.0 transformers numpy
    /tmp/refenv/bin/python tools/flop_reference.py
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import torch
import transformers
from torch.utils.flop_counter import FlopCounterMode
from transformers import (
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForMaskedLM,
    BertConfig,
    GPT2Config,
    LlamaConfig,
    MistralConfig,
    MixtralConfig,
)

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "flop_reference.json"
ATTENTION_OPS = ("aten.bmm", "aten.baddbmm")


def _configs() -> dict[str, tuple[object, str]]:
    """Preset name → (transformers config, device). Values copied from each model's config.json."""
    big = 8192  # raise max positions so any tested length is legal

    def bert(layers: int, d: int, heads: int, ffn: int) -> BertConfig:
        return BertConfig(hidden_size=d, num_hidden_layers=layers, num_attention_heads=heads,
                          intermediate_size=ffn, max_position_embeddings=big)

    def gpt2(layers: int, d: int, heads: int) -> GPT2Config:
        return GPT2Config(n_embd=d, n_layer=layers, n_head=heads, n_positions=big)

    def llama(layers: int, d: int, heads: int, kv: int, ffn: int, vocab: int) -> LlamaConfig:
        return LlamaConfig(hidden_size=d, num_hidden_layers=layers, num_attention_heads=heads,
                           num_key_value_heads=kv, intermediate_size=ffn, vocab_size=vocab,
                           max_position_embeddings=big)

    return {
        "bert-base": (bert(12, 768, 12, 3072), "meta"),
        "bert-large": (bert(24, 1024, 16, 4096), "meta"),
        "gpt2": (gpt2(12, 768, 12), "meta"),
        "gpt2-medium": (gpt2(24, 1024, 16), "meta"),
        "gpt2-large": (gpt2(36, 1280, 20), "meta"),
        "gpt2-xl": (gpt2(48, 1600, 25), "meta"),
        "llama-2-7b": (llama(32, 4096, 32, 32, 11008, 32000), "meta"),
        "llama-2-13b": (llama(40, 5120, 40, 40, 13824, 32000), "meta"),
        "llama-2-70b": (llama(80, 8192, 64, 8, 28672, 32000), "meta"),
        "llama-3-8b": (llama(32, 4096, 32, 8, 14336, 128256), "meta"),
        "llama-3-70b": (llama(80, 8192, 64, 8, 28672, 128256), "meta"),
        "llama-3.1-405b": (llama(126, 16384, 128, 8, 53248, 128256), "meta"),
        "mistral-7b": (MistralConfig(hidden_size=4096, num_hidden_layers=32, num_attention_heads=32,
                                     num_key_value_heads=8, intermediate_size=14336, vocab_size=32000,
                                     max_position_embeddings=big, sliding_window=None), "meta"),
        "mixtral-8x7b": (MixtralConfig(hidden_size=4096, num_hidden_layers=1, num_attention_heads=32,
                                       num_key_value_heads=8, intermediate_size=14336, vocab_size=1024,
                                       num_local_experts=8, num_experts_per_tok=2,
                                       max_position_embeddings=big, sliding_window=None), "cpu"),
    }


LAYERS_FULL = {"mixtral-8x7b": 32}


def _build(cfg: object, device: str, lm_head: str = "none") -> torch.nn.Module:
    """The body (``lm_head="none"``), or the model with its LM head: ``BertForMaskedLM`` for BERT, else the
    ``…ForCausalLM`` / ``…LMHeadModel`` class of the family."""
    kwargs = {"attn_implementation": "eager"}
    if isinstance(cfg, BertConfig) and lm_head == "none":
        kwargs["add_pooling_layer"] = False  # BertForMaskedLM builds its BertModel without the pooler itself
    if isinstance(cfg, MixtralConfig):
        # The default grouped-GEMM expert kernel has no FlopCounterMode formula (counted as zero);
        # the eager per-expert loop runs plain matmuls on the routed tokens.
        kwargs["experts_implementation"] = "eager"
    dtype = torch.bfloat16 if device == "cpu" else torch.float32
    auto = AutoModel if lm_head == "none" else (
        AutoModelForMaskedLM if isinstance(cfg, BertConfig) else AutoModelForCausalLM)
    with torch.device(device):
        model = auto.from_config(cfg, torch_dtype=dtype, **kwargs)
    return model.eval()


def _count(fn) -> tuple[int, dict[str, int]]:
    with FlopCounterMode(display=False) as counter:
        fn()
    by_op = {str(k): int(v) for k, v in counter.get_flop_counts()["Global"].items()}
    return int(counter.get_total_flops()), by_op


@torch.no_grad()
def measure(name: str, cfg: object, device: str, prefill: list[int], decode: list[int],
            batches: list[int], lm_head: str = "none") -> list[dict[str, object]]:
    """Count prefill and decode FLOPs of one model; one record per (phase, length, batch).

    ``lm_head``: ``"none"`` (the body), ``"all"`` (the head on every position) or ``"last"`` (a causal
    LM's logits for the last position only, ``logits_to_keep=1``).
    """
    if lm_head not in ("none", "all", "last"):
        raise ValueError(f"lm_head must be 'none', 'all' or 'last', got {lm_head!r}")
    if lm_head == "last" and isinstance(cfg, BertConfig):
        raise ValueError("BertForMaskedLM has no logits_to_keep: an MLM head runs on every position")
    model = _build(cfg, device, lm_head)
    keep = {"logits_to_keep": 1} if lm_head == "last" else {}
    layers = cfg.num_hidden_layers
    records = []

    def record(phase: str, seq_len: int, kv_len: int, batch: int, total: int, by_op: dict) -> None:
        records.append({
            "model": name, "phase": phase, "seq_len": seq_len, "kv_len": kv_len, "batch": batch,
            "layers_built": layers, "layers_full": LAYERS_FULL.get(name, layers),
            "includes_lm_head": lm_head != "none", "lm_head": lm_head, "flops": total,
            "attention_flops": sum(v for k, v in by_op.items() if k in ATTENTION_OPS),
            "flops_by_op": by_op, "device": device,
        })

    for batch in batches:
        for length in prefill:
            ids = torch.zeros((batch, length), dtype=torch.long, device=device)
            total, by_op = _count(lambda ids=ids: model(input_ids=ids, **keep))
            record("prefill", length, 0, batch, total, by_op)
        if isinstance(cfg, BertConfig):
            continue
        for kv_len in decode:
            ids = torch.zeros((batch, kv_len), dtype=torch.long, device=device)
            cache = model(input_ids=ids, use_cache=True, **keep).past_key_values
            step = torch.zeros((batch, 1), dtype=torch.long, device=device)
            total, by_op = _count(
                lambda step=step, cache=cache: model(input_ids=step, past_key_values=cache, use_cache=True, **keep)
            )
            record("decode", 1, kv_len, batch, total, by_op)
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    torch.manual_seed(0)
    records = []
    for name, (cfg, device) in _configs().items():
        small = device == "cpu"
        prefill = [128] if small else [128, 2048]
        decode = [128] if small else [128, 2048]
        batches = [1] if small else [1, 4]
        records += measure(name, cfg, device, prefill, decode, batches)
        print(f"{name}: {len(records)} records so far", flush=True)
    configs = _configs()
    # With LM heads: GPT-2 over every position (a plain forward) and for the last position only; BERT-Base
    # with its MLM head (BertForMaskedLM, every position); Llama-3-8B (untied 128,256-token head) both ways.
    records += measure("gpt2", configs["gpt2"][0], "meta", [128], [128], [1], lm_head="all")
    records += measure("gpt2", configs["gpt2"][0], "meta", [128, 2048], [128], [1, 4], lm_head="last")
    records += measure("bert-base", configs["bert-base"][0], "meta", [128, 2048], [], [1, 4], lm_head="all")
    records += measure("llama-3-8b", configs["llama-3-8b"][0], "meta", [128], [], [1], lm_head="all")
    records += measure("llama-3-8b", configs["llama-3-8b"][0], "meta", [128, 2048], [128, 2048], [1, 4],
                       lm_head="last")
    payload = {
        "generator": "tools/flop_reference.py",
        "counter": "torch.utils.flop_counter.FlopCounterMode (matmul-family ops, 2 FLOPs per MAC)",
        "attn_implementation": "eager",
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
        "python_version": platform.python_version(),
        "records": records,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {len(records)} records to {args.out}")


if __name__ == "__main__":
    main()
