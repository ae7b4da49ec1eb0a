"""InferenceConfiguration: defaults, immutability and the wire field each setting becomes."""

from __future__ import annotations

import dataclasses
import json

import pytest
from inference_sdk import InferenceConfiguration
from inference_sdk.http.entities import HTTPClientMode, VisualisationResponseFormat
from inference_sdk.http.errors import InvalidParameterError, ModelTaskTypeNotSupportedError

SPEC_FIELDS_DEFAULT_NONE = [
    "confidence_threshold", "keypoint_confidence_threshold", "format", "mask_decode_mode",
    "tradeoff_factor", "max_candidates", "max_detections", "iou_threshold", "stroke_width",
    "class_agnostic_nms", "class_filter", "fix_batch_size", "visualize_labels",
    "disable_preproc_auto_orientation", "disable_preproc_contrast", "disable_preproc_grayscale",
    "disable_preproc_static_crop", "response_mask_format",
]

# (field, value, wire name on /infer/object_detection)
DETECTION_WIRE = [
    ("confidence_threshold", 0.25, "confidence"),
    ("iou_threshold", 0.6, "iou_threshold"),
    ("max_detections", 7, "max_detections"),
    ("max_candidates", 99, "max_candidates"),
    ("class_agnostic_nms", True, "class_agnostic_nms"),
    ("class_filter", ["star"], "class_filter"),
    ("fix_batch_size", True, "fix_batch_size"),
    ("visualize_labels", True, "visualization_labels"),
    ("stroke_width", 3, "visualization_stroke_width"),
    ("visualize_predictions", True, "visualize_predictions"),
    ("disable_preproc_auto_orientation", True, "disable_preproc_auto_orient"),
    ("disable_preproc_contrast", True, "disable_preproc_contrast"),
    ("disable_preproc_grayscale", True, "disable_preproc_grayscale"),
    ("disable_preproc_static_crop", True, "disable_preproc_static_crop"),
]
SEGMENTATION_ONLY = [
    ("mask_decode_mode", "fast", "mask_decode_mode"),
    ("tradeoff_factor", 0.5, "tradeoff_factor"),
    ("response_mask_format", "rle", "response_mask_format"),
]
# (field, value, query parameter on the legacy route)
LEGACY_WIRE = [
    ("confidence_threshold", 0.25, "confidence"),
    ("keypoint_confidence_threshold", 0.3, "keypoint_confidence"),
    ("format", "image_and_json", "format"),
    ("visualize_labels", True, "labels"),
    ("mask_decode_mode", "fast", "mask_decode_mode"),
    ("tradeoff_factor", 0.5, "tradeoff_factor"),
    ("max_detections", 7, "max_detections"),
    ("iou_threshold", 0.6, "overlap"),
    ("stroke_width", 3, "stroke"),
    ("disable_preproc_auto_orientation", True, "disable_preproc_auto_orient"),
    ("disable_preproc_contrast", True, "disable_preproc_contrast"),
    ("disable_preproc_grayscale", True, "disable_preproc_grayscale"),
    ("disable_preproc_static_crop", True, "disable_preproc_static_crop"),
    ("response_mask_format", "rle", "response_mask_format"),
]


def test_defaults_match_the_wire_format_document():
    config = InferenceConfiguration()
    assert all(getattr(config, name) is None for name in SPEC_FIELDS_DEFAULT_NONE)
    assert config.visualize_predictions is False
    assert config.client_downsizing_disabled is True
    assert config.default_max_input_size == 1024
    assert config.max_concurrent_requests == 1
    assert config.max_batch_size == 1
    assert config.output_visualisation_format is VisualisationResponseFormat.BASE64


def test_configuration_is_frozen_and_replace_works():
    config = InferenceConfiguration(confidence_threshold=0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.confidence_threshold = 0.1  # type: ignore[misc]
    assert dataclasses.replace(config, max_batch_size=4).max_batch_size == 4


@pytest.mark.parametrize(("field", "value", "wire"), DETECTION_WIRE)
def test_detection_field_maps_to_its_wire_name(field, value, wire):
    parameters = InferenceConfiguration(**{field: value}).to_api_call_parameters(
        HTTPClientMode.V1, "object-detection")
    assert parameters[wire] == value


@pytest.mark.parametrize(("field", "value", "wire"), DETECTION_WIRE + SEGMENTATION_ONLY)
def test_segmentation_field_maps_to_its_wire_name(field, value, wire):
    parameters = InferenceConfiguration(**{field: value}).to_api_call_parameters(
        HTTPClientMode.V1, "instance-segmentation")
    assert parameters[wire] == value


@pytest.mark.parametrize(("field", "value", "wire"), LEGACY_WIRE)
def test_legacy_field_maps_to_its_query_parameter(field, value, wire):
    parameters = InferenceConfiguration(**{field: value}).to_api_call_parameters(HTTPClientMode.V0, "any")
    assert parameters[wire] == value


def test_keypoint_confidence_only_on_keypoints_route():
    config = InferenceConfiguration(keypoint_confidence_threshold=0.3)
    keypoints = config.to_api_call_parameters(HTTPClientMode.V1, "keypoint-detection")
    assert keypoints["keypoint_confidence"] == 0.3
    assert "keypoint_confidence" not in config.to_api_call_parameters(HTTPClientMode.V1, "object-detection")


def test_classification_sends_only_what_classification_takes():
    config = InferenceConfiguration(confidence_threshold=0.2, iou_threshold=0.5, stroke_width=2,
                                    max_detections=3, class_filter=["a"])
    parameters = config.to_api_call_parameters(HTTPClientMode.V1, "classification")
    assert parameters["confidence"] == 0.2
    assert parameters["visualization_stroke_width"] == 2
    assert not {"iou_threshold", "max_detections", "class_filter"} & set(parameters)


def test_unset_fields_are_not_sent():
    parameters = InferenceConfiguration().to_api_call_parameters(HTTPClientMode.V1, "object-detection")
    assert None not in parameters.values()
    assert "confidence" not in parameters and "iou_threshold" not in parameters
    json.dumps(parameters)  # everything left is JSON-serialisable


def test_confidence_keywords_are_forwarded():
    parameters = InferenceConfiguration(confidence_threshold="best").to_object_detection_parameters()
    assert parameters["confidence"] == "best"


def test_unsupported_task_raises():
    with pytest.raises(ModelTaskTypeNotSupportedError):
        InferenceConfiguration().to_api_call_parameters(HTTPClientMode.V1, "action-recognition")


def test_invalid_values_raise_invalid_parameter_error():
    with pytest.raises(InvalidParameterError):
        InferenceConfiguration(api_key_transport="carrier-pigeon")
    with pytest.raises(InvalidParameterError):
        InferenceConfiguration(output_visualisation_format="gif")
    with pytest.raises(InvalidParameterError):
        InferenceConfiguration(max_batch_size=0)


def test_roboflow_only_fields_are_accepted():
    config = InferenceConfiguration(disable_active_learning=True, source="test", count_inference=False,
                                    active_learning_target_dataset="x", include_anomaly_map=True)
    assert config.to_legacy_call_parameters()["countinference"] is False
    assert config.to_api_v1_query_parameters() == {"countinference": False}
