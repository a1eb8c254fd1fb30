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
``memwall devices``
    The devices of the hardware table with their short names (aliases) and ceilings.
``memwall roofline``
    Roofline time bound of every operation of a phase on a datasheet device, or the ridge points.
``memwall serve``
    Decode bound, footprint, largest batch and critical batch of a model on a device under a precision scheme.
``memwall claims``
    The claims ledger: each claim of the paper with its value, ours and a computed status.
``memwall measure``
    This machine's memory bandwidth (STREAM), GEMM peak, GEMV-to-GEMM sweep, or encoder-vs-decoder latency.

Every subcommand takes ``--format table|csv|json``. Units are in column names and ``--help``. A command
refuses options that contradict each other or would change nothing (:class:`memwall.cli.errors.UsageError`,
exit 2) and tags the errors of what an option names with that option (:func:`memwall.cli.errors.about`).

Each command imports what it needs when it runs, so that ``memwall serve`` and ``memwall devices`` start
without pandas (their rows are plain dicts, printed by :func:`memwall.cli.output.emit` without pandas; the
hardware table comes from :func:`memwall.device_lookup.hardware_records`). Devices are looked up by
:func:`memwall.device_lookup.find_device`; ``--peak-flops``/``--bandwidth``/``--memory`` describe a device
that is in no table, ``--hardware`` names a user table; models are resolved by
:func:`memwall.specs.hf_config.resolve_model` (preset, ``config.json`` path or Hub id in the local cache).
Those option helpers live in :mod:`memwall.cli.resolve`, the ``measure`` command in
:mod:`memwall.cli.measure`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memwall.cli.errors import CliError, UsageError, about
from memwall.cli.measure import _cmd_measure
from memwall.cli.options import given
from memwall.cli.resolve import _custom_device, _model, _serve_device, _table_label, _warn_beyond_positions

if TYPE_CHECKING:
    import pandas as pd

    from memwall.specs.model_spec import ModelSpec

Rows = list[dict[str, Any]]
"""A command's result without pandas: one dict per row, the same keys in every row."""


def _status_aliases() -> dict[str, str]:
    """ASCII spellings of the statuses for the command line (the statuses themselves contain an em dash)."""
    from memwall import claims

    return {"differs": claims.DIFFERS_EXPLAINED, "explained": claims.DIFFERS_EXPLAINED,
            "unexplained": claims.UNEXPLAINED, "not-reproducible": claims.NOT_REPRODUCIBLE}


def _paths(data_dir: Path | None) -> dict[str, Path | None]:
    names = {"hardware": "hardware.csv", "memory": "memory_generations.csv",
             "interconnects": "interconnects.csv", "paper": "paper_hw_scaling_points.csv",
             "survey": "survey_case_study.csv", "reference": "reference_measurements.csv",
             "models": "models.csv", "paper_models": "paper_model_points.csv",
             "paper_memory": "paper_training_memory.csv", "gpu_reference": "gpu_reference_measurements.csv",
             "pruning": "pruning_results.csv", "onchip": "onchip_memory.csv", "tiers": "memory_tiers.csv",
             "recommendation": "recommendation_models.csv", "optimizer_memory": "optimizer_memory_published.csv",
             "mlperf": "mlperf_llm_results.csv", "mlperf_workloads": "mlperf_llm_workloads.csv"}
    return {k: (data_dir / v if data_dir else None) for k, v in names.items()}


# -------------------------------------------------------------------------------------------- devices


