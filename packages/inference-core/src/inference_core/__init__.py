"""VisionHost core: run Roboflow-format and Ultralytics models in-process."""

from inference_core.api import build_manager, default_manager, get_model
from inference_core.errors import InferenceError
from inference_core.settings import CoreSettings

__version__ = "0.1.0"

__all__ = ["CoreSettings", "InferenceError", "__version__", "build_manager", "default_manager", "get_model"]
