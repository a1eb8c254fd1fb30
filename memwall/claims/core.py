"""The claim record, its statuses and errors, and the registry of claims.

The status rules and the ledger itself are in :mod:`memwall.claims.ledger`. See :mod:`memwall.claims` for
the overview and how a chapter registers its own claims.
"""

from __future__ import annotations

import difflib
import importlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "DIFFERS_EXPLAINED",
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
    "get_claim",
    "register",
    "unregister",
]

REPRODUCED = "reproduced"
DIFFERS_EXPLAINED = "differs — explained"
NOT_REPRODUCIBLE = "not reproducible"
UNEXPLAINED = "differs — UNEXPLAINED"
STATUSES = (REPRODUCED, DIFFERS_EXPLAINED, NOT_REPRODUCIBLE)
"""The three statuses a healthy ledger shows. :data:`UNEXPLAINED` marks a claim outside its tolerance that
carries no explanation: it is an error (``ledger(strict=True)`` and the tests raise on it), never a state to
publish."""

_CHAPTER_RE = re.compile(r"^chapters/[a-z0-9_]+$")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*$")


class NotComputable(Exception):
    """Raised by a claim's value function when our value cannot be computed; the message is the reason.

    The claim then gets the status ``"not reproducible"`` with that reason. Any *other* exception from a
    value function propagates: a bug is never turned into a status.
    """


class UnexplainedDifferenceError(AssertionError):
    """Claims outside their tolerance that carry no explanation (raised by ``ledger(strict=True)``)."""


@dataclass(frozen=True)
class NotApplicable:
    """Marks a value source that does not apply to a claim, with the reason (shown in the ledger)."""

    reason: str


ValueSource = Callable[[], float | bool] | NotApplicable


@dataclass(frozen=True)
class Claim:
    """One claim of the paper (or of a chapter) and how we check it.

    Attributes
    ----------
    claim_id : str
        Stable id, lower case, digits, ``-`` and ``.`` (e.g. ``"hw-flops-per-2y"``).
    chapter : str
        Docname of the chapter that checks it, e.g. ``"chapters/hardware_trends"``.
    statement : str
        The claim in our words.
    paper_value : float or bool
        The paper's value, in ``unit``; a bool for a qualitative claim ("yes, it holds").
    paper_text : str
        The value as printed (e.g. ``"3.0x/2yrs"``).
    unit : str
        Unit of ``paper_value`` and of our values, e.g. ``"x per 2 years"``, ``"GFLOP"``, ``"yes/no"``.
    source : str
        Where the paper (or its survey) prints it, e.g. ``"Fig. 1 legend; abstract"``.
    method : str
        How our value is computed (name the ``memwall`` functions).
    ours_paper_data : callable or NotApplicable
        Zero-argument function returning our value from the paper's own data (its plotted points, its
        tables), or :class:`NotApplicable`. It may raise :class:`NotComputable`.
    ours_extended : callable or NotApplicable
        Same, from our extended data (datasheets, models through 2025, our measurements).
    rel_tol, abs_tol : float
        Tolerance: reproduced when ``|ours - paper| <= max(abs_tol, rel_tol * |paper|)``. Booleans need equality.
    tolerance_note : str
        Why this tolerance (e.g. "half a unit of the printed digit").
    explanation : str, optional
        Why our value differs, if it does; required for a claim that is outside its tolerance.
    explained_in : str, optional
        Title of the section of ``chapter`` that explains the difference (the report links to it).
    group : str, optional
        Claims with the same group (e.g. the cells of one published table) are summarised in one row of a
        chapter's box.
    section : str
        Part of the paper the claim comes from, e.g. ``"headline numbers"``.

    Notes
    -----
    The value compared with ``paper_value`` is ``ours_paper_data`` when it applies, else ``ours_extended``
    (the ledger's ``basis`` column says which).
    """

    claim_id: str
    chapter: str
    statement: str
    paper_value: float | bool
    paper_text: str
    unit: str
    source: str
    method: str
    ours_paper_data: ValueSource
    ours_extended: ValueSource
    rel_tol: float = 0.0
    abs_tol: float = 0.0
    tolerance_note: str = ""
    explanation: str | None = None
    explained_in: str | None = None
    group: str | None = None
    section: str = ""

    def __post_init__(self) -> None:
        if not _ID_RE.match(self.claim_id):
            raise ValueError(f"claim_id={self.claim_id!r}: use lower case letters, digits, '-' and '.'")
        if not _CHAPTER_RE.match(self.chapter):
            raise ValueError(f"claim {self.claim_id}: chapter={self.chapter!r} must be a docname like "
                             "'chapters/hardware_trends'")
        if not isinstance(self.paper_value, bool | int | float | np.number) or (
                not isinstance(self.paper_value, bool) and not math.isfinite(float(self.paper_value))):
            raise ValueError(f"claim {self.claim_id}: paper_value must be a finite number or a bool, "
                             f"got {self.paper_value!r}")
        for name in ("ours_paper_data", "ours_extended"):
            src = getattr(self, name)
            if not (callable(src) or isinstance(src, NotApplicable)):
                raise ValueError(f"claim {self.claim_id}: {name} must be a zero-argument callable or "
                                 f"NotApplicable(reason), got {src!r}")
        if isinstance(self.ours_paper_data, NotApplicable) and isinstance(self.ours_extended, NotApplicable):
            raise ValueError(f"claim {self.claim_id}: at least one of ours_paper_data and ours_extended must "
                             "be computable (a claim nobody can check belongs in the prose, not the ledger)")
        if self.rel_tol < 0 or self.abs_tol < 0 or not (math.isfinite(self.rel_tol) and math.isfinite(self.abs_tol)):
            raise ValueError(f"claim {self.claim_id}: rel_tol and abs_tol must be finite and >= 0")
        if self.explained_in is not None and self.explanation is None:
            raise ValueError(f"claim {self.claim_id}: explained_in needs an explanation")

    @property
    def is_boolean(self) -> bool:
        """True for a qualitative (yes/no) claim."""
        return isinstance(self.paper_value, bool)

    def tolerance_text(self) -> str:
        """The tolerance in words, e.g. ``"±2 % or ±0.05"``."""
        if self.is_boolean:
            return "must agree"
        parts = []
        if self.rel_tol:
            parts.append(f"±{100 * self.rel_tol:.3g} %")
        if self.abs_tol:
            parts.append(f"±{self.abs_tol:,.4g}")
        return " or ".join(parts) if parts else "exact"


