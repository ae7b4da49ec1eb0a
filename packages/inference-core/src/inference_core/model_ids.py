"""Model ids (`project/version`) and the alias table shared by server and SDK."""

from __future__ import annotations

import re
from dataclasses import dataclass

from inference_core.errors import InvalidModelIdError

# Public aliases Roboflow exposes for its hosted COCO models; one table, used everywhere.
MODEL_ALIASES: dict[str, str] = {
    "yolov8n-640": "coco/3",
    "yolov8n-1280": "coco/9",
    "yolov8s-640": "coco/6",
    "yolov8m-640": "coco/8",
    "yolov8l-640": "coco/10",
    "yolov8x-640": "coco/11",
    "yolov8n-seg-640": "coco-dataset-vdnr1/2",
    "yolov8s-seg-640": "coco-dataset-vdnr1/4",
    "yolov8n-pose-640": "coco-pose/1",
}

# fullmatch, never `$`: `$` also matches before a trailing newline.
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True)
class ModelId:
    project: str
    version: str

    def __str__(self) -> str:
        return f"{self.project}/{self.version}"


def resolve_alias(model_id: str) -> str:
    return MODEL_ALIASES.get(model_id, model_id)


def parse_model_id(model_id: str) -> ModelId:
    """Validate `project/version`; the result is always safe to use as a path segment pair."""
    if not isinstance(model_id, str):
        raise InvalidModelIdError("Model id must be a string like 'project/1'.")
    parts = resolve_alias(model_id.strip()).split("/")
    if len(parts) != 2 or not all(_SEGMENT.fullmatch(part) for part in parts):
        raise InvalidModelIdError(
            f"Invalid model id {model_id!r}: expected 'project/version' made of letters, digits, "
            "'.', '_' and '-'."
        )
    return ModelId(project=parts[0], version=parts[1])