def _cmd_devices(args: argparse.Namespace) -> Rows:
    from memwall.device_lookup import DeviceLookupError, aliases_of, device_row, hardware_records

    with about("--hardware" if args.hardware is not None else None):  # else the book's table (or the data folder)
        records = hardware_records(args.hardware)
    by_name = {r["device"]: r for r in records}
    triples: list[tuple[str | None, str, dict]] = []
    for typed in args.names:  # each typed name on its own: found, one of several, or the closest three
        try:
            triples.append((typed, "this row", device_row(records, typed, table=_table_label(args))))
        except DeviceLookupError as err:
            if not err.candidates:
                err.parameter = "NAME"  # type: ignore[attr-defined]
                raise
            what = (f"one of {len(err.candidates)} matches" if err.ambiguous else "no match; a close name")
            triples += [(typed, what, by_name[name]) for name in err.candidates]
    if not args.names:
        triples = [(None, "", r) for r in records]
    rows = []
    for typed, what, r in triples:
        row = {"typed": typed, "found": what} if args.names else {}
        rows.append({**row, "device": r["device"], "aliases": ", ".join(aliases_of(r["device"])) or "-",
                     "vendor": r["vendor"], "kind": r["kind"], "release_date": r["release_date"],
                     "dense_fp16_tflop_per_s": r["dense_fp16_tflop_per_s"],
                     "memory_bandwidth_gb_per_s": r["memory_bandwidth_gb_per_s"],
                     "memory_capacity_gib": r["memory_capacity_gib"]})
    return rows


# ------------------------------------------------------------------------------------------ commands


def _cmd_fit(args: argparse.Namespace) -> pd.DataFrame:
    import pandas as pd

    from memwall import tables
    from memwall.wall import hardware_trends, trend_checks

    paths = _paths(args.data_dir)
    if args.rule is not None and not (args.data == "datasheet" and args.series == "flops"):
        raise UsageError(f"--rule applies only to --series flops --data datasheet, not to --series {args.series} "
                         f"--data {args.data} (the paper's points come with the precision the paper chose)", "--rule")
    if args.window and args.window[0] > args.window[1]:
        raise UsageError(f"--window FIRST LAST needs FIRST <= LAST, got {args.window[0]} {args.window[1]}", "--window")
    rule = args.rule or "max_16bit"
    if args.data == "paper" and args.series not in tables.PAPER_SERIES:
        raise UsageError(f"--series {args.series!r} is not in the paper's figure, which --data paper"
                         f"{'' if given(args, 'data') else ' (the default)'} fits; allowed with --data paper: "
                         f"{', '.join(tables.PAPER_SERIES)}; or give --data datasheet", "--series")
    if args.data == "paper":
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


def _example_config(data_dir: Path | None) -> ModelSpec:
    """Load the data folder's example ``config.json`` (a missing file is a ``FileNotFoundError``)."""
    from memwall import tables
    from memwall.specs.hf_config import EXAMPLE_CONFIG, load_config

    path = (data_dir or tables.data_dir()) / EXAMPLE_CONFIG
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    return load_config(path)


def _cmd_validate(args: argparse.Namespace) -> pd.DataFrame:
    """Every table of the data folder with its rows and status; a table short of ``ok`` raises
    :class:`memwall.tables.folder_check.DataFolderError`, whose ``problems`` and ``tables`` list them all."""
    from memwall.tables.folder_check import validate_folder

    with about("--data-dir" if args.data_dir is not None else None):
        return validate_folder(args.data_dir).frame()


def _lm_head(args: argparse.Namespace) -> str:
    """``--lm-head`` with its alias ``--include-lm-head`` (= ``all``); a contradiction is an error."""
    if args.include_lm_head and args.lm_head not in (None, "all"):
        raise UsageError(f"--include-lm-head means --lm-head all and contradicts --lm-head {args.lm_head}; give one",
                         "--include-lm-head")
    return "all" if args.include_lm_head else (args.lm_head or "none")


def _check_cost_options(args: argparse.Namespace) -> None:
    """Refuse ``cost`` options that contradict each other or would change nothing."""
    widths = [o for o in ("--weight-bytes", "--act-bytes", "--kv-bytes") if getattr(args, o[2:].replace("-", "_"))
              is not None]
    if args.bytes is not None and widths:
        raise UsageError(f"--bytes sets every width and contradicts {'/'.join(widths)}; give --bytes or the "
                         "separate widths", "--bytes")
    if args.causal_halving and args.phase in ("decode", "generate"):
        raise UsageError(f"--causal-halving changes nothing with --phase {args.phase} (a decode step is causal "
                         "already); it applies to prefill and encode", "--causal-halving")
    if args.include_embeddings and args.scope == "matmul":
        raise UsageError("--include-embeddings changes nothing with --scope matmul (the embedding gather is not a "
                         "matrix product); give one", "--include-embeddings")
    _check_lengths(args.seq_len, args.phase)
    _lm_head(args)


