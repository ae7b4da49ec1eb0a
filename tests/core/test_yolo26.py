"""YOLO26 in-process, both ways Ultralytics exports it (same trained weights): the NMS-free
end-to-end head (`nms=False`) and the default one-to-many head in the YOLOv8 layout. Our answers
equal Ultralytics' own predictor on the same ONNX files (tools/fixtures_models2.py reference)."""

from __future__ import annotations

import pytest
from inference_core import CoreSettings, build_manager
from inference_core.store import ModelStore
from model_dirs import roboflow_model_dir
from reference_agreement import compare_boxes, reference, reference_image, wire_boxes

EXPORTS = {  # fixture -> the layout its export holds
    "shapes-det-yolo26": "end2end",
    "shapes-det-yolo26-nms": "yolov8",
}


@pytest.fixture(scope="module")
def manager(tmp_path_factory, fixture_model_path):
    cache = tmp_path_factory.mktemp("yolo26-cache")
    store = ModelStore(cache)
    for name in EXPORTS:
        store.import_ultralytics_onnx(fixture_model_path(f"{name}.onnx"), f"{name}/1")
        # as Roboflow's cache files it: model type only, Roboflow's letterbox
        roboflow_model_dir(cache, f"{name}-rf/1", fixture_model_path(f"{name}.onnx"), model_type="yolo26n",
                           size=256)
    return build_manager(CoreSettings(model_cache_dir=cache, intra_op_threads=1))


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_yolo26_agrees_with_ultralytics_predict(manager, name):
    expected = reference(name)
    model = manager.get(f"{name}/1")
    assert model.layout.value == EXPORTS[name]
    boxes, worst_iou, worst_gap = 0, 1.0, 0.0
    for image_name, rows in expected["images"].items():
        (response,) = model.infer(
            reference_image(image_name), confidence=expected["confidence"], iou_threshold=expected["iou_threshold"]
        )
        agreement = compare_boxes(wire_boxes(response.predictions), rows)
        agreement.check(f"{name} {image_name}")
        boxes += agreement.matched
        worst_iou, worst_gap = min(worst_iou, agreement.min_iou), max(worst_gap, agreement.max_confidence_gap)
    print(f"{name}: {boxes} boxes, min IoU {worst_iou:.4f}, max confidence gap {worst_gap:.5f}")
    assert boxes >= 2 * len(expected["images"])  # weak (see tools/README.md), but it finds shapes


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_yolo26_filed_by_model_type_reads_the_export_layout(manager, name):
    """`yolo26n` alone means end-to-end; the export's own `end2end: False` wins over it."""
    assert manager.get(f"{name}-rf/1").layout.value == EXPORTS[name]
