"""Roboflow's import path of the pipeline sinks."""

from inference_stream.sinks import (
    InMemoryBufferSink,
    UDPSink,
    VideoFileSink,
    display_image,
    multi_sink,
    render_boxes,
    render_statistics,
)

__all__ = [
    "InMemoryBufferSink",
    "UDPSink",
    "VideoFileSink",
    "display_image",
    "multi_sink",
    "render_boxes",
    "render_statistics",
]
