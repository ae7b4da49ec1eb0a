"""What this machine's CPU can do, as far as choosing OpenVINO under `INFERENCE_BACKEND=auto` goes."""

from __future__ import annotations

import functools
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")


@functools.cache
def has_avx512(cpuinfo: Path = CPUINFO) -> bool:
    """Whether the CPU has AVX-512 (`avx512f` in /proc/cpuinfo's flags); False where that cannot be read."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return False
    return any(line.startswith("flags") and "avx512f" in line.split() for line in text.splitlines())
