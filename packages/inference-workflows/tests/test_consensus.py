"""detections_consensus: votes between models' detections on one image, merged as Roboflow's block does."""

from __future__ import annotations

import numpy as np
import pytest
import supervision as sv
from inference_workflows import run_workflow
from inference_workflows.blocks.fusion import DetectionsConsensus
from inference_workflows.errors import WorkflowDefinitionError
from wf_specs import DETECTOR, SEGMENTER, image_input, output, spec, step

CONSENSUS = "roboflow_core/detections_consensus@v1"


def _detect(name: str, confidence: float, model_id: str = DETECTOR, **extra) -> dict:
    return step(
        "roboflow_core/roboflow_object_detection_model@v2",
        name,
        images="$inputs.image",
        model_id=model_id,
        confidence=confidence,
        **extra,
    )


def _consensus(manager, image, sources: list[dict], **fields) -> dict:
    steps = [
        *sources,
        step(
            CONSENSUS,
            "vote",
            predictions_batches=[f"$steps.{item['name']}.predictions" for item in sources],
            **fields,
        ),
    ]
    outputs = [output(item["name"], f"$steps.{item['name']}.predictions") for item in sources]
    outputs += [
        output(name, f"$steps.vote.{name}")
        for name in ("predictions", "object_present", "presence_confidence")
    ]
    return run_workflow(spec([image_input()], steps, outputs), {"image": image}, manager=manager)[0]


def _box(item: dict) -> tuple[float, float, float, float]:
    return (
        item["x"] - item["width"] / 2,
        item["y"] - item["height"] / 2,
        item["x"] + item["width"] / 2,
        item["y"] + item["height"] / 2,
    )


def test_two_confidences_vote_merge_and_report_presence(manager, scenes):
    # scene 0: star 1.0, triangle 0.998, triangle 0.981, star 0.79 (apart from each other); the strict
    # step keeps the first three, so only those have two votes.
    result = _consensus(
        manager, scenes[0].image, [_detect("strict", 0.9), _detect("loose", 0.5)], required_votes=2
    )
    strict, loose = result["strict"]["predictions"], result["loose"]["predictions"]
    assert len(strict) == 3 and len(loose) == 4
    merged = result["predictions"]["predictions"]
    assert len(merged) == 3
    for fused, vote in zip(merged, strict):
        partner = next(item for item in loose if item["class"] == vote["class"] and _box(item) == _box(vote))
        expected_box = np.mean([_box(vote), _box(partner)], axis=0)
        assert _box(fused) == pytest.approx(tuple(expected_box))
        assert fused["class"] == vote["class"]
        assert fused["confidence"] == pytest.approx((vote["confidence"] + partner["confidence"]) / 2)
        assert fused["detection_id"] not in {vote["detection_id"], partner["detection_id"]}
        assert fused["parent_id"] == vote["parent_id"]
    assert result["predictions"]["image"] == result["strict"]["image"]
    assert result["object_present"] is True
    by_class: dict[str, list[float]] = {}
    for item in merged:
        by_class.setdefault(item["class"], []).append(item["confidence"])
    assert result["presence_confidence"] == pytest.approx(
        {name: max(values) for name, values in by_class.items()}
    )
    assert sorted(result["presence_confidence"]) == ["star", "triangle"]


def test_one_vote_keeps_every_detection_and_presence_options(manager, scenes):
    image = scenes[0].image
    sources = [_detect("strict", 0.9), _detect("loose", 0.5)]
    alone = _consensus(manager, image, sources, required_votes=1)
    assert sorted(item["class"] for item in alone["predictions"]["predictions"]) == [
        "star",
        "star",
        "triangle",
        "triangle",
    ]
    only_stars = _consensus(manager, image, sources, required_votes=1, classes_to_consider=["star"])
    assert [item["class"] for item in only_stars["predictions"]["predictions"]] == ["star", "star"]
    agnostic = _consensus(
        manager, image, sources, required_votes=2, class_aware=False, presence_confidence_aggregation="min"
    )
    assert agnostic["object_present"] is True
    lowest = min(item["confidence"] for item in agnostic["predictions"]["predictions"])
    assert agnostic["presence_confidence"] == {"any_object": pytest.approx(lowest)}
    # two triangles and one star pass the vote: three stars are not there, two triangles are
    too_many = _consensus(manager, image, sources, required_votes=2, required_objects={"star": 3})
    assert (too_many["object_present"], too_many["presence_confidence"]) == (False, {})
    enough = _consensus(manager, image, sources, required_votes=2, required_objects={"triangle": 2})
    assert enough["object_present"] is True
    above_confidence = _consensus(manager, image, sources, required_votes=2, confidence=0.99)
    assert sorted(item["class"] for item in above_confidence["predictions"]["predictions"]) == [
        "star",
        "triangle",
    ]


def test_nothing_detected_answers_empty_and_absent(manager, scenes):
    result = _consensus(
        manager,
        scenes[2].image,
        [_detect("a", 0.9, class_filter=["star"]), _detect("b", 0.9, class_filter=["star"])],
        required_votes=1,
    )
    assert result["a"]["predictions"] == []
    assert result["predictions"] == {"image": {"width": None, "height": None}, "predictions": []}
    assert (result["object_present"], result["presence_confidence"]) == (False, {})


