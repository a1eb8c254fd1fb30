"""Device tables: ``hardware.csv``, ``memory_generations.csv`` and ``interconnects.csv``, validated on load."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from memwall.tables.paths import _path
from memwall.tables.rules import _CONF, _EXTRA, _NOTES, _SOURCE, _one_of, _positive, _with_dates
from memwall.tables.validation import ColumnRule, _memo_by_content, _memoized, date_check, read_validated_csv

__all__ = ["DIRECTIONS", "FP16_UNITS", "HARDWARE_RULES", "INTERCONNECT_RULES", "KINDS", "MEMORY_RULES",
           "hardware_rules", "load_hardware", "load_interconnects", "load_memory_generations"]



FP16_UNITS = ("matrix", "vector")
"""Where a device's 16-bit peak comes from: a matrix unit (tensor core, MXU, AMX) or packed SIMD."""

KINDS = ("cpu", "gpu", "tpu", "accelerator")
DIRECTIONS = ("bidirectional", "per_direction")


def _memory_names(path: Path | None) -> list[str]:
    return sorted(load_memory_generations(path)["name"])


def _paired(value: str, companion: str) -> pa.Check:
    """Frame check: ``companion`` is filled exactly when ``value`` is."""

    def check(df: pd.DataFrame) -> pd.Series:
        return df[value].isna() == df[companion].isna()

    check.__name__ = f"paired_{value}_{companion}"

    return pa.Check(check, error=f"{companion!r} must be given exactly when {value!r} is")


def hardware_rules(memory_names: list[str] | None) -> dict[str, ColumnRule]:
    """Column rules of ``hardware.csv``; ``memory_type`` must be one of ``memory_names``, the names in
    ``memory_generations.csv`` (None: any name, the foreign key is not checked)."""
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
        "memory_type": ColumnRule("str", True, (_one_of(memory_names),) if memory_names is not None else (),
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


@_memoized("memory_generations.csv")
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
    memwall.tables.DataValidationError
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
    memwall.tables.DataValidationError
        On a bad row: unknown column, unparsable number or date, non-positive value, unknown
        vocabulary (kind, fp16_unit, memory_type, direction, confidence), missing source,
        duplicate device, or a unit/direction given without its value (and vice versa).

    References
    ----------
    .. [1] NVIDIA A100 Tensor Core GPU datasheet (80GB SXM: 312 TFLOP/s dense FP16 tensor core, 2039 GB/s
       HBM2e, NVLink 600 GB/s),
       https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf

    Examples
    --------
    The A100 80GB SXM row carries its datasheet figures [1]_; NVLink's 600 GB/s is quoted for both
    directions together, so 300 GB/s each way; released 2020-11-16, day 321 of a leap year, i.e.
    ``2020 + 320/366`` = 2020.874:

    >>> from memwall.tables.hardware import load_hardware
    >>> a100 = load_hardware().set_index("device").loc["A100 SXM4 80GB (Ampere)"]
    >>> float(a100["dense_fp16_tflop_per_s"]), float(a100["memory_bandwidth_gb_per_s"]), a100["memory_type"]
    (312.0, 2039.0, 'HBM2e')
    >>> float(a100["chip_to_chip_gb_per_s"]), float(a100["chip_to_chip_gb_per_s_per_direction"])
    (600.0, 300.0)
    >>> round(float(a100["year"]), 3)
    2020.874
    """
    hardware_path = _path("hardware.csv", path)
    if not hardware_path.is_file():
        raise FileNotFoundError(f"data table not found: {hardware_path}")
    memory = _path("memory_generations.csv", memory_path)
    return _memo_by_content("load_hardware", [hardware_path, memory], lambda: _load_hardware(hardware_path, memory))


def _load_hardware(hardware_path: Path, memory_path: Path) -> pd.DataFrame:
    return _read_hardware(hardware_path, _memory_names(memory_path))


def _read_hardware(hardware_path: Path, memory_names: list[str] | None) -> pd.DataFrame:
    """``hardware.csv`` read and checked with ``memory_type`` in ``memory_names`` (None: the foreign key not checked,
    as :mod:`memwall.tables.folder_check` does when ``memory_generations.csv`` is invalid)."""
    rules = hardware_rules(memory_names)
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


@_memoized("interconnects.csv")
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
    memwall.tables.DataValidationError
        On a bad row.
    """
    df = read_validated_csv(_path("interconnects.csv", path), INTERCONNECT_RULES, key="name", unique=["name"])
    df = df.rename(columns={"date": "date_text"})
    return _with_dates(df, "date_text").sort_values("date", kind="stable").reset_index(drop=True)
