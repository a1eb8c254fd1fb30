"""Where the data tables are: ``$MEMWALL_DATA_DIR``, the installed package's copy, or a clone's ``data/``."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DATA_DIR_VARIABLE", "data_dir"]


DATA_DIR_VARIABLE = "MEMWALL_DATA_DIR"
"""Environment variable that points the loaders at another folder of tables (same file names)."""

_PACKAGE_DATA = Path(__file__).resolve().parents[1] / "data"
"""``memwall/data/``: the copy of ``data/`` that a built wheel ships (``setup.py``)."""

_CLONE_DATA = Path(__file__).resolve().parents[2] / "data"
"""``data/`` at the root of the repository, for an editable install or a run from a clone."""


def data_dir() -> Path:
    """Folder holding the book's CSV tables.

    Returns
    -------
    pathlib.Path
        ``$MEMWALL_DATA_DIR`` if set (and not empty); else ``memwall/data/`` inside an installed
        package (a wheel ships the tables there); else ``data/`` at the root of the clone that holds
        this package.

    Raises
    ------
    FileNotFoundError
        If ``$MEMWALL_DATA_DIR`` names a folder that does not exist.
    """
    env = os.environ.get(DATA_DIR_VARIABLE)
    if env:
        path = Path(env)
        if not path.is_dir():
            raise FileNotFoundError(f"{DATA_DIR_VARIABLE}={env!r} is not a folder")
        return path
    return _PACKAGE_DATA if _PACKAGE_DATA.is_dir() else _CLONE_DATA


def _path(name: str, path: str | Path | None) -> Path:
    return Path(path) if path is not None else data_dir() / name
