"""What machine a run is on, and how busy other processes keep it."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import time
from pathlib import Path


def describe() -> dict[str, object]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    meminfo = Path("/proc/meminfo").read_text()
    total_kb = int(re.search(r"MemTotal:\s*(\d+)", meminfo).group(1))
    return {
        "cpu_model": model.group(1).strip() if model else platform.processor(),
        "cpus": os.cpu_count(),
        "affinity_cpus": len(os.sched_getaffinity(0)),
        "memory_gb": round(total_kb / 1024**2, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "virtualised": _hypervisor(),
        "flags": _simd_flags(cpuinfo),
    }


def slug(description: dict[str, object]) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", str(description["cpu_model"]).lower()).strip("-")
    return f"{name}-{description['cpus']}cpu"


def busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(part) for part in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / ticks, sum(values[:8]) / ticks


def busy_fraction(sample_seconds: float = 3.0) -> float:
    """Share of all CPUs that were busy over the sample (0..1)."""
    busy_before, total_before = busy_seconds()
    time.sleep(sample_seconds)
    busy_after, total_after = busy_seconds()
    return (busy_after - busy_before) / max(total_after - total_before, 1e-9)


def wait_until_quiet(threshold: float, max_wait_seconds: float, log=print) -> float:
    """Poll until other processes use under `threshold` of the machine; returns the last reading."""
    deadline = time.monotonic() + max_wait_seconds
    while True:
        busy = busy_fraction()
        if busy <= threshold or time.monotonic() >= deadline:
            if busy > threshold:
                log(f"machine still {busy:.0%} busy after waiting; measuring anyway (recorded)")
            return busy
        log(f"machine {busy:.0%} busy from other processes ({top_processes()}); waiting")
        time.sleep(20)


def top_processes(count: int = 3) -> str:
    try:
        listing = subprocess.run(
            ["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return ", ".join(" ".join(line.split()) for line in listing[:count])


def _hypervisor() -> bool:
    return "hypervisor" in Path("/proc/cpuinfo").read_text().split("flags", 1)[-1].split("\n", 1)[0]


def _simd_flags(cpuinfo: str) -> str:
    flags = re.search(r"flags\s*:\s*(.+)", cpuinfo)
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")
    present = set(flags.group(1).split()) if flags else set()
    return " ".join(flag for flag in wanted if flag in present)
