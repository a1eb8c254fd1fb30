"""The model table ``models.csv``: parameter counts (dense, MoE total and active), dates and sources."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from memwall.tables.paper import _frame_check
from memwall.tables.paths import _path
from memwall.tables.rules import _ERRATA_NOTES, _ROW_SOURCE, CONFIDENCE_LEVELS, _one_of, _positive, _with_dates
from memwall.tables.validation import ColumnRule, _memoized, date_check, read_validated_csv

__all__ = ["ARCHITECTURES", "MODEL_RULES", "load_models"]



ARCHITECTURES = ("dense", "moe")


MODEL_RULES: dict[str, ColumnRule] = {
    "name": ColumnRule("str", True, (), "Model name, unique."),
    "organization": ColumnRule("str", True, (), "Developer."),
    "date": ColumnRule("str", True, (date_check(2012, 2025),), "Announcement or release, YYYY-MM[-DD]."),
    "architecture": ColumnRule("str", True, (_one_of(ARCHITECTURES),), "dense or moe."),
    "total_params_billion": ColumnRule("float", True, _positive("1e9 params"), "All parameters [1e9 params]."),
    "active_params_billion": ColumnRule("float", False, _positive("1e9 params"),
                                        "Parameters used per token [1e9 params]; = total for dense."),
    "training_tokens_billion": ColumnRule("float", False, _positive("1e9 tokens"),
                                          "Pre-training tokens, if published [1e9 tokens]."),
    "training_flop": ColumnRule("float", False, _positive("FLOP"), "Published training compute [FLOP]."),
    "source_url": _ROW_SOURCE,
    "confidence": ColumnRule("str", True, (_one_of(CONFIDENCE_LEVELS),), "A, B or C."),
    "notes": _ERRATA_NOTES,
}


def _active_consistent(df: pd.DataFrame) -> pd.Series:
    dense = df["architecture"].eq("dense")
    same = (df["active_params_billion"] - df["total_params_billion"]).abs() <= 1e-9
    return ~dense | same


def _active_not_above_total(df: pd.DataFrame) -> pd.Series:
    return df["active_params_billion"].isna() | (df["active_params_billion"] <= df["total_params_billion"])


@_memoized("models.csv")
def load_models(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``models.csv``: notable language models with total and active parameter counts.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Table to read; default ``data_dir() / "models.csv"``.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`MODEL_RULES` (text date kept as ``date_text``), plus ``date``, ``year``
        and ``training_flop_6nd`` = 6 · active params · tokens [FLOP] (Kaplan et al. 2020,
        arXiv 2001.08361, §2.1), an estimate, never a published figure; NaN without a token count.
        Sorted by date.

    Raises
    ------
    memwall.tables.DataValidationError
        On a bad row, a dense model whose active count differs from its total, or an active count
        above the total.
    """
    df = read_validated_csv(
        _path("models.csv", path), MODEL_RULES, key="name", unique=["name"],
        frame_checks=[
            _frame_check(_active_consistent, "dense models need active_params_billion = total_params_billion"),
            _frame_check(_active_not_above_total, "active_params_billion must not exceed total_params_billion"),
        ],
    )
    df = _with_dates(df.rename(columns={"date": "date_text"}), "date_text")
    df["training_flop_6nd"] = 6.0 * df["active_params_billion"] * 1e9 * df["training_tokens_billion"] * 1e9
    return df.sort_values(["date", "name"], kind="stable").reset_index(drop=True)
