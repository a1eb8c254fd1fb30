"""Validated loading of the book's CSV tables.

Every table in ``data/`` is read through :func:`read_validated_csv`, which checks it in four stages:

1. *text*: UTF-8, one record per line, balanced quotes, no control characters, the header's width
   (:mod:`memwall.tables.strict_csv`);
2. *cells*: no ``nan``/``inf`` text, no padded cells, numbers written in plain ASCII decimal notation;
3. *types*: the expected columns are present (no unknown ones) and every cell parses as its
   column's type (a pandera schema);
4. *values*: ranges, allowed vocabularies, date formats, URLs, uniqueness and per-table rules.

Any failure raises :class:`DataValidationError`, whose message names the file, the CSV line, the
row's key (e.g. the device), the column and the reason, one line per problem. Nothing is dropped
or clipped.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from memwall.tables.paths import _path
from memwall.tables.strict_csv import read_table_text

__all__ = ["ColumnRule", "DataValidationError", "date_check", "read_validated_csv", "url_check", "urls_check"]


_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?\Z")
_URL_RE = re.compile(r"^https?://(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}(?::[0-9]+)?"
                     r"(?:[/?#]\S*)?\Z")
"""An http(s) URL: a host with a dot and a top-level domain of letters, then a path, query, fragment or nothing."""

_NUMBER_RE = {"float": re.compile(r"^-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?\Z"), "int": re.compile(r"^-?[0-9]+\Z")}
"""Plain ASCII decimal notation, checked before typing (Python's ``float`` also reads ``1_555``, ``+5``, ``１５``)."""

_NUMBER_HELP = {
    "float": "is not a number; got {!r} (write ASCII digits 0-9 with an optional leading '-', decimal point and "
             "exponent, as 1555, -0.5 or 1.2e3: no '+', '_', spaces, thousands separators, hex or other digits)",
    "int": "is not an integer; got {!r} (write ASCII digits 0-9 with an optional leading '-': no '+', '_', "
           "spaces, thousands separators, decimal point, exponent or other digits)",
}


class DataValidationError(ValueError):
    """A data table broke its schema.

    Attributes
    ----------
    problems : list of str
        One human-readable line per failing cell or rule: file, line, row key, column, reason.
    """

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        head = f"{path}: {len(problems)} problem(s) found by validation"
        super().__init__("\n  ".join([head, *problems]))


@dataclass(frozen=True)
class ColumnRule:
    """How one CSV column is typed and checked.

    Parameters
    ----------
    dtype : {"str", "float", "int"}
        Type every non-empty cell must parse as.
    required : bool
        Whether an empty cell is an error.
    checks : tuple of pandera.Check
        Value checks applied after typing (ranges, vocabularies, formats).
    description : str
        Meaning and unit, used by the data dictionary test.
    """

    dtype: str
    required: bool = False
    checks: tuple[pa.Check, ...] = ()
    description: str = ""


def _is_date(value: object, first_year: int, last_year: int) -> bool:
    if not isinstance(value, str) or not _DATE_RE.match(value):
        return False
    fmt = "%Y-%m-%d" if len(value) == 10 else "%Y-%m"
    try:
        parsed = pd.to_datetime(value, format=fmt)
    except (ValueError, TypeError):
        return False
    return first_year <= parsed.year <= last_year


def date_check(first_year: int = 1940, last_year: int | None = None) -> pa.Check:
    """Check that a cell is a real calendar date written ``YYYY-MM`` or ``YYYY-MM-DD`` in a plausible range.

    Parameters
    ----------
    first_year : int
        Earliest allowed year.
    last_year : int, optional
        Latest allowed year; default two years after today (announced products may be listed).
    """
    last = last_year if last_year is not None else datetime.date.today().year + 2
    return pa.Check(
        lambda s: s.map(lambda v: _is_date(v, first_year, last)), element_wise=False,
        error=f"must be a date written YYYY-MM or YYYY-MM-DD, between {first_year} and {last}",
    )


def url_check() -> pa.Check:
    """Check that a cell is one http(s) URL: a host with a dot and a letters-only top-level domain, then a path,
    query, fragment or nothing; no spaces (a URL cut off inside its host, ``https://www``, fails)."""
    return pa.Check(lambda s: s.map(lambda v: bool(_URL_RE.match(str(v)))),
                    error="must be one http(s):// URL with a host such as www.example.com")


def urls_check() -> pa.Check:
    """Check that a cell is one or more http(s) URLs (as :func:`url_check`) separated by single spaces."""
    return pa.Check(
        lambda s: s.map(lambda v: all(_URL_RE.match(u) for u in str(v).split(" "))),
        error="must be http(s):// URLs separated by single spaces",
    )


def _schema(rules: Mapping[str, ColumnRule], *, stage: str, unique: list[str] | None,
            frame_checks: list[pa.Check]) -> pa.DataFrameSchema:
    dtypes = {"str": str, "float": float, "int": "Int64"}
    columns = {}
    for name, rule in rules.items():
        if rule.dtype not in dtypes:
            raise ValueError(f"column {name!r}: unknown dtype {rule.dtype!r}; allowed: {sorted(dtypes)}")
        columns[name] = pa.Column(
            dtypes[rule.dtype],
            nullable=True if stage == "types" else not rule.required,
            coerce=True,
            checks=list(rule.checks) if stage == "values" else [],
            required=True,
        )
    return pa.DataFrameSchema(
        columns,
        strict=True,
        ordered=False,
        unique=unique if stage == "values" else None,
        report_duplicates="all",
        checks=frame_checks if stage == "values" else [],
    )


_REASONS: dict[str, Callable[[str], str]] = {
    "not_nullable": lambda c: "is empty but required",
    "column_in_schema": lambda c: "is not a known column (see data/README.md)",
    "column_in_dataframe": lambda c: "is missing from the header",
    "multiple_fields_uniqueness": lambda c: "duplicate value (must be unique)",
    "field_uniqueness": lambda c: "duplicate value (must be unique)",
}

_NOT_A_VALUE = re.compile(r"^\s*[-+]?(nan|inf|infinity|none|null|n/?a)\s*$", re.IGNORECASE)


class _Where:
    def __init__(self, raw: pd.DataFrame, key: str | None, lines: list[int]):
        self.raw, self.key, self.lines = raw, key, lines

    def line(self, index: object) -> int:
        if index is None or pd.isna(index):
            return 0
        i = int(index)
        return self.lines[i] if i < len(self.lines) else i + 2

    def __call__(self, index: object) -> str:
        if index is None or pd.isna(index):
            return ""
        i = int(index)
        row_key = f", {self.key}={self.raw.loc[i, self.key]!r}" if self.key and self.key in self.raw.columns else ""
        return f"line {self.line(index)} (data row {i + 1}{row_key}), "


def _describe(path: Path, failures: pd.DataFrame, where: _Where) -> list[str]:
    problems: list[tuple[int, str]] = []
    seen: set[tuple[object, object]] = set()
    for _, f in failures.iterrows():
        column = f["column"] if isinstance(f["column"], str) else None
        index = f["index"]
        check = str(f["check"])
        name = check.split("(")[0]
        if name in ("column_in_schema", "column_in_dataframe"):
            column = str(f["failure_case"])
        whole_row = f["schema_context"] == "DataFrameSchema" and name not in _REASONS
        slot = ("<row>" if whole_row else column, index)
        if slot in seen and index is not None and not pd.isna(index):
            continue
        seen.add(slot)
        if whole_row:  # a rule over several columns: one line per row, the rule names the columns
            problems.append((where.line(index), f"{path.name}: {where(index)}{check}"))
            continue
        if name in _REASONS:
            text = _REASONS[name](check)
        elif name in ("coerce_dtype", "dtype"):
            wanted = check.split("(")[1].rstrip(")").strip("'")
            text = "is not a number" if wanted.startswith("float") else (
                "is not an integer" if wanted.lower().startswith("int") else f"cannot be read as {wanted}")
        else:
            text = check
        value = f["failure_case"]
        shown = "" if name in ("column_in_schema", "column_in_dataframe") else f"; got {value!r}"
        problems.append((where.line(index), f"{path.name}: {where(index)}column {column!r}: {text}{shown}"))
    return [text for _, text in sorted(problems, key=lambda p: p[0])]


def _cell_problems(path: Path, raw: pd.DataFrame, rules: Mapping[str, ColumnRule], where: _Where) -> list[str]:
    """Text that pandas or Python would silently read as a value: 'nan', 'inf', padded strings, and numbers not
    written in plain ASCII decimal notation ('1_555', '+5', '1,555', '0x1F', full-width or Arabic-Indic digits)."""
    problems = []
    for column in raw.columns:
        if column not in rules:
            continue
        dtype = rules[column].dtype
        cells = raw[column].dropna()
        for i, value in cells.items():
            if dtype != "str" and _NOT_A_VALUE.match(value):
                problems.append(f"{path.name}: {where(i)}column {column!r}: is not a finite number "
                                f"(leave the cell empty if unknown); got {value!r}")
            elif value != value.strip():
                problems.append(f"{path.name}: {where(i)}column {column!r}: has leading or trailing spaces; "
                                f"got {value!r}")
            elif dtype in _NUMBER_RE and not _NUMBER_RE[dtype].match(value):
                problems.append(f"{path.name}: {where(i)}column {column!r}: {_NUMBER_HELP[dtype].format(value)}")
    return problems


_MEMO: dict[tuple[object, ...], pd.DataFrame] = {}
_MEMO_SIZE = 64


def _memo_by_content(name: str, files: Sequence[Path], load: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """``load()``, computed once per process for each content of ``files``; every call gets its own copy.

    A loader's table depends only on the bytes of the files it reads, not on where they lie, so a table
    validated once need not be validated again while those bytes are unchanged (the book and the tests load
    ``hardware.csv`` dozens of times, and copies of it). The key is the files' SHA-256 digests, not their
    modification times, so a file rewritten within one clock tick is still read afresh. Failures are not
    remembered: a bad table raises on every call (its message names its own path), and a missing or
    unreadable file is left to ``load`` to report.
    """
    try:
        key = (name, *(hashlib.sha256(Path(f).read_bytes()).digest() for f in files))
    except OSError:
        return load()
    table = _MEMO.pop(key, None)  # popped and put back: the least recently used table is dropped first
    if table is None:
        table = load()
        if len(_MEMO) >= _MEMO_SIZE:
            del _MEMO[next(iter(_MEMO))]
    _MEMO[key] = table
    return table.copy()


def _memoized(filename: str) -> Callable[[Callable[[Path], pd.DataFrame]], Callable[..., pd.DataFrame]]:
    """Decorator for the loader ``load(path=None)`` of one table: :func:`_memo_by_content` of the file it reads.

    ``path`` defaults to ``data_dir() / filename`` and is resolved before the lookup, so a change of
    ``$MEMWALL_DATA_DIR`` reads the other folder's table.
    """

    def decorate(load: Callable[[Path], pd.DataFrame]) -> Callable[..., pd.DataFrame]:
        @functools.wraps(load)
        def loader(path: str | Path | None = None) -> pd.DataFrame:
            resolved = _path(filename, path)
            return _memo_by_content(load.__name__, [resolved], lambda: load(resolved))

        return loader

    return decorate


def read_validated_csv(
    path: str | Path,
    rules: Mapping[str, ColumnRule],
    *,
    key: str | None = None,
    unique: list[str] | None = None,
    frame_checks: list[pa.Check] | None = None,
    min_rows: int = 1,
) -> pd.DataFrame:
    """Read a CSV table and validate it against column rules.

    Parameters
    ----------
    path : str or pathlib.Path
        CSV file with a header row.
    rules : mapping of str to ColumnRule
        Every allowed column, with its type and checks; the file must have exactly these columns.
    key : str, optional
        Column that identifies a row in error messages (e.g. ``"device"``).
    unique : list of str, optional
        Columns whose combined values must be unique.
    frame_checks : list of pandera.Check, optional
        Whole-table rules (e.g. "a direction is given iff a bandwidth is").
    min_rows : int
        Fewest data rows the table may have.

    Returns
    -------
    pandas.DataFrame
        The typed table, columns in file order, index 0..n-1.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    DataValidationError
        If the text breaks the conventions of :mod:`memwall.tables.strict_csv` (a byte that is not UTF-8, a
        byte-order mark, a stray or unclosed quote, a control character in a cell, a record whose width
        differs from the header's, a last line without its line break), the file has too few rows, a
        missing or unknown column, a number not written in plain ASCII decimal notation, a cell that fails
        its type or value checks (including ``nan``/``inf`` text and padded strings), or breaks a table
        rule; the message names file, line, row key, column and reason for every failure, sorted by line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data table not found: {path}")
    text = read_table_text(path, key)
    if text.problems:
        raise DataValidationError(path, text.problems)
    raw = pd.DataFrame(text.records, columns=text.header, dtype=object)
    raw = raw.mask(raw == "")  # an empty cell is a missing value, as pandas' reader makes it
    lines = text.lines
    if len(raw) < min_rows:
        raise DataValidationError(path, [f"{path.name}: has {len(raw)} data rows; at least {min_rows} needed"])
    where = _Where(raw, key, lines)
    cell_problems = _cell_problems(path, raw, rules, where)
    if cell_problems:
        raise DataValidationError(path, cell_problems)
    table = raw
    for stage in ("types", "values"):
        schema = _schema(rules, stage=stage, unique=unique, frame_checks=frame_checks or [])
        try:
            table = schema.validate(table, lazy=True)
        except SchemaErrors as err:
            raise DataValidationError(path, _describe(path, err.failure_cases, where)) from None
    return table
