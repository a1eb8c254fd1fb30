"""The argument parser of the ``memwall`` command line.

:func:`build_parser` builds every subcommand; ``build_parser("serve")`` fills in only ``serve``'s options
(the others keep their name and one-line help), so that a call imports only the modules its command
needs (the lists of choices come from the package). :func:`memwall.cli.main.main` does that.

Every numeric option is parsed by a type of :mod:`memwall.cli.options`, checked by :mod:`memwall._checks`
against the range its ``--help`` states; every option taking a value may be given once. Errors follow
:mod:`memwall.cli.errors` (exit 1 or 2, one line on stderr, a JSON object with ``--format json``).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable

from memwall.cli.commands import COMMANDS, _status_aliases
from memwall.cli.options import (
    BANDWIDTH_RANGE,
    BYTES_RANGE,
    MAX_COUNT,
    MEMORY_RANGE,
    PEAK_RANGE,
    CliParser,
    OnceFlag,
    integer,
    nonempty,
    parse_quantity,
    path,
    real,
    shown,
)
from memwall.device_lookup import CACHE_DIR_VARIABLE, DEVICE_ALIASES

__all__ = ["FORMATS", "build_parser", "parse_quantity"]


FORMATS = ("table", "csv", "json")

MODEL_HELP = ("model: a preset name (see `memwall models`), a config.json path (or the folder holding one), or a "
              "Hub id (org/name) in the local HF cache")

BEYOND_POSITIONS = ("a length beyond the model's max_position_embeddings is computed as asked, with a warning on "
                    "stderr")
MEASURE_MAX_TOKENS = 8192
"""Longest ``measure --seq-len`` (the survey's lengths reach 4096). [tokens]"""
YEARS = (1900, 2100)
"""Allowed ``fit --window`` years, inclusive. [year]"""


def _span(bounds: tuple[float, float], unit: str) -> str:
    return f"[{bounds[0]:g}, {bounds[1]:g}] {unit}"


def _quantity(unit: str, option: str, bounds: tuple[float, float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        return parse_quantity(text, unit, name=option, minimum=bounds[0], maximum=bounds[1])

    parse.__name__ = unit  # argparse names the type in its messages
    return parse


def _tokens(option: str, minimum: int = 0, maximum: int = MAX_COUNT) -> Callable[[str], int]:
    return integer(option, minimum=minimum, maximum=maximum, unit="tokens")


def _batch(option: str = "--batch") -> Callable[[str], int]:
    return integer(option, minimum=1, maximum=MAX_COUNT, unit="sequences")


def _width(option: str) -> Callable[[str], float]:
    return real(option, minimum=BYTES_RANGE[0], maximum=BYTES_RANGE[1], unit="B/element")


WIDTH_RANGE = f"in [1/64, {BYTES_RANGE[1]:g}]"
COUNT_RANGE = f"1 to {MAX_COUNT:,} (2**31 - 1)"


def _add_format(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, default="table",
                   help="output format: aligned table, CSV or JSON records (default: table); in JSON an infinite "
                        'number is the string "inf" (or "-inf"), a missing one null; table and CSV print inf')


def _add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=path("--data-dir"), default=None,
                   help="folder with the CSV tables (default: $MEMWALL_DATA_DIR if set, else the installed "
                        "package's memwall/data/, else the repository's data/)")


DEVICE_RULE = (
    "Devices are looked up by what you type: the exact name, or the same up to case, spaces and punctuation; "
    "then a short name of " + ", ".join(f"'{a}' = '{row}'" for a, row in DEVICE_ALIASES.items())
    + "; then the one row whose name has all the typed words ('A10', 'L40S', 'tpu v5e', 'mi300x'); then the one "
    "row where each typed word starts a word of the name ('h100 sxm'). Several matches are listed, an unknown "
    "name gets the three closest; `memwall devices` lists every name.")
"""The device name rule (:func:`memwall.device_lookup.find_device`), for ``--help``."""

CONTRACT = (
    "Exit status: 0 on success; 1 on an input error (an unknown model, device or claim, invalid data, a file that "
    "cannot be read or written, a result that would not be finite); 2 on a usage error (an unknown option, a value "
    "outside its range, an option given twice, options that contradict each other or one that would be ignored). "
    "Each error is one line on stderr, 'memwall COMMAND: error: ...'; with --format json stdout also gets one JSON "
    'object {"error": message, "parameter": the option or null, "exit_status": 1 or 2} (with "problems": [...] '
    'where the error lists several, and for validate "tables": [...], every table with its status).')
"""The error contract (:mod:`memwall.cli.errors`), for ``--help``."""


def _add_device(p: argparse.ArgumentParser, *, several: bool, memory: bool = True) -> None:
    if several:
        p.add_argument("--device", nargs="*", default=[], metavar="DEVICE", type=nonempty("--device"),
                       help="device(s) of the hardware table: a name, short name or alias (see below)")
    else:
        p.add_argument("--device", default=None, metavar="DEVICE", type=nonempty("--device"),
                       help="device of the hardware table: a name, short name or alias (see below)")
    p.add_argument("--hardware", type=path("--hardware"), default=None, metavar="CSV",
                   help="look devices up in this CSV instead of data/hardware.csv: the same columns, validated by "
                        "the same schema (memory_type from the data folder's memory_generations.csv)")
    custom = p.add_argument_group("a device that is in no table (instead of --device)")
    custom.add_argument("--peak-flops", type=_quantity("FLOP/s", "--peak-flops", PEAK_RANGE), default=None,
                        metavar="P", help="dense peak at the precision used, e.g. 989e12 or 989T, in "
                                          + _span(PEAK_RANGE, "[FLOP/s]"))
    custom.add_argument("--bandwidth", type=_quantity("B/s", "--bandwidth", BANDWIDTH_RANGE), default=None,
                        metavar="BW", help="DRAM bandwidth, e.g. 3.35e12 or 3.35T, in "
                                           + _span(BANDWIDTH_RANGE, "[B/s]"))
    if memory:
        custom.add_argument("--memory", type=_quantity("B", "--memory", MEMORY_RANGE), default=None, metavar="M",
                            help="memory capacity, e.g. 80e9, 80G or 80Gi (= 80 * 2**30), in "
                                 + _span(MEMORY_RANGE, "[B]"))
    custom.add_argument("--name", default=None, metavar="LABEL", type=nonempty("--name"),
                        help="its label in the output (default: custom)")


def _fill_fit(fit: argparse.ArgumentParser) -> None:
    from memwall import tables
    from memwall.wall import hardware_trends, trend_checks

    fit.description = (
        "Fit log10(value) against fractional calendar year by least squares and print growth per "
        "2 years [x], per 20 years [x], doubling time [years] and a 95% confidence interval of the "
        "growth per 2 years [x]. --data paper uses the paper's own plotted points (normalised, "
        "unitless); --data datasheet uses data/hardware.csv (FLOP/s, B/s) and data/interconnects.csv "
        "(bit/s per lane, B/s per direction). A series that does not grow has an infinite doubling time (inf).")
    fit.add_argument("--series", required=True,
                     choices=sorted(set(tables.PAPER_SERIES) | set(trend_checks.DATASHEET_SERIES)),
                     help="quantity to fit (--data paper has " + ", ".join(tables.PAPER_SERIES) + ")")
    fit.add_argument("--data", choices=("paper", "datasheet"), default="paper",
                     help="the paper's figure points, or our datasheet tables (default: paper)")
    fit.add_argument("--rule", choices=list(hardware_trends.PRECISION_RULES), default=None,
                     help="precision rule, only for --series flops --data datasheet (default there: max_16bit)")
    fit.add_argument("--row-set", choices=hardware_trends.ROW_SETS, default="all",
                     help="all rows, or record setters only (default: all)")
    fit.add_argument("--window", nargs=2, type=integer("--window", minimum=YEARS[0], maximum=YEARS[1], unit="year"),
                     metavar=("FIRST", "LAST"),
                     help=f"inclusive calendar years to keep, FIRST <= LAST, each in {_span(YEARS, '')}, "
                          "e.g. 2012 2026")
    _add_data_dir(fit)


def _fill_validate(val: argparse.ArgumentParser) -> None:
    val.description = ("Validate every CSV table against its schema and print each table with its status; exit 1 "
                       "and list file, line, column and reason for each bad cell (with --format json: the JSON "
                       "error object with every problem and every table's status).")
    _add_data_dir(val)


def _fill_cost(cst: argparse.ArgumentParser) -> None:
    from memwall import cost

    cst.description = (
        "Operation-level cost of one inference phase (memwall.cost): FLOPs [FLOP] (1 multiply-add = "
        "2 FLOPs), bytes read and written to DRAM [B] (each operand read once, each result written "
        "once, no fusion unless asked), and arithmetic intensity [FLOP/B]. Whole-model values; "
        "--per-op gives one row per operation (divide by 'count' for one layer). Phases: prefill/encode "
        "over SEQ_LEN tokens; decode = one new token with SEQ_LEN tokens in the KV cache; generate = "
        "SEQ_LEN tokens one by one from an empty cache. Embeddings and LM head are excluded unless asked "
        "(--lm-head, --include-embeddings); --scope matmul keeps the matrix products only, what PyTorch's "
        "FlopCounterMode and most papers count. Options that would change nothing are refused: "
        "--causal-halving outside a decoder's prefill/encode, --include-embeddings with --scope matmul.")
    cst.add_argument("--model", required=True, metavar="MODEL", type=nonempty("--model"), help=MODEL_HELP)
    cst.add_argument("--phase", required=True, choices=cost.PHASES, help="inference phase")
    cst.add_argument("--seq-len", required=True, type=_tokens("--seq-len"), nargs="+", metavar="L",
                     help=f"sequence length(s) [tokens], 1 to {MAX_COUNT:,} (decode: tokens already in the KV "
                          f"cache, from 0); {BEYOND_POSITIONS}")
    cst.add_argument("--batch", type=_batch(), default=1,
                     help=f"sequences processed together [sequences], {COUNT_RANGE} (default 1)")
    for kind, what in (("weight", "weight"), ("act", "activation"), ("kv", "K/V element")):
        cst.add_argument(f"--{kind}-bytes", type=_width(f"--{kind}-bytes"), default=None, metavar="B",
                         help=f"bytes per {what} [B/element], {WIDTH_RANGE} (default 2; not with --bytes)")
    cst.add_argument("--bytes", type=_width("--bytes"), default=None, metavar="B",
                     help=f"set weight, activation and KV bytes at once [B/element], {WIDTH_RANGE} (the survey "
                          "uses 1)")
    cst.add_argument("--per-op", action=OnceFlag, help="one row per operation instead of totals")
    cst.add_argument("--fused-attention", action=OnceFlag, help="scores stay on chip (FlashAttention-style)")
    cst.add_argument("--causal-halving", action=OnceFlag,
                     help="prefill/encode of a decoder counts only the causal half of scores (decode and generate "
                          "are causal already; encoders attend both ways)")
    cst.add_argument("--lm-head", choices=cost.LM_HEAD_MODES, default=None,
                     help="LM head (final norm and d×vocab matmul; BERT's MLM head for an encoder): none "
                          "(default), all = every position (a training/Hugging Face forward), last = each "
                          "prompt's last token only in prefill (inference; decode has one token anyway)")
    cst.add_argument("--include-lm-head", action=OnceFlag,
                     help="alias of --lm-head all (contradicts any other --lm-head)")
    cst.add_argument("--scope", choices=cost.SCOPES, default="all",
                     help="all = every operation (default); matmul = matrix products only (projections, QKᵀ, "
                          "score·V, FFN, router, LM head), no softmax/norm/activation/residual/embedding")
    cst.add_argument("--include-embeddings", action=OnceFlag,
                     help="add the embedding gather (bytes only; not with --scope matmul)")


def _fill_devices(dev: argparse.ArgumentParser) -> None:
    dev.description = ("The devices of the hardware table (or of --hardware CSV) with their short names, dense "
                       "16-bit peak [TFLOP/s], DRAM bandwidth [GB/s] and memory [GiB]; with NAMEs, the rows "
                       "those names find. " + DEVICE_RULE)
    dev.add_argument("names", nargs="*", metavar="NAME", type=nonempty("NAME"),
                     help="show only the rows these typed names find")
    dev.add_argument("--hardware", type=path("--hardware"), default=None, metavar="CSV",
                     help="list this CSV (the columns of data/hardware.csv) instead of the shipped table")


def _fill_roofline(rfl: argparse.ArgumentParser) -> None:
    from memwall import cost, roofline

    rfl.description = (
        "Without --model: the roofline ceilings (peak [FLOP/s], DRAM bandwidth [B/s], ridge point [FLOP/B]) "
        "of the named devices (all if none) at --precision. With --model (and --phase, --seq-len and one device): "
        "every operation of a phase with its compute time FLOPs/peak, memory time bytes/bandwidth and bound "
        "max(...) [s] on one device, and a TOTAL row (sum of the bounds). --phase, --seq-len, --batch and --bytes "
        "need --model. " + DEVICE_RULE)
    _add_device(rfl, several=True, memory=False)
    rfl.add_argument("--precision", choices=list(roofline.PRECISION_COLUMNS), default="fp16",
                     help="which peak to use (default fp16: dense FP16/BF16)")
    rfl.add_argument("--model", metavar="MODEL", default=None, type=nonempty("--model"), help=MODEL_HELP)
    rfl.add_argument("--phase", choices=cost.PHASES, default=None, help="inference phase (needs --model)")
    rfl.add_argument("--seq-len", type=_tokens("--seq-len"), default=None, metavar="L",
                     help=f"tokens (decode: cached tokens, from 0), up to {MAX_COUNT:,} (needs --model); "
                          + BEYOND_POSITIONS)
    rfl.add_argument("--batch", type=_batch(), default=None,
                     help=f"sequences [sequences], {COUNT_RANGE} (default 1; needs --model)")
    rfl.add_argument("--bytes", type=_width("--bytes"), default=None, metavar="B",
                     help=f"bytes per element for weights, activations and KV [B/element], {WIDTH_RANGE} "
                          "(default 2; needs --model)")


_SCHEME = re.compile(r"([A-Za-z0-9]+)(?:[-+]([A-Za-z0-9]+))?")


def _scheme_type(text: str) -> str:
    """``--scheme``: a scheme of :data:`memwall.serving.schemes.PRECISION_SCHEMES`, optionally ``-KVn``."""
    from memwall.serving import schemes

    match = _SCHEME.fullmatch(text)
    if match is None or match.group(1).upper() not in schemes.PRECISION_SCHEMES or (
            match.group(2) is not None and match.group(2).upper() not in schemes.KV_MODIFIERS):
        raise argparse.ArgumentTypeError(
            f"--scheme {shown(text)} is not a precision scheme; allowed: {', '.join(schemes.PRECISION_SCHEMES)}, "
            f"each optionally followed by {', '.join('-' + k for k in schemes.KV_MODIFIERS)} (e.g. W4A16-KV8)")
    return text


def _fill_serve(srv: argparse.ArgumentParser) -> None:
    from memwall.serving import schemes

    srv.description = (
        "For a decoder model on a device under a precision scheme (W16A16, W8A16, W4A16, W8A8, FP8, "
        "optionally with -KV8/-KV4): the roofline bound of one decode step [s], throughput [tokens/s per "
        "device], time per token [ms], the memory footprint (weights + KV cache + activations) [GB = 1e9 B] "
        "against the device memory, the largest batch that fits, and the critical batch [sequences] where "
        "decode turns compute-bound (closed form (P/BW)*b_w/2 and for the whole step at this context; inf = "
        "never, the string \"inf\" in JSON). The device is a row of the hardware table (--device, --hardware) "
        "or given by its ceilings (--peak-flops, --bandwidth, --memory; without --memory the memory columns are "
        "empty). " + DEVICE_RULE)
    srv.add_argument("--model", required=True, metavar="MODEL", type=nonempty("--model"),
                     help=MODEL_HELP + " (a decoder)")
    _add_device(srv, several=False)
    srv.add_argument("--scheme", default="W16A16", metavar="SCHEME", type=_scheme_type,
                     help=f"precision scheme, one of {', '.join(schemes.PRECISION_SCHEMES)} (+ -KV16/-KV8/-KV4)")
    srv.add_argument("--batch", type=_batch(), nargs="+", default=[1], metavar="B",
                     help=f"sequences [sequences], {COUNT_RANGE}")
    srv.add_argument("--context", type=_tokens("--context"), nargs="+", default=[1024], metavar="L",
                     help=f"cached tokens per sequence [tokens], 0 to {MAX_COUNT:,} (default 1024); "
                          + BEYOND_POSITIONS)


def _fill_measure(msr: argparse.ArgumentParser) -> None:
    msr.description = (
        "summary: CPU, BLAS, best STREAM bandwidth [GB/s], GEMM peak [GFLOP/s], the roofline ceilings (best rate "
        "of any measurement) and their ridge [FLOP/B] (about 15 s). "
        "stream / gemm / gemv: the full tables (bandwidth [B/s], FLOP/s, intensity [FLOP/B]). latency: "
        "numpy BERT-Base encode vs GPT-2 generate times [s] and their ratio beside the survey's and the roofline "
        "bound's (GPT-2 runs the greedy loop with its LM head: whole generations up to l = 128, beyond that "
        "estimated from sampled decode steps unless --full-generation). --output is checked before the "
        "measurement (its folder must exist) and written atomically after it; if writing fails the table is "
        "still printed and the exit status is 1.")
    msr.add_argument("what", nargs="?", choices=("summary", "stream", "gemm", "gemv", "latency", "reference"),
                     default="summary", help="what to report (default summary); reference: every measurement in "
                                             "the format of data/reference_measurements.csv (about 40 s)")
    msr.add_argument("--output", type=path("--output"), default=None, metavar="CSV",
                     help="also write the table to this CSV file (e.g. data/reference_measurements.csv)")
    msr.add_argument("--seq-len", type=_tokens("--seq-len", 1, MEASURE_MAX_TOKENS), nargs="+", metavar="L",
                     help=f"lengths for latency and reference [tokens], 1 to {MEASURE_MAX_TOKENS}")
    msr.add_argument("--full-generation", action=OnceFlag, help="time whole generations (latency only; slow)")
    msr.add_argument("--quick", action=OnceFlag, help="smoke-test sizes (seconds; not for numbers)")
    msr.add_argument("--no-progress", action=OnceFlag, help="no progress bar")


def _fill_claims(clm: argparse.ArgumentParser) -> None:
    from memwall import claims

    aliases = _status_aliases()
    clm.description = (
        "Every registered claim (memwall.claims): the paper's value as printed and as a number, our value from "
        "the paper's own data and from our extended data (in the claim's unit), the difference ours - paper "
        "(difference_pct [%]), the tolerance and a status computed by rule: reproduced (within tolerance), "
        "'differs — explained' (outside, with an explanation) or 'not reproducible' (ours cannot be computed, "
        "with the reason). --format table shows the main columns; csv and json give all of them.")
    clm.add_argument("--chapter", default=None, metavar="DOCNAME", type=nonempty("--chapter"),
                     help="only this chapter's claims, e.g. chapters/hardware_trends or hardware_trends")
    clm.add_argument("--claim", nargs="+", default=None, metavar="ID", type=nonempty("--claim"),
                     help="only these claim ids")
    clm.add_argument("--status", nargs="+", default=None,
                     choices=[*claims.STATUSES, claims.UNEXPLAINED, *aliases], metavar="STATUS",
                     help=f"only claims with these statuses ({', '.join(claims.STATUSES)}; or the ASCII aliases "
                          f"{', '.join(aliases)})")
    clm.set_defaults(data_dir=None)


def _fill_models(mdl: argparse.ArgumentParser) -> None:
    mdl.description = "Model presets with hyperparameters, parameter counts [parameters] and sources."


_SUBCOMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "fit": ("exponential trend of a hardware series", _fill_fit),
    "validate": ("validate every table in data/", _fill_validate),
    "cost": ("FLOPs, bytes and arithmetic intensity of a Transformer phase", _fill_cost),
    "roofline": ("roofline time bounds on a datasheet device", _fill_roofline),
    "serve": ("decode bound, memory footprint and critical batch on a device", _fill_serve),
    "devices": ("list the devices of the hardware table and their short names", _fill_devices),
    "measure": ("measure this machine's roofline ceilings", _fill_measure),
    "claims": ("the claims ledger: the paper's claims, our values and their status", _fill_claims),
    "models": ("list the model presets", _fill_models),
}
"""Each subcommand's one-line help and the function that adds its options."""

EPILOG = (
    "Your own data: the tables are read from the folder named by the environment variable MEMWALL_DATA_DIR when it "
    "is set (the same file names as data/; a missing file there is an error, not a fallback), else from the copy "
    "inside the installed package (memwall/data/), else from data/ of the repository clone (make book rebuilds "
    "when a file of the folder in use changes). fit and validate also take --data-dir FOLDER, which overrides "
    "all three for that command. roofline and serve take --hardware CSV "
    "(devices of your own, validated like data/hardware.csv) or --peak-flops/--bandwidth/--memory (one device in "
    "no table); --model takes a preset, a config.json path or a Hub id in the local HF cache. The validated "
    f"hardware table is cached by content in ${CACHE_DIR_VARIABLE} (default: the user cache folder). A "
    "sequence longer than the model's max_position_embeddings is computed as asked, with a warning on stderr. "
    + CONTRACT)


def build_parser(command: str | None = None, *, errors_as_json: bool = False) -> argparse.ArgumentParser:
    """The argument parser of the ``memwall`` command.

    Parameters
    ----------
    command : str, optional
        Fill in the options of this subcommand only (the others keep their name and help), so that parsing
        imports only what it needs; default: every subcommand.
    errors_as_json : bool
        Print a usage error also as the JSON object of :mod:`memwall.cli.errors` on stdout (what
        :func:`memwall.cli.main.main` asks for when ``--format json`` is on the command line).

    Returns
    -------
    argparse.ArgumentParser
        A :class:`memwall.cli.options.CliParser`: a usage error prints one line and exits with status 2.
    """
    parser = CliParser(
        prog="memwall",
        description="Calculations behind the memwall book (a recomputation of 'AI and Memory Wall').",
        epilog=EPILOG, errors_as_json=errors_as_json,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, fill) in _SUBCOMMANDS.items():
        epilog = EPILOG if name in ("roofline", "serve", "devices") else CONTRACT
        p = sub.add_parser(name, help=help_text, epilog=epilog, errors_as_json=errors_as_json)
        if command is None or command == name:
            fill(p)
            _add_format(p)
        p.set_defaults(func=COMMANDS[name])
        parser.subcommand_parsers[name] = p
    return parser
