"""Request bodies of the JSON routes, with Roboflow's field names and defaults.

Unknown fields are ignored (newer clients send extra ones). Value checks that need a readable
message (ranges, choices) are left to core's `InferenceParams`, which answers 400.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ImageObject(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str = Field(description="base64, url, numpy (base64 of a pickled ndarray) or file (if enabled)")
    value: Any = None


class ModelRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", protected_namespaces=())

    model_id: str
    model_type: str | None = None
    api_key: str | None = None


class AddModelRequest(ModelRequest):
    pin: bool = Field(False, description="[ours] keep the model loaded whatever MAX_ACTIVE_MODELS says")


class RemoveModelRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", protected_namespaces=())

    model_id: str


class InferenceRequest(ModelRequest):
    id: str | None = Field(None, description="becomes the response's inference_id")
    image: ImageObject | list[ImageObject]
    disable_preproc_auto_orient: bool = False
    disable_preproc_contrast: bool = False
    disable_preproc_grayscale: bool = False
    disable_preproc_static_crop: bool = False
    visualize_predictions: bool = False
    visualization_labels: bool = False
    visualization_stroke_width: int = 1

    def images(self) -> list[dict[str, Any]]:
        items = self.image if isinstance(self.image, list) else [self.image]
        return [item.model_dump() for item in items]

    def options(self) -> dict[str, Any]:
        """The keyword arguments core's `InferenceParams.from_kwargs` reads."""
        skip = {"id", "api_key", "model_id", "model_type", "image", "fix_batch_size"}
        return {key: value for key, value in self.model_dump().items() if key not in skip}


class ObjectDetectionRequest(InferenceRequest):
    confidence: float | str | None = Field(0.4, description="0..1, or 'best' / 'default'")
    iou_threshold: float | None = 0.3
    max_detections: int | None = 300
    max_candidates: int | None = 3000
    class_agnostic_nms: bool | None = False
    class_filter: list[str] | None = None
    fix_batch_size: bool | None = False


class InstanceSegmentationRequest(ObjectDetectionRequest):
    mask_decode_mode: str | None = Field("accurate", description="accurate, fast or tradeoff")
    tradeoff_factor: float | None = 0.0
    response_mask_format: str | None = Field("polygon", description="polygon or rle")


class KeypointsDetectionRequest(ObjectDetectionRequest):
    keypoint_confidence: float | None = 0.0


class ClassificationRequest(InferenceRequest):
    confidence: float | str | None = Field(0.4, description="0..1, or 'best' / 'default'")


class ModelDescription(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_id: str
    task_type: str
    batch_size: int | None = None
    input_height: int | None = None
    input_width: int | None = None


class RegistryResponse(BaseModel):
    models: list[ModelDescription]
