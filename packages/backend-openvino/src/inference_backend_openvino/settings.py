"""OpenVINO's own settings, read in this one place from the environment the backend is given."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from inference_core.config import EnvReader

#: OpenVINO's own hints, and ours: ADAPTIVE (the default) compiles the model twice on a CPU, LATENCY
#: for a call that runs alone and THROUGHPUT (one stream per core) for calls that overlap (see
#: inference_core.lanes); on other devices it compiles once, as LATENCY.
PERFORMANCE_HINTS = ("LATENCY", "THROUGHPUT", "CUMULATIVE_THROUGHPUT", "ADAPTIVE")
PRECISIONS = ("f32", "bf16", "f16")
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "visionhost" / "openvino"


@dataclass(frozen=True)
class OpenVinoSettings:
    device: str = "CPU"
    performance_hint: str = "ADAPTIVE"
    cache_dir: Path = DEFAULT_CACHE_DIR
    infer_requests: int = 0
    #: f32 keeps predictions equal to ONNX Runtime's; bf16/f16 are faster on CPUs and GPUs that have them.
    inference_precision: str = "f32"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | EnvReader | None = None) -> OpenVinoSettings:
        env = environ if isinstance(environ, EnvReader) else EnvReader(environ)
        return cls(
            device=env.text("OPENVINO_DEVICE", "CPU"),
            performance_hint=env.choice("OPENVINO_PERFORMANCE_HINT", "ADAPTIVE", PERFORMANCE_HINTS, upper=True),
            cache_dir=env.path("OPENVINO_CACHE_DIR", DEFAULT_CACHE_DIR),
            infer_requests=env.integer("OPENVINO_INFER_REQUESTS", 0, minimum=0),
            inference_precision=env.choice("OPENVINO_INFERENCE_PRECISION", "f32", PRECISIONS),
        )
