"""Running workflows on the server, as I/O-free operations (see operations.py): the routes and
request fields are Roboflow's (`/workflows/run`, `/{workspace}/workflows/{id}` and the legacy
`/infer/workflows...`), images sent as base64, image outputs decoded as configured."""

from __future__ import annotations

import base64
import json
import os
from datetime import datetime
from typing import Any

from inference_sdk.http.entities import VisualisationResponseFormat
from inference_sdk.http.errors import InvalidParameterError
from inference_sdk.http.images import decode_visualisation, flatten, load_inputs
from inference_sdk.http.protocol import Operation, RetryPolicy, send_json

NO_RETRIES = RetryPolicy(tries=1)


def run_workflow(
    session: Any,
    workspace_name: str | None = None,
    workflow_id: str | None = None,
    specification: dict | None = None,
    images: dict[str, Any] | None = None,
    parameters: dict[str, Any] | None = None,
    excluded_fields: list[str] | None = None,
    legacy_endpoints: bool = False,
    use_cache: bool = True,
    enable_profiling: bool = False,
    workflow_version_id: str | None = None,
    disable_sinks: bool = False,
) -> Operation[list[dict[str, Any]]]:
    """One output dict per input image (see the server's `/workflows/run`)."""
    path = _route(workspace_name, workflow_id, specification, legacy_endpoints)
    config = session.configuration
    inputs: dict[str, Any] = {}
    for name, value in (images or {}).items():
        encoded = yield from load_inputs(flatten(value), None, session.retry, config.max_concurrent_requests)
        fields = [{"type": "base64", "value": image.value} for image in encoded]
        inputs[name] = fields if isinstance(value, (list, tuple)) else fields[0]
    inputs.update(parameters or {})
    body: dict[str, Any] = {
        **session.key_fields(),
        "use_cache": use_cache,
        "enable_profiling": enable_profiling,
        "inputs": inputs,
    }
    if disable_sinks:
        body["disable_sinks"] = True
    if excluded_fields is not None:
        body["excluded_fields"] = excluded_fields
    if specification is not None:
        body["specification"] = specification
    elif workflow_version_id is not None:
        body["workflow_version_id"] = workflow_version_id
    retry = session.retry if config.workflow_run_retries_enabled else NO_RETRIES
    answer = yield from send_json(session.call("POST", path, json=body), retry)
    if enable_profiling:
        save_profiler_trace(config.profiling_directory, answer.get("profiler_trace") or [])
    return [decode_images(output, config.output_visualisation_format) for output in answer["outputs"]]


def describe_workflow_interface(
    session: Any,
    workspace_name: str | None = None,
    workflow_id: str | None = None,
    specification: dict | None = None,
    use_cache: bool = True,
) -> Operation[dict[str, Any]]:
    """The workflow's inputs and outputs with their kinds (`/workflows/describe_interface`)."""
    _check_target(workspace_name, workflow_id, specification)
    body: dict[str, Any] = {**session.key_fields()}
    if specification is not None:
        path, body["specification"] = "/workflows/describe_interface", specification
    else:
        path, body["use_cache"] = f"/{workspace_name}/workflows/{workflow_id}/describe_interface", use_cache
    return (yield from send_json(session.call("POST", path, json=body), session.retry))


def _check_target(workspace_name: str | None, workflow_id: str | None, specification: dict | None) -> None:
    named = workspace_name is not None and workflow_id is not None
    if named == (specification is not None):
        raise InvalidParameterError(
            "Parameters (`workspace_name`, `workflow_id` / `workflow_name`) can be used mutually exclusive with "
            "`specification`, but at least one must be set."
        )


def _route(
    workspace_name: str | None, workflow_id: str | None, specification: dict | None, legacy: bool
) -> str:
    _check_target(workspace_name, workflow_id, specification)
    if specification is not None:
        return "/infer/workflows" if legacy else "/workflows/run"
    if legacy:
        return f"/infer/workflows/{workspace_name}/{workflow_id}"
    return f"/{workspace_name}/workflows/{workflow_id}"


def decode_images(value: Any, expected: VisualisationResponseFormat) -> Any:
    """Images in the outputs (`{"type": "base64", ...}`, at any depth) in the configured form."""
    if isinstance(value, dict):
        if value.get("type") == "base64" and "value" in value:
            if expected is VisualisationResponseFormat.BASE64:
                return value["value"]
            return decode_visualisation(base64.b64decode(value["value"]), expected)
        return {key: decode_images(item, expected) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_images(item, expected) for item in value]
    return value


def save_profiler_trace(directory: str, trace: list[dict]) -> None:
    """Write the trace where Roboflow's client does, as a Chrome trace-event JSON file."""
    folder = os.path.abspath(directory)
    os.makedirs(folder, exist_ok=True)
    stamp = datetime.now().strftime("%Y_%m_%d_%H_%M_%S")
    with open(os.path.join(folder, f"workflow_execution_tack_{stamp}.json"), "w") as handle:
        json.dump(trace, handle)
