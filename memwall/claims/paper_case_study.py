"""The paper's case-study claims: the survey's table cells, its conclusions and the normalised latencies."""

from __future__ import annotations

import functools

import numpy as np

from memwall import roofline, tables
from memwall.claims.core import Claim, NotApplicable, register
from memwall.claims.paper_data import (
    _METRICS,
    _SLUG,
    CASE_CONCLUSIONS,
    CASE_TABLE,
    ED,
    LENGTHS,
    RM,
    ROUNDING,
    SURVEY_CPU,
    _ours,
    _pt,
    _pub_share,
    _published,
    _reference_value,
    _rounding,
    _share,
    _sweep,
    _xeon_latency,
)
from memwall.wall import case_study, latency_ratio

_BL_EXPLANATION = ("The survey's BERT-Large series is reproduced only with one d x d attention "
                   "projection per layer left out; BERT-Large has four, and the same recipe with four reproduces "
                   "BERT-Base, so we keep the standard count.")
_LATENCY_EXPLANATION = {
    "cpu": ("Ours is a roofline bound with the Xeon Gold 6242's datasheet ceilings (FP32, GPT-2's LM head on every "
            "generated token), not a measurement on that CPU: the bound leaves out per-call overheads and the "
            "elementwise passes of a real framework, which slow the encoder and the decoder by different factors, "
            "and the survey's normalised latencies are rounded to whole numbers."),
    "analytic": ("The survey's analytic model is not published in enough detail to re-run; ours is a roofline bound "
                 "with the Xeon Gold 6242's INT8 datasheet ceilings at 1 byte per element, which gives the decoder "
                 "a different share of memory time."),
}


def _reference_ridge() -> float:
    """Ridge point of the stored reference machine: its best STREAM bandwidth and FP32 GEMM peak. [FLOP/B]"""
    from memwall.wall import measure

    summary = measure.summarize_measurements(tables.load_reference_measurements())
    return float(summary["gemm_fp32_flop_per_s"] / summary["stream_best_bytes_per_s"])


def _xeon_ceilings() -> roofline.Ceilings:
    return roofline.Ceilings.from_hardware(tables.load_hardware(), SURVEY_CPU, "fp32")


def _ridge_scaled_reference_ratio() -> float:
    ratio = _reference_value("GPT-2", 128) / _reference_value("BERT-Base", 128)
    return latency_ratio.ridge_scaled_ratio(ratio, _reference_ridge(), _xeon_ceilings().ridge_flop_per_byte)


def _case_explanation(model: str, key: str, seq_len: int) -> tuple[str | None, str | None]:
    if model == "BERT-Large" and key in ("gflops", "ai"):
        return _BL_EXPLANATION, "The survey's numbers, recomputed"
    if model == "BERT-Large" and key == "gmops":
        return ("Fig. 5 prints BERT-Large's bytes to one decimal; at short l our count of the same recipe lands "
                "outside that rounding (the survey writes the attention scores once where we write and read them)."), \
            "The survey's numbers, recomputed"
    return None, None


def _register_case_table() -> None:
    pub = tables.load_survey_case_study()
    for key, (source, metric, unit, label) in _METRICS.items():
        for model in case_study.SURVEY_MODELS:
            phase = "encoding" if model.startswith("BERT") else "generating"
            for length in LENGTHS:
                row = pub[(pub["model"] == model) & (pub["seq_len"] == length) & (pub["metric"] == metric)
                          & (pub["operator"] == "total") & (pub["source_table"] == source)].iloc[0]
                expl, where = _case_explanation(model, key, length)
                register(Claim(
                    claim_id=f"survey-{key}-{_SLUG[model]}-{length}", chapter=ED, section=CASE_TABLE,
                    group=f"survey {source}: {label}",
                    statement=f"{label[0].upper()}{label[1:]} of {model} {phase} {length} tokens (batch 1, 8-bit).",
                    paper_value=float(row["published_value"]), paper_text=f"{row['published_value']:g}", unit=unit,
                    source=f"survey {source}",
                    method="memwall.cost operation counts at 1 B/element, batch 1 "
                           "(memwall.wall.case_study.survey_case_study)",
                    ours_paper_data=lambda m=model, n=length, k=metric, s=source: _ours(m, n, k, s),
                    ours_extended=NotApplicable("the case study is defined by the survey's three models"),
                    rel_tol=0.02, abs_tol=0.5 * 10.0 ** -int(row["decimals"]),
                    tolerance_note="2 % or " + ROUNDING, explanation=expl, explained_in=where))


