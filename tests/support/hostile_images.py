"""Small image files built to cost a decoder far more than their size: shared by the image-gate
unit tests, the server's hostile-input tests and the fuzzers."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def pil_bytes(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def sample_rgb(width: int = 64, height: int = 48, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    pixels[: height // 2, : width // 2] = (250, 20, 20)
    return Image.fromarray(pixels)


def jpeg_segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of every marker segment, a scan's entropy-coded data included."""
    segments, position = [], 2
    while position < len(data):
        assert data[position] == 0xFF
        marker = data[position + 1]
        start = position
        if marker == 0xD9:
            segments.append((marker, start, position + 2))
            break
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        position += 2 + length
        if marker == 0xDA:
            while not (data[position] == 0xFF and data[position + 1] not in (0x00, *range(0xD0, 0xD8))):
                position += 1
        segments.append((marker, start, position))
    return segments


def progressive_jpeg_with_scans(scans: int, width: int = 512, height: int = 512) -> bytes:
    """A progressive JPEG whose last refinement scan is repeated until it has `scans` scans."""
    data = pil_bytes(Image.new("RGB", (width, height), (90, 140, 200)), "JPEG", progressive=True)
    segments = jpeg_segments(data)
    sos = [(start, end) for marker, start, end in segments if marker == 0xDA]
    last_start, last_end = sos[-1]
    extra = data[last_start:last_end] * max(0, scans - len(sos))
    return data[:last_end] + extra + data[last_end:]


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_with_chunks(count: int, kind: bytes = b"sRGB", payload: bytes = b"\x00") -> bytes:
    """A small PNG with `count` extra chunks after IHDR (duplicate sRGB: libpng warns on each)."""
    png = pil_bytes(sample_rgb(16, 16), "PNG")
    header_end = 8 + 25  # signature + IHDR chunk
    return png[:header_end] + png_chunk(kind, payload) * count + png[header_end:]


def png_with_tiny_idat_chunks(count: int) -> bytes:
    """A PNG whose image data is spread over `count` chunks (most of them empty)."""
    png = pil_bytes(sample_rgb(16, 16), "PNG")
    header_end = 8 + 25
    return png[:header_end] + png_chunk(b"IDAT", b"") * count + png[header_end:]


def gif_with_comment_blocks(count: int) -> bytes:
    """A GIF with a comment extension of `count` one-byte sub-blocks before its first image."""
    gif = pil_bytes(sample_rgb(16, 16).convert("P"), "GIF")
    flags = gif[10]
    first_block = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    comment = b"\x21\xfe" + b"\x01x" * count + b"\x00"
    return gif[:first_block] + comment + gif[first_block:]


def gray_tiff(extra_entries: list[tuple[int, int, int, int]] = ()) -> bytes:
    """A 1x1 8-bit gray TIFF written by hand, with extra (tag, type, count, value) IFD entries."""
    base = [(256, 3, 1, 1), (257, 3, 1, 1), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
            (273, 4, 1, 0), (277, 3, 1, 1), (278, 3, 1, 1), (279, 4, 1, 1)]
    entries = sorted([*base, *extra_entries])
    pixel_at = 8 + 2 + 12 * len(entries) + 4
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        value = pixel_at if tag == 273 else value
        packed = struct.pack("<H", value) + b"\0\0" if kind == 3 and count == 1 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, count) + packed
    return b"II*\0" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + b"\x80"


def tiff_with_oversized_tag(count: int = 50_000_000) -> bytes:
    """A TIFF with a LONG tag claiming `count` values, far more than the file holds."""
    return gray_tiff([(65000, 4, count, 8)])


def tiff_with_many_tags(count: int) -> bytes:
    return gray_tiff([(40000 + index, 3, 1, 7) for index in range(count)])


def rle8_bmp(width: int, height: int) -> bytes:
    """An RLE8 BMP of one-pixel runs: every pixel costs Pillow's Python RLE decoder a step."""
    rows = b"".join(b"\x01\x07" * width + b"\x00\x00" for _ in range(height)) + b"\x00\x01"
    palette = b"".join(bytes((index, index, index, 0)) for index in range(256))
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 1, len(rows), 2835, 2835, 256, 0)
    offset = 14 + len(info) + len(palette)
    header = b"BM" + struct.pack("<IHHI", offset + len(rows), 0, 0, offset)
    return header + info + palette + rows


def ico_with_large_png(claimed: int = 16, actual: int = 2000) -> bytes:
    """An ICO whose directory claims a `claimed`-pixel icon holding an `actual`-pixel PNG."""
    png = pil_bytes(Image.new("RGB", (actual, actual)), "PNG")
    directory = struct.pack("<BBBBHHII", claimed, claimed, 0, 0, 1, 32, len(png), 22)
    return struct.pack("<HHH", 0, 1, 1) + directory + png


def other_format_images() -> dict[str, bytes]:
    """Real files of image formats outside the allow-list, each small and valid."""
    image = sample_rgb(16, 16)
    return {
        "ico": pil_bytes(image, "ICO"),
        "pcx": pil_bytes(image, "PCX"),
        "ppm": pil_bytes(image, "PPM"),
        "sgi": pil_bytes(image, "SGI"),
        "blp": pil_bytes(image.convert("P"), "BLP"),
        "ico-large-png": ico_with_large_png(),
    }
