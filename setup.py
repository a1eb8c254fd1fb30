"""Packaging hook: ship the book's ``data/`` tables inside the wheel as ``memwall/data/``.

Everything else is declared in ``pyproject.toml``. The tables stay at the repository root (the book and
its readers find them there); a regular (non-editable) build copies them into the package so that an
installed ``memwall`` loads them without a clone (``memwall.tables.paths.data_dir``).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA_PATTERNS = ("*.csv", "*.md", "*.json")


class BuildPyWithData(build_py):
    """``build_py`` that also copies ``data/*.csv``, ``*.md`` and ``*.json`` to ``<build>/memwall/data/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the clone's data/ directly
        source = Path(__file__).resolve().parent / "data"
        target = Path(self.build_lib) / "memwall" / "data"
        shutil.rmtree(target, ignore_errors=True)  # a table deleted from data/ must not ship from an old build
        target.mkdir(parents=True)
        for pattern in DATA_PATTERNS:
            for path in sorted(source.glob(pattern)):
                shutil.copy2(path, target / path.name)


setup(cmdclass={"build_py": BuildPyWithData})
