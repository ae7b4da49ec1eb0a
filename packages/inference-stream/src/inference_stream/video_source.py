"""One video source: a decoding thread filling a frame buffer, with Roboflow's buffer strategies.

Files default to WAIT filling and LAZY consumption (every frame, in order); live sources to
ADAPTIVE_DROP_OLDEST filling and EAGER consumption (the newest frame, older ones dropped). A live
source whose reads fail is reopened by its own thread with a growing delay until it answers or
the source is terminated. The decoding thread alone touches the producer (FFmpeg handles are not
thread-safe); `terminate()` only signals it, so it returns at once even while a connection attempt
blocks, and `join()` waits for the thread, whose every blocking call is bounded by a timeout.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from datetime import datetime, timedelta
from queue import Empty, Full, Queue
from typing import Any

import numpy as np
from inference_core.settings import UrlPolicy

from inference_stream.entities import (
    BufferConsumptionStrategy,
    BufferFillingStrategy,
    EndOfStreamError,
    SourceConnectionError,
    SourceMetadata,
    SourceProperties,
    StatusUpdateHandler,
    StreamOperationNotAllowedError,
    StreamState,
    UpdateSeverity,
    VideoFrame,
    error_payload,
    send_status_update,
)
from inference_stream.settings import StreamSettings
from inference_stream.sources import check_stream_address, redact, source_class_for

logger = logging.getLogger(__name__)

VIDEO_SOURCE_CONTEXT = "video_source"
SOURCE_STATE_UPDATE_EVENT = "SOURCE_STATE_UPDATE"
SOURCE_ERROR_EVENT = "SOURCE_ERROR"
SOURCE_CONNECTION_LOST_EVENT = "SOURCE_CONNECTION_LOST"
SOURCE_CONNECTION_ATTEMPT_FAILED_EVENT = "SOURCE_CONNECTION_ATTEMPT_FAILED"
SOURCE_RECONNECTED_EVENT = "SOURCE_RECONNECTED"
FRAME_DROPPED_EVENT = "FRAME_DROPPED"
VIDEO_CONSUMPTION_STARTED_EVENT = "VIDEO_CONSUMPTION_STARTED"
VIDEO_CONSUMPTION_FINISHED_EVENT = "VIDEO_CONSUMPTION_FINISHED"

_POLL_SECONDS = 0.05
_FPS_WINDOW = 30
_DROP_OLDEST = {BufferFillingStrategy.DROP_OLDEST, BufferFillingStrategy.ADAPTIVE_DROP_OLDEST}
_DROP_LATEST = {BufferFillingStrategy.DROP_LATEST, BufferFillingStrategy.ADAPTIVE_DROP_LATEST}
# A producer made by a callable reference, or a plugin instance: same methods either way.
Producer = Any


class VideoSource:
    @classmethod
    def init(
        cls,
        video_reference: Any,
        buffer_size: int | None = None,
        status_update_handlers: list[StatusUpdateHandler] | None = None,
        buffer_filling_strategy: BufferFillingStrategy | str | None = None,
        buffer_consumption_strategy: BufferConsumptionStrategy | str | None = None,
        video_source_properties: dict[str, Any] | None = None,
        source_id: int | None = None,
        desired_fps: float | None = None,
        url_policy: UrlPolicy | None = None,
        settings: StreamSettings | None = None,
    ) -> VideoSource:
        """A source for a path, URL, device index or a callable returning a producer.

        `url_policy`, when given, is checked against network references before every connection
        (the server passes its image-URL policy; in-process callers are trusted like file paths).
        `desired_fps` subsamples files at decoding time (Roboflow's frame-drop rate limiting).
        """
        settings = settings or StreamSettings.from_env()
        return cls(
            reference=video_reference,
            buffer_size=buffer_size or settings.buffer_size,
            handlers=list(status_update_handlers or []),
            filling=BufferFillingStrategy(buffer_filling_strategy) if buffer_filling_strategy else None,
            consumption=(
                BufferConsumptionStrategy(buffer_consumption_strategy)
                if buffer_consumption_strategy
                else None
            ),
            properties=dict(video_source_properties or {}),
            source_id=source_id,
            desired_fps=desired_fps,
            url_policy=url_policy,
            settings=settings,
        )

    def __init__(
        self,
        reference: Any,
        buffer_size: int,
        handlers: list[StatusUpdateHandler],
        filling: BufferFillingStrategy | None,
        consumption: BufferConsumptionStrategy | None,
        properties: dict[str, Any],
        source_id: int | None,
        desired_fps: float | None,
        url_policy: UrlPolicy | None,
        settings: StreamSettings,
    ) -> None:
        self._reference = reference
        self._display_reference = redact(reference) if not callable(reference) else repr(reference)
        self._buffer: Queue[VideoFrame] = Queue(maxsize=buffer_size)
        self._handlers = handlers
        self._filling = filling
        self._consumption = consumption
        self._properties = properties
        self._source_id = source_id
        self._desired_fps = desired_fps
        self._url_policy = url_policy
        self._settings = settings
        self._state = StreamState.NOT_STARTED
        self._state_lock = threading.Lock()
        self._stop = threading.Event()
        self._playing = threading.Event()
        self._muted = False
        self._finished = threading.Event()
        self._thread: threading.Thread | None = None
        self._producer: Producer | None = None
        self._source_properties: SourceProperties | None = None
        self._frame_counter = 0
        self._next_frame_to_accept = 1.0
        self._grab_times: deque[float] = deque(maxlen=_FPS_WINDOW)

    # --- what the consumer sees -------------------------------------------------------------

    @property
    def source_id(self) -> int | None:
        return self._source_id

    @property
    def is_file(self) -> bool:
        return bool(self._source_properties and self._source_properties.is_file)

    def get_state(self) -> StreamState:
        return self._state

    def describe_source(self) -> SourceMetadata:
        return SourceMetadata(
            source_properties=self._source_properties,
            source_reference=self._display_reference,
            buffer_size=self._buffer.maxsize,
            state=self._state,
            buffer_filling_strategy=self._filling,
            buffer_consumption_strategy=self._consumption,
            source_id=self._source_id,
        )

    def frame_ready(self) -> bool:
        return not self._buffer.empty()

    def read_frame(self, timeout: float | None = None) -> VideoFrame | None:
        """The next frame (LAZY) or the newest one (EAGER); None when `timeout` passes first.

        Raises EndOfStreamError once the source has ended and its buffer is empty.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = _POLL_SECONDS if deadline is None else min(_POLL_SECONDS, deadline - time.monotonic())
            try:
                frame = self._buffer.get(timeout=max(wait, 0.0))
                break
            except Empty:
                if self._finished.is_set() and self._buffer.empty():
                    raise EndOfStreamError(
                        "Attempted to retrieve frame from stream that already ended."
                    ) from None
                if deadline is not None and time.monotonic() >= deadline:
                    return None
        if self._consumption is BufferConsumptionStrategy.EAGER:
            while True:
                try:
                    newer = self._buffer.get_nowait()
                except Empty:
                    break
                self._report_drop(frame, "EAGER consumption strategy")
                frame = newer
        return frame

    def __iter__(self) -> VideoSource:
        return self

    def __next__(self) -> VideoFrame:
        try:
            return self.read_frame()
        except EndOfStreamError:
            raise StopIteration from None

    # --- state changes ----------------------------------------------------------------------

    def start(self) -> None:
        """Connect (blocking, bounded by the open timeout) and start decoding.

        Raises SourceConnectionError when the source cannot be opened.
        """
        with self._state_lock:
            if self._state not in (StreamState.NOT_STARTED, StreamState.ENDED):
                raise StreamOperationNotAllowedError(f"Could not START stream in state: {self._state}")
            self._stop.clear()
            self._finished.clear()
            self._change_state(StreamState.INITIALISING)
        try:
            producer = self._open()
        except Exception:
            self._change_state(StreamState.ERROR)
            self._finished.set()
            raise
        with self._state_lock:
            if self._stop.is_set():  # terminated while connecting
                _release(producer)
                self._change_state(StreamState.ENDED)
                self._finished.set()
                return
            self._producer = producer
            self._apply_default_strategies()
            self._playing.set()
            self._thread = threading.Thread(
                target=self._decode, name=f"video-source-{self._source_id}", daemon=True
            )
            self._change_state(StreamState.RUNNING)
            self._thread.start()

    def terminate(self, wait_on_frames_consumption: bool = False, purge_frames_buffer: bool = True) -> None:
        """Stop decoding; returns without waiting for the decoding thread (see `join`)."""
        with self._state_lock:
            self._stop.set()
            self._playing.set()
            if self._state not in (StreamState.ENDED, StreamState.ERROR, StreamState.NOT_STARTED):
                self._change_state(StreamState.TERMINATING)
            if self._thread is None:
                self._finished.set()
        if purge_frames_buffer:
            _purge(self._buffer)
        if wait_on_frames_consumption and not purge_frames_buffer:
            while not self._buffer.empty() and self._thread is not None and self._thread.is_alive():
                time.sleep(_POLL_SECONDS)

    def join(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def pause(self) -> None:
        with self._state_lock:
            self._require(StreamState.RUNNING, "PAUSE")
            self._playing.clear()
            self._change_state(StreamState.PAUSED)

    def mute(self) -> None:
        with self._state_lock:
            self._require(StreamState.RUNNING, "MUTE")
            self._muted = True
            self._change_state(StreamState.MUTED)

    def resume(self) -> None:
        with self._state_lock:
            if self._state not in (StreamState.PAUSED, StreamState.MUTED):
                raise StreamOperationNotAllowedError(f"Could not RESUME stream in state: {self._state}")
            self._muted = False
            self._playing.set()
            self._change_state(StreamState.RUNNING)

    def restart(self, wait_on_frames_consumption: bool = True, purge_frames_buffer: bool = False) -> None:
        self.terminate(wait_on_frames_consumption, purge_frames_buffer)
        self.join()
        with self._state_lock:
            self._state = StreamState.ENDED
        self.start()

    # --- the decoding thread ----------------------------------------------------------------

    def _open(self) -> Producer:
        if callable(self._reference):
            producer = self._reference()
        else:
            source_class = source_class_for(self._reference)
            address = source_class.network_address(self._reference)
            if address is not None and self._url_policy is not None:
                check_stream_address(address, self._url_policy)
            producer = source_class(self._reference, self._settings)
        if not producer.isOpened():
            detail = (
                producer.connection_error_message() if hasattr(producer, "connection_error_message") else ""
            )
            _release(producer)
            raise SourceConnectionError(
                f"Cannot connect to video source under reference: {self._display_reference}"
                + (f" ({detail})" if detail else "")
            )
        try:
            if self._properties:
                producer.initialize_source_properties(self._properties)
            self._source_properties = producer.discover_source_properties()
        except Exception:
            _release(producer)
            raise
        return producer

    def _apply_default_strategies(self) -> None:
        is_file = self.is_file
        if self._filling is None:
            self._filling = (
                BufferFillingStrategy.WAIT if is_file else BufferFillingStrategy.ADAPTIVE_DROP_OLDEST
            )
        if self._consumption is None:
            self._consumption = BufferConsumptionStrategy.LAZY if is_file else BufferConsumptionStrategy.EAGER

    def _decode(self) -> None:
        self._send(UpdateSeverity.INFO, VIDEO_CONSUMPTION_STARTED_EVENT, {"source_id": self._source_id})
        final_state = StreamState.ENDED
        try:
            while not self._stop.is_set():
                if not self._playing.is_set():
                    self._playing.wait(_POLL_SECONDS)
                    continue
                if self._producer.grab():
                    self._on_grabbed()
                    continue
                if self.is_file or self._source_properties.is_reconnectable is False:
                    break
                if not self._reconnect():
                    break
        except Exception as error:
            final_state = StreamState.ERROR
            logger.exception("Video source %s failed", self._display_reference)
            self._send(
                UpdateSeverity.ERROR,
                SOURCE_ERROR_EVENT,
                error_payload(error, source_id=self._source_id, context="stream_consumer_thread"),
            )
        finally:
            _release(self._producer)
            self._producer = None
            with self._state_lock:
                self._change_state(final_state)
                self._finished.set()
            self._send(UpdateSeverity.INFO, VIDEO_CONSUMPTION_FINISHED_EVENT, {"source_id": self._source_id})

    def _on_grabbed(self) -> None:
        now = time.monotonic()
        self._grab_times.append(now)
        self._frame_counter += 1
        if self._skipped_by_rate_limit():
            return
        if self._muted:
            self._report_drop(None, "Buffering not allowed at the moment")
            return
        if self._buffer.full():
            if self._filling in _DROP_LATEST:
                self._report_drop(None, "DROP_LATEST strategy")
                return
            if self._filling in _DROP_OLDEST:
                try:
                    self._report_drop(self._buffer.get_nowait(), "DROP_OLDEST strategy")
                except Empty:
                    pass
        frame = self._retrieve()
        if frame is None:
            return
        if self._filling is BufferFillingStrategy.WAIT:
            while not self._stop.is_set():
                try:
                    self._buffer.put(frame, timeout=_POLL_SECONDS)
                    return
                except Full:
                    continue
            return
        try:
            self._buffer.put_nowait(frame)
        except Full:  # the consumer did not free the slot in between: the newer frame wins
            _purge(self._buffer, keep=self._buffer.maxsize - 1)
            self._buffer.put_nowait(frame)

    def _retrieve(self) -> VideoFrame | None:
        ok, image = self._producer.retrieve()
        if not ok or image is None:
            return None
        properties = self._source_properties
        declared_fps = properties.fps if properties and properties.fps > 0 else None
        if properties is not None and properties.timestamp_created is not None and declared_fps:
            timestamp = properties.timestamp_created + timedelta(
                seconds=(self._frame_counter - 1) / declared_fps
            )
        else:
            timestamp = datetime.now()
        return VideoFrame(
            image=np.asarray(image),
            frame_id=self._frame_counter,
            frame_timestamp=timestamp,
            fps=declared_fps,
            measured_fps=declared_fps if self.is_file else self._measured_fps(),
            source_id=self._source_id,
            comes_from_video_file=self.is_file,
            total_frames=properties.total_frames if properties and properties.total_frames > 0 else None,
        )

    def _measured_fps(self) -> float | None:
        if len(self._grab_times) < 2:
            return None
        span = self._grab_times[-1] - self._grab_times[0]
        return (len(self._grab_times) - 1) / span if span > 0 else None

    def _skipped_by_rate_limit(self) -> bool:
        """Files with a desired fps keep every n-th frame (n = declared / desired, spread evenly)."""
        if self._desired_fps is None or not self.is_file or not self._source_properties.fps:
            return False
        if self._frame_counter < self._next_frame_to_accept:
            self._report_drop(None, "frame rate limiting")
            return True
        stride = max(self._source_properties.fps / self._desired_fps, 1.0)
        self._next_frame_to_accept += stride
        return False

    def _reconnect(self) -> bool:
        """Reopen a lost live source, waiting longer after each failure; False once terminated."""
        _release(self._producer)
        self._producer = None
        with self._state_lock:
            if self._stop.is_set():
                return False
            self._change_state(StreamState.RESTARTING)
        self._send(UpdateSeverity.WARNING, SOURCE_CONNECTION_LOST_EVENT, {"source_id": self._source_id})
        logger.warning("Lost connection to video source %s; reconnecting", self._display_reference)
        delay = self._settings.restart_attempt_delay
        while not self._stop.wait(delay):
            try:
                producer = self._open()
            except Exception as error:
                self._send(
                    UpdateSeverity.WARNING,
                    SOURCE_CONNECTION_ATTEMPT_FAILED_EVENT,
                    error_payload(error, source_id=self._source_id),
                )
                delay = min(delay * 2, self._settings.restart_max_delay)
                continue
            with self._state_lock:
                if self._stop.is_set():
                    _release(producer)
                    return False
                self._producer = producer
                self._grab_times.clear()
                self._change_state(StreamState.RUNNING)
            self._send(UpdateSeverity.INFO, SOURCE_RECONNECTED_EVENT, {"source_id": self._source_id})
            logger.info("Reconnected to video source %s", self._display_reference)
            return True
        return False

    # --- helpers ----------------------------------------------------------------------------

    def _require(self, state: StreamState, operation: str) -> None:
        if self._state is not state:
            raise StreamOperationNotAllowedError(f"Could not {operation} stream in state: {self._state}")

    def _change_state(self, target: StreamState) -> None:
        previous, self._state = self._state, target
        self._send(
            UpdateSeverity.INFO,
            SOURCE_STATE_UPDATE_EVENT,
            {
                "previous_state": previous,
                "new_state": target,
                "source_id": self._source_id,
            },
        )

    def _report_drop(self, frame: VideoFrame | None, cause: str) -> None:
        if not self._handlers:
            return
        self._send(
            UpdateSeverity.DEBUG,
            FRAME_DROPPED_EVENT,
            {
                "frame_timestamp": frame.frame_timestamp if frame else datetime.now(),
                "frame_id": frame.frame_id if frame else self._frame_counter,
                "cause": cause,
                "source_id": self._source_id,
            },
        )

    def _send(self, severity: UpdateSeverity, event_type: str, payload: dict) -> None:
        send_status_update(self._handlers, severity, event_type, VIDEO_SOURCE_CONTEXT, payload)


def _release(producer: Producer | None) -> None:
    if producer is None:
        return
    try:
        producer.release()
    except Exception as error:  # releasing must never mask the reason we stopped
        logger.warning("Could not release video source: %s", error)


def _purge(buffer: Queue, keep: int = 0) -> None:
    while buffer.qsize() > keep:
        try:
            buffer.get_nowait()
        except Empty:
            return
