"""ONNX Runtime on NVIDIA GPUs: TensorRT options and engine cache, build progress, IO binding."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

logger = logging.getLogger("inference_backend_onnx")

TENSORRT = "TensorrtExecutionProvider"
CUDA = "CUDAExecutionProvider"
#: seconds between "still building" lines while TensorRT builds an engine.
PROGRESS_SECONDS = 30.0


def engine_cache_dir(model_cache_dir: Path, weights_path: Path) -> Path:
    """Where TensorRT keeps the engines of one model: `{MODEL_CACHE_DIR}/.tensorrt/{project}/{version}`
    (dot-named, so the model store never lists it); a model outside the cache gets a hashed folder."""
    root = Path(model_cache_dir) / ".tensorrt"
    try:
        return root / weights_path.resolve().parent.relative_to(Path(model_cache_dir).resolve())
    except ValueError:
        return root / "outside" / hashlib.sha256(str(weights_path.resolve()).encode()).hexdigest()[:16]


def tensorrt_options(cache_dir: Path, fp16: bool) -> dict[str, object]:
    """Engines and timing caches built once and reused across restarts; fp16 when asked."""
    return {
        "trt_engine_cache_enable": True,
        "trt_engine_cache_path": str(cache_dir),
        "trt_timing_cache_enable": True,
        "trt_timing_cache_path": str(cache_dir),
        "trt_fp16_enable": fp16,
    }


def provider_entries(providers: list[str], cache_dir: Path, fp16: bool) -> list[object]:
    """The providers as ONNX Runtime takes them, TensorRT with its options."""
    return [(name, tensorrt_options(cache_dir, fp16)) if name == TENSORRT else name for name in providers]


@contextmanager
def engine_build_progress(model_name: str, cache_dir: Path, providers: list[str]) -> Iterator[None]:
    """Log that a TensorRT engine is being built (minutes, the first time) and, until the session
    is ready, how long it has taken; silent when TensorRT is not used or its cache has an engine."""
    if TENSORRT not in providers or any(cache_dir.glob("*.engine")):
        yield
        return
    cache_dir.mkdir(parents=True, exist_ok=True)
    logger.warning(
        "TensorRT is building an engine for %s; the first build takes minutes, later starts reuse %s.",
        model_name, cache_dir,
    )
    started = time.monotonic()
    done = threading.Event()

    def report() -> None:
        while not done.wait(PROGRESS_SECONDS):
            logger.warning("Still building the TensorRT engine for %s (%.0f s).", model_name, time.monotonic() - started)

    reporter = threading.Thread(target=report, name="tensorrt-progress", daemon=True)
    reporter.start()
    try:
        yield
    finally:
        done.set()
        reporter.join()
        logger.warning("TensorRT engine for %s ready after %.0f s.", model_name, time.monotonic() - started)


def run_with_io_binding(session, feeds: dict[str, np.ndarray], output_names: list[str], device: str) -> list[np.ndarray]:
    """One run through ONNX Runtime's IO binding: inputs handed over from host memory once,
    outputs allocated on `device` ("cuda" or "cpu") and copied back to host arrays."""
    binding = session.io_binding()
    for name, array in feeds.items():
        binding.bind_cpu_input(name, np.ascontiguousarray(array))
    for name in output_names:
        binding.bind_output(name, device)
    session.run_with_iobinding(binding)
    return binding.copy_outputs_to_cpu()
