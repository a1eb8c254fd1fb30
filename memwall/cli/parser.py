"""The argument parser of the ``memwall`` command line.

:func:`build_parser` builds every subcommand; ``build_parser("serve")`` fills in only ``serve``'s options
(the others keep their name and one-line help), so that a call imports only the modules its command
needs (the lists of choices come from the package). :func:`memwall.cli.main.main` does that.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path

from memwall.cli.commands import COMMANDS, _status_aliases
from memwall.device_lookup import CACHE_DIR_VARIABLE, DEVICE_ALIASES

__all__ = ["FORMATS", "build_parser", "parse_quantity"]


FORMATS = ("table", "csv", "json")

MODEL_HELP = ("model: a preset name (see `memwall models`), a config.json path (or the folder holding one), or a "
              "Hub id (org/name) in the local HF cache")

_QUANTITY = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([kMGTPE]?)(i?)\s*([A-Za-z/]*)\s*$")
_UNITS = {"FLOP/s": ("flop/s", "flops"), "B/s": ("b/s",), "B": ("b",)}
_BINARY = {"k": 2.0**10, "M": 2.0**20, "G": 2.0**30, "T": 2.0**40, "P": 2.0**50, "E": 2.0**60}


def parse_quantity(text: str, unit: str) -> float:
    """A positive quantity typed on the command line, in SI: a number, optionally with a prefix and the unit.

    Parameters
    ----------
    text : str
        ``989e12``, ``989T``, ``989 TFLOP/s``; ``3.35T``, ``3.35TB/s``; ``80G``, ``80GB``, ``80Gi`` or
        ``80GiB`` (= 80 * 2**30). The prefixes are decimal, case-sensitive: k, M, G, T, P, E (10**3 to
        10**18); with ``i`` binary (2**10 to 2**60). The unit, if written, must be ``unit`` (case ignored;
        ``FLOPS`` for ``FLOP/s``).
    unit : {"FLOP/s", "B/s", "B"}
        Unit of the option.

    Returns
    -------
    float
        The value. [``unit``]

    Raises
    ------
    argparse.ArgumentTypeError
        For text that does not follow the rule, another unit, or a value that is not finite and positive.

    Examples
    --------
    >>> parse_quantity("989T", "FLOP/s"), parse_quantity("3.35 TB/s", "B/s"), parse_quantity("80Gi", "B")
    (989000000000000.0, 3350000000000.0, 85899345920.0)
    """
    from memwall.units import decimal_prefix

    match = _QUANTITY.match(text)
    if match is None or (match.group(4) and match.group(4).lower() not in _UNITS[unit]):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a quantity in {unit}: write a number, optionally with an SI prefix (k M G T P E, "
            f"case-sensitive; Ki Mi Gi ... binary) and the unit, e.g. 989e12, 989T or 989T{unit}")
    number, prefix, binary, _ = match.groups()
    if binary and not prefix:
        raise argparse.ArgumentTypeError(f"{text!r}: 'i' (binary) needs a prefix, e.g. 80Gi")
    value = float(number) * (_BINARY[prefix] if binary else decimal_prefix(prefix))
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite positive number of {unit}")
    return value


def _quantity(unit: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        return parse_quantity(text, unit)

    parse.__name__ = unit  # argparse names the type in its messages
    return parse


def _add_format(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, default="table",
                   help="output format: aligned table, CSV or JSON records (default: table)")


def _add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, default=None,
                   help="folder with the CSV tables (default: $MEMWALL_DATA_DIR if set, else the installed "
                        "package's memwall/data/, else the repository's data/)")


DEVICE_RULE = (
    "Devices are looked up by what you type: the exact name, or the same up to case, spaces and punctuation; "
    "then a short name of " + ", ".join(f"'{a}' = '{row}'" for a, row in DEVICE_ALIASES.items())
    + "; then the one row whose name has all the typed words ('A10', 'L40S', 'tpu v5e', 'mi300x'); then the one "
    "row where each typed word starts a word of the name ('h100 sxm'). Several matches are listed, an unknown "
    "name gets the three closest; `memwall devices` lists every name.")
"""The device name rule (:func:`memwall.device_lookup.find_device`), for ``--help``."""


def _add_device(p: argparse.ArgumentParser, *, several: bool) -> None:
    if several:
        p.add_argument("--device", nargs="*", default=[], metavar="DEVICE",
                       help="device(s) of the hardware table: a name, short name or alias (see below)")
    else:
        p.add_argument("--device", default=None, metavar="DEVICE",
                       help="device of the hardware table: a name, short name or alias (see below)")
    p.add_argument("--hardware", type=Path, default=None, metavar="CSV",
                   help="look devices up in this CSV instead of data/hardware.csv: the same columns, validated by "
                        "the same schema (memory_type from the data folder's memory_generations.csv)")
    custom = p.add_argument_group("a device that is in no table (instead of --device)")
    custom.add_argument("--peak-flops", type=_quantity("FLOP/s"), default=None, metavar="P",
                        help="dense peak at the precision used [FLOP/s], e.g. 989e12 or 989T")
    custom.add_argument("--bandwidth", type=_quantity("B/s"), default=None, metavar="BW",
                        help="DRAM bandwidth [B/s], e.g. 3.35e12 or 3.35T")
    custom.add_argument("--memory", type=_quantity("B"), default=None, metavar="M",
                        help="memory capacity [B], e.g. 80e9, 80G or 80Gi (= 80 * 2**30)")
    custom.add_argument("--name", default=None, metavar="LABEL", help="its label in the output (default: custom)")

def _fill_fit(fit: argparse.ArgumentParser) -> None:
    from memwall import tables
    from memwall.wall import hardware_trends, trend_checks

    fit.description = (
        "Fit log10(value) against fractional calendar year by least squares and print growth per "
        "2 years [x], per 20 years [x], doubling time [years] and a 95% confidence interval of the "
        "growth per 2 years [x]. --data paper uses the paper's own plotted points (normalised, "
        "unitless); --data datasheet uses data/hardware.csv (FLOP/s, B/s) and data/interconnects.csv "
        "(bit/s per lane, B/s per direction).")
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


def _fill_validate(val: argparse.ArgumentParser) -> None:
    val.description = ("Validate every CSV table against its schema; exit 1 and list file, line, column and "
                       "reason for each bad cell.")
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
        "FlopCounterMode and most papers count.")
    cst.add_argument("--model", required=True, metavar="MODEL", help=MODEL_HELP)
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
    cst.add_argument("--lm-head", choices=cost.LM_HEAD_MODES, default=None,
                     help="LM head (final norm and d×vocab matmul; BERT's MLM head for an encoder): none "
                          "(default), all = every position (a training/Hugging Face forward), last = each "
                          "prompt's last token only in prefill (inference; decode has one token anyway)")
    cst.add_argument("--include-lm-head", action="store_true",
                     help="alias of --lm-head all (contradicts any other --lm-head)")
    cst.add_argument("--scope", choices=cost.SCOPES, default="all",
                     help="all = every operation (default); matmul = matrix products only (projections, QKᵀ, "
                          "score·V, FFN, router, LM head), no softmax/norm/activation/residual/embedding")
    cst.add_argument("--include-embeddings", action="store_true", help="add the embedding gather (bytes only)")


def _fill_devices(dev: argparse.ArgumentParser) -> None:
    dev.description = ("The devices of the hardware table (or of --hardware CSV) with their short names, dense "
                       "16-bit peak [TFLOP/s], DRAM bandwidth [GB/s] and memory [GiB]; with NAMEs, the rows "
                       "those names find. " + DEVICE_RULE)
    dev.add_argument("names", nargs="*", metavar="NAME", help="show only the rows these typed names find")
    dev.add_argument("--hardware", type=Path, default=None, metavar="CSV",
                     help="list this CSV (the columns of data/hardware.csv) instead of the shipped table")


def _fill_roofline(rfl: argparse.ArgumentParser) -> None:
    from memwall import cost, roofline

    rfl.description = (
        "Without --model: the roofline ceilings (peak [FLOP/s], DRAM bandwidth [B/s], ridge point [FLOP/B]) "
        "of the named devices (all if none) at --precision. With --model: every operation of a phase with its "
        "compute time FLOPs/peak, memory time bytes/bandwidth and bound max(...) [s] on one device, and a TOTAL "
        "row (sum of the bounds). " + DEVICE_RULE)
    _add_device(rfl, several=True)
    rfl.add_argument("--precision", choices=list(roofline.PRECISION_COLUMNS), default="fp16",
                     help="which peak to use (default fp16: dense FP16/BF16)")
    rfl.add_argument("--model", metavar="MODEL", default=None, help=MODEL_HELP)
    rfl.add_argument("--phase", choices=cost.PHASES, default=None, help="inference phase")
    rfl.add_argument("--seq-len", type=int, default=None, metavar="L", help="tokens (decode: cached tokens)")
    rfl.add_argument("--batch", type=int, default=1, help="sequences [sequences] (default 1)")
    rfl.add_argument("--bytes", type=float, default=2.0, help="bytes per element for weights, activations and KV "
                                                              "[B/element] (default 2)")


def _fill_serve(srv: argparse.ArgumentParser) -> None:
    from memwall.serving import schemes

    srv.description = (
        "For a decoder model on a device under a precision scheme (W16A16, W8A16, W4A16, W8A8, FP8, "
        "optionally with -KV8/-KV4): the roofline bound of one decode step [s], throughput [tokens/s per "
        "device], time per token [ms], the memory footprint (weights + KV cache + activations) [GB = 1e9 B] "
        "against the device memory, the largest batch that fits, and the critical batch [sequences] where "
        "decode turns compute-bound (closed form (P/BW)*b_w/2 and for the whole step at this context; inf = "
        "never). The device is a row of the hardware table (--device, --hardware) or given by its ceilings "
        "(--peak-flops, --bandwidth, --memory; without --memory the memory columns are empty). " + DEVICE_RULE)
    srv.add_argument("--model", required=True, metavar="MODEL", help=MODEL_HELP + " (a decoder)")
    _add_device(srv, several=False)
    srv.add_argument("--scheme", default="W16A16", metavar="SCHEME",
                     help=f"precision scheme, one of {', '.join(schemes.PRECISION_SCHEMES)} (+ -KV8/-KV4)")
    srv.add_argument("--batch", type=int, nargs="+", default=[1], metavar="B", help="sequences [sequences]")
    srv.add_argument("--context", type=int, nargs="+", default=[1024], metavar="L",
                     help="cached tokens per sequence [tokens]")


def _fill_measure(msr: argparse.ArgumentParser) -> None:
    msr.description = (
        "summary: CPU, BLAS, best STREAM bandwidth [GB/s], GEMM peak [GFLOP/s], the roofline ceilings (best rate "
        "of any measurement) and their ridge [FLOP/B] (about 15 s). "
        "stream / gemm / gemv: the full tables (bandwidth [B/s], FLOP/s, intensity [FLOP/B]). latency: "
        "numpy BERT-Base encode vs GPT-2 generate times [s] and their ratio beside the survey's and the roofline "
        "bound's (GPT-2 runs the greedy loop with its LM head: whole generations up to l = 128, beyond that "
        "estimated from sampled decode steps unless --full-generation).")
    msr.add_argument("what", nargs="?", choices=("summary", "stream", "gemm", "gemv", "latency", "reference"),
                     default="summary", help="what to report (default summary); reference: every measurement in "
                                             "the format of data/reference_measurements.csv (about 40 s)")
    msr.add_argument("--output", type=Path, default=None, metavar="CSV",
                     help="also write the table to this CSV file (e.g. data/reference_measurements.csv)")
    msr.add_argument("--seq-len", type=int, nargs="+", metavar="L", help="lengths for latency [tokens]")
    msr.add_argument("--full-generation", action="store_true", help="time whole generations (slow)")
    msr.add_argument("--quick", action="store_true", help="smoke-test sizes (about 2 s; not for numbers)")
    msr.add_argument("--no-progress", action="store_true", help="no progress bar")


def _fill_claims(clm: argparse.ArgumentParser) -> None:
    from memwall import claims

    aliases = _status_aliases()
    clm.description = (
        "Every registered claim (memwall.claims): the paper's value as printed and as a number, our value from "
        "the paper's own data and from our extended data (in the claim's unit), the difference ours - paper "
        "(difference_pct [%]), the tolerance and a status computed by rule: reproduced (within tolerance), "
        "'differs — explained' (outside, with an explanation) or 'not reproducible' (ours cannot be computed, "
        "with the reason). --format table shows the main columns; csv and json give all of them.")
    clm.add_argument("--chapter", default=None, metavar="DOCNAME",
                     help="only this chapter's claims, e.g. chapters/hardware_trends or hardware_trends")
    clm.add_argument("--claim", nargs="+", default=None, metavar="ID", help="only these claim ids")
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
    "sequence longer than the model's max_position_embeddings is computed as asked, with a warning on stderr.")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of the ``memwall`` command.

    Parameters
    ----------
    command : str, optional
        Fill in the options of this subcommand only (the others keep their name and help), so that parsing
        imports only what it needs; default: every subcommand.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="memwall",
        description="Calculations behind the memwall book (a recomputation of 'AI and Memory Wall').",
        epilog=EPILOG,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, fill) in _SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, epilog=EPILOG if name in ("roofline", "serve", "devices") else None)
        if command is None or command == name:
            fill(p)
            _add_format(p)
        p.set_defaults(func=COMMANDS[name])
    return parser
