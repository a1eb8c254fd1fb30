r"""Roofline upper bounds on published MLPerf Inference LLM results, from this package's cost model.

For a system of ``N`` accelerators (peak ``P`` at the precision its matmuls run in, bandwidth ``BW``,
memory ``M`` each) serving requests of ``I`` prompt and ``O`` generated tokens, no schedule can beat

.. math::

    \frac{\text{samples}}{\text{s}} \le \left[\max\left(
    \frac{F_\text{prefill}(I) + (O-1)\,F_\text{step}(B, \bar c)/B}{N P},
    \; \frac{(O-1)\,M_\text{step}(B, \bar c)/B}{N\,BW}\right)\right]^{-1}

where ``F_step`` and ``M_step`` are the FLOPs and bytes of one decode step of ``B`` sequences at the mean
cached context ``c̄`` (:func:`memwall.cost.cost_arrays`; both are affine in ``c``, so the mean step is the
step at the mean context) and ``B`` is the largest batch whose footprint fits in ``N M`` with the weights
held once (:func:`memwall.serving.max_batch`): tensor parallelism over all ``N`` chips, the most
favourable layout. The bound is optimistic on purpose, so that it is an *upper* bound:

* a request takes the larger of its total FLOP and byte times (the roofline of the whole request, Williams
  et al. 2009, https://doi.org/10.1145/1498765.1498785): operations may overlap; prefill moves no bytes (its
  weight reads ride on the decode steps, as chunked prefill does); chips communicate for free
  (:mod:`memwall.beyond.tensor_parallel` prices that); widths and peaks are the most favourable the
  submission's documents allow (see the data dictionary).

In the Server scenario the p99 time per output token must stay under a limit (``tpot_limit_s``); a decode
step of ``B`` sequences takes at least ``max(F_step/NP, M_step/NBW)``, so the batch is also capped by the
largest ``B`` whose step fits the limit (:func:`decode_at_tpot`). GPT-J's Server limit is on the whole
request (20 s), which caps the step at ``20 s / O``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import pandas as pd

from memwall.cost import cost_arrays
from memwall.roofline import Ceilings
from memwall.serving.memory import max_batch
from memwall.specs.model_spec import ModelSpec
from memwall.specs.presets import get_preset
from memwall.units import GIB
from memwall.widths import BYTES_PER_ELEMENT, ByteWidths

__all__ = ["FP4_OVER_FP8", "GPT_J_6B", "WorkloadBound", "bounds_table", "decode_at_tpot", "decode_step_bound",
           "mlperf_model", "system_ceilings", "widths_of", "workload_bound"]

GPT_J_6B = ModelSpec(
    name="gpt-j-6b", layers=28, d_model=4096, heads=16, kv_heads=16, head_dim=256, ffn_dim=16384,
    ffn_kind="gelu", vocab_size=50400, max_positions=2048, bias=False, norm="layernorm", causal=True,
    mlp_bias=True, norms_per_block=1, source_url="https://huggingface.co/EleutherAI/gpt-j-6b/blob/main/config.json")
"""GPT-J 6B (n_layer 28, n_embd 4096, n_head 16, n_inner 4 x 4096, vocab 50400; one LayerNorm per block feeding
attention and MLP in parallel; MLP biases; rotary on 64 of 256 head dims, free here). MLPerf's gptj-99/-99.9."""

FP4_OVER_FP8 = 2.0
"""Dense FP4 peak over dense FP8 peak on Blackwell (B200: 9,000 vs 4,500 TFLOP/s, NVIDIA HGX B200 datasheet,
https://www.nvidia.com/en-us/data-center/hgx/ , as recorded in the notes of data/hardware.csv)."""

_COMPUTE = {"fp16": "fp16", "bf16": "bf16", "fp8": "fp8", "int8": "int8"}


