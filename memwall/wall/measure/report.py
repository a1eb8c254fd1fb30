"""Measure this machine's roofline ceilings: sustained memory bandwidth, peak GEMM, GEMV vs GEMM.

Three experiments, all in numpy, each bounded in time by its size and repeat arguments or by a time
budget (:class:`~memwall.wall.measure.timing.TimeBudget`, adaptive repeats):

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
reported with their interquartile range and repeat count (STREAM itself reports the best of its
repeats; that column is given too).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from tqdm.std import tqdm  # text bars: tqdm.auto warns (IProgress) in a kernel without ipywidgets

from memwall.roofline import Ceilings
from memwall.wall.measure.gemm import gemm_peak, gemv_gemm_sweep
from memwall.wall.measure.machine import MachineInfo, machine_info
from memwall.wall.measure.stream import STREAM_KERNELS, stream_bandwidth
from memwall.wall.measure.timing import TimeBudget

__all__ = ["MachineReport", "measure_machine", "summarize_measurements"]




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
            Output of :func:`memwall.wall.numpy_transformer.latency_table`.

        Returns
        -------
        pandas.DataFrame
            Columns of :data:`memwall.tables.REFERENCE_RULES`.
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
    budget_s: float | None = None,
    min_repeats: int = 1,
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
        Timed runs per GEMM and GEMV configuration; with ``budget_s`` the most. [runs]
    budget_s : float, optional
        Wall-time allowance of the whole measurement (set-up included), one
        :class:`~memwall.wall.measure.timing.TimeBudget` shared by every STREAM kernel, GEMM and
        sweep point in turn: each times between ``min_repeats`` and its repeat argument, as many as
        its share allows. The minimum (allocation, one warm-up and ``min_repeats`` runs of each)
        is always done, so a slow machine can overrun it. Without it the repeat counts are fixed. [s]
    min_repeats : int
        Fewest timed runs per configuration under a budget. [runs]
    progress : bool
        Show a tqdm progress bar.
    quick : bool
        Smoke-test sizes (about 2 s; STREAM arrays of 32 MiB, one GEMM size, four batches): for
        tests, not for numbers. Overrides the size and repeat arguments (not ``budget_s``).

    Returns
    -------
    MachineReport

    Raises
    ------
    ValueError
        As the three functions.

    Notes
    -----
    With the defaults and no budget the run takes about 10-15 s on a quiet 2-core machine; of that,
    about 4 s is fixed (first-touching STREAM's three 512 MiB arrays and the sweep's copies of ``W``,
    and one warm-up run of each configuration), the rest repeats. ``budget_s=10`` keeps it near 10 s
    on a quiet such machine.
    """
    if quick:
        stream_elements, stream_repeats, gemm_sizes = 2**22, 2, (512,)
        gemv_d, gemv_batches, repeats = 2048, (1, 8, 64, 512), 1
    start = time.perf_counter()
    total = len(STREAM_KERNELS) + len(gemm_sizes) * len(gemm_dtypes) + len(gemv_batches)
    budget = None if budget_s is None else TimeBudget(budget_s, total)
    with tqdm(total=total, desc="measuring", unit="config", disable=not progress, leave=False) as bar:
        info = machine_info()
        bar.set_postfix_str("STREAM")
        stream = stream_bandwidth(stream_elements, repeats=stream_repeats, threads=stream_threads, budget_s=budget,
                                  min_repeats=min_repeats, bar=bar)
        bar.set_postfix_str("GEMM")
        gemm = gemm_peak(gemm_sizes, gemm_dtypes, repeats=repeats, budget_s=budget, min_repeats=min_repeats, bar=bar)
        bar.set_postfix_str("GEMV→GEMM")
        gemv = gemv_gemm_sweep(gemv_d, gemv_batches, repeats=repeats, budget_s=budget, min_repeats=min_repeats,
                               bar=bar)
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
        :meth:`MachineReport.to_reference_rows` or :func:`memwall.tables.load_reference_measurements`)
        for one machine.

    Returns
    -------
    pandas.Series
        ``machine``, ``measured_on``, ``logical_cpus``, ``stream_best_bytes_per_s`` [B/s],
        ``gemm_fp32_flop_per_s`` [FLOP/s], ``ridge_fp32_flop_per_byte`` [FLOP/B] (the envelope ridge, as
        :meth:`MachineReport.ceilings`: best FP32 rate of the GEMMs and the GEMV sweep over the best
        bandwidth of STREAM and the sweep), ``gemv_b1_flop_per_s`` and ``gemv_bmax_flop_per_s`` [FLOP/s], and
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
        "stream_best_bytes_per_s": bw,
        "gemm_fp32_flop_per_s": peak,
        "ridge_fp32_flop_per_byte": env_peak / env_bw,
        "gemv_b1_flop_per_s": float(gemv.loc[batches == batches.min(), "flop_per_s"].iloc[0])
        if not gemv.empty else float("nan"),
        "gemv_bmax_flop_per_s": float(gemv.loc[batches == batches.max(), "flop_per_s"].iloc[0])
        if not gemv.empty else float("nan"),
        "decoder_encoder_ratio_l128": ratio,
    })
