"""Bad specifications are refused before anything runs, with a message naming the step and field."""

from __future__ import annotations

import copy

import pytest
from inference_workflows import WorkflowDefinitionError, validate_workflow
from wf_specs import DETECT, DETECT_CROP_CLASSIFY_COUNT, image_input, output, spec, step


def _refused(workflow: dict) -> WorkflowDefinitionError:
    with pytest.raises(WorkflowDefinitionError) as caught:
        validate_workflow(workflow)
    assert caught.value.status_code == 400
    return caught.value


def test_the_readme_workflow_is_valid():
    compiled = validate_workflow(DETECT_CROP_CLASSIFY_COUNT)
    assert [item.name for item in compiled.steps][:2] == ["detect", "crop"]


def test_unknown_block_names_the_step_and_type():
    workflow = spec([image_input()], [step("roboflow_core/teleport@v1", "jump", images="$inputs.image")], [])
    error = _refused(workflow)
    assert (error.step, error.field) == ("jump", "type")
    assert "'jump'" in error.message and "teleport" in error.message


def test_old_short_aliases_are_accepted():
    workflow = spec(
        [{"type": "InferenceImage", "name": "image"}],
        [
            step("ObjectDetectionModel", "det", image="$inputs.image", model_id="a/1"),
            step("Crop", "crop", image="$inputs.image", detections="$steps.det.predictions"),
        ],
        [output("crops", "$steps.crop.crops")],
    )
    assert [item.block.name for item in validate_workflow(workflow).steps] == [
        "roboflow_core/roboflow_object_detection_model@v1",
        "roboflow_core/dynamic_crop@v1",
    ]


@pytest.mark.parametrize(
    ("selector", "problem"),
    [
        ("$inputs.picture", "names no input"),
        ("$steps.nothing.predictions", "names no step"),
        ("$steps.detect.boxes", "has no output 'boxes'"),
        ("$steps.detect", "malformed selector"),
        ("$input.image", "malformed selector"),
    ],
)
def test_bad_selectors_name_the_step_and_field(selector, problem):
    workflow = spec(
        [image_input()],
        [DETECT, step("roboflow_core/dynamic_crop@v1", "crop", images="$inputs.image", predictions=selector)],
        [],
    )
    error = _refused(workflow)
    assert (error.step, error.field) == ("crop", "predictions")
    assert problem in error.message


def test_type_mismatch_between_an_output_and_the_next_input():
    workflow = spec(
        [image_input()],
        [
            DETECT,
            step(
                "roboflow_core/roboflow_classification_model@v2",
                "classify",
                images="$steps.detect.predictions",
                model_id="a/1",
            ),
        ],
        [],
    )
    error = _refused(workflow)
    assert (error.step, error.field) == ("classify", "images")
    assert "type mismatch" in error.message and "object_detection_prediction" in error.message


def test_cycles_are_refused_naming_the_steps():
    workflow = spec(
        [image_input()],
        [
            step(
                "roboflow_core/detections_filter@v1", "a", predictions="$steps.b.predictions", operations=[]
            ),
            step(
                "roboflow_core/detections_filter@v1", "b", predictions="$steps.a.predictions", operations=[]
            ),
        ],
        [],
    )
    error = _refused(workflow)
    assert error.step == "a" and "cycle" in error.message and "'b'" in error.message


def test_missing_required_field_and_bad_literal():
    missing = copy.deepcopy(DETECT)
    del missing["model_id"]
    error = _refused(spec([image_input()], [missing], []))
    assert (error.step, error.field) == ("detect", "model_id") and "required" in error.message
    bad = dict(DETECT, confidence=1.5)
    error = _refused(spec([image_input()], [bad], []))
    assert (error.step, error.field) == ("detect", "confidence") and "between 0 and 1" in error.message


def test_unknown_operation_in_the_operations_language():
    workflow = spec(
        [image_input()],
        [
            DETECT,
            step(
                "roboflow_core/property_definition@v1",
                "p",
                data="$steps.detect.predictions",
                operations=[{"type": "RunPython", "code": "1"}],
            ),
        ],
        [],
    )
    error = _refused(workflow)
    assert (error.step, error.field) == ("p", "operations") and "RunPython" in error.message


def test_combining_crops_of_two_different_steps_is_refused():
    workflow = spec(
        [image_input()],
        [
            DETECT,
            step(
                "roboflow_core/dynamic_crop@v1",
                "crop_a",
                images="$inputs.image",
                predictions="$steps.detect.predictions",
            ),
            step(
                "roboflow_core/dynamic_crop@v1",
                "crop_b",
                images="$inputs.image",
                predictions="$steps.detect.predictions",
            ),
            step(
                "roboflow_core/dynamic_crop@v1",
                "draw",
                images="$steps.crop_a.crops",
                predictions="$steps.crop_b.predictions",
            ),
        ],
        [],
    )
    error = _refused(workflow)
    assert error.step == "draw" and "different batches" in error.message


def test_duplicate_names_and_bad_outputs():
    error = _refused(spec([image_input()], [DETECT, DETECT], []))
    assert error.step == "detect" and "duplicate" in error.message
    error = _refused(spec([image_input()], [DETECT], [output("x", "$steps.detect.predictions", "world")]))
    assert "coordinates_system" in error.message
