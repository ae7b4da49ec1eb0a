"""Each block on real images and the fixture models: what it answers and that the answer is right."""

from __future__ import annotations

import base64
import json

import cv2
import numpy as np
import pytest
import zxingcpp
from inference_workflows import run_workflow
from model_dirs import held_out_scenes
from wf_specs import DETECT, DETECTOR, MULTI_LABEL, POSE, SEGMENTER, image_input, output, spec, step


def _run(manager, steps, outputs, image, **inputs):
    workflow = spec(
        [image_input(), *[{"type": "WorkflowParameter", "name": name} for name in inputs]], steps, outputs
    )
    return run_workflow(workflow, {"image": image, **inputs}, manager=manager)[0]


def _decode(image: dict) -> np.ndarray:
    assert image["type"] == "base64"
    return cv2.imdecode(np.frombuffer(base64.b64decode(image["value"]), np.uint8), cv2.IMREAD_COLOR)


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_segmentation_and_keypoint_models(manager, version):
    scene = next(
        item
        for item in held_out_scenes(30, seed=912_000)
        if any(obj.class_name == "square" for obj in item.objects)
    )
    steps = [
        step(
            f"roboflow_core/roboflow_instance_segmentation_model@{version}",
            "seg",
            images="$inputs.image",
            model_id=SEGMENTER,
            confidence=0.5,
        ),
        step(
            f"roboflow_core/roboflow_keypoint_detection_model@{version}",
            "pose",
            images="$inputs.image",
            model_id=POSE,
            confidence=0.5,
        ),
    ]
    result = _run(
        manager,
        steps,
        [output("seg", "$steps.seg.*"), output("pose", "$steps.pose.predictions")],
        scene.image,
    )
    segments = result["seg"]["predictions"]["predictions"]
    assert len(segments) == len(scene.objects)
    assert all(len(item["points"]) >= 3 for item in segments)
    assert ("model_id" in result["seg"]) == (version == "v2")
    poses = result["pose"]["predictions"]
    direct = manager.get(POSE).infer(scene.image, confidence=0.5)[0].to_dict()["predictions"]
    assert len(poses) == len(direct) == sum(1 for obj in scene.objects if obj.class_name == "square") > 0
    for ours, theirs in zip(poses, direct):
        assert [(k["class"], round(k["x"], 2), round(k["y"], 2)) for k in ours["keypoints"]] == [
            (k["class"], round(k["x"], 2), round(k["y"], 2)) for k in theirs["keypoints"]
        ]


def test_multi_label_classification_and_wrong_layout(manager, scenes):
    scene = scenes[0]
    result = _run(
        manager,
        [
            step(
                "roboflow_core/roboflow_multi_label_classification_model@v1",
                "ml",
                images="$inputs.image",
                model_id=MULTI_LABEL,
            )
        ],
        [output("ml", "$steps.ml.predictions")],
        scene.image,
    )
    assert set(result["ml"]["predicted_classes"]) == {obj.class_name for obj in scene.objects}
    assert result["ml"]["prediction_type"] == "classification"
    from inference_workflows import StepExecutionError

    with pytest.raises(StepExecutionError, match="not a single-label"):
        _run(
            manager,
            [
                step(
                    "roboflow_core/roboflow_classification_model@v1",
                    "c",
                    images="$inputs.image",
                    model_id=MULTI_LABEL,
                )
            ],
            [output("c", "$steps.c.predictions")],
            scene.image,
        )


