"""Video source plugins: what opens files, streams and cameras."""

from inference_stream.sources.address import VideoSourceNotAllowedError, check_stream_address, redact
from inference_stream.sources.base import VideoSourcePlugin
from inference_stream.sources.opencv import OpenCVSource
from inference_stream.sources.registry import registered_source_classes, source_class_for

__all__ = [
    "OpenCVSource",
    "VideoSourceNotAllowedError",
    "VideoSourcePlugin",
    "check_stream_address",
    "redact",
    "registered_source_classes",
    "source_class_for",
]
