"""The cheap checks reach the workflow and stream routes: with server keys on, a body without an
accepted key is refused before it is parsed (whatever its content type says, or without one), and a
workflow's `inputs` holding more images than MAX_BATCH_SIZE in one list is refused (413) after
counting MAX_BATCH_SIZE + 1 of them, never validated whole. Real server on 127.0.0.1."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from server_harness import DETECTOR_ID, make_scene, start_server, stop_server

KEY = "workflow-secret"
MAX_BATCH = 4
SPEC = {
    "version": "1.0",
    "inputs": [{"type": "WorkflowImage", "name": "image"},
               {"type": "WorkflowParameter", "name": "names", "default_value": []}],
    "steps": [{"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "detect",
               "images": "$inputs.image", "model_id": DETECTOR_ID, "confidence": 0.5}],
    "outputs": [{"type": "JsonField", "name": "predictions", "selector": "$steps.detect.predictions"}],
}
WORKFLOW_PATHS = ("/workflows/run", "/infer/workflows", "/my-workspace/workflows/my-workflow",
                  "/infer/workflows/my-workspace/my-workflow")
KEYED_PATHS = (*WORKFLOW_PATHS, "/inference_pipelines/initialise", "/workflows/describe_interface")


@pytest.fixture(scope="module")
def keyed_server(model_cache, tmp_path_factory):
    log_path = tmp_path_factory.mktemp("server-logs") / "keyed-workflows.log"
    running = start_server({
        "MODEL_CACHE_DIR": str(model_cache),
        "OFFLINE_MODE": "true",
        "VISIONHOST_API_KEYS": KEY,
        "ENABLE_STREAM_API": "true",
        "MAX_BATCH_SIZE": str(MAX_BATCH),
    }, log_path)
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def http(keyed_server):
    with httpx.Client(base_url=keyed_server.url, timeout=60) as client:
        yield client


def image_object() -> dict:
    return {"type": "base64", "value": base64.b64encode(make_scene(7, 64, 48).jpeg).decode()}


def flood(count: int) -> bytes:
    """A run body whose `inputs.image` holds `count` tiny image objects (and the key)."""
    images = ",".join(['{"type":"url","value":""}'] * count)
    return ('{"api_key": "' + KEY + '", "specification": ' + json.dumps(SPEC)
            + ', "inputs": {"names": ["a"], "image": [' + images + "]}}").encode()


@pytest.mark.parametrize("path", KEYED_PATHS)
@pytest.mark.parametrize("content_type", [None, "application/json", "application/vnd.api+json; charset=utf-8"])
def test_without_a_key_the_body_is_refused_before_it_is_parsed(http, path, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    # Not JSON at all: a route that parsed it first would answer 422.
    broken = http.post(path, content=b'{"inputs": {"image": [{"type": ', headers=headers)
    assert broken.status_code == 401, broken.text
    assert "API key" in broken.json()["message"]
    wrong = http.post(path, content=b'{"api_key": "guess", "inputs": {', headers=headers)
    assert wrong.status_code == 401 and "not accepted" in wrong.json()["message"]


@pytest.mark.parametrize("path", WORKFLOW_PATHS)
def test_a_huge_list_of_images_in_workflow_inputs_is_refused_before_validation(http, path):
    refused = http.post(path, content=flood(300_000), headers={"Content-Type": "application/json"})
    assert refused.status_code == 413, refused.text[:300]
    assert "MAX_BATCH_SIZE" in refused.json()["message"]
    no_header = http.post(path, content=flood(MAX_BATCH + 1))
    assert no_header.status_code == 413, no_header.text[:300]


def test_workflow_inputs_up_to_the_cap_run_and_parameter_lists_are_not_counted(http):
    def run(images: int, names: int) -> httpx.Response:
        inputs = {"image": [image_object()] * images, "names": [f"class-{index}" for index in range(names)]}
        return http.post("/workflows/run", json={"api_key": KEY, "specification": SPEC, "inputs": inputs})

    at_cap = run(MAX_BATCH, 3 * MAX_BATCH)
    assert at_cap.status_code == 200, at_cap.text[:300]
    assert len(at_cap.json()["outputs"]) == MAX_BATCH
    assert run(MAX_BATCH + 1, 0).status_code == 413
