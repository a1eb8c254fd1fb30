"""Claims checked by the chapter "Lean optimizers and low-precision training".

The paper says second-order optimizers are more robust to hyperparameters but need extra memory, and calls for
training algorithms robust to low precision (Gholami et al., arXiv 2403.14123, section on breaking the wall). It
prints no number for either, so the numeric claims here compare our byte counts
(:mod:`memwall.levers.optimizer_state`) with the memory figures the optimizers' own papers publish
(``data/optimizer_memory_published.csv``, :func:`memwall.tables.optimizer_memory.load_optimizer_memory`), or with
this book's hand derivations, which say so. Registered on import (found by
:func:`memwall.claims.core.discovered_claim_modules`).
"""

from __future__ import annotations

from memwall.claims.core import Claim, NotApplicable, register
from memwall.levers.optimizer_state import model_states, optimizer_state_bytes, weight_matrices

__all__ = ["CHAPTER", "GIB", "PUBLISHED", "RECIPES", "SHAMPOO_BLOCK", "largest_trainable_params", "saving_gib"]

CHAPTER = "chapters/lean_optimizers"
SECTION = "lean optimizers and low precision"
GIB = 2.0**30
"""One GiB [B]. We read the 8-bit paper's printed "GB" as GiB: see :func:`saving_gib`."""
SHAMPOO_BLOCK = 1024
"""Shampoo block side used in the chapter: the default ``max_preconditioner_dim`` of PyTorch Distributed Shampoo
(https://github.com/facebookresearch/optimizers). [elements]"""
RECIPES: dict[str, tuple[str, str]] = {
    "SGD, fp32": ("sgd", "fp32"),
    "Adam, fp32": ("adam", "fp32"),
    "Adam, bf16 mixed": ("adam", "bf16_mixed"),
    "Adam (bf16 moments), FP8 mixed": ("adam_bf16", "fp8_mixed"),
    "8-bit Adam, bf16 mixed": ("adam_8bit", "bf16_mixed"),
    "Adafactor, bf16 mixed": ("adafactor", "bf16_mixed"),
    "Adafactor + momentum, bf16 mixed": ("adafactor_momentum", "bf16_mixed"),
    "Shampoo (1024 blocks), bf16 mixed": ("shampoo", "bf16_mixed"),
    "K-FAC, bf16 mixed": ("kfac", "bf16_mixed"),
}
"""Display label -> (optimizer, precision recipe) compared in the chapter."""
PUBLISHED = {"adam8_bytes": 2.0, "t15b_8bit_gb": 8.5, "t15b_adafactor_gb": 5.6, "gpt3m_8bit_gb": 1.7,
             "robertal_8bit_gb": 2.0}
"""Published figures used as references, as printed (rows of ``data/optimizer_memory_published.csv``:
dettmers-adam8-state, dettmers-t15b-8bit, dettmers-t15b-adafactor, dettmers-gpt3medium-8bit,
dettmers-robertalarge-8bit; ``tests/test_optimizer_state.py`` checks that they agree)."""

_NOT_PAPER = NotApplicable("the memory-wall paper prints no such number; the optimizer's own paper is the reference")


def saving_gib(model: object, optimizer: str, *, baseline: str = "adam", stable_embedding: bool = False) -> float:
    """Optimizer-state memory an optimizer saves against ``baseline``, in GiB.

    Parameters
    ----------
    model : ModelSpec, str or float
        Architecture, preset name or parameter count [params].
    optimizer, baseline : str
        Optimizers of :data:`memwall.levers.optimizer_state.OPTIMIZER_NAMES`.
    stable_embedding : bool
        Keep 32-bit state for the embedding tables, as the 8-bit paper's stable embedding layer does (Dettmers et
        al., arXiv 2110.02861, §2.3): they save nothing.

    Returns
    -------
    float
        Saved bytes / 2**30. [GiB]
    """
    saved = optimizer_state_bytes(model, baseline)["total"] - optimizer_state_bytes(model, optimizer)["total"]
    if stable_embedding:
        emb = float(sum(m.elements for m in weight_matrices(model) if m.kind == "embedding"))
        saved -= optimizer_state_bytes(emb, baseline)["total"] - optimizer_state_bytes(emb, optimizer)["total"]
    return saved / GIB


