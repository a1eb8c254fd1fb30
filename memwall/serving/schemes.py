"""Quantisation schemes (weights, activations, KV cache) and the device ceilings and memory they give."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from memwall._checks import MAX_EXACT_INT, ArgumentTypeError, _check_precision, finite_result, instance, number
from memwall.device_lookup import device_row, is_missing
from memwall.roofline import PRECISION_COLUMNS, Ceilings, _hardware
from memwall.specs.model_spec import ModelSpec
from memwall.specs.presets import decoder_spec
from memwall.units import GIB
from memwall.widths import ByteWidths

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["KV_MODIFIERS", "PRECISION_SCHEMES", "Scheme", "ceilings_for", "device_memory_bytes", "get_scheme"]


# -------------------------------------------------------------------------------------- precisions


@dataclass(frozen=True)
class Scheme:
    """Storage widths of one quantisation scheme and the arithmetic it runs on.

    Parameters
    ----------
    name : str
        Label, e.g. ``"W4A16"``.
    weight_bytes : float
        Storage per weight. [B/element]
    act_bytes : float
        Storage per activation element. [B/element]
    kv_bytes : float
        Storage per cached key or value element. [B/element]
    compute : {"fp32", "fp16", "bf16", "fp8", "int8"}
        Precision of the matmul units, i.e. which peak of the hardware table bounds compute. Weight-only
        quantisation dequantises to 16 bits before the multiply and keeps the 16-bit roof; weight *and*
        activation quantisation multiplies in int8 or fp8 and gets that roof.
    source : str
        Where the scheme is described.

    Raises
    ------
    ValueError
        If a width is not a positive finite number (a bool or a string is not) or ``compute`` is not a known
        precision (the message lists them).
    ArgumentTypeError
        ``name`` or ``source`` not a string.
    """

    name: str
    weight_bytes: float
    act_bytes: float
    kv_bytes: float
    compute: str
    source: str = ""

    def __post_init__(self) -> None:
        for field in ("weight_bytes", "act_bytes", "kv_bytes"):
            value = getattr(self, field)
            if isinstance(value, bool) or np.ndim(value) != 0:
                raise ValueError(f"{field} must be a positive number of bytes per element, got {value!r}")
            object.__setattr__(self, field, float(_check_precision(field, value)))
        instance("name", self.name, str)
        instance("source", self.source, str)
        if not isinstance(self.compute, str) or self.compute not in PRECISION_COLUMNS:
            raise ValueError(f"compute={self.compute!r} is not known; allowed: {', '.join(PRECISION_COLUMNS)}")

    @property
    def widths(self) -> ByteWidths:
        """The scheme's storage widths, as the ``widths=`` argument of every cost function. [B/element]"""
        return ByteWidths(weight=self.weight_bytes, act=self.act_bytes, kv=self.kv_bytes)

    def with_kv_bytes(self, kv_bytes: float, suffix: str = "") -> Scheme:
        """The same scheme with another KV-cache width. [B/element]"""
        return replace(self, name=self.name + suffix, kv_bytes=kv_bytes)


PRECISION_SCHEMES: dict[str, Scheme] = {
    s.name: s
    for s in (
        Scheme("W16A16", 2.0, 2.0, 2.0, "bf16", "16-bit (bf16/fp16) weights, activations and KV cache"),
        Scheme("W8A16", 1.0, 2.0, 2.0, "bf16",
               "weight-only int8, e.g. GPTQ (Frantar et al. 2022, arXiv 2210.17323); 16-bit compute"),
        Scheme("W4A16", 0.5, 2.0, 2.0, "bf16",
               "weight-only 4-bit: GPTQ (arXiv 2210.17323), AWQ (Lin et al. 2023, arXiv 2306.00978); "
               "16-bit compute; group scales not counted"),
        Scheme("W8A8", 1.0, 1.0, 1.0, "int8",
               "int8 weights and activations, SmoothQuant (Xiao et al. 2022, arXiv 2211.10438); int8 roof"),
        Scheme("FP8", 1.0, 1.0, 1.0, "fp8",
               "fp8 E4M3 weights, activations and KV (Micikevicius et al. 2022, arXiv 2209.05433); fp8 roof"),
    )
}
"""Named precision schemes; append a modifier of :data:`KV_MODIFIERS` (``"W4A16-KV8"``) via :func:`get_scheme`."""

KV_MODIFIERS: dict[str, float] = {"KV16": 2.0, "KV8": 1.0, "KV4": 0.5}
"""KV-cache width [B/element] set by a ``-KVn`` suffix: int8/fp8 caches (vLLM's ``kv_cache_dtype``), 4-bit
caches (KIVI, Liu et al. 2024, arXiv 2402.02750; KVQuant, Hooper et al. 2024, arXiv 2401.18079)."""


