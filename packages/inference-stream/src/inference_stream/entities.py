"""What flows through a pipeline: frames, status updates, source properties, buffer strategies.

Field names, defaults and enum values are Roboflow's, so code written against
`inference.core.interfaces.camera.entities` reads ours unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

import numpy as np


class UpdateSeverity(Enum):
    DEBUG = logging.DEBUG
    INFO = logging.INFO
    WARNING = logging.WARNING
    ERROR = logging.ERROR


@dataclass(frozen=True)
class StatusUpdate:
    timestamp: datetime
    severity: UpdateSeverity
    event_type: str
    payload: dict
    context: str


@dataclass(frozen=True)
class VideoFrame:
    """One decoded frame (BGR uint8) and where it came from.

    `frame_id` counts frames read from the source from 1, dropped ones included; `fps` is what the
    source declares, `measured_fps` the rate frames actually arrive at on a live source.
    """

    image: np.ndarray
    frame_id: int
    frame_timestamp: datetime
    fps: float | None = None
    measured_fps: float | None = None
    source_id: int | None = None
    comes_from_video_file: bool | None = None
    total_frames: int | None = None


@dataclass(frozen=True)
class SourceProperties:
    width: int
    height: int
    total_frames: int
    is_file: bool
    fps: float
    is_reconnectable: bool | None = None
    timestamp_created: datetime | None = None


class BufferFillingStrategy(str, Enum):
    """What the decoding thread does when the frame buffer is full.

    WAIT blocks decoding (every frame is processed: the default for files); DROP_OLDEST evicts the
    oldest buffered frame; DROP_LATEST discards the new one. The ADAPTIVE variants (the default for
    live sources is ADAPTIVE_DROP_OLDEST) behave as their plain counterparts driven by the buffer
    state alone, as Roboflow's back-pressure mode does.
    """

    WAIT = "WAIT"
    DROP_OLDEST = "DROP_OLDEST"
    ADAPTIVE_DROP_OLDEST = "ADAPTIVE_DROP_OLDEST"
    DROP_LATEST = "DROP_LATEST"
    ADAPTIVE_DROP_LATEST = "ADAPTIVE_DROP_LATEST"


class BufferConsumptionStrategy(str, Enum):
    """LAZY reads buffered frames one by one (files); EAGER takes the newest and drops the rest (live)."""

    LAZY = "LAZY"
    EAGER = "EAGER"


class StreamState(Enum):
    NOT_STARTED = "NOT_STARTED"
    INITIALISING = "INITIALISING"
    RESTARTING = "RESTARTING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    MUTED = "MUTED"
    TERMINATING = "TERMINATING"
    ENDED = "ENDED"
    ERROR = "ERROR"


@dataclass(frozen=True)
class SourceMetadata:
    source_properties: SourceProperties | None
    source_reference: str
    buffer_size: int
    state: StreamState
    buffer_filling_strategy: BufferFillingStrategy | None
    buffer_consumption_strategy: BufferConsumptionStrategy | None
    source_id: int | None


class StreamError(Exception):
    pass


class StreamOperationNotAllowedError(StreamError):
    pass


class EndOfStreamError(StreamError):
    pass


class SourceConnectionError(StreamError):
    pass


StatusUpdateHandler = Callable[[StatusUpdate], None]
AnyPrediction = Any


def error_payload(error: BaseException, context: str | None = None, **leading: Any) -> dict[str, Any]:
    """A status update's payload for an error, keys in Roboflow's order: `leading` ones (such as
    `source_id`), `error_type`, `error_message`, then `error_context` when given."""
    payload = {**leading, "error_type": type(error).__name__, "error_message": str(error)}
    if context is not None:
        payload["error_context"] = context
    return payload


def send_status_update(
    handlers: list[StatusUpdateHandler],
    severity: UpdateSeverity,
    event_type: str,
    context: str,
    payload: dict | None = None,
) -> None:
    """Tell every handler; a failing handler is logged and never stops the pipeline."""
    if not handlers:
        return
    update = StatusUpdate(datetime.now(), severity, event_type, payload or {}, context)
    for handler in handlers:
        try:
            handler(update)
        except Exception as error:  # a user's handler must not kill a decoding thread
            logging.getLogger(__name__).warning("Status update handler failed: %s", error)
