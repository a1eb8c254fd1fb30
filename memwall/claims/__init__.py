"""The claims ledger: every claim of the paper we check, with our value and a computed status.

A :class:`Claim` records what the paper says (value as printed, where it is printed, unit), how we
compute our value -- from the paper's own data (its plotted points and tables) and from our extended data
(datasheets, models through 2025, measurements) -- and a tolerance. :func:`ledger` computes every claim and
assigns a status by rule, never by hand:

* ``"reproduced"``: ``|ours - paper| <= max(abs_tol, rel_tol * |paper|)`` (yes/no claims: equal);
* ``"differs — explained"``: outside the tolerance, and the claim carries an explanation (``explanation``,
  with ``explained_in`` naming the section of its chapter that explains it);
* ``"not reproducible"``: our value cannot be computed (the value function raised :class:`NotComputable`),
  with the reason.

A claim outside its tolerance *without* an explanation gets :data:`UNEXPLAINED`; ``ledger(strict=True)``, the
report page and the tests raise :class:`UnexplainedDifferenceError` on it. "Ours" is the paper-data value
when the claim has one, else the extended-data value (column ``basis``).

The paper's own claims are registered in :mod:`memwall.claims.paper` (loaded on first use). The page
``chapters/reproduction_report.md`` lists them all; each chapter shows its own with :func:`claims_box`; the
command line exports them (``memwall claims --format table|csv|json``).

Registering a chapter's claims
------------------------------
A chapter (e.g. one of the "Beyond the paper" chapters) registers its claims in a module of ``memwall``
that the report imports, or in a code cell before its box::

    from memwall.claims import Claim, NotApplicable, register, claims_box

    register(Claim(
        claim_id="beyond-kv-share-128k",                       # unique, lower case
        chapter="chapters/beyond_serving_hardware",            # docname of the chapter that checks it
        statement="At 128k tokens the KV cache outweighs the weights of Llama-3-8B.",
        paper_value=True, paper_text="(our claim)", unit="yes/no",
        source="this book", method="memwall.serving.kv_cache_bytes vs weight bytes",
        ours_paper_data=NotApplicable("not a claim of the paper"),
        ours_extended=lambda: kv_bytes() > weight_bytes(),     # zero-argument callable
    ), replace=True)                                           # replace=True: the cell may run twice
    claims_box("chapters/beyond_serving_hardware")

For the report to list a chapter's claims, register them in a module of this package named after the chapter
(``memwall/claims/<chapter>.py``): every module here except the ledger's machinery (``core``, ``ledger``,
``render``) is found and imported on first use (:func:`memwall.claims.core.discovered_claim_modules`), so no
list needs editing. Claims registered only inside a notebook exist only in that notebook's kernel.
"""

from memwall.claims.core import (
    DIFFERS_EXPLAINED,
    NOT_REPRODUCIBLE,
    REPRODUCED,
    STATUSES,
    UNEXPLAINED,
    Claim,
    NotApplicable,
    NotComputable,
    UnexplainedDifferenceError,
    chapters,
    claim_ids,
    get_claim,
    register,
    unregister,
)
from memwall.claims.ledger import LEDGER_COLUMNS, evaluate, ledger, status_of
from memwall.claims.ledger_chart import claims_chart
from memwall.claims.render import claims_box, explanations_html, ledger_html, status_counts

__all__ = [
    "DIFFERS_EXPLAINED",
    "LEDGER_COLUMNS",
    "NOT_REPRODUCIBLE",
    "REPRODUCED",
    "STATUSES",
    "UNEXPLAINED",
    "Claim",
    "NotApplicable",
    "NotComputable",
    "UnexplainedDifferenceError",
    "chapters",
    "claim_ids",
    "claims_box",
    "claims_chart",
    "evaluate",
    "explanations_html",
    "get_claim",
    "ledger",
    "ledger_html",
    "register",
    "status_counts",
    "status_of",
    "unregister",
]
