"""The classify and multilabel tasks: train the presence classifiers and export their files."""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as functional

from shape_fixtures.data import (
    CLASSIFY_SIZE,
    HELD_OUT_SEED_BASE,
    MULTILABEL_SIZE,
    MULTILABEL_UPSCALE,
    build_classification_set,
    build_multilabel_set,
    classification_sample,
    normalise_half,
    resize_shorter_and_centre_crop,
    scene_for_seed,
    stretch_resize,
    to_network_input,
)
from shape_fixtures.evaluate import evaluate_classifier_onnx, evaluate_multilabel_onnx
from shape_fixtures.export import (
    SigmoidClassifierLayout,
    SoftmaxClassifierLayout,
    check_onnx_matches,
    export_onnx,
    ultralytics_metadata,
)
from shape_fixtures.networks import PresenceClassifier, ShapeDetector, load_detector_weights
from shape_fixtures.training import image_label_batches, timed_build, train_model, train_or_load


def image_classifier_trainer(options: argparse.Namespace, build_set, to_input, loss_function):
    """The train step of the classify and multilabel tasks: labelled images, flipped, in batches."""

    def train(classifier: PresenceClassifier) -> PresenceClassifier:
        if options.init:
            load_detector_weights(classifier.detector, options.init)
        images, labels = timed_build(lambda: build_set(options.seed * 1_000_000, options.train_images))
        torch.manual_seed(options.seed)
        batches = image_label_batches(
            images, labels, options.batch_size, np.random.default_rng(options.seed), to_input
        )
        return train_model(classifier, batches, loss_function, options.minutes, options.learning_rate)

    return train


def cross_entropy_loss(logits: torch.Tensor, batch: dict) -> tuple[torch.Tensor, dict]:
    loss = functional.cross_entropy(logits, batch["labels"])
    return loss, {"ce": loss.item()}


def binary_cross_entropy_loss(logits: torch.Tensor, batch: dict) -> tuple[torch.Tensor, dict]:
    loss = functional.binary_cross_entropy_with_logits(logits, batch["labels"])
    return loss, {"bce": loss.item()}


def run_classify(options: argparse.Namespace) -> None:
    train = image_classifier_trainer(options, build_classification_set, to_network_input, cross_entropy_loss)
    classifier = train_or_load(PresenceClassifier(ShapeDetector()), options, train)
    path = options.output_dir / "shapes-cls.onnx"
    module = SoftmaxClassifierLayout(classifier)
    description = "Single-label shape classifier fixture (softmax probabilities) trained on synthetic crops"
    export_onnx(
        module,
        path,
        (2, 3, CLASSIFY_SIZE, CLASSIFY_SIZE),
        ["output0"],
        True,
        ultralytics_metadata("classify", description, stride=1, image_size=CLASSIFY_SIZE),
    )
    check_batch = np.stack(
        [
            to_network_input(
                resize_shorter_and_centre_crop(classification_sample(HELD_OUT_SEED_BASE + index)[0])
            )
            for index in range(2)
        ]
    )
    check_onnx_matches(module, path, check_batch)
    print("held-out (classifier file):", evaluate_classifier_onnx(path))


def run_multilabel(options: argparse.Namespace) -> None:
    train = image_classifier_trainer(options, build_multilabel_set, normalise_half, binary_cross_entropy_loss)
    classifier = PresenceClassifier(ShapeDetector(), normalised_input=True, upscale=MULTILABEL_UPSCALE)
    classifier = train_or_load(classifier, options, train)
    path = options.output_dir / "shapes-multilabel.onnx"
    module = SigmoidClassifierLayout(classifier)
    description = (
        "Multi-label shape-presence classifier fixture (sigmoid probabilities) trained on synthetic scenes"
    )
    metadata = ultralytics_metadata(
        "classify", description, {"multilabel": "True"}, stride=1, image_size=MULTILABEL_SIZE
    )
    export_onnx(module, path, (2, 3, MULTILABEL_SIZE, MULTILABEL_SIZE), ["output0"], True, metadata)
    check_batch = np.stack(
        [
            normalise_half(stretch_resize(scene_for_seed(HELD_OUT_SEED_BASE + index).image))
            for index in range(2)
        ]
    )
    check_onnx_matches(module, path, check_batch)
    print("held-out (multi-label file):", evaluate_multilabel_onnx(path))
