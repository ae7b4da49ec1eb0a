"""The server's stream API (`/inference_pipelines/...`), as I/O-free operations (see operations.py).

Payloads and answers are Roboflow's: a workflow pipeline over a video source is started with
`video_configuration`, `processing_configuration` and `sink_configuration`; its results are then
consumed one batch at a time.
"""

from __future__ import annotations

from typing import Any

from inference_sdk.http.errors import InvalidParameterError
from inference_sdk.http.protocol import Operation, send_json


def start_with_workflow(
    session: Any,
    video_reference: str | int | list[str | int],
    workflow_specification: dict | None = None,
    workspace_name: str | None = None,
    workflow_id: str | None = None,
    image_input_name: str = "image",
    workflows_parameters: dict[str, Any] | None = None,
    workflows_thread_pool_workers: int = 4,
    cancel_thread_pool_tasks_on_exit: bool = True,
    video_metadata_input_name: str = "video_metadata",
    max_fps: float | None = None,
    source_buffer_filling_strategy: str | None = "DROP_OLDEST",
    source_buffer_consumption_strategy: str | None = "EAGER",
    video_source_properties: dict[str, float | str] | None = None,
    batch_collection_timeout: float | None = None,
    results_buffer_size: int = 64,
) -> Operation[dict]:
    named = workspace_name is not None and workflow_id is not None
    if named == (workflow_specification is not None):
        raise InvalidParameterError(
            "Parameters (`workspace_name`, `workflow_id`) can be used mutually exclusive with "
            "`workflow_specification`, but at least one must be set."
        )
    body = {
        **session.key_fields(),
        "video_configuration": {
            "type": "VideoConfiguration",
            "video_reference": video_reference,
            "max_fps": max_fps,
            "source_buffer_filling_strategy": source_buffer_filling_strategy,
            "source_buffer_consumption_strategy": source_buffer_consumption_strategy,
            "video_source_properties": video_source_properties,
            "batch_collection_timeout": batch_collection_timeout,
        },
        "processing_configuration": {
            "type": "WorkflowConfiguration",
            "workflow_specification": workflow_specification,
            "workspace_name": workspace_name,
            "workflow_id": workflow_id,
            "image_input_name": image_input_name,
            "workflows_parameters": workflows_parameters,
            "workflows_thread_pool_workers": workflows_thread_pool_workers,
            "cancel_thread_pool_tasks_on_exit": cancel_thread_pool_tasks_on_exit,
            "video_metadata_input_name": video_metadata_input_name,
        },
        "sink_configuration": {"type": "MemorySinkConfiguration", "results_buffer_size": results_buffer_size},
    }
    return (yield from send_json(session.call("POST", "/inference_pipelines/initialise", json=body), session.retry))


def list_pipelines(session: Any) -> Operation[dict]:
    call = session.call("GET", "/inference_pipelines/list", json=session.key_fields())
    return (yield from send_json(call, session.retry))


def pipeline_command(session: Any, pipeline_id: str, method: str, action: str, **fields: Any) -> Operation[dict]:
    """`status`, `consume` (GET) or `pause`, `resume`, `terminate` (POST) on one pipeline."""
    if not pipeline_id:
        raise ValueError("Empty pipeline_id parameter provided.")
    call = session.call(method, f"/inference_pipelines/{pipeline_id}/{action}", json={**session.key_fields(), **fields})
    return (yield from send_json(call, session.retry))
