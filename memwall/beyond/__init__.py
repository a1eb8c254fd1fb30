"""Beyond the paper: what the paper's wall looks like with today's models, serving tricks and hardware.

Modules
-------
``attention_cost``
    KV bytes and decode-step cost of attention variants (MHA, GQA, MQA, MLA).
``fused_attention``
    Encoder intensity with the attention scores kept on chip (fused and tiled attention).
``moe_decode``
    Mixture-of-experts decode: experts a batch touches, step cost, critical batch, parameter table.
``speculative``
    Speculative decoding on the roofline: expected tokens per pass, the verify pass, time per token.
``speculative_grid``
    Its tables: the best draft length per acceptance rate, and a grid over devices for a chart.
``allreduce``
    Ring all-reduce time, NCCL's latency constants, per-direction link bandwidths.
``tensor_parallel``
    Tensor-parallel decode over N chips: per-chip roofline step plus all-reduces, sweeps over N.
``decode_balance``
    Batch-1 decode intensity against each device's machine balance, and the trend of the gap.

Every public function returns SI units (s, B, FLOP, FLOP/s, B/s); charts and chapters convert for display.
"""
