"""Hostile and odd input: each gets the right 4xx (odd but valid images a 200), never a 5xx,
no code from a payload ever runs, and the server keeps serving afterwards."""

from __future__ import annotations

import base64
import functools
import io
import os
import pickle
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from server_harness import DETECTOR_ID, make_scene, predictions_of

MARKER = Path(os.environ.get("TMPDIR", "/tmp")) / f"visionhost-pwned-{os.getpid()}"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


# --- payload builders ---------------------------------------------------------------------


class _RunsShell:
    def __reduce__(self):
        return os.system, (f"touch {MARKER}",)


class _RunsEval:
    def __reduce__(self):
        return eval, (f"open({str(MARKER)!r}, 'w').write('x')",)


class _ArrayThenShell:
    """A real array with a code-running object hidden in it."""

    def __reduce__(self):
        return np.array, ([_RunsShell()],)


def protocol_zero_system_pickle() -> bytes:
    return f"cposix\nsystem\n(S'touch {MARKER}'\ntR.".encode()


def subprocess_pickle() -> bytes:
    return f"csubprocess\ncheck_output\n((S'touch'\nS'{MARKER}'\nltR.".encode()


def builtins_exec_pickle() -> bytes:
    return f'cbuiltins\nexec\n(S\'open("{MARKER}", "w")\'\ntR.'.encode()


def object_array_pickle() -> bytes:
    return pickle.dumps(np.array([{"a": 1}, None], dtype=object))


