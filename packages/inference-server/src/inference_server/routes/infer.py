"""The JSON inference routes `/infer/{task}`: one image object or a list of them."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from inference_server.auth import download_api_key, require_api_key
from inference_server.routes.common import check_task, request_started, response_body
from inference_server.runner import wire_image
from inference_server.schemas import (
    ClassificationRequest,
    InferenceRequest,
    InstanceSegmentationRequest,
    KeypointsDetectionRequest,
    ObjectDetectionRequest,
)
from inference_server.state import ServerState, State

router = APIRouter(prefix="/infer", tags=["inference"], dependencies=[Depends(require_api_key)])


async def run_inference(
    body: InferenceRequest, task: str, request: Request, state: ServerState
) -> JSONResponse:
    started = request_started(request)
    params = body.params()
    images = [wire_image(item) for item in body.images()]
    state.runner.check_batch_length(len(images))
    api_key = await download_api_key(request, state)
    model = await state.runner.model(body.model_id, api_key=api_key)
    check_task(model.task, task, body.model_id)
    results = await state.runner.infer(body.model_id, images, params, started, body.id, api_key)
    payloads = [response_body(result) for result in results]
    return JSONResponse(payloads if isinstance(body.image, list) else payloads[0])


@router.post("/object_detection", summary="Object detection on one image or a list")
async def object_detection(body: ObjectDetectionRequest, request: Request, state: State) -> JSONResponse:
    return await run_inference(body, "object-detection", request, state)


@router.post("/instance_segmentation", summary="Instance segmentation on one image or a list")
async def instance_segmentation(
    body: InstanceSegmentationRequest, request: Request, state: State
) -> JSONResponse:
    return await run_inference(body, "instance-segmentation", request, state)


@router.post("/classification", summary="Classification on one image or a list")
async def classification(body: ClassificationRequest, request: Request, state: State) -> JSONResponse:
    return await run_inference(body, "classification", request, state)


@router.post("/keypoints_detection", summary="Keypoint detection on one image or a list")
async def keypoints_detection(
    body: KeypointsDetectionRequest, request: Request, state: State
) -> JSONResponse:
    return await run_inference(body, "keypoint-detection", request, state)
