"""Turning inputs into what the server receives, and visualisations back into images.

Rules (docs/WIRE.md §5): a numpy array is BGR and is JPEG-encoded (quality 95); a PIL image is
JPEG-encoded; a local path is sent as its raw bytes; an http(s) URL is downloaded by the client;
any other string is taken to be base64 already. Lists (nested too) are flattened, in order.

With client-side downsizing on, an image larger than the limit is decoded, shrunk to fit (aspect
kept) and re-encoded, and its `Scaling` lets `predictions.rescale` map coordinates back.

Only Pillow is required. numpy is imported only when it is needed: a caller who passes an array
has it already; numpy visualisations and stream frames ask for it with a clear message.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from PIL import Image, ImageOps, UnidentifiedImageError

from inference_sdk.http.entities import VisualisationResponseFormat
from inference_sdk.http.errors import EncodingError, InvalidInputFormatError
from inference_sdk.http.protocol import Call, Operation, RetryPolicy, deferred, gather, send

if TYPE_CHECKING:
    import numpy as np

ImagesReference = Union["np.ndarray", Image.Image, str]
JPEG_QUALITY = 95


@dataclass(frozen=True)
class SizeLimit:
    max_height: int
    max_width: int


@dataclass(frozen=True)
class Scaling:
    """An image was sent at `sent` size instead of its `original` (width, height)."""

    original: tuple[int, int]
    sent: tuple[int, int]

    @property
    def x_factor(self) -> float:
        return self.original[0] / self.sent[0]

    @property
    def y_factor(self) -> float:
        return self.original[1] / self.sent[1]


@dataclass(frozen=True)
class EncodedImage:
    value: str  # base64 of an encoded image, or the caller's own base64 string
    scaling: Scaling | None = None


def flatten(inputs: Any) -> list[Any]:
    if isinstance(inputs, (list, tuple)):
        return [item for element in inputs for item in flatten(element)]
    return [inputs]


def load_inputs(
    inputs: list[Any], limit: SizeLimit | None, retry: RetryPolicy, concurrency: int
) -> Operation[list[EncodedImage]]:
    """Encode every input (downloading URLs), `concurrency` at a time; results in input order."""
    operations = [_load_input(item, limit, retry) for item in inputs]
    return (yield from gather(operations, concurrency))


def _load_input(item: Any, limit: SizeLimit | None, retry: RetryPolicy) -> Operation[EncodedImage]:
    if isinstance(item, str) and is_http_url(item):
        return _download(item, limit, retry)
    return deferred(encode_local_input, item, limit)


def _download(url: str, limit: SizeLimit | None, retry: RetryPolicy) -> Operation[EncodedImage]:
    reply = yield from send(Call("GET", url), retry)
    return encode_bytes(reply.content, limit)


def is_http_url(reference: str) -> bool:
    return reference.startswith(("http://", "https://"))


def encode_local_input(item: Any, limit: SizeLimit | None) -> EncodedImage:
    if is_array(item):
        return encode_pil(array_to_pil(item), limit)
    if isinstance(item, Image.Image):
        return encode_pil(item, limit)
    if isinstance(item, (bytes, bytearray)):
        return encode_bytes(bytes(item), limit)
    if isinstance(item, Path) or (isinstance(item, str) and _is_file(item)):
        return encode_bytes(Path(item).read_bytes(), limit)
    if isinstance(item, str):
        return _encode_base64_string(item, limit)
    raise InvalidInputFormatError(f"Unknown type of input ({type(item).__name__}) submitted.")


def _is_file(reference: str) -> bool:
    # A long base64 string is not a path; os.path.isfile answers False (not an error) for it.
    return len(reference) < 4096 and os.path.isfile(reference)


def _encode_base64_string(value: str, limit: SizeLimit | None) -> EncodedImage:
    if limit is None:
        return EncodedImage(value)
    payload = value.split(",", 1)[1] if value.startswith("data:") else value
    try:
        raw = base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError) as error:
        raise EncodingError("Input string is neither a file, a URL nor valid base64.") from error
    return encode_bytes(raw, limit, original_base64=value)


def encode_bytes(raw: bytes, limit: SizeLimit | None, original_base64: str | None = None) -> EncodedImage:
    """Encoded image bytes: sent as they are unless they must be shrunk to fit `limit`."""
    unchanged = EncodedImage(original_base64 or base64.b64encode(raw).decode("ascii"))
    if limit is None:
        return unchanged
    image = decode_image(raw)
    if not _exceeds(image.size, limit):
        return unchanged
    return encode_pil(image, limit)


def encode_pil(image: Image.Image, limit: SizeLimit | None) -> EncodedImage:
    original_size = image.size
    if limit is not None and _exceeds(original_size, limit):
        image = _shrink(image, limit)
    scaling = Scaling(original_size, image.size) if image.size != original_size else None
    return EncodedImage(base64.b64encode(to_jpeg(image)).decode("ascii"), scaling)


def _exceeds(size: tuple[int, int], limit: SizeLimit) -> bool:
    width, height = size
    return width > limit.max_width or height > limit.max_height


def _shrink(image: Image.Image, limit: SizeLimit) -> Image.Image:
    width, height = image.size
    ratio = min(limit.max_width / width, limit.max_height / height)
    new_size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    return image.resize(new_size, Image.Resampling.BILINEAR)


def to_jpeg(image: Image.Image) -> bytes:
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def is_array(item: Any) -> bool:
    numpy = sys.modules.get("numpy")  # an array cannot exist unless numpy was imported
    return numpy is not None and isinstance(item, numpy.ndarray)


def import_numpy() -> Any:
    try:
        import numpy
    except ImportError as error:
        raise ImportError(
            'numpy arrays (BGR frames, numpy visualisations) need numpy: pip install "visionhost-sdk[numpy]"'
        ) from error
    return numpy


def array_to_pil(array: np.ndarray) -> Image.Image:
    """A BGR (or BGRA, or grayscale) uint8 array, OpenCV's layout, as an RGB/L PIL image."""
    numpy = import_numpy()
    if array.dtype != numpy.uint8:
        raise EncodingError(f"Expected a uint8 image array, got dtype {array.dtype}.")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        return Image.fromarray(numpy.ascontiguousarray(array), mode="L")
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise EncodingError(f"Expected an HxW, HxWx3 or HxWx4 image array, got shape {array.shape}.")
    return Image.fromarray(numpy.ascontiguousarray(array[:, :, 2::-1]), mode="RGB")


def pil_to_bgr(image: Image.Image) -> np.ndarray:
    numpy = import_numpy()
    return numpy.ascontiguousarray(numpy.asarray(image.convert("RGB"))[:, :, ::-1])


def decode_image(raw: bytes) -> Image.Image:
    """Decode encoded bytes, applying EXIF orientation as OpenCV's `imread` does."""
    try:
        image = Image.open(io.BytesIO(raw))
        image.load()
    except (UnidentifiedImageError, OSError) as error:
        raise EncodingError("Could not decode image bytes.") from error
    return ImageOps.exif_transpose(image) or image


def decode_visualisation(raw: bytes, expected: VisualisationResponseFormat) -> Any:
    if expected is VisualisationResponseFormat.BASE64:
        return base64.b64encode(raw).decode("ascii")
    image = decode_image(raw)
    return pil_to_bgr(image) if expected is VisualisationResponseFormat.NUMPY else image
