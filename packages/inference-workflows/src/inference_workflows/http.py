"""The HTTP routes, as Roboflow's server names them; the VisionHost server mounts them when this
package is installed (`build_router`), passing its model manager and its API-key checks.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from inference_core.manager import ModelManager
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from inference_workflows.context import WorkflowSettings
from inference_workflows.describe import blocks_description, definition_schema
from inference_workflows.errors import WorkflowError
from inference_workflows.registry import default_registry
from inference_workflows.runner import WorkflowRunner, validate_workflow
from inference_workflows.saved import load_saved_specification

EXECUTION_ENGINE_VERSIONS = ["1.0.0"]


class WorkflowInferenceRequest(BaseModel):
    api_key: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    excluded_fields: list[str] | None = None
    enable_profiling: bool = False
    workflow_id: str | None = None
    disable_sinks: bool = False


class WorkflowSpecificationInferenceRequest(WorkflowInferenceRequest):
    specification: dict[str, Any]
    is_preview: bool = False


class PredefinedWorkflowInferenceRequest(WorkflowInferenceRequest):
    use_cache: bool = True
    workflow_version_id: str | None = None


class DescribeInterfaceRequest(BaseModel):
    api_key: str | None = None
    specification: dict[str, Any]


class PredefinedDescribeInterfaceRequest(BaseModel):
    api_key: str | None = None
    use_cache: bool = True


#: The Roboflow key a request's downloads use (models, saved workflows), from the request and its
#: parsed body (which holds the top-level `api_key`); the server's answers None while it checks
#: its own keys, so that those never leave it.
ApiKeyResolver = Callable[[Request, Any], Awaitable[str | None]]


def build_router(
    manager: Callable[[], ModelManager],
    dependencies: list[Any] | None = None,
    api_key_for: ApiKeyResolver | None = None,
    settings: WorkflowSettings | None = None,
) -> APIRouter:
    """Routes bound to the server's `manager` (a getter), guarded by its `dependencies` (auth)."""
    settings = settings or WorkflowSettings.from_env()
    router = APIRouter(tags=["workflows"], dependencies=[Depends(dep) for dep in dependencies or []])

    async def key(request: Request, body: Any) -> str | None:
        return await api_key_for(request, body) if api_key_for is not None else body.api_key

    async def run(spec: dict, body: WorkflowInferenceRequest, request: Request) -> JSONResponse:
        api_key = await key(request, body)

        def execute() -> dict:
            run_settings = (
                dataclasses.replace(settings, disable_sinks=True) if body.disable_sinks else settings
            )
            runner = WorkflowRunner(spec, manager=manager(), api_key=api_key, settings=run_settings)
            outputs, trace = runner.run(body.inputs, excluded_fields=body.excluded_fields, profile=True)
            return {"outputs": outputs, "profiler_trace": trace if body.enable_profiling else None}

        return await _answer(execute)

    @router.post("/workflows/run", summary="Run the workflow specification sent in the body")
    @router.post("/infer/workflows", summary="[LEGACY] Run the workflow specification sent in the body")
    async def run_specification(
        body: WorkflowSpecificationInferenceRequest, request: Request
    ) -> JSONResponse:
        return await run(body.specification, body, request)

    @router.post("/{workspace_name}/workflows/{workflow_id}", summary="Run a saved workflow")
    @router.post("/infer/workflows/{workspace_name}/{workflow_id}", summary="[LEGACY] Run a saved workflow")
    async def run_saved(
        workspace_name: str, workflow_id: str, body: PredefinedWorkflowInferenceRequest, request: Request
    ) -> JSONResponse:
        api_key = await key(request, body)
        try:
            spec = await run_in_threadpool(
                load_saved_specification, settings, workspace_name, workflow_id, api_key, body.use_cache
            )
        except WorkflowError as error:
            return _error(error)
        return await run(spec, body, request)

    @router.post("/workflows/validate", summary="Check a workflow specification without running it")
    async def validate(request: Request) -> JSONResponse:
        try:
            specification = json.loads(await request.body())
        except ValueError:
            return JSONResponse(
                {"message": "The body must be a JSON workflow specification."}, status_code=400
            )
        return await _answer(lambda: (validate_workflow(specification), {"status": "ok"})[1])

    @router.post("/workflows/describe_interface", summary="Inputs and outputs of a specification")
    async def describe_interface(body: DescribeInterfaceRequest) -> JSONResponse:
        return await _answer(lambda: validate_workflow(body.specification).describe_interface())

    @router.post(
        "/{workspace_name}/workflows/{workflow_id}/describe_interface",
        summary="Interface of a saved workflow",
    )
    async def describe_saved_interface(
        workspace_name: str, workflow_id: str, body: PredefinedDescribeInterfaceRequest, request: Request
    ) -> JSONResponse:
        api_key = await key(request, body)

        def describe() -> dict:
            spec = load_saved_specification(settings, workspace_name, workflow_id, api_key, body.use_cache)
            return validate_workflow(spec).describe_interface()

        return await _answer(describe)

    @router.get("/workflows/blocks/describe", summary="Every block's manifest as JSON schema")
    @router.post("/workflows/blocks/describe", summary="Every block's manifest as JSON schema")
    async def describe_blocks() -> JSONResponse:
        return JSONResponse(blocks_description(default_registry()))

    @router.get("/workflows/definition/schema", summary="JSON schema of a workflow definition")
    async def schema() -> JSONResponse:
        return JSONResponse({"schema": definition_schema(default_registry())})

    @router.get("/workflows/execution_engine/versions", summary="Execution Engine versions")
    async def versions() -> JSONResponse:
        return JSONResponse({"versions": EXECUTION_ENGINE_VERSIONS})

    return router


async def _answer(work: Callable[[], Any]) -> JSONResponse:
    try:
        return JSONResponse(await run_in_threadpool(work))
    except WorkflowError as error:
        return _error(error)


def _error(error: WorkflowError) -> JSONResponse:
    return JSONResponse(error.to_dict(), status_code=error.status_code)
