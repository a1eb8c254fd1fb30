"""Tables over devices, models and schemes for the serving chapters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from memwall._checks import ArgumentTypeError, count
from memwall.roofline import _hardware
from memwall.serving.decode import critical_batch_closed_form, time_per_token
from memwall.serving.frontier import frontier
from memwall.serving.memory import footprint
from memwall.serving.schemes import ceilings_for, device_memory_bytes, get_scheme

if TYPE_CHECKING:
    import pandas as pd  # imported where a DataFrame is built: the CLI's fast path never loads pandas

__all__ = ["critical_batch_table", "frontier_grid", "quantization_table"]

# ------------------------------------------------------------------------------------ chapter tables


def _sequence(name: str, value: object) -> list:
    """A list, tuple, range or 1-d array of values (to be checked one by one)."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return value.tolist()
    if not isinstance(value, list | tuple | range):
        raise ArgumentTypeError(f"{name} must be a list, tuple, range or 1-d array, got {type(value).__name__}")
    return list(value)


def _names(name: str, value: object) -> list[str]:
    """A list or tuple of names (a bare string is one name spelled out letter by letter: rejected)."""
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ArgumentTypeError(f"{name} must be a list or tuple of names (str), got {type(value).__name__} "
                                f"{value!r:.80}")
    return list(value)



def quantization_table(hardware: pd.DataFrame, models: Sequence[str], devices: Sequence[str],
                       schemes: Sequence[str], context: int = 1024) -> pd.DataFrame:
    """Batch-1 decode bound and footprint of each model on each device under each precision scheme.

    Parameters
    ----------
    hardware : pandas.DataFrame
        Table from :func:`memwall.tables.load_hardware`.
    models, devices, schemes : sequence of str
        Preset names, device names (``hardware.csv``) and scheme names (:func:`get_scheme`).
    context : int
        Tokens in the KV cache. [tokens]

    Returns
    -------
    pandas.DataFrame
        One row per (model, device, scheme): ``weight_bits`` [bit], ``time_per_token_s`` [s] (roofline
        bound, batch 1), ``footprint_bytes`` [B] (resident weights, every expert, + KV cache with sliding
        windows and MLA applied + activations at batch 1, :func:`memwall.serving.memory.footprint`),
        ``memory_bytes`` [B] and ``fits``. Devices without a peak for the scheme's compute format are left out.

    Raises
    ------
    ValueError
        An unknown model, device or scheme; ``context`` not an integer in ``[0, 2**53 - 1]``; and as
        :func:`memwall.serving.decode.time_per_token` and :func:`memwall.serving.memory.footprint`.
    ArgumentTypeError
        ``hardware`` not a table, or ``models``/``devices``/``schemes`` not lists of names.
    """
    _hardware(hardware, "")
    models, devices, schemes = _names("models", models), _names("devices", devices), _names("schemes", schemes)
    context = count("context", context, minimum=0, scalar=True)
    rows = []
    for device in devices:
        mem = device_memory_bytes(hardware, device)
        for name in schemes:
            scheme = get_scheme(name)
            try:
                ceil = ceilings_for(hardware, device, scheme)
            except ValueError:
                continue  # no datasheet peak at this compute format (e.g. no FP8 on an A100)
            for model in models:
                widths = scheme.widths
                fp = footprint(model, 1, context, widths=widths)
                rows.append({"model": model, "device": device, "scheme": scheme.name,
                             "weight_bits": 8 * widths.weight,
                             "time_per_token_s": float(time_per_token(model, ceil, 1, context, widths=widths)),
                             "footprint_bytes": float(fp.total), "memory_bytes": mem,
                             "fits": bool(fp.total <= mem)})
    import pandas as pd

    return pd.DataFrame(rows)


