"""Tables for readers, not data frames: human headers with units, one number format per column, words for flags.

Every table the book shows goes through :func:`reader_table`. It takes a tidy :class:`pandas.DataFrame` and a
mapping from column name to :class:`Column` (header, unit, significant digits, kind), in the order the
reader should see them, most important first. The result renders as one HTML ``<table class="reader-table">``
per group of columns: a table wider than the article (:data:`ARTICLE_WIDTH_PX`, estimated from the text
of its cells) is split into several, each repeating the first (key) column. Every cell carries its
column's header as ``data-label``, so that on a phone the book's style sheet can stack each row into a card
of "header: value" lines instead of cutting the table; a table estimated to fit the phone's column
(:data:`PHONE_WIDTH_PX`) is marked ``narrow`` and stays a table there.

Numbers: thousands separators, ``digits`` significant digits without ever rounding digits left of the decimal
point away (1,326 stays 1,326, 506.0 prints 506), trailing zeros kept so that every nonzero number of a column
shows the same precision (2.00, 2.42, 2.70 with 3 digits; a column of datasheet values sets
``trailing_zeros=False`` and prints 4.8 as 4.8, 80.0 as 80); ``—`` for a missing value, ``∞`` for an infinite
one; booleans become words (``yes`` / ``no`` or the column's own). :func:`transposed_table` puts a few items
side by side, one row per quantity, each row printed by its own :class:`Column`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

__all__ = ["ARTICLE_WIDTH_PX", "PHONE_WIDTH_PX", "Column", "ReaderTable", "format_number", "reader_table",
           "transposed_table"]

ARTICLE_WIDTH_PX = 784
"""Width of the article column of the book's theme at 1400 px [px]: the content box of sphinx-book-theme's
``article.bd-article``, measured in Chromium (tests/test_site_readable.py checks every table against it)."""

PHONE_WIDTH_PX = 358
"""Width of the article column on a 390 px phone [px]: a table (group) estimated to fit it stays a table there;
wider ones become cards of "header: value" lines (``memwall.css``)."""

_CHAR_PX = 7.6
"""Mean width of a character of the table font (14 px sans-serif) [px]; used to estimate a column's width."""
_CELL_PAD_PX = 18
"""Horizontal padding and border of a cell [px]."""
_HEADER_WRAP_CHARS = 12
"""A header wraps at blanks, so it claims the width of its longest word or this many characters."""
_TEXT_WRAP_CHARS = 32
"""A text cell wraps at blanks too: it claims the width of its longest word or this many characters."""

_PHONE_NAME_WRAP_CHARS = 14
"""On a phone, the quantity names of a :func:`transposed_table` may wrap this narrow (a few words a line)."""

Kind = Literal["number", "integer", "text", "flag"]
KINDS: tuple[str, ...] = ("number", "integer", "text", "flag")


@dataclass(frozen=True)
class Column:
    """How one column of a :func:`reader_table` is headed and printed.

    Parameters
    ----------
    header : str
        The reader's name of the column, without the unit ("Growth per 2 years").
    unit : str
        Unit, printed in brackets after the header ("x" gives "Growth per 2 years [x]"); empty for none.
    digits : int
        Significant digits of a ``"number"`` column (1 to 15); digits left of the decimal point are never
        rounded away.
    kind : {"number", "integer", "text", "flag"}, optional
        Omitted, read from the column's dtype (bool: flag, integer: integer, other numbers: number, else
        text). ``"integer"`` prints whole numbers with separators (and refuses a fractional value), ``"flag"``
        prints ``words`` for True / False, ``"text"`` prints the value as it is.
    words : tuple of str
        The words of a ``"flag"`` column for True and for False.
    trailing_zeros : bool
        Keep the zeros that make up ``digits`` significant digits (2.70, 0.500), so that every number of the
        column shows the same precision; False for values quoted as given (a datasheet's 4.8 TB/s). A number
        with ``digits`` or more digits left of the point prints without one either way (506, 1,326).

    Raises
    ------
    ValueError
        For an empty header, an unknown kind or ``digits`` outside 1..15.
    """

    header: str
    unit: str = ""
    digits: int = 3
    kind: Kind | None = None
    words: tuple[str, str] = ("yes", "no")
    trailing_zeros: bool = True

    def __post_init__(self) -> None:
        if not str(self.header).strip():
            raise ValueError("Column: header must not be empty")
        if self.kind is not None and self.kind not in KINDS:
            raise ValueError(f"Column {self.header!r}: kind={self.kind!r} is not one of {', '.join(KINDS)}")
        if isinstance(self.digits, bool) or not isinstance(self.digits, int) or not 1 <= self.digits <= 15:
            raise ValueError(f"Column {self.header!r}: digits={self.digits!r} must be an integer from 1 to 15")

    @property
    def title(self) -> str:
        """Header with the unit in brackets."""
        return f"{self.header} [{self.unit}]" if self.unit else self.header


