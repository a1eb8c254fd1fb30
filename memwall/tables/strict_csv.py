"""Strict reading of a data table's text, before any typing: encoding, quoting, line structure and characters.

Python's :mod:`csv` module and pandas accept text that silently changes a table: a quote in the middle of an
unquoted field is kept as a character (``H100"x``), an unclosed quote swallows the following lines into one
cell, a NUL or another control character passes into a name, and a last row cut off together with its line
break reads as a shorter value. :func:`read_table_text` reads a table under the conventions of
``data/README.md`` instead, and reports every fault with its file, line, column name and character:

* UTF-8 without a byte-order mark; a byte that is not UTF-8 is reported where it lies;
* one record per line; lines end with LF or CRLF, the last line too; empty lines are skipped;
* a field is either unquoted (no ``"`` in it) or quoted as a whole (``"..."``, an inner quote doubled: ``""``);
* no cell holds a control or format character (tab, NUL, CR, ESC, zero-width space, byte-order mark, ...) or a
  space other than the ASCII space (no-break space, line separator, ...);
* the header's names are non-empty and distinct, and every record has as many fields as the header.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

__all__: list[str] = []

_QUOTED = re.compile(r'"((?:[^"]|"")*)"(?=,|\Z)')
_PLAIN = re.compile(r'[^",]*(?=,|\Z)')
_CONTROL_NAMES = {0x00: "NUL", 0x09: "TAB", 0x0A: "LF", 0x0D: "CR", 0x1B: "ESC", 0x7F: "DEL"}


@dataclass(frozen=True)
class TableText:
    """A table's text split into fields, with every fault found.

    Attributes
    ----------
    header : list of str
        Column names (empty if the file has no header line).
    records : list of list of str
        Data records, each a list of the fields' text ("" for an empty cell).
    lines : list of int
        Line of the file (1-based) on which each record stands.
    problems : list of str
        One line per fault: file, line, column, character and reason; empty if the text is sound.
    structural : bool
        Whether a fault leaves the records unreliable (a quote fault, a wrong field count, a bad header).
    """

    header: list[str]
    records: list[list[str]]
    lines: list[int]
    problems: list[str]
    structural: bool


def _split(line: str) -> tuple[list[tuple[str, int, int]], tuple[int, int, str] | None]:
    """Fields of one line as ``(value, start, end)`` character spans, and the first quoting fault as
    ``(start of its field, character, reason)`` (0-based), or None."""
    fields: list[tuple[str, int, int]] = []
    pos = 0
    while True:
        match = _QUOTED.match(line, pos) or _PLAIN.match(line, pos)
        if match is None:
            return fields, (pos, *_quote_fault(line, pos))
        value = match.group(1).replace('""', '"') if match.re is _QUOTED else match.group(0)
        fields.append((value, pos, match.end()))
        if match.end() == len(line):
            return fields, None
        pos = match.end() + 1


def _quote_fault(line: str, pos: int) -> tuple[int, str]:
    """Why the field starting at ``pos`` is neither a plain nor a wholly quoted field."""
    if line[pos] == '"':
        i = pos + 1
        while i < len(line):
            if line[i] == '"':
                if line[i + 1:i + 2] == '"':
                    i += 2
                    continue
                return i + 1, ("text follows the closing quote of a quoted field (quote the whole field and "
                               'double every quote inside it: "")')
            i += 1
        return pos, "a quote opens this field and is not closed on its line (one record per line)"
    return line.index('"', pos), ('a double quote inside an unquoted field (quote the whole field and double '
                                  'every quote inside it: "")')


def _char_name(char: str) -> str:
    code = ord(char)
    name = _CONTROL_NAMES.get(code) or unicodedata.name(char, "")
    return f"U+{code:04X}" + (f" ({name})" if name else "")


def _char_fault(raw: str) -> tuple[int, str] | None:
    """First character of a field's text that no cell may hold: its index and the reason."""
    if raw.isprintable():  # false exactly for Unicode's "Other" and "Separator" classes, bar the ASCII space
        return None
    i, char = next((i, c) for i, c in enumerate(raw) if not c.isprintable())
    if 0xDC80 <= ord(char) <= 0xDCFF:  # an undecodable byte, kept by the "surrogateescape" error handler
        return i, f"is not valid UTF-8: byte 0x{ord(char) - 0xDC00:02X} (save the file as UTF-8)"
    return i, (f"contains the character {_char_name(char)}: no cell may hold a control or format character, "
               "a tab or a space other than the ASCII space")


