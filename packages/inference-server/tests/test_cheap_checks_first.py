"""Cheap checks before expensive ones: Host, body cap, key, batch length, then validation; state
changes only over POST; the pre-scan that counts images without validating them."""

from __future__ import annotations

import base64
import dataclasses
import json

import cv2
import numpy as np
import pytest
from inference_server.preflight import count_list_entries, largest_image_list
from inference_server.settings import ServerSettings

DETECTOR_ID = "shapes/1"
IMAGE = base64.b64encode(cv2.imencode(".png", np.full((64, 64, 3), 90, np.uint8))[1].tobytes()).decode()
JSON = {"Content-Type": "application/json"}


def settings_for(cache, **overrides) -> ServerSettings:
    base = ServerSettings.from_env({"MODEL_CACHE_DIR": str(cache), "INTRA_OP_THREADS": "1"})
    return dataclasses.replace(base, **overrides)


def many_tiny_images(count: int) -> bytes:
    images = ",".join(['{"type":"url","value":""}'] * count)
    return ('{"model_id": "shapes/1", "image": [' + images + "]}").encode()


def test_with_keys_on_an_unauthenticated_body_is_refused_before_it_is_parsed(make_client, detector_cache):
    client = make_client(settings_for(detector_cache, accepted_api_keys=("secret",)))
    not_json = client.post("/infer/object_detection", content=b"{this is not json", headers=JSON)
    assert not_json.status_code == 401, not_json.text
    flood = client.post("/infer/object_detection", content=many_tiny_images(200_000), headers=JSON)
    assert flood.status_code == 401 and "API key" in flood.json()["message"]
    wrong = client.post("/infer/object_detection", content=b"{", headers={**JSON, "Authorization": "Bearer x"})
    assert wrong.status_code == 401
    with_key = client.post(
        "/infer/object_detection",
        json={"model_id": DETECTOR_ID, "image": {"type": "base64", "value": IMAGE}, "api_key": "secret"},
    )
    assert with_key.status_code == 200, with_key.text


def test_batch_length_is_refused_before_validation(make_client, detector_cache):
    client = make_client(settings_for(detector_cache, max_batch_size=4))
    flood = client.post("/infer/object_detection", content=many_tiny_images(300_000), headers=JSON)
    assert flood.status_code == 413 and "MAX_BATCH_SIZE" in flood.json()["message"]
    five = {"model_id": DETECTOR_ID, "image": [{"type": "base64", "value": IMAGE}] * 5}
    assert client.post("/infer/object_detection", json=five).status_code == 413
    four = {"model_id": DETECTOR_ID, "image": [{"type": "base64", "value": IMAGE}] * 4}
    assert client.post("/infer/object_detection", json=four).status_code == 200


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"image": [1, 2, 3]}', 3),
        ('{"a": {"image": [1]}, "image": [{"x": [1, 2]}, "s"]}', 2),
        ('  {"model_id": "x" ,\n "image" : [ ] }', 0),
        ('{"image": {"type": "url"}}', None),
        ('{"image": [1, 2', None),
        ("[1, 2]", None),
        ("not json", None),
        ('{"image": [' + "[" * 100_000 + "]" * 100_000 + "]}", None),
        ('{"image": [' + ",".join(["0"] * 1000) + "]}", 11),
    ],
)
def test_image_list_pre_scan(body, expected):
    assert count_list_entries(body.encode(), "image", 11) == expected


IMG = '{"type": "base64", "value": "x"}'


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"inputs": {"image": [' + ",".join([IMG] * 3) + "]}}", 3),
        ('{"inputs": {"a": [' + IMG + '], "b": [' + ",".join([IMG] * 5) + '], "c": 1}}', 5),
        ('{"inputs": {"names": ["a", "b", "c", "d", "e", "f"], "zones": [[[1, 2]], [[3, 4]]]}}', 0),
        ('{"specification": {"inputs": [' + ",".join([IMG] * 20) + ']}, "inputs": {}}', 0),
        ('{"inputs": {"image": [' + ",".join([IMG] * 100_000) + "]}}", 11),
        ('{"inputs": {"image": [' + IMG + ", " + IMG, 0),
        ('{"inputs": [' + IMG + "]}", 0),
        ("not json", 0),
    ],
)
def test_workflow_inputs_pre_scan(body, expected):
    assert largest_image_list(body.encode(), "inputs", 11) == expected


def test_state_changes_need_post_unless_roboflows_get_is_turned_on(make_client, detector_cache):
    strict = make_client(settings_for(detector_cache))
    assert strict.get(f"/start/{DETECTOR_ID}").status_code == 405
    assert strict.get("/clear_cache").status_code == 405
    assert strict.get("/model/registry").json() == {"models": []}
    assert strict.post(f"/start/{DETECTOR_ID}").status_code == 200
    assert strict.post("/clear_cache").json() == "Cache Cleared"
    compatible = make_client(settings_for(detector_cache, legacy_get_state_changes=True))
    assert compatible.get(f"/start/{DETECTOR_ID}").status_code == 200
    assert compatible.get("/clear_cache").json() == "Cache Cleared"


def test_allowed_hosts_refuse_other_host_headers(make_client, detector_cache):
    client = make_client(settings_for(detector_cache, allowed_hosts=("vision.local", "127.0.0.1", "*.corp.example")))
    assert client.get("/info", headers={"Host": "vision.local:9001"}).status_code == 200
    assert client.get("/info", headers={"Host": "127.0.0.1:9001"}).status_code == 200
    assert client.get("/info", headers={"Host": "a.corp.example"}).status_code == 200
    rebound = client.get("/info", headers={"Host": "attacker.example:9001"})
    assert rebound.status_code == 400 and "VISIONHOST_ALLOWED_HOSTS" in rebound.json()["message"]
    assert client.post("/model/clear", headers={"Host": "evilcorp.example"}).status_code == 400
    open_client = make_client(settings_for(detector_cache))
    assert open_client.get("/info", headers={"Host": "anything.example"}).status_code == 200


def test_settings_read_the_new_protections_from_the_environment():
    settings = ServerSettings.from_env(
        {"VISIONHOST_ALLOWED_HOSTS": "A.example, b.example", "URL_FETCH_WORKERS": "2",
         "LEGACY_GET_STATE_CHANGES": "true"}
    )
    assert settings.allowed_hosts == ("a.example", "b.example")
    assert settings.url_fetch_workers == 2 and settings.legacy_get_state_changes
    defaults = ServerSettings.from_env({})
    assert defaults.allowed_hosts == () and not defaults.legacy_get_state_changes
    assert json.dumps(dataclasses.asdict(defaults.core.image_limits))


def test_error_messages_name_no_server_paths(make_client, detector_cache):
    client = make_client(settings_for(detector_cache))
    response = client.post(
        "/infer/object_detection", json={"model_id": "nope/1", "image": {"type": "base64", "value": IMAGE}}
    )
    assert response.status_code == 404
    message = response.json()["message"]
    assert str(detector_cache) not in message and "<model cache>" in message
