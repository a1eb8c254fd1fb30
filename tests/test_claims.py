"""The claims ledger: every claim of the paper is registered, statuses follow the rules, outputs and errors."""

from __future__ import annotations

import io
import json
import math

import pandas as pd
import pytest

from memwall import claims
from memwall.claims import Claim, NotApplicable, NotComputable
from memwall.cli import main

from .conftest import ROOT, toc_pages

# The paper's headline numbers (Gholami et al., AI and Memory Wall, arXiv 2403.14123: abstract and the legends
# of Figs. 1-3), one id per printed number.
HEADLINE_IDS = [
    "hw-flops-per-2y", "hw-flops-per-20y", "hw-dram-per-2y", "hw-dram-per-20y", "hw-interconnect-per-2y",
    "hw-interconnect-per-20y", "hw-gap-per-2y", "hw-period-years", "mg-transformer-size-per-2y",
    "mg-accelerator-memory-per-2y", "mg-training-compute-per-2y", "mg-moores-law-per-2y",
    "mg-cv-nlp-speech-compute-per-2y",
]
# The survey's case study (Kim et al., arXiv 2302.14017, Figs. 4, 5, 6, 9 and 32): every model x length.
CASE_TABLE_IDS = [f"survey-{metric}-{model}-{n}"
                  for metric in ("gflops", "gmops", "ai", "lat-cpu", "lat-analytic")
                  for model in ("bert-base", "bert-large", "gpt2")
                  for n in (128, 256, 512, 1024, 2048, 4096)]
# Its qualitative conclusions 1-6 (survey §2.2 summary), as numbers or yes/no.
CONCLUSION_IDS = [
    "case-1-flops-superlinear", "case-1-mops-superlinear", "case-1-ffn-dominates-short",
    "case-2-ai-peak-bert-base", "case-2-ai-peak-bert-large", "case-2-act-to-act-flops-4096",
    "case-2-act-to-act-other-mops-4096", "case-3-decoder-ai-2", "case-4-flops-ratio-128", "case-4-flops-ratio-4096",
    "case-4-mops-ratio-128", "case-4-mops-ratio-4096", "case-5-latency-ratio-128", "case-5-latency-ratio-4096",
    "case-5-slower-despite-fewer-flops", "case-6-nonlinear-flops-small", "case-6-nonlinear-mops-128",
    "case-6-nonlinear-mops-4096",
]
OTHER_IDS = ["tm-bert-large-total", "tm-gpt2-total", "tm-transformer-big-total", "tm-bars-under-limit",
             "mit-zero-shards-optimizer", "mit-recompute-cuts-activations", "mit-quantization-size-latency",
             "mit-decode-memory-bound"]
BEYOND_IDS = ["gpu-decode-memory-bound", "gpu-prefill-faster-per-token", "beyond-fused-attention-no-fall",
              "beyond-moe-touches-most-experts", "beyond-tp-interconnect-limits", "beyond-balance-gap-rate"]
CHAPTERS_WITH_BOX = [page for page in toc_pages() if page.startswith("chapters/")
                     and f'claims_box("{page}")' in (ROOT / f"{page}.md").read_text(encoding="utf-8")]
"""The chapters of ``_toc.yml`` (in book order) that show a claims box: the ledger's chapters, in that order."""


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return claims.ledger()


def _synthetic(claim_id: str = "test-synthetic", **kw: object) -> Claim:
    base = dict(claim_id=claim_id, chapter="chapters/hardware_trends", statement="A test claim.",
                paper_value=10.0, paper_text="10x", unit="x", source="nowhere", method="constant",
                ours_paper_data=lambda: 10.4, ours_extended=NotApplicable("test"), abs_tol=0.5)
    base.update(kw)
    return Claim(**base)


# ---------------------------------------------------------------------------------------------- registry


@pytest.mark.parametrize("claim_id", HEADLINE_IDS + CASE_TABLE_IDS + CONCLUSION_IDS + OTHER_IDS + BEYOND_IDS)
def test_every_expected_claim_is_registered_with_a_status(table, claim_id):
    row = table.set_index("claim_id").loc[claim_id]
    assert row["status"] in claims.STATUSES


