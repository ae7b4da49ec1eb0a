"""The image gate: every encoded image from a request is decoded here, and only here.

Cheapest checks first, and one library (Pillow) both reports the size and decodes, so no file can
look small to the check and be large to the decoder:

1. the byte cap;
2. the format, from the file's signature, against the allow-list (other image formats: 415);
3. a walk over the container structure within budgets (progressive JPEG scans, PNG chunks, GIF
   blocks, TIFF tags; see :mod:`inference_core.images.structure`);
4. Pillow opens the file with only that format's plugin and reads the header; the size it will
   decode to is checked against the pixel cap, and pixels x passes against the work budget;
5. the decode step turns the opened image and its bytes into BGR uint8 (baseline and progressive
   YCbCr or grey JPEGs through libjpeg-turbo's own API, see :mod:`inference_core.images.jpeg`,
   everything else through Pillow; it may decode at a reduced size, never a larger one: the gate
   checks the result);
6. the EXIF orientation read by the structure walk is applied.

The decode step is a parameter so another one (reduced-resolution JPEG decoding, see
:mod:`inference_core.images.reduced`) can be swapped in: every check above runs on the full-size
header first.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image

from inference_core.errors import ImageDecodeError, InferenceError, PayloadTooLargeError
from inference_core.images import formats, jpeg, structure
from inference_core.settings import ImageLimits

#: Decoding work allowed, in pixel passes: max_pixels x this (a progressive JPEG takes one
#: pass over its pixels per scan).
WORK_PASSES_AT_MAX_PIXELS = 16

#: (the image Pillow opened, the file's bytes) -> BGR uint8 pixels
DecodeStep = Callable[[Image.Image, bytes], np.ndarray]

# The pixel cap is ours (checked on the header below); Pillow's warning-based one only adds noise.
Image.MAX_IMAGE_PIXELS = None
# Pillow logs each PNG chunk it meets at DEBUG; a request's chunks never reach the log.
logging.getLogger("PIL").setLevel(logging.INFO)


def decode_full(image: Image.Image, data: bytes) -> np.ndarray:
    """The default decode step: the whole image at full size, as BGR uint8."""
    return decode_scaled(image, data, 1)


def decode_scaled(image: Image.Image, data: bytes, denominator: int) -> np.ndarray:
    """The image at 1/`denominator` of its size (a JPEG; other formats only at full size)."""
    if image.format == "JPEG" and image.mode in jpeg.MODES:
        pixels = jpeg.decode_bgr(data, image.width, image.height, denominator)
        if pixels is not None:
            return pixels
    if denominator > 1:  # Pillow picks the largest scale whose result is >= the size asked
        image.draft(image.mode, (image.width // denominator, image.height // denominator))
    image.load()
    return pil_image_to_bgr(image)


def decode_image(
    data: bytes, limits: ImageLimits, auto_orient: bool = True, decode_step: DecodeStep = decode_full
) -> np.ndarray:
    """Encoded image bytes to a BGR uint8 (H, W, 3) array, or a 4xx InferenceError."""
    check_byte_count(len(data), limits)
    image_format = formats.identify(data)
    layout = structure.inspect(data, image_format, limits)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns per odd tag or chunk: never into the log
        try:
            with Image.open(io.BytesIO(data), formats=[image_format]) as image:
                width, height = image.size
                check_pixel_count(width, height, limits)
                check_work(width * height, layout.passes, limits)
                decoded = decode_step(image, data)
        except InferenceError:
            raise
        except Exception as error:  # anything a decoder raises on request bytes is bad input
            raise ImageDecodeError(f"Could not decode the {image_format} image: {_reason(error)}") from None
    if decoded.ndim != 3 or decoded.shape[2] != 3 or decoded.shape[0] * decoded.shape[1] > width * height:
        raise ImageDecodeError(f"The {image_format} image decoded to an unexpected shape.")
    return orient(decoded, layout.orientation) if auto_orient else decoded


def check_byte_count(count: int, limits: ImageLimits) -> None:
    if count > limits.max_bytes:
        raise PayloadTooLargeError(f"Image is {count} bytes; the limit is {limits.max_bytes} bytes.")


def check_pixel_count(width: int, height: int, limits: ImageLimits) -> None:
    if width * height > limits.max_pixels:
        raise PayloadTooLargeError(
            f"Image is {width}x{height} pixels; the limit is {limits.max_pixels} pixels in total "
            "(MAX_IMAGE_PIXELS)."
        )
    if width <= 0 or height <= 0:
        raise ImageDecodeError("Image has no pixels.")


def check_work(pixels: int, passes: int, limits: ImageLimits) -> None:
    budget = limits.max_pixels * WORK_PASSES_AT_MAX_PIXELS
    if pixels * passes > budget:
        raise PayloadTooLargeError(
            f"Decoding this image takes {passes} passes over {pixels} pixels; the budget is "
            f"{budget} pixel passes ({WORK_PASSES_AT_MAX_PIXELS} x MAX_IMAGE_PIXELS)."
        )


def pil_image_to_bgr(image: Image.Image) -> np.ndarray:
    """A loaded Pillow image of any mode as BGR uint8; 16-bit and float samples are scaled."""
    if image.mode == "RGB":
        return cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)
    if image.mode == "L":
        return cv2.cvtColor(np.asarray(image), cv2.COLOR_GRAY2BGR)
    if image.mode.startswith("I;16"):
        gray = (np.asarray(image).astype(np.uint16) >> 8).astype(np.uint8)
        return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    if image.mode in ("I", "F"):
        samples = np.asarray(image)
        if image.mode == "F":
            samples = np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=0.0) * 255.0
        gray = np.clip(samples, 0, 255).astype(np.uint8)
        return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    return pil_image_to_bgr(image.convert("RGB"))


_ORIENTATIONS: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE),
    7: lambda a: a.transpose(1, 0, 2)[::-1, ::-1],
    8: lambda a: cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE),
}


def orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) so the image is upright."""
    turn = _ORIENTATIONS.get(orientation)
    return np.ascontiguousarray(turn(array)) if turn else array


def _reason(error: Exception) -> str:
    text = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
    return text.rstrip(".") + "."
