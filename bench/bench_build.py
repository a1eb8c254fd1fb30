"""Benchmark the whole book: build times, per-notebook execution time and per-page transfer size.

Measures

* a **clean build** (``_build`` deleted first) and a **no-change rebuild**, wall-clock seconds;
* the **execution time of each notebook** during the clean build, as jupyter-cache recorded it
  (``execution_seconds`` of each cache record in ``_build/.jupyter_cache``);
* each page's **first-visit transfer size**: the page is opened in headless Chromium with an empty
  cache from a loopback server, and every file it loads (HTML, JS, CSS, fonts, images, including what
  scripts load later, e.g. MathJax fonts) is counted once, gzip-compressed (level 6, as a typical
  web server sends it). Without Chromium the page's static references (``src``/``href`` and CSS
  ``url()``s, followed recursively) are counted instead, and the JSON says so.

Targets (issue 7): clean build <= 90 s, rebuild <= 10 s, every page <= 1.5 MB gzipped on first visit.
Prints a table and a pass/fail line per target, writes ``bench/results/build.json`` (git-ignored) and
exits 0 whatever the figures (it is a measurement, not a test). ``--no-build`` measures the existing
``_build`` (sizes and execution times only).
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
RESULT = ROOT / "bench" / "results" / "build.json"
TARGETS = {"clean build [s]": 90.0, "no-change rebuild [s]": 10.0, "largest page, first visit [MB gzip]": 1.5}


def _build() -> float:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py")], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def notebook_seconds(build_dir: Path = ROOT / "_build") -> dict[str, float]:
    """Execution time [s] of each notebook in the execution cache, keyed by path relative to the repository."""
    from jupyter_cache import get_cache

    cache_dir = build_dir / ".jupyter_cache"
    if not cache_dir.is_dir():
        return {}
    cache = get_cache(cache_dir)
    out: dict[str, float] = {}
    for record in cache.list_cache_records():
        seconds = (record.data or {}).get("execution_seconds")
        if seconds is not None:
            uri = Path(record.uri)
            out[uri.relative_to(ROOT).as_posix() if uri.is_relative_to(ROOT) else uri.as_posix()] = float(seconds)
    return dict(sorted(out.items()))


@functools.cache
def _gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=6))


def pages(site: Path = SITE) -> list[Path]:
    """Every HTML page of the site (not the files under ``_static`` or ``_sources``)."""
    return sorted(p for p in site.rglob("*.html") if not {"_static", "_sources"} & set(p.relative_to(site).parts))


_REF = re.compile(r"""(?:src|href)="([^"#?]+)""")
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")#?]+)""")


def _static_files(page: Path, site: Path) -> set[Path]:
    """The page and the local files it references, CSS ``url()``s followed recursively (no browser)."""
    seen: set[Path] = set()
    todo = [page]
    while todo:
        f = todo.pop()
        if f in seen or not f.is_file() or site not in f.parents:
            continue
        seen.add(f)
        text = f.read_text(encoding="utf-8", errors="replace") if f.suffix in (".html", ".css") else ""
        refs = _REF.findall(text) if f.suffix == ".html" else _CSS_URL.findall(text)
        for ref in refs:
            if not re.match(r"^[a-z][a-z0-9+.-]*:|^//", ref, re.IGNORECASE):
                todo.append((f.parent / unquote(ref)).resolve())
    return {f for f in seen if f.suffix in (".html", ".css", ".js", ".woff", ".woff2", ".ttf", ".svg", ".png",
                                             ".ico", ".json") and (f == page or f.suffix != ".html")}


def _browser_files(site: Path) -> dict[Path, set[Path]] | None:
    """Page -> the site files Chromium loaded on a first visit, or None without Chromium/Playwright."""
    exe = next((shutil.which(e) for e in ("chromium", "chromium-browser", "google-chrome") if shutil.which(e)), None)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if exe is None:
        return None

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    out: dict[Path, set[Path]] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=exe, headless=True, args=["--no-sandbox", "--disable-gpu"])
            for page_path in pages(site):
                context = browser.new_context()  # empty cache: a first visit
                files: set[Path] = set()

                def on_response(resp, files=files) -> None:
                    url = urlparse(resp.url)
                    if url.hostname == "127.0.0.1":
                        f = (site / unquote(url.path).lstrip("/")).resolve()
                        if f.is_dir():
                            f = f / "index.html"
                        if f.is_file():
                            files.add(f)

                context.route("**/*", lambda r: r.continue_() if urlparse(r.request.url).hostname == "127.0.0.1"
                              or r.request.url.startswith(("data:", "blob:")) else r.abort())
                page = context.new_page()
                page.on("response", on_response)
                page.goto(f"{base}/{page_path.relative_to(site).as_posix()}", wait_until="networkidle")
                page.wait_for_timeout(300)
                out[page_path] = files
                context.close()
            browser.close()
    finally:
        httpd.shutdown()
    return out


def page_sizes(site: Path = SITE) -> tuple[str, dict[str, dict[str, float]]]:
    """Method used, and per page: HTML [kB gzip], assets [kB gzip], total [MB gzip], number of files."""
    loaded = _browser_files(site)
    method = "chromium first visit" if loaded is not None else "static references (no chromium)"
    result: dict[str, dict[str, float]] = {}
    for page in pages(site):
        files = (loaded or {}).get(page) if loaded is not None else _static_files(page, site)
        files = set(files or ()) | {page}
        html_gz = _gzipped(page)
        total = sum(_gzipped(f) for f in files)
        result[page.relative_to(site).as_posix()] = {
            "html_kb_gzip": html_gz / 1e3, "assets_kb_gzip": (total - html_gz) / 1e3,
            "total_mb_gzip": total / 1e6, "files": len(files)}
    return method, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-build", action="store_true", help="measure the existing _build only")
    args = parser.parse_args()
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    print(f"machine: {machine}")
    figures: dict[str, float] = {}
    if not args.no_build:
        shutil.rmtree(ROOT / "_build", ignore_errors=True)
        figures["clean build [s]"] = _build()
        figures["no-change rebuild [s]"] = _build()
    execution = notebook_seconds()
    method, sizes = page_sizes()
    figures["largest page, first visit [MB gzip]"] = max(s["total_mb_gzip"] for s in sizes.values())

    print(f"\nnotebook execution during the clean build [s] (jupyter-cache), total {sum(execution.values()):.1f} s")
    for nb, seconds in sorted(execution.items(), key=lambda kv: -kv[1]):
        print(f"  {seconds:7.1f}  {nb}")
    print(f"\nfirst-visit transfer per page, gzipped ({method}; each file counted once per page)")
    print(f"  {'page':<42} {'HTML kB':>8} {'assets kB':>10} {'total MB':>9} {'files':>6}")
    for page, s in sorted(sizes.items(), key=lambda kv: -kv[1]["total_mb_gzip"]):
        print(f"  {page:<42} {s['html_kb_gzip']:8.1f} {s['assets_kb_gzip']:10.1f} {s['total_mb_gzip']:9.3f} "
              f"{s['files']:6.0f}")
    print()
    verdicts = {}
    for name, value in figures.items():
        verdicts[name] = value <= TARGETS[name]
        print(f"{name:>38}: {value:8.2f}  (target <= {TARGETS[name]:g}: {'ok' if verdicts[name] else 'OVER TARGET'})")

    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps({
        "machine": machine, "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "targets": TARGETS, "figures": figures,
        "pass": verdicts, "notebook_execution_s": execution, "page_size_method": method, "pages": sizes,
    }, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {RESULT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
