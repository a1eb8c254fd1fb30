"""Units: the one place where SI base units meet the units readers see.

The package computes in SI base units: seconds [s], bytes [B], FLOPs [FLOP], FLOP/s, B/s. Conversions to
the units printed in tables, charts and the command line (ms, GB, GiB, TFLOP/s, ...) use these constants,
at the edge (``memwall.book``, ``memwall.charts``, ``memwall.cli``), never inside a formula.

Two kinds of table keep a published unit on purpose, because they set our numbers beside published ones
and both columns must share the unit the reader checks against: the survey's case study
(:mod:`memwall.wall.case_study`: GFLOP and GB, as printed in arXiv 2302.14017) and the paper's figures
(:mod:`memwall.wall.training_bars`, the memory points of :mod:`memwall.wall.model_growth`: GB, as plotted).
The data tables in ``data/`` carry their unit in every column name (``memory_bandwidth_gb_per_s``);
the loaders and functions convert them to SI where they compute.

Decimal prefixes follow SI (1 GB = 1e9 B; 1 TB/s = 1e12 B/s), as in datasheet bandwidths. Binary prefixes
(1 GiB = 2**30 B) are the unit of device memory capacities in ``data/hardware.csv`` (JEDEC/NIST,
https://physics.nist.gov/cuu/Units/binary.html).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["BITS_PER_BYTE", "GB", "GIB", "KB", "KIB", "MB", "MIB", "MS", "TB", "US", "bit_rate_to_byte_rate",
           "bits_to_bytes", "decimal_prefix", "gib_to_bytes"]

KB = 1e3
"""1 kB = 10**3 B."""
MB = 1e6
"""1 MB = 10**6 B."""
GB = 1e9
"""1 GB = 10**9 B (also the factor of G in GFLOP, GFLOP/s)."""
TB = 1e12
"""1 TB = 10**12 B (also the factor of T in TFLOP/s)."""
KIB = 2.0**10
"""1 KiB = 2**10 B."""
MIB = 2.0**20
"""1 MiB = 2**20 B."""
GIB = 2.0**30
"""1 GiB = 2**30 B: device memory capacities are printed in GiB by vendors ("80 GB" HBM = 80 GiB)."""
MS = 1e-3
"""1 ms = 10**-3 s."""
US = 1e-6
"""1 µs = 10**-6 s."""
BITS_PER_BYTE = 8
"""Bits in a byte."""

_PREFIXES = {"": 1.0, "k": KB, "M": MB, "G": GB, "T": TB, "P": 1e15, "E": 1e18}


def bits_to_bytes(bits: float) -> float:
    """Bytes per element of a format ``bits`` wide.

    Parameters
    ----------
    bits : float
        Width of one element. [bit]

    Returns
    -------
    float
        Width in bytes. [B/element]

    Raises
    ------
    ValueError
        If ``bits`` is not a positive number.

    Examples
    --------
    >>> bits_to_bytes(4)
    0.5
    """
    if isinstance(bits, bool) or not isinstance(bits, int | float) or not bits > 0:
        raise ValueError(f"bits must be a positive number, got {bits!r}")
    return bits / BITS_PER_BYTE


def _non_negative(name: str, value: ArrayLike) -> None:
    arr = np.asarray(value, dtype=float)
    bad = np.flatnonzero(~(np.isfinite(arr) & (arr >= 0)).ravel())
    if bad.size:
        raise ValueError(f"{name} must be finite and >= 0, got {arr.ravel()[bad[0]]!r}")


def bit_rate_to_byte_rate(bits_per_s: ArrayLike) -> ArrayLike:
    """A data rate in bytes per second: the signalling rate of a link lane divided by 8 bits per byte.

    Parameters
    ----------
    bits_per_s : float, numpy.ndarray or pandas.Series
        Rate in bits per second (for a PCIe lane, the transfer rate in GT/s times 1e9: one bit per
        transfer, before line-code overhead). [bit/s]

    Returns
    -------
    same type as ``bits_per_s``
        ``bits_per_s / 8``. [B/s]

    Raises
    ------
    ValueError
        If a rate is negative or not finite.

    Examples
    --------
    PCIe 1.0a signals at 2.5 GT/s per lane (PCI-SIG): 0.3125 GB/s raw, before 8b/10b coding.

    >>> bit_rate_to_byte_rate(2.5e9)
    312500000.0
    """
    _non_negative("bits_per_s", bits_per_s)
    return bits_per_s / BITS_PER_BYTE


def gib_to_bytes(gib: ArrayLike) -> ArrayLike:
    """Bytes in a capacity given in binary gigabytes (GiB = 2**30 B), e.g. ``memory_capacity_gib``.

    Parameters
    ----------
    gib : float, numpy.ndarray or pandas.Series
        Capacity. [GiB]

    Returns
    -------
    same type as ``gib``
        ``gib * 2**30``. [B]

    Raises
    ------
    ValueError
        If a capacity is negative or not finite (a missing capacity is an error, not a zero).

    Examples
    --------
    An H100's "80 GB" of HBM3 is 80 GiB (JEDEC/NIST binary prefixes): 85.9e9 B.

    >>> gib_to_bytes(80) / GB
    85.89934592
    """
    _non_negative("gib", gib)
    return gib * GIB


def decimal_prefix(prefix: str) -> float:
    """The factor of an SI decimal prefix (``""``, ``"k"``, ``"M"``, ``"G"``, ``"T"``, ``"P"``, ``"E"``).

    Raises
    ------
    ValueError
        For another prefix, listing the allowed ones.

    Examples
    --------
    >>> decimal_prefix("T")
    1000000000000.0
    """
    if prefix not in _PREFIXES:
        raise ValueError(f"prefix={prefix!r} is not an SI decimal prefix; allowed: {', '.join(map(repr, _PREFIXES))}")
    return _PREFIXES[prefix]
