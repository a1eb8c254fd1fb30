"""Argument checks of the lever modules: re-exported from :mod:`memwall._checks`, the package's one validation layer."""

from __future__ import annotations

from memwall._checks import (
           MAX_EXACT_INT,
           ArgumentTypeError,
           capacity,
           choice,
           count,
           finite_result,
           flag,
           instance,
           number,
           positive,
)

__all__ = ["MAX_EXACT_INT", "ArgumentTypeError", "capacity", "choice", "count", "finite_result", "flag", "instance",
           "number", "positive"]
