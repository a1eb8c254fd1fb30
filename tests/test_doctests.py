"""Run the ``Examples`` sections of every docstring in the package as doctests.

``testpaths = ["tests"]`` keeps ``pytest --doctest-modules`` away from ``memwall/``; this test walks the
package with :func:`pkgutil.walk_packages` instead and runs each module's docstring examples the way
:func:`doctest.testmod` does (module globals, ``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``), so they run with
the ordinary test command and a failure names every failing example.

Modules that cannot be imported without the documentation toolchain (Sphinx for ``memwall.sphinxext``,
myst-nb) are left out when it is missing; ``memwall.book`` imports myst_nb lazily and always runs.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import memwall

OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
DOCS_TOOLCHAIN = {"sphinx", "myst_nb", "jupyter_book"}  # docutils is a dependency of memwall itself
NEVER_IMPORT = {"memwall.__main__"}  # importing it runs the command line


def _modules() -> list[ModuleType]:
    modules = []
    for info in pkgutil.walk_packages(memwall.__path__, prefix="memwall."):
        if info.name in NEVER_IMPORT:
            continue
        try:
            modules.append(importlib.import_module(info.name))
        except ModuleNotFoundError as err:
            if (err.name or "").split(".")[0] not in DOCS_TOOLCHAIN:
                raise
    return modules


def test_docstring_examples() -> None:
    modules = _modules()
    names = {m.__name__ for m in modules}
    assert {"memwall.roofline", "memwall.specs.presets", "memwall.claims.ledger"} <= names  # reaches subpackages
    finder = doctest.DocTestFinder(exclude_empty=True)
    failures, attempted = [], 0
    for module in modules:
        runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
        for test in finder.find(module):
            out: list[str] = []
            result = runner.run(test, out=out.append)
            attempted += result.attempted
            if result.failed:
                failures.append(f"{test.name}: {result.failed} of {result.attempted} example(s) failed\n{''.join(out)}")
    assert not failures, f"{len(failures)} docstring(s) with failing examples:\n\n" + "\n".join(failures)
    assert attempted >= 30, f"only {attempted} docstring examples found; did the walk miss modules?"
