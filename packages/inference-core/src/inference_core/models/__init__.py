from inference_core.models.base import PreparedImage, VisionModel
from inference_core.models.factory import build_model

__all__ = ["PreparedImage", "VisionModel", "build_model"]
