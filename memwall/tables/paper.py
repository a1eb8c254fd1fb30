"""Loaders for the curated tables in ``data/``, each validated on every load.

Tables (the data dictionary is ``data/README.md``):

* ``hardware.csv``: one row per accelerator or server processor, 1996-2026;
* ``memory_generations.csv``: DRAM generations (SDRAM ... HBM4);
* ``interconnects.csv``: PCIe, NVLink and InfiniBand generations;
* ``paper_hw_scaling_points.csv``: the points of the paper's hardware-scaling figure, as plotted;
* ``survey_case_study.csv``: the published encoder-vs-decoder numbers of the survey the paper re-uses.

Every dated table's loader returns a typed :class:`pandas.DataFrame` with two derived columns added, ``date``
(``datetime64``; a ``YYYY-MM`` date means the first day of that month) and ``year`` (fractional
calendar year, see :func:`memwall.trends.decimal_year`). A bad row raises
:class:`memwall.tables.DataValidationError` naming file, line, column and reason.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from memwall.tables.paths import _path
from memwall.tables.rules import _ERRATA_NOTES, _NOTES, _ROW_SOURCE, _SOURCE, _one_of, _positive, _with_dates
from memwall.tables.validation import ColumnRule, _memoized, date_check, read_validated_csv

__all__ = ["FIGURES", "PAPER_MODEL_POINT_RULES", "PAPER_POINT_RULES", "PAPER_PRECISIONS", "PAPER_SERIES",
           "PAPER_TRAINING_MEMORY_RULES", "POINT_SERIES", "SURVEY_METRICS", "SURVEY_RULES", "load_paper_hw_points",
           "load_paper_model_points", "load_paper_training_memory", "load_survey_case_study"]


PAPER_SERIES = ("flops", "dram_bandwidth", "interconnect_bandwidth")
PAPER_PRECISIONS = ("fp32", "fp64", "fp16_vector", "fp16_matrix")
"""Precision of a FLOPS point in the paper's figure, as we identify it."""

PAPER_POINT_RULES: dict[str, ColumnRule] = {
    "series": ColumnRule("str", True, (_one_of(PAPER_SERIES),),
                         "flops, dram_bandwidth or interconnect_bandwidth."),
    "date": ColumnRule("str", True, (date_check(),), "x-position as plotted, YYYY-MM-DD."),
    "normalized_value": ColumnRule("float", True, _positive("1"), "Value / the series' first point."),
    "precision": ColumnRule("str", False, (_one_of(PAPER_PRECISIONS),),
                            "FLOPS points only: the precision we identify for the point."),
    "label": ColumnRule("str", False, (), "Label printed in the figure."),
    "likely_identity": ColumnRule("str", False, (), "Our identification of the point."),
    "implied_value": ColumnRule("float", True, _positive("see implied_unit"),
                                "normalized_value x the series base."),
    "implied_unit": ColumnRule("str", True, (_one_of(("TFLOP/s", "GB/s", "Gbit/s per lane")),),
                               "Unit of implied_value."),
    "source_url": _SOURCE,
    "notes": _NOTES,
}


@_memoized("paper_hw_scaling_points.csv")
def load_paper_hw_points(path: str | Path | None = None) -> pd.DataFrame:
    """Load the points of the paper's hardware-scaling figure (Gholami et al. 2024, Fig. 1).

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Table to read; default ``data_dir() / "paper_hw_scaling_points.csv"``.

    Returns
    -------
    pandas.DataFrame
        One row per plotted marker: ``series``, ``normalized_value`` (dimensionless, each series
        divided by its first point), ``label``, ``likely_identity``, ``implied_value`` and
        ``implied_unit``, plus ``date`` and ``year``; the text date is kept as ``date_text``.

    Raises
    ------
    memwall.tables.DataValidationError
        On a bad row (unknown series or precision, non-positive value, bad date ...).

    Notes
    -----
    Source: https://github.com/amirgholami/ai_and_memory_wall (``imgs/pdfs/hw_scaling.pdf``), the
    figure's vector coordinates.
    """
    df = read_validated_csv(_path("paper_hw_scaling_points.csv", path), PAPER_POINT_RULES, key="series",
                            unique=["series", "date", "normalized_value"])
    df = df.rename(columns={"date": "date_text"})
    return _with_dates(df, "date_text").sort_values(["series", "date"], kind="stable").reset_index(drop=True)