def format_number(value: float, digits: int = 3, *, trailing_zeros: bool = False) -> str:
    """``value`` with ``digits`` significant digits and thousands separators (1,326; 22.4; 0.0125; 3.2e-07).

    Parameters
    ----------
    value : float
        The number (NaN gives ``—``, infinities ``∞`` / ``−∞``).
    digits : int
        Significant digits (1 to 15); digits left of the decimal point are kept.
    trailing_zeros : bool
        Keep the zeros after the point that make up ``digits`` significant digits (2.70 rather than 2.7,
        0.500 rather than 0.5); a number with ``digits`` or more digits left of the point prints without one
        either way (506, 1,326). Off here, for prose and the claims ledger; a table :class:`Column` has it on.

    Returns
    -------
    str
        Fixed-point text for ``1e-4 <= |value| < 1e15`` once rounded, ``d.dde±XX`` otherwise; trailing zeros after
        the point only with ``trailing_zeros``.

    Raises
    ------
    ValueError
        For ``digits`` outside 1..15 or a boolean ``value``.
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 15:
        raise ValueError(f"format_number: digits={digits!r} must be an integer from 1 to 15")
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"format_number: value={value!r} is a flag, not a number")
    x = float(value)
    if math.isnan(x):
        return "—"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    magnitude = int(f"{x:.{digits - 1}e}".split("e")[1])  # of the rounded value: 9.9996e-05 is 1.00e-04, fixed
    if magnitude < -4 or magnitude >= 15:
        mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
        if "." in mantissa and not trailing_zeros:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent):+03d}"
    decimals = max(0, digits - 1 - magnitude)  # the magnitude after rounding: 9.996 prints 10.0, not 10.00
    text = f"{round(x, decimals):,.{decimals}f}"
    if "." in text and not trailing_zeros:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _kind_of(series: pd.Series) -> Kind:
    if pd.api.types.is_bool_dtype(series):
        return "flag"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    return "text"


def _cell(value: object, column: Column, name: str, row: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "—"
    if column.kind == "text":
        return str(value)
    if column.kind == "flag":
        if not isinstance(value, bool | np.bool_):
            raise ValueError(f"reader_table: column {name!r} is a flag column but row {row} holds {value!r}")
        return column.words[0] if value else column.words[1]
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"reader_table: column {name!r} is a {column.kind} column but row {row} holds {value!r}")
    if column.kind == "integer":
        if isinstance(value, float | np.floating) and math.isfinite(value) and not float(value).is_integer():
            raise ValueError(f"reader_table: column {name!r} is an integer column but row {row} holds {value!r}")
        if isinstance(value, float | np.floating) and not math.isfinite(value):
            return format_number(value)
        return f"{int(value):,}"
    return format_number(float(value), column.digits, trailing_zeros=column.trailing_zeros)


def _wrapped_chars(text: str, wrap: int) -> int:
    longest_word = max((len(w) for w in text.split()), default=0)
    return min(len(text), max(longest_word, wrap))


def _width_px(title: str, cells: Sequence[str], *, text: bool) -> float:
    header_chars = _wrapped_chars(title, _HEADER_WRAP_CHARS)
    chars = max([header_chars, *(_wrapped_chars(c, _TEXT_WRAP_CHARS) if text else len(c) for c in cells)])
    return chars * _CHAR_PX + _CELL_PAD_PX


@dataclass(frozen=True)
class ReaderTable:
    """A formatted table: its titles, its cell texts (row by row) and the column groups it is split into.

    Displayed in a notebook (``_repr_html_``) it is one ``<table class="reader-table">`` per group.
    """

    titles: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    groups: tuple[tuple[int, ...], ...]
    caption: str = ""
    numeric: tuple[bool, ...] = ()
    fits_phone: tuple[bool, ...] = ()

    def _table_html(self, group: Sequence[int], part: int) -> str:
        cap = self.caption
        if cap and len(self.groups) > 1:
            cap = f"{cap} ({part + 1} of {len(self.groups)})"
        narrow = bool(self.fits_phone) and self.fits_phone[part]
        out = ['<table class="reader-table narrow">' if narrow else '<table class="reader-table">']
        if cap:
            out.append(f"<caption>{html.escape(cap)}</caption>")
        out.append("<thead><tr>" + "".join(
            f'<th scope="col"{self._align(i)}>{html.escape(self.titles[i])}</th>' for i in group) + "</tr></thead>")
        out.append("<tbody>")
        for row in self.rows:
            out.append("<tr>" + "".join(
                f'<td data-label="{html.escape(self.titles[i], quote=True)}"{self._align(i)}>'
                f"{html.escape(row[i])}</td>" for i in group) + "</tr>")
        out.append("</tbody></table>")
        return "".join(out)

    def _align(self, i: int) -> str:
        return ' class="num"' if self.numeric and self.numeric[i] else ""

    def _repr_html_(self) -> str:
        return '<div class="reader-tables">' + "".join(
            self._table_html(g, k) for k, g in enumerate(self.groups)) + "</div>"

    def to_frame(self) -> pd.DataFrame:
        """The formatted texts as a DataFrame with the reader's headers (for tests and plain-text export)."""
        return pd.DataFrame(list(self.rows), columns=list(self.titles))


