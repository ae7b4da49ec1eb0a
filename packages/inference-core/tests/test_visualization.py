import cv2
import numpy as np
from inference_core.responses import (
    ImageSize,
    Keypoint,
    ObjectDetectionInferenceResponse,
    ObjectDetectionPrediction,
    Point,
)
from inference_core.visualization import DEFAULT_PALETTE, class_colour, draw_predictions, encode_jpeg


def prediction(**extra) -> ObjectDetectionPrediction:
    return ObjectDetectionPrediction(x=50, y=50, width=40, height=40, confidence=0.9, class_name="car",
                                     class_id=1, detection_id="d", **extra)


def response(*predictions) -> ObjectDetectionInferenceResponse:
    return ObjectDetectionInferenceResponse(image=ImageSize(100, 100), predictions=list(predictions))


def test_colours_come_from_environment_or_the_palette():
    assert class_colour("car", 1, {"car": "#FF0000"}) == (0, 0, 255)  # BGR
    assert class_colour("car", 1, {}) == DEFAULT_PALETTE[1]
    assert class_colour("car", 1, {"car": "not a colour"}) == DEFAULT_PALETTE[1]


def test_boxes_are_drawn_in_the_class_colour_with_the_stroke_width():
    canvas = np.zeros((100, 100, 3), np.uint8)
    drawn = draw_predictions(canvas, response(prediction()), {"car": "#00FF00"}, stroke_width=3)
    assert (drawn[30, 50] == (0, 255, 0)).all() and (drawn[32, 50] == (0, 255, 0)).all()
    assert (drawn[50, 50] == 0).all()  # inside the box stays untouched
    assert (canvas == 0).all()  # the input is not modified


def test_masks_and_keypoints_with_skeleton_are_drawn():
    canvas = np.zeros((100, 100, 3), np.uint8)
    square = [Point(35, 35), Point(65, 35), Point(65, 65), Point(35, 65)]
    keypoints = [Keypoint(x=10, y=90, confidence=1, class_id=0, class_name="a"),
                 Keypoint(x=90, y=90, confidence=1, class_id=1, class_name="b")]
    drawn = draw_predictions(canvas, response(prediction(points=square, keypoints=keypoints)),
                             {"car": "#FFFFFF"}, skeleton=[(0, 1)])
    assert 90 < drawn[50, 50, 0] < 115  # mask blended at 40% opacity
    assert (drawn[90, 50] == 255).all()  # the skeleton edge between the two keypoints


def test_labels_and_jpeg_encoding():
    canvas = np.full((100, 100, 3), 40, np.uint8)
    labelled = draw_predictions(canvas, response(prediction()), labels=True)
    plain = draw_predictions(canvas, response(prediction()), labels=False)
    assert not np.array_equal(labelled, plain)
    decoded = cv2.imdecode(np.frombuffer(encode_jpeg(labelled), np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (100, 100, 3)
