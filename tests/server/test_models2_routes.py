"""YOLO-NAS, YOLO26 (both export layouts) and semantic segmentation through the real server, on the JSON routes and the
legacy route: the answers equal each architecture's own reference predictor (same files)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from model_dirs import NAS_ID, SEMANTIC_CLASSES, SEMSEG_ID, UNSUPPORTED_ID, YOLO26_IDS
from reference_agreement import (
    compare_boxes,
    decode_png,
    pixel_agreement,
    reference,
    reference_image_base64,
    wire_boxes,
)

MIN_PIXEL_AGREEMENT = 0.999
DETECTORS = [(NAS_ID, "shapes-det-yolonas"), *((model_id, name) for name, model_id in YOLO26_IDS.items())]


def json_route(client, route, model_id, image_name, **fields):
    body = {"model_id": model_id, "image": {"type": "base64", "value": reference_image_base64(image_name)}, **fields}
    response = client.post(f"/infer/{route}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def legacy_route(client, model_id, image_name, **query):
    response = client.post(f"/{model_id}", params=query, content=reference_image_base64(image_name),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200, response.text
    return response


@pytest.mark.parametrize("model_id, model_name", DETECTORS)
@pytest.mark.parametrize("route", ["json", "legacy"])
def test_detectors_agree_with_their_reference_on_every_route(client, model_id, model_name, route):
    expected = reference(model_name)
    iou = expected.get("iou_threshold", 0.3)
    for name, rows in expected["images"].items():
        if route == "json":
            body = json_route(client, "object_detection", model_id, name, confidence=expected["confidence"],
                              iou_threshold=iou)
        else:
            body = legacy_route(client, model_id, name, confidence=expected["confidence"], overlap=iou).json()
        compare_boxes(wire_boxes(body["predictions"]), rows).check(f"{model_id} {route} {name}")


@pytest.mark.parametrize("route", ["json", "legacy"])
def test_semantic_segmentation_agrees_with_its_reference_on_every_route(client, route):
    expected = reference("shapes-semseg-deeplab")
    for name, modes in expected["images"].items():
        if route == "json":
            body = json_route(client, "semantic_segmentation", SEMSEG_ID, name, confidence=expected["confidence"])
        else:
            body = legacy_route(client, SEMSEG_ID, name, confidence=expected["confidence"]).json()
        prediction = body["predictions"]
        assert set(prediction) == {"segmentation_mask", "class_map", "confidence_mask", "present_class_ids"}
        assert prediction["class_map"] == {str(index): name for index, name in enumerate(SEMANTIC_CLASSES)}
        mask = decode_png(prediction["segmentation_mask"])
        assert (body["image"]["height"], body["image"]["width"]) == mask.shape
        assert pixel_agreement(prediction["segmentation_mask"], modes["stretch"]["segmentation_mask"]) >= (
            MIN_PIXEL_AGREEMENT
        )


def test_semantic_segmentation_batch_and_visualisation(client):
    names = list(reference("shapes-semseg-deeplab")["images"])[:2]
    body = {"model_id": SEMSEG_ID, "visualize_predictions": True,
            "image": [{"type": "base64", "value": reference_image_base64(name)} for name in names]}
    response = client.post("/infer/semantic_segmentation", json=body)
    assert response.status_code == 200, response.text
    answers = response.json()
    assert len(answers) == 2 and all(answer["visualization"] for answer in answers)
    drawn = legacy_route(client, SEMSEG_ID, names[0], format="image")
    assert drawn.headers["content-type"] == "image/jpeg"
    assert cv2.imdecode(np.frombuffer(drawn.content, np.uint8), cv2.IMREAD_COLOR) is not None


def test_a_semantic_model_on_another_task_route_is_told_where_to_go(client):
    name = next(iter(reference("shapes-semseg-deeplab")["images"]))
    response = client.post("/infer/object_detection", json={
        "model_id": SEMSEG_ID, "image": {"type": "base64", "value": reference_image_base64(name)}})
    assert response.status_code == 400
    assert "/infer/semantic_segmentation" in response.json()["message"]


def test_an_unsupported_model_type_answers_an_error_naming_it(client):
    name = next(iter(reference("shapes-det-yolonas")["images"]))
    response = client.post("/infer/instance_segmentation", json={
        "model_id": UNSUPPORTED_ID, "image": {"type": "base64", "value": reference_image_base64(name)}})
    assert response.status_code >= 400
    assert "'yolact'" in response.json()["message"]