def test_detections_filter_with_operations_parameters(manager, scenes):
    scene = max(scenes, key=lambda item: len(item.objects))
    keep = scene.objects[0].class_name
    filter_step = step(
        "roboflow_core/detections_filter@v1",
        "only",
        predictions="$steps.detect.predictions",
        operations=[
            {
                "type": "DetectionsFilter",
                "filter_operation": {
                    "type": "StatementGroup",
                    "operator": "and",
                    "statements": [
                        {
                            "type": "BinaryStatement",
                            "left_operand": {
                                "type": "DynamicOperand",
                                "operations": [
                                    {"type": "ExtractDetectionProperty", "property_name": "class_name"}
                                ],
                            },
                            "comparator": {"type": "in (Sequence)"},
                            "right_operand": {"type": "DynamicOperand", "operand_name": "wanted"},
                        }
                    ],
                },
            }
        ],
        operations_parameters={"wanted": "$inputs.wanted"},
    )
    result = _run(
        manager,
        [DETECT, filter_step],
        [output("kept", "$steps.only.predictions")],
        scene.image,
        wanted=[keep],
    )
    expected = sum(1 for obj in scene.objects if obj.class_name == keep)
    assert [item["class"] for item in result["kept"]["predictions"]] == [keep] * expected


def test_detection_offset_grows_boxes_and_re_parents(manager, scenes):
    offset = step(
        "roboflow_core/detection_offset@v1",
        "grow",
        predictions="$steps.detect.predictions",
        offset_width=20,
        offset_height=10,
    )
    result = _run(
        manager,
        [DETECT, offset],
        [output("a", "$steps.detect.predictions"), output("b", "$steps.grow.predictions")],
        scenes[0].image,
    )
    for before, after in zip(result["a"]["predictions"], result["b"]["predictions"]):
        assert after["parent_id"] == before["detection_id"] != after["detection_id"]
        assert after["width"] == pytest.approx(min(before["width"] + 20, after["width"]))
        assert after["width"] > before["width"] and after["height"] > before["height"]


def test_static_crops(manager, scenes):
    image = scenes[0].image
    height, width = image.shape[:2]
    steps = [
        step(
            "roboflow_core/relative_statoic_crop@v1",
            "rel",
            images="$inputs.image",
            x_center=0.5,
            y_center=0.5,
            width=0.5,
            height=0.5,
        ),
        step(
            "AbsoluteStaticCrop", "abs", images="$inputs.image", x_center=50, y_center=40, width=60, height=40
        ),
    ]
    result = _run(
        manager, steps, [output("rel", "$steps.rel.crops"), output("abs", "$steps.abs.crops")], image
    )
    rel = _decode(result["rel"])
    assert rel.shape[:2] == (round(height / 2), round(width / 2))
    assert result["abs"]["parent_origin"] == {
        "offset_x": 20,
        "offset_y": 20,
        "width": width,
        "height": height,
    }
    assert np.abs(_decode(result["abs"]).astype(int) - image[20:60, 20:80].astype(int)).mean() < 8


def test_expression_and_property_definition(manager, scenes):
    scene = scenes[0]
    count = step(
        "roboflow_core/property_definition@v1",
        "classes",
        data="$steps.detect.predictions",
        operations=[
            {"type": "DetectionsPropertyExtract", "property_name": "class_name"},
            {"type": "SequenceAggregate", "mode": "most_common"},
        ],
    )
    verdict = step(
        "roboflow_core/expression@v1",
        "verdict",
        data={"predictions": "$steps.detect.predictions", "limit": "$inputs.limit"},
        data_operations={"predictions": [{"type": "SequenceLength"}]},
        switch={
            "type": "CasesDefinition",
            "cases": [
                {
                    "type": "CaseDefinition",
                    "condition": {
                        "type": "StatementGroup",
                        "statements": [
                            {
                                "type": "BinaryStatement",
                                "left_operand": {"type": "DynamicOperand", "operand_name": "predictions"},
                                "comparator": {"type": "(Number) >"},
                                "right_operand": {"type": "DynamicOperand", "operand_name": "limit"},
                            }
                        ],
                    },
                    "result": {"type": "StaticCaseResult", "value": "MANY"},
                }
            ],
            "default": {"type": "DynamicCaseResult", "parameter_name": "predictions"},
        },
    )
    outputs = [output("common", "$steps.classes.output"), output("verdict", "$steps.verdict.output")]
    few = _run(manager, [DETECT, count, verdict], outputs, scene.image, limit=100)
    names = [obj.class_name for obj in scene.objects]
    assert few["common"] in names and names.count(few["common"]) == max(names.count(n) for n in names)
    assert few["verdict"] == len(scene.objects)
    many = _run(manager, [DETECT, count, verdict], outputs, scene.image, limit=0)
    assert many["verdict"] == "MANY"


