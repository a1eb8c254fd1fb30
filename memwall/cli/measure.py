"""The ``memwall measure`` command: this machine's STREAM, GEMM, GEMV sweep and encoder-vs-decoder latency.

:func:`_cmd_measure` runs :func:`memwall.wall.measure.measure_machine` (and, for ``latency`` and
``reference``, :func:`memwall.wall.numpy_transformer.latency_table`), returns the table that
``--what`` asks for and, with ``--output``, also writes it as CSV. pandas and the measurement modules
are imported when the command runs, not when :mod:`memwall.cli.commands` is imported.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

def _cmd_measure(args: argparse.Namespace) -> pd.DataFrame:
    table = _measure_table(args)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.output, index=False)
        print(f"memwall measure: wrote {len(table)} rows to {args.output}", file=sys.stderr)
    return table


def _measure_table(args: argparse.Namespace) -> pd.DataFrame:
    import pandas as pd

    from memwall.wall import measure, numpy_transformer

    if args.what == "reference":
        report = measure.measure_machine(progress=not args.no_progress, quick=args.quick)
        lengths = args.seq_len or [128, 256, 512]
        latency = numpy_transformer.latency_table(lengths, ceilings=report.ceilings("float32"), decoder_samples=8,
                                                  decoder_repeats=3, loop_up_to=0 if args.quick else 128,
                                                  progress=not args.no_progress)
        command = "memwall measure reference" + (" --quick" if args.quick else "") + (
            f" --seq-len {' '.join(map(str, lengths))}" if args.seq_len else "")
        return report.to_reference_rows(command=command, latency=latency)
    if args.what == "latency":
        lengths = args.seq_len or [128, 256, 512]
        report = measure.measure_machine(progress=not args.no_progress, quick=args.quick)
        return numpy_transformer.latency_table(lengths, ceilings=report.ceilings("float32"),
                                               decoder_samples=None if args.full_generation else 8,
                                               decoder_repeats=1 if args.full_generation else 3,
                                               loop_up_to=max(lengths) if args.full_generation else 128,
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
