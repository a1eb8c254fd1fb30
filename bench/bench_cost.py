"""Time the cost model: one configuration through the fast path, and sweeps through the vectorised path.

Three figures, each printed beside its target and the peers' published per-configuration times
(llm-analysis 192 µs, LLM-Viewer 61 µs per configuration):

* **Scalar**: :func:`memwall.quick.estimate` (prefill bound, one decode-step bound and the memory footprint of
  one configuration) on random configurations of every decoder preset; target ≤ 30 µs per configuration.
  For comparison, the same three answers through the array API (``request_split`` + ``decode_step_time`` +
  ``footprint``) on a few configurations.
* **Vectorised**: :func:`memwall.cost.cost_arrays` on every preset × 50 sequence lengths × 12 batch sizes ×
  12 precision combinations (about 10^5 configurations per phase) in one call per phase: the model axis and
  the other axes broadcast, with no Python loop over configurations; target ≥ 10^6 configurations/s.
* **CLI**: wall time of ``memwall serve`` in a fresh interpreter (imports included), warm and cold table
  cache, target <= 0.5 s warm; measured by :func:`bench_cli.measure_cli_serve` (skip with ``--no-cli``).

Run: ``python bench/bench_cost.py [--no-cli] [--json PATH]`` (``make bench`` runs it). Pin one core with
``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1`` if wanted; the figures are medians of repeats, so a busy
machine slows them. No test asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from memwall.cost import cost_arrays
from memwall.quick import estimate
from memwall.roofline import Ceilings
from memwall.serving.decode import decode_step_time
from memwall.serving.frontier import request_split
from memwall.serving.memory import footprint
from memwall.specs import get_preset, list_presets
from memwall.widths import ByteWidths

#: Targets (issue 13, item 5).
SCALAR_TARGET_S = 30e-6
VECTOR_TARGET_PER_S = 1e6
#: Peers' published time per configuration [s].
PEERS_S = {"llm-analysis": 192e-6, "LLM-Viewer": 61e-6}
#: Device of the scalar benchmark: an H100-like roofline (989 TFLOP/s dense 16-bit, 3.35 TB/s).
DEVICE = Ceilings(989e12, 3.35e12, name="H100-like")
#: The CLI hook's command: one `memwall serve` answer for one model, batch and context on a custom device.


def _peers(per_config_s: float) -> str:
    return ", ".join(f"{name} {t * 1e6:.0f} µs ({t / per_config_s:.1f}x ours)" for name, t in PEERS_S.items())


def _configurations(n: int, seed: int = 0) -> list[tuple]:
    rng = np.random.default_rng(seed)
    specs = [get_preset(name) for name in list_presets() if get_preset(name).causal]
    widths = [ByteWidths(weight=w, act=2.0, kv=k) for w in (0.5, 1.0, 2.0) for k in (1.0, 2.0)]
    return [(specs[rng.integers(len(specs))], int(rng.integers(1, 32768)), int(rng.integers(0, 131072)),
             int(rng.integers(1, 257)), widths[rng.integers(len(widths))]) for _ in range(n)]


def scalar_fast(n: int = 2000, repeats: int = 7) -> float:
    """Median over repeats of the time per configuration of :func:`memwall.quick.estimate`. [s]"""
    configs = _configurations(n)
    for spec, p, c, b, w in configs[:50]:  # warm the per-spec caches, as a long-running caller has them
        estimate(spec, DEVICE, p, c, b, widths=w)
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for spec, p, c, b, w in configs:
            estimate(spec, DEVICE, p, c, b, widths=w)
        runs.append((time.perf_counter() - start) / n)
    return statistics.median(runs)


def scalar_array_api(n: int = 30) -> float:
    """Time per configuration of the same three answers through the array API. [s]"""
    configs = _configurations(n, seed=1)
    start = time.perf_counter()
    for spec, p, c, b, w in configs:
        request_split(spec, DEVICE, p, 2, b, widths=w)
        decode_step_time(spec, DEVICE, b, c, widths=w)
        footprint(spec, b, c, widths=w)
    return (time.perf_counter() - start) / n


def sweep(phase: str) -> tuple[int, float]:
    """Evaluate one phase over the whole grid; return (configurations, seconds)."""
    specs = [get_preset(n) for n in list_presets()]
    if phase != "prefill":  # decode/generate need a KV cache: decoders only (cost_arrays rejects encoders)
        specs = [s for s in specs if s.causal]
    lengths = np.unique(np.geomspace(1, 131072, 50).round()).astype(int)
    lengths = np.resize(lengths, 50)[:, None, None]  # (50, 1, 1)
    batches = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048])[:, None]  # (12, 1)
    weight = np.array([0.5, 1.0, 2.0, 4.0]).repeat(3)  # (12,) int4 … fp32 weights
    act = np.tile([1.0, 2.0, 4.0], 4)  # (12,) activations
    kv = np.tile([1.0, 2.0, 2.0], 4)  # (12,) KV cache
    start = time.perf_counter()
    ops = cost_arrays(specs, phase, lengths, batches, widths=ByteWidths(weight=weight, act=act, kv=kv))
    flops = sum(o.flops for o in ops.values())
    moved = sum(o.bytes_read + o.bytes_written for o in ops.values())
    intensity = flops / moved
    seconds = time.perf_counter() - start
    assert np.isfinite(intensity).all()
    return intensity.size, seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-cli", action="store_true", help="skip timing the `memwall serve` command line")
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this JSON file")
    args = parser.parse_args(argv)
    result: dict[str, object] = {"peers_s_per_configuration": PEERS_S}

    fast = scalar_fast()
    slow = scalar_array_api()
    ok = "meets" if fast <= SCALAR_TARGET_S else "MISSES"
    print(f"scalar    : {fast * 1e6:6.1f} µs per configuration (memwall.quick.estimate: prefill + decode step + "
          f"footprint); target <= {SCALAR_TARGET_S * 1e6:.0f} µs: {ok}; peers: {_peers(fast)}")
    print(f"            array API for the same answers: {slow * 1e6:,.0f} µs per configuration "
          f"({slow / fast:.0f}x the fast path)")
    result.update(scalar_s_per_configuration=fast, array_api_s_per_configuration=slow,
                  scalar_target_s=SCALAR_TARGET_S)

    for phase in ("prefill", "decode", "generate"):
        sweep(phase)  # warm-up (imports, first allocation, coefficient cache)
        n, best = min((sweep(phase) for _ in range(3)), key=lambda r: r[1])
        rate = n / best
        ok = "meets" if rate >= VECTOR_TARGET_PER_S else "MISSES"
        print(f"vectorised: {phase:8s} {n:,} configurations in {best:.3f} s = {rate / 1e6:.2f} M configurations/s "
              f"({best / n * 1e9:.0f} ns each); target >= {VECTOR_TARGET_PER_S / 1e6:.0f} M/s: {ok}; "
              f"peers: {_peers(best / n)}")
        result[f"vectorised_{phase}_per_s"] = rate
    result["vectorised_target_per_s"] = VECTOR_TARGET_PER_S

    # CLI: `memwall serve` in a fresh interpreter, warm records cache (bench/bench_cli.py)
    if not args.no_cli:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_cli import COMMAND, TARGET_S, measure_cli_serve

        warm = measure_cli_serve(5)
        cold = measure_cli_serve(1, cold=True)
        ok = "meets" if warm <= TARGET_S else "MISSES"
        print(f"cli       : `memwall {' '.join(COMMAND)}` {warm:.2f} s wall warm (median of 5, imports included), "
              f"{cold:.2f} s cold (empty table cache); target <= {TARGET_S:.1f} s warm: {ok}")
        result.update(cli_serve_wall_s=warm, cli_serve_cold_wall_s=cold, cli_target_s=TARGET_S)

    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
