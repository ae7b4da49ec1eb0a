"""Choosing a model architecture: by the export's metadata, Roboflow's model type, then shapes."""

from __future__ import annotations

import pytest
from inference_backend_onnx import plugin as onnx_plugin
from inference_core import CoreSettings, build_manager
from inference_core.errors import UnsupportedModelError
from inference_core.models import Match, ModelArchitecture
from inference_core.models.detection import OutputLayout, YoloDetector
from inference_core.plugins import hookimpl
from model_dirs import roboflow_model_dir


@pytest.mark.parametrize(
    ("model_id", "architecture", "layout"),
    [
        ("shapes-v8/1", "yolov8", OutputLayout.YOLOV8),  # Ultralytics import: the shape says v8
        ("shapes-rf/1", "yolov8", OutputLayout.YOLOV8),  # Roboflow's "yolov8n": the shape again
        ("shapes-v5/1", "yolov5", OutputLayout.YOLOV5),  # "yolov5n": model type
        ("shapes-e2e/1", "yolo-end2end", OutputLayout.END_TO_END),  # "yolov10n": model type
        ("shapes-seg/1", "yolov8-seg", OutputLayout.YOLOV8),
        ("shapes-seg-v5/1", "yolov5-seg", OutputLayout.YOLOV5),
        ("shapes-pose/1", "yolov8-pose", OutputLayout.YOLOV8),
        ("shapes-cls/1", "classifier", None),
    ],
)
def test_each_fixture_is_decoded_by_the_architecture_its_type_names(manager, model_id, architecture, layout):
    model = manager.get(model_id)
    assert model.architecture == architecture
    assert getattr(model, "layout", None) is layout


def test_an_unknown_model_type_is_an_unsupported_model_error_naming_it(tmp_path, fixture_model_path):
    # a classifier's (1, C) output filed as a detector of a type no architecture knows
    roboflow_model_dir(tmp_path, "nas/1", fixture_model_path("shapes-cls.onnx"), model_type="yolo_world")
    manager = build_manager(CoreSettings(model_cache_dir=tmp_path, intra_op_threads=1))
    with pytest.raises(UnsupportedModelError) as caught:
        manager.get("nas/1")
    message = caught.value.message
    assert "Unsupported model: model type 'yolo_world' (object-detection)" in message
    assert "installed for object-detection: rfdetr, yolo-end2end, yolo-nas, yolov5, yolov8" in message
    assert caught.value.status_code == 500 and not manager.is_loaded("nas/1")


class Claimer(ModelArchitecture):
    """Claims "yolov5n" exports by model type, as an RF-DETR plugin claims "rfdetr-*"."""

    name, task = "claimer", "object-detection"

    @classmethod
    def match(cls, artifact, session):
        return Match.MODEL_TYPE if artifact.model_type.startswith("claimed") else Match.NONE

    @classmethod
    def build(cls, artifact, session, image_loader):
        return YoloDetector(artifact, session, image_loader, layout=OutputLayout.YOLOV8)


class ShapeOnlyRival(Claimer):
    """Recognises every detector by its shapes only: must lose to the built-ins, registered first."""

    name = "shape-only-rival"

    @classmethod
    def match(cls, artifact, session):
        return Match.SHAPE


class ArchitecturePlugin:
    @hookimpl
    def register_model_architectures(self):
        return [Claimer, ShapeOnlyRival]


def test_a_plugin_architecture_wins_by_model_type_and_loses_ties_to_built_ins(tmp_path, fixture_model_path):
    weights = fixture_model_path("shapes-det-yolov8.onnx")
    roboflow_model_dir(tmp_path, "claimed/1", weights, model_type="claimed-x")
    roboflow_model_dir(tmp_path, "plain/1", weights, model_type="yolov8n")
    plugins = [ArchitecturePlugin(), onnx_plugin]  # an explicit list: only core's built-ins are added
    manager = build_manager(CoreSettings(model_cache_dir=tmp_path, intra_op_threads=1), plugins=plugins)
    assert manager.get("claimed/1").architecture == "claimer"
    assert manager.get("plain/1").architecture == "yolov8"


def test_a_model_without_an_nchw_input_is_unsupported_not_a_client_error(tmp_path):
    from tiny_onnx import flat_input_detector_bytes

    directory = tmp_path / "flat" / "1"
    directory.mkdir(parents=True)
    (directory / "weights.onnx").write_bytes(flat_input_detector_bytes())
    (directory / "class_names.txt").write_text("circle\nsquare\n")  # the (1, 6, 8) output fits YOLOv8
    manager = build_manager(CoreSettings(model_cache_dir=tmp_path, intra_op_threads=1))
    with pytest.raises(UnsupportedModelError, match="only image inputs laid out as NCHW"):
        manager.get("flat/1")
