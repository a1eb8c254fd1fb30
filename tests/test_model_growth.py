"""Model-size / compute tables and fits: shipped tables validate, the paper's rates are reproduced, bad rows fail."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from memwall import tables
from memwall.tables import DataValidationError
from memwall.wall import model_growth

from .conftest import DATA


def test_paper_points_counts():
    pts = tables.load_paper_model_points()
    counts = pts.groupby(["figure", "series"]).size().to_dict()
    assert counts == {("model_size", "transformer"): 10, ("model_size", "cnn"): 5, ("model_size", "recsys"): 1,
                      ("model_size", "accelerator_memory"): 7, ("training_compute", "transformer"): 10,
                      ("training_compute", "other"): 11}
    assert pts["source_url"].str.startswith("https://github.com/amirgholami/ai_and_memory_wall/").all()


def test_paper_fits_match_vector_fits_and_printed_labels():
    # Vector-coordinate fits (413x, 1.86x, 750.7x per 2 years) and the legend labels of
    # model_size_scaling.pdf / ai_and_compute.pdf (410x, 2x, 750x), github.com/amirgholami/ai_and_memory_wall.
    fits = model_growth.paper_model_fits().set_index("quantity")["per_2_years"]
    assert fits["transformer_params"] == pytest.approx(413.0, rel=0.03)
    assert fits["accelerator_memory"] == pytest.approx(1.86, rel=0.03)
    assert fits["transformer_training_compute"] == pytest.approx(750.7, rel=0.03)
    assert round(fits["transformer_params"], -1) == 410
    assert round(fits["accelerator_memory"]) == 2
    assert round(fits["transformer_training_compute"], -1) == 750
    assert fits["cv_nlp_speech_training_compute"] == pytest.approx(14.8, rel=0.03)


def test_models_table():
    m = tables.load_models()
    assert m["name"].is_unique and len(m) >= 30
    assert set(m["architecture"]) == {"dense", "moe"}
    assert m["year"].max() < 2026
    dense = m[m["architecture"] == "dense"]
    assert (dense["active_params_billion"] == dense["total_params_billion"]).all()
    gpt3 = m.set_index("name").loc["GPT-3"]
    # 6·N·D = 6 x 175e9 x 300e9 = 3.15e23, vs 3.14e23 published (Brown et al. 2020, Table D.1).
    assert gpt3["training_flop_6nd"] == pytest.approx(3.15e23)
    assert gpt3["training_flop"] == pytest.approx(3.14e23)
    assert "GPT-4" not in set(m["name"])  # no primary parameter count exists


def test_paper_training_memory_table():
    bars = tables.load_paper_training_memory()
    assert len(bars) == 8
    assert (bars["total_gb"] <= bars["gpu_limit_gb"]).all()
    assert bars.set_index("model").loc["AlexNet", "readme_total_gb"] == 1.71  # the README typo, kept visibly


def test_growth_by_window_rows_and_windows():
    out = model_growth.growth_by_window({"paper era": (2017, 2021), "to 2025": (2017, 2025)})
    assert list(out["rows"].unique()) == list(model_growth.PARAM_ROW_SETS)
    assert len(out) == 6
    assert (out["n_points"] >= 2).all() and np.isfinite(out["per_2_years"]).all()
    # Counting MoE at active parameters can only lower or keep each point, never raise the count of points.
    by = out.set_index(["rows", "window"])["n_points"]
    assert by["moe_active", "2017-2025"] <= by["moe_total", "2017-2025"]
    with pytest.raises(ValueError, match="rows='moe' is not known; allowed: dense, moe_total, moe_active"):
        model_growth.growth_by_window([(2017, 2021)], rows=["moe"])
    with pytest.raises(ValueError, match="first_year=2025 is after last_year=2017"):
        model_growth.growth_by_window([(2025, 2017)])


def test_accelerator_memory_is_converted_from_gib():
    series = model_growth.accelerator_memory_series(rule="records")
    assert np.allclose(series["memory_gb"], series["memory_capacity_gib"] * 2**30 / 1e9)
    assert series["memory_gb"].is_monotonic_increasing
    per_year = model_growth.accelerator_memory_series(rule="max_per_year")
    assert per_year["date"].dt.year.is_unique
    growth = model_growth.accelerator_memory_growth([(2016, 2025)])
    assert set(growth["rule"]) == {"max_per_year", "records"}
    assert growth["per_2_years"].between(1.3, 3.0).all()
    with pytest.raises(ValueError, match="rule='median' is not known"):
        model_growth.accelerator_memory_series(rule="median")


def test_inference_fit_units():
    models = pd.DataFrame({"name": ["m70", "m405"], "total_params_billion": [70.0, 405.0]})
    hw = pd.DataFrame({"device": ["gpu80"], "kind": ["gpu"], "memory_capacity_gib": [80.0]})
    out = model_growth.inference_fit(models, hw).set_index(["name", "precision"])
    # 80 GiB = 85.899 GB; 70B params x 2 B = 140 GB (no), x 1 B = 70 GB (yes); 405B x 0.5 B = 202.5 GB (no).
    assert out.loc[("m70", "fp16"), "device_memory_bytes"] == 80 * 2**30
    assert not out.loc[("m70", "fp16"), "fits"] and out.loc[("m70", "int8"), "fits"]
    assert out.loc[("m405", "int4"), "weights_bytes"] == pytest.approx(202.5e9)
    assert not out.loc[("m405", "int4"), "fits"]
    with pytest.raises(ValueError, match="precision='fp12' is not known; allowed: fp32, bf16"):
        model_growth.inference_fit(models, hw, precisions=["fp12"])


# ---------------------------------------------------------------------------------------------
# Bad rows: copy a table, break one cell, expect file, line and column in the message.


def _broken(tmp_path: Path, name: str, row: int, column: str, value: str) -> Path:
    path = tmp_path / name
    shutil.copy(DATA / name, path)
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[row][column] = value
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize(("name", "loader", "row", "column", "value", "reason"), [
    ("models.csv", tables.load_models, 3, "total_params_billion", "-1", "must be > 0"),
    ("models.csv", tables.load_models, 3, "architecture", "sparse", "must be one of: dense, moe"),
    ("models.csv", tables.load_models, 3, "source_url", "arxiv 1810.04805", "must be one http(s):// URL"),
    ("models.csv", tables.load_models, 3, "date", "2018-13-01", "must be a date"),
    ("models.csv", tables.load_models, 3, "training_flop", "lots", "is not a number"),
    ("paper_model_points.csv", tables.load_paper_model_points, 2, "series", "lstm", "must be one of"),
    ("paper_training_memory.csv", tables.load_paper_training_memory, 0, "batch", "-128", "must be > 0"),
])
def test_bad_cell_is_named(tmp_path, name, loader, row, column, value, reason):
    path = _broken(tmp_path, name, row, column, value)
    with pytest.raises(DataValidationError) as err:
        loader(path)
    msg = str(err.value)
    assert f"{name}: line {row + 2}" in msg and f"column {column!r}" in msg and reason in msg


@pytest.mark.parametrize(("name", "loader", "row", "column", "value", "rule"), [
    ("models.csv", tables.load_models, 3, "active_params_billion", "0.1", "active_params_billion = total"),
    ("models.csv", tables.load_models, 21, "active_params_billion", "99", "must not exceed"),
    ("paper_model_points.csv", tables.load_paper_model_points, 16, "plotted_value", "3.0", "memory_gb / 6"),
    ("paper_model_points.csv", tables.load_paper_model_points, 0, "plotted_unit", "training_pflop", "plotted_unit"),
    ("paper_training_memory.csv", tables.load_paper_training_memory, 7, "optimizer_gb", "11.62", "must equal total_gb"),
])
def test_bad_row_rule_is_named(tmp_path, name, loader, row, column, value, rule):
    path = _broken(tmp_path, name, row, column, value)
    with pytest.raises(DataValidationError) as err:
        loader(path)
    msg = str(err.value)
    assert f"{name}: line {row + 2}" in msg and rule in msg


def test_every_column_is_documented(root):
    dictionary = (root / "data" / "README_models.md").read_text(encoding="utf-8")
    for rules in (tables.MODEL_RULES, tables.PAPER_MODEL_POINT_RULES, tables.PAPER_TRAINING_MEMORY_RULES):
        for column in rules:
            assert f"`{column}`" in dictionary, f"data/README_models.md does not document column {column!r}"
