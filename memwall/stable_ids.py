"""Element ids in notebook HTML derived from what is shown, not drawn at random: Altair charts, Styler tables.

Altair's HTML renderer names each chart's ``<div>`` ``altair-viz-<uuid4>`` and pandas' Styler names each table
``T_<five random hex digits>``, so two executions of one notebook give different HTML and two builds of the book
differ byte for byte. Here both ids are a digest of the content (the chart's Vega-Lite spec, the table's HTML) and
of how many times the same content was shown before in this process: a kernel runs one notebook, so that count
is the position among identical outputs of one page, and ids stay unique on the page.

- :func:`use_stable_chart_ids` registers and enables the Altair renderer ``"memwall"``: Altair's own HTML output
  (the same ``universal`` template and library versions, so :mod:`memwall.sphinxext.offline_site` rewrites its
  loader as before) with that id, and the inline spec written as compact JSON (no blank after ``,`` and ``:``).
- :func:`use_stable_table_ids` registers, in a running IPython (a notebook kernel), an HTML formatter for
  :class:`pandas.io.formats.style.Styler` that sets the table's uuid from its content before rendering.

:func:`install` does both when it runs in IPython; ``memwall.book`` and ``memwall.charts`` call it on import, so
every chapter gets both (outside IPython, importing them changes nothing).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from typing import Any

__all__ = ["RENDERER", "chart_html", "content_id", "install", "reset", "spec_json", "stable_id", "styler_html",
           "use_stable_chart_ids", "use_stable_table_ids"]

RENDERER = "memwall"
"""Name of the Altair renderer registered by :func:`use_stable_chart_ids`."""

_SHOWN: Counter[str] = Counter()
"""How many times each (prefix, content) was given an id in this process."""
_TOKEN = "memwallstableuuid"
"""Placeholder uuid a Styler is rendered with before its digest is known (it occurs nowhere else)."""
_COMPACT = {"separators": (",", ":")}


def reset() -> None:
    """Forget the contents shown so far (ids then restart as in a fresh kernel; for tests)."""
    _SHOWN.clear()


def content_id(prefix: str, content: str, repeat: int = 0, *, digits: int = 32) -> str:
    """``prefix`` + hex digest of ``content`` and ``repeat`` (how many times that content was shown before).

    Parameters
    ----------
    prefix : str
        Start of the id (``"altair-viz-"``).
    content : str
        What the element shows (a spec as JSON, a table's HTML).
    repeat : int
        Earlier showings of the same content in the same kernel (>= 0).
    digits : int
        Hex digits of the digest, 8 to 64.

    Returns
    -------
    str
        The same id for the same arguments, in any process.

    Raises
    ------
    ValueError
        If ``repeat`` is not an integer >= 0 or ``digits`` not an integer from 8 to 64.
    """
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 0:
        raise ValueError(f"repeat={repeat!r} must be an integer >= 0")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 8 <= digits <= 64:
        raise ValueError(f"digits={digits!r} must be an integer from 8 to 64")
    key = prefix + "\0" + hashlib.sha256(content.encode("utf-8")).hexdigest()
    return prefix + hashlib.sha256(f"{key}\0{repeat}".encode()).hexdigest()[:digits]


def stable_id(prefix: str, content: str, *, digits: int = 32) -> str:
    """:func:`content_id` of ``content`` with the number of times this process gave it an id before.

    Parameters
    ----------
    prefix, content, digits
        As :func:`content_id`.

    Returns
    -------
    str
        The id; the next call with the same content returns the next one (ids stay unique on a page).

    Raises
    ------
    ValueError
        If ``digits`` is not an integer from 8 to 64.
    """
    key = content_id(prefix, content, 0, digits=64)  # one key per (prefix, content), of fixed size
    new = content_id(prefix, content, _SHOWN[key], digits=digits)
    _SHOWN[key] += 1
    return new


def spec_json(spec: dict[str, Any]) -> str:
    """The text a chart's id is the digest of: its spec as JSON with sorted keys, without blanks."""
    return json.dumps(spec, sort_keys=True, **_COMPACT)


def chart_html(spec: dict[str, Any], **metadata: Any) -> dict[str, str]:
    """Altair renderer: the MIME bundle ``{"text/html": ...}`` of Altair's HTML output with a content-derived id.

    Parameters
    ----------
    spec : dict
        The chart's Vega-Lite spec (``chart.to_dict()``).
    **metadata
        What Altair passes to renderers (embed options and the like).

    Returns
    -------
    dict of str to str
        One ``text/html`` entry; the ``<div>`` is ``altair-viz-`` + 32 hex digits of :func:`stable_id`.
    """
    import altair as alt
    from altair.utils.mimebundle import spec_to_mimebundle

    text = spec_json(spec)
    options: dict[str, Any] = {"mode": "vega-lite", "template": "universal", "vega_version": alt.VEGA_VERSION,
                               "vegaembed_version": alt.VEGAEMBED_VERSION, "vegalite_version": alt.VEGALITE_VERSION,
                               "json_kwds": _COMPACT, **metadata}
    # SVG, not canvas: text stays text (selectable, zoomable, printable) and the browser tests can measure
    # every tick label's box (tests/test_site_readable.py)
    options["embed_options"] = {"renderer": "svg", **(options.get("embed_options") or {})}
    options["output_div"] = stable_id("altair-viz-", text)
    return spec_to_mimebundle(spec, format="html", **options)


def use_stable_chart_ids() -> None:
    """Register :func:`chart_html` as the Altair renderer :data:`RENDERER` and enable it (idempotent)."""
    import altair as alt

    if RENDERER not in alt.renderers.names():
        alt.renderers.register(RENDERER, chart_html)
    if alt.renderers.active != RENDERER:
        alt.renderers.enable(RENDERER)


def styler_html(styler: Any) -> str | None:
    """HTML of a pandas Styler whose table id is ``T_`` + 12 hex digits of :func:`stable_id` of its content.

    Parameters
    ----------
    styler : pandas.io.formats.style.Styler
        The styled table; its ``uuid`` is set to the id used.

    Returns
    -------
    str or None
        The table's HTML, or ``None`` when pandas' ``styler.render.repr`` option asks for no HTML.
    """
    before = styler.uuid
    styler.set_uuid(_TOKEN)
    html = styler._repr_html_()
    if html is None:
        styler.set_uuid(before)
        return None
    uuid = stable_id("", html, digits=12)
    styler.set_uuid(uuid)
    return html.replace(_TOKEN, uuid)


def use_stable_table_ids() -> None:
    """In a running IPython (a notebook kernel), format every displayed Styler with :func:`styler_html`.

    Outside IPython this does nothing (a Styler then keeps pandas' random id).
    """
    shell = _ipython()
    if shell is None:
        return
    # by name: registering imports neither the Styler nor jinja2, which it needs
    shell.display_formatter.formatters["text/html"].for_type_by_name("pandas.io.formats.style", "Styler",
                                                                      styler_html)


def install() -> None:
    """In a running IPython, :func:`use_stable_chart_ids` and :func:`use_stable_table_ids`; elsewhere nothing."""
    if _ipython() is None:
        return
    use_stable_chart_ids()
    use_stable_table_ids()


def _ipython() -> Any:
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()
