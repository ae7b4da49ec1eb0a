"""Small objects in large images (SAHI): `image_slicer` cuts overlapping slices, a model runs
on each, `detections_stitch` moves the slices' detections back into the image and merges the
duplicates (NMS or NMM). Also `bounding_rect`, the minimal rotated rectangle of each mask."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import cv2
import numpy as np
import supervision as sv

from inference_workflows import detections as D
from inference_workflows import kinds as K
from inference_workflows.blocks.base import Block, Field, Output, is_int, is_number, one_of
from inference_workflows.images import WorkflowImage

SLICER_FIELDS = (
    Field("image", (K.IMAGE,), selector_only=True),
    Field("slice_width", (K.INTEGER,), 640, is_int(1), "int"),
    Field("slice_height", (K.INTEGER,), 640, is_int(1), "int"),
    Field("overlap_ratio_width", (K.FLOAT_ZERO_TO_ONE,), 0.2, is_number(0, 0.99), "float"),
    Field("overlap_ratio_height", (K.FLOAT_ZERO_TO_ONE,), 0.2, is_number(0, 0.99), "float"),
)


def slice_offsets(
    width: int, height: int, slice_w: int, slice_h: int, overlap_w: float, overlap_h: float, keep_inside: bool
) -> list[tuple[int, int, int, int]]:
    """Slice boxes (x1, y1, x2, y2) over the image. `keep_inside` (v2) shifts the last row and
    column back inside the image so every slice has the full size, and drops repeats."""
    if keep_inside:
        slice_w, slice_h = min(slice_w, width), min(slice_h, height)
    stride_w = slice_w - int(overlap_w * slice_w)
    stride_h = slice_h - int(overlap_h * slice_h)
    xs, ys = np.arange(0, width, stride_w), np.arange(0, height, stride_h)
    if keep_inside:
        xs = xs - np.clip(xs + slice_w - width, 0, slice_w)
        ys = ys - np.clip(ys + slice_h - height, 0, slice_h)
    boxes: list[tuple[int, int, int, int]] = []
    for y in ys:
        for x in xs:
            box = (int(x), int(y), int(min(x + slice_w, width)), int(min(y + slice_h, height)))
            if not keep_inside or box not in boxes:
                boxes.append(box)
    return boxes


class ImageSlicerV1(Block):
    name = "roboflow_core/image_slicer@v1"
    title = "Image Slicer"
    fields = SLICER_FIELDS
    outputs = (Output("slices", (K.IMAGE,)),)
    output_offset = 1
    keep_inside = False

    def run(
        self,
        image: WorkflowImage,
        slice_width: int,
        slice_height: int,
        overlap_ratio_width: float,
        overlap_ratio_height: float,
    ) -> list[dict[str, Any]]:
        boxes = slice_offsets(
            image.width,
            image.height,
            slice_width,
            slice_height,
            overlap_ratio_width,
            overlap_ratio_height,
            self.keep_inside,
        )
        slices = []
        for x1, y1, x2, y2 in boxes:
            pixels = image.pixels[y1:y2, x1:x2]
            slices.append(
                {
                    "slices": image.crop(f"image_slicer.{uuid.uuid4()}", pixels, x1, y1)
                    if pixels.size
                    else None
                }
            )
        return slices


class ImageSlicerV2(ImageSlicerV1):
    name = "roboflow_core/image_slicer@v2"
    keep_inside = True


class DetectionsStitch(Block):
    name = "roboflow_core/detections_stitch@v1"
    title = "Detections Stitch"
    block_type = "fusion"
    fields = (
        Field("reference_image", (K.IMAGE,), selector_only=True),
        Field(
            "predictions",
            (K.OBJECT_DETECTION_PREDICTION, K.INSTANCE_SEGMENTATION_PREDICTION),
            selector_only=True,
        ),
        Field("overlap_filtering_strategy", (K.STRING,), "nms", one_of("none", "nms", "nmm"), "str"),
        Field("iou_threshold", (K.FLOAT_ZERO_TO_ONE,), 0.3, is_number(0, 1), "float"),
    )
    outputs = (Output("predictions", (K.OBJECT_DETECTION_PREDICTION, K.INSTANCE_SEGMENTATION_PREDICTION)),)
    collapsed_fields = ("predictions",)

    def run(
        self,
        reference_image: WorkflowImage,
        predictions: list[sv.Detections],
        overlap_filtering_strategy: str,
        iou_threshold: float,
    ) -> dict:
        height, width = reference_image.height, reference_image.width
        moved = []
        for detections in predictions:
            if len(detections) == 0:
                continue
            if D.PARENT_COORDINATES not in detections.data:
                raise ValueError(
                    "detections_stitch needs detections made on slices or crops of the reference image."
                )
            offset_x, offset_y = (int(v) for v in detections.data[D.PARENT_COORDINATES][0][:2])
            shifted = copy.deepcopy(detections)
            shifted.xyxy = shifted.xyxy + np.array([offset_x, offset_y, offset_x, offset_y], dtype=float)
            if shifted.mask is not None:
                shifted.mask = _place_masks(shifted.mask, offset_x, offset_y, width, height)
            shifted[D.IMAGE_DIMENSIONS] = np.array([[height, width]] * len(shifted))
            moved.append(D.attach_lineage(shifted, reference_image))
        if not moved:
            return {"predictions": D.empty_for(reference_image)}
        if any(item.mask is None for item in moved) and any(item.mask is not None for item in moved):
            raise ValueError(
                "detections_stitch got slices with and without masks; all or none must have them."
            )
        merged = sv.Detections.merge(moved)
        if overlap_filtering_strategy == "nms":
            merged = merged.with_nms(threshold=iou_threshold)
        elif overlap_filtering_strategy == "nmm":
            merged = merged.with_nmm(threshold=iou_threshold)
        return {"predictions": merged}


def _place_masks(masks: np.ndarray, offset_x: int, offset_y: int, width: int, height: int) -> np.ndarray:
    placed = np.zeros((len(masks), height, width), dtype=bool)
    mask_h, mask_w = masks.shape[1:]
    sx1, sy1 = max(0, -offset_x), max(0, -offset_y)
    sx2, sy2 = min(mask_w, width - offset_x), min(mask_h, height - offset_y)
    if sx2 > sx1 and sy2 > sy1:
        placed[:, offset_y + sy1 : offset_y + sy2, offset_x + sx1 : offset_x + sx2] = masks[
            :, sy1:sy2, sx1:sx2
        ]
    return placed


class BoundingRect(Block):
    name = "roboflow_core/bounding_rect@v1"
    title = "Bounding Rectangle"
    fields = (Field("predictions", (K.INSTANCE_SEGMENTATION_PREDICTION,), selector_only=True),)
    outputs = (Output("detections_with_rect", (K.INSTANCE_SEGMENTATION_PREDICTION,)),)

    def run(self, predictions: sv.Detections) -> dict:
        if predictions.mask is None:
            raise ValueError(
                "bounding_rect needs masks: feed it an instance segmentation model's predictions."
            )
        rows = []
        for index in range(len(predictions)):
            row = predictions[index : index + 1]
            polygons = sv.mask_to_polygons(row.mask[0])
            rect = _upright(cv2.minAreaRect(max(polygons, key=len)))
            corners = np.array(cv2.boxPoints(rect), dtype=int)
            resolution = (row.mask[0].shape[1], row.mask[0].shape[0])
            row.mask = np.array([sv.polygon_to_mask(polygon=corners, resolution_wh=resolution).astype(bool)])
            row.xyxy = np.array([sv.polygon_to_xyxy(polygon=corners)], dtype=float)
            row[D.RECT] = np.array([corners], dtype=np.float16)
            row[D.RECT_WIDTH] = np.array([rect[1][0]], dtype=np.float16)
            row[D.RECT_HEIGHT] = np.array([rect[1][1]], dtype=np.float16)
            row[D.ANGLE] = np.array([rect[2]], dtype=np.float16)
            rows.append(row)
        return {"detections_with_rect": sv.Detections.merge(rows) if rows else predictions}


def _upright(rect: tuple) -> tuple:
    """The rectangle with its angle in (0, 90], as OpenCV 4 describes it (OpenCV 5 may give the
    same rectangle as [-90, 0) with its sides swapped)."""
    (cx, cy), (width, height), angle = rect
    if angle <= 0:
        return (cx, cy), (height, width), angle + 90
    return rect


SLICING_BLOCKS = [ImageSlicerV1, ImageSlicerV2, DetectionsStitch, BoundingRect]
