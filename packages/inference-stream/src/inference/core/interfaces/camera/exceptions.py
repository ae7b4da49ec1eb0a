"""Roboflow's import path of the video source errors."""

from inference_stream.entities import (
    EndOfStreamError,
    SourceConnectionError,
    StreamError,
    StreamOperationNotAllowedError,
)

__all__ = ["EndOfStreamError", "SourceConnectionError", "StreamError", "StreamOperationNotAllowedError"]
