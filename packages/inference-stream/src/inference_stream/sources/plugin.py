"""Registers the built-in video sources through the plugin hook, as any third-party plugin does."""

from __future__ import annotations

from inference_core.plugins import hookimpl

from inference_stream.sources.opencv import OpenCVSource


@hookimpl
def register_video_sources() -> list[type]:
    return [OpenCVSource]
