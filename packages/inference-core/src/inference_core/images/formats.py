"""Which image format some bytes are, from their first bytes only, and whether we accept it.

Only the formats in :data:`ALLOWED_FORMATS` ever reach a decoder. Bytes that carry the signature
of another image format are refused with a 415; bytes that are no image we know of get a 400.
"""

from __future__ import annotations

import re

from inference_core.errors import ImageDecodeError, UnsupportedImageFormatError

#: The formats the image gate decodes (Pillow format names).
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")

_ALLOWED_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)

# Signatures of image formats we recognise but do not decode (answered 415, not 400).
_OTHER_SIGNATURES = (
    (b"\x00\x00\x01\x00", "ICO"),
    (b"\x00\x00\x02\x00", "CUR"),
    (b"BLP1", "BLP"),
    (b"BLP2", "BLP"),
    (b"8BPS", "PSD"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL"),
    (b"II+\x00", "BigTIFF"),
    (b"MM\x00+", "BigTIFF"),
    (b"DDS ", "DDS"),
    (b"icns", "ICNS"),
    (b"qoif", "QOI"),
    (b"%PDF", "PDF"),
    (b"%!PS", "EPS"),
    (b"\xc5\xd0\xd3\xc6", "EPS"),
    (b"\x01\xda", "SGI"),
    (b"SIMPLE", "FITS"),
    (b"\x8aMNG", "MNG"),
    (b"v/1\x01", "OpenEXR"),
    (b"#?RADIANCE", "Radiance HDR"),
    (b"\xb1h\xde:", "DCX"),
    (b"#define", "XBM"),
    (b"/* XPM */", "XPM"),
    (b"gimp xcf", "XCF"),
    (b"FORM", "IFF"),
    (b"\x59\xa6\x6a\x95", "Sun raster"),
    (b"\x0a\x05\x01", "PCX"),
    (b"\x0a\x02\x01", "PCX"),
    (b"\x0a\x03\x01", "PCX"),
    (b"\x0a\x00\x01", "PCX"),
)
_NETPBM = re.compile(rb"P[1-7F][\s#]")
_ISO_MEDIA_BRANDS = (b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"avif", b"avis", b"crx ")


def identify(data: bytes) -> str:
    """The allowed format of `data` (a Pillow format name), or raise 400/415."""
    if not data:
        raise ImageDecodeError("Image data is empty.")
    for signature, name in _ALLOWED_SIGNATURES:
        if data.startswith(signature):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    other = _other_format(data)
    if other:
        raise UnsupportedImageFormatError(
            f"{other} images are not accepted; send one of {', '.join(ALLOWED_FORMATS)}."
        )
    raise ImageDecodeError(
        "Could not decode the image: the data is not a supported image format "
        f"({', '.join(ALLOWED_FORMATS)})."
    )


def _other_format(data: bytes) -> str | None:
    for signature, name in _OTHER_SIGNATURES:
        if data.startswith(signature):
            return name
    if _NETPBM.match(data[:3]):
        return "Netpbm"
    if data[4:8] == b"ftyp" and data[8:12] in _ISO_MEDIA_BRANDS:
        return "HEIF/AVIF"
    if data[:4] == b"RIFF":
        return "RIFF (not WebP)"
    head = data[:256].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")):
        return "SVG/XML"
    return None
