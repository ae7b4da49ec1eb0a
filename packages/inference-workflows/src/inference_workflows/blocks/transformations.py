"""Transformation blocks: crops (dynamic, relative, absolute), detection filters and edits."""

from __future__ import annotations

import copy
import sys
import uuid
from typing import Any

import numpy as np
import supervision as sv
from inference_core.responses import random_uuids

from inference_workflows import detections as D
from inference_workflows import kinds as K
from inference_workflows import operations as ops
from inference_workflows.blocks.base import Block, Field, Output, is_int, is_number, one_of
from inference_workflows.blocks.fields import IMAGES, PREDICTIONS
from inference_workflows.colors import parse_bgr
from inference_workflows.images import WorkflowImage

DETECTIONS_OUTPUT = Output("predictions", K.DETECTIONS)


class DynamicCrop(Block):
    name = "roboflow_core/dynamic_crop@v1"
    aliases = ("DynamicCrop", "Crop")
    title = "Dynamic Crop"
    fields = (
        IMAGES,
        PREDICTIONS,
        Field("mask_opacity", (K.FLOAT_ZERO_TO_ONE,), 0.0, is_number(0, 1), "float"),
        Field("background_color", (K.STRING, K.RGB_COLOR), (0, 0, 0)),
    )
    outputs = (Output("crops", (K.IMAGE,)), Output("predictions", K.DETECTIONS))
    output_offset = 1

    def run(
        self, images: WorkflowImage, predictions: sv.Detections, mask_opacity: float, background_color: Any
    ) -> list[dict[str, Any]]:
        crops = []
        if len(predictions) == 0:
            return crops
        boxes = predictions.xyxy.round().astype(int)
        for position, ((x1, y1, x2, y2), detection_id) in enumerate(
            zip(boxes, predictions.data[D.DETECTION_ID])
        ):
            pixels = images.pixels[max(y1, 0) : y2, max(x1, 0) : x2]
            if not pixels.size:
                crops.append({"crops": None, "predictions": None})
                continue
            if mask_opacity > 0 and predictions.mask is not None:
                pixels = _mask_crop(
                    pixels,
                    predictions.mask[position][max(y1, 0) : y2, max(x1, 0) : x2],
                    mask_opacity,
                    background_color,
                )
            crop = images.crop(str(detection_id), pixels, max(x1, 0), max(y1, 0))
            crops.append({"crops": crop, "predictions": _in_crop(predictions[[position]], x1, y1, x2, y2)})
        return crops


def _in_crop(detection: sv.Detections, x1: int, y1: int, x2: int, y2: int) -> sv.Detections:
    """One detection moved into its crop's coordinates (box, mask, keypoints, polygon)."""
    moved = copy.deepcopy(detection)
    moved.xyxy = sv.move_boxes(xyxy=moved.xyxy, offset=np.array([-x1, -y1]))
    if moved.mask is not None:
        moved.mask = moved.mask[:, y1:y2, x1:x2]
    for key in (D.KEYPOINTS_XY, D.POLYGON):
        if key in moved.data:
            moved.data[key] = moved.data[key] - np.array([x1, y1])
    return moved


def _mask_crop(pixels: np.ndarray, mask: np.ndarray, opacity: float, color: Any) -> np.ndarray:
    background = np.zeros_like(pixels)
    background[:] = parse_bgr(color)
    blended = (pixels * (1 - opacity) + background * opacity).astype(np.uint8)
    return np.where(mask[..., None], pixels, blended)


class RelativeStaticCrop(Block):
    name = "roboflow_core/relative_statoic_crop@v1"  # Roboflow's identifier, typo included
    aliases = ("RelativeStaticCrop",)
    title = "Relative Static Crop"
    fields = (
        IMAGES,
        *(
            Field(name, (K.FLOAT_ZERO_TO_ONE,), check=is_number(0, 1), type_hint="float")
            for name in ("x_center", "y_center", "width", "height")
        ),
    )
    outputs = (Output("crops", (K.IMAGE,)),)

    def run(
        self, images: WorkflowImage, x_center: float, y_center: float, width: float, height: float
    ) -> dict:
        w, h = images.width, images.height
        return {
            "crops": _static_crop(
                images,
                round(w * x_center),
                round(h * y_center),
                round(w * width),
                round(h * height),
                "relative_static_crop",
            )
        }


