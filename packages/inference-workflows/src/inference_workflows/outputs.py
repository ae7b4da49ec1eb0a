"""Building the answer: one object per input image, nested lists for per-crop outputs, values
serialised to JSON as Roboflow's workflows answer them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import supervision as sv

from inference_workflows import detections as D
from inference_workflows.compiler import CompiledWorkflow
from inference_workflows.executor import MASKED, ExecutionState, Index, resolve_selector
from inference_workflows.images import WorkflowImage
from inference_workflows.spec import OutputSpec


def build_outputs(
    workflow: CompiledWorkflow, state: ExecutionState, serialise_results: bool = True
) -> list[dict[str, Any]]:
    batch_outputs = [out for out in workflow.spec.outputs if workflow.output_sources[out.name].lineage]
    plain_outputs = [out for out in workflow.spec.outputs if not workflow.output_sources[out.name].lineage]
    shared = {out.name: _finish(_value(out, (), state), out, serialise_results) for out in plain_outputs}
    if not batch_outputs:
        return [shared]
    results = []
    for top in range(state.batch_size()):
        result = dict(shared)
        for out in batch_outputs:
            lineage = workflow.output_sources[out.name].lineage
            result[out.name] = _nested(out, lineage, (top,), state, serialise_results)
        results.append({out.name: result[out.name] for out in workflow.spec.outputs})
    return results


def _nested(
    out: OutputSpec, lineage: tuple[str, ...], prefix: Index, state: ExecutionState, serialise: bool
) -> Any:
    if len(prefix) == len(lineage):
        return _finish(_value(out, prefix, state), out, serialise)
    level = lineage[: len(prefix) + 1]
    children = [child for child in state.lineages.get(level, []) if child[: len(prefix)] == prefix]
    return [_nested(out, lineage, child, state, serialise) for child in children]


def _value(out: OutputSpec, index: Index, state: ExecutionState) -> Any:
    value = resolve_selector(out.selector, index, state)
    return None if value is MASKED else value


def _finish(value: Any, out: OutputSpec, serialise: bool) -> Any:
    if out.coordinates_system == "parent":
        value = _to_root(value)
    return serialise_value(value) if serialise else value


def _to_root(value: Any) -> Any:
    if isinstance(value, sv.Detections):
        return D.to_root_coordinates(value) if D.needs_root_conversion(value) else value
    if isinstance(value, dict):
        return {key: _to_root(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_root(item) for item in value]
    return value


def serialise_value(value: Any) -> Any:
    """JSON-ready form of any value a block may produce."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, WorkflowImage):
        return value.serialise()
    if isinstance(value, sv.Detections):
        return D.serialise(value)
    if isinstance(value, dict):
        return {str(key): serialise_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [serialise_value(item) for item in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode("ascii")
    return value


def exclude_fields(outputs: list[dict[str, Any]], excluded: list[str] | None) -> list[dict[str, Any]]:
    if not excluded:
        return outputs
    return [{key: value for key, value in item.items() if key not in excluded} for item in outputs]
