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
:class:`memwall.validation.DataValidationError` naming file, line, column and reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from memwall.trends import decimal_year
from memwall.validation import ColumnRule, date_check, read_validated_csv, url_check, urls_check

__all__ = [
    "CONFIDENCE_LEVELS",
    "FP16_UNITS",
    "HARDWARE_RULES",
    "INTERCONNECT_RULES",
    "MEMORY_RULES",
    "PAPER_POINT_RULES",
    "PAPER_PRECISIONS",
    "PAPER_SERIES",
    "data_dir",
    "load_hardware",
    "load_interconnects",
    "load_memory_generations",
    "load_paper_hw_points",
    "load_reference_measurements",
    "load_survey_case_study",
]

CONFIDENCE_LEVELS = ("A", "B", "C")
"""A: seen in a primary or reliable source; B: derived or recalled, consistent; C: uncertain."""

FP16_UNITS = ("matrix", "vector")
"""Where a device's 16-bit peak comes from: a matrix unit (tensor core, MXU, AMX) or packed SIMD."""

KINDS = ("cpu", "gpu", "tpu", "accelerator")
DIRECTIONS = ("bidirectional", "per_direction")
PAPER_SERIES = ("flops", "dram_bandwidth", "interconnect_bandwidth")
PAPER_PRECISIONS = ("fp32", "fp64", "fp16_vector", "fp16_matrix")
"""Precision of a FLOPS point in the paper's figure, as we identify it."""


