"""Hostile input, round two: each case is a class of weakness found against a default server.

Every case names the status it must get and, where the status alone would not tell the fixed
server from the old one, words the message must hold. None may ever be a 5xx, and the server log
must stay free of decoder chatter and tracebacks.
"""

from __future__ import annotations

import base64
import json
import pickle

import hostile_images as hostile
import numpy as np
import pytest
from server_harness import DETECTOR_ID, make_scene

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def v2(image, **fields):
    body = {"model_id": DETECTOR_ID, "image": image, **fields}
    return lambda http: http.post("/infer/object_detection", json=body)


def v2_image(data: bytes, **fields):
    return v2({"type": "base64", "value": b64(data)}, **fields)


def raw_json(text: str, path: str = "/infer/object_detection"):
    return lambda http: http.post(path, content=text.encode(), headers={"Content-Type": "application/json"})


def legacy(params: dict, body: bytes | None = None, path: str = f"/{DETECTOR_ID}"):
    content = body if body is not None else b64(make_scene(900_400, 64, 48).jpeg).encode()
    return lambda http: http.post(path, params=params, content=content, headers=FORM)


def legacy_numpy(payload: bytes):
    return lambda http: http.post(f"/{DETECTOR_ID}", params={"image_type": "numpy"}, content=payload, headers=FORM)


def zero_stride_pickle(side: int = 2000) -> bytes:
    """75 bytes that numpy.ndarray(shape, u1, buffer=b'x', strides=(0, 0)) turns into side^2 bytes."""
    shape = f"(I{side}\nI{side}\nt".encode()
    dtype = b"cnumpy\ndtype\n(Vu1\nI00\nI01\ntR"
    return b"cnumpy\nndarray\n(" + shape + dtype + b"C\x01xI0\n(I0\nI0\ntt" + b"R."


def dtype_rewrite_pickle() -> bytes:
    """An empty-looking array whose dtype object is rewritten to a huge item size after the fact."""
    array = pickle.dumps(np.zeros((4, 4), np.uint8), protocol=2)
    # BUILD on the dtype with an item size far beyond the data sent
    return array.replace(b"J\xff\xff\xff\xffJ\xff\xff\xff\xff", b"J\x00\x00\x00\x10J\x01\x00\x00\x00", 1)


def valid_jpeg() -> bytes:
    return make_scene(900_401, 96, 64).jpeg


SCENE = valid_jpeg()
OTHER_FORMATS = hostile.other_format_images()

