"""Video blocks: ByteTrack tracking (supervision's) and line counting, with state kept per video
(`video_metadata.video_identifier`) for as long as the runner lives."""

from __future__ import annotations

import time
import warnings
from collections import deque
from datetime import datetime
from typing import Any

import numpy as np
import supervision as sv

from inference_workflows import detections as D
from inference_workflows import kinds as K
from inference_workflows.blocks.base import Block, Field, Output, is_int, is_number
from inference_workflows.images import WorkflowImage

DETECTIONS_IN = Field("detections", K.DETECTIONS, selector_only=True)
TRACKER_FIELDS = (
    Field("track_activation_threshold", (K.FLOAT_ZERO_TO_ONE,), 0.25, is_number(0, 1), "float"),
    Field("lost_track_buffer", (K.INTEGER,), 30, is_int(1), "int"),
    Field("minimum_matching_threshold", (K.FLOAT_ZERO_TO_ONE,), 0.8, is_number(0, 1), "float"),
    Field("minimum_consecutive_frames", (K.INTEGER,), 1, is_int(1), "int"),
)


def _video_key(source: WorkflowImage | dict | None) -> tuple[str, float]:
    metadata = source.metadata() if isinstance(source, WorkflowImage) else (source or {})
    return str(metadata.get("video_identifier", "default")), float(metadata.get("fps") or 0)


class ByteTrackerV3(Block):
    name = "roboflow_core/byte_tracker@v3"
    title = "Byte Tracker"
    block_type = "transformation"
    fields = (
        Field("image", (K.IMAGE,), selector_only=True),
        DETECTIONS_IN,
        *TRACKER_FIELDS,
        Field("instances_cache_size", (), 16384, is_int(1), "int"),
    )
    outputs = (
        Output("tracked_detections", (K.OBJECT_DETECTION_PREDICTION,)),
        Output("new_instances", (K.OBJECT_DETECTION_PREDICTION,)),
        Output("already_seen_instances", (K.OBJECT_DETECTION_PREDICTION,)),
    )
    source_field = "image"

    def __init__(self, step_name: str, context: Any) -> None:
        super().__init__(step_name, context)
        self._trackers: dict[str, sv.ByteTrack] = {}
        self._seen: dict[str, _InstanceCache] = {}

    def run(
        self,
        detections: sv.Detections,
        track_activation_threshold: float,
        lost_track_buffer: int,
        minimum_matching_threshold: float,
        minimum_consecutive_frames: int,
        instances_cache_size: int = 16384,
        **source: Any,
    ) -> dict:
        video, fps = _video_key(source.get(self.source_field))
        tracker = self._trackers.get(video)
        if tracker is None:
            with warnings.catch_warnings():  # deprecated in supervision 0.28 in favour of `trackers`
                warnings.simplefilter("ignore", FutureWarning)
                tracker = self._trackers[video] = sv.ByteTrack(
                    track_activation_threshold=track_activation_threshold,
                    lost_track_buffer=lost_track_buffer,
                    minimum_matching_threshold=minimum_matching_threshold,
                    minimum_consecutive_frames=minimum_consecutive_frames,
                    frame_rate=int(fps) or 30,
                )
        tracked = tracker.update_with_detections(detections)
        cache = self._seen.setdefault(video, _InstanceCache(instances_cache_size))
        seen = [cache.record(int(tracker_id)) for tracker_id in tracked.tracker_id]
        new_mask = [not flag for flag in seen]
        return {
            "tracked_detections": tracked,
            "new_instances": tracked[new_mask] if len(tracked) else tracked,
            "already_seen_instances": tracked[seen] if len(tracked) else tracked,
        }


class ByteTrackerV2(ByteTrackerV3):
    name = "roboflow_core/byte_tracker@v2"
    fields = (Field("image", (K.IMAGE,), selector_only=True), DETECTIONS_IN, *TRACKER_FIELDS)
    outputs = (Output("tracked_detections", (K.OBJECT_DETECTION_PREDICTION,)),)

    def run(self, **inputs: Any) -> dict:
        return {"tracked_detections": super().run(**inputs)["tracked_detections"]}


class ByteTrackerV1(ByteTrackerV2):
    name = "roboflow_core/byte_tracker@v1"
    fields = (Field("metadata", (K.VIDEO_METADATA,), selector_only=True), DETECTIONS_IN, *TRACKER_FIELDS)
    source_field = "metadata"


class _InstanceCache:
    """Tracker ids seen so far, the oldest forgotten past `size`."""

    def __init__(self, size: int) -> None:
        self._order: deque[int] = deque(maxlen=max(1, size))
        self._ids: set[int] = set()

    def record(self, tracker_id: int) -> bool:
        if tracker_id in self._ids:
            return True
        if len(self._order) == self._order.maxlen:
            self._ids.discard(self._order[0])
        self._order.append(tracker_id)
        self._ids.add(tracker_id)
        return False