_REGISTRY: dict[str, Claim] = {}
_CACHE: dict[str, dict[str, object]] = {}
_BUILTINS_LOADED = False

INFRASTRUCTURE_MODULES = frozenset({"core", "ledger", "render"})
"""Modules of :mod:`memwall.claims` that hold the ledger's machinery, not claims."""


def discovered_claim_modules() -> tuple[str, ...]:
    """Every claim module of :mod:`memwall.claims`, found on disk: no list to edit when a chapter adds one.

    A claim module is any module of the package that is not one of :data:`INFRASTRUCTURE_MODULES`; a
    chapter's claims live in a module named after the chapter (``chapters/own_model`` ->
    ``memwall/claims/own_model.py``) or in one shared by several chapters (``beyond``). Importing a module
    registers its claims. The paper's own claims (``paper``) come first, the rest in alphabetical order;
    the ledger then sorts claims by the chapters' order in ``_toc.yml``.

    Returns
    -------
    tuple of str
        Fully qualified module names.
    """
    import pkgutil

    package = Path(__file__).resolve().parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(package)])
                   if m.name not in INFRASTRUCTURE_MODULES and not m.name.startswith("_"))
    names.sort(key=lambda n: n != "paper")  # stable: the paper's claims first
    return tuple(f"memwall.claims.{n}" for n in names)


BUILTIN_CLAIM_MODULES = discovered_claim_modules()
"""Modules whose import registers the built-in claims (:func:`discovered_claim_modules`)."""


def _repo_chapters_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "chapters"


def _ensure_builtins() -> None:
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        _BUILTINS_LOADED = True
        for module in BUILTIN_CLAIM_MODULES:  # importing a module registers its claims, in book order
            importlib.import_module(module)


