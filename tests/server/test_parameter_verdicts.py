"""Every route gives the same verdict on the same parameter value: same status, same message.

Each row is sent to a real server three ways: the JSON route with the value as JSON (a number,
a string, a boolean), the JSON route with the value as a string, and the legacy route as a
query parameter (under its legacy name, e.g. `overlap`). A value that is not of the parameter's
type answers 422 and one out of range 400, with one message naming the parameter as sent.
"""

from __future__ import annotations

import pytest
from server_harness import DETECTOR_ID

SEGMENTER_ID = "tiny-seg/1"

# (json name, legacy name, value, expected status, JSON route, model)
ROWS = [
    ("confidence", "confidence", "high", 422, "object_detection", DETECTOR_ID),
    ("confidence", "confidence", -0.1, 400, "object_detection", DETECTOR_ID),
    ("confidence", "confidence", 700, 400, "object_detection", DETECTOR_ID),
    ("confidence", "confidence", 1e400, 400, "object_detection", DETECTOR_ID),
    ("iou_threshold", "overlap", -5, 400, "object_detection", DETECTOR_ID),
    ("iou_threshold", "overlap", 150, 400, "object_detection", DETECTOR_ID),
    ("iou_threshold", "overlap", "x", 422, "object_detection", DETECTOR_ID),
    ("max_detections", "max_detections", 0, 400, "object_detection", DETECTOR_ID),
    ("max_detections", "max_detections", 10**30, 400, "object_detection", DETECTOR_ID),
    ("max_detections", "max_detections", -(10**30), 400, "object_detection", DETECTOR_ID),
    ("max_detections", "max_detections", 2.5, 400, "object_detection", DETECTOR_ID),
    ("max_detections", "max_detections", "many", 422, "object_detection", DETECTOR_ID),
    ("visualization_stroke_width", "stroke", 0, 400, "object_detection", DETECTOR_ID),
    ("visualization_stroke_width", "stroke", 100_000, 400, "object_detection", DETECTOR_ID),
    ("visualization_stroke_width", "stroke", "thick", 422, "object_detection", DETECTOR_ID),
    ("visualization_labels", "labels", "maybe", 422, "object_detection", DETECTOR_ID),
    ("disable_preproc_auto_orient", "disable_preproc_auto_orient", "perhaps", 422, "object_detection",
     DETECTOR_ID),
    ("mask_decode_mode", "mask_decode_mode", "slow", 400, "instance_segmentation", SEGMENTER_ID),
    ("tradeoff_factor", "tradeoff_factor", 3, 400, "instance_segmentation", SEGMENTER_ID),
    ("response_mask_format", "response_mask_format", "svg", 400, "instance_segmentation", SEGMENTER_ID),
    # accepted values: the same 200 everywhere
    ("confidence", "confidence", 0.5, 200, "object_detection", DETECTOR_ID),
    ("confidence", "confidence", "best", 200, "object_detection", DETECTOR_ID),
    ("max_detections", "max_detections", 100_000, 200, "object_detection", DETECTOR_ID),
    ("visualization_labels", "labels", "yes", 200, "object_detection", DETECTOR_ID),
    ("disable_preproc_auto_orient", "disable_preproc_auto_orient", "off", 200, "object_detection",
     DETECTOR_ID),
]


def as_query_text(value) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def send_json(client, route: str, model_id: str, image: str, name: str, value):
    body = {"model_id": model_id, "image": {"type": "base64", "value": image}, name: value}
    return client.post(f"/infer/{route}", json=body)


def send_legacy(client, model_id: str, image: str, name: str, value):
    return client.post(
        f"/{model_id}", params={name: as_query_text(value)}, content=image,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


@pytest.mark.parametrize(
    ("name", "legacy_name", "value", "status", "route", "model_id"),
    ROWS,
    ids=[f"{row[0]}={row[2]!r}"[:60] for row in ROWS],
)
def test_same_value_same_verdict_on_every_route(
    client, scene, name, legacy_name, value, status, route, model_id
):
    json_value = value if value != 1e400 else "1e400"  # JSON has no infinity; sent as text
    answers = {
        "json": send_json(client, route, model_id, scene.base64, name, json_value),
        "json-as-text": send_json(client, route, model_id, scene.base64, name, as_query_text(value)),
        "legacy": send_legacy(client, model_id, scene.base64, legacy_name, value),
    }
    statuses = {way: answer.status_code for way, answer in answers.items()}
    assert set(statuses.values()) == {status}, statuses
    if status == 200:
        return
    messages = {way: answer.json()["message"] for way, answer in answers.items()}
    messages["legacy"] = messages["legacy"].replace(legacy_name, name, 1)  # `overlap` is `iou_threshold`
    assert len(set(messages.values())) == 1, messages
    message = messages["json"]
    assert message.startswith(f"{name} must be "), message
    assert "got " in message


def boxes(response) -> list[tuple]:
    keys = ("class", "x", "y", "width", "height", "confidence")
    return [tuple(prediction[key] for key in keys) for prediction in response.json()["predictions"]]


def test_legacy_percent_rule_is_the_only_route_difference(client, scene):
    """`confidence=40` is 40 % on the legacy route (Roboflow's rule) and out of range on JSON."""
    legacy = send_legacy(client, DETECTOR_ID, scene.base64, "confidence", 40)
    fraction = send_legacy(client, DETECTOR_ID, scene.base64, "confidence", 0.4)
    assert legacy.status_code == fraction.status_code == 200
    assert boxes(legacy) == boxes(fraction) and boxes(legacy)
    json_route = send_json(client, "object_detection", DETECTOR_ID, scene.base64, "confidence", 40)
    assert json_route.status_code == 400
    assert json_route.json()["message"] == (
        "confidence must be a number from 0 to 1 (or 'best' / 'default'); got 40."
    )


def test_openapi_documents_each_parameter_from_its_one_definition(client):
    from inference_core.params import BY_NAME

    schema = client.get("/openapi.json").json()
    detection = schema["components"]["schemas"]["ObjectDetectionRequest"]["properties"]
    assert detection["confidence"]["default"] == BY_NAME["confidence"].default
    assert detection["max_detections"]["maximum"] == BY_NAME["max_detections"].maximum
    legacy = {
        parameter["name"]: parameter
        for parameter in schema["paths"]["/{dataset_id}/{version_id}"]["post"]["parameters"]
    }
    assert legacy["overlap"]["schema"]["default"] == BY_NAME["iou_threshold"].default
    assert "percentages" in legacy["confidence"]["description"]
    assert "labels" in legacy and "stroke" in legacy