def test_ledger_has_no_unexplained_difference(table):
    bad = table[table["status"] == claims.UNEXPLAINED]
    assert bad.empty, "claims outside tolerance without an explanation:\n" + bad[
        ["claim_id", "paper_value", "ours_paper_data", "ours_extended"]].to_string()
    claims.ledger(strict=True)  # and the strict ledger does not raise


def test_ledger_columns_units_and_order(table):
    assert list(table.columns) == list(claims.LEDGER_COLUMNS)
    assert table["claim_id"].is_unique
    assert table["unit"].str.len().min() > 0
    assert set(table["kind"]) == {"number", "yes/no"}
    assert set(table["basis"]) <= {"paper data", "extended data"}
    # every chapter with claims shows a box, and the chapters appear in book order (a lab with a box and
    # no registered claim is not in the ledger)
    with_claims = set(claims.chapters())
    assert with_claims <= set(CHAPTERS_WITH_BOX), "a chapter registers claims but shows no claims box"
    assert list(dict.fromkeys(table["chapter"])) == [c for c in CHAPTERS_WITH_BOX if c in with_claims]


def test_paper_values_are_the_printed_ones(table):
    t = table.set_index("claim_id")
    # abstract and Fig. 1 legend: 3.0x, 1.6x, 1.4x per 2 years; Fig. 2/3 legends: 410x, 2x, 750x
    assert t.loc["hw-flops-per-2y", "paper_value"] == 3.0
    assert t.loc["hw-dram-per-2y", "paper_value"] == 1.6
    assert t.loc["hw-interconnect-per-2y", "paper_value"] == 1.4
    assert t.loc["mg-transformer-size-per-2y", "paper_value"] == 410.0
    assert t.loc["mg-accelerator-memory-per-2y", "paper_value"] == 2.0
    assert t.loc["mg-training-compute-per-2y", "paper_value"] == 750.0
    # survey Fig. 9: GPT-2 at l = 128 takes 45x BERT-Base; Table 3: BERT-Base 22.42 GFLOPs, Table 11: GPT-2 22.12
    assert t.loc["survey-lat-cpu-gpt2-128", "paper_value"] == 45.0
    assert t.loc["case-5-latency-ratio-128", "paper_value"] == pytest.approx(45.0)
    assert t.loc["case-4-flops-ratio-128", "paper_value"] == pytest.approx(22.12 / 22.42)


def test_headline_rates_reproduced_from_the_papers_points(table):
    # Refits of the vector figures give 3.026x, 1.592x, 1.415x, 413x, 1.86x, 750.7x, 14.8x per 2 years
    # (paper_claims research notes, from the repository's PDF coordinates): all within the printed rounding.
    t = table.set_index("claim_id")
    for cid, refit in [("hw-flops-per-2y", 3.026), ("hw-dram-per-2y", 1.592), ("hw-interconnect-per-2y", 1.415),
                       ("mg-transformer-size-per-2y", 413), ("mg-accelerator-memory-per-2y", 1.86),
                       ("mg-cv-nlp-speech-compute-per-2y", 14.8)]:
        assert t.loc[cid, "ours_paper_data"] == pytest.approx(refit, rel=0.01)
        assert t.loc[cid, "status"] == claims.REPRODUCED
    assert t.loc["mg-moores-law-per-2y", "status"] == claims.NOT_REPRODUCIBLE
    assert "reference line" in t.loc["mg-moores-law-per-2y", "note"]


def test_decoder_intensity_and_bert_large_statuses(table):
    t = table.set_index("claim_id")
    # decode at 1 B/element: one multiply-add (2 FLOPs) per weight byte -> about 2 FLOP/B
    assert t.loc["case-3-decoder-ai-2", "ours_paper_data"] == pytest.approx(2.0, abs=0.05)
    assert t.loc["case-3-decoder-ai-2", "status"] == claims.REPRODUCED
    # BERT-Large's published FLOPs miss one projection per layer: 4 d^2 l of ~ (24 d^2 l + 4 d l^2): 5-9 % above
    row = t.loc["survey-gflops-bert-large-512"]
    assert row["status"] == claims.DIFFERS_EXPLAINED
    assert 4.0 < row["difference_pct"] < 10.0
    assert row["explained_in"] == "The survey's numbers, recomputed"


