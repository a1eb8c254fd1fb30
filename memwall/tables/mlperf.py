"""Published MLPerf Inference LLM results (``mlperf_llm_results.csv``) and workloads (``mlperf_llm_workloads.csv``).

Every row of the results table comes from one file of MLCommons' ``inference_results_v4.0`` / ``v4.1``
repositories, named by its ``source_kind`` and linked (pinned to the commit) by its ``source_url``:

* ``summary``: the LoadGen summary of the run
  (``closed/<submitter>/results/<system>/<benchmark>/<scenario>/performance/run_1/mlperf_log_summary.txt``; one
  v4.0 Intel file lies directly in ``performance/``), which gives samples/s and, where LoadGen reports one, tokens/s;
* ``checker_log``: the round's submission checker output (``closed/<submitter>/results/submission_checker_log.txt``),
  whose "Results" line gives one metric per result (samples/s or tokens/s, as the round's checker defines it);
* ``results_page``: the per-system results page (``closed/<submitter>/results/<system>/README.md``), whose results
  table gives one metric per result (AMD v4.1, which has no checker log).

A row of the last two kinds quotes its line in ``notes`` (``checker log line: "..." gives tokens/s``); the loader
checks that the quoted line names the row's submitter, benchmark and scenario and that its value is the rate in the
table. The workload table holds what each benchmark's own documentation (the READMEs of ``mlcommons/inference``)
says about its dataset and token counts. The accelerator is a foreign key into ``hardware.csv`` and the benchmark
one into the workload table: a name that is not there fails the load, naming the file, line, row and column.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from memwall.tables.hardware import load_hardware
from memwall.tables.paper import _frame_check
from memwall.tables.paths import _path
from memwall.tables.rules import _CONF, _NOTES, _ROW_SOURCE, _one_of, _positive
from memwall.tables.validation import ColumnRule, _memo_by_content, read_validated_csv, url_check

__all__ = ["MLPERF_PRECISIONS", "MLPERF_RESULT_RULES", "MLPERF_SCENARIOS", "MLPERF_SOURCE_KINDS",
           "MLPERF_TOKENS_KINDS", "MLPERF_WORKLOAD_RULES",
           "load_mlperf_results", "load_mlperf_workloads"]

MLPERF_SCENARIOS = ("Offline", "Server", "Interactive")
"""LoadGen scenarios of the datacenter LLM benchmarks (Interactive: the tighter TTFT/TPOT limits)."""

MLPERF_TOKENS_KINDS = ("measured", "inferred", "none")
"""``measured``: LoadGen's tokens/s ("Tokens per second", or the checker's ``result_tokens_per_second``);
``inferred``: LoadGen's "(inferred)" rate, samples/s times a fixed tokens-per-sample factor (GPT-J in v4.1);
``none``: the source gives no token rate (GPT-J summaries of v4.0, and checker-log rows whose metric is samples/s)."""

MLPERF_SOURCE_KINDS = ("summary", "checker_log", "results_page")
"""Which file a row was read from (see the module docstring)."""

MLPERF_PRECISIONS = ("fp16", "bf16", "fp8", "int8", "fp4", "int4")
"""Number formats a submission may document for weights, activations, KV cache and matmuls."""

_ROUND_RE = re.compile(r"^v\d+\.\d+$")
_REPO = r"^https://github\.com/mlcommons/inference_results_(?P<round>v\d+\.\d+)/blob/[0-9a-f]{40}/closed/(?P<sub>[^/]+)/results/"
_URL_FORMS = {
    "summary": re.compile(_REPO + r"(?P<sys>[^/]+)/(?P<bench>[^/]+)/(?P<scen>[^/]+)/performance/(run_1/)?"
                          r"mlperf_log_summary\.txt$"),
    "checker_log": re.compile(_REPO + r"submission_checker_log\.txt(#L\d+)?$"),
    "results_page": re.compile(_REPO + r"(?P<sys>[^/]+)/README\.md$"),
}
_VALUE = r"(?P<val>\d+(?:\.\d+)?)"
_GIVES = r'" gives (?P<unit>samples/s|tokens/s)(?![\w/])'
_NOTE_FORMS = {
    "checker_log": re.compile(r'^checker log line: "Results closed/(?P<sub>[^/"]+)/results/[^/"]+/(?P<bench>[^/"]+)/'
                              r'(?P<scen>[^/" ]+) ' + _VALUE + r'(?: [^"]*)?' + _GIVES),
    "results_page": re.compile(r'^results page row: "(?P<bench>[^ "]+) (?P<scen>[A-Za-z]+) (?:Tokens|Samples)/s '
                               + _VALUE + _GIVES),
}
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
        "samples_per_s": ColumnRule("float", False, _positive("samples/s"),
                                    "Headline samples (requests) per second of the summary, or the checker's "
                                    "samples/s metric [samples/s]."),
        "tokens_per_s": ColumnRule("float", False, _positive("tokens/s"),
                                   "Generated tokens per second of the summary, or the checker's or results "
                                   "page's tokens/s metric [tokens/s]."),
        "tokens_kind": ColumnRule("str", True, (_one_of(MLPERF_TOKENS_KINDS),), "measured, inferred or none."),
        "ttft_limit_s": ColumnRule("float", False, _positive("s"), "Time-to-first-token limit of the run [s]."),
        "tpot_limit_s": ColumnRule("float", False, _positive("s"), "Time-per-output-token limit of the run [s]."),
        "latency_limit_s": ColumnRule("float", False, _positive("s"),
                                      "Whole-request latency limit (GPT-J Server's target_latency) [s]."),
        "bandwidth_per_accelerator_gb_per_s": ColumnRule(
            "float", False, _positive("GB/s"),
            "Memory bandwidth of the submitted configuration where it differs from hardware.csv [GB/s]."),
        "result_valid": ColumnRule("str", True, (_one_of(("VALID",)),),
                                   "The summary's 'Result is' line (checker log, results page: listed as a result)."),
        "source_kind": ColumnRule("str", True, (_one_of(MLPERF_SOURCE_KINDS),),
                                  "summary, checker_log or results_page: the file the rate was read from."),
        "source_url": ColumnRule("str", True, (url_check(),), "Commit-pinned URL of that file."),
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


def _url_match(row: pd.Series) -> re.Match[str] | None:
    form = _URL_FORMS.get(str(row["source_kind"]))
    return None if form is None else form.match(str(row["source_url"]))


def _url_form(df: pd.DataFrame) -> pd.Series:
    return df.apply(lambda row: _url_match(row) is not None, axis=1).astype(bool)


def _url_names_row(df: pd.DataFrame) -> pd.Series:
    def names(row: pd.Series) -> bool:
        found = _url_match(row)
        if found is None:  # reported by _url_form
            return True
        parts = found.groupdict()
        want = {"round": row["round"], "sub": row["submitter"], "sys": row["system_id"], "bench": row["benchmark"],
                "scen": str(row["scenario"]).lower()}  # scenario folders may be lower case (Google TPU)
        if "scen" in parts:
            parts["scen"] = parts["scen"].lower()
        return all(parts[k] == v for k, v in want.items() if k in parts)

    return df.apply(names, axis=1).astype(bool)


def _rates_fit_kind(df: pd.DataFrame) -> pd.Series:
    samples, tokens = df["samples_per_s"].notna(), df["tokens_per_s"].notna()
    summary = df["source_kind"].eq("summary")
    return (summary & samples) | (~summary & (samples ^ tokens))


def _note_quotes_rate(df: pd.DataFrame) -> pd.Series:
    def quotes(row: pd.Series) -> bool:
        form = _NOTE_FORMS.get(str(row["source_kind"]))
        if form is None:  # summary rows (or an unknown kind, reported by its column rule)
            return True
        notes = "" if pd.isna(row["notes"]) else str(row["notes"])
        found = form.match(notes)
        if found is None or "missing:" not in notes:
            return False
        value = row["samples_per_s" if found["unit"] == "samples/s" else "tokens_per_s"]
        return (pd.notna(value) and float(found["val"]) == float(value) and found["bench"] == row["benchmark"]
                and found["scen"].lower() == str(row["scenario"]).lower()
                and found.groupdict().get("sub", row["submitter"]) == row["submitter"])

    return df.apply(quotes, axis=1).astype(bool)


_COPIED = ("weight_precision", "activation_precision", "kv_cache_precision", "compute_precision",
           "ttft_limit_s", "tpot_limit_s", "latency_limit_s")


def _copied_values_not_a(df: pd.DataFrame) -> pd.Series:
    copied = df[list(_COPIED)].notna().any(axis=1)
    return df["source_kind"].eq("summary") | ~copied | df["confidence"].ne("A")


def _precision_sourced(df: pd.DataFrame) -> pd.Series:
    return df["compute_precision"].isna() | df["precision_source_url"].notna()


_FRAME_CHECKS = (
    (_tokens_iff_kind, "tokens_per_s is given iff tokens_kind is not 'none'"),
    (_server_has_limits, "Server/Interactive rows need tpot_limit_s or latency_limit_s"),
    (_offline_unlimited, "Offline rows carry no latency limit (LoadGen does not enforce the ttft/tpot test parameters "
                         "there)"),
    (_url_form, "source_url must be a commit-pinned inference_results URL of the row's source_kind (summary: "
                ".../results/<system>/<benchmark>/<scenario>/performance/run_1/mlperf_log_summary.txt; checker_log: "
                ".../results/submission_checker_log.txt, optionally #L<line>; results_page: "
                ".../results/<system>/README.md)"),
    (_url_names_row, "source_url must name the row's round, submitter, system_id, benchmark and scenario (as far as "
                     "its file is per system or per result)"),
    (_rates_fit_kind, "a summary row gives samples_per_s; a checker_log or results_page row gives exactly one of "
                      "samples_per_s and tokens_per_s (the one metric its file reports)"),
    (_note_quotes_rate, "a checker_log (results_page) row's notes start with 'checker log line: \"Results closed/"
                        "<submitter>/results/<system>/<benchmark>/<scenario> <value>\" gives <samples/s|tokens/s>' "
                        "('results page row: \"<benchmark> <scenario> Tokens/s <value>\" gives tokens/s'), naming "
                        "the row's submitter, benchmark, scenario and rate, and say what is missing ('missing: ...')"),
    (_copied_values_not_a, "a checker_log or results_page row whose precision or latency limits are copied from "
                           "another row has confidence B or C, not A"),
    (_precision_sourced, "a documented compute_precision needs precision_source_url"),
)


def _read_results(path: Path, devices: list[str] | None, benchmarks: list[str] | None) -> pd.DataFrame:
    """Validate the results table at ``path``; ``devices``/``benchmarks`` are the allowed foreign keys (None: that
    key is not checked, e.g. when the folder's own ``hardware.csv`` is invalid)."""
    rules = _results_rules(devices or [], benchmarks or [])
    for column, allowed in (("accelerator", devices), ("benchmark", benchmarks)):
        if allowed is None:
            rules[column] = dataclasses.replace(rules[column], checks=())
    return read_validated_csv(path, rules, key="system_id",
                              unique=["round", "submitter", "system_id", "benchmark", "scenario"],
                              frame_checks=[_frame_check(fn, error) for fn, error in _FRAME_CHECKS])


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


def load_mlperf_results(path: str | Path | None = None, workloads_path: str | Path | None = None,
                        hardware_path: str | Path | None = None) -> pd.DataFrame:
    """Load ``mlperf_llm_results.csv``: published MLPerf Inference LLM results, one row per result.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Table to read; default ``data_dir() / "mlperf_llm_results.csv"``.
    workloads_path : str or pathlib.Path, optional
        Workload table whose benchmarks are allowed; default ``data_dir() / "mlperf_llm_workloads.csv"``.
    hardware_path : str or pathlib.Path, optional
        Hardware table whose devices are allowed; default ``data_dir() / "hardware.csv"``.

    Returns
    -------
    pandas.DataFrame
        The columns of the results rules, in file order.

    Raises
    ------
    memwall.tables.DataValidationError
        On a bad cell, naming file, line, system and column: an accelerator that is not a device of
        ``hardware.csv``, a benchmark missing from the workload table, an unknown scenario, precision or
        source kind, a non-positive rate or limit, a source URL that is not a pinned file of its kind naming the
        row's round and submitter (summary: also system, benchmark and scenario; results page: also system), a
        summary row without samples/s or a checker-log/results-page row without exactly one rate, such a row
        whose notes do not quote its line and value (or say what is missing) or that copies a precision or
        limit at confidence A; a token rate without its kind (or the reverse), a Server/Interactive row without a
        latency limit (or an Offline row with one), a documented precision without its source, or a repeated
        (round, submitter, system, benchmark, scenario).
    """
    resolved = _path("mlperf_llm_results.csv", path)
    wl_path = _path("mlperf_llm_workloads.csv", workloads_path)
    hw_path = _path("hardware.csv", hardware_path)

    def load() -> pd.DataFrame:
        devices = sorted(load_hardware(hw_path)["device"].astype(str))
        benchmarks = sorted(load_mlperf_workloads(wl_path)["benchmark"].astype(str))
        return _read_results(resolved, devices, benchmarks)

    return _memo_by_content("load_mlperf_results", [resolved, wl_path, hw_path], load)


MLPERF_RESULT_RULES = _results_rules([], [])
"""The results table's columns (the vocabularies of ``accelerator`` and ``benchmark`` are read at load time)."""
