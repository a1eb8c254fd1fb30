r"""Recommendation models: the bytes of embedding lookups, and where they are cheapest to serve.

The paper argues that CPUs, with their cache hierarchy and large DRAM, can beat GPUs on bandwidth-bound
problems such as large recommendation models (Gholami et al., *AI and Memory Wall*, arXiv 2403.14123,
mitigation section). A DLRM-style model (Naumov et al. 2019, arXiv 1906.00091) pools, for every sample, a
few rows of each of its embedding tables; the tables are far larger than one GPU's HBM and the lookups are
random, so the work is a stream of small reads with almost no arithmetic (a pooled sum: one add per
element read, ~0.25 FLOP/B in fp32). This module counts those bytes and bounds samples/s on:

* a CPU socket with the tables in its own DRAM (:func:`samples_per_s_bound` with its DRAM bandwidth);
* a GPU whose tables do not fit, so every looked-up row crosses the host link (PCIe, NVLink-C2C);
* GPUs whose HBM holds the tables, sharded over as many as needed (:func:`gpus_to_hold`).

Granularity
-----------
DRAM is read in bursts and caches in lines: a row of ``d · b`` bytes costs ``ceil(d · b / g) · g`` bytes
(:func:`row_bytes`). ``g`` is 64 B on x86 and Arm server CPUs (the cache line; a DDR5 burst of 16 beats on
a 32-bit sub-channel is 64 B too, JEDEC JESD79-5) and 32 B on NVIDIA GPUs (global-memory sectors, CUDA C++
Best Practices Guide, "Coalesced Access to Global Memory",
https://docs.nvidia.com/cuda/cuda-c-best-practices-guide/index.html#coalesced-access-to-global-memory).
The bounds assume peak bandwidth at that granularity; random accesses reach only part of it
(``random_access_efficiency``), which is the caveat of the CPU argument.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from memwall.levers._args import count, instance, number, positive

__all__ = ["CPU_LINE_BYTES", "GPU_SECTOR_BYTES", "break_even_efficiency", "gpus_to_hold", "lookup_bounds",
           "model_summary", "pooling_intensity", "row_bytes", "sample_lookup_bytes", "samples_per_s_bound",
           "table_bytes"]

CPU_LINE_BYTES = 64
"""Cache line of x86 and Arm server CPUs, and one DDR4/DDR5 burst. [B]"""
GPU_SECTOR_BYTES = 32
"""Global-memory access granularity (sector) of NVIDIA GPUs (CUDA C++ Best Practices Guide). [B]"""


def _model_rows(tables: pd.DataFrame, model: str) -> pd.DataFrame:
    rows = tables[tables["model"] == model]
    if rows.empty:
        raise ValueError(f"model={model!r} is not in the table; known: {', '.join(dict.fromkeys(tables['model']))}")
    return rows


def row_bytes(embedding_dim: ArrayLike, element_bytes: ArrayLike = 4.0, *,
              granularity_bytes: int = CPU_LINE_BYTES) -> float | np.ndarray:
    """Bytes moved to read one embedding row, rounded up to the memory's access granularity.

    Parameters
    ----------
    embedding_dim : int or array_like of int
        Elements per row. [elements]
    element_bytes : float or array_like
        Storage per element (4 fp32, 2 fp16/bf16, 1 int8). [B/element]
    granularity_bytes : int
        Smallest unit the memory moves (:data:`CPU_LINE_BYTES`, :data:`GPU_SECTOR_BYTES`). [B]

    Returns
    -------
    float or numpy.ndarray
        ``ceil(d · b / g) · g``. [B]

    Raises
    ------
    ValueError
        A dimension not a positive integer, a width not positive, a granularity not a positive integer;
        bools and strings rejected.

    Examples
    --------
    DLRM-v2's fp32 rows of 128 are 8 cache lines; the Kaggle DLRM's fp16 rows of 16 fill half a line:

    >>> row_bytes(128, 4.0), row_bytes(16, 2.0), row_bytes(16, 2.0, granularity_bytes=GPU_SECTOR_BYTES)
    (512.0, 64.0, 32.0)
    """
    d = count("embedding_dim", embedding_dim)
    b = positive("element_bytes", element_bytes, unit="B/element")
    g = float(count("granularity_bytes", granularity_bytes, scalar=True, unit="B"))
    out = np.ceil(d * b / g) * g
    return float(out) if out.ndim == 0 else out


def sample_lookup_bytes(tables: pd.DataFrame, model: str, element_bytes: float = 4.0, *,
                        granularity_bytes: int = CPU_LINE_BYTES) -> float:
    """Bytes one sample reads from the embedding tables: ``sum_t pooling_t · row_bytes``.

    Parameters
    ----------
    tables : pandas.DataFrame
        :func:`memwall.tables.recommendation.load_recommendation_models`.
    model : str
        Its ``model``.
    element_bytes : float
        Storage per element. [B/element]
    granularity_bytes : int
        As in :func:`row_bytes`. [B]

    Returns
    -------
    float
        [B/sample]; every lookup is counted (no reuse between the rows of a batch, no cache hits).

    Raises
    ------
    ValueError
        Unknown model (lists the known ones); as :func:`row_bytes`.
    """
    rows = _model_rows(tables, model)
    per_row = row_bytes(int(rows["embedding_dim"].iloc[0]), element_bytes, granularity_bytes=granularity_bytes)
    return float(rows["lookups_per_sample"].sum() * per_row)


def table_bytes(tables: pd.DataFrame, model: str, element_bytes: float = 4.0) -> float:
    """Storage of all embedding tables of a model: ``sum rows · d · b``.

    Parameters
    ----------
    tables : pandas.DataFrame
        :func:`memwall.tables.recommendation.load_recommendation_models`.
    model : str
        Its ``model``.
    element_bytes : float
        Storage per element. [B/element]

    Returns
    -------
    float
        [B]

    Raises
    ------
    ValueError
        Unknown model; a width not positive.
    """
    rows = _model_rows(tables, model)
    b = positive("element_bytes", element_bytes, unit="B/element", scalar=True)
    return float((rows["rows"].astype(float) * rows["embedding_dim"]).sum() * b)


def pooling_intensity(element_bytes: float = 4.0) -> float:
    """Arithmetic intensity of sum-pooling embedding rows: one add per element gathered. [FLOP/B]

    Parameters
    ----------
    element_bytes : float
        Storage per element of the tables. [B/element]

    Returns
    -------
    float
        ``1 / element_bytes`` (DLRM sums the rows it looks up in each table; Naumov et al. 2019,
        arXiv 1906.00091, §2).

    Raises
    ------
    ValueError
        ``element_bytes`` not a positive number.
    """
    return 1.0 / float(positive("element_bytes", element_bytes, unit="B/element", scalar=True))


def samples_per_s_bound(bytes_per_sample: ArrayLike, bandwidth_bytes_per_s: ArrayLike, *,
                        random_access_efficiency: ArrayLike = 1.0, devices: ArrayLike = 1) -> float | np.ndarray:
    """Upper bound on samples/s when the lookups stream at a bandwidth: ``n · e · BW / bytes``.

    Parameters
    ----------
    bytes_per_sample : float or array_like
        From :func:`sample_lookup_bytes`. [B/sample]
    bandwidth_bytes_per_s : float or array_like
        What the rows arrive through: the CPU's DRAM, the host link, or HBM. [B/s]
    random_access_efficiency : float or array_like, in (0, 1]
        Share of the peak that random row reads reach. [1]
    devices : int or array_like of int
        Devices sharing the tables (sharded). [devices]

    Returns
    -------
    float or numpy.ndarray
        [samples/s]; the MLPs' FLOPs are not counted (they are small and run at high intensity).

    Raises
    ------
    ValueError
        A value not positive (efficiency above 1), bools and strings rejected.
    """
    m = positive("bytes_per_sample", bytes_per_sample, unit="B/sample")
    bw = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, unit="B/s")
    e = number("random_access_efficiency", random_access_efficiency, minimum=0.0, maximum=1.0, strict=True)
    n = count("devices", devices)
    out = n * e * bw / m
    return float(out) if out.ndim == 0 else out


def gpus_to_hold(total_bytes: float, hbm_bytes: float, *, usable_fraction: float = 0.9) -> int:
    """Fewest devices whose memory holds the tables: ``ceil(total / (usable · M))``.

    Parameters
    ----------
    total_bytes : float
        From :func:`table_bytes`. [B]
    hbm_bytes : float
        Memory of one device. [B]
    usable_fraction : float, in (0, 1]
        Share left for tables after the MLPs, activations and the runtime. [1]

    Returns
    -------
    int
        [devices]

    Raises
    ------
    ValueError
        A value not positive, or ``usable_fraction`` above 1.
    """
    t = positive("total_bytes", total_bytes, unit="B", scalar=True)
    m = positive("hbm_bytes", hbm_bytes, unit="B", scalar=True)
    u = float(number("usable_fraction", usable_fraction, minimum=0.0, maximum=1.0, strict=True))
    return max(1, math.ceil(t / (u * m)))


def break_even_efficiency(cpu_bandwidth_bytes_per_s: float, link_bandwidth_bytes_per_s: float, *,
                          cpu_granularity_bytes: int = CPU_LINE_BYTES, gpu_granularity_bytes: int = GPU_SECTOR_BYTES,
                          row_payload_bytes: float = 512.0) -> float:
    """Random-access efficiency below which a CPU loses to a GPU that pulls its rows over the link.

    Parameters
    ----------
    cpu_bandwidth_bytes_per_s : float
        CPU socket DRAM peak. [B/s]
    link_bandwidth_bytes_per_s : float
        GPU host link, each direction (assumed to run at its peak). [B/s]
    cpu_granularity_bytes, gpu_granularity_bytes : int
        Access granularities (:func:`row_bytes`). [B]
    row_payload_bytes : float
        ``d · b`` of one row. [B]

    Returns
    -------
    float
        ``e* = (BW_l / BW_cpu) · row_cpu / row_link``, where the link carries the row rounded to the GPU's
        granularity. [1]

    Raises
    ------
    ValueError
        A bandwidth or the payload not a finite number > 0, a granularity not an integer >= 1 (bools,
        strings and NaN rejected), naming the parameter, its value and the allowed range.
    """
    cpu_bw = positive("cpu_bandwidth_bytes_per_s", cpu_bandwidth_bytes_per_s, unit="B/s", scalar=True)
    link_bw = positive("link_bandwidth_bytes_per_s", link_bandwidth_bytes_per_s, unit="B/s", scalar=True)
    payload = positive("row_payload_bytes", row_payload_bytes, unit="B", scalar=True)
    cpu_g = count("cpu_granularity_bytes", cpu_granularity_bytes, scalar=True, unit="B")
    gpu_g = count("gpu_granularity_bytes", gpu_granularity_bytes, scalar=True, unit="B")
    cpu_row = math.ceil(payload / cpu_g) * cpu_g
    link_row = math.ceil(payload / gpu_g) * gpu_g
    return (link_bw / cpu_bw) * cpu_row / link_row


def model_summary(tables: pd.DataFrame, element_bytes: float = 4.0) -> pd.DataFrame:
    """One row per model: tables, rows, lookups and bytes per sample, total table size.

    Parameters
    ----------
    tables : pandas.DataFrame
        :func:`memwall.tables.recommendation.load_recommendation_models`.
    element_bytes : float
        Storage per element. [B/element]

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``tables``, ``rows``, ``embedding_dim``, ``lookups_per_sample``,
        ``sample_bytes_cpu`` and ``sample_bytes_gpu`` [B/sample] (64 B and 32 B granularity),
        ``table_bytes`` [B].

    Raises
    ------
    ValueError
        A width not positive.
    """
    out: list[dict[str, Any]] = []
    for model, rows in tables.groupby("model", sort=False):
        out.append({"model": model, "tables": len(rows), "rows": int(rows["rows"].sum()),
                    "embedding_dim": int(rows["embedding_dim"].iloc[0]),
                    "lookups_per_sample": int(rows["lookups_per_sample"].sum()),
                    "sample_bytes_cpu": sample_lookup_bytes(tables, model, element_bytes),
                    "sample_bytes_gpu": sample_lookup_bytes(tables, model, element_bytes,
                                                            granularity_bytes=GPU_SECTOR_BYTES),
                    "table_bytes": table_bytes(tables, model, element_bytes)})
    return pd.DataFrame(out)


def lookup_bounds(tables: pd.DataFrame, model: str, setups: dict[str, dict[str, float]], *,
                  element_bytes: float = 4.0, random_access_efficiency: float = 1.0) -> pd.DataFrame:
    """Samples/s bound of one model on several setups (CPU DRAM, GPU over a link, GPUs holding the tables).

    Parameters
    ----------
    tables : pandas.DataFrame
        :func:`memwall.tables.recommendation.load_recommendation_models`.
    model : str
        Its ``model``.
    setups : dict of str to dict
        Label -> ``{"bandwidth_bytes_per_s": BW [B/s], "granularity_bytes": g [B], "devices": n}``
        (``devices`` optional, default 1).
    element_bytes : float
        Storage per element. [B/element]
    random_access_efficiency : float
        Applied to every setup. [1]

    Returns
    -------
    pandas.DataFrame
        Columns ``setup``, ``bandwidth_bytes_per_s``, ``devices``, ``bytes_per_sample`` [B/sample],
        ``samples_per_s`` [samples/s].

    Raises
    ------
    ValueError
        A setup that is not a dict, lacks ``bandwidth_bytes_per_s`` or ``granularity_bytes`` or has another
        key; ``granularity_bytes`` or ``devices`` not an integer >= 1 (48.9 B or 2.7 devices is an error, not
        truncated); or as :func:`samples_per_s_bound`.
    """
    out = []
    keys = {"bandwidth_bytes_per_s", "granularity_bytes", "devices"}
    for label, s in instance("setups", setups, Mapping).items():
        instance(f"setups[{label!r}]", s, Mapping)
        missing, unknown = {"bandwidth_bytes_per_s", "granularity_bytes"} - set(s), set(s) - keys
        if missing:
            raise ValueError(f"setup {label!r} lacks {', '.join(sorted(missing))}")
        if unknown:
            raise ValueError(f"setup {label!r} has unknown keys {sorted(unknown)}; allowed: {sorted(keys)}")
        g = count(f"setups[{label!r}]['granularity_bytes']", s["granularity_bytes"], scalar=True, unit="B")
        n = count(f"setups[{label!r}]['devices']", s.get("devices", 1), scalar=True)
        bw = positive(f"setups[{label!r}]['bandwidth_bytes_per_s']", s["bandwidth_bytes_per_s"], unit="B/s",
                      scalar=True)
        per_sample = sample_lookup_bytes(tables, model, element_bytes, granularity_bytes=g)
        out.append({"setup": label, "bandwidth_bytes_per_s": bw, "devices": n,
                    "bytes_per_sample": per_sample,
                    "samples_per_s": samples_per_s_bound(per_sample, bw, devices=n,
                                                         random_access_efficiency=random_access_efficiency)})
    return pd.DataFrame(out)
