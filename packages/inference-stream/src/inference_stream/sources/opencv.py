"""Files, RTSP/RTMP/HTTP (MJPEG, HLS) streams and cameras through OpenCV's FFmpeg backend.

Chosen over PyAV by measurement (bench/video.py, bench/results/video-*.md): the same CPU time per
1080p frame (PyAV's threaded decoding was ahead in wall time there), four times faster at
640x480, and OpenCV is a core dependency already. Open and read timeouts bound every blocking FFmpeg call,
so a source that never answers cannot hold a thread for longer than that.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import cv2
import numpy as np

from inference_stream.entities import SourceProperties
from inference_stream.settings import StreamSettings
from inference_stream.sources.base import VideoSourcePlugin

NETWORK_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "tcp", "udp", "srt")


def is_network_reference(reference: Any) -> bool:
    return isinstance(reference, str) and urlsplit(reference.strip()).scheme.lower() in NETWORK_SCHEMES


class OpenCVSource(VideoSourcePlugin):
    name = "opencv"

    @classmethod
    def accepts(cls, reference: Any) -> bool:
        return isinstance(reference, (int, str)) and not isinstance(reference, bool)

    @classmethod
    def network_address(cls, reference: Any) -> str | None:
        return reference.strip() if is_network_reference(reference) else None

    def __init__(self, reference: Any, settings: StreamSettings) -> None:
        self._reference = reference
        timeouts = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            int(settings.open_timeout * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            int(settings.read_timeout * 1000),
        ]
        if isinstance(reference, int):
            self._capture = cv2.VideoCapture(reference, cv2.CAP_ANY, timeouts)
        else:
            self._capture = cv2.VideoCapture(reference, cv2.CAP_FFMPEG, timeouts)

    def isOpened(self) -> bool:  # noqa: N802
        return bool(self._capture.isOpened())

    def grab(self) -> bool:
        return bool(self._capture.grab())

    def retrieve(self) -> tuple[bool, np.ndarray | None]:
        ok, image = self._capture.retrieve()
        return bool(ok), image if ok else None

    def release(self) -> None:
        self._capture.release()

    def initialize_source_properties(self, properties: dict[str, Any]) -> None:
        for name, value in properties.items():
            property_id = getattr(cv2, f"CAP_PROP_{str(name).upper()}", None)
            if property_id is None:
                raise ValueError(f"Unknown video source property {name!r} (cv2.CAP_PROP_* names).")
            self._capture.set(property_id, float(value))

    def discover_source_properties(self) -> SourceProperties:
        width = int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        total_frames = max(int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
        is_file = isinstance(self._reference, str) and total_frames > 0 and os.path.isfile(self._reference)
        created = None
        if is_file and fps > 0:
            modified = datetime.fromtimestamp(os.path.getmtime(self._reference))
            created = modified - timedelta(seconds=total_frames / fps)
        return SourceProperties(
            width=width,
            height=height,
            total_frames=total_frames,
            is_file=is_file,
            fps=fps,
            is_reconnectable=not is_file,
            timestamp_created=created,
        )
