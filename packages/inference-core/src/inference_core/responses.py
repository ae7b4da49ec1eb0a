"""Prediction and response types carrying exactly the wire-format fields.

`to_dict()` gives the JSON dict the server sends (None fields left out). `dict()` accepts the
keyword arguments pydantic models take, because `supervision.Detections.from_inference` calls
`result.dict(exclude_none=True, by_alias=True)` on Roboflow's response objects.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

_PLAIN = (str, int, float, bool)
#: exact types copied as they are, without a call (most fields of most predictions)
_PLAIN_TYPES = frozenset(_PLAIN)


def random_uuids(count: int) -> list[str]:
    """`count` random (version 4) UUIDs as strings, as `str(uuid.uuid4())` writes them, from one
    read of the OS's random source instead of one per id."""
    raw = np.frombuffer(os.urandom(16 * count), dtype=np.uint8).reshape(count, 16).copy()
    raw[:, 6] = raw[:, 6] & 0x0F | 0x40  # version 4
    raw[:, 8] = raw[:, 8] & 0x3F | 0x80  # RFC 4122 variant
    digits = raw.tobytes().hex()
    return [
        f"{digits[at:at + 8]}-{digits[at + 8:at + 12]}-{digits[at + 12:at + 16]}-{digits[at + 16:at + 20]}-"
        f"{digits[at + 20:at + 32]}"
        for at in range(0, 32 * count, 32)
    ]


def _serialise(value: Any) -> Any:
    if isinstance(value, _PLAIN):
        return value
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, list):
        return [_serialise(item) for item in value]
    if isinstance(value, dict):
        return {key: _serialise(item) for key, item in value.items()}
    return value


class WireObject:
    """Mixin: dataclass to wire dict, renaming `class_name` to `class`, dropping None."""

    def to_dict(self) -> dict[str, Any]:
        result = {}
        for name, key in _wire_names(type(self)):
            value = getattr(self, name)
            if value is not None:
                result[key] = value if type(value) in _PLAIN_TYPES else _serialise(value)
        return result

    def dict(self, **_: Any) -> dict[str, Any]:
        return self.to_dict()


@functools.cache
def _wire_names(cls: type) -> tuple[tuple[str, str], ...]:
    """(attribute, wire key) pairs of a dataclass, worked out once per class."""
    return tuple((spec.name, "class" if spec.name == "class_name" else spec.name) for spec in fields(cls))


@dataclass
class Point(WireObject):
    x: float
    y: float


@dataclass
class Keypoint(WireObject):
    x: float
    y: float
    confidence: float
    class_id: int
    class_name: str


@dataclass
class ObjectDetectionPrediction(WireObject):
    x: float
    y: float
    width: float
    height: float
    confidence: float
    class_name: str
    class_id: int
    detection_id: str
    points: list[Point] | None = None
    mask_format: str | None = None
    rle: dict[str, Any] | None = None
    keypoints: list[Keypoint] | None = None


@dataclass
class ImageSize(WireObject):
    width: int
    height: int


@dataclass
class InferenceResponse(WireObject):
    image: ImageSize
    predictions: Any
    inference_id: str | None = None
    time: float | None = None
    visualization: str | None = None


@dataclass
class ObjectDetectionInferenceResponse(InferenceResponse):
    predictions: list[ObjectDetectionPrediction] = field(default_factory=list)


@dataclass
class InstanceSegmentationInferenceResponse(ObjectDetectionInferenceResponse):
    pass


@dataclass
class KeypointsDetectionInferenceResponse(ObjectDetectionInferenceResponse):
    pass


@dataclass
class ClassificationPrediction(WireObject):
    class_name: str
    class_id: int
    confidence: float


@dataclass
class ClassificationInferenceResponse(InferenceResponse):
    predictions: list[ClassificationPrediction] = field(default_factory=list)
    top: str = ""
    confidence: float = 0.0


@dataclass
class MultiLabelClassificationInferenceResponse(InferenceResponse):
    predictions: dict[str, dict[str, float | int]] = field(default_factory=dict)
    predicted_classes: list[str] = field(default_factory=list)


@dataclass
class SemanticSegmentationPrediction(WireObject):
    segmentation_mask: str  # base64 PNG, one 8-bit class id per pixel of the original image
    class_map: dict[str, str]  # pixel value (as text) -> class name
    confidence_mask: str  # base64 PNG, softmax confidence x 255 per pixel (0 below the threshold)
    present_class_ids: list[int] = field(default_factory=list)  # sorted pixel values in the mask


@dataclass
class SemanticSegmentationInferenceResponse(InferenceResponse):
    predictions: SemanticSegmentationPrediction | None = None
