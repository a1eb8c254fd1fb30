"""memwall.charts.palette and the axis rules of memwall.charts.theme."""

from __future__ import annotations

import pytest

from memwall.charts import palette, theme
from memwall.cost import CATEGORIES


def test_categories_have_fixed_distinct_colours_by_code_and_label() -> None:
    colours = [palette.colour_of(c) for c in CATEGORIES]
    assert None not in colours and len(set(colours)) == len(CATEGORIES)
    assert [palette.colour_of(palette.category_label(c)) for c in CATEGORIES] == colours


def test_colour_scale_fixes_known_names_and_fills_the_rest_with_unused_colours() -> None:
    scale = palette.colour_scale(["AMD", "foo", "NVIDIA", "bar"]).to_dict()
    assert scale["domain"] == ["AMD", "foo", "NVIDIA", "bar"]
    amd, foo, nvidia, bar = scale["range"]
    assert (amd, nvidia) == (palette.NAMED_COLOURS["AMD"], palette.NAMED_COLOURS["NVIDIA"])
    assert len({amd, foo, nvidia, bar}) == 4 and {foo, bar} <= set(theme.PALETTE)


def test_colour_scale_refuses_repeats_and_too_many_names() -> None:
    with pytest.raises(ValueError, match="repeats a name"):
        palette.colour_scale(["a", "a"])
    with pytest.raises(ValueError, match="only 9 free colours"):
        palette.colour_scale([f"n{i}" for i in range(10)])


def test_every_palette_colour_has_a_word() -> None:
    assert set(theme.PALETTE) <= set(palette.COLOUR_WORDS)


def test_pow2_axis_ticks_every_power_of_two_of_the_data() -> None:
    axis = theme.pow2_axis([1000, 70000], "context [tokens]").to_dict()
    assert axis["values"] == [2.0**k for k in range(9, 18)]
    assert "1024" in axis["labelExpr"] and "'k'" in axis["labelExpr"]
    with pytest.raises(ValueError, match="needs finite values > 0"):
        theme.pow2_axis([0, 4], "x")


def test_log_axis_labels_decades_only() -> None:
    assert theme.log_axis("t [s]").to_dict()["labelExpr"] == theme.DECADE_LABEL
    assert theme.log_axis("t [s]", [3e-3, 40.0]).to_dict()["values"] == [1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0]


def test_hardware_quantities_keep_their_colour_whatever_the_legend_adds() -> None:
    """Peak FLOP/s, DRAM bandwidth and interconnect bandwidth are one colour each on every trend chart."""
    from memwall.charts import palette

    assert palette.colour_of("DRAM bandwidth: 1.59x / 2 yrs") == palette.ORANGE
    assert palette.colour_of("peak FLOP/s (max 16-bit): 2.70x / 2 yrs") == palette.BLUE
    assert palette.colour_of("interconnect bandwidth: 1.42x / 2 yrs") == palette.GREEN
    assert palette.colour_of("datasheet DRAM bandwidth [B/s]: 1.70x / 2 yrs") == palette.ORANGE
    assert palette.colour_of("this machine: STREAM [B/s]") is None
