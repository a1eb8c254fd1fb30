"""Hardware trends: peak FLOP/s under a precision rule, record setters, machine balance, fits.

The paper's "peak hardware FLOPS" series mixes precisions: FP32 vector peaks for CPUs and older
GPUs, dense FP16/BF16 matrix-unit peaks from V100/TPU v2 on (see ``data/README.md``). Which
precision one picks changes the fitted growth rate, so every FLOPS series here is built by a named
*precision rule*:

``"fp32"``
    FP32 vector peak only; devices without one (TPUs, Gaudi) are left out.
``"max_16bit"``
    The fastest dense format of 16 bits or more (FP16/BF16 where the device has it, else FP32):
    the paper's rule.
``"max_8bit"``
    The fastest dense format of 8 bits or more (FP8, else INT8, else as ``"max_16bit"``).

Sparsity-doubled figures never enter: the table holds dense peaks only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from memwall.roofline import ridge_point
from memwall.trends import GrowthFit, fit_exponential

__all__ = [
    "PAPER_PRINTED_RATES",
    "PRECISION_RULES",
    "ROW_SETS",
    "SERIES_LABELS",
    "fit_each",
    "fit_series",
    "machine_balance",
    "normalize_to_first",
    "peak_flops",
    "record_setters",
    "select_window",
]


PRECISION_RULES: dict[str, tuple[tuple[str, str], ...]] = {
    "fp32": (("peak_fp32_tflop_per_s", "fp32"),),
    "max_16bit": (("dense_fp16_tflop_per_s", "fp16/bf16"), ("peak_fp32_tflop_per_s", "fp32")),
    "max_8bit": (
        ("dense_fp8_tflop_per_s", "fp8"),
        ("dense_int8_tera_op_per_s", "int8"),
        ("dense_fp16_tflop_per_s", "fp16/bf16"),
        ("peak_fp32_tflop_per_s", "fp32"),
    ),
}
"""Precision rule -> columns tried, fastest first (the max over available columns is taken)."""

ROW_SETS = ("all", "records")
"""``"all"`` devices, or only ``"records"``: devices that beat every earlier device's value."""

PAPER_PRINTED_RATES: dict[str, dict[str, float]] = {
    "flops": {"per_2_years": 3.0, "per_20_years": 60000.0},
    "dram_bandwidth": {"per_2_years": 1.6, "per_20_years": 100.0},
    "interconnect_bandwidth": {"per_2_years": 1.4, "per_20_years": 30.0},
}
"""Rates printed in the legend of Fig. 1 of Gholami et al., *AI and Memory Wall*, IEEE Micro 44(3),
2024 (arXiv 2403.14123, https://arxiv.org/abs/2403.14123) and in its abstract."""


