"""Content checks on downloaded artifacts, so a wrong or broken file never enters the cache.

Weights must parse as an ONNX ModelProto at the top level: every field well-formed up to the
last byte (a truncated file fails), with an `ir_version` and a `graph`. That is a structural
check without the `onnx` package; the backend still has the last word when it loads the model.
"""

from __future__ import annotations

import json
import mmap
from pathlib import Path

from inference_core.errors import RegistryError
from inference_core.onnx_metadata import iter_protobuf_fields
from inference_core.sources.base import JSON_LIST, JSON_OBJECT, ONNX, TEXT

_IR_VERSION_FIELD, _GRAPH_FIELD = 1, 7


def check_artifact(path: Path, kind: str, what: str) -> None:
    """Raise RegistryError (502) when the file at `path` is not the `kind` of file it should be."""
    if kind == ONNX:
        check_onnx(path, what)
    elif kind in (JSON_OBJECT, JSON_LIST):
        expected = dict if kind == JSON_OBJECT else list
        value = _load_json(path, what)
        if not isinstance(value, expected):
            raise RegistryError(f"{what} from the model registry must be a JSON {expected.__name__}.")
    elif kind == TEXT:
        try:
            path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise RegistryError(f"{what} from the model registry is not UTF-8 text.") from None


def check_onnx(path: Path, what: str) -> None:
    if path.stat().st_size == 0:
        raise RegistryError(f"{what} from the model registry is empty.")
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        try:
            with memoryview(data) as view:  # slices of a view are not copies
                fields = _top_level_fields(view)
        except (IndexError, ValueError):
            fields = None
    if not fields or _IR_VERSION_FIELD not in fields or _GRAPH_FIELD not in fields:
        raise RegistryError(
            f"{what} from the model registry is not a valid ONNX model (wrong file or cut short); "
            "nothing was cached. Try again, or check the registry's artifact."
        )


def _load_json(path: Path, what: str):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        message = f"{what} from the model registry is not valid JSON; nothing was cached."
        raise RegistryError(message) from None


def _top_level_fields(data) -> set[int]:
    """Field numbers of a protobuf message, checking every field lies fully inside `data`."""
    seen = set()
    for number, wire_type, _ in iter_protobuf_fields(data):
        if number == 0:
            raise ValueError("field number 0")
        wrong_ir = number == _IR_VERSION_FIELD and wire_type != 0
        if wrong_ir or (number == _GRAPH_FIELD and wire_type != 2):
            raise ValueError("wrong wire type for a ModelProto field")
        seen.add(number)
    return seen
