"""The routes on a real server process on 127.0.0.1 (the server mounts them because this
package is installed)."""

from __future__ import annotations

import base64
import json

import cv2
import pytest
from server_harness import start_server, stop_server
from wf_specs import DETECT, DETECT_CROP_CLASSIFY_COUNT, image_input, output, spec

SAVED_WORKSPACE = "acme"
SAVED_ID = "count-shapes"


@pytest.fixture(scope="module")
def server(model_cache, tmp_path_factory):
    specs = tmp_path_factory.mktemp("saved-workflows")
    (specs / SAVED_WORKSPACE).mkdir()
    (specs / SAVED_WORKSPACE / f"{SAVED_ID}.json").write_text(json.dumps(DETECT_CROP_CLASSIFY_COUNT))
    running = start_server(
        {
            "MODEL_CACHE_DIR": str(model_cache),
            "OFFLINE_MODE": "true",
            "WORKFLOWS_SPECIFICATIONS_DIR": str(specs),
            "MAX_BATCH_SIZE": "8",
        },
        tmp_path_factory.mktemp("logs") / "server.log",
    )
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def client(server):
    with server.client() as http:
        yield http


def _b64(image) -> dict:
    return {"type": "base64", "value": base64.b64encode(cv2.imencode(".jpg", image)[1].tobytes()).decode()}


@pytest.mark.parametrize("route", ["/workflows/run", "/infer/workflows"])
def test_run_specification_answers_outputs_per_image(client, scenes, route):
    images = [_b64(scene.image) for scene in scenes[:2]]
    response = client.post(
        route, json={"specification": DETECT_CROP_CLASSIFY_COUNT, "inputs": {"image": images}}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) >= {"outputs"} and body.get("profiler_trace") is None
    assert [item["count"] for item in body["outputs"]] == [len(scene.objects) for scene in scenes[:2]]
    assert all(len(item["classes"]) == item["count"] for item in body["outputs"])


@pytest.mark.parametrize(
    "route", [f"/{SAVED_WORKSPACE}/workflows/{SAVED_ID}", f"/infer/workflows/{SAVED_WORKSPACE}/{SAVED_ID}"]
)
def test_saved_workflow_from_the_specifications_folder(client, scenes, route):
    response = client.post(
        route, json={"inputs": {"image": _b64(scenes[0].image)}, "excluded_fields": ["crops"]}
    )
    assert response.status_code == 200, response.text
    (result,) = response.json()["outputs"]
    assert result["count"] == len(scenes[0].objects) and "crops" not in result


@pytest.mark.parametrize("name", ["../etc", "nope", "..%2F..%2Fpasswd"])
def test_unknown_or_escaping_saved_workflow_is_404(client, name):
    response = client.post(f"/{SAVED_WORKSPACE}/workflows/{name}", json={"inputs": {}})
    assert response.status_code == 404 and "message" in response.json()


def test_profiling_answers_a_trace(client, scenes):
    response = client.post(
        "/workflows/run",
        json={
            "specification": DETECT_CROP_CLASSIFY_COUNT,
            "inputs": {"image": _b64(scenes[0].image)},
            "enable_profiling": True,
        },
    )
    trace = response.json()["profiler_trace"]
    assert {event["name"] for event in trace} == {"detect", "crop", "classify", "count", "relabel"}


def test_bad_specification_is_a_400_naming_step_and_field(client):
    bad = spec([image_input()], [dict(DETECT, confidence="high")], [])
    for response in (
        client.post("/workflows/validate", json=bad),
        client.post("/workflows/run", json={"specification": bad, "inputs": {}}),
    ):
        assert response.status_code == 400
        body = response.json()
        assert "'detect'" in body["message"] and "'confidence'" in body["message"]
        assert body["blocks_errors"] == [{"step_name": "detect", "property_name": "confidence"}]


def test_validate_and_describe_interface(client):
    assert client.post("/workflows/validate", json=DETECT_CROP_CLASSIFY_COUNT).json() == {"status": "ok"}
    body = client.post(
        "/workflows/describe_interface", json={"specification": DETECT_CROP_CLASSIFY_COUNT}
    ).json()
    assert body["inputs"] == {"image": ["image"]}
    assert body["outputs"]["classes"] == ["classification_prediction"]
    assert body["typing_hints"]["image"] == "dict"
    saved = client.post(f"/{SAVED_WORKSPACE}/workflows/{SAVED_ID}/describe_interface", json={})
    assert saved.json()["outputs"] == body["outputs"]


