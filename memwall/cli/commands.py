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
from pathlib import Path

import pandas as pd

from memwall import bounds, claims, cost, cost_totals, device_ceilings, roofline, specs, tables
from memwall.book import in_unit
from memwall.serving import decode, memory, schemes
from memwall.tables.validation import DataValidationError
from memwall.wall import hardware_trends, measure, numpy_transformer, trend_checks
from memwall.widths import ByteWidths

_STATUS_ALIASES = {"differs": claims.DIFFERS_EXPLAINED, "explained": claims.DIFFERS_EXPLAINED,
                   "unexplained": claims.UNEXPLAINED, "not-reproducible": claims.NOT_REPRODUCIBLE}
"""ASCII spellings of the statuses for the command line (the statuses themselves contain an em dash)."""


def _emit(df: pd.DataFrame, fmt: str) -> str:
    if fmt == "csv":
        return df.to_csv(index=False)
    if fmt == "json":
        return df.to_json(orient="records", indent=2, double_precision=15) + "\n"
    with pd.option_context("display.width", 200, "display.max_columns", 50, "display.float_format", "{:.6g}".format):
        return df.to_string(index=False) + "\n"


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
        if args.series not in tables.PAPER_SERIES:
            raise ValueError(f"--series {args.series!r} is not in the paper's figure; "
                             f"allowed with --data paper: {', '.join(tables.PAPER_SERIES)}")
        points = tables.load_paper_hw_points(paths["paper"])
        points = points[points["series"] == args.series]
        table, value, unit = points, "normalized_value", "normalized to the first point"
    else:
        hw = tables.load_hardware(paths["hardware"], paths["memory"])
        links = tables.load_interconnects(paths["interconnects"])
        table, value, unit = trend_checks.datasheet_series(args.series, hw, links, rule=rule)
    window = tuple(args.window) if args.window else None
    fit = hardware_trends.fit_series(table, value, row_set=args.row_set, window=window)
    row = {"data": args.data, "series": args.series, "unit": unit,
           "rule": rule if args.series == "flops" and args.data == "datasheet" else "-",
           "row_set": args.row_set, **fit.as_dict()}
    return pd.DataFrame([row])


def _cmd_validate(args: argparse.Namespace) -> pd.DataFrame:
    paths = _paths(args.data_dir)
    loaders = {
        "memory_generations.csv": lambda: tables.load_memory_generations(paths["memory"]),
        "hardware.csv": lambda: tables.load_hardware(paths["hardware"], paths["memory"]),
        "interconnects.csv": lambda: tables.load_interconnects(paths["interconnects"]),
        "paper_hw_scaling_points.csv": lambda: tables.load_paper_hw_points(paths["paper"]),
        "survey_case_study.csv": lambda: tables.load_survey_case_study(paths["survey"]),
        "reference_measurements.csv": lambda: tables.load_reference_measurements(paths["reference"]),
        "models.csv": lambda: tables.load_models(paths["models"]),
        "paper_model_points.csv": lambda: tables.load_paper_model_points(paths["paper_models"]),
        "paper_training_memory.csv": lambda: tables.load_paper_training_memory(paths["paper_memory"]),
        "gpu_reference_measurements.csv": lambda: tables.load_gpu_reference(paths["gpu_reference"]),
    }
    rows, errors = [], []
    for name, load in loaders.items():
        if name == "hardware.csv" and rows and rows[0]["status"] != "ok":
            # hardware.csv's memory_type vocabulary comes from memory_generations.csv: already reported
            hw_path = paths["hardware"] or tables.data_dir() / "hardware.csv"
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
        raise DataValidationError(Path(args.data_dir or tables.data_dir()), errors)
    return pd.DataFrame(rows)


def _cmd_cost(args: argparse.Namespace) -> pd.DataFrame:
    spec = specs.get_preset(args.model)
    wb, ab, kb = (args.bytes,) * 3 if args.bytes is not None else (args.weight_bytes, args.act_bytes, args.kv_bytes)
    options = {"fused_attention": args.fused_attention, "causal_halving": args.causal_halving,
               "include_lm_head": args.include_lm_head, "include_embeddings": args.include_embeddings}
    frames = []
    for length in args.seq_len:
        table = cost.cost_table(spec, args.phase, length, args.batch, widths=ByteWidths(weight=wb, act=ab, kv=kb),
                                **options)
        if not args.per_op:
            table = cost_totals.totals(table).reset_index(drop=True)
        head = {"model": spec.name, "phase": args.phase, "seq_len": length, "batch": args.batch,
                "weight_bytes": wb, "act_bytes": ab, "kv_bytes": kb}
        frames.append(table.assign(**head)[[*head, *table.columns]])
    return pd.concat(frames, ignore_index=True)


