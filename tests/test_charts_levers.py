"""Charts and tables of the lever chapters (pruning, on-chip, memory hierarchy, lean optimizers) follow the
conventions of issue #17: container width and no in-chart title, human tooltip titles, palette colours, one legend
whose swatches match the marks, fixed domains under a menu, decade and power-of-two axes, reader tables."""

from __future__ import annotations

import re
from collections.abc import Iterator

import altair as alt
import numpy as np
import pandas as pd
import pytest

from memwall import serving, tables
from memwall.book import A100, H100, H200
from memwall.charts import levers_offload as offload_charts
from memwall.charts import levers_onchip as onchip_charts
from memwall.charts import levers_optimizers as opt_charts
from memwall.charts import levers_sparsity as sparsity_charts
from memwall.charts.palette import NAMED_COLOURS
from memwall.charts.theme import PALETTE
from memwall.claims import lean_optimizers as lean
from memwall.claims import memory_hierarchy as mh
from memwall.claims.onchip_small_models import GROQ, spread_70b_on_groq
from memwall.levers import offload, offload_batch, onchip, recommendation, sparsity_model
from memwall.reader_table import ReaderTable
from memwall.tables.memory_tiers import load_memory_tiers
from memwall.tables.onchip import load_onchip
from memwall.tables.optimizer_memory import load_optimizer_memory
from memwall.tables.pruning import load_pruning_results
from memwall.tables.recommendation import load_recommendation_models
from memwall.wall import training_bars
from memwall.widths import BF16, ByteWidths

ALLOWED = {c.upper() for c in (*PALETTE, *NAMED_COLOURS.values())}


# ------------------------------------------------------------------------------------------- helpers


def _walk(node: object) -> Iterator[dict]:
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def _encodings(spec: dict) -> Iterator[dict]:
    for node in _walk(spec):
        if isinstance(node.get("encoding"), dict):
            yield node["encoding"]


def _check_conventions(chart: alt.TopLevelMixin) -> dict:
    """The checks every chart of these chapters passes; returns the spec."""
    spec = chart.to_dict()
    assert spec.get("width") == "container" and spec["autosize"]["type"] == "fit-x"
    assert "title" not in spec, "the title belongs in the figure caption"
    for enc in _encodings(spec):
        tips = enc.get("tooltip", [])
        for tip in tips if isinstance(tips, list) else [tips]:
            assert tip.get("title"), f"tooltip without a human title: {tip}"
        colour = enc.get("color", {})
        for c in colour.get("scale", {}).get("range", []) if isinstance(colour.get("scale"), dict) else []:
            assert c.upper() in ALLOWED, f"colour {c} is not of the book's palette"
    for node in _walk(spec):
        bind = node.get("bind")
        if isinstance(bind, dict) and bind.get("input") == "select":
            assert len(bind["options"]) > 1, "a menu needs more than one option"
            assert bind.get("name", "").strip(), "a menu needs a short label"
    return spec


def _axis_of(spec: dict, channel: str, field: str) -> dict:
    for enc in _encodings(spec):
        ch = enc.get(channel, {})
        if ch.get("field") == field and "axis" in ch:
            return ch
    raise AssertionError(f"no {channel} encoding of {field!r} with an axis")


def _is_decades(values: list[float]) -> bool:
    logs = np.log10(values)
    return bool(np.allclose(logs, np.round(logs)) and np.allclose(np.diff(logs), 1))


def _check_table(table: ReaderTable) -> pd.DataFrame:
    frame = table.to_frame()
    for title in frame.columns:
        assert not re.search(r"[a-z]_[a-z]", title), f"snake_case header {title!r}"
    text = " ".join(frame.astype(str).to_numpy().ravel())
    assert "True" not in text and "False" not in text and "nan" not in text
    numbers = " ".join(frame.loc[:, list(table.numeric)].astype(str).to_numpy().ravel())
    # a float column of whole numbers printed raw ("153.0"): 3 significant digits never end a 3-digit number in .0
    assert not re.search(r"(?<![\d.,])\d{3}\.0(?!\d)", numbers), "an integer printed with .0"
    return frame


# ------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def hw() -> pd.DataFrame:
    return tables.load_hardware()


@pytest.fixture(scope="module")
def h100(hw: pd.DataFrame):
    return serving.ceilings_for(hw, H100, "W16A16")


# ------------------------------------------------------------------------------------------- sparsity


