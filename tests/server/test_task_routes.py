"""Segmentation, keypoints and classification through every route, with tiny stand-in models
whose answer is known (tests/support/tiny_task_models.py): one object at the centre of the
image, a square mask, three keypoints, and a classifier that prefers 'square' at 0.8."""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest

SEGMENTER, POSE, CLASSIFIER = "tiny-seg/1", "tiny-pose/1", "tiny-cls/1"
IMAGE = np.full((128, 96, 3), 120, np.uint8)  # letterboxed at half size: the object is 48 x 48 at (48, 64)
IMAGE_B64 = base64.b64encode(cv2.imencode(".png", IMAGE)[1].tobytes()).decode()
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def infer(client, route, model_id, **fields):
    body = {"model_id": model_id, "image": {"type": "base64", "value": IMAGE_B64}, **fields}
    return client.post(f"/infer/{route}", json=body)


def the_object(response):
    assert response.status_code == 200, response.text
    (prediction,) = response.json()["predictions"]
    assert (prediction["x"], prediction["y"], prediction["width"], prediction["height"]) == (48, 64, 48, 48)
    assert prediction["class"] == "circle" and prediction["confidence"] == pytest.approx(0.9)
    return prediction


def test_registry_reports_each_task(client):
    for model_id in (SEGMENTER, POSE, CLASSIFIER):
        assert client.post("/model/add", json={"model_id": model_id}).status_code == 200
    tasks = {item["model_id"]: item["task_type"] for item in client.get("/model/registry").json()["models"]}
    assert tasks[SEGMENTER] == "instance-segmentation"
    assert tasks[POSE] == "keypoint-detection" and tasks[CLASSIFIER] == "classification"


def test_instance_segmentation_polygon(client):
    prediction = the_object(infer(client, "instance_segmentation", SEGMENTER))
    assert prediction["mask_format"] == "polygon" and len(prediction["points"]) >= 4
    xs = [point["x"] for point in prediction["points"]]
    ys = [point["y"] for point in prediction["points"]]
    assert 24 <= min(xs) and max(xs) <= 72 and 34 <= min(ys) and max(ys) <= 94


def test_instance_segmentation_rle_and_decode_modes(client):
    prediction = the_object(infer(client, "instance_segmentation", SEGMENTER, response_mask_format="rle"))
    assert prediction["mask_format"] == "rle" and prediction["rle"]["size"] == [128, 96]
    assert isinstance(prediction["rle"]["counts"], str) and "points" not in prediction
    for mode, factor in (("fast", 0.0), ("tradeoff", 0.5), ("accurate", 0.0)):
        the_object(
            infer(client, "instance_segmentation", SEGMENTER, mask_decode_mode=mode, tradeoff_factor=factor)
        )


@pytest.mark.parametrize(
    "fields",
    [{"tradeoff_factor": 2}, {"mask_decode_mode": "sloppy"}, {"response_mask_format": "png"}],
)
def test_instance_segmentation_bad_options_are_400(client, fields):
    response = infer(client, "instance_segmentation", SEGMENTER, **fields)
    assert response.status_code == 400 and response.json()["message"]


def test_keypoints_and_their_threshold(client):
    keypoints = the_object(infer(client, "keypoints_detection", POSE))["keypoints"]
    assert [point["class_id"] for point in keypoints] == [0, 1, 2]
    assert set(keypoints[0]) == {"x", "y", "confidence", "class_id", "class"}
    assert (keypoints[0]["x"], keypoints[0]["y"]) == (36, 52)
    confident = the_object(infer(client, "keypoints_detection", POSE, keypoint_confidence=0.5))["keypoints"]
    assert [point["class_id"] for point in confident] == [0, 1]


def test_classification(client):
    body = infer(client, "classification", CLASSIFIER).json()
    assert body["top"] == "square" and body["confidence"] == pytest.approx(0.8)
    assert body["predictions"] == [{"class": "square", "class_id": 1, "confidence": pytest.approx(0.8)}]
    assert body["image"] == {"width": 96, "height": 128}
    low = infer(client, "classification", CLASSIFIER, confidence=0.1).json()
    assert [item["class"] for item in low["predictions"]] == ["square", "circle"]
    nothing = infer(client, "classification", CLASSIFIER, confidence=0.9).json()
    assert nothing["top"] == "" and nothing["confidence"] == 0.0 and nothing["predictions"] == []
    batch = client.post(
        "/infer/classification",
        json={"model_id": CLASSIFIER, "image": [{"type": "base64", "value": IMAGE_B64}] * 3},
    ).json()
    assert [answer["top"] for answer in batch] == ["square"] * 3


@pytest.mark.parametrize(
    ("route", "model_id"),
    [
        ("object_detection", CLASSIFIER),
        ("classification", SEGMENTER),
        ("instance_segmentation", POSE),
        ("keypoints_detection", SEGMENTER),
    ],
)
def test_the_wrong_task_route_is_400(client, route, model_id):
    response = infer(client, route, model_id)
    assert response.status_code == 400 and "/infer/" in response.json()["message"]


def test_the_legacy_route_dispatches_by_task(client):
    def legacy(model_id, **params):
        response = client.post(f"/{model_id}", params=params, content=IMAGE_B64, headers=FORM)
        assert response.status_code == 200, response.text
        return response.json()

    assert legacy(SEGMENTER)["predictions"][0]["points"]
    assert len(legacy(POSE, keypoint_confidence=0.5)["predictions"][0]["keypoints"]) == 2
    assert legacy(CLASSIFIER)["top"] == "square"


@pytest.mark.parametrize("model_id", [SEGMENTER, POSE, CLASSIFIER])
def test_drawn_predictions_for_every_task(client, model_id):
    image = client.post(
        f"/{model_id}", params={"format": "image", "labels": "true"}, content=IMAGE_B64, headers=FORM
    )
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    drawn = cv2.imdecode(np.frombuffer(image.content, np.uint8), cv2.IMREAD_COLOR)
    assert drawn.shape == IMAGE.shape and not np.array_equal(drawn, IMAGE)