def png_bytes(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", image)[1].tobytes()


def bomb_png(width: int = 30_000, height: int = 30_000) -> bytes:
    """A tiny 1-bit PNG that would decode to `width * height` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def pil_bytes(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- request builders ---------------------------------------------------------------------


def v2(image=None, route="object_detection", **fields):
    body = {"model_id": DETECTOR_ID, **fields}
    if image is not None:
        body["image"] = image
    return lambda http, ctx: http.post(f"/infer/{route}", json=body)


def v2_base64(data: bytes, **fields):
    return v2({"type": "base64", "value": b64(data)}, **fields)


def v2_numpy(payload: bytes):
    return v2({"type": "numpy", "value": b64(payload)})


def v2_url(url: str):
    return v2({"type": "url", "value": url})


def legacy_numpy(payload: bytes):
    return lambda http, ctx: http.post(
        f"/{DETECTOR_ID}", params={"image_type": "numpy"}, content=payload, headers=FORM
    )


def legacy_url(url: str):
    return lambda http, ctx: http.get(f"/{DETECTOR_ID}", params={"image": url})


def legacy_body(body: bytes, params=None, path=f"/{DETECTOR_ID}", headers=FORM):
    return lambda http, ctx: http.post(path, params=params or {}, content=body, headers=headers)


def raw_json(text: str, path="/infer/object_detection"):
    return lambda http, ctx: http.post(
        path, content=text.encode(), headers={"Content-Type": "application/json"}
    )


def host_url(path: str):
    return lambda http, ctx: http.post(
        "/infer/object_detection",
        json={"model_id": DETECTOR_ID, "image": {"type": "url", "value": ctx["image_host"] + path}},
    )


@functools.cache
def valid_jpeg() -> bytes:
    return make_scene(900_300).jpeg


def oversize_body():
    junk = "A" * (9 * 1024 * 1024)
    return raw_json('{"model_id": "shapes/1", "image": {"type": "base64", "value": "' + junk + '"}}')


def oversize_chunked_body():
    def send(http, ctx):
        def chunks():
            for _ in range(10):
                yield b"A" * (1024 * 1024)

        return http.post(f"/{DETECTOR_ID}", content=chunks(), headers=FORM)

    return send


def too_many_images():
    tiny = {"type": "base64", "value": b64(png_bytes(np.zeros((8, 8, 3), np.uint8)))}
    return v2([tiny] * 9)


SSRF_TARGETS = [
    "http://127.0.0.1:9001/info",
    "http://localhost/x.jpg",
    "http://[::1]/x.jpg",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/x.jpg",
    "http://192.168.1.1/x.jpg",
    "http://172.16.0.1/x.jpg",
    "http://0.0.0.0/x.jpg",
    "http://2130706433/x.jpg",
    "http://[::ffff:127.0.0.1]/x.jpg",
    "http://metadata.google.internal/x",
    "file:///etc/passwd",
    "ftp://example.com/x.jpg",
    "gopher://127.0.0.1:25/_HELO",
    "not a url",
]

TRAVERSAL_IDS = [
    "../../etc/passwd",
    "a/b/c",
    "..%2F..%2Fetc/passwd",
    "",
    "/",
    "shapes/",
    "../shapes/1",
    "shapes/1/../../x",
    "x" * 200 + "/1",
    "shapes\\1",
]

HOSTILE = [
    # pickles that would run code, and pickles that are not plain arrays
    ("pickle-os-system-legacy", legacy_numpy(pickle.dumps(_RunsShell())), {400}),
    ("pickle-os-system-v2", v2_numpy(pickle.dumps(_RunsShell())), {400}),
    ("pickle-eval-legacy", legacy_numpy(pickle.dumps(_RunsEval())), {400}),
    ("pickle-protocol0-posix-system", legacy_numpy(protocol_zero_system_pickle()), {400}),
    ("pickle-subprocess", legacy_numpy(subprocess_pickle()), {400}),
    ("pickle-builtins-exec-v2", v2_numpy(builtins_exec_pickle()), {400}),
    ("pickle-array-hiding-code", legacy_numpy(pickle.dumps(_ArrayThenShell())), {400}),
    ("pickle-object-array", legacy_numpy(object_array_pickle()), {400}),
    ("pickle-of-dict", legacy_numpy(pickle.dumps({"image": [1, 2, 3]})), {400}),
    ("pickle-string-array", legacy_numpy(pickle.dumps(np.array(["a", "b"]))), {400}),
    ("pickle-truncated", legacy_numpy(pickle.dumps(np.zeros((20, 20, 3), np.uint8))[:50]), {400}),
    ("pickle-empty", legacy_numpy(b""), {400}),
    ("pickle-5d-array", legacy_numpy(pickle.dumps(np.zeros((2, 2, 2, 2, 2), np.uint8))), {400}),
    ("numpy-not-base64-v2", v2({"type": "numpy", "value": "%%%"}), {400}),
    # server-side files
    ("type-file-etc-passwd", v2({"type": "file", "value": "/etc/passwd"}), {400}),
    (
        "type-file-real-image",
        v2({"type": "file", "value": str(Path(__file__).parents[2] / "assets/images/shapes-sample.jpg")}),
        {400},
    ),
    ("type-file-uppercase", v2({"type": "FILE", "value": "/etc/hostname"}), {400}),
    ("type-unknown", v2({"type": "pil", "value": "/etc/passwd"}), {400}),
    ("type-missing", v2({"value": "abc"}), {422}),
    # SSRF
    *[(f"ssrf-v2-{index}", v2_url(url), {400}) for index, url in enumerate(SSRF_TARGETS)],
    *[(f"ssrf-legacy-{index}", legacy_url(url), {400}) for index, url in enumerate(SSRF_TARGETS[:6])],
    ("ssrf-local-image-host", host_url("/scene.jpg"), {400}),
    ("ssrf-local-redirect", host_url("/redirect-to-metadata"), {400}),
    # model ids and path traversal
    *[
        (f"model-id-{index}", v2_base64(b"x", model_id=model_id), {400})
        for index, model_id in enumerate(TRAVERSAL_IDS)
    ],
    (
        "model-add-traversal",
        lambda http, ctx: http.post("/model/add", json={"model_id": "../../etc/passwd"}),
        {400},
    ),
    (
        "model-remove-traversal",
        lambda http, ctx: http.post("/model/remove", json={"model_id": "../x/y"}),
        {400},
    ),
    ("model-id-not-string", v2_base64(b"x", model_id=5), {422}),
    ("legacy-dotdot-dataset", legacy_body(b"abc", path="/../passwd"), {400, 404}),
    ("legacy-encoded-slash", legacy_body(b"abc", path="/..%2f..%2fetc/passwd"), {400, 404}),
    # `/shapes/..` is `/`, the page: GET only, so a POST there is 405
    ("legacy-dot-version", legacy_body(b"abc", path="/shapes/.."), {400, 404, 405}),
    ("unknown-model-v2", v2_base64(b"x", model_id="nope/1"), {404}),
    ("unknown-model-legacy", legacy_body(b"abc", path="/nope/1"), {404}),
    # decompression bombs and size caps
    ("bomb-png-v2", v2_base64(bomb_png()), {413}),
    (
        "bomb-png-multipart",
        lambda http, ctx: http.post(f"/{DETECTOR_ID}", files={"file": ("b.png", bomb_png())}),
        {413},
    ),
    ("bomb-png-wide", v2_base64(bomb_png(2_000_000, 30)), {413}),
    ("huge-numpy-array", legacy_numpy(pickle.dumps(np.zeros((7000, 7000), np.uint8))), {413}),
    ("oversize-body", oversize_body(), {413}),
    ("oversize-chunked-body", oversize_chunked_body(), {413}),
    ("too-many-images", too_many_images(), {413}),
    ("empty-image-list", v2([]), {400}),
    # malformed base64 and JSON
    ("base64-garbage", v2({"type": "base64", "value": "!!!not base64!!!"}), {400}),
    ("base64-not-an-image", v2({"type": "base64", "value": b64(b"hello world")}), {400}),
    ("base64-empty", v2({"type": "base64", "value": ""}), {400}),
    ("base64-null", v2({"type": "base64", "value": None}), {400}),
    ("base64-number", v2({"type": "base64", "value": 12345}), {400}),
    ("base64-truncated-jpeg", v2_base64(valid_jpeg()[:300]), {400}),
    ("legacy-base64-garbage", legacy_body(b"\xff\xfe\x00garbage"), {400}),
    ("legacy-empty-body", legacy_body(b""), {400}),
    ("json-malformed", raw_json("{bad json"), {422}),
    ("json-top-level-list", raw_json("[1, 2, 3]"), {422}),
    ("json-missing-model-id", raw_json('{"image": {"type": "base64", "value": "x"}}'), {422}),
    ("json-missing-image", raw_json('{"model_id": "shapes/1"}'), {422}),
    ("json-image-is-string", raw_json('{"model_id": "shapes/1", "image": "abc"}'), {422}),
    (
        "json-nan",
        raw_json('{"model_id": "shapes/1", "confidence": NaN, "image": {"type": "base64", "value": "x"}}'),
        {400, 422},
    ),
    (
        "json-deep-nesting",
        raw_json('{"model_id": "shapes/1", "x": ' + "[" * 5000 + "]" * 5000 + "}"),
        {400, 413, 422},
    ),
    ("model-add-malformed", raw_json("{", path="/model/add"), {422}),
    # bad parameters
    ("confidence-7", v2_base64(valid_jpeg(), confidence=7), {400}),
    ("confidence-negative", v2_base64(valid_jpeg(), confidence=-0.1), {400}),
    ("confidence-word", v2_base64(valid_jpeg(), confidence="high"), {422}),
    ("iou-2", v2_base64(valid_jpeg(), iou_threshold=2), {400}),
    ("max-detections-0", v2_base64(valid_jpeg(), max_detections=0), {400}),
    ("max-detections-word", v2_base64(valid_jpeg(), max_detections="many"), {422}),
    ("class-filter-string", v2_base64(valid_jpeg(), class_filter="circle"), {422}),
    ("stroke-0", v2_base64(valid_jpeg(), visualize_predictions=True, visualization_stroke_width=0), {400}),
    (
        "stroke-huge",
        v2_base64(valid_jpeg(), visualize_predictions=True, visualization_stroke_width=100000),
        {400},
    ),
    ("legacy-confidence-700", legacy_body(b64(valid_jpeg()).encode(), {"confidence": 700}), {400}),
    ("legacy-overlap-negative", legacy_body(b64(valid_jpeg()).encode(), {"overlap": -5}), {400}),
    ("legacy-format-xml", legacy_body(b64(valid_jpeg()).encode(), {"format": "xml"}), {400}),
    ("legacy-image-type-pickle", legacy_body(b64(valid_jpeg()).encode(), {"image_type": "pickle"}), {400}),
    (
        "legacy-max-detections-word",
        legacy_body(b64(valid_jpeg()).encode(), {"max_detections": "lots"}),
        {422},
    ),
    (
        "legacy-stroke-huge",
        legacy_body(b64(valid_jpeg()).encode(), {"format": "image", "stroke": 99999}),
        {400},
    ),
    (
        "legacy-multipart-without-file",
        lambda http, ctx: http.post(f"/{DETECTOR_ID}", files={"other": ("a.jpg", valid_jpeg())}),
        {400},
    ),
    (
        "legacy-multipart-file-is-text",
        lambda http, ctx: http.post(f"/{DETECTOR_ID}", data={"file": "abc"}, files={"x": ("x", b"1")}),
        {400},
    ),
    (
        "legacy-multipart-broken",
        legacy_body(b"--xx\r\nbroken", headers={"Content-Type": "multipart/form-data; boundary=xx"}),
        {400},
    ),
    ("wrong-method", lambda http, ctx: http.delete("/model/registry"), {405}),
]


@pytest.fixture(scope="module")
def context(image_host):
    MARKER.unlink(missing_ok=True)
    yield {"image_host": image_host}
    MARKER.unlink(missing_ok=True)


def test_there_are_at_least_forty_kinds():
    assert len(HOSTILE) >= 40


@pytest.mark.parametrize(
    ("send", "expected"), [pytest.param(send, expected, id=name) for name, send, expected in HOSTILE]
)
def test_hostile_input_gets_a_clear_4xx(client, context, send, expected):
    response = send(client, context)
    assert response.status_code in expected, response.text
    assert response.status_code < 500
    body = response.json()
    assert isinstance(body.get("message"), str) and body["message"], body
    assert not MARKER.exists(), "a pickle payload ran code on the server"


@pytest.mark.parametrize(
    "path", ["/redirect-to-localhost", "/redirect-to-metadata", "/loop", "/not-an-image", "/missing"]
)
def test_url_policy_and_errors_apply_on_every_redirect(permissive_server, image_host, path):
    """The permissive server may fetch 127.0.0.1, but not `localhost` or the metadata address,
    and a redirect there is refused just like a direct request."""
    with permissive_server.client() as http:
        response = http.post(
            "/infer/object_detection",
            json={"model_id": DETECTOR_ID, "image": {"type": "url", "value": image_host + path}},
        )
    assert response.status_code == 400, response.text
    assert response.json()["message"]


def odd_images() -> list[tuple[str, bytes]]:
    scene = make_scene(900_301, 160, 120).image
    rgb = cv2.cvtColor(scene, cv2.COLOR_BGR2RGB)
    gray = cv2.cvtColor(scene, cv2.COLOR_BGR2GRAY)
    rgba = np.dstack([scene, np.full(scene.shape[:2], 128, np.uint8)])
    return [
        ("1x1-png", png_bytes(np.zeros((1, 1, 3), np.uint8))),
        ("1x1-gray-png", png_bytes(np.zeros((1, 1), np.uint8))),
        ("2x3-jpeg", cv2.imencode(".jpg", np.zeros((3, 2, 3), np.uint8))[1].tobytes()),
        ("16-bit-png", png_bytes(scene.astype(np.uint16) * 257)),
        ("16-bit-gray-png", png_bytes(gray.astype(np.uint16) * 257)),
        ("rgba-png", png_bytes(rgba)),
        ("webp", cv2.imencode(".webp", scene)[1].tobytes()),
        ("grayscale-jpeg", cv2.imencode(".jpg", gray)[1].tobytes()),
        ("tiff", pil_bytes(Image.fromarray(rgb), "TIFF")),
        ("bmp", cv2.imencode(".bmp", scene)[1].tobytes()),
        ("gif", pil_bytes(Image.fromarray(rgb).convert("P"), "GIF")),
        ("palette-png", pil_bytes(Image.fromarray(rgb).convert("P"), "PNG")),
        ("wide-4000x10", png_bytes(np.full((10, 4000, 3), 200, np.uint8))),
        ("tall-10x4000", png_bytes(np.full((4000, 10, 3), 200, np.uint8))),
        ("exif-rotated-jpeg", pil_bytes(Image.fromarray(rgb), "JPEG", exif=_exif_orientation(6))),
        ("cmyk-jpeg", pil_bytes(Image.fromarray(rgb).convert("CMYK"), "JPEG")),
    ]


def _exif_orientation(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


@pytest.mark.parametrize(("name", "data"), odd_images(), ids=[name for name, _ in odd_images()])
def test_odd_but_valid_images_are_answered(client, name, data):
    response = client.post(
        "/infer/object_detection",
        json={"model_id": DETECTOR_ID, "image": {"type": "base64", "value": b64(data)}},
    )
    assert response.status_code == 200, response.text
    assert response.json()["image"]["width"] >= 1


@pytest.mark.parametrize(
    "array",
    [
        np.zeros((32, 32), np.uint8),
        np.zeros((32, 32, 4), np.uint8),
        np.random.default_rng(1).random((32, 32, 3)).astype(np.float32),
        np.zeros((32, 32, 1), np.uint16),
    ],
    ids=["gray", "bgra", "float32", "uint16-single-channel"],
)
def test_odd_but_valid_numpy_arrays_are_answered(client, array):
    response = client.post(
        f"/{DETECTOR_ID}", params={"image_type": "numpy"}, content=pickle.dumps(array), headers=FORM
    )
    assert response.status_code == 200, response.text


def test_the_server_still_serves_correctly_afterwards(server, client):
    """Run last in this module: nothing above broke the server."""
    assert server.process.poll() is None
    assert client.get("/healthz").status_code == 200
    scene = make_scene(900_302)
    predictions = predictions_of(
        client.post(
            "/infer/object_detection",
            json={"model_id": DETECTOR_ID, "image": {"type": "base64", "value": scene.base64}},
        )
    )
    assert len(predictions) >= len(scene.objects) - 1
    assert "Traceback" not in server.log()
    assert not MARKER.exists()
