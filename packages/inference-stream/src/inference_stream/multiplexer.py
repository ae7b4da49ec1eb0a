"""Collects one batch of frames at a time from several sources, and caps the batch rate.

A batch holds at most one frame per source, in source order. Sources that ended drop out; a live
source that is reconnecting is skipped so the others go on. With `batch_collection_timeout` the
batch is cut when the time is up (slow sources simply miss it); without, every running source
contributes. `max_fps` waits between batches when every source is a file (no frame is lost) and
drops batches otherwise (answers stay current), as Roboflow's pipeline does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from inference_stream.entities import EndOfStreamError, StreamState, VideoFrame
from inference_stream.video_source import VideoSource

_POLL_SECONDS = 0.05


class RateLimiter:
    """At most `max_fps` actions a second: how long to wait before the next one."""

    def __init__(self, max_fps: float) -> None:
        self._interval = 1.0 / max(float(max_fps), 0.01)
        self._last: float | None = None

    def delay(self) -> float:
        if self._last is None:
            return 0.0
        return max(self._interval - (time.monotonic() - self._last), 0.0)

    def tick(self) -> None:
        self._last = time.monotonic()


def multiplex(
    sources: list[VideoSource],
    stop: threading.Event,
    max_fps: float | None = None,
    batch_collection_timeout: float | None = None,
) -> Iterator[list[VideoFrame]]:
    ended: set[int] = set()
    limiter = RateLimiter(max_fps) if max_fps else None
    while not stop.is_set() and len(ended) < len(sources):
        batch = _collect(sources, ended, stop, batch_collection_timeout)
        if not batch:
            continue
        if limiter is not None:
            delay = limiter.delay()
            if delay > 0:
                if not all(source.is_file for source in sources):
                    continue  # live: drop this batch, the next one is fresher
                if stop.wait(delay):
                    return
            limiter.tick()
        yield batch


def _collect(
    sources: list[VideoSource], ended: set[int], stop: threading.Event, timeout: float | None
) -> list[VideoFrame]:
    deadline = None if timeout is None else time.monotonic() + timeout
    batch: list[VideoFrame] = []
    waiting = [index for index in range(len(sources)) if index not in ended]
    reconnecting = [index for index in waiting if sources[index].get_state() is StreamState.RESTARTING]
    if reconnecting and len(reconnecting) == len(waiting):
        stop.wait(_POLL_SECONDS)  # every live source is reconnecting: nothing to read yet
        return batch
    for index in waiting:
        source = sources[index]
        if source.get_state() is StreamState.RESTARTING:
            continue
        frame = _read(source, index, ended, stop, deadline)
        if frame is not None:
            batch.append(frame)
    return batch


def _read(
    source: VideoSource, index: int, ended: set[int], stop: threading.Event, deadline: float | None
) -> VideoFrame | None:
    while not stop.is_set():
        wait = _POLL_SECONDS if deadline is None else min(_POLL_SECONDS, deadline - time.monotonic())
        try:
            frame = source.read_frame(timeout=max(wait, 0.0))
        except EndOfStreamError:
            ended.add(index)
            return None
        if frame is not None:
            return frame
        if deadline is not None and time.monotonic() >= deadline:
            return None
        if source.get_state() is StreamState.RESTARTING:
            return None
    return None
