"""Published MLPerf Inference LLM results (``mlperf_llm_results.csv``) and workloads (``mlperf_llm_workloads.csv``).

Every row of the results table was read from one LoadGen summary file
(``closed/<submitter>/results/<system>/<benchmark>/<scenario>/performance/run_1/mlperf_log_summary.txt``) of
MLCommons' ``inference_results_v4.0`` / ``v4.1`` repositories, whose URL (pinned to the commit) is the row's
``source_url``. The workload table holds what each benchmark's own documentation (the READMEs of
``mlcommons/inference``) says about its dataset and token counts. The accelerator is a foreign key into
``hardware.csv`` and the benchmark one into the workload table: a name that is not there fails the load,
naming the file, line, row and column.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from memwall.tables.hardware import load_hardware
from memwall.tables.paper import _frame_check
from memwall.tables.paths import _path
from memwall.tables.rules import _CONF, _NOTES, _ROW_SOURCE, _one_of, _positive
from memwall.tables.validation import ColumnRule, _memo_by_content, read_validated_csv, url_check

__all__ = ["MLPERF_PRECISIONS", "MLPERF_RESULT_RULES", "MLPERF_SCENARIOS", "MLPERF_TOKENS_KINDS",
           "MLPERF_WORKLOAD_RULES",
           "load_mlperf_results", "load_mlperf_workloads"]

MLPERF_SCENARIOS = ("Offline", "Server", "Interactive")
"""LoadGen scenarios of the datacenter LLM benchmarks (Interactive: the tighter TTFT/TPOT limits)."""

MLPERF_TOKENS_KINDS = ("measured", "inferred", "none")
"""``measured``: the summary's "Tokens per second"; ``inferred``: LoadGen's "(inferred)" rate, samples/s times
a fixed tokens-per-sample factor; ``none``: the summary reports no token rate (GPT-J in v4.0)."""

MLPERF_PRECISIONS = ("fp16", "bf16", "fp8", "int8", "fp4", "int4")
"""Number formats a submission may document for weights, activations, KV cache and matmuls."""

_ROUND_RE = re.compile(r"^v\d+\.\d+$")
_SUMMARY_RE = re.compile(r"^https://github\.com/mlcommons/inference_results_v\d+\.\d+/blob/[0-9a-f]{40}/closed/"
                         r"[^/]+/results/[^/]+/[^/]+/[^/]+/performance/run_1/mlperf_log_summary\.txt$")
_PRECISION = ColumnRule("str", False, (_one_of(MLPERF_PRECISIONS),),
                        "Number format as the submission documents it (empty: not documented in the files read).")

MLPERF_WORKLOAD_RULES: dict[str, ColumnRule] = {
    "benchmark": ColumnRule("str", True, (), "LoadGen benchmark name (e.g. llama2-70b-99), unique."),
    "model_preset": ColumnRule("str", True, (), "memwall.specs preset (or gpt-j-6b of memwall.wall.mlperf_bounds)."),
    "dataset": ColumnRule("str", True, (), "Dataset and sample count, as the README describes it."),
    "samples": ColumnRule("int", True, _positive("samples"), "Samples in the benchmark's dataset [samples]."),
    "mean_input_tokens": ColumnRule("float", False, _positive("tokens"),
                                    "Mean prompt length, where the documentation states it [tokens]."),
    "max_input_tokens": ColumnRule("int", False, _positive("tokens"),
                                   "Longest prompt the dataset admits, where documented [tokens]."),
    "mean_output_tokens": ColumnRule("float", True, _positive("tokens"), "Mean generated tokens per sample [tokens]."),
    "interactive_ttft_limit_s": ColumnRule("float", False, _positive("s"),
                                           "Time-to-first-token limit of the Interactive scenario [s]."),
    "interactive_tpot_limit_s": ColumnRule("float", False, _positive("s"),
                                           "Time-per-output-token limit of the Interactive scenario [s]."),
    "source_url": _ROW_SOURCE,
    "confidence": _CONF,
    "notes": _NOTES,
}


def _results_rules(devices: list[str], benchmarks: list[str]) -> dict[str, ColumnRule]:
    return {
        "round": ColumnRule("str", True, (pa.Check(lambda s: s.str.match(_ROUND_RE.pattern),
                                                   error="must look like v4.1"),), "MLPerf Inference round."),
        "submitter": ColumnRule("str", True, (), "Submitting organisation (the closed/<submitter> folder)."),
        "system_id": ColumnRule("str", True, (), "System folder name under results/."),
        "benchmark": ColumnRule("str", True, (_one_of(benchmarks),),
                                "LoadGen benchmark; a benchmark of mlperf_llm_workloads.csv."),
        "scenario": ColumnRule("str", True, (_one_of(MLPERF_SCENARIOS),), "Offline, Server or Interactive."),
        "accelerator": ColumnRule("str", False, (pa.Check.isin(devices, error="is not a device of hardware.csv"),),
                                  "Exact device of hardware.csv (empty when the table has no row for it)."),
        "accelerator_count": ColumnRule("int", True, _positive("devices"),
                                        "Accelerators (or CPU sockets for CPU-only systems) serving the model."),
        "accelerator_model_name": ColumnRule("str", True, (), "Accelerator as the system description names it."),
        "weight_precision": _PRECISION,
        "activation_precision": _PRECISION,
        "kv_cache_precision": _PRECISION,
        "compute_precision": _PRECISION,
        "samples_per_s": ColumnRule("float", True, _positive("samples/s"),
                                    "Headline samples (requests) per second of the summary [samples/s]."),
        "tokens_per_s": ColumnRule("float", False, _positive("tokens/s"),
                                   "Generated tokens per second of the summary [tokens/s]."),
        "tokens_kind": ColumnRule("str", True, (_one_of(MLPERF_TOKENS_KINDS),), "measured, inferred or none."),
        "ttft_limit_s": ColumnRule("float", False, _positive("s"), "Time-to-first-token limit of the run [s]."),
        "tpot_limit_s": ColumnRule("float", False, _positive("s"), "Time-per-output-token limit of the run [s]."),
        "latency_limit_s": ColumnRule("float", False, _positive("s"),
                                      "Whole-request latency limit (GPT-J Server's target_latency) [s]."),
        "bandwidth_per_accelerator_gb_per_s": ColumnRule(
            "float", False, _positive("GB/s"),
            "Memory bandwidth of the submitted configuration where it differs from hardware.csv [GB/s]."),
        "result_valid": ColumnRule("str", True, (_one_of(("VALID",)),), "The summary's 'Result is' line."),
        "source_url": ColumnRule("str", True, (url_check(), pa.Check(lambda s: s.str.match(_SUMMARY_RE.pattern),
                                 error="must be a commit-pinned inference_results .../mlperf_log_summary.txt URL")),
                                 "The LoadGen summary file the numbers were read from."),
        "precision_source_url": ColumnRule("str", False, (url_check(),),
                                           "Submission document stating the precision."),
        "confidence": _CONF,
        "notes": _NOTES,
    }


def _tokens_iff_kind(df: pd.DataFrame) -> pd.Series:
    return df["tokens_per_s"].notna() == df["tokens_kind"].ne("none")


def _server_has_limits(df: pd.DataFrame) -> pd.Series:
    offline = df["scenario"].eq("Offline")
    limited = df["tpot_limit_s"].notna() | df["latency_limit_s"].notna()
    return offline | limited


def _offline_unlimited(df: pd.DataFrame) -> pd.Series:
    limits = df[["ttft_limit_s", "tpot_limit_s", "latency_limit_s"]].notna().any(axis=1)
    return ~(df["scenario"].eq("Offline") & limits)


def _url_names_row(df: pd.DataFrame) -> pd.Series:
    def names(row: pd.Series) -> bool:
        url = str(row["source_url"])
        folder = f"/closed/{row['submitter']}/results/{row['system_id']}/{row['benchmark']}/"
        scenario = f"/{str(row['scenario']).lower()}/performance/"
        return (f"inference_results_{row['round']}/" in url and folder in url
                and scenario in url.lower())

    return df.apply(names, axis=1).astype(bool)


def _precision_sourced(df: pd.DataFrame) -> pd.Series:
    return df["compute_precision"].isna() | df["precision_source_url"].notna()


def load_mlperf_workloads(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``mlperf_llm_workloads.csv``: dataset and token counts of each LLM benchmark.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Table to read; default ``data_dir() / "mlperf_llm_workloads.csv"``.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`MLPERF_WORKLOAD_RULES`, one row per benchmark.

    Raises
    ------
    memwall.tables.DataValidationError
        On a bad cell (file, line, benchmark and column named) or a repeated benchmark.
    """
    resolved = _path("mlperf_llm_workloads.csv", path)
    return _memo_by_content("load_mlperf_workloads", [resolved], lambda: read_validated_csv(
        resolved, MLPERF_WORKLOAD_RULES, key="benchmark", unique=["benchmark"]))


