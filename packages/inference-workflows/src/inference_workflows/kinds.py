"""Kinds: the names Roboflow's workflows give to the types of data flowing between steps.

A selector in a step field accepts some kinds; a step output declares the kinds it produces.
They fit when they share a kind, or when either side is the wildcard `*`.
"""

from __future__ import annotations

WILDCARD = "*"
IMAGE = "image"
VIDEO_METADATA = "video_metadata"
ROBOFLOW_MODEL_ID = "roboflow_model_id"
ROBOFLOW_PROJECT = "roboflow_project"
FLOAT_ZERO_TO_ONE = "float_zero_to_one"
LIST_OF_VALUES = "list_of_values"
RGB_COLOR = "rgb_color"
BYTES = "bytes"
BOOLEAN = "boolean"
INTEGER = "integer"
STRING = "string"
TOP_CLASS = "top_class"
FLOAT = "float"
DICTIONARY = "dictionary"
CLASSIFICATION_PREDICTION = "classification_prediction"
POINT = "point"
ZONE = "zone"
OBJECT_DETECTION_PREDICTION = "object_detection_prediction"
INSTANCE_SEGMENTATION_PREDICTION = "instance_segmentation_prediction"
KEYPOINT_DETECTION_PREDICTION = "keypoint_detection_prediction"
QR_CODE_DETECTION = "qr_code_detection"
BAR_CODE_DETECTION = "bar_code_detection"
PREDICTION_TYPE = "prediction_type"
PARENT_ID = "parent_id"
INFERENCE_ID = "inference_id"
SERIALISED_PAYLOADS = "serialised_payloads"

#: Every kind a detections-consuming field accepts.
DETECTIONS = (
    OBJECT_DETECTION_PREDICTION,
    INSTANCE_SEGMENTATION_PREDICTION,
    KEYPOINT_DETECTION_PREDICTION,
)

#: Python typing hints per kind, as `describe_interface` answers them.
TYPING_HINTS = {
    WILDCARD: "Any",
    IMAGE: "dict",
    VIDEO_METADATA: "dict",
    ROBOFLOW_MODEL_ID: "str",
    ROBOFLOW_PROJECT: "str",
    FLOAT_ZERO_TO_ONE: "float",
    LIST_OF_VALUES: "List[Any]",
    RGB_COLOR: "Union[str, Tuple[int, int, int]]",
    BYTES: "bytes",
    BOOLEAN: "bool",
    INTEGER: "int",
    STRING: "str",
    TOP_CLASS: "str",
    FLOAT: "float",
    DICTIONARY: "Dict[str, Any]",
    CLASSIFICATION_PREDICTION: "dict",
    POINT: "Tuple[int, int]",
    ZONE: "List[Tuple[int, int]]",
    OBJECT_DETECTION_PREDICTION: "dict",
    INSTANCE_SEGMENTATION_PREDICTION: "dict",
    KEYPOINT_DETECTION_PREDICTION: "dict",
    QR_CODE_DETECTION: "dict",
    BAR_CODE_DETECTION: "dict",
    PREDICTION_TYPE: "str",
    PARENT_ID: "str",
    INFERENCE_ID: "str",
    SERIALISED_PAYLOADS: "Union[bytes, str, list, dict]",
}


def compatible(produced: tuple[str, ...], accepted: tuple[str, ...]) -> bool:
    """True when data of kinds `produced` may be wired into a field accepting `accepted`."""
    if WILDCARD in produced or WILDCARD in accepted:
        return True
    return bool(set(produced) & set(accepted))