def test_json_parser_and_csv_formatter(manager, scenes):
    parse = step("roboflow_core/json_parser@v1", "parse", raw_json="$inputs.text", expected_fields=["a", "b"])
    csv_step = step(
        "roboflow_core/csv_formatter@v1",
        "csv",
        columns_data={"count": "$steps.detect.predictions", "label": "$inputs.label"},
        columns_operations={"count": [{"type": "SequenceLength"}]},
    )
    workflow = spec(
        [
            image_input(),
            {"type": "WorkflowParameter", "name": "text"},
            {"type": "WorkflowParameter", "name": "label"},
        ],
        [DETECT, parse, csv_step],
        [
            output("a", "$steps.parse.a"),
            output("error", "$steps.parse.error_status"),
            output("csv", "$steps.csv.csv_content"),
        ],
    )
    images = [scene.image for scene in scenes[:3]]
    results = run_workflow(
        workflow, {"image": images, "text": '```json\n{"a": 1}\n```', "label": "=cmd"}, manager=manager
    )
    assert [item["a"] for item in results] == [1, 1, 1] and results[0]["error"] is True  # "b" is missing
    assert [item["csv"] is None for item in results] == [True, True, False]
    rows = results[-1]["csv"].strip().split("\n")
    assert rows[0] == "count,label,timestamp"
    assert [row.split(",")[:2] for row in rows[1:]] == [[str(len(s.objects)), "'=cmd"] for s in scenes[:3]]


def test_visualizations_draw_on_a_copy_of_the_image(manager, scenes):
    scene = scenes[0]
    steps = [DETECT]
    names = ["bounding_box", "label", "blur", "pixelate", "dot", "triangle", "circle", "color"]
    for name in names:
        steps.append(
            step(
                f"roboflow_core/{name}_visualization@v1",
                name,
                image="$inputs.image",
                predictions="$steps.detect.predictions",
            )
        )
    result = _run(manager, steps, [output(name, f"$steps.{name}.image") for name in names], scene.image)
    x1, y1, x2, y2 = (int(v) for v in scene.objects[0].box)
    for name in names:
        drawn = _decode(result[name])
        assert drawn.shape == scene.image.shape
        changed = np.abs(drawn.astype(int) - scene.image.astype(int)).sum(axis=2) > 60
        assert changed.any(), name
        # far from every object nothing is drawn (JPEG noise aside)
        assert changed[:5, :5].sum() == 0 or name == "label", name
    boxes = np.abs(_decode(result["bounding_box"]).astype(int) - scene.image.astype(int)).sum(axis=2) > 60
    assert boxes[max(y1 - 3, 0) : y1 + 3, x1:x2].any()


def test_segmentation_drawing_and_keypoints(manager, scenes):
    scene = scenes[0]
    steps = [
        step(
            "roboflow_core/roboflow_instance_segmentation_model@v1",
            "seg",
            images="$inputs.image",
            model_id=SEGMENTER,
            confidence=0.5,
        ),
        step(
            "roboflow_core/roboflow_keypoint_detection_model@v1",
            "pose",
            images="$inputs.image",
            model_id=POSE,
            confidence=0.5,
        ),
        step(
            "roboflow_core/mask_visualization@v1",
            "mask",
            image="$inputs.image",
            predictions="$steps.seg.predictions",
        ),
        step(
            "roboflow_core/polygon_visualization@v1",
            "poly",
            image="$inputs.image",
            predictions="$steps.seg.predictions",
        ),
        step(
            "roboflow_core/keypoint_visualization@v1",
            "kp",
            image="$inputs.image",
            predictions="$steps.pose.predictions",
            annotator_type="vertex",
        ),
    ]
    result = _run(
        manager, steps, [output(n, f"$steps.{n}.image") for n in ("mask", "poly", "kp")], scene.image
    )
    for name in ("mask", "poly", "kp"):
        assert (np.abs(_decode(result[name]).astype(int) - scene.image.astype(int)).sum(axis=2) > 60).any(), (
            name
        )


