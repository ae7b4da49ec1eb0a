"""The detect task: train the shapes detector and export its YOLOv8, YOLOv5 and end-to-end files."""

from __future__ import annotations

import argparse
from pathlib import Path

from shape_fixtures.data import INPUT_SIZE, build_detection_set
from shape_fixtures.evaluate import evaluate_detector_onnx, evaluate_end2end_onnx
from shape_fixtures.export import (
    EndToEndDetectLayout,
    YoloV5DetectLayout,
    YoloV8DetectLayout,
    check_onnx_matches,
    end2end_confident_rows,
    export_onnx,
    held_out_inputs,
    ultralytics_metadata,
    yolov5_confidences,
)
from shape_fixtures.networks import ShapeDetector, load_detector_weights
from shape_fixtures.training import timed_build, train_detector, train_or_load


def run_detect(options: argparse.Namespace) -> None:
    def train(detector: ShapeDetector) -> ShapeDetector:
        data = timed_build(lambda: build_detection_set(options.seed * 1_000_000, options.train_images))
        if options.init:  # continue training a detector, at the (lower) --learning-rate
            load_detector_weights(detector, options.init)
            return train_detector(
                data, options.minutes, options.batch_size, options.seed, detector, options.learning_rate
            )
        return train_detector(data, options.minutes, options.batch_size, options.seed, detector)

    detector = train_or_load(ShapeDetector(), options, train)
    export_detectors(detector, options.output_dir)


def export_detectors(detector: ShapeDetector, output_dir: Path) -> None:
    description = "Shapes detector fixture (circle, square, triangle, star) trained on synthetic scenes"
    check_batch = held_out_inputs(2)
    files = {
        "shapes-det-yolov8.onnx": (YoloV8DetectLayout(detector), True, {}, None),
        "shapes-det-yolov5.onnx": (YoloV5DetectLayout(detector), False, {}, yolov5_confidences),
        "shapes-det-end2end.onnx": (
            EndToEndDetectLayout(detector),
            True,
            {"end2end": "True"},
            end2end_confident_rows,
        ),
    }
    for name, (module, dynamic_batch, extra, comparable) in files.items():
        path = output_dir / name
        batch = 2 if dynamic_batch else 1
        export_onnx(
            module,
            path,
            (batch, 3, INPUT_SIZE, INPUT_SIZE),
            ["output0"],
            dynamic_batch,
            ultralytics_metadata("detect", description, extra),
        )
        check_onnx_matches(module, path, check_batch[:batch], comparable)
    print(
        "held-out (YOLOv8 file, conf 0.5, NMS IoU 0.5):",
        evaluate_detector_onnx(output_dir / "shapes-det-yolov8.onnx").summary(),
    )
    print(
        "held-out (end-to-end file, conf 0.5, no NMS):",
        evaluate_end2end_onnx(output_dir / "shapes-det-end2end.onnx").summary(),
    )
