from inference_core.models.architecture import Match, ModelArchitecture, build_model, choose_architecture
from inference_core.models.base import PreparedImage, VisionModel

__all__ = ["Match", "ModelArchitecture", "PreparedImage", "VisionModel", "build_model", "choose_architecture"]
