"""Printing a command's result (table, CSV or JSON) and checking that its numbers are finite.

The three formats agree: an infinite number is ``inf`` (``-inf``) in the table and the CSV and the string
``"inf"`` (``"-inf"``) in JSON, never ``null``; a missing value (``None``, NaN) is ``NaN`` in the table, an
empty CSV cell and ``null`` in JSON. Only the columns of :data:`MAY_BE_INFINITE` may hold an infinity (a
critical batch that is never reached, the doubling time of a series that does not grow); any other
infinity in a result is an input error (:func:`check_finite`), so that the command line never prints an
overflowed number as if it were an answer.

A result is a pandas DataFrame or a list of dicts (:data:`memwall.cli.commands.Rows`, for the commands
that run without pandas); pandas is imported only for a DataFrame.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from memwall.cli.errors import CliError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MAY_BE_INFINITE", "check_finite", "emit", "records"]

MAY_BE_INFINITE = frozenset({"critical_batch_closed_form", "critical_batch_step", "doubling_time_years"})
"""Result columns where ``inf`` is a meaningful answer (``never``)."""


def _is_float(value: Any) -> bool:
    return isinstance(value, float | np.floating)


def _json_value(value: Any) -> Any:
    if value is None:
        return None
    if _is_float(value):
        value = float(value)
        if math.isnan(value):
            return None
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else value
    if isinstance(value, np.generic):
        return value.item()
    return value


def _cell(value: Any, fmt: str) -> Any:
    missing = value is None or (_is_float(value) and math.isnan(value))
    if fmt == "json":
        return _json_value(value)
    if fmt == "csv":
        return "" if missing else value
    if missing:
        return "NaN"
    return f"{value:.6g}" if _is_float(value) else str(value)


def _emit_rows(rows: list[dict[str, Any]], fmt: str) -> str:
    """Rows printed like pandas would (table: floats with 6 significant digits)."""
    columns = list(rows[0]) if rows else []
    if fmt == "json":
        return json.dumps([{c: _cell(r[c], fmt) for c in columns} for r in rows], indent=2, allow_nan=False) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_cell(r[c], fmt) for c in columns] for r in rows)
        return out.getvalue()
    cells = [[_cell(r[c], fmt) for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    lines = [" ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in [columns, *cells]]
    return "\n".join(lines) + "\n"


def _inf_as_text(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every infinite float as the string ``"inf"`` or ``"-inf"`` (for JSON)."""
    out = df
    for column in df.columns:
        values = df[column]
        if values.dtype.kind == "f" and np.isinf(values.to_numpy()).any():
            out = out.copy() if out is df else out
            out[column] = values.astype(object).where(~np.isinf(values), np.where(values > 0, "inf", "-inf"))
    return out


def emit(result: pd.DataFrame | list[dict[str, Any]], fmt: str) -> str:
    """A command's result as text in ``fmt`` (``table``, ``csv`` or ``json``)."""
    if isinstance(result, list):
        return _emit_rows(result, fmt)
    import pandas as pd

    if fmt == "csv":
        return result.to_csv(index=False)
    if fmt == "json":
        return _inf_as_text(result).to_json(orient="records", indent=2, double_precision=15) + "\n"
    with pd.option_context("display.width", 200, "display.max_columns", 50, "display.float_format", "{:.6g}".format):
        return result.to_string(index=False) + "\n"


def records(result: pd.DataFrame | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A result as JSON-ready records (infinities as ``"inf"``, missing values as ``None``)."""
    return json.loads(emit(result, "json"))


def check_finite(result: pd.DataFrame | list[dict[str, Any]], *, nan: bool = False) -> None:
    """Refuse a result with an infinite number outside :data:`MAY_BE_INFINITE` (with ``nan``, a NaN anywhere).

    Parameters
    ----------
    result : pandas.DataFrame or list of dict
        A command's result.
    nan : bool
        Refuse NaN too (for a result where every number is computed, none missing).

    Raises
    ------
    memwall.cli.errors.CliError
        Naming the column, the row and the value.
    """
    def wrong(column: str, values: np.ndarray) -> np.ndarray:
        out = np.isinf(values) & (column not in MAY_BE_INFINITE)
        return out | np.isnan(values) if nan else out

    bad = None
    if isinstance(result, list):
        cells = ((i, c, v) for i, row in enumerate(result) for c, v in row.items())
        bad = next(((i, c, v) for i, c, v in cells if _is_float(v) and wrong(c, np.float64(v))), None)
    else:
        for column in result.columns:
            values = result[column].to_numpy()
            if values.dtype.kind == "f" and wrong(column, values).any():
                i = int(np.flatnonzero(wrong(column, values))[0])
                bad = (i, column, values[i])
                break
    if bad is not None:
        i, column, value = bad
        raise CliError(f"the result is not finite: {column} = {float(value)} in row {i + 1}; the inputs are beyond "
                       "what this model computes in floating point (smaller values of the options would do)")