def _cmd_models(args: argparse.Namespace) -> pd.DataFrame:
    rows = []
    for name in specs.list_presets():
        spec = specs.get_preset(name)
        rows.append({"preset": name, "layers": spec.layers, "d_model": spec.d_model, "heads": spec.heads,
                     "kv_heads": spec.kv_heads, "head_dim": spec.head_dim, "ffn_dim": spec.ffn_dim,
                     "ffn_kind": spec.ffn_kind, "experts": f"{spec.active_experts}/{spec.experts}",
                     "params": specs.parameter_count(spec),
                     "non_embedding_params": specs.non_embedding_parameter_count(spec),
                     "source_url": spec.source_url})
    return pd.DataFrame(rows)


def _cmd_roofline(args: argparse.Namespace) -> pd.DataFrame:
    hw = tables.load_hardware()
    if args.model is None:
        if args.phase is not None or args.seq_len is not None:
            raise ValueError("--phase and --seq-len need --model (and one --device)")
        for device in args.device:  # a clear error for an unknown device or a missing precision
            roofline.Ceilings.from_hardware(hw, device, args.precision)
        table = device_ceilings.ceilings_table(hw, precisions=(args.precision,), devices=args.device or None)
        return table.assign(peak_tflop_per_s=table["peak_flop_per_s"] / 1e12,
                            bandwidth_gb_per_s=table["bandwidth_bytes_per_s"] / 1e9)
    if not args.device or len(args.device) != 1 or args.phase is None or args.seq_len is None:
        raise ValueError("with --model, give exactly one --device, a --phase and a --seq-len")
    ceil = roofline.Ceilings.from_hardware(hw, args.device[0], args.precision)
    b = args.bytes
    table = bounds.roofline_table(cost.cost_table(args.model, args.phase, args.seq_len, args.batch,
                                                  widths=ByteWidths.uniform(b)), ceil)
    keep = ["op", "category", "flops", "bytes", "intensity", "compute_time_s", "memory_time_s", "time_s", "bound"]
    total = {"op": "TOTAL", "category": "-", "flops": table["flops"].sum(), "bytes": table["bytes"].sum(),
             "compute_time_s": table["compute_time_s"].sum(), "memory_time_s": table["memory_time_s"].sum(),
             "time_s": table["time_s"].sum()}
    total["intensity"] = total["flops"] / total["bytes"]
    total["bound"] = f"ridge {ceil.ridge_flop_per_byte:.1f} FLOP/B"
    return pd.concat([table[keep], pd.DataFrame([total])[keep]], ignore_index=True)


def _cmd_serve(args: argparse.Namespace) -> pd.DataFrame:
    hw = tables.load_hardware()
    scheme = schemes.get_scheme(args.scheme)
    ceil = schemes.ceilings_for(hw, args.device, scheme)
    mem = schemes.device_memory_bytes(hw, args.device)
    w = scheme.widths
    rows = []
    for batch in args.batch:
        for context in args.context:
            fp = memory.footprint(args.model, batch, context, widths=w)
            rows.append({
                "model": args.model, "device": args.device, "scheme": scheme.name, "batch": batch, "context": context,
                "step_time_s": float(decode.decode_step_time(args.model, ceil, batch, context, widths=w)),
                "tokens_per_s": float(decode.tokens_per_s(args.model, ceil, batch, context, widths=w)),
                "ms_per_token": float(in_unit(decode.time_per_token(args.model, ceil, batch, context, widths=w), "ms")),
                "footprint_gb": float(in_unit(fp.total, "GB")), "device_memory_gb": float(in_unit(mem, "GB")),
                "fits": bool(fp.total <= mem),
                "max_batch": int(memory.max_batch(args.model, mem, context, widths=w)),
                "critical_batch_closed_form": float(decode.critical_batch(None, ceil,
                                                                          widths=ByteWidths(weight=w.weight))),
                "critical_batch_step": float(decode.critical_batch(args.model, ceil, context=context, widths=w)),
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
