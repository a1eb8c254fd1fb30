"""Why the decoder-over-encoder latency ratio depends on the machine: the ridge point and per-token overhead.

The survey's headline measurement (Kim et al., arXiv 2302.14017, §2.2.2, Fig. 9) is GPT-2 generating
``l`` tokens against BERT-Base encoding ``l`` tokens, batch 1, on a Xeon Gold 6242: about 45x at l = 128 for
about the same FLOPs. The roofline says how that ratio depends on the machine.

Derivation
----------
The encoder multiplies ``N_e`` weights by each of its ``l`` tokens, ``F ≈ 2·N_e·l`` FLOPs; the decoder reads
``N_d`` weights of ``b_w`` bytes per generated token (its blocks and, for generation, the LM head: GPT-2's
``N_d`` is about 1.45 times BERT-Base's ``N_e``):

* the encoder reuses every weight over its ``l`` tokens, so (for ``l`` beyond the ridge) it is
  compute-bound: ``T_enc ≈ F / P``;
* the decoder reads every weight once per generated token: ``T_dec ≈ l·(b_w·N_d / BW + τ)``, with ``τ`` the
  time per token that no ceiling describes (per-call framework overhead, elementwise passes);

so ``T_dec / T_enc ≈ (b_w / 2)·(P / BW)·(N_d / N_e)·(1 + τ·BW / (b_w·N_d))``. Without overhead the ratio is
``(b_w/2)·R·(N_d/N_e)`` with ``R = P/BW`` the machine's ridge point; for equal models it is the critical batch
of a decode step (:func:`memwall.serving.decode.critical_batch_closed_form`), since the encoder is the decoder
at full reuse. A machine with a 4x lower ridge gives a 4x smaller ratio; overhead ``τ`` raises it, an
encoder below its peak lowers it. :func:`ratio_limit` is the closed form, :func:`model_ratio_limit` the same
limit from the cost model's whole-model bytes and FLOPs, :func:`decode_time_split` measures the overhead
from a run, :func:`ridge_scaled_ratio` carries a measured ratio to another machine's ridge (assuming the
same overhead and encoder efficiency there).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from memwall.cost import cost_arrays
from memwall.roofline import Ceilings
from memwall.serving.decode import critical_batch_closed_form
from memwall.specs.model_spec import ModelSpec
from memwall.specs.presets import get_preset
from memwall.wall.measure.timing import Timing, measure
from memwall.widths import FP32, ByteWidths

__all__ = ["DecodeSplit", "decode_time_split", "encoder_elementwise_time", "model_ratio_limit", "ratio_limit",
           "ridge_scaled_ratio", "weight_ratio"]


def ratio_limit(ceilings: Ceilings, weight_bytes: float = 4.0, weights_read_over_used: float = 1.0) -> float:
    """Decoder-over-encoder latency ratio with no per-token overhead: ``(b_w/2)·R·(N_d/N_e)``.

    Parameters
    ----------
    ceilings : Ceilings
        Machine: peak [FLOP/s] and bandwidth [B/s] at the precision the models run in.
    weight_bytes : float
        Bytes per weight (4 for the FP32 runs of the survey and of this book). [B/element]
    weights_read_over_used : float
        ``N_d / N_e``: weights the decoder reads per token over weights the encoder multiplies per token
        (:func:`weight_ratio`; 1 for equal models). [1]

    Returns
    -------
    float
        ``weight_bytes / 2 · peak / bandwidth · weights_read_over_used`` (module docstring). [x]

    Raises
    ------
    ValueError
        If a ceiling, ``weight_bytes`` or ``weights_read_over_used`` is not a positive finite number.
    """
    value = weights_read_over_used
    if isinstance(value, bool) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"weights_read_over_used must be a positive finite number, got {value!r}")
    return float(critical_batch_closed_form(ceilings.peak_flop_per_s, ceilings.bandwidth_bytes_per_s,
                                            weight_bytes)) * float(value)


def weight_ratio(decoder: ModelSpec | str = "gpt2", encoder: ModelSpec | str = "bert-base") -> float:
    """``N_d / N_e``: weights a generated token reads (blocks and LM head) over weights an encoded token uses.

    Parameters
    ----------
    decoder, encoder : ModelSpec or str
        The two models (default GPT-2 124M and BERT-Base).

    Returns
    -------
    float
        ``(non-embedding parameters + vocab · d)`` of the decoder (its LM head, tied or not, is read in full
        for every token's logits) over the encoder's non-embedding parameters (its blocks; BERT's pooler
        included). [1]
    """
    from memwall.specs.model_spec import non_embedding_parameter_count

    dec = get_preset(decoder) if isinstance(decoder, str) else decoder
    enc = get_preset(encoder) if isinstance(encoder, str) else encoder
    return (non_embedding_parameter_count(dec) + dec.vocab_size * dec.d_model) / non_embedding_parameter_count(enc)


def model_ratio_limit(ceilings: Ceilings, seq_len: int, decoder: ModelSpec | str = "gpt2",
                      encoder: ModelSpec | str = "bert-base", *, widths: ByteWidths = FP32) -> float:
    """The no-overhead ratio from the cost model: the decoder's memory time over the encoder's compute time.

    Parameters
    ----------
    ceilings : Ceilings
        Machine. [FLOP/s], [B/s]
    seq_len : int
        Tokens generated and encoded. [tokens]
    decoder, encoder : ModelSpec or str
        The two models (default GPT-2 and BERT-Base).
    widths : memwall.widths.ByteWidths
        Storage widths (keyword-only; default FP32). [B/element]

    Returns
    -------
    float
        ``(bytes of generating seq_len tokens, LM head on every token) / BW`` over ``(FLOPs of encoding
        seq_len tokens) / P`` (:func:`memwall.cost.cost_arrays`): :func:`ratio_limit` with every byte and FLOP of
        the two models rather than their weights alone. [x]

    Raises
    ------
    ValueError
        As :func:`memwall.cost.cost_arrays`.
    """
    dec = cost_arrays(decoder if isinstance(decoder, ModelSpec) else get_preset(decoder), "generate", seq_len, 1,
                      widths=widths, include_lm_head=True)
    enc = cost_arrays(encoder if isinstance(encoder, ModelSpec) else get_preset(encoder), "encode", seq_len, 1,
                      widths=widths)
    moved = float(sum(o.bytes_read + o.bytes_written for o in dec.values()))
    flops = float(sum(o.flops for o in enc.values()))
    return (moved / ceilings.bandwidth_bytes_per_s) / (flops / ceilings.peak_flop_per_s)


def ridge_scaled_ratio(ratio: float, ridge_from: float, ridge_to: float) -> float:
    """A latency ratio measured at one ridge point carried to another: ``ratio · ridge_to / ridge_from``.

    Parameters
    ----------
    ratio : float
        Measured decoder-over-encoder ratio. [x]
    ridge_from, ridge_to : float
        Ridge points of the measuring machine and of the target machine. [FLOP/B]

    Returns
    -------
    float
        The ratio the target machine would show if only the ridge differed (module docstring). [x]

    Raises
    ------
    ValueError
        If an argument is not a positive finite number.
    """
    for name, value in (("ratio", ratio), ("ridge_from", ridge_from), ("ridge_to", ridge_to)):
        if isinstance(value, bool) or not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(ratio) * float(ridge_to) / float(ridge_from)


class DecodeSplit(NamedTuple):
    """Where a generated token's time goes (all per token, averaged over a generation).

    Attributes
    ----------
    bytes_per_token : float
        Bytes the cost model says one step reads and writes: weights (LM head included), KV cache,
        activations. [B]
    time_per_token_s : float
        Measured time per generated token. [s]
    streaming_s : float
        ``bytes_per_token / bandwidth``: the time at the measured DRAM bandwidth (STREAM). [s]
    overhead_s : float
        ``time_per_token_s - streaming_s``: time no bandwidth ceiling explains. [s]
    achieved_bandwidth_bytes_per_s : float
        ``bytes_per_token / time_per_token_s``: the decode's effective bandwidth. [B/s]
    bandwidth_share : float
        ``achieved / bandwidth``: fraction of STREAM the decode reached. [1]
    """

    bytes_per_token: float
    time_per_token_s: float
    streaming_s: float
    overhead_s: float
    achieved_bandwidth_bytes_per_s: float
    bandwidth_share: float


def decode_time_split(spec: ModelSpec | str, seq_len: int, generate_time_s: float, bandwidth_bytes_per_s: float, *,
                      widths: ByteWidths = FP32) -> DecodeSplit:
    """Split a measured generation of ``seq_len`` tokens into weight streaming and per-token overhead.

    Parameters
    ----------
    spec : ModelSpec or str
        Decoder (e.g. ``"gpt2"``).
    seq_len : int
        Tokens generated from an empty cache. [tokens]
    generate_time_s : float
        Measured time of the whole generation. [s]
    bandwidth_bytes_per_s : float
        Measured DRAM bandwidth (the best STREAM kernel). [B/s]
    widths : memwall.widths.ByteWidths
        Storage widths of the run (keyword-only; default FP32). [B/element]

    Returns
    -------
    DecodeSplit
        Per-token bytes (:func:`memwall.cost.cost_arrays`, phase ``generate`` with the LM head on every
        generated token, divided by ``seq_len``), time, streaming time, overhead, achieved bandwidth and
        its share of ``bandwidth_bytes_per_s``.

    Raises
    ------
    ValueError
        An encoder, ``seq_len`` not a positive integer, a time or bandwidth not positive and finite.
    """
    spec = get_preset(spec) if isinstance(spec, str) else spec
    for name, value in (("generate_time_s", generate_time_s), ("bandwidth_bytes_per_s", bandwidth_bytes_per_s)):
        if isinstance(value, bool) or not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    ops = cost_arrays(spec, "generate", seq_len, 1, widths=widths, include_lm_head=True)
    per_token = float(sum(o.bytes_read + o.bytes_written for o in ops.values())) / seq_len
    t = float(generate_time_s) / seq_len
    streaming = per_token / float(bandwidth_bytes_per_s)
    achieved = per_token / t
    return DecodeSplit(per_token, t, streaming, t - streaming, achieved, achieved / float(bandwidth_bytes_per_s))


def encoder_elementwise_time(seq_len: int, spec: ModelSpec | str = "bert-base", *, repeats: int = 3,
                             budget_s: float | None = None, seed: int = 0) -> Timing:
    """Time of an encoder's elementwise passes alone, as the numpy encoder runs them (no matrix products).

    Per block: the exact GELU over ``(l, ffn_dim)`` (:func:`~memwall.wall.numpy_transformer.gelu_erf`), the
    softmax over ``(heads, l, l)`` scores and two layer norms over ``(l, d)``
    (:func:`~memwall.wall.numpy_transformer.layer_norm`), in float32, times the layer count. It measures how
    much of the encoder's time is elementwise work the cost model counts as one read and one write.

    Parameters
    ----------
    seq_len : int
        Tokens. [tokens]
    spec : ModelSpec or str
        Encoder (default BERT-Base).
    repeats : int
        Timed runs (the most, under ``budget_s``). [runs]
    budget_s : float, optional
        Wall-time allowance (:func:`memwall.wall.measure.timing.measure`). [s]
    seed : int
        Seed of the random inputs.

    Returns
    -------
    memwall.wall.measure.timing.Timing
        Median, spread and repeats of the whole model's elementwise passes. [s]

    Raises
    ------
    ValueError
        If ``seq_len`` or ``repeats`` is not a positive integer.
    """
    from memwall.wall.numpy_transformer.layers import _softmax_inplace, gelu_erf, layer_norm

    spec = get_preset(spec) if isinstance(spec, str) else spec
    if isinstance(seq_len, bool) or not isinstance(seq_len, (int, np.integer)) or seq_len < 1:
        raise ValueError(f"seq_len must be a positive integer, got {seq_len!r}")
    rng = np.random.default_rng(seed)
    hidden = rng.standard_normal((seq_len, spec.ffn_dim), dtype=np.float32)
    scores = rng.standard_normal((spec.heads, seq_len, seq_len), dtype=np.float32)
    x = rng.standard_normal((seq_len, spec.d_model), dtype=np.float32)
    gain, bias = np.ones(spec.d_model, np.float32), np.zeros(spec.d_model, np.float32)

    def passes() -> None:
        for _ in range(spec.layers):
            gelu_erf(hidden)
            _softmax_inplace(scores.copy())
            layer_norm(x, gain, bias, 1e-12)
            layer_norm(x, gain, bias, 1e-12)

    return measure(passes, budget_s=budget_s, max_repeats=repeats)
