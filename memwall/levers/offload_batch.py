r"""The memory hierarchy at large batch: when the link stops binding, what fits in HBM, and the tables.

Streaming the weights over the host link costs ``W / BW_s`` per step however large the batch, so a large
batch amortises it (throughput-oriented offloading; Sheng et al., *FlexGen*, ICML 2023, arXiv 2303.06865):
the link stops binding at :func:`link_critical_batch_closed_form`, ``B* = (P / BW_s) · b_w / 2`` (the decode
critical batch of :func:`memwall.serving.decode.critical_batch_closed_form` with the link in place of HBM),
and :func:`link_critical_batch` finds it for a whole model. :func:`hbm_batch_limit` says how many sequences
the KV caches let stay in HBM, :func:`throughput_table` and :func:`tier_ceilings_table` build the chapter's
chart tables. The step model itself is in :mod:`memwall.levers.offload`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from memwall.levers._args import count, instance, number, positive
from memwall.levers.offload import StepTraffic, TierCeilings, offload_step_time, step_traffic
from memwall.roofline import Ceilings
from memwall.serving.decode import critical_batch_closed_form, smallest_compute_bound_batch
from memwall.serving.memory import kv_cache_bytes
from memwall.serving.schemes import _out, _spec
from memwall.specs.model_spec import ModelSpec, parameter_count
from memwall.widths import BF16, ByteWidths

__all__ = ["hbm_batch_limit", "link_critical_batch", "link_critical_batch_closed_form", "roofline_point",
           "throughput_table", "tier_ceilings_table"]


def link_critical_batch_closed_form(peak_flop_per_s: ArrayLike, link_bandwidth_bytes_per_s: ArrayLike,
                                    weight_bytes: ArrayLike = 2.0) -> float | np.ndarray:
    """Batch from which streaming the weights over the link no longer binds a decode step (closed form).

    Parameters
    ----------
    peak_flop_per_s : float or array_like
        Peak. [FLOP/s]
    link_bandwidth_bytes_per_s : float or array_like
        Host streaming rate (link, each direction). [B/s]
    weight_bytes : float or array_like
        Storage per weight. [B/element]

    Returns
    -------
    float or numpy.ndarray
        ``B* = (P / BW_s) · b_w / 2`` [sequences]: a step of ``B`` tokens does ``2 B`` FLOPs per weight and
        streams ``b_w`` bytes per weight, so the link time equals the compute time at ``B*`` (activations
        and the KV cache neglected). :func:`memwall.serving.decode.critical_batch_closed_form` with the
        link in place of HBM.

    Raises
    ------
    ValueError
        If an input is not a positive finite number (bools and strings rejected), naming the parameter, its
        value and its unit.

    Examples
    --------
    H100 SXM (989.4 TFLOP/s dense BF16) over PCIe 5.0 x16 (63 GB/s each way) and over NVLink-C2C (450):

    >>> round(link_critical_batch_closed_form(989.4e12, 63e9))
    15705
    >>> round(link_critical_batch_closed_form(989.4e12, 450e9))
    2199
    """
    return critical_batch_closed_form(positive("peak_flop_per_s", peak_flop_per_s, unit="FLOP/s"),
                                      positive("link_bandwidth_bytes_per_s", link_bandwidth_bytes_per_s, unit="B/s"),
                                      positive("weight_bytes", weight_bytes, unit="B/element"))


def link_critical_batch(spec: ModelSpec | str, system: TierCeilings, context: ArrayLike = 0, *,
                        weights_on_host: float = 1.0, kv_on_host: float = 0.0,
                        widths: ByteWidths = BF16) -> float | np.ndarray:
    """Smallest decode batch at which the link no longer binds the overlapped step; ``inf`` if none does.

    Parameters
    ----------
    spec, system, context, weights_on_host, kv_on_host, widths
        As in :func:`offload_step_time`.

    Returns
    -------
    float or numpy.ndarray
        Smallest integer ``B`` with ``link time <= max(F/P, H/BW_h)``, found by bisection
        (:func:`memwall.serving.decode.smallest_compute_bound_batch`); from there on the step takes as long
        as with the weights in HBM. ``inf`` if still link-bound at 2**24 (e.g. a KV cache on the host, whose
        transfer grows with the batch as fast as the FLOPs). [sequences]

    Raises
    ------
    ValueError
        As :func:`offload_step_time` (``system`` not a :class:`TierCeilings` included).
    """
    instance("system", system, TierCeilings)
    fw = float(number("weights_on_host", weights_on_host, minimum=0.0, maximum=1.0))
    fk = float(number("kv_on_host", kv_on_host, minimum=0.0, maximum=1.0))

    def link_free(b: np.ndarray) -> np.ndarray:
        t = step_traffic(spec, b, context, widths=widths)
        hbm = (1 - fw) * t.weight_read + (1 - fk) * (t.kv_read + t.kv_written) + t.act_bytes
        link = np.maximum(fw * t.weight_read + fk * t.kv_read, fk * t.kv_written) / system.stream_bandwidth_bytes_per_s
        return link <= np.maximum(t.flops / system.peak_flop_per_s, hbm / system.hbm_bandwidth_bytes_per_s)

    return _out(smallest_compute_bound_batch(link_free, np.shape(context)))


def hbm_batch_limit(spec: ModelSpec | str, system: TierCeilings, context: int, *, weights_on_host: float = 1.0,
                    staging_layers: int = 2, widths: ByteWidths = BF16) -> int | float:
    """Largest batch whose KV cache fits in HBM beside the weights kept there (and the staging buffers).

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder or preset name.
    system : TierCeilings
        Needs ``hbm_bytes``.
    context : int
        Tokens per sequence to hold, >= 0. [tokens]
    weights_on_host : float
        Share of the weights on the host, in [0, 1]. [1]
    staging_layers : int
        Layers' weights buffered in HBM while streaming, >= 0 (2: double buffering, one layer computing and
        the next arriving, as FlexGen's overlap needs). [layers]
    widths : memwall.widths.ByteWidths
        Storage widths (keyword-only). [B/element]

    Returns
    -------
    int or float
        ``floor((M - (1 - f_w) N b_w - f_w · staging) / kv_per_sequence)`` [sequences]; 0 if the weights
        and staging buffers alone do not fit. With ``context=0`` there is no KV cache, so once the weights
        fit every batch does: ``math.inf`` (a float), since activations are not counted.

    Raises
    ------
    ValueError
        ``system.hbm_bytes`` unknown; a share outside [0, 1], ``context`` or ``staging_layers`` not an
        integer >= 0 (bools and strings rejected); ``system`` not a :class:`TierCeilings`.
    """
    instance("system", system, TierCeilings)
    instance("widths", widths, ByteWidths)
    if system.hbm_bytes is None:
        raise ValueError(f"system {system.name!r} has no HBM capacity (hbm_bytes)")
    fw = float(number("weights_on_host", weights_on_host, minimum=0.0, maximum=1.0))
    layers = count("staging_layers", staging_layers, minimum=0, scalar=True)
    tokens = count("context", context, minimum=0, scalar=True)
    spec = _spec(spec)
    weights = parameter_count(spec) * float(widths.weight)
    staging = fw * min(layers, spec.layers) * weights / spec.layers
    free = system.hbm_bytes - (1 - fw) * weights - staging
    if free < 0:
        return 0
    per_seq = kv_cache_bytes(spec, tokens, 1, widths.kv)
    return int(free // per_seq) if per_seq > 0 else math.inf


def throughput_table(models: dict[str, ModelSpec | str], systems: dict[str, TierCeilings],
                     batches: ArrayLike, context: int, placements: dict[str, dict[str, float]], *,
                     widths: ByteWidths = BF16) -> pd.DataFrame:
    """Decode tokens/s against batch for every model, system and placement (the chapter's chart).

    Parameters
    ----------
    models : dict of str to ModelSpec or str
        Label -> model.
    systems : dict of str to TierCeilings
        Label -> system.
    batches : array_like of int, shape (n,)
        Batches. [sequences]
    context : int
        Cached tokens per sequence. [tokens]
    placements : dict of str to dict
        Label -> ``{"weights_on_host": f_w, "kv_on_host": f_k}``.
    widths : memwall.widths.ByteWidths
        Storage widths (keyword-only). [B/element]

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``system``, ``placement``, ``batch``, ``tokens_per_s`` [tokens/s],
        ``step_time_s`` [s]; one row per combination.

    Raises
    ------
    ValueError
        As :func:`offload_step_time`.
    """
    b = number("batches", batches, minimum=1, integer=True).ravel()
    rows = []
    for m_label, model in models.items():
        for s_label, system in systems.items():
            for p_label, where in placements.items():
                step = np.atleast_1d(offload_step_time(model, system, b, context, widths=widths, **where))
                rows.append(pd.DataFrame({"model": m_label, "system": s_label, "placement": p_label,
                                          "batch": b, "tokens_per_s": b / step, "step_time_s": step}))
    return pd.concat(rows, ignore_index=True)


def tier_ceilings_table(peak_flop_per_s: float, bandwidths: dict[str, float], intensities: ArrayLike) -> pd.DataFrame:
    """Attainable FLOP/s of each memory tier or link over a range of intensities: a multi-tier roofline.

    Parameters
    ----------
    peak_flop_per_s : float
        Compute roof. [FLOP/s]
    bandwidths : dict of str to float
        Label (e.g. "HBM3", "PCIe 5.0 x16") -> bandwidth the data of that tier arrives at. [B/s]
    intensities : array_like, shape (n,)
        Arithmetic intensities. [FLOP/B]

    Returns
    -------
    pandas.DataFrame
        Columns ``ceiling``, ``intensity_flop_per_byte``, ``attainable_flop_per_s`` = ``min(P, I · BW)``
        (Williams et al. 2009, https://doi.org/10.1145/1498765.1498785), ``bandwidth_bytes_per_s`` and
        ``ridge_flop_per_byte`` (``P / BW``).

    Raises
    ------
    ValueError
        A bandwidth or the peak not a positive number (bools and strings rejected); an intensity negative.
    """
    i = number("intensities", intensities, minimum=0.0).ravel()
    peak = positive("peak_flop_per_s", peak_flop_per_s, unit="FLOP/s", scalar=True)
    frames = []
    for label, bw in bandwidths.items():
        c = Ceilings(peak, positive(f"bandwidths[{label!r}]", bw, unit="B/s", scalar=True), name=label)
        frames.append(pd.DataFrame({"ceiling": label, "intensity_flop_per_byte": i,
                                    "attainable_flop_per_s": np.atleast_1d(c.attainable(i)),
                                    "bandwidth_bytes_per_s": c.bandwidth_bytes_per_s,
                                    "ridge_flop_per_byte": c.ridge_flop_per_byte}))
    return pd.concat(frames, ignore_index=True)


def roofline_point(operation: str, ceiling: str, traffic: StepTraffic, peak_flop_per_s: float,
                   bandwidth_bytes_per_s: float) -> dict[str, float | str]:
    """One operation placed on a multi-tier roofline: its intensity over all the bytes it moves, and the
    attainable rate under the ceiling of the tier its bytes come from.

    Parameters
    ----------
    operation, ceiling : str
        Labels of the point and of its ceiling (a key of :func:`tier_ceilings_table`'s ``bandwidths``).
    traffic : StepTraffic
        FLOPs and bytes of the step (:func:`memwall.levers.offload.step_traffic`), scalars.
    peak_flop_per_s, bandwidth_bytes_per_s : float
        Compute roof [FLOP/s] and the bandwidth of the ceiling [B/s].

    Returns
    -------
    dict
        ``operation``, ``ceiling``, ``intensity_flop_per_byte`` = FLOPs / (weights + KV read and written +
        activations) [FLOP/B] and ``attainable_flop_per_s`` = ``min(P, I · BW)`` [FLOP/s] (Williams et al. 2009).

    Raises
    ------
    ValueError
        A rate not a positive number; ``traffic`` not a :class:`~memwall.levers.offload.StepTraffic`.
    """
    instance("traffic", traffic, StepTraffic)
    total = traffic.weight_read + traffic.kv_read + traffic.kv_written + traffic.act_bytes
    intensity = float(traffic.flops / total)
    roof = Ceilings(positive("peak_flop_per_s", peak_flop_per_s, unit="FLOP/s", scalar=True),
                    positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, unit="B/s", scalar=True))
    return {"operation": operation, "ceiling": ceiling, "intensity_flop_per_byte": intensity,
            "attainable_flop_per_s": float(roof.attainable(intensity))}
