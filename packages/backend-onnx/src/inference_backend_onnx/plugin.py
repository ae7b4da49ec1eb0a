"""Entry point module: registers the ONNX Runtime backend with VisionHost's core."""

from inference_core.plugins import hookimpl


@hookimpl
def register_backends():
    from inference_backend_onnx.backend import OnnxBackend

    return [OnnxBackend]