class AbsoluteStaticCrop(Block):
    name = "roboflow_core/absolute_static_crop@v1"
    aliases = ("AbsoluteStaticCrop",)
    title = "Absolute Static Crop"
    fields = (
        IMAGES,
        *(
            Field(name, (K.INTEGER,), check=is_int(1), type_hint="int")
            for name in ("x_center", "y_center", "width", "height")
        ),
    )
    outputs = (Output("crops", (K.IMAGE,)),)

    def run(self, images: WorkflowImage, x_center: int, y_center: int, width: int, height: int) -> dict:
        return {"crops": _static_crop(images, x_center, y_center, width, height, "absolute_static_crop")}


def _static_crop(
    image: WorkflowImage, x_center: int, y_center: int, width: int, height: int, prefix: str
) -> WorkflowImage | None:
    x_min, y_min = round(x_center - width / 2), round(y_center - height / 2)
    x_max, y_max = round(x_min + width), round(y_min + height)
    pixels = image.pixels[max(y_min, 0) : y_max, max(x_min, 0) : x_max]
    if not pixels.size:
        return None
    crop = image.crop(f"{prefix}.{uuid.uuid4()}", pixels, x_min, y_min)
    crop.video_metadata = image.video_metadata
    return crop


class DetectionsFilter(Block):
    name = "roboflow_core/detections_filter@v1"
    aliases = ("DetectionsFilter",)
    title = "Detections Filter"
    fields = (
        PREDICTIONS,
        Field("operations", check=ops.check_operations, type_hint="List[Operation]"),
        Field("operations_parameters", ("*",), {}, container="dict"),
    )
    outputs = (DETECTIONS_OUTPUT,)

    def run(self, predictions: sv.Detections, operations: list, operations_parameters: dict) -> dict:
        return {"predictions": ops.execute_operations(predictions, operations, operations_parameters)}


class DetectionOffset(Block):
    name = "roboflow_core/detection_offset@v1"
    aliases = ("DetectionOffset",)
    title = "Detection Offset"
    fields = (
        PREDICTIONS,
        Field("offset_width", (K.INTEGER,), check=is_int(1), type_hint="int"),
        Field("offset_height", (K.INTEGER,), check=is_int(1), type_hint="int"),
        Field("units", (), "Pixels", one_of("Percent (%)", "Pixels"), "str"),
    )
    outputs = (DETECTIONS_OUTPUT,)

    def run(self, predictions: sv.Detections, offset_width: int, offset_height: int, units: str) -> dict:
        if len(predictions) == 0:
            return {"predictions": predictions}
        moved = copy.deepcopy(predictions)
        dims = predictions.data[D.IMAGE_DIMENSIONS]
        boxes = []
        for position, (x1, y1, x2, y2) in enumerate(moved.xyxy):
            if units == "Percent (%)":
                dx, dy = int((x2 - x1) * offset_width / 200), int((y2 - y1) * offset_height / 200)
            else:
                dx, dy = offset_width // 2, offset_height // 2
            boxes.append(
                (
                    max(0, x1 - dx),
                    max(0, y1 - dy),
                    min(dims[position][1], x2 + dx),
                    min(dims[position][0], y2 + dy),
                )
            )
        moved.xyxy = np.array(boxes, dtype=float)
        moved[D.PARENT_ID] = predictions[D.DETECTION_ID].copy()
        moved[D.DETECTION_ID] = np.array(random_uuids(len(moved)))
        return {"predictions": moved}


