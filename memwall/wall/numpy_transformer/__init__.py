"""A minimal numpy Transformer (BERT encoder, GPT-2 decoder) to time encoding against generation.

Modules
-------
``layers``
    Layers of the numpy Transformer: GELU, layer norm, softmax, a block's weights and the KV cache.
``model``
    A minimal numpy Transformer forward, to time an encoder against a decoder on this machine.
``latency``
    Timing the numpy encoder and decoder: encode, generate, sampled generation and the latency table.
"""

from memwall.wall.numpy_transformer import latency, layers, model
from memwall.wall.numpy_transformer.latency import *
from memwall.wall.numpy_transformer.layers import *
from memwall.wall.numpy_transformer.model import *

__all__ = [
    "BLOCK_FIELDS",
    "Block",
    "KVCache",
    "NumpyTransformer",
    "gelu_erf",
    "gelu_tanh",
    "generation_time_from_steps",
    "latency_table",
    "layer_norm",
    "time_encode",
    "time_generate",
    "time_generate_sampled",
]
