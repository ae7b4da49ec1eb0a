"""YOLO-NAS, YOLOv9/v12 and semantic segmentation in-process: our answers equal each architecture's own
reference predictor on the committed fixtures (tools/fixtures_models2.py made both)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from inference_core import CoreSettings, build_manager
from inference_core.errors import UnsupportedModelError
from inference_core.models import Match
from inference_core.models.detection import OutputLayout, layout_match
from model_dirs import roboflow_model_dir
from reference_agreement import (
    SEMANTIC_CLASSES,
    compare_boxes,
    decode_png,
    pixel_agreement,
    reference,
    reference_image,
    wire_boxes,
)

NAS_ID = "shapes-nas/1"
SEMSEG_ID, SEMSEG_LETTERBOX_ID = "shapes-semseg/1", "shapes-semseg-lb/1"
#: Share of pixels whose class id must equal the reference's (bilinear resizes of logits differ in
#: the last float bits between OpenCV and torchvision, which can flip a pixel on a class border).
MIN_PIXEL_AGREEMENT = 0.999


@pytest.fixture(scope="module")
def manager(tmp_path_factory, fixture_model_path):
    cache = tmp_path_factory.mktemp("models2-cache")
    roboflow_model_dir(cache, NAS_ID, fixture_model_path("shapes-det-yolonas.onnx"), model_type="yolo_nas_s")
    for model_id, resize in ((SEMSEG_ID, "Stretch to"), (SEMSEG_LETTERBOX_ID, "Fit (black edges) in")):
        roboflow_model_dir(cache, model_id, fixture_model_path("shapes-semseg-deeplab.onnx"), resize_format=resize,
                           model_type="deeplabv3plus", task="semantic-segmentation", class_names=SEMANTIC_CLASSES)
    roboflow_model_dir(cache, "shapes-yolact/1", fixture_model_path("shapes-seg-yolov8.onnx"), model_type="yolact",
                       task="instance-segmentation")
    for family in ("yolov9c", "yolov12n", "yolov8n"):
        roboflow_model_dir(cache, f"shapes-{family}/1", fixture_model_path("shapes-det-yolov8.onnx"),
                           model_type=family)
    return build_manager(CoreSettings(model_cache_dir=cache, intra_op_threads=1))


def check_boxes(model, model_name, **params):
    expected = reference(model_name)
    worst_iou, worst_gap, boxes = 1.0, 0.0, 0
    for name, rows in expected["images"].items():
        (response,) = model.infer(reference_image(name), confidence=expected["confidence"], **params)
        agreement = compare_boxes(wire_boxes(response.predictions), rows)
        agreement.check(f"{model_name} {name}")
        worst_iou, worst_gap = min(worst_iou, agreement.min_iou), max(worst_gap, agreement.max_confidence_gap)
        boxes += agreement.matched
    print(f"{model_name}: {boxes} boxes, min IoU {worst_iou:.4f}, max confidence gap {worst_gap:.5f}")
    assert boxes >= 2 * len(expected["images"])  # the fixture really detects shapes


def test_yolo_nas_agrees_with_the_reference_decode(manager):
    check_boxes(manager.get(NAS_ID), "shapes-det-yolonas", iou_threshold=reference("shapes-det-yolonas")["iou_threshold"])


@pytest.mark.parametrize("family", ["yolov9c", "yolov12n"])
def test_yolov9_and_yolov12_are_decoded_as_yolov8(manager, family):
    model = manager.get(f"shapes-{family}/1")
    assert model.layout.value == "yolov8"
    image = reference_image(next(iter(reference("shapes-det-yolonas")["images"])))
    theirs = model.infer(image)[0].predictions
    ours = manager.get("shapes-yolov8n/1").infer(image)[0].predictions
    assert [(p.x, p.y, p.class_name, p.confidence) for p in theirs] == [
        (p.x, p.y, p.class_name, p.confidence) for p in ours] and ours


@pytest.mark.parametrize("model_id, mode", [(SEMSEG_ID, "stretch"), (SEMSEG_LETTERBOX_ID, "letterbox")])
def test_semantic_segmentation_agrees_with_the_reference_decode(manager, model_id, mode):
    expected = reference("shapes-semseg-deeplab")
    model = manager.get(model_id)
    worst = 1.0
    for name, modes in expected["images"].items():
        image = reference_image(name)
        (response,) = model.infer(image, confidence=expected["confidence"])
        body = response.to_dict()
        prediction = body["predictions"]
        assert body["image"] == {"width": image.shape[1], "height": image.shape[0]}
        assert prediction["class_map"] == {str(index): name for index, name in enumerate(SEMANTIC_CLASSES)}
        agreement = pixel_agreement(prediction["segmentation_mask"], modes[mode]["segmentation_mask"])
        worst = min(worst, agreement)
        assert agreement >= MIN_PIXEL_AGREEMENT, f"{name}: {agreement:.5f}"
        mask = decode_png(prediction["segmentation_mask"])
        assert prediction["present_class_ids"] == sorted(np.unique(mask).tolist())
        confidence = decode_png(prediction["confidence_mask"]).astype(int)
        theirs = decode_png(modes[mode]["confidence_mask"]).astype(int)
        assert np.abs(confidence - theirs).max() <= 1  # the x 255 truncation of nearly equal floats
    print(f"semantic segmentation ({mode}): worst pixel agreement {worst:.5f}")


def test_semantic_segmentation_finds_the_shapes(manager):
    """The fixture is a real segmenter: most shape pixels get their class (measured: 0.69 of them on
    these scenes; its held-out mean IoU at the network input is 0.82, background included)."""
    from synthetic_shapes import render_scene

    model = manager.get(SEMSEG_ID)
    correct = total = 0
    for seed in range(5):
        scene = render_scene(np.random.default_rng(40_000_000 + seed), 640, 480)
        mask = decode_png(model.infer(scene.image)[0].to_dict()["predictions"]["segmentation_mask"])
        for shape in scene.objects:
            correct += int((mask[shape.mask] == shape.class_id + 1).sum())
            total += int(shape.mask.sum())
    assert correct / total >= 0.6, correct / total


def test_semantic_segmentation_threshold_collapses_to_background(manager):
    model = manager.get(SEMSEG_ID)
    image = reference_image(next(iter(reference("shapes-semseg-deeplab")["images"])))
    strict = model.infer(image, confidence=1.0)[0].to_dict()["predictions"]
    assert strict["present_class_ids"] == [0]
    assert not decode_png(strict["confidence_mask"]).any()


def test_semantic_segmentation_visualisation(manager):
    model = manager.get(SEMSEG_ID)
    image = reference_image(next(iter(reference("shapes-semseg-deeplab")["images"])))
    (response,) = model.infer(image, visualize_predictions=True)
    assert response.visualization and "class_id_map" not in json.dumps(response.to_dict())


def test_an_unsupported_model_type_is_refused_by_name(manager):
    with pytest.raises(UnsupportedModelError, match="'yolact'"):
        manager.get("shapes-yolact/1")


LAYOUT_PROOF = {  # family in the proof file -> (model type Roboflow records, layout we must pick)
    "yolov9": ("yolov9c", OutputLayout.YOLOV8),
    "yolov12": ("yolov12n", OutputLayout.YOLOV8),
    "yolov8": ("yolov8n", OutputLayout.YOLOV8),
    "yolo26": ("yolo26n", OutputLayout.YOLOV8),  # Ultralytics' default export: external NMS
    "yolo26 nms=False": ("yolo26n", OutputLayout.END_TO_END),
}


@pytest.mark.parametrize("family", sorted(LAYOUT_PROOF))
def test_real_ultralytics_exports_get_their_layout(family, assets_dir):
    """Output shapes and `end2end` flags of graphs Ultralytics itself exported
    (tools/fixtures_yolo26.py layouts), read back through our layout choice."""
    proof = json.loads((assets_dir / "models" / "ultralytics-layouts.json").read_text())[family]
    (shape,) = proof["outputs"].values()
    model_type, expected = LAYOUT_PROOF[family]
    end2end = {"True": True, "False": False}[proof["end2end"]]
    matches = {
        layout: layout_match(layout, tuple(shape), proof["classes"], 0, model_type, end2end) for layout in OutputLayout
    }
    assert max(matches, key=lambda layout: matches[layout]) is expected, matches
    assert matches[expected] > Match.NONE
