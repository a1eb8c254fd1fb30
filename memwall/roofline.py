"""Roofline bounds: attainable FLOP/s, per-operation time lower bounds and predicted model latency.

A processor with peak arithmetic throughput ``P`` [FLOP/s] and memory bandwidth ``B`` [B/s] runs a
kernel of arithmetic intensity ``I`` [FLOP/B] at most at

.. math::

    \\text{attainable}(I) = \\min(P,\\; I \\cdot B),

the roofline of Williams, Waterman and Patterson, *Roofline: an insightful visual performance model
for multicore architectures*, CACM 52(4), 2009, https://doi.org/10.1145/1498765.1498785. The
*ridge point* ``P / B`` [FLOP/B] (also called machine balance) separates memory-bound kernels
(left of it) from compute-bound ones (right of it). Equivalently, an operation of ``F`` FLOPs that
moves ``M`` bytes takes at least

.. math::

    t \\ge \\max(F / P,\\; M / B)

seconds, and a model whose operations run one after the other takes at least the sum of its
operations' bounds. :func:`memwall.bounds.predict_time` applies that sum to the per-operation FLOPs and bytes of
:mod:`memwall.cost`, which is how the survey the paper re-uses (Kim et al., arXiv 2302.14017, §2.2)
reasons about BERT vs GPT-2 latency.

:class:`Ceilings` holds one device's two ceilings (:meth:`Ceilings.from_hardware` reads them from the
hardware table); :func:`memwall.device_ceilings.ceilings_table` lists every device's at once.

The bound ignores everything a roofline ignores: latency of the first byte, cache reuse beyond the
cost model's "each operand read once", kernel-launch and interpreter overheads, and overlap between
operations (a sum of maxima, not a max of sums).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from memwall._checks import ArgumentTypeError, choice, finite_result, instance, number
from memwall.device_lookup import device_row, is_missing

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PRECISION_COLUMNS", "Ceilings", "attainable_flop_per_s", "op_time_bound", "ridge_point"]


PRECISION_COLUMNS: dict[str, str] = {
    "fp32": "peak_fp32_tflop_per_s",
    "fp16": "dense_fp16_tflop_per_s",
    "bf16": "dense_fp16_tflop_per_s",
    "fp8": "dense_fp8_tflop_per_s",
    "int8": "dense_int8_tera_op_per_s",
}
"""Precision name -> column of :func:`memwall.tables.load_hardware` holding its dense peak [T(FL)OP/s].

