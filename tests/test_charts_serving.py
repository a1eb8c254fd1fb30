"""The serving and "beyond" charts and tables follow the book's reading rules (issue #17).

Charts: no in-chart title, the width of the page's column, log axes ticked at decades or powers of two with
fixed domains, words (not booleans) in legends, human tooltip titles, labelled reference lines and a named,
non-empty control. Tables: human headers with units, no snake_case, words for flags, no index.
"""

from __future__ import annotations

import json
import re

import altair as alt
import numpy as np
import pandas as pd
import pytest

from memwall import serving, specs, tables
from memwall.beyond import attention_cost, moe_decode, speculative_grid, tensor_parallel
from memwall.book import A100, B200, H100, H200, MI300X
from memwall.charts import beyond as bc
from memwall.charts import beyond_serving as bsc
from memwall.charts import serving as sc
from memwall.charts.palette import BLUE, VERMILION, colour_of

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


@pytest.fixture(scope="module")
def hw() -> pd.DataFrame:
    return tables.load_hardware()


@pytest.fixture(scope="module")
def quant(hw) -> pd.DataFrame:
    return serving.quantization_table(hw, ["gpt2", "llama-3-8b", "llama-3-70b"], [A100, H100],
                                      ["W16A16", "W8A16", "W4A16", "W8A8", "FP8"], 1024)


@pytest.fixture(scope="module")
def ridges(hw) -> pd.DataFrame:
    devices = [A100, H100, B200]
    return pd.DataFrame({"device": devices, "ridge_flop_per_byte": [
        serving.ceilings_for(hw, d, "W16A16").ridge_flop_per_byte for d in devices]})


# ------------------------------------------------------------------------------------------------ helpers
def _views(node):
    if isinstance(node, dict):
        yield node
        for key in ("layer", "hconcat", "vconcat", "concat"):
            for child in node.get(key, []):
                yield from _views(child)


def _encodings(spec: dict) -> list[tuple[str, dict]]:
    return [(ch, enc) for view in _views(spec) for ch, enc in (view.get("encoding") or {}).items()
            if isinstance(enc, dict)]


def _readable(spec: dict) -> None:
    """The reading rules every chart of these pages keeps."""
    assert "title" not in spec, "the title belongs in the figure's caption"
    assert spec["width"] == "container" and spec["autosize"]["type"] == "fit-x"
    text = json.dumps(spec)
    assert '"true"' not in text.lower() and "fits in memory: " not in text
    for channel, enc in _encodings(spec):
        if channel == "tooltip":
            for tip in enc if isinstance(enc, list) else [enc]:
                if isinstance(tip, dict) and "field" in tip:
                    assert tip.get("title"), f"tooltip {tip['field']} has no human title"
        if channel in ("x", "y") and (enc.get("scale") or {}).get("type") == "log" and enc.get("axis"):
            axis = enc["axis"]
            assert "domain" in enc["scale"], f"{channel} log scale without a fixed domain"
            lo, hi = enc["scale"]["domain"]
            if enc["scale"].get("base") == 2:
                assert np.log2(lo) == round(np.log2(lo)) and np.log2(hi) == round(np.log2(hi))
                assert all(np.log2(v) == round(np.log2(v)) for v in axis["values"])
            else:  # ticks at the decades of the domain, nothing between them
                assert axis["values"] == [float(10.0**k) for k in range(round(np.log10(lo)), round(np.log10(hi)) + 1)]
    for param in spec.get("params", []):
        if "bind" in param:
            assert param["bind"].get("name", "").strip(), f"control {param['name']} has no label"


def _texts(spec: dict) -> list[str]:
    return [json.dumps(v) for v in _views(spec) if (v.get("mark") or {}).get("type") == "text"]


