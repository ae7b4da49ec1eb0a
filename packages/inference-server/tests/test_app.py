"""App behaviour that needs no separate process: keys, CORS, caps, readiness, error shapes."""

from __future__ import annotations

import base64
import dataclasses
import re
import time

import cv2
import numpy as np
import pytest
from inference_server.settings import ServerSettings

DETECTOR_ID = "shapes/1"  # filed by conftest's detector_cache

IMAGE = base64.b64encode(cv2.imencode(".png", np.full((64, 64, 3), 90, np.uint8))[1].tobytes()).decode()
INFER_BODY = {"model_id": DETECTOR_ID, "image": {"type": "base64", "value": IMAGE}}


def settings_for(cache, **overrides) -> ServerSettings:
    base = ServerSettings.from_env({"MODEL_CACHE_DIR": str(cache), "INTRA_OP_THREADS": "1"})
    return dataclasses.replace(base, **overrides)


def test_accepted_keys_guard_model_and_inference_routes(make_client, detector_cache):
    client = make_client(settings_for(detector_cache, accepted_api_keys=("secret-1", "secret-2")))
    assert client.get("/healthz").status_code == 200 and client.get("/info").status_code == 200
    missing = client.get("/model/registry")
    assert missing.status_code == 401 and "API key" in missing.json()["message"]
    assert client.get("/model/registry", params={"api_key": "wrong"}).status_code == 401
    assert client.post("/infer/object_detection", json=INFER_BODY).status_code == 401
    assert (
        client.post(f"/{DETECTOR_ID}", content=IMAGE, headers={"Content-Type": "text/plain"}).status_code
        == 401
    )
    assert client.get("/clear_cache").status_code == 401
    assert client.get("/model/registry", params={"api_key": "secret-2"}).status_code == 200
    assert client.get("/model/registry", headers={"Authorization": "Bearer secret-1"}).status_code == 200
    assert (
        client.post("/infer/object_detection", json={**INFER_BODY, "api_key": "secret-1"}).status_code == 200
    )
    legacy = client.post(
        f"/{DETECTOR_ID}",
        params={"api_key": "secret-1"},
        content=IMAGE,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert legacy.status_code == 200


def test_without_configured_keys_any_key_is_accepted(make_client, detector_cache):
    client = make_client(settings_for(detector_cache))
    assert client.get("/model/registry", params={"api_key": "anything"}).status_code == 200


def test_cors_only_for_configured_origins(make_client, detector_cache):
    client = make_client(settings_for(detector_cache, cors_allowed_origins=("https://app.example",)))
    allowed = client.get("/info", headers={"Origin": "https://app.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    other = client.get("/info", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = client.options(
        "/infer/object_detection",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200
    plain = make_client(settings_for(detector_cache)).get("/info", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in plain.headers


def test_body_cap_by_declared_length_and_by_counting(make_client, detector_cache):
    client = make_client(settings_for(detector_cache, max_body_bytes=1000))
    declared = client.post(
        "/infer/object_detection", content=b"x" * 2000, headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413 and "1000 bytes" in declared.json()["message"]

    def chunks():
        for _ in range(5):
            yield b"y" * 400

    counted = client.post(f"/{DETECTOR_ID}", content=chunks(), headers={"Content-Type": "text/plain"})
    assert counted.status_code == 413
    small_chunked = client.post(
        "/infer/object_detection",
        content=iter([b'{"model_id": "a/1"}']),
        headers={"Content-Type": "application/json"},
    )
    assert small_chunked.status_code == 422  # read in full and handed on


def test_batch_length_cap(make_client, detector_cache):
    client = make_client(settings_for(detector_cache, max_batch_size=2))
    body = {**INFER_BODY, "image": [INFER_BODY["image"]] * 3}
    response = client.post("/infer/object_detection", json=body)
    assert response.status_code == 413 and "MAX_BATCH_SIZE" in response.json()["message"]
    body["image"] = body["image"][:2]
    assert len(client.post("/infer/object_detection", json=body).json()) == 2


def test_preloaded_models_are_pinned_and_readiness_follows(make_client, detector_cache):
    client = make_client(settings_for(detector_cache, preload_models=(DETECTOR_ID,)))
    deadline = time.monotonic() + 30
    while client.get("/readiness").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert client.get("/readiness").json() == {"status": "ready"}
    assert [item["model_id"] for item in client.get("/model/registry").json()["models"]] == [DETECTOR_ID]


def test_a_failed_preload_keeps_readiness_at_503_with_the_reason(make_client, detector_cache):
    client = make_client(settings_for(detector_cache, preload_models=("missing/1",)))
    deadline = time.monotonic() + 30
    response = client.get("/readiness")
    while "missing/1" not in response.text and time.monotonic() < deadline:
        time.sleep(0.1)
        response = client.get("/readiness")
    assert response.status_code == 503 and "missing/1" in response.json()["message"]
    assert client.get("/healthz").status_code == 200


def test_metrics_can_be_disabled(make_client, detector_cache):
    client = make_client(settings_for(detector_cache, enable_prometheus=False))
    assert client.get("/metrics").status_code == 404


def test_error_shapes(make_client, detector_cache):
    client = make_client(settings_for(detector_cache))
    not_found = client.get("/a/b/c")
    assert not_found.status_code == 404 and not_found.json()["message"]
    invalid = client.post("/infer/object_detection", json={"image": {"type": "base64", "value": "x"}})
    assert invalid.status_code == 422
    assert "model_id" in invalid.json()["message"] and invalid.json()["detail"][0]["loc"] == [
        "body",
        "model_id",
    ]


def gathered_forward_passes(client) -> int:
    """How many forward passes went through the dynamic batcher, from /metrics."""
    found = re.search(r"visionhost_forward_batch_size_count\{[^}]*\} ([0-9.e+]+)", client.get("/metrics").text)
    return int(float(found.group(1))) if found else 0


@pytest.mark.parametrize(("window_seconds", "batched"), [(0.0, False), (0.002, True)])
def test_a_zero_batching_window_turns_batching_off(make_client, detector_cache, window_seconds, batched):
    settings = settings_for(detector_cache, dynamic_batching="on", batch_window_seconds=window_seconds)
    client = make_client(settings)
    answer = client.post("/infer/object_detection", json={**INFER_BODY, "image": [INFER_BODY["image"]] * 2})
    assert answer.status_code == 200 and len(answer.json()) == 2
    assert (gathered_forward_passes(client) > 0) is batched


def test_a_model_sent_to_another_tasks_route_is_told_which_route_is_its_own(make_client, detector_cache):
    client = make_client(settings_for(detector_cache))
    wrong = client.post("/infer/instance_segmentation", json=INFER_BODY)
    assert wrong.status_code == 400
    assert wrong.json()["message"] == (
        f"Model '{DETECTOR_ID}' is an object-detection model, not instance-segmentation; "
        "send it to /infer/object_detection."
    )
