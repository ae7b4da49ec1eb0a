"""Stream settings from the environment (Roboflow's variable names), read through core's strict
reader: checked at server start-up (`read_settings`, declared under the `visionhost.settings`
entry-point group) and read again when a pipeline is built."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from inference_core.config import EnvReader


def _reader(environ: Mapping[str, str] | EnvReader | None) -> EnvReader:
    return environ if isinstance(environ, EnvReader) else EnvReader(environ)


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
    def from_env(cls, environ: Mapping[str, str] | EnvReader | None = None) -> StreamSettings:
        env = _reader(environ)
        return cls(
            buffer_size=env.integer("VIDEO_SOURCE_BUFFER_SIZE", cls.buffer_size, minimum=1),
            predictions_queue_size=env.integer(
                "INFERENCE_PIPELINE_PREDICTIONS_QUEUE_SIZE", cls.predictions_queue_size, minimum=1
            ),
            restart_attempt_delay=env.number("INFERENCE_PIPELINE_RESTART_ATTEMPT_DELAY", 1.0, minimum=0.05),
            restart_max_delay=env.number("INFERENCE_PIPELINE_RESTART_MAX_DELAY", 10.0, minimum=0.05),
            open_timeout=env.number("VIDEO_SOURCE_OPEN_TIMEOUT", 10.0, minimum=0.5),
            read_timeout=env.number("VIDEO_SOURCE_READ_TIMEOUT", 10.0, minimum=0.5),
            frame_drop_on_file_rate_limiting=env.flag("ENABLE_FRAME_DROP_ON_VIDEO_FILE_RATE_LIMITING", False),
        )


@dataclass(frozen=True)
class StreamApiSettings:
    """The server's `/inference_pipelines` routes: off unless ENABLE_STREAM_API is set."""

    enabled: bool = False
    #: pipelines the server runs at once (`STREAM_MANAGER_MAX_ACTIVE_PIPELINES`).
    max_active_pipelines: int = 8

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | EnvReader | None = None) -> StreamApiSettings:
        env = _reader(environ)
        return cls(
            enabled=env.flag("ENABLE_STREAM_API", False),
            max_active_pipelines=env.integer("STREAM_MANAGER_MAX_ACTIVE_PIPELINES", 8, minimum=1),
        )


def read_settings(env: EnvReader) -> tuple[StreamApiSettings, StreamSettings, ModelConfig]:
    """Everything this package reads, checked at server start-up and listed by `inference config`."""
    return StreamApiSettings.from_env(env), StreamSettings.from_env(env), ModelConfig.init(environ=env)


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
    def init(cls, environ: Mapping[str, str] | EnvReader | None = None, **given) -> ModelConfig:
        env = _reader(environ)
        defaults = {
            "class_agnostic_nms": env.flag("CLASS_AGNOSTIC_NMS", False),
            "confidence": env.number("CONFIDENCE", 0.4, minimum=0.0),
            "iou_threshold": env.number("IOU_THRESHOLD", 0.3, minimum=0.0),
            "max_candidates": env.integer("MAX_CANDIDATES", 3000, minimum=1),
            "max_detections": env.integer("MAX_DETECTIONS", 300, minimum=1),
        }
        chosen = {name: value for name, value in given.items() if value is not None}
        return cls(**{**defaults, **chosen})

    def to_postprocessing_params(self) -> dict:
        return {name: value for name, value in self.__dict__.items() if value is not None}
