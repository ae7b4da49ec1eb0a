"""Saved workflows (`/{workspace}/workflows/{workflow_id}`): a specification from the local
folder (WORKFLOWS_SPECIFICATIONS_DIR), or from Roboflow's API with the caller's key, kept on disk
so the same workflow runs later offline (and is used from there when the API cannot be reached).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from inference_workflows.context import WorkflowSettings
from inference_workflows.errors import WorkflowError, WorkflowNotFoundError

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,127}$")
MAX_SPECIFICATION_BYTES = 8 * 1024 * 1024


class WorkflowSourceError(WorkflowError):
    status_code = 502
    error_type = "WorkflowSourceError"


def load_saved_specification(
    settings: WorkflowSettings,
    workspace: str,
    workflow_id: str,
    api_key: str | None = None,
    use_cache: bool = True,
) -> dict[str, Any]:
    if not _SAFE_NAME.match(workspace) or not _SAFE_NAME.match(workflow_id):
        raise WorkflowNotFoundError(f"No workflow {workspace}/{workflow_id}.")
    relative = Path(workspace) / f"{workflow_id}.json"
    if settings.specifications_dir is not None and (settings.specifications_dir / relative).is_file():
        return _read(settings.specifications_dir / relative, workspace, workflow_id)
    cached = settings.downloaded_dir / relative if settings.downloaded_dir is not None else None
    if cached is not None and cached.is_file() and use_cache:
        return _read(cached, workspace, workflow_id)
    key = api_key or settings.api_key
    if settings.offline or not key:
        if cached is not None and cached.is_file():
            return _read(cached, workspace, workflow_id)
        why = "the server is offline" if settings.offline else "no API key was given"
        raise WorkflowNotFoundError(
            f"No workflow {workspace}/{workflow_id} in the specifications folder, and {why} to fetch it from "
            "Roboflow's API; send the specification to /workflows/run or put it in WORKFLOWS_SPECIFICATIONS_DIR."
        )
    try:
        document = _download(settings.api_base_url, workspace, workflow_id, key)
    except WorkflowSourceError:
        if cached is not None and cached.is_file():
            return _read(cached, workspace, workflow_id)
        raise
    specification = unwrap(document, workspace, workflow_id)
    if cached is not None:
        _write_atomically(cached, specification)
    return specification


def _download(base_url: str, workspace: str, workflow_id: str, api_key: str) -> Any:
    query = urllib.parse.urlencode({"api_key": api_key})
    url = f"{base_url.rstrip('/')}/{workspace}/workflows/{workflow_id}?{query}"
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - the operator's API_BASE_URL
            body = answer.read(MAX_SPECIFICATION_BYTES + 1)
    except urllib.error.HTTPError as error:
        if error.code in (401, 403, 404):
            raise WorkflowNotFoundError(
                f"Roboflow's API has no workflow {workspace}/{workflow_id} for this key (HTTP {error.code})."
            ) from None
        raise WorkflowSourceError(
            f"Roboflow's API answered HTTP {error.code} for {workspace}/{workflow_id}."
        ) from None
    except (OSError, ValueError) as error:
        raise WorkflowSourceError(
            f"Could not reach Roboflow's API for {workspace}/{workflow_id}: {error}"
        ) from None
    if len(body) > MAX_SPECIFICATION_BYTES:
        raise WorkflowSourceError(
            f"Workflow {workspace}/{workflow_id} is larger than {MAX_SPECIFICATION_BYTES} bytes."
        )
    try:
        return json.loads(body)
    except ValueError:
        raise WorkflowSourceError(
            f"Roboflow's API answered something that is not JSON for {workspace}/{workflow_id}."
        ) from None


def unwrap(document: Any, workspace: str, workflow_id: str) -> dict[str, Any]:
    """The specification from a saved file or Roboflow's answer (`{"workflow": {"config": "<json>"}}`)."""
    saved = document.get("workflow") if isinstance(document, dict) else None
    if isinstance(saved, dict) and isinstance(saved.get("config"), str):
        try:
            config = json.loads(saved["config"])
        except ValueError:
            raise WorkflowError(
                f"Workflow {workspace}/{workflow_id} has a config that is not JSON."
            ) from None
        document = config.get("specification", config) if isinstance(config, dict) else config
    if not isinstance(document, dict):
        raise WorkflowError(f"Workflow {workspace}/{workflow_id} is not a JSON object.")
    return document


def _read(path: Path, workspace: str, workflow_id: str) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except ValueError as error:
        raise WorkflowError(f"Saved workflow {workspace}/{workflow_id} is not valid JSON: {error}") from error
    return unwrap(document, workspace, workflow_id)


def _write_atomically(path: Path, specification: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    with os.fdopen(handle, "w") as stream:
        json.dump(specification, stream)
    os.replace(temporary, path)
