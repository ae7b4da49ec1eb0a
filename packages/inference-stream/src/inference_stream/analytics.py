"""Tracking and counting over a pipeline's predictions: ByteTrack ids, line crossings, time in zones.

Tracking is Roboflow's maintained `trackers` package (ByteTrack; install `visionhost-stream[tracking]`);
geometry is supervision's (`LineZone`, `PolygonZone`). The classes work on `supervision.Detections`
or on the prediction dicts `on_prediction` receives, one instance per video, so the pipeline sink
below and workflow blocks can share them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import supervision as sv

from inference_stream.entities import VideoFrame

Point = tuple[float, float]


def as_detections(predictions: dict | sv.Detections) -> sv.Detections:
    if isinstance(predictions, sv.Detections):
        return predictions
    return sv.Detections.from_inference(predictions)


class ObjectTracker:
    """ByteTrack over one video: each call takes one frame's detections, returns them with `tracker_id`.

    Only detections that belong to a confirmed track are returned. Parameters are ByteTrack's
    (`trackers.ByteTrackTracker`); `frame_rate` sets how many frames `lost_track_buffer` spans.
    """

    def __init__(
        self,
        frame_rate: float = 30.0,
        lost_track_buffer: int = 30,
        track_activation_threshold: float = 0.25,
        minimum_consecutive_frames: int = 1,
        minimum_iou_threshold: float = 0.1,
        high_conf_det_threshold: float = 0.6,
    ) -> None:
        try:
            from trackers import ByteTrackTracker
        except ImportError as error:  # the optional extra
            raise ImportError(
                'Tracking needs the `trackers` package: pip install "visionhost-stream[tracking]"'
            ) from error
        self._tracker = ByteTrackTracker(
            lost_track_buffer=lost_track_buffer,
            frame_rate=frame_rate,
            track_activation_threshold=track_activation_threshold,
            minimum_consecutive_frames=minimum_consecutive_frames,
            minimum_iou_threshold=minimum_iou_threshold,
            high_conf_det_threshold=high_conf_det_threshold,
        )

    def update(self, predictions: dict | sv.Detections) -> sv.Detections:
        tracked = self._tracker.update(as_detections(predictions))
        if tracked.tracker_id is None:
            return tracked[np.zeros(len(tracked), dtype=bool)]
        return tracked[tracked.tracker_id >= 0]


class LineCrossingCounter:
    """Counts tracked objects crossing the line from `start` to `end` (supervision's `LineZone`).

    `in_count` counts crossings from the line's right side to its left (looking from `start` to
    `end`), `out_count` the other way; an object is counted once per crossing.
    """

    def __init__(
        self, start: Point, end: Point, anchors: Sequence[sv.Position] = (sv.Position.CENTER,)
    ) -> None:
        self._zone = sv.LineZone(start=sv.Point(*start), end=sv.Point(*end), triggering_anchors=list(anchors))

    def update(self, tracked: sv.Detections) -> tuple[np.ndarray, np.ndarray]:
        """Which of `tracked` crossed in and out on this frame (boolean arrays)."""
        return self._zone.trigger(tracked)

    @property
    def in_count(self) -> int:
        return self._zone.in_count

    @property
    def out_count(self) -> int:
        return self._zone.out_count


class ZoneTimer:
    """How long each tracked object has been inside a polygon, in video time.

    Time comes from the frames: frame index over declared fps for files, the grab timestamps for
    live sources. An object that leaves the zone starts from zero when it comes back.
    """

    def __init__(self, polygon: Sequence[Point], anchor: sv.Position = sv.Position.CENTER) -> None:
        self._zone = sv.PolygonZone(polygon=np.asarray(polygon, dtype=np.int64), triggering_anchors=[anchor])
        self._entered: dict[int, float] = {}

    def update(self, tracked: sv.Detections, seconds: float) -> np.ndarray:
        """Seconds in the zone for each of `tracked` (0 for those outside), at video time `seconds`."""
        inside = self._zone.trigger(tracked) if len(tracked) else np.zeros(0, dtype=bool)
        times = np.zeros(len(tracked), dtype=float)
        present = set()
        for index, (tracker_id, is_inside) in enumerate(zip(tracked.tracker_id, inside, strict=True)):
            if not is_inside:
                continue
            present.add(int(tracker_id))
            started = self._entered.setdefault(int(tracker_id), seconds)
            times[index] = seconds - started
        for tracker_id in set(self._entered) - present:
            del self._entered[tracker_id]
        return times

    @property
    def occupants(self) -> list[int]:
        return sorted(self._entered)


def video_seconds(frame: VideoFrame) -> float:
    """Where `frame` sits in its video, in seconds."""
    if frame.comes_from_video_file and frame.fps:
        return (frame.frame_id - 1) / frame.fps
    return frame.frame_timestamp.timestamp()


@dataclass
class FrameAnalytics:
    """What `StreamAnalytics` found on one frame."""

    source_id: int | None
    frame_id: int
    detections: sv.Detections
    crossed_in: list[int] = field(default_factory=list)  # tracker ids, per line
    crossed_out: list[int] = field(default_factory=list)
    line_counts: list[tuple[int, int]] = field(default_factory=list)  # (in, out) per line so far
    time_in_zones: list[dict[int, float]] = field(default_factory=list)  # tracker id -> seconds, per zone


class StreamAnalytics:
    """A pipeline sink that tracks, counts line crossings and times zones, one state per source.

    Use it as `on_prediction` (or inside `multi_sink`); `latest[source_id]` holds the last frame's
    `FrameAnalytics`, `history` every frame's when `keep_history` is set.
    """

    def __init__(
        self,
        lines: Sequence[tuple[Point, Point]] = (),
        zones: Sequence[Sequence[Point]] = (),
        keep_history: bool = False,
        **tracker_parameters: Any,
    ) -> None:
        self._lines, self._zones = list(lines), list(zones)
        self._tracker_parameters = tracker_parameters
        self._state: dict[int | None, tuple[ObjectTracker, list[LineCrossingCounter], list[ZoneTimer]]] = {}
        self.latest: dict[int | None, FrameAnalytics] = {}
        self.history: list[FrameAnalytics] | None = [] if keep_history else None

    def on_prediction(self, predictions: Any, video_frame: Any) -> None:
        frames = video_frame if isinstance(video_frame, list) else [video_frame]
        all_predictions = predictions if isinstance(predictions, list) else [predictions]
        for frame, frame_predictions in zip(frames, all_predictions, strict=True):
            if frame is not None and frame_predictions is not None:
                self.update(frame_predictions, frame)

    def update(self, predictions: dict | sv.Detections, frame: VideoFrame) -> FrameAnalytics:
        tracker, counters, timers = self._state_for(frame)
        tracked = tracker.update(predictions)
        result = FrameAnalytics(frame.source_id, frame.frame_id, tracked)
        for counter in counters:
            crossed_in, crossed_out = counter.update(tracked)
            result.crossed_in.extend(int(i) for i in tracked.tracker_id[crossed_in])
            result.crossed_out.extend(int(i) for i in tracked.tracker_id[crossed_out])
            result.line_counts.append((counter.in_count, counter.out_count))
        seconds = video_seconds(frame)
        for timer in timers:
            times = timer.update(tracked, seconds)
            result.time_in_zones.append(
                {
                    int(tracker_id): float(time)
                    for tracker_id, time in zip(tracked.tracker_id, times, strict=True)
                    if tracker_id in timer.occupants
                }
            )
        self.latest[frame.source_id] = result
        if self.history is not None:
            self.history.append(result)
        return result

    def _state_for(
        self, frame: VideoFrame
    ) -> tuple[ObjectTracker, list[LineCrossingCounter], list[ZoneTimer]]:
        if frame.source_id not in self._state:
            parameters = {"frame_rate": frame.fps or 30.0, **self._tracker_parameters}
            self._state[frame.source_id] = (
                ObjectTracker(**parameters),
                [LineCrossingCounter(start, end) for start, end in self._lines],
                [ZoneTimer(zone) for zone in self._zones],
            )
        return self._state[frame.source_id]
