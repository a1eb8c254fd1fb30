"""Tests of memwall.roofline and memwall.charts.roofline: analytic roofline values, bounds, presets, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from memwall.bounds import model_time, predict_time, predicted_ratio, roofline_table
from memwall.charts import ceilings_frame, roofline_chart
from memwall.cost import cost_table
from memwall.device_ceilings import ceilings_table
from memwall.roofline import (
    PRECISION_COLUMNS,
    Ceilings,
    attainable_flop_per_s,
    op_time_bound,
    ridge_point,
)
from memwall.tables import load_hardware
from memwall.widths import INT8, ByteWidths

H100 = "H100 SXM5 80GB (Hopper)"
GOLD = "Xeon Gold 6242 (Cascade Lake, 16c 2.8 GHz)"


@pytest.fixture(scope="module")
def hardware() -> pd.DataFrame:
    return load_hardware()


@pytest.fixture
def machine() -> Ceilings:
    return Ceilings(100e9, 10e9, name="toy", precision="fp32")  # ridge at 10 FLOP/B


# ------------------------------------------------------------------------------------------ formulas


def test_attainable_analytic(machine: Ceilings) -> None:
    # Below the ridge: intensity × bandwidth; at and above it: the peak (Williams et al. 2009).
    assert attainable_flop_per_s(1.0, 100e9, 10e9) == pytest.approx(10e9)
    assert attainable_flop_per_s(10.0, 100e9, 10e9) == pytest.approx(100e9)
    assert attainable_flop_per_s(1000.0, 100e9, 10e9) == pytest.approx(100e9)
    assert attainable_flop_per_s(0.0, 100e9, 10e9) == 0.0
    assert machine.attainable(2.5) == pytest.approx(25e9)
    assert machine.ridge_flop_per_byte == pytest.approx(10.0)
    assert ridge_point(100e9, 10e9) == pytest.approx(10.0)


def test_attainable_broadcasts() -> None:
    intensity = np.array([0.5, 5.0, 50.0])
    peaks = np.array([[1e12], [1e14]])
    out = attainable_flop_per_s(intensity, peaks, 1e12)
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out, [[0.5e12, 1e12, 1e12], [0.5e12, 5e12, 50e12]])
    assert isinstance(attainable_flop_per_s(1.0, 1.0, 1.0), float)


@given(st.floats(0, 1e6), st.floats(0, 1e6), st.floats(1e6, 1e15), st.floats(1e6, 1e13))
def test_attainable_is_monotone_and_capped(i1: float, i2: float, peak: float, bw: float) -> None:
    lo, hi = sorted((i1, i2))
    a_lo, a_hi = attainable_flop_per_s([lo, hi], peak, bw)
    assert a_lo <= a_hi * (1 + 1e-12)
    assert a_hi <= peak * (1 + 1e-12)


def test_op_time_bound(machine: Ceilings) -> None:
    # 1e9 FLOP at 1e11 FLOP/s = 10 ms; 1e9 B at 1e10 B/s = 100 ms -> memory-bound, 100 ms.
    assert op_time_bound(1e9, 1e9, 100e9, 10e9) == pytest.approx(0.1)
    assert machine.time_bound(1e12, 1e9) == pytest.approx(10.0)
    np.testing.assert_allclose(op_time_bound([0.0, 2e11], [1e10, 0.0], 100e9, 10e9), [1.0, 2.0])


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_bad_intensity_names_argument(bad: float) -> None:
    with pytest.raises(ValueError, match="intensity"):
        attainable_flop_per_s(bad, 1.0, 1.0)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"peak_flop_per_s": 0.0, "bandwidth_bytes_per_s": 1.0}, "peak_flop_per_s"),
    ({"peak_flop_per_s": 1.0, "bandwidth_bytes_per_s": -5.0}, "bandwidth_bytes_per_s"),
    ({"peak_flop_per_s": float("nan"), "bandwidth_bytes_per_s": 1.0}, "peak_flop_per_s"),
    ({"peak_flop_per_s": [1.0, 2.0], "bandwidth_bytes_per_s": 1.0}, "peak_flop_per_s"),
])
def test_ceilings_reject_bad_values(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Ceilings(**kwargs)


def test_bytes_negative_rejected() -> None:
    with pytest.raises(ValueError, match="bytes_"):
        op_time_bound(1.0, -1.0, 1.0, 1.0)


# ---------------------------------------------------------------------------------------- hardware


@pytest.mark.parametrize("precision", list(PRECISION_COLUMNS))
def test_from_hardware_every_precision(hardware: pd.DataFrame, precision: str) -> None:
    c = Ceilings.from_hardware(hardware, H100, precision)
    row = hardware.set_index("device").loc[H100]
    assert c.peak_flop_per_s == pytest.approx(row[PRECISION_COLUMNS[precision]] * 1e12)
    assert c.bandwidth_bytes_per_s == pytest.approx(3350e9)  # H100 SXM5 datasheet: 3.35 TB/s
    assert c.name == H100 and c.precision == precision


def test_from_hardware_values(hardware: pd.DataFrame) -> None:
    # H100 SXM5 dense BF16 989.4 TFLOP/s and 3.35 TB/s (NVIDIA datasheet) -> ridge ~295 FLOP/B.
    c = Ceilings.from_hardware(hardware, H100, "bf16")
    assert c.ridge_flop_per_byte == pytest.approx(989.4e12 / 3350e9)
    gold = Ceilings.from_hardware(hardware, GOLD, "fp32")
    assert gold.peak_flop_per_s == pytest.approx(hardware.set_index("device").loc[GOLD, "peak_fp32_tflop_per_s"] * 1e12)


def test_from_hardware_errors(hardware: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"precision='fp4'.*allowed: fp32, fp16, bf16, fp8, int8"):
        Ceilings.from_hardware(hardware, H100, "fp4")
    with pytest.raises(ValueError, match=r"device='Nope' is not in the hardware table; closest: '"):
        Ceilings.from_hardware(hardware, "Nope", "fp16")
    with pytest.raises(ValueError, match=r"no dense fp32 peak.*precisions it has: int8"):
        Ceilings.from_hardware(hardware, "Google TPU v1", "fp32")


def test_from_measured() -> None:
    c = Ceilings.from_measured(2e11, 2e10)
    assert (c.name, c.precision, c.ridge_flop_per_byte) == ("this machine", "fp32", pytest.approx(10.0))


def test_ceilings_table(hardware: pd.DataFrame) -> None:
    t = ceilings_table(hardware)
    assert list(t.columns) == ["device", "precision", "peak_flop_per_s", "bandwidth_bytes_per_s",
                               "ridge_flop_per_byte"]
    assert not t.isna().any().any()
    assert ((t["device"] == "Google TPU v1").sum(), t.loc[t["device"] == "Google TPU v1", "precision"].item()) \
        == (1, "int8")
    sub = ceilings_table(hardware, ["fp16"], devices=[H100, GOLD])
    assert list(sub["device"]) == [H100]  # the Gold 6242 has no fp16 matrix peak in the table
    with pytest.raises(ValueError, match="precision"):
        ceilings_table(hardware, ["fp64"])
    with pytest.raises(ValueError, match="device"):
        ceilings_table(hardware, devices=["Nope"])


# -------------------------------------------------------------------------------------- cost tables


def test_roofline_table_and_model_time(machine: Ceilings) -> None:
    costs = cost_table("gpt2", "decode", 128, widths=ByteWidths.uniform(2))
    t = roofline_table(costs, machine)
    expected = np.maximum(costs["flops"] / 100e9, costs["bytes"] / 10e9)
    np.testing.assert_allclose(t["time_s"], expected)
    # fp16 decode: ~1 FLOP/B, far left of the 10 FLOP/B ridge: every operation is memory-bound.
    assert set(t["bound"]) == {"memory"}
    np.testing.assert_allclose(t["attainable_flop_per_s"], np.minimum(100e9, t["intensity"] * 10e9))
    assert model_time(costs, machine) == pytest.approx(expected.sum())
    with pytest.raises(ValueError, match="bytes"):
        roofline_table(costs.drop(columns="bytes"), machine)


def test_predict_time_matches_model_time(machine: Ceilings) -> None:
    for spec, phase in (("bert-base", "encode"), ("gpt2", "generate"), ("llama-2-7b", "prefill")):
        direct = model_time(cost_table(spec, phase, 256, widths=ByteWidths.uniform(4)), machine)
        assert predict_time(spec, phase, 256, machine, widths=ByteWidths.uniform(4)) \
            == pytest.approx(direct, rel=1e-12)


def test_predict_time_vectorised(machine: Ceilings) -> None:
    lens = [128, 512, 4096]
    many = predict_time("gpt2", "generate", lens, machine)
    assert many.shape == (3,)
    np.testing.assert_allclose(many, [predict_time("gpt2", "generate", n, machine) for n in lens])
    assert np.all(np.diff(many) > 0)


def test_generate_is_weight_streaming_bound(machine: Ceilings) -> None:
    # Generating l tokens reads every weight l times: time >= l × weight bytes / bandwidth.
    from memwall.specs import get_preset, non_embedding_parameter_count

    weights = non_embedding_parameter_count(get_preset("gpt2")) * 2.0  # fp16 [B]
    t = predict_time("gpt2", "generate", 64, machine)
    assert t >= 64 * weights / 10e9 * 0.99


def test_predicted_ratio_survey_hardware(hardware: pd.DataFrame) -> None:
    # Xeon Gold 6242 (the survey's CPU) with 8-bit elements: the decoder is predicted several times
    # slower than the encoder, and the gap narrows at long l as BERT's attention grows quadratically.
    gold = Ceilings.from_hardware(hardware, GOLD, "int8")
    r = predicted_ratio([128, 4096], gold, widths=INT8)
    assert r[0] > 5 and r[1] < r[0]
    assert predicted_ratio(128, gold, widths=INT8) == pytest.approx(r[0])


def test_predict_time_bad_phase(machine: Ceilings) -> None:
    with pytest.raises(ValueError, match="phase"):
        predict_time("gpt2", "train", 128, machine)


# ------------------------------------------------------------------------------------------- chart


def _ops() -> pd.DataFrame:
    return pd.concat([cost_table("gpt2", "decode", 512).assign(label="GPT-2 decode"),
                      cost_table("bert-base", "encode", 512).assign(label="BERT-Base encode")], ignore_index=True)


def test_roofline_chart_spec(hardware: pd.DataFrame) -> None:
    ceil = pd.concat([ceilings_frame([Ceilings(3e11, 2e10, "this machine", "fp32")]),
                      ceilings_table(hardware)], ignore_index=True)
    chart = roofline_chart(_ops(), ceil, device=H100, precision="fp16", title="roofline")
    spec = chart.to_dict()
    params = {p["name"]: p for p in spec["params"]}
    assert params["roofline_device"]["value"] == H100
    assert params["roofline_precision"]["bind"]["input"] == "select"
    assert "this machine" in params["roofline_device"]["bind"]["options"]
    text = json.dumps(spec)
    assert '"type": "log"' in text and "isValid(datum.peak_flop_per_s)" in text
    assert "cdn" not in json.dumps(spec["datasets"])  # data inline, static page works
    html = chart.to_html()
    assert "roofline_device" in html


def test_roofline_chart_accepts_ceilings_list() -> None:
    ceil = [Ceilings(1e12, 1e11, "a"), Ceilings(2e12, 1e11, "b")]
    chart = roofline_chart(cost_table("bert-base", "encode", 128), ceil)
    assert chart.to_dict()["params"][0]["value"] == "a"


def test_roofline_chart_errors(hardware: pd.DataFrame) -> None:
    ceil = ceilings_table(hardware)
    with pytest.raises(ValueError, match="device='Nope'"):
        roofline_chart(_ops(), ceil, device="Nope")
    with pytest.raises(ValueError, match="precision='fp4'"):
        roofline_chart(_ops(), ceil, precision="fp4")
    with pytest.raises(ValueError, match="lacks column"):
        roofline_chart(_ops().drop(columns="intensity"), ceil)
    with pytest.raises(ValueError, match="empty"):
        roofline_chart(_ops(), ceil.iloc[:0])


@pytest.mark.parametrize("bad", [True, "5", b"5", None, 10**400, [1e12, "1"]])
def test_ceilings_take_numbers_only(bad: object) -> None:
    # issue 18: "5" was read as 5 and 10**400 raised OverflowError
    with pytest.raises(ValueError, match="peak_flop_per_s"):
        Ceilings(bad, 1e12)
    with pytest.raises(ValueError, match="peak_flop_per_s"):
        ridge_point(bad, 1e12)
    with pytest.raises(ValueError, match="peak_flop_per_s must be a single number"):
        Ceilings([1e12], 1e12)  # one device: ridge_point takes arrays, a Ceilings one number


def test_subnormal_bandwidth_is_an_overflow_error_not_inf() -> None:
    # issue 18: --bytes 1e-320 gave an infinite intensity; here the ridge and the time would be infinite
    with pytest.raises(ValueError, match=r"ridge_point is not finite.*bandwidth_bytes_per_s="):
        ridge_point(1e12, 1e-320)
    with pytest.raises(ValueError, match=r"op_time_bound is not finite.*bandwidth_bytes_per_s="):
        op_time_bound(1.0, 1e9, 1e12, 1e-320)
