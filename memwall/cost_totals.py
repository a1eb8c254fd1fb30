"""Summaries of a :func:`memwall.cost.cost_table`: totals overall or per category, and pooled intensities.

:func:`memwall.cost.cost_table` gives one row per operation, whole-model values (see the conventions of
:mod:`memwall.cost`); the functions here add rows up. A sum of FLOPs over a sum of bytes is the arithmetic
intensity of the operations taken together [FLOP/B]: what a roofline sees if they ran as one kernel, not the
mean of their intensities.

The operations a total covers are chosen where the table is built: ``cost_table(..., scope="matmul")`` keeps
the matrix products only (what PyTorch's ``FlopCounterMode`` and most papers count), so its totals are
matmul-only FLOPs and the bytes those products move; ``include_lm_head`` chooses the LM head and its positions.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from memwall._checks import ArgumentTypeError, instance
from memwall.cost import CATEGORIES, _ratio

__all__ = ["category_intensity", "totals"]


def totals(df: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Sum a :func:`memwall.cost.cost_table` over all operations or per ``category``.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`memwall.cost.cost_table`.
    by : {None, "category"}
        ``None`` for one ``total`` row, ``"category"`` for one row per category.

    Returns
    -------
    pandas.DataFrame
        ``flops`` [FLOP], ``bytes_read``, ``bytes_written``, ``bytes`` [B], ``intensity`` [FLOP/B].

    Raises
    ------
    ValueError
        If ``by`` is neither None nor ``"category"``.
    ArgumentTypeError
        ``df`` not a DataFrame.
    """
    instance("df", df, pd.DataFrame)
    cols = ["flops", "bytes_read", "bytes_written", "bytes"]
    if by is None:
        out = df[cols].sum().to_frame("total").T
    elif isinstance(by, str) and by == "category":
        out = df.groupby("category", sort=False)[cols].sum()
    else:
        raise ValueError(f"by must be None or 'category', got {by!r}")
    out["intensity"] = _ratio(out["flops"], out["bytes"])
    return out


def category_intensity(df: pd.DataFrame, categories: Sequence[str]) -> float:
    """Arithmetic intensity of a group of operation categories taken together.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`memwall.cost.cost_table`.
    categories : sequence of str
        Categories to pool, e.g. ``("projection", "ffn")`` for the weight matmuls.

    Returns
    -------
    float
        Their summed FLOPs over their summed bytes. [FLOP/B]

    Raises
    ------
    ValueError
        If a category is unknown or none of the rows belong to the group.
    ArgumentTypeError
        ``df`` not a DataFrame, or ``categories`` a bare string (one category is ``("ffn",)``) or not a sequence.
    """
    instance("df", df, pd.DataFrame)
    if isinstance(categories, str) or not isinstance(categories, Sequence | set | frozenset):
        raise ArgumentTypeError(f"categories must be a sequence of category names, e.g. ('ffn',), got "
                                f"{categories!r:.80}")
    unknown = [c for c in categories if not isinstance(c, str) or c not in CATEGORIES]
    if unknown:
        raise ValueError(f"unknown categories {unknown}; allowed: {', '.join(CATEGORIES)}")
    rows = df[df["category"].isin(list(categories))]
    if rows.empty or rows["bytes"].sum() <= 0:
        raise ValueError(f"no operation of categories {list(categories)} in the table")
    return float(rows["flops"].sum() / rows["bytes"].sum())
