"""Parse Roboflow's `environment.json` (pre-processing, classes, colours, multi-label flag)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from inference_core.errors import ModelArtifactError
from inference_core.preprocessing import (
    CONTRAST_TYPES,
    LETTERBOX_PAD_COLOURS,
    STRETCH,
    PreprocessingConfig,
    StaticCrop,
)

#: Our own key in environment.json marking a bring-your-own Ultralytics export.
SOURCE_KEY = "VISIONHOST_SOURCE"
ULTRALYTICS_SOURCE = "ultralytics"
#: The same key's value for an imported export of the `rfdetr` package.
RFDETR_SOURCE = "rfdetr"


@dataclass(frozen=True)
class ModelEnvironment:
    preprocessing: PreprocessingConfig = field(default_factory=PreprocessingConfig)
    resize_width: int | None = None
    resize_height: int | None = None
    class_map: dict[int, str] = field(default_factory=dict)
    colors: dict[str, str] = field(default_factory=dict)
    multiclass: bool = False
    source: str | None = None

    @property
    def is_ultralytics_import(self) -> bool:
        return self.source == ULTRALYTICS_SOURCE


def parse_environment(raw: dict[str, Any]) -> ModelEnvironment:
    steps = raw.get("PREPROCESSING") or {}
    if isinstance(steps, str):
        try:
            steps = json.loads(steps)
        except json.JSONDecodeError as error:
            raise ModelArtifactError("environment.json PREPROCESSING is not valid JSON.") from error
    if not isinstance(steps, dict):
        raise ModelArtifactError("environment.json PREPROCESSING must be an object.")
    resize = _enabled(steps, "resize")
    source = raw.get(SOURCE_KEY)
    return ModelEnvironment(
        preprocessing=PreprocessingConfig(
            resize_mode=_resize_mode(resize),
            auto_orient=bool((steps.get("auto-orient") or {"enabled": True}).get("enabled", True)),
            static_crop=_static_crop(_enabled(steps, "static-crop")),
            contrast=_contrast(_enabled(steps, "contrast")),
            grayscale=_enabled(steps, "grayscale") is not None,
            ultralytics_padding=source == ULTRALYTICS_SOURCE,
        ),
        resize_width=_int_or_none(resize.get("width")) if resize else None,
        resize_height=_int_or_none(resize.get("height")) if resize else None,
        class_map={int(key): str(value) for key, value in (raw.get("CLASS_MAP") or {}).items()},
        colors={str(key): str(value) for key, value in (raw.get("COLORS") or {}).items()},
        multiclass=_truthy(raw.get("MULTICLASS", False)),
        source=source,
    )


def _enabled(steps: dict[str, Any], name: str) -> dict[str, Any] | None:
    step = steps.get(name)
    if isinstance(step, dict) and _truthy(step.get("enabled", False)):
        return step
    return None


def _resize_mode(resize: dict[str, Any] | None) -> str:
    mode = (resize or {}).get("format", STRETCH)
    return mode if mode in LETTERBOX_PAD_COLOURS else STRETCH


def _static_crop(step: dict[str, Any] | None) -> StaticCrop | None:
    if step is None:
        return None
    try:
        return StaticCrop(
            float(step["x_min"]), float(step["y_min"]), float(step["x_max"]), float(step["y_max"])
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ModelArtifactError("environment.json static-crop needs x_min/y_min/x_max/y_max.") from error


def _contrast(step: dict[str, Any] | None) -> str | None:
    if step is None:
        return None
    kind = step.get("type")
    return kind if kind in CONTRAST_TYPES else None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
