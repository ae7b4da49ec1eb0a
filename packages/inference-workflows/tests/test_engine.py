"""The engine on real fixture models: batches, crops fanning out and back in, coordinates,
flow control and what stopped branches answer."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from inference_workflows import WorkflowRunner, run_workflow, validate_workflow
from scene_matching import match_scene
from wf_specs import (
    CLASSIFIER,
    COUNT,
    CROP,
    DETECT,
    DETECT_CROP_CLASSIFY_COUNT,
    DETECTOR,
    image_input,
    output,
    spec,
    step,
)


def test_detect_crop_classify_count_answers_one_object_per_image_in_order(manager, scenes):
    results = run_workflow(
        DETECT_CROP_CLASSIFY_COUNT, {"image": [scene.image for scene in scenes]}, manager=manager
    )
    assert len(results) == len(scenes)
    detector = manager.get(DETECTOR)
    for index, (result, scene) in enumerate(zip(results, scenes)):
        direct = detector.infer(scene.image, confidence=0.5)[0]
        assert result["count"] == len(direct.predictions) == len(scene.objects)
        # one classification and one crop per detection (dimensionality 2, nested per image)
        assert len(result["classes"]) == len(result["crops"]) == result["count"]
        # the i-th image of a list is `image.[i]`, as Roboflow names it
        assert all(
            crop["type"] == "base64" and crop["root_parent_id"] == f"image.[{index}]"
            for crop in result["crops"]
        )
        # classes replaced by the classifier's verdict on each crop, kept on the detector's boxes
        relabelled = result["detections"]["predictions"]
        assert [item["class"] for item in relabelled] == [item["top"] for item in result["classes"]]
        box = lambda item: (round(item["x"], 3), round(item["y"], 3), round(item["width"], 3))  # noqa: E731
        assert [box(item) for item in relabelled] == [box(item.to_dict()) for item in direct.predictions]
        found, missed, _ = match_scene(scene.objects, direct.predictions)
        assert missed == 0 and found == len(scene.objects)


def test_crop_lineage_ties_each_classification_to_its_detection(manager, scenes):
    result = run_workflow(DETECT_CROP_CLASSIFY_COUNT, {"image": scenes[0].image}, manager=manager)[0]
    crops, classes = result["crops"], result["classes"]
    for crop, classification in zip(crops, classes):
        assert classification["parent_id"] == crop["parent_id"]
        assert classification["root_parent_id"] == "image"
        assert classification["prediction_type"] == "classification"
        origin = crop["root_parent_origin"]
        assert (origin["width"], origin["height"]) == (scenes[0].image.shape[1], scenes[0].image.shape[0])


def _detect_on_crops(coordinates_system: str) -> dict:
    return spec(
        [image_input()],
        [
            DETECT,
            CROP,
            step(
                "roboflow_core/roboflow_object_detection_model@v1",
                "inner",
                images="$steps.crop.crops",
                model_id=DETECTOR,
                confidence=0.3,
            ),
        ],
        [output("inner", "$steps.inner.predictions", coordinates_system)],
    )


def test_parent_coordinates_move_crop_detections_back_into_the_input_image(manager, scenes):
    image = scenes[1].image
    own = run_workflow(_detect_on_crops("own"), {"image": image}, manager=manager)[0]["inner"]
    parent = run_workflow(_detect_on_crops("parent"), {"image": image}, manager=manager)[0]["inner"]
    assert len(own) == len(parent) > 0
    moved = 0
    for in_crop, in_image in zip(own, parent):
        assert in_image["image"] == {"width": image.shape[1], "height": image.shape[0]}
        for a, b in zip(in_crop["predictions"], in_image["predictions"]):
            offset = a["root_parent_origin"]
            assert b["x"] == pytest.approx(a["x"] + offset["offset_x"])
            assert b["y"] == pytest.approx(a["y"] + offset["offset_y"])
            assert b["parent_id"] == "image" and "parent_origin" not in b
            moved += 1
    assert moved > 0


def test_images_in_a_batch_are_independent_and_in_order(manager, scenes):
    images = [scene.image for scene in scenes]
    together = run_workflow(DETECT_CROP_CLASSIFY_COUNT, {"image": images}, manager=manager)
    alone = [
        run_workflow(DETECT_CROP_CLASSIFY_COUNT, {"image": image}, manager=manager)[0] for image in images
    ]
    assert [item["count"] for item in together] == [item["count"] for item in alone]
    assert [[c["top"] for c in item["classes"]] for item in together] == [
        [c["top"] for c in item["classes"]] for item in alone
    ]


def _gated(threshold: int) -> dict:
    gate = step(
        "roboflow_core/continue_if@v1",
        "gate",
        condition_statement={
            "type": "StatementGroup",
            "statements": [
                {
                    "type": "BinaryStatement",
                    "left_operand": {
                        "type": "DynamicOperand",
                        "operand_name": "detections",
                        "operations": [{"type": "SequenceLength"}],
                    },
                    "comparator": {"type": "(Number) >="},
                    "right_operand": {"type": "StaticOperand", "value": threshold},
                }
            ],
        },
        evaluation_parameters={"detections": "$steps.detect.predictions"},
        next_steps=["$steps.crop"],
    )
    classify = step(
        "roboflow_core/roboflow_classification_model@v1",
        "classify",
        images="$steps.crop.crops",
        model_id=CLASSIFIER,
    )
    return spec(
        [image_input()],
        [DETECT, gate, CROP, classify, COUNT],
        [
            output("count", "$steps.count.output"),
            output("crops", "$steps.crop.crops"),
            output("classes", "$steps.classify.predictions"),
            output("inference", "$steps.classify.inference_id"),
        ],
    )


def test_continue_if_stops_only_the_images_that_fail_the_condition(manager, scenes):
    counts = [len(scene.objects) for scene in scenes]
    threshold = sorted(counts)[len(counts) // 2]
    assert min(counts) < threshold <= max(counts), "scenes must straddle the threshold"
    results = run_workflow(_gated(threshold), {"image": [scene.image for scene in scenes]}, manager=manager)
    for result, count in zip(results, counts):
        assert result["count"] == count  # not gated: runs for every image
        if count >= threshold:
            assert len(result["crops"]) == len(result["classes"]) == count
        else:
            # a stopped branch: per-crop outputs are empty lists, as Roboflow's engine answers
            assert result["crops"] == [] and result["classes"] == [] and result["inference"] == []


def test_a_stopped_step_on_the_image_level_answers_none(manager, scenes):
    gate = step(
        "roboflow_core/continue_if@v1",
        "gate",
        condition_statement={
            "type": "StatementGroup",
            "statements": [
                {
                    "type": "UnaryStatement",
                    "operand": {"type": "DynamicOperand", "operand_name": "flag"},
                    "operator": {"type": "(Boolean) is True"},
                }
            ],
        },
        evaluation_parameters={"flag": "$inputs.run_detector"},
        next_steps=["$steps.detect"],
    )
    workflow = spec(
        [image_input(), {"type": "WorkflowParameter", "name": "run_detector", "default_value": False}],
        [
            gate,
            DETECT,
            COUNT,
            step(
                "roboflow_core/first_non_empty_or_default@v1",
                "merged",
                data=["$steps.count.output"],
                default=-1,
            ),
        ],
        [
            output("detections", "$steps.detect.predictions"),
            output("count", "$steps.count.output"),
            output("merged", "$steps.merged.output"),
        ],
    )
    skipped = run_workflow(workflow, {"image": scenes[0].image}, manager=manager)[0]
    assert skipped == {"detections": None, "count": None, "merged": -1}
    ran = run_workflow(workflow, {"image": scenes[0].image, "run_detector": True}, manager=manager)[0]
    assert ran["count"] == len(scenes[0].objects) == ran["merged"]
    assert len(ran["detections"]["predictions"]) == ran["count"]


def test_workflow_without_images_answers_one_object(manager):
    workflow = spec(
        [{"type": "WorkflowParameter", "name": "names", "default_value": ["a", "b", "c"]}],
        [
            step(
                "roboflow_core/property_definition@v1",
                "length",
                data="$inputs.names",
                operations=[{"type": "SequenceLength"}],
            )
        ],
        [output("length", "$steps.length.output"), output("names", "$inputs.names")],
    )
    assert run_workflow(workflow, {}, manager=manager) == [{"length": 3, "names": ["a", "b", "c"]}]
    assert run_workflow(workflow, {"names": ["x"]}, manager=manager) == [{"length": 1, "names": ["x"]}]


def test_star_selector_answers_every_output_of_the_step(manager, scenes):
    workflow = spec([image_input()], [DETECT], [output("all", "$steps.detect.*")])
    result = run_workflow(workflow, {"image": scenes[0].image}, manager=manager)[0]["all"]
    assert set(result) == {"inference_id", "predictions", "model_id"}
    assert result["model_id"] == DETECTOR


def test_excluded_fields_are_left_out(manager, scenes):
    runner = WorkflowRunner(DETECT_CROP_CLASSIFY_COUNT, manager=manager)
    result = runner.run({"image": scenes[0].image}, excluded_fields=["crops", "classes"])[0]
    assert set(result) == {"count", "detections"}


def test_a_step_failure_names_the_step(manager, scenes):
    workflow = copy.deepcopy(DETECT_CROP_CLASSIFY_COUNT)
    workflow["steps"][0]["model_id"] = "no-such/1"
    from inference_workflows import StepExecutionError

    with pytest.raises(StepExecutionError) as caught:
        run_workflow(workflow, {"image": scenes[0].image}, manager=manager)
    assert caught.value.step == "detect" and caught.value.status_code == 404


def test_missing_image_input_is_a_clear_error(manager):
    from inference_workflows import RuntimeInputError

    with pytest.raises(RuntimeInputError, match="'image'"):
        run_workflow(DETECT_CROP_CLASSIFY_COUNT, {}, manager=manager)


def test_numpy_and_base64_inputs_give_the_same_answer(manager, scenes):
    import base64

    import cv2

    image = scenes[2].image
    encoded = base64.b64encode(cv2.imencode(".png", image)[1].tobytes()).decode()
    workflow = spec([image_input()], [DETECT], [output("p", "$steps.detect.predictions")])
    from_array = run_workflow(workflow, {"image": image}, manager=manager)[0]["p"]["predictions"]
    from_text = run_workflow(workflow, {"image": {"type": "base64", "value": encoded}}, manager=manager)[0][
        "p"
    ]
    boxes = lambda items: [(p["class"], round(p["x"]), round(p["y"]), p["parent_id"]) for p in items]  # noqa: E731
    assert boxes(from_array) == boxes(from_text["predictions"])
    assert np.array_equal(
        image, cv2.imdecode(np.frombuffer(base64.b64decode(encoded), np.uint8), cv2.IMREAD_COLOR)
    )


def test_dimension_collapse_gathers_crop_results_per_image(manager, scenes):
    workflow = spec(
        [image_input()],
        [
            DETECT,
            CROP,
            step(
                "roboflow_core/roboflow_classification_model@v1",
                "classify",
                images="$steps.crop.crops",
                model_id=CLASSIFIER,
            ),
            step(
                "roboflow_core/property_definition@v1",
                "top",
                data="$steps.classify.predictions",
                operations=[{"type": "ClassificationPropertyExtract", "property_name": "top_class"}],
            ),
            step("roboflow_core/dimension_collapse@v1", "collapse", data="$steps.top.output"),
            step(
                "roboflow_core/property_definition@v1",
                "joined",
                data="$steps.collapse.output",
                operations=[{"type": "SequenceJoin", "separator": "+"}],
            ),
        ],
        [
            output("per_crop", "$steps.top.output"),
            output("collapsed", "$steps.collapse.output"),
            output("joined", "$steps.joined.output"),
        ],
    )
    results = run_workflow(workflow, {"image": [scene.image for scene in scenes[:2]]}, manager=manager)
    for result in results:
        assert isinstance(result["collapsed"], list) and result["collapsed"] == result["per_crop"]
        assert result["joined"] == "+".join(result["per_crop"])
    interface = validate_workflow(workflow).describe_interface()
    assert interface["outputs"]["collapsed"] == ["list_of_values"]
