"""The contract of a video source plugin: a frame producer with Roboflow's producer methods.

A plugin class has a unique `name`, says which references it `accepts`, and once built for a
reference offers `isOpened`, `grab`, `retrieve`, `release`, `discover_source_properties` and
`initialize_source_properties` (the method names of Roboflow's `VideoFrameProducer`, so a
producer written for Roboflow's pipeline can be passed as a callable `video_reference` too).
`grab` advances one frame without converting it; `retrieve` returns the last grabbed frame as a
BGR uint8 array. Both are only ever called from the source's own decoding thread.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from inference_stream.entities import SourceProperties
from inference_stream.settings import StreamSettings


class VideoSourcePlugin(ABC):
    name: ClassVar[str]

    @classmethod
    @abstractmethod
    def accepts(cls, reference: Any) -> bool:
        """Whether this plugin can open `reference` (a path, URL or device index)."""

    @classmethod
    def network_address(cls, reference: Any) -> str | None:
        """The URL this reference connects to, for the address policy; None for local sources."""
        return None

    @abstractmethod
    def __init__(self, reference: Any, settings: StreamSettings) -> None:
        """Connect to (or open) the source; failure shows as `isOpened() == False`."""

    @abstractmethod
    def isOpened(self) -> bool: ...  # noqa: N802 (Roboflow's producer method name)

    @abstractmethod
    def grab(self) -> bool: ...

    @abstractmethod
    def retrieve(self) -> tuple[bool, np.ndarray | None]: ...

    @abstractmethod
    def release(self) -> None: ...

    @abstractmethod
    def discover_source_properties(self) -> SourceProperties: ...

    def initialize_source_properties(self, properties: dict[str, Any]) -> None:
        """Apply capture properties (`{"frame_width": 1280, "fps": 30}`) where the source allows."""

    def connection_error_message(self) -> str:
        return ""
