"""Devices by the names people type, and the hardware table without pandas for the command line.

One rule finds a row of ``data/hardware.csv`` (or of a user table with the same columns) from what a
person types (:func:`find_device`):

1. the exact ``device`` value, or the same text up to case, spaces and punctuation
   (:func:`normalize_device_name`: lower case, every run of characters other than letters, digits and
   ``.`` becomes one space; ``"h100-sxm5 80gb hopper"`` is ``"H100 SXM5 80GB (Hopper)"``);
2. an alias of :data:`DEVICE_ALIASES`, where a short name should pick one row of several
   (``"H100"`` is the SXM5 part, not the PCIe card), if the table has that row;
3. the rows whose name contains every typed word as a whole word (``"A10"`` is the A10, not the A100;
   ``"B200"`` is not the GB200);
4. else the rows where every typed word starts a word of the name, for words all of letters or all of
   digits only (``"h100 sxm"`` is the SXM5 row, ``"a100 40"`` the 40GB one); a model number is never
   completed (``"H20"`` is not the H200, ``"L40"`` not the L40S: other products);
5. else the rows whose name, without spaces, has the typed text without spaces as a run of words, the
   last one completed as in step 4 (``"tpuv5e"`` is ``"TPU v5e"``, ``"h100sxm"`` the SXM5 row).

Vendor words (:data:`VENDOR_WORDS`: ``"nvidia h100"``, ``"amd mi300x"``) are dropped before steps 2 to
5. Steps 3 to 5 must find exactly one row: several is an error listing them (:class:`DeviceLookupError`,
at most :data:`MAX_LISTED` names), none is an error suggesting three names: first the rows a completed
model number would have matched (``"H20"`` suggests the H200), then the closest by
:class:`difflib.SequenceMatcher` over the name's words. An empty name is an error.

:func:`device_row` applies the rule to a table from :func:`memwall.tables.load_hardware` or to the
records of :func:`hardware_records`: the same table, validated by the same schema
(:mod:`memwall.tables.hardware`), kept in a JSON file of the user cache folder keyed by the SHA-256 of
the files' content and of the schema's source, so that a command line call need not import pandas. A
changed table or schema changes the key, so a stale table is never served.

This module imports only the standard library; pandas is imported on a cache miss only.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CACHE_DIR_VARIABLE", "DEVICE_ALIASES", "MAX_LISTED", "VENDOR_WORDS", "DeviceLookupError", "aliases_of",
           "device_names", "device_row", "find_device", "hardware_records", "is_missing", "normalize_device_name"]


DEVICE_ALIASES: dict[str, str] = {
    "h100": "H100 SXM5 80GB (Hopper)",
    "h100 80gb": "H100 SXM5 80GB (Hopper)",
    "a100": "A100 SXM4 80GB (Ampere)",
    "a100 80gb": "A100 SXM4 80GB (Ampere)",
    "v100": "Tesla V100 SXM2 16GB (Volta)",
    "p100": "Tesla P100 SXM2 16GB (Pascal GP100)",
}
"""Short names (normalised, see :func:`normalize_device_name`) that pick one row of several: the SXM
(flagship, datasheet-headline) part of a GPU sold as SXM module and PCIe card, as in :mod:`memwall.book`."""

VENDOR_WORDS = frozenset({"nvidia", "amd", "google", "intel", "habana", "apple", "aws", "amazon"})
"""Words dropped from a typed name (they do not tell rows apart): ``"nvidia h100"`` is ``"h100"``."""

MAX_LISTED = 8
"""Most device names an error message lists."""

CACHE_DIR_VARIABLE = "MEMWALL_CACHE_DIR"
"""Environment variable naming the folder of :func:`hardware_records`' cache (default: the user cache folder)."""

_SEPARATORS = re.compile(r"[^0-9a-z.]+")


class DeviceLookupError(ValueError):
    """A typed device name matched no row, or several.

    Attributes
    ----------
    typed : str
        What was typed.
    candidates : list of str
        The matching rows (ambiguous name) or the closest three (unknown name).
    ambiguous : bool
        Whether several rows matched.
    """

    def __init__(self, message: str, typed: str, candidates: list[str], ambiguous: bool):
        super().__init__(message)
        self.typed, self.candidates, self.ambiguous = typed, candidates, ambiguous


def normalize_device_name(text: str) -> str:
    """A device name in the form the lookup compares: lower case, punctuation and spaces as single spaces.

    Parameters
    ----------
    text : str
        Typed name or row name.

    Returns
    -------
    str
        ``text`` case-folded, every run of characters other than ``a-z``, ``0-9`` and ``.`` replaced by
        one space, without leading or trailing spaces.

    Examples
    --------
    >>> normalize_device_name("H100 SXM5 80GB (Hopper)")
    'h100 sxm5 80gb hopper'
    >>> normalize_device_name("  tpu-V5e ")
    'tpu v5e'
    """
    return _SEPARATORS.sub(" ", str(text).casefold()).strip()


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:MAX_LISTED])
    return shown + (f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else "")


