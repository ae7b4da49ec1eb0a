"""Value types of the client: the inference configuration and what the server describes.

`InferenceConfiguration` keeps every field of Roboflow's (so existing constructor calls work) and
knows which wire parameter each field becomes, per API mode and task (docs/WIRE.md §2-3, §5).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from inference_sdk.http.errors import InvalidParameterError, ModelTaskTypeNotSupportedError

Confidence = float | Literal["best", "default"]

CLASSIFICATION_TASK = "classification"
OBJECT_DETECTION_TASK = "object-detection"
INSTANCE_SEGMENTATION_TASK = "instance-segmentation"
KEYPOINTS_DETECTION_TASK = "keypoint-detection"
SEMANTIC_SEGMENTATION_TASK = "semantic-segmentation"
DEFAULT_MAX_INPUT_SIZE = 1024
DEFAULT_IMAGE_EXTENSIONS = ["jpg", "jpeg", "JPG", "JPEG", "png", "PNG"]


class _FromDict:
    """`from_dict` / `to_dict` / `to_json` for the response dataclasses; unknown keys are ignored."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        names = {item.name for item in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{key: value for key, value in data.items() if key in names})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


@dataclass(frozen=True)
class ServerInfo(_FromDict):
    name: str
    version: str
    uuid: str


@dataclass(frozen=True)
class ModelDescription(_FromDict):
    model_id: str
    task_type: str
    batch_size: int | str | None = None
    input_height: int | None = None
    input_width: int | None = None


@dataclass(frozen=True)
class RegisteredModels(_FromDict):
    models: list[ModelDescription]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegisteredModels:
        return cls(models=[ModelDescription.from_dict(model) for model in data.get("models", [])])

    def find(self, model_id: str) -> ModelDescription | None:
        return next((model for model in self.models if model.model_id == model_id), None)


class HTTPClientMode(str, Enum):
    V0 = "v0"  # legacy route /{dataset}/{version}
    V1 = "v1"  # /infer/{task}


class ApiKeyTransport(str, Enum):
    """Where the API key travels: query/body (`legacy`), `Authorization` header, or both."""

    LEGACY = "legacy"
    BOTH = "both"
    HEADER = "header"


class VisualisationResponseFormat(str, Enum):
    """What a returned `visualization` becomes: base64 text, a BGR numpy array or a PIL image."""

    BASE64 = "base64"
    NUMPY = "numpy"
    PILLOW = "pillow"


# (configuration field, wire parameter) pairs. Fields whose value is None are not sent.
_PREPROCESSING = [
    ("disable_preproc_auto_orientation", "disable_preproc_auto_orient"),
    ("disable_preproc_contrast", "disable_preproc_contrast"),
    ("disable_preproc_grayscale", "disable_preproc_grayscale"),
    ("disable_preproc_static_crop", "disable_preproc_static_crop"),
]
_PLATFORM = [
    ("disable_active_learning", "disable_active_learning"),
    ("active_learning_target_dataset", "active_learning_target_dataset"),
    ("source", "source"),
    ("source_info", "source_info"),
]
_DETECTION = _PREPROCESSING + _PLATFORM + [
    ("class_agnostic_nms", "class_agnostic_nms"),
    ("class_filter", "class_filter"),
    ("confidence_threshold", "confidence"),
    ("fix_batch_size", "fix_batch_size"),
    ("iou_threshold", "iou_threshold"),
    ("max_detections", "max_detections"),
    ("max_candidates", "max_candidates"),
    ("visualize_labels", "visualization_labels"),
    ("stroke_width", "visualization_stroke_width"),
    ("visualize_predictions", "visualize_predictions"),
]
_KEYPOINTS = _DETECTION + [("keypoint_confidence_threshold", "keypoint_confidence")]
_SEGMENTATION = _DETECTION + [
    ("mask_decode_mode", "mask_decode_mode"),
    ("tradeoff_factor", "tradeoff_factor"),
    ("allow_reduced_mask_resolution", "allow_reduced_mask_resolution"),
    ("response_mask_format", "response_mask_format"),
]
_CLASSIFICATION = _PREPROCESSING + _PLATFORM + [
    ("include_anomaly_map", "include_anomaly_map"),
    ("confidence_threshold", "confidence"),
    ("visualize_predictions", "visualize_predictions"),
    ("stroke_width", "visualization_stroke_width"),
]
_LEGACY = _PREPROCESSING + _PLATFORM + [
    ("confidence_threshold", "confidence"),
    ("keypoint_confidence_threshold", "keypoint_confidence"),
    ("format", "format"),
    ("visualize_labels", "labels"),
    ("mask_decode_mode", "mask_decode_mode"),
    ("tradeoff_factor", "tradeoff_factor"),
    ("allow_reduced_mask_resolution", "allow_reduced_mask_resolution"),
    ("max_detections", "max_detections"),
    ("iou_threshold", "overlap"),
    ("stroke_width", "stroke"),
    ("response_mask_format", "response_mask_format"),
    ("include_anomaly_map", "include_anomaly_map"),
    ("service_secret", "service_secret"),
    ("count_inference", "countinference"),
]
_SEMANTIC_SEGMENTATION = _PREPROCESSING + _PLATFORM + [
    ("confidence_threshold", "confidence"),
    ("visualize_predictions", "visualize_predictions"),
]
_V1_BY_TASK = {
    OBJECT_DETECTION_TASK: _DETECTION,
    INSTANCE_SEGMENTATION_TASK: _SEGMENTATION,
    CLASSIFICATION_TASK: _CLASSIFICATION,
    KEYPOINTS_DETECTION_TASK: _KEYPOINTS,
    SEMANTIC_SEGMENTATION_TASK: _SEMANTIC_SEGMENTATION,
}
_BILLING = [("service_secret", "service_secret"), ("count_inference", "countinference")]


