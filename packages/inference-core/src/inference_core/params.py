"""Inference parameters: one parser with clear errors, shared by the in-process API and server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inference_core.errors import InvalidInputError
from inference_core.preprocessing import PreprocessingFlags

DEFAULT_CONFIDENCE = 0.4
MASK_DECODE_MODES = ("accurate", "fast", "tradeoff")
MASK_FORMATS = ("polygon", "rle")


@dataclass(frozen=True)
class InferenceParams:
    """Every knob any task reads; each model ignores the ones it does not use."""

    confidence: float = DEFAULT_CONFIDENCE
    iou_threshold: float = 0.3
    max_detections: int = 300
    max_candidates: int = 3000
    class_agnostic_nms: bool = False
    class_filter: tuple[str, ...] | None = None
    keypoint_confidence: float = 0.0
    mask_decode_mode: str = "accurate"
    tradeoff_factor: float = 0.0
    response_mask_format: str = "polygon"
    visualize_predictions: bool = False
    visualization_labels: bool = False
    visualization_stroke_width: int = 1
    flags: PreprocessingFlags = field(default_factory=PreprocessingFlags)

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> InferenceParams:
        """Validate keyword arguments; unknown names are ignored, as on Roboflow's API."""
        return cls(
            confidence=_confidence(kwargs.get("confidence")),
            iou_threshold=_fraction(kwargs.get("iou_threshold"), "iou_threshold", 0.3),
            max_detections=_positive_int(kwargs.get("max_detections"), "max_detections", 300),
            max_candidates=_positive_int(kwargs.get("max_candidates"), "max_candidates", 3000),
            class_agnostic_nms=bool(kwargs.get("class_agnostic_nms") or False),
            class_filter=_class_filter(kwargs.get("class_filter")),
            keypoint_confidence=_fraction(kwargs.get("keypoint_confidence"), "keypoint_confidence", 0.0),
            mask_decode_mode=_choice(kwargs.get("mask_decode_mode"), "mask_decode_mode", MASK_DECODE_MODES),
            tradeoff_factor=_fraction(kwargs.get("tradeoff_factor"), "tradeoff_factor", 0.0),
            response_mask_format=_choice(
                kwargs.get("response_mask_format"), "response_mask_format", MASK_FORMATS
            ),
            visualize_predictions=bool(kwargs.get("visualize_predictions") or False),
            visualization_labels=bool(kwargs.get("visualization_labels") or False),
            visualization_stroke_width=_positive_int(
                kwargs.get("visualization_stroke_width"), "visualization_stroke_width", 1
            ),
            flags=PreprocessingFlags(
                disable_auto_orient=bool(kwargs.get("disable_preproc_auto_orient") or False),
                disable_contrast=bool(kwargs.get("disable_preproc_contrast") or False),
                disable_grayscale=bool(kwargs.get("disable_preproc_grayscale") or False),
                disable_static_crop=bool(kwargs.get("disable_preproc_static_crop") or False),
            ),
        )


def _confidence(value: Any) -> float:
    if value is None or (isinstance(value, str) and value.strip().lower() in {"best", "default"}):
        return DEFAULT_CONFIDENCE
    return _fraction(value, "confidence", DEFAULT_CONFIDENCE)


def _fraction(value: Any, name: str, default: float) -> float:
    if value is None:
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be a number between 0 and 1, got {value!r}.") from None
    if not 0.0 <= number <= 1.0:
        raise InvalidInputError(f"{name} must be between 0 and 1, got {number}.")
    return number


def _positive_int(value: Any, name: str, default: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be a whole number, got {value!r}.") from None
    if number < 1 or number != float(value):
        raise InvalidInputError(f"{name} must be a whole number of at least 1, got {value!r}.")
    return number


def _choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value is None:
        return choices[0]
    if value not in choices:
        raise InvalidInputError(f"{name} must be one of {', '.join(choices)}; got {value!r}.")
    return value


def _class_filter(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(item, str) for item in value):
        raise InvalidInputError("class_filter must be a list of class names.")
    return tuple(value)
