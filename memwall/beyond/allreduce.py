r"""Ring all-reduce: the collective of tensor parallelism, its time and the link bandwidth it runs on.

A ring all-reduce of ``S`` bytes over ``N`` chips takes ``2 (N - 1)`` steps, each sending ``S / N``
bytes to the next chip while receiving from the previous one (Patarasuk and Yuan, *Bandwidth optimal
all-reduce algorithms for clusters of workstations*, J. Parallel Distrib. Comput. 69(2), 2009,
doi 10.1016/j.jpdc.2008.09.002):

.. math::

    t_\text{AR}(S, N) = t_0 + 2 (N - 1)\,\ell + \frac{2 (N - 1)}{N} \frac{S}{\beta},

with ``β`` the **per-direction** link bandwidth of one chip (a ring sends and receives at once),
``ℓ`` a latency per ring step and ``t_0`` a fixed launch latency (:func:`ring_allreduce_time`). NCCL's
tuning model uses the same form (``src/graph/tuning.cc``: latency ``baseLat + nsteps · hwLat`` plus
bytes over bus bandwidth, ``nsteps = 2 (N - 1)`` for all-reduce); its constants for the low-latency
(LL) ring protocol are the defaults here, see :data:`HOP_LATENCY_S` and :data:`BASE_LATENCY_S`.

Pitfall: NVLink, Infinity Fabric and TPU ICI are quoted **bidirectionally** (NVLink 4.0: 900 GB/s =
450 GB/s each way), PCIe usually per direction (x16 Gen5: 63 GB/s each way, "128 GB/s" in NVIDIA's
bidirectional wording). Use ``device_gb_per_s_per_direction`` of ``data/interconnects.csv``
(:func:`link_bandwidth`, in B/s) or ``chip_to_chip_gb_per_s_per_direction`` of
:func:`memwall.tables.load_hardware`, never the quoted sum.

The tensor-parallel decode step that pays these all-reduces is :mod:`memwall.beyond.tensor_parallel`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from memwall import units
from memwall._checks import _check_array
from memwall.roofline import _positive

__all__ = ["BASE_LATENCY_S", "HOP_LATENCY_S", "NCCL_TUNING_URL", "link_bandwidth", "ring_allreduce_time"]


NCCL_TUNING_URL = ("https://github.com/NVIDIA/nccl/blob/01afd20a77b5804e0ecf1042509dd9d20ebf9e93/"
                   "src/graph/tuning.cc")
"""NCCL's tuning model (v2.7 era), the source of the latency constants below."""

HOP_LATENCY_S: dict[str, float] = {"nvlink": 0.47e-6, "pcie": 1.0e-6, "infiniband": 2.7e-6}
"""Latency per ring step of an all-reduce by link family. [s]

NCCL's ``hwLat`` for the ring algorithm with the LL (low-latency) protocol, which NCCL picks for the
small messages of decode: NVLink 0.47 µs, PCI 1.0 µs, network 2.7 µs (:data:`NCCL_TUNING_URL`). They
are NCCL's model constants, not measurements of a particular machine; pass your own ``hop_latency_s``
to explore."""

BASE_LATENCY_S: float = 3.6e-6
"""Fixed latency of one ring all-reduce, NCCL's ``baseLat`` for ring/LL (:data:`NCCL_TUNING_URL`). [s]"""


# ------------------------------------------------------------------------------------------- links


def link_bandwidth(interconnects: pd.DataFrame, name: str) -> tuple[float, str]:
    """Per-direction bandwidth of one chip over a link generation of ``data/interconnects.csv``.

    Parameters
    ----------
    interconnects : pandas.DataFrame
        Table from :func:`memwall.tables.load_interconnects`.
    name : str
        Exact value of its ``name`` column, e.g. ``"NVLink 4.0"`` or ``"PCIe 5.0"``.

    Returns
    -------
    bandwidth : float
        ``device_gb_per_s_per_direction · 1e9``: what one chip sends (and, at the same time,
        receives) over all its links of that generation. [B/s]
    family : str
        The ``family`` column (``"nvlink"``, ``"pcie"``, ``"infiniband"``), the key of
        :data:`HOP_LATENCY_S`.

    Raises
    ------
    ValueError
        Unknown ``name`` (lists the names) or no per-device bandwidth in the table.
    """
    rows = interconnects[interconnects["name"] == name]
    if rows.empty:
        raise ValueError(f"link {name!r} is not in the interconnect table; names: "
                         f"{', '.join(map(str, interconnects['name']))}")
    row = rows.iloc[0]
    if pd.isna(row["device_gb_per_s_per_direction"]):
        raise ValueError(f"link {name!r} has no per-device bandwidth in the table")
    return float(row["device_gb_per_s_per_direction"]) * units.GB, str(row["family"])


# -------------------------------------------------------------------------------------- all-reduce


def ring_allreduce_time(message_bytes: ArrayLike, chips: ArrayLike, link_bytes_per_s: ArrayLike,
                        hop_latency_s: ArrayLike, base_latency_s: ArrayLike = 0.0) -> float | np.ndarray:
    """Time of one ring all-reduce of ``message_bytes`` over ``chips`` chips.

    Parameters
    ----------
    message_bytes : float or array_like of float
        Bytes each chip holds and must end up with, summed. [B]
    chips : int or array_like of int
        Chips in the ring (1: no communication). [chips]
    link_bytes_per_s : float or array_like of float
        Per-direction bandwidth of one chip to its ring neighbour. [B/s]
    hop_latency_s : float or array_like of float
        Latency of each of the ``2 (N - 1)`` ring steps. [s]
    base_latency_s : float or array_like of float
        Fixed latency of the collective, paid once when ``N > 1``. [s]

    Returns
    -------
    float or numpy.ndarray
        ``base + 2 (N-1) hop + 2 (N-1)/N · S / β`` for ``N > 1``, exactly 0 for ``N = 1``. [s]

    Raises
    ------
    ValueError
        Negative or non-finite bytes or latencies, ``chips`` not a positive integer, a bandwidth not
        positive.

    Notes
    -----
    Reduce-scatter then all-gather, ``N - 1`` steps each, every step moving ``S / N`` bytes per chip
    (Patarasuk and Yuan 2009, doi 10.1016/j.jpdc.2008.09.002): ``2 (N-1)/N · S`` bytes leave every
    chip, the minimum for any all-reduce, which makes the ring bandwidth-optimal.
    """
    s = _check_array("message_bytes", message_bytes, integer=False, minimum=0)
    n = _check_array("chips", chips, integer=True, minimum=1)
    bw = _positive("link_bytes_per_s", link_bytes_per_s)
    hop = _check_array("hop_latency_s", hop_latency_s, integer=False, minimum=0)
    base = _check_array("base_latency_s", base_latency_s, integer=False, minimum=0)
    steps = 2.0 * (n - 1.0)
    t = base + steps * hop + steps / n * s / bw
    t = np.where(n > 1, t, 0.0)
    return float(t) if t.ndim == 0 else t