# ------------------------------------------------------------------------------------------ quantization
def test_quantization_chart_reads(quant):
    weight_only = quant[quant["scheme"].isin(["W16A16", "W8A16", "W4A16"])]
    spec = sc.quantization_chart(weight_only, device=H100).to_dict()
    _readable(spec)
    assert spec["params"][0]["value"] == H100  # opens on the device the prose uses
    assert spec["params"][0]["bind"]["labels"] == ["A100 SXM4 80GB", "H100 SXM5 80GB"]
    colour = next(enc for ch, enc in _encodings(spec) if ch == "color")
    assert colour["scale"]["range"] == [colour_of("bf16"), colour_of("int8"), colour_of("int4")]
    shape = next(enc for ch, enc in _encodings(spec) if ch == "shape")
    assert shape["scale"]["domain"] == [sc.FITS, sc.NO_FIT]
    with pytest.raises(ValueError, match=r"weight-only schemes.*FP8"):
        sc.quantization_chart(quant)
    with pytest.raises(ValueError, match="device 'nope' is not in the data"):
        sc.quantization_chart(weight_only, device="nope")
    with pytest.raises(ValueError, match="lacks column"):
        sc.quantization_chart(weight_only.drop(columns="fits"))


def test_quantization_tables(quant, hw):
    times = sc.quantization_times_table(quant).to_frame()
    assert list(times.columns) == ["Model", "Scheme", "A100 [ms]", "H100 [ms]"]
    fp8_a100 = times[(times["Model"] == "GPT-2 (124M)") & (times["Scheme"] == "FP8")]["A100 [ms]"].iloc[0]
    assert fp8_a100 == "—"  # no FP8 peak on an A100
    crit = serving.critical_batch_table(hw, [H100], ["W16A16", "W8A16", "W4A16"]).set_index("scheme")
    ridge = sc.ridge_by_scheme_table(crit).to_frame()
    assert list(ridge.columns) == ["Quantity", "W16A16", "W8A16", "W4A16"]
    assert ridge["Quantity"].tolist()[0] == "critical batch [sequences]"
    assert ridge.loc[0, "W16A16"] == "295" and ridge.loc[3, "W16A16"] == "3.35"
    with pytest.raises(ValueError, match="repeats a scheme"):
        sc.ridge_by_scheme_table(serving.critical_batch_table(hw, [H100, A100], ["W16A16"]))


# ---------------------------------------------------------------------------------------------- batching
def test_batching_tables(hw):
    intensity = pd.DataFrame({"batch": [1, 4], "weight_matmuls": [0.99, 3.97], "whole_step": [0.98, 3.5]})
    frame = sc.intensity_by_batch_table(intensity.set_index("batch")).to_frame()
    assert list(frame.columns) == ["Batch [sequences]", "Weight matmuls [FLOP/B]", "Whole decode step [FLOP/B]"]
    crit = serving.critical_batch_table(hw, [A100, H100], ["W16A16", "W8A16"])
    frame = sc.critical_batch_by_device_table(crit).to_frame()
    assert frame.columns[1] == "Critical batch, W16A16 [sequences]" and frame.iloc[1, 1] == "295"
    kv = pd.DataFrame({"attention": ["GQA"], "kv_bytes_per_token": [131072.0], "max_batch_4k": [100],
                       "max_batch_32k": [12]}).set_index("attention")
    frame = sc.kv_variants_table(kv).to_frame()
    assert frame.iloc[0].tolist() == ["GQA", "131,072", "100", "12"]
    assert frame.columns[2] == "Max batch at 4,096 tokens"
    for table in (frame,):
        assert not any(SNAKE.search(c) for c in table.columns)
    with pytest.raises(ValueError, match="max_batch_<n>k"):
        sc.kv_variants_table(kv[["kv_bytes_per_token"]])


def test_frontier_chart_reads(hw):
    grid = serving.frontier_grid(hw, "llama-3-8b", [A100, H100], [1024, 4096], "W16A16", tuple(range(6)))
    spec = sc.frontier_chart(grid, device=H100).to_dict()
    _readable(spec)
    params = {p["name"]: p for p in spec["params"]}
    assert params["f_device"]["value"] == H100
    assert params["f_context"]["bind"]["options"] == [1024, 4096]
    assert params["f_context"]["bind"]["labels"] == ["1,024", "4,096"]
    colour = next(enc for ch, enc in _encodings(spec) if ch == "color")
    assert colour["scale"] == {"domain": [sc.FITS, sc.NO_FIT], "range": [BLUE, VERMILION]}
    assert any("'batch '" in t for t in _texts(spec))  # the ringed batch is named in the plot
    with pytest.raises(ValueError, match="grid is empty"):
        sc.frontier_chart(grid.iloc[:0])


