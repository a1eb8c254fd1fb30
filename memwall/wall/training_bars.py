"""The paper's training-memory bars recomputed, and the training-memory calculator grid."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from memwall.specs.model_spec import parameter_count
from memwall.specs.presets import get_preset
from memwall.tables.paper import load_paper_training_memory
from memwall.wall.model_growth import GB
from memwall.wall.training_memory import ZERO_STAGES, activation_bytes_per_layer, model_state_bytes, training_memory

__all__ = ["bytes_per_param_table", "calculator_grid", "optimizer_grid", "paper_bar_comparison", "paper_bars_long"]



_TRANSFORMER_BIG = {"n_params": 213e6, "layers": 12, "hidden": 1024, "heads": 16}
"""Vaswani et al. 2017 (arXiv 1706.03762) Table 3 'big': 6 encoder + 6 decoder layers, d_model 1024, 16 heads,
213M parameters; decoder cross-attention is not modelled (12 identical layers)."""

_PAPER_BAR_MODELS: dict[str, dict[str, float]] = {
    "Transformer Big (WMT)": _TRANSFORMER_BIG,
    "BERT Large": {"model": "bert-large"},
    "GPT-2": {"model": "gpt2-xl"},
}


def _paper_transformer_bar(sizes: dict, seq_len: int, batch: int) -> dict[str, float]:
    if "model" in sizes:
        spec = get_preset(str(sizes["model"]))
        sizes = {"n_params": parameter_count(spec), "layers": spec.layers, "hidden": spec.d_model,
                 "heads": spec.heads}
    states = model_state_bytes(sizes["n_params"], "adam")
    act = sizes["layers"] * activation_bytes_per_layer(seq_len, batch, sizes["hidden"], sizes["heads"])
    return {"params_gb": states["weights"] / GB, "optimizer_gb": states["optimizer_states"] / GB,
            "activations_gb": float(act) / GB, "n_params": float(sizes["n_params"])}


def paper_bar_comparison(bars: pd.DataFrame | None = None) -> pd.DataFrame:
    """Recompute the paper's training-memory bars with this module's formulas, where we can.

    Parameters
    ----------
    bars : pandas.DataFrame, optional
        Table from :func:`memwall.tables.load_paper_training_memory`; loaded when omitted.

    Returns
    -------
    pandas.DataFrame
        One row per bar: ``model``, ``modelled`` (bool), ``n_params`` [params] (Transformers), and for each
        part in ``params``, ``optimizer``, ``activations``, ``total``: ``{part}_paper_gb``, ``{part}_ours_gb``
        [GB] and ``{part}_diff_pct`` [%].

    Notes
    -----
    Assumptions, read off the bars (the paper states none): fp32 weights (4 B/param), Adam's m and v in
    fp32 (optimizer = 2 x params) and **no gradient memory** (the figure has no gradient segment); so
    ``"adam"`` weights and optimizer states without its gradients. Activations: Korthikanti et al.'s
    per-layer formula without recomputation or parallelism (16-bit activations) times the layer count,
    at the bar's sequence length and batch. Models: Transformer big (213M, 12 layers, decoder
    cross-attention ignored), BERT-Large and GPT-2 XL from :mod:`memwall.specs` presets. CNN bars are not
    modelled (we have no convolutional activation model): their "ours" columns are NaN and ``modelled`` is
    False.
    """
    bars = load_paper_training_memory() if bars is None else bars
    rows = []
    for _, bar in bars.iterrows():
        row: dict[str, object] = {"model": bar["model"], "modelled": bar["model"] in _PAPER_BAR_MODELS}
        if row["modelled"]:
            ours = _paper_transformer_bar(_PAPER_BAR_MODELS[bar["model"]], int(bar["seq_len"]), int(bar["batch"]))
        else:
            ours = {p: np.nan for p in ("params_gb", "optimizer_gb", "activations_gb")}
            ours["n_params"] = np.nan
        ours["total_gb"] = ours["params_gb"] + ours["optimizer_gb"] + ours["activations_gb"]
        row["n_params"] = ours["n_params"]
        for part in ("params", "optimizer", "activations", "total"):
            paper, mine = float(bar[f"{part}_gb"]), float(ours[f"{part}_gb"])
            row[f"{part}_paper_gb"] = paper
            row[f"{part}_ours_gb"] = mine
            row[f"{part}_diff_pct"] = 100.0 * (mine / paper - 1.0)
        rows.append(row)
    return pd.DataFrame(rows)


def calculator_grid(models: Mapping[str, str], *, seq_lens: Sequence[int], micro_batches: Sequence[int],
                    zero_stages: Sequence[int] = ZERO_STAGES, n_gpus: Sequence[int] = (1, 8, 64),
                    recomputes: Sequence[str] = ("none", "full"), optimizer: str = "mixed_adam",
                    precision: str | None = None) -> pd.DataFrame:
    """Per-GPU training memory over a small grid of settings, one row per part (for interactive charts).

    Parameters
    ----------
    models : mapping of str to str
        Display name -> preset name.
    seq_lens, micro_batches : sequence of int
        Sequence lengths [tokens] and micro-batches per GPU [sequences].
    zero_stages : sequence of int
        ZeRO stages (0-3).
    n_gpus : sequence of int
        Data-parallel GPUs. [GPUs]
    recomputes : sequence of str
        Activation recomputation modes (:data:`RECOMPUTE`).
    optimizer : str
        Training recipe (:data:`OPTIMIZERS`), or with ``precision`` an optimizer of
        :data:`memwall.levers.optimizer_state.OPTIMIZER_NAMES`.
    precision : str, optional
        Precision recipe (:data:`memwall.levers.optimizer_state.PRECISIONS`); ``None`` = ``optimizer`` is a recipe.

    Returns
    -------
    pandas.DataFrame
        ``model``, ``seq_len``, ``micro_batch``, ``zero_stage``, ``n_gpus``, ``recompute``, ``part``
        (weights, gradients, optimizer, activations) and ``bytes`` [B per GPU].

    Raises
    ------
    ValueError
        As :func:`training_memory`.
    """
    frames = []
    for name, preset in models.items():
        spec = get_preset(preset)
        s, b = np.meshgrid(np.asarray(seq_lens), np.asarray(micro_batches), indexing="ij")
        for stage in zero_stages:
            for gpus in n_gpus:
                for rec in recomputes:
                    t = training_memory(spec, seq_len=s.ravel(), micro_batch=b.ravel(), optimizer=optimizer,
                                        zero_stage=stage, n_gpus=gpus, recompute=rec, precision=precision)
                    long = t.melt(id_vars=["seq_len", "micro_batch"],
                                  value_vars=["weights_bytes", "gradients_bytes", "optimizer_bytes",
                                              "activations_bytes"],
                                  var_name="part", value_name="bytes")
                    long["part"] = long["part"].str.removesuffix("_bytes")
                    frames.append(long.assign(model=name, zero_stage=stage, n_gpus=gpus, recompute=rec))
    return pd.concat(frames, ignore_index=True)


def paper_bars_long(comparison: pd.DataFrame | None = None) -> pd.DataFrame:
    """The paper's training-memory bars and ours in long form, for :func:`memwall.charts.memory_bars_chart`.

    Parameters
    ----------
    comparison : pandas.DataFrame, optional
        Output of :func:`paper_bar_comparison` (computed if not given).

    Returns
    -------
    pandas.DataFrame
        ``model``, ``source`` ("paper" or "ours"), ``part`` (parameters, optimizer, activations),
        ``gb`` [GB] and ``gpu_limit_gb`` [GB, the figure's step line]; bars we do not model carry only
        the paper's values.
    """
    comparison = paper_bar_comparison() if comparison is None else comparison
    limits = load_paper_training_memory().set_index("model")["gpu_limit_gb"]
    rows = []
    for r in comparison.itertuples():
        sources = ("paper", "ours") if r.modelled else ("paper",)
        for source in sources:
            for part in ("params", "optimizer", "activations"):
                rows.append({"model": r.model, "source": source,
                             "part": "parameters" if part == "params" else part,
                             "gb": getattr(r, f"{part}_{source}_gb"), "gpu_limit_gb": limits[r.model]})
    return pd.DataFrame(rows)


def optimizer_grid(model: str, recipes: Mapping[str, tuple[str, str]], *, zero_stages: Sequence[int] = ZERO_STAGES,
                   n_gpus: int = 8, seq_len: int = 4096, micro_batch: int = 1, recompute: str = "full",
                   block_size: int = 1024) -> pd.DataFrame:
    """Per-GPU training memory by optimizer x precision recipe x ZeRO stage, one row per part (for charts).

    Parameters
    ----------
    model : str
        Preset name.
    recipes : mapping of str to (str, str)
        Display label -> (optimizer of :data:`memwall.levers.optimizer_state.OPTIMIZER_NAMES`, precision of
        :data:`memwall.levers.optimizer_state.PRECISIONS`).
    zero_stages : sequence of int
        ZeRO stages (0-3).
    n_gpus : int
        Data-parallel GPUs ZeRO shards over. [GPUs]
    seq_len, micro_batch : int
        Sequence length [tokens] and micro-batch per GPU [sequences].
    recompute : str
        Activation recomputation (:data:`memwall.wall.training_memory.RECOMPUTE`).
    block_size : int
        Shampoo's block side (used for ``"shampoo"`` only). [elements]

    Returns
    -------
    pandas.DataFrame
        ``recipe``, ``optimizer``, ``precision``, ``zero_stage``, ``part`` (weights, gradients, optimizer,
        activations) and ``bytes`` [B per GPU].

    Raises
    ------
    ValueError
        As :func:`memwall.wall.training_memory.training_memory`.
    """
    spec, rows = get_preset(model), []
    for label, (opt, precision) in recipes.items():
        for stage in zero_stages:
            t = training_memory(spec, seq_len=seq_len, micro_batch=micro_batch, optimizer=opt, precision=precision,
                                zero_stage=stage, n_gpus=n_gpus, recompute=recompute,
                                block_size=block_size if opt == "shampoo" else None).iloc[0]
            rows += [{"recipe": label, "optimizer": opt, "precision": precision, "zero_stage": stage, "part": part,
                      "bytes": float(t[f"{part}_bytes"])} for part in ("weights", "gradients", "optimizer",
                                                                       "activations")]
    return pd.DataFrame(rows)


def bytes_per_param_table(models: Sequence[str], recipes: Mapping[str, tuple[str, str]], *,
                          block_size: int = 1024) -> pd.DataFrame:
    """Model-state bytes per parameter by recipe and model, split into weights, gradients, master and state.

    Parameters
    ----------
    models : sequence of str
        Preset names.
    recipes : mapping of str to (str, str)
        As :func:`optimizer_grid`.
    block_size : int
        Shampoo's block side. [elements]

    Returns
    -------
    pandas.DataFrame
        ``model``, ``recipe``, ``part`` (weights, gradients, master weights, optimizer state) and
        ``bytes_per_param`` [B/param], unsharded.
    """
    from memwall.levers.optimizer_state import model_states

    rows = []
    for model in models:
        for label, (opt, precision) in recipes.items():
            st = model_states(model, opt, precision=precision, block_size=block_size if opt == "shampoo" else None)
            n = st["n_params"]
            parts = {"weights": st["weights"], "gradients": st["gradients"], "master weights": st["master"],
                     "optimizer state": st["optimizer_states"] - st["master"]}
            rows += [{"model": model, "recipe": label, "part": k, "bytes_per_param": v / n} for k, v in parts.items()]
    return pd.DataFrame(rows)
