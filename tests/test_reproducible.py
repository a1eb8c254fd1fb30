"""Reproducible builds: content-derived chart and table ids, stable environment strings, the build's input key,
its lock, and two clean builds of a small book that are byte-identical.

The small-book tests build with ``tools/build_book.py`` (marked ``notebooks``, about 10 s a build); the others are
unit tests (those that start a subprocess are marked ``slow``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import altair as alt
import pandas as pd
import pytest

from memwall import stable_ids

from .conftest import ROOT

ALTAIR_ID = re.compile(r'<div id="(altair-viz-[0-9a-f]+)"')
STYLER_ID = re.compile(r'<table id="T_([0-9a-f]+)"')


def _build_book_module():
    spec = importlib.util.spec_from_file_location("build_book", ROOT / "tools" / "build_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _chart(y: float = 4.5) -> alt.Chart:
    return alt.Chart(pd.DataFrame({"x": [1, 2], "y": [y, 6.25]})).mark_point().encode(x="x:Q", y="y:Q")


# ------------------------------------------------------------------------------------------- chart and table ids


def test_chart_ids_are_digests_of_the_spec_and_unique_on_a_page():
    stable_ids.reset()
    first = stable_ids.chart_html(_chart().to_dict())["text/html"]
    again = stable_ids.chart_html(_chart().to_dict())["text/html"]  # the same chart shown twice on one page
    other = stable_ids.chart_html(_chart(5.0).to_dict())["text/html"]
    ids = [ALTAIR_ID.search(html).group(1) for html in (first, again, other)]
    assert len(set(ids)) == 3 and all(len(i) == len("altair-viz-") + 32 for i in ids)
    spec = _chart().to_dict()
    assert ids[:2] == [stable_ids.content_id("altair-viz-", stable_ids.spec_json(spec), k) for k in (0, 1)]
    stable_ids.reset()  # a fresh kernel: the same ids again
    assert stable_ids.chart_html(_chart().to_dict())["text/html"] == first
    assert 'maybeLoadScript("vega-lite", "' + alt.VEGALITE_VERSION + '")' in first  # the loader the site rewrites
    assert '"mark":{"type":"point"}' in first  # compact JSON inline


def test_styled_table_ids_are_digests_of_the_table():
    frame = pd.DataFrame({"a": [1.0, 2.5], "b": ["x", "y"]})
    stable_ids.reset()
    first = stable_ids.styler_html(frame.style.format(precision=2))
    again = stable_ids.styler_html(frame.style.format(precision=2))
    other = stable_ids.styler_html(frame.style.format(precision=3))
    ids = [STYLER_ID.search(html).group(1) for html in (first, again, other)]
    assert len(set(ids)) == 3 and all(len(i) == 12 for i in ids)
    assert "memwallstableuuid" not in first and first.count(f"T_{ids[0]}") >= 2  # the table and its style rules
    stable_ids.reset()
    assert stable_ids.styler_html(frame.style.format(precision=2)) == first


def test_content_id_rejects_bad_arguments():
    for bad in (-1, 1.0, True, "0"):
        with pytest.raises(ValueError, match="repeat="):
            stable_ids.content_id("p", "c", bad)
    for bad in (7, 65, 8.0, False):
        with pytest.raises(ValueError, match="digits="):
            stable_ids.content_id("p", "c", digits=bad)


PROBE = """
import json
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
import altair as alt, pandas as pd
import memwall.book, memwall.charts  # what every chapter imports
frame = pd.DataFrame({"x": [1, 2, 3], "y": [4.5, 5.5, 6.25]})
chart = alt.Chart(frame).mark_line().encode(x="x", y="y")
shown = [chart, chart, frame.style.format(precision=2), frame.style.highlight_max()]
print(json.dumps([shell.display_formatter.format(obj)[0]["text/html"] for obj in shown]))
"""


@pytest.mark.slow
def test_two_fresh_kernels_render_byte_identical_html():
    """As two builds do: the same charts and styled tables in two fresh IPython processes give the same HTML."""
    runs = [subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60)
            for _ in range(2)]
    assert runs[0].stdout == runs[1].stdout
    html = json.loads(runs[0].stdout)
    charts = [ALTAIR_ID.search(h).group(1) for h in html[:2]]
    tables = [STYLER_ID.search(h).group(1) for h in html[2:]]
    assert len(set(charts)) == 2 and len(set(tables)) == 2


def test_blas_string_does_not_depend_on_load_order(monkeypatch):
    import threadpoolctl

    from memwall.wall.measure import machine

    pools = [{"user_api": "blas", "internal_api": "openblas", "version": "0.3.29", "architecture": "Haswell",
              "num_threads": 2},
             {"user_api": "blas", "internal_api": "mkl", "version": "2025.1", "architecture": None, "num_threads": 2},
             {"user_api": "openmp", "internal_api": "openmp", "version": None, "num_threads": 2}]
    seen = []
    for order in (pools, pools[::-1]):
        monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda order=order: list(order))
        seen.append(machine.machine_info().blas)
    assert seen[0] == seen[1] == "mkl 2025.1 (None); openblas 0.3.29 (Haswell)"


# ------------------------------------------------------------------------------------------- the build's input key


def _fake_repository(root: Path) -> None:
    for name in ("memwall/x.py", "data/t.csv", "requirements.txt", "pyproject.toml", "tools/build_book.py",
                 "tools/build_state.py", "_config.yml", "_toc.yml"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"{name}\n", encoding="utf-8")
    (root / "chapters").mkdir()
    (root / "chapters" / "a.md").write_text("---\nkernelspec: {}\n---\n# Title A\n\nText.\n", encoding="utf-8")


def test_input_key_covers_every_input_of_the_notebooks(tmp_path, monkeypatch):
    bb = _build_book_module()
    state = sys.modules["build_state"]
    fake = tmp_path / "repo"
    _fake_repository(fake)
    monkeypatch.setattr(state, "ROOT", fake)
    monkeypatch.delenv("CI", raising=False)
    build_dir = tmp_path / "_build"
    build_dir.mkdir()
    (build_dir / bb.STAMP).write_text(json.dumps({"inputs": bb.input_digests(fake)}), encoding="utf-8")
    assert bb.clean_reason(build_dir, bb.input_digests(fake)) is None

    edits = {  # the input named in the message -> an edit of it
        "memwall": lambda: (fake / "memwall" / "y.py").write_text("new module\n"),
        "data": lambda: (fake / "data" / "t.csv").write_text("edited\n"),
        "requirements.txt": lambda: (fake / "requirements.txt").write_text("pandas==9\n"),
        "tools/build_book.py": lambda: (fake / "tools" / "build_book.py").write_text("flags\n"),
        "_toc.yml": lambda: (fake / "_toc.yml").write_text("reordered\n"),
        "_config.yml": lambda: (fake / "_config.yml").write_text("timeout: 1\n"),
        "page titles": lambda: (fake / "chapters" / "a.md").write_text("# Title B\n\nText.\n"),
    }
    for name, edit in edits.items():
        before = bb.input_digests(fake)
        edit()
        reason = bb.clean_reason(build_dir, bb.input_digests(fake)) or ""
        assert bb.input_digests(fake) != before and reason.startswith("inputs changed") and name in reason, name
        (build_dir / bb.STAMP).write_text(json.dumps({"inputs": bb.input_digests(fake)}), encoding="utf-8")
    # prose is no input of the execution: Sphinx rereads a changed page, jupyter-cache keys on its code
    (fake / "chapters" / "a.md").write_text("# Title B\n\nOther text.\n")
    assert bb.clean_reason(build_dir, bb.input_digests(fake)) is None
    monkeypatch.setattr(state, "installed_packages", lambda: "python 3.x\npandas==0.0")
    assert "installed packages" in (bb.clean_reason(build_dir, bb.input_digests(fake)) or "")
    # a book folder other than the repository: its own _toc.yml and titles count too
    book = tmp_path / "book"
    book.mkdir()
    (book / "_toc.yml").write_text("root: intro\n")
    key = bb.inputs_digest(book)
    (book / "_toc.yml").write_text("root: other\n")
    assert bb.inputs_digest(book) != key


def test_clean_reason_names_what_it_found(tmp_path, monkeypatch):
    bb = _build_book_module()
    monkeypatch.delenv("CI", raising=False)
    digests = {"memwall": "1", "data": "2"}
    empty = tmp_path / "_build"
    assert bb.clean_reason(empty, digests) == "first build"
    empty.mkdir()
    (empty / bb.LOCK).write_text("")
    assert bb.clean_reason(empty, digests) == "first build"  # the lock file alone is no earlier build
    (empty / ".inputs-sha256").write_text("0123abcd\n")  # the one-line stamp of older build scripts
    assert bb.clean_reason(empty, digests) == "the inputs of the earlier build are not recorded"
    assert bb.clean_reason(empty, digests, clean=True) == "--clean"
    monkeypatch.setenv("CI", "true")
    assert bb.clean_reason(empty, digests) == "CI"


# ------------------------------------------------------------------------------------------- the lock


@pytest.mark.slow
def test_a_second_build_waits_for_the_lock_then_gives_up_clearly(tmp_path):
    from filelock import FileLock

    bb = _build_book_module()
    book = tmp_path / "book"
    (book / "_build").mkdir(parents=True)
    lock = book / "_build" / bb.LOCK
    with FileLock(lock):
        run = subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py"), "--source", str(book),
                              "--lock-timeout", "0.5"], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == bb.LOCK_BUSY, run.stdout + run.stderr
    assert f"another build of this book is running (it holds {lock})" in run.stdout
    assert "gave up after 0.5 s" in run.stderr
    bad = subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py"), "--lock-timeout", "-1"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2 and "--lock-timeout must be a number of seconds >= 0, not '-1'" in bad.stderr


# ------------------------------------------------------------------------------------------- a small book, twice

HEADER = """---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
"""

PAGE = HEADER + """# Charts and tables

