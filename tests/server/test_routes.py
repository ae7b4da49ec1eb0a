"""Every route of docs/WIRE.md §1 against a real server process, with real predictions."""

from __future__ import annotations

import base64
import pickle
import uuid
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
from inference_core import CoreSettings, build_manager
from scene_matching import match_scene
from server_harness import (
    DETECTOR_ID,
    END_TO_END_ID,
    ROBOFLOW_LAYOUT_ID,
    YOLOV5_ID,
    assert_detects,
    make_scene,
    predictions_of,
    start_server,
    stop_server,
)

SCENE_SEEDS = [900_101, 900_102, 900_103, 900_104]
SCENE_SIZES = [(640, 480), (480, 640), (320, 320), (800, 450), (517, 333)]
REGISTRY_KEYS = {"model_id", "task_type", "batch_size", "input_height", "input_width"}


def detect(client, image_base64: str, model_id: str = DETECTOR_ID, **params):
    body = {"model_id": model_id, "image": {"type": "base64", "value": image_base64}, **params}
    return client.post("/infer/object_detection", json=body)


assert_finds_ground_truth = assert_detects


def as_set(predictions) -> set:
    return {(item["class"], item["x"], item["y"], item["width"], item["height"]) for item in predictions}


# --- info -------------------------------------------------------------------------------


def test_info_health_and_readiness(client):
    info = client.get("/info").json()
    assert info["name"] and info["version"] and uuid.UUID(info["uuid"])
    assert "onnx" in info["backends"]
    plugins = {plugin["name"]: plugin for plugin in info["plugins"]}
    assert plugins["onnx"]["registers"] == {"backends": ["onnx"]}
    assert plugins["onnx"]["distribution"] == "visionhost-backend-onnx" and plugins["onnx"]["version"]
    assert "yolov8" in plugins["core-architectures"]["registers"]["model_architectures"]
    assert "roboflow" in plugins["core-sources"]["registers"]["model_sources"]
    assert all(plugin["error"] is None for plugin in info["plugins"])
    assert client.get("/healthz").json() == {"status": "healthy"}
    assert client.get("/readiness").json() == {"status": "ready"}


def test_docs_redoc_and_openapi(client):
    assert client.get("/docs").status_code == 200
    assert client.get("/redoc").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in [
        "/infer/object_detection",
        "/infer/instance_segmentation",
        "/infer/classification",
        "/infer/keypoints_detection",
        "/model/registry",
        "/model/add",
        "/model/remove",
        "/model/clear",
        "/{dataset_id}/{version_id}",
        "/clear_cache",
        "/start/{dataset_id}/{version_id}",
        "/info",
        "/healthz",
        "/readiness",
        "/metrics",
    ]:
        assert path in paths, path


# --- /infer/* -----------------------------------------------------------------------------


def test_object_detection_response_fields(client, scene):
    body = detect(client, scene.base64).json()
    assert body["image"] == {"width": 640, "height": 480}
    assert body["time"] > 0 and uuid.UUID(body["inference_id"])
    assert "visualization" not in body
    predictions = body["predictions"]
    assert_detects(scene.objects, predictions)
    confidences = [item["confidence"] for item in predictions]
    assert confidences == sorted(confidences, reverse=True)
    for item in predictions:
        assert set(item) == {"x", "y", "width", "height", "confidence", "class", "class_id", "detection_id"}
        assert item["width"] == int(item["width"]) and item["height"] == int(item["height"])
        assert ["circle", "square", "triangle", "star"][item["class_id"]] == item["class"]
        uuid.UUID(item["detection_id"])


