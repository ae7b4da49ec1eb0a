"""Compiling a specification: blocks resolved, every field bound and type-checked, steps ordered,
each step's dimensionality (per image, per crop, ...) worked out. Nothing runs here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inference_workflows import kinds as K
from inference_workflows.blocks.base import Block, BlockSet, Field, Output
from inference_workflows.errors import definition_error
from inference_workflows.spec import (
    InputSpec,
    OutputSpec,
    Selector,
    Specification,
    StepSpec,
    is_selector,
    parse_selector,
    parse_specification,
)

INPUT_LINEAGE = "<workflow_input>"


@dataclass
class Bound:
    """How one field is filled: a literal, a selector, or a list/dict of those."""

    literal: Any = None
    selector: Selector | None = None
    items: list[Bound] | dict[str, Bound] | None = None

    def selectors(self) -> list[Selector]:
        if self.selector is not None:
            return [self.selector]
        if isinstance(self.items, list):
            return [found for item in self.items for found in item.selectors()]
        if isinstance(self.items, dict):
            return [found for item in self.items.values() for found in item.selectors()]
        return []


@dataclass(frozen=True)
class Source:
    """What a selector points at: its kinds and its batch structure."""

    kinds: tuple[str, ...]
    lineage: tuple[str, ...]  # () for non-batch data

    @property
    def dimensionality(self) -> int:
        return len(self.lineage)


@dataclass
class CompiledStep:
    spec: StepSpec
    block: type[Block]
    fields: dict[str, Bound]
    outputs: dict[str, Output]
    lineage: tuple[str, ...] = ()  # the batch the step runs over; () runs once
    output_lineage: tuple[str, ...] = ()
    gates: list[str] = field(default_factory=list)  # flow-control steps that may stop this one
    dependencies: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass
class CompiledWorkflow:
    spec: Specification
    steps: list[CompiledStep]  # in execution order
    output_sources: dict[str, Source]

    def step(self, name: str) -> CompiledStep:
        return next(step for step in self.steps if step.name == name)

    def describe_interface(self) -> dict[str, Any]:
        inputs = {item.name: list(item.kinds) for item in self.spec.inputs}
        outputs: dict[str, Any] = {}
        for output in self.spec.outputs:
            if output.selector.source == "steps" and output.selector.output == "*":
                step = self.step(output.selector.name)
                outputs[output.name] = {name: list(out.kinds) for name, out in step.outputs.items()}
            else:
                outputs[output.name] = list(self.output_sources[output.name].kinds)
        used = {kind for value in inputs.values() for kind in value}
        for value in outputs.values():
            used.update(
                kind for kinds in (value.values() if isinstance(value, dict) else [value]) for kind in kinds
            )
        return {
            "inputs": inputs,
            "outputs": outputs,
            "typing_hints": {kind: K.TYPING_HINTS.get(kind, "Any") for kind in sorted(used)},
            "kinds_schemas": {},
        }


def compile_workflow(raw: Any, blocks: BlockSet) -> CompiledWorkflow:
    spec = parse_specification(raw)
    steps = {step.name: _bind_step(step, blocks) for step in spec.steps}
    for step in steps.values():
        _check_references(step, spec, steps)
    ordered = _order(steps)
    for step in ordered:
        _assign_dimensionality(step, spec, steps)
    for step in ordered:
        _check_gates(step, steps)
    output_sources = {}
    for output in spec.outputs:
        output_sources[output.name] = _source(output.selector, spec, steps, None, f"outputs.{output.name}")
    return CompiledWorkflow(spec, ordered, output_sources)


def _bind_step(step: StepSpec, blocks: BlockSet) -> CompiledStep:
    block = blocks.get(step.type)
    if block is None:
        raise definition_error(step.name, "type", f"unknown block type {step.type!r}.")
    problem = block.check_definition(step.definition)
    if problem:
        raise definition_error(step.name, None, problem)
    bound: dict[str, Bound] = {}
    for spec_field in block.fields:
        present = [key for key in (spec_field.name, *spec_field.aliases) if key in step.definition]
        if not present:
            if spec_field.required:
                raise definition_error(step.name, spec_field.name, "this field is required.")
            bound[spec_field.name] = Bound(literal=spec_field.default)
            continue
        bound[spec_field.name] = _bind_field(step.name, spec_field, step.definition[present[0]])
    outputs = {output.name: output for output in block.declared_outputs(step.definition)}
    return CompiledStep(step, block, bound, outputs)


def _bind_field(step: str, spec_field: Field, value: Any) -> Bound:
    if spec_field.step_references:
        if not isinstance(value, list):
            raise definition_error(
                step, spec_field.name, "expected a list of step selectors ($steps.<name>)."
            )
        return Bound(
            items=[
                Bound(selector=parse_selector(item, step, spec_field.name, bare_step=True)) for item in value
            ]
            if all(isinstance(item, str) for item in value)
            else _raise(
                definition_error(step, spec_field.name, "expected a list of step selectors ($steps.<name>).")
            )
        )
    if is_selector(value):
        if not spec_field.kinds:
            raise definition_error(
                step, spec_field.name, f"this field takes a literal value, not the selector {value!r}."
            )
        return Bound(selector=parse_selector(value, step, spec_field.name))
    if spec_field.selector_only:
        raise definition_error(
            step, spec_field.name, f"expected a selector such as $inputs.image, got {value!r}."
        )
    if spec_field.container == "list" and isinstance(value, list):
        return Bound(items=[_bind_element(step, spec_field, item) for item in value])
    if spec_field.container == "dict" and isinstance(value, dict):
        return Bound(items={key: _bind_element(step, spec_field, item) for key, item in value.items()})
    if spec_field.check is not None and not (value is None and spec_field.default is None):
        problem = spec_field.check(value)
        if problem:
            raise definition_error(step, spec_field.name, problem + ".")
    return Bound(literal=value)


def _bind_element(step: str, spec_field: Field, value: Any) -> Bound:
    if is_selector(value):
        return Bound(selector=parse_selector(value, step, spec_field.name))
    return Bound(literal=value)


def _raise(error: Exception) -> Any:
    raise error


def _check_references(step: CompiledStep, spec: Specification, steps: dict[str, CompiledStep]) -> None:
    for field_name, bound in step.fields.items():
        spec_field = next(item for item in step.block.fields if item.name == field_name)
        for selector in bound.selectors():
            if spec_field.step_references:
                if selector.name not in steps:
                    raise definition_error(
                        step.name, field_name, f"selector {selector.text!r} names no step."
                    )
                if selector.name == step.name:
                    raise definition_error(step.name, field_name, "a step cannot gate itself.")
                steps[selector.name].gates.append(step.name)
                steps[selector.name].dependencies.add(step.name)
                continue
            source = _source(selector, spec, steps, step.name, field_name)
            if selector.source == "steps":
                step.dependencies.add(selector.name)
            if not K.compatible(source.kinds, spec_field.kinds):
                raise definition_error(
                    step.name,
                    field_name,
                    f"type mismatch: {selector.text!r} gives {list(source.kinds)} but the field accepts "
                    f"{list(spec_field.kinds)}.",
                )


def _source(
    selector: Selector, spec: Specification, steps: dict[str, CompiledStep], step: str | None, field_name: str
) -> Source:
    if selector.source == "inputs":
        declared: InputSpec | None = spec.input(selector.name)
        if declared is None:
            raise definition_error(step, field_name, f"selector {selector.text!r} names no input.")
        lineage = (INPUT_LINEAGE,) * declared.dimensionality if declared.is_batch else ()
        return Source(declared.kinds, lineage)
    target = steps.get(selector.name)
    if target is None:
        raise definition_error(step, field_name, f"selector {selector.text!r} names no step.")
    if selector.output == "*":
        return Source((K.WILDCARD,), target.output_lineage)
    output = target.outputs.get(selector.output or "")
    if output is None:
        raise definition_error(
            step,
            field_name,
            f"step {selector.name!r} has no output {selector.output!r}; it has {sorted(target.outputs)}.",
        )
    return Source(output.kinds, target.output_lineage)


def _order(steps: dict[str, CompiledStep]) -> list[CompiledStep]:
    """Steps in an order where each runs after what it reads; a cycle is an error naming it."""
    remaining = {name: set(step.dependencies) for name, step in steps.items()}
    ordered: list[CompiledStep] = []
    while remaining:
        ready = [name for name, deps in remaining.items() if not deps]
        if not ready:
            cycle = sorted(remaining)
            raise definition_error(
                cycle[0],
                None,
                f"the steps {cycle} depend on each other in a cycle; a workflow must be acyclic.",
            )
        for name in ready:
            ordered.append(steps[name])
            del remaining[name]
        for deps in remaining.values():
            deps.difference_update(ready)
    return ordered


def _assign_dimensionality(step: CompiledStep, spec: Specification, steps: dict[str, CompiledStep]) -> None:
    lineages: list[tuple[str, tuple[str, ...]]] = []
    for field_name, bound in step.fields.items():
        spec_field = next(item for item in step.block.fields if item.name == field_name)
        if spec_field.step_references:
            continue
        for selector in bound.selectors():
            lineage = _source(selector, spec, steps, step.name, field_name).lineage
            if field_name in step.block.collapsed_fields:
                if len(lineage) < 2:
                    raise definition_error(
                        step.name,
                        field_name,
                        f"{selector.text!r} must come from crops or slices (a nested batch).",
                    )
                lineage = lineage[:-1]
            if lineage:
                lineages.append((field_name, lineage))
    deepest: tuple[str, ...] = max((lineage for _, lineage in lineages), key=len, default=())
    for field_name, lineage in lineages:
        if deepest[: len(lineage)] != lineage:
            raise definition_error(
                step.name,
                field_name,
                "inputs come from different batches (e.g. crops of two different steps); "
                "a step can only combine data of one batch and its parents.",
            )
    step.lineage = deepest
    if step.block.output_offset > 0:
        if not deepest:
            raise definition_error(step.name, None, "this block needs batch input such as $inputs.image.")
        step.output_lineage = (*deepest, step.name)
    else:
        step.output_lineage = deepest


def _check_gates(step: CompiledStep, steps: dict[str, CompiledStep]) -> None:
    for gate in step.gates:
        controller = steps[gate]
        if controller.lineage and step.lineage[: len(controller.lineage)] != controller.lineage:
            raise definition_error(
                gate,
                "next_steps",
                f"step {step.name!r} does not run over the same batch as this flow-control step, so it cannot be gated by it.",
            )


def selected_output_spec(spec: Specification, name: str) -> OutputSpec:
    return next(output for output in spec.outputs if output.name == name)
