"""Independent parameter counts of the stored Hugging Face configurations, counted by ``transformers``.

For every ``tests/data/hf_configs/<name>/config.json`` this builds the model class that Hugging Face
``transformers`` instantiates for that configuration on PyTorch's ``meta`` device (shapes only: no
memory, no arithmetic, nothing downloaded) and writes ``sum(p.numel() for p in model.parameters())``
to ``tests/data/hf_param_counts.json``, with the versions of torch and transformers that counted.
``tests/test_hf_config.py`` compares :func:`memwall.specs.parameter_count` of
:func:`memwall.specs.hf_config.load_config` of each file with that number at zero tolerance, without
needing torch.

Which class is counted:

* BERT: ``BertModel`` with its pooler (``AutoModel``), the encoder the presets describe;
* every other family: ``AutoModelForCausalLM`` (the decoder with its LM head; a tied head is counted
  once, as ``parameters()`` yields shared tensors once);
* a multimodal configuration with a ``text_config`` (Gemma 3 4B and larger): the causal language model
  built from ``text_config`` alone (``Gemma3ForCausalLM``), without the vision tower and projector.

Each record keeps the SHA-256 of the file it counted (the tests refuse a count whose file has changed
since) and what the configuration object resolves that a reader of the raw file could get wrong: the
sliding window and how many layers use it (``layer_types`` where the class has them, else every layer
when ``sliding_window`` is set), so the tests can check those fields as well.

Run with a separate environment holding torch and transformers (not the project's)::

    python3 -m venv /tmp/refenv
    /tmp/refenv/bin/pip install torch==2.13.0 transformers numpy
    /tmp/refenv/bin/python tools/hf_param_counts.py
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
from pathlib import Path

import torch
import transformers
from transformers import AutoConfig, AutoModel, AutoModelForCausalLM

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "tests" / "data" / "hf_configs"
OUT = ROOT / "tests" / "data" / "hf_param_counts.json"


def _sliding(cfg: object) -> tuple[int, int]:
    """(window, layers using it) as the configuration object resolves them; (0, 0) when no layer slides."""
    window = getattr(cfg, "sliding_window", None) or 0
    types = getattr(cfg, "layer_types", None)
    if not window:
        return 0, 0
    count = sum(t == "sliding_attention" for t in types) if types is not None else int(cfg.num_hidden_layers)
    return (int(window), count) if count else (0, 0)


def count(folder: Path) -> dict[str, object]:
    """Parameters of the model that ``folder/config.json`` describes, built on the meta device."""
    cfg = AutoConfig.from_pretrained(folder)
    text = getattr(cfg, "text_config", None)
    if text is not None and getattr(cfg, "vision_config", None) is not None:
        cfg, built_from = text, "text_config"
    else:
        built_from = "config"
    with torch.device("meta"):
        if cfg.model_type == "bert":
            model = AutoModel.from_config(cfg, add_pooling_layer=True)
        else:
            model = AutoModelForCausalLM.from_config(cfg)
    window, sliding_layers = _sliding(cfg)
    return {
        "config_sha256": hashlib.sha256((folder / "config.json").read_bytes()).hexdigest(),
        "class": type(model).__name__,
        "built_from": built_from,
        "parameters": sum(p.numel() for p in model.parameters()),
        "sliding_window": window,
        "sliding_layers": sliding_layers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    records = {}
    for folder in sorted(p.parent for p in CONFIGS.glob("*/config.json")):
        records[folder.name] = count(folder)
        print(f"{folder.name}: {records[folder.name]['class']} {records[folder.name]['parameters']:,}", flush=True)
    payload = {
        "generator": "tools/hf_param_counts.py",
        "counted": "sum(p.numel() for p in model.parameters()), model built on torch.device('meta')",
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
        "python_version": platform.python_version(),
        "models": records,
    }
    args.out.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {len(records)} counts to {args.out}")


if __name__ == "__main__":
    main()