class DetectionsClassesReplacement(Block):
    name = "roboflow_core/detections_classes_replacement@v1"
    aliases = ("DetectionsClassesReplacement",)
    title = "Detections Classes Replacement"
    fields = (
        Field("object_detection_predictions", K.DETECTIONS, selector_only=True),
        Field(
            "classification_predictions",
            (K.CLASSIFICATION_PREDICTION, K.STRING, K.LIST_OF_VALUES),
            selector_only=True,
        ),
        Field("fallback_class_name", (K.STRING,), None),
        Field("fallback_class_id", (K.INTEGER,), None),
    )
    outputs = (DETECTIONS_OUTPUT,)
    collapsed_fields = ("classification_predictions",)
    accepts_empty = True

    def run(
        self,
        object_detection_predictions: sv.Detections | None,
        classification_predictions: list,
        fallback_class_name: str | None,
        fallback_class_id: int | None,
    ) -> dict:
        if object_detection_predictions is None:
            return {"predictions": None}
        if not classification_predictions:
            return {"predictions": sv.Detections.empty()}
        present = [item for item in classification_predictions if item is not None]
        if present and isinstance(present[0], (str, list)):
            return {
                "predictions": self._by_position(
                    object_detection_predictions,
                    classification_predictions,
                    fallback_class_name,
                    fallback_class_id,
                )
            }
        if all(
            item is None or ("top" in item and not item["top"]) or "predictions" not in item
            for item in classification_predictions
        ):
            return {"predictions": sv.Detections.empty()}
        by_parent = {
            item[D.PARENT_ID]: _leading_class(item, fallback_class_name, fallback_class_id)
            for item in present
        }
        keep = [
            by_parent.get(detection_id) is not None
            for detection_id in object_detection_predictions.data[D.DETECTION_ID]
        ]
        selected = object_detection_predictions[np.array(keep, dtype=bool)]
        chosen = [by_parent[detection_id] for detection_id in selected.data[D.DETECTION_ID]]
        return {"predictions": _relabel(selected, chosen)}

    @staticmethod
    def _by_position(
        detections: sv.Detections, predictions: list, fallback_name: str | None, fallback_id: int | None
    ) -> sv.Detections:
        padded = list(predictions) + [None] * max(0, len(detections) - len(predictions))
        chosen, keep = [], []
        for position, prediction in zip(range(len(detections)), padded):
            if prediction is None:
                if not fallback_name:
                    continue
                found = (fallback_name, _fallback_id(fallback_id), 0.0)
            else:
                found = _leading_class(prediction, fallback_name, fallback_id)
                if found is None:
                    continue
            chosen.append(found)
            keep.append(position)
        if not keep:
            return sv.Detections.empty()
        return _relabel(detections[np.array(keep)], chosen)


def _relabel(detections: sv.Detections, chosen: list[tuple[str, int, float]]) -> sv.Detections:
    detections.class_id = np.array([item[1] for item in chosen])
    detections.confidence = np.array([item[2] for item in chosen], dtype=float)
    detections.data[D.CLASS_NAME] = np.array([item[0] for item in chosen])
    detections.data[D.DETECTION_ID] = np.array(random_uuids(len(chosen)))
    return detections


def _fallback_id(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return sys.maxsize
    return sys.maxsize if number < 0 else number


def _leading_class(prediction: Any, fallback_name: str | None, fallback_id: int | None) -> tuple | None:
    """The class a classification result stands for: (name, id, confidence), or None."""
    if isinstance(prediction, str):
        return prediction, 0, 1.0
    if isinstance(prediction, list):
        if not prediction:
            return (fallback_name, _fallback_id(fallback_id), 0.0) if fallback_name else None
        return (prediction[0], 0, 1.0) if isinstance(prediction[0], str) else None
    if "top" in prediction:
        if not prediction.get("predictions"):
            return (fallback_name, _fallback_id(fallback_id), 0) if fallback_name else None
        matching = [
            (item["class_id"], item["confidence"])
            for item in prediction["predictions"]
            if item["class"] == prediction["top"]
        ]
        if len(matching) != 1:
            raise ValueError(f"Could not resolve the class id of {prediction['top']!r}.")
        return prediction["top"], matching[0][0], matching[0][1]
    if not prediction.get("predicted_classes"):
        return None
    best = max(prediction["predictions"].items(), key=lambda item: item[1]["confidence"])
    if not best[1]["confidence"]:
        return None
    return best[0], best[1]["class_id"], best[1]["confidence"]


TRANSFORMATION_BLOCKS = [
    DynamicCrop,
    RelativeStaticCrop,
    AbsoluteStaticCrop,
    DetectionsFilter,
    DetectionOffset,
    DetectionsClassesReplacement,
]