def data_dir() -> Path:
    """Folder holding the book's CSV tables.

    Returns
    -------
    pathlib.Path
        ``$MEMWALL_DATA_DIR`` if set, else ``data/`` at the root of the repository that holds
        this package (the package is installed editable from the book's repository).
    """
    env = os.environ.get("MEMWALL_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "data"


def _one_of(values: tuple[str, ...] | list[str]) -> pa.Check:
    return pa.Check.isin(list(values), error=f"must be one of: {', '.join(values)}")


def _positive(unit: str) -> tuple[pa.Check, ...]:
    return (pa.Check.gt(0, error=f"must be > 0 [{unit}]"),
            pa.Check(lambda s: np.isfinite(s.astype(float)), error="must be finite"))


_SOURCE = ColumnRule("str", True, (url_check(),), "Primary source (datasheet or vendor page) of the row.")
_EXTRA = ColumnRule("str", False, (urls_check(),), "Further sources, space-separated URLs.")
_CONF = ColumnRule("str", True, (_one_of(CONFIDENCE_LEVELS),), "Confidence: A, B or C.")
_NOTES = ColumnRule("str", False, (), "Free text: assumptions, derivations, disagreements.")


def _memory_names(path: Path | None) -> list[str]:
    return sorted(load_memory_generations(path)["name"])


def _paired(value: str, companion: str) -> pa.Check:
    """Frame check: ``companion`` is filled exactly when ``value`` is."""

    def check(df: pd.DataFrame) -> pd.Series:
        return df[value].isna() == df[companion].isna()

    check.__name__ = f"paired_{value}_{companion}"

    return pa.Check(check, error=f"{companion!r} must be given exactly when {value!r} is")


def hardware_rules(memory_names: list[str]) -> dict[str, ColumnRule]:
    """Column rules of ``hardware.csv``; ``memory_type`` must be a name in ``memory_generations.csv``."""
    return {
        "device": ColumnRule("str", True, (), "Device name, unique."),
        "vendor": ColumnRule("str", True, (), "Vendor."),
        "kind": ColumnRule("str", True, (_one_of(KINDS),), "cpu, gpu, tpu or accelerator."),
        "release_date": ColumnRule("str", True, (date_check(),), "Launch/availability, YYYY-MM[-DD]."),
        "peak_fp32_tflop_per_s": ColumnRule("float", False, _positive("TFLOP/s"),
                                            "Vector FP32 peak [TFLOP/s]."),
        "dense_fp16_tflop_per_s": ColumnRule("float", False, _positive("TFLOP/s"),
                                             "Dense FP16/BF16 peak [TFLOP/s]."),
        "fp16_unit": ColumnRule("str", False, (_one_of(FP16_UNITS),),
                                "Unit behind the 16-bit peak: matrix or vector."),
        "dense_fp8_tflop_per_s": ColumnRule("float", False, _positive("TFLOP/s"), "Dense FP8 peak [TFLOP/s]."),
        "dense_int8_tera_op_per_s": ColumnRule("float", False, _positive("Top/s"),
                                               "Dense INT8 peak [1e12 op/s]."),
        "memory_type": ColumnRule("str", True, (_one_of(memory_names),),
                                  "DRAM generation, a name from memory_generations.csv."),
        "memory_capacity_gib": ColumnRule("float", False, _positive("GiB"),
                                          "On-package memory, vendor's nominal figure [GiB = 2**30 B]."),
        "memory_bandwidth_gb_per_s": ColumnRule("float", True, _positive("GB/s"),
                                                "Peak DRAM bandwidth [GB/s]."),
        "chip_to_chip_link": ColumnRule("str", False, (), "Fastest scale-up link."),
        "chip_to_chip_gb_per_s": ColumnRule("float", False, _positive("GB/s"),
                                            "Chip-to-chip bandwidth as quoted [GB/s]."),
        "chip_to_chip_direction": ColumnRule("str", False, (_one_of(DIRECTIONS),),
                                             "bidirectional or per_direction."),
        "tdp_w": ColumnRule("float", False, _positive("W"), "Board/package power [W]."),
        "source_url": _SOURCE,
        "extra_source_urls": _EXTRA,
        "confidence": _CONF,
        "notes": _NOTES,
    }


HARDWARE_RULES = hardware_rules(["<names from memory_generations.csv>"])
"""Column rules of ``hardware.csv`` (vocabulary of ``memory_type`` shown as a placeholder)."""

MEMORY_RULES: dict[str, ColumnRule] = {
    "name": ColumnRule("str", True, (), "Generation name, unique (vocabulary of hardware.memory_type)."),
    "family": ColumnRule("str", True, (_one_of(("sdram", "ddr", "lpddr", "gddr", "hbm", "other")),),
                         "sdram, ddr, lpddr, gddr, hbm or other."),
    "standard": ColumnRule("str", False, (), "Standard document, e.g. JEDEC JESD235."),
    "first_product_date": ColumnRule("str", True, (date_check(),), "First shipping product, YYYY-MM[-DD]."),
    "first_product": ColumnRule("str", False, (), "That product."),
    "pin_rate_gbit_per_s": ColumnRule("float", False, _positive("Gbit/s"), "Typical per-pin rate [Gbit/s]."),
    "max_pin_rate_gbit_per_s": ColumnRule("float", False, _positive("Gbit/s"), "Highest per-pin rate [Gbit/s]."),
    "interface_width_bits": ColumnRule("int", False, _positive("bit"), "Bits per chip/stack/channel [bit]."),
    "bandwidth_per_device_gb_per_s": ColumnRule("float", False, _positive("GB/s"),
                                                "pin rate x width / 8 [GB/s]."),
    "source_url": _SOURCE,
    "extra_source_urls": _EXTRA,
    "confidence": _CONF,
    "notes": _NOTES,
}


def _bandwidth_is_rate_times_width(df: pd.DataFrame) -> pd.Series:
    implied = df["pin_rate_gbit_per_s"] * df["interface_width_bits"].astype(float) / 8.0
    unknown = implied.isna() | df["bandwidth_per_device_gb_per_s"].isna()
    return unknown | ((df["bandwidth_per_device_gb_per_s"] - implied).abs() <= 0.01 * implied)


INTERCONNECT_RULES: dict[str, ColumnRule] = {
    "name": ColumnRule("str", True, (), "Generation, unique."),
    "family": ColumnRule("str", True, (_one_of(("pcie", "nvlink", "infiniband", "other")),),
                         "pcie, nvlink, infiniband or other."),
    "date": ColumnRule("str", True, (date_check(),), "Specification or first product, YYYY-MM[-DD]."),
    "lane_rate_gbit_per_s": ColumnRule("float", True, _positive("Gbit/s"),
                                       "Per-lane signalling rate [Gbit/s] (GT/s for PCIe)."),
    "encoding": ColumnRule("str", False, (), "Line code."),
    "lanes_per_link": ColumnRule("int", False, _positive("lane"), "Lanes per link per direction."),
    "links_per_device": ColumnRule("int", False, _positive("link"), "Links per device."),
    "device_gb_per_s_per_direction": ColumnRule("float", False, _positive("GB/s"),
                                                "Per-device bandwidth, each direction [GB/s]."),
    "example_device": ColumnRule("str", False, (), "A device using it."),
    "source_url": _SOURCE,
    "extra_source_urls": _EXTRA,
    "confidence": _CONF,
    "notes": _NOTES,
}

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


def _with_dates(df: pd.DataFrame, column: str) -> pd.DataFrame:
    out = df.copy()
    text = out[column].where(out[column].str.len() == 10, out[column] + "-01")
    out["date"] = pd.to_datetime(text, format="%Y-%m-%d")
    out["year"] = decimal_year(out["date"])
    return out


def _path(name: str, path: str | Path | None) -> Path:
    return Path(path) if path is not None else data_dir() / name


def load_memory_generations(path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate ``memory_generations.csv``.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Table to read; default ``data_dir() / "memory_generations.csv"``.

    Returns
    -------
    pandas.DataFrame
        One row per generation with the columns of :data:`MEMORY_RULES` plus ``date``/``year``
        (of the first product).

    Raises
    ------
    memwall.validation.DataValidationError
        On a bad row, or if a per-device bandwidth is not pin rate x width / 8 (within 1 %).
    """
    df = read_validated_csv(
        _path("memory_generations.csv", path), MEMORY_RULES, key="name", unique=["name"],
        frame_checks=[pa.Check(_bandwidth_is_rate_times_width,
                               error="bandwidth_per_device_gb_per_s must equal pin rate x width / 8")],
    )
    return _with_dates(df, "first_product_date")


def load_hardware(path: str | Path | None = None, memory_path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate ``hardware.csv``.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Table to read; default ``data_dir() / "hardware.csv"``.
    memory_path : str or pathlib.Path, optional
        ``memory_generations.csv`` giving the allowed ``memory_type`` names.

    Returns
    -------
    pandas.DataFrame
        One row per device: the columns described in ``data/README.md`` plus ``date``, ``year``
        and ``chip_to_chip_gb_per_s_per_direction`` (quoted bandwidth, halved when quoted
        bidirectionally) [GB/s].

    Raises
    ------
    memwall.validation.DataValidationError
        On a bad row: unknown column, unparsable number or date, non-positive value, unknown
        vocabulary (kind, fp16_unit, memory_type, direction, confidence), missing source,
        duplicate device, or a unit/direction given without its value (and vice versa).
    """
    hardware_path = _path("hardware.csv", path)
    if not hardware_path.is_file():
        raise FileNotFoundError(f"data table not found: {hardware_path}")
    rules = hardware_rules(_memory_names(memory_path))
    df = read_validated_csv(
        hardware_path, rules, key="device", unique=["device"],
        frame_checks=[_paired("dense_fp16_tflop_per_s", "fp16_unit"),
                      _paired("chip_to_chip_gb_per_s", "chip_to_chip_direction")],
    )
    df = _with_dates(df, "release_date")
    halve = df["chip_to_chip_direction"].eq("bidirectional").fillna(False)
    df["chip_to_chip_gb_per_s_per_direction"] = df["chip_to_chip_gb_per_s"].where(
        ~halve, df["chip_to_chip_gb_per_s"] / 2.0)
    return df.sort_values(["date", "device"], kind="stable").reset_index(drop=True)


def load_interconnects(path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate ``interconnects.csv``.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Table to read; default ``data_dir() / "interconnects.csv"``.

    Returns
    -------
    pandas.DataFrame
        One row per generation with the columns of :data:`INTERCONNECT_RULES` plus ``date``
        (parsed) and ``year``; the text date is kept as ``date_text``.

    Raises
    ------
    memwall.validation.DataValidationError
        On a bad row.
    """
    df = read_validated_csv(_path("interconnects.csv", path), INTERCONNECT_RULES, key="name", unique=["name"])
    df = df.rename(columns={"date": "date_text"})
    return _with_dates(df, "date_text").sort_values("date", kind="stable").reset_index(drop=True)


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
    memwall.validation.DataValidationError
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
    memwall.validation.DataValidationError
        On a bad row: unknown model, operator or metric, a unit that does not fit its metric,
        a non-positive value, a duplicate (model, seq_len, operator, metric, source_table).
    """
    return read_validated_csv(
        _path("survey_case_study.csv", path), SURVEY_RULES, key="model",
        unique=["model", "seq_len", "operator", "metric", "source_table"],
        frame_checks=[pa.Check(_unit_matches_metric, error="unit must match metric (see SURVEY_METRICS)")],
    )


REFERENCE_EXPERIMENTS = ("stream", "gemm", "gemv", "latency_encoder", "latency_decoder")
"""Experiments recorded in ``reference_measurements.csv``."""

REFERENCE_RULES: dict[str, ColumnRule] = {
    "machine": ColumnRule("str", True, (), "CPU model as reported by the machine."),
    "measured_on": ColumnRule("str", True, (date_check(),), "Date of the measurement, YYYY-MM-DD."),
    "logical_cpus": ColumnRule("int", True, _positive("CPUs"), "CPUs the process could use."),
    "blas": ColumnRule("str", True, (), "BLAS library and version (threadpoolctl)."),
    "numpy_version": ColumnRule("str", True, (), "numpy version."),
    "experiment": ColumnRule("str", True, (_one_of(REFERENCE_EXPERIMENTS),), "Which measurement."),
    "setting": ColumnRule("str", True, (), "Kernel, dtype and size, batch, or model and length."),
    "intensity_flop_per_byte": ColumnRule("float", False, _positive("FLOP/B"), "Arithmetic intensity [FLOP/B]."),
    "flop_per_s": ColumnRule("float", False, _positive("FLOP/s"), "Measured throughput [FLOP/s]."),
    "bandwidth_bytes_per_s": ColumnRule("float", False, _positive("B/s"), "Measured bandwidth [B/s]."),
    "time_s": ColumnRule("float", True, _positive("s"), "Median wall time [s]."),
    "command": ColumnRule("str", True, (), "Command that produced the row."),
    "method_url": _SOURCE,
}


def load_reference_measurements(path: str | Path | None = None) -> pd.DataFrame:
    """Load the stored reference measurement of one machine (``reference_measurements.csv``).

    Written by ``memwall measure reference --output data/reference_measurements.csv``; the chapter "The
    roofline, measured" shows it beside the live measurement, so the page means something on any builder.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Table to read; default ``data_dir() / "reference_measurements.csv"``.

    Returns
    -------
    pandas.DataFrame
        One row per measured point, columns of :data:`REFERENCE_RULES`.

    Raises
    ------
    memwall.validation.DataValidationError
        On a bad row.
    """
    return read_validated_csv(_path("reference_measurements.csv", path), REFERENCE_RULES, key="setting",
                              unique=["machine", "measured_on", "experiment", "setting"])
