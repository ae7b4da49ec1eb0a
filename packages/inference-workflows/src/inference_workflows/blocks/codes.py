"""QR codes (OpenCV's detector, as Roboflow's block uses) and barcodes (zxing-cpp)."""

from __future__ import annotations

import uuid

import cv2
import numpy as np
import supervision as sv
import zxingcpp

from inference_workflows import detections as D
from inference_workflows import kinds as K
from inference_workflows.blocks.base import Block, Output
from inference_workflows.blocks.fields import IMAGES
from inference_workflows.images import WorkflowImage


def _codes_as_detections(
    image: WorkflowImage, boxes: list, texts: list[str], class_name: str, prediction_type: str
) -> sv.Detections:
    count = len(boxes)
    detections = sv.Detections(
        xyxy=np.array(boxes, dtype=float).reshape(-1, 4),
        confidence=np.ones(count),
        class_id=np.zeros(count, dtype=int),
        data={D.CLASS_NAME: np.array([class_name] * count)},
    )
    detections[D.DETECTION_ID] = np.array([str(uuid.uuid4()) for _ in range(count)])
    detections[D.PREDICTION_TYPE] = np.array([prediction_type] * count)
    detections[D.DETECTED_CODE] = np.array(texts)
    detections[D.IMAGE_DIMENSIONS] = np.array([[image.height, image.width]] * count).reshape(-1, 2)
    if count == 0:
        detections.metadata[D.IMAGE_DIMENSIONS] = [image.height, image.width]
    return D.attach_lineage(detections, image)


class QRCodeDetector(Block):
    name = "roboflow_core/qr_code_detector@v1"
    aliases = ("QRCodeDetector", "QRCodeDetection")
    title = "QR Code Detection"
    block_type = "model"
    fields = (IMAGES,)
    outputs = (Output("predictions", (K.QR_CODE_DETECTION,)),)

    def run(self, images: WorkflowImage) -> dict:
        _, texts, corners, _ = cv2.QRCodeDetector().detectAndDecodeMulti(images.pixels)
        boxes, decoded = [], []
        if corners is not None:
            for text, points in zip(texts, corners):
                x1, y1 = points[0]
                x2, y2 = x1 + (points[2][0] - points[0][0]), y1 + (points[2][1] - points[0][1])
                boxes.append([x1, y1, x2, y2])
                decoded.append(text)
        return {"predictions": _codes_as_detections(images, boxes, decoded, "qr_code", "qrcode-detection")}


class BarcodeDetector(Block):
    name = "roboflow_core/barcode_detector@v1"
    aliases = ("BarcodeDetector", "BarcodeDetection")
    title = "Barcode Detection"
    block_type = "model"
    fields = (IMAGES,)
    outputs = (Output("predictions", (K.BAR_CODE_DETECTION,)),)

    def run(self, images: WorkflowImage) -> dict:
        found = zxingcpp.read_barcodes(images.pixels)
        boxes = [
            [
                code.position.top_left.x,
                code.position.top_left.y,
                code.position.bottom_right.x,
                code.position.bottom_right.y,
            ]
            for code in found
        ]
        return {
            "predictions": _codes_as_detections(
                images, boxes, [code.text for code in found], "barcode", "barcode-detection"
            )
        }


CODE_BLOCKS = [QRCodeDetector, BarcodeDetector]
