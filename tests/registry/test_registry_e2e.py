"""End to end: a manager and a real server process pointed at the fake registry serve a model they
have never seen on the first request, download it once however many ask at once, and serve it
again after a restart with OFFLINE_MODE=true and the registry gone."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fake_registry import GOOD_KEY, FakeRegistry, default_model
from inference_core import CoreSettings, build_manager
from inference_core.errors import ModelNotFoundError
from inference_core.settings import RegistrySettings
from inference_core.sources.cache import STAGING_DIR
from server_harness import make_scene, start_server, stop_server

MODEL_ID = "registry-shapes/2"


@pytest.fixture(scope="module")
def model(assets_dir):
    return default_model(Path(assets_dir) / "models")


@pytest.fixture
def registry(model):
    running = FakeRegistry({MODEL_ID: model}).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def scene():
    return make_scene(900_300)


def registry_env(registry: FakeRegistry, cache: Path) -> dict[str, str]:
    return {"MODEL_CACHE_DIR": str(cache), "API_BASE_URL": registry.url, "MODEL_DOWNLOAD_TIMEOUT": "10",
            "MODEL_DOWNLOAD_RETRIES": "2", "ROBOFLOW_API_KEY": GOOD_KEY}


def test_in_process_first_request_downloads_once_then_serves_offline_after_restart(tmp_path, registry, scene):
    settings = CoreSettings(
        model_cache_dir=tmp_path, intra_op_threads=1,
        registry=RegistrySettings(api_base_url=registry.url, timeout_seconds=10, backoff_seconds=0.01),
    )
    manager = build_manager(settings)
    registry.fail("weights.onnx", "slow", times=1)  # everyone else must wait for this one download
    with ThreadPoolExecutor(16) as pool:
        models = list(pool.map(lambda _: manager.get(MODEL_ID, api_key=GOOD_KEY), range(16)))
    assert all(model is models[0] for model in models)
    assert [registry.hits(target) for target in ("ort", "weights.onnx", "environment.json")] == [1, 1, 1]
    first = models[0].infer(scene.image)[0]
    assert first.predictions  # a real model ran on the downloaded weights

    offline = dataclasses.replace(settings, registry=dataclasses.replace(settings.registry, offline=True))
    registry.stop()
    restarted = build_manager(offline)
    again = restarted.get(MODEL_ID).infer(scene.image)[0]
    assert [(p.class_name, p.x, p.y) for p in again.predictions] == [
        (p.class_name, p.x, p.y) for p in first.predictions]
    with pytest.raises(ModelNotFoundError, match="offline mode is on"):
        restarted.get("never-seen/1", api_key=GOOD_KEY)


def infer(http, scene, model_id=MODEL_ID):
    return http.post("/infer/object_detection",
                     json={"model_id": model_id, "image": {"type": "base64", "value": scene.base64}})


@pytest.mark.slow
def test_server_downloads_on_first_request_and_serves_offline_after_restart(tmp_path, registry, scene):
    cache = tmp_path / "cache"
    registry.fail("weights.onnx", "slow", times=1)
    server = start_server(registry_env(registry, cache), tmp_path / "online.log")
    try:
        with ThreadPoolExecutor(16) as pool:
            responses = list(pool.map(lambda _: _infer_once(server, scene), range(16)))
    finally:
        stop_server(server)
    assert [status for status, _ in responses] == [200] * 16, responses[0]
    assert (registry.hits("ort"), registry.hits("weights.onnx")) == (1, 1)
    online_predictions = responses[0][1]["predictions"]
    assert online_predictions
    assert not (cache / STAGING_DIR).exists() or not list((cache / STAGING_DIR).iterdir())

    offline_env = {**registry_env(registry, cache), "OFFLINE_MODE": "true"}
    registry.stop()
    server = start_server(offline_env, tmp_path / "offline.log")
    try:
        with server.client() as http:
            served = infer(http, scene)
            missing = infer(http, scene, "never-seen/1")
    finally:
        stop_server(server)
    assert served.status_code == 200, served.text
    strip = lambda items: [{k: v for k, v in item.items() if k != "detection_id"} for item in items]  # noqa: E731
    assert strip(served.json()["predictions"]) == strip(online_predictions)
    assert missing.status_code == 404 and "offline mode is on" in missing.json()["message"]


def _infer_once(server, scene):
    with server.client() as http:
        response = infer(http, scene)
        return response.status_code, response.json()


@pytest.mark.slow
@pytest.mark.parametrize(("key", "fault", "status", "message"), [
    ("wrong-key", None, 401, "Check the API key"),
    (GOOD_KEY, "garbage", 502, "not a valid ONNX model"),
    (GOOD_KEY, "503", 503, "HTTP 503"),
])
def test_server_maps_registry_failures_to_clear_statuses(
    tmp_path, registry, scene, key, fault, status, message
):
    cache = tmp_path / "cache"
    if fault:
        registry.fail("weights.onnx", fault)
    server = start_server({**registry_env(registry, cache), "ROBOFLOW_API_KEY": key,
                           "MODEL_DOWNLOAD_RETRIES": "1"}, tmp_path / "server.log")
    try:
        with server.client() as http:
            response = infer(http, scene)
    finally:
        stop_server(server)
    assert response.status_code == status, response.text
    assert message in response.json()["message"] and key not in response.json()["message"]
    assert not (cache / MODEL_ID).exists()


@pytest.mark.slow
def test_server_downloads_with_the_key_the_request_carries(tmp_path, registry, scene):
    """Without a server key, the download uses the request's: the query's first, else the body's."""
    env = registry_env(registry, tmp_path / "cache")
    del env["ROBOFLOW_API_KEY"]
    body = {"model_id": MODEL_ID, "image": {"type": "base64", "value": scene.base64}}
    server = start_server(env, tmp_path / "server.log")
    try:
        with server.client() as http:
            wrong_in_body = http.post("/infer/object_detection", json={**body, "api_key": "wrong-key"})
            wrong_in_query = http.post("/infer/object_detection?api_key=wrong-key",
                                       json={**body, "api_key": GOOD_KEY})
            right_in_body = http.post("/infer/object_detection", json={**body, "api_key": GOOD_KEY})
    finally:
        stop_server(server)
    assert wrong_in_body.status_code == 401 and wrong_in_query.status_code == 401, wrong_in_body.text
    assert right_in_body.status_code == 200 and right_in_body.json()["predictions"], right_in_body.text
    assert registry.hits("weights.onnx") == 1
