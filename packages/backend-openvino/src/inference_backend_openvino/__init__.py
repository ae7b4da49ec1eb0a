from inference_backend_openvino.backend import OpenVinoBackend, OpenVinoSession
from inference_backend_openvino.settings import OpenVinoSettings

__all__ = ["OpenVinoBackend", "OpenVinoSession", "OpenVinoSettings"]