def get_scheme(scheme: str | Scheme) -> Scheme:
    """Scheme by name, with an optional KV-cache modifier.

    Parameters
    ----------
    scheme : str or Scheme
        A key of :data:`PRECISION_SCHEMES`, optionally followed by ``-`` or ``+`` and a key of
        :data:`KV_MODIFIERS` (``"W16A16-KV8"``: 16-bit weights and activations, 8-bit KV cache); a
        :class:`Scheme` is returned unchanged. Case-insensitive.

    Returns
    -------
    Scheme

    Raises
    ------
    ValueError
        For an unknown base scheme or modifier, or a ``-``/``+`` with no modifier after it (``"W4A16-"``); the
        message lists the valid names.
    ArgumentTypeError
        ``scheme`` neither a string nor a :class:`Scheme`.
    """
    if isinstance(scheme, Scheme):
        return scheme
    if not isinstance(scheme, str):
        raise ArgumentTypeError(f"scheme must be a scheme name (str) or a Scheme, got {type(scheme).__name__} "
                                f"{scheme!r:.80}")
    text = scheme.strip().upper().replace("+", "-")
    base, dash, modifier = text.partition("-")
    if base not in PRECISION_SCHEMES or (dash and modifier not in KV_MODIFIERS):
        raise ValueError(f"unknown precision scheme {scheme!r}; schemes: {', '.join(PRECISION_SCHEMES)}, "
                         f"optionally with a KV modifier ({', '.join('-' + k for k in KV_MODIFIERS)})")
    out = PRECISION_SCHEMES[base]
    return out.with_kv_bytes(KV_MODIFIERS[modifier], "-" + modifier) if modifier else out


def ceilings_for(hardware: pd.DataFrame | Sequence[Mapping[str, Any]], device: str, scheme: str | Scheme) -> Ceilings:
    """Roofline ceilings of a device under a scheme's compute precision.

    Parameters
    ----------
    hardware : pandas.DataFrame or sequence of mapping
        Table from :func:`memwall.tables.load_hardware`, or its rows from
        :func:`memwall.device_lookup.hardware_records`.
    device : str
        Its ``device`` value, or a name :func:`memwall.device_lookup.find_device` resolves to one
        (``"H100"``, ``"tpu v5e"``).
    scheme : str or Scheme
        Name accepted by :func:`get_scheme`, or a scheme.

    Returns
    -------
    Ceilings
        Dense peak at ``scheme.compute`` [FLOP/s] and datasheet bandwidth [B/s], named by the row.

    Raises
    ------
    ValueError
        Unknown scheme, unknown or ambiguous device (:class:`memwall.device_lookup.DeviceLookupError`), or a
        device without a peak at that precision (e.g. fp8 on TPU v5e).
    ArgumentTypeError
        ``scheme``, ``hardware`` or ``device`` of the wrong type.
    """
    return Ceilings.from_hardware(hardware, device, get_scheme(scheme).compute)


def device_memory_bytes(hardware: pd.DataFrame | Sequence[Mapping[str, Any]], device: str) -> float:
    """Memory capacity of a device in bytes: ``memory_capacity_gib · 2**30``.

    Parameters
    ----------
    hardware : pandas.DataFrame or sequence of mapping
        Table from :func:`memwall.tables.load_hardware` (``memory_capacity_gib`` [GiB], the vendor's
        nominal "80 GB" read as GiB), or its rows from :func:`memwall.device_lookup.hardware_records`.
    device : str
        Its ``device`` value, or a name :func:`memwall.device_lookup.find_device` resolves to one.

    Returns
    -------
    float
        Capacity. [B]

    Raises
    ------
    ValueError
        Unknown or ambiguous device, or no capacity in the table (or one that is not a positive number).
    ArgumentTypeError
        ``hardware`` not a table or list of rows, ``device`` not a string.
    """
    _hardware(hardware, device)
    row = device_row(hardware, device)
    gib = row.get("memory_capacity_gib")
    if is_missing(gib):
        raise ValueError(f"device={row['device']!r} has no memory capacity in the table")
    return float(number("memory_capacity_gib", gib, strict=True, unit="GiB")) * GIB


# ----------------------------------------------------------------------------------------- helpers


def _spec(spec: ModelSpec | str) -> ModelSpec:
    return decoder_spec(spec, "serving")


def _out(arr: np.ndarray) -> float | np.ndarray:
    arr = np.asarray(arr, dtype=float)
    return float(arr) if arr.ndim == 0 else arr


def _out_int(arr: np.ndarray, what: str, inputs: dict[str, object]) -> int | np.ndarray:
    """Whole-number results as an ``int`` (an ``int64`` array), exact: above ``2**53 - 1`` a float cannot tell a
    count from the next, so that raises a ``ValueError`` naming ``what``, the limit and the inputs."""
    arr = np.asarray(arr, dtype=float)
    finite_result(what, arr, inputs)
    if np.any(arr > MAX_EXACT_INT):
        listing = ", ".join(f"{k}={v!r:.60}" for k, v in inputs.items())
        raise ValueError(f"{what} = {np.max(arr):.4g} is above 2**53 - 1 = {MAX_EXACT_INT}, beyond which a float "
                         f"cannot tell a count from the next; {listing}: use a smaller memory")
    out = arr.astype(np.int64)
    return int(out) if out.ndim == 0 else out
