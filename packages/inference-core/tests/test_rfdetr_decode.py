"""RF-DETR decoding rules on hand-made logits: top-k over queries x classes, no-object, class offset."""

from __future__ import annotations

import json

import numpy as np
import pytest
from inference_core.errors import ModelArtifactError
from inference_core.models.rfdetr import (
    BACKGROUND_CLASS,
    ClassLayout,
    is_detection_type,
    is_segmentation_type,
    read_input_config,
    select,
    sigmoid,
    stretch_to_tensor,
)
from inference_core.params import InferenceParams

NAMES = ["circle", "square", "triangle"]


def logit(probability: float) -> float:
    return float(np.log(probability / (1 - probability)))


def grid(entries: dict[tuple[int, int], float], queries: int = 5, columns: int = 4) -> np.ndarray:
    logits = np.full((queries, columns), logit(0.01), dtype=np.float32)
    for (query, column), probability in entries.items():
        logits[query, column] = logit(probability)
    return logits


def run(logits, layout, **kwargs):
    return select(logits, layout, InferenceParams.from_kwargs(**kwargs), lambda c: layout.names[c])


def test_top_pairs_over_queries_and_classes_highest_first():
    layout = ClassLayout.build(NAMES, frozenset(), 4)
    # query 1 scores two classes: both pairs are kept (no per-query argmax, no NMS)
    chosen = run(grid({(1, 0): 0.9, (1, 2): 0.8, (3, 1): 0.6}), layout, confidence=0.5)
    assert chosen.queries.tolist() == [1, 1, 3]
    assert chosen.class_ids.tolist() == [0, 2, 1]
    np.testing.assert_allclose(chosen.scores, [0.9, 0.8, 0.6], atol=1e-6)


def test_no_object_column_is_never_answered():
    layout = ClassLayout.build(NAMES, frozenset(), 4)
    chosen = run(grid({(0, 3): 0.99, (2, 1): 0.7}), layout, confidence=0.5)
    assert chosen.class_ids.tolist() == [1]


def test_top_k_is_the_number_of_queries_before_the_threshold():
    # 3 queries: only the best 3 pairs of the 12 are considered, even though 4 pass the threshold
    layout = ClassLayout.build(NAMES, frozenset(), 4)
    logits = grid({(0, 0): 0.95, (0, 1): 0.9, (1, 2): 0.85, (2, 0): 0.8}, queries=3)
    chosen = run(logits, layout, confidence=0.5)
    assert len(chosen.scores) == 3
    assert chosen.scores.min() > 0.84


def test_threshold_is_strict_and_max_detections_and_class_filter_apply():
    layout = ClassLayout.build(NAMES, frozenset(), 4)
    logits = grid({(0, 0): 0.9, (1, 1): 0.8, (2, 2): 0.7, (3, 0): 0.6})
    exactly_fourth = float(sigmoid(np.float32(logit(0.6))))
    assert len(run(logits, layout, confidence=exactly_fourth).scores) == 3
    assert run(logits, layout, confidence=0.5, max_detections=2).class_ids.tolist() == [0, 1]
    assert run(logits, layout, confidence=0.5, class_filter=["circle"]).queries.tolist() == [0, 3]


def test_background_class_shifts_the_class_ids_down():
    # Roboflow lists a background slot first in one-indexed RF-DETR models
    names = [BACKGROUND_CLASS, *NAMES]
    layout = ClassLayout.build(names, frozenset(), 5)
    assert layout.names == NAMES
    assert layout.column_to_class.tolist() == [-1, 0, 1, 2, -1]
    chosen = run(grid({(0, 0): 0.95, (1, 1): 0.9, (2, 3): 0.8, (3, 4): 0.7}, columns=5), layout, confidence=0.5)
    assert chosen.class_ids.tolist() == [0, 2]


def test_class_names_operations_remove_a_class(tmp_path):
    (tmp_path / "inference_config.json").write_text(json.dumps({
        "network_input": {"resize_mode": "stretch", "normalization": [[0.5, 0.5, 0.5], [0.25, 0.25, 0.25]]},
        "class_names_operations": [{"type": "class_name_removal", "class_name": "square"}],
    }))
    config = read_input_config(tmp_path)
    assert config.mean == (0.5, 0.5, 0.5) and config.std == (0.25, 0.25, 0.25)
    layout = ClassLayout.build(NAMES, config.removed_classes, 4)
    assert layout.names == ["circle", "triangle"]
    assert layout.column_to_class.tolist() == [0, -1, 1, -1]


def test_malformed_inference_config_is_a_clear_error(tmp_path):
    (tmp_path / "inference_config.json").write_text('{"network_input": {"normalization": [1]}}')
    with pytest.raises(ModelArtifactError, match="inference_config.json"):
        read_input_config(tmp_path)


def test_stretch_is_pil_bilinear_rgb_imagenet():
    from PIL import Image

    rng = np.random.default_rng(3)
    bgr = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    tensor = stretch_to_tensor(bgr, 32, 24, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    assert tensor.shape == (1, 3, 24, 32) and tensor.dtype == np.float32
    expected = np.asarray(Image.fromarray(bgr[..., ::-1].copy()).resize((32, 24), Image.BILINEAR), dtype=np.float32)
    expected = (expected / 255.0 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(tensor[0].transpose(1, 2, 0), expected, atol=1e-5)


@pytest.mark.parametrize("model_type", ["rfdetr", "rfdetr-base", "rfdetr-nano", "rfdetr-small", "rfdetr-medium",
                                        "rfdetr-large", "rfdetr-2xlarge", "RFDETR-Nano"])
def test_detector_types(model_type):
    assert is_detection_type(model_type)


@pytest.mark.parametrize("model_type", ["rfdetr", "rfdetr-seg-preview", "rfdetr-seg-nano", "rfdetr-seg-2xlarge"])
def test_segmentation_types(model_type):
    assert is_segmentation_type(model_type)


@pytest.mark.parametrize("model_type", ["rfdetr-seg-preview", "rfdetr-keypoint-preview", "rfdetr-sem-small",
                                        "rfdetr-nas", "yolov8n", ""])
def test_not_detector_types(model_type):
    assert not is_detection_type(model_type)


@pytest.mark.parametrize("model_type", ["rfdetr-nano", "rfdetr-nas-seg", "rfdetr-sem-small", "yolov8n-seg"])
def test_not_segmentation_types(model_type):
    assert not is_segmentation_type(model_type)