def test_ledger_is_fast():
    import time

    for cid in claims.claim_ids():  # drop the per-claim cache, keep the data caches warm
        claims.core._CACHE.pop(cid, None)
    start = time.perf_counter()
    claims.ledger()
    assert time.perf_counter() - start < 10.0


# ---------------------------------------------------------------------------------------------- status rules


def test_status_within_tolerance():
    c = _synthetic()
    assert claims.status_of(c, 10.4) == (claims.REPRODUCED, "")
    assert claims.status_of(c, 9.5)[0] == claims.REPRODUCED  # boundary: |diff| = abs_tol
    rel = _synthetic(abs_tol=0.0, rel_tol=0.02)
    assert claims.status_of(rel, 10.2)[0] == claims.REPRODUCED
    assert claims.status_of(rel, 10.3)[0] == claims.UNEXPLAINED


def test_status_outside_tolerance_with_and_without_explanation():
    plain = _synthetic()
    status, note = claims.status_of(plain, 12.0)
    assert status == claims.UNEXPLAINED and "no explanation" in note
    explained = _synthetic(explanation="Because the paper rounds differently.", explained_in="Some section")
    assert claims.status_of(explained, 12.0) == (claims.DIFFERS_EXPLAINED, "Because the paper rounds differently.")


def test_status_not_computable_and_booleans():
    c = _synthetic()
    assert claims.status_of(c, None, "no data") == (claims.NOT_REPRODUCIBLE, "no data")
    assert claims.status_of(c, float("nan"))[0] == claims.NOT_REPRODUCIBLE
    yes = _synthetic(paper_value=True, unit="yes/no", abs_tol=0.0)
    assert claims.status_of(yes, True)[0] == claims.REPRODUCED
    assert claims.status_of(yes, False)[0] == claims.UNEXPLAINED


def test_registered_synthetic_claims_end_to_end():
    def raises() -> float:
        raise NotComputable("the figure has no points")

    made = [
        _synthetic("test-ok"),
        _synthetic("test-explained", ours_paper_data=lambda: 20.0, explanation="Known cause."),
        _synthetic("test-nc", ours_paper_data=raises),
        _synthetic("test-extended-only", ours_paper_data=NotApplicable("no paper data"), ours_extended=lambda: 10.1),
        _synthetic("test-bad", ours_paper_data=lambda: 99.0),
    ]
    try:
        for c in made:
            claims.register(c)
        t = claims.ledger(claims=[c.claim_id for c in made]).set_index("claim_id")
        assert t.loc["test-ok", "status"] == claims.REPRODUCED
        assert t.loc["test-ok", "difference"] == pytest.approx(0.4)
        assert t.loc["test-ok", "difference_pct"] == pytest.approx(4.0)
        assert t.loc["test-explained", "status"] == claims.DIFFERS_EXPLAINED
        assert t.loc["test-nc", "status"] == claims.NOT_REPRODUCIBLE
        assert t.loc["test-nc", "note"] == "the figure has no points"
        assert t.loc["test-extended-only", "basis"] == "extended data"
        assert t.loc["test-extended-only", "status"] == claims.REPRODUCED
        assert t.loc["test-bad", "status"] == claims.UNEXPLAINED
        with pytest.raises(claims.UnexplainedDifferenceError, match="test-bad"):
            claims.ledger(claims=["test-bad"], strict=True)
    finally:
        for c in made:
            if c.claim_id in claims.claim_ids():
                claims.unregister(c.claim_id)


def test_a_bug_in_a_value_function_is_not_a_status():
    claims.register(_synthetic("test-bug", ours_paper_data=lambda: 1 / 0))
    try:
        with pytest.raises(ZeroDivisionError):
            claims.ledger(claims=["test-bug"])
    finally:
        claims.unregister("test-bug")


# ---------------------------------------------------------------------------------------------- errors


