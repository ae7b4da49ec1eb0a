"""Turning a run's `inputs` into engine values: images loaded (within the core's limits and URL
policy), parameters defaulted, batch sizes checked.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from inference_core.errors import InferenceError
from inference_core.images import ImageLoader

from inference_workflows.errors import RuntimeInputError
from inference_workflows.executor import BatchInput
from inference_workflows.images import WorkflowImage
from inference_workflows.spec import Specification


def assemble_inputs(
    spec: Specification, given: dict[str, Any], loader: ImageLoader, max_batch_size: int
) -> tuple[dict[str, Any], int]:
    """The engine's inputs and the batch size (1 when the workflow takes no images)."""
    if not isinstance(given, dict):
        raise RuntimeInputError("`inputs` must be an object mapping input names to values.")
    values: dict[str, Any] = {}
    sizes: dict[str, int] = {}
    for item in spec.inputs:
        if not item.is_batch:
            values[item.name] = given.get(item.name, item.default_value)
            continue
        if item.name not in given or given[item.name] is None:
            raise RuntimeInputError(
                f"Input {item.name!r} ({item.type}) is missing from `inputs`.", field=item.name
            )
        raw = given[item.name]
        elements = list(raw) if isinstance(raw, (list, tuple)) else [raw]
        if not elements:
            raise RuntimeInputError(f"Input {item.name!r} is an empty list.", field=item.name)
        if len(elements) > max_batch_size:
            raise RuntimeInputError(
                f"Input {item.name!r} has {len(elements)} elements; at most {max_batch_size} are allowed per run.",
                field=item.name,
            )
        if item.is_image:
            # Roboflow's ids: `image` for one image, `image.[i]` for the i-th of a list (trackers and
            # other per-video state key on them); an image object may name its own `parent_id`
            names = (
                [f"{item.name}.[{index}]" for index in range(len(elements))]
                if isinstance(raw, (list, tuple))
                else [item.name]
            )
            elements = [_load_image(element, name, loader) for element, name in zip(elements, names)]
        sizes[item.name] = len(elements)
        values[item.name] = BatchInput(elements)
    batch_size = max(sizes.values(), default=1)
    for name, size in sizes.items():
        if size not in (1, batch_size):
            raise RuntimeInputError(
                f"Batch inputs differ in length ({sizes}); each must have {batch_size} elements or one.",
                field=name,
            )
        if size == 1 and batch_size > 1:
            values[name] = BatchInput(values[name].values * batch_size)
    return values, batch_size


def _load_image(element: Any, name: str, loader: ImageLoader) -> WorkflowImage:
    if isinstance(element, WorkflowImage):
        return element
    base64_text = None
    if isinstance(element, dict) and str(element.get("type", "")).lower() == "base64":
        value = element.get("value")
        base64_text = value if isinstance(value, str) and not value.startswith("data:") else None
    try:
        pixels = loader.load(element)
    except InferenceError as error:
        raise RuntimeInputError(f"Input {name!r}: {error.message}", field=name) from error
    video_metadata = element.get("video_metadata") if isinstance(element, dict) else None
    if isinstance(element, dict) and isinstance(element.get("parent_id"), str) and element["parent_id"]:
        name = element["parent_id"]
    return WorkflowImage.from_input(np.ascontiguousarray(pixels), name, base64_text, video_metadata)
