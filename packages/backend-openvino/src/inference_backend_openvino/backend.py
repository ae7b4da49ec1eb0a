"""OpenVINO compiled models behind VisionHost's backend interface."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from inference_core.config import EnvReader
from inference_core.errors import BackendError, ModelArtifactError, ModelNotFoundError
from inference_core.lanes import Lanes
from inference_core.runtime import Backend, Session, SessionInfo, TensorSpec
from inference_core.settings import CoreSettings

from inference_backend_openvino import cpu
from inference_backend_openvino.settings import OpenVinoSettings


def _openvino():
    import openvino  # imported lazily: core stays light and importable without OpenVINO

    return openvino


class OpenVinoSession(Session):
    """Compiled models and their infer requests, so concurrent calls run in parallel.

    Under the ADAPTIVE hint the requests of a LATENCY-compiled model are the wide lanes (all
    cores, used by a call that runs alone) and those of a THROUGHPUT-compiled model the narrow
    ones (one stream per core, used when calls overlap); otherwise one compiled model's requests.
    """

    def __init__(self, compiled_model, device: str, lanes: Lanes) -> None:
        self._compiled = compiled_model
        self.inputs = [_spec(port, index, "input") for index, port in enumerate(compiled_model.inputs)]
        self.outputs = [_spec(port, index, "output") for index, port in enumerate(compiled_model.outputs)]
        self.lanes = lanes
        self.info = SessionInfo(backend=OpenVinoBackend.name, device=device, providers=[device])

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        self.check_feeds(feeds)
        with self.lanes.take() as request:
            try:
                results = request.infer({spec.name: feeds[spec.name] for spec in self.inputs})
                return [np.array(results[index], copy=True) for index in range(len(self.outputs))]
            except Exception as error:
                raise BackendError(f"OpenVINO failed to run the model: {error}") from error


class OpenVinoBackend(Backend):
    name = "openvino"
    #: Ahead of ONNX Runtime (rank 5) on CPUs with AVX-512, where it measured faster; behind it on
    #: other CPUs (AVX2 only: ONNX Runtime measured 5-15% faster) and when CUDA is present (see
    #: OnnxBackend.auto_rank; bench/results/backends-*.md and concurrency-*.md).
    auto_priority = 10
    plain_cpu_priority = 4

    @classmethod
    def auto_rank(cls) -> int:
        return cls.auto_priority if cpu.has_avx512() else cls.plain_cpu_priority

    def __init__(self, settings: CoreSettings, openvino_settings: OpenVinoSettings | None = None) -> None:
        super().__init__(settings)
        self.openvino_settings = openvino_settings or self.read_settings(EnvReader(settings.environ))
        self._core = None

    @classmethod
    def read_settings(cls, env: EnvReader) -> OpenVinoSettings:
        return OpenVinoSettings.from_env(env)

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            _openvino()
        except ImportError as error:
            return f"openvino is not installed ({error}); pip install openvino"
        return None

    def can_load(self, path: Path) -> bool:
        return path.suffix.lower() in (".onnx", ".xml")

    def load(self, path: Path) -> OpenVinoSession:
        if not path.is_file() or (path.suffix.lower() == ".xml" and not path.with_suffix(".bin").is_file()):
            raise ModelNotFoundError(f"Model file {path} (and for IR, its .bin) does not exist.")
        options = self.openvino_settings
        try:
            model = self._openvino_core().read_model(str(path))
            hint = options.performance_hint
            if hint == "ADAPTIVE" and options.device.upper() == "CPU":
                wide = self._compile(model, "LATENCY")
                narrow = self._compile(model, "THROUGHPUT")
                lanes = Lanes(self._requests(wide, 1), self._requests(narrow, options.infer_requests))
            else:
                wide = self._compile(model, "LATENCY" if hint == "ADAPTIVE" else hint)
                lanes = Lanes(narrow=self._requests(wide, options.infer_requests))
        except Exception as error:  # OpenVINO raises RuntimeError for corrupt or unsupported files
            raise ModelArtifactError(f"OpenVINO cannot load {path.name}: {error}") from error
        return OpenVinoSession(wide, options.device, lanes)

    def _compile(self, model, hint: str):
        options = self.openvino_settings
        config = {"PERFORMANCE_HINT": hint}
        if options.inference_precision and options.device.upper() in ("CPU", "GPU"):
            config["INFERENCE_PRECISION_HINT"] = options.inference_precision
        if self.settings.intra_op_threads > 0 and options.device.upper() == "CPU":
            config["INFERENCE_NUM_THREADS"] = self.settings.intra_op_threads
        return self._openvino_core().compile_model(model, options.device, config)

    @staticmethod
    def _requests(compiled, count: int) -> list:
        """`count` infer requests, or as many as the compiled model's hint says keep it busy."""
        count = count or int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        return [compiled.create_infer_request() for _ in range(max(count, 1))]

    def _openvino_core(self):
        if self._core is None:
            core = _openvino().Core()
            cache_dir = self.openvino_settings.cache_dir
            try:
                cache_dir.mkdir(parents=True, exist_ok=True)
                core.set_property({"CACHE_DIR": str(cache_dir)})
            except OSError:
                pass  # a read-only disk only costs recompilation at start-up
            self._core = core
        return self._core


def _spec(port, index: int, kind: str) -> TensorSpec:
    names = port.get_names()
    name = port.get_any_name() if names else f"{kind}{index}"
    shape = tuple(
        dimension.get_length() if dimension.is_static else None for dimension in port.get_partial_shape()
    )
    return TensorSpec(name=name, shape=shape, dtype=str(port.get_element_type()))
