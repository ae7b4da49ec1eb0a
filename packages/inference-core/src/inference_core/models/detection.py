"""YOLO object detectors: the v8/v11 layout, the v5 layout and the NMS-free end-to-end layout."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import numpy as np

from inference_core import tasks
from inference_core.images import ImageLoader
from inference_core.models.architecture import Match
from inference_core.models.base import PreparedImage, VisionModel
from inference_core.models.nms import non_max_suppression
from inference_core.params import InferenceParams
from inference_core.preprocessing import ImageTransform, images_to_tensor, preprocess_image
from inference_core.responses import (
    ImageSize, ObjectDetectionInferenceResponse, ObjectDetectionPrediction, random_uuids,
)
from inference_core.runtime import Session
from inference_core.store import ModelArtifact


class OutputLayout(Enum):
    YOLOV8 = "yolov8"  # (B, 4 + C + extra, N): cx, cy, w, h, class scores
    YOLOV5 = "yolov5"  # (B, N, 5 + C + extra): cx, cy, w, h, objectness, class scores
    END_TO_END = "end2end"  # (B, N, 6 + extra): x1, y1, x2, y2, score, class


@dataclass
class Candidates:
    """Detections of one image in input pixels, after confidence filtering and NMS."""

    boxes: np.ndarray  # (N, 4) xyxy
    scores: np.ndarray  # (N,)
    class_ids: np.ndarray  # (N,)
    extras: np.ndarray  # (N, E): mask coefficients or keypoints, empty for plain detection


#: Roboflow model types (and our import's `ultralytics`) whose exports use a YOLO layout. v9 and
#: v12 share v8's; v10 and 26 are end-to-end. A model naming another family (`yolact`,
#: `yolo_nas_s`, `rfdetr-base`, ...) is never decoded as YOLO, whatever its output shapes.
YOLO_MODEL_TYPES = (
    "yolov5", "yolov7", "yolov8", "yolov9", "yolov10", "yolov11", "yolo11", "yolov12", "yolo12", "yolo26",
    "ultralytics",
)
#: Model types whose exports are NMS-free, (B, N, 6 + extra) rows.
END_TO_END_MODEL_TYPES = ("yolov10", "yolo26")


def is_yolo_model_type(model_type: str) -> bool:
    """True for a YOLO family, and for no model type at all (a hand-filed directory)."""
    family = model_type.strip().lower()
    return not family or family.startswith(YOLO_MODEL_TYPES)


def layout_match(
    layout: OutputLayout, output_shape: tuple, num_classes: int, extra: int, model_type: str, end2end: bool | None
) -> Match:
    """How strongly an output of `output_shape` (and the model's metadata) says `layout`.

    The export's `end2end` flag (None when it has none) is the strongest evidence, then
    Roboflow's model type (v10 and 26 are end-to-end unless the export says otherwise, v5 and v7
    have objectness), then the shape alone: rows of 4 + classes + extra for v8/v11, columns of
    5 + classes + extra for v5, columns of 6 + extra for end-to-end. Ultralytics can export
    YOLO26 with `end2end=False`: that file says so and has the v8 layout.
    """
    if not is_yolo_model_type(model_type):
        return Match.NONE
    model_type = model_type.strip().lower()
    three_dimensional = len(output_shape) == 3
    rows, columns = (output_shape[1], output_shape[2]) if three_dimensional else (None, None)
    if layout is OutputLayout.END_TO_END:
        if end2end:
            return Match.METADATA
        if end2end is None and model_type.startswith(END_TO_END_MODEL_TYPES):
            return Match.MODEL_TYPE
        return Match.SHAPE if columns == 6 + extra else Match.NONE
    if layout is OutputLayout.YOLOV5:
        if three_dimensional and ("yolov5" in model_type or "yolov7" in model_type):
            return Match.MODEL_TYPE
        return Match.SHAPE if columns == 5 + num_classes + extra else Match.NONE
    return Match.SHAPE if rows == 4 + num_classes + extra else Match.NONE


def decode_candidates(
    output: np.ndarray, layout: OutputLayout, num_classes: int, params: InferenceParams
) -> Candidates:
    """One image's raw output (no batch dim) to filtered, suppressed candidates."""
    if layout is OutputLayout.END_TO_END:
        return _decode_end_to_end(output, params)
    if layout is OutputLayout.YOLOV8:
        # (4 + C + E, N): reduce over the contiguous class rows, then transpose only the survivors
        class_rows = output[4 : 4 + num_classes]
        scores = class_rows.max(axis=0)
        keep = np.flatnonzero(scores >= params.confidence)
        keep = keep[np.argsort(-scores[keep], kind="stable")[: params.max_candidates]]
        rows = output[:, keep].T
        class_ids = class_rows[:, keep].argmax(axis=0)
        scores = scores[keep]
        extras = rows[:, 4 + num_classes :]
        keep = np.arange(len(keep))  # rows, scores and class_ids hold only the survivors now
    else:
        rows = output
        class_scores = rows[:, 5 : 5 + num_classes]
        extras = rows[:, 5 + num_classes :]
        class_ids = class_scores.argmax(axis=1)
        scores = class_scores[np.arange(len(rows)), class_ids] * rows[:, 4]
        keep = np.flatnonzero(scores >= params.confidence)
        keep = keep[np.argsort(-scores[keep], kind="stable")[: params.max_candidates]]
    boxes = _xywh_to_xyxy(rows[keep, :4])
    kept = non_max_suppression(
        boxes, scores[keep], class_ids[keep], params.iou_threshold, params.class_agnostic_nms,
        params.max_detections,
    )
    chosen = keep[kept]
    return Candidates(boxes[kept], scores[chosen], class_ids[chosen], extras[chosen])


