"""Measure this machine's roofline ceilings: sustained memory bandwidth, peak GEMM, GEMV vs GEMM.

Three experiments, all in numpy, each bounded in time by its size and repeat arguments:

* :func:`stream_bandwidth`: the four STREAM kernels of McCalpin (copy ``c = a``, scale ``b = s·c``,
  add ``c = a + b``, triad ``a = b + s·c``; https://www.cs.virginia.edu/stream/ref.html) on float64
  arrays much larger than the last-level cache. Bytes are counted the STREAM way (16 B per element
  for copy and scale, 24 B for add and triad: each array named in the kernel read or written once).
  What numpy moves can be more; see :data:`NUMPY_PASSES` and the ``moved_*`` columns.
* :func:`gemm_peak`: square ``n × n`` matrix products through numpy's BLAS, ``2·n³`` FLOPs each, in
  float32 and float64: the compute roof.
* :func:`gemv_gemm_sweep`: ``Y = W·X`` with ``W`` of ``d × d`` and ``X`` of ``d × b`` for growing
  ``b``. At ``b = 1`` (a matrix-vector product, what one decode step of a Transformer does) each
  weight is used for one multiply-add, intensity ≈ 2 / element size; as ``b`` grows (prefill, or
  batched decode) the intensity and the FLOP/s grow until the compute roof.

:func:`measure_machine` runs all three with a progress bar and returns a :class:`MachineReport`
whose :meth:`MachineReport.ceilings` feeds :mod:`memwall.roofline`.

Numbers from a shared or virtualised machine vary between runs by 10-30 %; medians of repeats are
reported (STREAM itself reports the best of its repeats; that column is given too).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from memwall.roofline import Ceilings

__all__ = [
    "NUMPY_PASSES",
    "STREAM_BYTES_PER_ELEMENT",
    "STREAM_KERNELS",
    "MachineInfo",
    "MachineReport",
    "gemm_peak",
    "gemv_gemm_sweep",
    "last_level_cache_bytes",
    "machine_info",
    "measure_machine",
    "stream_bandwidth",
    "summarize_measurements",
]

STREAM_KERNELS = ("copy", "scale", "add", "triad")

STREAM_BYTES_PER_ELEMENT: dict[str, int] = {"copy": 16, "scale": 16, "add": 24, "triad": 24}
"""Bytes per float64 element counted by STREAM: 2 arrays × 8 B for copy and scale, 3 × 8 B for add and
triad (McCalpin, https://www.cs.virginia.edu/stream/ref.html). Write-allocate traffic (reading a
destination line before writing it) is not counted, as in STREAM."""

NUMPY_PASSES: dict[str, tuple[str, ...]] = {
    "copy": ("np.copyto(c, a)",),
    "scale": ("np.multiply(c, s, out=b)",),
    "add": ("np.add(a, b, out=c)",),
    "triad": ("np.multiply(c, s, out=a)", "np.add(a, b, out=a)"),
}
"""The numpy calls of each kernel on whole arrays. Triad has no single-ufunc form in numpy: on whole
arrays it takes two passes, 16 B + 24 B = 40 B per element of DRAM traffic rather than 24 B. With
``triad_blocked=True`` (the default) :func:`stream_bandwidth` runs the two calls block by block into a
small scratch buffer that stays in cache (``tmp = s·c[i:j]``; ``a[i:j] = b[i:j] + tmp``), so DRAM
sees only STREAM's 24 B."""

_MOVED_BYTES_PER_ELEMENT = {"copy": 16, "scale": 16, "add": 24, "triad": 40}
_TRIAD_BLOCK = 32768  # elements of the cache-resident scratch buffer (256 KiB in float64)