SURVEY_METRICS = {"gflops": "GFLOP", "gmops": "GB", "intensity": "FLOP/B", "latency_cpu_norm": "1",
                  "latency_analytic_norm": "1"}
"""Metrics of ``survey_case_study.csv`` and their units."""

SURVEY_RULES: dict[str, ColumnRule] = {
    "model": ColumnRule("str", True, (_one_of(("BERT-Base", "BERT-Large", "GPT-2")),), "Survey model."),
    "seq_len": ColumnRule("int", True, _positive("tokens"), "Sequence length l [tokens]."),
    "operator": ColumnRule("str", True, (_one_of(("total", "mha_projections", "mha_act_to_act", "ffn_projections",
                                                  "other")),), "Operator group (survey Tables 3, 11) or total."),
    "metric": ColumnRule("str", True, (_one_of(tuple(SURVEY_METRICS)),), "Quantity published."),
    "published_value": ColumnRule("float", True, _positive("see unit"), "Value as printed."),
    "unit": ColumnRule("str", True, (_one_of(tuple(sorted(set(SURVEY_METRICS.values())))),), "Unit of the value."),
    "decimals": ColumnRule("int", True, (pa.Check.ge(0, error="must be >= 0"),), "Decimals printed."),
    "source_table": ColumnRule("str", True, (), "Figure or table of arXiv 2302.14017."),
    "source_url": _SOURCE,
}


def _unit_matches_metric(df: pd.DataFrame) -> pd.Series:
    return df["unit"] == df["metric"].map(SURVEY_METRICS)


@_memoized("survey_case_study.csv")
def load_survey_case_study(path: str | Path | None = None) -> pd.DataFrame:
    """Load the survey's published case-study values (Kim et al., arXiv 2302.14017, Figs. 4-6, 9, 32; Tables 3, 11).

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Table to read; default ``data_dir() / "survey_case_study.csv"``.

    Returns
    -------
    pandas.DataFrame
        One row per printed number: ``model``, ``seq_len`` [tokens], ``operator``, ``metric``,
        ``published_value`` (in ``unit``), ``decimals`` printed, ``source_table``, ``source_url``.

    Raises
    ------
    memwall.tables.DataValidationError
        On a bad row: unknown model, operator or metric, a unit that does not fit its metric,
        a non-positive value, a duplicate (model, seq_len, operator, metric, source_table).
    """
    return read_validated_csv(
        _path("survey_case_study.csv", path), SURVEY_RULES, key="model",
        unique=["model", "seq_len", "operator", "metric", "source_table"],
        frame_checks=[pa.Check(_unit_matches_metric, error="unit must match metric (see SURVEY_METRICS)")],
    )
FIGURES = ("model_size", "training_compute")
POINT_SERIES = ("transformer", "cnn", "recsys", "accelerator_memory", "other")
_UNIT_OF_FIGURE = {"model_size": "params_billion", "training_compute": "training_pflop"}

PAPER_MODEL_POINT_RULES: dict[str, ColumnRule] = {
    "figure": ColumnRule("str", True, (_one_of(FIGURES),), "model_size or training_compute."),
    "series": ColumnRule("str", True, (_one_of(POINT_SERIES),), "Colour group of the marker."),
    "name": ColumnRule("str", True, (), "Label (or our identification of an unlabelled marker)."),
    "date": ColumnRule("str", True, (date_check(2010, 2023),), "x-position as plotted, YYYY-MM-DD."),
    "plotted_value": ColumnRule("float", True, _positive("see plotted_unit"), "y-value as plotted."),
    "plotted_unit": ColumnRule("str", True, (_one_of(tuple(_UNIT_OF_FIGURE.values())),),
                               "params_billion [1e9 params] or training_pflop [1e15 FLOP]."),
    "memory_gb": ColumnRule("float", False, _positive("GB"),
                            "accelerator_memory only: the device memory in the label [GB]."),
    "source_url": _ROW_SOURCE,
    "notes": _ERRATA_NOTES,
}

