"""Held-out metrics of the exported ONNX fixtures (numpy + onnxruntime, no torch)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from synthetic_shapes import CLASS_NAMES, Scene, box_iou

from shape_fixtures.data import (
    HELD_OUT_SEED_BASE,
    INPUT_SIZE,
    MASK_COEFFICIENTS,
    POSE_CLASS_ID,
    POSE_KEYPOINTS,
    POSE_MAX_OBJECTS,
    PROTO_SIZE,
    Letterbox,
    boxes_to_input,
    classification_sample,
    corner_keypoints,
    letterbox,
    normalise_half,
    resize_shorter_and_centre_crop,
    scene_for_seed,
    stretch_resize,
    to_network_input,
)

# --- evaluation (numpy, on the exported YOLOv8 file) ------------------------


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[int]:
    """Greedy NMS on x1y1x2y2 boxes; returns kept indices, best first."""
    order = list(np.argsort(-scores))
    kept: list[int] = []
    while order:
        best = order.pop(0)
        kept.append(best)
        order = [index for index in order if box_iou(boxes[best], boxes[index]) <= iou_threshold]
    return kept


def decode_yolov8(
    output: np.ndarray, confidence: float, iou_threshold: float, class_count: int = len(CLASS_NAMES)
) -> list[tuple[np.ndarray, float, int, int]]:
    """One image's (4+C+extra, N) YOLOv8 output -> [(x1y1x2y2, score, class, anchor index)].

    Boxes stay in input pixels; class-aware NMS; best score first. The anchor
    index picks the row's mask coefficients or keypoints.
    """
    centre, size, scores = output[:2].T, output[2:4].T, output[4 : 4 + class_count].T
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    best_class, best_score = scores.argmax(axis=1), scores.max(axis=1)
    candidates = np.nonzero(best_score >= confidence)[0]
    detections = []
    for class_id in np.unique(best_class[candidates]):
        chosen = candidates[best_class[candidates] == class_id]
        for index in nms(boxes[chosen], best_score[chosen], iou_threshold):
            anchor = int(chosen[index])
            detections.append((boxes[anchor], float(best_score[anchor]), int(class_id), anchor))
    return sorted(detections, key=lambda item: -item[1])


def to_original_pixels(box: np.ndarray, placement: Letterbox) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    return (
        (x1 - placement.pad_left) / placement.scale,
        (y1 - placement.pad_top) / placement.scale,
        (x2 - placement.pad_left) / placement.scale,
        (y2 - placement.pad_top) / placement.scale,
    )


@dataclass
class DetectionMetrics:
    shapes: int
    found: int
    false_positives: int
    mean_iou: float

    @property
    def recall(self) -> float:
        return self.found / max(self.shapes, 1)

    def summary(self) -> str:
        return (
            f"{self.found}/{self.shapes} shapes found with IoU >= 0.7 and the right class "
            f"(recall {self.recall:.1%}), {self.false_positives} false positives, "
            f"mean IoU of found shapes {self.mean_iou:.3f}"
        )


def match_detections(
    detections: list[tuple[tuple[float, float, float, float], float, int]],
    scene: Scene,
    iou_needed: float = 0.7,
) -> tuple[int, int, list[float]]:
    """Greedy best-score-first matching to same-class shapes; returns found, false positives, IoUs."""
    unmatched = list(range(len(scene.objects)))
    found, false_positives, ious = 0, 0, []
    for box, _, class_id in detections:
        candidates = [
            (box_iou(box, scene.objects[index].box), index)
            for index in unmatched
            if scene.objects[index].class_id == class_id
        ]
        best_iou, best_index = max(candidates, default=(0.0, -1))
        if best_iou >= iou_needed:
            unmatched.remove(best_index)
            found += 1
            ious.append(best_iou)
        else:
            false_positives += 1
    return found, false_positives, ious


def evaluate_detector_onnx(
    path: Path, scene_count: int = 50, confidence: float = 0.5, iou_threshold: float = 0.5
) -> DetectionMetrics:
    def detections(output: np.ndarray, placement: Letterbox) -> list:
        return [
            (to_original_pixels(box, placement), score, class_id)
            for box, score, class_id, _ in decode_yolov8(output, confidence, iou_threshold)
        ]

    return _held_out_detection_metrics(path, scene_count, detections)


def evaluate_end2end_onnx(path: Path, scene_count: int = 50, confidence: float = 0.5) -> DetectionMetrics:
    """The end-to-end file needs no NMS: keep rows with score >= confidence."""

    def detections(rows: np.ndarray, placement: Letterbox) -> list:
        return [
            (to_original_pixels(row[:4], placement), float(row[4]), int(row[5]))
            for row in rows
            if row[4] >= confidence
        ]

    return _held_out_detection_metrics(path, scene_count, detections)


def _held_out_detection_metrics(path: Path, scene_count: int, detections) -> DetectionMetrics:
    """Match detections(first output of one image, placement) with the held-out scenes' shapes."""
    session = onnx_session(path)
    shapes = found = false_positives = 0
    ious: list[float] = []
    for index in range(scene_count):
        scene = scene_for_seed(HELD_OUT_SEED_BASE + index)
        image, placement = letterbox(scene.image)
        output = session.run(None, {"images": to_network_input(image)[None]})[0][0]
        found_here, false_here, ious_here = match_detections(detections(output, placement), scene)
        shapes += len(scene.objects)
        found += found_here
        false_positives += false_here
        ious += ious_here
    return DetectionMetrics(shapes, found, false_positives, float(np.mean(ious)) if ious else 0.0)


