"""The client against a real server process: every method, sync and async.

Two kinds of checks. Exactness: what the client returns equals what the server answers to the
same encoded image sent by hand over the wire (`raw_detect`), so encoding, routing, batching,
ordering and parsing are proven without trusting the model. Meaning: predictions are compared
with the ground truth of `tools/synthetic_shapes.py` scenes, in aggregate (the fixture model is
small; a test of the client should not fail because the model misses one shape).
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import subprocess
import sys

import httpx
import numpy as np
import pytest
from inference_sdk import InferenceConfiguration, InferenceHTTPClient
from inference_sdk.http.entities import HTTPClientMode
from inference_sdk.http.errors import HTTPCallErrorError, HTTPServerConnectionError
from inference_sdk.http.protocol import RetryPolicy
from PIL import Image
from scene_matching import match_scene
from synthetic_shapes import render_scene

DETECTOR_ID = "shapes/1"
SEEDS = [900_201, 900_202, 900_203, 900_204, 900_205, 900_206]
SIZES = [(640, 480), (480, 640), (517, 333), (800, 450), (320, 320), (640, 360)]
MIN_RECALL = 0.75  # share of ground-truth shapes found (IoU >= 0.5, right class) across scenes


def scene(index: int, width: int | None = None, height: int | None = None):
    default_width, default_height = SIZES[index % len(SIZES)]
    seed = SEEDS[index % len(SEEDS)] + 1000 * (index // len(SEEDS))
    return render_scene(np.random.default_rng(seed), width or default_width, height or default_height)


def jpeg_bytes(image_bgr: np.ndarray) -> bytes:
    """The client's own encoding of a BGR array (Pillow, quality 95), for the raw reference."""
    buffer = io.BytesIO()
    Image.fromarray(image_bgr[:, :, ::-1]).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def raw_detect(api_url: str, encoded: bytes) -> dict:
    """The server's answer to `encoded`, sent by hand as docs/WIRE.md §3 describes."""
    body = {"model_id": DETECTOR_ID, "image": {"type": "base64", "value": base64.b64encode(encoded).decode()}}
    response = httpx.post(f"{api_url}/infer/object_detection", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def boxes_of(result: dict) -> list[tuple]:
    """A result's predictions without their per-request ids and timings."""
    items = result["predictions"]
    return sorted((item["class"], item["x"], item["y"], item["width"], item["height"]) for item in items)


def assert_same_boxes(result: dict, reference: dict, tolerance: float = 1.0) -> None:
    """Same classes and boxes, to a pixel (batched and single runs may round differently)."""
    got, expected = boxes_of(result), boxes_of(reference)
    assert len(got) == len(expected), (got, expected)
    for mine, theirs in zip(got, expected, strict=True):
        assert mine[0] == theirs[0] and np.allclose(mine[1:], theirs[1:], atol=tolerance), (got, expected)


def assert_finds_most(pairs, min_iou: float = 0.5) -> None:
    """Across (ground-truth objects, result) pairs, most shapes are found and few are invented."""
    found = false_positives = total = 0
    for objects, result in pairs:
        hits, _, extra = match_scene(objects, result["predictions"], min_iou=min_iou)
        found, false_positives, total = found + hits, false_positives + extra, total + len(objects)
    assert found >= MIN_RECALL * total, (found, total)
    assert false_positives <= (1 - MIN_RECALL) * total, (false_positives, total)


@pytest.fixture
def client(api_url) -> InferenceHTTPClient:
    with InferenceHTTPClient(api_url=api_url, api_key="any-key") as client:
        yield client


# --- the seed's snippet, unchanged -------------------------------------------------------------

SEED_SNIPPET = """
import json, sys
from inference_sdk import InferenceHTTPClient

client = InferenceHTTPClient(api_url=sys.argv[1], api_key="YOUR_API_KEY")
result = client.infer(sys.argv[2], model_id="shapes/1")
print(json.dumps(result))
"""


def test_seed_snippet_runs_unchanged(api_url, tmp_path):
    shapes = scene(0)
    image_path = tmp_path / "scene.jpg"
    image_path.write_bytes(jpeg_bytes(shapes.image))
    finished = subprocess.run([sys.executable, "-c", SEED_SNIPPET, api_url, str(image_path)],
                              capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    result = json.loads(finished.stdout)
    assert result["image"] == {"width": 640, "height": 480}
    assert_same_boxes(result, raw_detect(api_url, image_path.read_bytes()))
    assert_finds_most([(shapes.objects, result)])


# --- inference: every input form, both API modes ------------------------------------------------

@pytest.mark.parametrize("form", ["numpy", "pil", "path", "base64", "bytes"])
def test_every_input_form_reaches_the_server_intact(client, api_url, tmp_path, form):
    shapes = scene(1)
    encoded = jpeg_bytes(shapes.image)
    (tmp_path / "scene.jpg").write_bytes(encoded)
    inputs = {
        "numpy": shapes.image,
        "pil": Image.fromarray(shapes.image[:, :, ::-1]),
        "path": str(tmp_path / "scene.jpg"),
        "base64": base64.b64encode(encoded).decode(),
        "bytes": encoded,
    }
    result = client.infer(inputs[form], model_id=DETECTOR_ID)
    assert result["image"] == {"width": 480, "height": 640}
    assert_same_boxes(result, raw_detect(api_url, encoded))  # arrays and PIL encode to these bytes
    assert_finds_most([(shapes.objects, result)])


def test_url_input_is_downloaded_by_the_client(client, api_url, image_host):
    base_url, files = image_host
    shapes = scene(2)
    files["/scene.jpg"] = jpeg_bytes(shapes.image)
    # The server's URL policy refuses 127.0.0.1; the client fetches it and sends base64.
    result = client.infer(f"{base_url}/scene.jpg", model_id=DETECTOR_ID)
    assert_same_boxes(result, raw_detect(api_url, files["/scene.jpg"]))


def test_an_alias_reaches_the_model_it_stands_for(client):
    """As with Roboflow's client: `yolov8n-640` is sent, loaded and listed as `coco/3`."""
    shapes = scene(5)
    client.unload_all_models()
    result = client.infer(shapes.image, model_id="yolov8n-640")
    assert_same_boxes(result, client.infer(shapes.image, model_id="coco/3"))
    assert [model.model_id for model in client.list_loaded_models().models] == ["coco/3"]
    assert client.get_model_description("yolov8n-640").model_id == "coco/3"


def test_the_client_and_the_server_resolve_aliases_through_one_table():
    import inference_core.model_aliases
    import inference_sdk.model_aliases

    # one file in the repository (the SDK's is a link to core's), so one table when installed
    assert inference_sdk.model_aliases.MODEL_ALIASES == inference_core.model_aliases.MODEL_ALIASES
    assert len(inference_core.model_aliases.MODEL_ALIASES) >= 150  # Roboflow's public table, not a sample
    assert inference_sdk.model_aliases.resolve_alias("yolov8n-seg-640") == "coco-dataset-vdnr1/2"
    assert inference_sdk.model_aliases.resolve_alias("shapes/1") == "shapes/1"


def test_legacy_route_gives_the_same_predictions(client):
    shapes = scene(3)
    v1_result = client.infer(shapes.image, model_id=DETECTOR_ID)
    with client.use_api_v0():
        assert client.client_mode is HTTPClientMode.V0
        v0_result = client.infer(shapes.image, model_id=DETECTOR_ID)
    assert v0_result["image"] == v1_result["image"]
    assert_same_boxes(v0_result, v1_result)


@pytest.mark.parametrize(("batch", "concurrency"), [(1, 1), (1, 4), (3, 2), (8, 1)])
def test_lists_come_back_in_input_order(client, api_url, batch, concurrency):
    scenes = [scene(index) for index in range(8)]
    client.configure(InferenceConfiguration(max_batch_size=batch, max_concurrent_requests=concurrency))
    results = client.infer([shapes.image for shapes in scenes], model_id=DETECTOR_ID)
    assert len(results) == len(scenes)
    for shapes, result in zip(scenes, results, strict=True):
        assert result["image"] == {"width": shapes.image.shape[1], "height": shapes.image.shape[0]}
        assert_same_boxes(result, raw_detect(api_url, jpeg_bytes(shapes.image)))
    assert_finds_most([(shapes.objects, result) for shapes, result in zip(scenes, results, strict=True)])


def test_async_infer_matches_sync(client):
    scenes = [scene(index) for index in range(4)]
    client.configure(InferenceConfiguration(max_concurrent_requests=4))
    images = [shapes.image for shapes in scenes]
    sync_results = client.infer(images, model_id=DETECTOR_ID)

    async def run_all():
        together = await client.infer_async(images, model_id=DETECTOR_ID)
        one_by_one = await asyncio.gather(
            *(client.infer_async(image, model_id=DETECTOR_ID) for image in images))
        with client.use_api_v0():
            legacy = await client.infer_async(images[0], model_id=DETECTOR_ID)
        return together, one_by_one, legacy

    together, one_by_one, legacy = asyncio.run(run_all())
    for expected, first, second in zip(sync_results, together, one_by_one, strict=True):
        assert_same_boxes(first, expected)
        assert_same_boxes(second, expected)
    assert_same_boxes(legacy, sync_results[0])


# --- configuration reaches the server ----------------------------------------------------------

def test_detection_parameters_take_effect(client):
    shapes = scene(7)  # four shapes
    everything = client.infer(shapes.image, model_id=DETECTOR_ID)["predictions"]
    wanted = everything[0]["class"]
    with client.use_configuration(InferenceConfiguration(class_filter=[wanted])):
        filtered = client.infer(shapes.image, model_id=DETECTOR_ID)["predictions"]
    assert filtered and {item["class"] for item in filtered} == {wanted}
    with client.use_configuration(InferenceConfiguration(max_detections=1, confidence_threshold=0.05)):
        assert len(client.infer(shapes.image, model_id=DETECTOR_ID)["predictions"]) == 1
    with client.use_configuration(InferenceConfiguration(confidence_threshold=0.999)):
        strict = client.infer(shapes.image, model_id=DETECTOR_ID)["predictions"]
    assert all(item["confidence"] >= 0.999 for item in strict)


def test_visualisation_in_every_format(client):
    shapes = scene(1)
    for output, check in [("base64", lambda value: Image.open(io.BytesIO(base64.b64decode(value))).size),
                          ("numpy", lambda value: (value.shape[1], value.shape[0])),
                          ("pillow", lambda value: value.size)]:
        config = InferenceConfiguration(visualize_predictions=True, output_visualisation_format=output)
        with client.use_configuration(config):
            result = client.infer(shapes.image, model_id=DETECTOR_ID)
        assert check(result["visualization"]) == (480, 640)


def test_legacy_format_image_answers_the_drawing(client):
    shapes = scene(2)
    config = InferenceConfiguration(format="image", output_visualisation_format="numpy")
    with client.use_api_v0(), client.use_configuration(config):
        result = client.infer(shapes.image, model_id=DETECTOR_ID)
    assert set(result) == {"visualization"} and result["visualization"].shape == shapes.image.shape


def test_client_downsizing_maps_boxes_back_to_the_original_image(client, api_url):
    scenes = [scene(index, width=1920, height=1440) for index in range(4)]
    model = client.get_model_description(DETECTOR_ID)
    ratio = min(model.input_width / 1920, model.input_height / 1440)
    sent_size = (round(1920 * ratio), round(1440 * ratio))
    with client.use_configuration(InferenceConfiguration(client_downsizing_disabled=False)):
        results = client.infer([shapes.image for shapes in scenes], model_id=DETECTOR_ID)
    for shapes, result in zip(scenes, results, strict=True):
        assert result["image"] == {"width": 1920, "height": 1440}
        # What the server says about the image shrunk as the client shrinks it, scaled back up.
        shrunk = Image.fromarray(shapes.image[:, :, ::-1]).resize(sent_size, Image.Resampling.BILINEAR)
        small = raw_detect(api_url, jpeg_bytes(np.asarray(shrunk)[:, :, ::-1]))
        for item in small["predictions"]:
            for key, size, sent in (("x", 1920, sent_size[0]), ("width", 1920, sent_size[0]),
                                    ("y", 1440, sent_size[1]), ("height", 1440, sent_size[1])):
                item[key] = item[key] * size / sent
        assert_same_boxes(result, small, tolerance=1e-6)
    assert_finds_most([(shapes.objects, result) for shapes, result in zip(scenes, results, strict=True)])


# --- model management, sync and async ---------------------------------------------------------

def test_model_management(client):
    assert client.get_server_info().version
    assert client.unload_all_models().models == []
    assert client.list_loaded_models().models == []
    loaded = client.load_model(DETECTOR_ID, set_as_default=True)
    assert [model.model_id for model in loaded.models] == [DETECTOR_ID]
    assert client.selected_model == DETECTOR_ID
    description = client.get_model_description(DETECTOR_ID, allow_loading=False)
    assert description.task_type == "object-detection" and description.input_width
    assert client.infer(scene(0).image)["predictions"]  # the selected model
    assert client.unload_model(DETECTOR_ID).models == [] and client.selected_model is None
    assert client.get_model_description(DETECTOR_ID).model_id == DETECTOR_ID  # loads it again


def test_model_management_async(client):
    async def scenario():
        info = await client.get_server_info_async()
        await client.unload_all_models_async()
        empty = await client.list_loaded_models_async()
        description = await client.get_model_description_async(DETECTOR_ID)  # loads it
        await client.load_model_async(DETECTOR_ID, set_as_default=True)
        listed = await client.list_loaded_models_async()
        removed = await client.unload_model_async(DETECTOR_ID)
        return info, empty, description, listed, removed

    info, empty, description, listed, removed = asyncio.run(scenario())
    assert info.name and empty.models == [] and description.task_type == "object-detection"
    assert [model.model_id for model in listed.models] == [DETECTOR_ID] and removed.models == []


# --- errors ------------------------------------------------------------------------------------

def test_unknown_model_is_404(client):
    with pytest.raises(HTTPCallErrorError) as caught:
        client.infer(scene(0).image, model_id="no-such/9")
    assert caught.value.status_code == 404 and "no-such/9" in caught.value.api_message


def test_undecodable_image_is_400(client):
    with pytest.raises(HTTPCallErrorError) as caught:
        client.infer(base64.b64encode(b"not an image").decode(), model_id=DETECTOR_ID)
    assert caught.value.status_code == 400 and caught.value.api_message


def test_stopped_server_is_a_connection_error():
    import server_harness

    client = InferenceHTTPClient(f"http://127.0.0.1:{server_harness.free_port()}",
                                 retry=RetryPolicy(interval=0.05))
    with pytest.raises(HTTPServerConnectionError):
        client.get_server_info()


def test_api_keys_on_a_key_protected_server(keyed_api_url):
    shapes = scene(0)
    with pytest.raises(HTTPCallErrorError) as caught:
        InferenceHTTPClient(keyed_api_url, api_key="wrong").infer(shapes.image, model_id=DETECTOR_ID)
    assert caught.value.status_code == 401
    reference = None
    for transport in ("legacy", "both", "header"):
        client = InferenceHTTPClient(keyed_api_url, api_key="secret-key-2")
        client.configure(InferenceConfiguration(api_key_transport=transport))
        result = client.infer(shapes.image, model_id=DETECTOR_ID)
        reference = reference or result
        assert_same_boxes(result, reference)
        with client.use_api_v0():
            assert_same_boxes(client.infer(shapes.image, model_id=DETECTOR_ID), reference)
        assert client.unload_all_models().models == []
    assert_finds_most([(shapes.objects, reference)])


# --- infer_on_stream ---------------------------------------------------------------------------

def test_infer_on_stream_over_an_image_folder(client, tmp_path):
    scenes = [scene(index) for index in range(4)]
    for index, shapes in enumerate(scenes):
        (tmp_path / f"frame_{index}.jpg").write_bytes(jpeg_bytes(shapes.image))
    seen = list(client.infer_on_stream(str(tmp_path), model_id=DETECTOR_ID))
    names = [reference.rsplit("/", 1)[-1] for reference, _, _ in seen]
    assert names == [f"frame_{index}.jpg" for index in range(4)]
    for shapes, (_, frame, prediction) in zip(scenes, seen, strict=True):
        assert frame.shape == shapes.image.shape
        assert_same_boxes(prediction, client.infer(frame, model_id=DETECTOR_ID))
    predictions = [prediction for _, _, prediction in seen]
    assert_finds_most([(shapes.objects, result) for shapes, result in zip(scenes, predictions, strict=True)])


def test_infer_on_stream_over_a_video_file(client, tmp_path):
    cv2 = pytest.importorskip("cv2", reason="OpenCV is the optional extra that reads video")
    scenes = [scene(index, 640, 480) for index in range(4)]
    path = str(tmp_path / "clip.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 5, (640, 480))
    for shapes in scenes:
        writer.write(shapes.image)
    writer.release()
    seen = list(client.infer_on_stream(path, model_id=DETECTOR_ID))
    assert [reference for reference, _, _ in seen] == [0, 1, 2, 3]
    assert all(frame.shape == (480, 640, 3) for _, frame, _ in seen)
    predictions = [prediction for _, _, prediction in seen]
    assert_finds_most([(shapes.objects, result) for shapes, result in zip(scenes, predictions, strict=True)])


def test_statuses_the_server_sends_raise_typed_errors(client):
    """Each is still an HTTPCallErrorError (Roboflow's `except` blocks keep working), but typed."""
    from inference_sdk.http.errors import BadRequestError, ModelNotFoundError

    shapes = scene(6)
    with pytest.raises(ModelNotFoundError) as missing:
        client.infer(shapes.image, model_id="no-such-model/1")
    assert isinstance(missing.value, HTTPCallErrorError) and missing.value.status_code == 404
    with client.use_configuration(InferenceConfiguration(confidence_threshold=-0.5)):
        with pytest.raises(BadRequestError) as refused:
            client.infer(shapes.image, model_id=DETECTOR_ID)
    assert refused.value.status_code == 400 and "confidence must be" in refused.value.api_message