CASES = [
    # decoder gate: other formats, work inside the caps
    *[(f"format-{name}", v2_image(data), 415, "not accepted") for name, data in OTHER_FORMATS.items()],
    ("jpeg-many-scans", v2_image(hostile.progressive_jpeg_with_scans(600, 2000, 2000)), 413, "MAX_JPEG_SCANS"),
    ("png-chunk-flood", v2_image(hostile.png_with_chunks(5000)), 413, "MAX_IMAGE_CHUNKS"),
    ("png-empty-idat-flood", v2_image(hostile.png_with_tiny_idat_chunks(5000)), 413, "MAX_IMAGE_CHUNKS"),
    ("gif-block-flood", v2_image(hostile.gif_with_comment_blocks(100_000)), 413, "MAX_IMAGE_CHUNKS"),
    ("tiff-oversized-tag", v2_image(hostile.tiff_with_oversized_tag()), 400, "TIFF"),
    ("lossless-jpeg", v2_image(b"\xff\xd8\xff\xc3\x00\x0b\x08\x00\x10\x00\x10\x01\x01\x11\x00\xff\xd9"), 415, "JPEG"),
    # the unpickler
    ("pickle-zero-strides", legacy_numpy(zero_stride_pickle()), 400, "plain numeric"),
    ("pickle-dtype-rewrite", legacy_numpy(dtype_rewrite_pickle()), 400, "plain numeric"),
    ("pickle-4d", legacy_numpy(pickle.dumps(np.zeros((1, 4, 4, 3), np.uint8))), 400, "dimensions"),
    ("pickle-complex", legacy_numpy(pickle.dumps(np.zeros((4, 4), np.complex64))), 400, "plain numeric"),
    # numeric parameters: out of range is a 400, never a 500
    ("max-detections-huge", v2_image(SCENE, max_detections=10**30), 400, "max_detections"),
    ("max-detections-100k", v2_image(SCENE, max_detections=100_001), 400, "max_detections"),
    ("max-candidates-huge", v2_image(SCENE, max_candidates=10**400), 400, "max_candidates"),
    ("confidence-huge-int", v2_image(SCENE, confidence=10**400), 422, "confidence"),
    ("iou-huge-int", v2_image(SCENE, iou_threshold=10**400), 422, "iou_threshold"),
    ("stroke-huge-int", v2_image(SCENE, visualize_predictions=True, visualization_stroke_width=10**400), 400,
     "visualization_stroke_width"),
    ("legacy-max-detections-huge", legacy({"max_detections": str(10**30)}), 400, "max_detections"),
    ("legacy-stroke-huge-int", legacy({"format": "image", "stroke": str(10**30)}), 400, "stroke"),
    ("legacy-confidence-huge", legacy({"confidence": "1e400"}), 400, "confidence"),
    # URLs that cannot be parsed
    ("url-unterminated-ipv6", v2({"type": "url", "value": "http://[::1/x.jpg"}), 400, "URL"),
    ("url-bracketed-name", v2({"type": "url", "value": "http://[evil.example.com]/x.jpg"}), 400, "URL"),
    ("url-lone-surrogate-host", raw_json(
        '{"model_id": "shapes/1", "image": {"type": "url", "value": "http://ex\\ud800ample.com/x.jpg"}}'
    ), 400, "URL"),
    ("url-lone-surrogate-path", raw_json(
        '{"model_id": "shapes/1", "image": {"type": "url", "value": "http://example.com/\\udc80.jpg"}}'
    ), 400, "URL"),
    ("url-crlf-in-path", v2({"type": "url", "value": "http://example.com/x\r\nHost: evil\r\n.jpg"}), 400, ""),
    ("legacy-url-unterminated-ipv6", lambda http: http.get(f"/{DETECTOR_ID}", params={"image": "http://[::1"}),
     400, "URL"),
    # IPv6 forms that hide an internal IPv4 address
    ("url-nat64-loopback", v2({"type": "url", "value": "http://[64:ff9b::7f00:1]/x.jpg"}), 400, "non-public"),
    ("url-6to4-private", v2({"type": "url", "value": "http://[2002:a00:1::1]/x.jpg"}), 400, "non-public"),
    ("url-ipv4-compatible", v2({"type": "url", "value": "http://[::a9fe:a9fe]/x.jpg"}), 400, "non-public"),
    ("url-site-local", v2({"type": "url", "value": "http://[fec0::1]/x.jpg"}), 400, "non-public"),
    # lone surrogates anywhere in a body
    ("surrogate-in-key", raw_json(
        '{"model_id": "shapes/1", "\\ud800": 1, "image": {"type": "base64", "value": "' + b64(SCENE) + '"}}'
    ), 200, ""),
    ("surrogate-in-model-id", raw_json(
        '{"model_id": "shapes\\ud800/1", "image": {"type": "base64", "value": "x"}}'
    ), 400, "model id"),
    ("surrogate-in-image-type", raw_json(
        '{"model_id": "shapes/1", "image": {"type": "\\udfff", "value": "x"}}'
    ), 400, "image type"),
    ("surrogate-in-validation-error", raw_json('{"model_id": "shapes/1", "image": {"\\ud800": 1}}'), 422, ""),
    # model ids
    ("model-id-trailing-newline-segment", v2_image(SCENE, model_id="shapes\n/1"), 400, "model id"),
    ("model-id-newline-version", v2_image(SCENE, model_id="shapes/1\n/"), 400, "model id"),
    ("legacy-model-id-newline", legacy({}, path="/shapes%0A/1"), 400, "model id"),
]


@pytest.mark.parametrize(
    ("send", "status", "words"),
    [pytest.param(send, status, words, id=name) for name, send, status, words in CASES],
)
def test_round_two_hostile_input(client, send, status, words):
    response = send(client)
    assert response.status_code == status, response.text[:500]
    body = response.json()
    if status != 200:
        assert isinstance(body.get("message"), str) and words.lower() in body["message"].lower(), body


def test_decoder_warnings_and_tracebacks_never_reach_the_log(server, client):
    """Duplicate PNG chunks made libpng write a warning line per chunk into the server log."""
    before = len(server.log())
    response = v2_image(hostile.png_with_chunks(200))(client)
    assert response.status_code == 200, response.text
    response = v2_image(hostile.progressive_jpeg_with_scans(60, 64, 64))(client)
    assert response.status_code == 200, response.text
    log = server.log()[before:]
    assert "libpng" not in log and "Corrupt JPEG" not in log and "Inconsistent progression" not in log
    assert "Traceback" not in server.log()


def test_validation_errors_with_lone_surrogates_are_valid_json(client):
    response = raw_json('{"model_id": 5, "image": {"\\ud800": 1}}')(client)
    assert response.status_code == 422
    json.loads(response.content.decode("utf-8"))
