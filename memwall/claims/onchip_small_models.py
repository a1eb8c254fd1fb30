"""Claims checked by the chapter "Small models, distillation and on-chip memory".

The paper's deployment lever (Gholami et al., arXiv 2403.14123, mitigation section): a model small enough to sit
largely on chip would bring large speed gains; distillation is one way to get there. The claims compute that lever
with :mod:`memwall.levers.onchip` on the devices of ``data/onchip_memory.csv``: the speed-up on chip, where the
compute peak takes over, how many SRAM chips a 70B model needs, the interconnect wall that spreading brings back,
and what distillation buys on a fixed GPU. Registered on import (discovered by :mod:`memwall.claims.core`).
"""

from __future__ import annotations

import functools

from memwall import tables
from memwall.beyond import allreduce
from memwall.claims.core import Claim, NotApplicable, register
from memwall.levers import onchip, onchip_spread
from memwall.roofline import Ceilings
from memwall.serving import critical_batch, schemes
from memwall.tables.onchip import load_onchip
from memwall.widths import ByteWidths

CHAPTER = "chapters/onchip_small_models"
SECTION = "small models on chip"
GROQ = "GroqChip (LPU v1)"
MI300X = "Instinct MI300X (CDNA3)"
H100 = "H100 SXM5 80GB (Hopper)"
W8 = ByteWidths(weight=1.0)
"""8-bit weights, 16-bit activations and KV cache (W8A16)."""
SMALL = ("gpt2", 1024)
"""The small model of the MI300X claims and its cached tokens."""

_OURS = NotApplicable("a claim of this book: the paper's data has no on-chip memories")


@functools.cache
def _row(device: str) -> dict:
    return onchip.onchip_row(load_onchip(), device)


def _groq_sram() -> Ceilings:
    row = _row(GROQ)
    return Ceilings(onchip.device_peak(row), float(row["sram_bandwidth_bytes_per_s"]), name=GROQ, precision="fp16")


def _mi300x_bounds() -> tuple[onchip.DecodeBound, onchip.DecodeBound]:
    row = _row(MI300X)
    peak = onchip.device_peak(row)
    model, context = SMALL
    sram = onchip.decode_bound(model, peak, float(row["sram_bandwidth_bytes_per_s"]), 1, context, widths=W8)
    hbm = onchip.decode_bound(model, peak, float(row["memory_bandwidth_gb_per_s"]) * 1e9, 1, context, widths=W8)
    return sram, hbm


def _small_model_faster() -> bool:
    model, context = SMALL
    fits = onchip.fits_on_chip(model, float(_row(MI300X)["sram_capacity_bytes"]), 1, context, widths=W8)
    sram, hbm = _mi300x_bounds()
    return bool(fits and hbm.time_per_token_s / sram.time_per_token_s > 2.0)


def _mi300x_ratio() -> float:
    sram, hbm = _mi300x_bounds()
    return hbm.time_per_token_s / sram.time_per_token_s


def _groq_critical_batch() -> float:
    return float(critical_batch("llama-2-7b", _groq_sram(), context=0, scope="weight_matmuls"))


def _groq_chips_70b() -> float:
    return float(onchip.chips_to_stay_on_chip("llama-2-70b", float(_row(GROQ)["sram_capacity_bytes"]),
                                              weights_only=True))


def spread_70b_on_groq(*, latency: bool = True) -> object:
    """Llama-2-70B (16 bits, batch 1, empty cache) over the GroqChips it needs: NCCL's NVLink latency model, or
    (``latency=False``) ideal links that cost only their bandwidth."""
    row = _row(GROQ)
    hop, base = (allreduce.HOP_LATENCY_S["nvlink"], onchip_spread.BASE_LATENCY_S) if latency else (0.0, 0.0)
    return onchip_spread.spread_table("llama-2-70b", _groq_sram(), float(row["sram_capacity_bytes"]),
                                      float(row["chip_to_chip_gb_per_s_per_direction"]) * 1e9,
                                      hop, tensor_parallel=(8, 16, 32, 64), base_latency_s=base)


def _link_binds() -> bool:
    """Every split is link-bound at NCCL-class latencies, and none is with zero-latency links: the wall that
    returns is the links' latency, not their bandwidth."""
    return bool(spread_70b_on_groq()["link_bound"].all() and not spread_70b_on_groq(latency=False)["link_bound"].any())


def _distill_speedup() -> float:
    ceilings = schemes.ceilings_for(tables.load_hardware(), H100, "W8A16")
    return onchip.distillation_gain("llama-3-70b", "llama-3-8b", ceilings, 1, 1024, widths=W8)["speedup"]


