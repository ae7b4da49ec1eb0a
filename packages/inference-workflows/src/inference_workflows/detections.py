"""Detections inside a workflow are `supervision.Detections` carrying Roboflow's data keys.

Models' wire responses become Detections here (with detection ids, parent and root lineage);
`serialise` turns them back into the wire form Roboflow's workflows answer.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

import cv2
import numpy as np
import supervision as sv

from inference_workflows.images import Origin, WorkflowImage

DETECTION_ID = "detection_id"
PARENT_ID = "parent_id"
ROOT_PARENT_ID = "root_parent_id"
PARENT_COORDINATES = "parent_coordinates"
PARENT_DIMENSIONS = "parent_dimensions"
ROOT_PARENT_COORDINATES = "root_parent_coordinates"
ROOT_PARENT_DIMENSIONS = "root_parent_dimensions"
IMAGE_DIMENSIONS = "image_dimensions"
INFERENCE_ID = "inference_id"
PREDICTION_TYPE = "prediction_type"
CLASS_NAME = "class_name"
KEYPOINTS_XY = "keypoints_xy"
KEYPOINTS_CONFIDENCE = "keypoints_confidence"
KEYPOINTS_CLASS_ID = "keypoints_class_id"
KEYPOINTS_CLASS_NAME = "keypoints_class_name"
POLYGON = "polygon"
DETECTED_CODE = "data"
TIME_IN_ZONE = "time_in_zone"
VELOCITY = "velocity"
SPEED = "speed"
SMOOTHED_VELOCITY = "smoothed_velocity"
SMOOTHED_SPEED = "smoothed_speed"
ANGLE = "angle"
RECT = "rect"
RECT_WIDTH = "width"
RECT_HEIGHT = "height"


def from_response(response: dict[str, Any], image: WorkflowImage, prediction_type: str) -> sv.Detections:
    """A model's wire response (object detection, segmentation, keypoints) as Detections."""
    raw = [item for item in response.get("predictions", []) if not _short_polygon(item)]
    detections = sv.Detections.from_inference({**response, "predictions": raw})
    count = len(detections)
    detections[DETECTION_ID] = np.array([item.get("detection_id") or str(uuid.uuid4()) for item in raw])
    detections[PARENT_ID] = np.array([item.get("parent_id", "") for item in raw])
    size = response.get("image", {})
    detections[IMAGE_DIMENSIONS] = np.array([[size.get("height"), size.get("width")]] * count).reshape(-1, 2)
    if response.get("inference_id") is not None:
        detections[INFERENCE_ID] = np.array([response["inference_id"]] * count)
    if any("keypoints" in item for item in raw):
        _add_keypoints(detections, raw)
    detections[PREDICTION_TYPE] = np.array([prediction_type] * count)
    # an empty answer carries no image size of its own (Roboflow serialises it as null), only lineage
    return attach_lineage(detections, image)


def _short_polygon(item: dict[str, Any]) -> bool:
    points = item.get("points")
    return isinstance(points, list) and len(points) < 3 and not item.get("rle")


def _add_keypoints(detections: sv.Detections, raw: list[dict[str, Any]]) -> None:
    longest = max((len(item.get("keypoints", [])) for item in raw), default=0)
    count = len(raw)
    xy = np.zeros((count, longest, 2), dtype=np.float32)
    confidence = np.zeros((count, longest), dtype=np.float32)
    class_id = np.zeros((count, longest), dtype=int)
    class_name = np.full((count, longest), "", dtype=object)
    for row, item in enumerate(raw):
        for column, point in enumerate(item.get("keypoints", [])):
            xy[row, column] = (point["x"], point["y"])
            confidence[row, column] = point["confidence"]
            class_id[row, column] = point["class_id"]
            class_name[row, column] = point["class"]
    detections[KEYPOINTS_XY] = xy
    detections[KEYPOINTS_CONFIDENCE] = confidence
    detections[KEYPOINTS_CLASS_ID] = class_id
    detections[KEYPOINTS_CLASS_NAME] = class_name


def attach_lineage(detections: sv.Detections, image: WorkflowImage) -> sv.Detections:
    """Record the image's parent and root origin on every detection (or in metadata when none)."""
    _attach(detections, image.root, ROOT_PARENT_ID, ROOT_PARENT_COORDINATES, ROOT_PARENT_DIMENSIONS)
    _attach(detections, image.parent, PARENT_ID, PARENT_COORDINATES, PARENT_DIMENSIONS)
    return detections