def _closest(typed: str, names: Sequence[str], n: int = 3) -> list[str]:
    """The ``n`` names most like ``typed``: best :class:`difflib.SequenceMatcher` ratio to a run of 1-3 words."""
    compact = typed.replace(" ", "")

    def score(name: str) -> float:
        words = normalize_device_name(name).split()
        runs = [words[i:i + k] for k in (1, 2, 3) for i in range(len(words) - k + 1)] or [words]
        return max(max(difflib.SequenceMatcher(None, typed, " ".join(run)).ratio(),
                       difflib.SequenceMatcher(None, compact, "".join(run)).ratio()) for run in runs)

    return sorted(names, key=score, reverse=True)[:n]


def find_device(text: str, names: Sequence[str], *, table: str = "the hardware table") -> str:
    """The row of a hardware table that a typed device name means (the rule of the module docstring).

    Parameters
    ----------
    text : str
        What was typed, e.g. ``"H100"``, ``"h100 sxm"``, ``"MI300X"``, ``"TPU v5e"``.
    names : sequence of str
        The table's ``device`` column.
    table : str
        How error messages name the table (e.g. a user CSV's path).

    Returns
    -------
    str
        The exact ``device`` value of the row.

    Raises
    ------
    DeviceLookupError
        (a ``ValueError``) If no row matches (the message suggests the three closest names) or several
        do (the message lists them, at most :data:`MAX_LISTED`).

    Examples
    --------
    >>> names = ["H100 PCIe 80GB (Hopper)", "H100 SXM5 80GB (Hopper)", "A10 (Ampere GA102)",
    ...          "A100 SXM4 80GB (Ampere)", "B200 (HGX, Blackwell)", "GB200 (per Blackwell GPU, NVL72)"]
    >>> find_device("H100", names), find_device("h100 pcie", names), find_device("b200", names)
    ('H100 SXM5 80GB (Hopper)', 'H100 PCIe 80GB (Hopper)', 'B200 (HGX, Blackwell)')
    >>> find_device("A10", names)
    'A10 (Ampere GA102)'
    """
    names = [str(n) for n in names]
    if text in names:
        return text
    typed = normalize_device_name(text)
    if not typed:
        raise DeviceLookupError(f"device={text!r} is empty; give a name such as 'h100' or 'mi300x' "
                                "(`memwall devices` lists every name)", text, [], False)
    normal = {normalize_device_name(n): n for n in names}
    if typed in normal:
        return normal[typed]
    words = [w for w in typed.split() if w not in VENDOR_WORDS] or typed.split()
    alias = DEVICE_ALIASES.get(" ".join(words))
    if alias in names:
        return str(alias)
    split = [(n, normalize_device_name(n).split()) for n in names]
    compact = "".join(words)
    whole = [n for n, ws in split if all(w in ws for w in words)]
    found = (whole or [n for n, ws in split if all(any(_completes(w, x) for x in ws) for w in words)]
             or [n for n, ws in split if _whole_word_run(compact, ws)])
    if len(found) == 1:
        return found[0]
    if found:
        raise DeviceLookupError(f"device={text!r} matches {len(found)} devices of {table}: {_listed(found)}; "
                                "type more of the name", text, found, True)
    prefix = [n for n, ws in split if all(any(x.startswith(w) for x in ws) for w in words)]
    near = prefix + [n for n, ws in split if n not in prefix and compact in "".join(ws)]  # word starts first
    close = list(dict.fromkeys(near + _closest(" ".join(words), names)))[:3]
    raise DeviceLookupError(f"device={text!r} is not in {table}; closest: {_listed(close)} "
                            "(`memwall devices` lists every name)", text, close, False)


def _completes(typed: str, word: str) -> bool:
    """Whether the typed word names the name's word: equal, or a prefix when all letters or all digits."""
    return word == typed or (word.startswith(typed) and (typed.isalpha() or typed.isdigit()))


def _whole_word_run(compact: str, words: list[str]) -> bool:
    """Whether ``compact`` spells a run of consecutive ``words``, the last one possibly completed as in step 4."""
    for i in range(len(words)):
        for j in range(i + 1, len(words) + 1):
            head = "".join(words[i:j - 1])
            rest = compact[len(head):]
            if compact.startswith(head) and rest and _completes(rest, words[j - 1]):
                return True
    return False


def aliases_of(name: str) -> list[str]:
    """The short names of :data:`DEVICE_ALIASES` that pick the row ``name``."""
    return [alias for alias, row in DEVICE_ALIASES.items() if row == name]


