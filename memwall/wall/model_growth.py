r"""Model size, training compute and accelerator memory: the paper's Fig. 2/3 fits and their update.

Tables (data dictionary: ``data/README_models.md``):

* ``paper_model_points.csv``: every marker of the paper's model-size figure (``model_size_scaling.pdf``)
  and training-compute figure (``ai_and_compute.pdf``), as plotted;
* ``models.csv``: notable language models 2017-2025 with total and active parameters;
* ``paper_training_memory.csv``: the eight bars of the training-memory figure (``gpu_memory_wall.pdf``).

Source of the figures: Gholami et al., *AI and Memory Wall*, IEEE Micro 44(3), 2024
(arXiv 2403.14123), data repository https://github.com/amirgholami/ai_and_memory_wall.

Units: parameters in billions [1e9 params]; byte counts in decimal GB (1e9 B); the hardware table's
capacities are GiB (2**30 B) and are converted explicitly (:data:`GIB`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from memwall.tables.hardware import load_hardware
from memwall.tables.models import load_models
from memwall.tables.paper import load_paper_model_points
from memwall.trends import GrowthFit, decimal_year, fit_exponential
from memwall.units import GB, GIB
from memwall.wall.hardware_trends import fit_series, record_setters, select_window
from memwall.widths import BYTES_PER_ELEMENT

__all__ = ["PAPER_PRINTED_MODEL_RATES", "PARAM_ROW_SETS", "accelerator_memory_growth",
           "growth_by_window", "inference_fit", "paper_model_fits", "redate_point", "widest_fitting_format"]




PARAM_ROW_SETS = ("dense", "moe_total", "moe_active")
"""Which models and which count enter a parameter-growth fit:
``dense``: dense models only; ``moe_total``: all models, MoE at total parameters;
``moe_active``: all models, MoE at parameters active per token (MoE rows without one are dropped)."""

PAPER_PRINTED_MODEL_RATES: dict[str, dict[str, float]] = {
    "transformer_params": {"printed_per_2_years": 410.0, "vector_fit_per_2_years": 413.0},
    "accelerator_memory": {"printed_per_2_years": 2.0, "vector_fit_per_2_years": 1.86},
    "transformer_training_compute": {"printed_per_2_years": 750.0, "vector_fit_per_2_years": 750.7},
    "cv_nlp_speech_training_compute": {"printed_per_2_years": 15.0, "vector_fit_per_2_years": 14.8},
}
"""Legend rates of the paper's model-size and training-compute figures, and the rate a least-squares fit
of the figures' vector coordinates gives. The 15x/2 yrs CV/NLP/Speech line is printed only in the 2021
version of the compute figure."""


# ----------------------------------------------------------------------------------------------------------
# Fits


def _paper_fit_sets(points: pd.DataFrame) -> dict[str, pd.DataFrame]:
    size = points[points["figure"] == "model_size"]
    compute = points[points["figure"] == "training_compute"]
    return {
        "transformer_params": size[size["series"] == "transformer"],
        "accelerator_memory": size[size["series"] == "accelerator_memory"],
        "transformer_training_compute": compute[compute["series"] == "transformer"],
        # The 2021 figure's blue line: every marker of the compute figure (red ones are drawn in blue too).
        "cv_nlp_speech_training_compute": compute,
    }


def paper_model_fits(points: pd.DataFrame | None = None) -> pd.DataFrame:
    """Refit the rates printed in the paper's model-size and training-compute figures from their points.

    Parameters
    ----------
    points : pandas.DataFrame, optional
        Table from :func:`load_paper_model_points`; loaded when omitted.

    Returns
    -------
    pandas.DataFrame
        One row per ``quantity`` (the keys of :data:`PAPER_PRINTED_MODEL_RATES`): ``n_points``,
        ``per_2_years`` (ours) [x], CI, ``printed_per_2_years``, ``vector_fit_per_2_years``,
        ``diff_vs_printed_pct`` and ``diff_vs_vector_fit_pct`` [%].

    Notes
    -----
    Least squares of log10(value) on the fractional calendar year (:func:`memwall.trends.fit_exponential`).
    Rows ``cv_nlp_speech_training_compute`` use all 21 compute markers, the 2021 figure's blue line.
    """
    points = load_paper_model_points() if points is None else points
    rows = []
    for quantity, group in _paper_fit_sets(points).items():
        fit = fit_exponential(group["year"], group["plotted_value"])
        ref = PAPER_PRINTED_MODEL_RATES[quantity]
        rows.append({
            "quantity": quantity,
            **fit.as_dict(),
            "printed_per_2_years": ref["printed_per_2_years"],
            "vector_fit_per_2_years": ref["vector_fit_per_2_years"],
            "diff_vs_printed_pct": 100.0 * (fit.per_2_years / ref["printed_per_2_years"] - 1.0),
            "diff_vs_vector_fit_pct": 100.0 * (fit.per_2_years / ref["vector_fit_per_2_years"] - 1.0),
        })
    return pd.DataFrame(rows)


def _check_choice(name: str, value: str, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not known; allowed: {', '.join(allowed)}")


def _param_rows(models: pd.DataFrame, rows: str) -> pd.DataFrame:
    _check_choice("rows", rows, PARAM_ROW_SETS)
    out = models.copy()
    if rows == "dense":
        out = out[out["architecture"] == "dense"]
        out["params_billion"] = out["total_params_billion"]
    elif rows == "moe_total":
        out["params_billion"] = out["total_params_billion"]
    else:
        out["params_billion"] = out["active_params_billion"]
    return out.dropna(subset=["params_billion"])


def _fit_row(table: pd.DataFrame, value: str, row_set: str, window: tuple[int, int]) -> dict[str, object]:
    try:
        fit: GrowthFit | None = fit_series(table, value, row_set=row_set, window=window)
    except ValueError:
        fit = None
    base = {"window": f"{window[0]}-{window[1]}", "row_set": row_set}
    if fit is None:
        chosen = select_window(table.dropna(subset=[value]), *window)
        chosen = record_setters(chosen, value) if row_set == "records" else chosen
        return {**base, "n_points": len(chosen),
                "per_2_years": np.nan, "doubling_time_years": np.nan, "ci_low_per_2_years": np.nan,
                "ci_high_per_2_years": np.nan}
    d = fit.as_dict()
    return {**base, "n_points": d["n_points"], "per_2_years": d["per_2_years"],
            "doubling_time_years": d["doubling_time_years"], "ci_low_per_2_years": d["ci_low_per_2_years"],
            "ci_high_per_2_years": d["ci_high_per_2_years"]}


def growth_by_window(windows: Mapping[str, tuple[int, int]] | Iterable[tuple[int, int]],
                     rows: Iterable[str] = PARAM_ROW_SETS, *, row_set: str = "all",
                     models: pd.DataFrame | None = None) -> pd.DataFrame:
    """Parameter-count growth of ``models.csv`` for several windows and row choices.

    Parameters
    ----------
    windows : iterable of (int, int)
        Inclusive calendar-year windows, e.g. ``[(2017, 2021), (2017, 2025), (2021, 2025)]``
        (a mapping's values are used).
    rows : iterable of {"dense", "moe_total", "moe_active"}
        Which models and which count (see :data:`PARAM_ROW_SETS`).
    row_set : {"all", "records"}
        Every model, or only those that beat every earlier model's count (the frontier).
    models : pandas.DataFrame, optional
        Table from :func:`load_models`; loaded when omitted.

    Returns
    -------
    pandas.DataFrame
        One row per (rows, window): ``rows``, ``window``, ``row_set``, ``n_points``, ``per_2_years`` [x],
        ``doubling_time_years`` [year] and the 95 % CI. A window with fewer than 2 points gets NaN rates.

    Raises
    ------
    ValueError
        For an unknown ``rows`` or ``row_set`` value, or a window that is not two whole years in order.
    """
    models = load_models() if models is None else models
    wins = list(windows.values()) if isinstance(windows, Mapping) else list(windows)
    out = []
    for which in rows:
        table = _param_rows(models, which)
        for window in wins:
            select_window(table, *window)  # validates the window
            out.append({"rows": which, **_fit_row(table, "params_billion", row_set, tuple(window))})
    return pd.DataFrame(out)


ACCELERATOR_KINDS = ("gpu", "tpu", "accelerator")
MEMORY_RULES = ("max_per_year", "records")


def accelerator_memory_series(hardware: pd.DataFrame | None = None, rule: str = "records") -> pd.DataFrame:
    """Per-device memory capacity of accelerators, in decimal GB, reduced by a rule.

    Parameters
    ----------
    hardware : pandas.DataFrame, optional
        Table from :func:`memwall.tables.load_hardware`; loaded when omitted.
    rule : {"max_per_year", "records"}
        ``max_per_year``: the largest-memory accelerator of each calendar year (dated at its release);
        ``records``: accelerators whose memory beats every earlier one's
        (:func:`memwall.wall.hardware_trends.record_setters`).

    Returns
    -------
    pandas.DataFrame
        ``device``, ``kind``, ``date``, ``year``, ``memory_capacity_gib`` [GiB] and ``memory_gb``
        = GiB · 2**30 / 1e9 [GB].

    Raises
    ------
    ValueError
        For an unknown ``rule``.
    """
    _check_choice("rule", rule, MEMORY_RULES)
    hardware = load_hardware() if hardware is None else hardware
    acc = hardware[hardware["kind"].isin(ACCELERATOR_KINDS)].dropna(subset=["memory_capacity_gib"])
    acc = acc[["device", "kind", "date", "year", "memory_capacity_gib"]].copy()
    acc["memory_gb"] = acc["memory_capacity_gib"] * GIB / GB
    if rule == "records":
        return record_setters(acc, "memory_gb")
    idx = acc.groupby(acc["date"].dt.year)["memory_gb"].idxmax()
    return acc.loc[idx].sort_values("date").reset_index(drop=True)


def accelerator_memory_growth(windows: Mapping[str, tuple[int, int]] | Iterable[tuple[int, int]],
                              rules: Iterable[str] = MEMORY_RULES,
                              hardware: pd.DataFrame | None = None) -> pd.DataFrame:
    """Growth of per-accelerator memory capacity for several windows.

    Parameters
    ----------
    windows : iterable of (int, int)
        Inclusive calendar-year windows.
    rules : iterable of {"max_per_year", "records"}
        Series definitions (see :func:`accelerator_memory_series`).
    hardware : pandas.DataFrame, optional
        Table from :func:`memwall.tables.load_hardware`.

    Returns
    -------
    pandas.DataFrame
        One row per (rule, window): ``rule``, ``window``, ``n_points``, ``per_2_years`` [x], doubling time
        [year], CI.
    """
    hardware = load_hardware() if hardware is None else hardware
    wins = list(windows.values()) if isinstance(windows, Mapping) else list(windows)
    out = []
    for rule in rules:
        series = accelerator_memory_series(hardware, rule)
        for window in wins:
            out.append({"rule": rule, **_fit_row(series, "memory_gb", "all", tuple(window))})
    return pd.DataFrame(out).drop(columns="row_set")


def inference_fit(models: pd.DataFrame | None = None, hardware: pd.DataFrame | None = None,
                  precisions: Iterable[str] = ("fp16", "int8", "int4"),
                  devices: Iterable[str] | None = None) -> pd.DataFrame:
    """Which models' weights fit in one accelerator's memory, per weight format.

    Parameters
    ----------
    models : pandas.DataFrame, optional
        Table from :func:`load_models` (``name``, ``total_params_billion``).
    hardware : pandas.DataFrame, optional
        Table from :func:`memwall.tables.load_hardware`.
    precisions : iterable of str
        Weight formats, keys of :data:`BYTES_PER_ELEMENT`.
    devices : iterable of str, optional
        Device names from ``hardware.csv``; default every GPU/TPU/accelerator with a memory capacity.

    Returns
    -------
    pandas.DataFrame
        One row per (model, precision, device): ``weights_bytes`` = total params · bytes/param [B],
        ``device_memory_bytes`` = capacity GiB · 2**30 [B], ``fraction`` = weights / device memory,
        ``fits`` (``fraction <= 1``).

    Raises
    ------
    ValueError
        For an unknown precision (listing the known ones) or device name.

    Notes
    -----
    Weights only: no KV cache, activations or runtime reserve, so ``fits`` is necessary, not sufficient.
    A mixture-of-experts model counts all experts (every expert must be resident).
    """
    models = load_models() if models is None else models
    hardware = load_hardware() if hardware is None else hardware
    precisions = list(precisions)
    for p in precisions:
        _check_choice("precision", p, BYTES_PER_ELEMENT)
    acc = hardware[hardware["kind"].isin(ACCELERATOR_KINDS)].dropna(subset=["memory_capacity_gib"])
    if devices is not None:
        devices = list(devices)
        unknown = sorted(set(devices) - set(hardware["device"]))
        if unknown:
            raise ValueError(f"devices: {unknown} not in hardware.csv")
        acc = hardware[hardware["device"].isin(devices)].dropna(subset=["memory_capacity_gib"])
        if acc.empty:
            raise ValueError(f"devices: none of {devices} has a memory capacity in hardware.csv")
    m = models[["name", "total_params_billion"]].assign(_k=1)
    p = pd.DataFrame({"precision": precisions, "bytes_per_param": [BYTES_PER_ELEMENT[x] for x in precisions], "_k": 1})
    d = acc[["device", "memory_capacity_gib"]].assign(_k=1)
    out = m.merge(p, on="_k").merge(d, on="_k").drop(columns="_k")
    out["weights_bytes"] = out["total_params_billion"] * 1e9 * out["bytes_per_param"]
    out["device_memory_bytes"] = out["memory_capacity_gib"] * GIB
    out["fraction"] = out["weights_bytes"] / out["device_memory_bytes"]
    out["fits"] = out["fraction"] <= 1.0
    return out.reset_index(drop=True)


def widest_fitting_format(fit: pd.DataFrame) -> pd.DataFrame:
    """For each (model, device), the widest weight format whose weights fit, from :func:`inference_fit`.

    Parameters
    ----------
    fit : pandas.DataFrame
        Output of :func:`inference_fit`.

    Returns
    -------
    pandas.DataFrame
        ``name``, ``device``, ``widest_fitting`` (e.g. ``"fp16"``, or ``"none"`` if no format fits),
        ``total_params_billion`` [billion params] and ``device_memory_bytes`` [B]; no rows for an empty input.
    """
    order = fit.sort_values("bytes_per_param", ascending=False, kind="stable")
    rows = []
    for (name, device), group in order.groupby(["name", "device"], sort=False):
        fitting = group[group["fits"]]
        rows.append({"name": name, "device": device,
                     "widest_fitting": fitting["precision"].iloc[0] if len(fitting) else "none",
                     "total_params_billion": group["total_params_billion"].iloc[0],
                     "device_memory_bytes": group["device_memory_bytes"].iloc[0]})
    return pd.DataFrame(rows, columns=["name", "device", "widest_fitting", "total_params_billion",
                                       "device_memory_bytes"])


def redate_point(points: pd.DataFrame, name: str, date: str) -> pd.DataFrame:
    """A copy of the paper's points with every point called ``name`` moved to ``date`` (to test an erratum).

    Parameters
    ----------
    points : pandas.DataFrame
        Table from :func:`load_paper_model_points`.
    name : str
        Point name, e.g. ``"Transformer"``.
    date : str
        New date, ``YYYY-MM-DD``.

    Returns
    -------
    pandas.DataFrame
        The copy, with ``date``, ``date_text`` and ``year`` updated.

    Raises
    ------
    ValueError
        If no point has that name, listing the names.
    """
    hit = points["name"] == name
    if not hit.any():
        raise ValueError(f"no point named {name!r}; names: {', '.join(sorted(set(points['name'])))}")
    out = points.copy()
    out.loc[hit, "date"] = pd.Timestamp(date)
    out.loc[hit, "date_text"] = date
    out.loc[hit, "year"] = float(decimal_year([date])[0])
    return out
