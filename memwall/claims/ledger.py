"""The claims ledger: the status rules, one claim's evaluation and the table of every registered claim.

The claims and their registry are in :mod:`memwall.claims.core`; see :mod:`memwall.claims` for the overview.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from memwall.claims.core import (
    _CACHE,
    _REGISTRY,
    DIFFERS_EXPLAINED,
    NOT_REPRODUCIBLE,
    REPRODUCED,
    UNEXPLAINED,
    Claim,
    NotApplicable,
    NotComputable,
    UnexplainedDifferenceError,
    ValueSource,
    _book_order,
    claim_ids,
    get_claim,
)

__all__ = ["LEDGER_COLUMNS", "evaluate", "ledger", "status_of"]


def status_of(claim: Claim, ours: float | bool | None, reason: str | None = None) -> tuple[str, str]:
    """The status of a claim given our value (the status rules, as code).

    Parameters
    ----------
    claim : Claim
        The claim (its paper value, tolerance and explanation are used).
    ours : float, bool or None
        Our value; None when it could not be computed.
    reason : str, optional
        Why it could not be computed (with ``ours=None``).

    Returns
    -------
    status : str
        ``"reproduced"`` when ``|ours - paper| <= max(abs_tol, rel_tol * |paper|)`` (booleans: equal);
        ``"differs — explained"`` when outside that tolerance and the claim carries an explanation;
        ``"not reproducible"`` when ``ours`` is None or NaN; otherwise :data:`UNEXPLAINED`.
    note : str
        The explanation, the reason, or ``""``.
    """
    if ours is None or (not isinstance(ours, bool) and not math.isfinite(float(ours))):
        return NOT_REPRODUCIBLE, reason or "our value could not be computed"
    if claim.is_boolean:
        ok = bool(ours) == claim.paper_value
    else:
        paper = float(claim.paper_value)
        ok = abs(float(ours) - paper) <= max(claim.abs_tol, claim.rel_tol * abs(paper))
    if ok:
        return REPRODUCED, ""
    if claim.explanation:
        return DIFFERS_EXPLAINED, claim.explanation
    return UNEXPLAINED, (f"outside the tolerance ({claim.tolerance_text()}) and the claim carries no explanation: "
                         "fix the computation or add an explanation")


def _run(src: ValueSource) -> tuple[float | bool | None, str]:
    """Value of one source: (value, "") or (None, reason)."""
    if isinstance(src, NotApplicable):
        return None, f"not applicable: {src.reason}"
    try:
        value = src()
    except NotComputable as err:
        return None, str(err)
    if isinstance(value, bool | np.bool_):
        return bool(value), ""
    return float(value), ""


def evaluate(claim_id: str) -> dict[str, object]:
    """Compute one claim (cached): our values, the difference and the status.

    Returns
    -------
    dict
        One ledger row (see :data:`LEDGER_COLUMNS`).

    Raises
    ------
    ValueError
        For an unknown id.
    """
    claim = get_claim(claim_id)
    if claim_id in _CACHE:
        return _CACHE[claim_id]
    paper_data, why_p = _run(claim.ours_paper_data)
    extended, why_e = _run(claim.ours_extended)
    if not isinstance(claim.ours_paper_data, NotApplicable):
        basis, ours, why = "paper data", paper_data, why_p
    else:
        basis, ours, why = "extended data", extended, why_e
    status, note = status_of(claim, ours, why)
    paper = float(claim.paper_value)

    def diff(v: float | bool | None) -> float:
        return np.nan if v is None else float(v) - paper

    def rel(v: float | bool | None) -> float:
        return np.nan if v is None or claim.is_boolean or paper == 0 else 100.0 * (float(v) / paper - 1.0)

    row = {
        "claim_id": claim.claim_id, "chapter": claim.chapter, "section": claim.section, "group": claim.group,
        "statement": claim.statement, "source": claim.source, "paper_text": claim.paper_text,
        "unit": claim.unit, "kind": "yes/no" if claim.is_boolean else "number",
        "paper_value": paper,
        "ours_paper_data": np.nan if paper_data is None else float(paper_data),
        "ours_extended": np.nan if extended is None else float(extended),
        "paper_data_note": why_p, "extended_note": why_e,
        "basis": basis, "difference": diff(ours), "difference_pct": rel(ours),
        "extended_difference_pct": rel(extended),
        "tolerance": claim.tolerance_text(), "tolerance_note": claim.tolerance_note,
        "status": status, "note": note, "explained_in": claim.explained_in if status == DIFFERS_EXPLAINED else None,
        "method": claim.method,
    }
    _CACHE[claim_id] = row
    return row


LEDGER_COLUMNS = (
    "claim_id", "chapter", "section", "group", "statement", "source", "paper_text", "unit", "kind", "paper_value",
    "ours_paper_data", "ours_extended", "paper_data_note", "extended_note", "basis", "difference",
    "difference_pct", "extended_difference_pct", "tolerance", "tolerance_note", "status", "note", "explained_in",
    "method",
)
"""Columns of :func:`ledger`. Values are in the claim's ``unit``; ``difference`` = ours − paper (ours =
the ``basis`` value), ``difference_pct`` = 100·(ours/paper − 1) [%] (NaN for yes/no claims), yes/no values
are 1.0 (yes) and 0.0 (no)."""


def ledger(chapter: str | None = None, *, claims: Iterable[str] | None = None, strict: bool = False) -> pd.DataFrame:
    """The claims ledger: every registered claim with our values, the difference and a computed status.

    Parameters
    ----------
    chapter : str, optional
        Only the claims of this chapter (docname, e.g. ``"chapters/hardware_trends"``).
    claims : iterable of str, optional
        Only these claim ids.
    strict : bool
        Raise :class:`UnexplainedDifferenceError` if any selected claim is outside its tolerance without an
        explanation (the report page and the tests use this).

    Returns
    -------
    pandas.DataFrame
        One row per claim, columns :data:`LEDGER_COLUMNS`: chapters in book order (``_toc.yml``; chapters
        not in it last), claims of a chapter in registration order.

    Raises
    ------
    ValueError
        For an unknown chapter or claim id, listing the allowed values.
    UnexplainedDifferenceError
        With ``strict=True``, naming the offending claims.
    """
    ids = claim_ids(chapter)
    order = _book_order()
    ids.sort(key=lambda cid: order.get(_REGISTRY[cid].chapter, len(order)))  # stable: keeps registration order
    if claims is not None:
        wanted = list(claims)
        for cid in wanted:
            get_claim(cid)
        ids = [cid for cid in ids if cid in set(wanted)]
    out = pd.DataFrame([evaluate(cid) for cid in ids], columns=list(LEDGER_COLUMNS))
    if strict:
        bad = out[out["status"] == UNEXPLAINED]
        if len(bad):
            lines = [f"{r.claim_id} ({r.chapter}): paper {r.paper_text}, ours {r.ours_paper_data if r.basis == 'paper data' else r.ours_extended:.6g} {r.unit}"  # noqa: E501
                     for r in bad.itertuples()]
            raise UnexplainedDifferenceError(
                f"{len(bad)} claim(s) differ from the paper beyond their tolerance with no explanation:\n  "
                + "\n  ".join(lines))
    return out
