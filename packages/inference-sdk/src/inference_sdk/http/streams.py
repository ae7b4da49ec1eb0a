"""Frame sources for `infer_on_stream`: an image folder, a video file or stream, or a camera.

Image folders need only Pillow. Video files, stream URLs and cameras are read with OpenCV, which
is imported only when one is asked for (`pip install "visionhost-sdk[opencv]"`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inference_sdk.http.errors import InvalidInputFormatError
from inference_sdk.http.images import decode_image, pil_to_bgr

if TYPE_CHECKING:
    import numpy as np

Frame = tuple[Any, "np.ndarray"]  # (file path or frame index, BGR image)


def frames(source: str | int | os.PathLike, image_extensions: list[str] | None) -> Iterator[Frame]:
    """Yield (reference, BGR frame): file paths for a folder (sorted), frame indices otherwise."""
    if isinstance(source, int) or (isinstance(source, str) and source.isdigit()):
        return _video_frames(int(source))
    if os.path.isdir(source):
        return _folder_frames(Path(source), image_extensions)
    return _video_frames(os.fspath(source))


def _folder_frames(folder: Path, image_extensions: list[str] | None) -> Iterator[Frame]:
    for path in sorted(folder.iterdir()):
        if path.is_file() and _has_extension(path, image_extensions):
            yield path.as_posix(), pil_to_bgr(decode_image(path.read_bytes()))


def _has_extension(path: Path, image_extensions: list[str] | None) -> bool:
    if image_extensions is None:
        return True
    return path.suffix.lstrip(".") in {extension.lstrip(".") for extension in image_extensions}


def _video_frames(source: str | int) -> Iterator[Frame]:
    cv2 = _import_opencv()
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        raise InvalidInputFormatError(f"Could not open video source {source!r}.")
    try:
        index = 0
        while True:
            success, frame = capture.read()
            if not success:
                return
            yield index, frame
            index += 1
    finally:
        capture.release()


def _import_opencv() -> Any:
    try:
        import cv2
    except ImportError as error:
        raise ImportError(
            "Reading video files, streams and cameras needs OpenCV: "
            'pip install "visionhost-sdk[opencv]" (image folders work without it).'
        ) from error
    return cv2