def load_mlperf_results(path: str | Path | None = None, workloads_path: str | Path | None = None) -> pd.DataFrame:
    """Load ``mlperf_llm_results.csv``: published MLPerf Inference LLM results, one row per result file.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Table to read; default ``data_dir() / "mlperf_llm_results.csv"``.
    workloads_path : str or pathlib.Path, optional
        Workload table whose benchmarks are allowed; default ``data_dir() / "mlperf_llm_workloads.csv"``.

    Returns
    -------
    pandas.DataFrame
        The columns of the results rules, in file order.

    Raises
    ------
    memwall.tables.DataValidationError
        On a bad cell, naming file, line, system and column: an accelerator that is not a device of
        ``hardware.csv``, a benchmark missing from the workload table, an unknown scenario or precision, a
        non-positive rate or limit, a source URL that is not a pinned ``mlperf_log_summary.txt`` of that
        round, submitter, system, benchmark and scenario; a token rate without its kind (or the reverse), a
        Server/Interactive row without a latency limit (or an Offline row with one), a documented precision
        without its source, or a repeated (round, submitter, system, benchmark, scenario).
    """
    resolved = _path("mlperf_llm_results.csv", path)
    wl_path = _path("mlperf_llm_workloads.csv", workloads_path)

    def load() -> pd.DataFrame:
        devices = sorted(load_hardware()["device"].astype(str))
        benchmarks = sorted(load_mlperf_workloads(wl_path)["benchmark"].astype(str))
        return read_validated_csv(
            resolved, _results_rules(devices, benchmarks), key="system_id",
            unique=["round", "submitter", "system_id", "benchmark", "scenario"],
            frame_checks=[
                _frame_check(_tokens_iff_kind, "tokens_per_s is given iff tokens_kind is not 'none'"),
                _frame_check(_server_has_limits, "Server/Interactive rows need tpot_limit_s or latency_limit_s"),
                _frame_check(_offline_unlimited, "Offline rows carry no latency limit (LoadGen does not enforce "
                                                 "the ttft/tpot test parameters there)"),
                _frame_check(_url_names_row, "source_url must name the row's round, submitter, system_id, "
                                             "benchmark and scenario"),
                _frame_check(_precision_sourced, "a documented compute_precision needs precision_source_url"),
            ])

    return _memo_by_content("load_mlperf_results", [resolved, wl_path], load)


MLPERF_RESULT_RULES = _results_rules([], [])
"""The results table's columns (the vocabularies of ``accelerator`` and ``benchmark`` are read at load time)."""
