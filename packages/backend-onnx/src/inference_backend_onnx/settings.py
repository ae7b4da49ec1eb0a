"""ONNX Runtime's own settings, read in this one place from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

#: latency: one session using every core; throughput: one single-threaded session per core;
#: adaptive: both, the first for a call that runs alone, the others when calls overlap.
CONCURRENCY_MODES = ("latency", "throughput", "adaptive")
PRECISIONS = ("fp32", "fp16")
IO_BINDING_MODES = ("auto", "on", "off")


@dataclass(frozen=True)
class OnnxSettings:
    #: how concurrent calls share the CPU (with CUDA or TensorRT there is always one session).
    concurrency: str = "latency"
    #: fp16 lets TensorRT build half-precision engines (other providers run the model as exported).
    precision: str = "fp32"
    #: run through ONNX Runtime's IO binding; `auto`: with CUDA or TensorRT.
    io_binding: str = "auto"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OnnxSettings:
        env = os.environ if environ is None else environ
        concurrency = (env.get("ONNXRUNTIME_CONCURRENCY") or cls.concurrency).strip().lower()
        if concurrency not in CONCURRENCY_MODES:
            raise ValueError(f"ONNXRUNTIME_CONCURRENCY must be one of {CONCURRENCY_MODES}, got {concurrency!r}")
        return cls(
            concurrency=concurrency,
            precision=_choice(env, "ONNXRUNTIME_PRECISION", cls.precision, PRECISIONS),
            io_binding=_choice(env, "ONNXRUNTIME_IO_BINDING", cls.io_binding, IO_BINDING_MODES),
        )


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (env.get(name) or default).strip().lower()
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value