def test_axis_helpers():
    assert sc.decade_domain([0.013, 68.0]) == [0.01, 100.0]
    assert sc.decade_domain([1.0, 295.0], pad=1.5) == [0.1, 1000.0]
    assert sc.pow2_domain([3, 1000]) == [2.0, 1024.0]
    axis = sc.fitted_pow2_axis([128, 131072], "cached tokens").to_dict()
    assert axis["values"][0] == 128.0 and axis["values"][-1] == 131072.0 and len(axis["values"]) == 11
    assert "width" in axis["labelExpr"]  # fewer labels on a narrow chart, never two that touch
    for bad in ([], [0, 4], [np.inf]):
        with pytest.raises(ValueError):
            sc.pow2_domain(bad)
    with pytest.raises(ValueError, match="pad"):
        sc.decade_domain([1.0], pad=0.5)
    assert sc.chip_name(H100) == "H100" and sc.chip_name(MI300X) == "MI300X"
    assert sc.chip_name("H100 PCIe 80GB (Hopper)") == "H100 PCIe"


# ------------------------------------------------------------------------------------------- model side
def test_ridge_labels_merge_close_ridges(ridges):
    labels = bc.ridge_labels(ridges)
    assert labels["label"].tolist() == ["A100 ridge 153 FLOP/B", "B200, H100 ridges 292, 295 FLOP/B"]
    assert labels["ridge_flop_per_byte"].iloc[-1] == ridges["ridge_flop_per_byte"].max()
    apart = bc.ridge_labels(ridges, merge_ratio=1.01)
    assert len(apart) == 3
    with pytest.raises(ValueError, match="merge_ratio"):
        bc.ridge_labels(ridges, merge_ratio=1.0)
    with pytest.raises(ValueError, match="finite and > 0"):
        bc.ridge_labels(ridges.assign(ridge_flop_per_byte=0.0))


def test_model_side_charts_read(ridges):
    decoders = {"Llama-3-70B, GQA": specs.MoESpec.from_model_spec(specs.get_preset("llama-3-70b")),
                "DeepSeek-V3": specs.get_moe("deepseek-v3")}
    grid = moe_decode.decode_step_grid(decoders, 2 ** np.arange(7, 10), 2 ** np.arange(0, 3))
    spec = bc.decode_intensity_chart(grid, ridges).to_dict()
    _readable(spec)
    labels = json.dumps(spec["datasets"])  # the rule labels are data of a text layer
    assert "B200, H100 ridges 292, 295 FLOP/B" in labels and "A100 ridge 153 FLOP/B" in labels
    assert len(_texts(spec)) == 2  # the ridge labels and the batch in the corner
    with pytest.raises(ValueError, match="powers of two"):
        bc.decode_intensity_chart(grid.assign(batch=grid["batch"] + 2), ridges)
    moe = specs.get_moe("mixtral-8x7b")
    pair = {"Mixtral (MoE)": moe, "dense, same active size as Mixtral": moe.dense_equivalent()}
    moe_grid = moe_decode.decode_step_grid(pair, 2 ** np.arange(7, 9), 2 ** np.arange(0, 4)).assign(pair="Mixtral")
    spec = bc.moe_batch_chart(moe_grid, ridges).to_dict()
    _readable(spec)
    params = {p["name"]: p for p in spec["params"]}
    assert params["moe_context"]["bind"]["options"] == [128, 256]
    # narrow two-line ridge labels at the left, where the curves are low; the lowest under its rule, the next above
    texts = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]
    assert spec["layer"][-1] is texts[-1]  # labels over the lines, each over a white halo of itself
    assert [t["mark"].get("stroke") for t in texts] == ["white", None, "white", None]
    ridge_texts = [t for t in texts if "stroke" not in t["mark"]]
    assert [t["mark"]["baseline"] for t in ridge_texts] == ["top", "bottom"]
    assert [spec["datasets"][t["data"]["name"]][0]["label"] for t in ridge_texts] == [
        "A100 ridge\n153 FLOP/B", "B200, H100 ridges\n292, 295 FLOP/B"]
    assert all(t["mark"]["lineBreak"] == "\n" for t in ridge_texts)
    # two-line labels above their rules are twice as tall: ridges within 3x of each other share one
    four = pd.concat([ridges, pd.DataFrame({"device": ["X"], "ridge_flop_per_byte": [600.0]})], ignore_index=True)
    layers = bc._ridge_layers(four, "batch", alt.Scale(type="log"), 1, alt.Scale(type="log"), stacked=True)
    assert [layer.data["label"].tolist() for layer in layers[2::2]] == [
        ["A100 ridge\n153 FLOP/B"], ["B200, H100, X ridges\n292, 295, 600 FLOP/B"]]
    assert "mixture of experts" in json.dumps(spec)