def test_object_detection_finds_the_ground_truth_over_many_scenes(client):
    """Over held-out scenes of several sizes, the server finds the shapes (right class, IoU >= 0.7)."""
    found = missed = false_positives = 0
    for index in range(16):
        width, height = SCENE_SIZES[index % len(SCENE_SIZES)]
        scene = make_scene(900_700 + index, width, height)
        body = detect(client, scene.base64).json()
        assert body["image"] == {"width": width, "height": height}
        counts = match_scene(scene.objects, body["predictions"], min_iou=0.7)
        found, missed, false_positives = found + counts[0], missed + counts[1], false_positives + counts[2]
    assert found / (found + missed) >= 0.85, (found, missed)
    assert false_positives <= 0.2 * (found + missed), (found, false_positives)


def test_server_predictions_equal_the_in_process_api(client, model_cache):
    """The server adds transport, not differences: same boxes, classes and scores as core."""
    model = build_manager(CoreSettings(model_cache_dir=model_cache, intra_op_threads=1)).get(DETECTOR_ID)
    for seed in SCENE_SEEDS:
        scene = make_scene(seed)
        expected = model.infer(scene.jpeg)[0].to_dict()["predictions"]
        served = predictions_of(detect(client, scene.base64))
        assert len(served) == len(expected)
        for ours, theirs in zip(served, expected, strict=True):
            assert ours["class"] == theirs["class"]
            for key in ("x", "y", "width", "height"):
                assert abs(ours[key] - theirs[key]) <= 1.0
            assert ours["confidence"] == pytest.approx(theirs["confidence"], abs=1e-3)


def test_non_square_scene_maps_boxes_back_to_original_pixels(client):
    scene = make_scene(900_105, width=517, height=333)
    body = detect(client, scene.base64).json()
    assert body["image"] == {"width": 517, "height": 333}
    assert_finds_ground_truth(scene.objects, body["predictions"])


def test_a_list_of_images_answers_a_list_in_order(client):
    scenes = [make_scene(seed) for seed in SCENE_SEEDS[:3]]
    body = {
        "model_id": DETECTOR_ID,
        "id": "my-request-id",
        "image": [{"type": "base64", "value": scene.base64} for scene in scenes],
    }
    answers = client.post("/infer/object_detection", json=body).json()
    assert isinstance(answers, list) and len(answers) == 3
    for scene, answer in zip(scenes, answers, strict=True):
        assert answer["inference_id"] == "my-request-id"
        assert_finds_ground_truth(scene.objects, answer["predictions"])


def test_a_roboflow_layout_model_directory_gives_the_same_predictions(client, scene):
    ours = predictions_of(detect(client, scene.base64))
    roboflow = predictions_of(detect(client, scene.base64, model_id=ROBOFLOW_LAYOUT_ID))
    assert_finds_ground_truth(scene.objects, roboflow)
    assert len(ours) == len(roboflow)


@pytest.mark.parametrize(("model_id", "batch_size"), [(YOLOV5_ID, 1), (END_TO_END_ID, None)])
def test_other_detector_layouts_and_a_fixed_batch_model(client, model_id, batch_size):
    """A YOLOv5 export with a fixed batch of 1 (lists are run one by one, no gathering) and an
    NMS-free end-to-end export, each given a list of images."""
    scenes = [make_scene(seed) for seed in SCENE_SEEDS[:3]]
    body = {"model_id": model_id, "image": [{"type": "base64", "value": scene.base64} for scene in scenes]}
    answers = client.post("/infer/object_detection", json=body).json()
    for scene, answer in zip(scenes, answers, strict=True):
        assert_detects(scene.objects, answer["predictions"])
    registry = client.get("/model/registry").json()["models"]
    assert {"model_id": model_id, "batch_size": batch_size}.items() <= next(
        item for item in registry if item["model_id"] == model_id
    ).items()


