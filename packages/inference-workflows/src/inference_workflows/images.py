"""Images inside a workflow: pixels plus where they came from (parent and root origin).

A crop knows its offset inside its parent and inside the workflow's input image, so detections
made on it can be moved back into the input's coordinates (`coordinates_system: parent`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

import cv2
import numpy as np

JPEG_QUALITY = 95


@dataclass(frozen=True)
class Origin:
    """Where an image sits inside another: its parent's id, offset and size."""

    parent_id: str
    offset_x: int
    offset_y: int
    width: int  # the parent's width
    height: int  # the parent's height

    def to_dict(self) -> dict[str, int]:
        return {
            "offset_x": self.offset_x,
            "offset_y": self.offset_y,
            "width": self.width,
            "height": self.height,
        }


@dataclass
class WorkflowImage:
    pixels: np.ndarray  # BGR uint8, (H, W, 3)
    parent: Origin
    root: Origin
    video_metadata: dict[str, Any] | None = None
    _base64: str | None = field(default=None, repr=False)

    @classmethod
    def from_input(
        cls,
        pixels: np.ndarray,
        name: str,
        base64_text: str | None = None,
        video_metadata: dict[str, Any] | None = None,
    ) -> WorkflowImage:
        height, width = pixels.shape[:2]
        origin = Origin(name, 0, 0, width, height)
        return cls(pixels, origin, origin, video_metadata, base64_text)

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def is_crop(self) -> bool:
        return self.parent.parent_id != self.root.parent_id

    def crop(self, crop_id: str, pixels: np.ndarray, offset_x: int, offset_y: int) -> WorkflowImage:
        """A crop of this image at (offset_x, offset_y), identified by `crop_id`."""
        parent = Origin(crop_id, int(offset_x), int(offset_y), self.width, self.height)
        root = replace(
            self.root,
            offset_x=self.root.offset_x + int(offset_x),
            offset_y=self.root.offset_y + int(offset_y),
        )
        return WorkflowImage(np.ascontiguousarray(pixels), parent, root)

    def derived(self, pixels: np.ndarray) -> WorkflowImage:
        """The same image (same lineage and video metadata) with new pixels, e.g. drawn on."""
        return WorkflowImage(pixels, self.parent, self.root, self.video_metadata)

    @property
    def base64(self) -> str:
        if self._base64 is None:
            ok, encoded = cv2.imencode(".jpg", self.pixels, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            if not ok:
                raise ValueError("Could not encode the image as JPEG.")
            self._base64 = base64.b64encode(encoded.tobytes()).decode("ascii")
        return self._base64

    def metadata(self) -> dict[str, Any]:
        """Video metadata; a still image gets the defaults Roboflow gives one (frame 0, 30 fps)."""
        if self.video_metadata is not None:
            return dict(self.video_metadata)
        return {
            "video_identifier": self.parent.parent_id,
            "frame_number": 0,
            "frame_timestamp": datetime.now(timezone.utc).isoformat(),
            "fps": 30.0,
            "measured_fps": None,
            "comes_from_video_file": None,
            "total_frames": None,
        }

    def serialise(self) -> dict[str, Any]:
        """The wire form Roboflow answers: base64 JPEG plus lineage for crops."""
        result: dict[str, Any] = {"type": "base64", "value": self.base64, "video_metadata": self.metadata()}
        if self.is_crop:
            result["parent_id"] = self.parent.parent_id
            result["parent_origin"] = self.parent.to_dict()
            result["root_parent_id"] = self.root.parent_id
            result["root_parent_origin"] = self.root.to_dict()
        return result
