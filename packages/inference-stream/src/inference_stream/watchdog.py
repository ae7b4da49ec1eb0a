"""Pipeline watchdogs: hooks that see every status update and inference, and report latency."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from inference_stream.entities import SourceMetadata, StatusUpdate, UpdateSeverity, VideoFrame


@dataclass(frozen=True)
class LatencyMonitorReport:
    source_id: int | None = None
    frame_decoding_latency: float | None = None
    inference_latency: float | None = None
    e2e_latency: float | None = None


@dataclass(frozen=True)
class PipelineStateReport:
    video_source_status_updates: list[StatusUpdate]
    latency_reports: list[LatencyMonitorReport]
    inference_throughput: float
    sources_metadata: list[SourceMetadata]


class PipelineWatchDog:
    def register_video_sources(self, video_sources: list) -> None: ...

    def on_status_update(self, status_update: StatusUpdate) -> None: ...

    def on_model_inference_started(self, frames: list[VideoFrame]) -> None: ...

    def on_model_prediction_ready(self, frames: list[VideoFrame]) -> None: ...

    def get_report(self) -> PipelineStateReport | None:
        return None


class NullPipelineWatchdog(PipelineWatchDog):
    """Does nothing; the default."""


class BasePipelineWatchDog(PipelineWatchDog):
    """Keeps recent source status updates, per-source latencies and the inference throughput."""

    def __init__(self, history: int = 64) -> None:
        self._sources: list = []
        self._updates: deque[StatusUpdate] = deque(maxlen=history)
        self._ready_times: deque[float] = deque(maxlen=history)
        self._started: dict[int | None, tuple[datetime, float]] = {}
        self._latency: dict[int | None, LatencyMonitorReport] = {}

    def register_video_sources(self, video_sources: list) -> None:
        self._sources = list(video_sources)

    def on_status_update(self, status_update: StatusUpdate) -> None:
        if status_update.severity.value >= UpdateSeverity.INFO.value and status_update.context.startswith(
            "video_source"
        ):
            self._updates.append(status_update)

    def on_model_inference_started(self, frames: list[VideoFrame]) -> None:
        now = datetime.now()
        for frame in frames:
            self._started[frame.source_id] = (frame.frame_timestamp, time.monotonic())
            decoding = (
                (now - frame.frame_timestamp).total_seconds() if not frame.comes_from_video_file else None
            )
            self._latency[frame.source_id] = LatencyMonitorReport(frame.source_id, decoding)

    def on_model_prediction_ready(self, frames: list[VideoFrame]) -> None:
        now = time.monotonic()
        self._ready_times.append(now)
        for frame in frames:
            timestamp, started = self._started.get(frame.source_id, (frame.frame_timestamp, now))
            previous = self._latency.get(frame.source_id, LatencyMonitorReport(frame.source_id))
            inference = now - started
            end_to_end = (
                (datetime.now() - timestamp).total_seconds() if not frame.comes_from_video_file else None
            )
            self._latency[frame.source_id] = LatencyMonitorReport(
                frame.source_id, previous.frame_decoding_latency, inference, end_to_end
            )

    def get_report(self) -> PipelineStateReport:
        times = list(self._ready_times)
        throughput = (
            (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
        )
        return PipelineStateReport(
            video_source_status_updates=list(self._updates),
            latency_reports=list(self._latency.values()),
            inference_throughput=throughput,
            sources_metadata=[source.describe_source() for source in self._sources],
        )
