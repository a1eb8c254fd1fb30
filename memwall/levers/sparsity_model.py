"""Pruning a whole model: which weights, the effective bytes per weight, the decode bound and the critical batch.

The matrix-level accounting (formats, bytes per element, executed FLOPs) is :mod:`memwall.levers.sparsity`.
Here it is applied to the operations of :func:`memwall.cost.cost_arrays`: the block linear layers
(:func:`pruned_ops`: Q/K/V/O and MLA projections, FFN matrices, routed and shared experts; what SparseGPT,
Frantar & Alistarh, arXiv 2301.00774, and Wanda, Sun et al., arXiv 2306.11695, prune) get the pruned bytes
per element and the pruning's flop fraction; the embeddings, LM head, router, norms, attention and KV cache
stay dense (:data:`memwall.levers.sparsity.DENSE_OPS`). Biases of pruned layers are counted at the pruned
width (no Llama-family model has them). The bound per operation is ``max(flops / peak, bytes / bandwidth)``
on the device's *dense* peak (Williams et al. 2009), summed as in :func:`memwall.serving.decode_step_time`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from memwall._checks import _check_array
from memwall.cost import cost_arrays
from memwall.levers._args import instance
from memwall.levers.sparsity import DENSE_OPS, DENSITIES, NO_PRUNING, Pruning, break_even_density, bytes_per_element
from memwall.roofline import Ceilings
from memwall.serving.decode import smallest_compute_bound_batch
from memwall.serving.schemes import _out, _spec, ceilings_for
from memwall.specs.model_spec import ModelSpec
from memwall.widths import BF16, BYTES_PER_ELEMENT, ByteWidths

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["critical_batch_pruned", "decode_speedup_bound", "decode_step_time_pruned", "effective_weight_bytes",
           "pruned_ops", "published_vs_bound", "published_widths", "speedup_table", "storage_table"]


def pruned_ops(spec: ModelSpec | str) -> tuple[str, ...]:
    """Names of the operations of :func:`memwall.cost.cost_arrays` whose weights are pruned.

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder architecture or preset name.

    Returns
    -------
    tuple of str
        The ``projection`` and ``ffn`` operations of the blocks, less :data:`DENSE_OPS`.
    """
    ops = cost_arrays(_spec(spec), "decode", 0, 1, include_lm_head=True)
    return tuple(n for n, o in ops.items() if o.category in ("projection", "ffn") and n not in DENSE_OPS)


def _ops(spec: ModelSpec, batch: ArrayLike, context: ArrayLike, pruning: Pruning, widths: ByteWidths) -> list:
    """``(flops, bytes)`` per decode operation, pruned ops at the pruned width and flop fraction."""
    instance("pruning", pruning, Pruning)
    instance("widths", widths, ByteWidths)
    _check_array("batch", batch, integer=True, minimum=1)
    _check_array("context", context, integer=True, minimum=0)
    eff = ByteWidths(weight=bytes_per_element(widths.weight, pruning), act=widths.act, kv=widths.kv)
    dense = cost_arrays(spec, "decode", context, batch, widths=widths, fused_attention=True, include_lm_head=True)
    sparse = cost_arrays(spec, "decode", context, batch, widths=eff, fused_attention=True, include_lm_head=True)
    chosen = set(pruned_ops(spec))
    return [(name, o.category, sparse[name].flops * pruning.flop_fraction,
             sparse[name].bytes_read + sparse[name].bytes_written) if name in chosen else
            (name, o.category, o.flops, o.bytes_read + o.bytes_written) for name, o in dense.items()]


def decode_step_time_pruned(spec: ModelSpec | str, ceilings: Ceilings, batch: ArrayLike = 1, context: ArrayLike = 0,
                            *, pruning: Pruning = NO_PRUNING, widths: ByteWidths = BF16) -> float | np.ndarray:
    """Roofline bound of one decode step with the block linear layers pruned.

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder architecture or preset name.
    ceilings : Ceilings
        Device (dense peak, bandwidth).
    batch, context : int or array_like of int
        Sequences and cached tokens per sequence. [sequences], [tokens]
    pruning : Pruning
        Format and execution of the pruned layers (:func:`pruned_ops`).
    widths : memwall.widths.ByteWidths
        Dense widths; ``widths.weight`` is the width of a kept value. [B/element]

    Returns
    -------
    float or numpy.ndarray
        ``sum_ops max(flops / peak, bytes / bandwidth)`` as :func:`memwall.serving.decode_step_time`
        (fused attention, LM head included), pruned ops at :func:`bytes_per_element` and the pruning's
        flop fraction; equal to it for ``Pruning("dense")``. [s]

    Raises
    ------
    ValueError
        Bad batch, context or widths; an encoder; ``ceilings`` not a :class:`memwall.roofline.Ceilings`,
        ``pruning`` not a :class:`memwall.levers.sparsity.Pruning` or ``widths`` not a ByteWidths (an
        :class:`memwall.levers._args.ArgumentTypeError`, also a ``TypeError``).
    """
    instance("ceilings", ceilings, Ceilings)
    ops = _ops(_spec(spec), batch, context, pruning, widths)
    return _out(sum(np.maximum(f / ceilings.peak_flop_per_s, b / ceilings.bandwidth_bytes_per_s) for _, _, f, b in ops))


def decode_speedup_bound(spec: ModelSpec | str, ceilings: Ceilings, batch: ArrayLike = 1, context: ArrayLike = 0, *,
                         pruning: Pruning, widths: ByteWidths = BF16) -> float | np.ndarray:
    """Upper bound on the decode speed-up of pruning: dense step bound over pruned step bound. [x]

    Parameters and errors as :func:`decode_step_time_pruned`.
    """
    dense = decode_step_time_pruned(spec, ceilings, batch, context, widths=widths)
    return _out(np.asarray(dense) / np.asarray(decode_step_time_pruned(spec, ceilings, batch, context,
                                                                        pruning=pruning, widths=widths)))


def effective_weight_bytes(spec: ModelSpec | str, pruning: Pruning, *, widths: ByteWidths = BF16) -> float:
    """Bytes per weight read by a decode step, averaged over pruned and dense weights.

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder architecture or preset name.
    pruning : Pruning
        Format of the block linear layers.
    widths : memwall.widths.ByteWidths
        ``widths.weight``: width of a value. [B/element]

    Returns
    -------
    float
        Weight bytes of a batch-1 decode step over the weights it reads (blocks, norms, LM head; the
        embedding table is gathered, not read). Passed as ``ByteWidths(weight=...)`` to
        :func:`memwall.serving.time_per_token` it gives the same batch-1 bound. [B/element]

    Raises
    ------
    ValueError
        ``pruning`` not a Pruning or ``widths`` not a ByteWidths; an encoder.
    """
    spec = _spec(spec)
    zero = ByteWidths(weight=1e-300, act=1e-300, kv=1e-300)
    ops = [o for o in _ops(spec, 1, 0, pruning, widths) if o[0] != "embedding"]
    params = [o for o in _ops(spec, 1, 0, Pruning(), ByteWidths(weight=1.0, act=zero.act, kv=zero.kv))
              if o[0] != "embedding"]
    act = [o for o in _ops(spec, 1, 0, Pruning(), ByteWidths(weight=zero.weight, act=widths.act, kv=widths.kv))
           if o[0] != "embedding"]
    return float((sum(o[3] for o in ops) - sum(o[3] for o in act)) / sum(o[3] for o in params))


def critical_batch_pruned(spec: ModelSpec | str, ceilings: Ceilings, context: ArrayLike = 0, *,
                          pruning: Pruning = NO_PRUNING, widths: ByteWidths = BF16,
                          scope: str = "weight_matmuls") -> float | np.ndarray:
    """Smallest batch at which a pruned decode step is compute-bound (``np.inf``: never).

    Parameters
    ----------
    spec, ceilings, context, pruning, widths
        As :func:`decode_step_time_pruned`.
    scope : {"weight_matmuls", "step"}
        The projections, FFN matrices and LM head only (default), or every operation.

    Returns
    -------
    float or numpy.ndarray
        As :func:`memwall.serving.critical_batch`, on the pruned cost model. [sequences]

    Raises
    ------
    ValueError
        Unknown scope; bad context or widths; wrong object types as :func:`decode_step_time_pruned`.
    """
    if scope not in ("weight_matmuls", "step"):
        raise ValueError(f"scope must be 'weight_matmuls' or 'step', got {scope!r}")
    instance("ceilings", ceilings, Ceilings)
    instance("pruning", pruning, Pruning)
    spec = _spec(spec)

    def compute_bound(b: np.ndarray) -> np.ndarray:
        ops = [o for o in _ops(spec, b, context, pruning, widths)
               if scope == "step" or o[1] in ("projection", "ffn")]
        return (sum(o[2] for o in ops) / ceilings.peak_flop_per_s
                >= sum(o[3] for o in ops) / ceilings.bandwidth_bytes_per_s)

    return _out(smallest_compute_bound_batch(compute_bound, np.shape(context)))


def speedup_table(hardware: pd.DataFrame, spec: ModelSpec | str, devices: Sequence[str],
                  densities: ArrayLike = DENSITIES, *, context: int = 1024, batch: int = 1,
                  index_bytes: float = 2.0, widths: ByteWidths = BF16) -> pd.DataFrame:
    """Decode speed-up bound of pruning over a range of densities, per device and format (for a chart).

    Parameters
    ----------
    hardware : pandas.DataFrame
        :func:`memwall.tables.load_hardware`.
    spec : ModelSpec or str
        Decoder.
    devices : sequence of str
        Devices (16-bit dense peaks, :func:`memwall.serving.ceilings_for` with ``"W16A16"``).
    densities : array_like of float
        Densities for the unstructured formats, in (0, 1]. [1]
    context, batch : int
        Cached tokens and sequences of the decode step. [tokens], [sequences]
    index_bytes : float
        CSR column index. [B]
    widths : memwall.widths.ByteWidths
        Dense widths. [B/element]

    Returns
    -------
    pandas.DataFrame
        Columns ``device``, ``format``, ``density``, ``speedup_bound`` [x]: bitmap and CSR on dense math at each
        density, 2:4 on sparse tensor cores at 1/2.

    Raises
    ------
    ValueError
        Unknown device; a density outside (0, 1].
    """
    import pandas as pd

    rows = []
    for device in devices:
        ceilings = ceilings_for(hardware, device, "W16A16")
        choices = [("2:4, sparse tensor cores", Pruning("2:4", execution="sparse_tensor_core"))]
        for p in np.asarray(densities, dtype=float):
            choices += [("bitmap, dense math", Pruning("bitmap", float(p))),
                        (f"CSR {8 * index_bytes:g}-bit indices, dense math",
                         Pruning("csr", float(p), index_bytes=index_bytes))]
        for label, pruning in choices:
            rows.append({"device": device, "format": label, "density": pruning.density,
                         "speedup_bound": decode_speedup_bound(spec, ceilings, batch, context, pruning=pruning,
                                                               widths=widths)})
    return pd.DataFrame(rows)


def storage_table(element_bytes: tuple[float, ...] = (2.0, 1.0), densities: ArrayLike = DENSITIES,
                  *, index_bytes: tuple[float, ...] = (2.0, 4.0)) -> pd.DataFrame:
    """Bytes per element of dense, 2:4, CSR and bitmap storage over a range of densities (for a chart).

    Parameters
    ----------
    element_bytes : tuple of float
        Value widths to tabulate. [B]
    densities : array_like of float
        Densities for CSR and bitmap, in (0, 1]. [1]
    index_bytes : tuple of float
        CSR column-index widths (one line each). [B]

    Returns
    -------
    pandas.DataFrame
        Columns ``element_bytes``, ``format`` (label), ``density``, ``bytes_per_element`` [B/element] and
        ``break_even_density`` [1] (NaN for dense and 2:4, which sit at fixed densities); large-matrix limit.

    Raises
    ------
    ValueError
        A density outside (0, 1] or a width not positive.
    """
    import pandas as pd

    rows = []
    for w in element_bytes:
        rows.append({"element_bytes": w, "format": "dense", "density": 1.0, "bytes_per_element": float(w),
                     "break_even_density": np.nan})
        rows.append({"element_bytes": w, "format": "2:4", "density": 0.5,
                     "bytes_per_element": bytes_per_element(w, Pruning("2:4")), "break_even_density": np.nan})
        kinds = [(f"CSR, {8 * i:g}-bit indices", "csr", i) for i in index_bytes] + [("bitmap", "bitmap", 4.0)]
        for label, fmt, i in kinds:
            edge = break_even_density(fmt, w, index_bytes=i)
            for p in np.asarray(densities, dtype=float):
                rows.append({"element_bytes": w, "format": label, "density": float(p),
                             "bytes_per_element": bytes_per_element(w, Pruning(fmt, float(p), index_bytes=i)),
                             "break_even_density": edge})
    return pd.DataFrame(rows)


def published_widths(precision: str) -> ByteWidths:
    """Widths of the decode bound for a published row's ``precision`` column (the weights' and math's format).

    Parameters
    ----------
    precision : {"fp32", "fp16", "bf16", "fp8", "int8", "int4"}
        Number format of the weights (:data:`memwall.widths.BYTES_PER_ELEMENT`).

    Returns
    -------
    memwall.widths.ByteWidths
        Weights at the format's width (2 B for fp16/bf16, 1 B for fp8/int8, 0.5 B for int4); activations and
        KV cache at 16 bits (4 B for fp32). Assumed, since the rows state only the weights' format: an fp8
        or int8 deployment (vLLM's W8A8) quantises the matmul inputs but keeps the residual stream and the
        matmul outputs at 16 bits (the bound moves by < 0.1 % at batch 1 with 8-bit activations instead),
        and its KV cache stays at the model's 16 bits unless a KV format is named (vLLM's default
        ``kv_cache_dtype="auto"``). [B/element]

    Raises
    ------
    ValueError
        An unknown precision (lists the known ones).

    Examples
    --------
    >>> published_widths("fp8")
    ByteWidths(weight=1.0, act=2.0, kv=2.0)
    """
    if not isinstance(precision, str) or precision.lower() not in BYTES_PER_ELEMENT:
        raise ValueError(f"precision={precision!r} is not known; allowed: {', '.join(BYTES_PER_ELEMENT)}")
    w = BYTES_PER_ELEMENT[precision.lower()]
    return ByteWidths(weight=w, act=max(w, 2.0), kv=max(w, 2.0))


def published_vs_bound(results: pd.DataFrame, ceilings: Ceilings, *, context: int = 1024) -> pd.DataFrame:
    """Each published speed-up of ``pruning_results.csv`` beside the bound that fits what it measured.

    Parameters
    ----------
    results : pandas.DataFrame
        :func:`memwall.tables.pruning.load_pruning_results`.
    ceilings : Ceilings
        Device of the decode bound (its dense roof; at batch 1 every step is memory-bound, so the peak's
        precision does not move the bound: 16- and 8-bit roofs of an H100 agree to 1e-6).
    context : int
        Cached tokens of the decode bound. [tokens]

    Returns
    -------
    pandas.DataFrame
        The rows with a speed-up, plus ``bound_x`` [x] and ``fraction_of_bound`` [1]. The bound is: for an
        end-to-end row, :func:`decode_speedup_bound` at batch 1 at the row's ``precision``
        (:func:`published_widths`: fp8 weights at 1 B, fp16 at 2 B; activations and KV cache at 16 bits),
        with 2:4 on sparse tensor cores, or, for an unstructured row with a published memory reduction
        ``R``, the block layers at ``w / R`` bytes per element (CSR whose index bytes ``w / (p R) - w``
        give it), on ``llama-3-8b`` or ``llama-2-7b`` by the row's model; for a 2:4 GEMM the 2x of the
        sparse math; for a matrix-vector kernel the published memory reduction (it is bandwidth-bound). The
        last two are ratios at any width. NaN where the baseline is not dense or no model applies.

    Raises
    ------
    ValueError
        ``ceilings`` not a Ceilings; an end-to-end row whose precision :func:`published_widths` does not know.
    """
    instance("ceilings", ceilings, Ceilings)
    bounds = []
    for _, r in results[results["speedup_x"].notna()].iterrows():
        model = "llama-3-8b" if "Llama-3" in r["model"] else "llama-2-7b" if "Llama-2" in r["model"] else None
        dense_baseline = "Sputnik" not in str(r["baseline"])
        bound = np.nan
        if r["measured"].startswith("end_to_end") and model and dense_baseline:
            widths = published_widths(r["precision"])
            w = float(widths.weight)
            if r["pattern"] == "2:4":
                pruning = Pruning("2:4", execution="sparse_tensor_core")
            elif not np.isnan(r["memory_reduction_x"]):
                p = float(r["density"])
                pruning = Pruning("csr", p, index_bytes=w / (p * float(r["memory_reduction_x"])) - w)
            else:
                pruning = None
            if pruning is not None:
                bound = decode_speedup_bound(model, ceilings, 1, context, pruning=pruning, widths=widths)
        elif r["measured"] == "layer_gemm" and r["pattern"] == "2:4" and dense_baseline:
            bound = 1.0 / Pruning("2:4", execution="sparse_tensor_core").flop_fraction
        elif r["measured"] == "spmv_kernel" and not np.isnan(r["memory_reduction_x"]):
            bound = float(r["memory_reduction_x"])
        bounds.append(bound)
    out = results[results["speedup_x"].notna()].assign(bound_x=bounds)
    out["fraction_of_bound"] = out["speedup_x"] / out["bound_x"]
    return out.reset_index(drop=True)
