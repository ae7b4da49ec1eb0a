"""A model cache with the committed fixture models, and the in-process manager over it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from inference_core import CoreSettings, build_manager
from inference_core.store import ModelStore
from model_dirs import held_out_scenes, roboflow_model_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))

from wf_specs import CLASSIFIER, DETECTOR, MULTI_LABEL, POSE, SEGMENTER  # noqa: E402


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory, fixture_model_path):
    cache = tmp_path_factory.mktemp("workflow-models")
    store = ModelStore(cache)
    store.import_ultralytics_onnx(fixture_model_path("shapes-det-yolov8.onnx"), DETECTOR)
    store.import_ultralytics_onnx(fixture_model_path("shapes-seg-yolov8.onnx"), SEGMENTER)
    store.import_ultralytics_onnx(fixture_model_path("shapes-pose-yolov8.onnx"), POSE)
    store.import_ultralytics_onnx(fixture_model_path("shapes-cls.onnx"), CLASSIFIER)
    directory = roboflow_model_dir(
        cache,
        MULTI_LABEL,
        fixture_model_path("shapes-multilabel.onnx"),
        resize_format="Stretch to",
        size=224,
        model_type="vit",
        task="classification",
    )
    environment = json.loads((directory / "environment.json").read_text())
    names = ["circle", "square", "triangle", "star"]
    environment.update({"MULTICLASS": True, "CLASS_MAP": {str(i): name for i, name in enumerate(names)}})
    (directory / "environment.json").write_text(json.dumps(environment))
    (directory / "class_names.txt").unlink()
    return cache


@pytest.fixture(scope="session")
def manager(model_cache):
    return build_manager(CoreSettings(model_cache_dir=model_cache, intra_op_threads=1))


@pytest.fixture(scope="session")
def scenes():
    return held_out_scenes(4, seed=910_000)
