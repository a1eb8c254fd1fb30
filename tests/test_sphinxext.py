"""The offline-site Sphinx extension's pieces that do not need a build."""

from __future__ import annotations

import altair as alt
import pytest

from memwall.sphinxext import offline_site


@pytest.mark.slow  # vl-convert assembles the whole JavaScript bundle: about 2.5 s
def test_bundle_presets_the_versions_altair_asks_for():
    src = offline_site.bundle_source()
    assert src.count("window.vegaEmbed") >= 1
    assert f'"vegalite_version": "{alt.VEGALITE_VERSION}"' in src
    assert f'"vega_version": "{alt.VEGA_VERSION}"' in src
    assert f'"vegaembed_version": "{alt.VEGAEMBED_VERSION}"' in src
    assert src.lstrip().startswith("/*") and "(function () {" in src


def test_cdn_rewrite_pattern_matches_altair_output():
    html = alt.Chart(alt.Data(values=[{"x": 1}])).mark_point().encode(x="x:Q")._repr_mimebundle_()["text/html"]
    assert offline_site._CDN_PATH.search(html)
    rewritten = offline_site._CDN_PATH.sub(lambda m: f'"{m.group(1)}": "_static/x.js"', html)
    assert "cdn.jsdelivr" not in rewritten
    requested = dict(offline_site._REQUESTED.findall(html))
    assert requested == offline_site.expected_versions()
