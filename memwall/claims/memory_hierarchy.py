"""Claims checked by the chapter "The memory hierarchy": offloading to host memory, and recommendation models.

The paper's hardware remedies (a hierarchy of DRAMs; CPUs for bandwidth-bound recommendation models) made
quantitative with :mod:`memwall.levers.offload`, :mod:`memwall.levers.recommendation` and the tables
``memory_tiers.csv`` and ``recommendation_models.csv``. Registered on import (discovered automatically).
"""

from __future__ import annotations

import functools

from memwall import tables
from memwall.book import H100
from memwall.claims.core import Claim, NotApplicable, register
from memwall.levers import offload, offload_batch, recommendation
from memwall.serving.schemes import device_memory_bytes
from memwall.tables.memory_tiers import load_memory_tiers
from memwall.tables.recommendation import load_recommendation_models

CHAPTER = "chapters/memory_hierarchy"
SECTION = "the memory hierarchy"
MODEL = "llama-2-70b"
CONTEXT = 1024
"""Cached tokens per sequence in the offloading claims. [tokens]"""
DLRM_V2 = "DLRM-v2 DCNv2 (MLPerf; Criteo 1TB multi-hot)"
FLEXGEN_BATCH = 144
"""FlexGen's effective batch for OPT-30B with weights in CPU memory (benchmark/batch_size_table.md). [sequences]"""
FLEXGEN_PROMPT, FLEXGEN_OUTPUT = 512, 32
"""FlexGen's workload: prompt and generated tokens per sequence. [tokens]"""
FLEXGEN_URL = "https://github.com/FMInference/FlexLLMGen/blob/main/benchmark/batch_size_table.md"
_NOT_PAPER = NotApplicable("the paper gives no number for this; the reference is a closed form or a published source")


@functools.cache
def system(name: str) -> offload.TierCeilings:
    """:class:`memwall.levers.offload.TierCeilings` of a system of ``memory_tiers.csv`` (dense BF16 peak)."""
    return offload.TierCeilings.from_tables(load_memory_tiers(), tables.load_hardware(), name)


def _slowdown_pcie5() -> float:
    return float(offload.slowdown_vs_hbm(MODEL, system(offload.SYSTEM_H100_PCIE5), 1, CONTEXT))


def _bandwidth_ratio_pcie5() -> float:
    s = system(offload.SYSTEM_H100_PCIE5)
    return s.hbm_bandwidth_bytes_per_s / s.stream_bandwidth_bytes_per_s


def _link_batch_pcie5() -> float:
    return float(offload_batch.link_critical_batch(MODEL, system(offload.SYSTEM_H100_PCIE5), 0))


def _link_batch_closed_form() -> float:
    s = system(offload.SYSTEM_H100_PCIE5)
    return float(offload_batch.link_critical_batch_closed_form(s.peak_flop_per_s, s.stream_bandwidth_bytes_per_s))


def _offload_never_stops_binding() -> bool:
    """On PCIe 5 and on NVLink-C2C, the link-critical batch exceeds the batch whose KV cache fits in HBM."""
    for name in (offload.SYSTEM_H100_PCIE5, offload.SYSTEM_GH200_C2C):
        s = system(name)
        if offload_batch.link_critical_batch(MODEL, s, CONTEXT) <= offload_batch.hbm_batch_limit(MODEL, s, CONTEXT):
            return False
    return True


def _c2c_over_pcie5() -> float:
    return (system(offload.SYSTEM_GH200_C2C).link_bandwidth_bytes_per_s
            / system(offload.SYSTEM_H100_PCIE5).link_bandwidth_bytes_per_s)


def flexgen_bound_tokens_per_s() -> float:
    """Our bound on FlexGen's OPT-30B generation throughput on a T4: generated tokens / (prefill + decode).

    Weights and KV cache in host memory (FlexGen's placement for this run), overlapped transfers; the
    prefill writes the prompt's KV cache to the host, each decode step streams all weights and the cache. [tokens/s]
    """
    import numpy as np

    s = system(offload.SYSTEM_T4_FLEXGEN)
    where = {"weights_on_host": 1.0, "kv_on_host": 1.0}
    prefill = offload.offload_step_time(offload.OPT_30B, s, FLEXGEN_BATCH, FLEXGEN_PROMPT, phase="prefill", **where)
    contexts = np.arange(FLEXGEN_PROMPT, FLEXGEN_PROMPT + FLEXGEN_OUTPUT - 1)
    decode = np.sum(offload.offload_step_time(offload.OPT_30B, s, FLEXGEN_BATCH, contexts, **where))
    return float(FLEXGEN_BATCH * FLEXGEN_OUTPUT / (prefill + decode))


def _dlrm_v2_gib() -> float:
    return recommendation.table_bytes(load_recommendation_models(), DLRM_V2, 4.0) / 2**30


