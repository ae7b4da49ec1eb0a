"""Roboflow's import path of `VideoSource` and the buffer strategies."""

from inference_stream.entities import (
    BufferConsumptionStrategy,
    BufferFillingStrategy,
    SourceMetadata,
    StreamState,
)
from inference_stream.video_source import VideoSource

__all__ = [
    "BufferConsumptionStrategy",
    "BufferFillingStrategy",
    "SourceMetadata",
    "StreamState",
    "VideoSource",
]
