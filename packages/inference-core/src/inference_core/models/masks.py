"""Instance mask decoding: prototypes x coefficients, box crop, polygons and COCO RLE."""

from __future__ import annotations

import cv2
import numpy as np

from inference_core.preprocessing import ImageTransform


def decode_masks(
    coefficients: np.ndarray,
    prototypes: np.ndarray,
    boxes: np.ndarray,
    input_size: tuple[int, int],
    mode: str,
    tradeoff_factor: float,
) -> tuple[np.ndarray, float]:
    """Binary masks on a grid between the prototype and input resolution.

    `boxes` are xyxy in input pixels. `accurate` decodes at input resolution, `fast` at the
    prototype resolution, `tradeoff` in between by `tradeoff_factor`. Returns the (N, gh, gw)
    boolean masks and the grid-to-input scale (input pixels per grid cell).
    """
    channels, proto_height, proto_width = prototypes.shape
    input_height, input_width = input_size
    factor = {"accurate": 1.0, "fast": 0.0}.get(mode, tradeoff_factor)
    grid_height = round(proto_height + factor * (input_height - proto_height))
    grid_width = round(proto_width + factor * (input_width - proto_width))
    if len(coefficients) == 0:
        return np.zeros((0, grid_height, grid_width), dtype=bool), input_width / grid_width
    logits = (coefficients.astype(np.float32) @ prototypes.reshape(channels, -1)).reshape(-1, proto_height, proto_width)
    probabilities = 1.0 / (1.0 + np.exp(-logits))
    if (grid_height, grid_width) != (proto_height, proto_width):
        # threshold each upsampled mask at once: N booleans, never N float maps held together
        masks = np.empty((len(probabilities), grid_height, grid_width), dtype=bool)
        for index, mask in enumerate(probabilities):
            np.greater(cv2.resize(mask, (grid_width, grid_height), interpolation=cv2.INTER_LINEAR), 0.5,
                       out=masks[index])
    else:
        masks = probabilities > 0.5
    scale = input_width / grid_width
    return _crop_to_boxes(masks, boxes / np.array([scale, input_height / grid_height] * 2)), scale


def _crop_to_boxes(masks: np.ndarray, grid_boxes: np.ndarray) -> np.ndarray:
    rows = np.arange(masks.shape[1])[None, :, None]
    columns = np.arange(masks.shape[2])[None, None, :]
    x1, y1, x2, y2 = (grid_boxes[:, index][:, None, None] for index in range(4))
    inside = (columns >= np.floor(x1)) & (columns < np.ceil(x2)) & (rows >= np.floor(y1)) & (rows < np.ceil(y2))
    return masks & inside


def largest_polygon(mask: np.ndarray) -> np.ndarray:
    """Largest outer contour of a binary mask as (P, 2) grid coordinates; empty if none."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return np.zeros((0, 2), dtype=np.float64)
    largest = max(contours, key=lambda contour: (cv2.contourArea(contour), len(contour)))
    return largest.reshape(-1, 2).astype(np.float64)


def mask_in_original(mask: np.ndarray, grid_scale: tuple[float, float], transform: ImageTransform) -> np.ndarray:
    """A grid mask to a boolean mask the size of the original image."""
    grid_height, grid_width = mask.shape
    scale_x, scale_y = grid_scale
    # Region of the grid that shows the (cropped) image, without letterbox padding.
    left, top = transform.pad_x / scale_x, transform.pad_y / scale_y
    right = left + transform.crop_width * transform.scale_x / scale_x
    bottom = top + transform.crop_height * transform.scale_y / scale_y
    region = mask[max(int(round(top)), 0) : min(int(round(bottom)), grid_height),
                  max(int(round(left)), 0) : min(int(round(right)), grid_width)]
    full = np.zeros((transform.original_height, transform.original_width), dtype=bool)
    if region.size == 0:
        return full
    # Bilinear then threshold (not nearest): smooth edges, and what Ultralytics' scale_masks does.
    resized = cv2.resize(region.astype(np.float32), (transform.crop_width, transform.crop_height),
                         interpolation=cv2.INTER_LINEAR)
    full[transform.crop_y : transform.crop_y + transform.crop_height,
         transform.crop_x : transform.crop_x + transform.crop_width] = resized > 0.5
    return full


def encode_coco_rle(mask: np.ndarray) -> dict[str, object]:
    """COCO's compressed RLE of a binary (H, W) mask: column-major runs, starting with zeros."""
    flat = mask.astype(np.uint8).flatten(order="F")
    changes = np.flatnonzero(np.diff(flat)) + 1
    boundaries = np.concatenate([[0], changes, [flat.size]])
    runs = np.diff(boundaries).tolist()
    if flat.size and flat[0] == 1:
        runs = [0, *runs]
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": _compress_counts(runs)}


def _compress_counts(runs: list[int]) -> str:
    """COCO's LEB128-like text encoding: runs after the second are stored as deltas."""
    characters = []
    for index, run in enumerate(runs):
        value = run - runs[index - 2] if index > 2 else run
        more = True
        while more:
            chunk = value & 0x1F
            value >>= 5
            sign_bit = (chunk & 0x10) != 0
            more = value != -1 if sign_bit else value != 0
            if more:
                chunk |= 0x20
            characters.append(chr(chunk + 48))
    return "".join(characters)


def decode_coco_rle(rle: dict[str, object]) -> np.ndarray:
    """Inverse of :func:`encode_coco_rle` (used by tests and clients)."""
    height, width = rle["size"]
    text, runs, position = rle["counts"], [], 0
    while position < len(text):
        value, shift, more = 0, 0, True
        while more:
            chunk = ord(text[position]) - 48
            value |= (chunk & 0x1F) << (5 * shift)
            more = bool(chunk & 0x20)
            position += 1
            shift += 1
            if not more and (chunk & 0x10):
                value |= -1 << (5 * shift)
        if len(runs) > 2:
            value += runs[-2]
        runs.append(value)
    flat = np.zeros(height * width, dtype=bool)
    cursor, bit = 0, False
    for run in runs:
        flat[cursor : cursor + run] = bit
        cursor += run
        bit = not bit
    return flat.reshape((height, width), order="F")
