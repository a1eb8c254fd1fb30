"""The on-chip memory table ``onchip_memory.csv``: SRAM and cache capacities and bandwidths, validated on load.

One row is one on-chip memory of one device: a GPU's L2 cache or its shared memory summed over the SMs, AMD's
Infinity Cache, a TPU's CMEM, or the SRAM that SRAM-centric machines (Groq, Cerebras, Graphcore, SambaNova) keep
their weights in. A device that is also in ``hardware.csv`` is named exactly as there (``specs_from`` =
``hardware.csv``, a foreign key: its peaks, HBM and links come from that table); a machine that is not carries its
own (``specs_from`` = ``this_row``). The column dictionary is in ``data/README.md``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from memwall.tables.hardware import DIRECTIONS, load_hardware
from memwall.tables.paths import _path
from memwall.tables.rules import _CONF, _EXTRA, _NOTES, _SOURCE, _one_of, _positive
from memwall.tables.validation import ColumnRule, _memo_by_content, read_validated_csv

__all__ = ["ONCHIP_RULES", "OWN_SPEC_COLUMNS", "SPECS_FROM", "SRAM_KINDS", "load_onchip"]

SPECS_FROM = ("hardware.csv", "this_row")
"""Where a row's peaks, off-chip memory and links come from: the hardware table, or the row itself."""

SRAM_KINDS = ("cache", "scratchpad")
"""A hardware-managed cache (L2, Infinity Cache, CMEM) or a software-managed scratchpad (shared memory, SRAM)."""

OWN_SPEC_COLUMNS = ("dense_fp16_tflop_per_s", "dense_int8_tera_op_per_s", "memory_capacity_gib",
                    "memory_bandwidth_gb_per_s", "ddr_capacity_gib", "chip_to_chip_link", "chip_to_chip_gb_per_s",
                    "chip_to_chip_direction")
"""Columns a ``this_row`` row may fill; a ``hardware.csv`` row leaves them empty (they come from that table)."""

ONCHIP_RULES: dict[str, ColumnRule] = {
    "device": ColumnRule("str", True, (), "Device; the exact hardware.csv name when specs_from is hardware.csv."),
    "vendor": ColumnRule("str", True, (), "Vendor."),
    "specs_from": ColumnRule("str", True, (_one_of(SPECS_FROM),), "hardware.csv or this_row."),
    "sram_name": ColumnRule("str", True, (), "Which on-chip memory (L2 cache, shared memory, SRAM, ...)."),
    "sram_kind": ColumnRule("str", True, (_one_of(SRAM_KINDS),), "cache or scratchpad."),
    "sram_capacity_mib": ColumnRule("float", True, _positive("MiB"), "Capacity [MiB = 2**20 B]."),
    "sram_bandwidth_tb_per_s": ColumnRule("float", False, _positive("TB/s"),
                                          "Peak read bandwidth of that memory, whole chip [TB/s = 1e12 B/s]."),
    "dense_fp16_tflop_per_s": ColumnRule("float", False, _positive("TFLOP/s"), "Dense FP16/BF16 peak [TFLOP/s]."),
    "dense_int8_tera_op_per_s": ColumnRule("float", False, _positive("Top/s"), "Dense INT8 peak [1e12 op/s]."),
    "memory_capacity_gib": ColumnRule("float", False, _positive("GiB"), "On-package DRAM/HBM [GiB]."),
    "memory_bandwidth_gb_per_s": ColumnRule("float", False, _positive("GB/s"), "On-package DRAM/HBM bandwidth [GB/s]."),
    "ddr_capacity_gib": ColumnRule("float", False, _positive("GiB"), "Directly attached DDR, a third tier [GiB]."),
    "chip_to_chip_link": ColumnRule("str", False, (), "Chip-to-chip link."),
    "chip_to_chip_gb_per_s": ColumnRule("float", False, _positive("GB/s"), "Chip-to-chip bandwidth as quoted [GB/s]."),
    "chip_to_chip_direction": ColumnRule("str", False, (_one_of(DIRECTIONS),), "bidirectional or per_direction."),
    "source_url": _SOURCE,
    "extra_source_urls": _EXTRA,
    "confidence": _CONF,
    "notes": _NOTES,
}


def _checks(hardware_names: set[str] | None) -> list[pa.Check]:
    """Table rules; the two that look devices up in ``hardware.csv`` only when its names are given."""
    def known(df: pd.DataFrame) -> pd.Series:
        return ~df["specs_from"].eq("hardware.csv") | df["device"].isin(hardware_names)

    def not_duplicated(df: pd.DataFrame) -> pd.Series:
        return ~df["specs_from"].eq("this_row") | ~df["device"].isin(hardware_names)

    def no_own_specs(df: pd.DataFrame) -> pd.Series:
        return ~df["specs_from"].eq("hardware.csv") | df[list(OWN_SPEC_COLUMNS)].isna().all(axis=1)

    def paired(df: pd.DataFrame) -> pd.Series:
        return df["chip_to_chip_gb_per_s"].isna() == df["chip_to_chip_direction"].isna()

    foreign_keys = [
        pa.Check(known, error="specs_from is hardware.csv but device is not a device of hardware.csv "
                              "(use its exact name there, or specs_from=this_row)"),
        pa.Check(not_duplicated, error="specs_from is this_row but device is in hardware.csv "
                                       "(use specs_from=hardware.csv)"),
    ]
    return [
        *(foreign_keys if hardware_names is not None else []),
        pa.Check(no_own_specs, error=f"a specs_from=hardware.csv row must leave {', '.join(OWN_SPEC_COLUMNS)} "
                                     "empty (they come from hardware.csv)"),
        pa.Check(paired, error="'chip_to_chip_direction' must be given exactly when 'chip_to_chip_gb_per_s' is"),
    ]