def test_storage_chart_conventions():
    spec = _check_conventions(sparsity_charts.storage_chart(sparsity_model.storage_table()))
    y = _axis_of(spec, "y", "bytes_per_element")
    assert y["scale"]["domain"] == [0, 6.0], "the y axis is fixed over both value widths"
    colours = [enc["color"] for enc in _encodings(spec) if "color" in enc and "field" in enc["color"]]
    assert all(c == colours[0] for c in colours), "one colour encoding (one scale, one legend) in every layer"
    legend = colours[0]["legend"]
    assert legend["symbolType"] == "stroke" and "dense" not in legend["values"] and "2:4" not in legend["values"]
    scale = dict(zip(colours[0]["scale"]["domain"], colours[0]["scale"]["range"], strict=True))
    assert {f: scale[f] for f in scale} == {f: sparsity_charts.FORMAT_COLOURS[f] for f in scale}


def test_speedup_chart_one_legend_and_format_colours(hw, h100):
    bounds = sparsity_model.speedup_table(hw, "llama-2-7b", [H100, A100], context=1024)
    measured = sparsity_charts.measured_points(load_pruning_results())
    spec = _check_conventions(sparsity_charts.speedup_chart(bounds, measured, device=H100))
    assert not any(isinstance(n.get("bind"), dict) for n in _walk(spec)), "no menu: the device hardly matters"
    colours = [enc["color"] for enc in _encodings(spec) if "color" in enc and "field" in enc["color"]]
    shapes = [enc["shape"] for enc in _encodings(spec) if "shape" in enc]
    assert all(c == colours[0] for c in colours) and all(s["field"] == "series" for s in shapes)
    scale = dict(zip(colours[0]["scale"]["domain"], colours[0]["scale"]["range"], strict=True))
    assert scale["measured (published)"] == NAMED_COLOURS["measured"]
    assert scale["bound: 2:4, sparse tensor cores"] == sparsity_charts.FORMAT_COLOURS["2:4"]
    shape = dict(zip(shapes[0]["scale"]["domain"], shapes[0]["scale"]["range"], strict=True))
    assert shape["measured (published)"] == "square" and shape["bound: bitmap, dense math"] == "stroke"
    assert measured["label"].is_unique and measured["label"].str.len().max() <= 22  # fit beside a phone's plot
    with pytest.raises(ValueError, match="not in bounds"):
        sparsity_charts.speedup_chart(bounds, measured, device="no such GPU")


def test_sparsity_tables(h100):
    _check_table(sparsity_charts.formats_table())
    whole = pd.DataFrame({"model": ["a", "a", "b", "b"], "pruning": ["x", "y", "x", "y"],
                          "speedup_bound_batch1": [1.5, 2.0, 1.25, 1.0]})
    frame = _check_table(sparsity_charts.whole_model_table(whole))
    assert list(frame.columns) == ["Pruning", "a [x]", "b [x]"] and frame.iloc[1].tolist() == ["y", "2.00", "1.00"]
    published = sparsity_charts.published_table(sparsity_model.published_vs_bound(load_pruning_results(), h100,
                                                                                   context=1024))
    frame = _check_table(published)
    assert list(frame.columns[:4]) == ["Result", "Measured speed-up [x]", "Our bound [x]", "Measured / bound"]
    assert len(published.groups) <= 2 and "—" in set(frame["Our bound [x]"])
    with pytest.raises(ValueError, match="lacks column"):
        sparsity_charts.whole_model_table(whole.drop(columns="pruning"))


# ------------------------------------------------------------------------------------------- on chip


@pytest.fixture(scope="module")
def onchip_table() -> pd.DataFrame:
    return load_onchip()


def test_tier_bounds_chart_fixed_decade_axes(onchip_table):
    parts, dots = [], []
    for device, host in ((GROQ, 31.5e9), ("Instinct MI300X (CDNA3)", 63e9)):
        row = onchip.onchip_row(onchip_table, device)
        tiers = onchip.device_tiers(onchip_table, device, host_link_bytes_per_s=host)
        for batch in (1, 8):
            parts.append(onchip.tier_bounds(tiers, onchip.device_peak(row), np.logspace(7, 12, 11), batch=batch)
                         .assign(device=device, batch=batch))
            dots.append({"device": device, "batch": batch, "tier": tiers[-1].name, "model": "m",
                         "parameters": 1e10, "tokens_per_s": 10.0})
    table = pd.concat(parts, ignore_index=True)
    spec = _check_conventions(onchip_charts.tier_bounds_chart(table, pd.DataFrame(dots)))
    for channel, field in (("x", "parameters"), ("y", "tokens_per_s")):
        enc = _axis_of(spec, channel, field)
        assert enc["scale"]["type"] == "log" and _is_decades(enc["axis"]["values"])
        assert enc["scale"]["domain"] == [enc["axis"]["values"][0], enc["axis"]["values"][-1]]
    with pytest.raises(ValueError, match="chart would be empty"):
        onchip_charts.tier_bounds_chart(table.assign(fits=table["device"] != GROQ))


