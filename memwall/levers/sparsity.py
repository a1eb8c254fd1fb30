r"""Pruning and sparsity: bytes and FLOPs of a pruned weight matrix, and what they do to decode.

A pruned weight matrix of ``rows x cols`` elements of ``w`` bytes keeps a fraction ``p`` (the *density*) of
its values. How many bytes it then occupies depends on how the positions of the kept values are stored:

* ``"dense"``: the zeros are stored, ``rows · cols · w`` bytes;
* ``"2:4"``: two of every four consecutive values along the reduction dimension kept (``p = 1/2``), stored
  as the kept values plus a 2-bit index per kept value, the layout of NVIDIA's sparse tensor cores for
  16- and 8-bit operands (Mishra et al., *Accelerating Sparse Deep Neural Networks*, arXiv 2104.08378,
  §3.1 and Fig. 2; cuSPARSELt lists 2:4 for half, bfloat16, int8 and fp8 and 1:2 for float,
  https://docs.nvidia.com/cuda/cusparselt/types.html): ``rows · cols · (w/2 + 1/8)`` bytes;
* ``"csr"``: compressed sparse rows, the values, a column index of ``i`` bytes per value and ``rows + 1``
  row pointers of ``q`` bytes: ``p · rows · cols · (w + i) + (rows + 1) · q``;
* ``"bitmap"``: one bit per element saying whether it is kept, plus the values:
  ``rows · cols · (1/8 + p · w)``.

A sparse format saves bytes only below a *break-even density*:

.. math::

    p^*_\text{CSR} = \frac{w - (r + 1) q / (r c)}{w + i} \approx \frac{w}{w + i}, \qquad
    p^*_\text{bitmap} = 1 - \frac{1}{8 w},

and 2:4 (fixed at ``p = 1/2``) saves ``1/2 - 1/(8 w)`` of the bytes, nothing at all at ``w = 1/4`` B
(2-bit values). These are first-principles storage counts: alignment padding and quantisation scales are
not counted.

FLOPs depend on how the matmul runs, a named choice (:data:`EXECUTIONS`):

* ``"dense_math"``: the zeros are multiplied as usual (an unstructured format decompressed on chip, as
  Flash-LLM does, Xia et al., arXiv 2309.10285): executed FLOPs unchanged;
* ``"sparse_tensor_core"`` (2:4 only): the sparse tensor core skips the zero half, the math of a 2:4 matmul
  runs at up to twice the dense peak (Mishra et al. 2021, §3.1), i.e. half the FLOPs at the dense peak;
* ``"ideal_sparse"``: FLOPs proportional to the density, a bound no GPU kernel reaches at moderate density.

The peaks of ``data/hardware.csv`` are dense; the vendors' "with sparsity" peaks are twice those, and only
for 2:4 on sparse tensor cores. Here the executed FLOPs shrink and the dense peak is kept.

Which weights are pruned: the linear layers of the blocks (Q/K/V/O and the MLA projections, the FFN
matrices of every kind, routed and shared experts), as SparseGPT (Frantar & Alistarh, arXiv 2301.00774)
and Wanda (Sun et al., arXiv 2306.11695) do. The embeddings, the LM head, the MoE router and gates, norms
and the KV cache stay dense (:data:`DENSE_OPS`). The whole-model consequences (decode bound, effective bytes
per weight, critical batch) are in :mod:`memwall.levers.sparsity_model`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from memwall.levers._args import count, instance, number, positive
from memwall.roofline import Ceilings
from memwall.serving.schemes import _out

__all__ = ["DENSE_OPS", "DENSITIES", "EXECUTIONS", "FORMATS", "NO_PRUNING", "TWO_FOUR_INDEX_BITS", "Pruning",
           "break_even_density", "bytes_per_element", "critical_batch_closed_form", "matrix_bytes", "matrix_flops",
           "weight_matmul_intensity"]

FORMATS = ("dense", "2:4", "csr", "bitmap")
"""Storage formats of a pruned weight matrix (see the module docstring)."""
EXECUTIONS = ("dense_math", "sparse_tensor_core", "ideal_sparse")
"""How a pruned matmul's FLOPs are executed (see the module docstring)."""
TWO_FOUR_INDEX_BITS = 2.0
"""Metadata of a 2:4 matrix per kept value for 16- and 8-bit operands [bit] (Mishra et al. 2021, arXiv
2104.08378, §3.1: a 2-bit index of its position in the group of four)."""
DENSE_OPS = frozenset({"lm_head", "mlm_dense", "router", "shared_gate", "embedding"})
"""Matrix operations that stay dense: LM head, MLM head, MoE router and shared-expert gate, embedding."""


