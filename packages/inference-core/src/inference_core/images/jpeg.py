"""JPEG pixels written once, straight into a BGR array, by libjpeg-turbo's own API (simplejpeg).

Pillow keeps an RGB image at 4 bytes a pixel and copies it out again for numpy, which costs as
much as decoding a large frame a second time. libjpeg-turbo's API decodes into the final BGR array
in one pass; the pixels are the ones OpenCV's `cv2.imdecode` (Roboflow's decoder) and Pillow give,
bit for bit (same library, same IDCT and chroma upsampling), also at 1/2, 1/4 and 1/8 scale.

The image gate calls this only after its own checks, for files Pillow opened as a YCbCr or grey
JPEG. Any warning from the decoder (corrupt or truncated data) returns None, and Pillow then decides
as it always has; the decoder never writes to the log.
"""

from __future__ import annotations

import numpy as np
import simplejpeg

#: Pillow's modes for JPEGs that libjpeg-turbo turns into BGR exactly as Pillow and OpenCV do
#: (CMYK and YCCK files are left to Pillow).
MODES = ("RGB", "L")


def decode_bgr(data: bytes, width: int, height: int, denominator: int = 1) -> np.ndarray | None:
    """The JPEG in `data` (`width` x `height` in its header) as BGR uint8 at 1/`denominator` of its
    size, or None where libjpeg-turbo reports anything amiss or the size is not the one expected."""
    expected = (-(-height // denominator), -(-width // denominator))
    try:
        pixels = simplejpeg.decode_jpeg(
            data, colorspace="BGR", min_width=width // denominator, min_height=height // denominator,
            strict=True,
        )
    except ValueError:
        return None
    return pixels if pixels.shape[:2] == expected else None
