"""Validation of a whole data folder (what ``memwall validate`` runs): every table's status, every problem.

Each table of the folder is checked, and each gets a truthful status even when a table it depends on failed:
``hardware.csv`` takes its ``memory_type`` vocabulary from ``memory_generations.csv``, ``onchip_memory.csv``
names devices of ``hardware.csv``, ``memory_tiers.csv`` devices of ``hardware.csv`` and links of
``interconnects.csv``, ``mlperf_llm_results.csv`` devices of ``hardware.csv`` and benchmarks of
``mlperf_llm_workloads.csv``. When such a table is invalid or missing, its dependents are still checked on
their own columns, every rule but the foreign key into it, and their status says so:

* ``ok``: every rule checked, foreign keys included;
* ``ok except foreign keys not checked (memory_generations.csv is invalid)``: its own columns are sound;
* ``INVALID`` or ``INVALID; foreign keys not checked (...)``: its own problems are listed;
* ``MISSING``: the file is not in the folder.

A dependency counts as usable when its own columns are sound (status ``ok`` or ``ok except ...``): the
dependent tables use its key and value columns, never its own foreign keys, so its frame is a function of its
own file. Each check is thus remembered by the content of its file and of the dependencies it was checked
against (:func:`memwall.tables.validation._memo_by_content`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from memwall.tables import (
    hardware,
    measurements,
    memory_tiers,
    mlperf,
    models,
    onchip,
    optimizer_memory,
    paper,
    pruning,
    recommendation,
)
from memwall.tables.paths import data_dir
from memwall.tables.validation import DataValidationError, _memo_by_content

__all__ = ["DataFolderError", "FolderReport", "TableStatus", "check_folder", "validate_folder"]

Frames = dict[str, "pd.DataFrame | None"]


@dataclass(frozen=True)
class TableStatus:
    """The outcome of one table's check.

    Attributes
    ----------
    table : str
        File name, e.g. ``hardware.csv``.
    rows : int
        Data rows read (0 when the table is invalid or missing).
    status : str
        ``ok``, ``ok except foreign keys not checked (...)``, ``INVALID`` (maybe with the same note) or ``MISSING``.
    problems : tuple of str
        Every problem found, each naming the file (and, for a cell, its line and column).
    """

    table: str
    rows: int
    status: str
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class FolderReport:
    """Every table's status in one data folder.

    Attributes
    ----------
    folder : pathlib.Path
        The folder checked.
    tables : tuple of TableStatus
        One per table, in dependency order (a table after those it depends on).
    """

    folder: Path
    tables: tuple[TableStatus, ...]

    @property
    def ok(self) -> bool:
        """Whether every table passed every rule."""
        return all(t.status == "ok" for t in self.tables)

    @property
    def problems(self) -> list[str]:
        """Every problem of every table, in table order."""
        return [p for t in self.tables for p in t.problems]

    def frame(self) -> pd.DataFrame:
        """The report as a table: columns ``table``, ``rows`` and ``status``."""
        return pd.DataFrame([{"table": t.table, "rows": t.rows, "status": t.status} for t in self.tables])


class DataFolderError(DataValidationError):
    """A data folder holds an invalid or missing table (or a status short of ``ok``).

    Attributes
    ----------
    problems : list of str
        Every problem of every table.
    tables : list of dict
        Per table: ``table``, ``rows``, ``status`` and ``problems`` (how many).
    report : FolderReport
        The full report.
    """

    def __init__(self, report: FolderReport):
        super().__init__(report.folder, report.problems)
        self.report = report
        self.tables = [{"table": t.table, "rows": t.rows, "status": t.status, "problems": len(t.problems)}
                       for t in report.tables]
        failed = sum(t.status != "ok" for t in report.tables)
        head = (f"{report.folder}: {len(self.problems)} problem(s); {failed} of {len(report.tables)} tables "
                "not fully valid")
        statuses = [f"{t.table}: {t.status} "
                    + (f"({len(t.problems)} problem(s))" if t.problems else f"({t.rows} rows)")
                    for t in report.tables]
        self.args = ("\n  ".join([head, *statuses, "problems:", *self.problems]),)


@dataclass(frozen=True)
class _Table:
    """One table: its file, its check (given the frames of its dependencies, None where unusable) and the tables
    it depends on."""

    name: str
    check: Callable[[Path, Frames], pd.DataFrame]
    depends: tuple[str, ...] = ()
    all_keys_or_none: bool = False  # True: one unusable dependency leaves every foreign key unchecked


def _own(load: Callable[[Path], pd.DataFrame]) -> Callable[[Path, Frames], pd.DataFrame]:
    return lambda path, deps: load(path)


def _hardware(path: Path, deps: Frames) -> pd.DataFrame:
    memory = deps["memory_generations.csv"]
    return hardware._read_hardware(path, None if memory is None else sorted(memory["name"]))


def _onchip(path: Path, deps: Frames) -> pd.DataFrame:
    return onchip._load(path, deps["hardware.csv"])


def _tiers(path: Path, deps: Frames) -> pd.DataFrame:
    return memory_tiers._load(path, deps["hardware.csv"], deps["interconnects.csv"])


def _mlperf_results(path: Path, deps: Frames) -> pd.DataFrame:
    """``mlperf_llm_results.csv`` against this folder's ``hardware.csv`` and workloads (None: that key not checked).

    The rules of :func:`memwall.tables.mlperf.load_mlperf_results` (:func:`memwall.tables.mlperf._read_results`).
    """
    devices, workloads = deps["hardware.csv"], deps["mlperf_llm_workloads.csv"]
    return mlperf._read_results(path, None if devices is None else sorted(devices["device"].astype(str)),
                                None if workloads is None else sorted(workloads["benchmark"].astype(str)))


def _example_config(path: Path, deps: Frames) -> pd.DataFrame:
    from memwall.specs.hf_config import load_config

    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    return pd.DataFrame([{"name": load_config(path).name}])


def _tables() -> tuple[_Table, ...]:
    from memwall.specs.hf_config import EXAMPLE_CONFIG

    return (
        _Table("memory_generations.csv", _own(hardware.load_memory_generations)),
        _Table("hardware.csv", _hardware, ("memory_generations.csv",)),
        _Table("interconnects.csv", _own(hardware.load_interconnects)),
        _Table("paper_hw_scaling_points.csv", _own(paper.load_paper_hw_points)),
        _Table("survey_case_study.csv", _own(paper.load_survey_case_study)),
        _Table("reference_measurements.csv", _own(measurements.load_reference_measurements)),
        _Table("models.csv", _own(models.load_models)),
        _Table("paper_model_points.csv", _own(paper.load_paper_model_points)),
        _Table("paper_training_memory.csv", _own(paper.load_paper_training_memory)),
        _Table("gpu_reference_measurements.csv", _own(measurements.load_gpu_reference)),
        _Table("pruning_results.csv", _own(pruning.load_pruning_results)),
        _Table("onchip_memory.csv", _onchip, ("hardware.csv",)),
        _Table("memory_tiers.csv", _tiers, ("hardware.csv", "interconnects.csv"), all_keys_or_none=True),
        _Table("recommendation_models.csv", _own(recommendation.load_recommendation_models)),
        _Table("optimizer_memory_published.csv", _own(optimizer_memory.load_optimizer_memory)),
        _Table("mlperf_llm_workloads.csv", _own(mlperf.load_mlperf_workloads)),
        _Table("mlperf_llm_results.csv", _mlperf_results, ("hardware.csv", "mlperf_llm_workloads.csv")),
        _Table(EXAMPLE_CONFIG, _example_config),
    )


def table_names() -> list[str]:
    """The files a data folder must hold, in the order :func:`check_folder` reports them."""
    return [t.name for t in _tables()]


def _named(name: str, problems: list[str]) -> tuple[str, ...]:
    return tuple(p if p.startswith(f"{name}:") else f"{name}: {p}" for p in problems)


def _check(table: _Table, folder: Path, frames: Frames,
           states: dict[str, str]) -> tuple[TableStatus, pd.DataFrame | None]:
    """One table's status and its frame (None when unusable by the tables that depend on it)."""
    unusable = [d for d in table.depends if frames.get(d) is None]
    deps: Frames = {d: None if (unusable and table.all_keys_or_none) else frames.get(d) for d in table.depends}
    skipped = [d for d in table.depends if deps[d] is None]
    note = ""
    if skipped:
        why = ", ".join(f"{d} is {states[d]}" for d in unusable)
        note = (f"foreign keys not checked ({why})" if skipped == unusable
                else f"foreign keys into {', '.join(skipped)} not checked ({why})")
    path = folder / table.name
    try:
        if table.depends:  # remembered by its content and that of the dependencies it was checked against
            used = [d for d in table.depends if deps[d] is not None]
            frame = _memo_by_content(f"folder_check:{table.name}:{','.join(used)}",
                                     [path, *(folder / d for d in used)], lambda: table.check(path, deps))
        else:
            frame = table.check(path, deps)
    except FileNotFoundError as err:
        return TableStatus(table.name, 0, "MISSING", _named(table.name, [str(err)])), None
    except DataValidationError as err:
        status = f"INVALID; {note}" if note else "INVALID"
        return TableStatus(table.name, 0, status, _named(table.name, err.problems)), None
    except (ValueError, OSError) as err:
        status = f"INVALID; {note}" if note else "INVALID"
        return TableStatus(table.name, 0, status, _named(table.name, [str(err)])), None
    return TableStatus(table.name, len(frame), f"ok except {note}" if note else "ok"), frame


