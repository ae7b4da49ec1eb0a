"""The pose task: train the square-corner keypoint net and export its YOLOv8-pose file."""

from __future__ import annotations

import argparse

import numpy as np
import torch

from shape_fixtures.data import INPUT_SIZE, POSE_CLASS_ID, POSE_KEYPOINTS, POSE_MAX_OBJECTS, build_scene_set
from shape_fixtures.evaluate import evaluate_pose_onnx
from shape_fixtures.export import (
    YoloV8PoseLayout,
    check_onnx_matches,
    export_onnx,
    held_out_inputs,
    ultralytics_metadata,
)
from shape_fixtures.networks import ShapePoseNet, load_detector_weights
from shape_fixtures.training import pose_loss, scene_batches, timed_build, train_model, train_or_load


def run_pose(options: argparse.Namespace) -> None:
    def train(pose_net: ShapePoseNet) -> ShapePoseNet:
        if options.init:
            load_detector_weights(pose_net.detector, options.init, class_ids=[POSE_CLASS_ID])
        data = timed_build(
            lambda: build_scene_set("pose", options.seed * 1_000_000, options.train_images, POSE_MAX_OBJECTS)
        )
        torch.manual_seed(options.seed)
        batches = scene_batches(data, options.batch_size, np.random.default_rng(options.seed), 1)
        return train_model(pose_net, batches, pose_loss, options.minutes, options.learning_rate)

    pose_net = train_or_load(ShapePoseNet(), options, train)
    path = options.output_dir / "shapes-pose-yolov8.onnx"
    module = YoloV8PoseLayout(pose_net)
    metadata = ultralytics_metadata(
        "pose",
        "Square corner-keypoint fixture (4 corners, top-most first, then clockwise) "
        "trained on synthetic scenes",
        {"kpt_shape": str([POSE_KEYPOINTS, 3])},
        names=("square",),
    )
    export_onnx(module, path, (2, 3, INPUT_SIZE, INPUT_SIZE), ["output0"], True, metadata)
    check_onnx_matches(module, path, held_out_inputs(2))
    print("held-out (YOLOv8-pose file, conf 0.5, NMS IoU 0.5):", evaluate_pose_onnx(path))
