"""The in-process API's behaviour over a real ONNX Runtime session and a trained detector."""

from __future__ import annotations

import json

import numpy as np
import pytest
from inference_core import CoreSettings, build_manager
from inference_core.errors import InvalidInputError, InvalidModelIdError, ModelNotFoundError
from model_dirs import held_out_scenes, roboflow_model_dir

SCENES = held_out_scenes(6, seed=910_000)


def test_a_list_gives_one_response_per_image_in_order_and_matches_single_calls(manager):
    model = manager.get("shapes-v8/1")
    batch = model.infer([scene.image for scene in SCENES])
    assert len(batch) == len(SCENES)
    for scene, response in zip(SCENES, batch):
        single = model.infer(scene.image)[0]
        assert [p.to_dict()["class"] for p in response.predictions] == [p.class_name for p in single.predictions]
        assert [(p.x, p.y) for p in response.predictions] == [(p.x, p.y) for p in single.predictions]
        assert (response.image.width, response.image.height) == (scene.image.shape[1], scene.image.shape[0])


def test_fixed_batch_model_takes_lists(manager):
    model = manager.get("shapes-v5/1")
    assert model.batch_size == 1
    responses = model.infer([scene.image for scene in SCENES[:3]])
    assert len(responses) == 3 and all(response.predictions for response in responses)


def test_wire_fields_rounding_and_sorting(manager):
    response = manager.get("shapes-v8/1").infer(SCENES[0].image, confidence=0.3)[0]
    body = response.to_dict()
    assert set(body) == {"image", "predictions", "inference_id", "time"}
    assert body["time"] > 0 and len(body["inference_id"]) == 36
    confidences = [p["confidence"] for p in body["predictions"]]
    assert confidences == sorted(confidences, reverse=True)
    for prediction in body["predictions"]:
        assert set(prediction) == {"x", "y", "width", "height", "confidence", "class", "class_id", "detection_id"}
        assert prediction["width"] == int(prediction["width"]) and prediction["height"] == int(prediction["height"])
        assert (prediction["x"] * 2) == int(prediction["x"] * 2)
    json.dumps(body)


def overlapping_pair(predictions, threshold: float) -> bool:
    """Whether two predictions (of any classes) overlap by more than `threshold` IoU."""
    boxes = [(p.x - p.width / 2, p.y - p.height / 2, p.x + p.width / 2, p.y + p.height / 2) for p in predictions]
    for index, first in enumerate(boxes):
        for second in boxes[index + 1 :]:
            width = min(first[2], second[2]) - max(first[0], second[0])
            height = min(first[3], second[3]) - max(first[1], second[1])
            inter = max(width, 0) * max(height, 0)
            union = (first[2] - first[0]) * (first[3] - first[1]) + (second[2] - second[0]) * (second[3] - second[1])
            if union > 0 and inter / (union - inter) > threshold:
                return True
    return False


def test_confidence_max_detections_class_filter_and_agnostic_nms(manager):
    model = manager.get("shapes-v8/1")
    image = SCENES[1].image
    everything = model.infer(image, confidence=0.05)[0].predictions
    confident = model.infer(image, confidence=0.5)[0].predictions
    assert len(everything) >= len(confident) >= 1
    assert all(p.confidence >= 0.5 for p in confident)
    assert len(model.infer(image, confidence=0.05, max_detections=1)[0].predictions) == 1
    wanted = confident[0].class_name
    filtered = model.infer(image, confidence=0.05, class_filter=[wanted])[0].predictions
    assert filtered and {p.class_name for p in filtered} == {wanted}
    # at a very low threshold per-class NMS keeps boxes of different classes on one shape (the
    # default IoU threshold is 0.3); agnostic NMS keeps only one of them
    per_class = model.infer(image, confidence=0.001)[0].predictions
    assert overlapping_pair(per_class, 0.3), "the scene shows no cross-class duplicates to remove"
    agnostic = model.infer(image, confidence=0.001, class_agnostic_nms=True)[0].predictions
    assert agnostic and not overlapping_pair(agnostic, 0.3) and len(agnostic) < len(per_class)
    with pytest.raises(InvalidInputError):
        model.infer(image, confidence=2.0)


def test_static_crop_boxes_are_offset_into_the_original(tmp_path, fixture_model_path):
    crop = {"static-crop": {"enabled": True, "x_min": 50, "y_min": 0, "x_max": 100, "y_max": 100}}
    roboflow_model_dir(tmp_path, "cropped/1", fixture_model_path("shapes-det-yolov8.onnx"), extra_env=crop)
    model = build_manager(CoreSettings(model_cache_dir=tmp_path, intra_op_threads=1)).get("cropped/1")
    scene = SCENES[0]
    height, width = scene.image.shape[:2]
    response = model.infer(scene.image, confidence=0.5)[0]
    assert (response.image.width, response.image.height) == (width, height)
    assert all(p.x - p.width / 2 >= width // 2 for p in response.predictions)
    uncropped = model.infer(scene.image, confidence=0.5, disable_preproc_static_crop=True)[0]
    assert len(uncropped.predictions) >= len(response.predictions)


def test_supervision_reads_our_results(manager):
    supervision = pytest.importorskip("supervision")
    response = manager.get("shapes-v8/1").infer(SCENES[2].image, confidence=0.5)[0]
    detections = supervision.Detections.from_inference(response)
    assert len(detections) == len(response.predictions) > 0
    first = response.predictions[0]
    np.testing.assert_allclose(
        detections.xyxy[0], [first.x - first.width / 2, first.y - first.height / 2,
                             first.x + first.width / 2, first.y + first.height / 2])
    assert list(detections.data["class_name"]) == [p.class_name for p in response.predictions]
    assert len(supervision.Detections.from_inference(response.to_dict())) == len(detections)


def test_visualization_on_request(manager):
    import base64

    import cv2

    response = manager.get("shapes-v8/1").infer(SCENES[0].image, visualize_predictions=True, visualization_labels=True)[0]
    drawn = cv2.imdecode(np.frombuffer(base64.b64decode(response.visualization), np.uint8), cv2.IMREAD_COLOR)
    assert drawn.shape == SCENES[0].image.shape
    assert np.abs(drawn.astype(int) - SCENES[0].image.astype(int)).mean() > 0.5


def test_model_id_errors(manager):
    with pytest.raises(ModelNotFoundError):
        manager.get("unknown/1")
    with pytest.raises(InvalidModelIdError):
        manager.get("../../etc/passwd")
