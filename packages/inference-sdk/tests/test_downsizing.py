"""Client-side downsizing: images shrunk to the model's input size, coordinates mapped back."""

from __future__ import annotations

import base64
import io

import pytest
from inference_sdk import InferenceConfiguration
from inference_sdk.http.images import Scaling
from inference_sdk.http.predictions import rescale
from PIL import Image
from sdk_fakes import KNOWN_MODELS, make_array, make_jpeg

DOWNSIZE = InferenceConfiguration(client_downsizing_disabled=False)


def sent_size(server, path="/infer/object_detection") -> tuple[int, int]:
    value = server.json_of(path)[-1]["image"]["value"]
    return Image.open(io.BytesIO(base64.b64decode(value))).size


def test_disabled_by_default_sends_full_size(client, server):
    client.infer(make_array(1280, 960), model_id="shapes/1")
    assert sent_size(server) == (1280, 960)


@pytest.mark.parametrize("make", [make_array, make_jpeg, lambda w, h: Image.new("RGB", (w, h))])
def test_large_image_is_shrunk_to_model_input_and_rescaled(client, server, make):
    client.configure(DOWNSIZE)
    result = client.infer(make(1280, 960), model_id="shapes/1")  # model input 640x640
    assert sent_size(server) == (640, 480)
    # The fake's box covers the middle half of what it received: back in original pixels.
    box = result["predictions"][0]
    assert (box["x"], box["y"], box["width"], box["height"]) == (640, 480, 640, 480)
    assert result["image"] == {"width": 1280, "height": 960}


def test_small_image_is_untouched(client, server):
    client.configure(DOWNSIZE)
    image = make_jpeg(300, 200)
    result = client.infer(image, model_id="shapes/1")
    assert base64.b64decode(server.json_of("/infer/object_detection")[-1]["image"]["value"]) == image
    assert result["predictions"][0]["x"] == 150


def test_model_without_input_size_uses_default_max_input_size(client, server):
    server.loaded["shapes/1"] = ("object-detection", None, None)
    client.configure(InferenceConfiguration(client_downsizing_disabled=False, default_max_input_size=500))
    client.infer(make_array(1000, 250), model_id="shapes/1")
    assert sent_size(server) == (500, 125)


def test_points_and_keypoints_are_rescaled(client, server):
    client.configure(DOWNSIZE)
    segmentation = client.infer(make_array(640, 640), model_id="segment/1")  # input 320
    assert segmentation["predictions"][0]["points"][0] == {"x": 160, "y": 160}
    pose = client.infer(make_array(1280, 1280), model_id="pose/1")
    assert pose["predictions"][0]["keypoints"][0]["x"] == 320


def test_legacy_route_downsizes_to_default_max_input_size(client, server):
    client.configure(InferenceConfiguration(client_downsizing_disabled=False, default_max_input_size=256))
    client.select_api_v0()
    result = client.infer(make_array(512, 384), model_id="shapes/1")
    sent = Image.open(io.BytesIO(base64.b64decode(server.requests[-1].content)))
    assert sent.size == (256, 192)
    assert result["image"] == {"width": 512, "height": 384} and result["predictions"][0]["width"] == 256


def test_rescale_uses_a_factor_per_axis():
    result = {"image": {"width": 100, "height": 33},
              "predictions": [{"x": 50, "y": 10, "width": 10, "height": 3, "class": "a"}]}
    rescale(result, Scaling(original=(1000, 333), sent=(100, 33)))
    prediction = result["predictions"][0]
    assert result["image"] == {"width": 1000, "height": 333}
    assert prediction["x"] == 500 and prediction["y"] == pytest.approx(10 * 333 / 33)


def test_classification_only_gets_its_image_size_back(client, server):
    server.loaded["classes/1"] = KNOWN_MODELS["classes/1"]
    client.configure(DOWNSIZE)
    result = client.infer(make_array(448, 448), model_id="classes/1")
    assert result["image"] == {"width": 448, "height": 448} and result["top"] == "square"
