"""The survey module: sweeps and breakdowns agree with the per-configuration cost table."""

from __future__ import annotations

import numpy as np
import pytest

from memwall import charts, cost, cost_totals
from memwall.wall import case_study
from memwall.widths import INT8


def test_length_sweep_matches_cost_table():
    sweep = case_study.length_sweep(case_study.SURVEY_MODELS, [128, 1024]).set_index(["model", "seq_len"])
    for model, (preset, phase) in case_study.SURVEY_MODELS.items():
        tab = cost_totals.totals(cost.cost_table(preset, phase, 1024, 1, widths=INT8))
        assert sweep.loc[(model, 1024), "flops"] == pytest.approx(float(tab["flops"].iloc[0]))
        assert sweep.loc[(model, 1024), "bytes"] == pytest.approx(float(tab["bytes"].iloc[0]))


def test_category_shares_sum_to_one():
    shares = case_study.category_breakdown({"GPT-2": ("gpt2", "generate")}, [128, 4096])
    sums = shares.groupby("seq_len")[["flops_share", "bytes_share"]].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0)
    assert set(shares["category"]) == set(cost.CATEGORIES)


def test_operation_grid_and_explorer_chart():
    grid = case_study.operation_grid({"GPT-2": "gpt2"}, {"decode": ("decode", 16)}, {"fp16": (2.0, 2.0, 2.0),
                                                                                "int8": (1.0, 1.0, 1.0)})
    assert set(grid["precision"]) == {"fp16", "int8"}
    spec = charts.op_explorer_chart(grid).to_dict()
    params = {p["name"] for p in spec["params"]}
    assert params == {"case_pick", "prec_pick"}


def test_sweep_and_share_charts():
    sweep = case_study.length_sweep(case_study.SURVEY_MODELS, [128, 256])
    spec = charts.sweep_chart(sweep, metric="intensity", y_title="I").to_dict()
    assert spec["layer"][0]["encoding"]["x"]["scale"] == {"type": "log", "base": 2}
    shares = case_study.category_breakdown({"GPT-2": ("gpt2", "generate")}, [128])
    assert charts.share_chart(shares, share="bytes_share").to_dict()["facet"]
    with pytest.raises(ValueError, match="share='x' is not known"):
        charts.share_chart(shares, share="x")


def test_bert_large_check_columns():
    check = case_study.bert_large_check()
    assert list(check["seq_len"]) == [128, 256, 512, 1024, 2048, 4096]
    assert (check["without_one_proj_pct"].abs() < check["ours_pct"].abs()).all()


def test_published_totals_and_agreement_counts():
    cmp = case_study.survey_case_study()
    pub = case_study.published_totals(cmp, "gflops", "Fig. 4")
    assert set(pub["model"]) == {"BERT-Base", "BERT-Large", "GPT-2"} and len(pub) == 18
    counts = case_study.agreement_counts(cmp, ["BERT-Base", "GPT-2"])
    assert counts["n"] >= counts["agree"] >= counts["within_2pct"] > 0
    with pytest.raises(ValueError, match=r"no published total of metric='gflops' in source_table='Fig\. 99'"):
        case_study.published_totals(cmp, "gflops", "Fig. 99")
