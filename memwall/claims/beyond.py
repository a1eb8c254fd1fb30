"""Claims checked by the chapters past the paper: the measured GPU and the two "Beyond the paper" chapters.

Each is a claim the paper (or its survey) makes, checked with data or models the paper did not have: a
measured H200, fused attention, mixtures of experts, tensor parallelism, the 2016-2026 device table.
Registered on import by :mod:`memwall.claims.paper`. The paper's own data cannot check these, so
``ours_paper_data`` is :class:`~memwall.claims.core.NotApplicable` and the extended value decides.
"""

from __future__ import annotations

import functools

import numpy as np

from memwall import specs, tables
from memwall.beyond import allreduce, decode_balance, fused_attention, moe_decode, tensor_parallel
from memwall.claims.core import Claim, NotApplicable, register
from memwall.serving import schemes
from memwall.wall import gpu_reference

RG = "chapters/roofline_gpu"
BM = "chapters/beyond_model_side"
BS = "chapters/beyond_serving_hardware"
SECTION = "beyond the paper"
PAPER_RATES = {"flops": 3.0, "dram": 1.6}
"""The paper's printed growth rates per 2 years (abstract; Fig. 1 legend), as in :mod:`memwall.claims.paper`."""


@functools.cache
def _gpu() -> tuple:
    table = tables.load_gpu_reference()
    hw = tables.load_hardware()
    return (table, gpu_reference.measured_gpu_ceilings(table), gpu_reference.decode_vs_bound(table, hw),
            gpu_reference.prefill_vs_bound(table, hw))


def _gpu_decode_memory_bound() -> bool:
    _, ceil, dec, _ = _gpu()
    step = dec[(dec["mode"] == "graph") & (dec["batch_sequences"] == 1)].iloc[0]
    intensity = step["flops"] / step["bytes"]
    flop_share = step["flops"] / step["time_s"] / ceil.peak_flop_per_s
    byte_share = step["achieved_bandwidth_bytes_per_s"] / ceil.bandwidth_bytes_per_s
    return bool(intensity < ceil.ridge_flop_per_byte and byte_share > 0.5 > 100 * flop_share)


def _gpu_prefill_faster_per_token() -> bool:
    _, _, dec, pre = _gpu()
    decode_rate = dec.loc[(dec["mode"] == "graph") & (dec["batch_sequences"] == 1), "tokens_per_s"].max()
    prefill_rate = (pre["context_tokens"] / pre["time_s"]).max()
    return bool(prefill_rate > decode_rate)


def _fused_attention_removes_the_fall() -> bool:
    sweep = fused_attention.fusion_sweep({"BERT-Base": "bert-base"}, [128, 256, 512, 1024, 2048, 4096],
                                         sram_elements=192 * 1024)
    peaks = fused_attention.intensity_peaks(sweep).set_index("mode")
    return bool(peaks.loc["unfused", "falls_after_peak"] and not peaks.loc["fused", "falls_after_peak"])


def _moe_batch_touches_most_experts() -> bool:
    spec = specs.get_moe("deepseek-v3")
    touched = moe_decode.expected_distinct_experts(spec.routed_experts, spec.active_experts, 64)
    return bool(touched / spec.routed_experts > 0.8)


def _tp_stops_helping() -> bool:
    hw = tables.load_hardware()
    links = tables.load_interconnects()
    device = "H100 SXM5 80GB (Hopper)"
    bw, family = allreduce.link_bandwidth(links, "PCIe 5.0")
    sweep = tensor_parallel.tp_sweep("llama-3-70b", schemes.ceilings_for(hw, device, "W16A16"), np.arange(1, 65), bw,
                                     allreduce.HOP_LATENCY_S[family], context=1024,
                                     memory_bytes=schemes.device_memory_bytes(hw, device))
    return tensor_parallel.best_chip_count(sweep)["best_chips"] < 64


def _balance_gap_rate() -> float:
    gap = decode_balance.balance_gap_table(tables.load_hardware(), "llama-3-70b", "max_16bit", context=1024)
    return float(decode_balance.gap_trend(gap, (2016, 2026)).per_2_years)


