"""Helpers the chapters use: glue numbers in display units, named devices, stacked series for fits.

Chapters are narrative plus calls into :mod:`memwall`; what they repeat lives here. Nothing here computes
physics: :func:`glue_number` converts an SI value to the unit the prose prints, :data:`H100` and friends
name rows of ``data/hardware.csv`` so that a chapter never retypes a device name, and
:func:`stack_series` builds the long table that the trend charts take (the fits drawn over it come from
:func:`memwall.wall.hardware_trends.fit_each`). :func:`glue_claim` glues a number that is also a claim
from the claims ledger, so that prose and reproduction report cannot disagree. Imported in a notebook kernel, it
makes the ids of charts and styled tables depend on their content (:func:`memwall.stable_ids.install`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from memwall import stable_ids, units

__all__ = ["A100", "B200", "CLAIM_VALUES", "DISPLAY_UNITS", "GAUDI3", "GLUED", "H100", "H100_PCIE", "H200", "K40",
           "MI300X", "MI355X", "TPU7X", "TPU_V5E", "V100", "XEON_GOLD_6242", "XEON_PHI_7290", "glue_claim",
           "glue_number", "glue_text", "in_unit", "in_units", "stack_series"]

stable_ids.install()  # in a notebook kernel: chart and table ids from their content, not random

H100 = "H100 SXM5 80GB (Hopper)"
"""NVIDIA H100 SXM5, the book's reference accelerator (row name in ``data/hardware.csv``)."""
H200 = "H200 SXM 141GB (Hopper)"
"""NVIDIA H200 SXM, the GPU of the stored measurement (row name in ``data/hardware.csv``)."""
A100 = "A100 SXM4 80GB (Ampere)"
"""NVIDIA A100 SXM4 80 GB (row name in ``data/hardware.csv``)."""
B200 = "B200 (HGX, Blackwell)"
"""NVIDIA B200 (row name in ``data/hardware.csv``)."""
H100_PCIE = "H100 PCIe 80GB (Hopper)"
"""NVIDIA H100 PCIe 80 GB (row name in ``data/hardware.csv``)."""
V100 = "Tesla V100 SXM2 16GB (Volta)"
"""NVIDIA Tesla V100 SXM2 16 GB (row name in ``data/hardware.csv``)."""
MI300X = "Instinct MI300X (CDNA3)"
"""AMD Instinct MI300X (row name in ``data/hardware.csv``)."""
MI355X = "Instinct MI355X (CDNA4)"
"""AMD Instinct MI355X (row name in ``data/hardware.csv``)."""
TPU_V5E = "Google TPU v5e"
"""Google Cloud TPU v5e (row name in ``data/hardware.csv``)."""
TPU7X = "Google TPU7x (Ironwood)"
"""Google TPU7x, Ironwood (row name in ``data/hardware.csv``)."""
GAUDI3 = "Gaudi 3"
"""Intel Gaudi 3 (row name in ``data/hardware.csv``)."""
K40 = "Tesla K40 (Kepler GK110B)"
"""NVIDIA Tesla K40 (row name in ``data/hardware.csv``)."""
XEON_PHI_7290 = "Xeon Phi 7290 (Knights Landing)"
"""Intel Xeon Phi 7290, Knights Landing (row name in ``data/hardware.csv``)."""
XEON_GOLD_6242 = "Xeon Gold 6242 (Cascade Lake, 16c 2.8 GHz)"
"""The survey's CPU (Kim et al. 2023, arXiv 2302.14017; row name in ``data/hardware.csv``)."""

DISPLAY_UNITS: dict[str, float] = {
    "1": 1.0, "%": 0.01,
    "s": 1.0, "ms": units.MS, "us": units.US,
    "B": 1.0, "kB": units.KB, "MB": units.MB, "GB": units.GB, "TB": units.TB,
    "KiB": units.KIB, "MiB": units.MIB, "GiB": units.GIB,
    "FLOP": 1.0, "GFLOP": units.GB, "TFLOP": units.TB,
    "FLOP/s": 1.0, "GFLOP/s": units.GB, "TFLOP/s": units.TB, "PFLOP/s": 1e15,
    "B/s": 1.0, "GB/s": units.GB, "TB/s": units.TB,
    "billion": 1e9,
}
"""Unit name -> value of one such unit in SI base units (s, B, FLOP, FLOP/s, B/s; "billion" for counts)."""


