"""A minimal numpy Transformer (BERT encoder, GPT-2 language model) to time encoding against generation.

Modules
-------
``layers``
    Layers of the numpy Transformer: GELU, layer norm, softmax, a block's weights and the KV cache.
``model``
    The numpy BERT encoder (hidden states in and out) and GPT-2 language model (embeddings, blocks,
    final norm, tied LM head; greedy generation with a KV cache).
``latency``
    Timing the numpy encoder and decoder: encode, generate, sampled generation and the latency table.
"""

from memwall.wall.numpy_transformer import latency, layers, model
from memwall.wall.numpy_transformer.latency import *
from memwall.wall.numpy_transformer.layers import *
from memwall.wall.numpy_transformer.model import *

__all__ = [
    "BLOCK_FIELDS",
    "EMBEDDING_FIELDS",
    "LATENCY_COLUMNS",
    "Block",
    "KVCache",
    "NumpyTransformer",
    "SampledGeneration",
    "gelu_erf",
    "gelu_tanh",
    "generation_time_from_steps",
    "latency_table",
    "layer_norm",
    "measure_decode_step",
    "measure_encode",
    "measure_generate",
    "measure_generate_sampled",
    "time_encode",
    "time_generate",
    "time_generate_sampled",
]
