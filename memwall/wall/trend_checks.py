"""How robust the hardware trends are: the paper's figure fits, datasheet series, windows, rules and hold-out tests."""

from __future__ import annotations

import pandas as pd

from memwall.trends import GrowthFit, fit_exponential
from memwall.wall.hardware_trends import (
    PAPER_PRINTED_RATES,
    PRECISION_RULES,
    ROW_SETS,
    _check_choice,
    fit_series,
    peak_flops,
    select_window,
)

__all__ = ["DATASHEET_SERIES", "compute_vs_bandwidth_cases", "datasheet_series", "paper_figure_fits",
           "paper_figure_growth", "sensitivity_rate", "sensitivity_table", "trend_holdout"]



def paper_figure_growth(points: pd.DataFrame) -> dict[str, GrowthFit]:
    """Fit each series of the paper's Fig. 1 from its plotted points.

    Parameters
    ----------
    points : pandas.DataFrame
        Table from :func:`memwall.tables.load_paper_hw_points`.

    Returns
    -------
    dict of str to GrowthFit
        Keyed by series id (``"flops"``, ``"dram_bandwidth"``, ``"interconnect_bandwidth"``).
    """
    return {str(series): fit_exponential(group["year"], group["normalized_value"])
            for series, group in points.groupby("series", sort=False)}


def paper_figure_fits(points: pd.DataFrame) -> pd.DataFrame:
    """Refit the three series of the paper's Fig. 1 and compare with its printed rates.

    Parameters
    ----------
    points : pandas.DataFrame
        Table from :func:`memwall.tables.load_paper_hw_points`.

    Returns
    -------
    pandas.DataFrame
        One row per series: our ``per_2_years``, ``per_20_years``, doubling time and CI, the
        paper's printed rates (``paper_per_2_years``, ``paper_per_20_years``) and the relative
        difference ``diff_per_2_years_pct`` [%].
    """
    rows = []
    for series, fit in paper_figure_growth(points).items():
        printed = PAPER_PRINTED_RATES[series]
        rows.append({
            "series": series,
            **fit.as_dict(),
            "paper_per_2_years": printed["per_2_years"],
            "paper_per_20_years": printed["per_20_years"],
            "diff_per_2_years_pct": 100.0 * (fit.per_2_years / printed["per_2_years"] - 1.0),
        })
    order = {s: i for i, s in enumerate(PAPER_PRINTED_RATES)}
    return pd.DataFrame(rows).sort_values("series", key=lambda s: s.map(order)).reset_index(drop=True)