_FROM_HARDWARE = ("dense_fp16_tflop_per_s", "dense_int8_tera_op_per_s", "memory_capacity_gib",
                  "memory_bandwidth_gb_per_s", "chip_to_chip_link", "chip_to_chip_gb_per_s", "chip_to_chip_direction")


def _load(path: Path, hardware: pd.DataFrame | None) -> pd.DataFrame:
    """The table checked against ``hardware`` and filled from it; with None, checked on its own columns only (the
    foreign key into ``hardware.csv`` not checked, nothing filled), as :mod:`memwall.tables.folder_check` does
    when ``hardware.csv`` is invalid."""
    df = read_validated_csv(path, ONCHIP_RULES, key="device", unique=["device", "sram_name"],
                            frame_checks=_checks(None if hardware is None else set(hardware["device"])))
    if hardware is None:
        return df
    rows = hardware.set_index("device")
    listed = df["specs_from"].eq("hardware.csv")
    for column in _FROM_HARDWARE:
        from_hw = df.loc[listed, "device"].map(rows[column])
        df[column] = df[column].astype(object)
        df.loc[listed, column] = from_hw.astype(object)
        if column not in ("chip_to_chip_link", "chip_to_chip_direction"):
            df[column] = pd.to_numeric(df[column])
    halve = df["chip_to_chip_direction"].eq("bidirectional")
    df["chip_to_chip_gb_per_s_per_direction"] = df["chip_to_chip_gb_per_s"].where(~halve, df["chip_to_chip_gb_per_s"]
                                                                                   / 2.0)
    df["sram_capacity_bytes"] = df["sram_capacity_mib"] * 2.0**20
    df["sram_bandwidth_bytes_per_s"] = df["sram_bandwidth_tb_per_s"] * 1e12
    return df


def load_onchip(path: str | Path | None = None, hardware_path: str | Path | None = None,
                memory_path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate ``onchip_memory.csv``, with the hardware-table specs of the devices it shares.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Table to read; default ``data_dir() / "onchip_memory.csv"``.
    hardware_path, memory_path : str or pathlib.Path, optional
        ``hardware.csv`` (the foreign key's table) and the ``memory_generations.csv`` it is validated with.

    Returns
    -------
    pandas.DataFrame
        One row per (device, on-chip memory): the columns of :data:`ONCHIP_RULES`, where for a
        ``specs_from=hardware.csv`` row the peaks [TFLOP/s, Top/s], HBM capacity [GiB] and bandwidth [GB/s]
        and the chip-to-chip link are filled in from ``hardware.csv``; plus
        ``chip_to_chip_gb_per_s_per_direction`` [GB/s], ``sram_capacity_bytes`` [B] and
        ``sram_bandwidth_bytes_per_s`` [B/s] (NaN where no bandwidth is published).

    Raises
    ------
    memwall.tables.DataValidationError
        On a bad cell (file, line, device and column named), a duplicate (device, sram_name), a
        ``hardware.csv`` row whose device is not in ``hardware.csv`` (the foreign key) or that repeats its
        specs, a ``this_row`` row whose device is in ``hardware.csv``, or a link bandwidth without its
        direction (or the reverse).
    FileNotFoundError
        If a table is missing.

    Examples
    --------
    The MI300X's Infinity Cache: 256 MiB at 17.2 TB/s (AMD CDNA 3 white paper), in front of the
    5.3 TB/s HBM3 that ``hardware.csv`` gives it:

    >>> from memwall.tables.onchip import load_onchip
    >>> row = load_onchip().set_index(["device", "sram_name"]).loc[("Instinct MI300X (CDNA3)", "Infinity Cache")]
    >>> float(row["sram_capacity_mib"]), float(row["sram_bandwidth_tb_per_s"]), float(row["memory_bandwidth_gb_per_s"])
    (256.0, 17.2, 5300.0)
    """
    p = _path("onchip_memory.csv", path)
    hp = _path("hardware.csv", hardware_path)
    mp = _path("memory_generations.csv", memory_path)
    if not p.is_file():
        raise FileNotFoundError(f"data table not found: {p}")
    return _memo_by_content("load_onchip", [p, hp, mp], lambda: _load(p, load_hardware(hp, mp)))
