"""Specifications the tests share, written as Roboflow's editor writes them."""

from __future__ import annotations

DETECTOR = "shapes/1"
SEGMENTER = "shapes-seg/1"
POSE = "shapes-pose/1"
CLASSIFIER = "shapes-cls/1"
MULTI_LABEL = "shapes-ml/1"


def image_input(name: str = "image") -> dict:
    return {"type": "WorkflowImage", "name": name}


def step(block: str, name: str, **fields) -> dict:
    return {"type": block, "name": name, **fields}


def output(name: str, selector: str, coordinates_system: str | None = None) -> dict:
    result = {"type": "JsonField", "name": name, "selector": selector}
    if coordinates_system:
        result["coordinates_system"] = coordinates_system
    return result


def spec(inputs: list, steps: list, outputs: list) -> dict:
    return {"version": "1.0", "inputs": inputs, "steps": steps, "outputs": outputs}


DETECT = step(
    "roboflow_core/roboflow_object_detection_model@v2",
    "detect",
    images="$inputs.image",
    model_id=DETECTOR,
    confidence=0.5,
)
CROP = step(
    "roboflow_core/dynamic_crop@v1", "crop", images="$inputs.image", predictions="$steps.detect.predictions"
)
CLASSIFY = step(
    "roboflow_core/roboflow_classification_model@v2",
    "classify",
    images="$steps.crop.crops",
    model_id=CLASSIFIER,
)
COUNT = step(
    "roboflow_core/property_definition@v1",
    "count",
    data="$steps.detect.predictions",
    operations=[{"type": "SequenceLength"}],
)

#: The README's workflow: detect shapes, crop each, classify the crops, count the detections.
DETECT_CROP_CLASSIFY_COUNT = spec(
    [image_input()],
    [
        DETECT,
        CROP,
        CLASSIFY,
        COUNT,
        step(
            "roboflow_core/detections_classes_replacement@v1",
            "relabel",
            object_detection_predictions="$steps.detect.predictions",
            classification_predictions="$steps.classify.predictions",
        ),
    ],
    [
        output("count", "$steps.count.output"),
        output("classes", "$steps.classify.predictions"),
        output("detections", "$steps.relabel.predictions"),
        output("crops", "$steps.crop.crops"),
    ],
)
