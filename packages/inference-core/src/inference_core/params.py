"""Inference parameters: each defined once, parsed once, for every route and entry point.

:data:`PARAMETERS` is the single definition of every parameter a prediction takes: its name,
type, default, allowed range, the JSON routes that accept it, and its name on Roboflow's legacy
route (`overlap` for `iou_threshold`). The server builds its JSON request models and the legacy
route's query parameters from it, the `inference infer` command its options, and
`VisionModel.infer(**kwargs)` its defaults; :meth:`InferenceParams.from_kwargs` and
:meth:`InferenceParams.from_legacy_query` are the only parsers. So the same value gets the same
verdict everywhere:

- a value that cannot be read as the parameter's type (``confidence="high"``) is a
  :class:`ParameterTypeError` (HTTP 422, as Roboflow's request validation answers);
- a value of the right type outside its range or choices (``confidence=-0.1``,
  ``max_detections=10**30``) is an :class:`InvalidParameterError` (HTTP 400; Roboflow does not
  check ranges).

The legacy route keeps Roboflow's percent rule for `confidence` and `overlap`: a value of 1 or
more is a percentage (`40` means 0.4, `1` means 0.01), applied before the range check, on that
route only, because only that route's clients send percentages. As Roboflow's legacy route does,
an accepted confidence under 0.01 is then raised to 0.01 there (a guard against floods of
near-zero candidates). A confidence under 0 is refused on every route alike; it is never clamped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from inference_core import tasks
from inference_core.errors import InvalidParameterError, ParameterTypeError
from inference_core.preprocessing import PreprocessingFlags

NUMBER, COUNT, FLAG, CHOICE, NAMES = "number", "count", "flag", "choice", "names"
DETECTION_TASKS = (tasks.OBJECT_DETECTION, tasks.INSTANCE_SEGMENTATION, tasks.KEYPOINT_DETECTION)
#: Boolean spellings accepted from query strings and JSON strings.
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


@dataclass(frozen=True)
class Parameter:
    """One inference parameter: everything any route, the CLI or `infer()` needs to know."""

    name: str
    kind: str
    default: Any
    description: str
    #: the tasks whose JSON route accepts it.
    tasks: tuple[str, ...] = tasks.ALL_TASKS
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    #: words that stand for the default (confidence: "best", "default").
    default_words: tuple[str, ...] = ()
    #: its query parameter on the legacy route; None when that route does not take it.
    legacy_name: str | None = None
    #: legacy route only: values of 1 or more are percentages.
    legacy_percent: bool = False
    #: legacy route only: an accepted value under this is raised to it (Roboflow's guard).
    legacy_floor: float | None = None
    #: offered by `inference infer` (drawing options are not: the CLI prints JSON).
    cli: bool = True
    #: accepted for compatibility and ignored.
    ignored: bool = False

    def parse(self, value: Any, sent_as: str | None = None) -> Any:
        """The value as this parameter's type, checked; None means the default.

        `sent_as` is the name the client used (the legacy route's `overlap`), for messages.
        """
        if value is None:
            return self.default
        if isinstance(value, str) and value.strip().lower() in self.default_words:
            return self.default
        return _PARSERS[self.kind](self, value, sent_as or self.name)

    def allowed(self) -> str:
        """What values are allowed, in words (for messages and docs)."""
        if self.kind == FLAG:
            return "true or false"
        if self.kind == CHOICE:
            return "one of " + ", ".join(self.choices)
        if self.kind == NAMES:
            return "a list of class names"
        noun = "a whole number" if self.kind == COUNT else "a number"
        words = ""
        if self.default_words:
            words = " (or " + " / ".join(repr(word) for word in self.default_words) + ")"
        return f"{noun} from {_show(self.minimum)} to {_show(self.maximum)}{words}"

    def json_schema(self) -> dict[str, Any]:
        """The OpenAPI schema of the parameter (the request models and docs use it)."""
        schema: dict[str, Any] = {"default": self.default, "description": self.description}
        if self.kind == NUMBER:
            schema.update(type="number", minimum=self.minimum, maximum=self.maximum)
        elif self.kind == COUNT:
            schema.update(type="integer", minimum=self.minimum, maximum=self.maximum)
        elif self.kind == FLAG:
            schema.update(type="boolean")
        elif self.kind == CHOICE:
            schema.update(type="string", enum=list(self.choices))
        else:
            schema.update(type="array", items={"type": "string"})
        if self.default_words:
            schema = {"anyOf": [{k: v for k, v in schema.items() if k not in ("default", "description")},
                                {"type": "string", "enum": list(self.default_words)}],
                      "default": self.default, "description": self.description}
        return schema


def _type_error(parameter: Parameter, value: Any, name: str) -> ParameterTypeError:
    return ParameterTypeError(name, f"{name} must be {parameter.allowed()}; got {value!r}.")


def _range_error(parameter: Parameter, shown: str, name: str) -> InvalidParameterError:
    return InvalidParameterError(name, f"{name} must be {parameter.allowed()}; got {shown}.")


def _show(number: float | None) -> str:
    if number is None:
        return "any"
    if isinstance(number, int) and abs(number) >= 10**15:  # too large for float(): say its size
        return f"a number of about {int(number.bit_length() * 0.30103)} digits"
    if float(number).is_integer() and abs(number) < 1e15:
        return str(int(number))
    return format(number, "g")


def _read_number(parameter: Parameter, value: Any, name: str) -> float:
    """The value as a float, or a type error; the range is not checked here."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _type_error(parameter, value, name)
    try:
        return float(value)
    except (ValueError, OverflowError):
        raise _type_error(parameter, value, name) from None


def _check_range(parameter: Parameter, number: float, name: str) -> None:
    low = parameter.minimum if parameter.minimum is not None else -math.inf
    high = parameter.maximum if parameter.maximum is not None else math.inf
    if not low <= number <= high:  # also refuses NaN
        raise _range_error(parameter, _show(number), name)


def _number(parameter: Parameter, value: Any, name: str) -> float:
    number = _read_number(parameter, value, name)
    _check_range(parameter, number, name)
    return number


def _count(parameter: Parameter, value: Any, name: str) -> int:
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            value = _read_number(parameter, value, name)
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _type_error(parameter, value, name)
    if isinstance(value, float) and not value.is_integer():
        raise _range_error(parameter, _show(value), name)
    _check_range(parameter, value, name)
    return int(value)


def _flag(parameter: Parameter, value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise _type_error(parameter, value, name)


def _choice(parameter: Parameter, value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise _type_error(parameter, value, name)
    if value not in parameter.choices:
        raise _range_error(parameter, repr(value), name)
    return value


def _names(parameter: Parameter, value: Any, name: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise _type_error(parameter, value, name)
    if not all(isinstance(item, str) for item in value):
        raise _type_error(parameter, value, name)
    return tuple(value)


_PARSERS = {NUMBER: _number, COUNT: _count, FLAG: _flag, CHOICE: _choice, NAMES: _names}


def _disable_step(step: str) -> Parameter:
    return Parameter(
        f"disable_preproc_{step}", FLAG, False,
        f"Skip the model's {step.replace('_', ' ')} pre-processing step for this request.",
        legacy_name=f"disable_preproc_{step}",
    )


#: Every inference parameter, once.
PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "confidence", NUMBER, 0.4, "Keep predictions scoring at least this (0 to 1).",
        minimum=0.0, maximum=1.0, default_words=("best", "default"),
        legacy_name="confidence", legacy_percent=True, legacy_floor=0.01,
    ),
    Parameter(
        "iou_threshold", NUMBER, 0.3, "NMS: boxes overlapping more than this (IoU, 0 to 1) are duplicates.",
        tasks=DETECTION_TASKS, minimum=0.0, maximum=1.0, legacy_name="overlap", legacy_percent=True,
    ),
    Parameter(
        "max_detections", COUNT, 300, "Most predictions returned per image.",
        tasks=DETECTION_TASKS, minimum=1, maximum=100_000, legacy_name="max_detections",
    ),
    Parameter(
        "max_candidates", COUNT, 3000, "Most candidates (after the confidence filter) passed to NMS.",
        tasks=DETECTION_TASKS, minimum=1, maximum=1_000_000,
    ),
    Parameter(
        "class_agnostic_nms", FLAG, False, "NMS across classes instead of within each class.",
        tasks=DETECTION_TASKS,
    ),
    Parameter(
        "class_filter", NAMES, None, "Only return predictions of these classes.", tasks=DETECTION_TASKS,
    ),
    Parameter(
        "fix_batch_size", FLAG, False, "Accepted for compatibility with Roboflow's clients; no effect.",
        tasks=DETECTION_TASKS, cli=False, ignored=True,
    ),
    Parameter(
        "keypoint_confidence", NUMBER, 0.0, "Keypoints scoring under this are left out (0 to 1).",
        tasks=(tasks.KEYPOINT_DETECTION,), minimum=0.0, maximum=1.0, legacy_name="keypoint_confidence",
    ),
    Parameter(
        "mask_decode_mode", CHOICE, "accurate",
        "accurate: masks at the image's resolution; fast: at the model's; tradeoff: in between.",
        tasks=(tasks.INSTANCE_SEGMENTATION,), choices=("accurate", "fast", "tradeoff"),
        legacy_name="mask_decode_mode",
    ),
    Parameter(
        "tradeoff_factor", NUMBER, 0.0, "With mask_decode_mode=tradeoff: 0 is fast, 1 is accurate.",
        tasks=(tasks.INSTANCE_SEGMENTATION,), minimum=0.0, maximum=1.0, legacy_name="tradeoff_factor",
    ),
    Parameter(
        "response_mask_format", CHOICE, "polygon", "Masks as polygons or as COCO run-length encoding.",
        tasks=(tasks.INSTANCE_SEGMENTATION,), choices=("polygon", "rle"), legacy_name="response_mask_format",
    ),
    Parameter(
        "visualize_predictions", FLAG, False,
        "Also return the image with the predictions drawn (base64 JPEG in `visualization`).", cli=False,
    ),
    Parameter(
        "visualization_labels", FLAG, False, "Draw class names and confidences on the drawing.",
        legacy_name="labels", cli=False,
    ),
    Parameter(
        "visualization_stroke_width", COUNT, 1, "Line width of the drawing, in pixels.",
        minimum=1, maximum=100, legacy_name="stroke", cli=False,
    ),
    _disable_step("auto_orient"),
    _disable_step("contrast"),
    _disable_step("grayscale"),
    _disable_step("static_crop"),
)

BY_NAME: dict[str, Parameter] = {parameter.name: parameter for parameter in PARAMETERS}
DEFAULTS: dict[str, Any] = {parameter.name: parameter.default for parameter in PARAMETERS}


def parameters_for(task: str) -> tuple[Parameter, ...]:
    """The parameters the JSON route of `task` accepts."""
    return tuple(parameter for parameter in PARAMETERS if task in parameter.tasks)


def legacy_parameters() -> tuple[Parameter, ...]:
    """The parameters the legacy route accepts (under their `legacy_name`)."""
    return tuple(parameter for parameter in PARAMETERS if parameter.legacy_name)


@dataclass(frozen=True)
class InferenceParams:
    """Every knob any task reads, parsed; each model ignores the ones it does not use."""

    confidence: float = DEFAULTS["confidence"]
    iou_threshold: float = DEFAULTS["iou_threshold"]
    max_detections: int = DEFAULTS["max_detections"]
    max_candidates: int = DEFAULTS["max_candidates"]
    class_agnostic_nms: bool = DEFAULTS["class_agnostic_nms"]
    class_filter: tuple[str, ...] | None = DEFAULTS["class_filter"]
    keypoint_confidence: float = DEFAULTS["keypoint_confidence"]
    mask_decode_mode: str = DEFAULTS["mask_decode_mode"]
    tradeoff_factor: float = DEFAULTS["tradeoff_factor"]
    response_mask_format: str = DEFAULTS["response_mask_format"]
    visualize_predictions: bool = DEFAULTS["visualize_predictions"]
    visualization_labels: bool = DEFAULTS["visualization_labels"]
    visualization_stroke_width: int = DEFAULTS["visualization_stroke_width"]
    flags: PreprocessingFlags = field(default_factory=PreprocessingFlags)

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> InferenceParams:
        """Parse keyword arguments by their definitions; unknown names are ignored, as Roboflow does."""
        return cls._from_values({item.name: item.parse(kwargs.get(item.name)) for item in PARAMETERS})

    @classmethod
    def from_legacy_query(cls, query: Mapping[str, str], **route_values: Any) -> InferenceParams:
        """Parse the legacy route's query parameters (legacy names, percent rule).

        `route_values` are parameters the route derives itself (`visualize_predictions` from
        `format`); they are parsed like any other.
        """
        values = {}
        for parameter in PARAMETERS:
            name = parameter.legacy_name or parameter.name
            if parameter.legacy_name:
                raw = query.get(parameter.legacy_name)
            else:
                raw = route_values.get(parameter.name)
            if raw is not None and parameter.legacy_percent:
                raw = _from_percent(parameter, raw, name)
            value = parameter.parse(raw, sent_as=name)
            if parameter.legacy_floor is not None:
                value = max(value, parameter.legacy_floor)
            values[parameter.name] = value
        return cls._from_values(values)

    @classmethod
    def _from_values(cls, values: dict[str, Any]) -> InferenceParams:
        own = {item.name for item in fields(cls)} - {"flags"}
        flags = PreprocessingFlags(
            disable_auto_orient=values["disable_preproc_auto_orient"],
            disable_contrast=values["disable_preproc_contrast"],
            disable_grayscale=values["disable_preproc_grayscale"],
            disable_static_crop=values["disable_preproc_static_crop"],
        )
        return cls(**{name: value for name, value in values.items() if name in own}, flags=flags)


def _from_percent(parameter: Parameter, raw: Any, name: str) -> Any:
    """Roboflow's legacy unit rule: 1 or more is a percentage (`40` is 0.4, `1` is 0.01)."""
    if isinstance(raw, str) and raw.strip().lower() in parameter.default_words:
        return raw
    number = _read_number(parameter, raw, name)
    if number < 1:
        return number
    if number > 100:  # not a percentage either: answered as the JSON routes answer it
        raise _range_error(parameter, _show(number), name)
    return number / 100.0


def parameters_markdown() -> str:
    """docs/PARAMETERS.md: the parameter reference, written from :data:`PARAMETERS`."""
    lines = [
        "# Inference parameters",
        "",
        "Generated from `inference_core.params.PARAMETERS` by `scripts/write_parameter_docs.py`;",
        "edit the definitions, not this file (a test checks that it is current).",
        "",
        "A value of the wrong type answers 422, one outside its range or choices 400, with the same",
        "message on every route. On the legacy route, `confidence` and `overlap` of 1 or more are",
        "percentages (`40` means 0.4; up to 100), and an accepted confidence under 0.01 is raised to",
        "0.01, as Roboflow's legacy route does. Unknown parameters are ignored.",
        "",
        "| parameter | legacy route | type | default | allowed | JSON routes | meaning |",
        "|---|---|---|---|---|---|---|",
    ]
    routes = {
        tasks.OBJECT_DETECTION: "detection", tasks.INSTANCE_SEGMENTATION: "segmentation",
        tasks.KEYPOINT_DETECTION: "keypoints", tasks.CLASSIFICATION: "classification",
        tasks.SEMANTIC_SEGMENTATION: "semantic segmentation",
    }
    for parameter in PARAMETERS:
        legacy = f"`{parameter.legacy_name}`" if parameter.legacy_name else "-"
        on = "all" if set(parameter.tasks) == set(tasks.ALL_TASKS) else ", ".join(
            routes[task] for task in parameter.tasks
        )
        default = "none" if parameter.default is None else f"`{json.dumps(parameter.default)}`"
        lines.append(
            f"| `{parameter.name}` | {legacy} | {parameter.kind} | {default} | {parameter.allowed()} | {on} "
            f"| {parameter.description} |"
        )
    return "\n".join(lines) + "\n"
