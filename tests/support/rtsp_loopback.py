"""Start and kill the loopback RTSP server (tests/support/rtsp_server.py) from the tests."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import cv2
import numpy as np

SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
SYSTEM_PYTHON = "/usr/bin/python3"


def rtsp_unavailable_reason() -> str | None:
    """Why the RTSP server cannot run here, or None when it can."""
    probe = "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"
    try:
        result = subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{SYSTEM_PYTHON} cannot run ({error}); scripts/setup-video.sh installs the RTSP server"
    if result.returncode != 0:
        return "GStreamer's RTSP server (python3-gi, gir1.2-gst-rtsp-server-1.0) is missing: run scripts/setup-video.sh"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_jpeg_frames(frames: list[np.ndarray], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"frame{index:04d}.jpg"), frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return folder


class RtspServer:
    def __init__(self, frames_dir: Path, port: int, fps: int = 10) -> None:
        self.frames_dir, self.port, self.fps = frames_dir, port, fps
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/stream"

    def start(self) -> RtspServer:
        self._process = subprocess.Popen(
            [SYSTEM_PYTHON, str(SERVER_SCRIPT), str(self.port), str(self.frames_dir), str(self.fps)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        line = self._process.stdout.readline().strip()
        if line != "ready":
            self.kill()
            raise RuntimeError(f"RTSP server did not start: {line!r}")
        return self

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=30)
            self._process.stdout.close()
            self._process = None
