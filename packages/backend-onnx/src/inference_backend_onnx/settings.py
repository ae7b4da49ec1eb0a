"""ONNX Runtime's own settings, read in this one place from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

#: latency: one session using every core; throughput: one single-threaded session per core;
#: adaptive: both, the first for a call that runs alone, the others when calls overlap.
CONCURRENCY_MODES = ("latency", "throughput", "adaptive")


@dataclass(frozen=True)
class OnnxSettings:
    #: how concurrent calls share the CPU (with CUDA or TensorRT there is always one session).
    concurrency: str = "latency"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OnnxSettings:
        env = os.environ if environ is None else environ
        concurrency = (env.get("ONNXRUNTIME_CONCURRENCY") or cls.concurrency).strip().lower()
        if concurrency not in CONCURRENCY_MODES:
            raise ValueError(f"ONNXRUNTIME_CONCURRENCY must be one of {CONCURRENCY_MODES}, got {concurrency!r}")
        return cls(concurrency=concurrency)
