"""The table ``pruning_results.csv``: published pruning levels and measured speed-ups of sparse LLMs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from memwall.tables.paper import _frame_check
from memwall.tables.paths import _path
from memwall.tables.rules import _ROW_SOURCE, CONFIDENCE_LEVELS, _one_of, _positive
from memwall.tables.validation import ColumnRule, _memoized, read_validated_csv

__all__ = ["PRUNING_MEASUREMENTS", "PRUNING_PATTERNS", "PRUNING_RULES", "load_pruning_results"]

PRUNING_PATTERNS = ("unstructured", "2:4", "4:8", "structured")
"""Sparsity patterns: any weight, two of every four, four of every eight, whole rows/heads/blocks."""
PRUNING_MEASUREMENTS = ("pruning_level", "layer_gemm", "spmv_kernel", "end_to_end_decode", "end_to_end_throughput",
                "prefill")
"""What a row measures: a pruning level with its accuracy only, a layer's GEMM, a matrix-vector kernel,
batch-small decode latency, a batched serving throughput, or prefill."""


def _percent() -> tuple[pa.Check, ...]:
    return (pa.Check.gt(0, error="must be > 0 [%]"), pa.Check.lt(100, error="must be < 100 [%]"))


PRUNING_RULES: dict[str, ColumnRule] = {
    "source": ColumnRule("str", True, (), "Publication (authors year, name)."),
    "model": ColumnRule("str", True, (), "Model or layer shapes measured."),
    "method": ColumnRule("str", True, (), "Pruning method and kernel or engine."),
    "pattern": ColumnRule("str", True, (_one_of(PRUNING_PATTERNS),), "Sparsity pattern."),
    "sparsity_percent": ColumnRule("float", False, _percent(), "Weights removed from the pruned layers [%]."),
    "measured": ColumnRule("str", True, (_one_of(PRUNING_MEASUREMENTS),), "What the row measures."),
    "device": ColumnRule("str", False, (), "Device of the measurement."),
    "batch_sequences": ColumnRule("int", False, _positive("sequences"), "Batch, if stated [sequences]."),
    "precision": ColumnRule("str", True, (), "Number format of the weights and math."),
    "speedup_x": ColumnRule("float", False, _positive("x"), "Measured speed-up over the baseline (low end of a "
                                                            "printed range) [x]."),
    "speedup_max_x": ColumnRule("float", False, _positive("x"), "High end of a printed range [x]."),
    "baseline": ColumnRule("str", False, (), "What the speed-up is measured against."),
    "memory_reduction_x": ColumnRule("float", False, _positive("x"), "Published memory reduction of the weights [x]."),
    "dense_wikitext2_perplexity": ColumnRule("float", False, _positive("perplexity"),
                                             "WikiText-2 perplexity of the dense model [1]."),
    "pruned_wikitext2_perplexity": ColumnRule("float", False, _positive("perplexity"),
                                              "WikiText-2 perplexity after pruning [1]."),
    "accuracy_note": ColumnRule("str", False, (), "Accuracy as published."),
    "source_url": _ROW_SOURCE,
    "confidence": ColumnRule("str", True, (_one_of(CONFIDENCE_LEVELS),), "A, B or C."),
    "notes": ColumnRule("str", True, (), "How the numbers were read or derived."),
}


def _speedup_iff_measured(df: pd.DataFrame) -> pd.Series:
    return df["speedup_x"].notna() == df["measured"].ne("pruning_level")


def _baseline_with_speedup(df: pd.DataFrame) -> pd.Series:
    return df["speedup_x"].isna() | df["baseline"].notna()


def _range_ordered(df: pd.DataFrame) -> pd.Series:
    return df["speedup_max_x"].isna() | (df["speedup_max_x"] >= df["speedup_x"])


def _perplexities_paired(df: pd.DataFrame) -> pd.Series:
    return df["dense_wikitext2_perplexity"].isna() == df["pruned_wikitext2_perplexity"].isna()


def _two_four_is_half(df: pd.DataFrame) -> pd.Series:
    fixed = df["pattern"].isin(["2:4", "4:8"])
    return ~fixed | np.isclose(df["sparsity_percent"].astype(float), 50.0)


@_memoized("pruning_results.csv")
def load_pruning_results(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``pruning_results.csv``: one row per published pruning result or measured speed-up.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Table to read; default ``data_dir() / "pruning_results.csv"``.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`PRUNING_RULES` plus ``density`` = 1 - sparsity_percent / 100 [1] (NaN where the
        sparsity is not published), in file order.

    Raises
    ------
    memwall.tables.DataValidationError
        On a bad cell, a speed-up on a ``pruning_level`` row (or none on a measurement), a speed-up without
        its baseline, a range whose maximum is below its minimum, one perplexity without the other, or a 2:4
        or 4:8 row not at 50 %.
    """
    df = read_validated_csv(
        _path("pruning_results.csv", path), PRUNING_RULES, key="model",
        unique=["source", "model", "method", "pattern", "measured", "baseline"],
        frame_checks=[
            _frame_check(_speedup_iff_measured, "speedup_x must be given exactly for rows that measure a speed-up "
                                                "(measured != pruning_level)"),
            _frame_check(_baseline_with_speedup, "a speedup_x needs its baseline"),
            _frame_check(_range_ordered, "speedup_max_x must be >= speedup_x"),
            _frame_check(_perplexities_paired, "give both perplexities or neither"),
            _frame_check(_two_four_is_half, "2:4 and 4:8 rows must have sparsity_percent = 50"),
        ],
    )
    df["density"] = 1.0 - df["sparsity_percent"] / 100.0
    return df