def is_missing(value: object) -> bool:
    """Whether a table cell is empty: ``None``, NaN or pandas' ``NA``."""
    if value is None:
        return True
    if isinstance(value, str):
        return False
    try:
        return math.isnan(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return value.__class__.__name__ in ("NAType", "NaTType")


# ------------------------------------------------------------------------------------------- rows


def device_names(hardware: pd.DataFrame | Sequence[Mapping[str, Any]]) -> list[str]:
    """The ``device`` column of a table from :func:`memwall.tables.load_hardware` or :func:`hardware_records`."""
    if hasattr(hardware, "columns"):
        return [str(n) for n in hardware["device"]]  # type: ignore[index]
    return [str(r["device"]) for r in hardware]  # type: ignore[index]


def device_row(hardware: pd.DataFrame | Sequence[Mapping[str, Any]], device: str, *,
               table: str = "the hardware table") -> dict[str, Any]:
    """One row of a hardware table, looked up by :func:`find_device`.

    Parameters
    ----------
    hardware : pandas.DataFrame or sequence of mapping
        Table from :func:`memwall.tables.load_hardware`, or its records from :func:`hardware_records`.
    device : str
        Typed name (exact row name, short name or alias).
    table : str
        How error messages name the table.

    Returns
    -------
    dict
        The row's cells by column (units in the column names: TFLOP/s, GB/s, GiB); ``device`` is the row's
        exact name.

    Raises
    ------
    DeviceLookupError
        Unknown or ambiguous name.
    """
    names = device_names(hardware)
    i = names.index(find_device(device, names, table=table))
    if hasattr(hardware, "columns"):
        return dict(hardware.iloc[i].to_dict())  # type: ignore[union-attr]
    return dict(hardware[i])  # type: ignore[index]


# ---------------------------------------------------------------------------------- cached records

_SCHEMA_SOURCES = ("tables/hardware.py", "tables/rules.py", "tables/validation.py", "device_lookup.py")
"""Sources whose text is part of the cache key: a changed schema re-validates every table."""

_RECORDS: dict[str, list[dict[str, Any]]] = {}


def _cache_dir() -> Path:
    env = os.environ.get(CACHE_DIR_VARIABLE)
    if env:
        return Path(env)
    try:
        import platformdirs
    except ImportError:
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "memwall"
    return Path(platformdirs.user_cache_dir("memwall", appauthor=False))


def _content_key(files: Sequence[Path]) -> str:
    h = hashlib.sha256(b"memwall hardware records v1\0")
    package = Path(__file__).resolve().parent
    for f in [*(package / s for s in _SCHEMA_SOURCES), *files]:
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def _json_cell(value: Any) -> Any:
    if is_missing(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def hardware_records(path: str | Path | None = None, memory_path: str | Path | None = None) -> list[dict[str, Any]]:
    """The validated hardware table as a list of rows, cached by content so that pandas is not needed.

    The first call for a given content of the two files (and of the schema's source) validates the table
    with :func:`memwall.tables.load_hardware` (pandera; every rule of ``hardware.csv``) and stores its rows
    as JSON in the cache folder (``$MEMWALL_CACHE_DIR``, else the user cache folder of platformdirs, else
    ``~/.cache/memwall``); later calls read that file. The key is the SHA-256 of the files' bytes, so an
    edited table is validated again. A cache that cannot be written is skipped.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        ``hardware.csv`` or a user table with its columns; default ``data_dir() / "hardware.csv"``.
    memory_path : str or pathlib.Path, optional
        ``memory_generations.csv`` giving the allowed ``memory_type`` names; default ``data_dir()``'s.

    Returns
    -------
    list of dict
        One dict per row, in the order of :func:`memwall.tables.load_hardware`: its columns (TFLOP/s,
        GB/s, GiB as in the CSV; dates as ISO text), empty cells as ``None``.

    Raises
    ------
    FileNotFoundError
        If a table does not exist.
    memwall.tables.DataValidationError
        If the table breaks its schema (file, line, column and reason named).
    """
    from memwall.tables.paths import _path

    hw, mem = _path("hardware.csv", path), _path("memory_generations.csv", memory_path)
    for f in (hw, mem):
        if not f.is_file():
            raise FileNotFoundError(f"data table not found: {f}")
    key = _content_key([hw, mem])
    if key in _RECORDS:
        return [dict(r) for r in _RECORDS[key]]
    cache = _cache_dir() / f"hardware-{key}.json"
    try:
        records = json.loads(cache.read_text(encoding="utf-8"))
        if not (isinstance(records, list) and all(isinstance(r, dict) and "device" in r for r in records)):
            raise ValueError("not a cached table")
    except (OSError, ValueError):
        from memwall.tables.hardware import load_hardware

        table = load_hardware(hw, mem)
        records = [{k: _json_cell(v) for k, v in row.items()} for row in table.to_dict("records")]
        _write_cache(cache, records)
    _RECORDS[key] = records
    return [dict(r) for r in records]


def _write_cache(cache: Path, records: list[dict[str, Any]], keep: int = 16) -> None:
    tmp: str | None = None
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=".hardware-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(records, fh)
        os.replace(tmp, cache)
        tmp = None
        old = sorted(cache.parent.glob("hardware-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in old[keep:]:
            stale.unlink(missing_ok=True)
    except OSError:
        pass
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
