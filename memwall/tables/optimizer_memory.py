"""The table ``optimizer_memory_published.csv``: memory figures the optimizers' own papers publish.

One row per printed figure: a state size per parameter (8-bit Adam's 2 B/param, ZeRO's 16 B/param for mixed-precision
Adam) or a memory saving measured on a named model (8-bit Adam's Table 1). They are the references of the claims of
the chapter "Lean optimizers and low-precision training" (:mod:`memwall.claims.lean_optimizers`), not our results.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from memwall.levers.optimizer_state import OPTIMIZER_NAMES, PRECISIONS
from memwall.tables.paper import _frame_check
from memwall.tables.paths import _path
from memwall.tables.rules import _ERRATA_NOTES, _ROW_SOURCE, CONFIDENCE_LEVELS, _one_of, _positive
from memwall.tables.validation import ColumnRule, _memoized, read_validated_csv

__all__ = ["OPTIMIZER_FIGURE_COUNTS", "OPTIMIZER_MEMORY_RULES", "load_optimizer_memory"]

OPTIMIZER_FIGURE_COUNTS = ("optimizer_state", "model_states")
"""What a figure counts: the optimizer's state alone, or weights + gradients + master + state."""

OPTIMIZER_MEMORY_RULES: dict[str, ColumnRule] = {
    "figure_id": ColumnRule("str", True, (), "Row id, unique."),
    "optimizer": ColumnRule("str", True, (_one_of(OPTIMIZER_NAMES),), "Optimizer (memwall name)."),
    "precision": ColumnRule("str", False, (_one_of(tuple(PRECISIONS)),), "Precision recipe, if the figure has one."),
    "compared_with": ColumnRule("str", False, (_one_of(OPTIMIZER_NAMES),), "Baseline of a saving (memwall name)."),
    "model": ColumnRule("str", False, (), "Model the figure was measured on, as the paper names it."),
    "n_params_billion": ColumnRule("float", False, _positive("1e9 params"), "Nominal size of that model [1e9 params]."),
    "counts": ColumnRule("str", True, (_one_of(OPTIMIZER_FIGURE_COUNTS),), "optimizer_state or model_states."),
    "bytes_per_param": ColumnRule("float", False, _positive("B/param"), "Published storage [B/param]."),
    "memory_saved_gb": ColumnRule("float", False, _positive("GB"), "Published saving against compared_with [GB]."),
    "printed": ColumnRule("str", True, (), "The figure as printed."),
    "location": ColumnRule("str", True, (), "Section, table or figure of the source."),
    "source_url": _ROW_SOURCE,
    "confidence": ColumnRule("str", True, (_one_of(CONFIDENCE_LEVELS),), "A, B or C."),
    "notes": _ERRATA_NOTES,
}


def _one_value(df: pd.DataFrame) -> pd.Series:
    return df["bytes_per_param"].notna() != df["memory_saved_gb"].notna()


def _saving_has_context(df: pd.DataFrame) -> pd.Series:
    saving = df["memory_saved_gb"].notna()
    return ~saving | (df["compared_with"].notna() & df["n_params_billion"].notna() & df["model"].notna())


@_memoized("optimizer_memory_published.csv")
def load_optimizer_memory(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``optimizer_memory_published.csv``: published optimizer-memory figures with their sources.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Table to read; default ``data_dir() / "optimizer_memory_published.csv"``.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`OPTIMIZER_MEMORY_RULES`, one row per figure, in file order.

    Raises
    ------
    memwall.tables.DataValidationError
        On a bad cell, a row with both or neither of ``bytes_per_param`` and ``memory_saved_gb``, or a saving
        without its baseline, model and model size.
    """
    return read_validated_csv(
        _path("optimizer_memory_published.csv", path), OPTIMIZER_MEMORY_RULES, key="figure_id", unique=["figure_id"],
        frame_checks=[
            _frame_check(_one_value, "give exactly one of bytes_per_param and memory_saved_gb"),
            _frame_check(_saving_has_context, "a memory_saved_gb needs compared_with, model and n_params_billion"),
        ],
    )
