"""Charts and tables of the GPU, MLPerf and training-memory chapters follow the book's reading rules (issue 17).

Every chart takes the column's width and has no in-chart title; log axes tick at decades, powers of two label as
1k; measured vs bound and reference lines are labelled; colours come from the book's palette; where a menu
changes the data, the axes keep one domain; tables have human headers and one number format per column.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from memwall import tables
from memwall.charts import gpu, mlperf, palette, training
from memwall.tables.mlperf import load_mlperf_results
from memwall.wall import gpu_reference, mlperf_results, training_bars


@pytest.fixture(scope="module")
def gpu_table() -> pd.DataFrame:
    return tables.load_gpu_reference()


@pytest.fixture(scope="module")
def hw() -> pd.DataFrame:
    return tables.load_hardware()


@pytest.fixture(scope="module")
def bounds() -> pd.DataFrame:
    return mlperf_results.default_bounds()


def _layers(spec: dict) -> list[dict]:
    return spec["layer"]


def _responsive(spec: dict) -> None:
    assert spec["width"] == "container" and spec["autosize"] == {"type": "fit-x", "contains": "padding"}
    assert "title" not in spec
    assert "null" not in json.dumps([lay["encoding"].get("color", {}).get("legend", 0) for lay in spec["layer"]
                                     if "encoding" in lay]), "a layer hides a legend another layer shows"


def _colours(encoding: dict) -> dict[str, str]:
    scale = encoding["color"]["scale"]
    return dict(zip(scale["domain"], scale["range"], strict=True))


def test_gemv_chart_labels_measured_and_bound_and_the_ridge(gpu_table):
    sweep = gpu_reference.gemv_sweep(gpu_table)
    spec = gpu.gemv_sweep_chart(sweep, gpu_reference.measured_gpu_ceilings(gpu_table)).to_dict()
    _responsive(spec)
    _rule, lines, _points, text = _layers(spec)
    assert _colours(lines["encoding"]) == {"measured": palette.BLACK, "our bound": palette.VERMILION}
    assert lines["encoding"]["color"]["legend"]["symbolType"] == "stroke"
    assert lines["encoding"]["strokeDash"]["field"] == "series"
    y_axis = lines["encoding"]["y"]["axis"]
    assert y_axis["values"] == [1.0, 10.0, 100.0, 1000.0] and "TFLOP/s" in y_axis["title"]  # decades only
    x_axis = lines["encoding"]["x"]["axis"]
    assert x_axis["values"][0] == 1.0 and x_axis["values"][-1] == 4096.0 and "1048576" in x_axis["labelExpr"]
    label = spec["datasets"][text["data"]["name"]][0]
    assert label["label"].startswith("ridge point") and 128 < label["batch"] < 512  # the knee of the sweep
    with pytest.raises(ValueError, match="lacks column"):
        gpu.gemv_sweep_chart(sweep.drop(columns="bound_s"), gpu_reference.measured_gpu_ceilings(gpu_table))
    with pytest.raises(ValueError, match="needs values > 0"):
        gpu.gemv_sweep_chart(sweep.assign(time_s=0.0), gpu_reference.measured_gpu_ceilings(gpu_table))


def test_decode_chart_keeps_one_domain_and_four_labelled_series(gpu_table, hw):
    dec = gpu_reference.decode_vs_bound(gpu_table, hw)
    spec = gpu.decode_latency_chart(dec).to_dict()
    _responsive(spec)
    lines, points = _layers(spec)
    colours = _colours(lines["encoding"])
    assert colours["measured, CUDA graph"] == palette.BLACK and colours["bound, measured ceilings"] == palette.VERMILION
    assert len(set(colours.values())) == 4
    top = lines["encoding"]["y"]["scale"]["domain"][1]
    assert top >= 1e3 * dec[["time_s", "bound_measured_s", "bound_datasheet_s"]].max().max() and top % 5 == 0
    assert lines["encoding"]["x"]["scale"]["domain"] == [1.0, 256.0]
    assert points["mark"]["type"] == "point"


def test_gpu_tables_have_human_headers(gpu_table, hw):
    kernels = gpu.ceiling_kernels_table(gpu_reference.median_runs(gpu_table)).to_frame()
    assert list(kernels.columns) == ["Kernel", "Setting", "Throughput [TFLOP/s]", "Bandwidth [TB/s]", "Time [ms]",
                                     "Spread between runs [%]"]
    assert kernels.loc[kernels["Kernel"] == "copy", "Throughput [TFLOP/s]"].iloc[0] == "—"
    prefill = gpu.prefill_table(gpu_reference.prefill_vs_bound(gpu_table, hw))
    assert len(prefill.groups) == 1  # fits the article
    assert prefill.to_frame()["Prompt [tokens]"].tolist() == ["128", "512", "2,048", "8,192"]
    sheet = gpu.datasheet_table(pd.DataFrame({"quantity": ["x [TB/s]"], "measured": [4.37], "datasheet": [4.8]}))
    assert sheet.to_frame().iloc[0].tolist() == ["x [TB/s]", "4.37", "4.8", "91"]
    with pytest.raises(ValueError, match="datasheet values"):
        gpu.datasheet_table(pd.DataFrame({"quantity": ["x"], "measured": [1.0], "datasheet": [0.0]}))


def test_mlperf_charts_use_vendor_colours_and_fixed_domains(bounds, gpu_table, hw):
    spec = mlperf.achieved_vs_bound_chart(bounds).to_dict()
    _responsive(spec)
    points = _layers(spec)[-1]
    colours = _colours(points["encoding"])
    assert colours["NVIDIA"] == palette.GREEN and colours["AMD"] == palette.VERMILION
    assert colours["Google"] == palette.BLUE and len(set(colours.values())) == len(colours)
    scale = points["encoding"]["x"]["scale"]
    assert scale["type"] == "log" and scale["nice"] is False and len(scale["domain"]) == 2
    lab = spec["datasets"][_layers(spec)[1]["data"]["name"]]
    assert {r["label"] for r in lab} == {"100 % of the bound", "10 %"}
    own = mlperf_results.own_h200_fractions(gpu_table, hw)
    spec = mlperf.fraction_chart(bounds, own).to_dict()
    _responsive(spec)
    _rule, text, points = _layers(spec)
    colours = _colours(points["encoding"])
    assert colours == {"MLPerf v4.0": palette.BLUE, "MLPerf v4.1": palette.ORANGE, "this book": palette.BLACK}
    assert palette.COLOUR_WORDS[colours["this book"]] == "black"  # the chapter's prose says so
    domain = points["encoding"]["y"]["scale"]["domain"]
    assert domain[0] <= 100 * bounds["fraction"].min() and domain[1] >= 100
    assert points["encoding"]["x"]["scale"]["domain"][0] == "L40S"  # every accelerator keeps its column
    assert spec["datasets"][text["data"]["name"]][0]["label"] == "our bound (100 %)"
    options = spec["params"][0]["bind"]
    assert options["labels"][1:] == ["GPT-J 6B", "Llama-2-70B", "Mixtral 8x7B"]


def test_mlperf_tables(bounds):
    counts = mlperf.result_counts_table(load_mlperf_results()).to_frame()
    assert counts.columns[:3].tolist() == ["Round", "Submitter", "GPT-J 6B, 99 % accuracy"]
    assert counts["All"].map(lambda v: int(v.replace(",", ""))).sum() == len(load_mlperf_results())
    ranked = bounds[~bounds["duplicate_run"]].sort_values("fraction", ascending=False)
    table = mlperf.results_table(ranked.head(2))
    assert len(table.groups) == 1
    first = table.to_frame().iloc[0]
    assert first["Result"] == "v4.1 NVIDIA 1 x H200 SXM (CTS): llama2-70b-99.9 Offline"
    assert first["Of the bound [%]"] == f"{100 * ranked['fraction'].iloc[0]:.1f}"


def test_training_bars_label_the_gpu_memory():
    spec = training.memory_bars_chart(training_bars.paper_bars_long()).to_dict()
    _responsive(spec)
    bars, _ticks, labels, _names = _layers(spec)
    assert bars["encoding"]["y"]["axis"] is None  # names are drawn above the bars
    assert {r["label"] for r in spec["datasets"][labels["data"]["name"]]} >= {"GPU 3 GB", "GPU 32 GB"}
    assert bars["encoding"]["x"]["scale"]["domain"][1] > 32
    assert _colours(bars["encoding"])["parameters"] == palette.BLUE  # as "weights" on the calculator
    with pytest.raises(ValueError, match="source"):
        training.memory_bars_chart(training_bars.paper_bars_long().assign(source="other"))


def test_training_calculator_keeps_one_y_domain_and_labels_the_device():
    grid = training_bars.calculator_grid({"Llama-3-8B": "llama-3-8b"}, seq_lens=[1024, 4096], micro_batches=[1, 8],
                                         zero_stages=[0, 3], n_gpus=[8], recomputes=["none"])
    devices = pd.DataFrame({"device": ["small", "big"], "memory_bytes": [16e9, 192e9]})
    spec = training.training_calculator_chart(grid, devices).to_dict()
    _responsive(spec)
    bars, _fits, cut, cap, _halo, cap_label = _layers(spec)
    assert bars["encoding"]["y"]["scale"]["domain"] == [0, 300.0]  # 1.5 x 192 GB, rounded up to 100 GB
    assert cap["mark"]["color"] == palette.VERMILION and cap_label["mark"]["type"] == "text"
    assert "↑" in json.dumps(cut["transform"], ensure_ascii=False)
    zero = next(p for p in spec["params"] if p["name"] == "z_pick")
    assert zero["bind"]["labels"][0] == "0 (none)"
    for param in spec["params"]:  # menus of numbers read in order, whatever the order of the grid's rows
        options = param["bind"]["options"]
        if all(isinstance(o, int | float) and not isinstance(o, bool) for o in options):
            assert options == sorted(options), (param["name"], options)
    with pytest.raises(ValueError, match="must not be empty"):
        training.training_calculator_chart(grid, devices.iloc[:0])
    opened = training.training_calculator_chart(grid, devices, device="big").to_dict()
    assert next(p for p in opened["params"] if p["name"] == "d_pick")["value"] == "big"
    with pytest.raises(ValueError, match="device 'nope' is not one of small, big"):
        training.training_calculator_chart(grid, devices, device="nope")


def test_training_tables():
    cmp = training.bar_comparison_table(training_bars.paper_bar_comparison())
    frame = cmp.to_frame()
    assert len(cmp.groups) == 1 and frame.columns[0] == "Model" and frame.columns[3] == "Total, difference [%]"
    assert frame.loc[frame["Model"] == "AlexNet", "Total, ours [GB]"].iloc[0] == "—"
    steps = pd.DataFrame({"setting": ["a"], "weights_gb": [16.06], "gradients_gb": [16.06], "optimizer_gb": [96.4],
                          "activations_gb": [10.0], "total_gb": [138.6]})
    assert training.mitigation_table(steps).to_frame().iloc[0].tolist() == ["a", "139", "16.1", "16.1", "96.4", "10.0"]