def critical_batch_table(hardware: pd.DataFrame, devices: Sequence[str], schemes: Sequence[str]) -> pd.DataFrame:
    """Closed-form critical batch ``(P / BW) * b_w / 2`` of each device under each scheme.

    Parameters
    ----------
    hardware : pandas.DataFrame
        Table from :func:`memwall.tables.load_hardware`.
    devices, schemes : sequence of str
        Device names and scheme names.

    Returns
    -------
    pandas.DataFrame
        ``device``, ``scheme``, ``peak_flop_per_s`` [FLOP/s], ``bandwidth_bytes_per_s`` [B/s],
        ``ridge_flop_per_byte`` [FLOP/B] and ``critical_batch`` [sequences]; pairs without a datasheet peak
        for the scheme's compute format are left out.

    Raises
    ------
    ValueError
        An unknown device or scheme.
    ArgumentTypeError
        ``hardware`` not a table, or ``devices``/``schemes`` not lists of names.
    """
    _hardware(hardware, "")
    devices, schemes = _names("devices", devices), _names("schemes", schemes)
    rows = []
    for device in devices:
        for name in schemes:
            scheme = get_scheme(name)
            try:
                ceil = ceilings_for(hardware, device, scheme)
            except ValueError:
                continue
            rows.append({"device": device, "scheme": scheme.name, "peak_flop_per_s": ceil.peak_flop_per_s,
                         "bandwidth_bytes_per_s": ceil.bandwidth_bytes_per_s,
                         "ridge_flop_per_byte": ceil.ridge_flop_per_byte,
                         "critical_batch": float(critical_batch_closed_form(
                             ceil.peak_flop_per_s, ceil.bandwidth_bytes_per_s, scheme.weight_bytes))})
    import pandas as pd

    return pd.DataFrame(rows)


def frontier_grid(hardware: pd.DataFrame, model: str, devices: Sequence[str], contexts: Sequence[int],
                  scheme: str = "W16A16", batch_exponents: Sequence[int] = tuple(range(11))) -> pd.DataFrame:
    """Throughput-latency points over devices, contexts and batches ``2**k`` (for an interactive chart).

    Parameters
    ----------
    hardware : pandas.DataFrame
        Table from :func:`memwall.tables.load_hardware`.
    model : str
        Decoder preset.
    devices : sequence of str
        Device names.
    contexts : sequence of int
        Cached tokens per sequence. [tokens]
    scheme : str
        Precision scheme.
    batch_exponents : sequence of int
        Batches are ``2**k`` for these ``k``. [sequences]

    Returns
    -------
    pandas.DataFrame
        ``device``, ``context``, ``k``, ``batch``, ``tokens_per_s`` [tokens/s per device],
        ``time_per_token_s`` [s], ``footprint_bytes`` [B] and ``fits`` (footprint within the device memory).

    Raises
    ------
    ValueError
        An unknown model, device or scheme; a context not an integer in ``[0, 2**53 - 1]``; a batch exponent not an
        integer in ``[0, 53]``; and as :func:`memwall.serving.frontier.frontier`.
    ArgumentTypeError
        ``hardware`` not a table, ``devices`` not a list of names.
    """
    _hardware(hardware, "")
    devices = _names("devices", devices)
    contexts = [count("contexts", c, minimum=0, scalar=True) for c in _sequence("contexts", contexts)]
    batch_exponents = count("batch_exponents", _sequence("batch_exponents", batch_exponents), minimum=0, maximum=53)
    widths = get_scheme(scheme).widths
    frames = []
    for device in devices:
        ceil = ceilings_for(hardware, device, scheme)
        mem = device_memory_bytes(hardware, device)
        ks = np.asarray(batch_exponents, dtype=np.int64)
        for context in contexts:
            f = frontier(model, ceil, mem, int(context), batches=2**ks, widths=widths)
            frames.append(f.assign(device=device, context=int(context), k=ks))
    import pandas as pd

    out = pd.concat(frames, ignore_index=True)
    return out[["device", "context", "k", "batch", "tokens_per_s", "time_per_token_s", "footprint_bytes", "fits"]]