class _Lines:
    """Names the place of a fault: file, line, row, key and column."""

    def __init__(self, name: str, key: str | None):
        self.name, self.key = name, key
        self.header: list[str] = []
        self.rows = 0

    def column(self, k: int) -> str:
        if not self.header:  # the header line itself, not yet read
            return str(k + 1)
        return repr(self.header[k]) if k < len(self.header) else f"{k + 1} (beyond the header's {len(self.header)})"

    def at(self, number: int, fields: list[tuple[str, int, int]] | None, k: int, char: int) -> str:
        if fields is None:
            what = "header"
        else:
            what = f"data row {self.rows}"
            if self.key in self.header and self.header.index(self.key) < len(fields):
                what += f", {self.key}={fields[self.header.index(self.key)][0]!r}"
        return f"{self.name}: line {number} ({what}), column {self.column(k)}, character {char + 1}"


def read_table_text(path: Path, key: str | None = None) -> TableText:
    """Split a CSV table's text into header and records under the strict conventions of ``data/README.md``.

    Parameters
    ----------
    path : pathlib.Path
        CSV file.
    key : str, optional
        Column that identifies a row in the messages (e.g. ``"device"``).

    Returns
    -------
    TableText
        Header, records, their lines and every fault found (the text is read to its end whatever it finds).

    Raises
    ------
    OSError
        If the file cannot be read.
    """
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    where = _Lines(path.name, key)
    problems: list[str] = []
    structural = False
    bom = text.startswith("\ufeff")
    text = text.removeprefix("\ufeff")
    physical = text.split("\n")
    ends_with_break = physical[-1] == ""
    if ends_with_break:
        physical.pop()
    records: list[list[str]] = []
    lines: list[int] = []
    header_seen = False
    last: tuple[int, list[tuple[str, int, int]], int] | None = None
    for number, line in enumerate(physical, start=1):
        line = line.removesuffix("\r")
        if not line:
            continue
        fields, fault = _split(line)
        if header_seen:
            where.rows += 1
        row_fields = fields if header_seen else None
        if not header_seen and not fault:
            where.header = [value for value, _, _ in fields]
        for k, (_, start, end) in enumerate(fields):
            found = _char_fault(line[start:end])
            if found:
                problems.append(f"{where.at(number, row_fields, k, start + found[0])}: {found[1]}; "
                                f"got {fields[k][0]!r}")
        if fault:
            problems.append(f"{where.at(number, row_fields, len(fields), fault[1])}: {fault[2]}; "
                            f"got {line[fault[0]:fault[1] + 40]!r}")
            if not header_seen:  # without a header no record can be read
                return TableText([], [], [], [f"{path.name}: not a readable CSV table", *problems], True)
            structural = True
        elif not header_seen:
            for k, value in enumerate(where.header):
                if not value or value in where.header[:k]:
                    structural = True
                    reason = "is empty (every column needs a name)" if not value else "appears twice in the header"
                    problems.append(f"{where.at(number, None, k, fields[k][1])}: {reason}")
        elif len(fields) != len(where.header):
            structural = True
            k = min(len(fields), len(where.header))
            problems.append(f"{where.at(number, row_fields, k, fields[k][1] if k < len(fields) else len(line))}: "
                            f"the row has {len(fields)} fields, the header has {len(where.header)}"
                            + (" (truncated row?)" if len(fields) < len(where.header) else ""))
        else:
            records.append([value for value, _, _ in fields])
            lines.append(number)
        header_seen = True
        last = (number, fields, len(line))
    if last is None:
        return TableText([], [], [], [*problems, f"{path.name}: not a readable CSV table: the file has no header "
                                                  "line"], True)
    if bom:
        problems.insert(0, f"{where.at(1, None, 0, 0)}: the file starts with a UTF-8 byte-order mark (BOM); "
                           "save it as UTF-8 without a BOM")
    if not ends_with_break:
        number, fields, length = last
        problems.append(f"{where.at(number, fields if where.rows else None, max(len(fields) - 1, 0), length)}: "
                        "the file ends without a line break after this cell: the row may be truncated "
                        "(end every line, the last one too, with a line break)")
    if structural:
        problems.insert(0, f"{path.name}: not a readable CSV table")
    return TableText(where.header, records, lines, problems, structural)
