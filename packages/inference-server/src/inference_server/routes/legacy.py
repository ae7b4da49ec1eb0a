"""Roboflow's legacy routes: `GET|POST /{dataset_id}/{version_id}`, `/clear_cache`, `/start/...`.

The catch-all route is included last by `create_app`, after every fixed two-segment path.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from inference_core.errors import InvalidInputError
from inference_core.params import InferenceParams, legacy_parameters
from starlette.datastructures import UploadFile

from inference_server.auth import download_api_key, require_api_key
from inference_server.errors import MethodNotAllowedError
from inference_server.routes.common import PredictionsResponse, request_started, response_body
from inference_server.runner import PickledArray
from inference_server.state import State

router = APIRouter(tags=["legacy"], dependencies=[Depends(require_api_key)])

FORMATS = ("json", "image", "image_and_json")
IMAGE_TYPES = ("base64", "numpy")


def _documented_parameters() -> list[dict[str, Any]]:
    """The inference parameters' OpenAPI entries, from core's one definition (legacy names)."""
    documented = []
    for parameter in legacy_parameters():
        description = parameter.description
        if parameter.legacy_percent:
            description += " Values of 1 or more are percentages (40 means 0.4)."
        schema = parameter.json_schema()
        schema.pop("description", None)
        documented.append({"name": parameter.legacy_name, "in": "query", "required": False,
                           "description": description, "schema": schema})
    return documented


def check_state_change_method(request: Request, state: State) -> None:
    """Roboflow's server answers these state changes on GET; ours wants POST, so that another web
    page (an image tag, a link) cannot trigger them, unless LEGACY_GET_STATE_CHANGES is on."""
    if request.method == "GET" and not state.settings.legacy_get_state_changes:
        raise MethodNotAllowedError(
            f"{request.url.path} changes server state: send it as POST "
            "(or set LEGACY_GET_STATE_CHANGES=true for Roboflow's GET)."
        )


@router.api_route("/clear_cache", methods=["GET", "POST"], summary="Unload every model (legacy; POST)")
async def clear_cache(request: Request, state: State) -> str:
    check_state_change_method(request, state)
    await state.runner.call(state.manager.clear)
    return "Cache Cleared"


@router.api_route(
    "/start/{dataset_id}/{version_id}", methods=["GET", "POST"], summary="Load a model (legacy; POST)"
)
async def start(dataset_id: str, version_id: str, request: Request, state: State) -> dict:
    check_state_change_method(request, state)
    api_key = await download_api_key(request, state)
    await state.runner.model(f"{dataset_id}/{version_id}", api_key=api_key)
    return {"status": 200, "message": "inference session started from local memory."}


@router.api_route(
    "/{dataset_id}/{version_id}",
    methods=["GET", "POST"],
    summary="Infer (legacy route)",
    openapi_extra={"parameters": _documented_parameters()},
)
async def legacy_infer(
    request: Request,
    state: State,
    dataset_id: str,
    version_id: str,
    format: str = Query("json", description="json, image or image_and_json"),
    image: str | None = Query(None, description="URL of the image; the body is then ignored"),
    image_type: str = Query("base64", description="how the body is read: base64 or numpy"),
    api_key: str | None = None,  # read by the key checks; declared here for the OpenAPI docs
) -> Response:
    """The inference parameters are read from the query by core's one parser (legacy names)."""
    started = request_started(request)
    if format not in FORMATS:
        raise InvalidInputError(f"format must be one of {', '.join(FORMATS)}; got {format!r}.")
    params = InferenceParams.from_legacy_query(request.query_params, visualize_predictions=format != "json")
    source = await _image_source(request, image, image_type.lower())
    model_id = f"{dataset_id}/{version_id}"
    api_key = await download_api_key(request, state)
    (result,) = await state.runner.infer(model_id, [source], params, started, api_key=api_key)
    if format == "image":
        return Response(result.drawing(), media_type="image/jpeg")
    return PredictionsResponse(response_body(result))


async def _image_source(request: Request, url: str | None, image_type: str) -> Any:
    """Where the image comes from, first match wins: the `image` URL, a multipart `file`, the body."""
    if url:
        return {"type": "url", "value": url}
    content_type = request.headers.get("content-type")
    if not content_type:
        raise InvalidInputError("Content-Type header not provided with request.")
    if content_type.lower().startswith("multipart/form-data"):
        return await _multipart_file(request)
    if image_type not in IMAGE_TYPES:
        raise InvalidInputError(f"image_type must be one of {', '.join(IMAGE_TYPES)}; got {image_type!r}.")
    body = await request.body()
    if image_type == "numpy":
        return PickledArray(body)
    return {"type": "base64", "value": body}


async def _multipart_file(request: Request) -> bytes:
    form = await request.form()
    try:
        part = form.get("file")
        if isinstance(part, UploadFile):
            return await part.read()
        if isinstance(part, str):
            raise InvalidInputError("The multipart part 'file' must be a file upload holding image bytes.")
        raise InvalidInputError("The multipart body has no part named 'file' holding the image.")
    finally:
        await form.close()
