"""A cheap walk over an image file's container structure, before any decoder sees it.

Each walk is linear in the file's bytes with a bounded number of Python steps, and refuses the
shapes that make decoders do far more work than the pixel count suggests: too many progressive
JPEG scans, floods of PNG chunks, GIF blocks or TIFF tags, TIFF tags whose values would be read
many times over, RLE bitmaps (decoded by a pure-Python loop) above a small size. It also reads
the EXIF orientation itself (Pillow applies a TIFF's own orientation tag while decoding), so no
EXIF parser runs on a request's bytes.

Malformed structure is a 400; structure over a budget is a 413 naming the setting.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from inference_core.errors import ImageDecodeError, PayloadTooLargeError, UnsupportedImageFormatError
from inference_core.settings import ImageLimits

#: EXIF blocks larger than this are ignored for orientation (a JPEG APP1 segment holds 64 KiB).
MAX_EXIF_BYTES = 64 * 1024
#: RLE-compressed BMPs are decoded by a Python loop in Pillow: only small ones are accepted.
MAX_RLE_BMP_BYTES = 1024 * 1024
#: GIF data sub-blocks allowed before the first image, per allowed chunk.
GIF_SUBBLOCKS_PER_CHUNK = 16
#: Numeric TIFF tag values (each becomes a Python int in the decoder) allowed in the first IFD.
MAX_TIFF_VALUES = 1 << 18
#: PNG image-data chunks may number one per this many bytes of file (or max_image_chunks).
PNG_BYTES_PER_IDAT = 4096

_JPEG_ENTROPY_END = re.compile(rb"\xff(?=[^\x00\xd0-\xd7\xff])")
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_SOF_DECODED = {0xC0: False, 0xC1: False, 0xC2: True, 0xC9: False, 0xCA: True}
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD9)}
_TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4,
                    16: 8, 17: 8, 18: 8}
_TIFF_BYTE_TYPES = {1, 2, 6, 7}
_TIFF_ORIENTATION = 0x0112
_BMP_PLAIN, _BMP_RLE = {0, 3, 6}, {1, 2}


@dataclass(frozen=True)
class Layout:
    """What the walk learnt: how many full passes over the pixels decoding takes, orientation."""

    passes: int = 1
    orientation: int = 1


def inspect(data: bytes, image_format: str, limits: ImageLimits) -> Layout:
    walk = _WALKS.get(image_format)
    if walk is None:
        return Layout()
    try:
        return walk(data, limits)
    except (IndexError, struct.error):
        raise ImageDecodeError(f"The {image_format} file is cut short or malformed.") from None


def exif_orientation(tiff: bytes) -> int:
    """The Orientation tag (1-8) of IFD0 of a TIFF-structured EXIF block; 1 when absent or odd."""
    if len(tiff) > MAX_EXIF_BYTES or len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return 1
    order = "<" if tiff[:2] == b"II" else ">"
    try:
        (offset,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, offset)
        for index in range(min(count, len(tiff) // 12)):
            tag, kind, _, value = struct.unpack_from(order + "HHIH", tiff, offset + 2 + 12 * index)
            if tag == _TIFF_ORIENTATION and kind == 3:
                return value if 1 <= value <= 8 else 1
    except struct.error:
        return 1
    return 1


def _too_many(what: str, limit: int, setting: str) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"The image has more than {limit} {what}; the limit is {limit} ({setting}).")


def _jpeg(data: bytes, limits: ImageLimits) -> Layout:
    size, position, scans, segments = len(data), 2, 0, 0
    progressive, frame_seen, orientation = False, False, 1
    while position < size:
        if data[position] != 0xFF:
            raise ImageDecodeError("The JPEG file is malformed (a marker was expected).")
        while position < size and data[position] == 0xFF:
            position += 1
        if position >= size:
            break
        marker = data[position]
        position += 1
        if marker == 0xD9:
            break
        if marker in _JPEG_STANDALONE:
            continue
        length = int.from_bytes(data[position : position + 2], "big")
        if length < 2:
            raise ImageDecodeError("The JPEG file is malformed (a segment is too short).")
        segment_start, position = position + 2, position + length
        segments += 1
        if segments > limits.max_image_chunks + 4 * scans:
            raise _too_many("JPEG segments", limits.max_image_chunks, "MAX_IMAGE_CHUNKS")
        if marker in _JPEG_SOF:
            if frame_seen:
                raise ImageDecodeError("The JPEG file holds more than one frame.")
            if marker not in _JPEG_SOF_DECODED:
                raise UnsupportedImageFormatError(
                    "Lossless and hierarchical JPEG are not accepted; send a baseline or progressive JPEG."
                )
            frame_seen, progressive = True, _JPEG_SOF_DECODED[marker]
        elif marker == 0xE1 and orientation == 1 and data[segment_start : segment_start + 6] == b"Exif\0\0":
            orientation = exif_orientation(data[segment_start + 6 : position])
        elif marker == 0xDA:
            scans += 1
            if scans > limits.max_jpeg_scans:
                raise _too_many("JPEG scans", limits.max_jpeg_scans, "MAX_JPEG_SCANS")
            found = _JPEG_ENTROPY_END.search(data, position)
            position = found.start() if found else size
    if not frame_seen:
        raise ImageDecodeError("The JPEG file has no frame header.")
    return Layout(passes=max(1, scans) if progressive else 1, orientation=orientation)


def _png(data: bytes, limits: ImageLimits) -> Layout:
    size, position, chunks, image_chunks, orientation = len(data), 8, 0, 0, 1
    image_chunk_limit = max(limits.max_image_chunks, size // PNG_BYTES_PER_IDAT)
    while position + 8 <= size:
        length, kind = struct.unpack_from(">I4s", data, position)
        if length > 0x7FFFFFFF:
            raise ImageDecodeError("The PNG file is malformed (a chunk length is out of range).")
        start, position = position + 8, position + 12 + length
        if kind == b"IDAT":
            image_chunks += 1
            if image_chunks > image_chunk_limit:
                raise _too_many("PNG image-data chunks", image_chunk_limit, "MAX_IMAGE_CHUNKS")
            continue
        chunks += 1
        if chunks > limits.max_image_chunks:
            raise _too_many("PNG chunks", limits.max_image_chunks, "MAX_IMAGE_CHUNKS")
        if kind == b"eXIf":
            orientation = exif_orientation(data[start : start + length])
        elif kind == b"IEND":
            break
    return Layout(orientation=orientation)


def _gif(data: bytes, limits: ImageLimits) -> Layout:
    flags = data[10]
    position = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    blocks, limit = 0, limits.max_image_chunks * GIF_SUBBLOCKS_PER_CHUNK
    while True:
        introducer = data[position]
        if introducer == 0x2C:  # the first image: Pillow decodes only this one
            return Layout()
        if introducer != 0x21:
            raise ImageDecodeError("The GIF file has no image (or is malformed).")
        position += 2
        while (block_size := data[position]) != 0:
            position += block_size + 1
            blocks += 1
            if blocks > limit:
                raise _too_many("GIF blocks before the first image", limit, "MAX_IMAGE_CHUNKS")
        position += 1


def _tiff(data: bytes, limits: ImageLimits) -> Layout:
    order = "<" if data[:2] == b"II" else ">"
    (offset,) = struct.unpack_from(order + "I", data, 4)
    (count,) = struct.unpack_from(order + "H", data, offset)
    if count > limits.max_image_chunks:
        raise _too_many("TIFF tags", limits.max_image_chunks, "MAX_IMAGE_CHUNKS")
    values, value_bytes = 0, 0
    for index in range(count):
        _tag, kind, number = struct.unpack_from(order + "HHI", data, offset + 2 + 12 * index)
        unit = _TIFF_TYPE_SIZES.get(kind)
        if unit is None:
            continue  # the decoder skips tags of unknown types
        value_bytes += unit * number
        if kind not in _TIFF_BYTE_TYPES:
            values += number
    if values > MAX_TIFF_VALUES or value_bytes > len(data):
        raise ImageDecodeError(
            "The TIFF file's tags declare more values than the file can hold; refused as malformed."
        )
    return Layout()  # Pillow applies a TIFF's orientation tag itself while decoding


def _bmp(data: bytes, limits: ImageLimits) -> Layout:
    header_size = int.from_bytes(data[14:18], "little")
    compression = int.from_bytes(data[30:34], "little") if header_size >= 40 else 0
    if compression in _BMP_RLE and len(data) > MAX_RLE_BMP_BYTES:
        raise PayloadTooLargeError(
            f"RLE-compressed BMP images are accepted up to {MAX_RLE_BMP_BYTES} bytes; send PNG instead."
        )
    if compression not in _BMP_PLAIN | _BMP_RLE:
        raise UnsupportedImageFormatError(f"BMP compression {compression} is not accepted.")
    return Layout()


def _webp(data: bytes, limits: ImageLimits) -> Layout:
    size, position, chunks, orientation = min(len(data), 8 + int.from_bytes(data[4:8], "little")), 12, 0, 1
    while position + 8 <= size:
        kind, length = data[position : position + 4], int.from_bytes(data[position + 4 : position + 8], "little")
        start, position = position + 8, position + 8 + length + (length & 1)
        chunks += 1
        if kind == b"EXIF":
            orientation = exif_orientation(_strip_exif_header(data[start : start + length]))
        elif chunks > limits.max_image_chunks:
            break  # EXIF follows the frames of an animation; so many frames: orientation 1
    return Layout(orientation=orientation)


def _strip_exif_header(block: bytes) -> bytes:
    return block[6:] if block.startswith(b"Exif\0\0") else block


_WALKS = {"JPEG": _jpeg, "PNG": _png, "GIF": _gif, "TIFF": _tiff, "BMP": _bmp, "WEBP": _webp}
