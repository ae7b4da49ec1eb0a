"""Flow control and formatting blocks: continue_if, expression, property_definition,
first_non_empty_or_default, json_parser, csv_formatter."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timezone
from typing import Any

from inference_workflows import kinds as K
from inference_workflows import operations as ops
from inference_workflows.blocks.base import Block, Field, FlowControl, Output, is_dict, is_list, is_number


class ContinueIf(Block):
    name = "roboflow_core/continue_if@v1"
    aliases = ("ContinueIf",)
    title = "Continue If"
    block_type = "flow_control"
    flow_control = True
    fields = (
        Field("condition_statement", check=ops.check_statement, type_hint="StatementGroup"),
        Field("evaluation_parameters", ("*",), container="dict", check=is_dict),
        Field("next_steps", step_references=True),
        Field("stop_delay", (K.FLOAT,), 0, is_number(0), "float"),
    )
    outputs = ()

    def __init__(self, step_name: str, context: Any) -> None:
        super().__init__(step_name, context)
        self._last_pass: float | None = None

    def run(
        self, condition_statement: dict, evaluation_parameters: dict, next_steps: list[str], stop_delay: float
    ) -> FlowControl:
        if not next_steps:
            return FlowControl()
        import time

        if ops.evaluate_statement(condition_statement, evaluation_parameters):
            if stop_delay > 0:
                self._last_pass = time.time()
            return FlowControl(tuple(next_steps))
        if self._last_pass and time.time() - self._last_pass <= stop_delay:
            return FlowControl(tuple(next_steps))
        return FlowControl()


class PropertyDefinition(Block):
    name = "roboflow_core/property_definition@v1"
    aliases = ("PropertyDefinition", "PropertyExtraction")
    title = "Property Definition"
    block_type = "formatter"
    fields = (
        Field("data", ("*",), selector_only=True),
        Field("operations", check=ops.check_operations, type_hint="List[Operation]"),
    )
    outputs = (Output("output"),)

    def run(self, data: Any, operations: list) -> dict:
        return {"output": ops.execute_operations(data, operations, {})}


class Expression(Block):
    name = "roboflow_core/expression@v1"
    aliases = ("Expression",)
    title = "Expression"
    block_type = "formatter"
    fields = (
        Field("data", ("*",), container="dict", check=is_dict),
        Field("data_operations", (), {}, check=is_dict),
        Field("switch", check=lambda value: _check_switch(value), type_hint="CasesDefinition"),
    )
    outputs = (Output("output"),)

    def run(self, data: dict, data_operations: dict, switch: dict) -> dict:
        variables = dict(data)
        for name, operations in data_operations.items():
            variables[name] = ops.execute_operations(variables[name], operations, {})
        for case in switch.get("cases", []):
            if ops.evaluate_statement(case["condition"], variables):
                return {"output": _case_result(case["result"], variables)}
        return {"output": _case_result(switch["default"], variables)}

    @classmethod
    def check_definition(cls, definition: dict) -> str | None:
        for name, operations in (definition.get("data_operations") or {}).items():
            problem = ops.check_operations(operations)
            if problem:
                return f"data_operations[{name!r}]: {problem}"
        return None


def _case_result(result: dict, variables: dict) -> Any:
    if result.get("type") == "StaticCaseResult":
        return result.get("value")
    value = variables[result["parameter_name"]]
    return ops.execute_operations(value, result.get("operations") or [], variables)


def _check_switch(value: Any) -> str | None:
    if not isinstance(value, dict) or value.get("type") != "CasesDefinition":
        return "switch must be a CasesDefinition object"
    if "default" not in value:
        return "switch needs a `default` result"
    for position, case in enumerate(value.get("cases", [])):
        problem = ops.check_statement(case.get("condition") if isinstance(case, dict) else None)
        if problem:
            return f"cases[{position}].condition: {problem}"
    return None


class FirstNonEmptyOrDefault(Block):
    name = "roboflow_core/first_non_empty_or_default@v1"
    aliases = ("FirstNonEmptyOrDefault",)
    title = "First Non Empty Or Default"
    block_type = "formatter"
    fields = (
        Field("data", ("*",), container="list", check=is_list),
        Field("default", (), None),
    )
    outputs = (Output("output"),)
    accepts_empty = True

    def run(self, data: list, default: Any) -> dict:
        return {"output": next((item for item in data if item is not None), default)}


class JsonParser(Block):
    name = "roboflow_core/json_parser@v1"
    title = "JSON Parser"
    block_type = "formatter"
    fields = (
        Field("raw_json", (K.STRING,), selector_only=True),
        Field(
            "expected_fields",
            check=lambda v: (
                None
                if isinstance(v, list) and all(isinstance(i, str) for i in v)
                else "expected a list of field names"
            ),
        ),
    )

    @classmethod
    def declared_outputs(cls, definition: dict) -> tuple[Output, ...]:
        names = [name for name in definition.get("expected_fields", []) if isinstance(name, str)]
        return (Output("error_status", (K.BOOLEAN,)), *(Output(name) for name in names))

    @classmethod
    def check_definition(cls, definition: dict) -> str | None:
        if "error_status" in (definition.get("expected_fields") or []):
            return "`error_status` is reserved and cannot be an expected field"
        return None

    def run(self, raw_json: str, expected_fields: list[str]) -> dict:
        text = _strip_code_fence(raw_json or "")
        try:
            parsed = json.loads(text)
        except (ValueError, TypeError):
            return {"error_status": True, **{name: None for name in expected_fields}}
        if not isinstance(parsed, dict):
            return {"error_status": True, **{name: None for name in expected_fields}}
        missing = any(name not in parsed for name in expected_fields)
        return {"error_status": missing, **{name: parsed.get(name) for name in expected_fields}}


def _strip_code_fence(text: str) -> str:
    match = re.search(r"```(?:json)?\s*(.*?)```", text, flags=re.DOTALL)
    return match.group(1) if match else text


class CsvFormatter(Block):
    """One CSV for the whole batch (a row per element, stamped with its UTC `timestamp`), given
    on the batch's last element and None on the others, as Roboflow's block answers."""

    name = "roboflow_core/csv_formatter@v1"
    title = "CSV Formatter"
    block_type = "formatter"
    fields = (
        Field("columns_data", ("*",), container="dict", check=is_dict),
        Field("columns_operations", (), {}, check=is_dict),
    )
    outputs = (Output("csv_content", (K.STRING,)),)

    @classmethod
    def check_definition(cls, definition: dict) -> str | None:
        for name, operations in (definition.get("columns_operations") or {}).items():
            problem = ops.check_operations(operations)
            if problem:
                return f"columns_operations[{name!r}]: {problem}"
        return None

    def run_many(self, calls: list[dict[str, Any]]) -> list[dict]:
        rows = []
        for call in calls:
            row = dict(call["columns_data"])
            for name, operations in call["columns_operations"].items():
                row[name] = ops.execute_operations(row.get(name), operations, {})
            row["timestamp"] = datetime.now(timezone.utc).isoformat()
            rows.append(row)
        content = _to_csv(rows)
        return [{"csv_content": None} for _ in calls[:-1]] + [{"csv_content": content}]


CSV_INJECTION_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _to_csv(rows: list[dict]) -> str:
    """pandas-style CSV (header, no index); cells that a spreadsheet would run as a formula get a
    leading quote."""
    columns: list[str] = []
    for row in rows:
        columns.extend(name for name in row if name not in columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in columns])
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(CSV_INJECTION_PREFIXES):
        return "'" + value
    return "" if value is None else value


class DimensionCollapse(Block):
    """Per-crop (or per-slice) values gathered back into one list per parent image."""

    name = "roboflow_core/dimension_collapse@v1"
    aliases = ("DimensionCollapse",)
    title = "Dimension Collapse"
    block_type = "fusion"
    fields = (Field("data", ("*",), selector_only=True),)
    outputs = (Output("output", (K.LIST_OF_VALUES,)),)
    collapsed_fields = ("data",)

    def run(self, data: list) -> dict:
        return {"output": list(data)}


LOGIC_BLOCKS = [
    DimensionCollapse,
    ContinueIf,
    PropertyDefinition,
    Expression,
    FirstNonEmptyOrDefault,
    JsonParser,
    CsvFormatter,
]