def _check_lengths(lengths: list[int], phase: str) -> None:
    if phase != "decode" and 0 in lengths:
        raise UsageError(f"--seq-len 0 with --phase {phase}: a {phase} needs at least 1 token (0 is allowed for "
                         "decode only: a step with an empty KV cache)", "--seq-len")


def _cmd_cost(args: argparse.Namespace) -> pd.DataFrame:
    import pandas as pd

    from memwall import cost, cost_totals
    from memwall.widths import ByteWidths

    _check_cost_options(args)
    with about("--model"):
        spec = _model(args.model)
    if args.causal_halving and not spec.causal:
        raise UsageError(f"--causal-halving changes nothing for --model {args.model}, an encoder (it attends both "
                         "ways); leave it out", "--causal-halving")
    if args.phase in ("decode", "generate") and not spec.causal:
        raise UsageError(f"--phase {args.phase} needs a decoder; --model {args.model} is an encoder (use --phase "
                         "encode)", "--phase")
    _warn_beyond_positions(spec, args.seq_len, "--seq-len", args.phase)
    wb, ab, kb = (args.bytes,) * 3 if args.bytes is not None else (
        2.0 if w is None else w for w in (args.weight_bytes, args.act_bytes, args.kv_bytes))
    options = {"fused_attention": args.fused_attention, "causal_halving": args.causal_halving,
               "include_lm_head": _lm_head(args), "include_embeddings": args.include_embeddings, "scope": args.scope}
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
    import pandas as pd

    from memwall import specs

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


def _check_roofline_options(args: argparse.Namespace) -> None:
    """Refuse ``roofline`` options that need ``--model`` without it, and a ``--model`` line short of one."""
    if args.model is None:
        alone = [o for o in ("--phase", "--seq-len", "--batch", "--bytes") if getattr(args, o[2:].replace("-", "_"))
                 is not None]
        if alone:
            raise UsageError(f"{'/'.join(alone)} {'needs' if len(alone) == 1 else 'need'} --model: with a model "
                             "roofline times a phase on one device, without one it lists device ceilings", alone[0])
        return
    missing = [o for o in ("--phase", "--seq-len") if getattr(args, o[2:].replace("-", "_")) is None]
    if missing:
        raise UsageError(f"--model needs {' and '.join(missing)} as well", missing[0])
    if len(args.device) != 1 and args.peak_flops is None and args.bandwidth is None:
        raise UsageError(f"with --model, give exactly one --device (or --peak-flops and --bandwidth), not "
                         f"{len(args.device)}", "--device")
    _check_lengths([args.seq_len], args.phase)


def _cmd_roofline(args: argparse.Namespace) -> pd.DataFrame:
    import pandas as pd

    from memwall import bounds, cost, device_ceilings, roofline, tables
    from memwall.device_lookup import find_device
    from memwall.widths import ByteWidths

    _check_roofline_options(args)
    custom = _custom_device(args, args.precision)
    if custom is not None:
        ceilings = [custom[0]]
    else:
        with about("--hardware"):
            hw = tables.load_hardware(args.hardware)
        names = list(hw["device"])
        with about("--device"):
            devices = [find_device(d, names, table=_table_label(args)) for d in args.device]
            ceilings = [roofline.Ceilings.from_hardware(hw, d, args.precision) for d in devices]
    if args.model is None:
        if custom is not None:
            (c,) = ceilings
            table = pd.DataFrame([{"device": c.name, "precision": c.precision, "peak_flop_per_s": c.peak_flop_per_s,
                                   "bandwidth_bytes_per_s": c.bandwidth_bytes_per_s,
                                   "ridge_flop_per_byte": c.ridge_flop_per_byte}])
        else:
            table = device_ceilings.ceilings_table(hw, precisions=(args.precision,), devices=devices or None)
        return table.assign(peak_tflop_per_s=table["peak_flop_per_s"] / 1e12,
                            bandwidth_gb_per_s=table["bandwidth_bytes_per_s"] / 1e9)
    (ceil,) = ceilings
    with about("--model"):
        spec = _model(args.model)
    if args.phase in ("decode", "generate") and not spec.causal:
        raise UsageError(f"--phase {args.phase} needs a decoder; --model {args.model} is an encoder (use --phase "
                         "encode)", "--phase")
    _warn_beyond_positions(spec, [args.seq_len], "--seq-len", args.phase)
    batch, width = args.batch or 1, 2.0 if args.bytes is None else args.bytes
    table = bounds.roofline_table(cost.cost_table(spec, args.phase, args.seq_len, batch,
                                                  widths=ByteWidths.uniform(width)), ceil)
    keep = ["op", "category", "flops", "bytes", "intensity", "compute_time_s", "memory_time_s", "time_s", "bound"]
    total = {"op": "TOTAL", "category": "-", "flops": table["flops"].sum(), "bytes": table["bytes"].sum(),
             "compute_time_s": table["compute_time_s"].sum(), "memory_time_s": table["memory_time_s"].sum(),
             "time_s": table["time_s"].sum()}
    total["intensity"] = total["flops"] / total["bytes"]
    total["bound"] = f"ridge {ceil.ridge_flop_per_byte:.1f} FLOP/B"
    return pd.concat([table[keep], pd.DataFrame([total])[keep]], ignore_index=True)