def largest_trainable_params(memory_bytes: float, optimizer: str, precision: str, *, model: object = "llama-2-7b",
                             block_size: int | None = None) -> float:
    """Largest parameter count whose model states (no activations, no ZeRO) fit in ``memory_bytes``.

    The bytes per parameter are those of ``model``'s shapes (constant for first-order optimizers; for Shampoo and
    K-FAC they depend on the shapes, so a model of another shape moves the answer).

    Parameters
    ----------
    memory_bytes : float
        Device memory. [B]
    optimizer, precision : str
        As :func:`memwall.levers.optimizer_state.model_states`.
    model : ModelSpec or str
        Shapes that set the bytes per parameter.
    block_size : int, optional
        Shampoo's block side. [elements]

    Returns
    -------
    float
        ``memory_bytes / (model states per parameter)``. [params]
    """
    st = model_states(model, optimizer, precision=precision, block_size=block_size)
    return memory_bytes / (st["total"] / st["n_params"])


def _state_ratio(optimizer: str, block_size: int | None = None) -> float:
    return (optimizer_state_bytes("llama-2-7b", optimizer, block_size=block_size)["total"]
            / optimizer_state_bytes("llama-2-7b", "adam")["total"])


def _second_order_needs_more() -> bool:
    return bool(_state_ratio("shampoo", SHAMPOO_BLOCK) > 1 and _state_ratio("kfac") > 1)


def _fits_8bit_not_adam() -> bool:
    h100 = 80 * GIB  # H100 SXM5: 80 GiB HBM3 (data/hardware.csv)
    fits = model_states("llama-2-7b", "adam_8bit", precision="bf16_mixed")["total"] <= h100
    return bool(fits and model_states("llama-2-7b", "adam", precision="bf16_mixed")["total"] > h100)


def _fp8_bytes_per_param() -> float:
    st = model_states("llama-2-7b", "adam_bf16", precision="fp8_mixed")
    return st["total"] / st["n_params"]


