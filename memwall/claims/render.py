"""HTML views of the claims ledger: a chapter's box, the report's tables, explanations and a chart."""

from __future__ import annotations

import html
import math
from functools import cache
from pathlib import Path

import altair as alt
import pandas as pd
from docutils.nodes import make_id

from memwall.claims.core import (
    DIFFERS_EXPLAINED,
    NOT_REPRODUCIBLE,
    REPRODUCED,
    STATUSES,
    UNEXPLAINED,
    chapters,
)
from memwall.claims.ledger import ledger

__all__ = ["HTMLBlock", "chapter_title", "claims_box", "claims_chart", "explanations_html", "format_value",
           "is_own_claim", "ledger_html", "status_counts"]

STATUS_COLOURS = {REPRODUCED: "#1b7837", DIFFERS_EXPLAINED: "#b35806", NOT_REPRODUCIBLE: "#6b6b6b",
                  UNEXPLAINED: "#d7191c"}
"""Colour of each status (badges and chart)."""

REPORT_DOC = "chapters/reproduction_report"


class HTMLBlock:
    """A fragment of HTML that Jupyter (and myst-nb) displays as HTML; ``str()`` gives the markup."""

    def __init__(self, markup: str) -> None:
        self.markup = markup

    def _repr_html_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup


@cache
def chapter_title(docname: str) -> str:
    """Title of a chapter: the first ``# `` heading of its ``.md`` file (the docname if none is found)."""
    path = Path(__file__).resolve().parents[2] / f"{docname}.md"
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return docname


def _href(docname: str, section: str | None = None, *, from_doc: str = REPORT_DOC) -> str:
    """Relative link between two pages of the built book (both under ``chapters/``)."""
    same_dir = Path(docname).parent == Path(from_doc).parent
    target = f"{Path(docname).name}.html" if same_dir else f"../{docname}.html"
    return target + (f"#{make_id(section)}" if section else "")


