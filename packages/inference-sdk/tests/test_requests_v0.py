"""What `infer` sends in API mode v0: the legacy route, one image per request, query parameters."""

from __future__ import annotations

import base64

import httpx
import pytest
from inference_sdk import InferenceConfiguration, InferenceHTTPClient
from inference_sdk.http.entities import HTTPClientMode
from inference_sdk.http.errors import APIKeyNotProvided, InvalidModelIdentifier, WrongClientModeError
from sdk_fakes import API_URL, make_jpeg


@pytest.mark.parametrize("url", ["https://detect.roboflow.com", "https://serverless.roboflow.com"])
def test_hosted_urls_select_v0(url):
    assert InferenceHTTPClient(url, api_key="k").client_mode is HTTPClientMode.V0


def test_mode_selection_and_context_managers(client):
    assert client.select_api_v0() is client and client.client_mode is HTTPClientMode.V0
    with client.use_api_v1():
        assert client.client_mode is HTTPClientMode.V1
    assert client.client_mode is HTTPClientMode.V0
    client.select_api_v1()
    with client.use_api_v0():
        assert client.client_mode is HTTPClientMode.V0
    assert client.client_mode is HTTPClientMode.V1


def test_legacy_request_shape(client, server):
    image = make_jpeg(32, 24)
    client.configure(InferenceConfiguration(confidence_threshold=0.5, iou_threshold=0.4, format="json",
                                            visualize_labels=True, stroke_width=2, max_detections=9))
    with client.use_api_v0():
        result = client.infer(image, model_id="shapes/1")
    (request,) = server.requests
    assert request.method == "POST" and request.url.path == "/shapes/1"
    assert request.content == base64.b64encode(image)
    assert request.headers["content-type"] == "application/json"
    params = request.url.params
    assert params["api_key"] == "key-123"
    assert (params["confidence"], params["overlap"], params["format"]) == ("0.5", "0.4", "json")
    assert (params["labels"], params["stroke"], params["max_detections"]) == ("true", "2", "9")
    assert result["image"] == {"width": 32, "height": 24}


def test_legacy_lists_ignore_max_batch_size(client, server):
    client.configure(InferenceConfiguration(max_batch_size=8))
    client.select_api_v0()
    results = client.infer([make_jpeg(width, 8) for width in (11, 12, 13)], model_id="shapes/1")
    assert [result["image"]["width"] for result in results] == [11, 12, 13]
    assert server.paths() == ["/shapes/1"] * 3


def test_jpeg_answer_becomes_visualization(client, server):
    server.script["/shapes/1"] = [lambda request: httpx.Response(
        200, content=make_jpeg(20, 10), headers={"Content-Type": "image/jpeg"})]
    client.configure(InferenceConfiguration(format="image", output_visualisation_format="pillow"))
    client.select_api_v0()
    visual = client.infer(make_jpeg(8, 8), model_id="shapes/1")["visualization"]
    assert visual.size == (20, 10)


@pytest.mark.parametrize("model_id", ["shapes", "a/b/c", "/1"])
def test_invalid_model_id(client, model_id):
    client.select_api_v0()
    with pytest.raises(InvalidModelIdentifier):
        client.infer(make_jpeg(8, 8), model_id=model_id)


def test_hosted_api_needs_a_key():
    client = InferenceHTTPClient("https://detect.roboflow.com")
    with pytest.raises(APIKeyNotProvided):
        client.infer(make_jpeg(8, 8), model_id="shapes/1")


def test_self_hosted_legacy_route_works_without_key(server):
    client = InferenceHTTPClient(API_URL, transport=httpx.MockTransport(server)).select_api_v0()
    client.infer(make_jpeg(8, 8), model_id="shapes/1")
    assert "api_key" not in server.requests[0].url.params


def test_model_management_needs_v1(client):
    client.select_api_v0()
    for call in (client.list_loaded_models, client.unload_all_models):
        with pytest.raises(WrongClientModeError):
            call()
    with pytest.raises(WrongClientModeError):
        client.load_model("shapes/1")
    with pytest.raises(WrongClientModeError):
        client.get_model_description("shapes/1")
