"""Cached inputs of the paper's claims: chapter names, section names and the tables the value functions read."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from memwall import bounds, roofline, tables
from memwall.claims.core import NotComputable
from memwall.wall import case_study, hardware_trends, model_growth, training_bars, trend_checks
from memwall.widths import ByteWidths

__all__ = ["BK", "CASE_CONCLUSIONS", "CASE_TABLE", "ED", "HEADLINE", "HW", "LENGTHS", "MITIGATIONS", "MM", "QZ", "RM",
           "ROUNDING", "SURVEY_CPU", "TM", "TRAINING"]


HW = "chapters/hardware_trends"
ED = "chapters/encoder_decoder"
RM = "chapters/roofline_measured"
MM = "chapters/models_memory"
TM = "chapters/training_memory"
QZ = "chapters/quantization"
BK = "chapters/batching_kv_cache"

HEADLINE = "headline numbers"
CASE_TABLE = "case study: published numbers"
CASE_CONCLUSIONS = "case study: conclusions"
TRAINING = "training memory"
MITIGATIONS = "mitigations"

ROUNDING = "half a unit in the last printed digit"
LENGTHS = (128, 256, 512, 1024, 2048, 4096)
SURVEY_CPU = "Xeon Gold 6242 (Cascade Lake, 16c 2.8 GHz)"


# ----------------------------------------------------------------------------------------------------------
# Cached inputs (the same calls the chapters make)


@functools.cache
def _hw() -> pd.DataFrame:
    return tables.load_hardware()


@functools.cache
def _paper_hw_fits() -> dict:
    return trend_checks.paper_figure_growth(tables.load_paper_hw_points())


@functools.cache
def _paper_hw_points() -> pd.DataFrame:
    return tables.load_paper_hw_points()


@functools.cache
def _datasheet_rates() -> dict[str, float]:
    """The datasheet rates the hardware chapter quotes: paper's precision rule, every device, 1996-2022."""
    hw = _hw()
    sens = trend_checks.sensitivity_table(hw, {"1996-2022": (1996, 2022)})
    lane, col, _ = trend_checks.datasheet_series("interconnect_lane_rate", hw, tables.load_interconnects())
    return {"flops": trend_checks.sensitivity_rate(sens, "peak FLOP/s", "max_16bit", "all", "1996-2022"),
            "dram_bandwidth": trend_checks.sensitivity_rate(sens, "DRAM bandwidth", "-", "all", "1996-2022"),
            "interconnect_bandwidth": hardware_trends.fit_series(lane, col).per_2_years}


@functools.cache
def _paper_model_fits() -> pd.DataFrame:
    return model_growth.paper_model_fits().set_index("quantity")


@functools.cache
def _survey() -> pd.DataFrame:
    return case_study.survey_case_study()


@functools.cache
def _sweep() -> pd.DataFrame:
    return case_study.length_sweep(case_study.SURVEY_MODELS, list(LENGTHS)).set_index(["model", "seq_len"])


@functools.cache
def _shares() -> pd.DataFrame:
    return case_study.category_breakdown(case_study.SURVEY_MODELS, [128, 512, 4096]).set_index(
        ["model", "seq_len", "category"])


def _published(model: str, seq_len: int, metric: str, source: str, operator: str = "total") -> float:
    s = _survey()
    sel = s[(s["model"] == model) & (s["seq_len"] == seq_len) & (s["metric"] == metric)
            & (s["operator"] == operator) & (s["source_table"] == source)]
    if len(sel) != 1:
        raise ValueError(f"survey_case_study.csv holds {len(sel)} rows for {model}, l={seq_len}, {metric}, "
                         f"{operator}, {source}; expected 1")
    return float(sel["published_value"].iloc[0])


def _ours(model: str, seq_len: int, metric: str, source: str) -> float:
    s = _survey()
    sel = s[(s["model"] == model) & (s["seq_len"] == seq_len) & (s["metric"] == metric)
            & (s["operator"] == "total") & (s["source_table"] == source)]
    return float(sel["ours"].iloc[0])


