"""Tables of speculative decoding: the best draft length per acceptance rate, and a grid over devices.

Both tables are built from :func:`memwall.beyond.speculative.speculative_time_per_token` (the roofline
bound of one draft-and-verify round at batch 1, Leviathan, Kalman and Matias, arXiv 2211.17192):

* :func:`best_k`: the ``k`` that minimises the time per token for each acceptance rate ``alpha``;
* :func:`speculative_grid`: time per token over devices, ``alpha`` and ``k``, for an interactive chart
  (:func:`memwall.charts.beyond_serving.speculative_chart`).

Times are in seconds (``time_per_token_s``, ``plain_time_per_token_s``); charts and chapters convert
them to milliseconds for display.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from memwall._checks import _check_array
from memwall.beyond.speculative import _alpha, speculative_time_per_token
from memwall.roofline import Ceilings
from memwall.serving.schemes import ceilings_for, get_scheme
from memwall.specs.model_spec import ModelSpec
from memwall.widths import BF16, ByteWidths

__all__ = ["best_k", "speculative_grid"]


def best_k(target: ModelSpec | str, draft: ModelSpec | str, ceilings: Ceilings, alpha: ArrayLike, k_max: int = 16,
           context: int = 1024, *, widths: ByteWidths = BF16) -> pd.DataFrame:
    """The number of drafted tokens that minimises the time per token, for each acceptance rate.

    Parameters
    ----------
    target, draft : ModelSpec or str
        Target and draft decoders.
    ceilings : Ceilings
        Device of both models.
    alpha : float or array_like of float, shape (n,)
        Acceptance rates in ``[0, 1]``.
    k_max : int
        Largest ``k`` searched (``0 … k_max``; ``k = 0`` is plain decoding). [tokens]
    context : int
        Tokens in the KV caches. [tokens]
    widths : memwall.widths.ByteWidths
        Storage widths of weights, activations and the KV cache (keyword-only; default ``BF16``). [B/element]

    Returns
    -------
    pandas.DataFrame
        One row per ``alpha``: ``alpha``, ``best_k`` [tokens], ``tokens_per_step`` [tokens],
        ``time_per_token_s`` [s/token] at ``best_k``, ``plain_time_per_token_s`` [s/token] and
        ``speedup`` [x].

    Raises
    ------
    ValueError
        ``k_max`` not a non-negative integer; otherwise as :func:`speculative_time_per_token`.
    """
    if isinstance(k_max, bool) or not isinstance(k_max, (int, np.integer)) or k_max < 0:
        raise ValueError(f"k_max must be a non-negative integer, got {k_max!r}")
    a = np.atleast_1d(_alpha(alpha)).ravel()
    ks = np.arange(k_max + 1)
    res = speculative_time_per_token(target, draft, ceilings, a[:, None], ks[None, :], context, widths=widths)
    t = np.asarray(res.time_per_token_s)
    i = np.argmin(t, axis=1)  # ties: the smallest k
    rows = np.arange(a.size)
    return pd.DataFrame({
        "alpha": a,
        "best_k": ks[i],
        "tokens_per_step": np.asarray(res.tokens_per_step)[rows, i],
        "time_per_token_s": t[rows, i],
        "plain_time_per_token_s": np.asarray(res.plain_time_per_token_s)[rows, i],
        "speedup": np.asarray(res.speedup)[rows, i],
    })


def speculative_grid(hardware: pd.DataFrame, target: str, draft: str, devices: list[str],
                     alphas: ArrayLike, ks: ArrayLike, context: int = 1024,
                     scheme: str = "W16A16") -> pd.DataFrame:
    """Time per token over devices, acceptance rates and draft lengths (for an interactive chart).

    Parameters
    ----------
    hardware : pandas.DataFrame
        Table from :func:`memwall.tables.load_hardware`.
    target, draft : str
        Preset names.
    devices : list of str
        Device names of the hardware table.
    alphas : array_like of float
        Acceptance rates in ``[0, 1]``.
    ks : array_like of int
        Draft lengths. [tokens]
    context : int
        Tokens in the KV caches. [tokens]
    scheme : str
        Precision scheme (:func:`memwall.serving.get_scheme`).

    Returns
    -------
    pandas.DataFrame
        ``device``, ``alpha``, ``k``, ``tokens_per_step`` [tokens], ``time_per_token_s`` [s/token],
        ``plain_time_per_token_s`` [s/token] and ``speedup`` [x].

    Raises
    ------
    ValueError
        Unknown device or scheme, and as :func:`speculative_time_per_token`.
    """
    widths = get_scheme(scheme).widths
    a = np.atleast_1d(_alpha(alphas)).ravel()
    kk = np.atleast_1d(_check_array("ks", ks, integer=True, minimum=0)).ravel()
    frames = []
    for device in devices:
        ceil = ceilings_for(hardware, device, scheme)
        res = speculative_time_per_token(target, draft, ceil, a[:, None], kk[None, :], context, widths=widths)
        aa, kg = np.meshgrid(a, kk, indexing="ij")
        frames.append(pd.DataFrame({
            "device": device, "alpha": np.round(aa.ravel(), 6), "k": kg.ravel().astype(np.int64),
            "tokens_per_step": np.asarray(res.tokens_per_step).ravel(),
            "time_per_token_s": np.asarray(res.time_per_token_s).ravel(),
            "plain_time_per_token_s": np.broadcast_to(res.plain_time_per_token_s, aa.shape).ravel(),
            "speedup": np.asarray(res.speedup).ravel(),
        }))
    return pd.concat(frames, ignore_index=True)
