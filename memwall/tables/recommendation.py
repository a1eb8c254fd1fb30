"""The recommendation-model table ``recommendation_models.csv``: embedding tables of DLRM and MLPerf's DLRM-v2.

One row per embedding table of one model: how many rows it has, the embedding dimension, and how many rows
one sample looks up in it (1 for one-hot features, the multi-hot pooling size otherwise). The byte
arithmetic on these tables is :mod:`memwall.levers.recommendation`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from memwall.tables.paper import _frame_check
from memwall.tables.rules import _CONF, _EXTRA, _NOTES, _SOURCE, _one_of, _positive
from memwall.tables.validation import ColumnRule, _memoized, read_validated_csv

__all__ = ["RECOMMENDATION_RULES", "REFERENCE_DTYPES", "load_recommendation_models"]

REFERENCE_DTYPES = ("fp32", "fp16", "bf16", "int8")
"""Storage formats a reference checkpoint may use for its embedding tables."""

RECOMMENDATION_RULES: dict[str, ColumnRule] = {
    "model": ColumnRule("str", True, (), "Model (configuration) name; its rows are its embedding tables."),
    "dataset": ColumnRule("str", True, (), "Data set the tables are sized for."),
    "table_index": ColumnRule("int", True, (pa.Check.ge(0, error="must be >= 0 [index]"),),
                              "Position of the table (categorical feature) in the model, from 0 [index]."),
    "rows": ColumnRule("int", True, _positive("rows"), "Rows (hashed categories) of the table [rows]."),
    "embedding_dim": ColumnRule("int", True, _positive("elements"), "Elements per row [elements]."),
    "lookups_per_sample": ColumnRule("int", True, _positive("lookups"),
                                     "Rows one sample gathers from the table (pooling factor) [lookups]."),
    "reference_dtype": ColumnRule("str", True, (_one_of(REFERENCE_DTYPES),),
                                  "Storage format of the reference checkpoint's tables."),
    "source_url": _SOURCE,
    "extra_source_urls": _EXTRA,
    "confidence": _CONF,
    "notes": _NOTES,
}


def _indices_consecutive(df: pd.DataFrame) -> pd.Series:
    expected = df.groupby("model", sort=False).cumcount()
    return df["table_index"] == expected


def _one_dim_per_model(df: pd.DataFrame) -> pd.Series:
    return df.groupby("model", sort=False)["embedding_dim"].transform("nunique") == 1


@_memoized("recommendation_models.csv")
def load_recommendation_models(path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate ``recommendation_models.csv``.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Table to read; default ``data_dir() / "recommendation_models.csv"``.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`RECOMMENDATION_RULES`, in file order.

    Raises
    ------
    memwall.tables.DataValidationError
        On a bad cell (a non-positive row count, dimension or pooling factor, an unknown dtype, a missing
        source), a duplicate (model, table_index), table indices of a model that are not 0, 1, ... in file
        order, or a model whose tables have different embedding dimensions.

    References
    ----------
    .. [1] MLCommons training, DLRM v2 (TorchRec) README: ``--num_embeddings_per_feature``,
       ``--multi_hot_sizes``, ``--embedding_dim 128``,
       https://github.com/mlcommons/training/blob/3e2f73174ec2764e58efea1a43e2e2d18f26f2c6/recommendation_v2/torchrec_dlrm/README.MD

    Examples
    --------
    MLPerf's DLRM-v2 has 26 tables of dimension 128; a sample gathers 214 rows from them [1]_:

    >>> from memwall.tables.recommendation import load_recommendation_models
    >>> v2 = load_recommendation_models().query("model.str.startswith('DLRM-v2')")
    >>> len(v2), int(v2["embedding_dim"].iloc[0]), int(v2["lookups_per_sample"].sum())
    (26, 128, 214)
    """
    return read_validated_csv(
        path, RECOMMENDATION_RULES, key="model", unique=["model", "table_index"],
        frame_checks=[
            _frame_check(_indices_consecutive, "table_index must run 0, 1, ... within each model, in file order"),
            _frame_check(_one_dim_per_model, "all tables of a model must have the same embedding_dim"),
        ],
    )
