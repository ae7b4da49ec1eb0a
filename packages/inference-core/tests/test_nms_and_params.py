import numpy as np
import pytest
from inference_core.errors import InvalidInputError, InvalidModelIdError
from inference_core.model_ids import parse_model_id
from inference_core.models.nms import box_iou, non_max_suppression
from inference_core.params import InferenceParams


def test_iou_is_true_intersection_over_union():
    box = np.array([0.0, 0.0, 10.0, 10.0])
    others = np.array([[0.0, 0.0, 10.0, 10.0], [5.0, 0.0, 15.0, 10.0], [0.0, 0.0, 5.0, 5.0], [20, 20, 30, 30]])
    # the small box inside the big one: intersection / area-of-small would be 1.0; IoU is 0.25
    np.testing.assert_allclose(box_iou(box, others), [1.0, 50 / 150, 0.25, 0.0])


def test_nms_per_class_and_agnostic():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [50, 50, 60, 60]], dtype=float)
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    classes = np.array([0, 0, 1, 0])
    assert non_max_suppression(boxes, scores, classes, 0.5).tolist() == [0, 2, 3]
    assert non_max_suppression(boxes, scores, classes, 0.5, class_agnostic=True).tolist() == [0, 3]
    assert non_max_suppression(boxes, scores, classes, 0.5, max_detections=2).tolist() == [0, 2]
    assert non_max_suppression(np.empty((0, 4)), np.empty(0), np.empty(0), 0.5).tolist() == []


def test_params_defaults_and_validation():
    params = InferenceParams.from_kwargs(unknown_field=1)
    assert (params.confidence, params.iou_threshold, params.max_detections) == (0.4, 0.3, 300)
    assert InferenceParams.from_kwargs(confidence="best").confidence == 0.4
    for bad in ({"confidence": 1.5}, {"confidence": "high"}, {"iou_threshold": -0.1}, {"max_detections": 0},
                {"mask_decode_mode": "slow"}, {"tradeoff_factor": 2}, {"class_filter": "car"},
                {"response_mask_format": "bitmap"}):
        with pytest.raises(InvalidInputError):
            InferenceParams.from_kwargs(**bad)


@pytest.mark.parametrize("bad", ["a/b/c", "../../etc/passwd", "a/..", "", "/1", "proj/", "proj", "pro j/1", "a\\b/1"])
def test_invalid_model_ids(bad):
    with pytest.raises(InvalidModelIdError):
        parse_model_id(bad)


def test_model_ids_and_aliases():
    assert str(parse_model_id("my-project/3")) == "my-project/3"
    assert str(parse_model_id("yolov8n-640")) == "coco/3"
