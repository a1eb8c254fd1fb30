"""The shipped MLPerf results against their bounds, and this book's own H200 decode steps against the same bound.

:func:`default_bounds` applies :func:`memwall.wall.mlperf_bounds.bounds_table` to the shipped tables.

The stored H200 run (``data/gpu_reference_measurements.csv``, :func:`memwall.tables.load_gpu_reference`) times
plain PyTorch decode steps of Llama-3-8B in bf16 with CUDA graphs. Each step's bound is the one
:mod:`memwall.wall.mlperf_bounds` uses: ``max(FLOPs / peak, bytes / bandwidth)`` of the whole step
(:func:`memwall.cost.cost_arrays`, fused attention, LM head), on one H200 at its dense bf16 peak.
"""

from __future__ import annotations

import functools

import pandas as pd

from memwall.roofline import Ceilings
from memwall.specs.presets import get_preset
from memwall.wall.mlperf_bounds import _step, bounds_table
from memwall.widths import BF16

__all__ = ["SAME_RUN_REL_TOL", "benchmark_family", "best_per_family", "default_bounds", "duplicate_runs", "extremes",
           "own_h200_fractions"]

H200_DEVICE = "H200 SXM 141GB (Hopper)"

SAME_RUN_REL_TOL = 1e-3
"""Two rates of one system, model and scenario that agree this closely are one run: a summary prints Server
samples/s with two decimals (12.73), the checker log with six significant digits (12.7306)."""


def own_h200_fractions(gpu_reference: pd.DataFrame, hardware: pd.DataFrame) -> pd.DataFrame:
    """Median measured decode step of each (batch, context) of the H200 run against its roofline bound.

    Parameters
    ----------
    gpu_reference : pandas.DataFrame
        :func:`memwall.tables.load_gpu_reference` (rows with ``experiment == "decode_graph"`` are used).
    hardware : pandas.DataFrame
        :func:`memwall.tables.load_hardware` (the H200 row's bf16 peak and bandwidth).

    Returns
    -------
    pandas.DataFrame
        ``batch``, ``context``, ``measured_step_s`` [s] (median over runs), ``bound_step_s`` [s],
        ``achieved_tokens_per_s``, ``bound_tokens_per_s`` [tokens/s], ``fraction`` and ``binding``.

    Raises
    ------
    ValueError
        If the table has no ``decode_graph`` row.
    """
    rows = gpu_reference[gpu_reference["experiment"].eq("decode_graph")]
    if rows.empty:
        raise ValueError("gpu_reference has no decode_graph rows")
    spec = get_preset("llama-3-8b")
    ceil = Ceilings.from_hardware(hardware, H200_DEVICE, "bf16")
    med = rows.groupby(["batch_sequences", "context_tokens"], as_index=False)["time_s"].median()
    out = []
    for _, r in med.iterrows():
        b, c = int(r["batch_sequences"]), int(r["context_tokens"])
        flops, moved = _step(spec, b, c, BF16)
        t_c, t_m = flops / ceil.peak_flop_per_s, moved / ceil.bandwidth_bytes_per_s
        bound = max(t_c, t_m)
        out.append({"batch": b, "context": c, "measured_step_s": float(r["time_s"]), "bound_step_s": bound,
                    "achieved_tokens_per_s": b / float(r["time_s"]), "bound_tokens_per_s": b / bound,
                    "fraction": bound / float(r["time_s"]), "binding": "compute" if t_c >= t_m else "memory"})
    return pd.DataFrame(out)


def benchmark_family(benchmark: str) -> str:
    """Model of a benchmark without its accuracy target: ``llama2-70b-99.9`` -> ``llama2-70b``."""
    for suffix in ("-99.9", "-99"):
        if benchmark.endswith(suffix):
            return benchmark[: -len(suffix)]
    return benchmark


def _same_rate(a: pd.Series, b: pd.Series) -> bool:
    for column in ("tokens_per_s", "samples_per_s"):
        x, y = a[column], b[column]
        if pd.notna(x) and pd.notna(y):
            return abs(float(x) - float(y)) <= SAME_RUN_REL_TOL * max(abs(float(x)), abs(float(y)))
    return False


