"""Serving a decoder on one device: schemes, memory footprint, decode bounds, frontier, tables.

Modules
-------
``schemes``
    Quantisation schemes (weights, activations, KV cache) and the device ceilings and memory they give.
``memory``
    What fits on a device: KV-cache bytes (MLA latents, sliding windows), the serving footprint (resident
    weights: every expert), the largest batch and context.
``decode``
    The decode-step roofline bound, tokens/s, ms/token and the critical batch of a decoder (dense, MoE, MLA,
    sliding-window).
``frontier``
    Throughput against latency: the batch frontier and the split of one request into prefill and decode.
``grids``
    Tables over devices, models and schemes for the serving chapters.
"""

from memwall.serving import decode, frontier, grids, memory, schemes
from memwall.serving.decode import *
from memwall.serving.frontier import *
from memwall.serving.grids import *
from memwall.serving.memory import *
from memwall.serving.schemes import *

__all__ = [
    "CRITICAL_BATCH_SEARCH_LIMIT",
    "KV_MODIFIERS",
    "PRECISION_SCHEMES",
    "Footprint",
    "RequestSplit",
    "Scheme",
    "ceilings_for",
    "critical_batch",
    "critical_batch_closed_form",
    "critical_batch_table",
    "decode_step_time",
    "device_memory_bytes",
    "footprint",
    "frontier",
    "frontier_grid",
    "get_scheme",
    "kv_cache_bytes",
    "max_batch",
    "max_context",
    "quantization_table",
    "request_split",
    "time_per_token",
    "tokens_per_s",
]
