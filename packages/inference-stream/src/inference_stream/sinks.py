"""Sinks for `on_prediction`, with Roboflow's names and behaviour.

Each accepts one `(predictions, video_frame)` pair or, in a multi-source pipeline, two aligned
lists in which sources missing from a batch are None.
"""

from __future__ import annotations

import json
import logging
import socket
from collections import deque
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

import cv2
import numpy as np
import supervision as sv

from inference_stream.entities import VideoFrame

logger = logging.getLogger(__name__)

ImageWithSourceID = tuple[int | None, np.ndarray]
DEFAULT_BBOX_ANNOTATOR = sv.BoxAnnotator()
DEFAULT_LABEL_ANNOTATOR = sv.LabelAnnotator()
DEFAULT_FPS_MONITOR = sv.FPSMonitor()


def _as_list(element: Any) -> list:
    return element if isinstance(element, list) else [element]


def create_tiles(images: list[np.ndarray]) -> np.ndarray:
    """Images side by side in a near-square grid, each letterboxed to the first one's size."""
    if len(images) == 1:
        return images[0]
    height, width = images[0].shape[:2]
    columns = int(np.ceil(np.sqrt(len(images))))
    rows = int(np.ceil(len(images) / columns))
    canvas = np.zeros((rows * height, columns * width, 3), dtype=np.uint8)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        tile = image if image.shape[:2] == (height, width) else sv.letterbox_image(image, (width, height))
        canvas[row * height : (row + 1) * height, column * width : (column + 1) * width] = tile
    return canvas


def display_image(image: ImageWithSourceID | list[ImageWithSourceID]) -> None:
    """Show the rendered frame in an OpenCV window (needs an OpenCV build with a GUI)."""
    if isinstance(image, list):
        cv2.imshow("Predictions - tiles", create_tiles([item[1] for item in image]))
    else:
        source_id, picture = image
        cv2.imshow(f"Predictions - video: {'N/A' if source_id is None else source_id}", picture)
    cv2.waitKey(1)


def render_boxes(
    predictions: dict | list[dict | None],
    video_frame: VideoFrame | list[VideoFrame | None],
    annotator: Any = None,
    display_size: tuple[int, int] | None = (1280, 720),
    fps_monitor: sv.FPSMonitor | None = DEFAULT_FPS_MONITOR,
    display_statistics: bool = False,
    on_frame_rendered: Callable[[Any], None] = display_image,
) -> None:
    """Draw boxes and labels (supervision annotators) and hand the image to `on_frame_rendered`.

    One source: `on_frame_rendered((source_id, image))`; several: a list of `(index, image)`.
    """
    sequential = not isinstance(video_frame, list)
    frames, all_predictions = _as_list(video_frame), _as_list(predictions)
    annotators = (
        annotator
        if isinstance(annotator, list)
        else [annotator]
        if annotator is not None
        else [
            DEFAULT_BBOX_ANNOTATOR,
            DEFAULT_LABEL_ANNOTATOR,
        ]
    )
    fps_value = None
    if fps_monitor is not None:
        for _ in range(sum(frame is not None for frame in frames)):
            fps_monitor.tick()
        fps_value = fps_monitor.fps
    images = [
        (index, _render(frame, prediction, annotators, display_size, display_statistics, fps_value))
        for index, (frame, prediction) in enumerate(zip(frames, all_predictions))
    ]
    if sequential:
        on_frame_rendered((frames[0].source_id, images[0][1]))
    else:
        on_frame_rendered(images)


def _render(
    frame: VideoFrame | None,
    prediction: dict | None,
    annotators: list,
    display_size: tuple[int, int] | None,
    display_statistics: bool,
    fps_value: float | None,
) -> np.ndarray:
    if frame is None:
        image = np.zeros((256, 256, 3), dtype=np.uint8)
    else:
        image = frame.image.copy()
        try:
            detections = sv.Detections.from_inference(prediction)
            labels = [item["class"] for item in prediction["predictions"]]
            for annotator in annotators:
                if isinstance(annotator, sv.LabelAnnotator):
                    image = annotator.annotate(scene=image, detections=detections, labels=labels)
                else:
                    image = annotator.annotate(scene=image, detections=detections)
        except (TypeError, KeyError, ValueError):
            logger.warning(
                "render_boxes(...) got predictions that supervision.Detections.from_inference(...) cannot read"
            )
    if display_size is not None:
        image = sv.letterbox_image(image, display_size)
    if display_statistics:
        image = render_statistics(image, frame.frame_timestamp if frame is not None else None, fps_value)
    return image


def render_statistics(image: np.ndarray, frame_timestamp: datetime | None, fps: float | None) -> np.ndarray:
    height = image.shape[0]
    if frame_timestamp is not None:
        latency = round((datetime.now() - frame_timestamp).total_seconds() * 1000, 2)
        cv2.putText(
            image, f"LATENCY: {latency} ms", (10, height - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 255, 0), 2
        )
    if fps is not None:
        cv2.putText(
            image,
            f"THROUGHPUT: {round(fps, 2)}",
            (10, height - 50),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.8,
            (0, 255, 0),
            2,
        )
    return image


