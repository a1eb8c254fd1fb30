"""HTML views of the claims ledger: a chapter's box, the report's tables and explanations (the chart of all claims
is :mod:`memwall.claims.ledger_chart`).

Each view reads on a laptop (the 784 px article column of the book at 1400 px) and on a phone (a 358 px column at
390 px): the claims box and the ledger tables are tables whose rows become blocks on a narrow screen (a
claim's text, then "paper · ours · status" on the lines below), by the style sheet :data:`STYLE`, which each
view carries (scoped to its own classes; a page that shows two views gets it twice, harmlessly). Values are
printed by :func:`memwall.reader_table.format_number` with :data:`DIGITS` significant digits, so one column
has one format.
"""

from __future__ import annotations

import html
import math
from functools import cache
from pathlib import Path

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
from memwall.reader_table import format_number

__all__ = ["DIGITS", "STYLE", "HTMLBlock", "chapter_title", "claims_box", "explanations_html", "format_difference",
           "format_value", "is_own_claim", "ledger_html", "our_value", "status_counts"]

STATUS_COLOURS = {REPRODUCED: "#1b7837", DIFFERS_EXPLAINED: "#b35806", NOT_REPRODUCIBLE: "#6b6b6b",
                  UNEXPLAINED: "#d7191c"}
"""Colour of each status (badges and chart): dark enough to read as text on white (contrast >= 4.5:1)."""

DIGITS = 4
"""Significant digits of our values in every view (digits left of the decimal point are never dropped)."""
DIFFERENCE_DIGITS = 2
"""Significant digits of a difference [%]."""

REPORT_DOC = "chapters/reproduction_report"

NARROW_PX = 600
"""Below this viewport width [px] the rows of the claims box and of the ledger become blocks."""

STYLE = f"""<style>
.claims-box-table, .claims-ledger {{ width: 100%; border-collapse: collapse; margin: 0.3em 0 0.6em; }}
.claims-box-table {{ font-size: 0.9em; table-layout: fixed; }}
.claims-ledger {{ font-size: 0.85em; table-layout: fixed; }}
.claims-box-table th, .claims-box-table td, .claims-ledger th, .claims-ledger td {{
  padding: 0.3em 0.45em; vertical-align: top; text-align: left; border-bottom: 1px solid #d0d0d0;
  overflow-wrap: anywhere; }}
.claims-box-table thead th, .claims-ledger thead th {{ font-weight: 600; border-bottom: 2px solid #808080; }}
.claims-box-table th.claim-col {{ width: 40%; }}
.claims-box-table th.ref-col {{ width: 24%; }}
.claims-box-table th.ours-col {{ width: 22%; }}
.claims-box-table th.status-col {{ width: 14%; }}
.claims-box-table td.num, .claims-ledger td.num {{ font-variant-numeric: tabular-nums; }}
.claims-ledger td.num, .claims-ledger th.num {{ text-align: right; }}
.claims-ledger code {{ font-size: 0.92em; overflow-wrap: anywhere; white-space: normal; }}
.claims-ledger small, .claims-box-table small {{ opacity: 0.8; }}
.claims-ledger tr.claims-group th {{ font-weight: 600; background: rgba(128, 128, 128, 0.08); }}
.claims-ledger td.ours strong {{ font-weight: 600; font-variant-numeric: tabular-nums; }}
.claims-ledger .claim-status {{ overflow-wrap: normal; }}
.claims-box-table .claim-status, .claims-ledger .claim-status {{ font-weight: 600; }}
.claims-box-table td, .claims-box-table th {{ overflow-wrap: break-word; }}
.claims-ledger-chapter {{ margin: 1.5em 0 0.2em; text-align: left; }}
.claims-ledger, .claims-box-table {{ text-align: left; }}
@media (max-width: {NARROW_PX}px) {{
  div.claims-box p.admonition-title ~ * {{ margin-left: 0.3rem; margin-right: 0.3rem; }}
  .claims-box-table, .claims-box-table tbody, .claims-box-table tr, .claims-box-table td,
  .claims-ledger, .claims-ledger tbody, .claims-ledger tr, .claims-ledger td, .claims-ledger th {{
    display: block; width: auto; }}
  .claims-box-table thead, .claims-ledger thead, .claims-ledger colgroup {{
    position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }}
  .claims-box-table tr, .claims-ledger tr {{ padding: 0.4em 0; border-bottom: 1px solid #b0b0b0; }}
  .claims-box-table td, .claims-ledger td, .claims-ledger th {{ border: none; padding: 0.05em 0; }}
  .claims-box-table td[data-label], .claims-ledger td[data-label] {{ display: inline; white-space: normal;
    text-align: left; }}
  .claims-box-table td[data-label]::before, .claims-ledger td[data-label]::before {{
    content: attr(data-label) " "; opacity: 0.75; font-size: 0.92em; }}
  .claims-box-table td[data-label] ~ td[data-label]::before,
  .claims-ledger td[data-label] ~ td[data-label]::before {{ content: " · " attr(data-label) " "; }}
  .claims-ledger td[data-label] br {{ display: none; }}
  .claims-ledger tr.claims-group {{ border-bottom: 2px solid #808080; padding-top: 0.8em; }}
}}
</style>"""
"""Style sheet of the claims views (scoped to their classes), emitted with each view."""


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


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(value: float | bool | None, kind: str = "number") -> str:
    """A claim value for display: yes/no, or :data:`DIGITS` significant digits with thousands separators.

    Parameters
    ----------
    value : float, bool or None
        The value (in the claim's unit); None or NaN is shown as "—".
    kind : {"number", "yes/no"}
        The claim's kind (the ledger's ``kind`` column).

    Returns
    -------
    str
        "yes" / "no", or e.g. "1,326", "506", "22.43", "0.1417".

    Raises
    ------
    ValueError
        For another ``kind``.
    """
    if kind not in ("number", "yes/no"):
        raise ValueError(f"kind={kind!r} must be 'number' or 'yes/no'")
    if _missing(value):
        return "—"
    if kind == "yes/no":
        return "yes" if value else "no"
    return format_number(float(value), DIGITS)


