"""Time the ``memwall serve`` command line, warm (records cache filled) and cold (empty cache).

``memwall serve --model llama-3-8b --device h100 --batch 1 8 --context 1024`` runs in a fresh interpreter,
as a user runs it. Warm: the validated hardware table is read from its cache
(:func:`memwall.device_lookup.hardware_records`), pandas is not imported; target <= 0.5 s. Cold: an empty
cache folder, so the table is validated with pandas and pandera first (once per content of the tables).
Prints both and a pass/fail line, and writes ``bench/results/cli.json`` (git-ignored).

Run: ``python bench/bench_cli.py [--repeats 5]``. Other benchmarks call :func:`measure_cli_serve`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "bench" / "results" / "cli.json"
COMMAND = ("serve", "--model", "llama-3-8b", "--device", "h100", "--batch", "1", "8", "--context", "1024")
"""The timed call (``memwall`` arguments)."""
TARGET_S = 0.5
"""Target wall time of a warm call. [s]"""


def _run(env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "memwall", *COMMAND], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure_cli_serve(repeats: int = 5, *, cold: bool = False) -> float:
    """Median wall time of ``memwall serve`` (:data:`COMMAND`) in a fresh interpreter.

    Parameters
    ----------
    repeats : int
        Timed calls; the median is returned.
    cold : bool
        Empty records cache before every call (the table validated with pandas and pandera), instead of
        one untimed call that fills it.

    Returns
    -------
    float
        Median wall time of one call. [s]

    Raises
    ------
    subprocess.CalledProcessError
        If the command fails.
    """
    times = []
    with tempfile.TemporaryDirectory(prefix="memwall-bench-cli-") as tmp:
        env = {**os.environ, "MEMWALL_CACHE_DIR": str(Path(tmp) / "cache")}
        if not cold:
            _run(env)
        for i in range(repeats):
            if cold:
                env["MEMWALL_CACHE_DIR"] = str(Path(tmp) / f"cold-{i}")
            times.append(_run(env))
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per case (default 5)")
    args = parser.parse_args()
    warm = measure_cli_serve(args.repeats)
    cold = measure_cli_serve(max(1, args.repeats // 2), cold=True)
    print(f"memwall {' '.join(COMMAND)}")
    print(f"  warm (cached table): {warm:.3f} s   target <= {TARGET_S} s: {'PASS' if warm <= TARGET_S else 'FAIL'}")
    print(f"  cold (empty cache):  {cold:.3f} s   (validates the table with pandas/pandera once per content)")
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps({"command": ["memwall", *COMMAND], "warm_s": warm, "cold_s": cold,
                                  "target_warm_s": TARGET_S, "pass": warm <= TARGET_S}, indent=2) + "\n")
    return 0 if warm <= TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
