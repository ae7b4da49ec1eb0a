"""Video clips of shapes moving along straight lines, with the box of every shape in every frame.

Clips are written as real H.264 files (PyAV's libx264) or kept as frames for streaming servers,
so the video tests decode what a camera or a recorded file would give them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from synthetic_shapes import draw_shape_at, render_background


@dataclass(frozen=True)
class MovingShape:
    class_id: int
    start: tuple[float, float]  # centre in the first frame
    velocity: tuple[float, float]  # pixels per frame
    radius: float
    colour: tuple[float, float, float]

    def centre(self, frame_index: int) -> tuple[float, float]:
        return (
            self.start[0] + self.velocity[0] * frame_index,
            self.start[1] + self.velocity[1] * frame_index,
        )


@dataclass
class Clip:
    frames: list[np.ndarray]
    boxes: list[list[tuple[float, float, float, float]]]  # per frame, per shape
    shapes: list[MovingShape]
    fps: float


def crossing_shapes(width: int = 640, height: int = 480) -> list[MovingShape]:
    """Two shapes crossing the vertical middle line in opposite directions, apart in height."""
    radius = 0.09 * min(width, height)
    return [
        MovingShape(1, (0.15 * width, 0.28 * height), (0.7 * width / 40, 0.0), radius, (20.0, 20.0, 230.0)),
        MovingShape(0, (0.85 * width, 0.72 * height), (-0.7 * width / 40, 0.0), radius, (230.0, 230.0, 30.0)),
    ]


def render_clip(
    shapes: list[MovingShape],
    frame_count: int,
    width: int = 640,
    height: int = 480,
    fps: float = 10.0,
    seed: int = 4242,
) -> Clip:
    background = render_background(np.random.default_rng(seed), width, height)
    frames, boxes = [], []
    for index in range(frame_count):
        image = background.copy()
        boxes.append(
            [
                draw_shape_at(image, shape.class_id, shape.centre(index), shape.radius, 0.3, shape.colour)
                for shape in shapes
            ]
        )
        frames.append(image)
    return Clip(frames, boxes, shapes, fps)


def write_h264(path: Path, frames: list[np.ndarray], fps: float) -> Path:
    """Encode BGR frames as an H.264 MP4 (every frame kept, constant rate)."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=int(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "18"}
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_hls(folder: Path, frames: list[np.ndarray], fps: float, segment_seconds: int = 1) -> Path:
    """Encode BGR frames as an HLS playlist (`clip.m3u8`) with H.264 segments, as a VOD stream."""
    folder.mkdir(parents=True, exist_ok=True)
    playlist = folder / "clip.m3u8"
    height, width = frames[0].shape[:2]
    options = {"hls_time": str(segment_seconds), "hls_playlist_type": "vod"}
    with av.open(str(playlist), "w", format="hls", options=options) as container:
        stream = container.add_stream("libx264", rate=int(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return playlist
