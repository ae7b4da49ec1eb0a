"""Matching predictions against the synthetic ground truth."""

from __future__ import annotations

import numpy as np


def prediction_box(prediction) -> tuple[float, float, float, float]:
    item = prediction if isinstance(prediction, dict) else prediction.to_dict()
    half_width, half_height = item["width"] / 2, item["height"] / 2
    return item["x"] - half_width, item["y"] - half_height, item["x"] + half_width, item["y"] + half_height


def iou(first, second) -> float:
    width = max(0.0, min(first[2], second[2]) - max(first[0], second[0]))
    height = max(0.0, min(first[3], second[3]) - max(first[1], second[1]))
    intersection = width * height
    union = (first[2] - first[0]) * (first[3] - first[1]) + (second[2] - second[0]) * (second[3] - second[1])
    return intersection / (union - intersection) if union > intersection else 0.0


def match_scene(objects, predictions, min_iou: float = 0.7) -> tuple[int, int, int]:
    """(found, missed, false positives): a ground-truth object is found by a prediction of the
    right class with IoU >= min_iou; each prediction matches at most one object."""
    unused = list(predictions)
    found = 0
    for obj in objects:
        best, best_iou = None, min_iou
        for prediction in unused:
            item = prediction if isinstance(prediction, dict) else prediction.to_dict()
            overlap = iou(obj.box, prediction_box(item))
            if item["class"] == obj.class_name and overlap >= best_iou:
                best, best_iou = prediction, overlap
        if best is not None:
            unused.remove(best)
            found += 1
    return found, len(objects) - found, len(unused)


def mean_or_zero(values) -> float:
    return float(np.mean(values)) if len(values) else 0.0