def _register() -> None:
    common = dict(chapter=CHAPTER, section=SECTION, ours_paper_data=_NOT_PAPER)
    register(Claim(
        claim_id="lean-8bit-adam-bytes", **common,
        statement="8-bit Adam cuts Adam's state from 8 to about 2 bytes per parameter: two 1-byte states plus one "
                  "fp32 absolute maximum per block of 2048 elements.",
        paper_value=PUBLISHED["adam8_bytes"], paper_text="2 bytes per parameter (8 for 32-bit Adam)",
        unit="B/param", source="Dettmers et al., arXiv 2110.02861, §1 (data/optimizer_memory_published.csv)",
        method="memwall.levers.optimizer_state.optimizer_state_bytes('llama-2-7b', 'adam_8bit')['bytes_per_param']",
        rel_tol=0.005, tolerance_note="the block constants add 2 x 4 B / 2048 = 0.4 %, which the printed 2 B omit",
        ours_extended=lambda: optimizer_state_bytes("llama-2-7b", "adam_8bit")["bytes_per_param"]), replace=True)
    register(Claim(
        claim_id="lean-8bit-saving-t15b", **common, group="8-bit Adam, Table 1 memory saved",
        statement="On a 1.5B-parameter language model 8-bit Adam saves 8.5 GB of optimizer state against 32-bit "
                  "Adam (read as GiB).",
        paper_value=PUBLISHED["t15b_8bit_gb"], paper_text="8.5 GB (Mem saved)", unit="GiB",
        source="Dettmers et al., arXiv 2110.02861, Table 1",
        method="saving_gib(1.5e9, 'adam_8bit'): the nominal 1.5B parameters, every state 8-bit",
        rel_tol=0.05 / 1.5 + 0.05 / 8.5,
        tolerance_note="the nominal size (1.5 ± 0.05 B) and half a unit of the printed digit; the printed GB read as "
                       "GiB (in 10^9 B ours is 6 % higher; GiB fits all three Table 1 savings within 2 %)",
        ours_extended=lambda: saving_gib(1.5e9, "adam_8bit")), replace=True)
    register(Claim(
        claim_id="lean-8bit-saving-gpt3-medium", **common, group="8-bit Adam, Table 1 memory saved",
        statement="On GPT-3 Medium 8-bit Adam saves 1.7 GB: the saving of every matrix but the embeddings, whose "
                  "state the stable embedding layer keeps at 32 bits.",
        paper_value=PUBLISHED["gpt3m_8bit_gb"], paper_text="1.7 GB (Mem saved)", unit="GiB",
        source="Dettmers et al., arXiv 2110.02861, Table 1 and §2.3",
        method="saving_gib('gpt2-medium', 'adam_8bit', stable_embedding=True): GPT-3 Medium has GPT-2 Medium's "
               "shape (24 layers, d_model 1024)",
        rel_tol=0.05 / 1.7, tolerance_note="half a unit of the printed digit; printed GB read as GiB",
        ours_extended=lambda: saving_gib("gpt2-medium", "adam_8bit", stable_embedding=True)), replace=True)
    register(Claim(
        claim_id="lean-8bit-saving-roberta-large", **common, group="8-bit Adam, Table 1 memory saved",
        statement="Fine-tuning RoBERTa-Large (355M) on GLUE, 8-bit AdamW saves 2.0 GB.",
        paper_value=PUBLISHED["robertal_8bit_gb"], paper_text="2.0 GB (Mem saved)", unit="GiB",
        source="Dettmers et al., arXiv 2110.02861, Table 1",
        method="saving_gib(355e6, 'adam_8bit'): the nominal 355M parameters (no RoBERTa preset; GLUE fine-tuning "
               "uses no stable embedding)",
        rel_tol=0.05 / 2.0 + 0.005 / 0.355, tolerance_note="half a unit of the printed digit and of the nominal size",
        ours_extended=lambda: saving_gib(355e6, "adam_8bit")), replace=True)
    register(Claim(
        claim_id="lean-adafactor-vs-8bit", **common,
        statement="Adafactor with a first moment saves two thirds of what 8-bit Adam saves: 4 of 6 bytes per "
                  "parameter, its factored second moment being nearly free.",
        paper_value=PUBLISHED["t15b_adafactor_gb"] / PUBLISHED["t15b_8bit_gb"], paper_text="5.6 GB vs 8.5 GB saved",
        unit="ratio", source="Dettmers et al., arXiv 2110.02861, Table 1 (Transformer-1.5B)",
        method="saving_gib('gpt2-xl', 'adafactor_momentum') / saving_gib('gpt2-xl', 'adam_8bit'): GPT-2 XL's "
               "shapes (1.56B) for the unpublished 1.5B architecture",
        rel_tol=0.05 / 5.6 + 0.05 / 8.5, tolerance_note="half a unit of each printed digit",
        ours_extended=lambda: saving_gib("gpt2-xl", "adafactor_momentum") / saving_gib("gpt2-xl", "adam_8bit")),
        replace=True)
    register(Claim(
        claim_id="lean-second-order-extra-memory", **common,
        statement="Second-order optimizers need extra memory: for Llama-2-7B's shapes Shampoo (blocks of 1024) and "
                  "K-FAC each keep more optimizer state than Adam.",
        paper_value=True,
        paper_text="(paraphrase) second-order methods are more robust to hyperparameters but need extra memory",
        unit="yes/no", source="closing section on breaking the wall, training (paraphrased)",
        method="optimizer_state_bytes('llama-2-7b', 'shampoo', block_size=1024) and ('kfac') against ('adam')",
        ours_extended=_second_order_needs_more), replace=True)
    register(Claim(
        claim_id="lean-shampoo-3x-adam", **common,
        statement="Blocked Shampoo keeps three times Adam's state for Llama-2-7B: per b x b block two b x b "
                  "statistics and their inverse roots (16 B/param) plus momentum and grafting (8 B), against 8 B.",
        paper_value=3.0, paper_text="24 B vs 8 B per parameter (this book's derivation; the paper prints no number)",
        unit="x Adam", source="this book; Gupta et al., arXiv 1802.09568; Anil et al., arXiv 2002.09018",
        method="optimizer_state_bytes('llama-2-7b', 'shampoo', block_size=1024)['total'] / ('adam')['total']",
        rel_tol=0.01, tolerance_note="ragged edge blocks (11008 = 10 x 1024 + 768, 32000 = 31 x 1024 + 256) and "
                                     "the norms' diagonal statistics add a little",
        ours_extended=lambda: _state_ratio("shampoo", SHAMPOO_BLOCK)), replace=True)
    register(Claim(
        claim_id="lean-llama2-7b-fits-8bit", **common,
        statement="With 8-bit Adam the model states of Llama-2-7B fit on one 80 GiB GPU; with mixed-precision "
                  "Adam they do not.",
        paper_value=True, paper_text="(this book's claim)", unit="yes/no", source="this book",
        method="model_states('llama-2-7b', 'adam_8bit' / 'adam', precision='bf16_mixed')['total'] vs 80 GiB",
        ours_extended=_fits_8bit_not_adam), replace=True)
    register(Claim(
        claim_id="lean-fp8-recipe-bytes", **common,
        statement="DeepSeek-V3's low-precision recipe keeps 14 bytes per parameter of model states, against 16 for "
                  "mixed-precision Adam: bf16 weights, fp32 gradients and master weights, bf16 AdamW moments.",
        paper_value=14.0, paper_text="2 + 4 + 4 + 2 + 2 B (this book's reading of the stated formats)",
        unit="B/param", source="DeepSeek-AI, arXiv 2412.19437, §3.3 (data/optimizer_memory_published.csv)",
        method="model_states('llama-2-7b', 'adam_bf16', precision='fp8_mixed') per parameter",
        ours_extended=_fp8_bytes_per_param), replace=True)


_register()
