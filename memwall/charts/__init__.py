"""Altair charts with one theme, one module per chart family.

Charts take computed tables and return Altair charts; they never compute physics. Imported in a notebook
kernel, this package makes each chart's HTML id a digest of its spec (:func:`memwall.stable_ids.install`).

Modules
-------
``theme``
    Altair charts with one theme for the whole book: axis rules (decades, powers of two), responsive width.
``palette``
    One categorical palette: the same operation category, vendor or precision has one colour everywhere.
``trends``
    Trend charts: growth with fitted lines, machine balance, ratios and the fit matrix.
``case_study``
    Charts of the survey's case study: length sweeps, category shares, the per-operation explorer.
``measured``
    Charts of measured rooflines: the GEMV-to-GEMM sweep.
``roofline``
    Interactive roofline chart (Altair): ceilings of a chosen device and precision, operations as points.
``gpu``
    Charts of the stored GPU measurement (:mod:`memwall.wall.gpu_reference`).
``training``
    Training-memory charts: the paper's bars and the calculator.
``serving``
    Serving charts: quantisation and the throughput-latency frontier.
``beyond``
    Charts of the "Beyond the paper" chapters: decode intensity against ridges, MoE batches.
``beyond_serving``
    Interactive Altair charts of the chapter "Beyond the paper: serving and hardware".
``levers_sparsity``, ``levers_onchip``, ``levers_offload``, ``levers_optimizers``
    Charts of the part "The paper's other levers": pruning, on-chip memory, offload, lean optimizers.
"""

from memwall import stable_ids as _stable_ids
from memwall.charts import (
    beyond,
    beyond_serving,
    case_study,
    gpu,
    levers_offload,
    levers_onchip,
    levers_optimizers,
    levers_sparsity,
    measured,
    palette,
    roofline,
    serving,
    theme,
    training,
    trends,
)
from memwall.charts.beyond import *
from memwall.charts.beyond_serving import *
from memwall.charts.case_study import *
from memwall.charts.gpu import *
from memwall.charts.measured import *
from memwall.charts.palette import *
from memwall.charts.roofline import *
from memwall.charts.serving import *
from memwall.charts.theme import *
from memwall.charts.training import *
from memwall.charts.trends import *

__all__ = [
    "PALETTE",
    "balance_chart",
    "ceilings_frame",
    "colour_scale",
    "decode_intensity_chart",
    "decode_latency_chart",
    "fit_matrix_chart",
    "frontier_chart",
    "gemv_chart",
    "growth_chart",
    "log_axis",
    "memory_bars_chart",
    "moe_batch_chart",
    "op_explorer_chart",
    "pow2_axis",
    "quantization_chart",
    "ratio_chart",
    "responsive",
    "roofline_chart",
    "share_chart",
    "speculative_chart",
    "sweep_chart",
    "tp_chart",
    "training_calculator_chart",
    "years_to_dates",
]

_stable_ids.install()  # in a notebook kernel: chart and table ids from their content, not random