@functools.cache
def _xeon_latency(kind: str) -> pd.DataFrame:
    """Roofline-bound latency of the survey's three runs on the survey's CPU, normalised to BERT-Base at 128.

    ``kind="cpu"``: FP32 peak and 4 B/element (the survey's CPU runs are PyTorch models), GPT-2 with its LM head
    on every generated token; ``"analytic"``: the INT8 (VNNI) peak and 1 B/element, the precision of the survey's
    analytic counts, without the LM head (as its operation tables).
    """
    precision, width = ("fp32", 4.0) if kind == "cpu" else ("int8", 1.0)
    ceil = roofline.Ceilings.from_hardware(_hw(), SURVEY_CPU, precision)
    lengths = np.asarray(LENGTHS)
    widths = ByteWidths.uniform(width)
    # The survey's CPU runs generate with GPT-2's LM head on every token (generation needs the logits); its
    # analytic counts leave the head out, as its operation tables do.
    head = kind == "cpu"
    out = {name: np.atleast_1d(bounds.predict_time(preset, phase, lengths, ceil, widths=widths,
                                                   include_lm_head=head and phase == "generate"))
           for name, (preset, phase) in case_study.SURVEY_MODELS.items()}
    frame = pd.DataFrame(out, index=pd.Index(lengths, name="seq_len"))
    return frame / frame.loc[128, "BERT-Base"]


@functools.cache
def _reference_latency() -> pd.DataFrame:
    """The stored reference measurement (data/reference_measurements.csv), normalised to BERT-Base at 128."""
    ref = tables.load_reference_measurements()
    rows = ref[ref["experiment"].isin(["latency_encoder", "latency_decoder"])]
    parsed = rows["setting"].str.extract(r"^(?P<preset>\S+) l=(?P<seq_len>\d+)$")
    names = {"bert-base": "BERT-Base", "gpt2": "GPT-2"}
    frame = pd.DataFrame({"model": parsed["preset"].map(names), "seq_len": parsed["seq_len"].astype(int),
                          "time_s": rows["time_s"].to_numpy()})
    wide = frame.pivot_table(index="seq_len", columns="model", values="time_s")
    return wide / wide.loc[128, "BERT-Base"]


def _reference_value(model: str, seq_len: int) -> float:
    ref = _reference_latency()
    if model not in ref.columns or seq_len not in ref.index or pd.isna(ref.loc[seq_len, model]):
        raise NotComputable(f"the stored reference measurement times BERT-Base and GPT-2 at l = "
                            f"{', '.join(map(str, ref.index))} only (longer generations take minutes on a 2-core CPU)")
    return float(ref.loc[seq_len, model])


# ----------------------------------------------------------------------------------------------------------
# The encoder-vs-decoder case study (survey §2.2, re-used by the paper)

_SLUG = {"BERT-Base": "bert-base", "BERT-Large": "bert-large", "GPT-2": "gpt2"}
_METRICS = {
    "gflops": ("Fig. 4", "gflops", "GFLOP", "FLOPs"),
    "gmops": ("Fig. 5", "gmops", "GB", "memory operations (bytes moved)"),
    "ai": ("Fig. 6", "intensity", "FLOP/B", "arithmetic intensity"),
}


def _share(model: str, seq_len: int, categories: tuple[str, ...], column: str) -> float:
    s = _shares()
    return 100.0 * float(sum(s.loc[(model, seq_len, c), column] for c in categories))


def _pub_share(model: str, seq_len: int, operators: tuple[str, ...], metric: str, table: str) -> float:
    total = _published(model, seq_len, metric, table)
    return 100.0 * sum(_published(model, seq_len, metric, table, op) for op in operators) / total


def _pt(model: str, seq_len: int, metric: str, operator: str = "total") -> str:
    """A published value of Table 3 (BERT-Base) as printed."""
    return f"{_published(model, seq_len, metric, 'Table 3', operator):g}"


def _rounding(model: str, seq_len: int, metric: str) -> float:
    """Relative rounding error of a Table 3 total: half a unit in its last digit over the value."""
    s = _survey()
    row = s[(s["model"] == model) & (s["seq_len"] == seq_len) & (s["metric"] == metric) & (s["operator"] == "total")
            & (s["source_table"] == "Table 3")].iloc[0]
    return 0.5 * 10.0 ** -int(row["decimals"]) / float(row["published_value"])


# ----------------------------------------------------------------------------------------------------------
# Training memory and mitigations


@functools.cache
def _bars() -> pd.DataFrame:
    return training_bars.paper_bar_comparison().set_index("model")


@functools.cache
def _limits() -> pd.Series:
    return training_bars.paper_bars_long().drop_duplicates("model").set_index("model")["gpu_limit_gb"]