def _check_choice(name: str, value: str, allowed: tuple[str, ...] | list[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not known; allowed: {', '.join(allowed)}")


def peak_flops(hardware: pd.DataFrame, rule: str = "max_16bit") -> pd.DataFrame:
    """Peak FLOP/s of each device under a precision rule.

    Parameters
    ----------
    hardware : pandas.DataFrame
        Table from :func:`memwall.tables.load_hardware`.
    rule : {"fp32", "max_16bit", "max_8bit"}
        Precision rule (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        Devices that have a value under the rule: ``device``, ``kind``, ``date``, ``year``,
        ``source_url``, ``peak_flop_per_s`` [FLOP/s] and ``precision`` (the format that gave the peak).

    Raises
    ------
    ValueError
        If ``rule`` is unknown, listing the allowed rules.

    References
    ----------
    .. [1] A. Gholami et al., "AI and Memory Wall", IEEE Micro 44(3), 33-39, 2024, arXiv 2403.14123, Fig. 1
       (peak FLOPS series: FP32 up to P100, 16-bit tensor/matrix peaks from V100 and TPU v2 on).
    .. [2] NVIDIA H100 Tensor Core GPU datasheet (SXM: 67 TFLOP/s FP32; 1979 FP16 and 3958 FP8 TFLOP/s with
       sparsity, i.e. 989.4 and 1979 dense), https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet

    Examples
    --------
    The H100 SXM [2]_ under each rule; TPUs have no FP32 vector peak in the table, so ``"fp32"`` drops them:

    >>> from memwall.tables.hardware import load_hardware
    >>> from memwall.wall.hardware_trends import peak_flops
    >>> hw = load_hardware()
    >>> for rule in ("fp32", "max_16bit", "max_8bit"):
    ...     row = peak_flops(hw, rule).set_index("device").loc["H100 SXM5 80GB (Hopper)"]
    ...     print(rule, f"{row['peak_flop_per_s'] / 1e12:.1f}", row["precision"])
    fp32 67.0 fp32
    max_16bit 989.4 fp16/bf16
    max_8bit 1979.0 fp8
    >>> "Google TPU v3" in set(peak_flops(hw, "fp32")["device"]), "Google TPU v3" in set(peak_flops(hw)["device"])
    (False, True)
    """
    _check_choice("rule", rule, list(PRECISION_RULES))
    columns = PRECISION_RULES[rule]
    values = np.column_stack([hardware[c].to_numpy(dtype=float) for c, _ in columns])
    has_any = ~np.all(np.isnan(values), axis=1)
    filled = np.where(np.isnan(values), -np.inf, values)
    best = np.argmax(filled, axis=1)
    out = hardware.loc[has_any, ["device", "kind", "date", "year", "source_url"]].copy()
    out["peak_flop_per_s"] = filled[has_any, best[has_any]] * 1e12
    out["precision"] = np.array([label for _, label in columns])[best[has_any]]
    return out.reset_index(drop=True)


def record_setters(table: pd.DataFrame, value: str) -> pd.DataFrame:
    """Rows whose ``value`` beats every earlier row's (a record-setting flagship series).

    Parameters
    ----------
    table : pandas.DataFrame
        Rows with a ``date`` column and the column ``value``.
    value : str
        Column to rank by.

    Returns
    -------
    pandas.DataFrame
        The subset, in date order. Rows released on the same date compete in value order,
        so only the best of them can set a record.

    Raises
    ------
    KeyError
        If ``value`` or ``date`` is not a column.
    """
    for col in (value, "date"):
        if col not in table.columns:
            raise KeyError(f"column {col!r} not in table; columns: {list(table.columns)}")
    ordered = table.dropna(subset=[value]).sort_values(["date", value], ascending=[True, False], kind="stable")
    previous_best = ordered[value].cummax().shift(1, fill_value=-np.inf)
    return ordered[ordered[value] > previous_best].reset_index(drop=True)


def select_window(table: pd.DataFrame, first_year: int, last_year: int) -> pd.DataFrame:
    """Rows whose fractional ``year`` lies in ``[first_year, last_year + 1)``.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows with a ``year`` column [year].
    first_year, last_year : int
        Inclusive calendar years: ``2012, 2026`` keeps 2012-01-01 through 2026-12-31.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ValueError
        If a year is not a whole number or ``first_year > last_year``.
    """
    for name, year in (("first_year", first_year), ("last_year", last_year)):
        if not np.isfinite(year) or float(year) != int(year):
            raise ValueError(f"window: {name}={year} must be a whole calendar year")
    if first_year > last_year:
        raise ValueError(f"window: first_year={first_year} is after last_year={last_year}")
    keep = (table["year"] >= first_year) & (table["year"] < last_year + 1)
    return table[keep].reset_index(drop=True)


def machine_balance(hardware: pd.DataFrame, rule: str = "max_16bit") -> pd.DataFrame:
    """Machine balance (roofline ridge point) of each device.

    Parameters
    ----------
    hardware : pandas.DataFrame
        Table from :func:`memwall.tables.load_hardware`.
    rule : {"fp32", "max_16bit", "max_8bit"}
        Precision rule for the peak.

    Returns
    -------
    pandas.DataFrame
        ``device``, ``kind``, ``date``, ``year``, ``precision``, ``peak_flop_per_s`` [FLOP/s],
        ``bandwidth_bytes_per_s`` [B/s] and ``ridge_flop_per_byte`` [FLOP/B] = peak / bandwidth:
        the arithmetic intensity a kernel needs to be compute-bound (Williams, Waterman and
        Patterson, *Roofline*, CACM 52(4), 2009, https://doi.org/10.1145/1498765.1498785).

    Raises
    ------
    ValueError
        If ``rule`` is unknown.

    References
    ----------
    .. [1] S. Williams, A. Waterman, D. Patterson, "Roofline: an insightful visual performance model for
       multicore architectures", Commun. ACM 52(4), 65-76, 2009, https://doi.org/10.1145/1498765.1498785
    .. [2] NVIDIA A100 Tensor Core GPU datasheet (80GB SXM: 19.5 TFLOP/s FP32, 312 dense FP16, 2039 GB/s),
       https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf

    Examples
    --------
    A100 80GB SXM [2]_: 312e12 / 2039e9 = 153.0 FLOP/B at 16 bits, 19.5e12 / 2039e9 = 9.56 FLOP/B in FP32;
    H100 SXM: 989.4e12 / 3350e9 = 295.3 FLOP/B [1]_.

    >>> from memwall.tables.hardware import load_hardware
    >>> from memwall.wall.hardware_trends import machine_balance
    >>> hw = load_hardware()
    >>> bal = machine_balance(hw).set_index("device")["ridge_flop_per_byte"]
    >>> round(float(bal["A100 SXM4 80GB (Ampere)"]), 1), round(float(bal["H100 SXM5 80GB (Hopper)"]), 1)
    (153.0, 295.3)
    >>> fp32 = machine_balance(hw, "fp32").set_index("device")["ridge_flop_per_byte"]
    >>> round(float(fp32["A100 SXM4 80GB (Ampere)"]), 2)
    9.56
    """
    flops = peak_flops(hardware, rule)
    bw = hardware.set_index("device")["memory_bandwidth_gb_per_s"] * 1e9
    out = flops.copy()
    out["bandwidth_bytes_per_s"] = out["device"].map(bw).to_numpy(dtype=float)
    out["ridge_flop_per_byte"] = ridge_point(out["peak_flop_per_s"].to_numpy(), out["bandwidth_bytes_per_s"].to_numpy())
    return out


def fit_series(table: pd.DataFrame, value: str, *, row_set: str = "all",
               window: tuple[float, float] | None = None) -> GrowthFit:
    """Fit exponential growth to one column of a dated table.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows with ``date``, ``year`` and ``value`` columns.
    value : str
        Column to fit (positive values, any unit).
    row_set : {"all", "records"}
        Use every row, or only record setters (:func:`record_setters`).
    window : tuple of int, optional
        Inclusive calendar years ``(first, last)`` to keep.

    Returns
    -------
    GrowthFit

    Raises
    ------
    ValueError
        If ``row_set`` is unknown, a window year is not whole, or the selection leaves fewer than 2
        points (the message names the window and row set).
    """
    _check_choice("row_set", row_set, ROW_SETS)
    rows = table.dropna(subset=[value])
    if window is not None:
        rows = select_window(rows, *window)
    if row_set == "records":
        rows = record_setters(rows, value)
    if len(rows) < 2:
        span = f"window {window[0]}-{window[1]}" if window is not None else "the table"
        raise ValueError(f"{value}: {span} with row_set={row_set!r} leaves {len(rows)} point(s); "
                         "need at least 2 to fit a trend")
    return fit_exponential(rows["year"], rows[value])


SERIES_LABELS = {
    "flops": "peak FLOP/s",
    "dram_bandwidth": "DRAM bandwidth",
    "interconnect_bandwidth": "interconnect bandwidth",
}
"""Display names of the paper's three series."""


def normalize_to_first(table: pd.DataFrame, value: str) -> pd.Series:
    """``value`` divided by the value of the earliest row (ties: the first listed), as in the paper's Fig. 1.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows with ``date`` and ``value``.
    value : str
        Column to normalise.

    Returns
    -------
    pandas.Series
        Dimensionless ratios, same index as ``table``.
    """
    first = table.sort_values("date", kind="stable")[value].iloc[0]
    return table[value] / first


def fit_each(long: pd.DataFrame, value: str, *, name: str = "series",
             labels: Sequence[str] | None = None) -> dict[str, GrowthFit]:
    """An exponential trend per series of a long table, for the ``fits`` of a growth chart.

    Each series is fitted by :func:`fit_series` (least squares of
    ``log10(value)`` on the fractional ``year``, rows with a missing value dropped).

    Parameters
    ----------
    long : pandas.DataFrame
        Rows with the columns ``name``, ``year`` and ``value`` (e.g. :func:`memwall.book.stack_series` output with
        ``keep=("year", ...)``).
    value : str
        Column to fit (positive).
    name : str
        Column that labels each row's series.
    labels : sequence of str, optional
        Series to fit, in this order; default: every series, in sorted order (as ``groupby``).

    Returns
    -------
    dict of str to GrowthFit
        Label -> fit, in the order of ``labels``.

    Raises
    ------
    ValueError
        If a label names no rows of ``long`` (listing the labels present), or a series has fewer than
        two points to fit.
    """
    groups = dict(list(long.groupby(name, sort=True)))
    if labels is None:
        labels = list(groups)
    unknown = [lab for lab in labels if lab not in groups]
    if unknown:
        raise ValueError(f"no rows labelled {', '.join(map(repr, unknown))} in column {name!r}; "
                         f"present: {', '.join(map(repr, groups))}")
    return {lab: fit_series(groups[lab], value) for lab in labels}
