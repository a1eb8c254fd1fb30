"""Argument checks of the lever modules: re-exported from :mod:`memwall._checks`, the package's one validation layer."""

from __future__ import annotations

from memwall._checks import ArgumentTypeError, capacity, count, flag, instance, number, positive

__all__ = ["ArgumentTypeError", "capacity", "count", "flag", "instance", "number", "positive"]
