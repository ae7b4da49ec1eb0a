"""Synthetic scene data for the fixtures: letterboxing, scene sets with targets, flips, classifier crops."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from synthetic_shapes import CLASS_NAMES, Scene, render_scene

CACHE_DIR = Path("/tmp/shape-fixture-cache")
INPUT_SIZE = 320
STRIDE = 8
GRID = INPUT_SIZE // STRIDE
LETTERBOX_GREY = 114
PROTO_SIZE = INPUT_SIZE // 4
MASK_COEFFICIENTS = 32
# Seeds at or above this are never used for training.
HELD_OUT_SEED_BASE = 10_000_000


# --- data -------------------------------------------------------------------


@dataclass
class Letterbox:
    """How an original image maps into the square network input."""

    scale: float
    pad_left: int
    pad_top: int


def letterbox(image: np.ndarray, size: int = INPUT_SIZE) -> tuple[np.ndarray, Letterbox]:
    """Resize keeping aspect ratio and pad with grey, exactly as Ultralytics' LetterBox.

    scale = min(size/h, size/w); the resized size is rounded, the padding is
    split in two with Ultralytics' +-0.1 rounding so odd padding puts the
    extra pixel at the bottom/right.
    """
    height, width = image.shape[:2]
    scale = min(size / height, size / width)
    resized_width, resized_height = int(round(width * scale)), int(round(height * scale))
    if (resized_width, resized_height) != (width, height):
        image = cv2.resize(image, (resized_width, resized_height), interpolation=cv2.INTER_LINEAR)
    pad_x, pad_y = (size - resized_width) / 2, (size - resized_height) / 2
    top, bottom = int(round(pad_y - 0.1)), int(round(pad_y + 0.1))
    left, right = int(round(pad_x - 0.1)), int(round(pad_x + 0.1))
    grey = (LETTERBOX_GREY,) * 3
    image = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=grey)
    return image, Letterbox(scale=scale, pad_left=left, pad_top=top)


def to_network_input(letterboxed_bgr: np.ndarray) -> np.ndarray:
    """BGR uint8 HWC -> RGB float32 CHW in 0..1, as Ultralytics feeds ONNX."""
    rgb = letterboxed_bgr[:, :, ::-1]
    return np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32) / 255.0


def scene_size(rng: np.random.Generator) -> tuple[int, int]:
    """A width, height between 320x320 and 800x600, about a third portrait."""
    short_side = int(rng.integers(320, 601))
    aspect = float(rng.uniform(1.0, 1.5))
    long_side = min(int(short_side * aspect), 800)
    if rng.random() < 0.35:
        return short_side, long_side
    return long_side, short_side


def scene_for_seed(seed: int, max_objects: int = 4) -> Scene:
    rng = np.random.default_rng(seed)
    width, height = scene_size(rng)
    return render_scene(rng, width, height, 1, max_objects)


@dataclass
class SceneSet:
    """Letterboxed training scenes with per-image labels in input pixels."""

    images: np.ndarray  # (N, 320, 320, 3) uint8 BGR, letterboxed
    boxes: list[np.ndarray]  # per image (M, 4) float32 x1y1x2y2
    classes: list[np.ndarray]  # per image (M,) int64
    masks: list[np.ndarray] | None = None  # per image (M, 80, 80) uint8 0..255 visible-mask cover
    keypoints: list[np.ndarray] | None = None  # per image (M, K, 3) x, y, visible (0/1)


# The pose fixture finds squares only, with their 4 corners.
POSE_CLASS_ID = CLASS_NAMES.index("square")
POSE_KEYPOINTS = 4
# Pose scenes hold more shapes, so that enough of them are squares.
POSE_MAX_OBJECTS = 6


def build_scene_set(kind: str, first_seed: int, count: int, max_objects: int = 4) -> SceneSet:
    """Render and letterbox ``count`` scenes (cached on disk between runs).

    kind "detect" keeps boxes and classes, "segment" adds masks, "pose" keeps
    only squares (as class 0) with their corner keypoints.
    """
    cache_file = CACHE_DIR / f"{kind}-{first_seed}-{count}-{max_objects}.npz"
    if kind == "detect" and max_objects == 4:
        cache_file = CACHE_DIR / f"detect-{first_seed}-{count}.npz"  # name used by the first runs
    if cache_file.exists():
        return _load_scene_set(cache_file)
    images = np.zeros((count, INPUT_SIZE, INPUT_SIZE, 3), np.uint8)
    boxes, classes, masks, keypoints = [], [], [], []
    for index in range(count):
        scene = scene_for_seed(first_seed + index, max_objects)
        images[index], placement = letterbox(scene.image)
        shapes = scene.objects
        if kind == "pose":
            shapes = [shape for shape in shapes if shape.class_id == POSE_CLASS_ID]
        boxes.append(boxes_to_input(shapes, placement))
        classes.append(np.array([0 if kind == "pose" else shape.class_id for shape in shapes], np.int64))
        if kind == "segment":
            masks.append(_proto_grid_masks(shapes, placement))
        if kind == "pose":
            keypoints.append(corner_keypoints(shapes, placement))
    data = SceneSet(images, boxes, classes, masks or None, keypoints or None)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    _save_scene_set(cache_file, data)
    return data


def build_detection_set(first_seed: int, count: int) -> SceneSet:
    return build_scene_set("detect", first_seed, count)


def boxes_to_input(shapes: list, placement: Letterbox) -> np.ndarray:
    boxes = np.array([shape.box for shape in shapes], np.float32).reshape(-1, 4)
    boxes *= placement.scale
    boxes[:, [0, 2]] += placement.pad_left
    boxes[:, [1, 3]] += placement.pad_top
    return boxes


def letterbox_mask(mask: np.ndarray, placement: Letterbox, size: int = INPUT_SIZE) -> np.ndarray:
    """A (H, W) bool mask -> (size, size) float32 cover in 0..1 on the letterboxed input."""
    height, width = mask.shape
    resized_size = (int(round(width * placement.scale)), int(round(height * placement.scale)))
    resized = cv2.resize(mask.astype(np.float32), resized_size, interpolation=cv2.INTER_AREA)
    canvas = np.zeros((size, size), np.float32)
    canvas[
        placement.pad_top : placement.pad_top + resized_size[1],
        placement.pad_left : placement.pad_left + resized_size[0],
    ] = resized
    return canvas


def _proto_grid_masks(shapes: list, placement: Letterbox) -> np.ndarray:
    """Visible masks averaged down to the 80x80 prototype grid, stored as 0..255."""
    masks = np.zeros((len(shapes), PROTO_SIZE, PROTO_SIZE), np.uint8)
    for index, shape in enumerate(shapes):
        cover = cv2.resize(
            letterbox_mask(shape.mask, placement), (PROTO_SIZE, PROTO_SIZE), interpolation=cv2.INTER_AREA
        )
        masks[index] = np.round(cover * 255).astype(np.uint8)
    return masks


def canonical_corner_order(corners: np.ndarray) -> np.ndarray:
    """Indices that start at the top-most corner (smallest y) and keep the cyclic order.

    The synthetic generator lists corners clockwise on screen, so the result
    is "top-most first, then clockwise" - the order the pose fixture emits.
    """
    first = int(np.argmin(corners[:, 1]))
    return (first + np.arange(len(corners))) % len(corners)


def corner_keypoints(shapes: list, placement: Letterbox) -> np.ndarray:
    """(M, 4, 3) corners in input pixels, canonical order, visible = not hidden by a later shape."""
    keypoints = np.zeros((len(shapes), POSE_KEYPOINTS, 3), np.float32)
    for index, shape in enumerate(shapes):
        corners = shape.keypoints[canonical_corner_order(shape.keypoints)]
        keypoints[index, :, 0] = corners[:, 0] * placement.scale + placement.pad_left
        keypoints[index, :, 1] = corners[:, 1] * placement.scale + placement.pad_top
        keypoints[index, :, 2] = [_corner_visible(shape, corner) for corner in corners]
    return keypoints


def _corner_visible(shape, corner: np.ndarray) -> float:
    """Whether the shape's own pixels show just inside this corner (not occluded)."""
    centre = np.array([(shape.box[0] + shape.box[2]) / 2, (shape.box[1] + shape.box[3]) / 2])
    inside = corner + 0.15 * (centre - corner)
    column, row = int(inside[0]), int(inside[1])
    height, width = shape.mask.shape
    return float(0 <= row < height and 0 <= column < width and shape.mask[row, column])