def test_chips_needed_chart_and_width_colours(onchip_table):
    chips = onchip.chips_needed_table(["gpt2", "llama-2-70b"], onchip_table,
                                      {"16-bit": BF16, "8-bit": ByteWidths(weight=1.0)},
                                      devices=[GROQ, "Cerebras WSE-3"], weights_only=True)
    spec = _check_conventions(onchip_charts.chips_needed_chart(chips, model="gpt2"))
    x = _axis_of(spec, "x", "chips")
    assert x["scale"]["domain"][0] < 1 <= x["axis"]["values"][0], "a bar of one chip is a visible stub"
    assert _is_decades(x["axis"]["values"])
    colour = next(enc["color"] for enc in _encodings(spec) if enc.get("color", {}).get("field") == "widths")
    assert dict(zip(colour["scale"]["domain"], colour["scale"]["range"], strict=True)) == {
        "16-bit": NAMED_COLOURS["bf16"], "8-bit": NAMED_COLOURS["int8"]}
    with pytest.raises(ValueError, match="not in the table"):
        onchip_charts.chips_needed_chart(chips, model="no-such-model")


def test_onchip_tables(onchip_table):
    frame = _check_table(onchip_charts.onchip_memory_table(onchip_table))
    assert frame.columns[0] == "Device: on-chip memory" and frame.iloc[0, 0].endswith(": L2 cache")
    spread = onchip_charts.spread_table(spread_70b_on_groq())
    frame = _check_table(spread)
    assert len(spread.groups) == 1 and frame.iloc[0, 0] == "8 × 75 = 600"


# ------------------------------------------------------------------------------------------- memory hierarchy


def test_multi_tier_roofline_chart():
    pcie5 = mh.system(offload.SYSTEM_H100_PCIE5)
    bw = {"HBM3 (H100)": pcie5.hbm_bandwidth_bytes_per_s, "PCIe 5.0 x16": pcie5.link_bandwidth_bytes_per_s}
    ceil = offload_batch.tier_ceilings_table(pcie5.peak_flop_per_s, bw, np.logspace(-1, 5, 25))
    pts = pd.DataFrame([offload_batch.roofline_point("decode", "PCIe 5.0 x16", offload.step_traffic(
        "llama-3-8b", 1, 1024), pcie5.peak_flop_per_s, bw["PCIe 5.0 x16"])])
    spec = _check_conventions(offload_charts.multi_tier_roofline_chart(ceil, pts))
    assert _is_decades(_axis_of(spec, "x", "intensity_flop_per_byte")["axis"]["values"])
    with pytest.raises(ValueError, match="not in ceilings"):
        offload_charts.multi_tier_roofline_chart(ceil, pts.assign(ceiling="NVLink"))


def test_offload_throughput_chart_power_of_two_batches():
    systems = {"H100 · PCIe 5.0": mh.system(offload.SYSTEM_H100_PCIE5)}
    placements = {"in HBM": {"weights_on_host": 0.0}, "on host": {"weights_on_host": 1.0}}
    thr = offload_batch.throughput_table({"A": "llama-3-8b", "B": "llama-2-7b"}, systems, 2 ** np.arange(0, 15),
                                         1024, placements)
    spec = _check_conventions(offload_charts.offload_throughput_chart(thr))
    x = _axis_of(spec, "x", "batch")
    assert x["scale"]["type"] == "log" and x["scale"]["base"] == 2 and x["scale"]["domain"] == [1.0, 16384.0]
    assert x["axis"]["values"] == [float(4**k) for k in range(8)] and "1024" in x["axis"]["labelExpr"]
    y = _axis_of(spec, "y", "tokens_per_s")
    assert y["scale"]["domain"] == [y["axis"]["values"][0], y["axis"]["values"][-1]]


