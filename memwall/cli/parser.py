"""The argument parser of the ``memwall`` command line."""

from __future__ import annotations

import argparse
from pathlib import Path

from memwall import claims, cost, roofline, specs, tables
from memwall.cli.commands import (
    _STATUS_ALIASES,
    _cmd_claims,
    _cmd_cost,
    _cmd_fit,
    _cmd_measure,
    _cmd_models,
    _cmd_roofline,
    _cmd_serve,
    _cmd_validate,
)
from memwall.serving import schemes
from memwall.wall import hardware_trends, trend_checks

__all__ = ["FORMATS", "build_parser"]


FORMATS = ("table", "csv", "json")


def _add_format(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, default="table",
                   help="output format: aligned table, CSV or JSON records (default: table)")


def _add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, default=None,
                   help="folder with the CSV tables (default: $MEMWALL_DATA_DIR if set, else the installed "
                        "package's memwall/data/, else the repository's data/)")



def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``memwall`` command."""
    parser = argparse.ArgumentParser(
        prog="memwall",
        description="Calculations behind the memwall book (a recomputation of 'AI and Memory Wall').",
        epilog=(
            "Data tables: read from the folder named by the environment variable MEMWALL_DATA_DIR when it is set "
            "(same file names as data/), else from the copy inside the installed package (memwall/data/), else "
            "from data/ of the repository clone. fit and validate also take --data-dir FOLDER, which overrides "
            "all three for that command."),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fit = sub.add_parser(
        "fit", help="exponential trend of a hardware series",
        description=(
            "Fit log10(value) against fractional calendar year by least squares and print growth per "
            "2 years [x], per 20 years [x], doubling time [years] and a 95% confidence interval of the "
            "growth per 2 years [x]. --data paper uses the paper's own plotted points (normalised, "
            "unitless); --data datasheet uses data/hardware.csv (FLOP/s, B/s) and data/interconnects.csv "
            "(bit/s per lane, B/s per direction)."),
    )
    fit.add_argument("--series", required=True,
                     choices=sorted(set(tables.PAPER_SERIES) | set(trend_checks.DATASHEET_SERIES)),
                     help="quantity to fit")
    fit.add_argument("--data", choices=("paper", "datasheet"), default="paper",
                     help="the paper's figure points, or our datasheet tables (default: paper)")
    fit.add_argument("--rule", choices=list(hardware_trends.PRECISION_RULES), default=None,
                     help="precision rule for --series flops --data datasheet (default: max_16bit)")
    fit.add_argument("--row-set", choices=hardware_trends.ROW_SETS, default="all",
                     help="all rows, or record setters only (default: all)")
    fit.add_argument("--window", nargs=2, type=int, metavar=("FIRST", "LAST"),
                     help="inclusive calendar years to keep, e.g. 2012 2026")
    _add_data_dir(fit)
    _add_format(fit)
    fit.set_defaults(func=_cmd_fit)

    val = sub.add_parser("validate", help="validate every table in data/",
                         description="Validate every CSV table against its schema; exit 1 and list "
                                     "file, line, column and reason for each bad cell.")
    _add_data_dir(val)
    _add_format(val)
    val.set_defaults(func=_cmd_validate)

    cst = sub.add_parser(
        "cost", help="FLOPs, bytes and arithmetic intensity of a Transformer phase",
        description=(
            "Operation-level cost of one inference phase (memwall.cost): FLOPs [FLOP] (1 multiply-add = "
            "2 FLOPs), bytes read and written to DRAM [B] (each operand read once, each result written "
            "once, no fusion unless asked), and arithmetic intensity [FLOP/B]. Whole-model values; "
            "--per-op gives one row per operation (divide by 'count' for one layer). Phases: prefill/encode "
            "over SEQ_LEN tokens; decode = one new token with SEQ_LEN tokens in the KV cache; generate = "
            "SEQ_LEN tokens one by one from an empty cache. Embeddings and LM head are excluded unless asked."),
    )
    cst.add_argument("--model", required=True, metavar="PRESET",
                     help=f"model preset, one of: {', '.join(specs.list_presets())}")
    cst.add_argument("--phase", required=True, choices=cost.PHASES, help="inference phase")
    cst.add_argument("--seq-len", required=True, type=int, nargs="+", metavar="L",
                     help="sequence length(s) [tokens] (for decode: tokens already in the KV cache)")
    cst.add_argument("--batch", type=int, default=1, help="sequences processed together [sequences] (default 1)")
    cst.add_argument("--weight-bytes", type=float, default=2.0, help="bytes per weight [B/element] (default 2)")
    cst.add_argument("--act-bytes", type=float, default=2.0, help="bytes per activation [B/element] (default 2)")
    cst.add_argument("--kv-bytes", type=float, default=2.0, help="bytes per K/V element [B/element] (default 2)")
    cst.add_argument("--bytes", type=float, default=None, metavar="B",
                     help="set weight, activation and KV bytes at once [B/element] (the survey uses 1)")
    cst.add_argument("--per-op", action="store_true", help="one row per operation instead of totals")
    cst.add_argument("--fused-attention", action="store_true", help="scores stay on chip (FlashAttention-style)")
    cst.add_argument("--causal-halving", action="store_true", help="prefill counts only the causal half of scores")
    cst.add_argument("--include-lm-head", action="store_true", help="add final norm and LM head (all positions)")
    cst.add_argument("--include-embeddings", action="store_true", help="add the embedding gather (bytes only)")
    _add_format(cst)
    cst.set_defaults(func=_cmd_cost)

    rfl = sub.add_parser(
        "roofline", help="roofline time bounds on a datasheet device",
        description=(
            "Without --model: the roofline ceilings (peak [FLOP/s], DRAM bandwidth [B/s], ridge point [FLOP/B]) "
            "of the named devices (all if none) at --precision. With --model: every operation of a phase with its "
            "compute time FLOPs/peak, memory time bytes/bandwidth and bound max(...) [s] on one device, and a TOTAL "
            "row (sum of the bounds). Device names are those of data/hardware.csv."),
    )
    rfl.add_argument("--device", nargs="*", default=[], metavar="DEVICE", help="device name(s) from data/hardware.csv")
    rfl.add_argument("--precision", choices=list(roofline.PRECISION_COLUMNS), default="fp16",
                     help="which peak to use (default fp16: dense FP16/BF16)")
    rfl.add_argument("--model", metavar="PRESET", default=None, help="model preset (see `memwall models`)")
    rfl.add_argument("--phase", choices=cost.PHASES, default=None, help="inference phase")
    rfl.add_argument("--seq-len", type=int, default=None, metavar="L", help="tokens (decode: cached tokens)")
    rfl.add_argument("--batch", type=int, default=1, help="sequences [sequences] (default 1)")
    rfl.add_argument("--bytes", type=float, default=2.0, help="bytes per element for weights, activations and KV "
                                                              "[B/element] (default 2)")
    _add_format(rfl)
    rfl.set_defaults(func=_cmd_roofline)

    srv = sub.add_parser(
        "serve", help="decode bound, memory footprint and critical batch on a device",
        description=(
            "For a decoder model on a datasheet device under a precision scheme (W16A16, W8A16, W4A16, W8A8, FP8, "
            "optionally with -KV8/-KV4): the roofline bound of one decode step [s], throughput [tokens/s per "
            "device], time per token [ms], the memory footprint (weights + KV cache + activations) [GB = 1e9 B] "
            "against the device memory, the largest batch that fits, and the critical batch [sequences] where "
            "decode turns compute-bound (closed form (P/BW)*b_w/2 and for the whole step at this context; inf = "
            "never)."),
    )
    srv.add_argument("--model", required=True, metavar="PRESET", help="decoder preset (see `memwall models`)")
    srv.add_argument("--device", required=True, metavar="DEVICE", help="device name from data/hardware.csv")
    srv.add_argument("--scheme", default="W16A16", metavar="SCHEME",
                     help=f"precision scheme, one of {', '.join(schemes.PRECISION_SCHEMES)} (+ -KV8/-KV4)")
    srv.add_argument("--batch", type=int, nargs="+", default=[1], metavar="B", help="sequences [sequences]")
    srv.add_argument("--context", type=int, nargs="+", default=[1024], metavar="L",
                     help="cached tokens per sequence [tokens]")
    _add_format(srv)
    srv.set_defaults(func=_cmd_serve)

    msr = sub.add_parser(
        "measure", help="measure this machine's roofline ceilings",
        description=(
            "summary: CPU, BLAS, best STREAM bandwidth [GB/s], GEMM peak [GFLOP/s], the roofline ceilings (best rate "
            "of any measurement) and their ridge [FLOP/B] (about 15 s). "
            "stream / gemm / gemv: the full tables (bandwidth [B/s], FLOP/s, intensity [FLOP/B]). latency: "
            "numpy BERT-Base encode vs GPT-2 generate times [s] and their ratio beside the survey's and the roofline "
            "bound's (generation estimated from sampled decode steps unless --full-generation)."),
    )
    msr.add_argument("what", nargs="?", choices=("summary", "stream", "gemm", "gemv", "latency", "reference"),
                     default="summary", help="what to report (default summary); reference: every measurement in "
                                             "the format of data/reference_measurements.csv (about 40 s)")
    msr.add_argument("--output", type=Path, default=None, metavar="CSV",
                     help="also write the table to this CSV file (e.g. data/reference_measurements.csv)")
    msr.add_argument("--seq-len", type=int, nargs="+", metavar="L", help="lengths for latency [tokens]")
    msr.add_argument("--full-generation", action="store_true", help="time whole generations (slow)")
    msr.add_argument("--quick", action="store_true", help="smoke-test sizes (about 2 s; not for numbers)")
    msr.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_format(msr)
    msr.set_defaults(func=_cmd_measure)

    clm = sub.add_parser(
        "claims", help="the claims ledger: the paper's claims, our values and their status",
        description=(
            "Every registered claim (memwall.claims): the paper's value as printed and as a number, our value from "
            "the paper's own data and from our extended data (in the claim's unit), the difference ours - paper "
            "(difference_pct [%]), the tolerance and a status computed by rule: reproduced (within tolerance), "
            "'differs — explained' (outside, with an explanation) or 'not reproducible' (ours cannot be computed, "
            "with the reason). --format table shows the main columns; csv and json give all of them."),
    )
    clm.add_argument("--chapter", default=None, metavar="DOCNAME",
                     help="only this chapter's claims, e.g. chapters/hardware_trends or hardware_trends")
    clm.add_argument("--claim", nargs="+", default=None, metavar="ID", help="only these claim ids")
    clm.add_argument("--status", nargs="+", default=None,
                     choices=[*claims.STATUSES, claims.UNEXPLAINED, *_STATUS_ALIASES], metavar="STATUS",
                     help=f"only claims with these statuses ({', '.join(claims.STATUSES)}; or the ASCII aliases "
                          f"{', '.join(_STATUS_ALIASES)})")
    clm.set_defaults(data_dir=None)
    _add_format(clm)
    clm.set_defaults(func=_cmd_claims)

    mdl = sub.add_parser("models", help="list the model presets",
                         description="Model presets with hyperparameters, parameter counts [parameters] and sources.")
    _add_format(mdl)
    mdl.set_defaults(func=_cmd_models)
    return parser