class LineCounterV2(Block):
    name = "roboflow_core/line_counter@v2"
    title = "Line Counter"
    block_type = "analytics"
    fields = (
        Field("image", (K.IMAGE,), selector_only=True),
        DETECTIONS_IN,
        Field(
            "line_segment", (K.LIST_OF_VALUES,), check=lambda v: _check_line(v), type_hint="List[List[int]]"
        ),
        Field("triggering_anchor", (K.STRING,), None, type_hint="str"),
    )
    outputs = (
        Output("count_in", (K.INTEGER,)),
        Output("count_out", (K.INTEGER,)),
        Output("detections_in", K.DETECTIONS),
        Output("detections_out", K.DETECTIONS),
    )
    source_field = "image"

    def __init__(self, step_name: str, context: Any) -> None:
        super().__init__(step_name, context)
        self._zones: dict[str, sv.LineZone] = {}

    def run(
        self,
        detections: sv.Detections,
        line_segment: list,
        triggering_anchor: str | None = None,
        **source: Any,
    ) -> dict:
        if detections.tracker_id is None:
            raise ValueError("line_counter needs tracked detections (run byte_tracker first).")
        video, _ = _video_key(source.get(self.source_field))
        zone = self._zones.get(video)
        if zone is None:
            problem = _check_line(line_segment)
            if problem:
                raise ValueError(problem)
            anchors = {"triggering_anchors": [sv.Position(triggering_anchor)]} if triggering_anchor else {}
            zone = self._zones[video] = sv.LineZone(
                start=sv.Point(*line_segment[0]), end=sv.Point(*line_segment[1]), **anchors
            )
        crossed_in, crossed_out = zone.trigger(detections=detections)
        return {
            "count_in": zone.in_count,
            "count_out": zone.out_count,
            "detections_in": detections[crossed_in],
            "detections_out": detections[crossed_out],
        }


class LineCounterV1(LineCounterV2):
    name = "roboflow_core/line_counter@v1"
    fields = (Field("metadata", (K.VIDEO_METADATA,), selector_only=True), *LineCounterV2.fields[1:])
    outputs = LineCounterV2.outputs[:2]
    source_field = "metadata"

    def run(self, **inputs: Any) -> dict:
        result = super().run(**inputs)
        return {"count_in": result["count_in"], "count_out": result["count_out"]}


def _check_line(value: Any) -> str | None:
    if not isinstance(value, list) or len(value) != 2:
        return "line_segment must be a list of exactly 2 points"
    if any(not isinstance(point, list) or len(point) != 2 for point in value):
        return "each point of line_segment must be a list of 2 coordinates"
    if any(not isinstance(c, (int, float)) or isinstance(c, bool) for point in value for c in point):
        return "each coordinate of line_segment must be a number"
    return None


def _frame_time(source: WorkflowImage | dict | None) -> float:
    """Seconds into the video: frame_number / fps for files, else the frame's timestamp."""
    metadata = source.metadata() if isinstance(source, WorkflowImage) else (source or {})
    fps = metadata.get("fps") or 0
    if metadata.get("comes_from_video_file") and fps:
        return float(metadata.get("frame_number", 0)) / float(fps)
    stamp = metadata.get("frame_timestamp")
    if isinstance(stamp, datetime):
        return stamp.timestamp()
    if isinstance(stamp, str):
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    if isinstance(stamp, (int, float)):
        return float(stamp)
    return time.time()


class TimeInZoneV2(Block):
    name = "roboflow_core/time_in_zone@v2"
    title = "Time in Zone"
    block_type = "analytics"
    fields = (
        Field("image", (K.IMAGE,), selector_only=True),
        DETECTIONS_IN,
        Field("zone", (K.LIST_OF_VALUES,), check=lambda v: _check_zone(v), type_hint="List[List[int]]"),
        Field("triggering_anchor", (K.STRING,), "CENTER", type_hint="str"),
        Field("remove_out_of_zone_detections", (K.BOOLEAN,), True, type_hint="bool"),
        Field("reset_out_of_zone_detections", (K.BOOLEAN,), True, type_hint="bool"),
    )
    outputs = (Output("timed_detections", K.DETECTIONS),)

    def __init__(self, step_name: str, context: Any) -> None:
        super().__init__(step_name, context)
        self._zones: dict[str, sv.PolygonZone] = {}
        self._entered: dict[str, dict[int, float]] = {}

    def run(
        self,
        image: WorkflowImage,
        detections: sv.Detections,
        zone: list,
        triggering_anchor: str,
        remove_out_of_zone_detections: bool,
        reset_out_of_zone_detections: bool,
    ) -> dict:
        if detections.tracker_id is None:
            raise ValueError("time_in_zone needs tracked detections (run byte_tracker first).")
        video, _ = _video_key(image)
        polygon = self._zones.get(video)
        if polygon is None:
            problem = _check_zone(zone)
            if problem:
                raise ValueError(problem)
            polygon = self._zones[video] = sv.PolygonZone(
                polygon=np.array(zone), triggering_anchors=(sv.Position(triggering_anchor),)
            )
        entered = self._entered.setdefault(video, {})
        now = _frame_time(image)
        kept = []
        for index, inside, tracker_id in zip(
            range(len(detections)), polygon.trigger(detections), detections.tracker_id
        ):
            tracker_id = int(tracker_id)
            if not inside and reset_out_of_zone_detections:
                entered.pop(tracker_id, None)
            if not inside and remove_out_of_zone_detections:
                continue
            row = detections[index : index + 1]
            seconds = now - entered.setdefault(tracker_id, now) if inside else 0.0
            row[D.TIME_IN_ZONE] = np.array([seconds], dtype=np.float64)
            kept.append(row)
        if not kept:
            empty = detections[np.zeros(len(detections), dtype=bool)]
            empty.metadata.update(detections.metadata)
            return {"timed_detections": empty}
        return {"timed_detections": sv.Detections.merge(kept)}