def _moving_frames(scene, steps_count=6, shift=30):
    height, width = scene.image.shape[:2]
    canvas = np.full((height, width + shift * steps_count, 3), 114, np.uint8)
    frames = []
    for index in range(steps_count):
        frame = canvas.copy()
        frame[:, index * shift : index * shift + width] = scene.image
        frames.append(frame)
    return frames


def test_byte_tracker_keeps_ids_and_line_counter_counts_crossings(manager, scenes):
    from inference_workflows import WorkflowRunner

    scene = scenes[1]
    frames = _moving_frames(scene, steps_count=6, shift=8)
    biggest = max(scene.objects, key=lambda obj: obj.box[2] - obj.box[0])
    x_line = int((biggest.box[0] + biggest.box[2]) / 2) + 20  # its centre crosses it between frames 2 and 3
    workflow = spec(
        [image_input()],
        [
            DETECT,
            step(
                "roboflow_core/byte_tracker@v3",
                "track",
                image="$inputs.image",
                detections="$steps.detect.predictions",
            ),
            step(
                "roboflow_core/line_counter@v2",
                "line",
                image="$inputs.image",
                triggering_anchor="CENTER",
                detections="$steps.track.tracked_detections",
                line_segment=[[x_line, 0], [x_line, 2000]],
            ),
        ],
        [
            output("tracked", "$steps.track.tracked_detections"),
            output("new", "$steps.track.new_instances"),
            output("in", "$steps.line.count_in"),
            output("out", "$steps.line.count_out"),
        ],
    )
    runner = WorkflowRunner(workflow, manager=manager)
    answers = [runner.run({"image": frame})[0] for frame in frames]
    tracks: dict[int, list[float]] = {}
    for answer in answers:
        for item in answer["tracked"]["predictions"]:
            tracks.setdefault(item["tracker_id"], []).append(item["x"])
    first_ids = {item["tracker_id"] for item in answers[0]["tracked"]["predictions"]}
    assert len(first_ids) >= len(scene.objects)
    assert set(tracks) == first_ids  # the same objects keep their ids while they move
    assert len(answers[0]["new"]["predictions"]) == len(first_ids)
    assert all(answer["new"]["predictions"] == [] for answer in answers[1:])
    crossed = sum(1 for xs in tracks.values() if xs[0] < x_line < xs[-1])
    assert crossed >= 1
    assert (answers[-1]["in"], answers[-1]["out"]) in {(crossed, 0), (0, crossed)}


def test_qr_and_barcode_detection(manager):
    page = np.full((400, 700, 3), 255, np.uint8)
    qr = cv2.resize(
        cv2.QRCodeEncoder.create().encode("visionhost"), (150, 150), interpolation=cv2.INTER_NEAREST
    )
    page[40:190, 40:190] = qr[..., None]
    barcode = np.array(
        zxingcpp.create_barcode("123456789012", zxingcpp.BarcodeFormat.EAN13).to_image(scale=3)
    )
    page[220 : 220 + barcode.shape[0], 300 : 300 + barcode.shape[1]] = barcode[..., None]
    steps = [
        step("roboflow_core/qr_code_detector@v1", "qr", images="$inputs.image"),
        step("BarcodeDetector", "bar", images="$inputs.image"),
    ]
    result = _run(
        manager, steps, [output("qr", "$steps.qr.predictions"), output("bar", "$steps.bar.predictions")], page
    )
    (qr_found,) = result["qr"]["predictions"]
    assert qr_found["data"] == "visionhost" and qr_found["class"] == "qr_code"
    assert 40 <= qr_found["x"] - qr_found["width"] / 2 <= 60
    # zxing reads every format, the QR code included, as Roboflow's barcode block does
    assert sorted(item["data"] for item in result["bar"]["predictions"]) == ["1234567890128", "visionhost"]
    bar_found = next(item for item in result["bar"]["predictions"] if item["data"] == "1234567890128")
    assert bar_found["class"] == "barcode" and 300 <= bar_found["x"] - bar_found["width"] / 2 <= 360
    assert json.dumps(result)  # all plain JSON