def _signed(value: float, digits: int) -> str:
    text = format_number(value, digits)
    return text.replace("-", "−", 1) if text.startswith("-") else ("±0" if text == "0" else f"+{text}")


def format_difference(row: pd.Series) -> str:
    """Ours over the paper's, minus one, of a ledger row: "+0.74 %", "−12 %" (:data:`DIFFERENCE_DIGITS`
    significant digits); the absolute difference with its unit where the paper's value is 0; "—" for a
    yes/no claim or a missing value."""
    if row["kind"] == "yes/no" or _missing(row["difference"]):
        return "—"
    if not _missing(row["difference_pct"]):
        return f"{_signed(row['difference_pct'], DIFFERENCE_DIGITS)} %"
    return f"{_signed(row['difference'], DIGITS)} {row['unit']}"


def _badge(status: str) -> str:
    colour = STATUS_COLOURS.get(status, "#000")
    return f'<span class="claim-status" style="color:{colour}">{html.escape(status)}</span>'


def our_value(row: pd.Series) -> float:
    """The value a ledger row compares with the paper's: ours from the paper's data where that is its basis,
    else ours from extended data.

    Parameters
    ----------
    row : pandas.Series
        A row of :func:`memwall.claims.ledger.ledger` (``basis``, ``ours_paper_data``, ``ours_extended``).

    Returns
    -------
    float
        The value, in the claim's unit (NaN where it is missing).
    """
    return row["ours_paper_data"] if row["basis"] == "paper data" else row["ours_extended"]


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


def _cell(label: str, content: str, css: str = "") -> str:
    """A value cell: its header in ``data-label`` (shown before the value on a phone)."""
    cls = f' class="{css}"' if css else ""
    return f'<td data-label="{html.escape(label, quote=True)}"{cls}>{content}</td>'


def claims_box(chapter: str) -> HTMLBlock:
    """A short "claims checked here" box for one chapter (HTML, admonition style).

    One row per claim (claim, paper, ours, status); claims that share a ``group`` (the cells of one
    published table) are summarised in one row with their status counts. On a narrow screen each row is a
    block: the claim's text, then "Paper … · Ours … · Status …" below it. Links to the reproduction report.

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
    own = int(table.apply(is_own_claim, axis=1).sum())
    reference = "Reference" if own else "Paper"
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
            rows.append(f'<tr><td class="claim-text">{html.escape(group[0].upper() + group[1:])}</td>'
                        + _cell(reference, f"{len(members)} reference values")
                        + _cell("Ours", f"{int((members['status'] == REPRODUCED).sum())} within tolerance")
                        + _cell("Status", status_cell, "status" if members["status"].nunique() == 1 else "")
                        + "</tr>")
            continue
        ours = format_value(our_value(r), r["kind"])
        unit = "" if r["kind"] == "yes/no" or ours == "—" else f" {html.escape(r['unit'])}"
        rows.append(f'<tr><td class="claim-text">{html.escape(r["statement"])}</td>'
                    + _cell(reference, html.escape(r["paper_text"]))
                    + _cell("Ours", f"{ours}{unit}", "num")
                    + _cell("Status", _badge(r["status"]), "status") + "</tr>")
    anchor = make_id(chapter_title(chapter))
    title = "Claims checked in this chapter" if own else "Claims of the paper checked in this chapter"
    note = ("" if not own else
            f" {own} of them are this book's own (the reference says <em>this book</em> or <em>our claim</em>): "
            "a derivation or a number of ours, checked against the code, not a claim of the paper.")
    markup = (
        '<div class="admonition note claims-box">'
        f'<p class="admonition-title">{title}</p>{STYLE}'
        '<div class="claims-box-body"><table class="claims-box-table">'
        f'<thead><tr><th scope="col" class="claim-col">Claim</th><th scope="col" class="ref-col">{reference}</th>'
        '<th scope="col" class="ours-col">Ours</th><th scope="col" class="status-col">Status</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        f'<p>Summary: {html.escape(_counts_text(table))}.{note} Tolerances, methods and explanations: '
        f'<a href="{_href(REPORT_DOC, None, from_doc=chapter)}#{anchor}">Reproduction report</a>.</p></div>')
    return HTMLBlock(markup)


def is_own_claim(row: pd.Series) -> bool:
    """Whether a ledger row is this book's own claim (a derivation or number of ours), not the paper's or a
    cited publication's: its ``source`` starts with "this book", or its ``paper_text`` says "this book" or
    "our claim"."""
    text = f"{row['paper_text']}".lower()
    return f"{row['source']}".lower().startswith("this book") or "this book" in text or "our claim" in text


LEDGER_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("Claim", "", "35%"), ("Paper", "", "17%"), ("Ours", "", "20%"), ("Difference [%]", "num", "14%"),
    ("Status", "", "14%"),
)
"""Header, cell class and width (share of the article) of each column of a ledger table."""

_BASIS_WORDS = {"paper data": "the paper's data", "extended data": "extended data"}


def _ours_cell(r: pd.Series) -> str:
    """Our value that the status compares (bold, with the unit); under it "from extended data" where it is not
    from the paper's data, and our value from the other data where there is one."""
    compared = "paper data" if r["basis"] == "paper data" else "extended data"
    other = "extended data" if compared == "paper data" else "paper data"
    column = {"paper data": "ours_paper_data", "extended data": "ours_extended"}
    value = format_value(r[column[compared]], r["kind"])
    unit = "" if r["kind"] == "yes/no" or value == "—" else f" {html.escape(r['unit'])}"
    notes = [] if compared == "paper data" else [f"from {_BASIS_WORDS[compared]}"]
    if not _missing(r[column[other]]):
        notes.append(f"{_BASIS_WORDS[other]}: {format_value(r[column[other]], r['kind'])}")
    note = f" <br><small>{html.escape('; '.join(notes))}</small>" if notes else ""
    return f"<strong>{value}</strong>{unit}{note}"


