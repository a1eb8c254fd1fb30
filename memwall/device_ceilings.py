"""Datasheet ceilings of every device in the hardware table, as one table.

:class:`memwall.roofline.Ceilings.from_hardware` reads one (device, precision) pair of
:func:`memwall.tables.load_hardware`; :func:`ceilings_table` reads them all at once, in SI units, with
each pair's ridge point (:func:`memwall.roofline.ridge_point`), for the roofline chart
(:func:`memwall.charts.roofline.roofline_chart`) and the ``memwall roofline`` command. The table's
peak columns are named by :data:`memwall.roofline.PRECISION_COLUMNS` [TFLOP/s]; its bandwidth column is
``memory_bandwidth_gb_per_s`` [GB/s] (1 GB = 1e9 B).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from memwall.device_lookup import find_device
from memwall.roofline import PRECISION_COLUMNS, ridge_point

__all__ = ["ceilings_table"]


def ceilings_table(hardware: pd.DataFrame, precisions: Sequence[str] = ("fp32", "fp16", "fp8", "int8"),
                   devices: Sequence[str] | None = None) -> pd.DataFrame:
    """Every (device, precision) pair of the hardware table that has both ceilings.

    Parameters
    ----------
    hardware : pandas.DataFrame
        Table from :func:`memwall.tables.load_hardware`.
    precisions : sequence of str
        Keys of :data:`memwall.roofline.PRECISION_COLUMNS`.
    devices : sequence of str, optional
        Restrict to these devices (default: all, in table order): ``device`` values or names that
        :func:`memwall.device_lookup.find_device` resolves (``"H100"``, ``"mi300x"``).

    Returns
    -------
    pandas.DataFrame
        ``device``, ``precision``, ``peak_flop_per_s`` [FLOP/s], ``bandwidth_bytes_per_s`` [B/s],
        ``ridge_flop_per_byte`` [FLOP/B]; pairs without a value are left out.

    Raises
    ------
    ValueError
        For an unknown precision, or an unknown or ambiguous device.
    """
    for p in precisions:
        if p not in PRECISION_COLUMNS:
            raise ValueError(f"precision={p!r} is not known; allowed: {', '.join(PRECISION_COLUMNS)}")
    table = hardware
    if devices is not None:
        names = list(hardware["device"])
        table = hardware.set_index("device").loc[[find_device(d, names) for d in devices]].reset_index()
    frames = []
    for p in precisions:
        part = pd.DataFrame({
            "device": table["device"].to_numpy(),
            "precision": p,
            "peak_flop_per_s": table[PRECISION_COLUMNS[p]].to_numpy(dtype=float) * 1e12,
            "bandwidth_bytes_per_s": table["memory_bandwidth_gb_per_s"].to_numpy(dtype=float) * 1e9,
        })
        frames.append(part.dropna())
    out = pd.concat(frames, ignore_index=True)
    order = {d: i for i, d in enumerate(table["device"])}
    out = out.sort_values("device", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    out["ridge_flop_per_byte"] = ridge_point(out["peak_flop_per_s"].to_numpy(), out["bandwidth_bytes_per_s"].to_numpy())
    return out
