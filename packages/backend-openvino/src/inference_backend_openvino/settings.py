"""OpenVINO settings, read from the environment in this one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: OpenVINO's own hints, and ours: ADAPTIVE compiles the model twice, LATENCY for a call that runs
#: alone and THROUGHPUT (one stream per core) for calls that overlap (see inference_core.lanes).
PERFORMANCE_HINTS = ("LATENCY", "THROUGHPUT", "CUMULATIVE_THROUGHPUT", "ADAPTIVE")


@dataclass(frozen=True)
class OpenVinoSettings:
    device: str = "CPU"
    performance_hint: str = "LATENCY"
    cache_dir: Path = Path.home() / ".cache" / "visionhost" / "openvino"
    infer_requests: int = 0
    #: f32 keeps predictions equal to ONNX Runtime's; bf16/f16 are faster on CPUs and GPUs that have them.
    inference_precision: str = "f32"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OpenVinoSettings:
        env = os.environ if environ is None else environ
        hint = env.get("OPENVINO_PERFORMANCE_HINT", "LATENCY").strip().upper()
        if hint not in PERFORMANCE_HINTS:
            raise ValueError(f"OPENVINO_PERFORMANCE_HINT must be one of {PERFORMANCE_HINTS}, got {hint!r}")
        return cls(
            device=env.get("OPENVINO_DEVICE", "CPU").strip() or "CPU",
            performance_hint=hint,
            cache_dir=Path(env.get("OPENVINO_CACHE_DIR") or cls.cache_dir),
            infer_requests=int(env.get("OPENVINO_INFER_REQUESTS", "0")),
            inference_precision=env.get("OPENVINO_INFERENCE_PRECISION", "f32").strip().lower(),
        )
