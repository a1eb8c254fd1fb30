"""Claims checked by the chapter "How close do real systems get?": our bounds against MLPerf Inference results.

Every published result of ``data/mlperf_llm_results.csv`` (read from its LoadGen summary, or from the round's
submission checker log or results page where the stored copy has no summary) is compared with
the roofline upper bound :func:`memwall.wall.mlperf_bounds.workload_bound` computes for that system, model and
precision. A result above its bound would expose a wrong bound or a wrong row, so that check is a claim; so are
the best fraction of the bound reached per benchmark (the published rate is the reference, our bound the value;
a run listed for both accuracy targets counts once)
and whether decode at the Interactive scenario's time-per-token limit is memory-bound. Registered on import.
"""

from __future__ import annotations

from memwall.claims.core import Claim, NotApplicable, register
from memwall.wall.mlperf_results import best_per_family, default_bounds

CHAPTER = "chapters/mlperf_bounds"
SECTION = "published results"
GAP = "Where the gap is"
_NOT_PAPER = NotApplicable("the memory-wall paper has no MLPerf results; the published result files are the reference")

_LABELS = {"llama2-70b": "Llama-2-70B", "mixtral-8x7b": "Mixtral 8x7B", "gptj": "GPT-J 6B"}


def _none_exceeds() -> bool:
    return bool((default_bounds()["fraction"] <= 1.0).all())


def _interactive_memory_bound() -> bool:
    return bool(default_bounds()["interactive_binding"].eq("memory").all())


def _best(family: str) -> tuple[float, float, str]:
    row = best_per_family(default_bounds()).set_index("family").loc[family]
    where = f"{row['submitter']} {row['system_id']} ({row['round']}, {row['scenario']})"
    return float(row["achieved_tokens_per_s"]), float(row["bound_tokens_per_s"]), where


def _register() -> None:
    register(Claim(
        claim_id="mlperf-no-result-exceeds-bound", chapter=CHAPTER, section=SECTION,
        statement="No published MLPerf Inference LLM result in the table (v4.0-v4.1, closed division) exceeds the "
                  "roofline upper bound of its system, model and precision (a result above it would expose a wrong "
                  "bound or a wrong row).",
        paper_value=True, paper_text="every result at or below its bound", unit="yes/no",
        source="this book; the results are MLCommons' result files: LoadGen summaries, submission checker logs "
               "and results pages (data/mlperf_llm_results.csv)",
        method="memwall.wall.mlperf_results.default_bounds: fraction = published tokens/s / workload_bound(...) "
               "tokens/s <= 1 for every row with a device in data/hardware.csv",
        ours_paper_data=_NOT_PAPER, ours_extended=_none_exceeds), replace=True)
    for family, label in _LABELS.items():
        published, bound, where = _best(family)
        register(Claim(
            claim_id=f"mlperf-best-{family}", chapter=CHAPTER, section=SECTION,
            group="The best published result per benchmark, against our upper bound",
            statement=f"The best {label} result of the table ({where}) reaches "
                      f"{published / bound:.1%} of our roofline bound for it.",
            paper_value=round(published, 2), paper_text=f"{published:,.1f} tokens/s (published)",
            unit="tokens/s", source="MLCommons inference results, the row's file (its source_url and source_kind)",
            method="memwall.wall.mlperf_bounds.workload_bound for the row's accelerators, precision and workload "
                   "(prompt of 1 token where the mean prompt is not documented: the highest bound)",
            rel_tol=0.0, tolerance_note="none: our value is an upper bound, not an estimate of the result",
            explanation=f"Our value is the upper bound ({bound:,.0f} tokens/s), not a prediction; the published "
                        f"rate is {published / bound:.1%} of it. The chapter lists what the bound leaves out "
                        "(the prompts' prefill, scheduling, communication, kernels below peak).",
            explained_in=GAP,
            ours_paper_data=_NOT_PAPER, ours_extended=lambda f=family: _best(f)[1]), replace=True)
    register(Claim(
        claim_id="mlperf-interactive-memory-bound", chapter=CHAPTER, section=SECTION,
        statement="At the Interactive scenario's 40 ms time per output token, decode at the largest batch that "
                  "limit and memory allow is memory-bound on every listed system.",
        paper_value=True, paper_text="decoder models are memory-bandwidth bound", unit="yes/no",
        source="abstract; survey §2.2 summary",
        method="memwall.wall.mlperf_bounds.decode_at_tpot(..., tpot_limit_s=0.04) for every row of default_bounds: "
               "binding roof of the decode-step bound at the largest batch meeting the limit",
        explanation="A 40 ms step is long: at FP8 the largest batch it admits does more FLOPs than the step's "
                    "bytes allow, so the bound is compute-bound there on every listed system. Decode is "
                    "memory-bound below the critical batch (hundreds of sequences), where a system that keeps "
                    "few sequences in flight runs; the limit alone does not force it.",
        explained_in=GAP,
        ours_paper_data=_NOT_PAPER, ours_extended=_interactive_memory_bound), replace=True)


_register()
