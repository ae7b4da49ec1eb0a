"""Which video source plugin opens a reference.

Plugins registered through the `register_video_sources` hook (entry-point group
`visionhost.video_sources`) are asked first, in registration order; the built-in OpenCV source,
which accepts every path, URL and device index, is asked last so that a plugin can claim the
references it knows (its own URL scheme, a camera SDK's device names).
"""

from __future__ import annotations

from typing import Any

from inference_stream.sources.base import VideoSourcePlugin
from inference_stream.sources.opencv import OpenCVSource

BUILTIN_SOURCES: tuple[type[VideoSourcePlugin], ...] = (OpenCVSource,)


def registered_source_classes(plugins: list[object] | None = None) -> list[type[VideoSourcePlugin]]:
    """Plugin classes first, then the built-ins; `plugins` replaces the installed ones (tests)."""
    from inference_core.plugins import as_plugin_set

    found = as_plugin_set(plugins).classes("video_sources")
    return [candidate for candidate in found if candidate not in BUILTIN_SOURCES] + list(BUILTIN_SOURCES)


def source_class_for(reference: Any, plugins: list[object] | None = None) -> type[VideoSourcePlugin]:
    for candidate in registered_source_classes(plugins):
        if candidate.accepts(reference):
            return candidate
    raise ValueError(f"No video source plugin accepts {reference!r}.")
