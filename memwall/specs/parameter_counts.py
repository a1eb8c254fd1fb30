"""Parameter counts of a :class:`~memwall.specs.model_spec.ModelSpec`, as its reference implementation stores them.

The counts follow the Hugging Face implementations of each family (see :mod:`memwall.specs.model_spec`):
``tests/test_specs.py`` holds every preset to its published count and ``tests/test_hf_config.py`` every
stored ``config.json`` to the count of the Hugging Face class built from it, at zero tolerance. The functions
are re-exported by :mod:`memwall.specs.model_spec` and :mod:`memwall.specs`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memwall.specs.model_spec import ModelSpec

__all__ = ["non_embedding_parameter_count", "parameter_count"]


def _norm_parameters(spec: ModelSpec, width: int) -> int:
    """Parameters of one normalisation over ``width`` elements: ``2·width`` (LayerNorm), ``width`` (RMSNorm)."""
    return 2 * width if spec.norm == "layernorm" else width


def _ffn_parameters(spec: ModelSpec, width: int) -> int:
    """One FFN (one expert) of hidden width ``width``: ``m·d·f`` weights, biases ``(m-1)·f + d`` when
    ``spec.has_mlp_bias``. [parameters]"""
    m, d = spec.ffn_matrices, spec.d_model
    return m * d * width + int(spec.has_mlp_bias) * ((m - 1) * width + d)


def _attention_parameters(spec: ModelSpec) -> int:
    """Attention of one block: projections, their biases, q/k norms and sinks. [parameters]

    Grouped-query attention (``LlamaAttention`` and relatives): ``q`` d→h·d_h, ``k`` d→g·d_h, ``v``
    d→g·d_v, ``o`` h·d_v→d. Multi-head latent attention (``DeepseekV2Attention``/``DeepseekV3Attention``,
    arXiv 2405.04434 §2.1): ``q_a_proj`` d→r_q, its RMSNorm (r_q) and ``q_b_proj`` r_q→h·(d_h+d_R) (or
    one ``q_proj`` d→h·(d_h+d_R) without ``q_lora_rank``), ``kv_a_proj_with_mqa`` d→d_c+d_R, its RMSNorm
    (d_c), ``kv_b_proj`` d_c→h·(d_h+d_v), ``o_proj`` h·d_v→d.
    """
    d, h, dh, dv = spec.d_model, spec.heads, spec.head_dim, spec.value_head_dim
    if spec.is_mla:
        if spec.has_qkv_bias or spec.has_out_bias:
            raise ValueError(f"{spec.name}: biases on multi-head latent attention are not modelled")
        qk = dh + spec.rope_head_dim
        if spec.q_lora_rank:
            q = d * spec.q_lora_rank + spec.q_lora_rank + spec.q_lora_rank * h * qk
        else:
            q = d * h * qk
        kv = d * (spec.kv_lora_rank + spec.rope_head_dim) + spec.kv_lora_rank
        kv += spec.kv_lora_rank * h * (dh + dv)
        attn = q + kv + h * dv * d
    else:
        g = spec.kv_heads
        attn = d * h * dh + d * g * dh + d * g * dv + h * dv * d
        if spec.has_qkv_bias:
            attn += h * dh + g * dh + g * dv
        if spec.has_out_bias:
            attn += d
    if spec.qk_norm:
        attn += 2 * _norm_parameters(spec, dh)
    if spec.attention_sinks:
        attn += h
    return attn


def _moe_ffn_parameters(spec: ModelSpec) -> int:
    """FFN of one MoE layer: routed experts, router (a bias when ``spec.bias``), shared expert and its gate.
    [parameters]"""
    d, e = spec.d_model, spec.experts
    n = e * _ffn_parameters(spec, spec.ffn_dim) + d * e + int(spec.bias) * e
    if spec.shared_ffn_dim:
        n += _ffn_parameters(spec, spec.shared_ffn_dim)
    if spec.shared_expert_gate:
        n += d
    return n


def _block_parameters(spec: ModelSpec, moe: bool | None = None) -> int:
    """Parameters of one Transformer block: attention, FFN (MoE or dense) and ``norms_per_block`` norms.

    Parameters
    ----------
    spec : ModelSpec
        Architecture.
    moe : bool or None
        Count a MoE block (``True``) or a dense block (``False``, FFN width ``dense_ffn_dim`` or
        ``ffn_dim``); ``None`` = MoE exactly when ``spec.experts > 1``.

    Returns
    -------
    int
        [parameters]
    """
    moe = spec.experts > 1 if moe is None else moe
    ffn = _moe_ffn_parameters(spec) if moe else _ffn_parameters(spec, spec.dense_ffn_dim or spec.ffn_dim)
    return _attention_parameters(spec) + ffn + spec.norms_per_block * _norm_parameters(spec, spec.d_model)


def parameter_count(spec: ModelSpec, include_embeddings: bool = True) -> int:
    """Total parameters of a model as its reference implementation stores them.

    Parameters
    ----------
    spec : ModelSpec
        Architecture.
    include_embeddings : bool
        Count token, position and segment embeddings and an untied LM head. With ``False`` this is
        the "non-embedding" count N of Kaplan et al. 2020 (arXiv 2001.08361, §2.1), which still
        includes the norms, BERT's pooler and MoE routers.

    Returns
    -------
    int
        Parameter count. [parameters]

    Raises
    ------
    ValueError
        For biases on multi-head latent attention (no published model has them; not modelled).

    Notes
    -----
    Per block, with ``h`` query heads, ``g`` KV heads of ``d_h`` (values ``d_v``):

    * attention ``d·h·d_h + d·g·d_h + d·g·d_v + h·d_v·d``, plus ``h·d_h + 2·g·d_h`` biases with
      ``has_qkv_bias`` and ``d`` more (the output bias) with ``has_out_bias``; multi-head latent
      attention (DeepSeek-V2, arXiv 2405.04434, §2.1) instead holds its low-rank projections and the
      RMSNorms of the query and KV latents (see ``_attention_parameters``); ``qk_norm`` adds two norms
      of ``d_h`` and ``attention_sinks`` one logit per query head (gpt-oss);
    * an FFN of ``m·d·f`` weights (``m`` = 2 or 3 matrices) and, with ``has_mlp_bias``, ``(m-1)·f + d`` biases;
      a MoE layer holds ``E`` of them, a router of ``d·E`` (and ``E`` router biases with ``bias``,
      gpt-oss), a shared FFN of ``shared_ffn_dim`` and, with ``shared_expert_gate``, its ``d → 1`` gate
      (Qwen2-MoE); the first ``dense_layers`` layers of a MoE hold one FFN of ``dense_ffn_dim``;
    * ``norms_per_block`` norms of ``2d`` (LayerNorm) or ``d`` (RMSNorm) parameters.

    Then the final norm, BERT's embedding LayerNorm and pooler, and the embeddings; a tied LM head adds
    nothing. Matches ``sum(p.numel() for p in model.parameters())`` of the Hugging Face classes (built
    from each family's ``config.json`` by ``tools/hf_param_counts.py``; ``tests/test_hf_config.py``
    holds every family to 0 difference). DeepSeek-V3's ``e_score_correction_bias`` is a buffer in
    ``DeepseekV3TopkRouter``, not a parameter, and is not counted; its multi-token-prediction layer is
    not part of ``DeepseekV3ForCausalLM`` either.

    References
    ----------
    .. [1] J. Kaplan et al., "Scaling Laws for Neural Language Models", arXiv 2001.08361, 2020, §2.1
       (non-embedding parameter count N).
    .. [2] A. Radford et al., "Language Models are Unsupervised Multitask Learners", OpenAI, 2019 (Table 2);
       model card https://huggingface.co/openai-community/gpt2 (124M parameters).
    .. [3] DeepSeek-AI, "DeepSeek-V2: A Strong, Economical, and Efficient Mixture-of-Experts Language
       Model", arXiv 2405.04434, 2024, §2.1 (multi-head latent attention) and §2.2 (DeepSeekMoE).

    Examples
    --------
    GPT-2 124M [2]_ by hand: a block has ``4·768² + 4·768`` attention, ``2·768·3072 + 3072 + 768`` FFN and
    ``2·2·768`` LayerNorm parameters, 7,087,872; 12 blocks plus the final LayerNorm (1,536) give
    N = 85,056,000 [1]_; the token (50257·768) and position (1024·768) embeddings bring it to 124,439,808.
    BERT-Base and Llama-3-8B give the counts their Hugging Face checkpoints report:

    >>> from memwall.specs.model_spec import parameter_count
    >>> from memwall.specs.presets import get_preset
    >>> parameter_count(get_preset("gpt2")), parameter_count(get_preset("gpt2"), include_embeddings=False)
    (124439808, 85056000)
    >>> parameter_count(get_preset("bert-base")), parameter_count(get_preset("llama-3-8b"))
    (109482240, 8030261248)
    """
    d = spec.d_model
    moe_layers = spec.moe_layers
    n = moe_layers * _block_parameters(spec, moe=True)
    n += (spec.layers - moe_layers) * _block_parameters(spec, moe=False)
    norm_params = _norm_parameters(spec, d)
    if spec.final_norm:
        n += norm_params
    if spec.embedding_norm:
        n += norm_params
    if spec.pooler:
        n += d * d + d
    if include_embeddings:
        n += spec.vocab_size * d
        n += spec.type_vocab_size * d
        if spec.learned_positions:
            n += spec.max_positions * d
        if not spec.tied_embeddings:
            n += spec.vocab_size * d
    return n


def non_embedding_parameter_count(spec: ModelSpec) -> int:
    """``parameter_count(spec, include_embeddings=False)``. [parameters]"""
    return parameter_count(spec, include_embeddings=False)
