"""What each client method does on the wire, written once as I/O-free operations.

Every function here takes a `Session` (a frozen snapshot of the client's state when the call
started) and returns an operation (protocol.py) that the sync or the async executor runs.
Routes and parameters follow docs/WIRE.md §1-5 and docs/PARAMETERS.md.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from inference_sdk.config import is_roboflow_hosted
from inference_sdk.http.entities import (
    CLASSIFICATION_TASK,
    INSTANCE_SEGMENTATION_TASK,
    KEYPOINTS_DETECTION_TASK,
    OBJECT_DETECTION_TASK,
    SEMANTIC_SEGMENTATION_TASK,
    ApiKeyTransport,
    HTTPClientMode,
    InferenceConfiguration,
    ModelDescription,
    RegisteredModels,
    ServerInfo,
    VisualisationResponseFormat,
)
from inference_sdk.http.errors import (
    APIKeyNotProvided,
    HTTPClientError,
    InvalidModelIdentifier,
    ModelNotInitializedError,
    ModelNotSelectedError,
    ModelTaskTypeNotSupportedError,
    WrongClientModeError,
)
from inference_sdk.http.images import EncodedImage, SizeLimit, decode_visualisation, flatten, load_inputs
from inference_sdk.http.predictions import rescale
from inference_sdk.http.protocol import Call, Operation, Reply, RetryPolicy, gather, send, send_json
from inference_sdk.model_aliases import resolve_alias

V1_ROUTES = {
    OBJECT_DETECTION_TASK: "/infer/object_detection",
    INSTANCE_SEGMENTATION_TASK: "/infer/instance_segmentation",
    CLASSIFICATION_TASK: "/infer/classification",
    KEYPOINTS_DETECTION_TASK: "/infer/keypoints_detection",
    SEMANTIC_SEGMENTATION_TASK: "/infer/semantic_segmentation",
}
# The legacy route reads the body as base64 text whatever the Content-Type; this is what
# Roboflow's client sends.
LEGACY_HEADERS = {"Content-Type": "application/json"}
_BASE64 = VisualisationResponseFormat.BASE64


@dataclass(frozen=True)
class Session:
    """The client's state for one call; later `configure`/`select_*` calls do not affect it."""

    api_url: str
    api_key: str | None
    mode: HTTPClientMode
    configuration: InferenceConfiguration
    selected_model: str | None
    retry: RetryPolicy

    @property
    def key_transport(self) -> ApiKeyTransport:
        return self.configuration.api_key_transport or ApiKeyTransport.LEGACY  # type: ignore[return-value]

    def key_fields(self) -> dict[str, str]:
        """`api_key` for the query string or JSON body, unless it travels only in a header."""
        if self.api_key is None or self.key_transport is ApiKeyTransport.HEADER:
            return {}
        return {"api_key": self.api_key}

    def call(self, method: str, path: str, **arguments: Any) -> Call:
        headers = dict(arguments.pop("headers", None) or {})
        if self.api_key is not None and self.key_transport is not ApiKeyTransport.LEGACY:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return Call(method, f"{self.api_url}{path}", headers=headers or None, **arguments)

    def model_to_use(self, model_id: str | None) -> str:
        chosen = model_id or self.selected_model
        if chosen is None:
            raise ModelNotSelectedError("No model was selected to be used.")
        return resolve_alias(chosen)

    def ensure_v1(self) -> None:
        if self.mode is not HTTPClientMode.V1:
            raise WrongClientModeError("Use client mode `v1` to run this operation.")


# --- Server and model management ---------------------------------------------------------------

def get_server_info(session: Session) -> Operation[ServerInfo]:
    body = yield from send_json(session.call("GET", "/info"), session.retry)
    return ServerInfo.from_dict(body)


def list_loaded_models(session: Session) -> Operation[RegisteredModels]:
    session.ensure_v1()
    call = session.call("GET", "/model/registry", params=session.key_fields() or None)
    return RegisteredModels.from_dict((yield from send_json(call, session.retry)))


def load_model(session: Session, model_id: str) -> Operation[RegisteredModels]:
    session.ensure_v1()
    model_id = resolve_alias(model_id)
    call = session.call("POST", "/model/add", json={"model_id": model_id, **session.key_fields()})
    return RegisteredModels.from_dict((yield from send_json(call, session.retry)))


def unload_model(session: Session, model_id: str) -> Operation[RegisteredModels]:
    session.ensure_v1()
    model_id = resolve_alias(model_id)
    call = session.call("POST", "/model/remove", json={"model_id": model_id, **session.key_fields()})
    return RegisteredModels.from_dict((yield from send_json(call, session.retry)))


def unload_all_models(session: Session) -> Operation[RegisteredModels]:
    session.ensure_v1()
    call = session.call("POST", "/model/clear", params=session.key_fields() or None)
    return RegisteredModels.from_dict((yield from send_json(call, session.retry)))


def get_model_description(
    session: Session, model_id: str, allow_loading: bool = True
) -> Operation[ModelDescription]:
    """The registry entry for `model_id`, loading the model first if allowed and needed."""
    session.ensure_v1()
    model_id = resolve_alias(model_id)  # as Roboflow's client: `yolov8n-640` is listed as `coco/3`
    description = (yield from list_loaded_models(session)).find(model_id)
    if description is None and allow_loading:
        description = (yield from load_model(session, model_id)).find(model_id)
    if description is None:
        raise ModelNotInitializedError(
            f"Model {model_id} is not initialised and cannot retrieve its description."
        )
    return description


