"""Column rules shared by the table schemas: source URLs, confidence levels, positive numbers, dates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from memwall.tables.validation import ColumnRule, url_check, urls_check
from memwall.trends import decimal_year

__all__ = ["CONFIDENCE_LEVELS"]



CONFIDENCE_LEVELS = ("A", "B", "C")
"""A: seen in a primary or reliable source; B: derived or recalled, consistent; C: uncertain."""


def _one_of(values: tuple[str, ...] | list[str]) -> pa.Check:
    return pa.Check.isin(list(values), error=f"must be one of: {', '.join(values)}")


def _positive(unit: str) -> tuple[pa.Check, ...]:
    return (pa.Check.gt(0, error=f"must be > 0 [{unit}]"),
            pa.Check(lambda s: np.isfinite(s.astype(float)), error="must be finite"))


_SOURCE = ColumnRule("str", True, (url_check(),), "Primary source (datasheet or vendor page) of the row.")
_EXTRA = ColumnRule("str", False, (urls_check(),), "Further sources, space-separated URLs.")
_CONF = ColumnRule("str", True, (_one_of(CONFIDENCE_LEVELS),), "Confidence: A, B or C.")
_NOTES = ColumnRule("str", False, (), "Free text: assumptions, derivations, disagreements.")


def _with_dates(df: pd.DataFrame, column: str) -> pd.DataFrame:
    out = df.copy()
    text = out[column].where(out[column].str.len() == 10, out[column] + "-01")
    out["date"] = pd.to_datetime(text, format="%Y-%m-%d")
    out["year"] = decimal_year(out["date"])
    return out
_ROW_SOURCE = ColumnRule("str", True, (url_check(),), "Primary source of the row.")
_ERRATA_NOTES = ColumnRule("str", False, (), "Free text: errata, derivations.")