def lookup_setups() -> dict[str, dict[str, float]]:
    """The chapter's three places for the tables: a CPU socket, an H100 pulling rows over PCIe 5, H100s holding them."""
    tiers = load_memory_tiers().set_index(["system", "tier"])
    cpu = tiers.loc[(offload.CPU_EPYC_9654, 0)]
    pcie = system(offload.SYSTEM_H100_PCIE5)
    c2c = system(offload.SYSTEM_GH200_C2C)
    n = recommendation.gpus_to_hold(recommendation.table_bytes(load_recommendation_models(), DLRM_V2),
                                    device_memory_bytes(tables.load_hardware(), H100))
    return {
        "CPU socket, tables in its DDR5 (EPYC 9654)": {
            "bandwidth_bytes_per_s": float(cpu["bandwidth_gb_per_s"]) * 1e9,
            "granularity_bytes": recommendation.CPU_LINE_BYTES},
        "H100, tables in host DDR5 over PCIe 5.0": {
            "bandwidth_bytes_per_s": pcie.stream_bandwidth_bytes_per_s,
            "granularity_bytes": recommendation.GPU_SECTOR_BYTES},
        "GH200, tables in Grace LPDDR5X over NVLink-C2C": {
            "bandwidth_bytes_per_s": c2c.stream_bandwidth_bytes_per_s,
            "granularity_bytes": recommendation.GPU_SECTOR_BYTES},
        f"{n} x H100, tables sharded in HBM": {
            "bandwidth_bytes_per_s": pcie.hbm_bandwidth_bytes_per_s,
            "granularity_bytes": recommendation.GPU_SECTOR_BYTES, "devices": n},
    }


def _cpu_beats_gpu_with_host_tables() -> bool:
    b = recommendation.lookup_bounds(load_recommendation_models(), DLRM_V2, lookup_setups()).set_index("setup")
    return bool(b.loc["CPU socket, tables in its DDR5 (EPYC 9654)", "samples_per_s"]
                > b.loc["H100, tables in host DDR5 over PCIe 5.0", "samples_per_s"])