def in_unit(value: object, unit: str = "1") -> object:
    """An SI value (scalar, array or Series) expressed in ``unit``.

    Parameters
    ----------
    value : float, numpy.ndarray or pandas.Series
        Value in SI base units ([s], [B], [FLOP], [FLOP/s], [B/s]) or a plain number (``unit="1"``).
    unit : str
        One of :data:`DISPLAY_UNITS`.

    Returns
    -------
    same type as ``value``
        ``value / DISPLAY_UNITS[unit]``, computed as ``value * (1 / DISPLAY_UNITS[unit])`` for the units
        smaller than the base unit (ms, us, %): their inverses (1e3, 1e6, 100) are exact floats and 1e-3
        is not, so ``in_unit(t, "ms")`` is ``t * 1e3`` bit for bit, the correctly rounded value.

    Raises
    ------
    ValueError
        For an unknown unit, listing the allowed ones.

    Examples
    --------
    >>> in_unit(0.0125, "ms")
    12.5
    """
    if unit not in DISPLAY_UNITS:
        raise ValueError(f"unit={unit!r} is not known; allowed: {', '.join(DISPLAY_UNITS)}")
    if unit == "1":
        return value
    factor = DISPLAY_UNITS[unit]
    return value * (1 / factor) if factor < 1 else value / factor


def glue_number(key: str, value: object, unit: str = "1") -> None:
    """Glue ``value`` (in SI units) for the prose, converted to ``unit``, as a plain Python number.

    myst-nb formats a glued plain ``float``/``int`` with the role's format spec
    (``{glue:text}`key:.1f```); numpy scalars are turned into Python ones first.

    Parameters
    ----------
    key : str
        Glue name, unique in the chapter.
    value : float, int, bool, str or numpy scalar
        The value, in SI base units when ``unit`` is a unit.
    unit : str
        Display unit (:data:`DISPLAY_UNITS`); ``"1"`` glues the value as it is.

    Returns
    -------
    None
        Nothing, like ``glue(..., display=False)``: a cell that ends with the call displays no output.

    Raises
    ------
    ValueError
        For an unknown unit.
    """
    plain = in_unit(value, unit)
    _glue(key, plain.item() if hasattr(plain, "item") else plain)


def glue_text(key: str, value: object) -> None:
    """Glue ``str(value)`` for the prose (``{glue:text}`key```, no format spec).

    Parameters
    ----------
    key : str
        Glue name, unique in the chapter.
    value : object
        Anything; its ``str`` is glued.

    Returns
    -------
    None
        Nothing: a cell that ends with the call displays no output.
    """
    _glue(key, str(value))


GLUED: dict[str, object] = {}
"""Every value glued in this Python session, by key: what the prose of a chapter shows. Outside the book
(a downloaded notebook run with ``memwall`` installed but not myst-nb) this is where the values go."""


def _glue(key: str, value: object) -> None:
    """Record ``value`` under ``key`` in :data:`GLUED` and, when myst-nb is installed, glue it for the page."""
    GLUED[key] = value
    try:
        from myst_nb import glue  # imported here: the package works without myst-nb outside the book
    except ImportError:
        return
    glue(key, value, display=False)


