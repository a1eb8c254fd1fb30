"""The ``memwall measure`` command: this machine's STREAM, GEMM, GEMV sweep and encoder-vs-decoder latency.

:func:`_cmd_measure` runs :func:`memwall.wall.measure.measure_machine` (and, for ``latency`` and
``reference``, :func:`memwall.wall.numpy_transformer.latency_table`), returns the table that
``--what`` asks for and, with ``--output``, also writes it as CSV. pandas and the measurement modules
are imported when the command runs, not when :mod:`memwall.cli.commands` is imported.

The output path is checked before the measurement (:func:`check_output_path`: its folder exists, it is not
a folder, a device or a pipe, and a file can be created beside it), and the table is written atomically
after it (:func:`write_csv_atomic`: a temporary file in the same folder, then :func:`os.replace`), so a
failed write leaves the old file whole; the measured table is then still printed, with exit status 1
(:class:`memwall.cli.errors.OutputFileError` carries it).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from memwall.cli.errors import OutputFileError, UsageError

if TYPE_CHECKING:
    import pandas as pd


def _target(path: Path) -> Path:
    """Where writing ``path`` lands: the file a symbolic link points to, else ``path``."""
    return path.resolve() if path.is_symlink() else path


def check_output_path(path: Path, option: str = "--output") -> None:
    """Check, before any work, that ``path`` can be written as a regular file.

    Raises
    ------
    memwall.cli.errors.OutputFileError
        If ``path`` is a folder or another non-regular file (``/dev/full``, a pipe), its folder does not exist
        or is not a folder, no file can be created in that folder, or an existing ``path`` is not writable.
    """
    def fail(why: str) -> OutputFileError:
        return OutputFileError(f"{option} {str(path)!r}: {why}", option)

    try:
        target = _target(path)
        folder = target.parent
        if target.is_dir():
            raise fail("is a folder; give a file path in it")
        if target.exists() and not target.is_file():
            raise fail("is not a regular file (a device, pipe or socket); give a file path")
        if not folder.exists():
            raise fail(f"its folder {str(folder)!r} does not exist (create it first)")
        if not folder.is_dir():
            raise fail(f"{str(folder)!r} is not a folder")
        fd, trial = tempfile.mkstemp(dir=folder, prefix=f".{target.name[:64]}.", suffix=".check")
        os.close(fd)
        os.unlink(trial)
        if target.exists() and not os.access(target, os.W_OK):
            raise fail("is not writable")
    except OSError as err:
        raise fail(f"cannot be written ({err.strerror or err})") from None


def write_csv_atomic(table: pd.DataFrame, path: Path) -> None:
    """Write ``table`` as CSV to ``path`` through a temporary file in the same folder and :func:`os.replace`.

    The file gets the mode an existing ``path`` had, else the default of a new file (``0o666`` less the umask).

    Raises
    ------
    OSError
        If writing fails (a full disk, ...); the temporary file is removed and ``path`` is left as it was.
    """
    target = _target(path)
    if target.exists():
        mode = target.stat().st_mode & 0o777
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:64]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            table.to_csv(fh, index=False, lineterminator="\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _check_measure_options(args: argparse.Namespace) -> None:
    if args.seq_len is not None and args.what not in ("latency", "reference"):
        raise UsageError(f"--seq-len is used by measure latency and reference only, not by measure {args.what}",
                         "--seq-len")
    if args.full_generation and args.what != "latency":
        raise UsageError(f"--full-generation is used by measure latency only, not by measure {args.what}",
                         "--full-generation")


def _cmd_measure(args: argparse.Namespace) -> pd.DataFrame:
    _check_measure_options(args)
    if args.output is not None:
        check_output_path(args.output)
    table = _measure_table(args)
    if args.output is not None:
        try:
            write_csv_atomic(table, args.output)
        except OSError as err:
            raise OutputFileError(f"--output {str(args.output)!r}: the measurement ran but writing its table failed "
                                  f"({err.strerror or err}); the table is on stdout", "--output",
                                  result=table) from None
        print(f"memwall measure: wrote {len(table)} rows to {args.output}", file=sys.stderr)
    return table


QUICK_LENGTHS = [16, 32]
"""Sequence lengths of ``measure latency --quick`` / ``reference --quick`` without ``--seq-len`` [tokens]."""


def _measure_table(args: argparse.Namespace) -> pd.DataFrame:
    import pandas as pd

    from memwall.wall import measure, numpy_transformer

    lengths = args.seq_len or (QUICK_LENGTHS if args.quick else [128, 256, 512])
    if args.what == "reference":
        report = measure.measure_machine(progress=not args.no_progress, quick=args.quick)
        latency = numpy_transformer.latency_table(lengths, ceilings=report.ceilings("float32"),
                                                  decoder_samples=2 if args.quick else 8,
                                                  decoder_repeats=1 if args.quick else 3,
                                                  loop_up_to=0 if args.quick else 128,
                                                  progress=not args.no_progress)
        command = "memwall measure reference" + (" --quick" if args.quick else "") + (
            f" --seq-len {' '.join(map(str, lengths))}" if args.seq_len else "")
        return report.to_reference_rows(command=command, latency=latency)
    if args.what == "latency":
        full, quick = args.full_generation, args.quick and not args.full_generation
        report = measure.measure_machine(progress=not args.no_progress, quick=args.quick)
        return numpy_transformer.latency_table(lengths, ceilings=report.ceilings("float32"),
                                               decoder_samples=None if full else (2 if quick else 8),
                                               decoder_repeats=1 if full or quick else 3,
                                               loop_up_to=max(lengths) if full else (0 if quick else 128),
                                               progress=not args.no_progress)
    report = measure.measure_machine(progress=not args.no_progress, quick=args.quick)
    if args.what == "summary":
        info = report.info.as_dict()
        row = {**info, "stream_bandwidth_gb_per_s": report.bandwidth_bytes_per_s / 1e9,
               "gemm_fp32_gflop_per_s": report.peak_flop_per_s("float32") / 1e9,
               "gemm_fp64_gflop_per_s": report.peak_flop_per_s("float64") / 1e9,
               "ceiling_fp32_gflop_per_s": report.ceilings("float32").peak_flop_per_s / 1e9,
               "ceiling_bandwidth_gb_per_s": report.ceilings("float32").bandwidth_bytes_per_s / 1e9,
               "ridge_fp32_flop_per_byte": report.ceilings("float32").ridge_flop_per_byte,
               "elapsed_s": report.elapsed_s, "notes": " ".join(report.notes)}
        return pd.DataFrame([row])
    return {"stream": report.stream, "gemm": report.gemm, "gemv": report.gemv}[args.what]
