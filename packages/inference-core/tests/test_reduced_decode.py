"""REDUCED_JPEG_DECODE: large JPEGs decoded at 1/2-1/8 size behind the same gate, boxes in original pixels."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from inference_core.api import build_manager
from inference_core.errors import PayloadTooLargeError
from inference_core.images import ImageLoader
from inference_core.settings import CoreSettings, ImageLimits
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "support"))
from scene_matching import iou, match_scene, prediction_box  # noqa: E402
from synthetic_shapes import render_scene  # noqa: E402


def letterbox_target(network: int):
    def target(width: int, height: int) -> tuple[float, float]:
        scale = min(network / width, network / height)
        return width * scale, height * scale

    return target


def jpeg(image: np.ndarray, orientation: int | None = None) -> bytes:
    picture = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    buffer = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    picture.save(buffer, "JPEG", quality=92, exif=exif.tobytes())
    return buffer.getvalue()


@pytest.fixture(scope="module")
def large_scene():
    return render_scene(np.random.default_rng(60_000_001), width=2560, height=1440, min_objects=4, max_objects=6)


def test_a_large_jpeg_is_decoded_reduced_and_reports_its_full_size(large_scene):
    loader = ImageLoader(reduced_jpeg_decode=True)
    pixels, size = loader.load_for_network(jpeg(large_scene.image), True, letterbox_target(320))
    # 2560x1440 into 320: resized to 320x180, kept >= twice that: 1/4 (640x360)
    assert size == (2560, 1440)
    assert pixels.shape == (360, 640, 3)
    full, full_size = ImageLoader().load_for_network(jpeg(large_scene.image), True, letterbox_target(320))
    assert full.shape == (1440, 2560, 3) and full_size == size


def test_the_reduced_pixels_are_libjpegs_scaled_decode(large_scene):
    """The same pixels as OpenCV's reduced decode and Pillow's draft (libjpeg's DCT scaling)."""
    data = jpeg(large_scene.image)
    pixels, _ = ImageLoader(reduced_jpeg_decode=True).load_for_network(data, True, letterbox_target(320))
    opencv = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_COLOR_4)
    np.testing.assert_array_equal(pixels, opencv)
    drafted = Image.open(io.BytesIO(data))
    drafted.draft("RGB", (640, 360))
    np.testing.assert_array_equal(pixels, np.asarray(drafted.convert("RGB"))[..., ::-1])


def test_exif_rotation_is_applied_to_the_reduced_image(large_scene):
    loader = ImageLoader(reduced_jpeg_decode=True)
    pixels, size = loader.load_for_network(jpeg(large_scene.image, orientation=6), True, letterbox_target(320))
    assert size == (1440, 2560), "upright full size: rotated a quarter turn"
    assert pixels.shape == (640, 360, 3)
    upright = cv2.rotate(cv2.resize(large_scene.image, (640, 360), interpolation=cv2.INTER_AREA), cv2.ROTATE_90_CLOCKWISE)
    assert np.abs(pixels.astype(int) - upright.astype(int)).mean() < 6


def test_small_jpegs_and_other_formats_are_decoded_at_full_size(large_scene):
    loader = ImageLoader(reduced_jpeg_decode=True)
    small = cv2.resize(large_scene.image, (600, 340))
    pixels, size = loader.load_for_network(jpeg(small), True, letterbox_target(320))
    assert pixels.shape == (340, 600, 3) and size == (600, 340)
    png = cv2.imencode(".png", large_scene.image)[1].tobytes()
    pixels, size = loader.load_for_network(png, True, letterbox_target(320))
    assert pixels.shape == (1440, 2560, 3) and size == (2560, 1440)
    array_pixels, array_size = loader.load_for_network(small, True, letterbox_target(320))
    assert array_pixels.shape == small.shape and array_size == (600, 340)


def test_the_gate_still_refuses_a_jpeg_over_the_pixel_cap_before_any_reduced_decode(large_scene):
    loader = ImageLoader(ImageLimits(max_pixels=2560 * 1440 - 1), reduced_jpeg_decode=True)
    with pytest.raises(PayloadTooLargeError):
        loader.load_for_network(jpeg(large_scene.image), True, letterbox_target(320))


def test_detections_on_a_large_frame_keep_original_pixels_and_the_objects(tmp_path, fixture_model_path, large_scene):
    data = jpeg(large_scene.image)
    answers = {}
    for reduced in (False, True):
        settings = CoreSettings(model_cache_dir=tmp_path / "cache", backend="onnx", reduced_jpeg_decode=reduced)
        manager = build_manager(settings)
        if not manager.store.has("shapes/1"):
            manager.store.import_ultralytics_onnx(fixture_model_path("shapes-det-yolov8.onnx"), "shapes/1")
        answers[reduced] = manager.get("shapes/1").infer(data, confidence=0.5)[0]
    full, reduced = answers[False], answers[True]
    assert (reduced.image.width, reduced.image.height) == (2560, 1440)
    found_full = match_scene(large_scene.objects, full.predictions)[0]
    found_reduced = match_scene(large_scene.objects, reduced.predictions)[0]
    assert found_full >= len(large_scene.objects) - 1
    assert found_reduced >= found_full - 1
    for prediction in reduced.predictions:  # each reduced-decode box is near a full-decode box
        best = max((iou(prediction_box(prediction), prediction_box(other)) for other in full.predictions), default=0)
        assert best >= 0.8


def test_setting_from_environment():
    assert CoreSettings.from_env({}).reduced_jpeg_decode is False
    assert CoreSettings.from_env({"REDUCED_JPEG_DECODE": "true"}).reduced_jpeg_decode is True
