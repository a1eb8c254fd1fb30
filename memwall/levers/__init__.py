"""The paper's other levers against the memory wall: what each saves in bytes, FLOPs or memory, and when it
stops helping (Gholami et al., *AI and Memory Wall*, arXiv 2403.14123, the section on breaking the wall).

Quantization, batching, ZeRO and recomputation have their own modules (:mod:`memwall.serving`,
:mod:`memwall.wall.training_memory`); this package holds the rest, one module per lever.

Modules
-------
``sparsity``
    Pruning and sparsity: bytes and FLOPs of a weight matrix stored dense, 2:4 structured or unstructured
    (CSR, bitmap), the break-even density, and the effect on decode and on the critical batch.
``sparsity_model``
    Pruning applied to a whole model: effective bytes per weight, the decode bound and the critical batch.
``onchip``
    Small models and on-chip memory: when weights and KV cache fit in SRAM, the decode bound then, and how
    many chips a model needs to stay on chip.
``onchip_spread``
    A model spread over many chips to stay on chip: the chip-to-chip traffic per token and its bound.
``offload``
    The memory hierarchy: decode and prefill bounds with weights or KV cache in host memory behind a link.
``offload_batch``
    Offload at large batch: the batch at which the link stops binding, what fits in HBM, the chart tables.
``recommendation``
    Recommendation models: bytes of embedding lookups on a CPU with large DRAM against a GPU.
``optimizer_state``
    Lean optimizers and low-precision training: optimizer-state bytes per parameter, second order included.
``_args`` (private)
    The argument checks the modules share: numbers without bool/str coercion, counts, flags, object types.
"""
