"""Data tables: every loader of ``data/`` and its schema, validated on every load.

Modules
-------
``validation``
    Validated loading of the book's CSV tables.
``strict_csv``
    Strict reading of a table's text: UTF-8, one record per line, balanced quotes, no control characters.
``folder_check``
    Validation of a whole data folder (``memwall validate``): every table's status, every problem.
``paths``
    Where the data tables are: ``$MEMWALL_DATA_DIR``, the installed package's copy, or a clone's ``data/``.
``rules``
    Column rules shared by the table schemas: source URLs, confidence levels, positive numbers, dates.
``hardware``
    Device tables: ``hardware.csv``, ``memory_generations.csv`` and ``interconnects.csv``, validated on load.
``paper``
    Loaders for the curated tables in ``data/``, each validated on every load.
``models``
    The model table ``models.csv``: parameter counts (dense, MoE total and active), dates and sources.
``measurements``
    Stored measurements: this book's CPU reference run and the H200 run.
``pruning``, ``onchip``, ``memory_tiers``, ``recommendation``, ``optimizer_memory``
    The tables of the part "The paper's other levers": published pruning results, on-chip memories,
    memory tiers behind accelerators, recommendation models' embedding tables, published optimizer memory.
``mlperf``
    Published MLPerf Inference LLM results and the benchmarks' workloads.
"""

import importlib

_SUBMODULES = ("folder_check", "hardware", "measurements", "memory_tiers", "mlperf", "models", "onchip",
               "optimizer_memory", "paper", "paths", "pruning", "recommendation", "rules", "strict_csv", "validation")

__all__ = [
    "ARCHITECTURES",
    "CONFIDENCE_LEVELS",
    "DATA_DIR_VARIABLE",
    "DIRECTIONS",
    "FIGURES",
    "FP16_UNITS",
    "GPU_EXPERIMENTS",
    "GPU_REFERENCE_RULES",
    "HARDWARE_RULES",
    "INTERCONNECT_RULES",
    "KINDS",
    "MEMORY_FAMILIES",
    "MEMORY_RULES",
    "MEMORY_TIER_RULES",
    "MLPERF_PRECISIONS",
    "MLPERF_RESULT_RULES",
    "MLPERF_SCENARIOS",
    "MLPERF_TOKENS_KINDS",
    "MLPERF_WORKLOAD_RULES",
    "MODEL_RULES",
    "ONCHIP_RULES",
    "OPTIMIZER_FIGURE_COUNTS",
    "OPTIMIZER_MEMORY_RULES",
    "OWN_SPEC_COLUMNS",
    "PAPER_MODEL_POINT_RULES",
    "PAPER_POINT_RULES",
    "PAPER_PRECISIONS",
    "PAPER_SERIES",
    "PAPER_TRAINING_MEMORY_RULES",
    "POINT_SERIES",
    "PRUNING_MEASUREMENTS",
    "PRUNING_PATTERNS",
    "PRUNING_RULES",
    "RECOMMENDATION_RULES",
    "REFERENCE_DTYPES",
    "REFERENCE_EXPERIMENTS",
    "REFERENCE_RULES",
    "SPECS_FROM",
    "SRAM_KINDS",
    "SURVEY_METRICS",
    "SURVEY_RULES",
    "ColumnRule",
    "DataFolderError",
    "DataValidationError",
    "FolderReport",
    "TableStatus",
    "check_folder",
    "data_dir",
    "date_check",
    "hardware_rules",
    "load_gpu_reference",
    "load_hardware",
    "load_interconnects",
    "load_memory_generations",
    "load_memory_tiers",
    "load_mlperf_results",
    "load_mlperf_workloads",
    "load_models",
    "load_onchip",
    "load_optimizer_memory",
    "load_paper_hw_points",
    "load_paper_model_points",
    "load_paper_training_memory",
    "load_pruning_results",
    "load_recommendation_models",
    "load_reference_measurements",
    "load_survey_case_study",
    "read_validated_csv",
    "url_check",
    "urls_check",
    "validate_folder",
]


def __getattr__(name: str) -> object:
    """Import the submodules on first use of one of their names (PEP 562), so that ``memwall.tables.paths``
    can be imported without pandas and pandera."""
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in __all__:
        for sub in _SUBMODULES:
            module = importlib.import_module(f"{__name__}.{sub}")
            globals().update({n: getattr(module, n) for n in getattr(module, "__all__", ())})
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES})
