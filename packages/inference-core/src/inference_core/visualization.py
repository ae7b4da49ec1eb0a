"""Draw predictions (boxes, masks, keypoints, skeletons, labels) and encode them as JPEG."""

from __future__ import annotations

import base64

import cv2
import numpy as np

from inference_core.responses import InferenceResponse, ObjectDetectionPrediction

# A default palette (BGR) for classes without a colour in environment.json.
DEFAULT_PALETTE = [
    (56, 56, 255), (151, 157, 255), (31, 112, 255), (29, 178, 255), (49, 210, 207), (10, 249, 72),
    (23, 204, 146), (134, 219, 61), (211, 188, 0), (255, 149, 0), (255, 55, 60), (255, 0, 150),
    (187, 0, 255), (250, 0, 245), (133, 0, 199), (168, 153, 44),
]
MASK_OPACITY = 0.4
JPEG_QUALITY = 90


def class_colour(class_name: str, class_id: int, colours: dict[str, str]) -> tuple[int, int, int]:
    hex_colour = colours.get(class_name, "")
    if len(hex_colour) == 7 and hex_colour.startswith("#"):
        try:
            red, green, blue = (int(hex_colour[index : index + 2], 16) for index in (1, 3, 5))
            return blue, green, red
        except ValueError:
            pass
    return DEFAULT_PALETTE[class_id % len(DEFAULT_PALETTE)]


def draw_predictions(
    image: np.ndarray,
    response: InferenceResponse,
    colours: dict[str, str] | None = None,
    stroke_width: int = 1,
    labels: bool = False,
    skeleton: list[tuple[int, int]] | None = None,
) -> np.ndarray:
    """A copy of the BGR image with the response drawn on it."""
    canvas = image.copy()
    colours = colours or {}
    predictions = response.predictions if isinstance(response.predictions, list) else []
    detections = [item for item in predictions if isinstance(item, ObjectDetectionPrediction)]
    for prediction in detections:
        colour = class_colour(prediction.class_name, prediction.class_id, colours)
        _draw_mask(canvas, prediction, colour)
    for prediction in detections:
        colour = class_colour(prediction.class_name, prediction.class_id, colours)
        top_left = (int(prediction.x - prediction.width / 2), int(prediction.y - prediction.height / 2))
        bottom_right = (int(prediction.x + prediction.width / 2), int(prediction.y + prediction.height / 2))
        cv2.rectangle(canvas, top_left, bottom_right, colour, max(stroke_width, 1))
        _draw_keypoints(canvas, prediction, colour, stroke_width, skeleton or [])
        if labels:
            _draw_label(canvas, f"{prediction.class_name} {prediction.confidence:.2f}", top_left, colour)
    if labels and getattr(response, "top", ""):
        _draw_label(canvas, f"{response.top} {response.confidence:.2f}", (0, 0), DEFAULT_PALETTE[0])
    return canvas


def draw_class_map(
    image: np.ndarray,
    class_ids: np.ndarray,
    class_names: list[str],
    background_id: int,
    colours: dict[str, str] | None = None,
) -> np.ndarray:
    """A copy of the BGR image with every non-background pixel tinted in its class colour."""
    canvas = image.copy()
    overlay = canvas.copy()
    for class_id in np.unique(class_ids).tolist():
        if class_id == background_id:
            continue
        name = class_names[class_id] if class_id < len(class_names) else str(class_id)
        overlay[class_ids == class_id] = class_colour(name, class_id, colours or {})
    cv2.addWeighted(overlay, MASK_OPACITY, canvas, 1 - MASK_OPACITY, 0, dst=canvas)
    return canvas


def encode_jpeg(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return encoded.tobytes()


def encode_jpeg_base64(image: np.ndarray) -> str:
    return base64.b64encode(encode_jpeg(image)).decode("ascii")


def _draw_mask(canvas: np.ndarray, prediction: ObjectDetectionPrediction, colour) -> None:
    if not prediction.points:
        return
    polygon = np.array([[point.x, point.y] for point in prediction.points], dtype=np.int32)
    overlay = canvas.copy()
    cv2.fillPoly(overlay, [polygon], colour)
    cv2.addWeighted(overlay, MASK_OPACITY, canvas, 1 - MASK_OPACITY, 0, dst=canvas)


def _draw_keypoints(canvas, prediction: ObjectDetectionPrediction, colour, stroke_width: int, skeleton) -> None:
    if not prediction.keypoints:
        return
    by_index = {keypoint.class_id: (int(keypoint.x), int(keypoint.y)) for keypoint in prediction.keypoints}
    for start, end in skeleton:
        if start in by_index and end in by_index:
            cv2.line(canvas, by_index[start], by_index[end], colour, max(stroke_width, 1))
    for point in by_index.values():
        cv2.circle(canvas, point, max(2, stroke_width + 1), colour, -1)


def _draw_label(canvas: np.ndarray, text: str, corner: tuple[int, int], colour) -> None:
    (text_width, text_height), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
    x, y = max(corner[0], 0), max(corner[1] - text_height - baseline, 0)
    cv2.rectangle(canvas, (x, y), (x + text_width, y + text_height + baseline), colour, -1)
    cv2.putText(canvas, text, (x, y + text_height), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