def _register_case_conclusions() -> None:
    na = NotApplicable("the conclusion is about the survey's models")
    bb, gpt = "BERT-Base", "GPT-2"
    sweep = _sweep

    def ratio(model_a: str, model_b: str, metric: str, n: int) -> float:
        return float(sweep().loc[(model_a, n), metric] / sweep().loc[(model_b, n), metric])

    common = dict(chapter=ED, section=CASE_CONCLUSIONS, ours_extended=na)
    register(Claim(
        claim_id="case-1-flops-superlinear", statement="BERT-Base's FLOPs grow faster than the sequence length: "
                                                      "32x longer (128 to 4096 tokens) costs about 60x the FLOPs.",
        paper_value=_published(bb, 4096, "gflops", "Table 3") / _published(bb, 128, "gflops", "Table 3"),
        paper_text=f"{_pt(bb, 128, 'gflops')} to {_pt(bb, 4096, 'gflops')} GFLOPs",
        unit="x (l = 4096 over l = 128)", source="survey Table 3; §2.2 summary",
        method="ratio of whole-model FLOPs from memwall.wall.case_study.length_sweep",
        ours_paper_data=lambda: float(sweep().loc[(bb, 4096), "flops"] / sweep().loc[(bb, 128), "flops"]),
        rel_tol=0.02, tolerance_note="2 %", **common))
    register(Claim(
        claim_id="case-1-mops-superlinear", statement="BERT-Base's bytes moved grow faster still: about 80x from "
                                                     "128 to 4096 tokens.",
        paper_value=_published(bb, 4096, "gmops", "Table 3") / _published(bb, 128, "gmops", "Table 3"),
        paper_text=f"{_pt(bb, 128, 'gmops')} to {_pt(bb, 4096, 'gmops')} GB",
        unit="x (l = 4096 over l = 128)", source="survey Table 3",
        method="ratio of whole-model bytes from memwall.wall.case_study.length_sweep",
        ours_paper_data=lambda: float(sweep().loc[(bb, 4096), "bytes"] / sweep().loc[(bb, 128), "bytes"]),
        rel_tol=0.02 + _rounding(bb, 128, "gmops"),
        tolerance_note="2 % plus the rounding of Table 3's l = 128 value", **common))
    register(Claim(
        claim_id="case-1-ffn-dominates-short", statement="At short sequences the FFN does most of the encoder's "
                                                        "FLOPs (BERT-Base, l = 128).",
        paper_value=_pub_share(bb, 128, ("ffn_projections",), "gflops", "Table 3"),
        paper_text=f"{_pt(bb, 128, 'gflops', 'ffn_projections')} of {_pt(bb, 128, 'gflops')} GFLOPs",
        unit="% of FLOPs", source="survey Table 3",
        method="category shares from memwall.wall.case_study.category_breakdown",
        ours_paper_data=lambda: _share(bb, 128, ("ffn",), "flops_share"), rel_tol=0.02, tolerance_note="2 %",
        **common))
    for model in ("BERT-Base", "BERT-Large"):
        published = case_study.published_totals(tables.load_survey_case_study(), "intensity", "Fig. 6")
        pub_m = published[published["model"] == model].set_index("seq_len")["published_value"]
        register(Claim(
            claim_id=f"case-2-ai-peak-{_SLUG[model]}",
            statement=f"{model}'s arithmetic intensity rises up to l = 512 and then falls.",
            paper_value=float(pub_m.idxmax()), paper_text=f"peak of Fig. 6 at l = {int(pub_m.idxmax())}",
            unit="tokens (l at peak intensity)", source="survey Fig. 6; §2.2 summary",
            method="length with the highest whole-model intensity in memwall.wall.case_study.length_sweep",
            ours_paper_data=lambda m=model: float(sweep().loc[m, "intensity"].idxmax()), tolerance_note="exact",
            **common))
    register(Claim(
        claim_id="case-2-act-to-act-flops-4096", statement="At l = 4096 the attention's activation-to-activation "
                                                          "matmuls do about half of BERT-Base's FLOPs.",
        paper_value=_pub_share(bb, 4096, ("mha_act_to_act",), "gflops", "Table 3"),
        paper_text=f"{_pt(bb, 4096, 'gflops', 'mha_act_to_act')} of {_pt(bb, 4096, 'gflops')} GFLOPs",
        unit="% of FLOPs", source="survey Table 3",
        method="category shares from memwall.wall.case_study.category_breakdown",
        ours_paper_data=lambda: _share(bb, 4096, ("act_to_act",), "flops_share"), rel_tol=0.02,
        tolerance_note="2 %", **common))
    register(Claim(
        claim_id="case-2-act-to-act-other-mops-4096",
        statement="At l = 4096 the act-to-act matmuls and the nonlinear operations move almost all of BERT-Base's "
                  "bytes.",
        paper_value=_pub_share(bb, 4096, ("mha_act_to_act", "other"), "gmops", "Table 3"),
        paper_text=f"({_pt(bb, 4096, 'gmops', 'mha_act_to_act')} + {_pt(bb, 4096, 'gmops', 'other')}) of "
                   f"{_pt(bb, 4096, 'gmops')} GB", unit="% of bytes", source="survey Table 3",
        method="category shares from memwall.wall.case_study.category_breakdown",
        ours_paper_data=lambda: _share(bb, 4096, ("act_to_act", "nonlinear"), "bytes_share"), rel_tol=0.02,
        tolerance_note="2 %", **common))

    def worst_gpt_ai() -> float:
        ai = sweep().loc[gpt, "intensity"]
        return float(ai.iloc[int(np.argmax(np.abs(ai.to_numpy() - 2.0)))])

    register(Claim(
        claim_id="case-3-decoder-ai-2", statement="A decoder generating token by token runs at about 2 FLOP/B "
                                                 "(8-bit) at every sequence length.",
        paper_value=_published(gpt, 4096, "intensity", "Fig. 6"), paper_text="2 at every l", unit="FLOP/B",
        source="survey Fig. 6; §2.2 summary",
        method="GPT-2 whole-model intensity at l = 128 ... 4096 (memwall.wall.case_study.length_sweep); "
               "the value farthest "
               "from 2 is compared",
        ours_paper_data=worst_gpt_ai, abs_tol=0.5, tolerance_note=ROUNDING, **common))
    for n in (128, 4096):
        register(Claim(
            claim_id=f"case-4-flops-ratio-{n}",
            statement=f"GPT-2 needs similar or fewer FLOPs than BERT-Base (l = {n}).",
            paper_value=_published(gpt, n, "gflops", "Table 11") / _published(bb, n, "gflops", "Table 3"),
            paper_text=f"{_published(gpt, n, 'gflops', 'Table 11'):g} vs {_published(bb, n, 'gflops', 'Table 3'):g} "
                       "GFLOPs", unit="x (GPT-2 over BERT-Base)", source="survey Tables 3 and 11",
            method="ratio of whole-model FLOPs from memwall.wall.case_study.length_sweep",
            ours_paper_data=lambda n=n: ratio(gpt, bb, "flops", n), rel_tol=0.02, tolerance_note="2 %", **common))
        tol = 0.02 + (_rounding(bb, 128, "gmops") if n == 128 else 0.0)
        register(Claim(
            claim_id=f"case-4-mops-ratio-{n}",
            statement=f"Yet GPT-2 moves many times more bytes than BERT-Base (l = {n}).",
            paper_value=_published(gpt, n, "gmops", "Table 11") / _published(bb, n, "gmops", "Table 3"),
            paper_text=f"{_published(gpt, n, 'gmops', 'Table 11'):g} vs {_published(bb, n, 'gmops', 'Table 3'):g} GB",
            unit="x (GPT-2 over BERT-Base)", source="survey Tables 3 and 11",
            method="ratio of whole-model bytes from memwall.wall.case_study.length_sweep",
            ours_paper_data=lambda n=n: ratio(gpt, bb, "bytes", n), rel_tol=tol,
            tolerance_note="2 %" + (" plus the rounding of BERT-Base's bytes" if n == 128 else ""), **common))
    register(Claim(
        claim_id="case-6-nonlinear-flops-small",
        statement="Nonlinear operations do under 1 % of BERT-Base's FLOPs at l = 128, 512 and 4096.",
        paper_value=True, paper_text="< 1 %", unit="yes/no", source="survey Table 3; §2.2 summary",
        method="nonlinear share of FLOPs from memwall.wall.case_study.category_breakdown, all three lengths",
        ours_paper_data=lambda: all(_share(bb, n, ("nonlinear",), "flops_share") < 1.0 for n in (128, 512, 4096)),
        **common))
    register(Claim(
        claim_id="case-6-nonlinear-mops-128", statement="Nonlinear operations move a sizeable share of BERT-Base's "
                                                        "bytes already at l = 128.",
        paper_value=_pub_share(bb, 128, ("other",), "gmops", "Table 3"),
        paper_text=f"{_pt(bb, 128, 'gmops', 'other')} of {_pt(bb, 128, 'gmops')} GB",
        unit="% of bytes", source="survey Table 3",
        method="nonlinear share of bytes from memwall.wall.case_study.category_breakdown",
        ours_paper_data=lambda: _share(bb, 128, ("nonlinear",), "bytes_share"), abs_tol=4.5,
        tolerance_note="Table 3 prints both values to two decimals: the share is known only to about ±4 points",
        **common))
    register(Claim(
        claim_id="case-6-nonlinear-mops-4096", statement="At l = 4096 the nonlinear operations move about half of "
                                                         "BERT-Base's bytes.",
        paper_value=_pub_share(bb, 4096, ("other",), "gmops", "Table 3"),
        paper_text=f"{_pt(bb, 4096, 'gmops', 'other')} of {_pt(bb, 4096, 'gmops')} GB",
        unit="% of bytes", source="survey Table 3",
        method="nonlinear share of bytes from memwall.wall.case_study.category_breakdown",
        ours_paper_data=lambda: _share(bb, 4096, ("nonlinear",), "bytes_share"), rel_tol=0.02, tolerance_note="2 %",
        **common))