def _count(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _number(name: str, value: object, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating) \
            or not math.isfinite(float(value)) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def mlperf_model(preset: str) -> ModelSpec:
    """Architecture of a benchmark's ``model_preset``: a :mod:`memwall.specs` preset, or :data:`GPT_J_6B`.

    Raises
    ------
    ValueError
        For a name that is neither (the message lists the presets).
    """
    return GPT_J_6B if preset == GPT_J_6B.name else get_preset(preset)


def widths_of(weight: str, activation: str, kv_cache: str) -> ByteWidths:
    """Storage widths of the documented formats (``int4``/``fp4``: 0.5 B; 8-bit: 1 B; 16-bit: 2 B). [B/element]

    Raises
    ------
    ValueError
        For a format outside ``fp16, bf16, fp8, int8, fp4, int4``.
    """
    sizes = {**BYTES_PER_ELEMENT, "fp4": 0.5}
    out = []
    named = (("weight_precision", weight), ("activation_precision", activation), ("kv_cache_precision", kv_cache))
    for name, fmt in named:
        if fmt not in sizes or fmt == "fp32":
            raise ValueError(f"{name}={fmt!r} is not known; allowed: fp16, bf16, fp8, int8, fp4, int4")
        out.append(sizes[fmt])
    return ByteWidths(weight=out[0], act=out[1], kv=out[2])


def system_ceilings(hardware: pd.DataFrame, device: str, compute_precision: str,
                    bandwidth_gb_per_s: float | None = None) -> Ceilings:
    """Per-accelerator ceilings at the precision the matmuls run in.

    Parameters
    ----------
    hardware : pandas.DataFrame
        :func:`memwall.tables.load_hardware`.
    device : str
        Exact device of the table.
    compute_precision : {"fp16", "bf16", "fp8", "int8", "fp4"}
        ``fp4`` is :data:`FP4_OVER_FP8` times the dense FP8 peak.
    bandwidth_gb_per_s : float, optional
        Bandwidth of the submitted configuration where it differs from the table (e.g. MRDIMM). [GB/s]

    Returns
    -------
    Ceilings
        SI units. [FLOP/s], [B/s]

    Raises
    ------
    ValueError
        Unknown precision or device, a device without that peak, a bandwidth that is not positive.
    """
    if compute_precision not in (*_COMPUTE, "fp4"):
        raise ValueError(f"compute_precision={compute_precision!r} is not known; allowed: fp16, bf16, fp8, int8, fp4")
    base = Ceilings.from_hardware(hardware, device, "fp8" if compute_precision == "fp4" else compute_precision)
    peak = base.peak_flop_per_s * (FP4_OVER_FP8 if compute_precision == "fp4" else 1.0)
    bw = base.bandwidth_bytes_per_s if bandwidth_gb_per_s is None else \
        _number("bandwidth_gb_per_s", bandwidth_gb_per_s) * 1e9
    return Ceilings(peak, bw, name=base.name, precision=compute_precision)


class WorkloadBound(NamedTuple):
    """Upper bound on a system's throughput for one workload (see the module docstring).

    Attributes
    ----------
    batch : int
        Sequences decoded together: the memory limit, capped by the TPOT limit if any. [sequences]
    decode_step_s : float
        Lower bound on one decode step at that batch and the mean context. [s]
    samples_per_s, tokens_per_s : float
        Upper bounds on completed requests and generated tokens per second. [samples/s], [tokens/s]
    compute_s, memory_s : float
        FLOP time and byte time of one request on the whole system (the larger binds). [s]
    binding : str
        ``"compute"`` or ``"memory"``.
    """

    batch: int
    decode_step_s: float
    samples_per_s: float
    tokens_per_s: float
    compute_s: float
    memory_s: float
    binding: str


def _totals(ops: dict) -> tuple[float, float]:
    flops = sum(float(np.sum(o.flops)) for o in ops.values())
    moved = sum(float(np.sum(o.bytes_read + o.bytes_written)) for o in ops.values())
    return flops, moved


def _step(spec: ModelSpec, batch: int, context: int, widths: ByteWidths) -> tuple[float, float]:
    return _totals(cost_arrays(spec, "decode", context, batch, widths=widths, fused_attention=True,
                               include_lm_head=True))


def decode_step_bound(spec: ModelSpec, ceilings: Ceilings, chips: int, batch: int, context: int, *,
                      widths: ByteWidths) -> tuple[float, str]:
    """Lower bound on one decode step of ``batch`` sequences on ``chips`` accelerators, and the roof that binds.

    Returns ``(max(FLOPs / (chips · peak), bytes / (chips · bandwidth)) [s], "compute" or "memory")``.

    Raises
    ------
    ValueError
        ``chips`` or ``batch`` not an integer >= 1, ``context`` not an integer >= 0.
    """
    chips, batch = _count("chips", chips), _count("batch", batch)
    flops, moved = _step(spec, batch, _count("context", context, minimum=0), widths)
    t_c, t_m = flops / (chips * ceilings.peak_flop_per_s), moved / (chips * ceilings.bandwidth_bytes_per_s)
    return max(t_c, t_m), "compute" if t_c >= t_m else "memory"


def decode_at_tpot(spec: ModelSpec, ceilings: Ceilings, chips: int, memory_bytes_per_chip: float, context: int,
                   tpot_limit_s: float | None, *, widths: ByteWidths) -> tuple[int, float, str]:
    """Largest batch that fits in memory and whose decode-step bound meets a time-per-output-token limit.

    Parameters
    ----------
    spec : ModelSpec
        Decoder.
    ceilings : Ceilings
        One accelerator.
    chips : int
        Accelerators serving the model together (weights held once over all of them).
    memory_bytes_per_chip : float
        Memory of one accelerator. [B]
    context : int
        Cached tokens per sequence. [tokens]
    tpot_limit_s : float or None
        Limit on one step; ``None``: memory alone sets the batch. [s]
    widths : ByteWidths
        Storage widths. [B/element]

    Returns
    -------
    tuple of (int, float, str)
        The batch [sequences] (0 if even one sequence does not fit or meet the limit), the step bound at
        that batch [s] (``inf`` at batch 0) and which roof binds it (``"compute"`` or ``"memory"``).

    Raises
    ------
    ValueError
        ``chips`` or ``context`` not an integer in range, memory or limit not a positive number.
    """
    chips = _count("chips", chips)
    context = _count("context", context, minimum=0)
    mem = _number("memory_bytes_per_chip", memory_bytes_per_chip)
    limit = _number("tpot_limit_s", tpot_limit_s, allow_none=True)
    batch = int(max_batch(spec, chips * mem, context, widths=widths, fused_attention=True))
    peak, bw = chips * ceilings.peak_flop_per_s, chips * ceilings.bandwidth_bytes_per_s
    if limit is not None and batch > 0:
        def meets(b: int) -> bool:  # the step bound grows with the batch (MoE: more experts touched)
            flops, moved = _step(spec, b, context, widths)
            return max(flops / peak, moved / bw) <= limit

        if not meets(batch):
            lo, hi = 0, batch  # meets(lo) or lo == 0; not meets(hi)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if meets(mid) else (lo, mid)
            batch = lo
    if batch == 0:
        return 0, math.inf, "memory"
    flops, moved = _step(spec, batch, context, widths)
    t_c, t_m = flops / peak, moved / bw
    return batch, max(t_c, t_m), "compute" if t_c >= t_m else "memory"


def workload_bound(spec: ModelSpec, ceilings: Ceilings, chips: int, memory_bytes_per_chip: float,
                   input_tokens: int, output_tokens: int, *, widths: ByteWidths,
                   tpot_limit_s: float | None = None) -> WorkloadBound:
    """Upper bound on the throughput of a whole workload (prefill of the inputs, decode of the outputs).

    Parameters
    ----------
    spec, ceilings, chips, memory_bytes_per_chip, widths, tpot_limit_s
        As in :func:`decode_at_tpot`.
    input_tokens : int
        Prompt tokens per request (at least 1). [tokens]
    output_tokens : int
        Generated tokens per request (at least 2: one from the prefill, the rest from decode steps). [tokens]

    Returns
    -------
    WorkloadBound
        Batch, step, samples/s, tokens/s, the compute and memory times of one request, which binds.

    Raises
    ------
    ValueError
        Bad counts or sizes (named), or a model that does not fit even one sequence.
    """
    inp = _count("input_tokens", input_tokens)
    out = _count("output_tokens", output_tokens, minimum=2)
    chips = _count("chips", chips)
    context = inp + (out - 2) // 2  # decode caches hold inp .. inp + out - 2 tokens; floor: less work
    batch, step_s, _ = decode_at_tpot(spec, ceilings, chips, memory_bytes_per_chip, context, tpot_limit_s,
                                      widths=widths)
    if batch == 0:
        raise ValueError(f"{spec.name} does not fit (or misses tpot_limit_s={tpot_limit_s!r}) on {chips} x "
                         f"{ceilings.name} with {memory_bytes_per_chip / GIB:.0f} GiB each")
    prefill_flops, _ = _totals(cost_arrays(spec, "prefill", inp, 1, widths=widths, fused_attention=True,
                                           causal_halving=True, include_lm_head="last"))
    step_flops, step_bytes = _step(spec, batch, context, widths)
    compute_s = (prefill_flops + (out - 1) * step_flops / batch) / (chips * ceilings.peak_flop_per_s)
    memory_s = (out - 1) * step_bytes / batch / (chips * ceilings.bandwidth_bytes_per_s)
    per_request = max(compute_s, memory_s)
    return WorkloadBound(batch, step_s, 1.0 / per_request, out / per_request, compute_s, memory_s,
                         "compute" if compute_s >= memory_s else "memory")


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or value != value


def _achieved(row: pd.Series, mean_output_tokens: float) -> tuple[float, float]:
    """Published tokens/s of a result and its output tokens per sample.

    Tokens/s where the source gives it, else samples/s times the workload's mean output; output tokens per
    sample from the row's two rates where it has both (a LoadGen summary), else the workload's mean (a checker
    log or results page gives one metric). [tokens/s], [tokens]
    """
    tokens, samples = row["tokens_per_s"], row["samples_per_s"]
    if _missing(tokens) and _missing(samples):
        raise ValueError(f"result {row['system_id']} {row['benchmark']} {row['scenario']} has neither "
                         "tokens_per_s nor samples_per_s")
    if _missing(tokens):
        return float(samples) * mean_output_tokens, mean_output_tokens
    if _missing(samples):
        return float(tokens), mean_output_tokens
    return float(tokens), float(tokens) / float(samples)


def bounds_table(results: pd.DataFrame, workloads: pd.DataFrame, hardware: pd.DataFrame,
                 interactive_tpot_s: float) -> pd.DataFrame:
    """Bound, fraction of the bound and binding roof of every result that has a device in ``hardware``.

    Parameters
    ----------
    results, workloads, hardware : pandas.DataFrame
        :func:`memwall.tables.mlperf.load_mlperf_results`, :func:`~memwall.tables.mlperf.load_mlperf_workloads`,
        :func:`memwall.tables.load_hardware`.
    interactive_tpot_s : float
        TPOT limit at which ``interactive_binding`` is evaluated (the Interactive scenario's). [s]

    Returns
    -------
    pandas.DataFrame
        One row per result with an accelerator: the identifying columns, ``achieved_tokens_per_s`` (the
        published tokens/s, or samples/s times the workload's mean output where only samples/s is published),
        ``output_tokens`` (tokens/s over samples/s where both are published, else the workload's mean),
        ``bound_tokens_per_s`` (prompt of 1 token where the mean prompt is not documented:
        the highest bound), ``fraction`` (achieved / bound), ``binding``, ``batch``,
        ``bound_tokens_per_s_at_max_input`` and ``fraction_at_max_input`` (prompt at the documented maximum:
        the lowest bound; NaN where undocumented), ``interactive_batch`` and ``interactive_binding`` (decode at
        ``interactive_tpot_s``), ``source_kind`` and ``source_url``.

    Raises
    ------
    ValueError
        As :func:`workload_bound`, for a row whose model does not fit; for a row with neither rate.
    """
    _number("interactive_tpot_s", interactive_tpot_s)
    wl = workloads.set_index("benchmark")
    rows = []
    for _, r in results[results["accelerator"].notna()].iterrows():
        w = wl.loc[r["benchmark"]]
        spec = mlperf_model(str(w["model_preset"]))
        widths = widths_of(r["weight_precision"], r["activation_precision"], r["kv_cache_precision"])
        bw_cell = r["bandwidth_per_accelerator_gb_per_s"]
        bw = None if _missing(bw_cell) else float(bw_cell)
        ceil = system_ceilings(hardware, r["accelerator"], r["compute_precision"], bw)
        mem = float(hardware.set_index("device").loc[r["accelerator"], "memory_capacity_gib"]) * GIB
        if r["accelerator"].startswith("Xeon"):
            mem = 2304e9 / int(r["accelerator_count"])  # host DRAM of the system JSON, per socket
        achieved, out = _achieved(r, float(w["mean_output_tokens"]))
        n_out = max(2, math.ceil(out))
        tpot = None if _missing(r["tpot_limit_s"]) else float(r["tpot_limit_s"])
        if tpot is None and not _missing(r["latency_limit_s"]):
            tpot = float(r["latency_limit_s"]) / n_out
        chips = int(r["accelerator_count"])
        lo_in = 1 if _missing(w["mean_input_tokens"]) else int(w["mean_input_tokens"])
        b = workload_bound(spec, ceil, chips, mem, lo_in, n_out, widths=widths, tpot_limit_s=tpot)
        hi = math.nan
        if not _missing(w["max_input_tokens"]) and _missing(w["mean_input_tokens"]):
            hi = workload_bound(spec, ceil, chips, mem, int(w["max_input_tokens"]), n_out, widths=widths,
                                tpot_limit_s=tpot).tokens_per_s
        ib, _, ibind = decode_at_tpot(spec, ceil, chips, mem, lo_in + n_out // 2, interactive_tpot_s, widths=widths)
        rows.append({
            "round": r["round"], "submitter": r["submitter"], "system_id": r["system_id"],
            "benchmark": r["benchmark"], "scenario": r["scenario"], "accelerator": r["accelerator"],
            "accelerator_count": chips, "compute_precision": r["compute_precision"],
            "achieved_tokens_per_s": achieved, "output_tokens": out, "bound_tokens_per_s": b.tokens_per_s,
            "fraction": achieved / b.tokens_per_s, "binding": b.binding, "batch": b.batch,
            "bound_tokens_per_s_at_max_input": hi, "fraction_at_max_input": achieved / hi,
            "interactive_batch": ib, "interactive_binding": ibind, "source_kind": r.get("source_kind", "summary"),
            "source_url": r["source_url"],
        })
    return pd.DataFrame(rows)