def duplicate_runs(results: pd.DataFrame) -> pd.Series:
    """Rows that repeat a run already listed: the other accuracy target of one system, model and scenario, with
    the same published rate.

    Submitters whose run meets the 99.9 % accuracy target may submit it for the 99 % target too; the checker logs
    then list both with one value. Within each (round, submitter, system, model family, scenario), summary rows
    come first and then file order; a row whose rate (tokens/s where both rows give it, else samples/s) agrees
    within :data:`SAME_RUN_REL_TOL` with an earlier kept row is a repeat.

    Parameters
    ----------
    results : pandas.DataFrame
        :func:`memwall.tables.mlperf.load_mlperf_results` (or any table with its identifying columns, both rates
        and ``source_kind``).

    Returns
    -------
    pandas.Series of bool
        Indexed as ``results``; True for a repeat.

    Raises
    ------
    ValueError
        If a needed column is missing.
    """
    needed = {"round", "submitter", "system_id", "benchmark", "scenario", "samples_per_s", "tokens_per_s",
              "source_kind"}
    missing = needed - set(results.columns)
    if missing:
        raise ValueError(f"results lacks column(s) {sorted(missing)}")
    keyed = results.assign(_family=results["benchmark"].map(benchmark_family),
                           _later=results["source_kind"].ne("summary"), _order=range(len(results)))
    flags = pd.Series(False, index=results.index)
    for _, group in keyed.sort_values(["_later", "_order"]).groupby(
            ["round", "submitter", "system_id", "_family", "scenario"], sort=False):
        kept: list[pd.Series] = []
        for index, row in group.iterrows():
            if any(_same_rate(row, k) for k in kept):
                flags[index] = True
            else:
                kept.append(row)
    return flags


@functools.cache
def _default() -> pd.DataFrame:
    from memwall.tables import load_hardware
    from memwall.tables.mlperf import load_mlperf_results, load_mlperf_workloads

    workloads = load_mlperf_workloads()
    tpot = float(workloads.set_index("benchmark").loc["llama2-70b-99", "interactive_tpot_limit_s"])
    results = load_mlperf_results()
    repeats = duplicate_runs(results)
    table = bounds_table(results, workloads, load_hardware(), tpot)
    table["family"] = table["benchmark"].map(benchmark_family)
    table["duplicate_run"] = repeats[results["accelerator"].notna()].to_numpy()
    return table


def default_bounds() -> pd.DataFrame:
    """:func:`bounds_table` of the shipped tables, with ``family`` and ``duplicate_run`` (:func:`duplicate_runs`)
    added; ``interactive_binding`` at the Llama-2-70B Interactive TPOT limit of the workload table (40 ms). Cached;
    each call gets a copy."""
    return _default().copy()


def best_per_family(table: pd.DataFrame) -> pd.DataFrame:
    """Row of the highest ``fraction`` for each benchmark ``family`` (sorted by family), repeats of a run left out.

    Rows with ``duplicate_run`` True (where the column exists) are skipped, so a run listed for both accuracy
    targets is represented by its summary row.

    Raises
    ------
    ValueError
        If ``table`` lacks ``family`` or ``fraction``.
    """
    missing = {"family", "fraction"} - set(table.columns)
    if missing:
        raise ValueError(f"table lacks column(s) {sorted(missing)}")
    if "duplicate_run" in table.columns:
        table = table[~table["duplicate_run"].astype(bool)]
    best = table.loc[table.groupby("family")["fraction"].idxmax()]
    return best.sort_values("family").reset_index(drop=True)


_EXTREME_COLUMNS = {"achieved_tokens_per_s": "Published [tokens/s]", "bound_tokens_per_s": "Our bound [tokens/s]",
                    "fraction": "Fraction of the bound [%]", "fraction_at_max_input": "At the longest prompt [%]",
                    "binding": "Bound by"}
_RESULT_COLUMNS = ("round", "submitter", "system_id", "benchmark", "scenario")


def extremes(table: pd.DataFrame, n: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``n`` highest and ``n`` lowest fractions of the bound, one row per run, with readable headers.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`default_bounds` (or the same columns); rows with ``duplicate_run`` True are left out.
    n : int
        Rows in each table (>= 1).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        Highest first, then lowest first. The first column ``Result`` names round, submitter, system, benchmark
        and scenario in one cell (so the table fits a page); tokens/s rounded to whole tokens, fractions in
        percent with one decimal; headers with units.

    Raises
    ------
    ValueError
        If ``n`` is not a whole number >= 1, or a needed column is missing.
    """
    from memwall._checks import count

    n = int(count("n", n, scalar=True))
    missing = (set(_EXTREME_COLUMNS) | set(_RESULT_COLUMNS)) - set(table.columns)
    if missing:
        raise ValueError(f"table lacks column(s) {sorted(missing)}")
    if "duplicate_run" in table.columns:
        table = table[~table["duplicate_run"].astype(bool)]
    ranked = table.sort_values("fraction", ascending=False)

    def readable(rows: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame({"Result": [f"{r.round} {r.submitter} {r.system_id}: {r.benchmark} {r.scenario}"
                                       for r in rows.itertuples()]})
        for column in ("achieved_tokens_per_s", "bound_tokens_per_s"):
            out[_EXTREME_COLUMNS[column]] = [f"{v:,.0f}" for v in rows[column]]
        for column in ("fraction", "fraction_at_max_input"):
            out[_EXTREME_COLUMNS[column]] = [f"{100 * v:.1f}" for v in rows[column]]
        out[_EXTREME_COLUMNS["binding"]] = list(rows["binding"])
        return out

    return readable(ranked.head(n)), readable(ranked.tail(n).iloc[::-1])
