from inference_backend_onnx.backend import OnnxBackend, OnnxSession

__all__ = ["OnnxBackend", "OnnxSession"]
