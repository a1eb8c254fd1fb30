"""The built wheel: it ships ``data/`` and every subpackage, and its ``memwall`` command works without a clone.

The tracked files (``git ls-files``) are copied to a temporary folder and built into a wheel there
(``pip wheel``, with build isolation: it fetches ``setuptools`` from PyPI). The wheel is installed with
``--no-deps`` into a fresh virtual environment outside the repository. That environment sees the third-party
packages of the running one through a ``.pth`` file naming the running interpreter's site-packages folders: a
``.pth`` line that is a path is only appended to ``sys.path``, so the ``.pth`` files inside those folders (among
them the editable install's finder of this clone's ``memwall``) are not executed, and ``import memwall`` finds
the wheel's copy. So that the borrowed packages cannot hide a dependency the wheel forgets to declare, the fresh
environment sees only the distributions in the closure of the wheel's ``Requires-Dist`` (a folder of links to
their files), as after a fresh ``pip install``. The commands run from a folder outside the repository, so
nothing of the clone (``data/``, ``chapters/``) is within reach. About 15-25 s, most of it the wheel build.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from .conftest import DATA, ROOT

pytestmark = pytest.mark.wheel

SUBPACKAGES = ("tables", "specs", "wall", "wall/measure", "wall/numpy_transformer", "serving", "beyond", "charts",
               "claims", "cli", "sphinxext")
H100 = "H100 SXM5 80GB (Hopper)"


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None,
         check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} exited {result.returncode}\n--- stdout\n{result.stdout}\n"
                    f"--- stderr\n{result.stderr}")
    return result


def _tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the wheel test builds from the tracked files (git ls-files)")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [name for name in out.decode().split("\0") if name]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the tracked files (files deleted in the working tree are left out)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source, dist = tmp / "source", tmp / "dist"
    for name in _tracked_files():
        src = ROOT / name
        if src.is_file():
            dst = source / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q", "-w", str(dist),
          str(source)], cwd=tmp)
    wheels = sorted(dist.glob("memwall-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _declared_site(wheel: Path, folder: Path, extra: tuple[str, ...] = ()) -> Path:
    """A folder of links to the installed files of the distributions that the wheel's ``Requires-Dist`` closure
    names, and nothing else: a module the wheel forgets to declare is missing there, as after ``pip install``.
    ``extra`` requirements (and their closure) are added, as if installed next to the wheel."""
    from importlib import metadata

    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        requires = [line.split(":", 1)[1].strip() for line in z.read(meta).decode().splitlines()
                    if line.startswith("Requires-Dist:")]
    requires += list(extra)
    seen: set[str] = set()
    todo = [Requirement(r) for r in requires]
    folder.mkdir(parents=True)
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = req.name.lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            pytest.fail(f"the wheel requires {req}, which the running environment does not have")
        todo += [Requirement(r) for r in (dist.requires or [])]
        base = Path(dist.locate_file(""))
        for top in {f.parts[0] for f in dist.files or [] if f.parts and f.parts[0] != ".."}:
            link = folder / top
            if not link.exists() and (base / top).exists():
                link.symlink_to(base / top)
    return folder


def _fresh_venv(wheel: Path, base: Path, extra: tuple[str, ...] = ()) -> Path:
    """A virtual environment at ``base/venv`` with the wheel installed (``--no-deps``), seeing only the declared
    closure of its requirements (plus ``extra``'s) through a ``.pth`` path line."""
    env_dir = base / "venv"
    assert not env_dir.resolve().is_relative_to(ROOT), "the fresh venv must lie outside the repository"
    _run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], cwd=env_dir.parent)
    python = env_dir / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   cwd=env_dir.parent).stdout.strip()
    # A path line only: the .pth files inside that folder (the editable memwall's finder) are not executed.
    declared = _declared_site(wheel, env_dir.parent / "declared-site-packages", extra)
    (Path(purelib) / "_memwall_test_deps.pth").write_text(f"{declared}\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--disable-pip-version-check",
          "-q", str(wheel)], cwd=env_dir.parent)
    return env_dir


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment outside the repository with the wheel installed (``--no-deps``)."""
    return _fresh_venv(wheel, tmp_path_factory.mktemp("venv"))


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working folder outside the repository."""
    cwd = tmp_path_factory.mktemp("cwd")
    assert not cwd.resolve().is_relative_to(ROOT)
    return cwd


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "MEMWALL_DATA_DIR"}}
    env["PYTHONNOUSERSITE"] = "1"
    env.update(extra)
    return env


