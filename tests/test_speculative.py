"""Tests of memwall.beyond.speculative and speculative_grid: the published acceptance formula against
Monte-Carlo counters, hand-derived intensities, the verify pass against a decode step, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memwall.beyond.speculative import (
    expected_tokens_per_step,
    speculative_time_per_token,
    time_per_token_from_steps,
    verify_step_time,
    weight_matmul_intensity,
)
from memwall.beyond.speculative_grid import best_k, speculative_grid
from memwall.charts import speculative_chart
from memwall.roofline import Ceilings
from memwall.serving import ceilings_for, decode_step_time
from memwall.specs import get_preset
from memwall.tables import load_hardware

FAST = settings(max_examples=25, deadline=None)
H200 = "H200 SXM 141GB (Hopper)"


@pytest.fixture(scope="module")
def h200() -> Ceilings:
    return ceilings_for(load_hardware(), H200, "W16A16")


# ----------------------------------------------------------------------------- expected tokens


def test_expected_tokens_golden_by_hand():
    # Leviathan et al. 2023 (arXiv 2211.17192) Eq. 1 is the geometric sum 1 + a + a^2 + ... + a^k:
    # at a = 0.8, k = 4: 1 + 0.8 + 0.64 + 0.512 + 0.4096 = 3.3616.
    assert expected_tokens_per_step(0.8, 4) == pytest.approx(1 + 0.8 + 0.64 + 0.512 + 0.4096, rel=1e-12)
    assert expected_tokens_per_step(1.0, 4) == 5.0  # everything accepted: k drafts + 1 bonus token
    assert expected_tokens_per_step(0.0, 7) == 1.0  # nothing accepted: the target's own token
    assert expected_tokens_per_step(0.5, 0) == 1.0  # k = 0 is plain decoding


def test_expected_tokens_broadcasts():
    out = expected_tokens_per_step(np.array([[0.5], [0.9]]), np.array([1, 2, 3]))
    assert out.shape == (2, 3)
    assert out[0] == pytest.approx([1.5, 1.75, 1.875])


def _iid_counter(alpha: float, k: int, passes: int, seed: int) -> np.ndarray:
    """Tokens per pass when each draft is accepted with probability alpha, stopping at the first rejection."""
    rng = np.random.default_rng(seed)
    accepted = rng.random((passes, k)) < alpha
    n = np.where(accepted.all(axis=1), k, np.argmin(accepted, axis=1))  # leading run of acceptances
    return n + 1.0


@pytest.mark.parametrize(("alpha", "k"), [(0.8, 4), (0.5, 3), (0.95, 10), (0.3, 1)])
def test_expected_tokens_matches_iid_monte_carlo(alpha, k):
    tokens = _iid_counter(alpha, k, 200_000, seed=20230101)
    se = tokens.std(ddof=1) / np.sqrt(tokens.size)
    assert abs(tokens.mean() - expected_tokens_per_step(alpha, k)) < 4 * se


def test_speculative_sampling_simulation_gives_formula_and_target_distribution():
    """Run the real accept/reject rule (Leviathan et al. 2023, Algorithm 1) with a draft q and target p.

    The acceptance rate of one draft is alpha = sum_x min(p(x), q(x)) (their Definition 3.1 and
    Theorem 3.5); the token emitted at the first position must be distributed as p.
    """
    rng = np.random.default_rng(7)
    p = np.array([0.5, 0.2, 0.2, 0.1])
    q = np.array([0.25, 0.25, 0.4, 0.1])
    alpha = np.minimum(p, q).sum()
    residual = np.maximum(p - q, 0.0) / np.maximum(p - q, 0.0).sum()
    k, passes = 3, 200_000
    drafts = rng.choice(4, size=(passes, k), p=q)
    accept = rng.random((passes, k)) < np.minimum(1.0, p[drafts] / q[drafts])
    n = np.where(accept.all(axis=1), k, np.argmin(accept, axis=1))
    tokens = n + 1.0
    se = tokens.std(ddof=1) / np.sqrt(passes)
    assert abs(tokens.mean() - expected_tokens_per_step(alpha, k)) < 4 * se
    # first emitted token: the first draft if accepted, else a draw from the residual distribution
    first = np.where(accept[:, 0], drafts[:, 0], rng.choice(4, size=passes, p=residual))
    freq = np.bincount(first, minlength=4) / passes
    assert np.allclose(freq, p, atol=4 * np.sqrt(p * (1 - p) / passes).max())


@FAST
@given(st.floats(0.0, 1.0), st.integers(0, 30))
def test_expected_tokens_bounds_and_monotone(alpha, k):
    e = expected_tokens_per_step(alpha, k)
    assert 1.0 - 1e-12 <= e <= k + 1 + 1e-9
    assert expected_tokens_per_step(alpha, k + 1) >= e - 1e-12


# --------------------------------------------------------------------------------- verify pass


def test_verify_with_no_drafts_is_a_decode_step(h200):
    for context in (0, 1, 1024, 8000):
        assert verify_step_time("llama-3-70b", h200, 0, context) == pytest.approx(
            decode_step_time("llama-3-70b", h200, 1, context), rel=1e-12)


def test_weight_matmul_intensity_by_hand():
    """Projections, FFN and LM head of Llama-3-70B over T = k + 1 tokens, 2-byte everything.

    A d_in x d_out matmul: 2 T d_in d_out FLOPs, 2 d_in d_out weight bytes, 2 T (d_in + d_out)
    activation bytes (input read, output written).
    """
    s = get_preset("llama-3-70b")
    d, qd, kvd = s.d_model, s.heads * s.head_dim, s.kv_heads * s.head_dim
    f, v, layers = s.ffn_dim, s.vocab_size, s.layers
    shapes = [(d, qd), (d, kvd), (d, kvd), (qd, d), (d, f), (d, f), (f, d)]
    for k in (0, 3, 7):
        t = k + 1
        flops = layers * sum(2 * t * a * b for a, b in shapes) + 2 * t * d * v
        bytes_ = layers * sum(2 * a * b + 2 * t * (a + b) for a, b in shapes) + 2 * d * v + 2 * t * (d + v)
        assert weight_matmul_intensity(s, k, 512) == pytest.approx(flops / bytes_, rel=1e-12)
    ratio = weight_matmul_intensity(s, 7) / weight_matmul_intensity(s, 0)
    assert ratio == pytest.approx(8, rel=0.01)  # ~k+1-fold


def test_verify_pass_costs_about_one_decode_step_left_of_the_ridge(h200):
    # k + 1 = 5 tokens is far left of the H200 ridge (~206 FLOP/B): memory-bound, same bytes
    assert verify_step_time("llama-3-70b", h200, 4, 1024) / decode_step_time("llama-3-70b", h200, 1, 1024) < 1.01


# ---------------------------------------------------------------------------------- time/token


@FAST
@given(st.floats(0.0, 0.99), st.integers(0, 12), st.floats(0.0, 1.0))
def test_time_per_token_matches_leviathan_theorem_3_8(alpha, k, c):
    # Theorem 3.8: improvement factor (1 - a^(k+1)) / ((1 - a)(k c + 1)) when verify costs one target step T.
    t = 0.02
    speedup = t / time_per_token_from_steps(c * t, t, alpha, k)
    assert speedup == pytest.approx((1 - alpha ** (k + 1)) / ((1 - alpha) * (k * c + 1)), rel=1e-9)


def test_speculative_bound_on_h200(h200):
    r = speculative_time_per_token("llama-3-70b", "llama-3-8b", h200, 0.8, 4, 1024)
    assert r.tokens_per_step == pytest.approx(3.3616)
    assert r.time_per_token_s == pytest.approx((4 * r.draft_step_s + r.verify_step_s) / 3.3616)
    assert r.plain_time_per_token_s == pytest.approx(decode_step_time("llama-3-70b", h200, 1, 1024))
    # both models stream their weights: the draft step costs about the parameter ratio (8.0B / 70.6B)
    assert r.draft_step_s / r.plain_time_per_token_s == pytest.approx(8.03 / 70.55, rel=0.05)
    assert r.speedup > 1


def test_best_k_grows_with_alpha(h200):
    tab = best_k("llama-3-70b", "llama-3-8b", h200, [0.0, 0.05, 0.5, 0.8, 0.9, 0.99], k_max=24)
    assert tab["best_k"].iloc[0] == 0 and tab["best_k"].iloc[1] == 0  # alpha below the draft's cost
    assert (np.diff(tab["best_k"]) >= 0).all()
    assert (tab["speedup"] >= 1.0 - 1e-12).all()  # k = 0 is always allowed


def test_best_k_is_brute_force_minimum(h200):
    tab = best_k("llama-3-70b", "llama-3-8b", h200, [0.7], k_max=10)
    times = [speculative_time_per_token("llama-3-70b", "llama-3-8b", h200, 0.7, k).time_per_token_s
             for k in range(11)]
    assert tab["best_k"].iloc[0] == int(np.argmin(times))
    assert tab["time_per_token_s"].iloc[0] == min(times)  # SI: seconds per token
    assert tab["plain_time_per_token_s"].iloc[0] == times[0]


def test_grid_and_chart():
    hw = load_hardware()
    grid = speculative_grid(hw, "llama-3-70b", "llama-3-8b", [H200], [0.5, 0.8], [0, 1, 2])
    assert len(grid) == 6 and set(grid["k"]) == {0, 1, 2}
    one = speculative_time_per_token("llama-3-70b", "llama-3-8b", ceilings_for(hw, H200, "W16A16"), 0.8, 2)
    row = grid[(grid["alpha"] == 0.8) & (grid["k"] == 2)].iloc[0]
    assert row["time_per_token_s"] == pytest.approx(one.time_per_token_s, rel=1e-12)  # seconds, not ms
    assert row["plain_time_per_token_s"] == pytest.approx(one.plain_time_per_token_s, rel=1e-12)
    spec = speculative_chart(grid).to_dict()
    names = {p["name"] for p in spec["params"]}
    assert {"s_device", "s_alpha"} <= names
    # the chart shows milliseconds: its data carries the display column, 1e3 times the SI one
    shown = next(iter(spec["datasets"].values()))
    assert shown[0]["ms_per_token"] == 1e3 * grid["time_per_token_s"].iloc[0]
    assert spec["layer"][1]["encoding"]["y"]["axis"]["title"] == "time per token [ms]"
    with pytest.raises(ValueError, match="lacks column"):
        speculative_chart(grid.drop(columns="speedup"))


# ---------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("alpha", [-0.1, 1.2, float("nan")])
def test_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha"):
        expected_tokens_per_step(alpha, 2)


@pytest.mark.parametrize("k", [-1, 1.5])
def test_bad_k(k):
    with pytest.raises(ValueError, match="k must be"):
        expected_tokens_per_step(0.5, k)


def test_bad_models_and_limits(h200):
    with pytest.raises(ValueError, match="encoder"):
        verify_step_time("bert-base", h200, 2)
    with pytest.raises(ValueError, match="k_max"):
        best_k("llama-3-70b", "llama-3-8b", h200, [0.5], k_max=-1)
    with pytest.raises(ValueError, match="draft_step_s"):
        time_per_token_from_steps(-1.0, 1.0, 0.5, 2)
