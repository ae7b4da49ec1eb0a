"""Faults during downloads, against a real server process: the registry killed, flapping or
serving truncated files, and the server itself killed mid-download and restarted. Whatever
happens, every answer is a clear status (never a 500), and the model that ends up being served is
byte for byte the registry's."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from fake_registry import GOOD_KEY, FakeRegistry, default_model
from server_harness import make_scene, start_server, stop_server

MODEL_ID = "faulty-shapes/3"
#: What a request may get while the registry misbehaves: served, or a clear registry error.
REGISTRY_TROUBLE = {200, 502, 503, 504}


@pytest.fixture(scope="module")
def model(assets_dir):
    return default_model(Path(assets_dir) / "models")


@pytest.fixture
def registry(model):
    running = FakeRegistry({MODEL_ID: model}, slow_seconds=3.0).start()
    yield running
    running.stop()


def env_for(registry: FakeRegistry, cache: Path, **extra: str) -> dict[str, str]:
    return {"MODEL_CACHE_DIR": str(cache), "API_BASE_URL": registry.url, "MODEL_DOWNLOAD_TIMEOUT": "2",
            "MODEL_DOWNLOAD_RETRIES": "1", "ROBOFLOW_API_KEY": GOOD_KEY, **extra}


def infer(http: httpx.Client, scene) -> httpx.Response:
    return http.post("/infer/object_detection",
                     json={"model_id": MODEL_ID, "image": {"type": "base64", "value": scene.base64}})


def cached_weights_digest(cache: Path) -> str | None:
    path = cache / MODEL_ID / "weights.onnx"
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def assert_served_exactly(cache: Path, model, server, scene) -> None:
    with server.client() as http:
        response = infer(http, scene)
    assert response.status_code == 200, response.text
    assert response.json()["predictions"]
    assert cached_weights_digest(cache) == hashlib.sha256(model.weights).hexdigest()


@pytest.mark.slow
def test_truncated_files_are_never_cached_and_a_good_download_follows(tmp_path, registry, model):
    cache, scene = tmp_path / "cache", make_scene(901_001)
    registry.fail("weights.onnx", "truncate")
    server = start_server(env_for(registry, cache), tmp_path / "server.log")
    try:
        with server.client() as http:
            for _ in range(3):
                refused = infer(http, scene)
                assert refused.status_code == 502 and "cut short" in refused.json()["message"], refused.text
                assert cached_weights_digest(cache) is None
        registry.faults.clear()
        assert_served_exactly(cache, model, server, scene)
    finally:
        stop_server(server)
    assert "Traceback" not in server.log()


@pytest.mark.slow
def test_a_flapping_registry_gives_clear_errors_then_the_exact_model(tmp_path, registry, model):
    cache, scene = tmp_path / "cache", make_scene(901_002)
    port = registry.server.server_port
    server = start_server(env_for(registry, cache), tmp_path / "server.log")
    statuses: list[int] = []
    stop = threading.Event()

    def flap() -> None:
        while not stop.is_set():
            registry.stop()
            time.sleep(0.3)
            registry.start(port)
            registry.fail("weights.onnx", "drop", times=1)
            time.sleep(0.3)

    def ask() -> None:
        with server.client(timeout=60) as http:
            while not stop.is_set():
                statuses.append(infer(http, scene).status_code)

    flapper = threading.Thread(target=flap, daemon=True)
    askers = [threading.Thread(target=ask, daemon=True) for _ in range(4)]
    try:
        flapper.start()
        for thread in askers:
            thread.start()
        time.sleep(8)
        stop.set()
        flapper.join(timeout=10)
        for thread in askers:
            thread.join(timeout=60)
        if registry.server is None:
            registry.start(port)
        registry.faults.clear()
        assert statuses and set(statuses) <= REGISTRY_TROUBLE, sorted(set(statuses))
        assert_served_exactly(cache, model, server, scene)
    finally:
        stop.set()
        stop_server(server)
    assert "Traceback" not in server.log()


@pytest.mark.slow
def test_the_registry_killed_mid_download_is_a_clear_error(tmp_path, registry, model):
    cache, scene = tmp_path / "cache", make_scene(901_003)
    registry.fail("weights.onnx", "slow", times=1)
    server = start_server(env_for(registry, cache, MODEL_DOWNLOAD_TIMEOUT="5"), tmp_path / "server.log")
    try:
        killer = threading.Timer(1.0, registry.stop)
        killer.start()
        with server.client() as http:
            response = infer(http, scene)
        killer.join()
        assert response.status_code in {502, 503, 504}, response.text
        assert cached_weights_digest(cache) is None
    finally:
        stop_server(server)


@pytest.mark.slow
def test_the_server_killed_mid_download_serves_the_exact_model_after_restart(tmp_path, registry, model):
    cache, scene = tmp_path / "cache", make_scene(901_004)
    registry.slow_seconds = 30.0
    registry.fail("weights.onnx", "slow", times=1)
    server = start_server(env_for(registry, cache, MODEL_DOWNLOAD_TIMEOUT="60"), tmp_path / "first.log")
    asker = threading.Thread(target=lambda: _ignore_errors(server, scene), daemon=True)
    asker.start()
    deadline = time.monotonic() + 60
    while registry.hits("weights.onnx") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=30)
    asker.join(timeout=30)
    assert cached_weights_digest(cache) is None
    restarted = start_server(env_for(registry, cache), tmp_path / "second.log")
    try:
        assert_served_exactly(cache, model, restarted, scene)
        staging = cache / ".staging"
        assert not staging.exists() or not list(staging.iterdir())
    finally:
        stop_server(restarted)


def _ignore_errors(server, scene) -> None:
    try:
        with server.client(timeout=60) as http:
            infer(http, scene)
    except httpx.HTTPError:
        pass