def check_folder(folder: str | Path | None = None) -> FolderReport:
    """Check every table of a data folder, each with a truthful status whatever else failed.

    Parameters
    ----------
    folder : str or pathlib.Path, optional
        Folder of tables; default :func:`memwall.tables.data_dir`.

    Returns
    -------
    FolderReport
        Every table's rows, status and problems (see the module's documentation for the statuses).

    Raises
    ------
    FileNotFoundError
        If ``folder`` is not a folder (a missing table is reported, not raised).
    """
    root = Path(folder) if folder is not None else data_dir()
    if not root.is_dir():
        raise FileNotFoundError(f"data folder not found: {root}")
    frames: Frames = {}
    states: dict[str, str] = {}
    rows = []
    for table in _tables():
        status, frames[table.name] = _check(table, root, frames, states)
        states[table.name] = "missing" if status.status == "MISSING" else "invalid"
        rows.append(status)
    return FolderReport(root, tuple(rows))


def validate_folder(folder: str | Path | None = None) -> FolderReport:
    """Check every table of a data folder (:func:`check_folder`) and raise unless every one is fully valid.

    Parameters
    ----------
    folder : str or pathlib.Path, optional
        Folder of tables; default :func:`memwall.tables.data_dir`.

    Returns
    -------
    FolderReport
        The report, every status ``ok``.

    Raises
    ------
    DataFolderError
        If a table is invalid or missing, or was checked without its foreign keys; its ``problems`` list every
        problem of every table and its ``tables`` every table's status.
    FileNotFoundError
        If ``folder`` is not a folder.
    """
    report = check_folder(folder)
    if not report.ok:
        raise DataFolderError(report)
    return report
