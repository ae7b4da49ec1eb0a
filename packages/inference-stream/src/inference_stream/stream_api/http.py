"""`/inference_pipelines/...` routes with Roboflow's payloads and answers; the server mounts them.

Answers are `{"status": "success", "context": {"request_id", "pipeline_id"}, ...}` followed by
`report`, `pipelines` or `outputs` and `frames_metadata`, as Roboflow's stream manager gives them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from inference_stream.entities import BufferConsumptionStrategy, BufferFillingStrategy
from inference_stream.stream_api.manager import PipelineManager


class VideoConfiguration(BaseModel):
    type: Literal["VideoConfiguration"]
    video_reference: str | int | list[str | int]
    max_fps: float | None = None
    source_buffer_filling_strategy: BufferFillingStrategy | None = BufferFillingStrategy.DROP_OLDEST
    source_buffer_consumption_strategy: BufferConsumptionStrategy | None = BufferConsumptionStrategy.EAGER
    video_source_properties: dict[str, float | str] | None = None
    batch_collection_timeout: float | None = None


class MemorySinkConfiguration(BaseModel):
    type: Literal["MemorySinkConfiguration"]
    results_buffer_size: int = 64


class WorkflowConfiguration(BaseModel):
    type: Literal["WorkflowConfiguration"]
    workflow_specification: dict | None = None
    workspace_name: str | None = None
    workflow_id: str | None = None
    workflow_version_id: str | None = None
    image_input_name: str = "image"
    workflows_parameters: dict[str, Any] | None = None
    video_metadata_input_name: str = "video_metadata"


class InitialisePipelinePayload(BaseModel):
    video_configuration: VideoConfiguration
    processing_configuration: WorkflowConfiguration
    sink_configuration: MemorySinkConfiguration = MemorySinkConfiguration(type="MemorySinkConfiguration")
    consumption_timeout: float | None = None
    api_key: str | None = None
    predictions_queue_size: int | None = None
    decoding_buffer_size: int | None = None


class ConsumeResultsPayload(BaseModel):
    excluded_fields: list[str] = []


def _answer(pipeline_id: str | None, **fields: Any) -> dict:
    context = {"request_id": str(uuid.uuid4()), "pipeline_id": pipeline_id}
    return {"status": "success", "context": context, **fields}


def build_router(manager: Callable[[], PipelineManager], dependencies: list) -> APIRouter:
    """Routes over the manager `manager()` returns; `dependencies` are the server's auth checks."""
    router = APIRouter(prefix="/inference_pipelines", dependencies=[Depends(check) for check in dependencies])

    @router.get("/list")
    async def list_pipelines() -> dict:
        return _answer(None, pipelines=await run_in_threadpool(manager().list))

    @router.post("/initialise")
    async def initialise(payload: InitialisePipelinePayload) -> dict:
        request = payload.model_dump(mode="json")
        pipeline_id = await run_in_threadpool(manager().initialise, request)
        return _answer(pipeline_id)

    @router.get("/{pipeline_id}/status")
    async def status(pipeline_id: str) -> dict:
        reply = await run_in_threadpool(manager().command, pipeline_id, "status")
        return _answer(pipeline_id, report=reply["report"])

    @router.post("/{pipeline_id}/pause")
    async def pause(pipeline_id: str) -> dict:
        await run_in_threadpool(manager().command, pipeline_id, "pause")
        return _answer(pipeline_id)

    @router.post("/{pipeline_id}/resume")
    async def resume(pipeline_id: str) -> dict:
        await run_in_threadpool(manager().command, pipeline_id, "resume")
        return _answer(pipeline_id)

    @router.post("/{pipeline_id}/terminate")
    async def terminate(pipeline_id: str) -> dict:
        await run_in_threadpool(manager().terminate, pipeline_id)
        return _answer(pipeline_id)

    @router.get("/{pipeline_id}/consume")
    async def consume(pipeline_id: str, payload: ConsumeResultsPayload | None = Body(default=None)) -> dict:
        excluded = payload.excluded_fields if payload is not None else []
        reply = await run_in_threadpool(manager().command, pipeline_id, "consume", excluded_fields=excluded)
        return _answer(pipeline_id, outputs=reply["outputs"], frames_metadata=reply["frames_metadata"])

    return router