``fp16`` and ``bf16`` share one column (the table's dense 16-bit matrix peak); ``int8`` is in integer
operations per second, used as if they were FLOP/s."""


def _positive(name: str, value: ArrayLike, *, allow_zero: bool = False, unit: str = "") -> np.ndarray:
    """:func:`memwall._checks.number`: finite, ``> 0`` (``>= 0`` with ``allow_zero``); no bools or strings."""
    return number(name, value, strict=not allow_zero, unit=unit)


def _hardware(hardware: object, device: object) -> None:
    """Reject a hardware argument that is neither a table nor a list of rows, and a device that is no name."""
    if not (hasattr(hardware, "columns") or isinstance(hardware, list | tuple)):
        raise ArgumentTypeError(f"hardware must be a pandas.DataFrame (memwall.tables.load_hardware()) or a list "
                                f"of rows, got {type(hardware).__name__}")
    instance("device", device, str)


def _out(arr: np.ndarray) -> float | np.ndarray:
    return float(arr) if arr.ndim == 0 else arr


# ------------------------------------------------------------------------------------------ ceilings


@dataclass(frozen=True)
class Ceilings:
    """The two ceilings of a roofline: peak arithmetic throughput and memory bandwidth.

    Parameters
    ----------
    peak_flop_per_s : float
        Peak (dense) arithmetic throughput at ``precision``. [FLOP/s]
    bandwidth_bytes_per_s : float
        Sustained or datasheet DRAM bandwidth. [B/s]
    name : str
        Device or machine name, for labels.
    precision : str
        Number format the peak refers to, for labels (e.g. ``"fp32"``).

    Raises
    ------
    ValueError
        If a ceiling is not a finite positive number (a bool, a string, NaN, 0, ``10**400``), naming the field
        and value.
    ArgumentTypeError
        ``name`` or ``precision`` not a string.

    References
    ----------
    .. [1] S. Williams, A. Waterman, D. Patterson, "Roofline: an insightful visual performance model for
       multicore architectures", Commun. ACM 52(4), 65-76, 2009, https://doi.org/10.1145/1498765.1498785
    .. [2] NVIDIA A100 Tensor Core GPU datasheet (80GB SXM: 312 TFLOP/s dense FP16 tensor core, 2039 GB/s),
       https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf

    Examples
    --------
    An A100 80GB SXM at dense FP16 [2]_: the ridge is 312e12 / 2039e9 = 153.0 FLOP/B [1]_; at 1 FLOP/B a
    kernel is held to 1 x 2039 GB/s, at 1000 FLOP/B it reaches the peak [TFLOP/s]:

    >>> from memwall.roofline import Ceilings
    >>> a100 = Ceilings(312e12, 2039e9, name="A100 80GB SXM", precision="fp16")
    >>> round(a100.ridge_flop_per_byte, 1)
    153.0
    >>> (a100.attainable([1.0, 1000.0]) / 1e12).round(3).tolist()
    [2.039, 312.0]

    The same ceilings from the shipped hardware table:

    >>> from memwall.tables import load_hardware
    >>> c = Ceilings.from_hardware(load_hardware(), "A100 SXM4 80GB (Ampere)", "fp16")
    >>> c.peak_flop_per_s, c.bandwidth_bytes_per_s
    (312000000000000.0, 2039000000000.0)
    """

    peak_flop_per_s: float
    bandwidth_bytes_per_s: float
    name: str = "machine"
    precision: str = "fp32"

    def __post_init__(self) -> None:
        for field, unit in (("peak_flop_per_s", "FLOP/s"), ("bandwidth_bytes_per_s", "B/s")):
            value = getattr(self, field)
            if np.ndim(value) != 0:
                raise ValueError(f"{field} must be a single number > 0 [{unit}], got {value!r}")
            object.__setattr__(self, field, float(_positive(field, value, unit=unit)))
        instance("name", self.name, str)
        instance("precision", self.precision, str)

    @property
    def ridge_flop_per_byte(self) -> float:
        """Ridge point ``peak / bandwidth``: the intensity where the two roofs meet. [FLOP/B]"""
        return float(ridge_point(self.peak_flop_per_s, self.bandwidth_bytes_per_s))

    def attainable(self, intensity: ArrayLike) -> float | np.ndarray:
        """:func:`attainable_flop_per_s` under these ceilings. [FLOP/s]"""
        return attainable_flop_per_s(intensity, self.peak_flop_per_s, self.bandwidth_bytes_per_s)

    def time_bound(self, flops: ArrayLike, bytes_: ArrayLike) -> float | np.ndarray:
        """:func:`op_time_bound` under these ceilings. [s]"""
        return op_time_bound(flops, bytes_, self.peak_flop_per_s, self.bandwidth_bytes_per_s)

    @classmethod
    def from_hardware(cls, hardware: pd.DataFrame | Sequence[Mapping[str, Any]], device: str,
                      precision: str = "fp16") -> Ceilings:
        """Datasheet ceilings of one device of the hardware table.

        Parameters
        ----------
        hardware : pandas.DataFrame or sequence of mapping
            Table from :func:`memwall.tables.load_hardware` (columns ``device``,
            ``memory_bandwidth_gb_per_s`` [GB/s] and the peak columns of :data:`PRECISION_COLUMNS`
            [TFLOP/s]), or its rows from :func:`memwall.device_lookup.hardware_records`.
        device : str
            Its ``device`` value, or a name :func:`memwall.device_lookup.find_device` resolves to one
            (``"H100"``, ``"mi300x"``).
        precision : {"fp32", "fp16", "bf16", "fp8", "int8"}
            Which dense peak to use.

        Returns
        -------
        Ceilings
            In SI units (FLOP/s, B/s; 1 GB = 1e9 B), named by the row's exact ``device``.

        Raises
        ------
        ValueError
            Unknown ``precision`` (lists the allowed ones), unknown or ambiguous ``device`` (suggests or lists
            names), or a device without a value at that precision (lists the precisions it has).
        ArgumentTypeError
            ``hardware`` not a table or list of rows, ``device`` not a string.
        """
        choice("precision", precision, PRECISION_COLUMNS)
        _hardware(hardware, device)
        return cls.from_row(device_row(hardware, device), precision)

    @classmethod
    def from_row(cls, row: Mapping[str, Any], precision: str = "fp16") -> Ceilings:
        """Datasheet ceilings from one row of the hardware table (a mapping of column to cell).

        Parameters
        ----------
        row : mapping
            ``device``, ``memory_bandwidth_gb_per_s`` [GB/s] and the peak columns of
            :data:`PRECISION_COLUMNS` [TFLOP/s]; empty cells are ``None`` or NaN.
        precision : {"fp32", "fp16", "bf16", "fp8", "int8"}
            Which dense peak to use.

        Returns
        -------
        Ceilings
            In SI units (FLOP/s, B/s; 1 GB = 1e9 B).

        Raises
        ------
        ValueError
            Unknown ``precision``, or no value at that precision (lists the precisions the row has) or no
            bandwidth; a cell that is not a positive number (a string, a bool), naming its column.
        ArgumentTypeError
            ``row`` not a mapping.
        """
        choice("precision", precision, PRECISION_COLUMNS)
        instance("row", row, Mapping)
        device = row.get("device", "?")
        peak = row.get(PRECISION_COLUMNS[precision])
        if is_missing(peak):
            have = [p for p, c in PRECISION_COLUMNS.items() if not is_missing(row.get(c))]
            raise ValueError(f"device={device!r} has no dense {precision} peak in the table; "
                             f"precisions it has: {', '.join(have) or 'none'}")
        bandwidth = row.get("memory_bandwidth_gb_per_s")
        if is_missing(bandwidth):
            raise ValueError(f"device={device!r} has no memory bandwidth in the table")
        peak = float(_positive(PRECISION_COLUMNS[precision], peak, unit="TFLOP/s")) * 1e12
        bandwidth = float(_positive("memory_bandwidth_gb_per_s", bandwidth, unit="GB/s")) * 1e9
        return cls(peak, bandwidth, name=str(device), precision=precision)

    @classmethod
    def from_measured(cls, peak_flop_per_s: float, bandwidth_bytes_per_s: float, name: str = "this machine",
                      precision: str = "fp32") -> Ceilings:
        """Ceilings from measured numbers (e.g. :mod:`memwall.wall.measure`): GEMM peak and STREAM bandwidth.

        Parameters
        ----------
        peak_flop_per_s : float
            Measured peak. [FLOP/s]
        bandwidth_bytes_per_s : float
            Measured sustained bandwidth. [B/s]
        name, precision : str
            Labels.

        Returns
        -------
        Ceilings

        Raises
        ------
        ValueError
            If a number is not finite and positive (or is a bool or a string).
        ArgumentTypeError
            ``name`` or ``precision`` not a string.
        """
        return cls(peak_flop_per_s, bandwidth_bytes_per_s, name=name, precision=precision)


# --------------------------------------------------------------------------------------------- bounds


def ridge_point(peak_flop_per_s: ArrayLike, bandwidth_bytes_per_s: ArrayLike) -> float | np.ndarray:
    """Ridge point (machine balance) ``peak / bandwidth``.

    Parameters
    ----------
    peak_flop_per_s : float or array_like
        Peak throughput. [FLOP/s]
    bandwidth_bytes_per_s : float or array_like
        Memory bandwidth. [B/s]

    Returns
    -------
    float or numpy.ndarray
        Broadcast shape of the inputs. [FLOP/B]

    Raises
    ------
    ValueError
        If an input is not a finite positive number (a bool, a string, NaN, ``10**400``), or the ratio overflows
        a float (a bandwidth of ``1e-320`` B/s); the message names the argument.

    References
    ----------
    .. [1] S. Williams, A. Waterman, D. Patterson, "Roofline: an insightful visual performance model for
       multicore architectures", Commun. ACM 52(4), 65-76, 2009, https://doi.org/10.1145/1498765.1498785
    .. [2] NVIDIA A100 Tensor Core GPU datasheet (80GB SXM: 312 TFLOP/s dense FP16 tensor core, 2039 GB/s),
       https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf
    .. [3] NVIDIA H100 Tensor Core GPU datasheet (SXM: 1979 TFLOP/s FP16 with sparsity, 989.4 dense; 3.35 TB/s),
       https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet

    Examples
    --------
    Where the roofs meet [1]_: A100 80GB SXM [2]_ 312e12 / 2039e9 = 153.0, H100 SXM [3]_ 989.4e12 / 3350e9 = 295.3.

    >>> from memwall.roofline import ridge_point
    >>> round(ridge_point(312e12, 2039e9), 1)
    153.0
    >>> ridge_point([312e12, 989.4e12], [2039e9, 3350e9]).round(1).tolist()
    [153.0, 295.3]
    """
    peak = _positive("peak_flop_per_s", peak_flop_per_s, unit="FLOP/s")
    bw = _positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, unit="B/s")
    with np.errstate(over="ignore"):
        out = peak / bw
    finite_result("ridge_point", out, {"peak_flop_per_s": peak, "bandwidth_bytes_per_s": bw})
    return _out(out)


def attainable_flop_per_s(intensity: ArrayLike, peak_flop_per_s: ArrayLike,
                          bandwidth_bytes_per_s: ArrayLike) -> float | np.ndarray:
    """Roofline: ``min(peak, intensity · bandwidth)`` (Williams et al. 2009, eq. 1).

    Parameters
    ----------
    intensity : float or array_like
        Arithmetic intensity, FLOPs per byte moved. [FLOP/B]
    peak_flop_per_s : float or array_like
        Peak throughput. [FLOP/s]
    bandwidth_bytes_per_s : float or array_like
        Memory bandwidth. [B/s]

    Returns
    -------
    float or numpy.ndarray
        Attainable throughput, broadcast shape of the inputs (e.g. intensities ``(n,)`` against
        devices ``(m, 1)`` give ``(m, n)``). [FLOP/s]

    Raises
    ------
    ValueError
        If ``intensity`` is negative or not finite, or a ceiling is not finite and positive; a bool or a string
        anywhere. The message names the argument. (The result is at most the peak, so it is always finite.)

    References
    ----------
    .. [1] S. Williams, A. Waterman, D. Patterson, "Roofline: an insightful visual performance model for
       multicore architectures", Commun. ACM 52(4), 65-76, 2009, https://doi.org/10.1145/1498765.1498785
    .. [2] NVIDIA A100 Tensor Core GPU datasheet (80GB SXM: 312 TFLOP/s dense FP16 tensor core, 2039 GB/s),
       https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf

    Examples
    --------
    On an A100 80GB SXM at dense FP16 (312 TFLOP/s, 2039 GB/s [2]_; ridge 153.0 FLOP/B) an intensity of
    1, 100 and 153 FLOP/B is memory-bound (``I·B`` = 2.039, 203.9 and 311.967 TFLOP/s) and 1000 FLOP/B is
    capped at the peak [1]_:

    >>> from memwall.roofline import attainable_flop_per_s
    >>> (attainable_flop_per_s([1.0, 100.0, 153.0, 1000.0], 312e12, 2039e9) / 1e12).round(3).tolist()
    [2.039, 203.9, 311.967, 312.0]
    """
    i = _positive("intensity", intensity, allow_zero=True, unit="FLOP/B")
    peak = _positive("peak_flop_per_s", peak_flop_per_s, unit="FLOP/s")
    bw = _positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, unit="B/s")
    with np.errstate(over="ignore"):  # an infinite i·B is above any peak: the minimum is the peak
        return _out(np.minimum(peak, i * bw))


def op_time_bound(flops: ArrayLike, bytes_: ArrayLike, peak_flop_per_s: ArrayLike,
                  bandwidth_bytes_per_s: ArrayLike) -> float | np.ndarray:
    """Lower bound on an operation's time: ``max(flops / peak, bytes / bandwidth)``.

    Parameters
    ----------
    flops : float or array_like
        Arithmetic work. [FLOP]
    bytes_ : float or array_like
        DRAM traffic, read plus written. [B]
    peak_flop_per_s : float or array_like
        Peak throughput. [FLOP/s]
    bandwidth_bytes_per_s : float or array_like
        Memory bandwidth. [B/s]

    Returns
    -------
    float or numpy.ndarray
        Broadcast shape of the inputs. [s]

    Raises
    ------
    ValueError
        If ``flops`` or ``bytes_`` is negative or not finite, or a ceiling is not finite and positive; a bool or a
        string anywhere; a time that overflows a float (a peak of ``1e-320`` FLOP/s). The message names the
        argument(s).

    Notes
    -----
    The time form of the roofline (Williams et al. 2009 [1]_): a kernel cannot finish before its FLOPs are
    executed at peak nor before its bytes cross the memory bus at full bandwidth.

    References
    ----------
    .. [1] S. Williams, A. Waterman, D. Patterson, "Roofline: an insightful visual performance model for
       multicore architectures", Commun. ACM 52(4), 65-76, 2009, https://doi.org/10.1145/1498765.1498785
    .. [2] NVIDIA A100 Tensor Core GPU datasheet (80GB SXM: 312 TFLOP/s dense FP16 tensor core, 2039 GB/s),
       https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf

    Examples
    --------
    On an A100 80GB SXM [2]_, a 4096 x 4096 FP16 matrix-vector product (``2·4096²`` FLOP, 2 B per weight) is
    memory-bound, 33554432 B / 2039e9 B/s = 16.46 us; a 4096³ FP16 matrix product (``2·4096³`` FLOP over
    ``3·2·4096²`` B) is compute-bound, 137438953472 / 312e12 s = 440.51 us.

    >>> from memwall.roofline import op_time_bound
    >>> n = 4096
    >>> round(op_time_bound(2 * n**2, 2 * n**2, 312e12, 2039e9) * 1e6, 2)  # [us]
    16.46
    >>> round(op_time_bound(2 * n**3, 3 * 2 * n**2, 312e12, 2039e9) * 1e6, 2)  # [us]
    440.51
    """
    f = _positive("flops", flops, allow_zero=True, unit="FLOP")
    m = _positive("bytes_", bytes_, allow_zero=True, unit="B")
    peak = _positive("peak_flop_per_s", peak_flop_per_s, unit="FLOP/s")
    bw = _positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, unit="B/s")
    with np.errstate(over="ignore"):
        out = np.maximum(f / peak, m / bw)
    finite_result("op_time_bound", out, {"flops": f, "bytes_": m, "peak_flop_per_s": peak,
                                         "bandwidth_bytes_per_s": bw})
    return _out(out)
