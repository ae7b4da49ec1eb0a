"""Fields many blocks share, spelled once."""

from __future__ import annotations

from inference_workflows import kinds as K
from inference_workflows.blocks.base import Field, is_number

IMAGES = Field(
    "images",
    (K.IMAGE,),
    selector_only=True,
    aliases=("image",),
    type_hint="image",
    description="The image(s) to work on: $inputs.image or an image produced by a step (crops).",
)
PREDICTIONS = Field(
    "predictions",
    K.DETECTIONS,
    selector_only=True,
    aliases=("detections",),
    description="Detections from a model or transformation step.",
)


def confidence(default: float = 0.4) -> Field:
    return Field(
        "confidence",
        (K.FLOAT_ZERO_TO_ONE,),
        default,
        is_number(0, 1),
        "float",
        description="Confidence threshold for predictions.",
    )