def test_model_side_tables():
    llama = specs.variants_of("llama-3-70b")
    kv = attention_cost.kv_table({"Llama-3-70B, GQA": llama["GQA"], "DeepSeek-V3, MLA": specs.get_attention(
        "deepseek-v3")}, kv_bytes=2.0)
    frame = bc.kv_attention_table(kv).to_frame()
    assert frame.columns.tolist() == ["Model and attention", "KV cache per token [B]", "Attention intensity [FLOP/B]",
                                      "Query heads"]
    assert frame.iloc[1].tolist() == ["DeepSeek-V3, MLA", "70,272", "242", "128"]
    moe = moe_decode.moe_table({"Mixtral 8x7B": "mixtral-8x7b"}, batches=(1, 8))
    frame = bc.moe_summary_table(moe, batches=(1, 8)).to_frame()
    assert list(frame.columns) == ["Quantity", "Mixtral 8x7B"]
    assert frame.set_index("Quantity").loc["routed experts per MoE layer", "Mixtral 8x7B"] == "8"
    with pytest.raises(ValueError, match="distinct_64"):
        bc.moe_summary_table(moe, batches=(1, 64))


# ----------------------------------------------------------------------------------- serving and hardware
def test_speculative_chart_and_table_read(hw):
    grid = speculative_grid.speculative_grid(hw, "llama-3-70b", "llama-3-8b", [H200, B200], [0.5, 0.8], [0, 1, 2])
    spec = bsc.speculative_chart(grid, device=B200).to_dict()
    _readable(spec)
    assert spec["params"][0]["value"] == B200
    texts = " ".join(_texts(spec))
    assert "plain decoding" in texts and "fastest: k = " in texts
    ceil = serving.ceilings_for(hw, H200, "W16A16")
    best = speculative_grid.best_k("llama-3-70b", "llama-3-8b", ceil, [0.5, 0.8], k_max=4)
    frame = bsc.best_k_table(best).to_frame()
    assert frame.columns[0] == "Acceptance rate α [%]" and frame.iloc[0, 0] == "50"
    assert not any(SNAKE.search(c) for c in frame.columns)


def test_tp_chart_and_table_read(hw):
    h100 = serving.ceilings_for(hw, H100, "W16A16")
    sweep = tensor_parallel.tp_sweep("llama-3-70b", h100, [1, 2, 4, 8], 450e9, 0.47e-6,
                                     memory_bytes=serving.device_memory_bytes(hw, H100))
    spec = bsc.tp_chart(sweep.assign(setup="H100 over NVLink", log2_batch=0)).to_dict()
    _readable(spec)
    opacity = next(enc for ch, enc in _encodings(spec) if ch == "opacity")
    assert opacity["scale"]["domain"] == ["fits", "does not fit"]
    frame = bsc.tp_table({"NVLink 4.0": sweep}, chips=(1, 8)).to_frame()
    assert frame.columns.tolist() == ["Link", "Chips N", "Time per token [ms]", "One chip's step [ms]",
                                      "All-reduces [ms]", "Weights fit in one chip"]
    assert frame["Weights fit in one chip"].tolist() == ["no", "yes"]
    with pytest.raises(ValueError, match="lacks chip count"):
        bsc.tp_table({"NVLink 4.0": sweep}, chips=(16,))
