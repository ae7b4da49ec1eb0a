"""Which video source plugin opens a reference.

Plugins come from the process-wide plugin manager (`register_video_sources` hook) when the core
offers it; otherwise the built-in sources are used. Third-party plugins are asked before the
built-in OpenCV source, which accepts every path, URL and device index.
"""

from __future__ import annotations

from typing import Any

from inference_stream.sources.base import VideoSourcePlugin
from inference_stream.sources.opencv import OpenCVSource

BUILTIN_SOURCES: tuple[type[VideoSourcePlugin], ...] = (OpenCVSource,)


def registered_source_classes() -> list[type[VideoSourcePlugin]]:
    try:
        from inference_core.plugins import plugin_classes
    except ImportError:  # a core without the plugin manager's video-source kind
        return list(BUILTIN_SOURCES)
    classes = list(plugin_classes("video_sources")) or list(BUILTIN_SOURCES)
    return sorted(classes, key=lambda candidate: candidate in BUILTIN_SOURCES)


def source_class_for(reference: Any) -> type[VideoSourcePlugin]:
    for candidate in registered_source_classes():
        if candidate.accepts(reference):
            return candidate
    raise ValueError(f"No video source plugin accepts {reference!r}.")
