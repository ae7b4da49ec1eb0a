"""Running a compiled workflow: each step over its batch (images, crops of images, ...),
skipping elements whose branch was stopped by flow control or whose inputs are empty.

Values are kept per step by index: `(i,)` for image i, `(i, j)` for crop j of image i.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from inference_core.errors import InferenceError

from inference_workflows.blocks.base import Block, FlowControl
from inference_workflows.compiler import INPUT_LINEAGE, Bound, CompiledStep, CompiledWorkflow
from inference_workflows.errors import StepExecutionError, WorkflowError
from inference_workflows.spec import Selector

Index = tuple[int, ...]


class _Masked:
    """Stands for data of an element whose branch did not run."""


MASKED: Any = _Masked()


@dataclass
class StepValues:
    lineage: tuple[str, ...]
    values: dict[Index, Any] = field(default_factory=dict)  # index -> outputs dict or FlowControl


@dataclass
class ExecutionState:
    inputs: dict[str, Any]  # parameters as values, batch inputs as lists
    lineages: dict[tuple[str, ...], list[Index]]
    steps: dict[str, StepValues] = field(default_factory=dict)
    trace: list[dict[str, Any]] = field(default_factory=list)

    def batch_size(self) -> int:
        return len(self.lineages[(INPUT_LINEAGE,)])


def execute(
    workflow: CompiledWorkflow, inputs: dict[str, Any], batch_size: int, blocks: dict[str, Block]
) -> ExecutionState:
    state = ExecutionState(inputs, {(INPUT_LINEAGE,): [(i,) for i in range(batch_size)]})
    for step in workflow.steps:
        started = time.perf_counter()
        _run_step(step, blocks[step.name], state)
        state.trace.append(
            {
                "name": step.name,
                "cat": "workflow_step",
                "ph": "X",
                "ts": started * 1e6,
                "dur": (time.perf_counter() - started) * 1e6,
                "args": {"block": step.block.name},
            }
        )
    return state


def _run_step(step: CompiledStep, block: Block, state: ExecutionState) -> None:
    indices = state.lineages.get(step.lineage, []) if step.lineage else [()]
    calls: list[dict[str, Any]] = []
    runnable: list[Index] = []
    for index in indices:
        if not _gates_open(step, index, state):
            continue
        arguments = _arguments(step, index, state)
        if arguments is None:
            continue
        calls.append(arguments)
        runnable.append(index)
    stored = StepValues(step.output_lineage)
    state.steps[step.name] = stored
    if step.block.output_offset > 0:
        state.lineages.setdefault(step.output_lineage, [])
    if not calls:
        return
    try:
        results = block.run_many(calls)
    except WorkflowError as error:
        if error.step is None:
            error.step = step.name
            error.message = f"Step {step.name!r}: {error.message}"
        raise
    except InferenceError as error:
        raise StepExecutionError(
            f"Step {step.name!r} failed: {error.message}", step.name, error.status_code
        ) from error
    except Exception as error:
        raise StepExecutionError(
            f"Step {step.name!r} ({step.block.name}) failed: {type(error).__name__}: {error}", step.name
        ) from error
    for index, result in zip(runnable, results):
        if step.block.output_offset > 0:
            for position, element in enumerate(result):
                child = (*index, position)
                state.lineages[step.output_lineage].append(child)
                stored.values[child] = element
        else:
            stored.values[index] = result


def _gates_open(step: CompiledStep, index: Index, state: ExecutionState) -> bool:
    for gate in step.gates:
        controller = state.steps[gate]
        decision = controller.values.get(index[: len(controller.lineage)])
        if not isinstance(decision, FlowControl) or step.name not in decision.selected:
            return False
    return True


def _arguments(step: CompiledStep, index: Index, state: ExecutionState) -> dict[str, Any] | None:
    arguments: dict[str, Any] = {}
    for spec_field in step.block.fields:
        bound = step.fields[spec_field.name]
        if spec_field.step_references:
            arguments[spec_field.name] = [item.selector.name for item in bound.items]  # type: ignore[union-attr]
            continue
        collapsed = spec_field.name in step.block.collapsed_fields
        value = _resolve(bound, index, state, collapsed, step.block.accepts_empty)
        if _contains_masked(value):
            if not step.block.accepts_empty:
                return None
            value = _unmask(value)
        arguments[spec_field.name] = value
    return arguments


def _resolve(bound: Bound, index: Index, state: ExecutionState, collapsed: bool, keep_empty: bool) -> Any:
    if bound.selector is not None:
        if collapsed:
            return _collect(bound.selector, index, state, keep_empty)
        return resolve_selector(bound.selector, index, state)
    if isinstance(bound.items, list):
        return [_resolve(item, index, state, collapsed, keep_empty) for item in bound.items]
    if isinstance(bound.items, dict):
        return {key: _resolve(item, index, state, collapsed, keep_empty) for key, item in bound.items.items()}
    return bound.literal


def resolve_selector(selector: Selector, index: Index, state: ExecutionState) -> Any:
    if selector.source == "inputs":
        value = state.inputs[selector.name]
        if isinstance(value, BatchInput):
            return value.values[index[0]] if index else value.values
        return value
    produced = state.steps[selector.name]
    result = produced.values.get(index[: len(produced.lineage)], MASKED)
    if result is MASKED or isinstance(result, FlowControl):
        return MASKED
    if selector.output == "*":
        return result
    return result.get(selector.output, None)


def _collect(selector: Selector, index: Index, state: ExecutionState, keep_empty: bool) -> list[Any]:
    """The values one level deeper than `index` (crops of this image), in order; elements whose
    branch was stopped are left out, or given as None to blocks that accept empty values."""
    produced = state.steps[selector.name]
    children = [child for child in state.lineages.get(produced.lineage, []) if child[: len(index)] == index]
    found = []
    for child in children:
        value = resolve_selector(selector, child, state)
        if value is not MASKED:
            found.append(value)
        elif keep_empty:
            found.append(None)
    return found


def _contains_masked(value: Any) -> bool:
    if value is MASKED:
        return True
    if isinstance(value, list):
        return any(item is MASKED for item in value)
    if isinstance(value, dict):
        return any(item is MASKED for item in value.values())
    return False


def _unmask(value: Any) -> Any:
    if value is MASKED:
        return None
    if isinstance(value, list):
        return [None if item is MASKED else item for item in value]
    if isinstance(value, dict):
        return {key: None if item is MASKED else item for key, item in value.items()}
    return value


@dataclass
class BatchInput:
    """A batch-oriented workflow input (images, video metadata): one value per element."""

    values: list[Any]
