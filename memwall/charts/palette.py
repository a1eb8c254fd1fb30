"""One categorical palette for the whole book: the same operation category, vendor or precision has the same colour
on every chart.

:data:`NAMED_COLOURS` fixes the colour of every name that recurs across chapters (operation categories of
:data:`memwall.cost.CATEGORIES`, vendors, number formats, measured vs bound); :func:`colour_scale` builds the
Altair scale of a chart from the names it shows, giving the fixed colour to a known name and the unused
Okabe-Ito colours, in order, to the others. :data:`COLOUR_WORDS` is what the prose may call each colour.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import altair as alt

from memwall.charts.theme import PALETTE

__all__ = ["CATEGORY_LABELS", "COLOUR_WORDS", "NAMED_COLOURS", "QUANTITY_COLOURS", "category_label", "colour_of",
           "colour_scale"]

BLUE, ORANGE, GREEN, PINK, SKY, VERMILION, YELLOW, BLACK = PALETTE
GREY = "#7f7f7f"

COLOUR_WORDS: dict[str, str] = {BLUE: "blue", ORANGE: "orange", GREEN: "green", PINK: "pink", SKY: "light blue",
                                VERMILION: "red", YELLOW: "yellow", BLACK: "black", GREY: "grey"}
"""The word the prose uses for each colour of the palette (Okabe-Ito's vermilion reads as red)."""

CATEGORY_LABELS: dict[str, str] = {"projection": "projections (Q, K, V, O)", "act_to_act": "act-to-act (attention)",
                                   "ffn": "feed-forward (FFN)", "nonlinear": "non-linear (softmax, norms)"}
"""Reader's name of each operation category of :data:`memwall.cost.CATEGORIES` (the survey's four groups,
Kim et al. 2023, arXiv 2302.14017, Sec. 2)."""

NAMED_COLOURS: dict[str, str] = {
    # operation categories (memwall.cost.CATEGORIES), by code and by reader's name
    "projection": BLUE, "act_to_act": ORANGE, "ffn": GREEN, "nonlinear": PINK,
    CATEGORY_LABELS["projection"]: BLUE, CATEGORY_LABELS["act_to_act"]: ORANGE,
    CATEGORY_LABELS["ffn"]: GREEN, CATEGORY_LABELS["nonlinear"]: PINK,
    # vendors
    "NVIDIA": GREEN, "AMD": VERMILION, "Google": BLUE, "Intel": SKY,
    # number formats
    "fp32": BLACK, "tf32": GREY, "bf16": BLUE, "fp16": BLUE, "fp8": ORANGE, "int8": GREEN, "fp4": PINK,
    "int4": PINK,
    # a measurement against our bound
    "measured": BLACK, "our bound": VERMILION, "bound": VERMILION,
}
"""Fixed colour of every name that recurs across chapters."""

QUANTITY_COLOURS: dict[str, str] = {"peak flop/s": BLUE, "datasheet peak": BLUE, "dram bandwidth": ORANGE,
                                    "datasheet dram bandwidth": ORANGE, "interconnect": GREEN}
"""Colour of a hardware quantity of the trend charts, by the start of its series name (lower case): a legend
entry such as "DRAM bandwidth: 1.59x / 2 yrs" carries its fitted rate, so the name is matched by prefix."""


def colour_of(name: str) -> str | None:
    """The fixed colour of ``name``, or ``None`` if it has none.

    Looked up case-sensitively in :data:`NAMED_COLOURS`, then in lower case, then by the longest prefix of
    :data:`QUANTITY_COLOURS` the lower-case name starts with.
    """
    found = NAMED_COLOURS.get(name, NAMED_COLOURS.get(name.lower()))
    if found is not None:
        return found
    prefixes = [k for k in QUANTITY_COLOURS if name.lower().startswith(k)]
    return QUANTITY_COLOURS[max(prefixes, key=len)] if prefixes else None


def category_label(category: str) -> str:
    """The reader's name of an operation category (:data:`CATEGORY_LABELS`); other names are returned as given."""
    return CATEGORY_LABELS.get(category, category)


def colour_scale(domain: Iterable[str], fixed: Mapping[str, str] | None = None) -> alt.Scale:
    """The colour scale of a chart that shows the names ``domain``, in that order.

    Parameters
    ----------
    domain : iterable of str
        Names on the chart (legend order).
    fixed : mapping of str to str, optional
        Colours this chart fixes beyond :data:`NAMED_COLOURS` (they win over it).

    Returns
    -------
    altair.Scale
        ``domain`` and its colours: the fixed colour of a known name, the next Okabe-Ito colour not yet used
        on the chart for the others.

    Raises
    ------
    ValueError
        If ``domain`` repeats a name, or holds more unknown names than free colours (8 in all).
    """
    names = [str(n) for n in domain]
    if len(set(names)) != len(names):
        raise ValueError(f"colour_scale: domain repeats a name: {names}")
    own = dict(fixed or {})
    chosen = {n: own.get(n) or colour_of(n) for n in names}
    free = [c for c in (*PALETTE, GREY) if c not in chosen.values()]
    unknown = [n for n in names if chosen[n] is None]
    if len(unknown) > len(free):
        raise ValueError(f"colour_scale: {len(unknown)} names without a fixed colour ({unknown}) but only "
                         f"{len(free)} free colours")
    chosen.update(zip(unknown, free, strict=False))
    return alt.Scale(domain=names, range=[chosen[n] for n in names])