@dataclass(frozen=True)
class Pruning:
    """How a pruned weight matrix is stored and executed.

    Parameters
    ----------
    fmt : {"dense", "2:4", "csr", "bitmap"}
        Storage format (:data:`FORMATS`).
    density : float, optional
        Fraction of values kept, in (0, 1]. Default 1 for ``"dense"``, 1/2 for ``"2:4"`` (the only value
        allowed there); required for ``"csr"`` and ``"bitmap"``. [1]
    index_bytes : float
        CSR column index per kept value (2 for 16-bit, 4 for 32-bit indices). [B]
    pointer_bytes : float
        CSR row pointer. [B]
    execution : {"dense_math", "sparse_tensor_core", "ideal_sparse"}
        How the FLOPs run (:data:`EXECUTIONS`); ``"sparse_tensor_core"`` needs ``fmt="2:4"``.

    Raises
    ------
    ValueError
        Unknown format or execution, a density outside (0, 1] (or not 1/2 for 2:4, or missing for CSR and
        bitmap), index or pointer bytes not a finite number > 0, sparse tensor cores without 2:4; a bool or a
        string where a number is expected.

    Examples
    --------
    >>> Pruning("2:4").density, Pruning("2:4", execution="sparse_tensor_core").flop_fraction
    (0.5, 0.5)
    """

    fmt: str = "dense"
    density: float | None = None
    index_bytes: float = 4.0
    pointer_bytes: float = 4.0
    execution: str = "dense_math"

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise ValueError(f"fmt must be one of {FORMATS}, got {self.fmt!r}")
        if self.execution not in EXECUTIONS:
            raise ValueError(f"execution must be one of {EXECUTIONS}, got {self.execution!r}")
        for name in ("index_bytes", "pointer_bytes"):
            object.__setattr__(self, name, positive(name, getattr(self, name), unit="B", scalar=True))
        default = {"dense": 1.0, "2:4": 0.5}.get(self.fmt)
        density = default if self.density is None else self.density
        if density is None:
            raise ValueError(f"density is required for fmt={self.fmt!r} (a fraction in (0, 1])")
        number("density", density, minimum=0.0, maximum=1.0, strict=True)
        if self.fmt == "2:4" and float(density) != 0.5:
            raise ValueError(f"density must be 0.5 for fmt='2:4' (two of every four kept), got {density!r}")
        if self.execution == "sparse_tensor_core" and self.fmt != "2:4":
            raise ValueError(f"execution='sparse_tensor_core' needs fmt='2:4', got fmt={self.fmt!r}")
        object.__setattr__(self, "density", float(density))

    @property
    def flop_fraction(self) -> float:
        """Executed FLOPs of a pruned matmul over its dense FLOPs (1, 1/2 or the density). [1]"""
        if self.execution == "sparse_tensor_core":
            return 0.5
        return float(self.density) if self.execution == "ideal_sparse" else 1.0


DENSITIES = tuple(float(p) for p in np.round(np.linspace(0.05, 1.0, 20), 2))
"""Default densities of the tables: 0.05, 0.10, ..., 1.00. [1]"""


NO_PRUNING = Pruning()
"""The dense matrix: nothing pruned, dense math."""


def _pruning(pruning: object) -> Pruning:
    return NO_PRUNING if pruning is None else instance("pruning", pruning, Pruning)