def _check_int(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_ints(name: str, values: Sequence[int], minimum: int = 1) -> list[int]:
    values = list(values)
    if not values:
        raise ValueError(f"{name} must not be empty, got {values!r}")
    return [_check_int(name, v, minimum) for v in values]


def _median_time(fn: Callable[[], object], repeats: int, bar: tqdm | None = None) -> tuple[float, float]:
    """Median and minimum wall time of ``repeats`` calls, after one untimed warm-up call. [s]"""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if bar is not None:
            bar.update(1)
    return float(np.median(times)), float(np.min(times))


# ----------------------------------------------------------------------------------------- machine


def last_level_cache_bytes() -> int | None:
    """Size of the largest (last-level) CPU cache, from Linux sysfs or py-cpuinfo. [B]

    Returns
    -------
    int or None
        ``None`` when neither source reports it.
    """
    best = None
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            text = (index / "size").read_text().strip()
        except OSError:
            continue
        scale = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(text[-1:].upper(), 1)
        digits = text.rstrip("KMGkmg")
        if digits.isdigit():
            size = int(digits) * scale
            best = size if best is None else max(best, size)
    if best is None:
        value = _cpuinfo().get("l3_cache_size")
        if isinstance(value, int) and value > 0:
            best = value
    return best


@lru_cache(maxsize=1)
def _cpuinfo() -> dict:
    import cpuinfo

    return cpuinfo.get_cpu_info()


def _physical_cores() -> int | None:
    pairs = set()
    for topo in Path("/sys/devices/system/cpu").glob("cpu[0-9]*/topology"):
        try:
            pairs.add(((topo / "physical_package_id").read_text().strip(), (topo / "core_id").read_text().strip()))
        except OSError:
            continue
    return len(pairs) or None


@dataclass(frozen=True)
class MachineInfo:
    """What the measurements ran on.

    Attributes
    ----------
    cpu_model : str
        CPU brand string (py-cpuinfo).
    physical_cores : int or None
        Distinct cores (Linux sysfs), ``None`` if unknown. [cores]
    logical_cpus : int
        ``os.cpu_count()``. [threads]
    usable_cpus : int
        CPUs this process may run on (affinity). [threads]
    last_level_cache_bytes : int or None
        Largest cache. [B]
    blas : str
        BLAS library(ies) behind numpy, as ``internal_api version (architecture)``.
    blas_threads : int
        Threads the BLAS will use (largest over the BLAS pools). [threads]
    numpy_version : str
        numpy version.
    """

    cpu_model: str
    physical_cores: int | None
    logical_cpus: int
    usable_cpus: int
    last_level_cache_bytes: int | None
    blas: str
    blas_threads: int
    numpy_version: str

    def as_dict(self) -> dict[str, object]:
        """Fields as a plain ``dict``."""
        return dict(self.__dict__)


def machine_info() -> MachineInfo:
    """Describe this machine: CPU, cores, threads, cache, BLAS and its threads, numpy version.

    Returns
    -------
    MachineInfo
    """
    from threadpoolctl import threadpool_info

    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    blas = "; ".join(f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture', '?')})" for p in pools)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return MachineInfo(
        cpu_model=str(_cpuinfo().get("brand_raw", "unknown")),
        physical_cores=_physical_cores(),
        logical_cpus=os.cpu_count() or 1,
        usable_cpus=usable,
        last_level_cache_bytes=last_level_cache_bytes(),
        blas=blas or "none found",
        blas_threads=max((int(p.get("num_threads", 1)) for p in pools), default=1),
        numpy_version=np.__version__,
    )


# ------------------------------------------------------------------------------------------ STREAM


def _triad(a: np.ndarray, b: np.ndarray, c: np.ndarray, scalar: float, scratch: np.ndarray | None) -> None:
    """STREAM triad ``a = b + scalar·c`` in place; block-wise through ``scratch`` (one DRAM pass) if given."""
    if scratch is None:
        np.multiply(c, scalar, out=a)
        np.add(a, b, out=a)
        return
    for lo in range(0, a.size, scratch.size):
        hi = min(lo + scratch.size, a.size)
        t = scratch[: hi - lo]
        np.multiply(c[lo:hi], scalar, out=t)
        np.add(t, b[lo:hi], out=a[lo:hi])


def _default_stream_elements(max_array_bytes: int) -> int:
    llc = last_level_cache_bytes() or 32 * 2**20
    return int(min(max(4 * llc, 64 * 2**20), max_array_bytes) // 8)


def stream_bandwidth(
    n_elements: int | None = None,
    *,
    repeats: int = 5,
    threads: int | None = None,
    triad_blocked: bool = True,
    scalar: float = 3.0,
    max_array_bytes: int = 2**29,
    kernels: Sequence[str] = STREAM_KERNELS,
    bar: tqdm | None = None,
) -> pd.DataFrame:
    """Sustained memory bandwidth with STREAM's copy, scale, add and triad kernels in numpy.

    Parameters
    ----------
    n_elements : int, optional
        float64 elements per array (three arrays are allocated). Default: 4 × the last-level cache
        (STREAM's rule), at least 64 MiB and at most ``max_array_bytes`` per array; with the cap, each
        kernel's working set (2 or 3 arrays) still exceeds a 300 MiB cache 3-5 times. [elements]
    repeats : int
        Timed runs per kernel (after one untimed warm-up); the median is reported. [runs]
    threads : int, optional
        Threads splitting each array into contiguous chunks (numpy releases the GIL inside ufuncs);
        default: the CPUs this process may use. One thread measures one core's bandwidth. [threads]
    triad_blocked : bool
        Run triad block by block through a cache-resident scratch buffer (one DRAM pass, 24 B per
        element); ``False`` uses two whole-array passes (40 B per element moved).
    scalar : float
        The ``s`` of scale and triad.
    max_array_bytes : int
        Cap on the default array size. [B]
    kernels : sequence of str
        Subset of :data:`STREAM_KERNELS`, run in STREAM's order.
    bar : tqdm, optional
        Progress bar advanced once per timed run.

    Returns
    -------
    pandas.DataFrame
        One row per kernel: ``kernel``, ``n_elements`` [elements], ``array_bytes`` [B], ``threads``,
        ``stream_bytes_per_element`` and ``moved_bytes_per_element`` [B/element] (STREAM's count and the
        DRAM passes numpy makes, see :data:`NUMPY_PASSES`), ``time_s`` (median) and ``best_time_s`` [s],
        ``bandwidth_bytes_per_s`` (STREAM bytes / median time), ``best_bandwidth_bytes_per_s`` (STREAM
        bytes / best time, what STREAM prints) and ``moved_bandwidth_bytes_per_s`` [B/s].

    Raises
    ------
    ValueError
        If ``n_elements``, ``repeats`` or ``threads`` is not a positive integer, or a kernel is unknown.

    Notes
    -----
    The kernels follow STREAM's order and arrays (``c = a``; ``b = s·c``; ``c = a + b``;
    ``a = b + s·c``), so each kernel's inputs were written by an earlier one. Destination arrays are
    written without non-temporal stores except where the C library's ``memcpy`` uses them for copy;
    the write-allocate reads this can cause are not counted, as in STREAM. That is why copy often
    reports the highest figure: ``memcpy`` streams its stores past the cache (16 B per element really
    move), whereas a ufunc's ordinary stores first read the destination line (scale really moves 24 B,
    add and triad 32 B per element).
    """
    n = _default_stream_elements(max_array_bytes) if n_elements is None else _check_int("n_elements", n_elements)
    repeats = _check_int("repeats", repeats)
    if threads is None:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = _check_int("threads", threads)
    for k in kernels:
        if k not in STREAM_KERNELS:
            raise ValueError(f"kernel={k!r} is not known; allowed: {', '.join(STREAM_KERNELS)}")
    threads = min(threads, n)
    a = np.full(n, 1.0)
    b = np.full(n, 2.0)
    c = np.zeros(n)
    edges = np.linspace(0, n, threads + 1).astype(int)
    chunks = [slice(int(lo), int(hi)) for lo, hi in pairwise(edges)]
    scratch = [np.empty(min(_TRIAD_BLOCK, n)) for _ in chunks]

    def triad(part: slice, tmp: np.ndarray) -> None:
        _triad(a[part], b[part], c[part], scalar, tmp if triad_blocked else None)

    bodies: dict[str, Callable[[slice, np.ndarray], object]] = {
        "copy": lambda p, _: np.copyto(c[p], a[p]),
        "scale": lambda p, _: np.multiply(c[p], scalar, out=b[p]),
        "add": lambda p, _: np.add(a[p], b[p], out=c[p]),
        "triad": triad,
    }
    rows = []
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for kernel in (k for k in STREAM_KERNELS if k in kernels):
            body = bodies[kernel]
            if threads == 1:
                def run(body: Callable = body) -> None:
                    body(chunks[0], scratch[0])
            else:
                def run(body: Callable = body) -> None:
                    list(pool.map(body, chunks, scratch))
            median, best = _median_time(run, repeats, bar)
            stream_b = STREAM_BYTES_PER_ELEMENT[kernel]
            moved_b = stream_b if (kernel != "triad" or triad_blocked) else _MOVED_BYTES_PER_ELEMENT["triad"]
            rows.append({
                "kernel": kernel, "n_elements": n, "array_bytes": 8 * n, "threads": threads,
                "stream_bytes_per_element": stream_b, "moved_bytes_per_element": moved_b,
                "time_s": median, "best_time_s": best,
                "bandwidth_bytes_per_s": stream_b * n / median,
                "best_bandwidth_bytes_per_s": stream_b * n / best,
                "moved_bandwidth_bytes_per_s": moved_b * n / median,
            })
    return pd.DataFrame(rows)


# -------------------------------------------------------------------------------------------- GEMM


def gemm_peak(
    sizes: Sequence[int] = (1024, 2048),
    dtypes: Sequence[str] = ("float32", "float64"),
    *,
    repeats: int = 3,
    seed: int = 0,
    bar: tqdm | None = None,
) -> pd.DataFrame:
    """Throughput of square matrix products ``C = A·B`` through numpy's BLAS.

    Parameters
    ----------
    sizes : sequence of int
        Matrix orders ``n``; large enough ones (≥ 1024 on a CPU) saturate the BLAS. [elements]
    dtypes : sequence of {"float32", "float64"}
        Precisions.
    repeats : int
        Timed runs per configuration (after a warm-up); the median is reported. [runs]
    seed : int
        Seed of the random operands.
    bar : tqdm, optional
        Progress bar advanced once per timed run.

    Returns
    -------
    pandas.DataFrame
        ``dtype``, ``n``, ``flops`` (= ``2·n³``) [FLOP], ``time_s`` (median) [s], ``flop_per_s``
        (median) and ``best_flop_per_s`` [FLOP/s]. The compute roof is the maximum of ``flop_per_s``
        per dtype.

    Raises
    ------
    ValueError
        If a size or ``repeats`` is not a positive integer, or a dtype is not float32/float64.
    """
    sizes = _check_ints("sizes", sizes)
    repeats = _check_int("repeats", repeats)
    for dt in dtypes:
        if dt not in ("float32", "float64"):
            raise ValueError(f"dtype={dt!r} is not supported; allowed: float32, float64")
    rng = np.random.default_rng(seed)
    rows = []
    for dt in dtypes:
        for n in sizes:
            a = rng.standard_normal((n, n)).astype(dt)
            b = rng.standard_normal((n, n)).astype(dt)
            out = np.empty((n, n), dtype=dt)
            median, best = _median_time(lambda a=a, b=b, out=out: np.matmul(a, b, out=out), repeats, bar)
            flops = 2.0 * n**3
            rows.append({"dtype": dt, "n": n, "flops": flops, "time_s": median, "flop_per_s": flops / median,
                         "best_flop_per_s": flops / best})
    return pd.DataFrame(rows)


def gemv_gemm_sweep(
    d: int = 8192,
    batches: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
    *,
    dtype: str = "float32",
    repeats: int = 3,
    weight_copies: int | None = None,
    seed: int = 0,
    bar: tqdm | None = None,
) -> pd.DataFrame:
    """Matrix-vector to matrix-matrix: ``Y = W·X``, ``W`` ``(d, d)``, ``X`` ``(d, b)``, for growing ``b``.

    Parameters
    ----------
    d : int
        Order of the weight matrix; ``d² ×`` element size should exceed the last-level cache for the
        ``b = 1`` point to be memory-bound (8192 in float32 is 256 MiB). [elements]
    batches : sequence of int
        Columns ``b`` of ``X`` (tokens or sequences sharing the weights). [columns]
    dtype : {"float32", "float64"}
        Precision.
    repeats : int
        Timed runs per batch (after a warm-up); the median is reported. [runs]
    weight_copies : int, optional
        Identical copies of ``W`` used in turn, so that the copy a product reads was evicted from the
        cache by the others (default: enough copies to total twice the last-level cache plus one, at
        most 4). [copies]
    seed : int
        Seed of the random operands.
    bar : tqdm, optional
        Progress bar advanced once per timed run.

    Returns
    -------
    pandas.DataFrame
        ``batch``, ``flops`` (= ``2·d²·b``) [FLOP], ``bytes`` (``W``, ``X`` read and ``Y`` written once:
        ``(d² + 2·d·b)·size``) [B], ``intensity_flop_per_byte`` [FLOP/B], ``time_s`` (median) [s],
        ``flop_per_s`` [FLOP/s] and ``effective_bandwidth_bytes_per_s`` (= bytes / time) [B/s].

    Raises
    ------
    ValueError
        If ``d``, a batch or ``repeats`` is not a positive integer, or ``dtype`` is not float32/float64.

    Notes
    -----
    The byte count is the roofline's compulsory traffic (Williams et al. 2009): every operand crosses
    the memory bus once. ``b = 1`` is the decode step of a Transformer, larger ``b`` a prefill or a
    batched decode (Kim et al., arXiv 2302.14017, §2.2).
    """
    d = _check_int("d", d)
    batches = _check_ints("batches", batches)
    repeats = _check_int("repeats", repeats)
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype={dtype!r} is not supported; allowed: float32, float64")
    size = np.dtype(dtype).itemsize
    if weight_copies is None:
        llc = last_level_cache_bytes() or 0
        weight_copies = min(4, 1 + int(np.ceil(2 * llc / (d * d * size))))
    weight_copies = _check_int("weight_copies", weight_copies)
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal((d, d), dtype=np.float32).astype(dtype, copy=False)
    ws = [w0] + [w0.copy() for _ in range(weight_copies - 1)]
    turn = [0]

    def product(x: np.ndarray, y: np.ndarray) -> None:
        np.matmul(ws[turn[0] % len(ws)], x, out=y)
        turn[0] += 1

    rows = []
    for b in batches:
        x = rng.standard_normal((d, b), dtype=np.float32).astype(dtype, copy=False)
        y = np.empty((d, b), dtype=dtype)
        median, _ = _median_time(lambda x=x, y=y: product(x, y), repeats, bar)
        flops = 2.0 * d * d * b
        bytes_ = float((d * d + 2 * d * b) * size)
        rows.append({"batch": b, "flops": flops, "bytes": bytes_, "intensity_flop_per_byte": flops / bytes_,
                     "time_s": median, "flop_per_s": flops / median,
                     "effective_bandwidth_bytes_per_s": bytes_ / median})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------ report


@dataclass(frozen=True)
class MachineReport:
    """Results of :func:`measure_machine`.

    Attributes
    ----------
    info : MachineInfo
        CPU, BLAS and versions.
    stream : pandas.DataFrame
        Output of :func:`stream_bandwidth`.
    gemm : pandas.DataFrame
        Output of :func:`gemm_peak`.
    gemv : pandas.DataFrame
        Output of :func:`gemv_gemm_sweep`.
    elapsed_s : float
        Wall time of the whole measurement. [s]
    notes : tuple of str
        Caveats found while measuring (e.g. STREAM arrays smaller than STREAM's 4 × cache rule).
    """

    info: MachineInfo
    stream: pd.DataFrame
    gemm: pd.DataFrame
    gemv: pd.DataFrame
    elapsed_s: float
    notes: tuple[str, ...] = field(default=())

    @property
    def bandwidth_bytes_per_s(self) -> float:
        """Sustained bandwidth: the largest STREAM-counted median bandwidth over the kernels. [B/s]"""
        return float(self.stream["bandwidth_bytes_per_s"].max())

    def peak_flop_per_s(self, dtype: str = "float32") -> float:
        """Measured compute roof: the best median GEMM throughput in ``dtype``. [FLOP/s]

        Raises
        ------
        ValueError
            If ``dtype`` was not measured.
        """
        rows = self.gemm[self.gemm["dtype"] == dtype]
        if rows.empty:
            raise ValueError(f"dtype={dtype!r} was not measured; measured: {', '.join(self.gemm['dtype'].unique())}")
        return float(rows["flop_per_s"].max())

    def ceilings(self, dtype: str = "float32", name: str | None = None, *, envelope: bool = True) -> Ceilings:
        """This machine's roofline ceilings.

        Parameters
        ----------
        dtype : str
            Precision of the compute roof (a measured GEMM dtype).
        name : str, optional
            Label of the ceilings (default the CPU model).
        envelope : bool
            If true (default), each ceiling is the best rate observed by *any* measurement: the peak
            is the largest FLOP/s of the GEMMs and of the GEMV-to-GEMM sweep (in ``dtype``), the
            bandwidth the largest of the STREAM kernels and of the sweep's effective bandwidth. A
            bound built from such ceilings is never beaten by a measured point (the empirical
            roofline's practice of taking the best observed rates, e.g. the Empirical Roofline Toolkit,
            https://crd.lbl.gov/divisions/amcr/computer-science-amcr/par/research/roofline/). If false:
            the best GEMM and the best STREAM kernel only.

        Raises
        ------
        ValueError
            If ``dtype`` was not measured.
        """
        precision = {"float32": "fp32", "float64": "fp64"}.get(dtype, dtype)
        peak, bandwidth = self.peak_flop_per_s(dtype), self.bandwidth_bytes_per_s
        if envelope and dtype == "float32" and not self.gemv.empty:  # the sweep runs in float32
            peak = max(peak, float(self.gemv["flop_per_s"].max()))
            bandwidth = max(bandwidth, float(self.gemv["effective_bandwidth_bytes_per_s"].max()))
        return Ceilings.from_measured(peak, bandwidth, name=name or self.info.cpu_model, precision=precision)

    def bound_check(self, dtype: str = "float32") -> pd.DataFrame:
        """Each GEMM and GEMV-sweep point's measured time against its roofline bound.

        Returns
        -------
        pandas.DataFrame
            ``experiment``, ``setting``, ``flops`` [FLOP], ``bytes`` [B], ``time_s`` (measured) [s],
            ``bound_s`` [s] (from :meth:`ceilings` with ``envelope=True``) and ``ratio`` = time / bound,
            which is at least 1 for every point (a bound must bound).
        """
        ceil = self.ceilings(dtype)
        gemm = self.gemm[self.gemm["dtype"] == dtype]
        size = np.dtype(dtype).itemsize
        rows = [{"experiment": "gemm", "setting": f"n={int(r.n)}", "flops": r.flops,
                 "bytes": 3.0 * r.n * r.n * size, "time_s": r.time_s} for r in gemm.itertuples()]
        if dtype == "float32":
            rows += [{"experiment": "gemv-sweep", "setting": f"b={int(r.batch)}", "flops": r.flops,
                      "bytes": r.bytes, "time_s": r.time_s} for r in self.gemv.itertuples()]
        out = pd.DataFrame(rows)
        out["bound_s"] = ceil.time_bound(out["flops"].to_numpy(), out["bytes"].to_numpy())
        out["ratio"] = out["time_s"] / out["bound_s"]
        return out

    def to_reference_rows(self, *, command: str, latency: pd.DataFrame | None = None) -> pd.DataFrame:
        """This report (and optionally a latency table) as rows of ``data/reference_measurements.csv``.

        Parameters
        ----------
        command : str
            The command that produced the measurement (recorded in each row).
        latency : pandas.DataFrame, optional
            Output of :func:`memwall.numpy_transformer.latency_table`.

        Returns
        -------
        pandas.DataFrame
            Columns of :data:`memwall.datasets.REFERENCE_RULES`.
        """
        info = self.info
        base = {"machine": info.cpu_model, "measured_on": pd.Timestamp.today().strftime("%Y-%m-%d"),
                "logical_cpus": info.usable_cpus, "blas": info.blas, "numpy_version": info.numpy_version,
                "command": command}
        stream_url = "https://www.cs.virginia.edu/stream/ref.html"
        roofline_url = "https://doi.org/10.1145/1498765.1498785"
        rows = [{**base, "experiment": "stream", "setting": r.kernel, "bandwidth_bytes_per_s": r.bandwidth_bytes_per_s,
                 "time_s": r.time_s, "method_url": stream_url} for r in self.stream.itertuples()]
        rows += [{**base, "experiment": "gemm", "setting": f"{r.dtype} n={int(r.n)}", "flop_per_s": r.flop_per_s,
                  "time_s": r.time_s, "method_url": roofline_url} for r in self.gemm.itertuples()]
        rows += [{**base, "experiment": "gemv", "setting": f"float32 b={int(r.batch)}",
                  "intensity_flop_per_byte": r.intensity_flop_per_byte, "flop_per_s": r.flop_per_s,
                  "bandwidth_bytes_per_s": r.effective_bandwidth_bytes_per_s, "time_s": r.time_s,
                  "method_url": roofline_url} for r in self.gemv.itertuples()]
        if latency is not None:
            survey_url = "https://arxiv.org/abs/2302.14017"
            for r in latency.itertuples():
                rows.append({**base, "experiment": "latency_encoder", "setting": f"bert-base l={int(r.seq_len)}",
                             "time_s": r.encoder_s, "method_url": survey_url})
                rows.append({**base, "experiment": "latency_decoder", "setting": f"gpt2 l={int(r.seq_len)}",
                             "time_s": r.decoder_s, "method_url": survey_url})
        columns = ["machine", "measured_on", "logical_cpus", "blas", "numpy_version", "experiment", "setting",
                   "intensity_flop_per_byte", "flop_per_s", "bandwidth_bytes_per_s", "time_s", "command", "method_url"]
        return pd.DataFrame(rows).reindex(columns=columns)


def measure_machine(
    *,
    stream_elements: int | None = None,
    stream_repeats: int = 5,
    stream_threads: int | None = None,
    gemm_sizes: Sequence[int] = (1024, 2048),
    gemm_dtypes: Sequence[str] = ("float32", "float64"),
    gemv_d: int = 8192,
    gemv_batches: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
    repeats: int = 3,
    progress: bool = True,
    quick: bool = False,
) -> MachineReport:
    """Run STREAM, the GEMM peak and the GEMV-to-GEMM sweep with one progress bar.

    Parameters
    ----------
    stream_elements, stream_repeats, stream_threads
        ``n_elements``, ``repeats`` and ``threads`` of :func:`stream_bandwidth`.
    gemm_sizes, gemm_dtypes
        ``sizes`` and ``dtypes`` of :func:`gemm_peak`.
    gemv_d, gemv_batches
        ``d`` and ``batches`` of :func:`gemv_gemm_sweep` (float32).
    repeats : int
        Timed runs per GEMM and GEMV configuration. [runs]
    progress : bool
        Show a tqdm progress bar.
    quick : bool
        Smoke-test sizes (about 2 s; STREAM arrays of 32 MiB, one GEMM size, four batches): for
        tests, not for numbers. Overrides the size and repeat arguments.

    Returns
    -------
    MachineReport

    Raises
    ------
    ValueError
        As the three functions.

    Notes
    -----
    With the defaults the run takes about 15 s on a 2-core machine (most of it STREAM on 512 MiB
    arrays and the large-batch products).
    """
    if quick:
        stream_elements, stream_repeats, gemm_sizes = 2**22, 2, (512,)
        gemv_d, gemv_batches, repeats = 2048, (1, 8, 64, 512), 1
    start = time.perf_counter()
    total = 4 * stream_repeats + len(gemm_sizes) * len(gemm_dtypes) * repeats + len(gemv_batches) * repeats
    with tqdm(total=total, desc="measuring", unit="run", disable=not progress, leave=False) as bar:
        info = machine_info()
        bar.set_postfix_str("STREAM")
        stream = stream_bandwidth(stream_elements, repeats=stream_repeats, threads=stream_threads, bar=bar)
        bar.set_postfix_str("GEMM")
        gemm = gemm_peak(gemm_sizes, gemm_dtypes, repeats=repeats, bar=bar)
        bar.set_postfix_str("GEMV→GEMM")
        gemv = gemv_gemm_sweep(gemv_d, gemv_batches, repeats=repeats, bar=bar)
    notes = []
    llc = info.last_level_cache_bytes
    if llc is not None and stream["array_bytes"].iloc[0] < 4 * llc:
        notes.append(f"STREAM arrays ({stream['array_bytes'].iloc[0] / 2**20:.0f} MiB) are smaller than 4 x the "
                     f"last-level cache ({llc / 2**20:.0f} MiB): bandwidth may include cache hits")
    return MachineReport(info, stream, gemm, gemv, time.perf_counter() - start, tuple(notes))


def summarize_measurements(rows: pd.DataFrame) -> pd.Series:
    """Headline numbers of one machine's measurement rows (live or stored).

    Parameters
    ----------
    rows : pandas.DataFrame
        Rows in the format of ``data/reference_measurements.csv`` (from
        :meth:`MachineReport.to_reference_rows` or :func:`memwall.datasets.load_reference_measurements`)
        for one machine.

    Returns
    -------
    pandas.Series
        ``machine``, ``measured_on``, ``logical_cpus``, ``stream_best_gb_per_s`` [GB/s],
        ``gemm_fp32_gflop_per_s`` [GFLOP/s], ``ridge_fp32_flop_per_byte`` [FLOP/B] (the envelope ridge, as
        :meth:`MachineReport.ceilings`: best FP32 rate of the GEMMs and the GEMV sweep over the best
        bandwidth of STREAM and the sweep), ``gemv_b1_gflop_per_s`` and ``gemv_bmax_gflop_per_s`` [GFLOP/s], and
        ``decoder_encoder_ratio_l128`` (GPT-2 generate / BERT-Base encode at l = 128; NaN if not measured).

    Raises
    ------
    ValueError
        If the rows hold more than one machine or no STREAM/GEMM rows.
    """
    machines = rows[["machine", "measured_on"]].drop_duplicates()
    if len(machines) != 1:
        raise ValueError(f"rows must hold one measurement of one machine, got {len(machines)}")

    def pick(experiment: str) -> pd.DataFrame:
        return rows[rows["experiment"] == experiment]

    stream, gemm, gemv = pick("stream"), pick("gemm"), pick("gemv")
    if stream.empty or gemm.empty:
        raise ValueError("rows hold no STREAM or GEMM measurement")
    fp32 = gemm[gemm["setting"].str.startswith("float32")]
    bw = float(stream["bandwidth_bytes_per_s"].max())
    peak = float(fp32["flop_per_s"].max())
    env_peak = max(peak, float(gemv["flop_per_s"].max())) if not gemv.empty else peak
    env_bw = max(bw, float(gemv["bandwidth_bytes_per_s"].max())) if not gemv.empty else bw
    batches = gemv["setting"].str.extract(r"b=(\d+)")[0].astype(float)
    enc = pick("latency_encoder").set_index("setting")["time_s"]
    dec = pick("latency_decoder").set_index("setting")["time_s"]
    ratio = (float(dec["gpt2 l=128"] / enc["bert-base l=128"])
             if "gpt2 l=128" in dec.index and "bert-base l=128" in enc.index else float("nan"))
    return pd.Series({
        "machine": machines["machine"].iloc[0],
        "measured_on": machines["measured_on"].iloc[0],
        "logical_cpus": int(rows["logical_cpus"].iloc[0]),
        "stream_best_gb_per_s": bw / 1e9,
        "gemm_fp32_gflop_per_s": peak / 1e9,
        "ridge_fp32_flop_per_byte": env_peak / env_bw,
        "gemv_b1_gflop_per_s": float(gemv.loc[batches == batches.min(), "flop_per_s"].iloc[0]) / 1e9
        if not gemv.empty else float("nan"),
        "gemv_bmax_gflop_per_s": float(gemv.loc[batches == batches.max(), "flop_per_s"].iloc[0]) / 1e9
        if not gemv.empty else float("nan"),
        "decoder_encoder_ratio_l128": ratio,
    })
