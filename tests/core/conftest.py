"""Fixtures for in-process tests over the committed, trained fixture models."""

from __future__ import annotations

import pytest
from inference_core import CoreSettings, build_manager
from inference_core.store import ModelStore
from model_dirs import roboflow_model_dir


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory, fixture_model_path):
    """A cache with every fixture model, some filed in several ways."""
    cache = tmp_path_factory.mktemp("model-cache")
    store = ModelStore(cache)
    store.import_ultralytics_onnx(fixture_model_path("shapes-det-yolov8.onnx"), "shapes-v8/1")
    roboflow_model_dir(cache, "shapes-v5/1", fixture_model_path("shapes-det-yolov5.onnx"), model_type="yolov5n")
    roboflow_model_dir(cache, "shapes-e2e/1", fixture_model_path("shapes-det-end2end.onnx"), model_type="yolov10n")
    roboflow_model_dir(cache, "shapes-rf/1", fixture_model_path("shapes-det-yolov8.onnx"))
    store.import_ultralytics_onnx(fixture_model_path("shapes-seg-yolov8.onnx"), "shapes-seg/1")
    roboflow_model_dir(cache, "shapes-seg-v5/1", fixture_model_path("shapes-seg-yolov5.onnx"),
                       model_type="yolov5n-seg", task="instance-segmentation")
    store.import_ultralytics_onnx(fixture_model_path("shapes-pose-yolov8.onnx"), "shapes-pose/1")
    store.import_ultralytics_onnx(fixture_model_path("shapes-cls.onnx"), "shapes-cls/1")
    return cache


@pytest.fixture(scope="session")
def manager(model_cache):
    return build_manager(CoreSettings(model_cache_dir=model_cache, intra_op_threads=1))
