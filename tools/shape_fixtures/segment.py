"""The segment task: train the instance segmenter and export its YOLOv8-seg and YOLOv5-seg files."""

from __future__ import annotations

import argparse

import numpy as np
import torch
from synthetic_shapes import CLASS_NAMES

from shape_fixtures.data import INPUT_SIZE, build_scene_set
from shape_fixtures.evaluate import evaluate_segmenter_onnx
from shape_fixtures.export import (
    YoloV5SegmentLayout,
    YoloV8SegmentLayout,
    check_onnx_matches,
    export_onnx,
    held_out_inputs,
    ultralytics_metadata,
    yolov5_confidences,
)
from shape_fixtures.networks import ShapeSegmenter, load_detector_weights
from shape_fixtures.training import scene_batches, segmentation_loss, timed_build, train_model, train_or_load


def run_segment(options: argparse.Namespace) -> None:
    def train(segmenter: ShapeSegmenter) -> ShapeSegmenter:
        if options.init:
            load_detector_weights(segmenter.detector, options.init)
        data = timed_build(lambda: build_scene_set("segment", options.seed * 1_000_000, options.train_images))
        torch.manual_seed(options.seed)
        batches = scene_batches(
            data, options.batch_size, np.random.default_rng(options.seed), len(CLASS_NAMES)
        )
        return train_model(segmenter, batches, segmentation_loss, options.minutes, options.learning_rate)

    segmenter = train_or_load(ShapeSegmenter(), options, train)
    description = (
        "Shapes instance-segmentation fixture (circle, square, triangle, star) trained on synthetic scenes"
    )
    check_batch = held_out_inputs(2)
    files = {
        "shapes-seg-yolov8.onnx": (YoloV8SegmentLayout(segmenter), True, None),
        "shapes-seg-yolov5.onnx": (YoloV5SegmentLayout(segmenter), False, yolov5_confidences),
    }
    for name, (module, dynamic_batch, comparable) in files.items():
        path = options.output_dir / name
        batch = 2 if dynamic_batch else 1
        export_onnx(
            module,
            path,
            (batch, 3, INPUT_SIZE, INPUT_SIZE),
            ["output0", "output1"],
            dynamic_batch,
            ultralytics_metadata("segment", description),
        )
        check_onnx_matches(module, path, check_batch[:batch], comparable)
    print(
        "held-out (YOLOv8-seg file, conf 0.5, NMS IoU 0.5):",
        evaluate_segmenter_onnx(options.output_dir / "shapes-seg-yolov8.onnx"),
    )