class UDPSink:
    """Sends each frame's predictions as one JSON datagram, with `inference_metadata` added."""

    @classmethod
    def init(cls, ip_address: str, port: int) -> UDPSink:
        udp_socket = socket.socket(family=socket.AF_INET, type=socket.SOCK_DGRAM)
        udp_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        udp_socket.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        udp_socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        return cls(ip_address=ip_address, port=port, udp_socket=udp_socket)

    def __init__(self, ip_address: str, port: int, udp_socket: socket.socket) -> None:
        self._ip_address = ip_address
        self._port = port
        self._socket = udp_socket

    def send_predictions(
        self, predictions: dict | list[dict | None], video_frame: VideoFrame | list[VideoFrame | None]
    ) -> None:
        for frame, frame_predictions in zip(_as_list(video_frame), _as_list(predictions)):
            if frame is None:
                continue
            frame_predictions["inference_metadata"] = {
                "source_id": frame.source_id,
                "frame_id": frame.frame_id,
                "frame_decoding_time": frame.frame_timestamp.isoformat(),
                "emission_time": datetime.now().isoformat(),
            }
            self._socket.sendto(json.dumps(frame_predictions).encode("utf-8"), (self._ip_address, self._port))


def multi_sink(
    predictions: dict | list[dict | None],
    video_frame: VideoFrame | list[VideoFrame | None],
    sinks: list[Callable[[Any, Any], None]],
) -> None:
    """Call every sink in order; one failing is logged and does not stop the others."""
    for sink in sinks:
        try:
            sink(predictions, video_frame)
        except Exception as error:
            logger.error("Could not send prediction and/or frame to sink due to error: %s.", error)


class VideoFileSink:
    """Writes the rendered frames (boxes and labels drawn) to a video file, MJPG by default."""

    @classmethod
    def init(
        cls,
        video_file_name: str,
        annotator: Any = None,
        display_size: tuple[int, int] | None = (1280, 720),
        fps_monitor: sv.FPSMonitor | None = DEFAULT_FPS_MONITOR,
        display_statistics: bool = False,
        output_fps: int = 25,
        quiet: bool = False,
        video_frame_size: tuple[int, int] = (1280, 720),
    ) -> VideoFileSink:
        return cls(
            video_file_name,
            annotator,
            display_size,
            fps_monitor,
            display_statistics,
            output_fps,
            quiet,
            video_frame_size,
        )

    def __init__(
        self,
        video_file_name: str,
        annotator: Any,
        display_size: tuple[int, int] | None,
        fps_monitor: sv.FPSMonitor | None,
        display_statistics: bool,
        output_fps: int,
        quiet: bool,
        video_frame_size: tuple[int, int],
    ) -> None:
        self._video_file_name = video_file_name
        self._output_fps = output_fps
        self._quiet = quiet
        self._video_frame_size = tuple(video_frame_size)
        self._frame_idx = 0
        self._video_writer: cv2.VideoWriter | None = None
        self.on_prediction = partial(
            render_boxes,
            annotator=annotator,
            display_size=display_size,
            fps_monitor=fps_monitor,
            display_statistics=display_statistics,
            on_frame_rendered=self._save_predictions,
        )

    @property
    def frames_written(self) -> int:
        return self._frame_idx

    def release(self) -> None:
        if self._video_writer is not None and self._video_writer.isOpened():
            self._video_writer.release()

    def _save_predictions(self, frame: ImageWithSourceID | list[ImageWithSourceID]) -> None:
        if self._video_writer is None:
            self._video_writer = cv2.VideoWriter(
                self._video_file_name,
                cv2.VideoWriter_fourcc(*"MJPG"),
                self._output_fps,
                self._video_frame_size,
            )
        image = create_tiles([item[1] for item in frame]) if isinstance(frame, list) else frame[1]
        if (image.shape[1], image.shape[0]) != self._video_frame_size:
            image = sv.letterbox_image(image, self._video_frame_size)
        self._video_writer.write(image)
        if not self._quiet:
            print(f"Writing frame {self._frame_idx}", end="\r")
        self._frame_idx += 1

    def __enter__(self) -> VideoFileSink:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.release()


class InMemoryBufferSink:
    """Keeps the last `queue_size` results in memory for another thread to consume."""

    @classmethod
    def init(cls, queue_size: int) -> InMemoryBufferSink:
        return cls(queue_size=queue_size)

    def __init__(self, queue_size: int) -> None:
        self._buffer: deque = deque(maxlen=queue_size)

    def on_prediction(
        self, predictions: dict | list[dict | None], video_frame: VideoFrame | list[VideoFrame | None]
    ) -> None:
        self._buffer.append((_as_list(predictions), _as_list(video_frame)))

    def empty(self) -> bool:
        return len(self._buffer) == 0

    def consume_prediction(self) -> tuple[list[dict | None], list[VideoFrame | None]]:
        return self._buffer.popleft()
