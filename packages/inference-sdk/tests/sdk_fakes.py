"""A fake server speaking the wire format (docs/WIRE.md) for tests over `httpx.MockTransport`."""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
from PIL import Image

API_URL = "http://inference.test:9001"
KNOWN_MODELS = {
    "shapes/1": ("object-detection", 640, 640),
    "segment/1": ("instance-segmentation", 320, 320),
    "classes/1": ("classification", 224, 224),
    "pose/1": ("keypoint-detection", 640, 640),
    "video/1": ("action-recognition", None, None),
}
TASK_ROUTES = {
    "/infer/object_detection": "object-detection",
    "/infer/instance_segmentation": "instance-segmentation",
    "/infer/classification": "classification",
    "/infer/keypoints_detection": "keypoint-detection",
}


def decode_base64_image(value: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(value)))


def prediction_for(image: Image.Image, task: str) -> dict[str, Any]:
    """A deterministic answer: one box covering the middle half of the image it received."""
    width, height = image.size
    result: dict[str, Any] = {"time": 0.01, "image": {"width": width, "height": height}}
    box = {"x": width / 2, "y": height / 2, "width": width / 2, "height": height / 2,
           "confidence": 0.9, "class": "square", "class_id": 1}
    if task == "classification":
        result.update(predictions=[{"class": "square", "class_id": 1, "confidence": 0.9}], top="square")
        return result
    if task == "instance-segmentation":
        box["points"] = [{"x": width / 4, "y": height / 4}, {"x": 3 * width / 4, "y": 3 * height / 4}]
    if task == "keypoint-detection":
        box["keypoints"] = [{"x": width / 4, "y": height / 4, "confidence": 0.8, "class_id": 0, "class": "a"}]
    result["predictions"] = [box]
    return result


@dataclass
class FakeServer:
    """Records every request; `loaded` is the registry; `script` can override answers per path."""

    loaded: dict[str, tuple[str, int | None, int | None]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    script: dict[str, list[Callable[[httpx.Request], httpx.Response]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            scripted = self.script.get(request.url.path)
            override = scripted.pop(0) if scripted else None
        if override is not None:
            return override(request)
        return self.answer(request)

    def answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.url.host != "inference.test":  # some other web server hosting images
            if path.startswith("/image/"):
                return httpx.Response(200, content=make_jpeg(64, 48), headers={"Content-Type": "image/jpeg"})
            return httpx.Response(404, text="Not Found")
        if path == "/info":
            return httpx.Response(200, json={"name": "VisionHost", "version": "0.1.0", "uuid": "u-1"})
        if path == "/model/registry":
            return httpx.Response(200, json=self.registry())
        if path in ("/model/add", "/model/remove", "/model/clear"):
            return self.manage(path, request)
        if path in TASK_ROUTES:
            return self.infer_v1(TASK_ROUTES[path], json.loads(request.content))
        return self.infer_v0(path, request)

    def registry(self) -> dict[str, Any]:
        return {"models": [
            {"model_id": model_id, "task_type": task, "batch_size": None,
             "input_height": height, "input_width": width}
            for model_id, (task, height, width) in self.loaded.items()
        ]}

    def manage(self, path: str, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        if path == "/model/clear":
            self.loaded.clear()
        elif path == "/model/remove":
            self.loaded.pop(body["model_id"], None)
        elif body["model_id"] in KNOWN_MODELS:
            self.loaded[body["model_id"]] = KNOWN_MODELS[body["model_id"]]
        else:
            return httpx.Response(404, json={"message": f"Model {body['model_id']} not found"})
        return httpx.Response(200, json=self.registry())

    def infer_v1(self, task: str, body: dict[str, Any]) -> httpx.Response:
        images = body["image"] if isinstance(body["image"], list) else [body["image"]]
        results = [prediction_for(decode_base64_image(image["value"]), task) for image in images]
        return httpx.Response(200, json=results if isinstance(body["image"], list) else results[0])

    def infer_v0(self, path: str, request: httpx.Request) -> httpx.Response:
        model_id = path.strip("/")
        task = (self.loaded.get(model_id) or KNOWN_MODELS.get(model_id, ("object-detection",)))[0]
        return httpx.Response(200, json=prediction_for(decode_base64_image(request.content.decode()), task))

    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]

    def json_of(self, path: str) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.requests if request.url.path == path]


def make_jpeg(width: int, height: int, colour: tuple[int, int, int] = (10, 200, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def make_array(width: int, height: int) -> np.ndarray:
    array = np.zeros((height, width, 3), dtype=np.uint8)
    array[:, :, 0] = 255  # pure blue in BGR
    return array
