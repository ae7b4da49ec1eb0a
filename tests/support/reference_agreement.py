"""Reference predictions of the YOLO-NAS, YOLO26 and semantic-segmentation fixtures, made by each
architecture's own predictor (tools/fixtures_models2.py), and how ours are compared with them."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ASSETS = Path(__file__).resolve().parents[2] / "assets"
MIN_BOX_IOU = 0.98
MAX_CONFIDENCE_GAP = 0.01
SEMANTIC_CLASSES = ["background", "circle", "square", "triangle", "star"]


def reference(model_name: str) -> dict:
    return json.loads((ASSETS / "models" / f"{model_name}.reference.json").read_text())


def reference_image_path(name: str) -> Path:
    return ASSETS / "images" / "reference" / name


def reference_image(name: str) -> np.ndarray:
    image = cv2.imread(str(reference_image_path(name)))
    assert image is not None, name
    return image


def reference_image_base64(name: str) -> str:
    return base64.b64encode(reference_image_path(name).read_bytes()).decode("ascii")


def wire_boxes(predictions: list) -> list[dict]:
    """Our predictions (wire dicts or response objects) as xyxy boxes with class and confidence."""
    rows = []
    for item in predictions:
        item = item if isinstance(item, dict) else item.to_dict()
        x, y, width, height = item["x"], item["y"], item["width"], item["height"]
        rows.append({"box": [x - width / 2, y - height / 2, x + width / 2, y + height / 2],
                     "confidence": item["confidence"], "class": item["class"], "class_id": item["class_id"]})
    return rows


def box_iou(first: list[float], second: list[float]) -> float:
    width = max(0.0, min(first[2], second[2]) - max(first[0], second[0]))
    height = max(0.0, min(first[3], second[3]) - max(first[1], second[1]))
    intersection = width * height
    areas = (first[2] - first[0]) * (first[3] - first[1]) + (second[2] - second[0]) * (second[3] - second[1])
    union = areas - intersection
    return intersection / union if union > 0 else 0.0


@dataclass
class BoxAgreement:
    matched: int
    ours_only: list[dict]
    reference_only: list[dict]
    min_iou: float
    max_confidence_gap: float

    def check(self, label: str) -> None:
        assert not self.ours_only and not self.reference_only, (
            f"{label}: ours only {self.ours_only}, reference only {self.reference_only}"
        )
        assert self.min_iou >= MIN_BOX_IOU, f"{label}: box IoU {self.min_iou:.4f}"
        assert self.max_confidence_gap <= MAX_CONFIDENCE_GAP, f"{label}: confidence gap {self.max_confidence_gap}"


def compare_boxes(ours: list[dict], theirs: list[dict]) -> BoxAgreement:
    """Pair each reference box with our best-overlapping box of the same class.

    Reference boxes are rounded to whole pixels first, as Roboflow's server (and ours) answers:
    Ultralytics' predictor gives fractions, and rounding alone moves a 38-pixel box's IoU to 0.97.
    """
    theirs = [{**row, "box": [float(round(value)) for value in row["box"]]} for row in theirs]
    remaining = list(ours)
    min_iou, max_gap, matched, reference_only = 1.0, 0.0, 0, []
    for want in sorted(theirs, key=lambda row: -row["confidence"]):
        candidates = [(box_iou(want["box"], got["box"]), index) for index, got in enumerate(remaining)
                      if got["class"] == want["class"]]
        if not candidates or max(candidates)[0] < 0.5:
            reference_only.append(want)
            continue
        iou, index = max(candidates)
        got = remaining.pop(index)
        matched += 1
        min_iou = min(min_iou, iou)
        max_gap = max(max_gap, abs(got["confidence"] - want["confidence"]))
    return BoxAgreement(matched, remaining, reference_only, min_iou, max_gap)


def decode_png(encoded: str) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(base64.b64decode(encoded), np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None and image.ndim == 2 and image.dtype == np.uint8
    return image


def pixel_agreement(ours_png: str, reference_png: str) -> float:
    ours, theirs = decode_png(ours_png), decode_png(reference_png)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    return float((ours == theirs).mean())
