"""Read an ONNX file's metadata properties without any ONNX package.

ModelProto field 14 (`metadata_props`) holds key/value string pairs; Ultralytics stores task,
class names, input size and layout flags there. We walk only the top-level protobuf fields.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from inference_core.errors import ModelArtifactError

_METADATA_FIELD = 14
_GRAPH_FIELD = 7
_GRAPH_INPUT, _GRAPH_OUTPUT, _GRAPH_INITIALIZER = 11, 12, 5


@dataclass(frozen=True)
class TensorInfo:
    """A graph input or output: its name and shape (ints, or names of dynamic dimensions)."""

    name: str
    shape: tuple[int | str, ...]


def read_onnx_metadata(path: Path) -> dict[str, str]:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ModelArtifactError(f"Cannot read model file {path.name}: {error}") from error
    try:
        return dict(_metadata_pairs(memoryview(data)))
    except (IndexError, ValueError, UnicodeDecodeError) as error:
        raise ModelArtifactError(f"{path.name} is not a valid ONNX file.") from error


def read_onnx_io(path: Path) -> tuple[list[TensorInfo], list[TensorInfo]]:
    """The graph's inputs (without initializers) and outputs, read without any ONNX package."""
    try:
        data = memoryview(path.read_bytes())
    except OSError as error:
        raise ModelArtifactError(f"Cannot read model file {path.name}: {error}") from error
    try:
        graph = next(
            (value for number, kind, value in iter_protobuf_fields(data) if number == _GRAPH_FIELD and kind == 2),
            None,
        )
        if graph is None:
            raise ValueError("no graph")
        inputs, outputs, initializers = [], [], set()
        for number, kind, value in iter_protobuf_fields(graph):
            if kind != 2:
                continue
            if number == _GRAPH_INPUT:
                inputs.append(_tensor_info(value))
            elif number == _GRAPH_OUTPUT:
                outputs.append(_tensor_info(value))
            elif number == _GRAPH_INITIALIZER:
                initializers.add(_initializer_name(value))
    except (IndexError, ValueError, UnicodeDecodeError) as error:
        raise ModelArtifactError(f"{path.name} is not a valid ONNX file.") from error
    return [info for info in inputs if info.name not in initializers], outputs


def _tensor_info(value_info) -> TensorInfo:
    """ValueInfoProto: name (1), type (2) -> tensor_type (1) -> shape (2) -> dim (1): value (1) | param (2)."""
    name, dims = "", []
    for number, kind, value in iter_protobuf_fields(value_info):
        if number == 1 and kind == 2:
            name = bytes(value).decode("utf-8")
        elif number == 2 and kind == 2:
            dims = _shape_of_type(value)
    return TensorInfo(name, tuple(dims))


def _shape_of_type(type_proto) -> list[int | str]:
    dims: list[int | str] = []
    for number, kind, tensor_type in iter_protobuf_fields(type_proto):
        if number != 1 or kind != 2:
            continue
        for shape_number, shape_kind, shape in iter_protobuf_fields(tensor_type):
            if shape_number != 2 or shape_kind != 2:
                continue
            for dim_number, dim_kind, dim in iter_protobuf_fields(shape):
                if dim_number == 1 and dim_kind == 2:
                    dims.append(_dimension(dim))
    return dims


def _dimension(dim) -> int | str:
    for number, kind, value in _fields_with_varints(dim):
        if number == 1 and kind == 0:
            return value
        if number == 2 and kind == 2:
            return bytes(value).decode("utf-8")
    return "?"


def _initializer_name(tensor) -> str:
    """TensorProto's name is field 8."""
    for number, kind, value in iter_protobuf_fields(tensor):
        if number == 8 and kind == 2:
            return bytes(value).decode("utf-8")
    return ""


def _fields_with_varints(buffer):
    """Like iter_protobuf_fields, but yields the integer of varint fields too."""
    position, end = 0, len(buffer)
    while position < end:
        key, position = _varint(buffer, position)
        field_number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, position = _varint(buffer, position)
            yield field_number, wire_type, value
        elif wire_type == 2:
            length, position = _varint(buffer, position)
            yield field_number, wire_type, buffer[position : position + length]
            position += length
        elif wire_type in (1, 5):
            position += 8 if wire_type == 1 else 4
        else:
            raise ValueError(f"unsupported wire type {wire_type}")


def parse_literal(value: str | None, default=None):
    """Ultralytics writes Python literals (`{0: 'a'}`, `[640, 640]`, `True`) as strings."""
    if value is None:
        return default
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return default


def _metadata_pairs(buffer: memoryview):
    for field_number, wire_type, payload in iter_protobuf_fields(buffer):
        if field_number == _METADATA_FIELD and wire_type == 2:
            entry = {
                number: bytes(value).decode("utf-8")
                for number, kind, value in iter_protobuf_fields(payload)
                if kind == 2
            }
            yield entry.get(1, ""), entry.get(2, "")


def iter_protobuf_fields(buffer):
    """Top-level fields of a protobuf message: (field number, wire type, value).

    The value is the payload (a slice of `buffer`) for length-delimited fields and None for
    the others. Raises ValueError when a field runs past the end or the encoding is invalid.
    """
    position, end = 0, len(buffer)
    while position < end:
        key, position = _varint(buffer, position)
        field_number, wire_type = key >> 3, key & 7
        value = None
        if wire_type == 0:
            _, position = _varint(buffer, position)
        elif wire_type in (1, 5):
            position += 8 if wire_type == 1 else 4
        elif wire_type == 2:
            length, position = _varint(buffer, position)
            value = buffer[position : position + length]
            position += length
        else:
            raise ValueError(f"unsupported wire type {wire_type}")
        if position > end:
            raise ValueError("truncated field")
        yield field_number, wire_type, value


def _varint(buffer, position: int) -> tuple[int, int]:
    result, shift = 0, 0
    while True:
        byte = buffer[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")