```{code-cell} ipython3
import altair as alt
import pandas as pd
from myst_nb import glue

from memwall import charts
from memwall.book import glue_number

frame = pd.DataFrame({"x": [1, 2, 3], "y": [4.5, 5.5, 6.25]})
glue_number("total", frame["y"].sum())
chart = alt.Chart(frame).mark_line().encode(x="x:Q", y="y:Q")
chart
```

The total is {glue:text}`total:.2f`.

```{code-cell} ipython3
chart
```

```{code-cell} ipython3
frame.style.format(precision=2).highlight_max()
```
"""


def _small_book(folder: Path) -> Path:
    folder.mkdir()
    shutil.copy(ROOT / "_config.yml", folder / "_config.yml")
    shutil.copy(ROOT / "references.bib", folder / "references.bib")
    shutil.copytree(ROOT / "images", folder / "images")
    (folder / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: page\n", encoding="utf-8")
    (folder / "intro.md").write_text("# Small book\n", encoding="utf-8")
    (folder / "page.md").write_text(PAGE, encoding="utf-8")
    return folder


def _files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


@pytest.mark.notebooks
def test_two_clean_builds_of_a_small_book_are_byte_identical(tmp_path):
    """Two clean builds, the second started while the test holds the lock (it waits, says so, then builds)."""
    from filelock import FileLock

    bb = _build_book_module()
    book = _small_book(tmp_path / "book")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    command = [sys.executable, str(ROOT / "tools" / "build_book.py"), "--source", str(book), "--clean"]
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert first.returncode == 0, first.stdout + first.stderr
    site = book / "_build" / "html"
    built = _files(site)
    page = built["page.html"].decode()
    assert len(set(ALTAIR_ID.findall(page))) == 2 and len(STYLER_ID.findall(page)) == 1

    lock = FileLock(book / "_build" / bb.LOCK)
    lock.acquire()
    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(second.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while not any("waiting up to" in line for line in lines) and time.monotonic() < deadline:
        time.sleep(0.2)
    waited = any("waiting up to" in line for line in lines)
    lock.release()
    assert second.wait(timeout=300) == 0 and waited, "".join(lines)
    reader.join(timeout=10)
    assert any("clean build (--clean)" in line for line in lines), "".join(lines)
    rebuilt = _files(site)
    assert sorted(rebuilt) == sorted(built)
    assert [name for name in built if built[name] != rebuilt[name]] == []
