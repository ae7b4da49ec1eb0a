"""Reduced-resolution JPEG decoding for images much larger than the network needs (opt-in).

libjpeg can decode a JPEG at 1/2, 1/4 or 1/8 of its size (DCT scaling), which
costs a fraction of the full decode and of the memory. It runs as the image gate's decode step:
every check of the gate runs on the full-size header first, and the gate refuses a result larger
than the header said. The pixels differ a little from resizing the full image, so predictions
move slightly (bench/results/large-frames-*.md); that is why it is off unless
`REDUCED_JPEG_DECODE` turns it on.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image

from inference_core.images.gate import DecodeStep, decode_scaled

#: The reduced image stays at least this many times the size it is then resized to.
MARGIN = 2
DENOMINATORS = (8, 4, 2)

#: (width, height) of an upright image -> the size that whole image is resized to.
ResizeTarget = Callable[[int, int], tuple[float, float]]


def scale_denominator(width: int, height: int, resize_target: ResizeTarget) -> int:
    """The largest DCT scale (1/8, 1/4, 1/2) keeping the image >= MARGIN x its resize target.

    The header's size is before EXIF rotation, so both ways up must allow the scale. A scale
    that would make a non-square image square is skipped: its orientation would be lost.
    """
    for denominator in DENOMINATORS:
        fits = all(
            side_w / denominator >= MARGIN * target_w and side_h / denominator >= MARGIN * target_h
            for side_w, side_h in ((width, height), (height, width))
            for target_w, target_h in [resize_target(side_w, side_h)]
        )
        reduced = (-(-width // denominator), -(-height // denominator))
        if fits and (width == height or reduced[0] != reduced[1]):
            return denominator
    return 1


def reduced_decode_step(resize_target: ResizeTarget, sizes: list[tuple[int, int]]) -> DecodeStep:
    """A gate decode step that decodes large JPEGs reduced; it appends the full (width, height)
    and the decoded (width, height), both before EXIF rotation, to `sizes`."""

    def step(image: Image.Image, data: bytes) -> np.ndarray:
        full = image.size
        denominator = scale_denominator(*full, resize_target) if image.format == "JPEG" else 1
        decoded = decode_scaled(image, data, denominator)
        sizes.extend([full, (decoded.shape[1], decoded.shape[0])])
        return decoded

    return step


def original_size(pixels: np.ndarray, sizes: list[tuple[int, int]]) -> tuple[int, int]:
    """The upright full-size (width, height) of an image the step decoded, rotated or not."""
    if not sizes:  # not an encoded image (arrays, Pillow images): there was no reduction
        return pixels.shape[1], pixels.shape[0]
    (full_width, full_height), decoded = sizes[0], sizes[1]
    upright = (pixels.shape[1], pixels.shape[0])
    return (full_width, full_height) if upright == decoded else (full_height, full_width)
