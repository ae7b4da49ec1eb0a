"""VisionHost video: Roboflow-compatible InferencePipeline over files, cameras and streams."""

from inference_stream.entities import (
    BufferConsumptionStrategy,
    BufferFillingStrategy,
    SourceConnectionError,
    StatusUpdate,
    StreamState,
    UpdateSeverity,
    VideoFrame,
)
from inference_stream.pipeline import InferencePipeline, SinkMode
from inference_stream.video_source import VideoSource

__version__ = "0.1.0"

__all__ = [
    "BufferConsumptionStrategy",
    "BufferFillingStrategy",
    "InferencePipeline",
    "SinkMode",
    "SourceConnectionError",
    "StatusUpdate",
    "StreamState",
    "UpdateSeverity",
    "VideoFrame",
    "VideoSource",
    "__version__",
]
