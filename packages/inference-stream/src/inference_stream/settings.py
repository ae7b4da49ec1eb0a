"""Stream settings from the environment, read when a pipeline is built (Roboflow's variable names)."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        return float(value) if value else default
    except ValueError:
        return default


def _int(name: str, default: int) -> int:
    return int(_float(name, default))


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class StreamSettings:
    #: frames a source may decode ahead of inference (`VIDEO_SOURCE_BUFFER_SIZE`). Roboflow's
    #: default is 64 (8 with its tensor frames); 8 keeps a 1080p source to ~50 MB instead of
    #: ~400 MB and measured less CPU per frame (fresh frame buffers are not faulted in again).
    buffer_size: int = 8
    #: results (frames included) waiting for the sinks (`INFERENCE_PIPELINE_PREDICTIONS_QUEUE_SIZE`);
    #: Roboflow's 512 lets a slow sink hold gigabytes of 1080p frames, so ours is 64.
    predictions_queue_size: int = 64
    #: first wait before reconnecting a lost live source; doubles up to `restart_max_delay`.
    restart_attempt_delay: float = 1.0
    restart_max_delay: float = 10.0
    #: seconds FFmpeg may take to open a source, and to wait for data while reading one.
    open_timeout: float = 10.0
    read_timeout: float = 10.0
    #: `max_fps` on a file skips frames instead of slowing processing down.
    frame_drop_on_file_rate_limiting: bool = False

    @classmethod
    def from_env(cls) -> StreamSettings:
        return cls(
            buffer_size=max(1, _int("VIDEO_SOURCE_BUFFER_SIZE", cls.buffer_size)),
            predictions_queue_size=max(1, _int("INFERENCE_PIPELINE_PREDICTIONS_QUEUE_SIZE", cls.predictions_queue_size)),
            restart_attempt_delay=max(0.05, _float("INFERENCE_PIPELINE_RESTART_ATTEMPT_DELAY", 1.0)),
            restart_max_delay=max(0.05, _float("INFERENCE_PIPELINE_RESTART_MAX_DELAY", 10.0)),
            open_timeout=max(0.5, _float("VIDEO_SOURCE_OPEN_TIMEOUT", 10.0)),
            read_timeout=max(0.5, _float("VIDEO_SOURCE_READ_TIMEOUT", 10.0)),
            frame_drop_on_file_rate_limiting=_bool("ENABLE_FRAME_DROP_ON_VIDEO_FILE_RATE_LIMITING", False),
        )


@dataclass(frozen=True)
class ModelConfig:
    """Post-processing parameters of `InferencePipeline.init`; None falls back to Roboflow's env names."""

    class_agnostic_nms: bool | None = None
    confidence: float | None = None
    iou_threshold: float | None = None
    max_candidates: int | None = None
    max_detections: int | None = None
    mask_decode_mode: str | None = None
    tradeoff_factor: float | None = None

    @classmethod
    def init(cls, **given) -> ModelConfig:
        chosen = {name: value for name, value in given.items() if value is not None}
        chosen.setdefault("class_agnostic_nms", _bool("CLASS_AGNOSTIC_NMS", False))
        chosen.setdefault("confidence", _float("CONFIDENCE", 0.4))
        chosen.setdefault("iou_threshold", _float("IOU_THRESHOLD", 0.3))
        chosen.setdefault("max_candidates", _int("MAX_CANDIDATES", 3000))
        chosen.setdefault("max_detections", _int("MAX_DETECTIONS", 300))
        return cls(**chosen)

    def to_postprocessing_params(self) -> dict:
        return {name: value for name, value in self.__dict__.items() if value is not None}
