"""Sphinx extension: figures, tables, listings and exercises numbered per chapter.

With ``numfig`` on (sphinx-exercise turns it on), Sphinx numbers every enumerable node (figures, tables,
code blocks, sphinx-exercise's exercises) in one walk of the table of contents, with one counter per node
type and *section number*: ``TocTreeCollector.assign_figure_numbers`` keys its counter on the section
number of the node, and a book without a numbered toctree (Jupyter Book's default) gives every node the
same empty section number, so the counters run across the whole book (quantization, the eighth chapter,
opened with "Exercise 27"). Numbering per chapter the Sphinx way would need ``numbered: true`` in
``_toc.yml``, which also puts section numbers in every heading, the navigation and every number
("Exercise 8.1").

This extension keeps Sphinx's walk and only restarts the count in every document: after Sphinx has
assigned the numbers (``env-get-updated``), each document's nodes of one type are renumbered 1, 2, 3 ... in
the order Sphinx numbered them (:func:`per_document`). Everything that shows a number reads it from
``env.toc_fignumbers`` (the caption "Figure 2", sphinx-exercise's "Exercise 1" title, ``{numref}`` and
sphinx-exercise's ``{ref}`` texts), so all of them agree. Numbers under a numbered toctree (``1.2``) are
left as Sphinx made them.

Sphinx decides which pages to write again by comparing its new numbers with those of the previous build;
the book-wide numbers are therefore put back before Sphinx compares (and kept in the environment), so
only pages whose per-chapter numbers changed are rewritten.

The plain-Markdown export counts the same way from the sources (:class:`memwall.sphinxext.book_data.BookIndex`).
Configuration: none. Enable with ``sphinx: extra_extensions: [memwall.sphinxext.chapter_numbers]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

__all__ = ["FigNumbers", "per_document"]

FigNumbers = Mapping[str, Mapping[str, Mapping[str, tuple[int, ...]]]]
"""docname -> node type (``figure``, ``table``, ``code-block``, ``exercise``) -> node id -> number."""

_RAW = "memwall_book_fignumbers"
"""Environment attribute: Sphinx's own (book-wide) numbers of the last build."""
_OURS = "memwall_chapter_fignumbers"
"""Environment attribute: the per-chapter numbers of the last build."""


def per_document(fignumbers: FigNumbers) -> dict[str, dict[str, dict[str, tuple[int, ...]]]]:
    """The numbers restarted at 1 in every document, per node type, in the order of the given numbers.

    Parameters
    ----------
    fignumbers : mapping
        ``env.toc_fignumbers`` as Sphinx assigns it: docname -> node type -> node id -> number tuple.

    Returns
    -------
    dict
        The same keys; a number without a section part (``(23,)``) becomes its rank among the document's
        nodes of that type (``(1,)``); numbers with a section part (``(8, 1)``, a numbered toctree) stay.

    Raises
    ------
    ValueError
        For a number that is not a tuple of positive integers, naming the document and node.
    """
    out: dict[str, dict[str, dict[str, tuple[int, ...]]]] = {}
    for doc, by_type in fignumbers.items():
        out[doc] = {}
        for figtype, numbers in by_type.items():
            for node_id, number in numbers.items():
                if not (isinstance(number, tuple) and number
                        and all(isinstance(n, int) and n > 0 for n in number)):
                    raise ValueError(f"{doc}: {figtype} {node_id!r} has number {number!r}, "
                                     "not a tuple of positive integers")
            flat = sorted((number[0], node_id) for node_id, number in numbers.items() if len(number) == 1)
            rank = {node_id: (i + 1,) for i, (_, node_id) in enumerate(flat)}
            out[doc][figtype] = {node_id: rank.get(node_id, tuple(number)) for node_id, number in numbers.items()}
    return out


def _put_back_book_numbers(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Before Sphinx numbers (priority 400 < its 500): its own numbers of the last build, to compare with."""
    raw = getattr(env, _RAW, None)
    if raw is not None:
        env.toc_fignumbers = raw
    return []


def _number_per_chapter(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """After Sphinx numbers: keep its numbers, show per-chapter ones; the pages whose numbers changed."""
    previous: FigNumbers = getattr(env, _OURS, {})
    setattr(env, _RAW, env.toc_fignumbers)
    ours = per_document(env.toc_fignumbers)
    setattr(env, _OURS, ours)
    env.toc_fignumbers = ours
    return sorted(doc for doc in ours if doc in env.all_docs and ours[doc] != previous.get(doc))


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the extension with Sphinx."""
    app.connect("env-get-updated", _put_back_book_numbers, priority=400)
    app.connect("env-get-updated", _number_per_chapter, priority=600)
    return {"version": "1", "env_version": 1, "parallel_read_safe": True, "parallel_write_safe": True}
