"""Vectorised non-maximum suppression on true intersection-over-union."""

from __future__ import annotations

import numpy as np

# Shifting each class's boxes this far apart makes one NMS pass act per class.
_CLASS_OFFSET = 8192.0
#: Up to this many candidates, all pairwise IoUs are computed at once (N x N float64).
_MATRIX_LIMIT = 1024


def box_iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """IoU of one xyxy box against (N, 4) xyxy boxes."""
    inter_width = np.clip(np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]), 0, None)
    inter_height = np.clip(np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]), 0, None)
    intersection = inter_width * inter_height
    area = (box[2] - box[0]) * (box[3] - box[1])
    other_areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    union = area + other_areas - intersection
    return np.where(union > 0, intersection / np.maximum(union, 1e-12), 0.0)


def pairwise_iou(boxes: np.ndarray) -> np.ndarray:
    """(N, N) IoU of xyxy boxes against each other."""
    x1, y1, x2, y2 = (boxes[:, index] for index in range(4))
    inter_width = np.clip(np.minimum(x2[:, None], x2) - np.maximum(x1[:, None], x1), 0, None)
    inter_height = np.clip(np.minimum(y2[:, None], y2) - np.maximum(y1[:, None], y1), 0, None)
    intersection = inter_width * inter_height
    areas = (x2 - x1) * (y2 - y1)
    union = areas[:, None] + areas - intersection
    return np.where(union > 0, intersection / np.maximum(union, 1e-12), 0.0)


def non_max_suppression(
    boxes: np.ndarray,
    scores: np.ndarray,
    class_ids: np.ndarray,
    iou_threshold: float,
    class_agnostic: bool = False,
    max_detections: int = 300,
) -> np.ndarray:
    """Indices of kept boxes, highest score first. A box is dropped when IoU > threshold."""
    if len(boxes) == 0:
        return np.empty(0, dtype=np.int64)
    shifted = boxes.astype(np.float64)
    if not class_agnostic:
        shifted = shifted + (class_ids.astype(np.float64) * _CLASS_OFFSET)[:, None]
    order = np.argsort(-scores, kind="stable")
    if len(order) <= _MATRIX_LIMIT:
        return order[_greedy_on_matrix(pairwise_iou(shifted[order]) > iou_threshold, max_detections)]
    kept: list[int] = []
    while order.size and len(kept) < max_detections:
        best = order[0]
        kept.append(int(best))
        rest = order[1:]
        order = rest[box_iou(shifted[best], shifted[rest]) <= iou_threshold]
    return np.asarray(kept, dtype=np.int64)


def _greedy_on_matrix(overlaps: np.ndarray, max_detections: int) -> np.ndarray:
    """Greedy selection over score-sorted boxes given which pairs overlap too much."""
    suppressed = np.zeros(len(overlaps), dtype=bool)
    kept: list[int] = []
    for index in range(len(overlaps)):
        if suppressed[index]:
            continue
        kept.append(index)
        if len(kept) == max_detections:
            break
        suppressed |= overlaps[index]
    return np.asarray(kept, dtype=np.int64)