def _register_latency() -> None:
    pub = tables.load_survey_case_study()
    bb, gpt = "BERT-Base", "GPT-2"

    def ratio(model_a: str, model_b: str, metric: str, n: int) -> float:
        return float(_sweep().loc[(model_a, n), metric] / _sweep().loc[(model_b, n), metric])

    for kind, metric, source, label in (("cpu", "latency_cpu_norm", "Fig. 9", "measured CPU latency"),
                                        ("analytic", "latency_analytic_norm", "Fig. 32", "analytic-model latency")):
        for model in case_study.SURVEY_MODELS:
            for length in LENGTHS:
                row = pub[(pub["model"] == model) & (pub["seq_len"] == length) & (pub["metric"] == metric)].iloc[0]
                value = float(row["published_value"])
                if kind == "cpu":
                    ext: object = functools.partial(_reference_value, model, length)
                else:
                    ext = NotApplicable("the analytic model is compared with the survey's CPU only")
                trivial = model == "BERT-Base" and length == 128
                register(Claim(
                    claim_id=f"survey-lat-{kind}-{_SLUG[model]}-{length}", chapter=RM, section=CASE_TABLE,
                    group=f"survey {source}: normalised {label}",
                    statement=f"Normalised {label} of {model} at l = {length} (BERT-Base at l = 128 = 1).",
                    paper_value=value, paper_text=f"{value:g}", unit="x BERT-Base at l=128", source=f"survey {source}",
                    method=("roofline bound (memwall.bounds.predict_time) on the Xeon Gold 6242's datasheet "
                            + ("FP32 ceilings at 4 B/element" if kind == "cpu" else "INT8 ceilings at 1 B/element")
                            + (", normalised; extended: the stored reference measurement (numpy models, "
                               "data/reference_measurements.csv), normalised" if kind == "cpu" else ", normalised")),
                    ours_paper_data=lambda m=model, n=length, k=kind: float(_xeon_latency(k).loc[n, m]),
                    ours_extended=ext, rel_tol=0.02, abs_tol=0.5, tolerance_note="2 % or " + ROUNDING,
                    explanation=None if trivial else _LATENCY_EXPLANATION[kind],
                    explained_in=None if trivial or kind == "analytic" else "Encoder vs decoder, timed"))
    for n in (128, 4096):
        paper = (_published(gpt, n, "latency_cpu_norm", "Fig. 9") / _published(bb, n, "latency_cpu_norm", "Fig. 9"))
        measured = n == 128
        register(Claim(
            claim_id=f"case-5-latency-ratio-{n}", chapter=RM, section=CASE_CONCLUSIONS,
            statement=(f"On the survey's CPU, GPT-2 generating {n} tokens takes {paper:.0f}x as long as BERT-Base "
                       f"encoding them."
                       + (" The stored reference measurement (numpy, the greedy loop with its LM head, on another "
                          "machine), carried to that CPU's ridge point, gives the same ratio to within the "
                          "run-to-run and engine spread." if measured else "")),
            paper_value=paper, paper_text=f"{paper:.0f}x", unit="x (GPT-2 over BERT-Base)",
            source="survey Fig. 9; §2.2 summary",
            method=("the stored reference measurement's ratio (data/reference_measurements.csv) times the ratio of "
                    "ridge points, Xeon Gold 6242 FP32 datasheet over the reference machine's measured STREAM and "
                    "GEMM (memwall.wall.latency_ratio.ridge_scaled_ratio); the roofline scales the ratio with the "
                    "ridge point (memwall.wall.latency_ratio)" if measured else
                    "roofline bound on the Xeon Gold 6242's FP32 datasheet ceilings at 4 B/element "
                    "(memwall.bounds.predict_time)"),
            ours_paper_data=(NotApplicable("a measurement on the survey's CPU cannot be recomputed; ours is measured "
                                           "on another machine and carried over by its ridge point")
                             if measured else
                             (lambda n=n: float(_xeon_latency("cpu").loc[n, gpt] / _xeon_latency("cpu").loc[n, bb]))),
            ours_extended=_ridge_scaled_reference_ratio if measured else NotApplicable(
                f"the stored reference measurement times l = 128 to 512 only (l = {n} takes minutes on 2 cores)"),
            rel_tol=0.3 if measured else 0.1,
            tolerance_note=("30 %: carrying by the ridge point assumes the same efficiency factor (measured ratio "
                            "over the machine's roofline limit, memwall.wall.latency_ratio.model_ratio_limit) on "
                            "both machines; it depends on the engine's encoder and per-token overhead, and the "
                            "ratio itself varies by about ±15 % between runs on a shared 2-core machine"
                            if measured else "10 % (ratio of two rounded normalised latencies)"),
            explanation=None if measured else _LATENCY_EXPLANATION["cpu"],
            explained_in=None if measured else "Encoder vs decoder, timed"))
    register(Claim(
        claim_id="case-5-slower-despite-fewer-flops", chapter=RM, section=CASE_CONCLUSIONS,
        statement="A model with lower arithmetic intensity can be much slower with the same or fewer FLOPs.",
        paper_value=True, paper_text="GPT-2 slower than BERT-Base at similar FLOPs", unit="yes/no",
        source="survey §2.2 summary",
        method="GPT-2 has at most 1.01x BERT-Base's FLOPs in the survey's scope (no LM head) and at least 5x its "
               "latency at l = 128 (roofline bound on the Xeon Gold 6242; extended: the stored reference measurement, "
               "whose generation runs the LM head too: with it GPT-2 does more FLOPs, which does not explain a "
               "ratio of that size)",
        ours_paper_data=lambda: ratio(gpt, bb, "flops", 128) <= 1.01 and _xeon_latency("cpu").loc[128, gpt] >= 5,
        ours_extended=lambda: ratio(gpt, bb, "flops", 128) <= 1.01 and _reference_value(gpt, 128) >= 5))
