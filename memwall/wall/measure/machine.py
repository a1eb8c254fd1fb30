"""What this machine is: CPU model, cores, caches and BLAS threads (the context of every measurement)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["MachineInfo", "last_level_cache_bytes", "machine_info"]




# ----------------------------------------------------------------------------------------- machine


def last_level_cache_bytes() -> int | None:
    """Size of the largest (last-level) CPU cache, from Linux sysfs or py-cpuinfo. [B]

    Returns
    -------
    int or None
        ``None`` when neither source reports it.
    """
    best = None
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            text = (index / "size").read_text().strip()
        except OSError:
            continue
        scale = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(text[-1:].upper(), 1)
        digits = text.rstrip("KMGkmg")
        if digits.isdigit():
            size = int(digits) * scale
            best = size if best is None else max(best, size)
    if best is None:
        value = _cpuinfo().get("l3_cache_size")
        if isinstance(value, int) and value > 0:
            best = value
    return best


@lru_cache(maxsize=1)
def _cpuinfo() -> dict:
    import cpuinfo

    return cpuinfo.get_cpu_info()


def _cpu_model() -> str:
    """CPU brand string: Linux's ``/proc/cpuinfo`` ``model name`` (instant), else py-cpuinfo's ``brand_raw``.

    py-cpuinfo takes about a second (it probes the CPU in a subprocess); on x86 Linux both give the
    same string, the processor's CPUID brand string.
    """
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    except OSError:
        pass
    return str(_cpuinfo().get("brand_raw", "unknown"))


def _physical_cores() -> int | None:
    pairs = set()
    for topo in Path("/sys/devices/system/cpu").glob("cpu[0-9]*/topology"):
        try:
            pairs.add(((topo / "physical_package_id").read_text().strip(), (topo / "core_id").read_text().strip()))
        except OSError:
            continue
    return len(pairs) or None


@dataclass(frozen=True)
class MachineInfo:
    """What the measurements ran on.

    Attributes
    ----------
    cpu_model : str
        CPU brand string (``/proc/cpuinfo`` on Linux, else py-cpuinfo).
    physical_cores : int or None
        Distinct cores (Linux sysfs), ``None`` if unknown. [cores]
    logical_cpus : int
        ``os.cpu_count()``. [threads]
    usable_cpus : int
        CPUs this process may run on (affinity). [threads]
    last_level_cache_bytes : int or None
        Largest cache. [B]
    blas : str
        BLAS library(ies) behind numpy, as ``internal_api version (architecture)``, several joined by ``"; "`` in
        alphabetical order (the same string whatever order they were loaded in).
    blas_threads : int
        Threads the BLAS will use (largest over the BLAS pools). [threads]
    numpy_version : str
        numpy version.
    """

    cpu_model: str
    physical_cores: int | None
    logical_cpus: int
    usable_cpus: int
    last_level_cache_bytes: int | None
    blas: str
    blas_threads: int
    numpy_version: str

    def as_dict(self) -> dict[str, object]:
        """Fields as a plain ``dict``."""
        return dict(self.__dict__)


def machine_info() -> MachineInfo:
    """Describe this machine: CPU, cores, threads, cache, BLAS and its threads, numpy version.

    Returns
    -------
    MachineInfo
    """
    from threadpoolctl import threadpool_info

    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    # threadpoolctl lists the pools in the order their libraries were loaded, which varies between runs: sort them
    blas = "; ".join(sorted(f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture', '?')})"
                            for p in pools))
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return MachineInfo(
        cpu_model=_cpu_model(),
        physical_cores=_physical_cores(),
        logical_cpus=os.cpu_count() or 1,
        usable_cpus=usable,
        last_level_cache_bytes=last_level_cache_bytes(),
        blas=blas or "none found",
        blas_threads=max((int(p.get("num_threads", 1)) for p in pools), default=1),
        numpy_version=np.__version__,
    )