def stack_series(series: Mapping[str, pd.DataFrame | tuple[pd.DataFrame, str]], *, value: str, date: str = "date",
                 name: str = "series", keep: Sequence[str] = ()) -> pd.DataFrame:
    """Stack several dated tables into one long table for a multi-series chart or fit.

    Parameters
    ----------
    series : mapping of str to pandas.DataFrame or (pandas.DataFrame, str)
        Label -> table with columns ``date`` and ``value`` (and those in ``keep``), or label ->
        ``(table, column)``: ``column`` of that table becomes the ``value`` column.
    value : str
        Column holding the value of each point.
    date : str
        Column holding the date of each point.
    name : str
        Name of the new label column.
    keep : sequence of str
        Further columns to carry over (missing ones are filled with NaN).

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``date``, ``value``, ``keep...``; rows in the order of ``series``, each
        table's rows in their own order; a fresh ``RangeIndex``.

    Raises
    ------
    ValueError
        If a table lacks the ``date`` or ``value`` column (or the named ``column``), naming the series;
        if ``date``, ``value`` and ``keep`` repeat a column, or ``name`` is one of them.

    Examples
    --------
    >>> a = pd.DataFrame({"date": pd.to_datetime(["2020-01-01"]), "tflops": [1.0]})
    >>> b = pd.DataFrame({"date": pd.to_datetime(["2021-01-01"]), "gbps": [2.0]})
    >>> stack_series({"compute": (a, "tflops"), "memory": (b, "gbps")}, value="v")["series"].tolist()
    ['compute', 'memory']
    """
    columns = [date, value, *keep]
    if len(set(columns)) < len(columns):
        raise ValueError(f"date, value and keep repeat a column: {columns}")
    if name in columns:
        raise ValueError(f"name={name!r} is also a column to keep; choose another label column")
    parts = []
    for label, entry in series.items():
        table, column = entry if isinstance(entry, tuple) else (entry, value)
        missing = [c for c in dict.fromkeys((date, column)) if c not in table.columns]
        if missing:
            raise ValueError(f"series {label!r} has no column(s) {', '.join(missing)}")
        part = table.reindex(columns=[date, *keep]).copy()
        part.insert(1, value, table[column].array)  # positional: the rows are the table's own
        part.insert(0, name, label)
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=[name, date, value, *keep])
    return pd.concat(parts, ignore_index=True)


_SI_SUFFIXES = ("_bytes_per_s", "_flop_per_s", "_bytes", "_flop", "_s")


def in_units(table: pd.DataFrame | pd.Series, units: Mapping[str, str]) -> pd.DataFrame | pd.Series:
    """A copy of a table (columns) or series (entries) with SI fields shown in display units.

    Each field named in ``units`` is converted with :func:`in_unit` and relabelled with its unit:
    ``stream_best_bytes_per_s`` shown in ``"GB/s"`` becomes ``stream_best [GB/s]``.

    Parameters
    ----------
    table : pandas.DataFrame or pandas.Series
        Values in SI base units.
    units : mapping of str to str
        Field -> display unit (:data:`DISPLAY_UNITS`).

    Returns
    -------
    same type as ``table``

    Raises
    ------
    ValueError
        For a field that is not in the table, or an unknown unit.

    Examples
    --------
    >>> in_units(pd.Series({"step_s": 0.004, "batch": 8}), {"step_s": "ms"}).to_dict()
    {'step [ms]': 4.0, 'batch': 8.0}
    """
    fields = table.index if isinstance(table, pd.Series) else table.columns
    missing = [f for f in units if f not in fields]
    if missing:
        raise ValueError(f"no field(s) {', '.join(missing)}; fields: {', '.join(map(str, fields))}")
    out = table.copy()
    names = {}
    for field, unit in units.items():
        out[field] = in_unit(table[field], unit)
        stem = next((field[: -len(s)] for s in _SI_SUFFIXES if field.endswith(s)), field)
        names[field] = f"{stem} [{unit}]"
    return out.rename(index=names) if isinstance(out, pd.Series) else out.rename(columns=names)


CLAIM_VALUES = ("ours_paper_data", "ours_extended", "paper_value")
"""Which value of a claims-ledger row :func:`glue_claim` glues."""


def glue_claim(key: str, claim_id: str, value: str = "ours_paper_data", unit: str = "1") -> None:
    """Glue a number that is also a claim of the ledger, from the ledger (so prose and report cannot disagree).

    Parameters
    ----------
    key : str
        Glue name, unique in the chapter.
    claim_id : str
        Id of a registered claim (:func:`memwall.claims.claim_ids`).
    value : {"ours_paper_data", "ours_extended", "paper_value"}
        Our value from the paper's own data, our value from the extended data, or the paper's value.
    unit : str
        Display unit (:data:`DISPLAY_UNITS`).

    Raises
    ------
    ValueError
        For an unknown claim id or ``value``, or a claim that is not numeric (a yes/no claim, NaN).
    """
    from memwall.claims import evaluate  # the ledger computes; this module only displays

    if value not in CLAIM_VALUES:
        raise ValueError(f"value={value!r} is not one of {', '.join(CLAIM_VALUES)}")
    row = evaluate(claim_id)
    number = row[value]
    if row["kind"] != "number" or isinstance(number, bool) or not isinstance(number, int | float) or number != number:
        raise ValueError(f"claim {claim_id!r} has no numeric {value} (got {number!r})")
    glue_number(key, float(number), unit=unit)
