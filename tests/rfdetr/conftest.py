"""RF-DETR fixtures filed in Roboflow's cache layout and by `inference models import`, and a server."""

from __future__ import annotations

from pathlib import Path

import pytest
from inference_core import CoreSettings, build_manager
from inference_core.store import ModelStore
from model_dirs import roboflow_model_dir
from rfdetr_agreement import DETECTOR, IMPORTED_DETECTOR, IMPORTED_SEGMENTER, SEGMENTER
from server_harness import start_server, stop_server


@pytest.fixture(scope="session")
def rfdetr_cache(tmp_path_factory, fixture_model_path) -> Path:
    cache = tmp_path_factory.mktemp("rfdetr-cache")
    names = ["circle", "square", "triangle", "star"]
    roboflow_model_dir(cache, DETECTOR, fixture_model_path("rfdetr-det.onnx"), resize_format="Stretch to",
                       size=224, model_type="rfdetr-nano")
    roboflow_model_dir(cache, SEGMENTER, fixture_model_path("rfdetr-seg.onnx"), resize_format="Stretch to",
                       size=224, model_type="rfdetr-seg-preview", task="instance-segmentation")
    store = ModelStore(cache)
    store.import_onnx(fixture_model_path("rfdetr-det.onnx"), IMPORTED_DETECTOR, class_names=names)
    store.import_onnx(fixture_model_path("rfdetr-seg.onnx"), IMPORTED_SEGMENTER, class_names=names)
    return cache


@pytest.fixture(scope="session")
def rfdetr_manager(rfdetr_cache):
    return build_manager(CoreSettings(model_cache_dir=rfdetr_cache, intra_op_threads=1))


@pytest.fixture(scope="session")
def rfdetr_server(rfdetr_cache, tmp_path_factory):
    log_path = tmp_path_factory.mktemp("rfdetr-server") / "server.log"
    running = start_server({"MODEL_CACHE_DIR": str(rfdetr_cache), "OFFLINE_MODE": "true"}, log_path)
    yield running
    stop_server(running)