def test_detection_parameters(client, scene):
    everything = predictions_of(detect(client, scene.base64, confidence=0.05))
    default = predictions_of(detect(client, scene.base64))
    assert len(everything) >= len(default) >= 1
    assert len(predictions_of(detect(client, scene.base64, max_detections=1))) == 1
    wanted = default[0]["class"]
    filtered = predictions_of(detect(client, scene.base64, class_filter=[wanted]))
    assert filtered and {item["class"] for item in filtered} == {wanted}
    for keyword in ("best", "default"):
        assert as_set(predictions_of(detect(client, scene.base64, confidence=keyword))) == as_set(default)
    strict = predictions_of(detect(client, scene.base64, confidence=0.999))
    assert all(item["confidence"] >= 0.999 for item in strict)
    # at a very low threshold per-class NMS leaves boxes of different classes on one shape (in this
    # scene it does); class-agnostic NMS leaves one of them
    busy = make_scene(900_106)
    per_class = predictions_of(detect(client, busy.base64, confidence=0.001, iou_threshold=0.3))
    agnostic = predictions_of(detect(client, busy.base64, confidence=0.001, iou_threshold=0.3,
                                     class_agnostic_nms=True))
    assert overlapping_pair(per_class, 0.3), "the scene shows no cross-class duplicates to remove"
    assert agnostic and not overlapping_pair(agnostic, 0.3) and len(agnostic) < len(per_class)


def overlapping_pair(predictions: list[dict], threshold: float) -> bool:
    """Whether two predictions (of any classes) overlap by more than `threshold` IoU."""
    boxes = [(p["x"] - p["width"] / 2, p["y"] - p["height"] / 2, p["x"] + p["width"] / 2, p["y"] + p["height"] / 2)
             for p in predictions]
    for index, first in enumerate(boxes):
        for second in boxes[index + 1 :]:
            inter = max(min(first[2], second[2]) - max(first[0], second[0]), 0) * max(
                min(first[3], second[3]) - max(first[1], second[1]), 0)
            union = (first[2] - first[0]) * (first[3] - first[1]) + (second[2] - second[0]) * (second[3] - second[1])
            if union > inter and inter / (union - inter) > threshold:
                return True
    return False


def test_unknown_fields_are_ignored(client, scene):
    response = detect(
        client,
        scene.base64,
        some_future_field={"x": 1},
        fix_batch_size=True,
        disable_preproc_auto_orient=True,
        model_type="yolov8n",
    )
    assert_finds_ground_truth(scene.objects, predictions_of(response))


def test_visualize_predictions_adds_a_jpeg(client, scene):
    body = detect(
        client,
        scene.base64,
        visualize_predictions=True,
        visualization_labels=True,
        visualization_stroke_width=3,
    ).json()
    drawn = cv2.imdecode(np.frombuffer(base64.b64decode(body["visualization"]), np.uint8), cv2.IMREAD_COLOR)
    assert drawn.shape == scene.image.shape


def test_numpy_image_object(client, scene):
    value = base64.b64encode(pickle.dumps(scene.image)).decode()
    response = client.post(
        "/infer/object_detection", json={"model_id": DETECTOR_ID, "image": {"type": "NumPy", "value": value}}
    )
    assert_finds_ground_truth(scene.objects, predictions_of(response))


def test_url_image_object_on_a_server_allowed_to_fetch_it(permissive_server, image_host, scene):
    with permissive_server.client() as http:
        response = http.post(
            "/infer/object_detection",
            json={
                "model_id": DETECTOR_ID,
                "image": {"type": "url", "value": f"{image_host}/redirect-to-scene"},
            },
        )
    assert_finds_ground_truth(scene.objects, predictions_of(response))


def test_a_route_for_another_task_says_which_to_use(client, scene):
    response = client.post(
        "/infer/classification",
        json={"model_id": DETECTOR_ID, "image": {"type": "base64", "value": scene.base64}},
    )
    assert response.status_code == 400
    assert "/infer/object_detection" in response.json()["message"]


