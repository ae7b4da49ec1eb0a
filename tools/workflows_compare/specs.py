"""The specifications the comparison runs on both servers: every block we implement, as Roboflow's
editor writes them. Model ids are the fixture models the tool files in a shared cache."""

from __future__ import annotations

DETECTOR = "cmp-detect/1"
CLASSIFIER = "cmp-classify/1"
SEGMENTER = "cmp-segment/1"
POSE = "cmp-pose/1"


def spec(steps, outputs, inputs=None):
    return {
        "version": "1.0",
        "inputs": inputs or [{"type": "WorkflowImage", "name": "image"}],
        "steps": steps,
        "outputs": [
            {"type": "JsonField", "name": name, "selector": selector, **extra}
            for name, selector, *rest in outputs
            for extra in [rest[0] if rest else {}]
        ],
    }


def step(block, name, **fields):
    return {"type": block, "name": name, **fields}


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
COUNT = step(
    "roboflow_core/property_definition@v1",
    "count",
    data="$steps.detect.predictions",
    operations=[{"type": "SequenceLength"}],
)

CASES = {
    "detect_v1_alias_and_count": spec(
        [
            step("ObjectDetectionModel", "detect", image="$inputs.image", model_id=DETECTOR, confidence=0.5),
            COUNT,
        ],
        [("predictions", "$steps.detect.predictions"), ("count", "$steps.count.output")],
    ),
    "detect_crop_classify_relabel": spec(
        [
            DETECT,
            CROP,
            step(
                "roboflow_core/roboflow_classification_model@v2",
                "classify",
                images="$steps.crop.crops",
                model_id=CLASSIFIER,
            ),
            step(
                "roboflow_core/detections_classes_replacement@v1",
                "relabel",
                object_detection_predictions="$steps.detect.predictions",
                classification_predictions="$steps.classify.predictions",
            ),
        ],
        [
            ("classes", "$steps.classify.predictions"),
            ("relabelled", "$steps.relabel.predictions"),
            ("crops", "$steps.crop.crops"),
        ],
    ),
    "classify_images_v1_and_v2": spec(
        [
            step("ClassificationModel", "v1", images="$inputs.image", model_id=CLASSIFIER),
            step(
                "roboflow_core/roboflow_classification_model@v2",
                "v2",
                images="$inputs.image",
                model_id=CLASSIFIER,
                confidence=0.2,
            ),
        ],
        [("v1", "$steps.v1.predictions"), ("v2", "$steps.v2.*")],
    ),
    "filter_and_offset": spec(
        [
            DETECT,
            step(
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
                                            {
                                                "type": "ExtractDetectionProperty",
                                                "property_name": "class_name",
                                            }
                                        ],
                                    },
                                    "comparator": {"type": "in (Sequence)"},
                                    "right_operand": {"type": "StaticOperand", "value": ["circle", "star"]},
                                }
                            ],
                        },
                    }
                ],
            ),
            step(
                "roboflow_core/detection_offset@v1",
                "grow",
                predictions="$steps.only.predictions",
                offset_width=20,
                offset_height=10,
            ),
        ],
        [("filtered", "$steps.only.predictions"), ("grown", "$steps.grow.predictions")],
    ),
    "continue_if_gates_crops": spec(
        [
            DETECT,
            step(
                "roboflow_core/continue_if@v1",
                "gate",
                condition_statement={
                    "type": "StatementGroup",
                    "statements": [
                        {
                            "type": "BinaryStatement",
                            "left_operand": {
                                "type": "DynamicOperand",
                                "operand_name": "d",
                                "operations": [{"type": "SequenceLength"}],
                            },
                            "comparator": {"type": "(Number) >="},
                            "right_operand": {"type": "StaticOperand", "value": 3},
                        }
                    ],
                },
                evaluation_parameters={"d": "$steps.detect.predictions"},
                next_steps=["$steps.crop"],
            ),
            CROP,
            step(
                "roboflow_core/roboflow_object_detection_model@v1",
                "inner",
                images="$steps.crop.crops",
                model_id=DETECTOR,
                confidence=0.3,
            ),
        ],
        [
            ("crops", "$steps.crop.crops"),
            ("inner", "$steps.inner.predictions"),
            ("inner_own", "$steps.inner.predictions", {"coordinates_system": "own"}),
            ("inference_id", "$steps.inner.inference_id"),
        ],
    ),
    "expression_and_first_non_empty": spec(
        [
            DETECT,
            COUNT,
            step(
                "roboflow_core/expression@v1",
                "verdict",
                data={"n": "$steps.count.output"},
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
                                        "left_operand": {"type": "DynamicOperand", "operand_name": "n"},
                                        "comparator": {"type": "(Number) >"},
                                        "right_operand": {"type": "StaticOperand", "value": 2},
                                    }
                                ],
                            },
                            "result": {"type": "StaticCaseResult", "value": "MANY"},
                        }
                    ],
                    "default": {"type": "DynamicCaseResult", "parameter_name": "n"},
                },
            ),
            step(
                "roboflow_core/first_non_empty_or_default@v1",
                "merged",
                data=["$steps.count.output"],
                default=-1,
            ),
        ],
        [("verdict", "$steps.verdict.output"), ("merged", "$steps.merged.output")],
    ),
    "property_operations": spec(
        [
            DETECT,
            step(
                "roboflow_core/property_definition@v1",
                "names",
                data="$steps.detect.predictions",
                operations=[
                    {"type": "SortDetections", "mode": "confidence", "ascending": False},
                    {"type": "DetectionsPropertyExtract", "property_name": "class_name"},
                ],
            ),
            step(
                "roboflow_core/property_definition@v1",
                "common",
                data="$steps.detect.predictions",
                operations=[
                    {"type": "DetectionsPropertyExtract", "property_name": "class_name"},
                    {"type": "SequenceElementsCount"},
                ],
            ),
            step(
                "roboflow_core/property_definition@v1",
                "top",
                data="$steps.detect.predictions",
                operations=[
                    {"type": "DetectionsSelection", "mode": "left_most"},
                    {"type": "DetectionsPropertyExtract", "property_name": "center"},
                ],
            ),
        ],
        [
            ("names", "$steps.names.output"),
            ("counts", "$steps.common.output"),
            ("left_most", "$steps.top.output"),
        ],
    ),
    "static_crops_and_coordinates": spec(
        [
            step(
                "roboflow_core/relative_statoic_crop@v1",
                "rel",
                images="$inputs.image",
                x_center=0.5,
                y_center=0.5,
                width=0.6,
                height=0.6,
            ),
            step(
                "roboflow_core/roboflow_object_detection_model@v1",
                "inner",
                images="$steps.rel.crops",
                model_id=DETECTOR,
                confidence=0.5,
            ),
            step(
                "AbsoluteStaticCrop",
                "abs",
                images="$inputs.image",
                x_center=160,
                y_center=120,
                width=200,
                height=160,
            ),
        ],
        [
            ("own", "$steps.inner.predictions", {"coordinates_system": "own"}),
            ("parent", "$steps.inner.predictions", {"coordinates_system": "parent"}),
            ("absolute", "$steps.abs.crops"),
        ],
    ),
    "drawing": spec(
        [DETECT]
        + [
            step(
                f"roboflow_core/{name}_visualization@v1",
                name,
                image="$inputs.image",
                predictions="$steps.detect.predictions",
            )
            for name in ("bounding_box", "label", "blur", "pixelate", "dot", "triangle", "circle", "color")
        ],
        [
            (name, f"$steps.{name}.image")
            for name in ("bounding_box", "label", "blur", "pixelate", "dot", "triangle", "circle", "color")
        ],
    ),
    "slicer_and_stitch": spec(
        [
            step(
                "roboflow_core/image_slicer@v2",
                "slicer",
                image="$inputs.image",
                slice_width=320,
                slice_height=320,
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
            ),
        ],
        [("stitched", "$steps.stitch.predictions"), ("slices", "$steps.slicer.slices")],
    ),
    "csv_and_json": spec(
        [
            DETECT,
            step(
                "roboflow_core/csv_formatter@v1",
                "csv",
                columns_data={"count": "$steps.detect.predictions"},
                columns_operations={"count": [{"type": "SequenceLength"}]},
            ),
            step(
                "roboflow_core/json_parser@v1", "parse", raw_json="$inputs.text", expected_fields=["a", "b"]
            ),
        ],
        [("csv", "$steps.csv.csv_content"), ("a", "$steps.parse.a"), ("error", "$steps.parse.error_status")],
        inputs=[
            {"type": "WorkflowImage", "name": "image"},
            {"type": "WorkflowParameter", "name": "text", "default_value": '{"a": 1}'},
        ],
    ),
    "segmentation_and_keypoints": spec(
        [
            step(
                "roboflow_core/roboflow_instance_segmentation_model@v2",
                "seg",
                images="$inputs.image",
                model_id=SEGMENTER,
                confidence=0.5,
            ),
            step(
                "roboflow_core/roboflow_keypoint_detection_model@v2",
                "pose",
                images="$inputs.image",
                model_id=POSE,
                confidence=0.5,
            ),
            step("roboflow_core/bounding_rect@v1", "rect", predictions="$steps.seg.predictions"),
        ],
        [
            ("seg", "$steps.seg.predictions"),
            ("pose", "$steps.pose.predictions"),
            ("rect", "$steps.rect.detections_with_rect"),
        ],
    ),
    "crops_collapsed_per_image": spec(
        [
            DETECT,
            CROP,
            step(
                "roboflow_core/roboflow_object_detection_model@v2",
                "inner",
                images="$steps.crop.crops",
                model_id=DETECTOR,
                confidence=0.3,
            ),
            step(
                "roboflow_core/property_definition@v1",
                "n",
                data="$steps.inner.predictions",
                operations=[{"type": "SequenceLength"}],
            ),
            step("roboflow_core/dimension_collapse@v1", "collapse", data="$steps.n.output"),
        ],
        [("per_crop", "$steps.n.output"), ("collapsed", "$steps.collapse.output")],
    ),
    "tracking_in_one_batch": spec(
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
                line_segment=[[300, 0], [300, 2000]],
            ),
        ],
        [
            ("tracked", "$steps.track.tracked_detections"),
            ("new", "$steps.track.new_instances"),
            ("count_in", "$steps.line.count_in"),
            ("count_out", "$steps.line.count_out"),
        ],
    ),
    "detections_consensus": spec(
        [
            {**DETECT, "name": "loose"},
            {**DETECT, "name": "strict", "confidence": 0.9},
            step(
                "roboflow_core/detections_consensus@v1",
                "vote",
                predictions_batches=["$steps.strict.predictions", "$steps.loose.predictions"],
                required_votes=2,
                required_objects={"star": 1},
            ),
        ],
        [
            ("predictions", "$steps.vote.predictions"),
            ("object_present", "$steps.vote.object_present"),
            ("presence_confidence", "$steps.vote.presence_confidence"),
        ],
    ),
    "codes": spec(
        [
            step("roboflow_core/qr_code_detector@v1", "qr", images="$inputs.image"),
            step("roboflow_core/barcode_detector@v1", "bar", images="$inputs.image"),
        ],
        [("qr", "$steps.qr.predictions"), ("bar", "$steps.bar.predictions")],
    ),
}

#: bad specifications: both servers should refuse them with the same status
BAD_CASES = {
    "unknown_block": spec([step("roboflow_core/teleport@v1", "jump", images="$inputs.image")], []),
    "missing_step_output": spec(
        [
            DETECT,
            step(
                "roboflow_core/dynamic_crop@v1",
                "crop",
                images="$inputs.image",
                predictions="$steps.detect.boxes",
            ),
        ],
        [],
    ),
    "kind_mismatch": spec(
        [
            DETECT,
            step(
                "roboflow_core/roboflow_classification_model@v2",
                "c",
                images="$steps.detect.predictions",
                model_id=CLASSIFIER,
            ),
        ],
        [],
    ),
    "consensus_zero_votes": spec(
        [
            DETECT,
            step(
                "roboflow_core/detections_consensus@v1",
                "vote",
                predictions_batches=["$steps.detect.predictions"],
                required_votes=0,
            ),
        ],
        [],
    ),
    "cycle": spec(
        [
            step(
                "roboflow_core/detections_filter@v1", "a", predictions="$steps.b.predictions", operations=[]
            ),
            step(
                "roboflow_core/detections_filter@v1", "b", predictions="$steps.a.predictions", operations=[]
            ),
        ],
        [],
    ),
}