def format_value(value: float, kind: str = "number") -> str:
    """A claim value for display: yes/no, thousands separators, about 4 significant digits; NaN -> "—"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if kind == "yes/no":
        return "yes" if value else "no"
    v = float(value)
    if abs(v) >= 1000 or v.is_integer():
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.1f}"
    if abs(v) >= 1:
        return f"{v:.3f}".rstrip("0").rstrip(".") if v != int(v) else f"{v:.0f}"
    return f"{v:.3g}"


def _badge(status: str) -> str:
    colour = STATUS_COLOURS.get(status, "#000")
    return (f'<span class="claim-status" style="color:{colour};font-weight:600;white-space:nowrap">'
            f"{html.escape(status)}</span>")


def _ours(row: pd.Series) -> float:
    return row["ours_paper_data"] if row["basis"] == "paper data" else row["ours_extended"]


def _diff_text(row: pd.Series) -> str:
    if row["kind"] == "yes/no" or math.isnan(row["difference"]):
        return "—"
    if not math.isnan(row["difference_pct"]):
        return f"{row['difference_pct']:+.1f} %"
    return f"{row['difference']:+.3g}"


def status_counts(table: pd.DataFrame | None = None) -> dict[str, int]:
    """Number of claims per status (every status of :data:`STATUSES`, zeros included).

    Parameters
    ----------
    table : pandas.DataFrame, optional
        A ledger (default: the whole ledger).

    Returns
    -------
    dict of str to int
        Status -> count; :data:`UNEXPLAINED` is added only when present.
    """
    table = ledger() if table is None else table
    counts = {s: int((table["status"] == s).sum()) for s in STATUSES}
    if (table["status"] == UNEXPLAINED).any():
        counts[UNEXPLAINED] = int((table["status"] == UNEXPLAINED).sum())
    return counts


def _counts_text(table: pd.DataFrame) -> str:
    return ", ".join(f"{n} {s}" for s, n in status_counts(table).items() if n)


def _check_chapter_file(chapter: str) -> None:
    """Refuse a docname that is no chapter (a typo must not pass as "no claims here")."""
    import re

    if not re.match(r"^chapters/[a-z0-9_]+$", str(chapter)):
        raise ValueError(f"chapter={chapter!r} is not a chapter docname like 'chapters/hardware_trends'")
    folder = Path(__file__).resolve().parents[2] / "chapters"
    if folder.is_dir() and not (folder / f"{chapter.split('/', 1)[1]}.md").is_file():
        raise ValueError(f"chapter={chapter!r}: there is no {chapter}.md; chapters with claims: "
                         f"{', '.join(chapters())}")


def claims_box(chapter: str) -> HTMLBlock:
    """A short "claims checked here" box for one chapter (HTML, admonition style).

    One row per claim (claim, paper, ours, status); claims that share a ``group`` (the cells of one
    published table) are summarised in one row with their status counts. Links to the reproduction report.

    Parameters
    ----------
    chapter : str
        Docname, e.g. ``"chapters/hardware_trends"``.

    Returns
    -------
    HTMLBlock
        Displayed as HTML in a notebook.

    Raises
    ------
    ValueError
        For a name that is not a chapter docname (``chapters/<name>``), or, in a clone, names no
        ``chapters/<name>.md``; a chapter that registers no claims gets a box saying so.
    UnexplainedDifferenceError
        If one of the chapter's claims differs beyond its tolerance without an explanation.
    """
    if chapter not in chapters():
        _check_chapter_file(chapter)  # a chapter of the book that checks no claim gets a box that says so
        return HTMLBlock(
            '<div class="admonition note claims-box">'
            '<p class="admonition-title">Claims of the paper checked in this chapter</p>'
            "<p>No claim of the paper is checked in this chapter. Those the book checks are listed in the "
            f'<a href="{_href(REPORT_DOC, None, from_doc=chapter)}">Reproduction report</a>.</p></div>')
    table = ledger(chapter, strict=True)
    rows = []
    done: set[str] = set()
    for _, r in table.iterrows():
        group = r["group"]
        if isinstance(group, str):
            if group in done:
                continue
            done.add(group)
            members = table[table["group"] == group]
            worst = next((s for s in (UNEXPLAINED, NOT_REPRODUCIBLE, DIFFERS_EXPLAINED, REPRODUCED)
                          if (members["status"] == s).any()), REPRODUCED)
            status_cell = _badge(worst) if members["status"].nunique() == 1 else html.escape(_counts_text(members))
            rows.append(f"<tr><td>{html.escape(group[0].upper() + group[1:])}</td>"
                        f"<td>{len(members)} reference values</td>"
                        f"<td>{int((members['status'] == REPRODUCED).sum())} within tolerance</td>"
                        f"<td>{status_cell}</td></tr>")
            continue
        ours = format_value(_ours(r), r["kind"])
        unit = "" if r["kind"] == "yes/no" or ours == "—" else f" {html.escape(r['unit'])}"
        rows.append(f"<tr><td>{html.escape(r['statement'])}</td><td>{html.escape(r['paper_text'])}</td>"
                    f"<td>{ours}{unit}</td><td>{_badge(r['status'])}</td></tr>")
    anchor = make_id(chapter_title(chapter))
    own = int(table.apply(is_own_claim, axis=1).sum())
    title, reference = ("Claims of the paper checked in this chapter", "Paper") if not own else (
        "Claims checked in this chapter", "Reference")
    note = ("" if not own else
            f" {own} of them are this book's own (the reference says <em>this book</em> or <em>our claim</em>): "
            "a derivation or a number of ours, checked against the code, not a claim of the paper.")
    markup = (
        '<div class="admonition note claims-box">'
        f'<p class="admonition-title">{title}</p>'
        '<table class="claims-box-table" style="font-size:0.9em">'
        f"<thead><tr><th>Claim</th><th>{reference}</th><th>Ours</th><th>Status</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        f'<p>Summary: {html.escape(_counts_text(table))}.{note} Tolerances, methods and explanations: '
        f'<a href="{_href(REPORT_DOC, None, from_doc=chapter)}#{anchor}">Reproduction report</a>.</p></div>')
    return HTMLBlock(markup)


def is_own_claim(row: pd.Series) -> bool:
    """Whether a ledger row is this book's own claim (a derivation or number of ours), not the paper's or a
    cited publication's: its ``source`` starts with "this book", or its ``paper_text`` says "this book" or
    "our claim"."""
    text = f"{row['paper_text']}".lower()
    return f"{row['source']}".lower().startswith("this book") or "this book" in text or "our claim" in text


def ledger_html(table: pd.DataFrame | None = None) -> HTMLBlock:
    """The full ledger as HTML tables, one per chapter (a heading row per group of claims).

    Parameters
    ----------
    table : pandas.DataFrame, optional
        A ledger (default: the whole ledger, ``strict=True``).

    Returns
    -------
    HTMLBlock
    """
    table = ledger(strict=True) if table is None else table
    parts = []
    for chapter in dict.fromkeys(table["chapter"]):
        sub = table[table["chapter"] == chapter]
        title = chapter_title(chapter)
        body, last_group = [], None
        for _, r in sub.iterrows():
            group = r["group"] if isinstance(r["group"], str) else None
            if group != last_group and group is not None:
                body.append(f'<tr><th colspan="7" style="text-align:left">{html.escape(group)}</th></tr>')
            last_group = group
            unit = html.escape(r["unit"])
            body.append(
                f'<tr id="claim-{html.escape(r["claim_id"])}"><td><code>{html.escape(r["claim_id"])}</code><br>'
                f'{html.escape(r["statement"])}<br><small>{html.escape(r["source"])}</small></td>'
                f"<td>{html.escape(r['paper_text'])}</td>"
                f"<td>{format_value(r['ours_paper_data'], r['kind'])}</td>"
                f"<td>{format_value(r['ours_extended'], r['kind'])}</td>"
                f"<td>{unit}</td><td>{_diff_text(r)}<br><small>tol. {html.escape(r['tolerance'])}</small></td>"
                f"<td>{_badge(r['status'])}</td></tr>")
        parts.append(
            f'<p id="{make_id(title)}" style="margin-top:1.5em"><strong><a href="{_href(chapter)}">'
            f"{html.escape(title)}</a></strong> — {html.escape(_counts_text(sub))}</p>"
            '<div style="overflow-x:auto"><table class="claims-ledger" style="font-size:0.85em">'
            "<thead><tr><th>Claim</th><th>Paper</th><th>Ours (paper's data)</th><th>Ours (extended data)</th>"
            "<th>Unit</th><th>Difference</th><th>Status</th></tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")
    return HTMLBlock("".join(parts))


def explanations_html(table: pd.DataFrame | None = None) -> HTMLBlock:
    """Why each claim that is not reproduced differs or cannot be computed, one item per distinct reason.

    Parameters
    ----------
    table : pandas.DataFrame, optional
        A ledger (default: the whole ledger, ``strict=True``).

    Returns
    -------
    HTMLBlock
        A bulleted list: status, the claims (linked to their rows), the reason and the chapter section
        that explains it.
    """
    table = ledger(strict=True) if table is None else table
    off = table[table["status"] != REPRODUCED]
    items = []
    for (status, note, chapter, where), grp in off.groupby(
            ["status", "note", "chapter", off["explained_in"].fillna("")], sort=False):
        ids = ", ".join(f'<a href="#claim-{c}"><code>{html.escape(c)}</code></a>' for c in grp["claim_id"])
        see = (f' See <a href="{_href(chapter, where)}">{html.escape(chapter_title(chapter))}, '
               f'“{html.escape(where)}”</a>.') if where else ""
        items.append(f"<li>{_badge(status)} ({len(grp)}): {ids}. {html.escape(note)}{see}</li>")
    return HTMLBlock(f"<ul>{''.join(items)}</ul>" if items else "<p>Every claim is reproduced.</p>")


def claims_chart(table: pd.DataFrame | None = None, *, title: str = "") -> alt.Chart:
    """Our value over the paper's for every numeric claim, log scale, coloured by status.

    Parameters
    ----------
    table : pandas.DataFrame, optional
        A ledger (default: the whole ledger).
    title : str
        Chart title.

    Returns
    -------
    altair.Chart
        One point per numeric claim with positive values; y = chapter, x = ours / paper [x] (log).
    """
    table = ledger() if table is None else table
    num = table[(table["kind"] == "number")].copy()
    num["ours"] = [_ours(r) for _, r in num.iterrows()]
    num = num[(num["paper_value"] > 0) & (num["ours"] > 0)]
    num["ratio"] = num["ours"] / num["paper_value"]
    num["chapter_title"] = num["chapter"].map(chapter_title)
    domain = [s for s in (*STATUSES, UNEXPLAINED) if s in set(table["status"]) or s in STATUSES]
    points = alt.Chart(num[["claim_id", "statement", "paper_text", "ours", "unit", "ratio", "status",
                            "chapter_title"]]).mark_circle(size=55, opacity=0.75).encode(
        x=alt.X("ratio:Q", scale=alt.Scale(type="log"), title="ours / paper [x] (log scale)"),
        y=alt.Y("chapter_title:N", title=None, sort=[chapter_title(c) for c in chapters()]),
        yOffset=alt.YOffset("jitter:Q"),
        color=alt.Color("status:N", scale=alt.Scale(domain=domain, range=[STATUS_COLOURS[s] for s in domain]),
                        title="status", legend=alt.Legend(orient="bottom", direction="horizontal")),
        tooltip=["claim_id", "statement", "paper_text", alt.Tooltip("ours:Q", format=".4g"), "unit",
                 alt.Tooltip("ratio:Q", format=".3f"), "status"],
    ).transform_calculate(jitter="random()")
    one = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(strokeDash=[4, 3], color="#444").encode(x="x:Q")
    return (one + points).properties(title=title, height=alt.Step(38), width=460)
