"""OpenVINO compiled models behind VisionHost's backend interface."""

from __future__ import annotations

import queue
from pathlib import Path

import numpy as np
from inference_core.errors import BackendError, ModelArtifactError, ModelNotFoundError
from inference_core.runtime import Backend, Session, SessionInfo, TensorSpec
from inference_core.settings import CoreSettings

from inference_backend_openvino.settings import OpenVinoSettings


def _openvino():
    import openvino  # imported lazily: core stays light and importable without OpenVINO

    return openvino


class OpenVinoSession(Session):
    """A compiled model and a pool of infer requests, so concurrent calls run in parallel."""

    def __init__(self, compiled_model, device: str, pool_size: int) -> None:
        self._compiled = compiled_model
        self.inputs = [_spec(port, index, "input") for index, port in enumerate(compiled_model.inputs)]
        self.outputs = [_spec(port, index, "output") for index, port in enumerate(compiled_model.outputs)]
        self._requests: queue.Queue = queue.Queue()
        for _ in range(max(pool_size, 1)):
            self._requests.put(compiled_model.create_infer_request())
        self.info = SessionInfo(backend=OpenVinoBackend.name, device=device, providers=[device])

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        self.check_feeds(feeds)
        request = self._requests.get()
        try:
            results = request.infer({spec.name: feeds[spec.name] for spec in self.inputs})
            return [np.array(results[port], copy=True) for port in self._compiled.outputs]
        except Exception as error:
            raise BackendError(f"OpenVINO failed to run the model: {error}") from error
        finally:
            self._requests.put(request)

    def close(self) -> None:
        # As for ONNX Runtime: in-flight requests keep using the compiled model; it is freed
        # when the last of them lets go of this session.
        self.closed = True



class OpenVinoBackend(Backend):
    name = "openvino"
    #: Ahead of ONNX Runtime on CPUs, behind it when CUDA is present (see OnnxBackend.auto_rank).
    auto_priority = 10

    def __init__(self, settings: CoreSettings, openvino_settings: OpenVinoSettings | None = None) -> None:
        super().__init__(settings)
        self.openvino_settings = openvino_settings or OpenVinoSettings.from_env()
        self._core = None

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
        core = self._openvino_core()
        options = self.openvino_settings
        config = {"PERFORMANCE_HINT": options.performance_hint}
        if options.inference_precision and options.device.upper() in ("CPU", "GPU"):
            config["INFERENCE_PRECISION_HINT"] = options.inference_precision
        if self.settings.intra_op_threads > 0 and options.device.upper() == "CPU":
            config["INFERENCE_NUM_THREADS"] = self.settings.intra_op_threads
        try:
            model = core.read_model(str(path))
            compiled = core.compile_model(model, options.device, config)
        except Exception as error:  # OpenVINO raises RuntimeError for corrupt or unsupported files
            raise ModelArtifactError(f"OpenVINO cannot load {path.name}: {error}") from error
        pool_size = options.infer_requests or compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")
        return OpenVinoSession(compiled, options.device, int(pool_size))

    def describe(self) -> dict[str, object]:
        openvino = _openvino()
        return {
            "name": self.name,
            "version": openvino.__version__ if hasattr(openvino, "__version__") else openvino.get_version(),
            "device": self.openvino_settings.device,
            "available_devices": self._openvino_core().available_devices,
            "performance_hint": self.openvino_settings.performance_hint,
        }

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