def onnx_session(path: Path):
    import onnxruntime

    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def decode_instance_mask(
    coefficients: np.ndarray,
    protos: np.ndarray,
    box: np.ndarray,
    placement: Letterbox,
    original_size: tuple[int, int],
) -> np.ndarray:
    """One detection's mask in original pixels (bool, H x W).

    sigmoid(coefficients @ prototypes) on the 80x80 grid, upsampled
    bilinearly to the 320 input, zeroed outside the box, letterbox padding
    cut off, resized to the original image, thresholded at 0.5.
    """
    width, height = original_size
    logits = (coefficients @ protos.reshape(MASK_COEFFICIENTS, -1)).reshape(PROTO_SIZE, PROTO_SIZE)
    probability = cv2.resize(
        1 / (1 + np.exp(-logits)), (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_LINEAR
    )
    x1, y1, x2, y2 = box
    steps = np.arange(INPUT_SIZE) + 0.5
    inside = ((steps >= y1) & (steps <= y2))[:, None] & ((steps >= x1) & (steps <= x2))[None, :]
    probability = probability * inside
    resized_width, resized_height = int(round(width * placement.scale)), int(round(height * placement.scale))
    unpadded = probability[
        placement.pad_top : placement.pad_top + resized_height,
        placement.pad_left : placement.pad_left + resized_width,
    ]
    return cv2.resize(unpadded, (width, height), interpolation=cv2.INTER_LINEAR) > 0.5


def mask_iou(first: np.ndarray, second: np.ndarray) -> float:
    union = np.count_nonzero(first | second)
    return np.count_nonzero(first & second) / union if union else 0.0


def evaluate_segmenter_onnx(
    path: Path, scene_count: int = 50, confidence: float = 0.5, iou_threshold: float = 0.5
) -> str:
    """Box metrics as for detection, plus mask IoU against each shape's visible mask."""
    session = onnx_session(path)
    shapes = found = false_positives = 0
    mask_ious: list[float] = []
    for index in range(scene_count):
        scene = scene_for_seed(HELD_OUT_SEED_BASE + index)
        image, placement = letterbox(scene.image)
        output, protos = session.run(None, {"images": to_network_input(image)[None]})
        detections = decode_yolov8(output[0], confidence, iou_threshold)
        original_size = (scene.image.shape[1], scene.image.shape[0])
        unmatched = list(range(len(scene.objects)))
        for box, _, class_id, anchor in detections:
            original_box = to_original_pixels(box, placement)
            candidates = [
                (box_iou(original_box, scene.objects[i].box), i)
                for i in unmatched
                if scene.objects[i].class_id == class_id
            ]
            best_iou, best = max(candidates, default=(0.0, -1))
            if best_iou < 0.5:
                false_positives += 1
                continue
            unmatched.remove(best)
            found += int(best_iou >= 0.7)
            coefficients = output[0][4 + len(CLASS_NAMES) :, anchor]
            predicted = decode_instance_mask(coefficients, protos[0], box, placement, original_size)
            mask_ious.append(mask_iou(predicted, scene.objects[best].mask))
        shapes += len(scene.objects)
    mean_matched = float(np.mean(mask_ious)) if mask_ious else 0.0
    mean_all = float(np.sum(mask_ious) / max(shapes, 1))
    return (
        f"{found}/{shapes} shapes found with box IoU >= 0.7 and the right class "
        f"(recall {found / max(shapes, 1):.1%}), {false_positives} false positives; "
        f"mean mask IoU {mean_matched:.3f} over {len(mask_ious)} matched shapes, "
        f"{mean_all:.3f} over all shapes (misses count 0)"
    )


def evaluate_pose_onnx(
    path: Path, scene_count: int = 50, confidence: float = 0.5, iou_threshold: float = 0.5
) -> str:
    """Square recall and mean corner error in 320-input pixels, in the file's canonical order."""
    session = onnx_session(path)
    squares = found = false_positives = 0
    errors: list[float] = []
    order_free_errors: list[float] = []
    visibility_right: list[bool] = []
    for index in range(scene_count):
        scene = scene_for_seed(HELD_OUT_SEED_BASE + index, POSE_MAX_OBJECTS)
        image, placement = letterbox(scene.image)
        truth = [shape for shape in scene.objects if shape.class_id == POSE_CLASS_ID]
        truth_boxes = boxes_to_input(truth, placement)
        truth_keypoints = corner_keypoints(truth, placement)
        output = session.run(None, {"images": to_network_input(image)[None]})[0][0]
        unmatched = list(range(len(truth)))
        for box, _, _, anchor in decode_yolov8(output, confidence, iou_threshold, class_count=1):
            candidates = [(box_iou(box, truth_boxes[i]), i) for i in unmatched]
            best_iou, best = max(candidates, default=(0.0, -1))
            if best_iou < 0.5:
                false_positives += 1
                continue
            unmatched.remove(best)
            found += int(best_iou >= 0.7)
            predicted = output[5:, anchor].reshape(POSE_KEYPOINTS, 3)
            wanted = truth_keypoints[best]
            errors.append(float(np.linalg.norm(predicted[:, :2] - wanted[:, :2], axis=1).mean()))
            shifts = [
                np.linalg.norm(predicted[:, :2] - np.roll(wanted[:, :2], shift, axis=0), axis=1).mean()
                for shift in range(POSE_KEYPOINTS)
            ]
            order_free_errors.append(float(min(shifts)))
            visibility_right += list((predicted[:, 2] > 0.5) == (wanted[:, 2] > 0.5))
        squares += len(truth)
    return (
        f"{found}/{squares} squares found with box IoU >= 0.7 (recall {found / max(squares, 1):.1%}), "
        f"{false_positives} false positives; "
        f"mean corner error {np.mean(errors):.2f} px at 320 input (median {np.median(errors):.2f}, "
        f"{np.mean(order_free_errors):.2f} ignoring which corner is first); "
        f"visibility right for {np.mean(visibility_right):.1%} of corners"
    )


def evaluate_classifier_onnx(path: Path, image_count: int = 200) -> str:
    session = onnx_session(path)
    correct = 0
    for index in range(image_count):
        crop, class_id = classification_sample(HELD_OUT_SEED_BASE + index)
        probabilities = session.run(
            None, {"images": to_network_input(resize_shorter_and_centre_crop(crop))[None]}
        )[0][0]
        correct += int(np.argmax(probabilities) == class_id)
    return f"top-1 accuracy {correct / image_count:.1%} on {image_count} held-out crops"


def evaluate_multilabel_onnx(path: Path, image_count: int = 200, threshold: float = 0.5) -> str:
    session = onnx_session(path)
    exact = 0
    label_right = 0
    for index in range(image_count):
        scene = scene_for_seed(HELD_OUT_SEED_BASE + index)
        wanted = np.zeros(len(CLASS_NAMES), bool)
        wanted[[shape.class_id for shape in scene.objects]] = True
        probabilities = session.run(None, {"images": normalise_half(stretch_resize(scene.image))[None]})[0][0]
        predicted = probabilities >= threshold
        exact += int((predicted == wanted).all())
        label_right += int((predicted == wanted).sum())
    return (
        f"exact-set accuracy {exact / image_count:.1%} on {image_count} held-out scenes "
        f"at threshold {threshold}, "
        f"per-label accuracy {label_right / (image_count * len(CLASS_NAMES)):.1%}"
    )