def test_lookup_chart_and_memory_tables():
    rec = load_recommendation_models()
    summary = recommendation.model_summary(rec)
    bounds = pd.concat([recommendation.lookup_bounds(rec, m, mh.lookup_setups()).assign(model=m)
                        for m in summary["model"]], ignore_index=True)
    spec = _check_conventions(offload_charts.lookup_bounds_chart(bounds))
    x = _axis_of(spec, "x", "samples_per_s")
    assert x["scale"]["domain"][1] > bounds["samples_per_s"].max() * 2, "room for the number at a bar's end"
    bind = next(n["bind"] for n in _walk(spec) if isinstance(n.get("bind"), dict))
    assert len(set(bind["labels"])) == len(bind["options"]) and all("(" not in lab for lab in bind["labels"])
    frame = _check_table(offload_charts.recommendation_table(summary))
    assert frame.columns[0] == "Model" and frame["Rows"].str.contains(",").all()
    tiers = offload_charts.memory_tiers_table(load_memory_tiers())
    frame = _check_table(tiers)
    assert len(tiers.groups) <= 2 and "none (own memory)" in set(frame["Link to the accelerator"])
    with pytest.raises(ValueError, match="non-positive"):
        offload_charts.lookup_bounds_chart(bounds.assign(samples_per_s=0.0))


# ------------------------------------------------------------------------------------------- lean optimizers


@pytest.fixture(scope="module")
def grid() -> pd.DataFrame:
    return pd.concat([training_bars.optimizer_grid(m, lean.RECIPES, n_gpus=8, seq_len=4096, block_size=1024)
                      .assign(model=m) for m in ("llama-2-7b", "llama-3-8b")], ignore_index=True)


def test_optimizer_memory_chart_fixed_domain_and_part_colours(grid, hw):
    hw = hw.set_index("device")
    devices = pd.DataFrame({"device": [H100, H200], "memory_bytes": [
        float(hw.loc[d, "memory_capacity_gib"]) * 2**30 for d in (H100, H200)]})
    spec = _check_conventions(opt_charts.optimizer_memory_chart(grid, devices))
    x = next(enc["x"] for enc in _encodings(spec) if enc.get("x", {}).get("aggregate") == "sum")
    top = grid.groupby(["model", "zero_stage", "recipe"])["bytes"].sum().max() / 1e9
    assert top <= x["scale"]["domain"][1] <= 1.5 * top and x["axis"]["values"][-1] == x["scale"]["domain"][1]
    colour = next(enc["color"] for enc in _encodings(spec) if "color" in enc)
    assert colour["scale"]["range"][0] == opt_charts.PART_COLOURS["weights"]
    labels = [n for n in _walk(spec) if n.get("field") == "label_px"]
    assert labels and all(lab.get("scale", 0) is None for lab in labels)
    with pytest.raises(ValueError, match="unknown part"):
        opt_charts.optimizer_memory_chart(grid.assign(part="other"), devices)


def test_bytes_per_param_chart_and_tables():
    bpp = training_bars.bytes_per_param_table(["llama-2-7b", "gpt2-xl"], lean.RECIPES, block_size=1024)
    spec = _check_conventions(opt_charts.bytes_per_param_chart(bpp))
    x = next(enc["x"] for enc in _encodings(spec) if enc.get("x", {}).get("aggregate") == "sum")
    top = bpp.groupby(["model", "recipe"])["bytes_per_param"].sum().max()
    assert top <= x["scale"]["domain"][1] <= 1.25 * top
    frame = _check_table(opt_charts.published_figures_table(load_optimizer_memory()))
    assert frame.columns[0] == "Optimizer" and "8-bit Adam" in set(frame["Optimizer"])
    largest = pd.DataFrame({"recipe": ["Adam"], "bytes_per_param": [16.0], "largest_billion": [5.3687]})
    frame = _check_table(opt_charts.largest_model_table(largest))
    assert frame.columns.tolist() == ["Recipe", "Model states [B/param]",
                                      "Largest model [billion params]"]
    assert frame.iloc[0].tolist() == ["Adam", "16", "5.37"]


@pytest.mark.parametrize("value", [1.0, 7.0, 53.2, 449.4, 1234.0])
def test_round_axis_ends_and_ticks(value):
    top = opt_charts._nice_top(value)
    ticks = opt_charts._round_ticks(top)
    assert value <= top < 1.6 * value and ticks[0] == 0 and ticks[-1] == top and 3 <= len(ticks) - 1 <= 6
