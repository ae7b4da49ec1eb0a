from inference_backend_onnx.backend import OnnxBackend, OnnxSession
from inference_backend_onnx.settings import OnnxSettings

__all__ = ["OnnxBackend", "OnnxSession", "OnnxSettings"]
