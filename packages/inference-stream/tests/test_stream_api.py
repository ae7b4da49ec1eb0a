"""The `/inference_pipelines` API of a real server: a workflow pipeline per worker process."""

from __future__ import annotations

import time

import pytest
from mjpeg_server import MjpegServer
from server_harness import start_server, stop_server
from stream_checks import CLIP_FRAMES, MODEL_ID

pytest.importorskip("inference_workflows", reason="the stream API runs workflows")

DETECT = {
    "version": "1.0",
    "inputs": [{"type": "WorkflowImage", "name": "image"}],
    "steps": [{"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "detector",
               "images": "$inputs.image", "model_id": MODEL_ID, "confidence": 0.5}],
    "outputs": [{"type": "JsonField", "name": "predictions", "selector": "$steps.detector.predictions"}],
}


def initialise_payload(reference, **video) -> dict:
    return {
        "video_configuration": {"type": "VideoConfiguration", "video_reference": reference, **video},
        "processing_configuration": {"type": "WorkflowConfiguration", "workflow_specification": DETECT},
        "sink_configuration": {"type": "MemorySinkConfiguration", "results_buffer_size": 64},
    }


@pytest.fixture(scope="module")
def server(model_cache, tmp_path_factory):
    """A default server: the stream API off."""
    running = start_server({"MODEL_CACHE_DIR": str(model_cache), "OFFLINE_MODE": "true"},
                           tmp_path_factory.mktemp("stream-api-off") / "server.log")
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def stream_server(model_cache, tmp_path_factory):
    running = start_server(
        {"MODEL_CACHE_DIR": str(model_cache), "OFFLINE_MODE": "true", "ENABLE_STREAM_API": "true",
         "ALLOW_FILE_INPUT": "true", "ALLOW_URL_TO_NON_GLOBAL_ADDRESSES": "true",
         "STREAM_MANAGER_MAX_ACTIVE_PIPELINES": "2"},
        tmp_path_factory.mktemp("stream-api") / "server.log",
    )
    yield running
    stop_server(running)


def wait_for_outputs(client, pipeline_id: str, count: int) -> list[tuple[dict, dict]]:
    collected = []
    deadline = time.monotonic() + 120
    while len(collected) < count:
        assert time.monotonic() < deadline, f"only {len(collected)} results came"
        body = client.get(f"/inference_pipelines/{pipeline_id}/consume").json()
        assert body["status"] == "success" and body["context"]["pipeline_id"] == pipeline_id
        collected.extend(zip(body["outputs"], body["frames_metadata"]))
        if not body["outputs"]:
            time.sleep(0.2)
    return collected


def test_a_file_pipeline_is_listed_reports_and_gives_every_frames_outputs(stream_server, clip_file):
    with stream_server.client() as client:
        # the payload's defaults (DROP_OLDEST, EAGER) are for live sources; every frame of a file:
        payload = initialise_payload(str(clip_file), source_buffer_filling_strategy="WAIT",
                                     source_buffer_consumption_strategy="LAZY")
        started = client.post("/inference_pipelines/initialise", json=payload)
        assert started.status_code == 200, started.text
        pipeline_id = started.json()["context"]["pipeline_id"]
        assert pipeline_id in client.get("/inference_pipelines/list").json()["pipelines"]
        results = wait_for_outputs(client, pipeline_id, CLIP_FRAMES)
        assert [metadata["frame_id"] for _, metadata in results] == list(range(1, CLIP_FRAMES + 1))
        assert all(len(output["predictions"]["predictions"]) == 2 for output, _ in results)
        report = client.get(f"/inference_pipelines/{pipeline_id}/status").json()
        assert report["status"] == "success" and "sources_metadata" in report["report"]
        assert report["report"]["sources_metadata"][0]["source_properties"]["is_file"] is True
        assert client.post(f"/inference_pipelines/{pipeline_id}/terminate").json()["status"] == "success"
        assert pipeline_id not in client.get("/inference_pipelines/list").json()["pipelines"]
        gone = client.get(f"/inference_pipelines/{pipeline_id}/status")
        assert gone.status_code == 404 and pipeline_id in gone.json()["message"]


