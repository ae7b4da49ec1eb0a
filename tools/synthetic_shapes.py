"""Synthetic scenes of simple geometric shapes, with exact labels.

The scenes feed the fixture models in ``assets/models`` and the tests: every
shape comes with its class, its box, its visible mask and its corner points,
so detection, segmentation, classification and pose outputs can all be
checked against ground truth without any downloaded data set.

Only numpy and OpenCV are needed (no torch), and a scene is a pure function of
the random generator it is given, so ``render_scene(np.random.default_rng(7))``
gives the same pixels on every machine.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import cv2
import numpy as np

# Order is the class id.
CLASS_NAMES: tuple[str, ...] = ("circle", "square", "triangle", "star")

# Each object must keep at least this share of its own pixels visible.
MIN_VISIBLE_FRACTION = 0.7
# Boxes of two objects may not overlap more than this, so that a detector
# decoded with the usual NMS IoU of 0.5 can find every object.
MAX_BOX_IOU = 0.35
# Shape extent (circumscribed diameter) as a share of the shorter image side.
MIN_SIZE_FRACTION = 0.06
MAX_SIZE_FRACTION = 0.35
PLACEMENT_ATTEMPTS = 60
# Star points: inner radius as a share of the outer radius.
STAR_INNER_RATIO = 0.45
# Fixed-point bits for cv2 drawing, so corners land with sub-pixel precision.
DRAW_SHIFT = 4
# Minimum colour distance (Euclidean, 0-255 BGR) between a shape and what lies
# under it, so shapes stay clearly visible.
MIN_COLOUR_CONTRAST = 90.0


@dataclass
class ShapeObject:
    class_id: int
    class_name: str
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in image pixels
    mask: np.ndarray  # (H, W) bool, visible pixels of this shape
    keypoints: np.ndarray  # (K, 2) float32 corner points in image pixels


@dataclass
class Scene:
    image: np.ndarray  # (H, W, 3) BGR uint8
    objects: list[ShapeObject]


@dataclass
class _Placement:
    """A shape's geometry before it is drawn."""

    class_id: int
    outline: np.ndarray  # (P, 2) float64 polygon, or the circle rim sampled
    keypoints: np.ndarray  # (K, 2) float32
    box: tuple[float, float, float, float]
    centre: tuple[float, float]
    radius: float


def render_scene(
    rng: np.random.Generator,
    width: int = 640,
    height: int = 480,
    min_objects: int = 1,
    max_objects: int = 4,
) -> Scene:
    """Render one scene of ``min_objects``..``max_objects`` shapes on a busy background.

    Shapes that cannot be placed within the visibility and overlap limits are
    dropped, so a crowded small image may hold fewer objects than asked for,
    but never fewer than one.
    """
    image = _render_background(rng, width, height)
    wanted = int(rng.integers(min_objects, max_objects + 1))
    full_masks: list[np.ndarray] = []
    placements: list[_Placement] = []
    for _ in range(wanted):
        placed = _place_shape(rng, width, height, placements, full_masks)
        if placed is None:
            continue
        placement, mask = placed
        _draw_shape(rng, image, placement, mask)
        placements.append(placement)
        full_masks.append(mask)
    _add_sensor_noise(rng, image)
    objects = _build_objects(placements, full_masks)
    return Scene(image=image, objects=objects)


# --- background -------------------------------------------------------------


