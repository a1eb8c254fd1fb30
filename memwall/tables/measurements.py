"""Stored measurements: this book's CPU reference run (``reference_measurements.csv``) and the H200 run
(``gpu_reference_measurements.csv``), validated on load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from memwall.tables.paths import _path
from memwall.tables.rules import _SOURCE, _one_of, _positive
from memwall.tables.validation import ColumnRule, _memoized, date_check, read_validated_csv

__all__ = ["GPU_EXPERIMENTS", "GPU_REFERENCE_RULES", "REFERENCE_EXPERIMENTS", "REFERENCE_RULES", "load_gpu_reference",
           "load_reference_measurements"]




REFERENCE_EXPERIMENTS = ("stream", "gemm", "gemv", "latency_encoder", "latency_decoder")
"""Experiments recorded in ``reference_measurements.csv``."""

REFERENCE_RULES: dict[str, ColumnRule] = {
    "machine": ColumnRule("str", True, (), "CPU model as reported by the machine."),
    "measured_on": ColumnRule("str", True, (date_check(),), "Date of the measurement, YYYY-MM-DD."),
    "logical_cpus": ColumnRule("int", True, _positive("CPUs"), "CPUs the process could use."),
    "blas": ColumnRule("str", True, (), "BLAS library and version (threadpoolctl)."),
    "numpy_version": ColumnRule("str", True, (), "numpy version."),
    "experiment": ColumnRule("str", True, (_one_of(REFERENCE_EXPERIMENTS),), "Which measurement."),
    "setting": ColumnRule("str", True, (), "Kernel, dtype and size, batch, or model and length."),
    "intensity_flop_per_byte": ColumnRule("float", False, _positive("FLOP/B"), "Arithmetic intensity [FLOP/B]."),
    "flop_per_s": ColumnRule("float", False, _positive("FLOP/s"), "Measured throughput [FLOP/s]."),
    "bandwidth_bytes_per_s": ColumnRule("float", False, _positive("B/s"), "Measured bandwidth [B/s]."),
    "time_s": ColumnRule("float", True, _positive("s"), "Median wall time [s]."),
    "command": ColumnRule("str", True, (), "Command that produced the row."),
    "method_url": _SOURCE,
}


@_memoized("reference_measurements.csv")
def load_reference_measurements(path: str | Path | None = None) -> pd.DataFrame:
    """Load the stored reference measurement of one machine (``reference_measurements.csv``).

    Written by ``memwall measure reference --output data/reference_measurements.csv``; the chapter "The
    roofline, measured" shows it beside the live measurement, so the page means something on any builder.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Table to read; default ``data_dir() / "reference_measurements.csv"``.

    Returns
    -------
    pandas.DataFrame
        One row per measured point, columns of :data:`REFERENCE_RULES`.

    Raises
    ------
    memwall.tables.DataValidationError
        On a bad row.
    """
    return read_validated_csv(_path("reference_measurements.csv", path), REFERENCE_RULES, key="setting",
                              unique=["machine", "measured_on", "experiment", "setting"])

GPU_EXPERIMENTS = ("copy", "triad", "read", "gemm", "gemv", "prefill", "decode_eager", "decode_graph")
"""Experiments of ``gpu_reference_measurements.csv`` (see ``tools/gpu_reference.py``)."""

GPU_REFERENCE_RULES: dict[str, ColumnRule] = {
    "machine": ColumnRule("str", True, (), "GPU name as PyTorch reports it."),
    "measured_on": ColumnRule("str", True, (date_check(),), "Date of the measurement, YYYY-MM-DD."),
    "run": ColumnRule("int", True, _positive("run"), "Repetition of the whole script (1, 2, 3)."),
    "gpu_memory_bytes": ColumnRule("int", True, _positive("B"), "Device memory reported by CUDA [B]."),
    "sm_count": ColumnRule("int", True, _positive("SMs"), "Streaming multiprocessors."),
    "l2_cache_bytes": ColumnRule("int", True, _positive("B"), "L2 cache size [B]."),
    "driver_version": ColumnRule("str", True, (), "NVIDIA driver (nvidia-smi)."),
    "cuda_version": ColumnRule("str", True, (), "CUDA version PyTorch was built with."),
    "torch_version": ColumnRule("str", True, (), "PyTorch version."),
    "experiment": ColumnRule("str", True, (_one_of(GPU_EXPERIMENTS),), "Which measurement."),
    "setting": ColumnRule("str", True, (), "Kernel, dtype and size, or model, batch and context."),
    "dtype": ColumnRule("str", True, (), "Element type of the operands."),
    "batch_sequences": ColumnRule("int", False, _positive("sequences"), "Batch (gemv rows, decode sequences)."),
    "context_tokens": ColumnRule("int", False, _positive("tokens"),
                                 "Prompt length (prefill) or cached tokens (decode) [tokens]."),
    "flop": ColumnRule("float", False, _positive("FLOP"), "FLOPs of one run of the measured work [FLOP]."),
    "bytes_moved": ColumnRule("float", False, _positive("B"),
                              "Compulsory bytes of one run (each operand read once, result written once) [B]."),
    "intensity_flop_per_byte": ColumnRule("float", False, _positive("FLOP/B"), "flop / bytes_moved [FLOP/B]."),
    "flop_per_s": ColumnRule("float", False, _positive("FLOP/s"), "flop / time_s [FLOP/s]."),
    "bandwidth_bytes_per_s": ColumnRule("float", False, _positive("B/s"), "bytes_moved / time_s [B/s]."),
    "time_s": ColumnRule("float", True, _positive("s"), "Median time of one run over the repeats (CUDA events) [s]."),
    "command": ColumnRule("str", True, (), "Command that produced the row."),
    "method_url": _SOURCE,
}


_NEEDS: dict[str, tuple[str, ...]] = {
    "copy": ("bytes_moved",), "triad": ("bytes_moved",), "read": ("bytes_moved",),
    "gemm": ("flop", "bytes_moved"), "gemv": ("flop", "bytes_moved", "batch_sequences"),
    "prefill": ("batch_sequences", "context_tokens"),
    "decode_eager": ("batch_sequences", "context_tokens"), "decode_graph": ("batch_sequences", "context_tokens"),
}
"""Columns each experiment must fill (the analysis divides by them or sets bounds from them)."""


def _experiment_columns_filled(df: pd.DataFrame) -> pd.Series:
    ok = pd.Series(True, index=df.index)
    for experiment, columns in _NEEDS.items():
        rows = df["experiment"] == experiment
        for column in columns:
            ok &= ~rows | df[column].notna()
    return ok


def _derived_columns_agree(df: pd.DataFrame) -> pd.Series:
    ok = pd.Series(True, index=df.index)
    for derived, num, den in (("flop_per_s", "flop", "time_s"), ("bandwidth_bytes_per_s", "bytes_moved", "time_s"),
                              ("intensity_flop_per_byte", "flop", "bytes_moved")):
        value, expected = df[derived].astype(float), df[num].astype(float) / df[den].astype(float)
        known = value.notna() | expected.notna()
        ok &= ~known | (np.abs(value - expected) <= 1e-9 * np.abs(expected))
    return ok


@_memoized("gpu_reference_measurements.csv")
def load_gpu_reference(path: str | Path | None = None) -> pd.DataFrame:
    """Load the stored GPU measurement (``gpu_reference_measurements.csv``).

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Table to read; default ``data_dir() / "gpu_reference_measurements.csv"``.

    Returns
    -------
    pandas.DataFrame
        One row per run and measured point, columns of :data:`GPU_REFERENCE_RULES`.

    Raises
    ------
    memwall.tables.DataValidationError
        On a bad row (file, line, setting, column and reason named): a cell of the wrong type or range, an
        experiment outside :data:`GPU_EXPERIMENTS`, a column its experiment needs left empty (:data:`_NEEDS`), or
        a rate or intensity that is not its ``flop`` / ``bytes_moved`` / ``time_s`` quotient.
    """
    checks = [pa.Check(_experiment_columns_filled,
                       error="a column this experiment needs is empty (copy/triad/read: bytes_moved; gemm: flop, "
                             "bytes_moved; gemv: also batch_sequences; prefill/decode: batch_sequences, "
                             "context_tokens)"),
              pa.Check(_derived_columns_agree,
                       error="flop_per_s, bandwidth_bytes_per_s and intensity_flop_per_byte must equal flop/time_s, "
                             "bytes_moved/time_s and flop/bytes_moved (empty exactly when their inputs are)")]
    return read_validated_csv(_path("gpu_reference_measurements.csv", path), GPU_REFERENCE_RULES, key="setting",
                              unique=["machine", "measured_on", "run", "setting"], frame_checks=checks)
