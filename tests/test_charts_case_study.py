"""Reader conventions (#17) of the case-study, measured and roofline charts: axes, legends, palette, controls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from memwall import charts, cost
from memwall.charts import case_study as cs_charts
from memwall.charts import palette
from memwall.roofline import Ceilings
from memwall.wall import case_study
from memwall.widths import FP32

LABELS = [palette.category_label(c) for c in cost.CATEGORIES]


def _layers(spec: dict) -> list[dict]:
    return spec.get("layer", [spec])


def test_category_order_is_the_cost_models():
    assert cs_charts.CATEGORIES == cost.CATEGORIES


def test_category_colour_uses_the_book_palette_in_category_order():
    scale = cs_charts.category_colour().to_dict()["scale"]
    assert scale["domain"] == LABELS
    assert scale["range"] == [palette.colour_of(c) for c in cost.CATEGORIES]


def test_sweep_chart_axes_legends_and_width():
    sweep = case_study.length_sweep(case_study.SURVEY_MODELS, [128, 1024, 4096])
    cmp = case_study.survey_case_study()
    spec = charts.sweep_chart(sweep, metric="intensity", y_title="I [FLOP/B]",
                              published=case_study.published_totals(cmp, "intensity", "Fig. 6"),
                              published_label="survey").to_dict()
    assert spec["width"] == "container" and "title" not in spec
    lines, points = spec["layer"]
    x_axis = lines["encoding"]["x"]["axis"]
    assert x_axis["values"] == [2.0**k for k in range(7, 13)] and "1024" in x_axis["labelExpr"]
    y_ticks = lines["encoding"]["y"]["axis"]["values"]
    assert all(np.log10(v) == round(np.log10(v)) for v in y_ticks)
    assert lines["encoding"]["color"]["legend"]["symbolType"] == "stroke"
    assert points["encoding"]["shape"]["scale"] == {"domain": ["survey"], "range": ["diamond"]}
    with pytest.raises(ValueError, match="lacks column"):
        charts.sweep_chart(sweep.drop(columns="seq_len"), metric="intensity", y_title="I")


def test_share_chart_fits_a_phone_and_stacks_in_category_order():
    shares = case_study.category_breakdown({"BERT-Base": ("bert-base", "encode"), "GPT-2": ("gpt2", "generate")},
                                           [128, 4096])
    spec = charts.share_chart(shares, share="flops_share").to_dict()
    inner = spec["spec"]
    assert 2 * inner["width"] + 80 <= 358  # two panels and the y axis in a 390 px phone's column
    assert inner["encoding"]["color"]["scale"]["domain"] == LABELS
    assert inner["encoding"]["order"]["field"] == "category_rank"
    assert "1024" in inner["encoding"]["x"]["axis"]["labelExpr"]
    with pytest.raises(ValueError, match="unknown operation categories"):
        charts.share_chart(shares.assign(category="attention"), share="flops_share")


def _grid() -> pd.DataFrame:
    return case_study.operation_grid({"BERT-Base": "bert-base", "GPT-2": "gpt2"},
                                     {"prefill": ("prefill", 64), "decode": ("decode", 64)},
                                     {"fp16": (2.0, 2.0, 2.0), "int8": (1.0, 1.0, 1.0)})


def test_op_explorer_offers_only_the_phases_a_model_has_and_fixes_the_domain():
    grid = _grid()
    spec = charts.op_explorer_chart(grid).to_dict()
    upper, lower = spec["vconcat"]
    assert len(upper["layer"]) == 1  # every offered (model, phase) has every precision: no message layer
    dots = upper["layer"][0]
    lo, hi = dots["encoding"]["x"]["scale"]["domain"]
    positive = grid.loc[grid["intensity"] > 0, "intensity"]
    assert lo <= positive.min() and hi >= positive.max() and np.log10(lo) == round(np.log10(lo))
    assert upper["width"] == lower["width"] == "container" and spec["autosize"]["type"] == "fit-x"
    assert lower["encoding"]["x"]["scale"]["domain"] == [0, 1]
    params = {p["name"]: p for p in spec["params"]}
    assert set(params) == {"case_pick", "prec_pick"}
    # the encoder is offered its prefill only: no combination of the menus draws an empty chart
    assert params["case_pick"]["bind"]["options"] == ["BERT-Base: prefill", "GPT-2: prefill", "GPT-2: decode"]
    assert params["prec_pick"]["bind"]["options"] == ["fp16", "int8"]


def test_op_explorer_message_for_a_missing_precision_and_rejects_empty_data():
    grid = _grid()
    partial = grid[~((grid["model"] == "GPT-2") & (grid["phase"] == "decode") & (grid["precision"] == "int8"))]
    spec = charts.op_explorer_chart(partial).to_dict()
    note = spec["vconcat"][0]["layer"][1]
    messages = pd.DataFrame(spec["datasets"][note["data"]["name"]])
    assert messages.to_dict("records") == [{"case": "GPT-2: decode", "precision": "int8",
                                            "text": "no int8 counts for GPT-2: decode.\nChoose another precision."}]
    with pytest.raises(ValueError, match="positive intensity"):
        charts.op_explorer_chart(grid.assign(intensity=0.0))


def _ops() -> pd.DataFrame:
    return pd.concat([cost.cost_table("bert-base", "encode", 128, 1, widths=FP32).assign(label="encode"),
                      cost.cost_table("gpt2", "decode", 128, 1, widths=FP32).assign(label="decode")],
                     ignore_index=True)


def test_roofline_chart_one_precision_has_no_dropdown_and_labels_the_ridge():
    ceil = charts.ceilings_frame([Ceilings(2e11, 3e10, "here", "fp32"), Ceilings(6e13, 3e12, "there", "fp32")])
    spec = charts.roofline_chart(_ops(), ceil).to_dict()
    params = {p["name"]: p for p in spec["params"]}
    assert "bind" in params["roofline_device"] and "bind" not in params["roofline_precision"]
    assert spec["width"] == "container"
    texts = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]
    assert any("ridge point" in layer["transform"][-1]["calculate"] for layer in texts)
    dots = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "point" and "shape" in layer["encoding"]
                and "field" in layer["encoding"]["shape"])
    assert dots["encoding"]["color"]["scale"]["domain"] == LABELS
    assert dots["encoding"]["shape"]["scale"]["range"] == ["circle", "square"]
    titles = {t["title"] for t in dots["encoding"]["tooltip"]}
    assert {"operation", "category", "workload", "bound by"} <= titles


def test_roofline_chart_two_precisions_keep_the_dropdown():
    ceil = charts.ceilings_frame([Ceilings(2e11, 3e10, "here", "fp32"), Ceilings(4e11, 3e10, "here", "fp16")])
    params = {p["name"]: p for p in charts.roofline_chart(_ops(), ceil).to_dict()["params"]}
    assert params["roofline_precision"]["bind"]["options"] == ["fp32", "fp16"]


def _sweep() -> pd.DataFrame:
    b = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256, 512])
    intensity = 2048**2 * b / (2 * (2048**2 + 2 * 2048 * b))
    return pd.DataFrame({"batch": b, "intensity_flop_per_byte": intensity, "flop_per_s": intensity * 1e10})


def test_gemv_chart_names_measured_and_bound_and_marks_the_ridge():
    spec = charts.gemv_chart(_sweep(), peak_flop_per_s=2e11, bandwidth_bytes_per_s=2e10).to_dict()
    lines = spec["layer"][0]
    colour = lines["encoding"]["color"]
    assert colour["scale"]["domain"] == ["measured", "roofline bound"]
    assert colour["scale"]["range"] == [palette.colour_of("measured"), palette.colour_of("bound")]
    assert colour["legend"] == lines["encoding"]["strokeDash"]["legend"]  # one merged legend of dashed strokes
    assert colour["legend"]["symbolType"] == "stroke"
    assert lines["encoding"]["x"]["axis"]["values"] == [2.0**k for k in range(10)]
    rule = spec["layer"][1]
    ridge_batch = pd.DataFrame(spec["datasets"][rule["data"]["name"]])["batch"].iloc[0]
    assert 16 < ridge_batch < 32  # intensity 10 FLOP/B between batch 16 (7.9) and 32 (15.8)


def test_gemv_chart_without_ridge_in_range_and_bad_input():
    spec = charts.gemv_chart(_sweep(), peak_flop_per_s=1e15, bandwidth_bytes_per_s=2e10).to_dict()
    assert len(spec["layer"]) == 1
    with pytest.raises(ValueError, match="peak_flop_per_s"):
        charts.gemv_chart(_sweep(), peak_flop_per_s=0.0, bandwidth_bytes_per_s=2e10)
    with pytest.raises(ValueError, match="non-positive"):
        charts.gemv_chart(_sweep().assign(flop_per_s=0.0), peak_flop_per_s=1e11, bandwidth_bytes_per_s=2e10)


def test_the_chapters_colour_words_match_the_category_colours():
    from pathlib import Path

    text = " ".join((Path(__file__).parents[1] / "chapters" / "encoder_decoder.md").read_text().split())
    for category, word in [("projection", "Projections are"), ("act_to_act", "act-to-act (attention)"),
                           ("ffn", "feed-forward"), ("nonlinear", "non-linear operations")]:
        colour_word = palette.COLOUR_WORDS[palette.colour_of(category)]
        assert f"{word} {colour_word}" in text, (category, colour_word)
