"""Resolving the ``--model`` and device options of the ``memwall`` subcommands.

``--model`` is a preset name, a ``config.json`` path (or its folder) or a Hub id in the local cache,
resolved by :func:`memwall.specs.hf_config.resolve_model`. A device is either a row of the hardware
table (``--device``, looked up by :mod:`memwall.device_lookup`; ``--hardware`` names a user table) or
one that is in no table, described by ``--peak-flops``/``--bandwidth``/``--memory``/``--name``
(:data:`CUSTOM_DEVICE_OPTIONS`); the two cannot be combined. Used by the ``cost``, ``roofline``,
``serve`` and ``devices`` commands of :mod:`memwall.cli.commands`.

Like the commands, every helper imports what it needs when it runs, so that ``memwall serve`` starts
without pandas.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from memwall.cli.errors import UsageError, about

if TYPE_CHECKING:
    from memwall.roofline import Ceilings
    from memwall.specs.model_spec import ModelSpec

CUSTOM_DEVICE_OPTIONS = ("--peak-flops", "--bandwidth", "--memory", "--name")
"""Options that describe a device that is in no table."""


def _model(text: str) -> ModelSpec:
    """``--model``: a preset name, a ``config.json`` path (or its folder) or a Hub id in the local cache."""
    from memwall.specs.hf_config import resolve_model

    return resolve_model(text)


def _warn_beyond_positions(spec: ModelSpec, tokens: list[int], option: str, phase: str | None = None) -> None:
    """Warn on stderr when a sequence is longer than the model was trained for (``max_positions``)."""
    import sys

    longest = max(tokens) + (1 if phase in ("decode", None) else 0)  # a decode step adds the new token
    if longest > spec.max_positions:
        print(f"memwall: warning: {option} {max(tokens):,} gives sequences of {longest:,} tokens, beyond "
              f"{spec.name}'s {spec.max_positions:,} positions (max_position_embeddings); the bound is computed "
              "as if the model ran that long", file=sys.stderr)


def _table_label(args: argparse.Namespace) -> str:
    return f"--hardware {str(args.hardware)!r}" if args.hardware is not None else "the hardware table"


def _custom_options(args: argparse.Namespace) -> list[str]:
    return [o for o in CUSTOM_DEVICE_OPTIONS if getattr(args, o[2:].replace("-", "_"), None) is not None]


def _custom_device(args: argparse.Namespace, precision: str) -> tuple[Ceilings, float | None] | None:
    """The device of ``--peak-flops``/``--bandwidth``/``--memory``, or None if none of them is given.

    Raises
    ------
    memwall.cli.errors.UsageError
        With ``--device`` or ``--hardware`` as well (a table device and a custom one contradict), or without
        both ``--peak-flops`` and ``--bandwidth``.
    """
    used = _custom_options(args)
    if not used:
        return None
    devices = args.device if isinstance(args.device, list) else [args.device] if args.device else []
    if devices or args.hardware is not None:
        other = f"--device {devices[0]!r}" if devices else f"--hardware {str(args.hardware)!r}"
        verb = "describes" if len(used) == 1 else "describe"
        raise UsageError(f"{'/'.join(used)} {verb} a device that is in no table and cannot be combined with "
                         f"{other}; give one or the other (to vary a listed device, copy its row into a "
                         "--hardware CSV)", used[0])
    missing = [o for o in ("--peak-flops", "--bandwidth") if o not in used]
    if missing:
        raise UsageError(f"a device given by {'/'.join(used)} also needs {' and '.join(missing)} "
                         "(peak [FLOP/s] and bandwidth [B/s])", missing[0])
    from memwall.roofline import Ceilings

    ceil = Ceilings(args.peak_flops, args.bandwidth, name=args.name or "custom", precision=precision)
    return ceil, getattr(args, "memory", None)


def _serve_device(args: argparse.Namespace, compute: str) -> tuple[Ceilings, float | None]:
    """Ceilings [FLOP/s, B/s] and memory [B] of ``serve``'s device: custom, or looked up in a table."""
    custom = _custom_device(args, compute)
    if custom is not None:
        return custom
    if args.device is None:
        raise UsageError("give --device NAME (see `memwall devices`), or --peak-flops and --bandwidth "
                         "(and --memory) for a device that is in no table", "--device")
    from memwall.device_lookup import device_row, hardware_records
    from memwall.roofline import Ceilings
    from memwall.serving.schemes import device_memory_bytes

    with about("--hardware" if args.hardware is not None else None):  # else the book's table (or the data folder)
        records = hardware_records(args.hardware)
    with about("--device"):
        row = device_row(records, args.device, table=_table_label(args))
    return Ceilings.from_row(row, compute), device_memory_bytes([row], row["device"])
