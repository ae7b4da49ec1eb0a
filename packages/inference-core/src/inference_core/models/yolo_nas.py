"""YOLO-NAS object detection: two outputs, boxes (B, N, 4) as x1, y1, x2, y2 in input pixels and
per-class scores (B, N, C), in that order; each candidate's confidence is its best class score,
then class-aware (or agnostic) NMS, as Roboflow's server decodes these exports.
"""

from __future__ import annotations

import numpy as np

from inference_core import tasks
from inference_core.errors import UnsupportedModelError
from inference_core.images import ImageLoader
from inference_core.models.architecture import Match, ModelArchitecture
from inference_core.models.base import VisionModel
from inference_core.models.detection import Candidates, YoloDetector
from inference_core.models.nms import non_max_suppression
from inference_core.params import InferenceParams
from inference_core.runtime import Session
from inference_core.store import ModelArtifact

#: Model types Roboflow's registry records for these models.
YOLO_NAS_PREFIXES = ("yolo_nas", "yolonas", "yolo-nas")


def is_yolo_nas(model_type: str) -> bool:
    return model_type.strip().lower().startswith(YOLO_NAS_PREFIXES)


def has_yolo_nas_outputs(session: Session, num_classes: int) -> bool:
    """Two 3-D outputs, boxes (B, N, 4) then scores (B, N, C) for the model's C classes."""
    shapes = [tuple(output.shape) for output in session.outputs]
    if len(shapes) != 2 or len(shapes[0]) != 3 or len(shapes[1]) != 3 or shapes[0][2] != 4:
        return False
    classes = shapes[1][2]
    return not isinstance(classes, int) or classes == num_classes


def decode_yolo_nas(
    boxes: np.ndarray, class_scores: np.ndarray, params: InferenceParams
) -> Candidates:
    """One image's (N, 4) xyxy boxes and (N, C) scores to confident, suppressed candidates."""
    class_ids = class_scores.argmax(axis=1)
    scores = class_scores[np.arange(len(class_scores)), class_ids]
    keep = np.flatnonzero(scores >= params.confidence)
    keep = keep[np.argsort(-scores[keep], kind="stable")[: params.max_candidates]]
    chosen_boxes = boxes[keep].astype(np.float64)
    kept = non_max_suppression(
        chosen_boxes, scores[keep], class_ids[keep], params.iou_threshold, params.class_agnostic_nms,
        params.max_detections,
    )
    chosen = keep[kept]
    return Candidates(chosen_boxes[kept], scores[chosen], class_ids[chosen], np.empty((len(chosen), 0)))


class YoloNasDetector(YoloDetector):
    """Object detection for YOLO-NAS exports (Deci's super-gradients, as Roboflow trains them)."""

    def __init__(self, artifact: ModelArtifact, session: Session, image_loader: ImageLoader) -> None:
        VisionModel.__init__(self, artifact, session, image_loader)  # no YOLO layout to pick
        self.layout = None
        if not has_yolo_nas_outputs(session, len(self.class_names)):
            raise UnsupportedModelError(
                f"YOLO-NAS model {self.model_id!r} has outputs {[tuple(o.shape) for o in session.outputs]}; "
                f"expected boxes (B, N, 4) and class scores (B, N, {len(self.class_names)})."
            )

    def decode(self, outputs: list[np.ndarray], params: InferenceParams) -> Candidates:
        return decode_yolo_nas(outputs[0][0], outputs[1][0], params)


class YoloNasDetection(ModelArchitecture):
    """Roboflow's `yolo_nas_s/m/l` model types; a plain export with exactly these two outputs."""

    name, task = "yolo-nas", tasks.OBJECT_DETECTION

    @classmethod
    def match(cls, artifact: ModelArtifact, session: Session) -> Match:
        if not has_yolo_nas_outputs(session, len(artifact.class_names)):
            return Match.NONE
        if is_yolo_nas(artifact.model_type):
            return Match.MODEL_TYPE
        return Match.SHAPE if not artifact.model_type.strip() else Match.NONE

    @classmethod
    def build(cls, artifact: ModelArtifact, session: Session, image_loader: ImageLoader) -> VisionModel:
        return YoloNasDetector(artifact, session, image_loader)
