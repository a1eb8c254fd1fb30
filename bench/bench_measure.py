"""Measure this machine (STREAM, GEMM peak, GEMV→GEMM) and time BERT-Base vs GPT-2 in numpy.

Prints the machine description, bandwidth per STREAM kernel, GEMM peaks, the GEMV-to-GEMM table and
a short encoder-vs-decoder latency table beside the survey's ratios (Kim et al., arXiv 2302.14017,
Fig. 9) and the roofline prediction from the measured ceilings. Target: the measurement in under 20 s
on a 2-core machine; the latency part takes about 10 s per 256 generated tokens on such a machine.

With ``--budget-machine S`` and ``--budget-latency S`` both parts run under a time budget (adaptive
repeats, :class:`memwall.wall.measure.timing.TimeBudget`) and the tables carry each number's IQR and
repeat count.

Run: ``python bench/bench_measure.py [--seq-lens 128 256] [--budget-machine 9 --budget-latency 16] [--no-progress]``.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from memwall.wall.measure import measure_machine
from memwall.wall.numpy_transformer import latency_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq-lens", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--budget-machine", type=float, default=None, help="time budget of the roofline part [s]")
    parser.add_argument("--budget-latency", type=float, default=None, help="time budget of the latency part [s]")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 20)
    pd.set_option("display.float_format", "{:.4g}".format)

    start = time.perf_counter()
    report = measure_machine(progress=not args.no_progress, budget_s=args.budget_machine)
    print(f"measurement: {report.elapsed_s:.1f} s (wall {time.perf_counter() - start:.1f} s)")
    for key, value in report.info.as_dict().items():
        print(f"  {key}: {value}")
    for note in report.notes:
        print(f"  note: {note}")
    stream = report.stream.assign(GB_per_s=report.stream["bandwidth_bytes_per_s"] / 1e9,
                                  best_GB_per_s=report.stream["best_bandwidth_bytes_per_s"] / 1e9)
    print("\nSTREAM (bytes counted as STREAM does):")
    print(stream[["kernel", "array_bytes", "threads", "stream_bytes_per_element", "moved_bytes_per_element",
                  "time_s", "GB_per_s", "best_GB_per_s"]].to_string(index=False))
    print("\nGEMM:")
    print(report.gemm.assign(GFLOP_per_s=report.gemm["flop_per_s"] / 1e9).to_string(index=False))
    print("\nGEMV -> GEMM (float32, W d x d):")
    gemv = report.gemv.assign(GFLOP_per_s=report.gemv["flop_per_s"] / 1e9,
                              GB_per_s=report.gemv["effective_bandwidth_bytes_per_s"] / 1e9)
    print(gemv[["batch", "intensity_flop_per_byte", "time_s", "GFLOP_per_s", "GB_per_s"]].to_string(index=False))

    ceilings = report.ceilings("float32", name="this machine")
    print(f"\nceilings: {ceilings.peak_flop_per_s / 1e9:.0f} GFLOP/s fp32, "
          f"{ceilings.bandwidth_bytes_per_s / 1e9:.1f} GB/s, ridge {ceilings.ridge_flop_per_byte:.1f} FLOP/B")
    start = time.perf_counter()
    table = latency_table(args.seq_lens, ceilings=ceilings, progress=not args.no_progress, budget_s=args.budget_latency)
    print(f"\nBERT-Base encode vs GPT-2 generate, batch 1, float32 ({time.perf_counter() - start:.1f} s):")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
