"""ONNX Runtime's own settings, read in this one place from the environment the backend is given."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from inference_core.config import EnvReader

#: latency: one session using every core; throughput: one single-threaded session per core;
#: adaptive (the default): both, the first for a call that runs alone, the others when calls overlap.
CONCURRENCY_MODES = ("latency", "throughput", "adaptive")
PRECISIONS = ("fp32", "fp16")
IO_BINDING_MODES = ("auto", "on", "off")


@dataclass(frozen=True)
class OnnxSettings:
    #: providers to use, in order (`cuda,cpu`, or full names); empty: the best present ones.
    execution_providers: tuple[str, ...] = ()
    #: let idle intra-op threads busy-wait for work: a little lower latency for one request at a
    #: time, but CPU burnt that concurrent requests (and their image decoding) could have used.
    intra_op_spinning: bool = False
    #: how concurrent calls share the CPU (with CUDA or TensorRT there is always one session).
    concurrency: str = "adaptive"
    #: fp16 lets TensorRT build half-precision engines (other providers run the model as exported).
    precision: str = "fp32"
    #: run through ONNX Runtime's IO binding; `auto`: with CUDA or TensorRT.
    io_binding: str = "auto"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | EnvReader | None = None) -> OnnxSettings:
        env = environ if isinstance(environ, EnvReader) else EnvReader(environ)
        return cls(
            execution_providers=env.names("ONNXRUNTIME_EXECUTION_PROVIDERS"),
            intra_op_spinning=env.flag("INTRA_OP_SPINNING", False),
            concurrency=env.choice("ONNXRUNTIME_CONCURRENCY", "adaptive", CONCURRENCY_MODES),
            precision=env.choice("ONNXRUNTIME_PRECISION", "fp32", PRECISIONS),
            io_binding=env.choice("ONNXRUNTIME_IO_BINDING", "auto", IO_BINDING_MODES),
        )