def _register() -> None:
    register(Claim(
        claim_id="mh-70b-pcie5-slowdown", chapter=CHAPTER, section=SECTION,
        statement="Latency-oriented offloading is hopeless: a batch-1 decode step of Llama-2-70B (16-bit, 1,024 cached "
                  "tokens) with its weights in host DDR5 behind PCIe 5.0 takes about HBM-bandwidth / link-bandwidth "
                  "times longer than from an H100's HBM (a hypothetical H100 whose HBM held the 138 GB: the "
                  "weights do not fit in its 80 GiB, which is why they are offloaded).",
        paper_value=_bandwidth_ratio_pcie5(),
        paper_text="HBM / link bandwidth, 3350 / 63 GB/s (closed form of this book)",
        unit="x", source="H100 datasheet; PCIe 5.0 x16 per direction (data/memory_tiers.csv)",
        method="memwall.levers.offload.slowdown_vs_hbm(llama-2-70b, DGX H100 tiers, batch 1, context 1024)",
        rel_tol=0.02, tolerance_note="activations and the KV cache, read from HBM in both cases, dilute the ratio",
        ours_paper_data=_NOT_PAPER, ours_extended=_slowdown_pcie5), replace=True)
    register(Claim(
        claim_id="mh-link-critical-batch", chapter=CHAPTER, section=SECTION,
        statement="Throughput-oriented offloading amortises each weight transfer over the batch: with Llama-2-70B's "
                  "weights streamed over PCIe 5.0 an H100 stops being link-bound at B* = (P / BW_link) b_w / 2 "
                  "sequences.",
        paper_value=_link_batch_closed_form(), paper_text="B* = (989.4 TFLOP/s / 63 GB/s) x 2 B / 2 (closed form)",
        unit="sequences",
        source="this book's closed form (memwall.levers.offload_batch.link_critical_batch_closed_form)",
        method="memwall.levers.offload_batch.link_critical_batch(llama-2-70b, DGX H100 tiers, context 0): "
               "bisection on the cost model",
        rel_tol=0.02, tolerance_note="activations and the LM head's embedding-free FLOPs",
        ours_paper_data=_NOT_PAPER, ours_extended=_link_batch_pcie5), replace=True)
    register(Claim(
        claim_id="mh-offload-needs-bandwidth", chapter=CHAPTER, section=SECTION,
        statement="Capacity alone is not enough: with Llama-2-70B's weights in host memory and 1,024-token KV caches "
                  "in HBM, the batch that ends link-binding is larger than the batch whose caches fit in the HBM, "
                  "over PCIe 5.0 (H100) and even over NVLink-C2C (GH200): the slower tier must also be faster.",
        paper_value=True,
        paper_text="(paraphrase) accelerators need more efficient caching and higher-capacity DRAM (perhaps a "
                                     "hierarchy of DRAMs with different bandwidths)", unit="yes/no",
        source="closing section on breaking the wall, hardware (paraphrased)",
        method="memwall.levers.offload_batch.link_critical_batch > hbm_batch_limit (2 staging layers) for the "
               "DGX H100 and GH200 144GB tiers",
        ours_paper_data=_NOT_PAPER, ours_extended=_offload_never_stops_binding),
        replace=True)
    register(Claim(
        claim_id="mh-c2c-vs-pcie5", chapter=CHAPTER, section=SECTION,
        statement="Grace Hopper's NVLink-C2C gives the GPU about 7x the host bandwidth of a PCIe 5.0 x16 link.",
        paper_value=7.0, paper_text="7X faster than PCIe Gen 5 (NVIDIA)", unit="x",
        source="NVIDIA, Grace Hopper Superchip Architecture In-Depth, "
               "https://developer.nvidia.com/blog/nvidia-grace-hopper-superchip-architecture-in-depth/",
        method="link_gb_per_s_per_direction of the GH200 and DGX H100 rows of data/memory_tiers.csv (450 / 63)",
        rel_tol=0.05, tolerance_note="NVIDIA rounds 900 / 128 GB/s (both directions) to 7",
        ours_paper_data=_NOT_PAPER, ours_extended=_c2c_over_pcie5), replace=True)
    register(Claim(
        claim_id="mh-flexgen-opt30b", chapter=CHAPTER, section=SECTION,
        statement="FlexGen's measured throughput stays below our offloading bound: OPT-30B on one T4 with weights and "
                  "KV cache in CPU memory (batch 144, 512-token prompts, 32 generated tokens).",
        paper_value=7.32, paper_text="7.32 token/s (FlexGen, OPT-30B, T4 16 GB + 208 GB DRAM)", unit="tokens/s",
        source=f"Sheng et al., FlexGen, arXiv 2303.06865; {FLEXGEN_URL}",
        method="memwall.claims.memory_hierarchy.flexgen_bound_tokens_per_s: prefill + 31 decode steps of "
               "memwall.levers.offload.offload_step_time on the T4 tiers (65 TFLOP/s FP16, PCIe 3.0 15.75 GB/s)",
        rel_tol=0.10, tolerance_note="a bound is reproduced only if the measurement reaches it",
        explanation="Ours is an upper bound at datasheet peaks: a 70 W T4 sustains well below its 65 TFLOP/s FP16 "
                    "peak in the compute-bound prefill, PCIe 3.0 delivers ~12-13 of its 15.75 GB/s, and FlexGen "
                    "computes attention on the CPU over a cache in CPU DRAM, whose bandwidth the bound does not "
                    "charge. The measurement reaches about 60 % of the bound.",
        explained_in="Throughput-oriented offloading: FlexGen against the bound",
        ours_paper_data=_NOT_PAPER, ours_extended=flexgen_bound_tokens_per_s), replace=True)
    register(Claim(
        claim_id="mh-dlrm-v2-size", chapter=CHAPTER, section=SECTION,
        statement="MLPerf's DLRM-v2 embedding tables alone take the ~97 GiB of its fp32 checkpoint: more than one "
                  "H100's 80 GiB of HBM.",
        paper_value=97.31, paper_text="97.31GB (du of the fp32 checkpoint; ~100GB)", unit="GiB",
        source="MLCommons inference, recommendation/dlrm_v2/pytorch/README.md, "
               "https://github.com/mlcommons/inference/blob/1b1aa7cce69e613c14c63ea744bd72e15d0acf2a/recommendation/"
               "dlrm_v2/pytorch/README.md",
        method="memwall.levers.recommendation.table_bytes(recommendation_models.csv, DLRM-v2, 4 B) / 2**30",
        rel_tol=0.005, tolerance_note="du reports GiB; the MLPs add well under 0.1 %",
        ours_paper_data=_NOT_PAPER, ours_extended=_dlrm_v2_gib), replace=True)
    register(Claim(
        claim_id="mh-cpu-beats-gpu-host-tables", chapter=CHAPTER, section=SECTION,
        statement="For a recommendation model whose tables do not fit in HBM, a CPU socket reading them from its own "
                  "DRAM bounds higher than a GPU that pulls every looked-up row over PCIe 5.0 (DLRM-v2, EPYC 9654 "
                  "vs H100), at peak bandwidth; it loses to GPUs that hold the tables in HBM.",
        paper_value=True,
        paper_text="(paraphrase) CPUs can beat GPUs on bandwidth-bound problems such as large recommendation "
                                     "models", unit="yes/no",
        source="closing section on breaking the wall, hardware (paraphrased)",
        method="memwall.levers.recommendation.lookup_bounds: 214 lookups x 512 B per sample at 460.8 GB/s (CPU) "
               "vs 63 GB/s (PCIe 5.0)",
        ours_paper_data=_NOT_PAPER, ours_extended=_cpu_beats_gpu_with_host_tables), replace=True)


_register()
