"""Describing blocks and the definition format as JSON schema (`/workflows/blocks/describe`,
`/workflows/definition/schema`)."""

from __future__ import annotations

from typing import Any

from inference_workflows import kinds as K
from inference_workflows.blocks.base import Block, Field
from inference_workflows.registry import BlockRegistry
from inference_workflows.spec import IMAGE_INPUT_TYPES, PARAMETER_INPUT_TYPES

SELECTOR_PATTERN = r"^\$(inputs\.[A-Za-z0-9_\-]+|steps\.[A-Za-z0-9_\-]+\.([A-Za-z0-9_\-]+|\*))$"


def field_schema(spec_field: Field) -> dict[str, Any]:
    options: list[dict[str, Any]] = []
    if spec_field.kinds:
        options.append(
            {
                "type": "string",
                "pattern": SELECTOR_PATTERN,
                "kind": list(spec_field.kinds),
                "reference": True,
                "selected_element": "any_data",
            }
        )
    if spec_field.step_references:
        options.append(
            {"type": "array", "items": {"type": "string", "pattern": r"^\$steps\.[A-Za-z0-9_\-]+$"}}
        )
    if not spec_field.selector_only and not spec_field.step_references:
        options.append({"description": f"literal value ({spec_field.type_hint})"})
    schema: dict[str, Any] = {"anyOf": options} if len(options) > 1 else dict(options[0])
    schema["title"] = spec_field.name.replace("_", " ").title()
    if spec_field.description:
        schema["description"] = spec_field.description
    if not spec_field.required:
        schema["default"] = (
            list(spec_field.default) if isinstance(spec_field.default, tuple) else spec_field.default
        )
    return schema


def block_schema(block: type[Block]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "type": {"enum": list(block.type_names()), "type": "string"},
        "name": {"type": "string", "description": "Unique name of the step in the workflow"},
    }
    for spec_field in block.fields:
        properties[spec_field.name] = field_schema(spec_field)
    required = ["type", "name", *(spec_field.name for spec_field in block.fields if spec_field.required)]
    return {
        "type": "object",
        "title": block.title or block.name,
        "properties": properties,
        "required": required,
        "name": block.title or block.name,
        "version": block.name.rsplit("@", 1)[-1] if "@" in block.name else "v1",
        "block_type": block.block_type,
    }


def blocks_description(registry: BlockRegistry) -> dict[str, Any]:
    blocks = registry.blocks.blocks()
    declared = sorted(
        {kind for block in blocks for f in block.fields for kind in f.kinds}
        | {kind for block in blocks for out in block.outputs for kind in out.kinds}
    )
    connections: dict[str, list[dict[str, Any]]] = {}
    for block in blocks:
        for spec_field in block.fields:
            for kind in spec_field.kinds:
                connections.setdefault(kind, []).append(
                    {
                        "manifest_type_identifier": block.name,
                        "property_name": spec_field.name,
                        "property_description": spec_field.description or "not available",
                        "compatible_element": "any_data",
                        "is_list_element": spec_field.container == "list",
                        "is_dict_element": spec_field.container == "dict",
                    }
                )
    return {
        "blocks": [
            {
                "manifest_type_identifier": block.name,
                "manifest_type_identifier_aliases": list(block.aliases),
                "human_friendly_block_name": block.title or block.name,
                "block_source": "workflows_core"
                if block.__module__.startswith("inference_workflows.")
                else "plugin",
                "fully_qualified_block_class_name": f"{block.__module__}.{block.__qualname__}",
                "block_schema": block_schema(block),
                "outputs_manifest": [
                    {"name": out.name, "kind": [{"name": kind} for kind in out.kinds]}
                    for out in block.outputs
                ],
                "output_dimensionality_offset": block.output_offset - (1 if block.collapsed_fields else 0),
                "execution_engine_compatibility": ">=1.0.0,<2.0.0",
            }
            for block in sorted(blocks, key=lambda item: item.name)
        ],
        "declared_kinds": [
            {
                "name": kind,
                "description": None,
                "docs": None,
                "serialised_data_type": K.TYPING_HINTS.get(kind),
            }
            for kind in declared
        ],
        "kinds_connections": connections,
        "primitives_connections": [],
        "dynamic_block_definition_schema": {},
    }


def definition_schema(registry: BlockRegistry) -> dict[str, Any]:
    blocks = sorted(registry.blocks.blocks(), key=lambda item: item.name)
    definitions = {block.name: block_schema(block) for block in blocks}
    return {
        "$defs": definitions,
        "type": "object",
        "title": "WorkflowSpecificationV1",
        "properties": {
            "version": {"type": "string", "default": "1.0"},
            "inputs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "type": {
                            "enum": [
                                *IMAGE_INPUT_TYPES,
                                *PARAMETER_INPUT_TYPES,
                                "WorkflowVideoMetadata",
                                "WorkflowBatchInput",
                            ]
                        },
                        "name": {"type": "string"},
                        "default_value": {},
                        "kind": {"type": "array", "items": {"type": "string"}},
                    },
                    "required": ["type", "name"],
                },
            },
            "steps": {
                "type": "array",
                "items": {"anyOf": [{"$ref": f"#/$defs/{name}"} for name in definitions]},
            },
            "outputs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "type": {"const": "JsonField"},
                        "name": {"type": "string"},
                        "selector": {"type": "string", "pattern": SELECTOR_PATTERN},
                        "coordinates_system": {"enum": ["own", "parent"], "default": "parent"},
                    },
                    "required": ["type", "name", "selector"],
                },
            },
        },
        "required": ["version", "inputs", "steps", "outputs"],
    }
