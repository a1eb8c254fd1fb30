"""Byte widths: how many bytes one weight, one activation and one cached K/V element take.

Every cost in the package depends on three storage widths. They travel together as one keyword-only
value, ``widths=ByteWidths(weight=..., act=..., kv=...)``, in the same order everywhere (weights,
activations, KV cache), never as bare positional floats. A quantisation scheme
(:class:`memwall.serving.schemes.Scheme`) carries one (``scheme.widths``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from memwall._checks import _check_precision

__all__ = ["BF16", "BYTES_PER_ELEMENT", "FP32", "INT8", "ByteWidths"]

BYTES_PER_ELEMENT: dict[str, float] = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5}
"""Storage of one element in each number format [B/element] (IEEE 754 binary32/binary16; bfloat16; the OCP
FP8 formats, https://www.opencompute.org/documents/ocp-8-bit-floating-point-specification-ofp8-revision-1-0-2023-12-01-pdf-1;
4-bit integer weights as packed by GPTQ/AWQ, scales not counted)."""


@dataclass(frozen=True)
class ByteWidths:
    """Storage widths of weights, activations and the KV cache.

    Parameters
    ----------
    weight : float or array_like of float
        Bytes per weight element (2 for bf16/fp16, 1 for int8/fp8, 0.5 for 4-bit). [B/element]
    act : float or array_like of float
        Bytes per activation element. [B/element]
    kv : float or array_like of float
        Bytes per cached key or value element. [B/element]

    Raises
    ------
    ValueError
        If a width is not a positive finite number (or array of them; bools, strings and ``10**400`` are not),
        naming the field.

    Notes
    -----
    Arrays broadcast with the other array arguments of the function that receives the widths (e.g. a
    sweep over weight widths). Widths are storage sizes; quantisation scales and zero points are not
    counted.

    Examples
    --------
    >>> ByteWidths(weight=0.5)
    ByteWidths(weight=0.5, act=2.0, kv=2.0)
    >>> ByteWidths.uniform(1.0).kv
    1.0
    """

    weight: ArrayLike = 2.0
    act: ArrayLike = 2.0
    kv: ArrayLike = 2.0

    def __post_init__(self) -> None:
        for field, name in (("weight", "weight_bytes"), ("act", "act_bytes"), ("kv", "kv_bytes")):
            value = getattr(self, field)
            if isinstance(value, bool):
                raise ValueError(f"{name} must be a positive number of bytes, got {value!r}")
            checked = _check_precision(name, value)
            object.__setattr__(self, field, float(checked) if np.ndim(checked) == 0 else checked)

    @classmethod
    def uniform(cls, width: float) -> ByteWidths:
        """The same width for weights, activations and the KV cache. [B/element]"""
        return cls(weight=width, act=width, kv=width)


BF16 = ByteWidths.uniform(BYTES_PER_ELEMENT["bf16"])
"""16-bit weights, activations and KV cache (bf16/fp16): the default everywhere."""
INT8 = ByteWidths.uniform(BYTES_PER_ELEMENT["int8"])
"""8-bit everything: the survey's setting (Kim et al. 2023, arXiv 2302.14017, §2.2)."""
FP32 = ByteWidths.uniform(BYTES_PER_ELEMENT["fp32"])
"""32-bit everything (numpy float32 runs)."""
