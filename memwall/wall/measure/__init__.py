"""Measuring this machine's roofline: machine info, STREAM bandwidth, GEMM peak and GEMV sweep, the full report.

Modules
-------
``machine``
    What this machine is: CPU model, cores, caches and BLAS threads (the context of every measurement).
``timing``
    Shared helpers of the measurements: argument checks, a median-of-repeats timer with a spread (``measure``,
    ``Timing``) and a wall-time budget shared among measurements (``TimeBudget``, ``top_up``).
``stream``
    The STREAM memory-bandwidth kernels in numpy (McCalpin, https://www.cs.virginia.edu/stream/ref.html).
``gemm``
    Peak GEMM throughput and the GEMV-to-GEMM sweep on this machine (numpy BLAS).
``report``
    Measure this machine's roofline ceilings: sustained memory bandwidth, peak GEMM, GEMV vs GEMM.
"""

from memwall.wall.measure import gemm, machine, report, stream, timing
from memwall.wall.measure.gemm import *
from memwall.wall.measure.machine import *
from memwall.wall.measure.report import *
from memwall.wall.measure.stream import *
from memwall.wall.measure.timing import *

__all__ = [
    "NUMPY_PASSES",
    "STREAM_BYTES_PER_ELEMENT",
    "STREAM_KERNELS",
    "MachineInfo",
    "MachineReport",
    "Measured",
    "TimeBudget",
    "Timing",
    "gemm_peak",
    "gemv_gemm_sweep",
    "last_level_cache_bytes",
    "machine_info",
    "measure",
    "measure_machine",
    "stream_bandwidth",
    "summarize_measurements",
    "top_up",
]