def _attach(detections: sv.Detections, origin: Origin, id_key: str, coords_key: str, dims_key: str) -> None:
    count = len(detections)
    if count == 0:
        detections.metadata.update(
            {
                id_key: origin.parent_id,
                coords_key: [origin.offset_x, origin.offset_y],
                dims_key: [origin.height, origin.width],
            }
        )
        return
    detections[id_key] = np.array([origin.parent_id] * count)
    detections[coords_key] = np.array([[origin.offset_x, origin.offset_y]] * count)
    detections[dims_key] = np.array([[origin.height, origin.width]] * count)


def empty_for(image: WorkflowImage) -> sv.Detections:
    detections = sv.Detections.empty()
    detections.metadata[IMAGE_DIMENSIONS] = [image.height, image.width]
    return attach_lineage(detections, image)


def to_root_coordinates(detections: sv.Detections) -> sv.Detections:
    """Detections made on a crop moved into the workflow input image's coordinates."""
    moved = copy.deepcopy(detections)
    if len(moved) == 0:
        root_dims = moved.metadata.get(ROOT_PARENT_DIMENSIONS)
        if root_dims is not None:
            moved.metadata.update(
                {
                    IMAGE_DIMENSIONS: list(root_dims),
                    PARENT_DIMENSIONS: list(root_dims),
                    PARENT_COORDINATES: [0, 0],
                    ROOT_PARENT_COORDINATES: [0, 0],
                }
            )
            if ROOT_PARENT_ID in moved.metadata:
                moved.metadata[PARENT_ID] = moved.metadata[ROOT_PARENT_ID]
        return moved
    if any(
        key not in moved.data for key in (ROOT_PARENT_ID, ROOT_PARENT_COORDINATES, ROOT_PARENT_DIMENSIONS)
    ):
        return moved
    root_height, root_width = (int(value) for value in moved[ROOT_PARENT_DIMENSIONS][0])
    shift_x, shift_y = (int(value) for value in moved[ROOT_PARENT_COORDINATES][0])
    moved.xyxy = moved.xyxy + np.array([shift_x, shift_y, shift_x, shift_y], dtype=moved.xyxy.dtype)
    if KEYPOINTS_XY in moved.data:
        moved.data[KEYPOINTS_XY] = moved.data[KEYPOINTS_XY] + np.array([shift_x, shift_y], dtype=np.float32)
    if POLYGON in moved.data:
        moved.data[POLYGON] = moved.data[POLYGON] + np.array([shift_x, shift_y])
    if moved.mask is not None:
        anchored = np.zeros((len(moved), root_height, root_width), dtype=bool)
        for target, mask in zip(anchored, moved.mask):
            height, width = mask.shape
            target[shift_y : shift_y + height, shift_x : shift_x + width] = mask[
                : root_height - shift_y, : root_width - shift_x
            ]
        moved.mask = anchored
    count = len(moved)
    root_id = moved[ROOT_PARENT_ID][0]
    moved[IMAGE_DIMENSIONS] = np.array([[root_height, root_width]] * count)
    for id_key, coords_key, dims_key in (
        (ROOT_PARENT_ID, ROOT_PARENT_COORDINATES, ROOT_PARENT_DIMENSIONS),
        (PARENT_ID, PARENT_COORDINATES, PARENT_DIMENSIONS),
    ):
        moved[id_key] = np.array([root_id] * count)
        moved[coords_key] = np.array([[0, 0]] * count)
        moved[dims_key] = np.array([[root_height, root_width]] * count)
    return moved


def needs_root_conversion(detections: sv.Detections) -> bool:
    if len(detections) == 0:
        return ROOT_PARENT_DIMENSIONS in detections.metadata
    coordinates = detections.data.get(ROOT_PARENT_COORDINATES)
    if coordinates is None:
        return False
    if np.any(np.asarray(coordinates) != 0):
        return True
    root_dims = detections.data.get(ROOT_PARENT_DIMENSIONS)
    image_dims = detections.data.get(IMAGE_DIMENSIONS)
    return root_dims is not None and image_dims is not None and not np.array_equal(root_dims, image_dims)