def test_a_live_pipeline_pauses_resumes_and_the_cap_holds(stream_server, clip):
    camera = MjpegServer(clip.frames, fps=20).start()
    try:
        with stream_server.client() as client:
            ids = []
            for _ in range(2):
                response = client.post("/inference_pipelines/initialise", json=initialise_payload(camera.url))
                assert response.status_code == 200, response.text
                ids.append(response.json()["context"]["pipeline_id"])
            refused = client.post("/inference_pipelines/initialise", json=initialise_payload(camera.url))
            assert refused.status_code == 429 and "STREAM_MANAGER_MAX_ACTIVE_PIPELINES" in refused.json()["message"]
            assert wait_for_outputs(client, ids[0], 3)
            assert client.post(f"/inference_pipelines/{ids[0]}/pause").json()["status"] == "success"
            assert client.post(f"/inference_pipelines/{ids[0]}/resume").json()["status"] == "success"
            assert wait_for_outputs(client, ids[0], 3)
            for pipeline_id in ids:
                client.post(f"/inference_pipelines/{pipeline_id}/terminate")
            assert client.get("/inference_pipelines/list").json()["pipelines"] == []
    finally:
        camera.stop()


def test_a_pipeline_nobody_consumes_ends_after_its_consumption_timeout(stream_server, clip):
    camera = MjpegServer(clip.frames, fps=20).start()
    try:
        with stream_server.client() as client:
            payload = {**initialise_payload(camera.url), "consumption_timeout": 1.0}
            pipeline_id = client.post("/inference_pipelines/initialise", json=payload).json()["context"]["pipeline_id"]
            deadline = time.monotonic() + 60
            while pipeline_id in client.get("/inference_pipelines/list").json()["pipelines"]:
                assert time.monotonic() < deadline, "the unconsumed pipeline is still running"
                time.sleep(0.5)
            assert client.get(f"/inference_pipelines/{pipeline_id}/status").status_code == 404
    finally:
        camera.stop()


def test_the_stream_api_is_off_unless_enabled(server):
    with server.client() as client:
        answer = client.get("/inference_pipelines/list")
    assert answer.status_code == 404 and "ENABLE_STREAM_API" in answer.json()["message"]


def test_what_a_client_may_not_open_is_refused(model_cache, tmp_path, clip_file):
    strict = start_server(
        {"MODEL_CACHE_DIR": str(model_cache), "OFFLINE_MODE": "true", "ENABLE_STREAM_API": "true"},
        tmp_path / "strict.log",
    )
    try:
        with strict.client() as client:
            internal = client.post("/inference_pipelines/initialise",
                                   json=initialise_payload("rtsp://127.0.0.1:8554/cam"))
            assert internal.status_code == 400 and "non-public" in internal.json()["message"]
            server_file = client.post("/inference_pipelines/initialise", json=initialise_payload(str(clip_file)))
            assert server_file.status_code == 400 and "ALLOW_FILE_INPUT" in server_file.json()["message"]
            camera = client.post("/inference_pipelines/initialise", json=initialise_payload(0))
            assert camera.status_code == 400
            bad = client.post("/inference_pipelines/initialise", json={"video_configuration": {}})
            assert bad.status_code == 422
            assert client.get("/inference_pipelines/list").json()["pipelines"] == []
    finally:
        stop_server(strict)


def test_the_client_drives_a_pipeline_with_roboflows_method_names(stream_server, clip_file):
    from inference_sdk import InferenceHTTPClient
    from inference_sdk.http.errors import HTTPCallErrorError

    client = InferenceHTTPClient(api_url=stream_server.url, api_key="any")
    started = client.start_inference_pipeline_with_workflow(
        video_reference=str(clip_file), workflow_specification=DETECT,
        source_buffer_filling_strategy="WAIT", source_buffer_consumption_strategy="LAZY",
    )
    pipeline_id = started["context"]["pipeline_id"]
    assert pipeline_id in client.list_inference_pipelines()["pipelines"]
    frame_ids: list[int] = []
    deadline = time.monotonic() + 120
    while len(frame_ids) < CLIP_FRAMES:
        assert time.monotonic() < deadline, f"only {len(frame_ids)} results came"
        result = client.consume_inference_pipeline_result(pipeline_id, excluded_fields=["predictions"])
        assert all(output == {} for output in result["outputs"])  # the excluded field is left out
        frame_ids.extend(metadata["frame_id"] for metadata in result["frames_metadata"])
        if not result["outputs"]:
            time.sleep(0.2)
    assert frame_ids == list(range(1, CLIP_FRAMES + 1))
    assert client.get_inference_pipeline_status(pipeline_id)["status"] == "success"
    with pytest.raises(HTTPCallErrorError) as refused:  # the file has ended: nothing to pause
        client.pause_inference_pipeline(pipeline_id)
    assert refused.value.status_code == 409 and "ENDED" in refused.value.api_message
    assert client.terminate_inference_pipeline(pipeline_id)["status"] == "success"
    assert client.list_inference_pipelines()["pipelines"] == []
    with pytest.raises(ValueError):
        client.get_inference_pipeline_status("")

