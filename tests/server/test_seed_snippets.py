"""The snippets people copy from Roboflow's docs, run as written (only address, ids and image
paths changed), with `requests`, against a real server process."""

from __future__ import annotations

import base64
import pickle

import cv2
import pytest
import requests
from server_harness import DETECTOR_ID, assert_detects, make_scene

PROJECT_ID, MODEL_VERSION = DETECTOR_ID.split("/")
API_KEY = "not-needed-locally"


@pytest.fixture()
def image_path(tmp_path):
    scene = make_scene(900_500)
    path = tmp_path / "image.jpg"
    path.write_bytes(scene.jpeg)
    return path, scene.objects


assert_correct = assert_detects


def test_pickled_numpy_snippet(server, image_path):
    path, objects = image_path
    # --- snippet ---
    img = cv2.imread(str(path))
    numpy_data = pickle.dumps(img)
    res = requests.post(
        f"{server.url}/{PROJECT_ID}/{MODEL_VERSION}?api_key={API_KEY}&image_type=numpy",
        data=numpy_data,
        headers={"Content-Type": "application/json"},
    )
    predictions = res.json()
    # --- end ---
    assert_correct(objects, predictions["predictions"])


def test_base64_snippet(server, image_path):
    path, objects = image_path
    # --- snippet ---
    with open(path, "rb") as f:
        im_bytes = f.read()
    img_b64 = base64.b64encode(im_bytes).decode("utf8")
    res = requests.post(
        f"{server.url}/{PROJECT_ID}/{MODEL_VERSION}?api_key={API_KEY}&confidence=40&overlap=30",
        data=img_b64,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    predictions = res.json()
    # --- end ---
    assert_correct(objects, predictions["predictions"])


def test_v2_json_snippet_with_a_url(permissive_server, image_host, scene):
    # --- snippet ---
    infer_payload = {
        "model_id": f"{PROJECT_ID}/{MODEL_VERSION}",
        "image": {"type": "url", "value": f"{image_host}/scene.jpg"},
        "confidence": 0.5,
        "iou_threshold": 0.5,
        "api_key": API_KEY,
    }
    res = requests.post(f"{permissive_server.url}/infer/object_detection", json=infer_payload)
    predictions = res.json()
    # --- end ---
    assert_correct(scene.objects, predictions["predictions"])


def test_multipart_upload_snippet(server, image_path):
    path, objects = image_path
    # --- snippet ---
    with open(path, "rb") as f:
        res = requests.post(f"{server.url}/{PROJECT_ID}/{MODEL_VERSION}?api_key={API_KEY}", files={"file": f})
    predictions = res.json()
    # --- end ---
    assert_correct(objects, predictions["predictions"])
