"""The memory-hierarchy table ``memory_tiers.csv``: the memories behind one accelerator and the link to each.

One row per tier of one system: tier 0 is the memory on the accelerator's package (HBM, GDDR, or a CPU
socket's own DRAM), tier 1 the host memory behind a link (PCIe, NVLink-C2C). Devices are referenced by
their ``hardware.csv`` name and links by their ``interconnects.csv`` name (validated foreign keys); a tier
that names a ``memory_device`` takes its capacity and bandwidth from that row unless the file gives them,
and a link that names an ``interconnect`` takes its per-direction bandwidth from that row likewise.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from memwall.tables.hardware import load_hardware, load_interconnects
from memwall.tables.paper import _frame_check
from memwall.tables.paths import _path
from memwall.tables.rules import _CONF, _EXTRA, _NOTES, _SOURCE, _one_of, _positive
from memwall.tables.validation import ColumnRule, DataValidationError, _memo_by_content, read_validated_csv

__all__ = ["MEMORY_FAMILIES", "MEMORY_TIER_RULES", "load_memory_tiers"]

MEMORY_FAMILIES = ("hbm", "gddr", "ddr", "lpddr")
"""Memory technologies a tier may be made of."""

_TOLERANCE = 0.01
"""Relative disagreement allowed between a number given in the file and the one a foreign key implies."""

MEMORY_TIER_RULES: dict[str, ColumnRule] = {
    "system": ColumnRule("str", True, (), "System name; its rows are its tiers."),
    "accelerator": ColumnRule("str", True, (), "Compute device, a device of hardware.csv (its peak is used)."),
    "tier": ColumnRule("int", True, (pa.Check.ge(0, error="must be >= 0 [tier]"),),
                       "0 = memory on the accelerator's package, 1 = behind a link [tier]."),
    "tier_name": ColumnRule("str", True, (), "What the tier is, e.g. HBM3 or host DDR5."),
    "memory_family": ColumnRule("str", True, (_one_of(MEMORY_FAMILIES),), "hbm, gddr, ddr or lpddr."),
    "memory_device": ColumnRule("str", False, (), "Device of hardware.csv whose DRAM this tier is, if listed."),
    "memory_device_count": ColumnRule("int", False, _positive("devices"),
                                      "How many such devices (sockets) the tier spans [devices]."),
    "capacity_gib": ColumnRule("float", False, _positive("GiB"),
                               "Tier capacity, vendor's nominal GB read as GiB [GiB = 2**30 B]."),
    "bandwidth_gb_per_s": ColumnRule("float", False, _positive("GB/s"),
                                     "Peak DRAM bandwidth of the whole tier, reads and writes together [GB/s]."),
    "shared_by": ColumnRule("int", True, _positive("accelerators"),
                            "Accelerators sharing the tier's capacity and bandwidth [accelerators]."),
    "link": ColumnRule("str", False, (), "Link from the tier to the accelerator (empty for tier 0)."),
    "interconnect": ColumnRule("str", False, (), "Name of that link's generation in interconnects.csv, if listed."),
    "link_gb_per_s_per_direction": ColumnRule("float", False, _positive("GB/s"),
                                              "Link bandwidth, each direction [GB/s]."),
    "link_shared_by": ColumnRule("int", False, _positive("accelerators"),
                                 "Accelerators sharing that link [accelerators]."),
    "source_url": _SOURCE,
    "extra_source_urls": _EXTRA,
    "confidence": _CONF,
    "notes": _NOTES,
}


def _link_iff_host(df: pd.DataFrame) -> pd.Series:
    host = df["tier"] > 0
    linked = df["link"].notna() & df["link_shared_by"].notna()
    return (host & linked) | (~host & df["link"].isna() & df["interconnect"].isna()
                              & df["link_gb_per_s_per_direction"].isna() & df["link_shared_by"].isna())


def _count_iff_device(df: pd.DataFrame) -> pd.Series:
    return df["memory_device"].isna() == df["memory_device_count"].isna()


def _fill(df: pd.DataFrame, hardware: pd.DataFrame, links: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Check the foreign keys and fill capacity, bandwidth and link bandwidth from the rows they name."""
    problems: list[str] = []
    devices = hardware.set_index("device")
    per_dir = links.set_index("name")["device_gb_per_s_per_direction"]
    out = df.copy()
    for i, row in df.iterrows():
        where = f"line {i + 2} ({row['system']}, tier {row['tier']})"
        if row["accelerator"] not in devices.index:
            problems.append(f"{where}: accelerator {row['accelerator']!r} is not a device of hardware.csv")
        pairs = []
        if isinstance(row["memory_device"], str):
            if row["memory_device"] not in devices.index:
                problems.append(f"{where}: memory_device {row['memory_device']!r} is not a device of hardware.csv")
            else:
                dev = devices.loc[row["memory_device"]]
                n = row["memory_device_count"]
                pairs += [("capacity_gib", dev["memory_capacity_gib"] * n),
                          ("bandwidth_gb_per_s", dev["memory_bandwidth_gb_per_s"] * n)]
        if isinstance(row["interconnect"], str):
            if row["interconnect"] not in per_dir.index:
                problems.append(f"{where}: interconnect {row['interconnect']!r} is not a name in interconnects.csv")
            else:
                pairs.append(("link_gb_per_s_per_direction", per_dir.loc[row["interconnect"]]))
        for column, implied in pairs:
            given = row[column]
            if pd.isna(given):
                out.loc[i, column] = implied
            elif pd.notna(implied) and abs(given - implied) > _TOLERANCE * implied:
                problems.append(f"{where}: {column}={given:g} disagrees with {implied:g} implied by its foreign key")
        if row["tier"] == 0 and pd.isna(out.loc[i, "bandwidth_gb_per_s"]):
            problems.append(f"{where}: tier 0 needs bandwidth_gb_per_s (given, or from memory_device)")
        if pd.isna(out.loc[i, "capacity_gib"]):
            problems.append(f"{where}: capacity_gib is missing (give it, or a memory_device that has it)")
        if row["tier"] > 0 and pd.isna(out.loc[i, "link_gb_per_s_per_direction"]):
            problems.append(f"{where}: a host tier needs link_gb_per_s_per_direction (given, or from interconnect)")
    for system, group in df.groupby("system", sort=False):
        tiers = sorted(group["tier"])
        if tiers != list(range(len(tiers))):
            problems.append(f"system {system!r}: tiers must be 0, 1, ... without gaps, got {tiers}")
        if group["accelerator"].nunique() != 1:
            problems.append(f"system {system!r}: every tier must name the same accelerator")
    if problems:
        raise DataValidationError(path, problems)
    return out