def serialise(detections: sv.Detections) -> dict[str, Any]:
    """The wire form of Detections, field for field as Roboflow's workflows serialise them."""
    predictions = []
    dimensions = None
    for xyxy, mask, confidence, class_id, tracker_id, data in detections:
        dimensions = data.get(IMAGE_DIMENSIONS)
        x1, y1, x2, y2 = (float(value) for value in xyxy)
        item: dict[str, Any] = {"width": abs(x2 - x1), "height": abs(y2 - y1)}
        item["x"] = x1 + item["width"] / 2
        item["y"] = y1 + item["height"] / 2
        item["confidence"] = float(confidence)
        item["class_id"] = int(class_id)
        if mask is not None:
            polygon = data.get(POLYGON)
            if polygon is None or len(polygon) <= 2:
                polygon = mask_to_polygon(mask)
            if polygon is None:
                continue
            item["points"] = [{"x": float(x), "y": float(y)} for x, y in polygon]
        if tracker_id is not None:
            item["tracker_id"] = int(tracker_id)
        item["class"] = str(data["class_name"])
        item["detection_id"] = str(data[DETECTION_ID])
        if TIME_IN_ZONE in data:
            item[TIME_IN_ZONE] = data[TIME_IN_ZONE]
        if POLYGON in data:
            item[POLYGON] = np.asarray(data[POLYGON]).astype(float).round().astype(int).tolist()
        if all(key in data for key in (ANGLE, RECT, RECT_HEIGHT, RECT_WIDTH)):
            for key in (ANGLE, RECT, RECT_HEIGHT, RECT_WIDTH):
                item[key] = _plain(data[key])
        if PARENT_ID in data:
            item[PARENT_ID] = str(data[PARENT_ID])
        if PARENT_ID in data and ROOT_PARENT_ID in data and str(data[PARENT_ID]) != str(data[ROOT_PARENT_ID]):
            _attach_origin(item, data, PARENT_COORDINATES, PARENT_DIMENSIONS, "parent_origin")
            item[ROOT_PARENT_ID] = str(data[ROOT_PARENT_ID])
            _attach_origin(item, data, ROOT_PARENT_COORDINATES, ROOT_PARENT_DIMENSIONS, "root_parent_origin")
        if all(
            key in data
            for key in (KEYPOINTS_CLASS_ID, KEYPOINTS_CLASS_NAME, KEYPOINTS_CONFIDENCE, KEYPOINTS_XY)
        ):
            names = data[KEYPOINTS_CLASS_NAME]
            real = sum(1 for name in names if name != "")
            item["keypoints"] = [
                {
                    "class_id": int(kp_id),
                    "class": str(kp_name),
                    "confidence": float(kp_conf),
                    "x": float(x),
                    "y": float(y),
                }
                for kp_id, kp_name, kp_conf, (x, y) in list(
                    zip(data[KEYPOINTS_CLASS_ID], names, data[KEYPOINTS_CONFIDENCE], data[KEYPOINTS_XY])
                )[:real]
            ]
        if DETECTED_CODE in data:
            item[DETECTED_CODE] = _plain(data[DETECTED_CODE])
        for key in (VELOCITY, SMOOTHED_VELOCITY):
            if key in data:
                item[key] = np.asarray(data[key]).tolist()
        for key in (SPEED, SMOOTHED_SPEED):
            if key in data:
                item[key] = float(data[key])
        predictions.append(item)
    if dimensions is None:
        dimensions = detections.metadata.get(IMAGE_DIMENSIONS)
    image = {"width": None, "height": None}
    if dimensions is not None:
        image = {"width": int(dimensions[1]), "height": int(dimensions[0])}
    return {"image": image, "predictions": predictions}


def _attach_origin(item: dict, data: dict, coords_key: str, dims_key: str, origin_key: str) -> None:
    if coords_key in data and dims_key in data:
        coords = np.asarray(data[coords_key]).astype(float).round().astype(int).tolist()
        dims = np.asarray(data[dims_key]).astype(float).round().astype(int).tolist()
        item[origin_key] = {"offset_x": coords[0], "offset_y": coords[1], "width": dims[1], "height": dims[0]}


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def mask_to_polygon(mask: np.ndarray) -> np.ndarray | None:
    """The largest outer contour of a mask, padded to at least 3 points; None for an empty mask."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    contour = max(contours, key=cv2.contourArea).reshape(-1, 2)
    if contour.shape[0] < 3:
        contour = np.concatenate([contour, np.repeat(contour[-1:], 3 - contour.shape[0], axis=0)])
    return contour
