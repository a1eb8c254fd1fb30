"""The ``memwall`` command line (also ``python -m memwall``).

Subcommands expose the package's calculations for scripts and coursework:

``memwall fit``
    Exponential trend of a hardware series (growth per 2 and 20 years, doubling time, CI).
``memwall validate``
    Validate every table in ``data/``; exit status 1 with row/column messages if any is bad.
``memwall cost``
    FLOPs, bytes moved and arithmetic intensity of a Transformer phase, per operation or in total.
``memwall models``
    The model presets with their hyperparameters and parameter counts.
``memwall roofline``
    Roofline time bound of every operation of a phase on a datasheet device, or the ridge points.
``memwall serve``
    Decode bound, footprint, largest batch and critical batch of a model on a device under a precision scheme.
``memwall claims``
    The claims ledger: each claim of the paper with its value, ours and a computed status.
``memwall measure``
    This machine's memory bandwidth (STREAM), GEMM peak, GEMV-to-GEMM sweep, or encoder-vs-decoder latency.

Every subcommand takes ``--format table|csv|json``. Units are in column names and ``--help``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from memwall import (
    claims,
    cost,
    datasets,
    gpu_reference,
    hardware,
    measure,
    model_growth,
    models,
    numpy_transformer,
    roofline,
    serving,
)
from memwall.validation import DataValidationError

FORMATS = ("table", "csv", "json")


def _emit(df: pd.DataFrame, fmt: str) -> str:
    if fmt == "csv":
        return df.to_csv(index=False)
    if fmt == "json":
        return df.to_json(orient="records", indent=2, double_precision=15) + "\n"
    with pd.option_context("display.width", 200, "display.max_columns", 50, "display.float_format", "{:.6g}".format):
        return df.to_string(index=False) + "\n"


def _add_format(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, default="table",
                   help="output format: aligned table, CSV or JSON records (default: table)")


def _add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, default=None,
                   help="folder with the CSV tables (default: the repository's data/)")


def _paths(data_dir: Path | None) -> dict[str, Path | None]:
    names = {"hardware": "hardware.csv", "memory": "memory_generations.csv",
             "interconnects": "interconnects.csv", "paper": "paper_hw_scaling_points.csv",
             "survey": "survey_case_study.csv", "reference": "reference_measurements.csv",
             "models": "models.csv", "paper_models": "paper_model_points.csv",
             "paper_memory": "paper_training_memory.csv", "gpu_reference": "gpu_reference_measurements.csv"}
    return {k: (data_dir / v if data_dir else None) for k, v in names.items()}


def _cmd_fit(args: argparse.Namespace) -> pd.DataFrame:
    paths = _paths(args.data_dir)
    if args.rule is not None and not (args.data == "datasheet" and args.series == "flops"):
        raise ValueError("--rule applies only to --series flops --data datasheet (the paper's points come "
                         "with the precision the paper chose)")
    rule = args.rule or "max_16bit"
    if args.data == "paper":
        if args.series not in datasets.PAPER_SERIES:
            raise ValueError(f"--series {args.series!r} is not in the paper's figure; "
                             f"allowed with --data paper: {', '.join(datasets.PAPER_SERIES)}")
        points = datasets.load_paper_hw_points(paths["paper"])
        points = points[points["series"] == args.series]
        table, value, unit = points, "normalized_value", "normalized to the first point"
    else:
        hw = datasets.load_hardware(paths["hardware"], paths["memory"])
        links = datasets.load_interconnects(paths["interconnects"])
        table, value, unit = hardware.datasheet_series(args.series, hw, links, rule=rule)
    window = tuple(args.window) if args.window else None
    fit = hardware.fit_series(table, value, row_set=args.row_set, window=window)
    row = {"data": args.data, "series": args.series, "unit": unit,
           "rule": rule if args.series == "flops" and args.data == "datasheet" else "-",
           "row_set": args.row_set, **fit.as_dict()}
    return pd.DataFrame([row])


def _cmd_validate(args: argparse.Namespace) -> pd.DataFrame:
    paths = _paths(args.data_dir)
    loaders = {
        "memory_generations.csv": lambda: datasets.load_memory_generations(paths["memory"]),
        "hardware.csv": lambda: datasets.load_hardware(paths["hardware"], paths["memory"]),
        "interconnects.csv": lambda: datasets.load_interconnects(paths["interconnects"]),
        "paper_hw_scaling_points.csv": lambda: datasets.load_paper_hw_points(paths["paper"]),
        "survey_case_study.csv": lambda: datasets.load_survey_case_study(paths["survey"]),
        "reference_measurements.csv": lambda: datasets.load_reference_measurements(paths["reference"]),
        "models.csv": lambda: model_growth.load_models(paths["models"]),
        "paper_model_points.csv": lambda: model_growth.load_paper_model_points(paths["paper_models"]),
        "paper_training_memory.csv": lambda: model_growth.load_paper_training_memory(paths["paper_memory"]),
        "gpu_reference_measurements.csv": lambda: gpu_reference.load_gpu_reference(paths["gpu_reference"]),
    }
    rows, errors = [], []
    for name, load in loaders.items():
        if name == "hardware.csv" and rows and rows[0]["status"] != "ok":
            # hardware.csv's memory_type vocabulary comes from memory_generations.csv: already reported
            hw_path = paths["hardware"] or datasets.data_dir() / "hardware.csv"
            if not hw_path.is_file():
                errors.append(f"data table not found: {hw_path}")
            rows.append({"table": name, "rows": 0, "status": "NOT CHECKED (memory_generations.csv is invalid)"})
            continue
        try:
            rows.append({"table": name, "rows": len(load()), "status": "ok"})
        except (DataValidationError, FileNotFoundError) as err:
            rows.append({"table": name, "rows": 0, "status": "INVALID"})
            errors.append(str(err))
    if errors:
        raise DataValidationError(Path(args.data_dir or datasets.data_dir()), errors)
    return pd.DataFrame(rows)


def _cmd_cost(args: argparse.Namespace) -> pd.DataFrame:
    spec = models.get_preset(args.model)
    wb, ab, kb = (args.bytes,) * 3 if args.bytes is not None else (args.weight_bytes, args.act_bytes, args.kv_bytes)
    options = {"fused_attention": args.fused_attention, "causal_halving": args.causal_halving,
               "include_lm_head": args.include_lm_head, "include_embeddings": args.include_embeddings}
    frames = []
    for length in args.seq_len:
        table = cost.cost_table(spec, args.phase, length, args.batch, wb, ab, kb, **options)
        if not args.per_op:
            table = cost.totals(table).reset_index(drop=True)
        head = {"model": spec.name, "phase": args.phase, "seq_len": length, "batch": args.batch,
                "weight_bytes": wb, "act_bytes": ab, "kv_bytes": kb}
        frames.append(table.assign(**head)[[*head, *table.columns]])
    return pd.concat(frames, ignore_index=True)


def _cmd_models(args: argparse.Namespace) -> pd.DataFrame:
    rows = []
    for name in models.list_presets():
        spec = models.get_preset(name)
        rows.append({"preset": name, "layers": spec.layers, "d_model": spec.d_model, "heads": spec.heads,
                     "kv_heads": spec.kv_heads, "head_dim": spec.head_dim, "ffn_dim": spec.ffn_dim,
                     "ffn_kind": spec.ffn_kind, "experts": f"{spec.active_experts}/{spec.experts}",
                     "params": models.parameter_count(spec),
                     "non_embedding_params": models.non_embedding_parameter_count(spec),
                     "source_url": spec.source_url})
    return pd.DataFrame(rows)


def _cmd_roofline(args: argparse.Namespace) -> pd.DataFrame:
    hw = datasets.load_hardware()
    if args.model is None:
        if args.phase is not None or args.seq_len is not None:
            raise ValueError("--phase and --seq-len need --model (and one --device)")
        for device in args.device:  # a clear error for an unknown device or a missing precision
            roofline.Ceilings.from_hardware(hw, device, args.precision)
        table = roofline.ceilings_table(hw, precisions=(args.precision,), devices=args.device or None)
        return table.assign(peak_tflop_per_s=table["peak_flop_per_s"] / 1e12,
                            bandwidth_gb_per_s=table["bandwidth_bytes_per_s"] / 1e9)
    if not args.device or len(args.device) != 1 or args.phase is None or args.seq_len is None:
        raise ValueError("with --model, give exactly one --device, a --phase and a --seq-len")
    ceil = roofline.Ceilings.from_hardware(hw, args.device[0], args.precision)
    b = args.bytes
    table = roofline.roofline_table(cost.cost_table(args.model, args.phase, args.seq_len, args.batch, b, b, b), ceil)
    keep = ["op", "category", "flops", "bytes", "intensity", "compute_time_s", "memory_time_s", "time_s", "bound"]
    total = {"op": "TOTAL", "category": "-", "flops": table["flops"].sum(), "bytes": table["bytes"].sum(),
             "compute_time_s": table["compute_time_s"].sum(), "memory_time_s": table["memory_time_s"].sum(),
             "time_s": table["time_s"].sum()}
    total["intensity"] = total["flops"] / total["bytes"]
    total["bound"] = f"ridge {ceil.ridge_flop_per_byte:.1f} FLOP/B"
    return pd.concat([table[keep], pd.DataFrame([total])[keep]], ignore_index=True)


def _cmd_serve(args: argparse.Namespace) -> pd.DataFrame:
    hw = datasets.load_hardware()
    scheme = serving.get_scheme(args.scheme)
    ceil = serving.ceilings_for(hw, args.device, scheme)
    mem = serving.device_memory_bytes(hw, args.device)
    w = scheme.byte_widths
    rows = []
    for batch in args.batch:
        for context in args.context:
            fp = serving.footprint(args.model, batch, context, w["weight_bytes"], w["kv_bytes"], w["act_bytes"])
            rows.append({
                "model": args.model, "device": args.device, "scheme": scheme.name, "batch": batch, "context": context,
                "step_time_s": float(serving.decode_step_time(args.model, ceil, batch, context, **w)),
                "tokens_per_s": float(serving.tokens_per_s(args.model, ceil, batch, context, **w)),
                "ms_per_token": float(serving.ms_per_token(args.model, ceil, batch, context, **w)),
                "footprint_gb": float(fp.total) / 1e9, "device_memory_gb": mem / 1e9,
                "fits": bool(fp.total <= mem),
                "max_batch": int(serving.max_batch(args.model, mem, context, w["weight_bytes"], w["kv_bytes"],
                                                   w["act_bytes"])),
                "critical_batch_closed_form": float(serving.critical_batch(None, ceil, w["weight_bytes"])),
                "critical_batch_step": float(serving.critical_batch(args.model, ceil, context=context, **w)),
            })
    return pd.DataFrame(rows)


def _cmd_measure(args: argparse.Namespace) -> pd.DataFrame:
    table = _measure_table(args)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.output, index=False)
        print(f"memwall measure: wrote {len(table)} rows to {args.output}", file=sys.stderr)
    return table


def _measure_table(args: argparse.Namespace) -> pd.DataFrame:
    if args.what == "reference":
        report = measure.measure_machine(progress=not args.no_progress, quick=args.quick)
        lengths = args.seq_len or [128, 256, 512]
        latency = numpy_transformer.latency_table(lengths, ceilings=report.ceilings("float32"), decoder_samples=8,
                                                  decoder_repeats=3, progress=not args.no_progress)
        command = "memwall measure reference" + (" --quick" if args.quick else "") + (
            f" --seq-len {' '.join(map(str, lengths))}" if args.seq_len else "")
        return report.to_reference_rows(command=command, latency=latency)
    if args.what == "latency":
        lengths = args.seq_len or [128, 256, 512]
        report = measure.measure_machine(progress=not args.no_progress, quick=args.quick)
        return numpy_transformer.latency_table(lengths, ceilings=report.ceilings("float32"),
                                               decoder_samples=None if args.full_generation else 8,
                                               decoder_repeats=1 if args.full_generation else 3,
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


_STATUS_ALIASES = {"differs": claims.DIFFERS_EXPLAINED, "explained": claims.DIFFERS_EXPLAINED,
                   "unexplained": claims.UNEXPLAINED, "not-reproducible": claims.NOT_REPRODUCIBLE}
"""ASCII spellings of the statuses for the command line (the statuses themselves contain an em dash)."""


def _cmd_claims(args: argparse.Namespace) -> pd.DataFrame:
    if args.data_dir is not None:
        raise ValueError("--data-dir is not supported by claims: the ledger checks the repository's own tables")
    chapter = args.chapter
    if chapter is not None and "/" not in chapter:
        chapter = f"chapters/{chapter.removesuffix('.md')}"  # accept the short name, e.g. hardware_trends
    table = claims.ledger(chapter, claims=args.claim or None)
    if args.status:
        table = table[table["status"].isin([_STATUS_ALIASES.get(s, s) for s in args.status])]
    if args.format == "table":
        table = table[["claim_id", "chapter", "paper_text", "paper_value", "ours_paper_data", "ours_extended", "unit",
                       "difference_pct", "status"]]
    return table.reset_index(drop=True)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``memwall`` command."""
    parser = argparse.ArgumentParser(
        prog="memwall",
        description="Calculations behind the memwall book (a recomputation of 'AI and Memory Wall').",
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
                     choices=sorted(set(datasets.PAPER_SERIES) | set(hardware.DATASHEET_SERIES)),
                     help="quantity to fit")
    fit.add_argument("--data", choices=("paper", "datasheet"), default="paper",
                     help="the paper's figure points, or our datasheet tables (default: paper)")
    fit.add_argument("--rule", choices=list(hardware.PRECISION_RULES), default=None,
                     help="precision rule for --series flops --data datasheet (default: max_16bit)")
    fit.add_argument("--row-set", choices=hardware.ROW_SETS, default="all",
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
                     help=f"model preset, one of: {', '.join(models.list_presets())}")
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
                     help=f"precision scheme, one of {', '.join(serving.PRECISION_SCHEMES)} (+ -KV8/-KV4)")
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``memwall`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 1 on invalid data or parameters, 2 on bad usage (argparse).
    """
    args = build_parser().parse_args(argv)
    try:
        result = args.func(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"memwall {args.command}: error: {err}", file=sys.stderr)
        return 1
    sys.stdout.write(_emit(result, args.format))
    return 0