def _register() -> None:
    register(Claim(
        claim_id="onchip-small-model-faster", chapter=CHAPTER, section=SECTION,
        statement="A model small enough to sit on chip decodes much faster: GPT-2 with 8-bit weights and 1,024 "
                  "cached tokens fits in an MI300X's 256 MB Infinity Cache, where its batch-1 decode bound is more "
                  "than twice as fast as from the same chip's HBM.",
        paper_value=True,
        paper_text="(paraphrase) a model small enough to sit largely on-chip: large speed and energy gains",
        unit="yes/no", source="closing section on breaking the wall, deployment: small language models (paraphrased)",
        method="memwall.levers.onchip.fits_on_chip and decode_bound (W8A16, batch 1, 1,024 tokens) at the Infinity "
               "Cache's and at HBM's bandwidth (data/onchip_memory.csv, data/hardware.csv)",
        ours_paper_data=NotApplicable("the paper's data has no on-chip memories"),
        ours_extended=_small_model_faster), replace=True)
    register(Claim(
        claim_id="onchip-mi300x-sram-hbm-ratio", chapter=CHAPTER, section=SECTION,
        statement="How much faster: at both tiers the step stays memory-bound, so the on-chip bound beats the HBM "
                  "bound by the ratio of the two bandwidths, 17.2 TB/s over 5.3 TB/s.",
        paper_value=17.2 / 5.3, paper_text="17.2 / 5.3 TB/s (AMD CDNA 3 white paper; MI300X data sheet)",
        unit="x", source="AMD CDNA 3 white paper; AMD Instinct MI300X data sheet",
        method="ratio of memwall.levers.onchip.decode_bound at HBM and at Infinity Cache bandwidth, GPT-2, W8A16",
        rel_tol=0.01, tolerance_note="1 %: compute time, under 2 % of the step, could only lower the ratio",
        ours_paper_data=_OURS, ours_extended=_mi300x_ratio), replace=True)
    register(Claim(
        claim_id="onchip-groq-compute-binds-batch-3", chapter=CHAPTER, section=SECTION,
        statement="On chip the compute peak binds almost at once: with the weights in GroqChip SRAM (188 TFLOP/s, "
                  "80 TB/s) Llama-2-7B's decode matmuls turn compute-bound at a batch of 3 sequences.",
        paper_value=3.0, paper_text="(our claim) ceil(P / BW) = ceil(188 / 80) = 3, closed form",
        unit="sequences", source="this book; closed form of memwall.serving.critical_batch_closed_form",
        method="memwall.serving.critical_batch('llama-2-7b', GroqChip SRAM ceilings, scope='weight_matmuls')",
        tolerance_note="exact: an integer batch", ours_paper_data=_OURS, ours_extended=_groq_critical_batch),
        replace=True)
    register(Claim(
        claim_id="onchip-groq-llama2-70b-chips", chapter=CHAPTER, section=SECTION,
        statement="Holding Llama-2-70B's 16-bit weights in SRAM takes about 600 GroqChips.",
        paper_value=70e9 * 2 / 230e6, paper_text="70B parameters x 2 B / 230 MB per chip = 609 (published sizes)",
        unit="chips", source="Meta, Llama 2 (arXiv 2307.09288); Groq's 230 MB per GroqChip",
        method="memwall.levers.onchip.chips_to_stay_on_chip('llama-2-70b', 220 MiB, weights_only=True)",
        rel_tol=0.02, tolerance_note="2 %: the published sizes are rounded (68.98 B parameters; 220 MiB = 230.7 MB)",
        ours_paper_data=_OURS, ours_extended=_groq_chips_70b), replace=True)
    register(Claim(
        claim_id="onchip-spread-link-binds", chapter=CHAPTER, section=SECTION,
        statement="Staying on chip forces distribution, and the interconnect wall comes back as latency: spread "
                  "over the ~600 GroqChips it needs (8 to 64-way tensor parallel x pipeline stages), Llama-2-70B's "
                  "batch-1 step spends longer on chip-to-chip messages than on reading SRAM if each message costs "
                  "what it does on GPUs (NCCL's NVLink latencies; Groq publishes none), and would not on links "
                  "that cost only their bandwidth.",
        paper_value=True,
        paper_text="(paraphrase) model size outgrows one chip's memory, forcing distribution; interconnect "
                                     "bandwidth grows only 1.4x / 2 yrs",
        unit="yes/no", source="abstract; Fig. 1; closing section on breaking the wall (paraphrased)",
        method="memwall.levers.onchip_spread.spread_table (ring all-reduces and pipeline hops, NCCL's NVLink LL "
               "latency constants, the GroqChip's 240 GB/s per direction): link_bound for every split, and for "
               "none with zero latencies",
        ours_paper_data=NotApplicable("the paper's data has no on-chip memories"), ours_extended=_link_binds),
        replace=True)
    register(Claim(
        claim_id="onchip-distill-70b-to-8b-h100", chapter=CHAPTER, section=SECTION,
        statement="Distilling Llama-3-70B into Llama-3-8B speeds batch-1 decode on one H100 (8-bit weights, 1,024 "
                  "cached tokens) by about the ratio of their sizes.",
        paper_value=70 / 8, paper_text="(our claim) 70B / 8B, the published sizes",
        unit="x", source="this book; Meta Llama 3 model cards",
        method="memwall.levers.onchip.distillation_gain('llama-3-70b', 'llama-3-8b', H100 W8A16, context 1024)",
        rel_tol=0.06, tolerance_note="6 %: rounded sizes (70.55 B / 8.03 B = 8.79); embedding tables are stored but "
                                     "only gathered, a larger share of the 8B (reads 69.5 B / 7.5 B = 9.3)",
        ours_paper_data=_OURS, ours_extended=_distill_speedup), replace=True)


_register()