def _cmd_serve(args: argparse.Namespace) -> Rows:
    from memwall.serving import decode, memory, schemes
    from memwall.units import GB, MS
    from memwall.widths import ByteWidths

    scheme = schemes.get_scheme(args.scheme)
    ceil, mem = _serve_device(args, scheme.compute)
    with about("--model"):
        spec = _model(args.model)
    if not spec.causal:
        raise CliError(f"serve decodes, which needs a decoder; --model {args.model} is an encoder", "--model")
    _warn_beyond_positions(spec, args.context, "--context")
    w = scheme.widths
    closed_form = float(decode.critical_batch(None, ceil, widths=ByteWidths(weight=w.weight)))
    rows = []
    for batch in args.batch:
        for context in args.context:
            fp = memory.footprint(spec, batch, context, widths=w)
            rows.append({
                "model": spec.name, "device": ceil.name, "scheme": scheme.name, "batch": batch, "context": context,
                "step_time_s": float(decode.decode_step_time(spec, ceil, batch, context, widths=w)),
                "tokens_per_s": float(decode.tokens_per_s(spec, ceil, batch, context, widths=w)),
                "ms_per_token": float(decode.time_per_token(spec, ceil, batch, context, widths=w)) / MS,
                "footprint_gb": float(fp.total) / GB, "device_memory_gb": None if mem is None else mem / GB,
                "fits": None if mem is None else bool(fp.total <= mem),
                "max_batch": None if mem is None else int(memory.max_batch(spec, mem, context, widths=w)),
                "critical_batch_closed_form": closed_form,
                "critical_batch_step": float(decode.critical_batch(spec, ceil, context=context, widths=w)),
            })
    return rows


def _cmd_claims(args: argparse.Namespace) -> pd.DataFrame:
    from memwall import claims

    if args.data_dir is not None:
        raise ValueError("--data-dir is not supported by claims: the ledger checks the repository's own tables")
    chapter = args.chapter
    if chapter is not None and "/" not in chapter:
        chapter = f"chapters/{chapter.removesuffix('.md')}"  # accept the short name, e.g. hardware_trends
    table = claims.ledger(chapter, claims=args.claim or None)
    if args.status:
        aliases = _status_aliases()
        table = table[table["status"].isin([aliases.get(s, s) for s in args.status])]
    if args.format == "table":
        table = table[["claim_id", "chapter", "paper_text", "paper_value", "ours_paper_data", "ours_extended", "unit",
                       "difference_pct", "status"]]
    return table.reset_index(drop=True)


COMMANDS: dict[str, Any] = {
    "fit": _cmd_fit, "validate": _cmd_validate, "cost": _cmd_cost, "models": _cmd_models, "devices": _cmd_devices,
    "roofline": _cmd_roofline, "serve": _cmd_serve, "measure": _cmd_measure, "claims": _cmd_claims,
}
"""Each subcommand's function: ``args -> table`` (a pandas DataFrame, or :data:`Rows`)."""
