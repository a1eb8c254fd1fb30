"""The paper's claims, registered on import by :mod:`memwall.claims`.

Sources of the paper's values (never retyped here when a table in ``data/`` holds them):

* Gholami et al., *AI and Memory Wall*, IEEE Micro 44(3) 2024, arXiv 2403.14123
  (https://arxiv.org/abs/2403.14123): the legends of its figures, held in
  :data:`memwall.wall.hardware_trends.PAPER_PRINTED_RATES` and
  :data:`memwall.wall.model_growth.PAPER_PRINTED_MODEL_RATES`;
  the training-memory bars in ``data/paper_training_memory.csv``.
* Kim et al., *Full Stack Optimization of Transformer Inference: a Survey*, arXiv 2302.14017
  (https://arxiv.org/abs/2302.14017), §2.2, whose encoder-vs-decoder case study the paper re-uses: every
  published number in ``data/survey_case_study.csv``.

Our values call the functions the chapters use, cached so that the whole ledger computes in a few seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from memwall import roofline, tables
from memwall.claims.core import Claim, NotApplicable, NotComputable, register
from memwall.claims.paper_case_study import _register_case_conclusions, _register_case_table, _register_latency
from memwall.claims.paper_data import (
    BK,
    CASE_CONCLUSIONS,
    HEADLINE,
    HW,
    MITIGATIONS,
    MM,
    QZ,
    ROUNDING,
    SURVEY_CPU,
    TM,
    TRAINING,
    _bars,
    _datasheet_rates,
    _hw,
    _limits,
    _paper_hw_fits,
    _paper_hw_points,
    _paper_model_fits,
    _sweep,
)
from memwall.cost import cost_table
from memwall.cost_totals import totals
from memwall.serving import grids
from memwall.specs.presets import get_preset
from memwall.wall import hardware_trends, model_growth, training_memory
from memwall.widths import ByteWidths

# ----------------------------------------------------------------------------------------------------------
# Headline numbers (paper §Fig. 1-3 legends and abstract)


def _register_hardware() -> None:
    labels = {"flops": "peak hardware FLOP/s", "dram_bandwidth": "DRAM bandwidth",
              "interconnect_bandwidth": "interconnect bandwidth"}
    short = {"flops": "flops", "dram_bandwidth": "dram", "interconnect_bandwidth": "interconnect"}
    ext_method = {"flops": "datasheet peaks of data/hardware.csv under the paper's precision rule (fastest dense "
                           "format of at least 16 bits), every device, 1996-2022",
                  "dram_bandwidth": "datasheet DRAM bandwidth of data/hardware.csv, every device, 1996-2022",
                  "interconnect_bandwidth": "per-lane signalling rate of every PCIe and NVLink generation in "
                                            "data/interconnects.csv"}
    for series, printed in hardware_trends.PAPER_PRINTED_RATES.items():
        p2, p20 = printed["per_2_years"], printed["per_20_years"]
        register(Claim(
            claim_id=f"hw-{short[series]}-per-2y", chapter=HW, section=HEADLINE,
            statement=f"{labels[series][0].upper()}{labels[series][1:]} grew {p2:.1f}x every 2 years.",
            paper_value=p2, paper_text=f"{p2:.1f}x / 2 yrs", unit="x per 2 years",
            source="Fig. 1 legend; abstract",
            method="least squares of log10(value) on the fractional calendar year over the paper's plotted points "
                   "(memwall.wall.trend_checks.paper_figure_growth); extended: " + ext_method[series],
            ours_paper_data=lambda s=series: _paper_hw_fits()[s].per_2_years,
            ours_extended=lambda s=series: _datasheet_rates()[s],
            abs_tol=0.05, tolerance_note=ROUNDING))
        register(Claim(
            claim_id=f"hw-{short[series]}-per-20y", chapter=HW, section=HEADLINE,
            statement=f"{labels[series][0].upper()}{labels[series][1:]} grew {p20:,.0f}x over 20 years.",
            paper_value=p20, paper_text=f"{p20:.0f}x / 20 yrs", unit="x per 20 years",
            source="Fig. 1 legend",
            method="the same fit, 10^(20·slope) (memwall.trends.GrowthFit.per_20_years)",
            ours_paper_data=lambda s=series: _paper_hw_fits()[s].per_20_years,
            ours_extended=NotApplicable("the datasheet rates are compared per 2 years"),
            abs_tol=0.5 * 10.0 ** np.floor(np.log10(p20)),
            tolerance_note="half a unit of the printed leading digit (60000, 100 and 30 are round figures)"))
    printed = hardware_trends.PAPER_PRINTED_RATES
    f, d = printed["flops"]["per_2_years"], printed["dram_bandwidth"][
        "per_2_years"]
    register(Claim(
        claim_id="hw-gap-per-2y", chapter=HW, section=HEADLINE,
        statement="Peak compute outgrows DRAM bandwidth by about 1.9x every 2 years (the memory wall's rate).",
        paper_value=f / d, paper_text=f"{f:.1f}x / {d:.1f}x (derived)", unit="x per 2 years",
        source="Fig. 1 legend (ratio of two printed rates)",
        method="ratio of the FLOPS and DRAM fits; extended: ratio of the two datasheet rates",
        ours_paper_data=lambda: _paper_hw_fits()["flops"].per_2_years / _paper_hw_fits()["dram_bandwidth"].per_2_years,
        ours_extended=lambda: _datasheet_rates()["flops"] / _datasheet_rates()["dram_bandwidth"],
        rel_tol=0.05 / f + 0.05 / d, tolerance_note="the two printed rates' rounding, propagated"))
    register(Claim(
        claim_id="hw-period-years", chapter=HW, section=HEADLINE,
        statement="The hardware trends cover the past 20 years.",
        paper_value=20.0, paper_text="past 20 years", unit="years", source="abstract; Fig. 1 (axis 1996-2023)",
        method="span from the first to the last of the paper's plotted points; extended: span of data/hardware.csv",
        ours_paper_data=lambda: float(_paper_hw_points()["year"].max() - _paper_hw_points()["year"].min()),
        ours_extended=lambda: float(_hw()["year"].max() - _hw()["year"].min()),
        abs_tol=1.0, tolerance_note="one year",
        explanation="'20 years' is the horizon of the legend's per-20-years label, not the span of the data: the "
                    "plotted points run from the R10000 (January 1997) to the H100 (September 2022).",
        explained_in="(a) The paper's figure, from its own points"))


def _register_models() -> None:
    fits = model_growth.PAPER_PRINTED_MODEL_RATES
    specs = {
        "transformer_params": ("mg-transformer-size-per-2y", "Transformer model size grew {v:g}x every 2 years.",
                               "Fig. 2 legend ('AI and Memory Wall')", 5.0),
        "accelerator_memory": ("mg-accelerator-memory-per-2y",
                               "Single-accelerator memory grew {v:g}x every 2 years.",
                               "Fig. 2 legend ('AI and Memory Wall')", 0.5),
        "transformer_training_compute": ("mg-training-compute-per-2y",
                                         "Transformer training compute grew {v:g}x every 2 years.",
                                         "Fig. 3 legend ('Training FLOPs Scaling for SOTA Models')", 5.0),
        "cv_nlp_speech_training_compute": ("mg-cv-nlp-speech-compute-per-2y",
                                           "Training compute of CV, NLP and speech models grew {v:g}x every 2 years.",
                                           "Fig. 3 legend, 2021 version only", 0.5),
    }
    extended = {
        "transformer_params": (lambda: float(model_growth.growth_by_window({"w": (2017, 2021)}, ["moe_total"],
                                                                           row_set="records")["per_2_years"].iloc[0]),
                               "record setters of data/models.csv at total size (MoE included), 2017-2021"),
        "accelerator_memory": (lambda: float(model_growth.accelerator_memory_growth(
            {"w": (2017, 2025)}, rules=("records",), hardware=_hw())["per_2_years"].iloc[0]),
            "record-setting accelerator memory of data/hardware.csv, 2017-2025"),
    }
    for quantity, (cid, text, source, tol) in specs.items():
        printed = fits[quantity]["printed_per_2_years"]
        ext = extended.get(quantity)
        register(Claim(
            claim_id=cid, chapter=MM, section=HEADLINE, statement=text.format(v=printed),
            paper_value=printed, paper_text=f"{printed:g}x / 2 yrs", unit="x per 2 years", source=source,
            method="least squares of log10(value) on the calendar year over the figure's points "
                   "(memwall.wall.model_growth.paper_model_fits)" + (f"; extended: {ext[1]}" if ext else ""),
            ours_paper_data=lambda q=quantity: float(_paper_model_fits().loc[q, "per_2_years"]),
            ours_extended=ext[0] if ext else NotApplicable(
                "our model table is not used to refit training compute in this book"),
            abs_tol=tol, tolerance_note=ROUNDING + (" ('2x' is a generous rounding)" if tol == 0.5 and
                                                    quantity == "accelerator_memory" else "")))

    def moore() -> float:
        raise NotComputable("a reference line drawn at 2x per 2 years by construction; the figure has no points "
                            "behind it to refit")

    register(Claim(
        claim_id="mg-moores-law-per-2y", chapter=MM, section=HEADLINE,
        statement="Moore's law, drawn for comparison, doubles every 2 years.",
        paper_value=2.0, paper_text="2x / 2 yrs", unit="x per 2 years", source="Fig. 3 legend",
        method="none possible: the line is a reference, not a fit",
        ours_paper_data=moore, ours_extended=NotApplicable("no transistor counts in our tables"),
        abs_tol=0.5, tolerance_note=ROUNDING))


def _register_training() -> None:
    bars = tables.load_paper_training_memory().set_index("model")
    common = dict(chapter=TM, section=TRAINING, source="Fig. 4 (training-memory bars); data repository README",
                  unit="GB", rel_tol=0.05,
                  tolerance_note="5 %: the paper states no recipe (precision, optimizer and batch read off the bars)")
    for name, cid in (("BERT Large", "tm-bert-large-total"), ("GPT-2", "tm-gpt2-total"),
                      ("Transformer Big (WMT)", "tm-transformer-big-total")):
        total = float(bars.loc[name, "total_gb"])
        expl = None
        if name == "Transformer Big (WMT)":
            expl = ("The bar's parameter and activation segments are larger than any standard Transformer-big "
                    "setting gives (213M parameters, the figure's sequence length and batch); the paper does not "
                    "state the settings behind it.")
        elif name == "GPT-2":
            expl = ("The bar's parameter segment matches the nominal 1.5B parameters of the paper's data repository; "
                    "we count the released GPT-2 XL's parameters exactly, which accounts for most of the gap.")
        register(Claim(
            claim_id=cid, statement=f"Training {name} takes {total:g} GB (weights, optimizer state, activations).",
            paper_value=total, paper_text=f"{total:g} GB",
            method="fp32 weights, Adam's two fp32 moments, Korthikanti et al.'s activation formula "
                   "(memwall.wall.training_bars.paper_bar_comparison)",
            ours_paper_data=lambda n=name: float(_bars().loc[n, "total_ours_gb"]),
            ours_extended=NotApplicable("the bar is one historical configuration"),
            explanation=expl, explained_in="The paper's bars beside ours" if expl else None, **common))
    register(Claim(
        claim_id="tm-bars-under-limit", chapter=TM, section=TRAINING,
        statement="Each year's training memory stays just under the memory of the GPU of the day.",
        paper_value=True, paper_text="no bar above its step", unit="yes/no", source="Fig. 4 (step line)",
        method="every bar's total against its step (paper data: the paper's totals; extended: our recomputed "
               "Transformer bars)",
        ours_paper_data=lambda: bool((_bars()["total_paper_gb"] <= _limits()[_bars().index]).all()),
        ours_extended=lambda: bool((_bars().loc[_bars()["modelled"], "total_ours_gb"]
                                    <= _limits()[_bars().index[_bars()["modelled"]]]).all())))

    def per_gpu(**kw: object) -> pd.Series:
        return training_memory.training_memory(get_preset("llama-3-8b"), seq_len=4096, micro_batch=1,
                                               optimizer="mixed_adam", **kw).iloc[0]

    na = NotApplicable("the paper names the technique without numbers")
    register(Claim(
        claim_id="mit-zero-shards-optimizer", chapter=TM, section=MITIGATIONS,
        statement="ZeRO fits a larger model in the same memory by removing redundant optimizer state.",
        paper_value=True, paper_text="ZeRO (named as a mitigation)", unit="yes/no", source="paper, mitigation section",
        method="Llama-3-8B, 4096 tokens: per-GPU optimizer memory with ZeRO-1 over 8 GPUs below that without ZeRO "
               "(memwall.wall.training_memory.training_memory)",
        ours_paper_data=na,
        ours_extended=lambda: bool(per_gpu(zero_stage=1, n_gpus=8)["optimizer_bytes"] < per_gpu()["optimizer_bytes"])))
    register(Claim(
        claim_id="mit-recompute-cuts-activations", chapter=TM, section=MITIGATIONS,
        statement="Rematerialisation (activation recomputation) trades extra compute for much less activation memory.",
        paper_value=True, paper_text="rematerialisation (named as a mitigation)", unit="yes/no",
        source="paper, mitigation section",
        method="Llama-3-8B, 4096 tokens: activation memory with full recomputation at most a tenth of that "
               "without (memwall.wall.training_memory.training_memory)",
        ours_paper_data=na,
        ours_extended=lambda: bool(per_gpu(recompute="full")["activations_bytes"] * 10
                                   <= per_gpu()["activations_bytes"])))

    h100 = "H100 SXM5 80GB (Hopper)"

    def quant_helps() -> bool:
        t = grids.quantization_table(_hw(), ["llama-3-8b"], [h100], ["W16A16", "W4A16"], 1024).set_index("scheme")
        return bool(t.loc["W4A16", "time_per_token_s"] < t.loc["W16A16", "time_per_token_s"]
                    and t.loc["W4A16", "footprint_bytes"] < t.loc["W16A16", "footprint_bytes"])

    register(Claim(
        claim_id="mit-quantization-size-latency", chapter=QZ, section=MITIGATIONS,
        statement="Quantization (lower inference precision) reduces both model size and latency.",
        paper_value=True, paper_text="quantization (named as a mitigation)", unit="yes/no",
        source="paper, mitigation section",
        method="Llama-3-8B on an H100, batch 1, 1024 cached tokens: W4A16 has a smaller footprint and a shorter "
               "roofline-bound decode step than W16A16 (memwall.serving.quantization_table)",
        ours_paper_data=na, ours_extended=quant_helps))

    def decode_memory_bound_xeon() -> bool:
        ceil = roofline.Ceilings.from_hardware(_hw(), SURVEY_CPU, "int8")
        return bool(float(sweep_ai_max()) < ceil.ridge_flop_per_byte)

    def sweep_ai_max() -> float:
        return float(_sweep().loc["GPT-2", "intensity"].max())

    def decode_memory_bound_recent() -> bool:
        step = totals(cost_table(get_preset("llama-3-8b"), "decode", 1024, 1, widths=ByteWidths(weight=2.0, act=2.0,
                                                                                                kv=2.0)))["intensity"].iloc[0]
        balance = hardware_trends.machine_balance(_hw(), "max_16bit")
        recent = balance[(balance["year"] >= 2023) & (balance["precision"] == "fp16/bf16")]
        if recent.empty:
            raise NotComputable("no device from 2023 on with a 16-bit peak in data/hardware.csv")
        return bool((step < recent["ridge_flop_per_byte"]).all())

    register(Claim(
        claim_id="mit-decode-memory-bound", chapter=BK, section=CASE_CONCLUSIONS,
        statement="Decoder inference at batch 1 is memory-bandwidth bound, which is why batching and a smaller KV "
                  "cache pay off.",
        paper_value=True, paper_text="decoders are memory-bandwidth bound", unit="yes/no",
        source="abstract; survey §2.2 summary",
        method="GPT-2's generation intensity (8-bit) below the Xeon Gold 6242's INT8 ridge; extended: a Llama-3-8B "
               "batch-1 decode step at 16 bits below the 16-bit ridge of every device from 2023 on in "
               "data/hardware.csv (memwall.cost, memwall.wall.hardware_trends.machine_balance)",
        ours_paper_data=decode_memory_bound_xeon, ours_extended=decode_memory_bound_recent))


_register_hardware()
_register_case_table()
_register_case_conclusions()
_register_latency()
_register_models()
_register_training()
