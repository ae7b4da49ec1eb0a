"""ONNX Runtime sessions behind VisionHost's backend interface."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from inference_core.config import EnvReader
from inference_core.errors import BackendError, ModelArtifactError, ModelNotFoundError
from inference_core.lanes import Lanes
from inference_core.runtime import Backend, Session, SessionInfo, TensorSpec
from inference_core.settings import CoreSettings

from inference_backend_onnx.gpu import (
    CUDA,
    TENSORRT,
    engine_build_progress,
    engine_cache_dir,
    logger,
    provider_entries,
    run_with_io_binding,
)
from inference_backend_onnx.providers import choose_providers
from inference_backend_onnx.settings import OnnxSettings

_DTYPES = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(int64)": "int64"}


def _onnxruntime():
    import onnxruntime  # imported lazily: core and other backends stay importable without it

    return onnxruntime


class OnnxSession(Session):
    """One or more runtime sessions of one model; each call runs on a free one (see `Lanes`)."""

    def __init__(self, lanes: Lanes, providers: list[str], io_binding: str = "auto") -> None:
        with lanes.take() as session:
            self.inputs = [_spec(node) for node in session.get_inputs()]
            self.outputs = [_spec(node) for node in session.get_outputs()]
            self._only = session
        self.lanes = lanes
        self._output_names = [spec.name for spec in self.outputs]
        device = "cuda" if any(p in providers for p in (CUDA, TENSORRT)) else "cpu"
        self.info = SessionInfo(backend=OnnxBackend.name, device=device, providers=providers)
        self.io_binding = io_binding == "on" or (io_binding == "auto" and device == "cuda")

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        self.check_feeds(feeds)
        if self.lanes.size == 1:  # one session: ONNX Runtime lets concurrent calls share it
            return self._run_on(self._only, feeds)
        with self.lanes.take() as session:
            return self._run_on(session, feeds)

    def _run_on(self, session, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        try:
            if self.io_binding:
                return run_with_io_binding(session, feeds, self._output_names, self.info.device)
            return session.run(self._output_names, feeds)
        except Exception as error:
            raise BackendError(f"ONNX Runtime failed to run the model: {error}") from error


class OnnxBackend(Backend):
    name = "onnx"
    #: On a CPU with AVX-512, OpenVINO (rank 10) measured faster at batch 1, on an AVX2-only CPU it
    #: ranks below this (bench/results/backends-*.md, concurrency-*.md); with a CUDA or TensorRT
    #: provider present, ONNX Runtime ranks first.
    auto_priority = 5
    accelerated_priority = 20

    def __init__(self, settings: CoreSettings, onnx_settings: OnnxSettings | None = None) -> None:
        super().__init__(settings)
        self.onnx_settings = onnx_settings or self.read_settings(EnvReader(settings.environ))

    @classmethod
    def read_settings(cls, env: EnvReader) -> OnnxSettings:
        return OnnxSettings.from_env(env)

    @classmethod
    def auto_rank(cls) -> int:
        try:
            present = _onnxruntime().get_available_providers()
        except ImportError:
            return cls.auto_priority
        accelerated = {"CUDAExecutionProvider", "TensorrtExecutionProvider"} & set(present)
        return cls.accelerated_priority if accelerated else cls.auto_priority

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            _onnxruntime()
        except ImportError as error:
            return f"onnxruntime is not installed ({error}); pip install onnxruntime or onnxruntime-gpu"
        return None

    def can_load(self, path: Path) -> bool:
        return path.suffix.lower() == ".onnx"

    def providers(self) -> list[str]:
        present = _onnxruntime().get_available_providers()
        return choose_providers(self.onnx_settings.execution_providers, present)

    def load(self, path: Path) -> OnnxSession:
        if not path.is_file():
            raise ModelNotFoundError(f"Model file {path} does not exist.")
        providers = self.providers()
        if self.onnx_settings.precision == "fp16" and TENSORRT not in providers:
            logger.warning("ONNXRUNTIME_PRECISION=fp16 applies to TensorRT engines; with %s the model runs "
                           "as exported.", ", ".join(providers))
        concurrency = self.onnx_settings.concurrency
        on_cpu_only = providers == ["CPUExecutionProvider"]
        cores = os.cpu_count() or 1
        spinning = self.onnx_settings.intra_op_spinning
        if not on_cpu_only or concurrency == "latency" or cores == 1:
            lanes = Lanes(narrow=[self._session(path, providers, self.settings.intra_op_threads, spinning)])
        else:  # one single-threaded session per core for overlapping calls
            narrow = [self._session(path, providers, 1, spinning) for _ in range(cores)]
            # The all-cores session runs only while no other call does, so its idle threads may
            # busy-wait between operators (~4% less latency) without taking CPU from anyone.
            wide = []
            if concurrency == "adaptive":
                wide.append(self._session(path, providers, self.settings.intra_op_threads, True))
            lanes = Lanes(wide, narrow)
        with lanes.take() as session:
            chosen = session.get_providers()
        return OnnxSession(lanes, chosen, self.onnx_settings.io_binding)

    def _session(self, path: Path, providers: list[str], threads: int, spinning: bool):
        runtime = _onnxruntime()
        options = runtime.SessionOptions()
        if threads > 0:
            options.intra_op_num_threads = threads
        options.graph_optimization_level = runtime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
        cache_dir = engine_cache_dir(self.settings.model_cache_dir, path)
        entries = provider_entries(providers, cache_dir, self.onnx_settings.precision == "fp16")
        try:
            with engine_build_progress(str(path), cache_dir, providers):
                return runtime.InferenceSession(str(path), sess_options=options, providers=entries)
        except Exception as error:  # ORT raises its own types for corrupt or unsupported files
            raise ModelArtifactError(f"ONNX Runtime cannot load {path.name}: {error}") from error


def _spec(node) -> TensorSpec:
    shape = tuple(dim if isinstance(dim, (int, str)) else None for dim in node.shape)
    return TensorSpec(name=node.name, shape=shape, dtype=_DTYPES.get(node.type, node.type))