def _register() -> None:
    not_in_paper = NotApplicable("the paper's data has no such measurement or model")
    register(Claim(
        claim_id="gpu-decode-memory-bound", chapter=RG, section=SECTION,
        statement="Batch-1 decode is memory-bandwidth bound on a 2024 accelerator: measured on an H200, the step "
                  "runs below the ridge, at over half the measured bandwidth and under 0.5 % of the measured "
                  "BF16 peak.",
        paper_value=True, paper_text="decoders are memory-bandwidth bound", unit="yes/no",
        source="abstract; survey §2.2 summary",
        method="memwall.wall.gpu_reference.decode_vs_bound on data/gpu_reference_measurements.csv (CUDA-graph step, "
               "batch 1, 1024 cached tokens) against memwall.wall.gpu_reference.measured_gpu_ceilings",
        ours_paper_data=not_in_paper, ours_extended=_gpu_decode_memory_bound), replace=True)
    register(Claim(
        claim_id="gpu-prefill-faster-per-token", chapter=RG, section=SECTION,
        statement="The same FLOPs per token run faster when arranged with high intensity: on an H200 a Llama-3-8B-"
                  "shaped prefill processes more tokens per second than batch-1 decode.",
        paper_value=True, paper_text="a model with higher AI can be faster with the same or more FLOPs",
        unit="yes/no", source="survey §2.2 summary (conclusion 5)",
        method="tokens/s of the measured prefills vs the measured batch-1 decode steps "
               "(memwall.wall.gpu_reference.prefill_vs_bound, decode_vs_bound)",
        ours_paper_data=not_in_paper, ours_extended=_gpu_prefill_faster_per_token), replace=True)
    register(Claim(
        claim_id="beyond-fused-attention-no-fall", chapter=BM, section=SECTION,
        statement="The encoder's intensity falls after l = 512 because the act-to-act operations move the l x l "
                  "scores through DRAM: with the scores kept on chip (fused attention) BERT-Base's intensity no "
                  "longer falls up to l = 4096.",
        paper_value=True, paper_text="encoder AI rises up to l = 512 and then falls (act-to-act ops)",
        unit="yes/no", source="survey §2.2 summary (conclusion 2)",
        method="memwall.beyond.fused_attention.fusion_sweep and intensity_peaks, unfused vs fused, 1 B per element",
        ours_paper_data=NotApplicable("the survey counts unfused attention only"),
        ours_extended=_fused_attention_removes_the_fall), replace=True)
    register(Claim(
        claim_id="beyond-moe-touches-most-experts", chapter=BM, section=SECTION,
        statement="Model size keeps outgrowing memory in mixtures of experts: the active parameters are small, but "
                  "a batch of 64 decode tokens touches over 80 % of DeepSeek-V3's routed experts (uniform top-8 "
                  "routing), so the bytes of a batched step scale with the total size.",
        paper_value=True, paper_text="model size (410x / 2 yrs) outgrows accelerator memory (2x / 2 yrs)",
        unit="yes/no", source="Fig. 2; mitigation section",
        method="memwall.beyond.moe_decode.expected_distinct_experts(256, 8, 64) / 256",
        ours_paper_data=not_in_paper, ours_extended=_moe_batch_touches_most_experts), replace=True)
    register(Claim(
        claim_id="beyond-tp-interconnect-limits", chapter=BS, section=SECTION,
        statement="Splitting a model over chips is limited by the interconnect: for Llama-3-70B batch-1 decode on "
                  "H100s over PCIe 5.0, adding chips stops shortening the step before 64 chips.",
        paper_value=True, paper_text="interconnect bandwidth grows only 1.4x / 2 yrs; distribution is forced",
        unit="yes/no", source="abstract; Fig. 1; mitigation section",
        method="memwall.beyond.tensor_parallel.tp_sweep (1-64 chips) and best_chip_count, ring all-reduce latency "
               "and bandwidth from data/interconnects.csv",
        ours_paper_data=not_in_paper, ours_extended=_tp_stops_helping), replace=True)
    register(Claim(
        claim_id="beyond-balance-gap-rate", chapter=BS, section=SECTION,
        statement="Peak FLOP/s outgrow DRAM bandwidth, so the gap between a device's machine balance and batch-1 "
                  "decode intensity widens: by the ratio of the paper's rates, 3.0 / 1.6 per 2 years.",
        paper_value=PAPER_RATES["flops"] / PAPER_RATES["dram"], paper_text="3.0x vs 1.6x per 2 yrs (ratio)",
        unit="x per 2 years", source="abstract; Fig. 1 legend",
        method="memwall.beyond.decode_balance.gap_trend over 2016-2026, max 16-bit dense peak, Llama-3-70B batch-1 "
               "decode at 16 bits (data/hardware.csv)",
        rel_tol=0.10, tolerance_note="a tenth: different windows and device sets move a 2-year rate this much",
        explanation="Over 2016-2026 with 16-bit dense peaks the gap grows more slowly than the paper's 1997-2022 "
                    "ratio implies: the paper's FLOPS series mixes precisions (FP32 early, FP16/INT8 late), and "
                    "HBM3/HBM3e raised bandwidth faster after 2022. The same ratio refitted on the paper's own "
                    "points (claim hw-gap-per-2y, 1997-2022) is reproduced.",
        explained_in="Hardware balance: the bandwidth batch-1 decode would need",
        ours_paper_data=not_in_paper, ours_extended=_balance_gap_rate), replace=True)


_register()
