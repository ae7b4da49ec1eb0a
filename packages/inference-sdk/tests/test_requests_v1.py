"""What `infer` sends in API mode v1: registry lookup, /model/add, /infer/{task}, batches, keys."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from inference_sdk import InferenceConfiguration, InferenceHTTPClient
from inference_sdk.http.entities import HTTPClientMode
from inference_sdk.http.errors import (
    ModelNotSelectedError,
    ModelTaskTypeNotSupportedError,
    WrongClientModeError,
)
from inference_sdk.http.protocol import RetryPolicy
from sdk_fakes import API_URL, KNOWN_MODELS, make_array, make_jpeg


def test_self_hosted_url_selects_v1(client):
    assert client.client_mode is HTTPClientMode.V1


def test_first_infer_loads_the_model_then_posts_to_its_task_route(client, server):
    result = client.infer(make_jpeg(64, 48), model_id="shapes/1")
    assert server.paths() == ["/model/registry", "/model/add", "/infer/object_detection"]
    registry, add, infer = server.requests
    assert registry.method == "GET" and registry.url.params["api_key"] == "key-123"
    assert json.loads(add.content) == {"model_id": "shapes/1", "api_key": "key-123"}
    body = json.loads(infer.content)
    assert body["model_id"] == "shapes/1" and body["api_key"] == "key-123"
    assert body["image"]["type"] == "base64"
    assert infer.headers["content-type"] == "application/json"
    assert result["image"] == {"width": 64, "height": 48}


def test_loaded_model_is_not_added_again(client, server):
    server.loaded["shapes/1"] = KNOWN_MODELS["shapes/1"]
    client.infer(make_jpeg(8, 8), model_id="shapes/1")
    assert server.paths() == ["/model/registry", "/infer/object_detection"]


@pytest.mark.parametrize(("model_id", "route"), [
    ("shapes/1", "/infer/object_detection"),
    ("segment/1", "/infer/instance_segmentation"),
    ("classes/1", "/infer/classification"),
    ("pose/1", "/infer/keypoints_detection"),
])
def test_task_type_picks_the_route(client, server, model_id, route):
    client.infer(make_jpeg(8, 8), model_id=model_id)
    assert server.paths()[-1] == route


def test_configuration_reaches_the_body(client, server):
    client.configure(InferenceConfiguration(confidence_threshold=0.33, iou_threshold=0.45, max_detections=5,
                                            class_filter=["star"], disable_preproc_auto_orientation=True))
    client.infer(make_jpeg(8, 8), model_id="shapes/1")
    body = server.json_of("/infer/object_detection")[0]
    assert (body["confidence"], body["iou_threshold"], body["max_detections"]) == (0.33, 0.45, 5)
    assert body["class_filter"] == ["star"] and body["disable_preproc_auto_orient"] is True


def test_list_input_sends_one_request_per_image_in_order(client, server):
    widths = [10, 20, 30, 40, 50]
    results = client.infer([make_jpeg(width, 8) for width in widths], model_id="shapes/1")
    assert [result["image"]["width"] for result in results] == widths
    assert server.paths().count("/infer/object_detection") == 5


def test_max_batch_size_groups_images_into_list_bodies(client, server):
    client.configure(InferenceConfiguration(max_batch_size=2))
    widths = [10, 20, 30, 40, 50]
    results = client.infer([make_jpeg(width, 8) for width in widths], model_id="shapes/1")
    bodies = server.json_of("/infer/object_detection")
    assert [len(body["image"]) if isinstance(body["image"], list) else 1 for body in bodies] == [2, 2, 1]
    assert isinstance(bodies[-1]["image"], dict)  # a batch of one is a bare image object
    assert [result["image"]["width"] for result in results] == widths


def test_one_item_list_returns_a_bare_result_like_roboflow(client):
    assert isinstance(client.infer([make_jpeg(8, 8)], model_id="shapes/1"), dict)


def test_empty_list_returns_empty_list(client):
    assert client.infer([], model_id="shapes/1") == []


def test_selected_model_is_used_and_missing_model_raises(client, server):
    with pytest.raises(ModelNotSelectedError):
        client.infer(make_jpeg(8, 8))
    client.select_model("classes/1")
    client.infer(make_jpeg(8, 8))
    with client.use_model("pose/1"):
        client.infer(make_jpeg(8, 8))
    client.infer(make_jpeg(8, 8))
    assert [path for path in server.paths() if path.startswith("/infer")] == [
        "/infer/classification", "/infer/keypoints_detection", "/infer/classification"]


def test_task_without_image_route_raises(client):
    with pytest.raises(ModelTaskTypeNotSupportedError):
        client.infer(make_jpeg(8, 8), model_id="video/1")


def test_infer_from_api_v1_refuses_v0_mode(client):
    client.select_api_v0()
    with pytest.raises(WrongClientModeError):
        client.infer_from_api_v1(make_jpeg(8, 8), model_id="shapes/1")


def test_no_api_key_sends_no_key(server):
    client = InferenceHTTPClient(API_URL, transport=httpx.MockTransport(server))
    client.infer(make_jpeg(8, 8), model_id="shapes/1")
    assert "api_key" not in server.requests[0].url.params
    assert "api_key" not in server.json_of("/infer/object_detection")[0]


@pytest.mark.parametrize(("transport", "in_body", "in_header"), [
    ("legacy", True, False), ("both", True, True), ("header", False, True)])
def test_api_key_transport(client, server, transport, in_body, in_header):
    client.configure(InferenceConfiguration(api_key_transport=transport))
    client.infer(make_jpeg(8, 8), model_id="shapes/1")
    infer_request = server.requests[-1]
    assert ("api_key" in json.loads(infer_request.content)) is in_body
    assert ("api_key" in server.requests[0].url.params) is in_body
    assert (infer_request.headers.get("authorization") == "Bearer key-123") is in_header


def test_trailing_slash_in_api_url_is_ignored(server):
    client = InferenceHTTPClient(API_URL + "/", api_key="k", transport=httpx.MockTransport(server))
    client.infer(make_jpeg(8, 8), model_id="shapes/1")
    assert server.requests[0].url.path == "/model/registry"


def test_visualisation_is_decoded_into_the_requested_format(server):
    def with_visualisation(request: httpx.Request) -> httpx.Response:
        visual = base64.b64encode(make_jpeg(16, 12)).decode()
        return httpx.Response(200, json={"image": {"width": 16, "height": 12}, "predictions": [],
                                         "visualization": visual})

    client = InferenceHTTPClient(API_URL, transport=httpx.MockTransport(server),
                                 retry=RetryPolicy(interval=0))
    server.script["/infer/object_detection"] = [with_visualisation, with_visualisation]
    client.configure(InferenceConfiguration(visualize_predictions=True))
    assert isinstance(client.infer(make_jpeg(8, 8), model_id="shapes/1")["visualization"], str)
    client.configure(InferenceConfiguration(visualize_predictions=True, output_visualisation_format="numpy"))
    array = client.infer(make_array(8, 8), model_id="shapes/1")["visualization"]
    assert array.shape == (12, 16, 3)
