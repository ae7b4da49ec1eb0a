"""YOLOv8/v11 pose: boxes plus K keypoints (x, y, confidence) per object."""

from __future__ import annotations

import numpy as np

from inference_core import tasks
from inference_core.models.detection import YoloDetector, box_predictions
from inference_core.onnx_metadata import parse_literal
from inference_core.params import InferenceParams
from inference_core.preprocessing import ImageTransform
from inference_core.responses import ImageSize, Keypoint, KeypointsDetectionInferenceResponse


class YoloPoseDetector(YoloDetector):
    task = tasks.KEYPOINT_DETECTION

    def __init__(self, artifact, session, image_loader, layout) -> None:
        self.keypoint_count = _keypoint_count(artifact, session, len(artifact.class_names))
        self.extra_values = 3 * self.keypoint_count
        super().__init__(artifact, session, image_loader, layout)

    @classmethod
    def extra_values_for(cls, artifact, session) -> int:
        return 3 * _keypoint_count(artifact, session, len(artifact.class_names))

    def postprocess(self, outputs: list[np.ndarray], transform: ImageTransform, params: InferenceParams):
        found = self.candidates(outputs, params)
        boxes = np.round(transform.to_original(found.boxes))
        triplets = found.extras[:, : self.extra_values].reshape(-1, self.keypoint_count, 3)
        predictions = box_predictions(boxes, found.scores, found.class_ids, self.class_name)
        for prediction, keypoints in zip(predictions, triplets, strict=True):
            prediction.keypoints = self._keypoints(keypoints, prediction.class_id, transform, params)
        return KeypointsDetectionInferenceResponse(
            image=ImageSize(transform.original_width, transform.original_height), predictions=predictions
        )

    def skeleton(self) -> list[tuple[int, int]]:
        """Edges from keypoints_metadata.json (`{"edges": [{"from": 0, "to": 1}]}`), if given."""
        edges = []
        for entry in self.artifact.keypoints_metadata or []:
            for edge in entry.get("edges", []) or []:
                if isinstance(edge, dict) and "from" in edge and "to" in edge:
                    edges.append((int(edge["from"]), int(edge["to"])))
        return edges

    def _keypoints(self, triplets: np.ndarray, class_id: int, transform: ImageTransform, params) -> list[Keypoint]:
        names = self.artifact.keypoint_names(class_id)
        points = transform.points_to_original(triplets[:, :2])
        return [
            Keypoint(x=float(x), y=float(y), confidence=float(confidence), class_id=index,
                     class_name=names.get(index, str(index)))
            for index, ((x, y), confidence) in enumerate(zip(points, triplets[:, 2]))
            if confidence >= params.keypoint_confidence
        ]


def _keypoint_count(artifact, session, num_classes: int) -> int:
    shape = parse_literal(artifact.file_metadata.get("kpt_shape"), default=None)
    if shape:
        return int(shape[0])
    for entry in artifact.keypoints_metadata or []:
        return len(entry.get("keypoints", {}))
    rows = session.outputs[0].shape[1]
    if isinstance(rows, int) and (rows - 4 - num_classes) % 3 == 0:
        return (rows - 4 - num_classes) // 3
    return 0
