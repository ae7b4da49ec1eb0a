"""What a block is: its manifest (fields, outputs, dimensionality) and how it runs one element.

A block class is named by Roboflow's type identifier (`roboflow_core/dynamic_crop@v1`) and may
list older aliases (`DynamicCrop`, `Crop`). The engine runs `run(**inputs)` once per batch
element (per image, per crop), or `run_many` for a whole batch when a block can do better.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from inference_workflows.context import WorkflowContext


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Field:
    """One property of a step: a literal value, or a selector for data of the given kinds."""

    name: str
    kinds: tuple[str, ...] = ()  # kinds a selector may point at; () means literals only
    default: Any = REQUIRED
    #: checks a literal value; returns an error text or None. None accepts anything.
    check: Callable[[Any], str | None] | None = None
    type_hint: str = "Any"
    selector_only: bool = False
    aliases: tuple[str, ...] = ()
    #: "list" or "dict": the value is a container whose elements may each be a selector.
    container: str | None = None
    #: the field names steps (`$steps.name`), as continue_if's `next_steps` does.
    step_references: bool = False
    description: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Output:
    name: str
    kinds: tuple[str, ...] = ("*",)


@dataclass(frozen=True)
class FlowControl:
    """A flow-control block's decision for one element: the steps allowed to run (none: stop)."""

    selected: tuple[str, ...] = ()


class Block:
    #: Roboflow's type identifier; the unique plugin `name`.
    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    title: ClassVar[str] = ""
    block_type: ClassVar[str] = "transformation"
    description: ClassVar[str] = ""
    fields: ClassVar[tuple[Field, ...]] = ()
    outputs: ClassVar[tuple[Output, ...]] = ()
    #: +1: each element yields a list (crops, slices); -1: see `collapsed_fields`.
    output_offset: ClassVar[int] = 0
    #: fields read one dimension deeper than the step runs, as a list (stitching crops back).
    collapsed_fields: ClassVar[tuple[str, ...]] = ()
    flow_control: ClassVar[bool] = False
    #: run even when an input is empty because its branch was stopped (receives None).
    accepts_empty: ClassVar[bool] = False

    def __init__(self, step_name: str, context: WorkflowContext) -> None:
        self.step_name = step_name
        self.context = context

    @classmethod
    def type_names(cls) -> tuple[str, ...]:
        return (cls.name, *cls.aliases)

    @classmethod
    def declared_outputs(cls, definition: dict[str, Any]) -> tuple[Output, ...]:
        """The outputs of a step with this definition (a few blocks name outputs in the step)."""
        return cls.outputs

    @classmethod
    def check_definition(cls, definition: dict[str, Any]) -> str | None:
        """Block-specific checks of the literal definition; an error text or None."""
        return None

    def run(self, **inputs: Any) -> Any:
        raise NotImplementedError

    def run_many(self, calls: list[dict[str, Any]]) -> list[Any]:
        """Run a batch of elements; blocks that batch well (models) override this."""
        return [self.run(**inputs) for inputs in calls]


# Literal checks shared by the blocks' fields.
def is_number(low: float | None = None, high: float | None = None) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"expected a number, got {value!r}"
        if (low is not None and value < low) or (high is not None and value > high):
            return f"expected a number between {low} and {high}, got {value!r}"
        return None

    return check


def is_int(low: int | None = None) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"expected a whole number, got {value!r}"
        if low is not None and value < low:
            return f"expected a whole number of at least {low}, got {value!r}"
        return None

    return check


def is_bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"expected true or false, got {value!r}"


def is_str(value: Any) -> str | None:
    return None if isinstance(value, str) else f"expected a string, got {value!r}"


def is_optional_str_list(value: Any) -> str | None:
    if value is None or (isinstance(value, list) and all(isinstance(item, str) for item in value)):
        return None
    return f"expected a list of strings, got {value!r}"


def one_of(*choices: Any) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in choices else f"expected one of {list(choices)}, got {value!r}"

    return check


def is_dict(value: Any) -> str | None:
    return None if isinstance(value, dict) else f"expected an object, got {value!r}"


def is_list(value: Any) -> str | None:
    return None if isinstance(value, list) else f"expected a list, got {value!r}"


@dataclass
class BlockSet:
    """Blocks by every type name they answer to."""

    by_type: dict[str, type[Block]] = field(default_factory=dict)

    def add(self, block: type[Block]) -> None:
        for type_name in block.type_names():
            self.by_type.setdefault(type_name, block)

    def get(self, type_name: str) -> type[Block] | None:
        return self.by_type.get(type_name)

    def blocks(self) -> list[type[Block]]:
        unique: dict[str, type[Block]] = {}
        for block in self.by_type.values():
            unique.setdefault(block.name, block)
        return list(unique.values())