def _ledger_row(r: pd.Series) -> str:
    cid = html.escape(r["claim_id"])
    return (f'<tr id="claim-{cid}"><td class="claim-text">{html.escape(r["statement"])}<br>'
            f"<small><code>{cid}</code> · {html.escape(r['source'])}</small></td>"
            + _cell("Paper", html.escape(r["paper_text"]))
            + _cell("Ours", _ours_cell(r), "ours")
            + _cell("Difference", f"{html.escape(format_difference(r))} <br><small>tol. "
                                  f"{html.escape(r['tolerance'])}</small>", "num")
            + _cell("Status", _badge(r["status"])) + "</tr>")


def ledger_html(table: pd.DataFrame | None = None) -> HTMLBlock:
    """The full ledger as HTML tables, one per chapter (a heading row per group of claims).

    Every table fits the article at 1400 px (fixed column widths; long words wrap); on a narrow screen each
    row is a block: the claim, then "Paper … · Ours … · Difference … · Status …". The "Ours" cell gives, in
    bold, the value the status compares with the paper's (from the paper's data where there is one, else from
    extended data, then marked so) with its unit, and under it our value from the other data if there is
    one. Each row's id is ``claim-<claim_id>``, each chapter's paragraph id the chapter title's (links from
    the chapters' boxes and the explanations point at them).

    Parameters
    ----------
    table : pandas.DataFrame, optional
        A ledger (default: the whole ledger, ``strict=True``).

    Returns
    -------
    HTMLBlock
    """
    table = ledger(strict=True) if table is None else table
    colgroup = "<colgroup>" + "".join(f'<col style="width:{w}">' for _, _, w in LEDGER_COLUMNS) + "</colgroup>"
    head = "<thead><tr>" + "".join(
        f'<th scope="col"{f" class={css!r}" if css else ""}>{html.escape(h)}</th>'
        for h, css, _ in LEDGER_COLUMNS) + "</tr></thead>"
    parts = [STYLE]
    for chapter in dict.fromkeys(table["chapter"]):
        sub = table[table["chapter"] == chapter]
        title = chapter_title(chapter)
        body, last_group = [], None
        for _, r in sub.iterrows():
            group = r["group"] if isinstance(r["group"], str) else None
            if group != last_group and group is not None:
                body.append(f'<tr class="claims-group"><th colspan="{len(LEDGER_COLUMNS)}">'
                            f"{html.escape(group[0].upper() + group[1:])}</th></tr>")
            last_group = group
            body.append(_ledger_row(r))
        parts.append(
            f'<p id="{make_id(title)}" class="claims-ledger-chapter"><strong><a href="{_href(chapter)}">'
            f"{html.escape(title)}</a></strong> — {html.escape(_counts_text(sub))}</p>"
            f'<table class="claims-ledger">{colgroup}{head}<tbody>{"".join(body)}</tbody></table>')
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
    body = f"<ul>{''.join(items)}</ul>" if items else "<p>Every claim is reproduced.</p>"
    return HTMLBlock('<style>.claims-explanations code { overflow-wrap: anywhere; white-space: normal; }'
                     '.claims-explanations .claim-status { font-weight: 600; }</style>'
                     f'<div class="claims-explanations">{body}</div>')