def test_wheel_ships_the_data_tables_and_every_subpackage(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "memwall/data/hardware.csv" in names
    for table in [*DATA.glob("*.csv"), *DATA.glob("*.json")]:  # the tables and the example config.json
        assert f"memwall/data/{table.name}" in names, table.name
    assert "memwall/data/README.md" in names
    missing = [sub for sub in SUBPACKAGES if f"memwall/{sub}/__init__.py" not in names]
    assert not missing, f"subpackages missing from the wheel: {missing}"
    assert "memwall/cli/parser.py" in names and "memwall/sphinxext/notebooks.py" in names


def test_fresh_venv_imports_the_wheel_not_the_clone(venv: Path, outside: Path):
    code = ("import memwall, memwall.tables as t, numpy, pandas; "
            "print(memwall.__file__); print(t.data_dir())")
    out = _run([str(venv / "bin" / "python"), "-c", code], cwd=outside, env=_env()).stdout.splitlines()
    module_file, data_dir = Path(out[0]).resolve(), Path(out[1]).resolve()
    assert module_file.is_relative_to(venv.resolve()), f"memwall imported from {module_file}, not the fresh venv"
    assert not module_file.is_relative_to(ROOT)
    assert data_dir == module_file.parent / "data", f"tables read from {data_dir}, not the wheel's memwall/data"


def test_fresh_venv_refuses_undeclared_modules(venv: Path, outside: Path):
    # Only declared packages are there: sphinx is in the running environment (the book needs it), not in the wheel's.
    code = "import memwall.cli, memwall.claims, memwall.charts, memwall.book\ntry:\n    import sphinx\n" \
           "except ModuleNotFoundError as e:\n    print('refused', e)\n"
    out = _run([str(venv / "bin" / "python"), "-c", code], cwd=outside, env=_env()).stdout
    assert "refused" in out, out


def test_installed_validate_passes(venv: Path, outside: Path):
    out = _run([str(venv / "bin" / "memwall"), "validate", "--format", "csv"], cwd=outside, env=_env()).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["table"] for r in rows} >= {"hardware.csv", "models.csv", "gpu_reference_measurements.csv"}
    assert all(r["status"] == "ok" for r in rows), rows


def test_installed_claims_lists_the_ledger(venv: Path, outside: Path):
    out = _run([str(venv / "bin" / "memwall"), "claims", "--format", "csv"], cwd=outside, env=_env()).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) >= 100, f"only {len(rows)} claims listed"
    ids = {r["claim_id"] for r in rows}
    assert {"hw-flops-per-2y", "survey-ai-gpt2-4096", "beyond-moe-touches-most-experts"} <= ids


def test_installed_serve_runs(venv: Path, outside: Path):
    cmd = [str(venv / "bin" / "memwall"), "serve", "--model", "llama-3-8b", "--device", H100, "--scheme",
           "W4A16-KV8", "--batch", "1", "64", "--context", "8192", "--format", "csv"]
    rows = list(csv.DictReader(io.StringIO(_run(cmd, cwd=outside, env=_env()).stdout)))
    assert [int(r["batch"]) for r in rows] == [1, 64]
    assert all(float(r["tokens_per_s"]) > 0 for r in rows)


