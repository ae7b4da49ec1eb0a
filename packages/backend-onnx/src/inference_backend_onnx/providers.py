"""Execution provider choice: explicit from settings, else the best present ones in order."""

from __future__ import annotations

from inference_core.errors import BackendUnavailableError

AUTO_ORDER = (
    "TensorrtExecutionProvider",
    "CUDAExecutionProvider",
    "OpenVINOExecutionProvider",
    "CoreMLExecutionProvider",
    "CPUExecutionProvider",
)

_SHORT_NAMES = {
    "tensorrt": "TensorrtExecutionProvider",
    "trt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "cpu": "CPUExecutionProvider",
}


def choose_providers(requested: tuple[str, ...], present: list[str]) -> list[str]:
    """Providers to pass to the session, CPU always last as the fallback."""
    if requested:
        chosen = [_SHORT_NAMES.get(name.lower(), name) for name in requested]
        missing = [name for name in chosen if name not in present]
        if missing:
            raise BackendUnavailableError(
                f"ONNX Runtime execution providers {missing} are not present; this install has {present}."
            )
    else:
        chosen = [name for name in AUTO_ORDER if name in present]
    if "CPUExecutionProvider" in present and "CPUExecutionProvider" not in chosen:
        chosen.append("CPUExecutionProvider")
    return chosen
