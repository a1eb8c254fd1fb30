"""memwall: cost models, trend fits and rooflines behind the book *AI and the Memory Wall, recomputed*.

The package mirrors the book: a few core modules that every part uses, and one subpackage per part of the
book. Chapters are thin; they call the functions below.

Chapters and the modules they use
---------------------------------
The memory wall
    ``chapters/hardware_trends`` (Compute outruns memory)
        :mod:`memwall.tables`, :mod:`memwall.trends`, :mod:`memwall.wall.hardware_trends`,
        :mod:`memwall.wall.trend_checks`, :mod:`memwall.cost`, :mod:`memwall.cost_totals`,
        :mod:`memwall.charts.trends`.
    ``chapters/encoder_decoder`` (Encoder vs decoder: where the FLOPs and bytes go)
        :mod:`memwall.cost`, :mod:`memwall.cost_totals`, :mod:`memwall.specs`, :mod:`memwall.tables`,
        :mod:`memwall.wall.case_study`, :mod:`memwall.wall.hardware_trends`, :mod:`memwall.charts.case_study`.
    ``chapters/roofline_measured`` (The roofline, measured)
        :mod:`memwall.roofline`, :mod:`memwall.device_ceilings`, :mod:`memwall.bounds`, :mod:`memwall.cost`,
        :mod:`memwall.cost_totals`, :mod:`memwall.specs`, :mod:`memwall.tables`, :mod:`memwall.wall.measure`,
        :mod:`memwall.wall.numpy_transformer`, :mod:`memwall.wall.latency_ratio` (why the measured ratio scales
        with the ridge point), :mod:`memwall.wall.torch_engine` (the same timing in PyTorch, when installed),
        :mod:`memwall.wall.hardware_trends`, :mod:`memwall.wall.trend_checks`,
        :mod:`memwall.serving.decode`, :mod:`memwall.charts.roofline`, :mod:`memwall.charts.measured`,
        :mod:`memwall.charts.trends`.
    ``chapters/roofline_gpu`` (The roofline of a real accelerator)
        :mod:`memwall.wall.gpu_reference`, :mod:`memwall.roofline`, :mod:`memwall.specs`, :mod:`memwall.tables`,
        :mod:`memwall.serving.decode`, :mod:`memwall.charts.gpu`, :mod:`memwall.charts.measured`.
    ``chapters/models_memory`` (Models outgrow memory)
        :mod:`memwall.tables`, :mod:`memwall.trends`, :mod:`memwall.wall.model_growth`,
        :mod:`memwall.wall.hardware_trends`, :mod:`memwall.charts.trends`.
    ``chapters/training_memory`` (The training memory wall)
        :mod:`memwall.wall.training_memory`, :mod:`memwall.wall.training_bars`, :mod:`memwall.specs`,
        :mod:`memwall.tables`, :mod:`memwall.charts.training`.
Breaking the wall
    ``chapters/quantization`` (Quantization)
        :mod:`memwall.serving` (``schemes``, ``memory``, ``decode``, ``grids``), :mod:`memwall.specs`,
        :mod:`memwall.tables`, :mod:`memwall.charts.serving`.
    ``chapters/batching_kv_cache`` (Batching and the KV cache)
        :mod:`memwall.serving` (``memory``, ``decode``, ``frontier``, ``grids``), :mod:`memwall.cost`,
        :mod:`memwall.cost_totals`, :mod:`memwall.specs`, :mod:`memwall.tables`, :mod:`memwall.charts.serving`.
Beyond the paper
    ``chapters/beyond_model_side`` (Beyond the paper: the model side)
        :mod:`memwall.specs` (``attention``, ``moe``), :mod:`memwall.beyond.attention_cost`,
        :mod:`memwall.beyond.fused_attention`, :mod:`memwall.beyond.moe_decode`, :mod:`memwall.serving`,
        :mod:`memwall.tables`, :mod:`memwall.charts.beyond`, :mod:`memwall.charts.case_study`.
    ``chapters/beyond_serving_hardware`` (Beyond the paper: serving and hardware)
        :mod:`memwall.beyond.speculative`, :mod:`memwall.beyond.speculative_grid`,
        :mod:`memwall.beyond.tensor_parallel`, :mod:`memwall.beyond.allreduce`,
        :mod:`memwall.beyond.decode_balance`, :mod:`memwall.wall.hardware_trends`, :mod:`memwall.serving`,
        :mod:`memwall.specs`, :mod:`memwall.tables`, :mod:`memwall.charts.beyond_serving`,
        :mod:`memwall.charts.trends`.
Your own case
    ``chapters/own_model`` (Bring your own model)
        :mod:`memwall.specs.hf_config` (a Hugging Face ``config.json`` to a ``ModelSpec``),
        :mod:`memwall.device_lookup` (device names as people type them), :mod:`memwall.quick`,
        :mod:`memwall.cost`, :mod:`memwall.serving`, :mod:`memwall.device_ceilings`,
        :mod:`memwall.charts.roofline`, :mod:`memwall.claims.own_model`.
Reference
    ``chapters/reproduction_report`` (Reproduction report)
        :mod:`memwall.claims`. Every chapter above also shows its own claims with
        :func:`memwall.claims.claims_box`.
    ``chapters/bibliography`` (Bibliography)
        none.

Core modules
------------
``units``
    SI base units and the conversions to the units readers see (ms, GB, GiB, TFLOP/s).
``widths``
    :class:`~memwall.widths.ByteWidths`: bytes per weight, activation and cached K/V element.
``_checks``
    Argument checks shared by the package (arrays of numbers with a minimum, byte widths, choices).
``cost``
    Operation-level FLOPs and DRAM bytes of Transformer inference (:func:`memwall.cost.cost_table`,
    :func:`memwall.cost.cost_arrays`).
``cost_terms``
    The cost model's cached per-spec coefficients: every operation's FLOPs and bytes as terms over a few
    per-configuration quantities, shared by :mod:`memwall.cost` and :mod:`memwall.quick`.
``cost_totals``
    Summaries of a cost table: totals overall or per category (:func:`memwall.cost_totals.totals`), the pooled
    intensity of some categories (:func:`memwall.cost_totals.category_intensity`).
``roofline``
    Roofline ceilings: ridge point (:func:`memwall.roofline.ridge_point`), attainable FLOP/s
    (:func:`memwall.roofline.attainable_flop_per_s`), per-operation time bounds, one device's ceilings
    (:class:`memwall.roofline.Ceilings`).
``device_ceilings``
    Every datasheet device's ceilings and ridge point as one table
    (:func:`memwall.device_ceilings.ceilings_table`).
``device_lookup``
    Devices by the names people type (``"h100"``, ``"MI300X"``, ``"TPU v5e"``;
    :func:`memwall.device_lookup.find_device`), and the validated hardware table cached by content for the
    command line.
``quick``
    One configuration fast: prefill bound, decode-step bound and footprint in microseconds
    (:func:`memwall.quick.estimate`), from the same cached coefficients as :mod:`memwall.cost`.
``bounds``
    Roofline time bounds of a whole cost table: model latency and predicted ratios.
``trends``
    Exponential trend fits on calendar time (:func:`memwall.trends.fit_exponential`).
``book``
    Helpers the chapters repeat: glue numbers in display units, named devices, stacked series for fits.
``stable_ids``
    Chart and styled-table ids in notebook HTML derived from their content (reproducible builds).

Subpackages
-----------
``tables``
    Validated loaders and schemas of every table in ``data/``; ``tables.paths`` finds the tables
    (``$MEMWALL_DATA_DIR``, else the wheel's ``memwall/data/``, else the clone's ``data/``).
``specs``
    Model descriptions: ``ModelSpec`` (dense, GQA, sliding windows, MLA, MoE with shared experts) and presets,
    Hugging Face ``config.json`` loading (``hf_config``), attention variants and the KV-bytes formula
    (:func:`memwall.specs.attention.kv_bytes_per_token`; windows in ``kv_cache_elements``), MoE splits.
``wall``
    The paper's part of the book: hardware trends and their robustness checks, the survey's case study, the
    stored H200 measurement, model growth, training memory; ``wall.measure`` (this machine's roofline, under a
    time budget), ``wall.numpy_transformer`` (a numpy BERT and a GPT-2 with its greedy generation loop, to time
    encoding against generation), ``wall.torch_engine`` (the same in PyTorch when installed) and
    ``wall.latency_ratio`` (the ratio's dependence on the ridge point and per-token overhead).
``serving``
    Serving a decoder on one device: quantisation schemes, memory footprint, decode bounds, the critical
    batch (:func:`memwall.serving.decode.critical_batch`; its search, shared with the MoE version
    :func:`memwall.beyond.moe_decode.critical_batch`, is :func:`memwall.serving.decode.smallest_compute_bound_batch`),
    the throughput-latency frontier, tables.
``beyond``
    Beyond the paper: attention variants' decode cost (``attention_cost``), fused attention
    (``fused_attention``), MoE decode (``moe_decode``), speculative decoding (``speculative``; its tables over
    acceptance rates and devices in ``speculative_grid``), tensor parallelism (``tensor_parallel``; the ring
    all-reduce and link bandwidths in ``allreduce``), decode balance against the ridge (``decode_balance``).
``charts``
    Altair charts with one theme, one module per chart family; the roofline chart is
    :func:`memwall.charts.roofline.roofline_chart`. Charts never compute physics.
``claims``
    The claims ledger: every claim of the paper we check, our value and a status computed by rule.
``cli``
    The ``memwall`` command line (also ``python -m memwall``).
``sphinxext``
    Sphinx extensions of the build: an offline site, downloadable notebooks and launch links.

Conventions: SI units inside the package (FLOP, FLOP/s, B, B/s, s); conversions to display units happen at
the edge (``book``, ``charts``, ``cli``), through :mod:`memwall.units`. 1 multiply-add = 2 FLOPs.
"""

__version__ = "0.1.0"
