"""Encoded image bytes and in-memory images to BGR uint8 arrays, within limits."""

from __future__ import annotations

import io
import warnings

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from inference_core.errors import ImageDecodeError, PayloadTooLargeError
from inference_core.settings import ImageLimits

# We enforce our own pixel cap before decoding; PIL's warning-based one would only add noise.
Image.MAX_IMAGE_PIXELS = None


def decode_image_bytes(data: bytes, limits: ImageLimits, auto_orient: bool = True) -> np.ndarray:
    """Decode JPEG/PNG/BMP/WebP/TIFF/GIF bytes to BGR uint8, refusing decompression bombs."""
    check_byte_count(len(data), limits)
    width, height = _probe_size(data)
    check_pixel_count(width, height, limits)
    flags = cv2.IMREAD_COLOR if auto_orient else cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
    decoded = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    if decoded is None:  # formats OpenCV lacks (e.g. GIF in some builds): let PIL decode
        decoded = _decode_with_pil(data, auto_orient)
    return decoded


def pil_to_bgr(image: Image.Image, limits: ImageLimits, auto_orient: bool = True) -> np.ndarray:
    check_pixel_count(image.width, image.height, limits)
    if auto_orient:
        image = ImageOps.exif_transpose(image)
    if image.mode in {"I;16", "I;16B", "I;16L", "I"}:
        return array_to_bgr(np.asarray(image), limits)
    rgb = np.asarray(image.convert("RGB"))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


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


def check_byte_count(count: int, limits: ImageLimits) -> None:
    if count > limits.max_bytes:
        raise PayloadTooLargeError(
            f"Image is {count} bytes; the limit is {limits.max_bytes} bytes."
        )


def check_pixel_count(width: int, height: int, limits: ImageLimits) -> None:
    if width * height > limits.max_pixels:
        raise PayloadTooLargeError(
            f"Image is {width}x{height} pixels; the limit is {limits.max_pixels} pixels in total."
        )
    if width <= 0 or height <= 0:
        raise ImageDecodeError("Image has no pixels.")


def _probe_size(data: bytes) -> tuple[int, int]:
    """Read the dimensions from the header only, without decoding pixels."""
    if not data:
        raise ImageDecodeError("Image data is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as probe:
                return probe.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise ImageDecodeError(
            "Could not decode the image: the data is not a supported image format "
            "(JPEG, PNG, BMP, WebP, TIFF, GIF)."
        ) from error


def _decode_with_pil(data: bytes, auto_orient: bool) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            limits_off = ImageLimits(max_pixels=image.width * image.height)
            return pil_to_bgr(image, limits_off, auto_orient)
    except (OSError, ValueError, SyntaxError) as error:
        raise ImageDecodeError(f"Could not decode the image: {error}") from error


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
