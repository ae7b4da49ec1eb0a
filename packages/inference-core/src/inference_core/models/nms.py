"""Vectorised non-maximum suppression on true intersection-over-union.

Boxes of different classes never suppress each other, so each class is suppressed on its own
and the kept boxes are merged back into score order: exactly the boxes a single greedy pass over
all candidates keeps, at a small fraction of its cost when there are thousands of candidates (a
busy scene at a low confidence threshold). Small classes go side by side: classes of similar size
(up to 2, 4, 8, ... boxes) share one (classes, M, M) array of pairwise IoUs and one pass over its
M columns. A larger class is suppressed a block of its best remaining boxes at a time: the block is
resolved on its own small IoU matrix, and the boxes it keeps drop every remaining box they
overlap, so the cost grows with the boxes kept rather than with the class's size squared.
"""

from __future__ import annotations

import numpy as np

#: Classes of more boxes than this are suppressed block by block, without a full IoU matrix.
_SIDE_BY_SIDE_MAX = 64
#: Boxes resolved together in one step of a large class (one 64-bit mask per box).
_BLOCK = 64
#: Entries of one (classes, M, M) array of IoUs: classes of one size step go in parts this large.
_ARRAY_ENTRIES = 1 << 20


def box_iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """IoU of one xyxy box against (N, 4) xyxy boxes."""
    return _iou(box, others, _areas(box), _areas(others))


def _areas(boxes: np.ndarray) -> np.ndarray:
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def _iou(
    first: np.ndarray, second: np.ndarray, first_areas: np.ndarray, second_areas: np.ndarray
) -> np.ndarray:
    """IoU of xyxy boxes (..., 4) against each other, broadcast, given their areas."""
    inter_width = np.minimum(first[..., 2], second[..., 2]) - np.maximum(first[..., 0], second[..., 0])
    inter_height = np.minimum(first[..., 3], second[..., 3]) - np.maximum(first[..., 1], second[..., 1])
    intersection = np.maximum(inter_width, 0) * np.maximum(inter_height, 0)
    union = first_areas + second_areas - intersection
    return np.where(union > 0, intersection / np.maximum(union, 1e-12), 0.0)


def non_max_suppression(
    boxes: np.ndarray,
    scores: np.ndarray,
    class_ids: np.ndarray,
    iou_threshold: float,
    class_agnostic: bool = False,
    max_detections: int = 300,
) -> np.ndarray:
    """Indices of kept boxes, highest score first. A box is dropped when its IoU with a kept box
    of the same class (of any class when `class_agnostic`) is above the threshold."""
    if len(boxes) == 0:
        return np.empty(0, dtype=np.int64)
    boxes = boxes.astype(np.float64, copy=False)
    order = np.argsort(-scores, kind="stable")
    classes = np.zeros(len(order), dtype=np.int64) if class_agnostic else class_ids[order]
    grouping = np.argsort(classes, kind="stable")
    by_class = order[grouping]  # each class's boxes, in score order
    starts = np.concatenate([[0], np.flatnonzero(np.diff(classes[grouping])) + 1])
    sizes = np.diff(np.append(starts, len(by_class)))
    kept = []
    size_steps = np.ceil(np.log2(sizes)).astype(np.int64)
    for step in np.unique(size_steps).tolist():
        chosen = np.flatnonzero(size_steps == step)
        if 1 << step > _SIDE_BY_SIDE_MAX:
            for group in chosen.tolist():
                members = by_class[starts[group] : starts[group] + sizes[group]]
                kept.append(members[_greedy_in_blocks(boxes[members], iou_threshold, max_detections)])
            continue
        per_array = max(1, _ARRAY_ENTRIES >> (2 * step))
        for first in range(0, len(chosen), per_array):
            part = np.zeros(len(sizes), dtype=bool)
            part[chosen[first : first + per_array]] = True
            members = by_class[np.repeat(part, sizes)]
            kept.append(members[_greedy_side_by_side(boxes[members], sizes[part], iou_threshold)])
    kept = np.concatenate(kept)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return kept[np.argsort(rank[kept], kind="stable")][:max_detections]


def _greedy_side_by_side(boxes: np.ndarray, sizes: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy suppression of several classes at once: `boxes` hold the classes one after the
    other, each in score order, `sizes[g]` boxes of class g; positions of the kept ones."""
    group = np.repeat(np.arange(len(sizes)), sizes)
    slot = np.arange(len(boxes)) - (np.cumsum(sizes) - sizes)[group]
    padded = np.zeros((len(sizes), int(sizes.max()), 4))
    padded[group, slot] = boxes
    areas = _areas(padded)
    overlaps = _iou(padded[:, :, None], padded[:, None], areas[:, :, None], areas[:, None]) > iou_threshold
    suppressed = np.arange(padded.shape[1]) >= sizes[:, None]  # padding is never kept
    for column in range(padded.shape[1]):
        alive = ~suppressed[:, column]
        # IoU is symmetric, so a kept box never suppresses one kept before it; only itself
        suppressed |= overlaps[:, column] & alive[:, None]
        suppressed[:, column] = ~alive
    return np.flatnonzero(~suppressed[group, slot])


def _greedy_in_blocks(boxes: np.ndarray, iou_threshold: float, max_detections: int) -> np.ndarray:
    """Greedy suppression of one class's score-sorted boxes, a block of the best remaining boxes at
    a time: the block is resolved among itself on its small matrix of IoUs, then the boxes it keeps
    drop every remaining box they overlap, in one array operation. The arithmetic is that of one
    kept box at a time; the number of array operations falls by up to the block size."""
    index = np.arange(len(boxes))
    areas = _areas(boxes)
    kept: list[np.ndarray] = []
    count = 0
    while index.size and count < max_detections:
        size = min(_BLOCK, len(index))
        block, block_areas = boxes[:size], areas[:size]
        overlaps = _iou(block[:, None], block[None], block_areas[:, None], block_areas[None]) > iou_threshold
        chosen = _resolve_block(overlaps)
        kept.append(index[chosen])
        count += len(chosen)
        rest = slice(size, None)
        iou = _iou(block[chosen, None], boxes[None, rest], block_areas[chosen, None], areas[None, rest])
        survivors = np.flatnonzero(~(iou > iou_threshold).any(axis=0)) + size
        index, boxes, areas = index[survivors], boxes[survivors], areas[survivors]
    return np.concatenate(kept)[:max_detections] if kept else np.empty(0, dtype=np.int64)


def _resolve_block(overlaps: np.ndarray) -> np.ndarray:
    """Positions a greedy pass keeps among score-sorted boxes, given which pairs overlap (at most
    64 boxes: each row becomes one 64-bit mask, and the pass runs on Python integers)."""
    bits = np.left_shift(np.uint64(1), np.arange(len(overlaps), dtype=np.uint64))
    masks = np.bitwise_or.reduce(np.where(overlaps, bits, np.uint64(0)), axis=1).tolist()
    removed = 0
    chosen = []
    for position, mask in enumerate(masks):
        if not removed >> position & 1:
            chosen.append(position)
            removed |= mask
    return np.asarray(chosen, dtype=np.int64)
