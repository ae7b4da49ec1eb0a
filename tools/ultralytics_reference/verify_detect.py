"""Re-derive reference-detect.json with only OpenCV, NumPy and onnxruntime.

This checks that the pre- and post-processing written down in README.md (and in the JSON's
"settings") is exactly what Ultralytics did. It needs no ultralytics or torch, and prints the
largest absolute difference from the reference (0 when it was made).

    python tools/ultralytics_reference/verify_detect.py [--root /work/ultra-ref]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

SIZE = 640
PAD_VALUE = 114
CLASS_OFFSET = 7680  # Ultralytics' max_wh: boxes of different classes never overlap in NMS


def letterbox(image: np.ndarray) -> tuple[np.ndarray, tuple[int, int], tuple[int, int]]:
    height, width = image.shape[:2]
    ratio = min(SIZE / height, SIZE / width)
    new_w, new_h = max(round(width * ratio), 1), max(round(height * ratio), 1)
    if (new_w, new_h) != (width, height):
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    pad_w, pad_h = (SIZE - new_w) / 2, (SIZE - new_h) / 2
    top, bottom = round(pad_h - 0.1), round(pad_h + 0.1)
    left, right = round(pad_w - 0.1), round(pad_w + 0.1)
    image = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)
    return image, (new_w, new_h), (left, top)


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / (area + areas - inter)


def detect(
    session: ort.InferenceSession, image: np.ndarray, conf_thres: float, iou_thres: float, max_det: int = 300
):
    height, width = image.shape[:2]
    padded, (new_w, new_h), (left, top) = letterbox(image)
    tensor = padded[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255  # BGR->RGB, NCHW
    output = session.run(None, {session.get_inputs()[0].name: tensor})[0][0].T  # (8400, 4 + nc)
    scores = output[:, 4:]
    classes, confidences = scores.argmax(1), scores.max(1)
    keep = confidences > conf_thres
    boxes, classes, confidences = output[keep, :4], classes[keep], confidences[keep]
    xyxy = np.concatenate([boxes[:, :2] - boxes[:, 2:] / 2, boxes[:, :2] + boxes[:, 2:] / 2], axis=1)
    shifted = xyxy + classes[:, None] * CLASS_OFFSET
    order = confidences.argsort()[::-1]
    kept = []
    while len(order):
        best = order[0]
        kept.append(best)
        order = order[1:][box_iou(shifted[best], shifted[order[1:]]) <= iou_thres]
    kept = kept[:max_det]
    out = xyxy[kept].copy()
    out[:, [0, 2]] = ((out[:, [0, 2]] - left) / (new_w / width)).clip(0, width)
    out[:, [1, 3]] = ((out[:, [1, 3]] - top) / (new_h / height)).clip(0, height)
    return out, classes[kept], confidences[kept]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("/work/ultra-ref"))
    args = parser.parse_args()
    reference = json.loads((args.root / "reference-detect.json").read_text())
    session = ort.InferenceSession(str(args.root / "yolov8n-shapes.onnx"), providers=["CPUExecutionProvider"])
    worst, problems = 0.0, 0
    for name, entry in reference["images"].items():
        image = cv2.imread(str(args.root / "images" / name))
        boxes, classes, confidences = detect(session, image, entry["conf"], entry["iou"])
        expected = entry["detections"]
        if len(expected) != len(boxes):
            print(f"{name}: {len(boxes)} detections, reference has {len(expected)}")
            problems += 1
            continue
        for det, box, cls, conf in zip(expected, boxes, classes, confidences, strict=True):
            if det["class_id"] != int(cls):
                print(f"{name}: class {int(cls)}, reference {det['class_id']}")
                problems += 1
            ref = np.array([det["x1"], det["y1"], det["x2"], det["y2"], det["confidence"]])
            worst = max(worst, float(np.abs(ref - np.append(box, conf)).max()))
    print(f"{len(reference['images'])} images, {problems} mismatches, max abs difference {worst:.3g}")
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
