"""Request bodies of the JSON routes, with Roboflow's field names and defaults.

Unknown fields are ignored (newer clients send extra ones). The inference parameters of each
task's body come from core's one definition (`inference_core.params.PARAMETERS`), which also
parses them: a value of the wrong type answers 422, one out of range 400, on every route.
"""

from __future__ import annotations

from typing import Any

from inference_core import tasks
from inference_core.params import BY_NAME, InferenceParams, Parameter, parameters_for
from pydantic import BaseModel, ConfigDict, Field, create_model


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
    """What every task's request holds besides its parameters."""

    id: str | None = Field(None, description="becomes the response's inference_id")
    image: ImageObject | list[ImageObject]

    def images(self) -> list[dict[str, Any]]:
        items = self.image if isinstance(self.image, list) else [self.image]
        return [item.model_dump() for item in items]

    def params(self) -> InferenceParams:
        """The request's inference parameters, parsed once by their definitions in core."""
        return InferenceParams.from_kwargs(
            **{name: getattr(self, name) for name in type(self).model_fields if name in BY_NAME}
        )


def _parameter_field(parameter: Parameter) -> tuple[Any, Any]:
    # Typed Any on purpose: core parses the value, so every route gives the same verdict and
    # message; the OpenAPI schema still shows the parameter's type, range and default.
    return (Any, Field(None, json_schema_extra=parameter.json_schema()))


def request_model(name: str, task: str) -> type[InferenceRequest]:
    """The JSON request body of `task`'s route: the common fields plus that task's parameters."""
    fields = {parameter.name: _parameter_field(parameter) for parameter in parameters_for(task)}
    return create_model(name, __base__=InferenceRequest, **fields)


ObjectDetectionRequest = request_model("ObjectDetectionRequest", tasks.OBJECT_DETECTION)
InstanceSegmentationRequest = request_model("InstanceSegmentationRequest", tasks.INSTANCE_SEGMENTATION)
KeypointsDetectionRequest = request_model("KeypointsDetectionRequest", tasks.KEYPOINT_DETECTION)
ClassificationRequest = request_model("ClassificationRequest", tasks.CLASSIFICATION)
SemanticSegmentationRequest = request_model("SemanticSegmentationRequest", tasks.SEMANTIC_SEGMENTATION)
#: Each task -> the body of its JSON route.
REQUEST_MODELS: dict[str, type[InferenceRequest]] = {
    tasks.OBJECT_DETECTION: ObjectDetectionRequest,
    tasks.INSTANCE_SEGMENTATION: InstanceSegmentationRequest,
    tasks.KEYPOINT_DETECTION: KeypointsDetectionRequest,
    tasks.CLASSIFICATION: ClassificationRequest,
    tasks.SEMANTIC_SEGMENTATION: SemanticSegmentationRequest,
}


class ModelDescription(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_id: str
    task_type: str
    batch_size: int | None = None
    input_height: int | None = None
    input_width: int | None = None


class RegistryResponse(BaseModel):
    models: list[ModelDescription]
