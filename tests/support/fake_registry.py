"""A fake model registry on 127.0.0.1 that speaks Roboflow's `/ort` protocol and a plain folder
layout, counts every request, and misbehaves on demand (slow, truncated, 5xx, HTML, garbage,
dropped connections, wrong keys)."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GOOD_KEY = "good-key"
FORBIDDEN_KEY = "forbidden-key"
FAULTS = ("slow", "truncate", "500", "503", "html", "garbage", "drop", "not-json")


@dataclass
class RegistryModel:
    weights: bytes
    classes: list[str]
    environment: dict | None = field(default_factory=lambda: {"PREPROCESSING": {
        "resize": {"enabled": True, "width": 64, "height": 64, "format": "Stretch to"}}})
    task: str = "object-detection"
    model_type: str = "yolov8n"
    colors: dict | None = None
    keypoints_metadata: list | None = None
    #: where the ort answer says the weights are, instead of this registry's own file URL
    #: (`{registry}` stands for the registry's base URL): a hostile registry's answer.
    model_location: str | None = None

    def folder_files(self) -> dict[str, bytes]:
        files = {
            "weights.onnx": self.weights,
            "class_names.txt": ("\n".join(self.classes) + "\n").encode(),
            "model_type.json": json.dumps(
                {"project_task_type": self.task, "model_type": self.model_type}
            ).encode(),
        }
        if self.environment is not None:
            files["environment.json"] = json.dumps(self.environment).encode()
        return files


@dataclass
class Fault:
    target: str  # "ort", a file name such as "weights.onnx", or "*"
    kind: str
    remaining: int | None  # None: forever


class FakeRegistry:
    def __init__(self, models: dict[str, RegistryModel], slow_seconds: float = 1.5) -> None:
        self.models = dict(models)
        self.slow_seconds = slow_seconds
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.faults: list[Fault] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # --- control -----------------------------------------------------------------------------
    def start(self, port: int = 0) -> FakeRegistry:
        """Serve on `port` (0: any free one); a stopped registry restarts on its old port."""
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.server.handle_error = lambda request, address: None  # clients that time out are expected
        polling = {"poll_interval": 0.05}
        threading.Thread(target=self.server.serve_forever, kwargs=polling, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def fail(self, target: str, kind: str, times: int | None = None) -> None:
        assert kind in FAULTS, kind
        with self.lock:
            self.faults.append(Fault(target, kind, times))

    def hits(self, target: str) -> int:
        """Requests for the ort answer (`"ort"`) or for a file name."""
        with self.lock:
            return sum(1 for path, _ in self.requests if _target(path) == target)

    # --- serving ----------------------------------------------------------------------------
    def take_fault(self, target: str) -> str | None:
        with self.lock:
            for fault in self.faults:
                if fault.target in (target, "*") and fault.remaining != 0:
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault.kind
        return None

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, bytes, str]:
        parts = path.strip("/").split("/")
        if parts == ["redirect"] and "to" in query:
            return 302, query["to"].encode(), "redirect"
        if len(parts) == 3 and parts[0] == "ort":
            return self._ort(f"{parts[1]}/{parts[2]}", query)
        if len(parts) == 4 and parts[0] in ("files", "folder"):
            model = self.models.get(f"{parts[1]}/{parts[2]}")
            body = model.folder_files().get(parts[3]) if model else None
            if body is not None:
                return 200, body, "application/octet-stream"
        return 404, b'{"error": "not found"}', "application/json"

    def _ort(self, model_id: str, query: dict[str, str]) -> tuple[int, bytes, str]:
        key = query.get("api_key")
        if key == FORBIDDEN_KEY:
            return 403, b'{"error": {"message": "forbidden"}}', "application/json"
        if key != GOOD_KEY:
            return 401, b'{"error": {"message": "unauthorized api_key"}}', "application/json"
        model = self.models.get(model_id)
        if model is None:
            return 404, b'{"error": {"message": "no such model"}}', "application/json"
        base = f"{self.url}/files/{model_id}"
        location = (model.model_location or f"{base}/weights.onnx").replace("{registry}", self.url)
        ort = {"type": model.task, "modelType": model.model_type, "classes": model.classes,
               "model": location}
        if model.environment is not None:
            ort["environment"] = f"{base}/environment.json"
        if model.colors is not None:
            ort["colors"] = model.colors
        if model.keypoints_metadata is not None:
            ort["keypoints_metadata"] = model.keypoints_metadata
        return 200, json.dumps({"ort": ort}).encode(), "application/json"


def _target(path: str) -> str:
    parts = path.strip("/").split("/")
    return "ort" if parts[0] == "ort" else parts[-1]


def _handler(registry: FakeRegistry):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            split = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(split.query))
            with registry.lock:
                registry.requests.append((split.path, query))
            fault = registry.take_fault(_target(split.path))
            if fault == "drop":
                self.close_connection = True
                return
            if fault == "slow":
                time.sleep(registry.slow_seconds)
            status, body, content_type = registry.answer(split.path, query)
            if fault in ("500", "503"):
                status, body, content_type = int(fault), b"registry trouble", "text/plain"
            elif fault == "html":
                body, content_type = b"<html><body>Please log in</body></html>", "text/html; charset=utf-8"
            elif fault == "garbage":
                body = bytes(range(256)) * 64
            elif fault == "not-json":
                body = b"this is not json"
            if content_type == "redirect":
                self.send_response(status)
                self.send_header("Location", body.decode())
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if fault == "truncate" else body)
            self.wfile.flush()
            if fault == "truncate":
                self.close_connection = True

    return Handler


def default_model(models_dir) -> RegistryModel:
    """The trained fixture detector when it is committed, else a tiny real ONNX stand-in."""
    from pathlib import Path

    fixture = Path(models_dir) / "shapes-det-yolov8.onnx"
    if fixture.is_file():
        from inference_core.onnx_metadata import parse_literal, read_onnx_metadata

        names = parse_literal(read_onnx_metadata(fixture).get("names"), default={})
        resize = {"enabled": True, "width": 320, "height": 320, "format": "Fit (grey edges) in"}
        return RegistryModel(weights=fixture.read_bytes(), classes=[names[key] for key in sorted(names)],
                             environment={"PREPROCESSING": {"resize": resize}})
    from tiny_onnx import TINY_CLASSES, tiny_detector_bytes

    return RegistryModel(weights=tiny_detector_bytes(), classes=list(TINY_CLASSES))
