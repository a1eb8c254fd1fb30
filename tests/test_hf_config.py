"""Tests for memwall.specs.hf_config: models from Hugging Face config.json files, exact against transformers.

The reference counts in ``tests/data/hf_param_counts.json`` are what ``transformers`` reports for the model
class built from each stored ``config.json`` on the meta device (``tools/hf_param_counts.py``); these tests
need no torch.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path

import pytest

from memwall import specs
from memwall.specs import ModelSpec, get_preset, kv_elements_per_token, parameter_count
from memwall.specs.hf_config import SUPPORTED_FAMILIES, find_in_hf_cache, hf_hub_cache, load_config, resolve_model

DATA = Path(__file__).parent / "data"
CONFIGS = DATA / "hf_configs"
REFERENCE = json.loads((DATA / "hf_param_counts.json").read_text())
COUNTS: dict[str, dict] = REFERENCE["models"]
FOLDERS = sorted(p.parent.name for p in CONFIGS.glob("*/config.json"))
SOURCES = (CONFIGS / "SOURCES.md").read_text()
#: folder → published URL, from the SOURCES.md table
URLS = dict(re.findall(r"^\| ([\w.\-]+) \| (https://huggingface\.co/\S+/blob/main/config\.json) \|", SOURCES, re.M))


def _raw(name: str) -> dict:
    return json.loads((CONFIGS / name / "config.json").read_text())


def test_every_stored_config_has_a_reference_count_of_that_file() -> None:
    assert sorted(COUNTS) == FOLDERS
    assert REFERENCE["torch_version"] and REFERENCE["transformers_version"]
    for name in FOLDERS:
        digest = hashlib.sha256((CONFIGS / name / "config.json").read_bytes()).hexdigest()
        assert COUNTS[name]["config_sha256"] == digest, f"{name}: config.json changed; rerun tools/hf_param_counts.py"


def test_every_published_config_has_a_source_url() -> None:
    published = [n for n in FOLDERS if not n.startswith("synthetic-")]
    assert sorted(URLS) == published
    for name in FOLDERS:
        assert f"| {name} |" in SOURCES


def test_every_supported_family_is_exercised() -> None:
    types = {_raw(n).get("model_type") for n in FOLDERS}
    assert types == set(SUPPORTED_FAMILIES)


@pytest.mark.parametrize("name", FOLDERS)
def test_parameter_count_equals_transformers(name: str) -> None:
    spec = load_config(CONFIGS / name)
    assert parameter_count(spec) == COUNTS[name]["parameters"]


@pytest.mark.parametrize("name", FOLDERS)
def test_sliding_window_as_transformers_resolves_it(name: str) -> None:
    spec = load_config(CONFIGS / name / "config.json")
    assert (spec.sliding_window, spec.sliding_layers) == (COUNTS[name]["sliding_window"],
                                                          COUNTS[name]["sliding_layers"])


def _kv_elements_from_raw(cfg: dict) -> int:
    """Cached K/V elements per token, read from the raw file by hand (independent of the loader)."""
    cfg = cfg.get("text_config", cfg)
    layers = cfg.get("num_hidden_layers", cfg.get("n_layer"))
    if "kv_lora_rank" in cfg:  # MLA: the latent plus the shared rotary key (arXiv 2405.04434, Table 1)
        return layers * (cfg["kv_lora_rank"] + cfg["qk_rope_head_dim"])
    d = cfg.get("hidden_size", cfg.get("n_embd"))
    heads = cfg.get("num_attention_heads", cfg.get("n_head"))
    kv = cfg.get("num_key_value_heads") or heads
    head_dim = cfg.get("head_dim") or d // heads
    return 2 * layers * kv * head_dim


@pytest.mark.parametrize("name", FOLDERS)
def test_kv_elements_per_token(name: str) -> None:
    spec = load_config(CONFIGS / name)
    assert kv_elements_per_token(spec) == _kv_elements_from_raw(_raw(name))
    if spec.is_mla:
        assert (spec.kv_heads, spec.kv_lora_rank + spec.rope_head_dim) == (1, 512 + 64)
    else:
        assert kv_elements_per_token(spec) == 2 * spec.layers * spec.kv_heads * spec.head_dim


def test_family_features_are_read() -> None:
    qwen3 = load_config(CONFIGS / "qwen3-8b")
    assert (qwen3.head_dim, qwen3.qk_norm, qwen3.tied_embeddings) == (128, True, False)
    assert load_config(CONFIGS / "qwen3-4b").tied_embeddings
    small = load_config(CONFIGS / "llama-3.2-1b")
    assert (small.head_dim, small.tied_embeddings, small.kv_heads) == (64, True, 8)
    assert load_config(CONFIGS / "llama-7b").kv_heads == 32  # absent: LlamaConfig uses num_attention_heads
    assert load_config(CONFIGS / "qwen2.5-7b").qkv_bias
    moe = load_config(CONFIGS / "qwen1.5-moe-a2.7b")
    assert (moe.experts, moe.active_experts, moe.ffn_dim, moe.shared_ffn_dim, moe.shared_expert_gate) == \
        (60, 4, 1408, 5632, True)
    gemma2 = load_config(CONFIGS / "gemma-2-9b")
    assert (gemma2.head_dim, gemma2.norms_per_block, gemma2.tied_embeddings, gemma2.sliding_layers) == \
        (256, 4, True, 21)
    gemma3 = load_config(CONFIGS / "gemma-3-27b")
    assert gemma3.name == "gemma-3-27b (language model)"
    assert (gemma3.vocab_size, gemma3.head_dim, gemma3.qk_norm, gemma3.sliding_layers) == (262208, 128, True, 52)
    v3 = load_config(CONFIGS / "deepseek-v3")
    assert (v3.is_mla, v3.q_lora_rank, v3.kv_lora_rank, v3.rope_head_dim, v3.head_dim, v3.value_head_dim) == \
        (True, 1536, 512, 64, 128, 128)
    assert (v3.experts, v3.active_experts, v3.shared_ffn_dim, v3.dense_layers, v3.dense_ffn_dim, v3.moe_layers) == \
        (256, 8, 2048, 3, 18432, 58)
    lite = load_config(CONFIGS / "deepseek-v2-lite")
    assert (lite.q_lora_rank, lite.shared_ffn_dim, lite.dense_layers) == (0, 2 * 1408, 1)
    oss = load_config(CONFIGS / "gpt-oss-20b")
    assert (oss.bias, oss.attention_sinks, oss.experts, oss.active_experts, oss.sliding_layers) == \
        (True, True, 32, 4, 12)
    assert load_config(CONFIGS / "bert-base-uncased").pooler
    assert load_config(CONFIGS / "synthetic-qwen3-moe-dense-first").dense_layers == 2


# ModelSpec presets written out as literals, and the stored file each was copied from.
PRESET_FILES = {
    "gpt2": "gpt2", "bert-base": "bert-base-uncased", "llama-2-7b": "llama-2-7b", "mistral-7b": "mistral-7b-v0.1",
    "mixtral-8x7b": "mixtral-8x7b-v0.1", "qwen3-8b": "qwen3-8b", "gemma-3-27b": "gemma-3-27b",
    "deepseek-v3": "deepseek-v3",
}


@pytest.mark.parametrize("preset", sorted(PRESET_FILES))
def test_preset_equals_its_config(preset: str) -> None:
    ours = get_preset(preset)
    folder = PRESET_FILES[preset]
    loaded = load_config(CONFIGS / folder, name=ours.name, source_url=URLS[folder])
    assert ours == loaded
    assert parameter_count(ours) == COUNTS[folder]["parameters"]


def test_mistral_preset_has_its_sliding_window() -> None:
    m = get_preset("mistral-7b")
    assert (m.sliding_window, m.sliding_layers) == (4096, 32)


def test_deepseek_names_still_resolve_to_the_moe_and_mla_presets() -> None:
    assert specs.get_moe("deepseek-v3") is specs.MOE_PRESETS["deepseek-v3"]
    assert specs.get_attention("deepseek-v3") == specs.MLA_PRESETS["deepseek-v3 mla"]


# --- errors ---------------------------------------------------------------------------------------


def _write(tmp_path: Path, cfg: dict, name: str = "m") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(cfg))
    return folder / "config.json"


def test_unsupported_model_type_names_type_file_and_families(tmp_path: Path) -> None:
    file = _write(tmp_path, {**_raw("llama-2-7b"), "model_type": "mamba"})
    with pytest.raises(ValueError) as err:
        load_config(file)
    message = str(err.value)
    assert "'mamba'" in message and str(file) in message
    assert all(family in message for family in SUPPORTED_FAMILIES)


def test_missing_field_names_file_and_field(tmp_path: Path) -> None:
    cfg = _raw("qwen3-8b")
    del cfg["intermediate_size"]
    file = _write(tmp_path, cfg)
    with pytest.raises(ValueError, match=rf"{re.escape(str(file))}: field 'intermediate_size' is missing"):
        load_config(file)


def test_missing_model_type(tmp_path: Path) -> None:
    cfg = _raw("gpt2")
    del cfg["model_type"]
    with pytest.raises(ValueError, match=r"field 'model_type' is missing"):
        load_config(_write(tmp_path, cfg))


@pytest.mark.parametrize("value", [0, -4, 4096.5, "4096", True, None])
def test_invalid_field_names_file_and_field(tmp_path: Path, value: object) -> None:
    file = _write(tmp_path, {**_raw("mistral-7b-v0.1"), "hidden_size": value})
    with pytest.raises(ValueError, match=rf"{re.escape(str(file))}: field 'hidden_size' must be an integer"):
        load_config(file)


def test_nested_field_is_named_with_its_prefix(tmp_path: Path) -> None:
    cfg = _raw("gemma-3-27b")
    del cfg["text_config"]["num_hidden_layers"]
    with pytest.raises(ValueError, match=r"field 'text_config.num_hidden_layers' is missing"):
        load_config(_write(tmp_path, cfg))
    del cfg["text_config"]
    with pytest.raises(ValueError, match=r"field 'text_config' is missing"):
        load_config(_write(tmp_path, cfg, "n"))


def test_not_json_and_not_there(tmp_path: Path) -> None:
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"config\.json: not valid JSON"):
        load_config(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match=r"a config\.json holds a JSON object"):
        load_config(tmp_path)
    with pytest.raises(ValueError, match=r"no such file"):
        load_config(tmp_path / "nothing")


@pytest.mark.parametrize(("base", "changes", "field"), [
    ("qwen3-8b", {"attention_bias": True}, "attention_bias"),
    ("gemma-7b", {"attention_bias": True}, "attention_bias"),
    ("gpt-oss-20b", {"attention_bias": False}, "attention_bias"),
    ("qwen3-30b-a3b", {"mlp_only_layers": [5]}, "mlp_only_layers"),  # a dense layer between MoE layers
    ("qwen1.5-moe-a2.7b", {"decoder_sparse_step": 2}, "mlp_only_layers"),
    ("deepseek-v3", {"moe_layer_freq": 2}, "moe_layer_freq"),
    ("deepseek-v3", {"attention_bias": True}, "attention_bias"),
    ("gpt2", {"add_cross_attention": True}, "add_cross_attention"),
    ("bert-base-uncased", {"position_embedding_type": "relative_key"}, "position_embedding_type"),
    ("gemma-2-9b", {"layer_types": ["sliding_attention"]}, "layer_types"),
])
def test_counts_a_modelspec_cannot_state_are_refused(tmp_path: Path, base: str, changes: dict, field: str) -> None:
    file = _write(tmp_path, {**_raw(base), **changes})
    with pytest.raises(ValueError, match=rf"{re.escape(str(file))}: field '{field}' .*not supported"):
        load_config(file)


def test_biases_on_latent_attention_are_not_counted_silently() -> None:
    v3 = get_preset("deepseek-v3")
    with pytest.raises(ValueError, match=r"biases on multi-head latent attention are not modelled"):
        parameter_count(dataclasses.replace(v3, bias=True))


def test_default_name_and_source(tmp_path: Path) -> None:
    file = tmp_path / "phi3.json"
    file.write_text((CONFIGS / "phi-3-mini-4k" / "config.json").read_text())
    spec = load_config(file)
    assert spec.name == "phi3" and spec.source_url == file.resolve().as_uri()
    named = load_config(file, name="Phi-3", source_url=URLS["phi-3-mini-4k"])
    assert named.name == "Phi-3" and named.source_url.startswith("https://huggingface.co/microsoft/")


# --- resolve_model --------------------------------------------------------------------------------


def _fake_cache(root: Path, repo_id: str, config: str, commit: str = "abc123") -> Path:
    repo = root / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text((CONFIGS / config / "config.json").read_text())
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    return snapshot / "config.json"


@pytest.fixture
def hf_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    return tmp_path


def test_resolve_preset_path_and_spec(hf_env: Path) -> None:
    assert resolve_model("llama-3-8b") is get_preset("llama-3-8b")
    assert resolve_model(" Mistral-7B ") is get_preset("mistral-7b")
    spec = get_preset("gpt2")
    assert resolve_model(spec) is spec
    folder = CONFIGS / "qwen3-4b"
    assert resolve_model(str(folder)) == resolve_model(str(folder / "config.json")) == load_config(folder)


def test_resolve_hub_id_from_hf_home_cache(hf_env: Path) -> None:
    assert hf_hub_cache() == hf_env / "hf_home" / "hub"
    _fake_cache(hf_env / "hf_home" / "hub", "Qwen/Qwen3-4B", "qwen3-4b")
    spec = resolve_model("Qwen/Qwen3-4B")
    assert spec.name == "Qwen/Qwen3-4B"
    assert spec.source_url == "https://huggingface.co/Qwen/Qwen3-4B/blob/main/config.json"
    assert parameter_count(spec) == COUNTS["qwen3-4b"]["parameters"]


def test_hub_cache_honours_hf_hub_cache(hf_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(hf_env / "elsewhere"))
    assert hf_hub_cache() == hf_env / "elsewhere"
    file = _fake_cache(hf_env / "elsewhere", "openai/gpt-oss-20b", "gpt-oss-20b", commit="c0ffee")
    assert find_in_hf_cache("openai/gpt-oss-20b") == file
    assert find_in_hf_cache("openai/gpt-oss-120b") is None


def test_hub_cache_without_refs_takes_a_snapshot(hf_env: Path) -> None:
    file = _fake_cache(hf_env / "hf_home" / "hub", "google/gemma-3-1b-pt", "gemma-3-1b")
    (file.parents[2] / "refs" / "main").unlink()
    assert find_in_hf_cache("google/gemma-3-1b-pt") == file


def test_multimodal_hub_id_says_language_model(hf_env: Path) -> None:
    _fake_cache(hf_env / "hf_home" / "hub", "google/gemma-3-27b-it", "gemma-3-27b")
    spec = resolve_model("google/gemma-3-27b-it")
    assert spec.name == "google/gemma-3-27b-it (language model)"
    assert parameter_count(spec) == COUNTS["gemma-3-27b"]["parameters"]


def test_hub_id_not_cached_says_what_to_download(hf_env: Path) -> None:
    with pytest.raises(ValueError) as err:
        resolve_model("Qwen/Qwen3-14B")
    message = str(err.value)
    assert "https://huggingface.co/Qwen/Qwen3-14B/resolve/main/config.json" in message
    assert "--model PATH" in message and str(hf_hub_cache()) in message


def test_unknown_name_lists_presets(hf_env: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown model preset 'gpt-5'.*llama-3-8b.*config\.json"):
        resolve_model("gpt-5")
    with pytest.raises(ValueError, match=r"no such file"):
        resolve_model(str(hf_env / "missing.json"))


def test_resolved_specs_are_modelspecs() -> None:
    for name in FOLDERS:
        spec = load_config(CONFIGS / name)
        assert isinstance(spec, ModelSpec)
        assert dataclasses.replace(spec) == spec


def test_existing_folder_without_config_is_a_path_not_a_hub_id(tmp_path, monkeypatch):
    folder = tmp_path / "org" / "name"
    folder.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"folder holds no config\.json"):
        resolve_model("org/name")


def test_deepseek_v3_without_expert_count_takes_the_transformers_default(tmp_path):
    raw = json.loads((CONFIGS / "deepseek-v3" / "config.json").read_text())
    assert raw.pop("n_routed_experts") == 256  # DeepseekV3Config's default is the published value
    path = tmp_path / "config.json"
    path.write_text(json.dumps(raw))
    full = load_config(CONFIGS / "deepseek-v3" / "config.json")
    assert parameter_count(load_config(path)) == parameter_count(full)
