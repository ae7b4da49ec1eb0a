"""Input encoding: numpy (BGR) and PIL to JPEG, paths as raw bytes, URLs downloaded, base64 as is."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from inference_sdk.http.errors import EncodingError, HTTPCallErrorError, InvalidInputFormatError
from PIL import Image
from sdk_fakes import KNOWN_MODELS, make_array, make_jpeg


@pytest.fixture(autouse=True)
def model_loaded(server):
    server.loaded["shapes/1"] = KNOWN_MODELS["shapes/1"]


def sent_images(server) -> list[str]:
    values = []
    for body in server.json_of("/infer/object_detection"):
        images = body["image"] if isinstance(body["image"], list) else [body["image"]]
        assert all(image["type"] == "base64" for image in images)
        values.extend(image["value"] for image in images)
    return values


def decoded(value: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(value)))


def test_numpy_array_is_bgr_jpeg_quality_95(client, server):
    client.infer(make_array(40, 30), model_id="shapes/1")
    image = decoded(sent_images(server)[0])
    assert image.format == "JPEG" and image.size == (40, 30)
    red, green, blue = np.asarray(image.convert("RGB")).reshape(-1, 3).mean(axis=0)
    assert blue > 240 and red < 10 and green < 10  # BGR blue arrived as blue
    assert image.quantization[0][0] <= 3  # quality 95 quantisation tables are near 1-3


def test_grayscale_and_bgra_arrays(client, server):
    client.infer([np.full((10, 12), 128, np.uint8), np.zeros((10, 12, 4), np.uint8)], model_id="shapes/1")
    assert [decoded(value).size for value in sent_images(server)] == [(12, 10), (12, 10)]


def test_pil_image_is_jpeg(client, server):
    client.infer(Image.new("RGBA", (21, 13), (255, 0, 0, 128)), model_id="shapes/1")
    image = decoded(sent_images(server)[0])
    assert image.format == "JPEG" and image.size == (21, 13)


def test_path_is_sent_as_raw_bytes(client, server, tmp_path):
    png = io.BytesIO()
    Image.new("RGB", (5, 7), (1, 2, 3)).save(png, format="PNG")
    path = tmp_path / "input.png"
    path.write_bytes(png.getvalue())
    client.infer(str(path), model_id="shapes/1")
    client.infer(path, model_id="shapes/1")
    assert [base64.b64decode(value) for value in sent_images(server)] == [png.getvalue()] * 2


def test_url_is_downloaded_by_the_client(client, server):
    client.infer("http://images.test/image/cat.jpg", model_id="shapes/1")
    download = next(request for request in server.requests if request.url.host == "images.test")
    assert download.method == "GET" and "api_key" not in download.url.params
    assert base64.b64decode(sent_images(server)[0]) == make_jpeg(64, 48)


def test_failed_download_raises_call_error(client, server):
    with pytest.raises(HTTPCallErrorError):
        client.infer("https://images.test/missing.jpg", model_id="shapes/1")  # the image host answers 404


def test_other_strings_are_sent_as_base64_unchanged(client, server):
    client.infer(base64.b64encode(make_jpeg(4, 4)).decode(), model_id="shapes/1")
    assert sent_images(server) == [base64.b64encode(make_jpeg(4, 4)).decode()]


def test_nested_lists_are_flattened_in_order(client, server):
    results = client.infer([make_jpeg(1, 1), [make_jpeg(2, 1), [make_jpeg(3, 1)]], make_jpeg(4, 1)],
                           model_id="shapes/1")
    assert [result["image"]["width"] for result in results] == [1, 2, 3, 4]


def test_unknown_input_type(client):
    with pytest.raises(InvalidInputFormatError):
        client.infer(12345, model_id="shapes/1")


def test_non_uint8_array(client):
    with pytest.raises(EncodingError):
        client.infer(np.zeros((4, 4, 3), np.float32), model_id="shapes/1")


def test_request_body_is_plain_json(client, server):
    client.infer(make_array(4, 4), model_id="shapes/1")
    assert json.loads(server.requests[-1].content)["image"]["value"]