def load_memory_tiers(path: str | Path | None = None, hardware_path: str | Path | None = None,
                      interconnects_path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate ``memory_tiers.csv`` against ``hardware.csv`` and ``interconnects.csv``.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Table to read; default ``data_dir() / "memory_tiers.csv"``.
    hardware_path, interconnects_path : str or pathlib.Path, optional
        The tables its foreign keys point into (default: the data folder's).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`MEMORY_TIER_RULES`, capacity, bandwidth and link bandwidth filled from the
        rows named by ``memory_device`` (times ``memory_device_count``) and ``interconnect``, plus
        ``bandwidth_gb_per_s_per_accelerator`` (``bandwidth_gb_per_s / shared_by``) [GB/s] and
        ``link_gb_per_s_per_accelerator`` (``link_gb_per_s_per_direction / link_shared_by``) [GB/s].
        Sorted by system (file order) and tier.

    Raises
    ------
    memwall.tables.DataValidationError
        On a bad cell; an ``accelerator``/``memory_device`` not in ``hardware.csv`` or an ``interconnect``
        not in ``interconnects.csv``; a given number that differs by more than 1 % from the one its
        foreign key implies; a tier 0 with a link or a host tier without one; a capacity, tier-0 bandwidth
        or host link bandwidth missing after filling; tiers with gaps; a system whose tiers name different
        accelerators; a duplicate (system, tier).

    Notes
    -----
    Bandwidth conventions: a DRAM tier's ``bandwidth_gb_per_s`` is its peak, reads and writes together
    (as datasheets quote DRAM); a link's is **per direction** (PCIe x16: 63 GB/s for 5.0, NVLink-C2C:
    900 GB/s total = 450 GB/s each way, NVIDIA, https://developer.nvidia.com/blog/nvidia-grace-hopper-superchip-architecture-in-depth/).

    Examples
    --------
    >>> from memwall.tables.memory_tiers import load_memory_tiers
    >>> t = load_memory_tiers().set_index(["system", "tier"])
    >>> row = t.loc[("DGX H100 (H100 SXM5; host DDR5 over PCIe 5.0)", 1)]
    >>> float(row["bandwidth_gb_per_s"]), float(row["link_gb_per_s_per_direction"])
    (614.4, 63.0)
    """
    tiers_file = _path("memory_tiers.csv", path)
    hw_file = _path("hardware.csv", hardware_path)
    ic_file = _path("interconnects.csv", interconnects_path)
    mem_file = hw_file.parent / "memory_generations.csv"

    def load() -> pd.DataFrame:
        hardware = load_hardware(hw_file, mem_file if mem_file.is_file() else None)
        return _load(tiers_file, hardware, load_interconnects(ic_file))

    files = [f for f in (tiers_file, hw_file, ic_file, mem_file) if f.is_file()]
    return _memo_by_content("load_memory_tiers", files, load)


def _load(path: Path, hardware: pd.DataFrame | None, links: pd.DataFrame | None) -> pd.DataFrame:
    """The table checked against ``hardware`` and ``links`` and filled from them; with either None, checked on its
    own columns only (no foreign key checked, nothing filled), as :mod:`memwall.tables.folder_check` does when
    ``hardware.csv`` or ``interconnects.csv`` is invalid."""
    df = read_validated_csv(
        path, MEMORY_TIER_RULES, key="system", unique=["system", "tier"],
        frame_checks=[
            _frame_check(_link_iff_host, "tier 0 has no link; a tier > 0 needs link and link_shared_by"),
            _frame_check(_count_iff_device, "memory_device_count must be given exactly when memory_device is"),
        ])
    if hardware is None or links is None:
        return df
    df = _fill(df, hardware, links, path)
    df["bandwidth_gb_per_s_per_accelerator"] = df["bandwidth_gb_per_s"] / df["shared_by"]
    df["link_gb_per_s_per_accelerator"] = df["link_gb_per_s_per_direction"] / df["link_shared_by"].astype(float)
    order = {name: i for i, name in enumerate(dict.fromkeys(df["system"]))}
    df["_order"] = df["system"].map(order)
    return df.sort_values(["_order", "tier"], kind="stable").drop(columns="_order").reset_index(drop=True)