def reader_table(frame: pd.DataFrame, columns: Mapping[str, Column | str], *, caption: str = "",
                 width_px: float = ARTICLE_WIDTH_PX) -> ReaderTable:
    """Format ``frame`` for a reader: the listed columns, in that order, under human headers.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table, one row per row shown (its index is not shown: reset it into a column to show it).
    columns : mapping of str to Column or str
        Column of ``frame`` -> how to show it; a plain string is a header, with the kind read from the dtype
        (bool: flag, integer: integer, other numbers: 3 significant digits, else text). Columns not listed
        are not shown.
    caption : str
        Text above the table (the numbered caption is the figure's; this one is optional).
    width_px : float
        Widest a table may be [px]; a wider one is split into groups of columns, each led by the first.

    Returns
    -------
    ReaderTable

    Raises
    ------
    ValueError
        If ``frame`` is not a DataFrame, ``columns`` is empty or names a column ``frame`` lacks (the error
        lists the columns it has), a cell does not fit its column's kind (naming column and row), or one
        column alone is wider than ``width_px``.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"reader_table: frame must be a pandas DataFrame, not {type(frame).__name__}")
    if not columns:
        raise ValueError("reader_table: columns must name at least one column")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"reader_table: frame lacks column(s) {', '.join(map(repr, missing))}; "
                         f"has {', '.join(map(str, frame.columns))}")
    specs = {name: spec if isinstance(spec, Column) else Column(str(spec)) for name, spec in columns.items()}
    specs = {name: spec if spec.kind else replace(spec, kind=_kind_of(frame[name])) for name, spec in specs.items()}
    names = list(specs)
    rows = tuple(tuple(_cell(v, specs[n], n, r) for n, v in zip(names, values, strict=True))
                 for r, values in enumerate(frame[names].itertuples(index=False, name=None)))
    titles = tuple(specs[n].title for n in names)
    widths = [_width_px(titles[i], [row[i] for row in rows], text=specs[n].kind == "text")
              for i, n in enumerate(names)]
    too_wide = [titles[i] for i, w in enumerate(widths) if w > width_px]
    if too_wide:
        raise ValueError(f"reader_table: column(s) {too_wide} alone are wider than {width_px} px")
    groups: list[list[int]] = [[0]]
    used = widths[0]
    for i in range(1, len(names)):
        if used + widths[i] > width_px and len(groups[-1]) > 1:
            groups.append([0])
            used = widths[0]
        groups[-1].append(i)
        used += widths[i]
    numeric = tuple(specs[n].kind in ("number", "integer") for n in names)
    # a split table reads as cards on a phone throughout (one part a table, the other cards would look odd)
    fits_phone = (len(groups) == 1 and sum(widths) <= PHONE_WIDTH_PX,) * len(groups)
    return ReaderTable(titles, rows, tuple(map(tuple, groups)), caption, numeric, fits_phone)


def transposed_table(frame: pd.DataFrame, key: str, quantities: Mapping[str, Column], *, corner: str = "Quantity",
                     caption: str = "", width_px: float = ARTICLE_WIDTH_PX) -> ReaderTable:
    """A few items side by side: one row per quantity, one column per item, each row printed by its own Column.

    For two to five items described by many quantities of different kinds (counts, computed values, datasheet
    values), where :func:`reader_table` would give a table too wide to read; each quantity keeps its own
    digits, kind and trailing zeros, which a column of mixed quantities could not.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per item (model, scheme), in the order the columns are shown.
    key : str
        Column of ``frame`` naming each item: the column headers.
    quantities : mapping of str to Column
        Column of ``frame`` -> how to print it; its ``title`` (header and unit) heads its row.
    corner : str
        Header of the first column, over the quantity names.
    caption : str
        Text above the table.
    width_px : float
        Widest a table may be [px]; see :func:`reader_table`.

    Returns
    -------
    ReaderTable
        First column the quantity titles, then one right-aligned column per item.

    Raises
    ------
    ValueError
        If ``frame`` lacks ``key`` or a quantity column (the error lists the columns it has), ``quantities`` is
        empty, two items share a name, or a value does not fit its quantity's kind (naming quantity and item).
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"transposed_table: frame must be a pandas DataFrame, not {type(frame).__name__}")
    if not quantities:
        raise ValueError("transposed_table: quantities must name at least one column")
    missing = [c for c in (key, *quantities) if c not in frame.columns]
    if missing:
        raise ValueError(f"transposed_table: frame lacks column(s) {', '.join(map(repr, missing))}; "
                         f"has {', '.join(map(str, frame.columns))}")
    items = [str(i) for i in frame[key]]
    if len(set(items)) != len(items):
        raise ValueError(f"transposed_table: column {key!r} names an item twice: {items}")
    specs = {n: q if q.kind else replace(q, kind=_kind_of(frame[n])) for n, q in quantities.items()}
    def cell(name: str, j: int) -> str:
        value = frame[name].iloc[j]
        value = value.item() if isinstance(value, np.generic) else value  # 2.5, not np.float64(2.5), in errors
        try:
            return _cell(value, specs[name], name, j)
        except ValueError:
            raise ValueError(f"transposed_table: quantity {name!r} (kind {specs[name].kind}) cannot print "
                             f"{value!r}, the value of item {items[j]!r}") from None

    text = pd.DataFrame({"quantity": [q.title for q in specs.values()]} | {
        f"item{j}": [cell(n, j) for n in specs] for j in range(len(items))})
    columns = {"quantity": Column(corner, kind="text")} | {
        f"item{j}": Column(item, kind="text") for j, item in enumerate(items)}
    table = reader_table(text, columns, caption=caption, width_px=width_px)
    # on a phone the quantity names may wrap to a narrow column: two or three items stay a table there
    names = [corner, *text["quantity"]]
    first = max(_wrapped_chars(n, _PHONE_NAME_WRAP_CHARS) for n in names) * _CHAR_PX + _CELL_PAD_PX
    rest = sum(_width_px(item, text[f"item{j}"].tolist(), text=False) for j, item in enumerate(items))
    fits = len(table.groups) == 1 and first + rest <= PHONE_WIDTH_PX
    return replace(table, numeric=(False, *(True,) * len(items)),  # the items' cells are numbers: right-aligned
                   fits_phone=(fits,) * len(table.groups))