def test_blocks_describe_and_definition_schema(client):
    blocks = client.get("/workflows/blocks/describe").json()
    names = {block["manifest_type_identifier"] for block in blocks["blocks"]}
    assert {"roboflow_core/dynamic_crop@v1", "roboflow_core/roboflow_object_detection_model@v2"} <= names
    crop = next(
        b for b in blocks["blocks"] if b["manifest_type_identifier"] == "roboflow_core/dynamic_crop@v1"
    )
    assert crop["block_schema"]["required"] == ["type", "name", "images", "predictions"]
    assert "Crop" in crop["manifest_type_identifier_aliases"]
    schema = client.get("/workflows/definition/schema").json()["schema"]
    assert "roboflow_core/continue_if@v1" in schema["$defs"]


def test_missing_image_and_unknown_model_statuses(client, scenes):
    missing = client.post("/workflows/run", json={"specification": DETECT_CROP_CLASSIFY_COUNT, "inputs": {}})
    assert missing.status_code == 400 and "'image'" in missing.json()["message"]
    unknown = spec(
        [image_input()], [dict(DETECT, model_id="ghost/1")], [output("p", "$steps.detect.predictions")]
    )
    response = client.post(
        "/workflows/run", json={"specification": unknown, "inputs": {"image": _b64(scenes[0].image)}}
    )
    assert response.status_code == 404 and "'detect'" in response.json()["message"]


def test_file_path_images_are_refused_by_the_server(client, tmp_path, scenes):
    path = tmp_path / "scene.jpg"
    cv2.imwrite(str(path), scenes[0].image)
    response = client.post(
        "/workflows/run",
        json={
            "specification": DETECT_CROP_CLASSIFY_COUNT,
            "inputs": {"image": {"type": "file", "value": str(path)}},
        },
    )
    assert response.status_code == 400


def test_our_sdk_runs_workflows_sync_and_async(server, scenes, tmp_path):
    import asyncio

    import numpy as np
    from inference_sdk import InferenceConfiguration, InferenceHTTPClient

    client = InferenceHTTPClient(api_url=server.url, api_key="any")
    images = [scene.image for scene in scenes[:2]]
    results = client.run_workflow(specification=DETECT_CROP_CLASSIFY_COUNT, images={"image": images})
    assert [item["count"] for item in results] == [len(scene.objects) for scene in scenes[:2]]
    assert all(isinstance(crop, str) for crop in results[0]["crops"])  # images as base64 text by default
    saved = client.run_workflow(
        workspace_name=SAVED_WORKSPACE,
        workflow_id=SAVED_ID,
        images={"image": images[0]},
        excluded_fields=["crops"],
    )
    assert saved[0]["count"] == results[0]["count"] and "crops" not in saved[0]
    legacy = client.infer_from_workflow(
        workspace_name=SAVED_WORKSPACE, workflow_name=SAVED_ID, images={"image": images[0]}
    )
    assert legacy[0]["count"] == results[0]["count"]
    interface = client.describe_workflow_interface(specification=DETECT_CROP_CLASSIFY_COUNT)
    assert interface["inputs"] == {"image": ["image"]}
    client.configure(
        InferenceConfiguration(
            output_visualisation_format="numpy", profiling_directory=str(tmp_path / "profiles")
        )
    )
    profiled = asyncio.run(
        client.run_workflow_async(
            specification=DETECT_CROP_CLASSIFY_COUNT, images={"image": images[0]}, enable_profiling=True
        )
    )
    assert isinstance(profiled[0]["crops"][0], np.ndarray) and profiled[0]["crops"][0].ndim == 3
    (trace_file,) = (tmp_path / "profiles").iterdir()
    assert {event["name"] for event in json.loads(trace_file.read_text())} >= {"detect", "crop"}
    with pytest.raises(Exception) as caught:
        client.run_workflow(
            specification=spec([image_input()], [dict(DETECT, type="Nope")], []), images={"image": images[0]}
        )
    assert getattr(caught.value, "status_code", None) == 400


def _without_ids(value):
    """An answer with the per-run random parts (ids, timestamps, timings, JPEG bytes) left out."""
    if isinstance(value, dict):
        return {
            key: _without_ids(item)
            for key, item in value.items()
            if key
            not in (
                "inference_id",
                "detection_id",
                "parent_id",
                "time",
                "frame_timestamp",
                "value",
                "video_identifier",
            )
        }
    if isinstance(value, list):
        return [_without_ids(item) for item in value]
    if isinstance(value, float):
        return round(value, 3)
    return value


def test_in_process_answers_what_the_server_answers(client, manager, scenes):
    from inference_workflows import run_workflow

    images = [scene.image for scene in scenes[:2]]
    local = run_workflow(DETECT_CROP_CLASSIFY_COUNT, {"image": images}, manager=manager)
    remote = client.post(
        "/workflows/run",
        json={
            "specification": DETECT_CROP_CLASSIFY_COUNT,
            "inputs": {"image": [_png(image) for image in images]},
        },
    )
    assert _without_ids(remote.json()["outputs"]) == _without_ids(local)


def _png(image) -> dict:
    return {"type": "base64", "value": base64.b64encode(cv2.imencode(".png", image)[1].tobytes()).decode()}