def sensitivity_table(hardware: pd.DataFrame, windows: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """Growth of peak FLOP/s and DRAM bandwidth under every precision rule, row set and window.

    Parameters
    ----------
    hardware : pandas.DataFrame
        Table from :func:`memwall.tables.load_hardware`.
    windows : dict of str to tuple of int
        Named inclusive year windows, e.g. ``{"1996-2022": (1996, 2022)}``.

    Returns
    -------
    pandas.DataFrame
        One row per (quantity, rule, row_set, window) with the :meth:`GrowthFit.as_dict` numbers;
        ``quantity`` is ``"peak FLOP/s"`` (one row per rule) or ``"DRAM bandwidth"`` (rule ``"-"``).
    """
    rows = []
    bw = hardware[["device", "date", "year", "memory_bandwidth_gb_per_s"]]
    for wname, window in windows.items():
        for row_set in ROW_SETS:
            for rule in PRECISION_RULES:
                fit = fit_series(peak_flops(hardware, rule), "peak_flop_per_s", row_set=row_set, window=window)
                rows.append({"quantity": "peak FLOP/s", "rule": rule, "row_set": row_set, "window": wname,
                             **fit.as_dict()})
            fit = fit_series(bw, "memory_bandwidth_gb_per_s", row_set=row_set, window=window)
            rows.append({"quantity": "DRAM bandwidth", "rule": "-", "row_set": row_set, "window": wname,
                         **fit.as_dict()})
    return pd.DataFrame(rows)


DATASHEET_SERIES = ("flops", "dram_bandwidth", "interconnect_lane_rate", "interconnect_device_bandwidth",
                    "chip_to_chip_bandwidth")
"""Series that :func:`datasheet_series` builds from ``hardware.csv`` and ``interconnects.csv``."""


def datasheet_series(name: str, hardware: pd.DataFrame, interconnects: pd.DataFrame,
                     rule: str = "max_16bit") -> tuple[pd.DataFrame, str, str]:
    """A dated series from our datasheet tables, ready for :func:`fit_series`.

    Parameters
    ----------
    name : {"flops", "dram_bandwidth", "interconnect_lane_rate", "interconnect_device_bandwidth", \
"chip_to_chip_bandwidth"}
        ``flops``: peak FLOP/s per device under ``rule``; ``dram_bandwidth``: peak DRAM bandwidth
        per device; ``interconnect_lane_rate``: per-lane signalling rate of each PCIe/NVLink
        generation (the paper's "interconnect BW"); ``interconnect_device_bandwidth``: per-device
        bandwidth per direction of each generation; ``chip_to_chip_bandwidth``: each device's
        fastest chip-to-chip link, per direction.
    hardware, interconnects : pandas.DataFrame
        Tables from :func:`memwall.tables.load_hardware` and :func:`memwall.tables.load_interconnects`.
    rule : str
        Precision rule for ``flops`` (see :data:`PRECISION_RULES`).

    Returns
    -------
    table : pandas.DataFrame
        Rows with ``name`` (device or generation), ``date``, ``year``, ``source_url`` and the value column.
    value : str
        Name of the value column.
    unit : str
        Its unit, e.g. ``"FLOP/s"``.

    Raises
    ------
    ValueError
        If ``name`` or ``rule`` is unknown, listing the allowed values.
    """
    _check_choice("series", name, DATASHEET_SERIES)
    if name == "flops":
        t = peak_flops(hardware, rule).rename(columns={"device": "name"})
        return t, "peak_flop_per_s", "FLOP/s"
    if name == "dram_bandwidth":
        t = hardware[["device", "date", "year", "source_url", "memory_bandwidth_gb_per_s"]]
        t = t.rename(columns={"device": "name"}).assign(bandwidth_bytes_per_s=t["memory_bandwidth_gb_per_s"] * 1e9)
        return t.drop(columns="memory_bandwidth_gb_per_s"), "bandwidth_bytes_per_s", "B/s"
    if name == "chip_to_chip_bandwidth":
        t = hardware.dropna(subset=["chip_to_chip_gb_per_s_per_direction"])
        t = t[["device", "date", "year", "source_url"]].rename(columns={"device": "name"}).assign(
            bandwidth_bytes_per_s=t["chip_to_chip_gb_per_s_per_direction"].to_numpy() * 1e9)
        return t.reset_index(drop=True), "bandwidth_bytes_per_s", "B/s per direction"
    links = interconnects[interconnects["family"].isin(["pcie", "nvlink"])]
    if name == "interconnect_lane_rate":
        t = links[["name", "date", "year", "source_url"]].assign(
            lane_rate_bit_per_s=links["lane_rate_gbit_per_s"] * 1e9)
        return t.reset_index(drop=True), "lane_rate_bit_per_s", "bit/s per lane"
    links = links.dropna(subset=["device_gb_per_s_per_direction"])
    t = links[["name", "date", "year", "source_url"]].assign(
        bandwidth_bytes_per_s=links["device_gb_per_s_per_direction"] * 1e9)
    return t.reset_index(drop=True), "bandwidth_bytes_per_s", "B/s per direction"


def trend_holdout(table: pd.DataFrame, value: str, *, train: tuple[float, float],
                  test: tuple[float, float], row_set: str = "all") -> tuple[GrowthFit, pd.DataFrame]:
    """Fit a trend on one window and measure how later points sit against its extrapolation.

    Parameters
    ----------
    table : pandas.DataFrame
        Dated rows with a ``name`` or ``device`` column and the column ``value``.
    value : str
        Column to fit (positive).
    train, test : tuple of int
        Inclusive calendar-year windows for fitting and for checking.
    row_set : {"all", "records"}
        Rows used for the fit (the check always uses every row of ``test``).

    Returns
    -------
    fit : GrowthFit
        Trend fitted on ``train``.
    check : pandas.DataFrame
        The ``test`` rows with ``predicted`` (the extrapolated trend, same unit as ``value``) and
        ``ratio`` = actual / predicted [x]: above 1 the device beats the old trend.

    Raises
    ------
    ValueError
        If a window is empty of usable points or ``row_set`` is unknown.
    """
    fit = fit_series(table, value, row_set=row_set, window=train)
    check = select_window(table.dropna(subset=[value]), *test).copy()
    if check.empty:
        raise ValueError(f"test window {test} holds no rows with {value!r}")
    check["predicted"] = fit.predict(check["year"])
    check["ratio"] = check[value] / check["predicted"]
    return fit, check


def sensitivity_rate(sens: pd.DataFrame, quantity: str, rule: str, row_set: str, window: str) -> float:
    """One growth rate from :func:`sensitivity_table`.

    Parameters
    ----------
    sens : pandas.DataFrame
        Output of :func:`sensitivity_table`.
    quantity : {"peak FLOP/s", "DRAM bandwidth"}
        Quantity.
    rule : str
        Precision rule (``"-"`` for DRAM bandwidth).
    row_set, window : str
        Row set and window name.

    Returns
    -------
    float
        Growth per 2 years. [x]

    Raises
    ------
    ValueError
        If no single row matches, naming the selection.
    """
    sel = sens[(sens["quantity"] == quantity) & (sens["rule"] == rule) & (sens["row_set"] == row_set)
               & (sens["window"] == window)]
    if len(sel) != 1:
        raise ValueError(f"{len(sel)} rows for quantity={quantity!r}, rule={rule!r}, row_set={row_set!r}, "
                         f"window={window!r}; expected 1")
    return float(sel["per_2_years"].iloc[0])


def compute_vs_bandwidth_cases(sens: pd.DataFrame) -> tuple[int, int]:
    """In how many (rule, row set, window) cases peak FLOP/s outgrows DRAM bandwidth.

    Parameters
    ----------
    sens : pandas.DataFrame
        Output of :func:`sensitivity_table`.

    Returns
    -------
    tuple of int
        ``(cases, cases where FLOP/s grows faster)``; each FLOPS row is paired with the DRAM row of
        the same row set and window.
    """
    flops = sens[sens["quantity"] == "peak FLOP/s"]
    bw = sens[sens["quantity"] == "DRAM bandwidth"][["row_set", "window", "per_2_years"]]
    paired = flops.merge(bw, on=["row_set", "window"], suffixes=("", "_bw"))
    return len(paired), int((paired["per_2_years"] > paired["per_2_years_bw"]).sum())
