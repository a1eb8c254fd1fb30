"""Fused vs unfused attention: bytes of the act-to-act operations, by hand and from the FlashAttention algorithm."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memwall.beyond import fused_attention as fa


def test_unfused_and_fused_core_bytes_by_hand():
    # BERT-Base (12 layers, d = 768, 12 heads), l = 128, 1 byte per element (survey settings).
    # Unfused per layer: Q, K read (2·l·d), scores written (h·l²), softmax reads + writes them (2·h·l²),
    # score·V reads them (h·l²) and V (l·d), writes the output (l·d): 4·l·d + 4·h·l².
    unfused = 12 * (4 * 128 * 768 + 4 * 12 * 128**2)
    assert fa.attention_core_bytes("bert-base", 128, "unfused") == unfused == 14_155_776
    # fused: only Q, K, V read and the output written
    assert fa.attention_core_bytes("bert-base", 128, "fused") == 12 * 4 * 128 * 768


def test_tiled_traffic_by_hand():
    # Algorithm 1 of Dao et al. 2022 (arXiv 2205.14135), N = 1024, d = 64, M = 4096 elements:
    # B_c = ceil(4096 / 256) = 16, T_c = 64 passes; init O, l, m (N·d + 2N), K and V once (2·N·d),
    # per pass Q read, O read + written (3·N·d) and l, m read + written (4N).
    n, d = 1024, 64
    by_hand = n * d + 2 * n + 2 * n * d + 64 * (3 * n * d + 4 * n)
    assert fa.tiled_attention_elements(n, d, 4096) == by_hand == 13_043_712


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 8192), m_blocks=st.integers(1, 4096))
def test_tiled_between_ideal_and_decreasing_in_sram(n, m_blocks):
    d = 64
    m = 4 * d * m_blocks
    t = fa.tiled_attention_elements(n, d, m)
    assert t >= 4 * n * d  # never below the ideal fused traffic
    assert fa.tiled_attention_elements(n, d, 2 * m) <= t
    # Theorem 2: Θ(N² d² / M) once many passes are needed
    if n >= 8 * m_blocks:
        assert t <= 2 * n * d + n * d + 2 * n + np.ceil(n / m_blocks) * (3 * n * d + 4 * n)


def test_fusion_removes_the_survey_fall_after_512():
    sweep = fa.fusion_sweep({"BERT-Base": "bert-base"}, [128, 256, 512, 1024, 2048, 4096], sram_elements=196_608)
    peaks = fa.intensity_peaks(sweep).set_index("mode")
    assert peaks.loc["unfused", "peak_seq_len"] == 512  # survey Fig. 6: BERT-Base peaks at l = 512
    assert peaks.loc["unfused", "falls_after_peak"]
    assert not peaks.loc["fused", "falls_after_peak"] and not peaks.loc["tiled", "falls_after_peak"]
    flops = sweep.groupby("seq_len")["flops"].nunique()
    assert (flops == 1).all()  # fusion moves bytes, not FLOPs


def test_bad_inputs():
    with pytest.raises(ValueError, match="mode must be one of"):
        fa.attention_core_bytes("bert-base", 128, "magic")
    with pytest.raises(ValueError, match="needs sram_elements"):
        fa.attention_core_bytes("bert-base", 128, "tiled")
    with pytest.raises(ValueError, match="sram_elements must be an integer >= 256"):
        fa.tiled_attention_elements(128, 64, 100)
    with pytest.raises(ValueError, match="seq_len must be an integer >= 1"):
        fa.tiled_attention_elements(0, 64, 4096)
