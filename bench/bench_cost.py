"""Time the vectorised cost model on a sweep of about 10^5 configurations.

The sweep is every preset × 50 sequence lengths × 12 batch sizes × 12 precision combinations
(14 × 50 × 12 × 12 = 100,800 configurations per phase), evaluated in one call per phase: the model
axis and the other axes broadcast, with no Python loop over configurations. Target: under 1 s on
one core.

Run: ``python bench/bench_cost.py`` (set ``OMP_NUM_THREADS=1`` etc. to pin one core; numpy's
elementwise kernels are single-threaded anyway).
"""

from __future__ import annotations

import time

import numpy as np

from memwall.cost import cost_arrays
from memwall.specs import get_preset, list_presets
from memwall.widths import ByteWidths


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


def main() -> None:
    for phase in ("prefill", "decode", "generate"):
        sweep(phase)  # warm-up (imports, first allocation)
        n, best = min((sweep(phase) for _ in range(3)), key=lambda r: r[1])
        print(f"{phase:8s}: {n:,} configurations in {best:.3f} s "
              f"({n / best / 1e6:.2f} M configurations/s)")


if __name__ == "__main__":
    main()