@dataclass(frozen=True)
class InferenceConfiguration:
    """How `infer` calls the server. Immutable: build a new one and `configure` the client with it.

    The fields after `response_mask_format` in docs/WIRE.md §5 are the client's own settings;
    the rest map to request parameters (see `to_api_call_parameters`). Fields Roboflow's client
    has for its hosted platform (active learning, billing, sources) are accepted and forwarded.
    """

    confidence_threshold: Confidence | None = None
    keypoint_confidence_threshold: float | None = None
    format: str | None = None
    mask_decode_mode: str | None = None
    tradeoff_factor: float | None = None
    max_candidates: int | None = None
    max_detections: int | None = None
    iou_threshold: float | None = None
    stroke_width: int | None = None
    count_inference: bool | None = None
    service_secret: str | None = None
    disable_preproc_auto_orientation: bool | None = None
    disable_preproc_contrast: bool | None = None
    disable_preproc_grayscale: bool | None = None
    disable_preproc_static_crop: bool | None = None
    class_agnostic_nms: bool | None = None
    class_filter: list[str] | None = None
    fix_batch_size: bool | None = None
    include_anomaly_map: bool | None = None
    visualize_predictions: bool = False
    visualize_labels: bool | None = None
    output_visualisation_format: VisualisationResponseFormat = VisualisationResponseFormat.BASE64
    image_extensions_for_directory_scan: list[str] | None = field(
        default_factory=lambda: list(DEFAULT_IMAGE_EXTENSIONS)
    )
    client_downsizing_disabled: bool = True
    default_max_input_size: int = DEFAULT_MAX_INPUT_SIZE
    disable_active_learning: bool = False
    active_learning_target_dataset: str | None = None
    max_concurrent_requests: int = 1
    max_batch_size: int = 1
    source: str | None = None
    source_info: str | None = None
    profiling_directory: str = "./inference_profiling"
    workflow_run_retries_enabled: bool = True
    response_mask_format: Literal["polygon", "rle"] | None = None
    api_key_transport: ApiKeyTransport | str | None = None
    allow_reduced_mask_resolution: bool = False

    def __post_init__(self) -> None:
        _set = object.__setattr__  # frozen: normalise in place once, at construction
        try:
            _set(self, "output_visualisation_format",
                 VisualisationResponseFormat(self.output_visualisation_format))
            if self.api_key_transport is not None:
                _set(self, "api_key_transport", ApiKeyTransport(self.api_key_transport))
        except ValueError as error:
            raise InvalidParameterError(str(error)) from error
        if self.max_batch_size < 1 or self.max_concurrent_requests < 1:
            raise InvalidParameterError("max_batch_size and max_concurrent_requests must be at least 1")

    @classmethod
    def init_default(cls) -> InferenceConfiguration:
        return cls()

    def to_api_call_parameters(self, client_mode: HTTPClientMode, task_type: str) -> dict[str, Any]:
        """The request parameters for one inference call: query (v0) or JSON body fields (v1)."""
        if client_mode is HTTPClientMode.V0:
            return self.to_legacy_call_parameters()
        if task_type not in _V1_BY_TASK:
            raise ModelTaskTypeNotSupportedError(f"Model task {task_type} is not supported by API v1 client.")
        return self._pick(_V1_BY_TASK[task_type])

    def to_legacy_call_parameters(self) -> dict[str, Any]:
        return self._pick(_LEGACY)

    def to_object_detection_parameters(self) -> dict[str, Any]:
        return self._pick(_DETECTION)

    def to_instance_segmentation_parameters(self) -> dict[str, Any]:
        return self._pick(_SEGMENTATION)

    def to_keypoints_detection_parameters(self) -> dict[str, Any]:
        return self._pick(_KEYPOINTS)

    def to_classification_parameters(self) -> dict[str, Any]:
        return self._pick(_CLASSIFICATION)

    def to_api_v1_query_parameters(self) -> dict[str, Any] | None:
        """Billing parameters travel in the query string on the v1 routes too."""
        return self._pick(_BILLING) or None

    def _pick(self, specification: list[tuple[str, str]]) -> dict[str, Any]:
        picked = {wire: getattr(self, attribute) for attribute, wire in specification}
        return {wire: value for wire, value in picked.items() if value is not None}
