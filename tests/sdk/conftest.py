"""Real server processes on 127.0.0.1 for the client's end-to-end tests.

The server package is optional for the client: without `inference_server` installed these tests
skip (and say so); with it, a missing fixture model fails loudly, as everywhere in the repo.
"""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

DETECTOR_ID = "shapes/1"
ALIASED_ID = "coco/3"
API_KEYS = "secret-key-1,secret-key-2"


def _require_server():
    pytest.importorskip("inference_server", reason="the server package (visionhost-server) is not installed")
    import server_harness

    return server_harness


@pytest.fixture(scope="session")
def sdk_model_cache(tmp_path_factory, fixture_model_path) -> Path:
    _require_server()
    from inference_core.store import ModelStore

    cache = tmp_path_factory.mktemp("sdk-model-cache")
    ModelStore(cache).import_ultralytics_onnx(fixture_model_path("shapes-det-yolov8.onnx"), DETECTOR_ID)
    # the model Roboflow's alias `yolov8n-640` stands for, so the client's alias handling runs for real
    ModelStore(cache).import_ultralytics_onnx(fixture_model_path("shapes-det-yolov8.onnx"), ALIASED_ID)
    from model_dirs import SEMANTIC_CLASSES, SEMSEG_ID, roboflow_model_dir

    roboflow_model_dir(cache, SEMSEG_ID, fixture_model_path("shapes-semseg-deeplab.onnx"), resize_format="Stretch to",
                       model_type="deeplabv3plus", task="semantic-segmentation", class_names=SEMANTIC_CLASSES)
    return cache


@pytest.fixture(scope="session")
def api_url(sdk_model_cache, tmp_path_factory):
    """URL of a default-configured server over the fixture model (offline: unknown models are 404)."""
    harness = _require_server()
    log_path = tmp_path_factory.mktemp("sdk-server-logs") / "open.log"
    environment = {"MODEL_CACHE_DIR": str(sdk_model_cache), "OFFLINE_MODE": "true"}
    running = harness.start_server(environment, log_path)
    yield running.url
    harness.stop_server(running)


@pytest.fixture(scope="session")
def keyed_api_url(sdk_model_cache, tmp_path_factory):
    """URL of a server that only answers requests carrying one of `API_KEYS`."""
    harness = _require_server()
    log_path = tmp_path_factory.mktemp("sdk-server-logs") / "keyed.log"
    running = harness.start_server(
        {"MODEL_CACHE_DIR": str(sdk_model_cache), "OFFLINE_MODE": "true", "VISIONHOST_API_KEYS": API_KEYS},
        log_path)
    yield running.url
    harness.stop_server(running)


@pytest.fixture(scope="session")
def image_host():
    """A plain web server on 127.0.0.1 serving files put in its `files` dict, for URL inputs."""
    from http.server import BaseHTTPRequestHandler

    files: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "image/jpeg" if body is not None else "text/plain")
            self.send_header("Content-Length", str(len(body or b"missing")))
            self.end_headers()
            self.wfile.write(body or b"missing")

        def log_message(self, *args):
            pass

    host = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=host.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{host.server_port}", files
    host.shutdown()
