"""The operations language of Roboflow's workflows (property_definition, filters, continue_if).

Operations transform a value step by step (`[{"type": "DetectionsPropertyExtract",
"property_name": "class_name"}, {"type": "SequenceLength"}]`); statements compare operands
(`StatementGroup` of `BinaryStatement` / `UnaryStatement`). Definitions are plain data: nothing
here evaluates code, and each definition is checked before a workflow runs.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import supervision as sv

from inference_workflows import detections as D
from inference_workflows.images import WorkflowImage

DEFAULT_OPERAND = "_"
MAX_JOINED_LENGTH = 1_000_000


class OperationError(ValueError):
    """An operation met a value it cannot work on."""


# --- properties ------------------------------------------------------------------------------


def _anchors(detections: sv.Detections, anchor: sv.Position) -> list:
    return detections.get_anchors_coordinates(anchor=anchor).round().astype(int).tolist()


DETECTIONS_PROPERTIES: dict[str, Callable[[sv.Detections], list]] = {
    "confidence": lambda d: d.confidence.tolist(),
    "class_name": lambda d: d.data.get("class_name", np.array([], dtype=str)).tolist(),
    "x_min": lambda d: d.xyxy[:, 0].tolist(),
    "y_min": lambda d: d.xyxy[:, 1].tolist(),
    "x_max": lambda d: d.xyxy[:, 2].tolist(),
    "y_max": lambda d: d.xyxy[:, 3].tolist(),
    "class_id": lambda d: d.class_id.tolist(),
    "size": lambda d: d.box_area.tolist(),
    "center": lambda d: _anchors(d, sv.Position.CENTER),
    "top_left": lambda d: _anchors(d, sv.Position.TOP_LEFT),
    "top_right": lambda d: _anchors(d, sv.Position.TOP_RIGHT),
    "bottom_left": lambda d: _anchors(d, sv.Position.BOTTOM_LEFT),
    "bottom_right": lambda d: _anchors(d, sv.Position.BOTTOM_RIGHT),
}
DATA_PROPERTIES = (
    "in_out",
    "path_deviation",
    "polygon",
    "time_in_zone",
    "tracker_id",
    "velocity",
    "speed",
    "smoothed_velocity",
    "smoothed_speed",
    "image_dimensions",
    "prediction_type",
    "keypoints_xy",
    "rect",
    "width",
    "height",
    "angle",
    "area_px",
    "area_converted",
)
ALL_DETECTIONS_PROPERTIES = (*DETECTIONS_PROPERTIES, *DATA_PROPERTIES)


def detections_property(value: Any, property_name: str) -> list:
    detections = _require_detections(value, "DetectionsPropertyExtract")
    if len(detections) == 0:
        return []
    if property_name == "tracker_id" and detections.tracker_id is not None:
        return detections.tracker_id.tolist()
    if property_name in detections.data:
        return np.asarray(detections.data[property_name]).tolist()
    if property_name not in DETECTIONS_PROPERTIES:
        raise OperationError(f"Detections have no property {property_name!r}.")
    return DETECTIONS_PROPERTIES[property_name](detections)


def detection_property(detection: tuple, property_name: str) -> Any:
    """A property of one detection, as `for row in detections` yields it."""
    xyxy, _mask, confidence, class_id, tracker_id, data = detection
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    simple = {
        "x_min": x1,
        "y_min": y1,
        "x_max": x2,
        "y_max": y2,
        "confidence": None if confidence is None else float(confidence),
        "class_id": None if class_id is None else int(class_id),
        "class_name": str(data.get("class_name")) if "class_name" in data else None,
        "size": (y2 - y1) * (x2 - x1),
        "center": (x1 + (x2 - x1) / 2, y1 + (y2 - y1) / 2),
        "top_left": (x1, y1),
        "top_right": (x2, y1),
        "bottom_left": (x1, y2),
        "bottom_right": (x2, y2),
    }
    if property_name in simple:
        return simple[property_name]
    if property_name == "tracker_id":
        return None if tracker_id is None else int(tracker_id)
    value = data.get(property_name)
    return value.item() if isinstance(value, np.generic) else value


def classification_property(prediction: Any, property_name: str) -> Any:
    if not isinstance(prediction, dict):
        raise OperationError("ClassificationPropertyExtract needs a classification prediction.")
    predictions = prediction.get("predictions")
    if property_name == "top_class":
        return prediction["top"] if "top" in prediction else prediction.get("predicted_classes", [])
    if property_name in ("top_class_confidence", "top_class_confidence_single"):
        if "confidence" in prediction:
            return prediction["confidence"]
        confidences = [predictions[name]["confidence"] for name in prediction.get("predicted_classes", [])]
        if property_name == "top_class_confidence":
            return confidences
        return max(confidences) if confidences else 0.0
    if property_name in ("all_classes", "all_confidences"):
        key = "class" if property_name == "all_classes" else "confidence"
        if isinstance(predictions, list):
            return [item[key] for item in predictions]
        ordered = sorted(predictions.items(), key=lambda item: item[1]["class_id"])
        return [name if key == "class" else value["confidence"] for name, value in ordered]
    raise OperationError(f"Unknown classification property {property_name!r}.")


def _require_detections(value: Any, operation: str) -> sv.Detections:
    if not isinstance(value, sv.Detections):
        raise OperationError(f"{operation} needs detections, got {type(value).__name__}.")
    return value


# --- detections operations -------------------------------------------------------------------


def _select(value: Any, mode: str) -> sv.Detections:
    detections = _require_detections(value, "DetectionsSelection")
    if len(detections) == 0:
        return copy.deepcopy(detections)
    if mode == "first":
        return detections[[0]]
    if mode == "last":
        return detections[[len(detections) - 1]]
    if mode == "top_confidence":
        return detections[[int(np.argmax(detections.confidence))]]
    centers = (detections.xyxy[:, 0] + detections.xyxy[:, 2]) / 2
    if mode == "left_most":
        return detections[[int(np.argmin(centers))]]
    if mode == "right_most":
        return detections[[int(np.argmax(centers))]]
    raise OperationError(f"Unknown selection mode {mode!r}.")


SORT_KEYS: dict[str, Callable[[sv.Detections], np.ndarray]] = {
    "confidence": lambda d: d.confidence,
    "x_min": lambda d: d.xyxy[:, 0],
    "x_max": lambda d: d.xyxy[:, 2],
    "y_min": lambda d: d.xyxy[:, 1],
    "y_max": lambda d: d.xyxy[:, 3],
    "size": lambda d: d.box_area,
    "center_x": lambda d: (d.xyxy[:, 0] + d.xyxy[:, 2]) / 2,
    "center_y": lambda d: (d.xyxy[:, 1] + d.xyxy[:, 3]) / 2,
}


def _sort(value: Any, mode: str, ascending: bool = True) -> sv.Detections:
    detections = _require_detections(value, "SortDetections")
    if len(detections) == 0:
        return detections
    order = np.argsort(SORT_KEYS[mode](detections), kind="stable")
    return detections[order if ascending else order[::-1]]


def _offset(value: Any, offset_x: int, offset_y: int) -> sv.Detections:
    detections = copy.deepcopy(_require_detections(value, "DetectionsOffset"))
    detections.xyxy = detections.xyxy + np.array([-offset_x / 2, -offset_y / 2, offset_x / 2, offset_y / 2])
    return detections


def _shift(value: Any, shift_x: int, shift_y: int) -> sv.Detections:
    detections = copy.deepcopy(_require_detections(value, "DetectionsShift"))
    detections.xyxy = detections.xyxy + np.array([shift_x, shift_y, shift_x, shift_y])
    return detections


def _filter(value: Any, filter_operation: dict, global_values: dict) -> sv.Detections:
    detections = _require_detections(value, "DetectionsFilter")
    keep = []
    local = dict(global_values)
    for row in detections:
        local[DEFAULT_OPERAND] = row
        keep.append(bool(evaluate_statement(filter_operation, local)))
    return detections[np.array(keep, dtype=bool)] if len(detections) else detections


def _rename(
    value: Any, class_map: dict, strict: bool = True, new_classes_id_offset: int = 1024
) -> sv.Detections:
    detections = copy.deepcopy(_require_detections(value, "DetectionsRename"))
    if len(detections) == 0:
        return detections
    names = detections.data["class_name"].tolist()
    if strict and any(name not in class_map for name in names):
        missing = sorted({name for name in names if name not in class_map})
        raise OperationError(f"DetectionsRename: classes {missing} are missing from class_map (strict mode).")
    new_names = [class_map.get(name, name) for name in names]
    ordered = sorted(set(class_map.values()))
    ids = {name: index for index, name in enumerate(ordered)}
    next_id = new_classes_id_offset
    for name in new_names:
        if name not in ids:
            ids[name] = next_id
            next_id += 1
    detections.data["class_name"] = np.array(new_names)
    detections.class_id = np.array([ids[name] for name in new_names])
    return detections


def _to_dictionary(value: Any) -> dict:
    return D.serialise(_require_detections(value, "DetectionsToDictionary"))


# --- generic operations ----------------------------------------------------------------------


def _to_number(value: Any, cast_to: str) -> float | int:
    try:
        return int(value) if cast_to == "int" else float(value)
    except (TypeError, ValueError) as error:
        raise OperationError(f"ToNumber: cannot convert {value!r}.") from error


def _lookup(value: Any, lookup_table: dict) -> Any:
    if value not in lookup_table:
        raise OperationError(f"LookupTable: {value!r} is not in the table.")
    return lookup_table[value]


def _aggregate_numbers(value: Any, function: str, neutral_value: Any = None) -> Any:
    if len(value) == 0:
        return neutral_value
    return {"min": min, "max": max, "sum": sum}[function](value)


def _aggregate(value: Any, mode: str) -> Any:
    if len(value) < 1:
        raise OperationError("SequenceAggregate: cannot aggregate an empty sequence.")
    if mode in ("first", "last"):
        return value[0 if mode == "first" else -1]
    ranked = [item for item, _ in Counter(value).most_common()]
    return ranked[0 if mode == "most_common" else -1]


def _join(value: Any, separator: str = ", ") -> str:
    joined = separator.join(str(item) for item in value)
    if len(joined) > MAX_JOINED_LENGTH:
        raise OperationError("SequenceJoin: the joined string is too long.")
    return joined


def _elements_count(value: Any) -> dict:
    counts: dict[str, int] = {}
    for item in value:
        counts[str(item)] = counts.get(str(item), 0) + 1
    return counts


def _divide(value: Any, other: float) -> float:
    if other == 0:
        raise OperationError("Divide: division by zero.")
    return value / other


def _image_property(value: Any, property_name: str) -> Any:
    if not isinstance(value, WorkflowImage):
        raise OperationError("ExtractImageProperty needs an image.")
    height, width = value.pixels.shape[:2]
    return {
        "size": height * width,
        "height": height,
        "width": width,
        "aspect_ratio": width / height if height else 0,
    }[property_name]


def _frame_metadata(value: Any, property_name: str) -> Any:
    metadata = value.metadata() if isinstance(value, WorkflowImage) else value
    if not isinstance(metadata, dict):
        raise OperationError("ExtractFrameMetadata needs an image or video metadata.")
    return metadata.get(property_name)


def _string_matches(value: Any, regex: str) -> bool:
    if not isinstance(value, str):
        raise OperationError("StringMatches needs a string.")
    return re.search(regex, value) is not None


def _sub_sequence(value: Any, start: int = 0, end: int = -1) -> str:
    return value[start:end] if end != -1 else value[start:]


def _to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


# Each operation: (function, parameter names it takes, whether it needs the global values)
OPERATIONS: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "StringToLowerCase": (lambda v: str(v).lower(), ()),
    "StringToUpperCase": (lambda v: str(v).upper(), ()),
    "LookupTable": (_lookup, ("lookup_table",)),
    "ToNumber": (_to_number, ("cast_to",)),
    "NumberRound": (lambda v, decimal_digits: round(v, decimal_digits), ("decimal_digits",)),
    "SequenceMap": (lambda v, lookup_table: [lookup_table[item] for item in v], ("lookup_table",)),
    "NumericSequenceAggregate": (_aggregate_numbers, ("function", "neutral_value")),
    "SequenceAggregate": (_aggregate, ("mode",)),
    "ToString": (lambda v: str(v), ()),
    "ToBoolean": (_to_bool, ()),
    "StringSubSequence": (_sub_sequence, ("start", "end")),
    "DetectionsPropertyExtract": (detections_property, ("property_name",)),
    "DetectionsToDictionary": (_to_dictionary, ()),
    "ClassificationPropertyExtract": (classification_property, ("property_name",)),
    "DetectionsSelection": (_select, ("mode",)),
    "ExtractDetectionProperty": (detection_property, ("property_name",)),
    "SortDetections": (_sort, ("mode", "ascending")),
    "DetectionsOffset": (_offset, ("offset_x", "offset_y")),
    "DetectionsShift": (_shift, ("shift_x", "shift_y")),
    "DetectionsRename": (_rename, ("class_map", "strict", "new_classes_id_offset")),
    "ExtractImageProperty": (_image_property, ("property_name",)),
    "ExtractFrameMetadata": (_frame_metadata, ("property_name",)),
    "ConvertDictionaryToJSON": (lambda v: json.dumps(v), ()),
    "ConvertImageToBase64": (lambda v: v.base64, ()),
    "StringMatches": (_string_matches, ("regex",)),
    "SequenceLength": (lambda v: len(v), ()),
    "SequenceElementsCount": (_elements_count, ()),
    "SequenceJoin": (_join, ("separator",)),
    "Multiply": (lambda v, other: v * other, ("other",)),
    "Divide": (_divide, ("other",)),
}
COMPOUND_OPERATIONS = ("DetectionsFilter", "SequenceApply")


def execute_operations(value: Any, operations: list[dict], global_values: dict | None = None) -> Any:
    """Apply `operations` in order to `value`."""
    global_values = global_values or {}
    for operation in operations:
        kind = operation.get("type")
        if kind == "DetectionsFilter":
            value = _filter(value, operation["filter_operation"], global_values)
            continue
        if kind == "SequenceApply":
            value = [
                execute_operations(item, operation.get("operations", []), global_values) for item in value
            ]
            continue
        function, parameter_names = OPERATIONS[kind]
        parameters = {name: operation[name] for name in parameter_names if name in operation}
        try:
            value = function(value, **parameters)
        except OperationError:
            raise
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as error:
            raise OperationError(f"{kind} failed on {type(value).__name__}: {error}") from error
    return value


# --- statements ------------------------------------------------------------------------------


def _in_zone(point: Any, zone: Any, **_: Any) -> bool:
    import cv2

    polygon = np.asarray(zone, dtype=np.float32).reshape(-1, 1, 2)
    if isinstance(point, tuple) and len(point) == 6:  # a detection: its bottom centre
        x1, y1, x2, y2 = point[0]
        point = ((x1 + x2) / 2, y2)
    return cv2.pointPolygonTest(polygon, (float(point[0]), float(point[1])), False) >= 0


BINARY: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "(Number) ==": lambda a, b: a == b,
    "(Number) !=": lambda a, b: a != b,
    "!=": lambda a, b: a != b,
    "(Number) >": lambda a, b: a > b,
    "(Number) >=": lambda a, b: a >= b,
    "(Number) <": lambda a, b: a < b,
    "(Number) <=": lambda a, b: a <= b,
    "(Number) in range": lambda a, b: b[0] <= a <= b[1],
    "(String) startsWith": lambda a, b: a.startswith(b),
    "(String) endsWith": lambda a, b: a.endswith(b),
    "(String) contains": lambda a, b: b in a,
    "in (Sequence)": lambda a, b: a in b,
    "any in (Sequence)": lambda a, b: any(item in b for item in a),
    "all in (Sequence)": lambda a, b: all(item in b for item in a),
    "(Detection) in zone": _in_zone,
}
UNARY: dict[str, Callable[[Any], bool]] = {
    "Exists": lambda a: a is not None,
    "DoesNotExist": lambda a: a is None,
    "(Boolean) is True": lambda a: a is True,
    "(Boolean) is False": lambda a: a is False,
    "(Sequence) is empty": lambda a: len(a) == 0,
    "(Sequence) is not empty": lambda a: len(a) > 0,
}


def _operand(definition: dict, values: dict) -> Any:
    if definition.get("type") == "StaticOperand":
        return execute_operations(definition.get("value"), definition.get("operations", []), values)
    name = definition.get("operand_name", DEFAULT_OPERAND)
    if name not in values:
        raise OperationError(f"Undefined operand {name!r}.")
    return execute_operations(values[name], definition.get("operations", []), values)


def evaluate_statement(definition: dict, values: dict) -> bool:
    kind = definition.get("type")
    if kind == "StatementGroup":
        results = (evaluate_statement(item, values) for item in definition["statements"])
        return all(results) if definition.get("operator", "or") == "and" else any(results)
    if kind == "BinaryStatement":
        comparator = definition["comparator"]["type"]
        left = _operand(definition["left_operand"], values)
        right = _operand(definition["right_operand"], values)
        try:
            result = BINARY[comparator](left, right)
        except (TypeError, ValueError, AttributeError, IndexError) as error:
            raise OperationError(f"{comparator} cannot compare {left!r} and {right!r}: {error}") from error
    else:
        operator = definition["operator"]["type"]
        operand = _operand(definition["operand"], values)
        try:
            result = UNARY[operator](operand)
        except TypeError as error:
            raise OperationError(f"{operator} cannot apply to {operand!r}: {error}") from error
    return (not result) if definition.get("negate", False) else bool(result)


# --- checks before running -------------------------------------------------------------------


def check_operations(operations: Any) -> str | None:
    if not isinstance(operations, list):
        return "operations must be a list"
    for position, operation in enumerate(operations):
        if not isinstance(operation, dict):
            return f"operations[{position}] must be an object"
        kind = operation.get("type")
        if kind == "DetectionsFilter":
            problem = check_statement(operation.get("filter_operation"))
        elif kind == "SequenceApply":
            problem = check_operations(operation.get("operations", []))
        elif kind not in OPERATIONS:
            return f"operations[{position}]: unknown operation type {kind!r}"
        else:
            problem = _check_parameters(operation, kind)
        if problem:
            return f"operations[{position}]: {problem}"
    return None


REQUIRED_PARAMETERS = {
    "LookupTable": ("lookup_table",),
    "ToNumber": ("cast_to",),
    "NumberRound": ("decimal_digits",),
    "SequenceMap": ("lookup_table",),
    "NumericSequenceAggregate": ("function",),
    "SequenceAggregate": ("mode",),
    "DetectionsPropertyExtract": ("property_name",),
    "ClassificationPropertyExtract": ("property_name",),
    "DetectionsSelection": ("mode",),
    "ExtractDetectionProperty": ("property_name",),
    "SortDetections": ("mode",),
    "DetectionsOffset": ("offset_x", "offset_y"),
    "DetectionsShift": ("shift_x", "shift_y"),
    "DetectionsRename": ("class_map",),
    "ExtractImageProperty": ("property_name",),
    "ExtractFrameMetadata": ("property_name",),
    "StringMatches": ("regex",),
    "Multiply": ("other",),
    "Divide": ("other",),
}


def _check_parameters(operation: dict, kind: str) -> str | None:
    missing = [name for name in REQUIRED_PARAMETERS.get(kind, ()) if name not in operation]
    if missing:
        return f"{kind} needs {missing}"
    if kind in ("DetectionsPropertyExtract", "ExtractDetectionProperty"):
        if operation["property_name"] not in ALL_DETECTIONS_PROPERTIES:
            return f"unknown detections property {operation['property_name']!r}"
    if kind == "SortDetections" and operation["mode"] not in SORT_KEYS:
        return f"unknown sort mode {operation['mode']!r}"
    if kind == "StringMatches":
        try:
            re.compile(operation["regex"])
        except re.error as error:
            return f"invalid regex: {error}"
    return None


def check_statement(definition: Any) -> str | None:
    if not isinstance(definition, dict):
        return "a statement must be an object"
    kind = definition.get("type")
    if kind == "StatementGroup":
        statements = definition.get("statements")
        if not isinstance(statements, list) or not statements:
            return "StatementGroup needs a non-empty `statements` list"
        if definition.get("operator", "or") not in ("and", "or"):
            return "StatementGroup operator must be 'and' or 'or'"
        for position, statement in enumerate(statements):
            problem = check_statement(statement)
            if problem:
                return f"statements[{position}]: {problem}"
        return None
    if kind == "BinaryStatement":
        comparator = (definition.get("comparator") or {}).get("type")
        if comparator not in BINARY:
            return f"unknown comparator {comparator!r}"
        return _check_operand(definition.get("left_operand")) or _check_operand(
            definition.get("right_operand")
        )
    if kind == "UnaryStatement":
        operator = (definition.get("operator") or {}).get("type")
        if operator not in UNARY:
            return f"unknown operator {operator!r}"
        return _check_operand(definition.get("operand"))
    return f"unknown statement type {kind!r}"


def _check_operand(definition: Any) -> str | None:
    if not isinstance(definition, dict) or definition.get("type") not in ("StaticOperand", "DynamicOperand"):
        return "an operand must be a StaticOperand or DynamicOperand"
    return check_operations(definition.get("operations", []))