PAPER_TRAINING_MEMORY_RULES: dict[str, ColumnRule] = {
    "model": ColumnRule("str", True, (), "Bar label."),
    "year": ColumnRule("int", True, (pa.Check.in_range(2010, 2020, error="must be in 2010..2020"),),
                       "Year printed under the bar."),
    "input": ColumnRule("str", True, (), "Input size as printed."),
    "seq_len": ColumnRule("int", False, _positive("tokens"), "Transformers: sequence length [tokens]."),
    "batch": ColumnRule("int", True, _positive("samples"), "Batch size [samples]."),
    "params_gb": ColumnRule("float", True, _positive("GB"), "Parameter memory [GB]."),
    "optimizer_gb": ColumnRule("float", True, _positive("GB"), "Optimizer-state memory [GB]."),
    "activations_gb": ColumnRule("float", True, _positive("GB"), "Feature-map (activation) memory [GB]."),
    "total_gb": ColumnRule("float", True, _positive("GB"), "Bar height [GB]."),
    "gpu_limit_gb": ColumnRule("float", True, _positive("GB"), "GPU memory-limit step line [GB]."),
    "readme_total_gb": ColumnRule("float", True, _positive("GB"), "Total in the repository README [GB]."),
    "source_url": _ROW_SOURCE,
    "notes": _ERRATA_NOTES,
}


def _frame_check(fn: Callable[[pd.DataFrame], pd.Series], error: str) -> pa.Check:
    return pa.Check(fn, error=error)


def _unit_fits_figure(df: pd.DataFrame) -> pd.Series:
    return df["plotted_unit"] == df["figure"].map(_UNIT_OF_FIGURE)


def _memory_iff_accelerator(df: pd.DataFrame) -> pd.Series:
    return df["memory_gb"].notna() == df["series"].eq("accelerator_memory")


def _memory_over_six(df: pd.DataFrame) -> pd.Series:
    implied = df["memory_gb"] / 6.0
    return implied.isna() | ((df["plotted_value"] - implied).abs() <= 0.005 * implied)


@_memoized("paper_model_points.csv")
def load_paper_model_points(path: str | Path | None = None) -> pd.DataFrame:
    """Load the plotted points of the paper's model-size and training-compute figures.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Table to read; default ``data_dir() / "paper_model_points.csv"``.

    Returns
    -------
    pandas.DataFrame
        One row per marker, the columns of :data:`PAPER_MODEL_POINT_RULES` with the text date kept as
        ``date_text`` and ``date`` (datetime) and ``year`` (fractional) added.

    Raises
    ------
    memwall.tables.DataValidationError
        On a bad row (file, line, column, reason), a unit that does not match the figure, an accelerator
        row without ``memory_gb`` (or another row with one), or a plotted memory point not equal to GB / 6.
    """
    df = read_validated_csv(
        _path("paper_model_points.csv", path), PAPER_MODEL_POINT_RULES, key="name",
        unique=["figure", "series", "name"],
        frame_checks=[
            _frame_check(_unit_fits_figure, "plotted_unit must be params_billion for model_size and "
                                            "training_pflop for training_compute"),
            _frame_check(_memory_iff_accelerator, "memory_gb must be given exactly for accelerator_memory rows"),
            _frame_check(_memory_over_six, "accelerator_memory plotted_value must equal memory_gb / 6 (0.5 %)"),
        ],
    )
    df = df.rename(columns={"date": "date_text"})
    return _with_dates(df, "date_text")


def _sums_to_total(df: pd.DataFrame) -> pd.Series:
    parts = df["params_gb"] + df["optimizer_gb"] + df["activations_gb"]
    return (parts - df["total_gb"]).abs() <= 0.011


@_memoized("paper_training_memory.csv")
def load_paper_training_memory(path: str | Path | None = None) -> pd.DataFrame:
    """Load the eight bars of the paper's training-memory figure.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Table to read; default ``data_dir() / "paper_training_memory.csv"``.

    Returns
    -------
    pandas.DataFrame
        One row per bar: the columns of :data:`PAPER_TRAINING_MEMORY_RULES`, in file (year) order.

    Raises
    ------
    memwall.tables.DataValidationError
        On a bad row, or a bar whose parts do not add up to ``total_gb`` (within 0.011 GB).
    """
    return read_validated_csv(
        _path("paper_training_memory.csv", path), PAPER_TRAINING_MEMORY_RULES, key="model", unique=["model"],
        frame_checks=[_frame_check(_sums_to_total, "params_gb + optimizer_gb + activations_gb must equal total_gb")],
    )