_PER_OBJECT_FIELDS = ("boxes", "classes", "masks", "keypoints")


def _save_scene_set(path: Path, data: SceneSet) -> None:
    arrays = {"images": data.images, "counts": np.array([len(item) for item in data.classes])}
    for field in _PER_OBJECT_FIELDS:
        values = getattr(data, field)
        if values is not None:
            arrays[field] = np.concatenate(values)
    np.savez(path, **arrays)


def _load_scene_set(path: Path) -> SceneSet:
    stored = np.load(path)
    splits = np.cumsum(stored["counts"])[:-1]
    per_object = {
        field: list(np.split(stored[field], splits)) if field in stored else None
        for field in _PER_OBJECT_FIELDS
    }
    return SceneSet(stored["images"], **per_object)


def flip_detection(
    image: np.ndarray, boxes: np.ndarray, horizontal: bool, vertical: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Mirror an input image and its boxes; shapes stay the same class."""
    boxes = boxes.copy()
    if horizontal:
        image = image[:, ::-1]
        boxes[:, [0, 2]] = INPUT_SIZE - boxes[:, [2, 0]]
    if vertical:
        image = image[::-1]
        boxes[:, [1, 3]] = INPUT_SIZE - boxes[:, [3, 1]]
    return image, boxes


def flip_masks(masks: np.ndarray, horizontal: bool, vertical: bool) -> np.ndarray:
    if horizontal:
        masks = masks[:, :, ::-1]
    if vertical:
        masks = masks[:, ::-1]
    return masks


def flip_keypoints(keypoints: np.ndarray, horizontal: bool, vertical: bool) -> np.ndarray:
    """Mirror corners and restore "top-most first, clockwise" order.

    One mirror turns clockwise into counter-clockwise, so the order is
    reversed before picking the new top-most corner.
    """
    keypoints = keypoints.copy()
    if horizontal:
        keypoints[:, :, 0] = INPUT_SIZE - keypoints[:, :, 0]
    if vertical:
        keypoints[:, :, 1] = INPUT_SIZE - keypoints[:, :, 1]
    if horizontal != vertical:
        keypoints = keypoints[:, ::-1]
    for index in range(len(keypoints)):
        keypoints[index] = keypoints[index][canonical_corner_order(keypoints[index, :, :2])]
    return keypoints


CLASSIFY_SIZE = 128
MULTILABEL_SIZE = 224
MULTILABEL_UPSCALE = 2


def resize_shorter_and_centre_crop(image: np.ndarray, size: int = CLASSIFY_SIZE) -> np.ndarray:
    """Ultralytics' classify transform: shorter side to size, then a centred size x size crop.

    Like torchvision's Resize(size), the longer side is truncated; area
    interpolation stands in for PIL's antialiased bilinear when shrinking.
    """
    height, width = image.shape[:2]
    if height <= width:
        new_height, new_width = size, int(size * width / height)
    else:
        new_height, new_width = int(size * height / width), size
    shrinking = new_height < height
    resized = cv2.resize(
        image, (new_width, new_height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    )
    top = int(round((new_height - size) / 2.0))
    left = int(round((new_width - size) / 2.0))
    return resized[top : top + size, left : left + size]


def stretch_resize(image: np.ndarray, size: int = MULTILABEL_SIZE) -> np.ndarray:
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR)


def normalise_half(image_bgr: np.ndarray) -> np.ndarray:
    """BGR uint8 -> RGB CHW float32 (x/255 - 0.5) / 0.5, the multi-label fixture's input."""
    return to_network_input(image_bgr) * 2.0 - 1.0


def classification_sample(seed: int) -> tuple[np.ndarray, int]:
    """A crop roughly centred on one shape (1.4-2.4x its size, aspect up to 1.35) and its class."""
    rng = np.random.default_rng(seed)
    scene = render_scene(rng, int(rng.integers(240, 481)), int(rng.integers(240, 481)), 1, 1)
    shape = scene.objects[0]
    x1, y1, x2, y2 = shape.box
    extent = max(x2 - x1, y2 - y1) * rng.uniform(1.4, 2.4)
    aspect = rng.uniform(1.0, 1.35)
    crop_width, crop_height = (extent * aspect, extent) if rng.random() < 0.5 else (extent, extent * aspect)
    centre_x = (x1 + x2) / 2 + rng.uniform(-0.05, 0.05) * extent
    centre_y = (y1 + y2) / 2 + rng.uniform(-0.05, 0.05) * extent
    left, right = _crop_span(centre_x, crop_width, scene.image.shape[1])
    top, bottom = _crop_span(centre_y, crop_height, scene.image.shape[0])
    return scene.image[top:bottom, left:right], shape.class_id


def _crop_span(centre: float, length: float, limit: int) -> tuple[int, int]:
    """A span of about ``length`` around ``centre``, shifted (or shortened) to fit in 0..limit."""
    length = min(int(round(length)), limit)
    start = int(round(centre - length / 2))
    start = min(max(start, 0), limit - length)
    return start, start + length


def _cached_images_and_labels(cache_file: Path, build) -> tuple[np.ndarray, np.ndarray]:
    """build()'s (images, labels), kept in cache_file (an .npz) for the next run."""
    if cache_file.exists():
        stored = np.load(cache_file)
        return stored["images"], stored["labels"]
    images, labels = build()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.savez(cache_file, images=images, labels=labels)
    return images, labels


def build_classification_set(first_seed: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, 128, 128, 3) uint8 BGR pre-processed crops and (N,) class ids, cached."""

    def build() -> tuple[np.ndarray, np.ndarray]:
        images = np.zeros((count, CLASSIFY_SIZE, CLASSIFY_SIZE, 3), np.uint8)
        labels = np.zeros(count, np.int64)
        for index in range(count):
            crop, labels[index] = classification_sample(first_seed + index)
            images[index] = resize_shorter_and_centre_crop(crop)
        return images, labels

    return _cached_images_and_labels(CACHE_DIR / f"classify-{first_seed}-{count}.npz", build)


def build_multilabel_set(first_seed: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, 224, 224, 3) uint8 BGR stretched scenes and (N, C) 0/1 presence labels, cached."""

    def build() -> tuple[np.ndarray, np.ndarray]:
        images = np.zeros((count, MULTILABEL_SIZE, MULTILABEL_SIZE, 3), np.uint8)
        labels = np.zeros((count, len(CLASS_NAMES)), np.float32)
        for index in range(count):
            scene = scene_for_seed(first_seed + index)
            images[index] = stretch_resize(scene.image)
            labels[index, [shape.class_id for shape in scene.objects]] = 1.0
        return images, labels

    return _cached_images_and_labels(CACHE_DIR / f"multilabel-{first_seed}-{count}.npz", build)