def test_models_on_many_crops_batch_through_the_model(manager, scenes):
    """Each crop is classified; results match classifying the crops one at a time."""
    from wf_specs import CLASSIFY, CROP

    result = _run(
        manager,
        [DETECT, CROP, CLASSIFY],
        [output("c", "$steps.classify.predictions"), output("crops", "$steps.crop.crops")],
        scenes[1].image,
    )
    classifier = manager.get("shapes-cls/1")
    singles = [classifier.infer(_decode(crop))[0].top for crop in result["crops"]]
    assert [item["top"] for item in result["c"]] == singles
    assert DETECTOR


def test_slicer_and_stitch_find_objects_in_a_large_image(manager):
    from inference_workflows.blocks.slicing import slice_offsets
    from scene_matching import match_scene

    scene = held_out_scenes(1, seed=913_000)[0]
    big = cv2.resize(scene.image, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)
    steps = [
        step(
            "roboflow_core/image_slicer@v2",
            "slicer",
            image="$inputs.image",
            slice_width=480,
            slice_height=480,
            overlap_ratio_width=0.25,
            overlap_ratio_height=0.25,
        ),
        step(
            "roboflow_core/roboflow_object_detection_model@v2",
            "detect",
            images="$steps.slicer.slices",
            model_id=DETECTOR,
            confidence=0.5,
        ),
        step(
            "roboflow_core/detections_stitch@v1",
            "stitch",
            reference_image="$inputs.image",
            predictions="$steps.detect.predictions",
            overlap_filtering_strategy="nms",
            iou_threshold=0.3,
        ),
    ]
    result = _run(
        manager,
        steps,
        [
            output("stitched", "$steps.stitch.predictions"),
            output("per_slice", "$steps.detect.predictions", "own"),
            output("slices", "$steps.slicer.slices"),
        ],
        big,
    )
    height, width = big.shape[:2]
    boxes = slice_offsets(width, height, 480, 480, 0.25, 0.25, keep_inside=True)
    assert len(result["slices"]) == len(result["per_slice"]) == len(boxes)
    assert all(_decode(item).shape[:2] == (480, 480) for item in result["slices"])
    stitched = result["stitched"]
    assert stitched["image"] == {"width": width, "height": height}
    objects = [
        type(obj)(obj.class_id, obj.class_name, tuple(v * 2 for v in obj.box), obj.mask, obj.keypoints)
        for obj in scene.objects
    ]
    found, missed, false_positives = match_scene(objects, stitched["predictions"], min_iou=0.5)
    assert missed == 0 and found == len(objects)
    assert all(item["parent_id"] == "image" for item in stitched["predictions"])
    # overlapping slices saw some objects twice; stitching merged them
    assert sum(len(item["predictions"]) for item in result["per_slice"]) >= len(stitched["predictions"])