def test_concurrent_requests_each_get_their_own_predictions(server):
    """Requests gathered into one forward pass must each get back their own image's results."""
    scenes = [make_scene(900_200 + index) for index in range(12)]

    def one(scene):
        with server.client() as http:
            return predictions_of(detect(http, scene.base64))

    alone = [one(scene) for scene in scenes]
    with ThreadPoolExecutor(12) as pool:
        together = list(pool.map(one, scenes))
    for single, gathered in zip(alone, together, strict=True):
        assert [item["class"] for item in gathered] == [item["class"] for item in single]
        for ours, theirs in zip(gathered, single, strict=True):
            assert abs(ours["x"] - theirs["x"]) <= 1 and abs(ours["y"] - theirs["y"]) <= 1
    found = sum(
        match_scene(scene.objects, predictions)[0]
        for scene, predictions in zip(scenes, together, strict=True)
    )
    assert found >= 0.85 * sum(len(scene.objects) for scene in scenes)


# --- model management ---------------------------------------------------------------------


def test_model_management_routes(client):
    assert client.post("/model/clear").json() == {"models": []}
    assert client.get("/model/registry").json() == {"models": []}
    added = client.post("/model/add", json={"model_id": DETECTOR_ID, "api_key": "ignored"}).json()
    (entry,) = added["models"]
    assert set(entry) == REGISTRY_KEYS
    assert entry["model_id"] == DETECTOR_ID and entry["task_type"] == "object-detection"
    assert entry["batch_size"] is None  # the fixture detector has a dynamic batch dimension
    assert entry["input_height"] > 0 and entry["input_width"] > 0
    assert client.get("/model/registry").json() == added
    assert client.post("/model/remove", json={"model_id": DETECTOR_ID}).json() == {"models": []}
    # Roboflow answers these on GET; ours only on POST (another page cannot trigger them).
    assert client.get(f"/start/{DETECTOR_ID}").status_code == 405
    assert client.get("/model/registry").json() == {"models": []}
    assert client.post(f"/start/{DETECTOR_ID}").status_code == 200
    assert [item["model_id"] for item in client.get("/model/registry").json()["models"]] == [DETECTOR_ID]
    refused = client.get("/clear_cache")
    assert refused.status_code == 405 and "POST" in refused.json()["message"]
    assert len(client.get("/model/registry").json()["models"]) == 1
    assert client.post("/clear_cache").json() == "Cache Cleared"
    assert client.get("/model/registry").json() == {"models": []}


def test_model_add_pins_and_an_unknown_model_is_404(client):
    assert client.post("/model/add", json={"model_id": ROBOFLOW_LAYOUT_ID, "pin": True}).status_code == 200
    response = client.post("/model/add", json={"model_id": "no-such/9"})
    assert response.status_code == 404 and "no-such/9" in response.json()["message"]


# --- the legacy route ---------------------------------------------------------------------

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def legacy(client, body, params=None, headers=None, model_id=DETECTOR_ID, method="POST"):
    return client.request(method, f"/{model_id}", params=params or {}, content=body, headers=headers or FORM)


def test_legacy_base64_body(client, scene):
    assert_finds_ground_truth(scene.objects, predictions_of(legacy(client, scene.base64)))


def test_legacy_base64_body_with_data_uri_and_json_content_type(client, scene):
    body = "data:image/jpeg;base64," + scene.base64
    response = legacy(client, body, headers={"Content-Type": "application/json"})
    assert_finds_ground_truth(scene.objects, predictions_of(response))


def test_legacy_numpy_pickle_body(client, scene):
    response = legacy(client, pickle.dumps(scene.image), params={"image_type": "numpy"})
    assert_finds_ground_truth(scene.objects, predictions_of(response))


def test_legacy_multipart_file(client, scene):
    response = client.post(f"/{DETECTOR_ID}", files={"file": ("scene.jpg", scene.jpeg, "image/jpeg")})
    assert_finds_ground_truth(scene.objects, predictions_of(response))


def test_legacy_image_url_with_get_and_post(permissive_server, image_host, scene):
    with permissive_server.client() as http:
        url = f"{image_host}/scene.jpg"
        by_get = http.get(f"/{DETECTOR_ID}", params={"image": url})
        by_post = http.post(f"/{DETECTOR_ID}", params={"image": url}, content=b"ignored", headers=FORM)
    assert_finds_ground_truth(scene.objects, predictions_of(by_get))
    assert as_set(predictions_of(by_get)) == as_set(predictions_of(by_post))