def _check_zone(value: Any) -> str | None:
    if not isinstance(value, list) or len(value) < 3:
        return "zone must be a list of at least 3 points"
    if any(not isinstance(point, (list, tuple)) or len(point) != 2 for point in value):
        return "each point of zone must be a list of 2 coordinates"
    if any(not isinstance(c, (int, float)) or isinstance(c, bool) for point in value for c in point):
        return "each coordinate of zone must be a number"
    return None


class VelocityV1(Block):
    """Per tracked object: velocity and speed between frames (pixels, or metres with
    `pixels_per_meter`, per second of video), and their exponential moving average."""

    name = "roboflow_core/velocity@v1"
    title = "Velocity"
    block_type = "analytics"
    fields = (
        Field("image", (K.IMAGE,), selector_only=True),
        DETECTIONS_IN,
        Field("smoothing_alpha", (K.FLOAT,), 0.5, is_number(0, 1), "float"),
        Field("pixels_per_meter", (K.FLOAT,), 1.0, is_number(0), "float"),
    )
    outputs = (Output("velocity_detections", K.DETECTIONS),)

    def __init__(self, step_name: str, context: Any) -> None:
        super().__init__(step_name, context)
        self._last: dict[str, dict[int, tuple[np.ndarray, float]]] = {}
        self._smoothed: dict[str, dict[int, np.ndarray]] = {}

    def run(
        self, image: WorkflowImage, detections: sv.Detections, smoothing_alpha: float, pixels_per_meter: float
    ) -> dict:
        if detections.tracker_id is None:
            raise ValueError("velocity needs tracked detections (run byte_tracker first).")
        if not 0 < smoothing_alpha <= 1:
            raise ValueError("smoothing_alpha must be between 0 (exclusive) and 1 (inclusive)")
        if pixels_per_meter <= 0:
            raise ValueError("pixels_per_meter must be greater than 0")
        video, _ = _video_key(image)
        now = _frame_time(image)
        last = self._last.setdefault(video, {})
        smoothed = self._smoothed.setdefault(video, {})
        centres = np.stack(
            [
                (detections.xyxy[:, 0] + detections.xyxy[:, 2]) / 2,
                (detections.xyxy[:, 1] + detections.xyxy[:, 3]) / 2,
            ],
            axis=1,
        )
        count = len(detections)
        velocity, speed = np.zeros((count, 2)), np.zeros(count)
        smooth_velocity, smooth_speed = np.zeros((count, 2)), np.zeros(count)
        for index, tracker_id in enumerate(int(value) for value in detections.tracker_id):
            current = np.zeros(2)
            if tracker_id in last and now - last[tracker_id][1] > 0:
                current = (centres[index] - last[tracker_id][0]) / (now - last[tracker_id][1])
            average = (
                current
                if tracker_id not in smoothed
                else (smoothing_alpha * current + (1 - smoothing_alpha) * smoothed[tracker_id])
            )
            last[tracker_id] = (centres[index], now)
            smoothed[tracker_id] = average
            velocity[index], speed[index] = (
                current / pixels_per_meter,
                np.linalg.norm(current) / pixels_per_meter,
            )
            smooth_velocity[index] = average / pixels_per_meter
            smooth_speed[index] = np.linalg.norm(average) / pixels_per_meter
        detections.data[D.VELOCITY], detections.data[D.SPEED] = velocity, speed
        detections.data[D.SMOOTHED_VELOCITY], detections.data[D.SMOOTHED_SPEED] = (
            smooth_velocity,
            smooth_speed,
        )
        return {"velocity_detections": detections}


VIDEO_BLOCKS = [
    ByteTrackerV1,
    ByteTrackerV2,
    ByteTrackerV3,
    LineCounterV1,
    LineCounterV2,
    TimeInZoneV2,
    VelocityV1,
]