def test_a_segmentation_source_merges_masks(manager, scenes):
    # scene 2: a circle and a square; the detector's boxes get empty masks, the union is the segmenter's mask
    segment = step(
        "roboflow_core/roboflow_instance_segmentation_model@v2",
        "segment",
        images="$inputs.image",
        model_id=SEGMENTER,
        confidence=0.5,
    )
    result = _consensus(manager, scenes[2].image, [segment, _detect("detect", 0.5)], required_votes=2)
    merged = result["predictions"]["predictions"]
    assert sorted(item["class"] for item in merged) == ["circle", "square"]
    for fused in merged:
        assert len(fused["points"]) >= 3
        source = next(item for item in result["segment"]["predictions"] if item["class"] == fused["class"])
        xs = [point["x"] for point in source["points"]]
        ys = [point["y"] for point in source["points"]]
        assert _box(fused) == pytest.approx((min(xs), min(ys), max(xs), max(ys)), abs=2)


def _made(
    boxes: list[list[float]], confidences: list[float], names: list[str], parent: str = "image"
) -> sv.Detections:
    count = len(boxes)
    return sv.Detections(
        xyxy=np.array(boxes, dtype=float),
        confidence=np.array(confidences),
        class_id=np.array([{"a": 0, "b": 1}[name] for name in names]),
        data={
            "class_name": np.array(names),
            "detection_id": np.array([f"{parent}-{name}-{i}-{boxes[i]}" for i, name in enumerate(names)]),
            "parent_id": np.array([parent] * count),
            "root_parent_id": np.array([parent] * count),
            "parent_coordinates": np.array([[0, 0]] * count),
            "parent_dimensions": np.array([[100, 100]] * count),
            "root_parent_coordinates": np.array([[0, 0]] * count),
            "root_parent_dimensions": np.array([[100, 100]] * count),
            "image_dimensions": np.array([[100, 100]] * count),
        },
    )


def _vote(sources: list[sv.Detections], **fields) -> dict:
    settings = {
        "required_votes": 2,
        "class_aware": True,
        "iou_threshold": 0.3,
        "confidence": 0.0,
        "classes_to_consider": None,
        "required_objects": None,
        "presence_confidence_aggregation": "max",
        "detections_merge_confidence_aggregation": "average",
        "detections_merge_coordinates_aggregation": "average",
        "detections_merge_mask_aggregation": "union",
        **fields,
    }
    return DetectionsConsensus("vote", None).run(predictions_batches=sources, **settings)


@pytest.mark.parametrize(
    ("mode", "box", "confidence", "name"),
    [
        ("average", [11.0, 11.0, 48.0, 48.0], 0.7, "a"),
        ("max", [12.0, 12.0, 54.0, 54.0], 0.9, "b"),
        ("min", [10.0, 10.0, 40.0, 40.0], 0.5, "a"),
    ],
)
def test_coordinates_confidence_and_class_aggregation(mode, box, confidence, name):
    # three sources, one box each, overlapping well above 0.3 IoU; class "a" has two of three votes
    first = _made([[10, 10, 40, 40]], [0.5], ["a"])
    second = _made([[11, 11, 50, 50]], [0.7], ["a"])
    third = _made([[12, 12, 54, 54]], [0.9], ["b"])
    result = _vote(
        [first, second, third],
        class_aware=False,
        detections_merge_coordinates_aggregation=mode,
        detections_merge_confidence_aggregation=mode,
    )
    merged = result["predictions"]
    assert len(merged) == 1
    assert merged.xyxy[0].tolist() == pytest.approx(box)
    assert merged.confidence[0] == pytest.approx(confidence)
    assert merged.data["class_name"][0] == name


def test_best_overlap_per_source_votes_and_others_stay_unused():
    first = _made([[0, 0, 40, 40], [60, 60, 90, 90]], [0.9, 0.8], ["a", "a"])
    # the second source has a weak and a strong overlap with the first box: the strong one votes
    second = _made([[0, 0, 40, 30], [0, 0, 40, 40], [62, 62, 90, 90]], [0.6, 0.4, 0.7], ["a", "a", "b"])
    result = _vote([first, second], required_votes=2)
    merged = result["predictions"]
    assert merged.xyxy.tolist() == [[0.0, 0.0, 40.0, 40.0]]  # class-aware: the "b" box gives no vote
    assert merged.confidence[0] == pytest.approx(0.65)
    agnostic = _vote([first, second], required_votes=2, class_aware=False)
    assert agnostic["predictions"].xyxy.tolist() == [[0.0, 0.0, 40.0, 40.0], [61.0, 61.0, 90.0, 90.0]]
    assert agnostic["presence_confidence"] == {"any_object": pytest.approx(0.75)}


def test_sources_from_different_images_are_refused():
    with pytest.raises(ValueError, match="same image"):
        _vote([_made([[0, 0, 9, 9]], [0.9], ["a"]), _made([[0, 0, 9, 9]], [0.9], ["a"], parent="other")])


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"required_votes": 0}, "required_votes"),
        ({"required_votes": 2, "iou_threshold": 1.5}, "iou_threshold"),
        (
            {"required_votes": 2, "detections_merge_coordinates_aggregation": "median"},
            "detections_merge_coordinates_aggregation",
        ),
        ({"required_votes": 2, "required_objects": {"star": 0}}, "required_objects"),
        ({"required_votes": 2, "predictions_batches": "$steps.a.predictions"}, "predictions_batches"),
        ({"required_votes": 2, "predictions_batches": []}, "predictions_batches"),
        ({}, "required_votes"),
    ],
)
def test_bad_parameters_are_400s_naming_the_field(manager, scenes, fields, named):
    settings = {"predictions_batches": ["$steps.a.predictions", "$steps.b.predictions"], **fields}
    workflow = spec(
        [image_input()], [_detect("a", 0.9), _detect("b", 0.5), step(CONSENSUS, "vote", **settings)], []
    )
    with pytest.raises(WorkflowDefinitionError) as caught:
        run_workflow(workflow, {"image": scenes[0].image}, manager=manager)
    assert caught.value.status_code == 400
    assert "vote" in str(caught.value) and named in str(caught.value)