def _shape(rows: ArrayLike, cols: ArrayLike, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    r, c = count("rows", rows, unit="elements"), count("cols", cols, unit="elements")
    if fmt == "2:4" and np.any(c % 4):
        raise ValueError(f"cols must be a multiple of 4 for fmt='2:4' (groups of four), got {cols!r}")
    return r, c


def _width(element_bytes: ArrayLike) -> np.ndarray:
    return positive("element_bytes", element_bytes, unit="B/element")


def matrix_bytes(rows: ArrayLike, cols: ArrayLike, element_bytes: ArrayLike,
                 pruning: Pruning | None = None) -> float | np.ndarray:
    """Bytes of one ``rows x cols`` weight matrix stored in a pruning's format.

    Parameters
    ----------
    rows, cols : int or array_like of int
        Output and input (reduction) dimension; 2:4 groups run along ``cols``. [elements]
    element_bytes : float or array_like of float
        Storage of one kept value (2 for fp16/bf16, 1 for int8/fp8). [B]
    pruning : Pruning
        Format, density, index widths.

    Returns
    -------
    float or numpy.ndarray
        Dense ``r c w``; 2:4 ``r c (w/2 + 1/8)``; CSR ``p r c (w + i) + (r + 1) q``; bitmap
        ``r c (1/8 + p w)`` (module docstring; Mishra et al. 2021, arXiv 2104.08378, §3.1). [B]

    Raises
    ------
    ValueError
        Shape not integers >= 1, ``cols`` not a multiple of 4 for 2:4, a width not a finite number > 0 (bools
        and strings rejected); ``pruning`` not a Pruning.

    Examples
    --------
    A 4096 x 4096 fp16 matrix: 32 MiB dense, 18 MiB at 2:4.

    >>> matrix_bytes(4096, 4096, 2.0) / 2**20, matrix_bytes(4096, 4096, 2.0, Pruning("2:4")) / 2**20
    (32.0, 18.0)
    """
    pruning = _pruning(pruning)
    r, c = _shape(rows, cols, pruning.fmt)
    w = _width(element_bytes)
    n, p = r * c, pruning.density
    if pruning.fmt == "dense":
        out = n * w
    elif pruning.fmt == "2:4":
        out = n * p * (w + TWO_FOUR_INDEX_BITS / 8.0)
    elif pruning.fmt == "csr":
        out = n * p * (w + pruning.index_bytes) + (r + 1) * pruning.pointer_bytes
    else:
        out = n * (1.0 / 8.0 + p * w)
    return _out(out)


def bytes_per_element(element_bytes: ArrayLike, pruning: Pruning, rows: ArrayLike | None = None,
                      cols: ArrayLike | None = None) -> float | np.ndarray:
    """Bytes per element of the dense matrix (stored bytes / ``rows · cols``).

    Parameters
    ----------
    element_bytes : float or array_like of float
        Storage of one kept value. [B]
    pruning : Pruning
        Format, density, index widths.
    rows, cols : int, optional
        Matrix shape; without it the CSR row pointers are neglected (the large-matrix limit). [elements]

    Returns
    -------
    float or numpy.ndarray
        :func:`matrix_bytes` divided by the element count. [B/element]

    Raises
    ------
    ValueError
        As :func:`matrix_bytes`; only one of ``rows`` and ``cols`` given.

    Examples
    --------
    >>> bytes_per_element(2.0, Pruning("2:4")), bytes_per_element(2.0, Pruning("bitmap", 0.5))
    (1.125, 1.125)
    """
    instance("pruning", pruning, Pruning)
    if (rows is None) != (cols is None):
        raise ValueError("give both rows and cols, or neither")
    if rows is not None:
        return _out(np.asarray(matrix_bytes(rows, cols, element_bytes, pruning)) / (np.asarray(rows, dtype=float)
                                                                                     * np.asarray(cols, dtype=float)))
    limit = Pruning(pruning.fmt, pruning.density, pruning.index_bytes, pointer_bytes=1e-300,
                    execution=pruning.execution)
    return matrix_bytes(1, 4, element_bytes, limit) / 4.0


def break_even_density(fmt: str, element_bytes: ArrayLike, *, index_bytes: float = 4.0,
                       rows: int | None = None, cols: int | None = None,
                       pointer_bytes: float = 4.0) -> float | np.ndarray:
    """Density below which a sparse format stores fewer bytes than the dense matrix.

    Parameters
    ----------
    fmt : {"csr", "bitmap", "2:4"}
        Sparse format.
    element_bytes : float or array_like of float
        Storage of one value. [B]
    index_bytes, pointer_bytes : float
        CSR column index and row pointer. [B]
    rows, cols : int, optional
        Shape for the CSR row pointers (neglected without it). [elements]

    Returns
    -------
    float or numpy.ndarray
        CSR ``(w - (r+1) q / (r c)) / (w + i)``, bitmap ``1 - 1/(8 w)``; for 2:4 its fixed density 1/2 if it
        saves bytes at that width (``w > 1/4`` B). Exactly ``0.0`` means *never saves*: no density in (0, 1]
        stores fewer bytes than dense at this width (the formula's value <= 0 is clipped to 0). [1]

    Raises
    ------
    ValueError
        Unknown format; a width or ``index_bytes``/``pointer_bytes`` not a finite number > 0; ``rows`` or
        ``cols`` not an integer >= 1; only one of ``rows`` and ``cols`` (bools and strings rejected).

    Examples
    --------
    16-bit values with 16-bit and with 32-bit column indices:

    >>> break_even_density("csr", 2.0, index_bytes=2.0), round(break_even_density("csr", 2.0), 4)
    (0.5, 0.3333)
    """
    if fmt not in ("csr", "bitmap", "2:4"):
        raise ValueError(f"fmt must be one of ('csr', 'bitmap', '2:4'), got {fmt!r}")
    w = _width(element_bytes)
    i = positive("index_bytes", index_bytes, unit="B", scalar=True)
    q = positive("pointer_bytes", pointer_bytes, unit="B", scalar=True)
    if (rows is None) != (cols is None):
        raise ValueError("give both rows and cols, or neither")
    r, c = (None, None) if rows is None else (count("rows", rows, unit="elements", scalar=True),
                                              count("cols", cols, unit="elements", scalar=True))
    if fmt == "csr":
        edge = (w - (0.0 if r is None else (r + 1) * q / (float(r) * float(c)))) / (w + i)
    elif fmt == "bitmap":
        edge = 1.0 - 1.0 / (8.0 * w)
    else:
        edge = np.where(w > TWO_FOUR_INDEX_BITS / 8.0, 0.5, 0.0)
    return _out(np.maximum(edge, 0.0))


def matrix_flops(rows: ArrayLike, cols: ArrayLike, tokens: ArrayLike,
                 pruning: Pruning | None = None) -> float | np.ndarray:
    """Executed FLOPs of a pruned ``rows x cols`` weight times ``tokens`` activation vectors.

    Parameters
    ----------
    rows, cols : int or array_like of int
        Matrix shape. [elements]
    tokens : int or array_like of int
        Activation vectors (batch x positions). [tokens]
    pruning : Pruning
        Its ``execution`` sets the fraction of the ``2 · rows · cols · tokens`` dense FLOPs executed.

    Returns
    -------
    float or numpy.ndarray
        ``2 r c T · pruning.flop_fraction`` (1 multiply-add = 2 FLOPs). [FLOP]

    Raises
    ------
    ValueError
        Bad shape or ``tokens`` not an integer >= 1; ``pruning`` not a Pruning.
    """
    pruning = _pruning(pruning)
    r, c = _shape(rows, cols, pruning.fmt)
    t = count("tokens", tokens, unit="tokens")
    return _out(2.0 * r * c * t * pruning.flop_fraction)


def weight_matmul_intensity(batch: ArrayLike, element_bytes: ArrayLike,
                            pruning: Pruning | None = None) -> float | np.ndarray:
    """Executed-FLOP intensity of a decode weight matmul, activations neglected: ``2 B f / b_eff``.

    Parameters
    ----------
    batch : int or array_like of int
        Tokens sharing the weights. [tokens]
    element_bytes : float or array_like of float
        Storage of one value. [B]
    pruning : Pruning
        Format and execution (``f`` = its flop fraction, ``b_eff`` = :func:`bytes_per_element`).

    Returns
    -------
    float or numpy.ndarray
        Intensity to place against the *dense* roofline. [FLOP/B]

    Raises
    ------
    ValueError
        Bad batch or width; ``pruning`` not a Pruning.

    Examples
    --------
    2:4 at 16 bits on sparse tensor cores sits slightly *left* of dense (0.5 / 1.125 of it):

    >>> weight_matmul_intensity(1, 2.0), weight_matmul_intensity(1, 2.0, Pruning("2:4", execution="sparse_tensor_core"))
    (1.0, 0.8888888888888888)
    """
    pruning = _pruning(pruning)
    b = count("batch", batch, unit="tokens")
    return _out(2.0 * b * pruning.flop_fraction / np.asarray(bytes_per_element(element_bytes, pruning)))


def critical_batch_closed_form(ceilings: Ceilings, element_bytes: ArrayLike,
                               pruning: Pruning | None = None) -> float | np.ndarray:
    """Batch at which a pruned decode weight matmul reaches the dense ridge: ``(P/BW) · b_eff / (2 f)``.

    Parameters
    ----------
    ceilings : Ceilings
        Dense peak and bandwidth.
    element_bytes : float or array_like of float
        Storage of one value. [B]
    pruning : Pruning
        Format and execution.

    Returns
    -------
    float or numpy.ndarray
        Real-valued critical batch (:func:`memwall.serving.critical_batch_closed_form` with
        ``b_w = b_eff / f``). [sequences]

    Raises
    ------
    ValueError
        Bad width; ``ceilings`` not a Ceilings or ``pruning`` not a Pruning.

    Notes
    -----
    2:4 on sparse tensor cores at 16 bits: ``b_eff = 1.125``, ``f = 1/2``, so ``B*`` is 9/8 of dense: the
    bytes shrink by less than the math. Unstructured on dense math: ``B*`` shrinks with the bytes.
    """
    pruning = _pruning(pruning)
    instance("ceilings", ceilings, Ceilings)
    return _out(ceilings.ridge_flop_per_byte * np.asarray(bytes_per_element(element_bytes, pruning))
                / (2.0 * pruning.flop_fraction))