# --- Inference ---------------------------------------------------------------------------------

def infer(session: Session, inputs: Any, model_id: str | None = None) -> Operation[Any]:
    if session.mode is HTTPClientMode.V0:
        return (yield from infer_from_api_v0(session, inputs, model_id))
    return (yield from infer_from_api_v1(session, inputs, model_id))


def infer_from_api_v1(session: Session, inputs: Any, model_id: str | None = None) -> Operation[Any]:
    """Dispatch by the model's task to `/infer/{task}`, `max_batch_size` images per request."""
    session.ensure_v1()
    model_id = session.model_to_use(model_id)
    description = yield from get_model_description(session, model_id)
    route = V1_ROUTES.get(description.task_type)
    if route is None:
        raise ModelTaskTypeNotSupportedError(
            f"Model task {description.task_type} is not supported by API v1 client."
        )
    config = session.configuration
    images = yield from _load(session, inputs, _v1_size_limit(config, description))
    body = {**session.key_fields(), "model_id": model_id,
            **config.to_api_call_parameters(HTTPClientMode.V1, description.task_type)}
    batches = _batches(images, config.max_batch_size)
    query = config.to_api_v1_query_parameters()
    calls = [session.call("POST", route, params=query, json={**body, "image": _image_field(batch)})
             for batch in batches]
    replies = yield from gather([send(call, session.retry) for call in calls], config.max_concurrent_requests)
    pairs = zip(batches, replies, strict=True)
    return _unwrap([result for batch, reply in pairs for result in _parse_v1(reply, batch, config)])


def infer_from_api_v0(session: Session, inputs: Any, model_id: str | None = None) -> Operation[Any]:
    """One request per image to the legacy route, parameters in the query string."""
    model_id = session.model_to_use(model_id)
    dataset_id, version_id = _split_model_id(model_id)
    if session.api_key is None and is_roboflow_hosted(session.api_url):
        raise APIKeyNotProvided("API key must be provided in this case")
    config = session.configuration
    images = yield from _load(session, inputs, _v0_size_limit(config))
    params = {**session.key_fields(), **config.to_legacy_call_parameters()}
    calls = [session.call("POST", f"/{dataset_id}/{version_id}", params=params, content=image.value,
                          headers=LEGACY_HEADERS) for image in images]
    replies = yield from gather([send(call, session.retry) for call in calls], config.max_concurrent_requests)
    return _unwrap([_parse_v0(reply, image, config) for image, reply in zip(images, replies, strict=True)])


def _load(session: Session, inputs: Any, limit: SizeLimit | None) -> Operation[list[EncodedImage]]:
    concurrency = session.configuration.max_concurrent_requests
    return (yield from load_inputs(flatten(inputs), limit, session.retry, concurrency))


def _split_model_id(model_id: str) -> tuple[str, str]:
    parts = model_id.split("/")
    if len(parts) != 2 or not all(parts):
        raise InvalidModelIdentifier(
            f"Invalid model id: {model_id}. Expected format: project_id/model_version_id."
        )
    return parts[0], parts[1]


def _v1_size_limit(config: InferenceConfiguration, description: ModelDescription) -> SizeLimit | None:
    if config.client_downsizing_disabled:
        return None
    if description.input_height is None or description.input_width is None:
        return _v0_size_limit(config)
    return SizeLimit(max_height=description.input_height, max_width=description.input_width)


def _v0_size_limit(config: InferenceConfiguration) -> SizeLimit | None:
    if config.client_downsizing_disabled:
        return None
    return SizeLimit(max_height=config.default_max_input_size, max_width=config.default_max_input_size)


def _batches(images: list[EncodedImage], size: int) -> list[list[EncodedImage]]:
    return [images[start:start + size] for start in range(0, len(images), max(size, 1))]


def _image_field(batch: list[EncodedImage]) -> dict[str, str] | list[dict[str, str]]:
    fields = [{"type": "base64", "value": image.value} for image in batch]
    return fields[0] if len(fields) == 1 else fields


def _parse_v1(reply: Reply, batch: list[EncodedImage], config: InferenceConfiguration) -> list[dict]:
    body = reply.json()
    results = body if isinstance(body, list) else [body]
    if len(results) != len(batch):
        raise HTTPClientError(f"The server answered {len(results)} results for {len(batch)} images.")
    return [_finish(result, image, config) for result, image in zip(results, batch, strict=True)]


def _parse_v0(reply: Reply, image: EncodedImage, config: InferenceConfiguration) -> dict:
    if "image/jpeg" in reply.content_type:  # format=image: the drawing alone
        return {"visualization": decode_visualisation(reply.content, config.output_visualisation_format)}
    return _finish(reply.json(), image, config)


def _finish(result: dict, image: EncodedImage, config: InferenceConfiguration) -> dict:
    """Decode a returned visualisation into the requested form and undo client downsizing."""
    visualisation = result.get("visualization")
    if isinstance(visualisation, str) and config.output_visualisation_format is not _BASE64:
        result["visualization"] = decode_visualisation(
            base64.b64decode(visualisation), config.output_visualisation_format
        )
    return rescale(result, image.scaling)


def _unwrap(results: list[Any]) -> Any:
    """One result alone is returned bare, as Roboflow's client does (even for a 1-item list)."""
    return results[0] if len(results) == 1 else results