def test_unknown_chapter_and_claim_name_allowed_values():
    with pytest.raises(ValueError, match="allowed: chapters/hardware_trends"):
        claims.ledger("chapters/nope")
    with pytest.raises(ValueError, match=r"did you mean hw-flops-per-2y.*allowed: hw-flops-per-2y"):
        claims.get_claim("hw-flops-per-2")
    with pytest.raises(ValueError, match="is not registered"):
        claims.ledger(claims=["nope"])


def test_bad_claims_are_rejected():
    with pytest.raises(ValueError, match="already registered"):
        claims.register(_synthetic("hw-flops-per-2y"))
    with pytest.raises(ValueError, match="has no file"):
        claims.register(_synthetic("test-x", chapter="chapters/no_such_chapter"))
    with pytest.raises(ValueError, match="docname"):
        _synthetic(chapter="hardware_trends")
    with pytest.raises(ValueError, match="at least one"):
        _synthetic(ours_paper_data=NotApplicable("a"), ours_extended=NotApplicable("b"))
    with pytest.raises(ValueError, match="finite number or a bool"):
        _synthetic(paper_value=math.nan)
    with pytest.raises(ValueError, match="lower case"):
        _synthetic("Bad Id")


def test_explained_in_names_a_heading_of_the_chapter(root):
    for cid in claims.claim_ids():
        c = claims.get_claim(cid)
        if c.explained_in is None:
            continue
        text = (root / f"{c.chapter}.md").read_text(encoding="utf-8")
        headings = [line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")]
        assert c.explained_in in headings, f"{cid}: {c.explained_in!r} is not a heading of {c.chapter}.md"


# ---------------------------------------------------------------------------------------------- views


@pytest.mark.parametrize("chapter", CHAPTERS_WITH_BOX)
def test_claims_box_per_chapter(chapter):
    box = str(claims.claims_box(chapter))
    assert box.startswith('<div class="admonition note claims-box">')
    if chapter in claims.chapters():
        assert "reproduction_report.html#" in box
        assert any(s in box for s in claims.STATUSES)
    else:  # a lab that checks no claim
        assert "No claim of the paper is checked in this chapter" in box


def test_report_views():
    t = claims.ledger()
    html = str(claims.ledger_html(t))
    for cid in HEADLINE_IDS + CASE_TABLE_IDS:
        assert f'id="claim-{cid}"' in html
    expl = str(claims.explanations_html(t))
    assert "#claim-hw-period-years" in expl and "hardware_trends.html#" in expl
    spec = claims.claims_chart(t).to_dict()
    points = next(layer for layer in spec["layer"] if layer.get("mark", {}).get("type") == "circle")
    assert points["encoding"]["x"]["scale"]["type"] == "log"
    counts = claims.status_counts(t)
    assert sum(counts.values()) == len(t)
    assert set(counts) == set(claims.STATUSES)


# ---------------------------------------------------------------------------------------------- CLI


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_cli_claims_formats(capsys, fmt):
    assert main(["claims", "--chapter", "chapters/hardware_trends", "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        rows = json.loads(out)
        assert {r["claim_id"] for r in rows} >= {"hw-flops-per-2y", "hw-dram-per-2y"}
        assert set(rows[0]) == set(claims.LEDGER_COLUMNS)
    elif fmt == "csv":
        assert out.splitlines()[0].split(",")[:2] == ["claim_id", "chapter"]
        assert len(out.splitlines()) == 1 + len(claims.claim_ids("chapters/hardware_trends"))
    else:
        assert "hw-flops-per-2y" in out and "status" in out.splitlines()[0]


def test_cli_claims_filters_and_errors(capsys):
    assert main(["claims", "--claim", "mg-moores-law-per-2y", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "not reproducible" in out and len(out.strip().splitlines()) == 2
    assert main(["claims", "--status", "not reproducible", "--format", "json"]) == 0
    assert {r["status"] for r in json.loads(capsys.readouterr().out)} == {"not reproducible"}
    assert main(["claims", "--chapter", "chapters/nope"]) == 1
    assert "allowed: chapters/hardware_trends" in capsys.readouterr().err
    assert main(["claims", "--claim", "nope"]) == 1
    assert "is not registered" in capsys.readouterr().err


def test_every_chapter_with_claims_shows_its_box(root):
    """A chapter that registers claims calls claims_box for itself (the report links back to it)."""
    for chapter in claims.chapters():
        text = (root / f"{chapter}.md").read_text(encoding="utf-8")
        assert f'claims_box("{chapter}")' in text, f"{chapter} registers claims but shows no box"


def test_beyond_claims_hold_or_are_explained(table):
    rows = table.set_index("claim_id").loc[BEYOND_IDS]
    assert (rows.loc[rows["unit"] == "yes/no", "status"] == claims.REPRODUCED).all()
    gap = rows.loc["beyond-balance-gap-rate"]
    assert gap["status"] in (claims.REPRODUCED, claims.DIFFERS_EXPLAINED)
    assert gap["paper_value"] == pytest.approx(3.0 / 1.6)  # the abstract's FLOPS and DRAM rates, as printed


def test_cli_claims_short_chapter_and_ascii_status(capsys):
    from memwall.cli import main

    assert main(["claims", "--chapter", "roofline_gpu", "--status", "reproduced", "--format", "csv"]) == 0
    short = capsys.readouterr().out
    assert main(["claims", "--chapter", "chapters/roofline_gpu", "--status", "reproduced", "--format", "csv"]) == 0
    assert short == capsys.readouterr().out
    assert main(["claims", "--status", "differs", "--format", "csv"]) == 0
    rows = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert set(rows["status"]) == {claims.DIFFERS_EXPLAINED}


def test_claims_box_of_a_chapter_without_claims_says_so():
    box = str(claims.claims_box("chapters/_template"))  # a chapter file that registers no claims
    assert "No claim of the paper is checked in this chapter" in box and "reproduction_report.html" in box
    with pytest.raises(ValueError, match=r"there is no chapters/no_such_chapter\.md"):
        claims.claims_box("chapters/no_such_chapter")  # a typo is not "no claims"
    with pytest.raises(ValueError, match="not a chapter docname"):
        claims.claims_box("hardware_trends")


def test_claim_modules_are_discovered_not_listed():
    from memwall.claims import core

    found = core.discovered_claim_modules()
    assert found[0] == "memwall.claims.paper"
    assert {"memwall.claims.beyond", "memwall.claims.own_model"} <= set(found)
    assert not {f"memwall.claims.{m}" for m in core.INFRASTRUCTURE_MODULES} & set(found)
    package = ROOT / "memwall" / "claims"
    on_disk = {p.stem for p in package.glob("*.py") if not p.stem.startswith("_")} - core.INFRASTRUCTURE_MODULES
    assert {m.rsplit(".", 1)[1] for m in found} == on_disk


def test_a_box_with_the_books_own_claims_says_so(table):
    from memwall.claims.render import is_own_claim

    own = table[table.apply(is_own_claim, axis=1)]
    assert len(own) and not own["source"].str.contains("Gholami", na=False).any()
    for chapter in CHAPTERS_WITH_BOX:
        if chapter not in claims.chapters():
            continue
        box, rows = str(claims.claims_box(chapter)), table[table["chapter"] == chapter]
        if rows.apply(is_own_claim, axis=1).any():
            assert "Claims checked in this chapter" in box and "this book's own" in box, chapter
        else:
            assert "Claims of the paper checked in this chapter" in box, chapter


def test_group_labels_are_words_a_reader_can_read(table):
    # a group's label is the first cell of its row in the claims box: a phrase, not a slug like "csr-break-even"
    for group in table["group"].dropna().unique():
        assert " " in group.strip(), f"group label {group!r} reads like a slug"


def test_claims_of_a_chapter_removed_from_the_toc_are_not_listed():
    # a fork that drops a chapter from _toc.yml keeps its claims module: the ledger leaves those claims out
    claims.register(_synthetic("test-not-in-toc", chapter="chapters/_template"), replace=True)
    try:
        assert "chapters/_template" not in claims.chapters()
        assert "test-not-in-toc" not in claims.claim_ids()
        assert "test-not-in-toc" not in set(claims.ledger()["claim_id"])
        assert "No claim of the paper is checked" in str(claims.claims_box("chapters/_template"))
    finally:
        claims.unregister("test-not-in-toc")