def test_legacy_without_content_type_is_400(client):
    response = client.post(f"/{DETECTOR_ID}", content=b"abc", headers={"Content-Type": ""})
    assert response.status_code == 400
    assert response.json()["message"] == "Content-Type header not provided with request."


def test_legacy_raw_jpeg_bytes_are_not_base64(client, scene):
    response = legacy(client, scene.jpeg)
    assert response.status_code == 400 and "base64" in response.json()["message"]


@pytest.mark.parametrize(
    ("percent", "fraction"),
    [
        ({"confidence": 40}, {"confidence": 0.4}),
        ({"confidence": 90}, {"confidence": 0.9}),
        ({"overlap": 30}, {"overlap": 0.3}),
        ({"confidence": 1}, {"confidence": 0.01}),
        ({"confidence": 0}, {"confidence": 0.01}),
    ],
)
def test_legacy_units(client, scene, percent, fraction):
    """Values of 1 or more are percentages; confidence is at least 0.01."""
    assert as_set(predictions_of(legacy(client, scene.base64, percent))) == as_set(
        predictions_of(legacy(client, scene.base64, fraction))
    )


def test_legacy_low_confidence_finds_at_least_as_much(client, scene):
    low = predictions_of(legacy(client, scene.base64, {"confidence": 1}))
    default = predictions_of(legacy(client, scene.base64))
    assert len(low) >= len(default)
    assert all(item["confidence"] >= 0.01 for item in low)


def test_legacy_format_image_answers_a_jpeg(client, scene):
    response = legacy(client, scene.base64, {"format": "image", "labels": "true", "stroke": 2})
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    drawn = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR)
    assert drawn.shape == scene.image.shape


def test_legacy_format_image_and_json(client, scene):
    body = legacy(client, scene.base64, {"format": "image_and_json"}).json()
    assert_finds_ground_truth(scene.objects, body["predictions"])
    drawn = cv2.imdecode(np.frombuffer(base64.b64decode(body["visualization"]), np.uint8), cv2.IMREAD_COLOR)
    assert drawn.shape == scene.image.shape


def test_legacy_disabled(model_cache, tmp_path):
    running = start_server(
        {"MODEL_CACHE_DIR": str(model_cache), "LEGACY_ROUTE_ENABLED": "false"}, tmp_path / "legacy-off.log"
    )
    try:
        with running.client() as http:
            assert http.post(f"/{DETECTOR_ID}", content=b"x", headers=FORM).status_code in (404, 405)
            assert http.get("/model/registry").status_code == 200
    finally:
        stop_server(running)


# --- metrics ------------------------------------------------------------------------------


def test_metrics_count_requests_and_models(client, scene):
    detect(client, scene.base64)
    client.get("/no/such/route/at/all")
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert (
        'visionhost_http_requests_total{method="POST",route="/infer/object_detection",status="200"}' in text
    )
    assert 'route="<unmatched>",status="404"' in text
    assert "visionhost_http_request_duration_seconds_bucket" in text
    assert f'visionhost_model_loaded{{model_id="{DETECTOR_ID}"}} 1' in text
    assert f'visionhost_inference_images_total{{model_id="{DETECTOR_ID}"}}' in text
    for line in text.splitlines():
        assert line.startswith("#") or len(line.rsplit(" ", 1)) == 2


def test_several_worker_processes(model_cache, tmp_path, scene):
    running = start_server(
        {"MODEL_CACHE_DIR": str(model_cache), "NUM_WORKERS": "2"}, tmp_path / "workers.log"
    )
    try:
        with running.client() as http:
            for _ in range(4):
                assert_detects(scene.objects, predictions_of(detect(http, scene.base64)))
    finally:
        stop_server(running)
    assert running.log().count("Started server process") >= 2
