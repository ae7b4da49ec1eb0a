"""Pre-processing options and mask decode modes on the RF-DETR fixtures."""

from __future__ import annotations

import json

import cv2
import numpy as np
from inference_core import CoreSettings, build_manager
from inference_core.models.masks import decode_coco_rle
from model_dirs import roboflow_model_dir
from rfdetr_agreement import IMAGES_DIR, SEGMENTER, box_iou, corners

SCENE = IMAGES_DIR / "scene-3.jpg"  # 400 x 300


def test_static_crop_maps_boxes_back_to_the_whole_image(tmp_path, fixture_model_path):
    crop = {"enabled": True, "x_min": 25, "y_min": 10, "x_max": 100, "y_max": 90}
    roboflow_model_dir(tmp_path, "crop/1", fixture_model_path("rfdetr-det.onnx"), resize_format="Stretch to",
                       size=224, model_type="rfdetr-nano", extra_env={"static-crop": crop})
    roboflow_model_dir(tmp_path, "plain/1", fixture_model_path("rfdetr-det.onnx"), resize_format="Stretch to",
                       size=224, model_type="rfdetr-nano")
    manager = build_manager(CoreSettings(model_cache_dir=tmp_path, intra_op_threads=1))
    image = cv2.imread(str(SCENE))
    height, width = image.shape[:2]
    x0, y0, x1, y1 = int(0.25 * width), int(0.10 * height), int(1.0 * width), int(0.90 * height)
    cropped = manager.get("plain/1").infer(np.ascontiguousarray(image[y0:y1, x0:x1]), confidence=0.15)[0].to_dict()
    whole = manager.get("crop/1").infer(image, confidence=0.15)[0].to_dict()
    assert (whole["image"]["width"], whole["image"]["height"]) == (width, height)
    assert len(whole["predictions"]) == len(cropped["predictions"]) > 0
    for ours, reference in zip(whole["predictions"], cropped["predictions"], strict=True):
        shifted = [value + offset for value, offset in zip(corners(reference), (x0, y0, x0, y0), strict=True)]
        assert ours["class"] == reference["class"]
        assert box_iou(corners(ours), shifted) > 0.99
        assert ours["confidence"] == reference["confidence"]
    # the disable flag gives the uncropped answer
    uncropped = manager.get("crop/1").infer(image, confidence=0.15, disable_preproc_static_crop=True)[0].to_dict()
    plain = manager.get("plain/1").infer(image, confidence=0.15)[0].to_dict()
    assert [p["confidence"] for p in uncropped["predictions"]] == [p["confidence"] for p in plain["predictions"]]


def test_fast_and_tradeoff_polygons_outline_the_same_masks(rfdetr_manager):
    model = rfdetr_manager.get(SEGMENTER)
    image = cv2.imread(str(SCENE))
    accurate = model.infer(image, confidence=0.15, response_mask_format="rle")[0].to_dict()["predictions"]
    compared = 0
    for mode, factor in (("fast", None), ("tradeoff", 0.5)):
        extra = {"tradeoff_factor": factor} if factor is not None else {}
        polygons = model.infer(image, confidence=0.15, mask_decode_mode=mode, **extra)[0].to_dict()["predictions"]
        assert [p["confidence"] for p in polygons] == [p["confidence"] for p in accurate]
        for with_rle, with_points in zip(accurate, polygons, strict=True):
            mask = decode_coco_rle(with_rle["rle"])
            if mask.sum() < 200 or len(with_points["points"]) < 3:
                continue  # tiny or fragmented masks of the weak fixture: nothing to outline reliably
            drawn = np.zeros(mask.shape, np.uint8)
            cv2.fillPoly(drawn, [np.round([[p["x"], p["y"]] for p in with_points["points"]]).astype(np.int32)], 1)
            inside = np.logical_and(mask, drawn).sum()
            # the coarse outline lies on the mask: most of what it encloses is mask
            assert inside / drawn.sum() >= 0.7, (mode, inside, drawn.sum(), mask.sum())
            compared += 1
    assert compared > 0


def test_inference_config_normalisation_is_used(tmp_path, fixture_model_path):
    roboflow_model_dir(tmp_path, "norm/1", fixture_model_path("rfdetr-det.onnx"), resize_format="Stretch to",
                       size=224, model_type="rfdetr-nano")
    manager = build_manager(CoreSettings(model_cache_dir=tmp_path, intra_op_threads=1))
    image = cv2.imread(str(SCENE))
    imagenet = manager.get("norm/1").infer(image, confidence=0.15)[0].to_dict()["predictions"]
    (tmp_path / "norm" / "1" / "inference_config.json").write_text(json.dumps({"network_input": {
        "resize_mode": "stretch", "normalization": [[0.485, 0.456, 0.406], [0.229, 0.224, 0.225]]}}))
    explicit = build_manager(CoreSettings(model_cache_dir=tmp_path, intra_op_threads=1)).get("norm/1")
    assert explicit.infer(image, confidence=0.15)[0].to_dict()["predictions"][0]["confidence"] == (
        imagenet[0]["confidence"]
    )
    (tmp_path / "norm" / "1" / "inference_config.json").write_text(json.dumps({"network_input": {
        "resize_mode": "stretch", "normalization": [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]}}))
    other = build_manager(CoreSettings(model_cache_dir=tmp_path, intra_op_threads=1)).get("norm/1")
    answer = other.infer(image, confidence=0.01)[0].to_dict()["predictions"]
    assert [p["confidence"] for p in answer[:5]] != [p["confidence"] for p in imagenet[:5]]
