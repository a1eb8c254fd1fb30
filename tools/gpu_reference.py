"""Measure one GPU's roofline and a Llama-3-8B-shaped decoder's prefill/decode latency (PyTorch).

Writes rows in the format of ``data/gpu_reference_measurements.csv`` (data dictionary in
``data/README.md``). Not part of the book's build or tests: it needs a CUDA GPU and PyTorch, which the
project's environment does not have. Run it where both exist::

    for run in 1 2 3; do python3 tools/gpu_reference.py --run $run --output run$run.csv; done

and concatenate the three files (one header) into ``data/gpu_reference_measurements.csv``.

``--small`` runs a tiny version on any device (the CPU too) to check the script itself.

Experiments (all timed with CUDA events around the region, after warm-up; the median of the repeats is
stored; random normal data, never zeros):

* ``copy`` / ``triad`` / ``read``: device-memory bandwidth on 4 GiB bf16 buffers, bytes counted the
  STREAM way (each array read or written once; McCalpin, https://www.cs.virginia.edu/stream/ref.html):
  ``b.copy_(a)`` 2 B/element·2, ``torch.add(b, c, alpha=s, out=a)`` 3 arrays, ``a.sum()`` 1 array.
* ``gemm``: square ``n × n × n`` products, ``2·n³`` FLOPs, in bf16, fp16, tf32, fp32 (TF32 off) and fp8
  (e4m3 through ``torch._scaled_mm`` where it works).
* ``gemv``: ``Y = X·Wᵀ`` with ``W`` of ``d × d`` bf16 and ``b`` rows of ``X``: intensity
  ``2·d²·b / (2·(d² + 2·d·b))`` FLOP/B with compulsory bytes (weights read once, X read, Y written).
* ``prefill`` / ``decode``: a decoder with Llama-3-8B's shapes (32 layers, d = 4096, 32 query heads,
  8 KV heads of 128, SwiGLU FFN 14336, vocabulary 128256, untied LM head; Meta's model card
  https://huggingface.co/meta-llama/Meta-Llama-3-8B/blob/main/config.json) and random bf16 weights.
  Prefill runs ``l`` tokens at batch 1 (causal SDPA); one decode step appends one token per sequence
  to a KV cache of ``context`` tokens at batch ``B`` and returns logits. Decode is timed both eagerly
  and as a replayed CUDA graph (no launch gaps). RoPE is left out (elementwise; it moves no weight
  bytes). A decode step is checked against a prefill of the same tokens before timing.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

COLUMNS = ["machine", "measured_on", "run", "gpu_memory_bytes", "sm_count", "l2_cache_bytes", "driver_version",
           "cuda_version", "torch_version", "experiment", "setting", "dtype", "batch_sequences", "context_tokens",
           "flop", "bytes_moved", "intensity_flop_per_byte", "flop_per_s", "bandwidth_bytes_per_s", "time_s",
           "command", "method_url"]
STREAM_URL = "https://www.cs.virginia.edu/stream/ref.html"
ROOFLINE_URL = "https://doi.org/10.1145/1498765.1498785"
LLAMA_URL = "https://huggingface.co/meta-llama/Meta-Llama-3-8B/blob/main/config.json"


class Timer:
    """Median time of ``fn`` over repeats: CUDA events on a GPU, perf_counter elsewhere."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"

    def sync(self) -> None:
        if self.cuda:
            torch.cuda.synchronize()

    def median(self, fn, repeats: int, warmup: int = 3) -> float:
        for _ in range(warmup):
            fn()
        self.sync()
        times = []
        for _ in range(repeats):
            if self.cuda:
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                end.record()
                end.synchronize()
                times.append(start.elapsed_time(end) / 1e3)
            else:
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
        return statistics.median(times)


def machine_fields(device: torch.device) -> dict[str, object]:
    fields: dict[str, object] = {"measured_on": dt.date.today().isoformat(), "torch_version": torch.__version__,
                                 "cuda_version": torch.version.cuda or ""}
    if device.type == "cuda":
        p = torch.cuda.get_device_properties(device)
        fields.update(machine=p.name, gpu_memory_bytes=p.total_memory, sm_count=p.multi_processor_count,
                      l2_cache_bytes=getattr(p, "L2_cache_size", ""))
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=30)
            fields["driver_version"] = out.stdout.strip().splitlines()[0]
        except Exception as exc:
            fields["driver_version"] = f"unknown ({exc.__class__.__name__})"
    else:
        fields.update(machine=f"cpu ({device})", gpu_memory_bytes="", sm_count="", l2_cache_bytes="",
                      driver_version="")
    return fields


