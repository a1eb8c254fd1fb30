"""A minimal numpy Transformer (BERT encoder, GPT-2 language model) to time encoding against generation.

Modules
-------
``layers``
    Layers of the numpy Transformer: GELU, layer norm, softmax, a block's weights and the KV cache.
``model``
    The numpy BERT encoder (hidden states in and out) and GPT-2 language model: weights, the block
    stack and the hidden-state methods (forward, encode, step and generate with a KV cache).
``language_model``
    GPT-2's token-level methods of the model: embeddings, final norm and tied LM head, greedy
    generation with a KV cache.
``latency``
    Timing the numpy encoder and decoder: encode, whole greedy generations and single decode steps.
``sampled``
    Sampled generation timing: a generation's time from decode steps timed at a few cache lengths.
``table``
    The latency table: measured decoder/encoder ratio beside the survey's and the roofline's.
"""

from memwall.wall.numpy_transformer import language_model, latency, layers, model, sampled, table
from memwall.wall.numpy_transformer.language_model import *
from memwall.wall.numpy_transformer.latency import *
from memwall.wall.numpy_transformer.layers import *
from memwall.wall.numpy_transformer.model import *
from memwall.wall.numpy_transformer.sampled import *
from memwall.wall.numpy_transformer.table import *

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
