"""Models from a Hugging Face ``config.json`` (offline): :func:`load_config` and :func:`resolve_model`.

:func:`load_config` reads a model's published ``config.json`` (a file, or a folder holding one) and returns
the :class:`~memwall.specs.model_spec.ModelSpec` whose :func:`~memwall.specs.model_spec.parameter_count`
equals the parameter count of the model class Hugging Face ``transformers`` builds from that file
(``sum(p.numel() for p in model.parameters())``): ``tools/hf_param_counts.py`` counts the stored test
configurations with ``transformers`` on PyTorch's meta device and ``tests/test_hf_config.py`` holds every
family to zero difference. :func:`resolve_model` turns what a user types (a preset name, a path, or a Hub
id already in the local Hugging Face cache) into a spec. Nothing is downloaded, ever.

Families (the ``model_type`` of the file; :data:`SUPPORTED_FAMILIES`)
--------------------------------------------------------------------
GPT-2 (``gpt2``), BERT (``bert``, counted as ``BertModel`` with its pooler), Llama 1/2/3.x (``llama``),
Mistral (``mistral``), Mixtral (``mixtral``), Qwen2/2.5 (``qwen2``), Qwen1.5/Qwen2-MoE (``qwen2_moe``),
Qwen3 (``qwen3``), Qwen3-MoE (``qwen3_moe``), Gemma 1/2/3 (``gemma``, ``gemma2``, ``gemma3_text``, and
the multimodal ``gemma3`` whose ``text_config`` is read), Phi-3 (``phi3``), DeepSeek-V2/V2-Lite/V3
(``deepseek_v2``, ``deepseek_v3``) and gpt-oss (``gpt_oss``).

Rules
-----
* The size fields (width, layers, heads, FFN width, vocabulary, context) must be in the file: a missing
  or invalid one is a ``ValueError`` naming the file and the field.
* Fields that published files leave out because ``transformers`` supplies them take the default of that
  family's ``transformers`` configuration class, listed per family in :data:`FAMILY_DEFAULTS` (for example
  Gemma 3 27B's ``text_config`` has no ``vocab_size``: ``Gemma3TextConfig`` gives 262,208); those are the
  values Hugging Face builds the model with, so the count stays exact. Nothing else is defaulted.
* A configuration whose parameters a :class:`ModelSpec` cannot state (biases on attention but not on the
  FFN, MoE layers that are not all after the dense ones, a cross-attention GPT-2, relative-position BERT)
  is refused with a ``ValueError`` that says which field, rather than counted approximately.
* A multimodal file with a ``text_config`` (Gemma 3 4B and larger) gives its language model only, the model
  ``Gemma3ForCausalLM`` builds from ``text_config``; the vision tower and projector are not counted and the
  spec's name ends in ``(language model)``.
* DeepSeek-V3's multi-token-prediction module (``num_nextn_predict_layers``) is not part of
  ``DeepseekV3ForCausalLM`` and is not counted; its router's ``e_score_correction_bias`` is a buffer there,
  not a parameter.

Mapping onto :class:`ModelSpec`: multi-head latent attention sets ``kv_lora_rank``, ``q_lora_rank``,
``rope_head_dim`` (``qk_rope_head_dim``), ``v_head_dim``, ``head_dim = qk_nope_head_dim`` and
``kv_heads = 1``; a MoE's ``ffn_dim`` is one routed expert's width (``moe_intermediate_size``), the shared
expert's width is ``shared_ffn_dim`` (DeepSeek: ``n_shared_experts · moe_intermediate_size``) and the dense
first layers are ``dense_layers`` of ``dense_ffn_dim`` (``intermediate_size``); sliding-window attention
sets ``sliding_window`` and the number of layers that use it (``layer_types`` where the file has them,
else each family's rule as its ``transformers`` configuration class applies it: Mistral and Phi-3 apply a
set ``sliding_window`` on every layer, Phi-3-mini-4k's 2,047 tokens included; Gemma 2 and gpt-oss
alternate; Gemma 3 keeps one global layer in ``sliding_window_pattern``; Qwen2/3 only with
``use_sliding_window``, from layer ``max_window_layers`` on).

The per-family field mappers, :data:`FAMILY_DEFAULTS` and :data:`SUPPORTED_FAMILIES` live in
:mod:`memwall.specs.hf_families`; this module re-exports the two tables.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

from memwall.specs.hf_families import _MULTIMODAL, _READERS, FAMILY_DEFAULTS, SUPPORTED_FAMILIES, _Fields
from memwall.specs.model_spec import ModelSpec
from memwall.specs.presets import get_preset

__all__ = ["EXAMPLE_CONFIG", "FAMILY_DEFAULTS", "SUPPORTED_FAMILIES", "find_in_hf_cache", "hf_hub_cache", "load_config",
           "resolve_model"]

#: The example ``config.json`` in the data folder (Qwen3-4B's published file,
#: https://huggingface.co/Qwen/Qwen3-4B/blob/main/config.json): the chapter "Bring your own model" and
#: ``memwall validate`` read it.
EXAMPLE_CONFIG = "example_config_qwen3-4b.json"

_HUB_URL = "https://huggingface.co/{}/blob/main/config.json"
_DOWNLOAD_URL = "https://huggingface.co/{}/resolve/main/config.json"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")
_MISSING = object()


def _read_json(file: Path) -> dict:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{file}: not valid JSON ({err})") from None
    except OSError as err:
        raise ValueError(f"{file}: cannot be read ({err.strerror})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{file}: a config.json holds a JSON object, got {type(data).__name__}")
    return data


def _config_file(path: str | Path) -> Path:
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / "config.json"
    if not p.is_file():
        raise ValueError(f"{p}: no such file (expected a Hugging Face config.json, or a folder holding one)")
    return p


def _unsupported(file: Path, model_type: object, where: str = "model_type") -> ValueError:
    return ValueError(f"{file}: {where} {model_type!r} is not supported; supported families (model_type): "
                      + ", ".join(f"{k} = {v}" for k, v in SUPPORTED_FAMILIES.items()))


def load_config(path: str | Path, *, name: str | None = None, source_url: str | None = None) -> ModelSpec:
    """The :class:`ModelSpec` of a Hugging Face ``config.json``, read offline.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``config.json`` file, or a folder holding one (a downloaded model, a Hub cache snapshot).
    name : str, optional
        Display name, used as given; default the folder's name (the file's stem when it is not
        ``config.json``), followed by `` (language model)`` for a multimodal file.
    source_url : str, optional
        Where the file was published (e.g. ``https://huggingface.co/<org>/<repo>/blob/main/config.json``);
        default the file's own ``file://`` URI.

    Returns
    -------
    ModelSpec
        The architecture, with ``parameter_count`` equal to the parameters of the ``transformers`` model
        class the file describes [parameters] (the module docstring lists the classes and the rules).

    Raises
    ------
    ValueError
        If the file does not exist or is not a JSON object; if its ``model_type`` is missing or not a
        supported family (the message names the model_type, the file and every supported family); if a
        needed field is missing or invalid, or has a value whose parameters a ModelSpec cannot state (the
        message names the file and the field).

    References
    ----------
    .. [1] Hugging Face, ``transformers`` configuration classes and their defaults,
       https://huggingface.co/docs/transformers/main_classes/configuration.
    .. [2] Each model's ``config.json``, ``https://huggingface.co/<org>/<repo>/blob/main/config.json``
       (the stored copies and their URLs: ``tests/data/hf_configs/SOURCES.md``).

    Examples
    --------
    Mistral-7B-v0.1's published configuration (the size fields of
    https://huggingface.co/mistralai/Mistral-7B-v0.1/blob/main/config.json), 4,096-token sliding window on
    all 32 layers, 7,241,732,096 parameters as ``MistralForCausalLM`` holds them:

    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from memwall.specs import parameter_count
    >>> from memwall.specs.hf_config import load_config
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = Path(tmp.name) / "Mistral-7B-v0.1"
    >>> folder.mkdir()
    >>> _ = (folder / "config.json").write_text(json.dumps({
    ...     "model_type": "mistral", "hidden_size": 4096, "intermediate_size": 14336,
    ...     "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
    ...     "vocab_size": 32000, "max_position_embeddings": 32768, "sliding_window": 4096,
    ...     "tie_word_embeddings": False}))
    >>> spec = load_config(folder)
    >>> spec.name, spec.kv_heads, spec.head_dim, spec.sliding_window, spec.sliding_layers
    ('Mistral-7B-v0.1', 8, 128, 4096, 32)
    >>> parameter_count(spec)
    7241732096
    >>> tmp.cleanup()
    """
    file = _config_file(path)
    data = _read_json(file)
    prefix, suffix = "", ""
    model_type = data.get("model_type")
    if model_type is None:
        raise ValueError(f"{file}: field 'model_type' is missing (it names the model family)")
    if model_type in _MULTIMODAL:
        text = data.get("text_config")
        if not isinstance(text, dict):
            raise ValueError(f"{file}: field 'text_config' is missing or not an object (a multimodal "
                             f"{model_type!r} file describes its language model there)")
        data, prefix, suffix = text, "text_config.", " (language model)"
        model_type = data.get("model_type", _MULTIMODAL[model_type])
    if model_type not in _READERS:
        raise _unsupported(file, model_type, f"{prefix}model_type")
    fields = _Fields(data, file, model_type, prefix)
    values = _READERS[model_type](fields)
    default_name = file.parent.name if file.name == "config.json" else file.stem
    values["name"] = name or default_name + suffix
    values["source_url"] = source_url or file.resolve().as_uri()
    try:
        return ModelSpec(**values)
    except ValueError as err:
        raise ValueError(f"{file}: {err}") from None


def hf_hub_cache() -> Path:
    """Folder of the local Hugging Face Hub cache, as ``huggingface_hub`` finds it.

    Returns
    -------
    pathlib.Path
        ``$HF_HUB_CACHE``, else ``$HUGGINGFACE_HUB_CACHE``, else ``$HF_HOME/hub``, else
        ``$XDG_CACHE_HOME/huggingface/hub``, else ``~/.cache/huggingface/hub`` (the order of
        ``huggingface_hub.constants``; https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables).
    """
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(xdg).expanduser() / "huggingface" / "hub"


def find_in_hf_cache(repo_id: str) -> Path | None:
    """The cached ``config.json`` of a Hub model, if it was ever downloaded; never the network.

    Parameters
    ----------
    repo_id : str
        ``<org>/<name>``, e.g. ``Qwen/Qwen3-4B``.

    Returns
    -------
    pathlib.Path or None
        ``<cache>/models--<org>--<name>/snapshots/<commit>/config.json`` for the commit ``refs/main``
        names, else the most recently modified snapshot holding a ``config.json``; ``None`` if none
        (the cache layout: https://huggingface.co/docs/huggingface_hub/guides/manage-cache).
    """
    repo = hf_hub_cache() / ("models--" + repo_id.replace("/", "--"))
    snapshots = repo / "snapshots"
    ref = repo / "refs" / "main"
    if ref.is_file():
        candidate = snapshots / ref.read_text(encoding="utf-8").strip() / "config.json"
        if candidate.is_file():
            return candidate
    found = [p for p in snapshots.glob("*/config.json") if p.is_file()] if snapshots.is_dir() else []
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def resolve_model(text: str | ModelSpec) -> ModelSpec:
    """A model from what a user types: a preset name, a config path, or a Hub id in the local cache.

    Parameters
    ----------
    text : str or ModelSpec
        A :func:`~memwall.specs.presets.get_preset` name (``llama-3-8b``); a path to a ``config.json`` or
        to a folder holding one; or a Hugging Face Hub id (``Qwen/Qwen3-4B``) whose ``config.json`` is in
        the local cache (:func:`hf_hub_cache`). A ModelSpec is returned as is.

    Returns
    -------
    ModelSpec
        From a Hub id: named by the id (plus `` (language model)`` for a multimodal file), ``source_url``
        the file's Hub address.

    Raises
    ------
    ValueError
        For a Hub id not in the cache: the message gives the URL of the file to download
        (``https://huggingface.co/<id>/resolve/main/config.json``) and says to pass it with ``--model PATH``;
        for anything else that is neither a preset nor a path: the message lists the presets. Errors of
        :func:`load_config` pass through.
    """
    if isinstance(text, ModelSpec):
        return text
    raw = str(text).strip()
    p = Path(raw).expanduser()
    if p.is_file() or (p.is_dir() and (p / "config.json").is_file()) or raw.endswith(".json"):
        return load_config(p)
    try:
        return get_preset(raw)
    except ValueError as err:
        preset_error = err
    if p.is_dir():  # an existing folder wins over a Hub id of the same spelling ("tests/data")
        raise ValueError(f"{p}: folder holds no config.json (a local folder of this name is read as a path, "
                         "not as a Hub id)") from None
    if _HUB_ID.match(raw):
        found = find_in_hf_cache(raw)
        if found is not None:
            spec = load_config(found, source_url=_HUB_URL.format(raw))
            # the default name is the snapshot folder (a commit hash) plus any " (language model)"
            return dataclasses.replace(spec, name=raw + spec.name.removeprefix(found.parent.name))
        raise ValueError(
            f"{raw!r} is not a preset and its config.json is not in the local Hugging Face cache "
            f"({hf_hub_cache()}); memwall never downloads: fetch {_DOWNLOAD_URL.format(raw)} and pass it with "
            "--model PATH") from None
    raise ValueError(f"{preset_error}; or give a path to a Hugging Face config.json, or a Hub id "
                     "(<org>/<name>) in the local Hugging Face cache") from None
