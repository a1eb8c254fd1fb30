"""Beyond the paper: attention variants' cost, fused attention, MoE decode, speculative decoding,
tensor parallelism and decode balance."""
