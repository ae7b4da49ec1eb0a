"""Read an ONNX file's metadata properties without any ONNX package.

ModelProto field 14 (`metadata_props`) holds key/value string pairs; Ultralytics stores task,
class names, input size and layout flags there. We walk only the top-level protobuf fields.
"""

from __future__ import annotations

import ast
from pathlib import Path

from inference_core.errors import ModelArtifactError

_METADATA_FIELD = 14


def read_onnx_metadata(path: Path) -> dict[str, str]:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ModelArtifactError(f"Cannot read model file {path.name}: {error}") from error
    try:
        return dict(_metadata_pairs(memoryview(data)))
    except (IndexError, ValueError, UnicodeDecodeError) as error:
        raise ModelArtifactError(f"{path.name} is not a valid ONNX file.") from error


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