def _decode_end_to_end(output: np.ndarray, params: InferenceParams) -> Candidates:
    scores = output[:, 4]
    keep = np.flatnonzero(scores >= params.confidence)
    keep = keep[np.argsort(-scores[keep], kind="stable")[: params.max_detections]]
    rows = output[keep]
    return Candidates(rows[:, :4].astype(np.float64), rows[:, 4], rows[:, 5].astype(np.int64), rows[:, 6:])


def _xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    converted = np.empty(boxes.shape, dtype=np.float64)
    half_width, half_height = boxes[:, 2] / 2, boxes[:, 3] / 2
    converted[:, 0] = boxes[:, 0] - half_width
    converted[:, 1] = boxes[:, 1] - half_height
    converted[:, 2] = boxes[:, 0] + half_width
    converted[:, 3] = boxes[:, 1] + half_height
    return converted


def box_predictions(
    boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, class_name: Callable[[int], str]
) -> list[ObjectDetectionPrediction]:
    """Rounded xyxy boxes in original pixels to the wire's centre/size predictions, one per row,
    each with a fresh random detection id."""
    boxes = boxes.astype(np.float64, copy=False).reshape(-1, 4)
    x1, y1, x2, y2 = boxes.T
    columns = ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, np.asarray(scores, dtype=np.float64),
               np.asarray(class_ids, dtype=np.int64))
    return [
        ObjectDetectionPrediction(
            x=x, y=y, width=width, height=height, confidence=confidence, class_name=class_name(class_id),
            class_id=class_id, detection_id=detection_id,
        )
        for x, y, width, height, confidence, class_id, detection_id in zip(
            *(column.tolist() for column in columns), random_uuids(len(boxes)), strict=True
        )
    ]


class YoloDetector(VisionModel):
    """Object detection for every YOLO output layout we know; the architecture picks the layout."""

    task = tasks.OBJECT_DETECTION
    accepts_reduced_images = True
    #: Number of per-candidate values after the class scores (mask coefficients, keypoints).
    extra_values = 0

    def __init__(
        self, artifact: ModelArtifact, session: Session, image_loader: ImageLoader, layout: OutputLayout
    ) -> None:
        super().__init__(artifact, session, image_loader)
        self.layout = layout

    @classmethod
    def extra_values_for(cls, artifact: ModelArtifact, session: Session) -> int:
        """Per-candidate values after the class scores in this artifact's output."""
        return cls.extra_values

    def preprocess(
        self, image: np.ndarray, params: InferenceParams, original_size: tuple[int, int] | None = None
    ) -> PreparedImage:
        resized, transform = preprocess_image(
            image, self.artifact.environment.preprocessing, self.input_width, self.input_height, params.flags,
            original_size,
        )
        return PreparedImage(images_to_tensor([resized]), transform)

    def decode(self, outputs: list[np.ndarray], params: InferenceParams) -> Candidates:
        """One image's raw outputs to confident, suppressed candidates in input pixels."""
        return decode_candidates(outputs[0][0], self.layout, len(self.class_names), params)

    def candidates(self, outputs: list[np.ndarray], params: InferenceParams) -> Candidates:
        found = self.decode(outputs, params)
        if params.class_filter is not None:
            wanted = [name in params.class_filter for name in map(self.class_name, found.class_ids.tolist())]
            found = Candidates(found.boxes[wanted], found.scores[wanted], found.class_ids[wanted], found.extras[wanted])
        return found

    def postprocess(self, outputs: list[np.ndarray], transform: ImageTransform, params: InferenceParams):
        found = self.candidates(outputs, params)
        boxes = np.round(transform.to_original(found.boxes))
        predictions = box_predictions(boxes, found.scores, found.class_ids, self.class_name)
        return ObjectDetectionInferenceResponse(
            image=ImageSize(transform.original_width, transform.original_height), predictions=predictions
        )
