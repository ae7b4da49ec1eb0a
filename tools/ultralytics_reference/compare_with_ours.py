"""Compare our predictions with Ultralytics' own predictor on the same ONNX weights and images.

Run in the project's venv after `make_reference.py` (Ultralytics' venv) has written
`/work/ultra-ref`. Each export is filed with our bring-your-own-model import, then every
reference image goes through our in-process API with the predictor's thresholds.

    .venv/bin/python tools/ultralytics_reference/compare_with_ours.py [--reference-dir DIR]

Reference boxes are rounded to whole pixels as the wire format rounds ours. Writes a Markdown summary to tools/ultralytics_reference/AGREEMENT.md and exits non-zero when
any criterion fails: boxes IoU >= 0.95 with the same class and confidence within 0.02 (every
detection; those within 0.02 of the threshold may be missing on either side), mask IoU >= 0.95,
keypoints within 2 px, classification top-5 identical.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from inference_core import CoreSettings, build_manager
from inference_core.models.masks import decode_coco_rle
from inference_core.store import ModelStore

EXPORTS = {
    "detect": "yolov8n-shapes.onnx",
    "segment": "yolov8n-seg-shapes.onnx",
    "pose": "yolov8n-pose-shapes.onnx",
    "classify": "yolov8n-cls-shapes.onnx",
}
BOX_IOU, CONFIDENCE_GAP, MASK_IOU, KEYPOINT_PIXELS = 0.95, 0.02, 0.95, 2.0


@dataclass
class TaskReport:
    task: str
    images: int = 0
    reference_items: int = 0
    matched: int = 0
    borderline_unmatched: int = 0
    failures: list[str] = field(default_factory=list)
    worst_box_iou: float = 1.0
    worst_confidence_gap: float = 0.0
    worst_mask_iou: float = 1.0
    worst_keypoint_error: float = 0.0


def box_iou(first, second) -> float:
    width = max(0.0, min(first[2], second[2]) - max(first[0], second[0]))
    height = max(0.0, min(first[3], second[3]) - max(first[1], second[1]))
    overlap = width * height
    union = (first[2] - first[0]) * (first[3] - first[1]) + (second[2] - second[0]) * (second[3] - second[1]) - overlap
    return overlap / union if union > 0 else 0.0


def our_box(prediction: dict) -> tuple[float, float, float, float]:
    half_width, half_height = prediction["width"] / 2, prediction["height"] / 2
    return (prediction["x"] - half_width, prediction["y"] - half_height,
            prediction["x"] + half_width, prediction["y"] + half_height)


def compare_detections(report: TaskReport, name: str, reference: dict, ours: list[dict], masks=None) -> None:
    unused = list(range(len(ours)))
    for index, expected in enumerate(reference["detections"]):
        # Roboflow's wire format rounds box corners to whole pixels; round the reference the same
        # way, or a 20-pixel box loses several IoU points to rounding alone.
        expected_box = tuple(float(np.round(expected[key])) for key in ("x1", "y1", "x2", "y2"))
        candidates = [(box_iou(expected_box, our_box(ours[i])), i) for i in unused
                      if ours[i]["class"] == expected["class_name"]]
        overlap, chosen = max(candidates, default=(0.0, None))
        report.reference_items += 1
        if chosen is None or overlap < BOX_IOU:
            near_threshold = expected["confidence"] - reference["conf"] < CONFIDENCE_GAP
            if near_threshold:
                report.borderline_unmatched += 1
            else:
                report.failures.append(f"{name}: {expected['class_name']} {expected_box} unmatched (best IoU {overlap:.3f})")
            continue
        unused.remove(chosen)
        report.matched += 1
        gap = abs(ours[chosen]["confidence"] - expected["confidence"])
        report.worst_box_iou = min(report.worst_box_iou, overlap)
        report.worst_confidence_gap = max(report.worst_confidence_gap, gap)
        if gap > CONFIDENCE_GAP:
            report.failures.append(f"{name}: confidence {ours[chosen]['confidence']:.3f} vs {expected['confidence']:.3f}")
        if masks is not None:
            compare_mask(report, name, masks[index], ours[chosen])
        if "keypoints" in expected:
            compare_keypoints(report, name, expected["keypoints"], ours[chosen].get("keypoints", []))
    for extra in unused:
        if ours[extra]["confidence"] - reference["conf"] >= CONFIDENCE_GAP:
            report.failures.append(f"{name}: extra {ours[extra]['class']} at {our_box(ours[extra])}")


def compare_mask(report: TaskReport, name: str, expected: np.ndarray, prediction: dict) -> None:
    ours = decode_coco_rle(prediction["rle"])
    union = np.logical_or(ours, expected).sum()
    overlap = np.logical_and(ours, expected).sum() / union if union else 1.0
    report.worst_mask_iou = min(report.worst_mask_iou, float(overlap))
    if overlap < MASK_IOU:
        report.failures.append(f"{name}: mask IoU {overlap:.3f}")


def compare_keypoints(report: TaskReport, name: str, expected: list[dict], ours: list[dict]) -> None:
    by_index = {point["class_id"]: point for point in ours}
    for index, point in enumerate(expected):
        if index not in by_index:
            report.failures.append(f"{name}: keypoint {index} missing")
            continue
        if point.get("name") and by_index[index]["class"] != point["name"]:
            report.failures.append(f"{name}: keypoint {index} named {by_index[index]['class']!r}, not {point['name']!r}")
        error = float(np.hypot(by_index[index]["x"] - point["x"], by_index[index]["y"] - point["y"]))
        report.worst_keypoint_error = max(report.worst_keypoint_error, error)
        if error > KEYPOINT_PIXELS:
            report.failures.append(f"{name}: keypoint {index} off by {error:.2f} px")


def compare_classification(report: TaskReport, name: str, reference: dict, ours: dict) -> None:
    report.reference_items += 1
    expected = [item["class_id"] for item in reference["top5"]]
    actual = [item["class_id"] for item in ours["predictions"]][: len(expected)]
    gaps = [abs(prediction["confidence"] - item["confidence"]) for prediction, item in zip(ours["predictions"], reference["top5"])]
    report.worst_confidence_gap = max([report.worst_confidence_gap, *gaps])
    if actual == expected:
        report.matched += 1
    else:
        report.failures.append(f"{name}: top-5 {actual} vs {expected}")


def run_task(task: str, reference_dir: Path, manager, store: ModelStore) -> TaskReport | None:
    reference_file = reference_dir / f"reference-{task}.json"
    export = reference_dir / EXPORTS[task]
    if not reference_file.is_file() or not export.is_file():
        return None
    reference = json.loads(reference_file.read_text())
    model_id = f"ultralytics-{task}/1"
    store.import_ultralytics_onnx(export, model_id, overwrite=True)
    model = manager.get(model_id)
    masks = np.load(reference_dir / "reference-segment-masks.npz") if task == "segment" else None
    report = TaskReport(task)
    for name, expected in reference["images"].items():
        image = reference_dir / "images" / name
        report.images += 1
        if task == "classify":
            ours = model.infer(str(image), confidence=0.0)[0].to_dict()
            compare_classification(report, name, expected, ours)
            continue
        params = dict(confidence=expected["conf"], iou_threshold=expected["iou"], max_detections=300)
        if task == "segment":
            params["response_mask_format"] = "rle"
        ours = model.infer(str(image), **params)[0].to_dict()["predictions"]
        image_masks = masks[expected["npz_keys"]["masks_orig"]] if masks is not None else None
        compare_detections(report, name, expected, ours, image_masks)
    return report


def write_summary(reports: list[TaskReport], path: Path) -> None:
    lines = [
        "# Agreement with Ultralytics' own predictor",
        "",
        "Written by `compare_with_ours.py` from the reference made by `make_reference.py`.",
        f"Criteria: box IoU >= {BOX_IOU}, same class, confidence within {CONFIDENCE_GAP}; mask IoU >= {MASK_IOU};",
        f"keypoints within {KEYPOINT_PIXELS} px; classification top-5 identical.",
        "",
        "| task | images | reference items | matched | unmatched within 0.02 of threshold | worst box IoU | worst confidence gap | worst mask IoU | worst keypoint error (px) | failures |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for report in reports:
        lines.append(
            f"| {report.task} | {report.images} | {report.reference_items} | {report.matched} | "
            f"{report.borderline_unmatched} | {report.worst_box_iou:.4f} | {report.worst_confidence_gap:.4f} | "
            f"{report.worst_mask_iou:.4f} | {report.worst_keypoint_error:.2f} | {len(report.failures)} |"
        )
    failures = [failure for report in reports for failure in report.failures]
    if failures:
        lines += ["", "## Failures", "", *[f"- {failure}" for failure in failures]]
    path.write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference-dir", type=Path, default=Path("/work/ultra-ref"))
    parser.add_argument("--summary", type=Path, default=Path(__file__).with_name("AGREEMENT.md"))
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        manager = build_manager(CoreSettings(model_cache_dir=Path(cache)))
        store = ModelStore(Path(cache))
        reports = [report for task in EXPORTS if (report := run_task(task, arguments.reference_dir, manager, store))]
    write_summary(reports, arguments.summary)
    print(arguments.summary.read_text())
    return 1 if any(report.failures for report in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
