"""In-memory images (numpy arrays, Pillow images) to BGR uint8 arrays, within limits.

Encoded bytes go through :mod:`inference_core.images.gate` instead.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageOps

from inference_core.errors import ImageDecodeError
from inference_core.images.gate import check_pixel_count, pil_image_to_bgr
from inference_core.settings import ImageLimits


def pil_to_bgr(image: Image.Image, limits: ImageLimits, auto_orient: bool = True) -> np.ndarray:
    """A caller's own Pillow image (in-process API) as BGR uint8."""
    check_pixel_count(image.width, image.height, limits)
    if auto_orient:
        image = ImageOps.exif_transpose(image)
    return np.ascontiguousarray(pil_image_to_bgr(image))


def array_to_bgr(array: np.ndarray, limits: ImageLimits) -> np.ndarray:
    """Accept BGR/BGRA/gray arrays of uint8, uint16, bool or float and return BGR uint8 HWC."""
    if not isinstance(array, np.ndarray) or array.ndim not in (2, 3) or array.size == 0:
        raise ImageDecodeError(
            "Image array must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) and not be empty."
        )
    check_pixel_count(array.shape[1], array.shape[0], limits)
    array = _to_uint8(array)
    if array.ndim == 2 or array.shape[2] == 1:
        return cv2.cvtColor(array.reshape(array.shape[0], array.shape[1]), cv2.COLOR_GRAY2BGR)
    if array.shape[2] == 4:
        return cv2.cvtColor(array, cv2.COLOR_BGRA2BGR)
    if array.shape[2] == 3:
        return np.ascontiguousarray(array)
    raise ImageDecodeError(f"Image array has {array.shape[2]} channels; expected 1, 3 or 4.")


def _to_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if array.dtype == np.uint16:
        return (array >> 8).astype(np.uint8)
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ImageDecodeError("Float image array contains NaN or infinity.")
        scale = 255.0 if array.max(initial=0.0) <= 1.0 else 1.0
        return np.clip(array * scale, 0, 255).round().astype(np.uint8)
    if np.issubdtype(array.dtype, np.integer):
        return np.clip(array, 0, 255).astype(np.uint8)
    raise ImageDecodeError(f"Unsupported image array dtype {array.dtype}.")
