"""Fixtures of the video tests: a model cache with the fixture detector, clips of moving shapes."""

from __future__ import annotations

import pytest
from inference_core import CoreSettings, build_manager
from inference_core.store import ModelStore
from moving_shapes import crossing_shapes, render_clip, write_h264
from stream_checks import CLIP_FRAMES, MODEL_ID


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory, fixture_model_path):
    cache = tmp_path_factory.mktemp("video-model-cache")
    ModelStore(cache).import_ultralytics_onnx(fixture_model_path("shapes-det-yolov8.onnx"), MODEL_ID)
    return cache


@pytest.fixture(scope="session")
def manager(model_cache):
    return build_manager(CoreSettings(model_cache_dir=model_cache, intra_op_threads=1))


@pytest.fixture(scope="session")
def model(manager):
    return manager.get(MODEL_ID)


@pytest.fixture(scope="session")
def clip():
    """Two shapes crossing the middle of a 640x480 frame in opposite directions, 40 frames at 10 fps."""
    return render_clip(crossing_shapes(), CLIP_FRAMES)


@pytest.fixture(scope="session")
def clip_file(clip, tmp_path_factory):
    return write_h264(tmp_path_factory.mktemp("clips") / "crossing.mp4", clip.frames, clip.fps)