def test_installed_command_honours_memwall_data_dir(venv: Path, outside: Path, tmp_path: Path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    path = data / "hardware.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    rows[1][rows[0].index("memory_bandwidth_gb_per_s")] = "-5"  # bandwidth must be > 0
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    exe = str(venv / "bin" / "memwall")
    result = _run([exe, "validate"], cwd=outside, env=_env(MEMWALL_DATA_DIR=str(data)), check=False)
    assert result.returncode != 0, result.stdout
    # the folder is named once, each problem by file, line and column
    assert str(data) in result.stderr and f"{path.name}: line 2" in result.stderr, result.stderr
    assert "memory_bandwidth_gb_per_s" in result.stderr, result.stderr
    missing = _run([exe, "validate"], cwd=outside, env=_env(MEMWALL_DATA_DIR=str(tmp_path / "nowhere")), check=False)
    assert missing.returncode != 0 and "MEMWALL_DATA_DIR" in missing.stderr, missing.stderr


# --- the reader notebooks (memwall.sphinxext.notebooks) run against the installed wheel --------------------

READER_CHAPTERS = ("quantization", "models_memory")
"""Two light chapters (about 5 s each in the build) whose generated notebooks are executed."""
KERNEL_EXTRA = ("ipykernel",)
"""Installed beside the wheel for the kernel: ipykernel runs it; myst-nb because ``memwall.book.glue_number``
(which every chapter's hidden cells call) imports ``myst_nb.glue``, and the wheel does not declare it."""


@pytest.fixture(scope="module")
def kernel_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv like :func:`venv`, with ipykernel (and myst-nb) beside the wheel, and a kernel spec for it."""
    env_dir = _fresh_venv(wheel, tmp_path_factory.mktemp("kernel-venv"), KERNEL_EXTRA)
    spec = env_dir.parent / "kernels" / "memwall-wheel"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(env_dir / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "memwall wheel", "language": "python", "env": {"PYTHONNOUSERSITE": "1"}}))
    return env_dir


@pytest.mark.parametrize("chapter", READER_CHAPTERS)
def test_reader_notebook_runs_against_the_wheel(chapter: str, kernel_venv: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch):
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    from memwall.sphinxext import notebooks

    for name in ("PYTHONPATH", "PYTHONHOME", "MEMWALL_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    source = notebooks.write_notebook(ROOT / "chapters" / f"{chapter}.md", tmp_path / "nb" / f"{chapter}.ipynb",
                                      notebooks.repository_url(ROOT))
    work = tmp_path / "work"
    work.mkdir()
    assert not work.resolve().is_relative_to(ROOT)
    nb = nbformat.read(source, as_version=4)
    probe = ("import json, os, sys, memwall\n"
             "print(json.dumps({'memwall': memwall.__file__, 'python': sys.executable, 'cwd': os.getcwd(), "
             "'path': sys.path}))")
    nb.cells.append(nbformat.v4.new_code_cell(probe))
    kernels = KernelSpecManager(kernel_dirs=[str(kernel_venv.parent / "kernels")])
    km = KernelManager(kernel_name="memwall-wheel", kernel_spec_manager=kernels)
    started = time.perf_counter()
    NotebookClient(nb, km=km, timeout=300, resources={"metadata": {"path": str(work)}}).execute()
    elapsed = time.perf_counter() - started
    print(f"{chapter}: executed in {elapsed:.1f} s")  # shown with -s / in the report of a failure

    setup = nb.cells[0]
    assert setup.metadata["tags"] == ["memwall-setup"] and not setup.outputs, setup.outputs  # memwall found: no-op
    assert not any(work.iterdir()), f"the notebook wrote {sorted(p.name for p in work.iterdir())} (a clone?)"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, errors
    seen = json.loads(nb.cells[-1].outputs[0]["text"])
    assert Path(seen["memwall"]).resolve().is_relative_to(kernel_venv.resolve()), seen["memwall"]
    assert Path(seen["python"]).parent == kernel_venv / "bin", seen["python"]
    assert Path(seen["cwd"]).resolve() == work.resolve()
    inside = [p for p in seen["path"] if p and Path(p).resolve().is_relative_to(ROOT)]
    assert not inside, f"the kernel's sys.path reaches the repository: {inside}"
