"""Real server processes on 127.0.0.1 over a model cache holding the trained fixture models."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
import tiny_task_models
from inference_core.store import ModelStore
from model_dirs import file_models2_fixtures, roboflow_model_dir
from server_harness import (
    DETECTOR_ID,
    END_TO_END_ID,
    ROBOFLOW_LAYOUT_ID,
    YOLOV5_ID,
    RunningServer,
    SceneImage,
    image_handler,
    make_scene,
    start_server,
    stop_server,
)

#: Tiny stand-ins for the other tasks (tests/support/tiny_task_models.py): plumbing, not accuracy.
TINY_TASK_MODELS = {
    "tiny-seg/1": tiny_task_models.segmenter,
    "tiny-pose/1": tiny_task_models.pose_detector,
    "tiny-cls/1": tiny_task_models.classifier,
}


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory, fixture_model_path) -> Path:
    cache = tmp_path_factory.mktemp("server-model-cache")
    ModelStore(cache).import_ultralytics_onnx(fixture_model_path("shapes-det-yolov8.onnx"), DETECTOR_ID)
    roboflow_model_dir(cache, ROBOFLOW_LAYOUT_ID, fixture_model_path("shapes-det-yolov8.onnx"))
    # A fixed batch dimension of 1 (no dynamic batching) and the NMS-free layout.
    roboflow_model_dir(cache, YOLOV5_ID, fixture_model_path("shapes-det-yolov5.onnx"), model_type="yolov5n")
    exports = tmp_path_factory.mktemp("tiny-exports")
    for model_id, build in TINY_TASK_MODELS.items():
        export = build(exports / f"{model_id.replace('/', '-')}.onnx")
        ModelStore(cache).import_ultralytics_onnx(export, model_id)
    roboflow_model_dir(
        cache, END_TO_END_ID, fixture_model_path("shapes-det-end2end.onnx"), model_type="yolov10n"
    )
    file_models2_fixtures(cache, fixture_model_path)
    return cache


@pytest.fixture(scope="session")
def server(model_cache, tmp_path_factory) -> RunningServer:
    """The strict, default-configured server (limits lowered to keep the tests quick, offline)."""
    log_path = tmp_path_factory.mktemp("server-logs") / "strict.log"
    running = start_server(
        {
            "MODEL_CACHE_DIR": str(model_cache),
            # Tests never reach out to a model registry: unknown models are a plain 404.
            "OFFLINE_MODE": "true",
            "MAX_BATCH_SIZE": "8",
            "MAX_REQUEST_BODY_BYTES": str(8 * 1024 * 1024),
            "MAX_IMAGE_PIXELS": str(40_000_000),
        },
        log_path,
    )
    yield running
    stop_server(running)


@pytest.fixture(scope="session")
def permissive_server(model_cache, tmp_path_factory) -> RunningServer:
    """A server allowed to fetch internal URLs (for the test image server on 127.0.0.2), but
    with `localhost` (so every address it resolves to, 127.0.0.1 among them) and the metadata
    address on its deny list, so redirects can be checked."""
    log_path = tmp_path_factory.mktemp("server-logs") / "permissive.log"
    running = start_server(
        {
            "MODEL_CACHE_DIR": str(model_cache),
            "ALLOW_URL_TO_NON_GLOBAL_ADDRESSES": "true",
            "ALLOW_URL_INPUT_WITHOUT_FQDN": "true",
            "BLACKLISTED_DESTINATIONS_FOR_URL_INPUT": "localhost,169.254.169.254,metadata.google.internal",
        },
        log_path,
    )
    yield running
    stop_server(running)


@pytest.fixture(scope="session")
def client(server):
    with server.client() as http:
        yield http


@pytest.fixture(scope="session")
def scene() -> SceneImage:
    return make_scene(900_101)


@pytest.fixture(scope="session")
def image_host(scene):
    # 127.0.0.2, not 127.0.0.1: the permissive server's deny list holds `localhost`.
    host = ThreadingHTTPServer(("127.0.0.2", 0), image_handler(scene.jpeg))
    threading.Thread(target=host.serve_forever, daemon=True).start()
    yield f"http://127.0.0.2:{host.server_port}"
    host.shutdown()
