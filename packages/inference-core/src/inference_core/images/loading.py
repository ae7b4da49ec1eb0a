"""One entry point that turns any supported image source into a BGR uint8 array."""

from __future__ import annotations

import binascii
import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pybase64
from PIL import Image

from inference_core.errors import ImageDecodeError, ImageSourceNotAllowedError
from inference_core.images.decode import array_to_bgr, pil_to_bgr
from inference_core.images.gate import DecodeStep, check_byte_count, decode_full, decode_image
from inference_core.images.reduced import ResizeTarget, original_size, reduced_decode_step
from inference_core.images.safe_pickle import load_numpy_pickle
from inference_core.images.url_fetch import fetch_url
from inference_core.settings import ImageLimits, UrlPolicy

_DATA_URI_PREFIX = re.compile(r"^data:[\w/+.-]*;base64,", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class ImageLoader:
    """Loads images from every source form, within limits and the URL policy."""

    limits: ImageLimits = field(default_factory=ImageLimits)
    url_policy: UrlPolicy = field(default_factory=UrlPolicy)
    #: decode JPEGs much larger than the network needs at reduced size (`load_for_network`).
    reduced_jpeg_decode: bool = False
    #: how the image gate turns an opened image into pixels (see `load_for_network`).
    decode_step: DecodeStep = field(default=decode_full, repr=False, compare=False)

    def load(self, source: Any, auto_orient: bool = True) -> np.ndarray:
        """Return a BGR uint8 (H, W, 3) array.

        `source` may be a numpy array (BGR, or gray/BGRA, 8/16-bit or float), a PIL image,
        raw encoded bytes, a `pathlib.Path`, a string (http(s) URL, data URI, base64 text or
        file path) or a wire-format image object `{"type": ..., "value": ...}`.
        """
        if isinstance(source, np.ndarray):
            return array_to_bgr(source, self.limits)
        if isinstance(source, Image.Image):
            return pil_to_bgr(source, self.limits, auto_orient)
        if isinstance(source, (bytes, bytearray, memoryview)):
            return decode_image(bytes(source), self.limits, auto_orient, self.decode_step)
        if isinstance(source, Path):
            return self._load_file(source, auto_orient)
        if isinstance(source, Mapping):
            return self._load_typed(source, auto_orient)
        if isinstance(source, str):
            return self._load_string(source, auto_orient)
        raise ImageDecodeError(f"Unsupported image input of type {type(source).__name__}.")

    def load_for_network(
        self, source: Any, auto_orient: bool, resize_target: ResizeTarget
    ) -> tuple[np.ndarray, tuple[int, int]]:
        """The image as `load` gives it, and its upright full size (width, height).

        With `reduced_jpeg_decode`, a JPEG at least twice its `resize_target` on both sides is
        decoded at 1/2, 1/4 or 1/8 of its size (see `inference_core.images.reduced`).
        """
        if not self.reduced_jpeg_decode:
            pixels = self.load(source, auto_orient)
            return pixels, (pixels.shape[1], pixels.shape[0])
        sizes: list[tuple[int, int]] = []
        reducing = dataclasses.replace(self, decode_step=reduced_decode_step(resize_target, sizes))
        pixels = reducing.load(source, auto_orient)
        return pixels, original_size(pixels, sizes)

    def load_typed(self, kind: str, value: Any, auto_orient: bool = True) -> np.ndarray:
        """Load a wire-format image declaration (`type` is case-insensitive)."""
        kind = str(kind).lower()
        if kind == "base64":
            return decode_image(self._decode_base64(value), self.limits, auto_orient, self.decode_step)
        if kind == "url":
            return self._load_url(_require_text(value, "url"), auto_orient)
        if kind == "numpy":
            return self._load_numpy_pickle(self._decode_base64(value))
        if kind == "file":
            return self._load_file(Path(_require_text(value, "file")), auto_orient)
        if kind in {"pil", "numpy_object"}:
            return self.load(value, auto_orient)
        raise ImageDecodeError("Image declaration contains not recognised image type.")

    def fetch(self, url: Any) -> bytes:
        """Download a URL image's bytes under this loader's policy (no decoding)."""
        return fetch_url(_require_text(url, "url"), self.url_policy, self.limits.max_bytes)

    def load_numpy_pickle_bytes(self, payload: bytes) -> np.ndarray:
        return self._load_numpy_pickle(payload)

    def _load_typed(self, declaration: Mapping, auto_orient: bool) -> np.ndarray:
        if "type" not in declaration or "value" not in declaration:
            raise ImageDecodeError("Image object must have 'type' and 'value' fields.")
        return self.load_typed(declaration["type"], declaration["value"], auto_orient)

    def _load_string(self, text: str, auto_orient: bool) -> np.ndarray:
        stripped = text.strip()
        if stripped.lower().startswith(("http://", "https://")):
            return self._load_url(stripped, auto_orient)
        if _DATA_URI_PREFIX.match(stripped):
            return decode_image(self._decode_base64(stripped), self.limits, auto_orient, self.decode_step)
        looks_like_path = len(stripped) < 4096 and _looks_like_path(stripped)
        if looks_like_path and Path(stripped).expanduser().is_file():
            return self._load_file(Path(stripped).expanduser(), auto_orient)
        try:
            data = self._decode_base64(stripped)
        except ImageDecodeError:
            if looks_like_path:
                raise ImageDecodeError(f"Image file {stripped!r} does not exist.") from None
            raise
        return decode_image(data, self.limits, auto_orient, self.decode_step)

    def _load_url(self, url: str, auto_orient: bool) -> np.ndarray:
        return decode_image(self.fetch(url), self.limits, auto_orient, self.decode_step)

    def _load_file(self, path: Path, auto_orient: bool) -> np.ndarray:
        if not self.limits.allow_file_paths:
            raise ImageSourceNotAllowedError("Loading images from server file paths is disabled.")
        try:
            size = path.stat().st_size
            check_byte_count(size, self.limits)
            data = path.read_bytes()
        except (OSError, ValueError) as error:
            raise ImageDecodeError(f"Could not read image file {str(path)!r}.") from error
        return decode_image(data, self.limits, auto_orient, self.decode_step)

    def _load_numpy_pickle(self, payload: bytes) -> np.ndarray:
        if not self.limits.allow_numpy:
            raise ImageSourceNotAllowedError("Numpy image input is disabled on this server.")
        check_byte_count(len(payload), self.limits)
        return array_to_bgr(load_numpy_pickle(payload), self.limits)

    def _decode_base64(self, value: Any) -> bytes:
        if isinstance(value, (bytes, bytearray)):
            value = bytes(value).decode("ascii", errors="replace")
        text = _require_text(value, "base64").strip()
        prefix = _DATA_URI_PREFIX.match(text)
        if prefix:
            text = text[prefix.end() :]
        check_byte_count(len(text) * 3 // 4, self.limits)
        try:  # the common case, clean padded base64, without scanning the text first (SIMD decoder)
            return pybase64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            pass
        text = _WHITESPACE.sub("", text)
        text += "=" * (-len(text) % 4)
        try:
            return pybase64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            try:
                return pybase64.b64decode(text, altchars=b"-_", validate=True)
            except (binascii.Error, ValueError) as error:
                raise ImageDecodeError("Image value is not valid base64.") from error


def _require_text(value: Any, kind: str) -> str:
    if not isinstance(value, str):
        raise ImageDecodeError(f"Image of type '{kind}' needs a string value.")
    return value


def _looks_like_path(text: str) -> bool:
    if "\n" in text or "\x00" in text:
        return False
    if text.startswith(("/", "./", "../", "~")) or re.match(r"^[A-Za-z]:[\\/]", text):
        return True
    return bool(re.search(r"\.(jpe?g|png|bmp|webp|tiff?|gif)$", text, re.IGNORECASE))
