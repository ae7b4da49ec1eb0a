"""Reading a specification (Roboflow's format, version 1.x) into plain records, with clear errors."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from inference_workflows.errors import definition_error

IMAGE_INPUT_TYPES = ("WorkflowImage", "InferenceImage")
PARAMETER_INPUT_TYPES = ("WorkflowParameter", "InferenceParameter")
VIDEO_METADATA_INPUT_TYPES = ("WorkflowVideoMetadata",)
BATCH_INPUT_TYPES = ("WorkflowBatchInput",)
INPUT_TYPES = IMAGE_INPUT_TYPES + PARAMETER_INPUT_TYPES + VIDEO_METADATA_INPUT_TYPES + BATCH_INPUT_TYPES
COORDINATE_SYSTEMS = ("own", "parent")

_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")
_INPUT_SELECTOR = re.compile(r"^\$inputs\.([A-Za-z0-9_\-]+)$")
_STEP_OUTPUT_SELECTOR = re.compile(r"^\$steps\.([A-Za-z0-9_\-]+)\.([A-Za-z0-9_\-]+|\*)$")
_STEP_SELECTOR = re.compile(r"^\$steps\.([A-Za-z0-9_\-]+)$")


@dataclass(frozen=True)
class Selector:
    """`$inputs.name`, `$steps.step.output`, `$steps.step.*` or (for next_steps) `$steps.step`."""

    source: str  # "inputs" or "steps"
    name: str
    output: str | None = None  # None for inputs and bare step references; "*" for all outputs

    @property
    def text(self) -> str:
        if self.source == "inputs":
            return f"$inputs.{self.name}"
        return f"$steps.{self.name}" + (f".{self.output}" if self.output else "")


def is_selector(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("$")


def parse_selector(value: str, step: str | None, field_name: str | None, bare_step: bool = False) -> Selector:
    match = _INPUT_SELECTOR.match(value)
    if match:
        return Selector("inputs", match.group(1))
    match = _STEP_OUTPUT_SELECTOR.match(value)
    if match and not bare_step:
        return Selector("steps", match.group(1), match.group(2))
    match = _STEP_SELECTOR.match(value)
    if match and bare_step:
        return Selector("steps", match.group(1))
    expected = (
        "$steps.<step_name>" if bare_step else "$inputs.<name>, $steps.<step>.<output> or $steps.<step>.*"
    )
    raise definition_error(step, field_name, f"malformed selector {value!r}; expected {expected}.")


@dataclass(frozen=True)
class InputSpec:
    name: str
    type: str
    kinds: tuple[str, ...]
    default_value: Any = None
    dimensionality: int = 0

    @property
    def is_batch(self) -> bool:
        return self.type not in PARAMETER_INPUT_TYPES

    @property
    def is_image(self) -> bool:
        return self.type in IMAGE_INPUT_TYPES


@dataclass(frozen=True)
class StepSpec:
    name: str
    type: str
    definition: dict[str, Any]


@dataclass(frozen=True)
class OutputSpec:
    name: str
    selector: Selector
    coordinates_system: str = "parent"


@dataclass
class Specification:
    version: str
    inputs: list[InputSpec] = field(default_factory=list)
    steps: list[StepSpec] = field(default_factory=list)
    outputs: list[OutputSpec] = field(default_factory=list)

    def input(self, name: str) -> InputSpec | None:
        return next((item for item in self.inputs if item.name == name), None)


def parse_specification(raw: Any) -> Specification:
    """Parse a specification dict; the error names what is wrong and where."""
    if not isinstance(raw, dict):
        raise definition_error(None, None, "The workflow specification must be a JSON object.")
    if isinstance(raw.get("specification"), dict) and "steps" not in raw:
        raw = raw["specification"]  # Roboflow's saved workflows wrap the definition
    version = str(raw.get("version", "1.0"))
    if not version.startswith("1"):
        raise definition_error(
            None, "version", f"unsupported specification version {version!r}; this engine runs 1.x."
        )
    for key in ("inputs", "steps", "outputs"):
        if not isinstance(raw.get(key, []), list):
            raise definition_error(None, key, f"`{key}` must be a list.")
    spec = Specification(version=version)
    seen: set[str] = set()
    for index, item in enumerate(raw.get("inputs", [])):
        spec.inputs.append(_parse_input(item, index, seen))
    step_names: set[str] = set()
    for index, item in enumerate(raw.get("steps", [])):
        spec.steps.append(_parse_step(item, index, step_names))
    output_names: set[str] = set()
    for index, item in enumerate(raw.get("outputs", [])):
        spec.outputs.append(_parse_output(item, index, output_names))
    return spec


def _parse_input(item: Any, index: int, seen: set[str]) -> InputSpec:
    if not isinstance(item, dict):
        raise definition_error(
            None, f"inputs[{index}]", "each input must be an object with `type` and `name`."
        )
    name, kind = item.get("name"), item.get("type")
    where = f"inputs[{index}]"
    if not isinstance(name, str) or not _NAME.match(name):
        raise definition_error(None, where, f"input name {name!r} must be letters, digits, '_' or '-'.")
    if kind not in INPUT_TYPES:
        raise definition_error(
            None, where, f"input {name!r} has unknown type {kind!r}; expected one of {list(INPUT_TYPES)}."
        )
    if name in seen:
        raise definition_error(None, where, f"duplicate input name {name!r}.")
    seen.add(name)
    kinds = item.get("kind")
    if kind in IMAGE_INPUT_TYPES:
        default_kinds: tuple[str, ...] = ("image",)
    elif kind in VIDEO_METADATA_INPUT_TYPES:
        default_kinds = ("video_metadata",)
    else:
        default_kinds = ("*",)
    kinds_tuple = (
        tuple(_kind_name(value) for value in kinds) if isinstance(kinds, list) and kinds else default_kinds
    )
    dimensionality = 0 if kind in PARAMETER_INPUT_TYPES else int(item.get("dimensionality", 1))
    return InputSpec(name, kind, kinds_tuple, item.get("default_value"), dimensionality)


def _kind_name(value: Any) -> str:
    return value.get("name", "*") if isinstance(value, dict) else str(value)


def _parse_step(item: Any, index: int, seen: set[str]) -> StepSpec:
    if not isinstance(item, dict):
        raise definition_error(None, f"steps[{index}]", "each step must be an object with `type` and `name`.")
    name, kind = item.get("name"), item.get("type")
    if not isinstance(name, str) or not _NAME.match(name):
        raise definition_error(
            None, f"steps[{index}]", f"step name {name!r} must be letters, digits, '_' or '-'."
        )
    if not isinstance(kind, str) or not kind:
        raise definition_error(name, "type", "every step needs a `type` naming its block.")
    if name in seen:
        raise definition_error(name, "name", f"duplicate step name {name!r}.")
    seen.add(name)
    return StepSpec(name, kind, item)


def _parse_output(item: Any, index: int, seen: set[str]) -> OutputSpec:
    where = f"outputs[{index}]"
    if not isinstance(item, dict):
        raise definition_error(None, where, "each output must be an object with `name` and `selector`.")
    name, selector = item.get("name"), item.get("selector")
    if item.get("type", "JsonField") != "JsonField":
        raise definition_error(
            None, where, f"output type {item.get('type')!r} is not supported; use JsonField."
        )
    if not isinstance(name, str) or not name:
        raise definition_error(None, where, "every output needs a `name`.")
    if name in seen:
        raise definition_error(None, where, f"duplicate output name {name!r}.")
    seen.add(name)
    if not is_selector(selector):
        raise definition_error(
            None, where, f"output {name!r} needs a `selector` such as $steps.<step>.<output>."
        )
    system = item.get("coordinates_system", "parent")
    if system not in COORDINATE_SYSTEMS:
        raise definition_error(None, where, f"coordinates_system must be 'own' or 'parent', got {system!r}.")
    return OutputSpec(name, parse_selector(selector, None, where), system)