def register(claim: Claim, *, replace: bool = False) -> Claim:
    """Add a claim to the ledger.

    Parameters
    ----------
    claim : Claim
        The claim.
    replace : bool
        Allow replacing a registered claim with the same id (for re-running a notebook cell).

    Returns
    -------
    Claim
        The claim (so ``register`` can be used inline).

    Raises
    ------
    ValueError
        If the id is already registered (and ``replace`` is False), or the chapter's ``.md`` file does not
        exist in the repository's ``chapters/`` folder (when that folder is present).
    """
    if not isinstance(claim, Claim):
        raise ValueError(f"register() takes a Claim, got {type(claim).__name__}")
    _ensure_builtins()  # the built-in claims first, in their order, whichever module is imported first
    if claim.claim_id in _REGISTRY and not replace:
        raise ValueError(f"claim_id={claim.claim_id!r} is already registered (chapter "
                         f"{_REGISTRY[claim.claim_id].chapter}); pick another id or pass replace=True")
    folder = _repo_chapters_dir()
    if folder.is_dir() and not (folder.parent / f"{claim.chapter}.md").is_file():
        raise ValueError(f"claim {claim.claim_id}: chapter={claim.chapter!r} has no file "
                         f"{claim.chapter}.md; chapters: {', '.join(_chapter_files())}")
    _REGISTRY[claim.claim_id] = claim
    _CACHE.pop(claim.claim_id, None)
    return claim


def unregister(claim_id: str) -> None:
    """Remove a claim (tests use it to clean up synthetic claims).

    Raises
    ------
    ValueError
        If the id is not registered, listing the registered ids.
    """
    get_claim(claim_id)
    del _REGISTRY[claim_id]
    _CACHE.pop(claim_id, None)


def _book_order() -> dict[str, int]:
    """Docname -> position in the book's ``_toc.yml`` (empty if the package runs outside the book)."""
    toc = _repo_chapters_dir().parent / "_toc.yml"
    if not toc.is_file():
        return {}
    docnames = re.findall(r"^\s*-?\s*file:\s*(\S+)\s*$", toc.read_text(encoding="utf-8"), flags=re.M)
    return {name: i for i, name in enumerate(docnames)}


def _chapter_files() -> list[str]:
    folder = _repo_chapters_dir()
    return sorted(f"chapters/{p.stem}" for p in folder.glob("*.md")) if folder.is_dir() else []


def claim_ids(chapter: str | None = None) -> list[str]:
    """Registered claim ids, in registration order (optionally of one chapter).

    Raises
    ------
    ValueError
        For a chapter without registered claims, listing the chapters that have some.
    """
    _ensure_builtins()
    if chapter is not None:
        _check_chapter(chapter)
    order = _book_order()
    return [cid for cid, c in _REGISTRY.items()
            if _in_book(c.chapter, order) and (chapter is None or c.chapter == chapter)]


def chapters() -> list[str]:
    """Docnames of the chapters with at least one registered claim, in book order (``_toc.yml``; a chapter
    outside the table of contents is left out, see :func:`_in_book`)."""
    _ensure_builtins()
    order = _book_order()
    found = list(dict.fromkeys(c.chapter for c in _REGISTRY.values() if _in_book(c.chapter, order)))
    return sorted(found, key=lambda name: order.get(name, len(order)))


def _in_book(chapter: str, order: dict[str, int]) -> bool:
    """Whether a chapter is in the book: in ``_toc.yml`` when the package runs in the book (a chapter a fork
    removed from the table of contents keeps its claims module, but is not built, so its claims are not
    listed), always outside it. ``order`` is :func:`_book_order`."""
    return not order or chapter in order


def _check_chapter(chapter: str) -> None:
    known = chapters()
    if chapter not in known:
        raise ValueError(f"chapter={chapter!r} has no registered claims; allowed: {', '.join(known)}")


def get_claim(claim_id: str) -> Claim:
    """The registered claim with this id.

    Raises
    ------
    ValueError
        For an unknown id, naming the closest ids and listing all registered ones.
    """
    _ensure_builtins()
    if claim_id not in _REGISTRY:
        close = difflib.get_close_matches(claim_id, list(_REGISTRY), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(f"claim_id={claim_id!r} is not registered{hint}; allowed: {', '.join(_REGISTRY)}")
    return _REGISTRY[claim_id]