def _render_background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A gradient, soft blobs and thin lines: texture a detector must ignore.

    The gradient and blobs are smooth, so they are composed at 1/16 scale and
    upsampled once, which keeps a scene cheap.
    """
    small_size = (max(width // 16, 4), max(height // 16, 4))
    low_frequency = _gradient(rng, *small_size)
    _add_soft_blobs(rng, low_frequency)
    image = cv2.resize(low_frequency, (width, height), interpolation=cv2.INTER_LINEAR)
    image = np.clip(image, 0, 255).astype(np.uint8)
    _add_lines(rng, image)
    return image


def _gradient(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    start, end = rng.uniform(20, 235, size=(2, 3)).astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    xs = np.linspace(0, 1, width, dtype=np.float32) * math.cos(angle)
    ys = np.linspace(0, 1, height, dtype=np.float32) * math.sin(angle)
    ramp = ys[:, None] + xs[None, :]
    ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)
    return start + ramp[:, :, None] * (end - start)


def _add_soft_blobs(rng: np.random.Generator, image: np.ndarray) -> None:
    """Blurry ellipses blended into a float image.

    Soft edges keep them from looking like the crisp shapes we label.
    """
    height, width = image.shape[:2]
    layer = np.zeros((height, width, 3), np.float32)
    weight = np.zeros((height, width), np.float32)
    for _ in range(int(rng.integers(2, 7))):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (int(rng.integers(2, width // 2 + 3)), int(rng.integers(2, height // 2 + 3)))
        colour = rng.uniform(0, 255, size=3).astype(np.float32)
        blob = np.zeros((height, width), np.float32)
        cv2.ellipse(blob, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        blob *= float(rng.uniform(0.3, 0.7))
        layer += blob[:, :, None] * colour
        weight += blob
    layer /= np.maximum(weight, 1e-6)[:, :, None]
    weight = np.clip(weight, 0, 0.8)
    layer = cv2.GaussianBlur(layer, (0, 0), 1.5)
    weight = cv2.GaussianBlur(weight, (0, 0), 1.5)[:, :, None]
    image[:] = image * (1 - weight) + layer * weight


def _add_lines(rng: np.random.Generator, image: np.ndarray) -> None:
    height, width = image.shape[:2]
    for _ in range(int(rng.integers(3, 12))):
        start = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        end = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        colour = rng.uniform(0, 255, size=3).tolist()
        cv2.line(image, start, end, colour, int(rng.integers(1, 4)), cv2.LINE_AA)


def _add_sensor_noise(rng: np.random.Generator, image: np.ndarray) -> None:
    """Gaussian noise, drawn as random bytes through an inverse-CDF table.

    Sampling normals directly costs more than the rest of the scene; 256
    quantile levels are plenty for pixel noise.
    """
    sigma = float(rng.uniform(2, 10))
    noise = (_GAUSSIAN_QUANTILES * sigma)[np.frombuffer(rng.bytes(image.size), np.uint8)]
    image[:] = np.clip(image + noise.reshape(image.shape), 0, 255).astype(np.uint8)


_GAUSSIAN_QUANTILES = np.array(
    [statistics.NormalDist().inv_cdf((level + 0.5) / 256) for level in range(256)], np.float32
)


# --- shapes -----------------------------------------------------------------


def _place_shape(
    rng: np.random.Generator,
    width: int,
    height: int,
    placements: list[_Placement],
    full_masks: list[np.ndarray],
) -> tuple[_Placement, np.ndarray] | None:
    """Try random spots until the new shape respects the overlap rules."""
    shorter_side = min(width, height)
    for attempt in range(PLACEMENT_ATTEMPTS):
        # Later attempts shrink the size range so crowded scenes still fit.
        shrink = 1.0 - 0.6 * attempt / PLACEMENT_ATTEMPTS
        size_fraction = rng.uniform(
            MIN_SIZE_FRACTION, MIN_SIZE_FRACTION + (MAX_SIZE_FRACTION - MIN_SIZE_FRACTION) * shrink
        )
        radius = size_fraction * shorter_side / 2
        class_id = int(rng.integers(0, len(CLASS_NAMES)))
        centre = (rng.uniform(radius + 1, width - radius - 1), rng.uniform(radius + 1, height - radius - 1))
        placement = _make_placement(class_id, centre, radius, rng.uniform(0, 2 * math.pi))
        if not _boxes_apart(placement.box, [other.box for other in placements]):
            continue
        mask = _shape_mask(placement, width, height)
        if _keeps_others_visible(mask, full_masks):
            return placement, mask
    return None


def _make_placement(class_id: int, centre: tuple[float, float], radius: float, rotation: float) -> _Placement:
    name = CLASS_NAMES[class_id]
    centre_x, centre_y = centre
    if name == "circle":
        # A circle looks the same at any rotation, so its keypoints sit at fixed
        # angles (right, bottom, left, top in image coordinates).
        keypoints = _points_on_circle(centre, radius, 4, 0.0)
        outline = _points_on_circle(centre, radius, 64, 0.0)
        box = (centre_x - radius, centre_y - radius, centre_x + radius, centre_y + radius)
    else:
        if name == "square":
            outline = _points_on_circle(centre, radius, 4, rotation)
            keypoints = outline
        elif name == "triangle":
            outline = _points_on_circle(centre, radius, 3, rotation)
            keypoints = outline
        elif name == "star":
            outline = _star_outline(centre, radius, rotation)
            keypoints = outline[0::2]
        else:
            raise ValueError(f"unknown shape {name!r}")
        box = (
            float(outline[:, 0].min()),
            float(outline[:, 1].min()),
            float(outline[:, 0].max()),
            float(outline[:, 1].max()),
        )
    return _Placement(
        class_id=class_id,
        outline=outline,
        keypoints=keypoints.astype(np.float32),
        box=tuple(float(value) for value in box),
        centre=(float(centre_x), float(centre_y)),
        radius=float(radius),
    )


def _points_on_circle(centre: tuple[float, float], radius: float, count: int, rotation: float) -> np.ndarray:
    angles = rotation + np.arange(count) * (2 * math.pi / count)
    return np.stack([centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles)], axis=1)


def _star_outline(centre: tuple[float, float], radius: float, rotation: float) -> np.ndarray:
    """Ten vertices alternating outer tip and inner notch, tips first."""
    angles = rotation + np.arange(10) * (math.pi / 5)
    radii = np.where(np.arange(10) % 2 == 0, radius, radius * STAR_INNER_RATIO)
    return np.stack([centre[0] + radii * np.cos(angles), centre[1] + radii * np.sin(angles)], axis=1)


def _boxes_apart(
    box: tuple[float, float, float, float], others: list[tuple[float, float, float, float]]
) -> bool:
    return all(box_iou(box, other) <= MAX_BOX_IOU for other in others)


def box_iou(first: tuple[float, float, float, float], second: tuple[float, float, float, float]) -> float:
    """IoU of two x1, y1, x2, y2 boxes."""
    inter_width = min(first[2], second[2]) - max(first[0], second[0])
    inter_height = min(first[3], second[3]) - max(first[1], second[1])
    if inter_width <= 0 or inter_height <= 0:
        return 0.0
    intersection = inter_width * inter_height
    area_first = (first[2] - first[0]) * (first[3] - first[1])
    area_second = (second[2] - second[0]) * (second[3] - second[1])
    return intersection / (area_first + area_second - intersection)


def _keeps_others_visible(new_mask: np.ndarray, full_masks: list[np.ndarray]) -> bool:
    """True when, with the new shape on top, every earlier shape stays visible enough."""
    if not full_masks:
        return True
    covered = new_mask.copy()
    # Walk from the newest shape down: each shape is hidden by all shapes above it.
    for mask in reversed(full_masks):
        area = int(np.count_nonzero(mask))
        hidden = int(np.count_nonzero(mask & covered))
        if area == 0 or (area - hidden) < MIN_VISIBLE_FRACTION * area:
            return False
        covered |= mask
    return True


def _shape_mask(placement: _Placement, width: int, height: int) -> np.ndarray:
    canvas = np.zeros((height, width), np.uint8)
    _fill(canvas, placement, 1, cv2.LINE_8)
    return canvas.astype(bool)


def _fill(canvas: np.ndarray, placement: _Placement, colour, line_type: int) -> None:
    scale = 1 << DRAW_SHIFT
    if CLASS_NAMES[placement.class_id] == "circle":
        centre = (round(placement.centre[0] * scale), round(placement.centre[1] * scale))
        cv2.circle(canvas, centre, round(placement.radius * scale), colour, -1, line_type, DRAW_SHIFT)
    else:
        points = np.round(placement.outline * scale).astype(np.int32)
        cv2.fillPoly(canvas, [points], colour, line_type, DRAW_SHIFT)


def _draw_shape(rng: np.random.Generator, image: np.ndarray, placement: _Placement, mask: np.ndarray) -> None:
    underneath = image[mask].reshape(-1, 3).mean(axis=0) if mask.any() else np.full(3, 128.0)
    colour = _contrasting_colour(rng, underneath)
    _fill(image, placement, colour, cv2.LINE_AA)


def _contrasting_colour(rng: np.random.Generator, underneath: np.ndarray) -> list[float]:
    for _ in range(20):
        colour = rng.uniform(0, 255, size=3)
        if float(np.linalg.norm(colour - underneath)) >= MIN_COLOUR_CONTRAST:
            return colour.tolist()
    # Rarely reached: the far corner of the colour cube always contrasts.
    return np.where(underneath > 127, 0.0, 255.0).tolist()


def _build_objects(placements: list[_Placement], full_masks: list[np.ndarray]) -> list[ShapeObject]:
    """Attach visible masks: each shape loses the pixels of every later shape."""
    objects: list[ShapeObject] = []
    covered = np.zeros_like(full_masks[0]) if full_masks else None
    visible_masks: list[np.ndarray] = []
    for mask in reversed(full_masks):
        visible_masks.append(mask & ~covered)
        covered |= mask
    visible_masks.reverse()
    for placement, visible in zip(placements, visible_masks, strict=True):
        objects.append(
            ShapeObject(
                class_id=placement.class_id,
                class_name=CLASS_NAMES[placement.class_id],
                box=placement.box,
                mask=visible,
                keypoints=placement.keypoints.copy(),
            )
        )
    return objects


# --- command line -----------------------------------------------------------


def _write_sample(arguments: list[str] | None = None) -> None:
    """Write one scene as a JPEG, e.g. the README demo image."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="path of the JPEG to write")
    parser.add_argument("--seed", type=int, default=SAMPLE_SEED)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--min-objects", type=int, default=4)
    parser.add_argument("--max-objects", type=int, default=4)
    parser.add_argument("--quality", type=int, default=95)
    options = parser.parse_args(arguments)
    scene = render_scene(
        np.random.default_rng(options.seed),
        options.width,
        options.height,
        options.min_objects,
        options.max_objects,
    )
    cv2.imwrite(options.output, scene.image, [cv2.IMWRITE_JPEG_QUALITY, options.quality])
    for shape in scene.objects:
        box = ", ".join(f"{value:.1f}" for value in shape.box)
        print(f"{shape.class_name}: box ({box})")


# The seed of assets/images/shapes-sample.jpg.
SAMPLE_SEED = 2007

if __name__ == "__main__":
    _write_sample()


# --- shapes at chosen places (moving-shape clips for the video tests) ---------


def render_background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """The busy background of a scene, without shapes or noise."""
    return _render_background(rng, width, height)


def draw_shape_at(
    image: np.ndarray,
    class_id: int,
    centre: tuple[float, float],
    radius: float,
    rotation: float,
    colour: tuple[float, float, float],
) -> tuple[float, float, float, float]:
    """Draw one shape where asked (anti-aliased, in place); returns its box (x1, y1, x2, y2)."""
    placement = _make_placement(class_id, centre, radius, rotation)
    _fill(image, placement, list(colour), cv2.LINE_AA)
    return placement.box