class Recorder:
    def __init__(self, path: Path, base: dict[str, object]) -> None:
        self.path, self.base, self.rows = path, base, []

    def add(self, **row: object) -> None:
        full = {**self.base, **row}
        if full.get("flop") not in (None, "") and full.get("time_s"):
            full["flop_per_s"] = float(full["flop"]) / float(full["time_s"])
        if full.get("bytes_moved") not in (None, "") and full.get("time_s"):
            full["bandwidth_bytes_per_s"] = float(full["bytes_moved"]) / float(full["time_s"])
        if full.get("flop") not in (None, "") and full.get("bytes_moved") not in (None, ""):
            full["intensity_flop_per_byte"] = float(full["flop"]) / float(full["bytes_moved"])
        self.rows.append(full)
        self.flush()
        shown = {k: full.get(k) for k in ("experiment", "setting", "time_s", "flop_per_s", "bandwidth_bytes_per_s")}
        print("  ", shown, flush=True)

    def flush(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
            writer.writeheader()
            for r in self.rows:
                writer.writerow({c: r.get(c, "") for c in COLUMNS})


def bandwidth(rec: Recorder, timer: Timer, device: torch.device, gib: float, repeats: int) -> None:
    n = int(gib * 2**30 // 2)
    a = torch.randn(n, device=device, dtype=torch.bfloat16)
    b = torch.randn(n, device=device, dtype=torch.bfloat16)
    c = torch.randn(n, device=device, dtype=torch.bfloat16)
    size = n * 2
    cases = {
        "copy": (lambda: b.copy_(a), 2 * size),
        "triad": (lambda: torch.add(b, c, alpha=3.0, out=a), 3 * size),
        "read": (lambda: a.sum(dtype=torch.float32), size),
    }
    for name, (fn, moved) in cases.items():
        t = timer.median(fn, repeats)
        rec.add(experiment=name, setting=f"{name} {size / 2**30:.0f} GiB bf16", dtype="bfloat16", bytes_moved=moved,
                time_s=t, method_url=STREAM_URL)


def gemm(rec: Recorder, timer: Timer, device: torch.device, n: int, repeats: int) -> None:
    for name, dtype, tf32 in [("bfloat16", torch.bfloat16, False), ("float16", torch.float16, False),
                              ("tf32", torch.float32, True), ("float32", torch.float32, False)]:
        torch.backends.cuda.matmul.allow_tf32 = tf32
        x = torch.randn(n, n, device=device, dtype=dtype)
        y = torch.randn(n, n, device=device, dtype=dtype)
        t = timer.median(lambda x=x, y=y: x @ y, repeats if dtype != torch.float32 or tf32 else max(3, repeats // 4))
        elem = 4 if dtype == torch.float32 else 2
        rec.add(experiment="gemm", setting=f"{name} n={n}", dtype=name, flop=2 * n**3, bytes_moved=3 * n * n * elem,
                time_s=t, method_url=ROOFLINE_URL)
    torch.backends.cuda.matmul.allow_tf32 = False
    if device.type == "cuda":
        try:
            x = torch.randn(n, n, device=device).to(torch.float8_e4m3fn)
            y = torch.randn(n, n, device=device).to(torch.float8_e4m3fn).t()  # column-major, as _scaled_mm wants
            one = torch.tensor(1.0, device=device)
            t = timer.median(lambda: torch._scaled_mm(x, y, scale_a=one, scale_b=one, out_dtype=torch.bfloat16),
                             repeats)
            rec.add(experiment="gemm", setting=f"float8_e4m3 n={n}", dtype="float8_e4m3", flop=2 * n**3,
                    bytes_moved=2 * n * n + 2 * n * n, time_s=t, method_url=ROOFLINE_URL)
        except Exception as exc:
            print(f"  fp8 GEMM skipped: {exc!r}", flush=True)


def gemv(rec: Recorder, timer: Timer, device: torch.device, d: int, batches: list[int], repeats: int) -> None:
    w = torch.randn(d, d, device=device, dtype=torch.bfloat16) / math.sqrt(d)
    for b in batches:
        x = torch.randn(b, d, device=device, dtype=torch.bfloat16)
        t = timer.median(lambda x=x: F.linear(x, w), repeats)
        rec.add(experiment="gemv", setting=f"bfloat16 d={d} b={b}", dtype="bfloat16", batch_sequences=b,
                flop=2 * d * d * b, bytes_moved=2 * (d * d + 2 * d * b), time_s=t, method_url=ROOFLINE_URL)


class Decoder:
    """Llama-style decoder (pre-norm RMSNorm, GQA attention, SwiGLU FFN) with random weights."""

    def __init__(self, cfg: dict[str, int], device: torch.device, dtype: torch.dtype) -> None:
        self.cfg, self.device, self.dtype = cfg, device, dtype
        d, f, v = cfg["d"], cfg["ffn"], cfg["vocab"]
        hd, kv = cfg["head_dim"], cfg["kv_heads"]

        def w(rows: int, cols: int) -> torch.Tensor:
            return torch.randn(rows, cols, device=device, dtype=dtype) / math.sqrt(cols)

        self.layers = [{"wqkv": w((cfg["heads"] + 2 * kv) * hd, d), "wo": w(d, cfg["heads"] * hd),
                        "w13": w(2 * f, d), "w2": w(d, f),
                        "n1": torch.ones(d, device=device, dtype=dtype),
                        "n2": torch.ones(d, device=device, dtype=dtype)} for _ in range(cfg["layers"])]
        self.embed = torch.randn(v, d, device=device, dtype=dtype)
        self.norm = torch.ones(d, device=device, dtype=dtype)
        self.head = w(v, d)

    def param_count(self) -> int:
        n = self.embed.numel() + self.norm.numel() + self.head.numel()
        return n + sum(t.numel() for layer in self.layers for t in layer.values())

    def _qkv(self, layer: dict, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c = self.cfg
        b, s, _ = x.shape
        qkv = F.linear(F.rms_norm(x, (c["d"],), layer["n1"]), layer["wqkv"])
        q, k, v = qkv.split([c["heads"] * c["head_dim"], c["kv_heads"] * c["head_dim"],
                             c["kv_heads"] * c["head_dim"]], dim=-1)
        q = q.view(b, s, c["heads"], c["head_dim"]).transpose(1, 2)
        k = k.view(b, s, c["kv_heads"], c["head_dim"]).transpose(1, 2)
        v = v.view(b, s, c["kv_heads"], c["head_dim"]).transpose(1, 2)
        return q, k, v

    def _ffn(self, layer: dict, x: torch.Tensor) -> torch.Tensor:
        gate, up = F.linear(F.rms_norm(x, (self.cfg["d"],), layer["n2"]), layer["w13"]).chunk(2, dim=-1)
        return x + F.linear(F.silu(gate) * up, layer["w2"])

    def prefill(self, tokens: torch.Tensor, cache: list[tuple[torch.Tensor, torch.Tensor]] | None = None):
        """Causal forward over ``tokens`` (B, l); fills ``cache`` positions 0..l-1 if given; last logits."""
        c = self.cfg
        x = self.embed[tokens]
        b, s, _ = x.shape
        group = c["heads"] // c["kv_heads"]
        for i, layer in enumerate(self.layers):
            q, k, v = self._qkv(layer, x)
            if cache is not None:
                cache[i][0][:, :, :s] = k
                cache[i][1][:, :, :s] = v
            k = k.repeat_interleave(group, dim=1)
            v = v.repeat_interleave(group, dim=1)
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + F.linear(o.transpose(1, 2).reshape(b, s, -1), layer["wo"])
            x = self._ffn(layer, x)
        return F.linear(F.rms_norm(x[:, -1:], (c["d"],), self.norm), self.head)

    def decode(self, tokens: torch.Tensor, cache: list[tuple[torch.Tensor, torch.Tensor]], pos: int):
        """One step: ``tokens`` (B, 1) attend to cache positions 0..pos (the new K/V written at ``pos``).

        GQA without copies: the ``heads/kv_heads`` query heads of one group become that group's query rows,
        so SDPA reads each cached K/V head once (no mask needed: a decode token sees the whole cache).
        """
        c = self.cfg
        x = self.embed[tokens]
        b = x.shape[0]
        group = c["heads"] // c["kv_heads"]
        for i, layer in enumerate(self.layers):
            q, k, v = self._qkv(layer, x)
            kc, vc = cache[i]
            kc[:, :, pos:pos + 1] = k
            vc[:, :, pos:pos + 1] = v
            qg = q.reshape(b, c["kv_heads"], group, c["head_dim"])
            o = F.scaled_dot_product_attention(qg, kc[:, :, :pos + 1], vc[:, :, :pos + 1])
            x = x + F.linear(o.reshape(b, 1, -1), layer["wo"])
            x = self._ffn(layer, x)
        return F.linear(F.rms_norm(x, (c["d"],), self.norm), self.head)

    def new_cache(self, batch: int, tokens: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        c = self.cfg
        shape = (batch, c["kv_heads"], tokens, c["head_dim"])
        return [(torch.randn(shape, device=self.device, dtype=self.dtype),
                 torch.randn(shape, device=self.device, dtype=self.dtype)) for _ in range(c["layers"])]


def check_decoder(model: Decoder, device: torch.device) -> float:
    """Relative difference between a decode step after a prefill and a prefill of all the tokens."""
    g = torch.Generator(device="cpu").manual_seed(0)
    tokens = torch.randint(0, model.cfg["vocab"], (2, 17), generator=g).to(device)
    cache = model.new_cache(2, 32)
    model.prefill(tokens[:, :16], cache)
    step = model.decode(tokens[:, 16:17], cache, pos=16).float()
    full = model.prefill(tokens).float()
    return float((step - full).norm() / full.norm())


def transformer(rec: Recorder, timer: Timer, device: torch.device, cfg: dict[str, int], prefill_lengths: list[int],
                decode_grid: list[tuple[int, int]], repeats: int) -> None:
    torch.manual_seed(0)
    model = Decoder(cfg, device, torch.bfloat16)
    params = model.param_count()
    print(f"  decoder with {params:,} parameters", flush=True)
    err = check_decoder(model, device)
    print(f"  decode-vs-prefill relative difference {err:.2e}", flush=True)
    if not err < 5e-2:
        raise RuntimeError(f"decode step disagrees with prefill (relative difference {err:.3g})")
    name = cfg["name"]
    base = {"dtype": "bfloat16", "method_url": LLAMA_URL}
    with torch.inference_mode():
        for length in prefill_lengths:
            tokens = torch.randint(0, cfg["vocab"], (1, length), device=device)
            t = timer.median(lambda tokens=tokens: model.prefill(tokens), repeats)
            rec.add(experiment="prefill", setting=f"{name} prefill l={length}", batch_sequences=1,
                    context_tokens=length, time_s=t, **base)
        for batch, context in decode_grid:
            cache = model.new_cache(batch, context + 1)
            tokens = torch.randint(0, cfg["vocab"], (batch, 1), device=device)
            def step(tokens=tokens, cache=cache, context=context):
                return model.decode(tokens, cache, context)

            t_eager = timer.median(step, repeats)
            rec.add(experiment="decode_eager", setting=f"{name} decode B={batch} ctx={context} eager",
                    batch_sequences=batch, context_tokens=context, time_s=t_eager, **base)
            if device.type == "cuda":
                stream = torch.cuda.Stream()
                stream.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(stream):
                    for _ in range(2):
                        model.decode(tokens, cache, context)
                torch.cuda.current_stream().wait_stream(stream)
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph):
                    model.decode(tokens, cache, context)
                t_graph = timer.median(graph.replay, repeats)
                rec.add(experiment="decode_graph", setting=f"{name} decode B={batch} ctx={context} graph",
                        batch_sequences=batch, context_tokens=context, time_s=t_graph, **base)
            if device.type == "cuda":
                torch.cuda.empty_cache()


LLAMA3_8B = {"name": "llama-3-8b", "layers": 32, "d": 4096, "heads": 32, "kv_heads": 8, "head_dim": 128,
             "ffn": 14336, "vocab": 128256}
TINY = {"name": "tiny", "layers": 2, "d": 256, "heads": 8, "kv_heads": 2, "head_dim": 32, "ffn": 512, "vocab": 1000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("gpu_reference_measurements.csv"))
    parser.add_argument("--run", type=int, default=1, help="repetition number recorded in each row")
    parser.add_argument("--small", action="store_true", help="tiny sizes: check the script on any device")
    parser.add_argument("--skip", nargs="*", default=[], choices=["bandwidth", "gemm", "gemv", "transformer"])
    args = parser.parse_args(argv)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    timer = Timer(device)
    command = "python3 tools/gpu_reference.py" + (" --small" if args.small else "") + f" --run {args.run}"
    rec = Recorder(args.output, {**machine_fields(device), "run": args.run, "command": command})
    print(f"device: {rec.base['machine']}  torch {torch.__version__}", flush=True)
    small = args.small
    steps = {
        "bandwidth": lambda: bandwidth(rec, timer, device, 0.0625 if small else 4.0, 5 if small else 30),
        "gemm": lambda: gemm(rec, timer, device, 256 if small else 8192, 3 if small else 30),
        "gemv": lambda: gemv(rec, timer, device, 512 if small else 16384,
                             [1, 4, 16, 64] if small else [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096],
                             5 if small else 50),
        "transformer": lambda: transformer(
            rec, timer, device, TINY if small else LLAMA3_8B,
            [8, 32] if small else [128, 512, 2048, 8192],
            [(1, 16), (4, 64)] if small else [(1, 1024), (1, 8192), (8, 1024), (32, 1024), (64, 1024),
                                              (128, 1024), (256, 1024), (32, 8192)],
            3 if small else 20),
    }
    failures = 0
    for name, step in steps.items():
        if name in args.skip:
            continue
        print(f"[{name}]", flush=True)
        t0 = time.perf_counter()
        try:
            step()
        except Exception as exc:
            failures += 1
            print(f"  FAILED: {exc!r}", flush=True)
        if device.type == "cuda":
            torch.cuda.empty_cache()
        print(f"  ({time.perf_counter() - t0:.1f} s)", flush=True)
    print(f"wrote {len(rec.rows)} rows to {args.output}; {failures} step(s) failed", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
