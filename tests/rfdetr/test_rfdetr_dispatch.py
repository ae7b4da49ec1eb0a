"""Dispatch by model_type, the importer's recognition of RF-DETR exports, and clear refusals."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from inference_core import CoreSettings, build_manager, tasks
from inference_core.errors import InvalidInputError, UnsupportedModelError
from inference_core.models.rfdetr import RFDetrDetector, RFDetrSegmenter
from inference_core.store import ModelStore
from model_dirs import roboflow_model_dir
from rfdetr_agreement import DETECTOR, IMPORTED_DETECTOR, IMPORTED_SEGMENTER, SEGMENTER
from tiny_onnx import tiny_detector_bytes


def test_roboflow_layout_and_imports_pick_the_rfdetr_classes(rfdetr_manager):
    assert isinstance(rfdetr_manager.get(DETECTOR), RFDetrDetector)
    assert isinstance(rfdetr_manager.get(SEGMENTER), RFDetrSegmenter)
    assert type(rfdetr_manager.get(IMPORTED_DETECTOR)) is RFDetrDetector
    assert isinstance(rfdetr_manager.get(IMPORTED_SEGMENTER), RFDetrSegmenter)


def test_import_files_an_rfdetr_export(rfdetr_cache):
    store = ModelStore(rfdetr_cache)
    detector, segmenter = store.read(IMPORTED_DETECTOR), store.read(IMPORTED_SEGMENTER)
    assert (detector.task, detector.model_type) == (tasks.OBJECT_DETECTION, "rfdetr")
    assert (segmenter.task, segmenter.model_type) == (tasks.INSTANCE_SEGMENTATION, "rfdetr")
    assert detector.class_names == ["circle", "square", "triangle", "star"]
    assert (detector.environment.resize_width, detector.environment.resize_height) == (224, 224)
    assert detector.environment.preprocessing.resize_mode == "Stretch to"


def test_import_without_class_names_says_so(tmp_path, fixture_model_path):
    with pytest.raises(InvalidInputError, match="RF-DETR export.*class names"):
        ModelStore(tmp_path).import_onnx(fixture_model_path("rfdetr-det.onnx"), "x/1")
    with pytest.raises(InvalidInputError, match="6 class names.*5 classes"):
        ModelStore(tmp_path).import_onnx(fixture_model_path("rfdetr-det.onnx"), "x/1", class_names=list("abcdef"))


def test_import_refuses_an_export_it_cannot_tell(tmp_path):
    unknown = tmp_path / "mystery.onnx"
    unknown.write_bytes(tiny_detector_bytes(ultralytics_metadata=False))
    with pytest.raises(InvalidInputError, match="Cannot tell what kind of export mystery.onnx is"):
        ModelStore(tmp_path / "cache").import_onnx(unknown, "x/1")


def test_cli_import_with_class_names(tmp_path, fixture_model_path):
    names = tmp_path / "names.txt"
    names.write_text("circle\nsquare\ntriangle\nstar\n")
    cli = "from inference_server.cli.main import main; raise SystemExit(main())"
    command = [sys.executable, "-c", cli, "models", "--cache-dir", str(tmp_path / "cache"), "import",
               str(fixture_model_path("rfdetr-seg.onnx")), "--model-id", "seg/3", "--class-names", str(names)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "instance-segmentation, 4 classes" in done.stdout
    refused = subprocess.run(command[:-2] + ["--overwrite"], capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0 and "class names" in refused.stderr


@pytest.mark.parametrize(("model_type", "task"), [
    ("rfdetr-keypoint-preview", "keypoint-detection"),
    ("rfdetr-nas", "object-detection"),
    ("rfdetr-seg-preview", "object-detection"),
])
def test_unsupported_rfdetr_types_are_refused_by_name(tmp_path, fixture_model_path, model_type, task):
    roboflow_model_dir(tmp_path, "odd/1", fixture_model_path("rfdetr-det.onnx"), resize_format="Stretch to",
                       size=224, model_type=model_type, task=task)
    manager = build_manager(CoreSettings(model_cache_dir=tmp_path, intra_op_threads=1))
    with pytest.raises(UnsupportedModelError, match=model_type):
        manager.get("odd/1")


def test_unsupported_type_on_the_server_names_it(rfdetr_cache, rfdetr_server, fixture_model_path):
    roboflow_model_dir(rfdetr_cache, "odd-kp/1", fixture_model_path("rfdetr-det.onnx"), resize_format="Stretch to",
                       size=224, model_type="rfdetr-keypoint-preview", task="keypoint-detection")
    with rfdetr_server.client() as client:
        response = client.post("/infer/keypoints_detection", json={
            "model_id": "odd-kp/1", "image": {"type": "base64", "value": "aGVsbG8="},
        })
    assert response.status_code >= 400
    assert "rfdetr-keypoint-preview" in response.json()["message"]


def test_letterboxed_rfdetr_is_refused_not_misread(tmp_path, fixture_model_path):
    roboflow_model_dir(tmp_path, "boxed/1", fixture_model_path("rfdetr-det.onnx"), size=224,
                       model_type="rfdetr-base")
    manager = build_manager(CoreSettings(model_cache_dir=tmp_path, intra_op_threads=1))
    with pytest.raises(UnsupportedModelError, match="Fit \\(grey edges\\) in"):
        manager.get("boxed/1")
    (tmp_path / "boxed" / "1" / "environment.json").write_text(json.dumps(
        {"PREPROCESSING": {"resize": {"enabled": True, "width": 224, "height": 224, "format": "Stretch to"}}}))
    assert isinstance(build_manager(CoreSettings(model_cache_dir=tmp_path, intra_op_threads=1)).get("boxed/1"),
                      RFDetrDetector)