def test_bounding_rect_on_segmentation(manager, scenes):
    steps = [
        step(
            "roboflow_core/roboflow_instance_segmentation_model@v1",
            "seg",
            images="$inputs.image",
            model_id=SEGMENTER,
            confidence=0.5,
        ),
        step("roboflow_core/bounding_rect@v1", "rect", predictions="$steps.seg.predictions"),
    ]
    result = _run(manager, steps, [output("rect", "$steps.rect.detections_with_rect")], scenes[0].image)
    items = result["rect"]["predictions"]
    assert len(items) == len(scenes[0].objects)
    for item in items:
        assert len(item["rect"]) == 4 and {"angle", "width", "height"} <= set(item)
        corners = np.array(item["rect"], dtype=float)
        sides = sorted(np.linalg.norm(corners - np.roll(corners, 1, axis=0), axis=1))
        # as Roboflow serialises it, `width`/`height` become the rotated rectangle's sides
        assert sorted([item["width"], item["height"]]) == pytest.approx([sides[0], sides[2]], abs=2.5)


def test_time_in_zone_counts_video_seconds_per_tracked_object(manager, scenes):
    from inference_workflows import WorkflowRunner

    scene = scenes[1]
    frames = _moving_frames(scene, steps_count=4, shift=8)
    height, width = frames[0].shape[:2]
    zone = [[0, 0], [width, 0], [width, height], [0, height]]  # the whole frame: everyone is inside
    workflow = spec(
        [image_input()],
        [
            DETECT,
            step(
                "roboflow_core/byte_tracker@v3",
                "track",
                image="$inputs.image",
                detections="$steps.detect.predictions",
            ),
            step(
                "roboflow_core/time_in_zone@v2",
                "zone",
                image="$inputs.image",
                detections="$steps.track.tracked_detections",
                zone=zone,
            ),
            step(
                "roboflow_core/velocity@v1",
                "speed",
                image="$inputs.image",
                detections="$steps.track.tracked_detections",
                smoothing_alpha=1.0,
                pixels_per_meter=2.0,
            ),
        ],
        [
            output("timed", "$steps.zone.timed_detections"),
            output("moving", "$steps.speed.velocity_detections"),
        ],
    )
    runner = WorkflowRunner(workflow, manager=manager)
    answers = []
    for number, frame in enumerate(frames, start=1):
        encoded = base64.b64encode(cv2.imencode(".png", frame)[1].tobytes()).decode()
        metadata = {
            "video_identifier": "cam-1",
            "frame_number": number,
            "fps": 10,
            "comes_from_video_file": True,
            "frame_timestamp": "2026-01-01T00:00:00",
        }
        answers.append(
            runner.run({"image": {"type": "base64", "value": encoded, "video_metadata": metadata}})[0]
        )
    first = {item["tracker_id"] for item in answers[0]["timed"]["predictions"]}
    assert first and all(item["time_in_zone"] == 0 for item in answers[0]["timed"]["predictions"])
    last = {item["tracker_id"]: item["time_in_zone"] for item in answers[-1]["timed"]["predictions"]}
    # frames 1..4 at 10 fps: objects seen since frame 1 have been in the zone for 0.3 s
    assert all(last[tracker_id] == pytest.approx(0.3) for tracker_id in first if tracker_id in last)
    assert any(tracker_id in last for tracker_id in first)
    # the frames move everything 8 px right per frame, 10 frames a second: 80 px/s, 40 m/s at 2 px/m
    moving = answers[-1]["moving"]["predictions"]
    tracked_before = [item for item in moving if item["tracker_id"] in first]
    assert tracked_before
    previous = {item["tracker_id"]: item for item in answers[-2]["moving"]["predictions"]}
    for item in tracked_before:
        before = previous[item["tracker_id"]]
        expected = [(item["x"] - before["x"]) / 0.1 / 2.0, (item["y"] - before["y"]) / 0.1 / 2.0]
        assert item["velocity"] == pytest.approx(expected, abs=1e-6)
        assert item["velocity"][0] == pytest.approx(40.0, abs=15.0)  # boxes jitter a pixel or two
        assert item["speed"] == pytest.approx(float(np.hypot(*expected)))
        assert item["smoothed_speed"] == pytest.approx(item["speed"])  # smoothing_alpha=1: no smoothing
