import numpy as np
import pytest
from inference_core.errors import (
    InvalidInputError,
    InvalidModelIdError,
    InvalidParameterError,
    ParameterTypeError,
)
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


def greedy_reference(boxes, scores, classes, threshold, agnostic, max_detections):
    """Textbook greedy NMS, one box at a time."""
    kept = []
    for index in sorted(range(len(boxes)), key=lambda i: -scores[i]):  # sorted() is stable
        same = [k for k in kept if agnostic or classes[k] == classes[index]]
        if all(box_iou(boxes[index], boxes[[k]])[0] <= threshold for k in same):
            kept.append(index)
        if len(kept) == max_detections:
            break
    return kept


@pytest.mark.parametrize(("count", "classes", "agnostic"), [
    (200, 80, False),  # every class side by side
    (200, 80, True),
    (1500, 2, False),  # large classes, block by block
    (1500, 1, True),  # one class, block by block
    (60, 3, False),
])
def test_nms_keeps_what_one_greedy_pass_keeps(count, classes, agnostic):
    rng = np.random.default_rng(count + classes)
    corners = rng.uniform(0, 300, (count, 2)).round()
    boxes = np.concatenate([corners, corners + rng.uniform(5, 120, (count, 2)).round()], axis=1)
    scores = rng.uniform(0.2, 1.0, count).round(2)  # ties: the earlier box goes first
    class_ids = rng.integers(0, classes, count)
    for threshold, max_detections in ((0.3, 300), (0.5, 7)):
        expected = greedy_reference(boxes, scores, class_ids, threshold, agnostic, max_detections)
        found = non_max_suppression(boxes, scores, class_ids, threshold, agnostic, max_detections)
        assert found.tolist() == expected


def test_params_defaults_and_validation():
    params = InferenceParams.from_kwargs(unknown_field=1)
    assert (params.confidence, params.iou_threshold, params.max_detections) == (0.4, 0.3, 300)
    assert InferenceParams.from_kwargs(confidence="best").confidence == 0.4
    for bad in ({"confidence": 1.5}, {"confidence": "high"}, {"iou_threshold": -0.1}, {"max_detections": 0},
                {"mask_decode_mode": "slow"}, {"tradeoff_factor": 2}, {"class_filter": "car"},
                {"response_mask_format": "bitmap"}):
        with pytest.raises(InvalidInputError):
            InferenceParams.from_kwargs(**bad)


def test_type_errors_are_422_and_range_errors_400_with_the_parameter_named():
    with pytest.raises(ParameterTypeError) as wrong_type:
        InferenceParams.from_kwargs(max_detections="many")
    assert wrong_type.value.status_code == 422 and wrong_type.value.parameter == "max_detections"
    with pytest.raises(InvalidParameterError) as out_of_range:
        InferenceParams.from_kwargs(max_candidates=10**30)
    assert out_of_range.value.status_code == 400
    assert out_of_range.value.message.startswith("max_candidates must be a whole number from 1 to 1000000")


@pytest.mark.parametrize(("word", "expected"), [
    ("1", True), ("true", True), ("Yes", True), ("on", True), (True, True), (1, True),
    ("0", False), ("false", False), ("NO", False), ("off", False), (False, False), (0, False),
])
def test_flags_accept_the_usual_spellings(word, expected):
    assert InferenceParams.from_kwargs(class_agnostic_nms=word).class_agnostic_nms is expected


@pytest.mark.parametrize("word", ["maybe", "2", "", 2, 0.5, [True]])
def test_flags_refuse_the_rest(word):
    with pytest.raises(ParameterTypeError):
        InferenceParams.from_kwargs(visualize_predictions=word)


def test_legacy_query_names_percent_rule_and_floor():
    params = InferenceParams.from_legacy_query(
        {"confidence": "40", "overlap": "50", "labels": "yes", "stroke": "3"}, visualize_predictions=True
    )
    assert (params.confidence, params.iou_threshold) == (0.4, 0.5)
    assert params.visualization_labels and params.visualize_predictions
    assert params.visualization_stroke_width == 3
    assert InferenceParams.from_legacy_query({"confidence": "1"}).confidence == 0.01  # 1 %
    assert InferenceParams.from_legacy_query({"confidence": "0"}).confidence == 0.01  # Roboflow's floor
    assert InferenceParams.from_kwargs(confidence=0).confidence == 0.0  # no floor off the legacy route
    # the JSON name is not the legacy route's: ignored there, as any unknown parameter
    assert InferenceParams.from_legacy_query({"iou_threshold": "0.9"}).iou_threshold == 0.3
    with pytest.raises(InvalidParameterError, match=r"^overlap must be a number from 0 to 1; got -5\.$"):
        InferenceParams.from_legacy_query({"overlap": "-5"})
    with pytest.raises(InvalidParameterError, match="got 700"):
        InferenceParams.from_legacy_query({"confidence": "700"})


@pytest.mark.parametrize("bad", ["a/b/c", "../../etc/passwd", "a/..", "", "/1", "proj/", "proj", "pro j/1", "a\\b/1"])
def test_invalid_model_ids(bad):
    with pytest.raises(InvalidModelIdError):
        parse_model_id(bad)


def test_model_ids_and_aliases():
    assert str(parse_model_id("my-project/3")) == "my-project/3"
    assert str(parse_model_id("yolov8n-640")) == "coco/3"
