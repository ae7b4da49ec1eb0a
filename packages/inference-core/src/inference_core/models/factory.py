"""Pick the model class for an artifact's task."""

from __future__ import annotations

from inference_core import tasks
from inference_core.errors import UnsupportedModelError
from inference_core.images import ImageLoader
from inference_core.models.base import VisionModel
from inference_core.models.classification import Classifier
from inference_core.models.detection import YoloDetector
from inference_core.models.keypoints import YoloPoseDetector
from inference_core.models.segmentation import YoloSegmenter
from inference_core.runtime import Session
from inference_core.store import ModelArtifact

MODEL_CLASSES: dict[str, type[VisionModel]] = {
    tasks.OBJECT_DETECTION: YoloDetector,
    tasks.INSTANCE_SEGMENTATION: YoloSegmenter,
    tasks.CLASSIFICATION: Classifier,
    tasks.KEYPOINT_DETECTION: YoloPoseDetector,
}


def build_model(artifact: ModelArtifact, session: Session, image_loader: ImageLoader) -> VisionModel:
    model_class = MODEL_CLASSES.get(artifact.task)
    if model_class is None:
        raise UnsupportedModelError(f"Task {artifact.task!r} of model {artifact.model_id!r} is not supported.")
    return model_class(artifact, session, image_loader)
